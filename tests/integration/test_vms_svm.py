"""Guest VMs on AMD-V: QEMU TCG's -cpu max exposes SVM with nested paging.

Each test boots the ISO with test guests and their VM files as GRUB modules
and reads every VM's verdict from the serial log.
"""

from hvrun import guest, qemu, vm_file, vm_stops
import re
import time


def boot_vms(*vms, smp=4, mem="1G", cmdline=""):
    modules = []
    for cfg, kernel in vms:
        modules += [cfg, kernel]
    # a kernel used by several VMs is one module
    seen, unique = set(), []
    for m in modules:
        if m not in seen:
            seen.add(m)
            unique.append(m)
    return qemu(smp=smp, mem=mem, modules=unique, cmdline=cmdline, timeout=180)


def test_three_guests_at_once_all_pass():
    run = boot_vms(
        (vm_file("cpuid", guest("cpuid")), guest("cpuid")),
        (vm_file("uart", guest("uart")), guest("uart")),
        (vm_file("msr", guest("msr")), guest("msr")),
    )
    stops = vm_stops(run.log)
    assert stops == {"cpuid": ("exit-port", 0), "uart": ("exit-port", 0),
                     "msr": ("exit-port", 0)}, run
    for name in ("cpuid", "uart", "msr"):
        assert "[%s] GUEST %s: PASS" % (name, name) in run.log, run
    assert run.status == 0, run
    assert "hv: all 3 VMs stopped: all succeeded" in run.log


def test_string_io_mmio_forms_and_injected_page_faults():
    """INS/OUTS (REP, every size, DF, 16-bit addressing) through COM1, the MMIO
    forms a driver uses on the IOAPIC (BT, XCHG, CMPXCHG, REP MOVS/STOS, LODS),
    and #PF injected with its error code and CR2 when an emulated access meets
    a page the guest has not mapped: the hypervisor decodes these itself."""
    g = guest("strio")
    run = boot_vms((vm_file("strio", g), g), smp=2)
    assert vm_stops(run.log) == {"strio": ("exit-port", 0)}, run
    assert "[strio] GUEST strio: PASS" in run.log, run
    assert run.status == 0, run


def test_ram_is_private_to_each_vm():
    """Two VMs fill all their RAM with different patterns; each reads back its own."""
    ram = guest("ram")
    run = boot_vms(
        (vm_file("ram-a", ram, memory=32, extra="seed=1"), ram),
        (vm_file("ram-b", ram, memory=32, extra="seed=2"), ram),
    )
    stops = vm_stops(run.log)
    assert stops == {"ram-a": ("exit-port", 0), "ram-b": ("exit-port", 0)}, run
    assert "[ram-a] GUEST ram: PASS" in run.log and "[ram-b] GUEST ram: PASS" in run.log
    assert run.status == 0


def test_a_vm_created_again_reads_zeroes_not_the_ram_before():
    """A VM's RAM is zeroed at each chunk's first use, not at creation
    (ept/gpa_map.h): the ram guest fills its RAM with a pattern and stops;
    created again, it gets that RAM back and must read zeroes above its
    image before it writes (it checks: "ram: zero at start")."""
    from hvconsole import boot, command
    ram = guest("ram")
    child = boot([(vm_file("ram-z", ram, memory=16, extra="seed=3"), ram)], smp=2,
                 debug_exit=False)
    try:
        child.expect(r"vm ram-z stopped: (\S+) code=(\d+)", timeout=120)
        assert child.match.group(1, 2) == ("exit-port", "0"), child.before[-3000:]
        at = r"vm ram-z RAM starts at host (0x[0-9a-f]+)"
        first = re.search(at, child.before)
        child.send("\r")
        out = command(child, "create /boot/vms/ram-z.cfg",
                      expect=r"vm ram-z stopped: \S+ code=\d+", timeout=120)
        assert "ram: zero at start" in out, out[-3000:]
        assert "vm ram-z stopped: exit-port code=0" in out, out[-3000:]
        # host RAM the first run wrote (here: its first chunk lies in the first
        # run's 16 MiB): what it wrote was there to leak
        again = re.search(at, out)
        assert first and again, (first, again)
        assert abs(int(first.group(1), 16) - int(again.group(1), 16)) < 16 << 20, (first, again)
    finally:
        if child.isalive():
            child.terminate(force=True)


