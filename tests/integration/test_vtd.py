"""VT-d (kernel/iommu/) under QEMU TCG's intel-iommu on q35.

The unit is found in the DMAR table, checked and reported in words
(`vt-d: ...` boot lines, `iommu` lines in the boot report); the hypervisor's
own NVMe and e1000e drivers keep working with DMA remapping on (their DMA in
the hypervisor domain) and interrupt remapping on (their MSI-X through
IRTEs); `test_iommu` has QEMU's edu device copy a page inside the
hypervisor domain, then read the hypervisor image and, blocked, write a
host frame: both are refused, logged as DMA faults naming the device, and
memory is unchanged; in a VM's domain (made from a guest-physical map as
device assignment makes them) it copies between guest-physical pages, and a
write past the VM's RAM faults naming the VM; edu's MSI arrives through an
IRTE, and its INTx through the host IOAPIC with a remappable RTE. Without
intel-iommu the boot says so and everything else runs.

QEMU wants intel-iommu before the other PCI devices on its command line.
"""

import re

import pytest

from hvrun import qemu

DONE = r"hv: exit status \d+"
IOMMU = ["-device", "intel-iommu,intremap=on,aw-bits=48"]
MACHINE = "q35,kernel-irqchip=split"


def disks(tmp_path):
    img = tmp_path / "n0.raw"
    with open(img, "wb") as f:
        f.truncate(64 << 20)
    return ["-drive", "file=%s,if=none,id=n0,format=raw" % img,
            "-device", "nvme,serial=hv0,drive=n0,addr=4"]


def nic():
    return ["-nic", "none", "-netdev", "user,id=n1", "-device", "e1000e,netdev=n1,addr=5"]


def test_host_drivers_behind_the_iommu(tmp_path):
    run = qemu(smp=2, machine=MACHINE, cmdline="test_nvme test_net=16 mgmt=off",
               extra_args=IOMMU + nic() + disks(tmp_path), timeout=240, until=DONE)
    assert run.status == 0, run
    # the unit, its features in words, both kinds of remapping on
    assert re.search(r"^vt-d: DMAR: 1 unit, 0 reserved regions \(RMRR\), 0 ATS root-port sets, "
                     r"48-bit host addresses, interrupt remapping offered$", run.log, re.M), run
    assert re.search(r"^vt-d: unit 0 at 0xfed90000 \(version 1\.0, cap 0x[0-9a-f]+, "
                     r"ecap 0x[0-9a-f]+\): 48-bit tables \(4 levels\), 4K\+2M\+1G pages, "
                     r"\d+ domains, queued invalidation, interrupt remapping \(xAPIC only: "
                     r"no EIM\)", run.log, re.M), run
    assert "vt-d: unit 0: DMA remapping on; interrupt remapping on (xAPIC format)" in run.log, run
    assert re.search(r"^vt-d: hypervisor domain: identity over \d+ MiB of RAM; other devices "
                     r"blocked$", run.log, re.M), run
    rep = run.report()
    assert rep["iommu"].startswith("VT-d, DMA remapping on (1 of 1 unit), interrupt remapping "
                                   "on; 3 devices in the hypervisor domain"), rep
    assert "IRTEs xAPIC; 0 faults" in rep["iommu unit 0"], rep
    # the drivers work: NVMe I/O (MSI-X, DMA into host pages), e1000e ARP round trips
    assert "[driver nvme: nvme0]" in run.log and "[driver e1000e: eth0]" in run.log, run
    assert "nvme selftest: nvme0n1: ok" in run.log, run
    assert "net-test: eth0: 16 of 16 ARP round trips ok" in run.log, run
    m = re.search(r"^net: eth0: stopped: .* (\d+) interrupts$", run.log, re.M)
    assert m and int(m.group(1)) >= 16, run
    assert "fault" not in run.log.split("hv: boot report end")[1], run


