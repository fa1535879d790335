"""The exit fast path changes no architectural result: the fastcheck guest
(CPUID answers, MSRs read back, port I/O data) gives the same digests with
the fast path forced off (hypervisor option fastpath=off) and on, on both
backends; with `exitprof` the on run shows the fast path took CPUID, port
I/O and x2APIC EOI (WRMSR) exits, the off run that it took none."""

import re

import pytest

from hvrun import bochs, guest, qemu, vm_file, vm_stops


def run_fastcheck(backend, fastpath):
    g = guest("fastcheck")
    mods = [vm_file("fastcheck", g), g]
    cmdline = "exitprof" + ("" if fastpath else " fastpath=off")
    if backend == "svm":
        run = qemu(cmdline=cmdline, smp=2, mem="512M", modules=mods, timeout=600)
    else:
        run = bochs(cmdline=cmdline, smp=2, modules=mods, timeout=600)
    assert vm_stops(run.log) == {"fastcheck": ("exit-port", 0)}, run
    assert "[fastcheck] GUEST fastcheck: PASS" in run.log, run
    results = re.findall(r"^\[fastcheck\] (fastcheck: .*)$", run.log, re.M)
    fast = re.findall(r"^exitprof vm fastcheck vcpu 0 (\S+) \(fast\): (\d+) exits", run.log,
                      re.M)
    return results, dict((k, int(n)) for k, n in fast), run


@pytest.mark.parametrize("backend", ["svm", "vmx"])
def test_fast_path_results_equal_slow_path(backend):
    slow, slow_fast, _ = run_fastcheck(backend, False)
    fast, fast_fast, run = run_fastcheck(backend, True)
    assert slow_fast == {}, slow_fast
    assert fast_fast.get("cpuid", 0) > 100 and fast_fast.get("io", 0) > 100, run
    # x2APIC EOIs; exitprof files those after an injection (no re-entry) under "none"
    assert fast_fast.get("msr-write", 0) >= 10, run
    assert any(l.startswith("fastcheck: cpuid ") for l in slow), slow
    assert any(l.startswith("fastcheck: pio ") for l in slow), slow
    assert "fastcheck: apic counts 22 2 1" in "\n".join(slow), slow
    assert slow == fast
