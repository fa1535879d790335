"""Device assignment behind VT-d (issue 15): QEMU's `edu` device, alone
behind a PCIe root port (so a secondary bus reset can reset it: edu has no
FLR and no PM capability), is given to a test guest (tests/guests/edu.c)
under `-device intel-iommu,intremap=on,aw-bits=48`:

- its DMA engine copies a page within the guest's RAM intact, and its MSI
  reaches the guest on the vector the guest programmed (remapped);
- rogue DMA aimed at the hypervisor's memory, at another VM's RAM and past
  the guest's own RAM is blocked and logged as a DMA fault naming the device
  and the VM, while the other VM's RAM stays intact;
- without intel-iommu the `pci =` VM is refused with its reason and the
  other VM runs;
- a reboot/destroy/create loop leaves no stale faults;
- an e1000e and an NVMe controller, kept from the hypervisor's drivers with
  pciback=, work in a Debian VM with their stock drivers (DHCP and ping over
  MSI-X; the namespace read back with its sha256).

edu's dma_mask is widened (QEMU's default clamps DMA addresses to 28 bits),
so the rogue addresses reach the IOMMU as written.
"""

import hashlib
import os
import re

import pytest

from hvconsole import boot, command
from hvrun import BUILD, guest, qemu, vm_file, vm_stops
from test_linux_virtio import copy, marks

EDU_BDF = "0000:01:00.0"
IOMMU = ["-device", "intel-iommu,intremap=on,aw-bits=48"]
EDU = ["-device", "pcie-root-port,id=rp1,chassis=1,slot=1,addr=5",
       "-device", "edu,bus=rp1,dma_mask=0xffffffffffffffff"]
MACHINE = "q35,kernel-irqchip=split"


def edu_vm(name="pt", extra="", memory=16):
    return vm_file(name, guest("edu"), memory=memory, extra=extra,
                   more="pci = [ '01:00.0' ]\n")


def victim_vm():
    return vm_file("victim", guest("edu"), memory=16, extra="victim")


def ram_at(log, name):
    m = re.search(r"^hv: vm %s RAM starts at host (0x[0-9a-f]+)$" % name, log, re.M)
    assert m, log
    return int(m.group(1), 16)


def test_edu_dma_and_msi():
    run = qemu(smp=2, machine=MACHINE, modules=[guest("edu"), edu_vm()],
               extra_args=IOMMU + EDU, timeout=300)
    assert run.status == 0, run
    assert "GUEST edu: PASS" in run.log, run
    assert "edu: DMA round trip of 2048 bytes intact, MSI on vector 0x51" in run.log, run
    assert re.search(r"^vm pt: passthrough %s \(1234:11e8, reset by secondary bus reset\)$"
                     % EDU_BDF, run.log, re.M), run
    assert "DMA fault" not in run.log, run


def test_edu_intx():
    """INTx passthrough: edu's INTA (device 0 behind the root port at slot 5: swizzled to
    the port's INTA, GSI 21 by QEMU's _PRT) reaches the guest's IOAPIC pin, level-triggered, the
    host line unmasked again only after the guest's EOI; INTX_DISABLE masks it."""
    run = qemu(smp=2, machine=MACHINE, modules=[guest("edu"), edu_vm(extra="intx")],
               extra_args=IOMMU + EDU, timeout=300)
    assert run.status == 0, run
    assert "GUEST edu: PASS" in run.log, run
    m = re.search(r"^vm pt: passthrough %s INTx: host GSI 21 \(IOAPIC 0 pin 21, remapped\), "
                  r"guest GSI (\d+)$" % EDU_BDF, run.log, re.M)
    assert m, run
    assert "edu: INTx on GSI %s vector 0x52: 3 of 3" % m.group(1) in run.log, run
    assert "DMA fault" not in run.log, run


def test_edu_intx_shared_line():
    """Two edu devices behind root ports at slots 5 and 9 share host GSI 21 (both swizzle
    to INTA of a slot = 1 mod 4), each given to its own VM: each VM gets its own device's
    interrupts (each device's STATUS.INTERRUPT is checked), three each."""
    edu2 = ["-device", "pcie-root-port,id=rp2,chassis=2,slot=2,addr=9",
            "-device", "edu,bus=rp2,dma_mask=0xffffffffffffffff"]
    second = vm_file("pt2", guest("edu"), memory=16, extra="intx",
                     more="pci = [ '02:00.0' ]\n")
    run = qemu(smp=2, machine=MACHINE, timeout=300,
               modules=[guest("edu"), edu_vm(extra="intx"), second],
               extra_args=IOMMU + EDU + edu2, until=r"(GUEST edu: (PASS|FAIL)[\s\S]*){2}")
    for vm, bdf in (("pt", EDU_BDF), ("pt2", "0000:02:00.0")):
        m = re.search(r"^vm %s: passthrough %s INTx: host GSI 21 \(IOAPIC 0 pin 21, "
                      r"remapped\), guest GSI (\d+)$" % (vm, bdf), run.log, re.M)
        assert m, run
        assert "[%s] edu: INTx on GSI %s vector 0x52: 3 of 3" % (vm, m.group(1)) in run.log, run
    assert run.log.count("GUEST edu: PASS") == 2, run
    assert "DMA fault" not in run.log, run


