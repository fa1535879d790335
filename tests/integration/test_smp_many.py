"""Many host cores (issue 18): a two-socket server's worth under QEMU TCG.

QEMU 7.2's TCG offers no x2APIC, so APIC IDs stay below 255 here (it
refuses -smp 256 and up: "requires kernel irqchip and X2APIC API support"); the
x2APIC host mode and IDs above 255 are covered by the unit tests
(test_lapic_mode, test_acpi's sparse x2APIC MADT) and by Bochs's x2APIC
(test_boot_intel). Two sockets of 50 cores with 2 threads give sparse APIC
IDs as on real parts: QEMU packs the socket above 7 bits (0-99, 128-227).
"""

import re

from hvrun import guest, qemu, vm_file, vm_stops

SPIN = guest("spin")
TOPOLOGY = "200,sockets=2,cores=50,threads=2"


def spin_vm(name, extra, vcpus=1, **cfg):
    more = "".join('%s = %s\n' % (k, '"%s"' % v if isinstance(v, str) else v)
                   for k, v in cfg.items())
    return vm_file(name, SPIN, vcpus=vcpus, extra=extra, more=more)


def test_200_cores_come_up_and_run_vms_on_the_high_ones():
    """Every core online, counted and timed in the boot report; VMs pinned to
    cores past 64 and 128 run there (host-core sets cover every core), one
    owning its core."""
    run = qemu(smp=TOPOLOGY, mem="8G", timeout=400, modules=[
        spin_vm("high", "rounds=3 seed=41", cpus="all,^0-179"), SPIN,
        spin_vm("owner", "rounds=3 seed=42", cpus="199", exclusive=1)])
    assert run.status == 0, run
    rep = run.report()
    assert rep["cores listed"] == "200", run
    assert rep["cores online"] == "200", run
    assert rep["apic timer working"] == "200 of 200 cores", run
    assert rep["cores apic ids"] == "0-99,128-227", run
    assert rep["cores limit"].startswith("1024"), run
    m = re.match(r"199 of 199 started in (\d+)\.\d+ ms, \d+\.\d+ ms per core, (\d+) TSC ticks$",
                 rep["cores bring-up"])
    assert m, rep["cores bring-up"]
    assert "skipped" not in run.log, run
    assert vm_stops(run.log) == {"high": ("exit-port", 0), "owner": ("exit-port", 0)}, run
    ran = {vm: set(map(int, cores.split())) for vm, cores in re.findall(
        r"^vm (\w+) vcpu 0 sched: .* ran on cores ([\d ]+)", run.log, re.M)}
    assert ran["owner"] == {199}, ran
    # cores 180-199 but the one the owner owns
    assert ran["high"] and ran["high"] <= set(range(180, 199)), ran
