#!/usr/bin/python3
"""A host NVMe partition through the hypervisor, against bare QEMU (issue 13).

The stock Debian cloud kernel reads a GPT partition (vm-alpha of
scripts/build-gpt-disk.sh's disk, 64 MiB) past the page cache
(scripts/build-linux-guest.sh's hv.blkbench):
  seq   48 MiB by `dd bs=1M iflag=direct`
  rand  2048 reads of 4 KiB at pseudo-random aligned offsets over the
        partition, one at a time (blkread, O_DIRECT, one process)
in three set-ups, each under QEMU TCG with `-icount shift=0,sleep=off`, where
guest time counts instructions (1 ns each) and QEMU's device models run
outside it:
  hv          the hypervisor drives QEMU's NVMe controller; the VM's
              /dev/vda is the partition (`target=partlabel:vm-alpha`)
              through the hypervisor's virtio-blk
  bare nvme   the same Linux on bare QEMU reading the partition on the same
              NVMe namespace with its own NVMe driver (/dev/nvme0n1p1)
  bare virtio the same Linux on bare QEMU with QEMU's virtio-blk over the
              partition (/dev/vda): the same guest driver as under the
              hypervisor, the device model free
and reports
  MiB/s         bytes over guest time
  ratio         hv MiB/s over bare-nvme MiB/s (the issue's goal: >= 0.8 for seq)
  requests      the requests the hypervisor's virtio-blk served for the read
                (its own counter, less a run that boots the same way and
                reads nothing), and the guest's own count (sysfs) on each
                bare set-up
  exits/req     the VM's exits in the read run less the baseline's, per request
  hv insn/req   (hv ns - bare virtio ns) / requests, as bench_virtio.py
                measures virtio-blk: the instructions the hypervisor adds to
                each request (exits, virtio-blk, partition view, NVMe driver,
                interrupts)

  scripts/bench_storage.py [--bare]   (--bare: the two bare-QEMU set-ups only)

Prints a table; no thresholds: this is a benchmark, not a test. Exits 1 when
a run fails (the hypervisor's half needs the host NVMe driver and
partition targets).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import gptdisk  # noqa: E402
from hvrun import BUILD, qemu, vm_file  # noqa: E402

GUEST = os.path.join(BUILD, "linux-guest")
KERNEL, INITRD = os.path.join(GUEST, "vmlinuz"), os.path.join(GUEST, "initrd.img")
ICOUNT = ("-icount", "shift=0,sleep=off")
SEQ_MIB = 48
RAND_READS = 2048
CASES = (("seq", "1 MiB seq", "hv.blkmib=%d" % SEQ_MIB),
         ("rand", "4 KiB rand", "hv.blkreads=%d" % RAND_READS))

BENCH = re.compile(r"LINUX-GUEST-BLKBENCH mode=(\w+) dev=(\S+) bytes=(\d+) ns=(\d+) reads=(\d+)")
BENCH_FAIL = re.compile(r"LINUX-GUEST-BLKBENCH FAIL.*")
DISKLINE = re.compile(r"^vm bench disk xvda: (\d+) requests", re.M)
EXITS = re.compile(r"^vm bench vcpu 0 exits: total (\d+)", re.M)


class Failed(Exception):
    pass


def result(log, what):
    m = BENCH.search(log)
    if not m:
        f = BENCH_FAIL.search(log)
        raise Failed("%s: %s\n%s" % (what, f.group(0) if f else "no LINUX-GUEST-BLKBENCH line",
                                     log[-3000:]))
    return {"bytes": int(m.group(3)), "ns": int(m.group(4)), "reads": int(m.group(5))}


def bare(img, part, mode, opts, nvme):
    """The cloud kernel on bare QEMU: NVMe (Linux's own driver) or virtio-blk over the partition."""
    if nvme:
        disk = ["-drive", "file=%s,if=none,id=n0,format=raw" % img,
                "-device", "nvme,serial=hvbench0,drive=n0"]
        dev = "nvme0n1p%d" % part.number
    else:
        disk = ["-drive", "file=%s,if=none,id=d0,format=raw,offset=%d,size=%d" % (
            img, part.offset, part.size),
                "-device", "virtio-blk-pci,drive=d0,disable-legacy=on,disable-modern=off"]
        dev = "vda"
    cmd = ["qemu-system-x86_64", "-M", "q35", "-cpu", "max", "-m", "256", "-smp", "1",
           "-display", "none", "-vga", "none", "-nic", "none", "-monitor", "none",
           "-serial", "stdio", "-no-reboot", "-kernel", KERNEL, "-initrd", INITRD,
           "-append", "console=ttyS0 quiet idle=poll hv.blkbench=%s hv.blkdev=%s %s" % (
               mode, dev, opts)] + disk + list(ICOUNT)
    try:
        out = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=900)
    except subprocess.TimeoutExpired as e:
        raise Failed("bare %s %s: timed out\n%s" % ("nvme" if nvme else "virtio", mode,
                                                   (e.stdout or b"")[-3000:].decode(errors="replace")))
    return result(out.stdout.decode(errors="replace"), "bare %s %s" % (
        "nvme" if nvme else "virtio", mode))