def test_rogue_dma_blocked():
    """The rogue has 2 MiB of RAM (guest-physical 0-2 MiB), so it can name host addresses
    above that: the hypervisor's image (linked at 1 MiB, over 1.5 MiB long: 0x200000 is
    inside it), the victim's RAM, and 4 MiB (past its own end)."""
    # the first boot tells where the victim's RAM lands; the second aims at it (the same
    # layout: no NIC, so nothing asynchronous allocates memory before the VMs are built)
    quiet = IOMMU + EDU + ["-nic", "none"]
    mods = [guest("edu"), victim_vm(), edu_vm(extra="", memory=2)]
    first = qemu(smp=2, machine=MACHINE, modules=mods, extra_args=quiet, timeout=300,
                 until=r"GUEST edu: (PASS|FAIL)")
    victim = ram_at(first.log, "victim")
    assert victim >= 4 << 20, first
    image = re.search(r"^hypervisor image: (\d+) KiB$", first.log, re.M)
    assert image and 0x100000 + int(image.group(1)) * 1024 > 0x200000, first
    targets = [0x200000, victim, 4 << 20]
    rogue = edu_vm(extra="rogue=" + ",".join("%#x" % t for t in targets), memory=2)
    run = qemu(smp=2, machine=MACHINE, modules=[guest("edu"), victim_vm(), rogue],
               extra_args=quiet, timeout=300,
               until=r"GUEST edu: (PASS|FAIL)(.|\n)*victim: intact \d+\n")
    assert ram_at(run.log, "victim") == victim, run
    assert "GUEST edu: PASS" in run.log, run
    for t in targets:
        assert "edu: rogue DMA to %#x done" % t in run.log, run
        assert re.search(r"^vt-d: DMA fault: device %s \(VM pt\), write at %#x: " % (EDU_BDF, t),
                         run.log, re.M), (hex(t), run)
    assert "victim: RAM changed" not in run.log, run
    assert "GUEST edu: FAIL" not in run.log, run
    # the host is unharmed: no panic, and the victim kept checking after the rogue was done
    assert "hv panic" not in run.log, run
    assert re.search(r"GUEST edu: PASS(.|\n)*victim: intact \d+", run.log), run


def test_refused_without_iommu():
    run = qemu(smp=2, machine=MACHINE, modules=[guest("edu"), victim_vm(), edu_vm()],
               extra_args=EDU, timeout=200, until=r"victim: intact 2\n")
    assert re.search(r"^hv: vm pt not started: pci: no device can be passed through: .+$",
                     run.log, re.M), run
    assert "victim: intact 2" in run.log, run


def test_reboot_destroy_create_loop():
    """20 rounds of reboot, destroy and create: each time the device is reset, works (DMA
    and MSI), and no DMA or interrupt fault is ever logged; pci-assignable-list shows it
    given while the VM has it and assignable once destroyed."""
    cfg = edu_vm(extra="stay")
    child = boot([(cfg, guest("edu"))], smp=2, extra_args=IOMMU + EDU, debug_exit=False)
    try:
        child.expect("edu: all checks passed, staying up", timeout=300)
        out = command(child, "pci-list pt")
        assert re.search(r"00:\w\w\.0 1234:11e8 class 00ff00 passthrough %s .*MSI enabled"
                         % EDU_BDF, out), out
        out = command(child, "pci-assignable-list")
        assert re.search(r"^%s 1234:11e8 .* given to vm pt \(reset: secondary bus reset\)"
                         % EDU_BDF, out, re.M), out
        assert re.search(r"^0000:00:02.0 .* not assignable: the hypervisor drives it \(e1000e\)",
                         out, re.M), out
        for i in range(20):
            out = command(child, "reboot pt", expect=r"edu: (all|some) checks \w+", timeout=120)
            assert "all checks passed" in out, (i, out)
            command(child, "destroy pt")
            out = command(child, "pci-assignable-list")
            assert re.search(r"^%s 1234:11e8 .* assignable \(reset: secondary bus reset\)"
                             % EDU_BDF, out, re.M), (i, out)
            out = command(child, "create /boot/vms/pt.cfg", expect=r"edu: (all|some) checks \w+",
                          timeout=120)
            assert "all checks passed" in out, (i, out)
        out = command(child, "dmesg", timeout=60)
        assert "vt-d: DMA fault" not in out and "vt-d: interrupt fault" not in out, out
    finally:
        child.terminate(force=True)


GENERIC = os.path.join(BUILD, "linux-guest-generic")
G_KERNEL, G_INITRD = os.path.join(GENERIC, "vmlinuz"), os.path.join(GENERIC, "initrd.img")


