"""The ACPI parser against the tables real firmware builds.

The hypervisor dumps every table it finds (`acpi_dump`); the host tool
build/tools/acpi_inspect runs the same parser over that dump under
AddressSanitizer, and the test checks what it found against the machine QEMU
was told to be, and against what the hypervisor itself reported.
"""

import os
import subprocess

import pytest

from hvrun import BUILD, qemu

INSPECT = os.path.join(BUILD, "tools", "acpi_inspect")


def inspect(log):
    out = subprocess.run([INSPECT], input=log, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    facts = {}
    for line in out.stdout.splitlines():
        key, _, value = line.partition(": ")
        facts.setdefault(key, []).append(value)
    return {k: (v[0] if len(v) == 1 else v) for k, v in facts.items()}


@pytest.mark.parametrize("machine,firmware", [
    ("q35", "bios"), ("pc", "bios"), ("q35", "uefi"), ("pc", "uefi")])
def test_qemu_tables(machine, firmware):
    run = qemu(smp=3, mem="512M", machine=machine, firmware=firmware, cmdline="acpi_dump")
    assert run.status == 0, run
    f = inspect(run.log)
    # OVMF publishes ACPI 2.0 (XSDT); SeaBIOS an ACPI 1.0 RSDT
    assert f["root"] == ("XSDT" if firmware == "uefi" else "RSDT")
    tables = f["tables"].split()
    assert "FACP" in tables and "APIC" in tables and "(bad)" not in f["tables"]
    assert ("MCFG" in tables) == (machine == "q35")
    assert f["cpus"] == "3" and f["cpu apic ids"] == "0 1 2"
    assert f["lapic address"] == "0xfee00000"
    assert f["ioapic"] == "id 0 at 0xfec00000 gsi 0"
    # the PIT's IRQ 0 arrives at IOAPIC pin 2 on every PC QEMU builds
    assert "irq 0 -> gsi 2 flags 0" in f["override"]
    assert f["pm timer"].endswith("24-bit")
    if machine == "q35":
        assert f["mcfg"] == "0xb0000000 segment 0 buses 0-255"
        assert f["reset"] == "yes space 1 address 0xcf9 value 0xf"
    # the hypervisor's own report agrees with the host-side parse
    rep = run.report()
    assert rep["acpi pm timer"] == "port %s, 24-bit" % f["pm timer"].split()[0]
    assert rep["cores listed"] == "3"


def test_intel_iommu_shows_a_dmar_table():
    run = qemu(smp=2, mem="512M", machine="q35", cmdline="acpi_dump",
               extra_args=("-device", "intel-iommu"))
    assert run.status == 0, run
    f = inspect(run.log)
    assert "DMAR" in f["tables"].split()
    assert f["dmar units"] == "1"
    assert run.report()["vt-d"].startswith("present (1 remapping units")


def test_bochs_tables():
    from hvrun import bochs
    run = bochs(smp=2, cmdline="acpi_dump")
    assert run.status == 0, run
    f = inspect(run.log)
    assert f["cpus"] == "2"
    assert "SSDT" in f["tables"].split()
    assert f["ioapic"].endswith("at 0xfec00000 gsi 0")
