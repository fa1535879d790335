"""The stock Debian Linux kernel as a guest (issue: "Boot the stock Debian
Linux kernel"). The kernel and a busybox initramfs come from Debian's
packages (scripts/build-linux-guest.sh, run by `make linux-guest`); the
initramfs prints markers, checks memory, clock and timer interrupts, and
powers off."""

import os
import time
import re
import shutil

import pytest

from hvrun import BUILD, guest, rerun_once_if_a_guest_crashes, vm_file, vm_stops
from hvrun import qemu as hv_qemu


def qemu(**kw):
    """hvrun.qemu with CPU 0 kept out of the guests' way (hvrun.qemu's
    spare_cpu0: QEMU 7.2 TCG's race on CPU 0's nested-paging flag)."""
    return hv_qemu(spare_cpu0=True, **kw)

KERNEL = os.path.join(BUILD, "linux-guest", "vmlinuz")
INITRD = os.path.join(BUILD, "linux-guest", "initrd.img")
GENERIC_DIR = os.path.join(BUILD, "linux-guest-generic")

pytestmark = pytest.mark.skipif(
    not os.path.exists(KERNEL) or not os.path.exists(os.path.join(GENERIC_DIR, "vmlinuz")),
    reason="no Linux guests: run make linux-guest")


def generic_files():
    """The generic kernel and its initramfs under names of their own: a VM
    file names its modules by base name, and the cloud pair has the same."""
    out = os.path.join(BUILD, "test-linux")
    os.makedirs(out, exist_ok=True)
    paths = []
    for src, dst in (("vmlinuz", "vmlinuz-generic"), ("initrd.img", "initrd-generic.img")):
        s, d = os.path.join(GENERIC_DIR, src), os.path.join(out, dst)
        if not os.path.exists(d) or os.path.getmtime(d) < os.path.getmtime(s):
            shutil.copyfile(s, d)
        paths.append(d)
    return paths


def qemu_overcommitted(vm, **kw):
    """Boots a 4-vCPU Linux VM on a 2-core host, once more if the guest
    crashes (the known flake: hvrun.rerun_once_if_a_guest_crashes)."""
    return rerun_once_if_a_guest_crashes(lambda: qemu(**kw), [vm])


def linux_vm(name, memory=128, vcpus=1, extra="", more="", flavour="cloud"):
    kernel, initrd = (KERNEL, INITRD) if flavour == "cloud" else generic_files()
    return vm_file(name, kernel, memory=memory, vcpus=vcpus,
                   extra="console=ttyS0 quiet" + (" " + extra if extra else ""),
                   more='ramdisk = "/boot/vms/%s"\n' % os.path.basename(initrd) + more)


# The CPUID policy (kernel/vm/cpuid_table.c) as Linux reports it in
# /proc/cpuinfo: what the hypervisor hides never shows, whatever the host
# has; what it always backs (its own local APIC, machine-check banks, the
# basic ISA every x86-64 CPU has) always shows.
HIDDEN_FLAGS = {
    "vmx", "svm", "monitor", "mwaitx", "ds_cpl", "est", "tm", "tm2", "xtpr", "pdcm",
    "dca", "pbe", "acpi", "dtes64", "smx", "pln", "pts", "dtherm", "ida", "hwp",
    "epb", "mpx", "pku", "ospke", "sgx", "sgx_lc", "waitpkg", "intel_pt",
    "arch_lbr", "ibs", "skinit", "wdt", "lwp", "perfctr_core", "perfctr_nb",
    "perfctr_llc", "osvw", "amx_tile", "amx_bf16", "amx_int8", "ibt", "sme", "sev",
    "sev_es", "nodeid_msr", "bpext", "ptsc", "tce", "flush_l1d", "tsx_force_abort",
    "pconfig", "xsaves", "cqm_llc", "cat_l3", "mba", "rdt_a", "succor", "smca",
}
ALWAYS_FLAGS = {
    "fpu", "tsc", "msr", "pae", "mce", "cx8", "apic", "mtrr", "pge", "mca", "cmov",
    "pat", "clflush", "mmx", "fxsr", "sse", "sse2", "syscall", "nx", "lm",
    "hypervisor", "x2apic", "tsc_deadline_timer", "arat", "xsave",
}


def check_cpu_flags(log, name):
    flags = set()
    for line in re.findall(r"^\[%s\] LINUX-GUEST-FLAGS (.*)$" % re.escape(name), log, re.M):
        flags |= set(line.split())
    assert not flags & HIDDEN_FLAGS, sorted(flags & HIDDEN_FLAGS)
    assert ALWAYS_FLAGS <= flags, sorted(ALWAYS_FLAGS - flags)


def markers(log, name):
    """The guest's own report: {marker: rest of line}."""
    out = {}
    for m in re.finditer(r"^\[%s\] (LINUX-GUEST-\w+) ?(.*)$" % re.escape(name), log, re.M):
        out[m.group(1)] = m.group(2)
    return out


