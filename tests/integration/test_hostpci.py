"""The host's own PCI devices (kernel/pci): found at boot through ECAM (q35's
MCFG) or ports 0xCF8/0xCFC (the i440FX `pc` machine, which has no MCFG),
behind bridges too, one boot-log line each; `pci-list` without a VM name
lists them at the console; and an MSI from QEMU's `edu` device reaches a
pool vector on another CPU (`test_pci_msi`), the NVMe controller gets its
driver (which takes MSI-X), and a BAR above RAM is mapped.
"""

import re

import pytest

from hvconsole import PROMPT, boot, command
from hvrun import qemu

REPORT_END = r"hv: boot report end"
LINE = re.compile(r"^pci (\w{4}:\w\w:\w\w\.\d): (\w{4}):(\w{4}) (.*?) \[(.*)\]$", re.M)


@pytest.fixture(scope="module")
def disk(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostpci") / "n0.raw"
    with open(path, "wb") as f:
        f.truncate(1 << 20)
    return str(path)


def nvme(disk, addr):
    return ["-device", "nvme,serial=hv0,drive=n0,addr=%s" % addr,
            "-drive", "file=%s,if=none,id=n0,format=raw" % disk]


def devices(log):
    """The boot log's device lines as {BDF: (vendor:device, class name, [driver...])}."""
    return {m[0]: ("%s:%s" % (m[1], m[2]), m[3], m[4]) for m in LINE.findall(log)}


def test_ecam_finds_devices_behind_a_root_port(disk):
    args = ["-nic", "none"] + nvme(disk, "4") + [
        "-device", "pcie-root-port,id=rp1,chassis=1,slot=1,addr=5",
        "-device", "e1000e,bus=rp1",
        "-device", "pcie-root-port,id=rp2,chassis=2,slot=2,addr=6",
        "-device", "edu,bus=rp2",
        # a 1 GiB 64-bit BAR: SeaBIOS puts it above 4 GiB, beyond the RAM-sized identity map
        "-object", "memory-backend-ram,id=hm,size=1G", "-device", "ivshmem-plain,memdev=hm,addr=7"]
    run = qemu(smp=2, cmdline="test_pci_msi", extra_args=args, timeout=30,
               until=r"hv: exit status \d+")
    assert run.status == 0, run
    devs = devices(run.log)
    assert devs["0000:00:04.0"] == ("1b36:0010", "NVM Express controller", "driver nvme: nvme0"), run
    assert devs["0000:00:05.0"] == ("1b36:000c", "PCI bridge to bus 01-01", "no driver"), run
    assert devs["0000:00:06.0"] == ("1b36:000c", "PCI bridge to bus 02-02", "no driver"), run
    assert devs["0000:01:00.0"] == ("8086:10d3", "Ethernet controller", "driver e1000e: eth0"), run
    assert devs["0000:02:00.0"][0] == "1234:11e8", run
    assert devs["0000:00:00.0"][:2] == ("8086:29c0", "host bridge"), run
    assert devs["0000:00:1f.2"][1] == "SATA controller (AHCI)", run
    m = re.search(r"^pci: (\d+) devices on 1 segment \(ECAM\)$", run.log, re.M)
    assert m and int(m.group(1)) == len(devs), run
    # the lines come before the boot report, which stays as it was
    assert run.log.index("pci: ") < run.log.index("hv: boot report\n"), run
    assert "bridge skipped" not in run.log, run
    # an MSI on a pool vector of CPU 1 (not 0, the console's), taken there, twice;
    # the handler read and wrote the device's registers through the uncached mapping
    assert re.search(r"pci selftest: edu MSI vector 0x[4-9a-d][0-9a-f] to CPU 1: "
                     r"2 interrupts taken on CPU 1, counted 2$", run.log, re.M), run
    # the NVMe driver owns the controller (so the self-check leaves it alone) and took MSI-X
    assert "pci selftest: nvme" not in run.log, run
    assert re.search(r"^nvme0: QEMU NVMe Ctrl \(serial hv0\), .*, MSI-X, ", run.log, re.M), run
    assert devs["0000:00:07.0"][0] == "1af4:1110", run
    m = re.search(r"^pci selftest: ivshmem BAR2 (0x[0-9a-f]+)\+0x40000000 reads back$", run.log, re.M)
    assert m and int(m.group(1), 16) >= 1 << 32, run


def test_cf8_without_mcfg(disk):
    """The i440FX machine has no MCFG: ports 0xCF8/0xCFC, and a PCI-PCI bridge."""
    args = ["-nic", "none"] + nvme(disk, "4") + [
        "-device", "pci-bridge,id=br1,chassis_nr=1,addr=5",
        "-device", "e1000,bus=br1,addr=3"]
    run = qemu(smp=1, machine="pc", extra_args=args, timeout=30, until=REPORT_END)
    assert not run.timed_out, run
    devs = devices(run.log)
    assert devs["0000:00:04.0"] == ("1b36:0010", "NVM Express controller", "driver nvme: nvme0"), run
    assert devs["0000:00:05.0"] == ("1b36:0001", "PCI bridge to bus 01-01", "no driver"), run
    assert devs["0000:01:03.0"] == ("8086:100e", "Ethernet controller", "no driver"), run
    assert devs["0000:00:00.0"][:2] == ("8086:1237", "host bridge"), run
    m = re.search(r"^pci: (\d+) devices on 1 segment \(CF8\)$", run.log, re.M)
    assert m and int(m.group(1)) == len(devs), run
    assert "ECAM" not in run.log.split("hv: boot report")[0], run


def test_pci_list_lists_the_host(disk):
    args = ["-nic", "none"] + nvme(disk, "4") + [
        "-device", "pcie-root-port,id=rp1,chassis=1,slot=1,addr=5",
        "-device", "e1000e,bus=rp1"]
    child = boot([], smp=2, debug_exit=False, extra_args=args)
    try:
        child.expect_exact(PROMPT, timeout=30)
        out = command(child, "pci-list")
        # NVMe: a 64-bit BAR0 of 16 KiB, MSI-X with 65 vectors (QEMU gives it no MSI)
        assert re.search(r"^0000:00:04\.0 1b36:0010 class 010802 NVM Express controller; "
                         r"bar0 mem64 0x[0-9a-f]+\+16K; msix 65; driver nvme: nvme0\r*$",
                         out, re.M), out
        assert re.search(r"^0000:00:05\.0 1b36:000c class 060400 PCI bridge bus 01-01; "
                         r"bar0 mem 0x[0-9a-f]+\+4K; msix 1; no driver\r*$", out, re.M), out
        assert re.search(r"^0000:01:00\.0 8086:10d3 class 020000 Ethernet controller; "
                         r"bar0 mem 0x[0-9a-f]+\+128K; bar1 mem 0x[0-9a-f]+\+128K; "
                         r"bar2 io 0x[0-9a-f]+\+32; bar3 mem 0x[0-9a-f]+\+16K; msix 5; msi; "
                         r"driver e1000e: eth0\r*$", out, re.M), out
        assert re.search(r"^\d+ devices on 1 segment \(ECAM\)\r*$", out, re.M), out
        # with a name it is still the VM's list
        assert "error: no VM named 'nosuch'" in command(child, "pci-list nosuch")
        assert "pci-list [NAME]" in command(child, "help")
    finally:
        child.terminate(force=True)
