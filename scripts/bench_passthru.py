#!/usr/bin/python3
"""Device assignment behind VT-d (issue 15), measured.

Under QEMU TCG with `-icount shift=0,sleep=off` the guest's TSC counts
instructions (1 ns each; a halted machine's clock jumps to the next timer),
so these figures are deterministic path lengths, not wall-clock times.

edu (tests/guests/edu.c, bench=N), the same guest code twice:
  bare  QEMU's edu on bus 0 of a bare q35 machine, no IOMMU, no hypervisor
  hv    edu behind a root port and intel-iommu (intremap=on), passed through
        with `pci = [ '01:00.0' ]` to the guest as a VM of the hypervisor
  msi   the raise register written -> the guest's MSI handler (RDTSC at its
        entry): on hv, QEMU's interrupt remapping, the host's interrupt, the
        hypervisor's exit and injection
  dmairq  a DMA's completion (edu's timer, due on a whole millisecond of
        QEMU's clock, which the TSC is) -> the guest's handler, the guest
        waiting in HLT: on hv the HLT exit, the remapped MSI, the wake-up
  dma   one 2 KiB RAM -> device -> RAM round trip, each half waited for in
        HLT until its completion MSI, less the device's own time (edu's
        DMA engine takes a 100 ms timer per transfer): the guest's driving
        code plus, on hv, what the hypervisor adds. The IOMMU's translation
        of the DMA is QEMU's work, outside guest time under -icount.

NVMe, sequential read: the generic Debian kernel reads the namespace with
`dd bs=1M iflag=direct` (scripts/build-linux-guest.sh's hv.blkbench=seq):
  bare  Linux on bare QEMU, the NVMe controller behind a root port
  hv    the same Linux as a VM, the controller kept from the hypervisor's
        NVMe driver by pciback= and passed through behind intel-iommu
  ratio hv MiB/s over bare MiB/s (the issue's goal: >= 0.9)

  scripts/bench_passthru.py [edu|nvme]   (default: both)

Prints a table; no thresholds: this is a benchmark, not a test. Exits 1
when a run fails.
"""

import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from hvrun import BUILD, guest, qemu, vm_file  # noqa: E402

ICOUNT = ("-icount", "shift=0,sleep=off")
N = int(os.environ.get("BENCH_N", "20"))
NVME_MIB = int(os.environ.get("BENCH_NVME_MIB", "16"))
MACHINE = "q35,kernel-irqchip=split"
IOMMU = ["-device", "intel-iommu,intremap=on,aw-bits=48"]
ROOT_PORT = ["-device", "pcie-root-port,id=rp1,chassis=1,slot=1,addr=5"]
EDU_LINE = re.compile(r"edu bench: (\w+) (\d+) ops, (\d+) tsc, (\d+) per op")
GENERIC = os.path.join(BUILD, "linux-guest-generic")
KERNEL, INITRD = os.path.join(GENERIC, "vmlinuz"), os.path.join(GENERIC, "initrd.img")
BLK = re.compile(r"LINUX-GUEST-BLKBENCH mode=seq dev=(\S+) bytes=(\d+) ns=(\d+) reads=(\d+)")
BLK_FAIL = re.compile(r"LINUX-GUEST-BLKBENCH FAIL.*")


def fail(what, log):
    sys.exit("bench_passthru: %s failed:\n%s" % (what, log[-4000:]))


def edu_figures(log, what):
    got = {m.group(1): int(m.group(4)) for m in EDU_LINE.finditer(log)}
    if "GUEST edu: PASS" not in log or set(got) != {"msi", "dma", "dmairq"}:
        fail(what, log)
    return got


def edu_bare():
    cmd = ["qemu-system-x86_64", "-M", "q35", "-cpu", "max", "-m", "32M", "-display", "none",
           "-serial", "stdio", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-device", "edu,dma_mask=0xffffffffffffffff",
           "-kernel", guest("edu"), "-append", "bench=%d" % N] + list(ICOUNT)
    try:
        out = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             timeout=600)
    except subprocess.TimeoutExpired as e:
        fail("the bare edu run (timed out)", str(e.stdout or ""))
    return edu_figures(out.stdout, "the bare edu run")


def edu_hv():
    cfg = vm_file("pt", guest("edu"), memory=16, extra="bench=%d" % N,
                  more="pci = [ '01:00.0' ]\n")
    run = qemu(smp=2, machine=MACHINE, modules=[guest("edu"), cfg], timeout=900,
               extra_args=tuple(IOMMU + ROOT_PORT + [
                   "-device", "edu,bus=rp1,dma_mask=0xffffffffffffffff"]) + ICOUNT)
    if run.status != 0 or "DMA fault" in run.log:
        fail("the hypervisor's edu run", run.log)
    return edu_figures(run.log, "the hypervisor's edu run")