def check_linux(run, name, cpus, memory, flavour="cloud"):
    m = markers(run.log, name)
    assert "LINUX-GUEST-DONE" in m, run
    up = m["LINUX-GUEST-UP"]
    kind = r"-cloud-amd64" if flavour == "cloud" else r"-amd64"
    assert re.match(r"\d+\.\d+\.\d+-\d+%s cpus=%d mem=\d+" % (kind, cpus), up), up
    check_cpu_flags(run.log, name)
    # the generic kernel has machine-check support and takes the VM's banks
    want_mce = "none" if flavour == "cloud" else "ok banks=10"
    assert m["LINUX-GUEST-MCE"] == want_mce, m
    mem_kb = int(up.split("mem=")[1])
    # what the kernel reports of the VM's RAM (less its own image and reservations)
    assert memory * 1024 * 0.6 < mem_kb < memory * 1024, up
    assert m["LINUX-GUEST-CLOCK"].startswith("ok"), m
    # the init script sleeps 0.2 s between two reads of /proc/uptime: virtual
    # timers must fire on time (guest time, so a loaded host does not matter)
    u1, u2 = (float(x) for x in m["LINUX-GUEST-CLOCK"].split("uptime=")[1].split("->"))
    assert 0.19 <= u2 - u1 < 1.0, m
    assert m["LINUX-GUEST-TIMER"].startswith("ok"), m
    # the pvpanic driver found the device the guest's DSDT describes
    assert m["LINUX-GUEST-PVPANIC"] == "ok", m


def test_generic_kernel_with_1_and_2_vcpus_beside_a_test_guest_on_svm():
    """The generic Debian kernel (what servers run: machine checks, every
    CPUID bit Linux acts on) in two VMs, one with 2 vCPUs (INIT and STARTUP
    IPIs through the virtual local APIC), beside a test guest."""
    gk, gi = generic_files()
    run = qemu(smp=4, mem="1G", timeout=300, modules=[
        linux_vm("gen1", flavour="generic"), linux_vm("gen2", vcpus=2, flavour="generic"),
        gk, gi, vm_file("cpuid", guest("cpuid")), guest("cpuid")])
    stops = vm_stops(run.log)
    assert stops == {"gen1": ("poweroff", 0), "gen2": ("poweroff", 0),
                     "cpuid": ("exit-port", 0)}, run
    check_linux(run, "gen1", cpus=1, memory=128, flavour="generic")
    check_linux(run, "gen2", cpus=2, memory=128, flavour="generic")
    assert "[cpuid] GUEST cpuid: PASS" in run.log
    # nothing the kernels touched was refused
    assert "unknown MSR" not in run.log and "MSR access error" not in run.log, run
    # the per-VM exit accounting is printed when it stops
    assert re.search(r"^vm gen2 vcpu 1 exits: total \d+", run.log, re.M), run
    assert run.status == 0, run


def test_generic_kernel_with_4_vcpus_on_svm():
    """The generic kernel on four vCPUs sharing a 2-core host (QEMU gives
    each host core a thread: more cores than this machine has would starve
    them, and the guest's clock with them)."""
    gk, gi = generic_files()
    run = qemu_overcommitted("gen4", smp=2, mem="1G", timeout=300, modules=[
        linux_vm("gen4", vcpus=4, flavour="generic"), gk, gi])
    assert vm_stops(run.log) == {"gen4": ("poweroff", 0)}, run
    check_linux(run, "gen4", cpus=4, memory=128, flavour="generic")
    assert "unknown MSR" not in run.log and "MSR access error" not in run.log, run
    assert run.status == 0, run


def test_two_cloud_kernel_vms_one_with_two_vcpus_on_svm():
    """The cloud kernel (no machine checks) in two VMs, one with 2 vCPUs."""
    run = qemu(smp=4, mem="1G", timeout=300, modules=[
        linux_vm("linux-a", vcpus=2), linux_vm("linux-b"), KERNEL, INITRD])
    stops = vm_stops(run.log)
    assert stops == {"linux-a": ("poweroff", 0), "linux-b": ("poweroff", 0)}, run
    check_linux(run, "linux-a", cpus=2, memory=128)
    check_linux(run, "linux-b", cpus=1, memory=128)
    assert run.status == 0, run


def test_four_vcpu_linux_beside_two_guests_on_two_cores():
    """Overcommit: a 4-vCPU Linux VM and two 1-vCPU test guests share a 2-core
    host; Linux brings all four vCPUs up (INIT/SIPI through the virtual local
    APIC, to vCPUs that wait on a run queue) and every VM reaches its end."""
    run = qemu_overcommitted("smp4", cmdline="pvsched=1", smp=2, mem="1G", timeout=400, modules=[
        linux_vm("smp4", vcpus=4), KERNEL, INITRD,
        vm_file("cpuid", guest("cpuid")), guest("cpuid"),
        vm_file("spin", guest("spin"), extra="rounds=40"), guest("spin")])
    stops = vm_stops(run.log)
    assert stops == {"smp4": ("poweroff", 0), "cpuid": ("exit-port", 0),
                     "spin": ("exit-port", 0)}, run
    check_linux(run, "smp4", cpus=4, memory=128)
    # every vCPU ran, and the two cores were shared
    ran = re.findall(r"^vm smp4 vcpu \d sched: cpu (\d+) ms, .* ran on cores ([\d ]+)",
                     run.log, re.M)
    assert len(ran) == 4 and all(int(ms) > 0 for ms, _ in ran), run
    # Linux took the paravirtual scheduling features (pvsched=1, kernel/vm/pvsched.h) on every vCPU
    assert "vm smp4 pv: steal time on 4 of 4 vCPUs" in run.log, run
    assert run.status == 0, run


