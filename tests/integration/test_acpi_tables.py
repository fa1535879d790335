"""The ACPI parser against the tables real firmware builds.

The hypervisor dumps every table it finds (`acpi_dump`); the host tool
build/tools/acpi_inspect runs the same parser over that dump under
AddressSanitizer, and the test checks what it found against the machine QEMU
was told to be, and against what the hypervisor itself reported.
"""

import os
import re
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


# ---- the tables a VM gets (guest/acpi_build.c) ----

def test_guest_tables_with_a_pci_bus(tmp_path):
    """The guest's own tables through the hypervisor's parser, and the DSDT's
    AML through iasl's disassembler when acpica-tools is installed: the PCIe
    root bridge with the bus's windows and 124 _PRT entries (slots 1-31,
    INTA-INTD), the ECAM reserved as a motherboard resource, one MCFG
    allocation for bus 0, and MSI allowed."""
    out = subprocess.run([INSPECT, "--guest", str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    f = {}
    for line in out.stdout.splitlines():
        key, _, value = line.partition(": ")
        f.setdefault(key, value)
    assert f["tables"].split() == ["FACP", "APIC", "HPET", "MCFG"]
    assert f["mcfg"] == "0xc0000000 segment 0 buses 0-0"
    assert f["prt entries"] == "124"
    assert not int(f["boot arch"], 16) & 0x8  # MSI_NOT_SUPPORTED clear

    import shutil
    if not shutil.which("iasl"):
        pytest.skip("iasl (acpica-tools) not installed: scripts/install-deps.sh")
    dis = subprocess.run(["iasl", "-d", "DSDT.dat", "MCFG.dat"], cwd=tmp_path,
                         capture_output=True, text=True)
    assert dis.returncode == 0, dis.stdout + dis.stderr
    dsl = (tmp_path / "DSDT.dsl").read_text()
    squeezed = " ".join(dsl.split())
    for want in ('Device (PCI0)', 'Name (_HID, EisaId ("PNP0A08")', 'Name (_CID, EisaId ("PNP0A03")',
                 'Name (_SEG, Zero)', 'Name (_BBN, Zero)', 'Name (_UID, Zero)',
                 'Method (_OSC, 4, NotSerialized)',
                 'ToUUID ("33db4d5b-1ff7-401c-9657-7441c03dd766")',
                 'Device (ECAM)', 'Name (_HID, EisaId ("PNP0C02")',
                 'Memory32Fixed (ReadWrite, 0xC0000000, // Address Base 0x00100000,',
                 'WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0x0000, '
                 '// Granularity 0x0000, // Range Minimum 0x0000,',
                 'IO (Decode16, 0x0CF8, // Range Minimum 0x0CF8, // Range Maximum 0x01, '
                 '// Alignment 0x08,',
                 '0xC000, // Range Minimum 0xFFFF, // Range Maximum',
                 '0xC1000000, // Range Minimum 0xFEBFFFFF, // Range Maximum',
                 '0x0000001000000000, // Range Minimum 0x0000001FFFFFFFFF, // Range Maximum',
                 'Name (_PRT, Package (0x7C)',
                 'Package (0x04) { 0x001FFFFF, 0x03, Zero, 0x12 }',
                 'Device (PEVT)', 'Name (\\_S5, Package (0x04)'):
        assert want in squeezed, want
    # slot s, pin p (0-3) reaches GSI 16 + (s + p) % 4, as guest/pci/vpci.h wires it
    entries = re.findall(r"Package \(0x04\) \{ 0x([0-9A-F]{4})FFFF, (Zero|One|0x0[23]), Zero, "
                         r"0x([0-9A-F]{2}) \}", squeezed)
    assert len(entries) == 124
    pins = {"Zero": 0, "One": 1, "0x02": 2, "0x03": 3}
    for slot, pin, gsi in entries:
        assert int(gsi, 16) == 16 + (int(slot, 16) + pins[pin]) % 4
    mcfg = (tmp_path / "MCFG.dsl").read_text()
    assert re.search(r"Base Address : 00000000C0000000", mcfg)
    assert re.search(r"End Bus Number : 00", mcfg)


LINUX_KERNEL = os.path.join(BUILD, "linux-guest", "vmlinuz")
LINUX_INITRD = os.path.join(BUILD, "linux-guest", "initrd.img")


@pytest.mark.skipif(not os.path.exists(LINUX_KERNEL), reason="no Linux guest: make linux-guest")
def test_linux_guest_finds_the_pci_root_bridge_and_mmconfig():
    """Debian's cloud kernel reads the VM's tables as the issue wants: MMCONFIG
    from the MCFG, reserved (E820 and the PNP0C02 device), the root bridge
    PCI0 with the bus's windows from its _CRS, _OSC run, and its _PRT."""
    from hvrun import vm_file, vm_stops
    run = qemu(smp=2, mem="1G", timeout=300, modules=[
        vm_file("pcivm", LINUX_KERNEL, memory=128,
                extra="console=ttyS0 quiet loglevel=7",
                more='ramdisk = "/boot/vms/%s"\n' % os.path.basename(LINUX_INITRD)),
        LINUX_KERNEL, LINUX_INITRD])
    assert vm_stops(run.log) == {"pcivm": ("poweroff", 0)}, run
    log = "\n".join(l[len("[pcivm] "):] for l in run.log.splitlines()
                    if l.startswith("[pcivm] "))
    def has(pattern):
        return re.search(pattern, log, re.M)
    assert has(r"BIOS-e820: \[mem 0x00000000c0000000-0x00000000c00fffff\] reserved"), log
    assert has(r"PCI: MMCONFIG for domain 0000 \[bus 00-00\] at "
               r"\[mem 0xc0000000-0xc00fffff\] \(base 0xc0000000\)"), log
    assert has(r"PCI: MMCONFIG at \[mem 0xc0000000-0xc00fffff\] reserved"), log
    assert has(r"PCI: Using configuration type 1 for base access"), log
    assert has(r"ACPI: PCI Root Bridge \[PCI0\] \(domain 0000 \[bus 00\]\)"), log
    assert has(r"acpi PNP0A08:00: _OSC: OS supports"), log
    assert has(r"pci_bus 0000:00: root bus resource \[io  0xc000-0xffff window\]"), log
    assert has(r"pci_bus 0000:00: root bus resource \[mem 0xc1000000-0xfebfffff window\]"), log
    assert has(r"pci_bus 0000:00: root bus resource "
               r"\[mem 0x1000000000-0x1fffffffff window\]"), log
    assert has(r"pci_bus 0000:00: root bus resource \[bus 00\]"), log
    assert has(r"pci 0000:00:00.0: \[8086:29c0\]"), log  # the host bridge at 00:00.0
    for bad in (r"_CRS .* not", r"not reserved in ACPI motherboard resources",
                r"MMCONFIG .* not reserved", r"_OSC failed", r"ACPI Error", r"ACPI BIOS Error",
                r"PCI: MSI disabled|MSI not supported", r"[Ff]irmware [Bb]ug.*PCI"):
        assert not has(bad), (bad, log)
    assert run.status == 0, run
