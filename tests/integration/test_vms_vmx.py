"""The same test guests on Intel VT-x: Bochs with a Haswell model (VMX, EPT,
VPID, unrestricted guest), two VMs at once on a two-core machine, with the
verdicts they give under QEMU's SVM."""

import pytest

from hvrun import bochs, guest, vm_file, vm_stops


def boot(pairs, **kw):
    modules = []
    for cfg, kernel in pairs:
        modules += [m for m in (cfg, kernel) if m not in modules]
    return bochs(smp=2, modules=modules, timeout=240, **kw)


@pytest.mark.parametrize("a,b", [("cpuid", "msr"), ("uart", "intr"), ("strio", "cpuid")])
def test_guest_pairs_pass(a, b):
    run = boot([(vm_file(a, guest(a)), guest(a)), (vm_file(b, guest(b)), guest(b))])
    assert run.report()["virtualization"] == "Intel VT-x (VMX)"
    assert vm_stops(run.log) == {a: ("exit-port", 0), b: ("exit-port", 0)}, run
    assert "[%s] GUEST %s: PASS" % (a, a) in run.log
    assert "[%s] GUEST %s: PASS" % (b, b) in run.log
    assert run.status == 0, run


def test_ram_is_private_to_each_vm():
    ram = guest("ram")
    run = boot([(vm_file("ram-a", ram, memory=16, extra="seed=1"), ram),
                (vm_file("ram-b", ram, memory=16, extra="seed=2"), ram)])
    assert vm_stops(run.log) == {"ram-a": ("exit-port", 0), "ram-b": ("exit-port", 0)}, run
    assert run.status == 0


def test_triple_fault_stops_only_that_vm():
    run = boot([(vm_file("crasher", guest("triple")), guest("triple")),
                (vm_file("neighbour", guest("cpuid")), guest("cpuid"))])
    stops = vm_stops(run.log)
    assert stops["crasher"] == ("triple-fault", 0), run
    assert stops["neighbour"] == ("exit-port", 0), run
    assert run.status == 1