def blk(log, what):
    m = BLK.search(log)
    if not m:
        f = BLK_FAIL.search(log)
        fail(what + (" (%s)" % f.group(0) if f else " (no LINUX-GUEST-BLKBENCH line)"), log)
    return {"bytes": int(m.group(2)), "ns": int(m.group(3)), "reads": int(m.group(4))}


def nvme_args(img):
    return ROOT_PORT + ["-drive", "file=%s,if=none,id=pn,format=raw" % img,
                        "-device", "nvme,serial=pt1,drive=pn,bus=rp1"]


OPTS = "console=ttyS0 quiet idle=poll hv.blkbench=seq hv.blkdev=nvme0n1 hv.blkmib=%d"


def nvme_bare(img):
    cmd = ["qemu-system-x86_64", "-M", "q35", "-cpu", "max", "-m", "256", "-smp", "1",
           "-display", "none", "-vga", "none", "-nic", "none", "-monitor", "none",
           "-serial", "stdio", "-no-reboot", "-kernel", KERNEL, "-initrd", INITRD,
           "-append", OPTS % NVME_MIB] + nvme_args(img) + list(ICOUNT) + [
               # as the VM's virtio-rng: the initramfs loads its modules (nvme among
               # them) only when a virtio function is on the bus
               "-device", "virtio-rng-pci"]
    try:
        out = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=900)
    except subprocess.TimeoutExpired as e:
        fail("the bare NVMe run (timed out)", (e.stdout or b"").decode(errors="replace"))
    return blk(out.stdout.decode(errors="replace"), "the bare NVMe run")


def nvme_hv(img):
    cfg = vm_file("nv", KERNEL, memory=192, extra=OPTS % NVME_MIB,
                  more='ramdisk = "/boot/vms/initrd.img"\npci = [ \'01:00.0\' ]\n')
    run = qemu(smp=2, mem="1G", timeout=1800, machine=MACHINE, cmdline="pciback=01:00.0",
               modules=[cfg, KERNEL, INITRD],
               extra_args=tuple(IOMMU + nvme_args(img)) + ICOUNT)
    if run.status != 0 or "DMA fault" in run.log or not re.search(
            r"^vm nv: passthrough 0000:01:00.0 ", run.log, re.M):
        fail("the hypervisor's NVMe run", run.log)
    return blk(run.log, "the hypervisor's NVMe run")


def mibs(r):
    return r["bytes"] / (1 << 20) / (r["ns"] / 1e9)


def main():
    which = sys.argv[1:] or ["edu", "nvme"]
    rows = []
    if "edu" in which:
        b, h = edu_bare(), edu_hv()
        rows.append(("edu", b, h))
    nv = None
    if "nvme" in which:
        for f in (KERNEL, INITRD):
            if not os.path.exists(f):
                sys.exit("bench_passthru: no %s: run make linux-guest" % f)
        with tempfile.TemporaryDirectory(prefix="hvbench-pt-") as work:
            img = os.path.join(work, "nvme.raw")
            with open(img, "wb") as f:
                f.truncate((NVME_MIB + 8) << 20)
            nv = (nvme_bare(img), nvme_hv(img))
    print("passthrough behind VT-d (QEMU TCG SVM, intel-iommu intremap=on, "
          "-icount shift=0: TSC = instructions, 1 ns = 1 instruction)")
    if rows:
        _, b, h = rows[0]
        print("%-44s %12s %12s %10s" % ("edu, per operation (%d each)" % N, "bare QEMU",
                                         "hv", "hv - bare"))
        for key, label in (("msi", "MSI: raise -> guest handler"),
                           ("dmairq", "DMA done -> handler (guest in HLT)"),
                           ("dma", "DMA round trip 2x2 KiB, less device time")):
            print("%-44s %12d %12d %10d" % (label, b[key], h[key], h[key] - b[key]))
    if nv:
        b, h = nv
        print("%-44s %12s %12s %10s" % ("NVMe seq read, %d MiB dd bs=1M O_DIRECT" % NVME_MIB,
                                         "bare MiB/s", "hv MiB/s", "ratio"))
        print("%-44s %12.1f %12.1f %10.2f" % ("generic Debian kernel, stock nvme driver",
                                               mibs(b), mibs(h), mibs(h) / mibs(b)))
        print("%-44s %12d %12d" % ("  requests (the guest's sysfs count)", b["reads"], h["reads"]))


if __name__ == "__main__":
    main()