@pytest.mark.parametrize("firmware", ["bios", "uefi"])
def test_dma_outside_the_domain_is_blocked_and_logged(firmware):
    args = IOMMU + ["-nic", "none", "-device", "edu,dma_mask=0xffffffff"]
    run = qemu(smp=2, machine=MACHINE, firmware=firmware, cmdline="test_iommu", extra_args=args,
               timeout=300, until=DONE)
    assert run.status == 0, run
    assert "iommu selftest: DMA in the hypervisor domain: ok" in run.log, run
    assert re.search(r"^vt-d: DMA fault: device 0000:00:0[0-9a-f]\.0 \(the hypervisor's\), read "
                     r"at 0x100000: read of a page not mapped$", run.log, re.M), run
    assert "iommu selftest: DMA read of the hypervisor image at 0x100000: blocked" in run.log, run
    assert re.search(r"^vt-d: DMA fault: device 0000:00:0[0-9a-f]\.0 \(unassigned, blocked\), "
                     r"write at 0x[0-9a-f]+: context entry not present \(device blocked\)$",
                     run.log, re.M), run
    assert "iommu selftest: DMA write by a blocked device: blocked, memory unchanged" in run.log
    # a storm: each (device, reason) once per burst, the rest counted when it calms down
    assert "vt-d: unit 0: 8 more faults in that burst, not logged" in run.log, run
    assert "iommu selftest: a burst of 8 faults: summed up" in run.log, run
    assert len(re.findall(r"\(unassigned, blocked\), write at", run.log)) == 1, run
    # a VM's domain: guest-physical addresses reach its RAM; past it, a fault naming the VM
    assert "iommu selftest: DMA to guest-physical 0x203000 in a VM's domain: ok" in run.log, run
    assert re.search(r"^vt-d: DMA fault: device 0000:00:0[0-9a-f]\.0 \(VM selftest\), write at "
                     r"0x400000: write to a page not mapped, or mapped read-only$", run.log, re.M), run
    assert "iommu selftest: DMA past the VM's RAM: blocked" in run.log, run
    # a page taken out of the domain: the unit's cached translation is invalidated (PSI)
    assert "iommu selftest: DMA after the page left the VM's domain: blocked" in run.log, run
    assert re.search(r"^iommu selftest: edu MSI through an IRTE \(address 0xfee[0-9a-f]{5}\): "
                     r"delivered$", run.log, re.M), run
    # INTx through the host IOAPIC with a remappable, level-triggered RTE; the EOI comes back
    assert re.search(r"^iommu selftest: edu INTx \(GSI \d+\) through a remappable RTE "
                     r"\(0x[0-9a-f]+\): 2 of 2 delivered$", run.log, re.M), run
    assert "iommu selftest: ok" in run.log, run


def test_without_an_iommu_the_host_runs(tmp_path):
    run = qemu(smp=2, machine="q35", cmdline="test_nvme mgmt=off",
               extra_args=["-nic", "none"] + disks(tmp_path), timeout=240, until=DONE)
    assert run.status == 0, run
    assert ("vt-d: no DMAR table: the firmware has VT-d off or the machine has none; device DMA "
            "is not checked and no device can be given to a VM") in run.log, run
    assert run.report()["iommu"] == ("off: no DMAR table: the firmware has VT-d off or the "
                                     "machine has none"), run
    assert "nvme selftest: nvme0n1: ok" in run.log, run


def test_selftest_says_why_without_an_iommu():
    run = qemu(smp=1, machine="q35", cmdline="test_iommu",
               extra_args=["-nic", "none", "-device", "edu"], timeout=120, until=DONE)
    assert run.status == 0, run
    assert ("iommu selftest: skipped: no DMAR table: the firmware has VT-d off or the machine "
            "has none") in run.log, run


