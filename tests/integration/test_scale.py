"""Scale (issue 18, the VM side): many vCPUs in one VM, many VMs, big VMs.

Each test is short under QEMU TCG on a loaded machine (its time is in the
README's test list); the assertions count and compare, never time.
"""

import re

from hvrun import guest, qemu, vm_file, vm_stops


def test_64_vcpus_start_and_check_their_topology_on_4_cores():
    """A 64-vCPU VM on a 4-core host: the guest starts every AP by INIT/SIPI."""
    smp = guest("smp")
    cfg = vm_file("smp64", smp, memory=16, vcpus=64, extra="cpus=64")
    run = qemu(smp=4, mem="1G", modules=[cfg, smp], timeout=240)
    assert "[smp64] smp: MADT lists 64 processors (64 local APIC, 0 local x2APIC entries)" \
        in run.log, run
    assert "[smp64] smp: 63 of 63 APs up" in run.log, run
    assert "[smp64] smp: 64 vCPUs checked their topology" in run.log, run
    assert "[smp64] GUEST smp: PASS" in run.log, run
    assert vm_stops(run.log) == {"smp64": ("exit-port", 0)}, run
    assert run.status == 0, run
