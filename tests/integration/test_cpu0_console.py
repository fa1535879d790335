"""cpu0=console (what hvrun.qemu's spare_cpu0 asks for): under a test harness
CPU 0 runs no vCPUs, as without one. Two unpinned guests that load x87 state
in a loop (what made QEMU 7.2 TCG lose CPU 0's nested-paging flag) run on
CPUs 1 and 2 only, and both finish. About 20 s."""

import re

from hvrun import guest, qemu, vm_file, vm_stops


def test_cpu0_console_keeps_vcpus_off_cpu_0():
    g = guest("wstress")
    mods = [vm_file("ws%d" % k, g, extra="n=3000 fldenv=100") for k in range(2)] + [g]
    run = qemu(smp=2, spare_cpu0=True, mem="512M", timeout=300, modules=mods)
    assert "hv: cpu0=console: CPU 0 runs no vCPUs" in run.log, run
    assert vm_stops(run.log) == {"ws0": ("exit-port", 0), "ws1": ("exit-port", 0)}, run
    assert run.log.count("wstress done") == 2, run
    ran = dict(re.findall(r"^vm (ws\d) vcpu 0 sched: .* ran on cores ([\d ]+)", run.log, re.M))
    assert set(ran) == {"ws0", "ws1"}, run
    assert all("0" not in cores.split() for cores in ran.values()), ran