def test_register_based_invalidation(tmp_path):
    """iommu=no-qinval: the bring-up path (CCMD and IOTLB registers). Interrupt
    remapping needs the queue, so it is off and the MSIs are plain; DMA remapping,
    blocking and the drivers work the same (QEMU caches context entries, so a
    missing invalidation would let the blocked write through)."""
    args = IOMMU + nic() + disks(tmp_path) + ["-device", "edu,dma_mask=0xffffffff"]
    run = qemu(smp=2, machine=MACHINE, cmdline="iommu=no-qinval test_iommu test_nvme test_net=8 "
               "mgmt=off", extra_args=args, timeout=240, until=DONE)
    assert run.status == 0, run
    assert ("vt-d: unit 0: DMA remapping on; interrupt remapping off (iommu=no-intremap)"
            not in run.log), run
    assert ("vt-d: unit 0: DMA remapping on; no interrupt remapping (it needs queued "
            "invalidation)") in run.log, run
    assert "vt-d: unit 0: invalidation through the registers (iommu=no-qinval)" in run.log, run
    assert "iommu selftest: DMA write by a blocked device: blocked, memory unchanged" in run.log
    assert "iommu selftest: DMA after the page left the VM's domain: blocked" in run.log, run
    assert "iommu selftest: interrupt remapping is off for edu; MSI not checked" in run.log, run
    assert "iommu selftest: ok" in run.log, run
    assert "nvme selftest: nvme0n1: ok" in run.log, run
    assert "net-test: eth0: 8 of 8 ARP round trips ok" in run.log, run


def test_iommu_off_on_the_command_line():
    run = qemu(smp=1, machine=MACHINE, cmdline="iommu=off test_iommu",
               extra_args=IOMMU + ["-nic", "none", "-device", "edu"], timeout=120, until=DONE)
    assert run.status == 0, run
    assert "vt-d: VT-d is turned off on the command line (iommu=off)" in run.log, run
    assert "iommu selftest: skipped: VT-d is turned off on the command line" in run.log, run


def test_iommu_verb():
    from hvconsole import PROMPT, boot, command
    child = boot([], smp=2, debug_exit=False, cmdline="mgmt=off",
                 extra_args=IOMMU + nic() + ["-device", "edu,addr=6"])
    try:
        child.expect_exact(PROMPT, timeout=90)
        out = command(child, "iommu")
        assert re.search(r"^iommu: VT-d, DMA remapping on \(1 of 1 unit\), interrupt remapping on; "
                         r"2 devices in the hypervisor domain, 0 in VMs, the rest blocked\r*$",
                         out, re.M), out
        assert re.search(r"^iommu unit 0: at 0xfed90000, 48-bit tables .*; IRTEs xAPIC; 0 faults\r*$",
                         out, re.M), out
        # e1000e: hypervisor domain, its MSI-X vectors remapped; edu: nobody's, blocked
        assert re.search(r"^0000:00:05\.0: unit 0, hypervisor domain, \d+ remapped interrupts\r*$",
                         out, re.M), out
        assert re.search(r"^0000:00:06\.0: unit 0, blocked\r*$", out, re.M), out
    finally:
        child.terminate(force=True)


def test_nics_behind_bridges():
    """DMAR sub-hierarchy scopes resolved through the bridges' bus numbers: an e1000e
    behind a root port, and one behind a PCIe-to-PCI bridge, whose DMA and MSIs arrive
    with the bridge's source-id (bus 3, devfn 0) and need that context entry too."""
    args = IOMMU + ["-nic", "none",
                    "-device", "pcie-root-port,id=rp1,chassis=1,slot=1,addr=5",
                    "-device", "pcie-root-port,id=rp2,chassis=2,slot=2,addr=6",
                    "-device", "pcie-pci-bridge,id=br1,bus=rp2",
                    "-netdev", "user,id=n0", "-device", "e1000e,netdev=n0,bus=rp1",
                    "-netdev", "user,id=n1", "-device", "e1000e,netdev=n1,bus=br1,addr=3"]
    run = qemu(smp=2, machine=MACHINE, cmdline="test_net=8 mgmt=off", extra_args=args,
               timeout=240, until=DONE)
    assert run.status == 0, run
    assert "[driver e1000e: eth0]" in run.log and "[driver e1000e: eth1]" in run.log, run
    assert re.search(r"^net: eth1: e1000e \S+ at 0000:03:03\.0", run.log, re.M), run
    assert "net-test: eth0: 8 of 8 ARP round trips ok" in run.log, run
    assert "net-test: eth1: 8 of 8 ARP round trips ok" in run.log, run
    assert "3 devices in the hypervisor domain" in run.report()["iommu"], run
    assert "fault" not in run.log.split("hv: boot report end")[1], run
