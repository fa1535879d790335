"""The same test guests on Intel VT-x: Bochs with a Haswell model (VMX, EPT,
VPID, unrestricted guest), two VMs at once on a two-core machine, with the
verdicts they give under QEMU's SVM."""

import re
import time

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


def test_nmi_delivery_blocking_and_hlt_wakeup():
    """The nmi guest on VMX: virtual NMIs with NMI-window exiting keep an NMI
    sent inside the handler until its IRET; IOAPIC NMIs wake cli; hlt."""
    g = guest("nmi")
    run = bochs(smp=2, modules=[vm_file("nmi", g), g], timeout=400)
    assert vm_stops(run.log) == {"nmi": ("exit-port", 0)}, run
    assert "[nmi] GUEST nmi: PASS" in run.log, run
    assert "[nmi] nmi: storm: sent 10000, taken 10000" in run.log, run
    assert "no virtual NMIs" not in run.log, run
    exits = [l for l in run.log.splitlines() if l.startswith("vm nmi vcpu 0 exits:")][0]
    assert "nmi-window" in exits, exits


def test_hpet_lowmem_kernel_and_rtc_on_vmx():
    """The HPET guest, the kernel linked at 0x8000, and the RTC guest on VT-x.
    Bochs' time0=1 (hvrun's bochsrc) is its "local" setting: its RTC starts
    at the host's local time, which the hypervisor reads (as UTC, as Linux
    does) and the VM's clock shows."""
    now = int(time.time())
    epoch = now + time.localtime(now).tm_gmtoff
    hpet, low, rtc = guest("hpet"), guest("lowmem"), guest("rtc")
    run = boot([(vm_file("hpet", hpet, more="hpet = 1\n"), hpet),
                (vm_file("lowmem", low, memory=16, extra="token=vmx-0x8000 ram=16"), low),
                (vm_file("rtc", rtc, extra="epoch=%d" % epoch), rtc)])
    assert run.report()["virtualization"] == "Intel VT-x (VMX)"
    assert vm_stops(run.log) == {"hpet": ("exit-port", 0), "lowmem": ("exit-port", 0),
                                 "rtc": ("exit-port", 0)}, run
    for name in ("hpet", "lowmem", "rtc"):
        assert "[%s] GUEST %s: PASS" % (name, name) in run.log, run
    assert '[lowmem] lowmem: token "vmx-0x8000"' in run.log, run
    year = time.gmtime(epoch).tm_year
    assert run.report()["wall clock"].startswith("%d-" % year), run
    assert run.status == 0, run


def test_hostile_guest_is_contained():
    """The hostile guest (sampled sweeps: Bochs exits are slow) beside a
    triple fault and a well-behaved guest, on VT-x."""
    run = boot([(vm_file("hostile", guest("hostile"), extra="quick"), guest("hostile")),
                (vm_file("crasher", guest("triple")), guest("triple")),
                (vm_file("cpuid", guest("cpuid")), guest("cpuid"))])
    stops = vm_stops(run.log)
    assert stops == {"hostile": ("exit-port", 0), "crasher": ("triple-fault", 0),
                     "cpuid": ("exit-port", 0)}, run
    assert "[hostile] GUEST hostile: PASS" in run.log, run
    assert "[cpuid] GUEST cpuid: PASS" in run.log, run
    assert "[hostile] hostile: INS/OUTS to" in run.log, run


def test_a_vcpu_moved_between_cores_keeps_its_state():
    """A VMCS stays active on the core that ran it last (vmx/vmx.c): a core
    that takes the vCPU over asks that one for the VMCLEAR first. Four
    spinning VMs of different lengths on two cores: as VMs end, an idle core
    steals a waiting vCPU from the other (Bochs runs the same way each time).
    Each guest checks its own results and SSE state."""
    spin = guest("spin")
    pairs = [(vm_file("mv%d" % i, spin, extra="rounds=%d seed=%d" % (rounds, 41 + i)), spin)
             for i, rounds in enumerate((10, 20, 30, 40))]
    run = boot(pairs)
    assert run.status == 0, run
    for i in range(4):
        assert "[mv%d] GUEST spin: PASS" % i in run.log, run
    assert re.search(r"^vm mv\d vcpu 0 sched: .*ran on cores 0 1\b", run.log, re.M), run