def test_kernel_panic_ends_in_on_crash():
    """A panicking kernel says so through pvpanic; the VM stops with reason
    "panic" and its on_crash ("restart" here) boots it again."""
    run = qemu(smp=2, mem="1G", timeout=300, modules=[
        linux_vm("crashy", extra="hv.panic", more='on_crash = "restart"\n'), KERNEL, INITRD],
        until=r"(?s)vm crashy stopped: panic.*vm crashy rebooting.*vm crashy stopped: panic")
    assert not run.timed_out, run
    assert run.log.count("vm crashy stopped: panic code=0") >= 2, run
    assert markers(run.log, "crashy")["LINUX-GUEST-PVPANIC"] == "ok", run
    assert "Kernel panic" in run.log, run


def test_guest_reboot_restarts_then_on_reboot_destroy_stops():
    """`reboot -f` in the guest: with xl's default on_reboot ("restart") the
    VM boots again, its chips reset; with on_reboot = "destroy" it stops."""
    run = qemu(smp=3, mem="1G", timeout=300, modules=[
        linux_vm("again", extra="hv.reboot"), linux_vm("once", extra="hv.reboot",
                                                       more='on_reboot = "destroy"\n'),
        KERNEL, INITRD],
        until=r"(?s)(?=.*vm again rebooting.*\[again\] LINUX-GUEST-DONE.*vm again stopped: reboot)"
              r"(?=.*vm once stopped: reboot)")
    assert not run.timed_out, run
    assert "vm once stopped: reboot code=0" in run.log, run
    assert "vm once rebooting" not in run.log, run
    # the restarted kernel came up all the way again
    assert run.log.count("[again] LINUX-GUEST-DONE") >= 2, run


def test_linux_uses_the_hpet_and_boots_without_it():
    """The stock kernel finds the VM's HPET in the ACPI tables and sets it up
    (timers 0 and 1 in legacy replacement as IRQ 2 and 8); with hpet=disable,
    and in a VM without an HPET (hpet = 0), it runs on the PIT. Each clock
    starts at the host's date."""
    year = time.gmtime().tm_year
    run = qemu(smp=4, mem="1G", timeout=400, modules=[
        linux_vm("hpet", extra="loglevel=7"),
        linux_vm("nohpet", extra="hpet=disable loglevel=7"),
        linux_vm("pit", extra="loglevel=7", more="hpet = 0\n"), KERNEL, INITRD])
    stops = vm_stops(run.log)
    assert stops == {"hpet": ("poweroff", 0), "nohpet": ("poweroff", 0),
                     "pit": ("poweroff", 0)}, run
    for name in ("hpet", "nohpet", "pit"):
        check_linux(run, name, cpus=1, memory=128)
        lines = [l for l in run.log.splitlines() if l.startswith("[%s] " % name)]
        log = "\n".join(lines)
        # the KVM clock (kernel/vm/pvclock.h) is the best rated; the TSC
        # frequency comes from its scale, exactly the hypervisor's
        assert re.search(r"clocksource: Switched to clocksource (kvm-clock|tsc|tsc-early|hpet)",
                         log), log
        assert "kvm-clock: Using msrs 4b564d01 and 4b564d00" in log, log
        khz = int(re.search(r"tsc_early_khz=(\d+)", log).group(1))
        assert "tsc: Detected %d.%03d MHz processor" % (khz // 1000, khz % 1000) in log, log
        assert re.search(r"setting system clock to %d-" % year, log), log
        hpet0 = "hpet0: at MMIO 0xfed00000, IRQs 2, 8, 0" in log
        assert hpet0 == (name == "hpet"), log
    assert run.status == 0, run


@pytest.mark.skipif(not os.environ.get("HV_SLOW"), reason="slow (about 5 minutes): make test-slow")
def test_generic_kernel_smp_on_vmx_under_bochs():
    """The generic kernel with 2 vCPUs on Intel VT-x (Bochs Haswell), where
    CPUID differs: machine-check banks, the TSC_ADJUST and INVPCID the VMX
    backend backs, x2APIC/TSC-deadline from the vLAPIC."""
    from hvrun import bochs
    gk, gi = generic_files()
    run = bochs(smp=2, mem_mb=512, timeout=900,
                modules=[linux_vm("gen-vmx", vcpus=2, flavour="generic"), gk, gi])
    assert run.report()["virtualization"] == "Intel VT-x (VMX)"
    assert vm_stops(run.log) == {"gen-vmx": ("poweroff", 0)}, run
    check_linux(run, "gen-vmx", cpus=2, memory=128, flavour="generic")
    assert "MSR access error" not in run.log, run
    assert run.status == 0, run