def test_triple_fault_stops_only_that_vm():
    run = boot_vms(
        (vm_file("crasher", guest("triple")), guest("triple")),
        (vm_file("neighbour", guest("cpuid")), guest("cpuid")),
    )
    stops = vm_stops(run.log)
    assert stops["crasher"] == ("triple-fault", 0), run
    assert stops["neighbour"] == ("exit-port", 0), run
    assert "[neighbour] GUEST cpuid: PASS" in run.log
    # one VM did not end well, so the run as a whole reports failure
    assert run.status == 1, run


def test_broken_vm_file_is_reported_and_the_good_one_runs():
    bad = vm_file("broken", guest("cpuid"), memory=0)
    run = boot_vms(
        (bad, guest("cpuid")),
        (vm_file("good", guest("cpuid")), guest("cpuid")),
    )
    assert "hv: /boot/vms/broken.cfg:3:10: memory: 0 is out of range" in run.log, run
    assert "hv: /boot/vms/broken.cfg: VM not started" in run.log
    assert vm_stops(run.log) == {"good": ("exit-port", 0)}, run
    assert run.status == 1  # a rejected file is a failure the harness must see


def test_bochs_ryzen_second_svm_implementation():
    """The same guests on Bochs' AMD model (SVM with NPT and next-RIP save): a
    second, independent SVM implementation, and a vCPU on the boot CPU."""
    from hvrun import bochs
    run = bochs(smp=2, cpu_model="ryzen", modules=[
        vm_file("cpuid", guest("cpuid")), guest("cpuid"),
        vm_file("msr", guest("msr")), guest("msr")])
    assert run.report()["svm next-rip save"] == "yes"
    assert vm_stops(run.log) == {"cpuid": ("exit-port", 0), "msr": ("exit-port", 0)}, run
    # two VMs on two cores: the scheduler spreads them, so the boot CPU runs one
    ran_on = set(re.findall(r"vm (\w+) vcpu 0 sched: .* ran on cores ([\d ]+)", run.log))
    assert len(ran_on) == 2 and {c for _, c in ran_on} >= {"0", "1"}, ran_on
    assert run.status == 0, run


def test_interrupt_injection_window_and_hlt_wakeup():
    """Virtual interrupts: held while IF=0 and delivered at the interrupt window
    (after the STI shadow), delivered at once with IF=1, and a HLT woken by
    the virtual timer."""
    g = guest("intr")
    run = boot_vms((vm_file("intr", g), g), smp=2)
    assert vm_stops(run.log) == {"intr": ("exit-port", 0)}, run
    assert "[intr] GUEST intr: PASS" in run.log
    exits = [l for l in run.log.splitlines() if l.startswith("vm intr vcpu 0 exits:")][0]
    assert "interrupt-window" in exits and "hlt 1" in exits, exits


def test_nmi_delivery_blocking_and_hlt_wakeup():
    """NMIs (tests/guests/nmi.c): self-IPIs in xAPIC and x2APIC mode, taken with
    IF=0, held while the handler runs and delivered once after its IRET (the
    IRET intercept and the single step past it), the IOAPIC's NMI mode waking
    cli; hlt, and a storm of 10,000."""
    g = guest("nmi")
    run = boot_vms((vm_file("nmi", g), g), smp=2)
    assert vm_stops(run.log) == {"nmi": ("exit-port", 0)}, run
    assert "[nmi] GUEST nmi: PASS" in run.log, run
    assert "[nmi] nmi: storm: sent 10000, taken 10000" in run.log, run
    exits = [l for l in run.log.splitlines() if l.startswith("vm nmi vcpu 0 exits:")][0]
    assert "nmi-window" in exits, exits