@pytest.mark.skipif(not all(os.path.exists(f) for f in (G_KERNEL, G_INITRD)),
                    reason="no generic Linux guest: run make linux-guest")
def test_e1000e_to_linux():
    """A second e1000e (behind a root port, on its own QEMU user network) kept from the
    hypervisor's driver with pciback= and given to a Debian VM: the stock e1000e driver
    binds it, takes MSI-X, gets a DHCP lease and pings 10.0.2.2."""
    g_kernel, g_initrd = copy(G_KERNEL, "vmlinuz-generic"), copy(G_INITRD, "initrd-generic.img")
    cfg = vm_file("lnx", g_kernel, memory=192,
                  extra="console=ttyS0 quiet hv.net=dhcp hv.ping=10.0.2.2",
                  more='ramdisk = "/boot/vms/initrd-generic.img"\n'
                       "pci = [ '01:00.0' ]\n")
    run = qemu(smp=2, mem="1G", timeout=900, machine=MACHINE, cmdline="pciback=01:00.0",
               modules=[cfg, g_kernel, g_initrd],
               extra_args=IOMMU + ["-device", "pcie-root-port,id=rp1,chassis=1,slot=1,addr=5",
                                   "-netdev", "user,id=pt0",
                                   "-device", "e1000e,bus=rp1,netdev=pt0"])
    assert vm_stops(run.log) == {"lnx": ("poweroff", 0)}, run.log[-6000:]
    assert re.search(r"^pci 0000:01:00.0: 8086:10d3 Ethernet controller \[no driver: kept "
                     r"for VMs \(pciback=\)\]$", run.log, re.M), run
    m = marks(run.log, "lnx")
    assert "LINUX-GUEST-DONE" in m, run.log[-6000:]
    pci = {line.split()[0]: line.split()[1:] for line in m["LINUX-GUEST-PCI"]}
    e1000e = [v for v in pci.values() if v[0] == "8086:10d3"]
    assert e1000e and e1000e[0][2] == "e1000e", pci
    assert m["LINUX-GUEST-NET"][0].startswith("ok eth0 mac=52:54:00:"), m
    irqs = m["LINUX-GUEST-NETIRQS"][0].split()
    assert int(irqs[0]) >= 1 and irqs[1] == "e1000e", irqs
    # e1000e's MSI-X names (MSI would be one vector named eth0)
    assert irqs[2:] == ["PCI-MSI:eth0-rx-0", "PCI-MSI:eth0-tx-0", "PCI-MSI:eth0"], irqs
    assert m["LINUX-GUEST-PING"][0].startswith("ok 10.0.2.2"), m
    assert "vt-d: DMA fault" not in run.log, run


@pytest.mark.skipif(not all(os.path.exists(f) for f in (G_KERNEL, G_INITRD)),
                    reason="no generic Linux guest: run make linux-guest")
def test_nvme_to_linux(tmp_path):
    """An NVMe controller kept from the hypervisor's driver (pciback=) and given to a
    Debian VM: the stock nvme driver reads the whole 4 MiB namespace back with the
    image's sha256."""
    img = tmp_path / "pt-nvme.raw"
    data = b"".join(hashlib.sha256(b"pt-nvme %d" % i).digest() * 16 for i in range(8192))
    img.write_bytes(data)
    g_kernel, g_initrd = copy(G_KERNEL, "vmlinuz-generic"), copy(G_INITRD, "initrd-generic.img")
    cfg = vm_file("nv", g_kernel, memory=192, extra="console=ttyS0 quiet hv.blksha=nvme0n1",
                  more='ramdisk = "/boot/vms/initrd-generic.img"\n'
                       "pci = [ '01:00.0' ]\n")
    run = qemu(smp=2, mem="1G", timeout=900, machine=MACHINE, cmdline="pciback=01:00.0",
               modules=[cfg, g_kernel, g_initrd],
               extra_args=IOMMU + ["-device", "pcie-root-port,id=rp1,chassis=1,slot=1,addr=5",
                                   "-drive", "file=%s,if=none,id=pn,format=raw" % img,
                                   "-device", "nvme,serial=pt1,drive=pn,bus=rp1"])
    assert vm_stops(run.log) == {"nv": ("poweroff", 0)}, run.log[-6000:]
    assert re.search(r"^vm nv: passthrough 0000:01:00.0 \(1b36:0010, reset by \S", run.log,
                     re.M), run
    m = marks(run.log, "nv")
    pci = {line.split()[0]: line.split()[1:] for line in m["LINUX-GUEST-PCI"]}
    nvme = [v for v in pci.values() if v[0] == "1b36:0010"]
    assert nvme and nvme[0][2] == "nvme", pci
    assert m["LINUX-GUEST-BLKSHA"] == ["nvme0n1 size=%d sha=%s" % (
        len(data), hashlib.sha256(data).hexdigest())], m
    assert "vt-d: DMA fault" not in run.log, run