def hv(img, mode, opts):
    """The same Linux as a VM whose /dev/vda is vm-alpha, the hypervisor driving the NVMe."""
    cfg = vm_file("bench", KERNEL, memory=192,
                  extra="console=ttyS0 quiet idle=poll hv.blkbench=%s %s" % (mode, opts),
                  more='ramdisk = "/boot/vms/initrd.img"\n'
                       "disk = [ 'vdev=xvda, access=ro, target=partlabel:vm-alpha' ]\n")
    run = qemu(smp=2, mem="1G", timeout=1800, modules=[cfg, KERNEL, INITRD],
               extra_args=ICOUNT + ("-drive", "file=%s,if=none,id=n0,format=raw" % img,
                                    "-device", "nvme,serial=hvbench0,drive=n0"))
    d, e = DISKLINE.search(run.log), EXITS.search(run.log)
    if run.status != 0 or not d or not e:
        raise Failed("the hypervisor run (hv.blkbench=%s) failed:\n%s" % (mode, run.log[-3000:]))
    out = result(run.log, "hv " + mode) if mode != "none" else {}
    out.update(requests=int(d.group(1)), exits=int(e.group(1)))
    return out


def mibs(r):
    return r["bytes"] / (1 << 20) / (r["ns"] / 1e9)


def main():
    bare_only = "--bare" in sys.argv[1:]
    for f in (KERNEL, INITRD):
        if not os.path.exists(f):
            sys.exit("bench_storage: no %s: run make linux-guest" % f)
    work = tempfile.mkdtemp(prefix="hvbench-storage-")
    failed = None
    rows = []
    try:
        img = gptdisk.build(os.path.join(work, "disk.img"))
        alpha = gptdisk.read_table(img)["vm-alpha"]
        base = None
        for mode, label, opts in CASES:
            row = {"label": label,
                   "nvme": bare(img, alpha, mode, opts, nvme=True),
                   "virtio": bare(img, alpha, mode, opts, nvme=False)}
            if not bare_only and not failed:
                try:
                    if base is None:
                        base = hv(img, "none", "")
                    row["hv"] = hv(img, mode, opts)
                except Failed as e:
                    failed = str(e)
            rows.append(row)
    except Failed as e:
        failed = str(e)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("storage: a 64 MiB GPT partition on QEMU's NVMe, read by the cloud kernel "
          "(O_DIRECT; QEMU TCG SVM, -icount shift=0: 1 ns = 1 instruction)")
    print("%-11s %9s %9s %9s %6s %9s %9s %10s %12s" % (
        "reads", "hv MiB/s", "nvme", "virtio", "ratio", "requests", "exits/req",
        "insn/req", "bare reqs"))
    for r in rows:
        n, v, h = r["nvme"], r["virtio"], r.get("hv")
        if h:
            reqs = h["requests"] - base["requests"]
            hv_cols = ("%9.1f" % mibs(h), "%6.2f" % (mibs(h) / mibs(n)), "%9d" % reqs,
                       "%9.2f" % ((h["exits"] - base["exits"]) / reqs),
                       "%10.0f" % ((h["ns"] - v["ns"]) / reqs))
        else:
            hv_cols = ("%9s" % "-", "%6s" % "-", "%9s" % "-", "%9s" % "-", "%10s" % "-")
        print("%-11s %s %9.1f %9.1f %s %s %s %s %12s" % (
            r["label"], hv_cols[0], mibs(n), mibs(v), hv_cols[1], hv_cols[2], hv_cols[3],
            hv_cols[4], "%d/%d" % (n["reads"], v["reads"])))
    print("(nvme, virtio: bare QEMU; ratio: hv over bare nvme; insn/req: hv over bare virtio; "
          "bare reqs: nvme/virtio, the guest's count)")
    if bare_only:
        print("(--bare: the hypervisor's half not run)")
    if failed:
        sys.exit("bench_storage: " + failed)


if __name__ == "__main__":
    main()