def test_on_crash_restart_restarts_the_vm():
    """on_crash = "restart": a triple fault reloads the VM's kernel and runs it again."""
    g = guest("triple")
    cfg = vm_file("phoenix", g, more='on_crash = "restart"\n')
    run = qemu(smp=2, modules=[cfg, g], timeout=120,
               until=r"(?s)vm phoenix rebooting.*vm phoenix rebooting")
    assert not run.timed_out, run
    assert run.log.count("vm phoenix stopped: triple-fault code=0") >= 2, run
    assert run.log.count("[phoenix] triple: faulting now") >= 2, run


def test_hpet_found_in_acpi_counts_and_interrupts():
    """The VM's HPET: found through its ACPI table, capabilities, a counter
    that halts and runs at its advertised period (against the PIT), one-shot,
    level-triggered and periodic comparators through the IOAPIC, and legacy
    replacement onto IRQ 0 and IRQ 8."""
    g = guest("hpet")
    run = boot_vms((vm_file("hpet", g, more="hpet = 1\n"), g), smp=2)
    assert vm_stops(run.log) == {"hpet": ("exit-port", 0)}, run
    assert "[hpet] GUEST hpet: PASS" in run.log, run
    assert "[hpet] hpet: ACPI table: id 0x8086a201, space 0, address 0x0fed00000" in run.log, run


def test_kernel_linked_at_0x8000_and_rtc_from_the_host_clock():
    """A multiboot kernel linked at 0x8000 (where the loader used to put the
    multiboot information) boots and reads its information; and the VM's RTC
    shows the host's wall-clock time (QEMU's RTC is the host's date)."""
    epoch = int(time.time())
    low, rtc = guest("lowmem"), guest("rtc")
    run = boot_vms((vm_file("lowmem", low, memory=16, extra="token=linked-at-0x8000 ram=16"), low),
                   (vm_file("rtc", rtc, extra="epoch=%d" % epoch), rtc), smp=2)
    assert vm_stops(run.log) == {"lowmem": ("exit-port", 0), "rtc": ("exit-port", 0)}, run
    assert "[lowmem] GUEST lowmem: PASS" in run.log, run
    assert '[lowmem] lowmem: token "linked-at-0x8000"' in run.log, run
    assert "[rtc] GUEST rtc: PASS" in run.log, run
    year = time.gmtime(epoch).tm_year
    assert re.search(r"^wall clock: %d-\d\d-\d\d .* \(host CMOS RTC\)$" % year, run.log, re.M), run
    assert "[rtc] rtc: %d-" % year in run.log, run


def test_hostile_guest_is_contained():
    """A guest that sweeps CPUID and MSRs, pokes every hole of its address
    space and every port (IN/OUT and INS/OUTS), beside one that triple
    faults and one that takes a 10,000-NMI storm: each gets the
    architectural answer, and a well-behaved neighbour passes."""
    run = boot_vms(
        (vm_file("hostile", guest("hostile")), guest("hostile")),
        (vm_file("crasher", guest("triple")), guest("triple")),
        (vm_file("nmi", guest("nmi")), guest("nmi")),
        (vm_file("cpuid", guest("cpuid")), guest("cpuid")),
    )
    stops = vm_stops(run.log)
    assert stops == {"hostile": ("exit-port", 0), "crasher": ("triple-fault", 0),
                     "nmi": ("exit-port", 0), "cpuid": ("exit-port", 0)}, run
    for name in ("hostile", "nmi", "cpuid"):
        assert "[%s] GUEST %s: PASS" % (name, name) in run.log, run
    assert "[nmi] nmi: storm: sent 10000, taken 10000" in run.log, run
    assert re.search(r"\[hostile\] hostile: \d+ holes read as open bus", run.log), run
    assert "[hostile] hostile: INS/OUTS to" in run.log, run
    # the unknown-MSR log is rate-limited: a sweep does not flood the console
    assert run.log.count("vm hostile: read of unknown MSR") <= 8, run
    assert "hv: all 4 VMs stopped: some failed" in run.log, run
