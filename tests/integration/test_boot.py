"""The hypervisor boots a PC to its boot report: BIOS and UEFI, 1 and 4 cores."""

import re

import pytest

from hvrun import qemu

MIB_1G = 1024


@pytest.mark.parametrize("firmware", ["bios", "uefi"])
@pytest.mark.parametrize("smp", [1, 4])
def test_boots_to_report(firmware, smp):
    run = qemu(smp=smp, mem="1G", firmware=firmware)
    assert run.status == 0, run
    rep = run.report()
    assert rep["cores online"] == str(smp), run
    assert rep["cores listed"] == str(smp), run
    usable = int(rep["memory usable"].split()[0])
    # all of the 1 GiB but what firmware keeps (BIOS areas, OVMF's runtime data)
    assert MIB_1G - 48 <= usable < MIB_1G, run
    assert rep["firmware"] == ("UEFI" if firmware == "uefi" else "BIOS")
    assert rep["boot loader"].startswith("GRUB") and rep["boot loader"].endswith("(multiboot2)")
    assert rep["apic timer working"] == "%d of %d cores" % (smp, smp), run
    # QEMU TCG's -cpu max is an AMD CPU with SVM and nested paging
    assert rep["cpu vendor"] == "AuthenticAMD"
    assert rep["virtualization"] == "AMD-V (SVM)"
    assert rep["svm npt"] == "yes"
    assert "debug_exit=0xf4" in rep["command line"]
    assert "tsc frequency" in rep and not rep["tsc frequency"].startswith("0 ")


def test_multiboot1_direct_kernel_boot():
    """qemu -kernel hv.elf: the quick development loop through QEMU's multiboot1 loader."""
    run = qemu(smp=2, mem="512M", machine="pc", kernel_direct=True)
    assert run.status == 0, run
    rep = run.report()
    assert rep["cores online"] == "2"
    assert "multiboot1" in rep["boot loader"]
    assert 480 <= int(rep["memory usable"].split()[0]) < 512


def test_memory_above_4g_is_counted_and_mapped():
    """6 GiB of RAM: the PCI hole splits it; all of it is usable and identity-mapped."""
    run = qemu(smp=2, mem="6G")
    assert run.status == 0, run
    usable = int(run.report()["memory usable"].split()[0])
    assert 6 * 1024 - 48 <= usable < 6 * 1024, run


def test_bad_console_option_is_reported_not_fatal():
    run = qemu(smp=1, cmdline="com1=12345,9x9")
    assert run.status == 0, run
    assert "ignoring a bad console option: com1: baud rate '12345'" in run.log
    assert run.report()["cores online"] == "1"


def test_no_debug_exit_stays_up_at_console():
    """Without debug_exit the hypervisor idles at the console instead of exiting."""
    run = qemu(smp=1, debug_exit=False, timeout=60, until=r"hv: nothing to run; idle")
    assert not run.timed_out, run
    assert run.status is None  # still running when the harness stopped it
    assert run.report()["cores online"] == "1"
    assert "hv: exit status" not in run.log


@pytest.mark.parametrize("kind,name", [
    ("pf", "#PF page fault"),
    ("ud", "#UD invalid opcode"),
    ("de", "#DE divide error"),
    ("gp", "#GP general protection"),
])
def test_fault_is_dumped_and_fails_the_run(kind, name):
    run = qemu(smp=2, cmdline="test_fault=" + kind)
    assert run.status not in (None, 0), run
    assert "fatal exception %s" % name in run.log, run
    assert "on CPU 0 (APIC ID 0)" in run.log
    for reg in ("RIP ", "RSP ", "RAX ", "R15 ", "CR2 "):
        assert reg in run.log
    assert "backtrace" in run.log
    assert "hv: all CPUs stopped" in run.log


def test_fault_on_another_cpu_names_it_and_stops_all():
    run = qemu(smp=4, cmdline="test_fault=ud test_fault_cpu=2")
    assert run.status not in (None, 0), run
    assert "fatal exception #UD invalid opcode (vector 6) on CPU 2 (APIC ID 2)" in run.log, run
    assert "hv: all CPUs stopped" in run.log


def test_stack_overflow_hits_the_guard_page():
    """A runaway recursion faults on the guard page; the #DF runs on its own IST stack."""
    run = qemu(smp=1, cmdline="test_fault=stack")
    assert run.status not in (None, 0), run
    assert "fatal exception #DF double fault" in run.log or \
        "fatal exception #PF page fault" in run.log, run
    # the backtrace names the functions and folds the recursion into one line
    assert re.search(r"recurse\+0x[0-9a-f]+ \(\d+ times\)", run.log), run
    assert "selftest_run+" in run.log and "kmain+" in run.log
    assert "hv: all CPUs stopped" in run.log
