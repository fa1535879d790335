#!/usr/bin/python3
"""virtio-blk under the hypervisor, counted deterministically (issue 12).

The stock Debian cloud kernel reads 64 MiB from /dev/vdb, a RAM disk made
from a boot module, with O_DIRECT dd (scripts/build-linux-guest.sh's
hv.ddbench): 4 KiB and 64 KiB requests one at a time, and 64 KiB requests
from 8 dd's at once (a queue depth of 8). Under QEMU's `-icount
shift=0,sleep=off` guest time counts instructions (1 ns each), so:

  exits per request     the VM's exits in the dd run less those of a run
                        without it, over the requests it added
  notifies per request  doorbell writes (each one an exit) over requests,
                        from the device's own counters
  ISR reads             reads of the ISR register (none, with MSI-X)
  hv instructions/req   (time under the hypervisor - time on bare QEMU) /
                        requests: the same guest and driver on bare QEMU with
                        QEMU's own virtio-blk-pci costs the guest's share
                        only, QEMU's device model running outside guest time
  ratio                 time under the hypervisor / time on bare QEMU

Prints a table; no thresholds: this is a benchmark, not a test.
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from hvrun import BUILD, ROOT, qemu, vm_file  # noqa: E402

GUEST = os.path.join(BUILD, "linux-guest")
KERNEL, INITRD = os.path.join(GUEST, "vmlinuz"), os.path.join(GUEST, "initrd.img")
DISK, DATA = os.path.join(GUEST, "disk.img"), os.path.join(GUEST, "data.img")
ICOUNT = ("-icount", "shift=0,sleep=off")
# KiB per request, dd's at once, and whether to run the bare QEMU reference
CASES = ((4, 1, True), (64, 1, True), (64, 8, True))

DD = re.compile(r"LINUX-GUEST-DDBENCH bytes=(\d+) ns=(\d+)")
DISKLINE = re.compile(r"^vm bench disk xvdb: (\d+) requests .*?, (\d+) notifies, (\d+) interrupts, "
                      r"(\d+) isr reads", re.M)
EXITS = re.compile(r"^vm bench vcpu 0 exits: total (\d+)", re.M)


def hv_run(append):
    cfg = vm_file("bench", KERNEL, memory=192, extra="console=ttyS0 quiet idle=poll " + append,
                  more='ramdisk = "/boot/vms/initrd.img"\n'
                       "disk = [ 'vdev=xvda, access=rw, target=/boot/vms/disk.img',\n"
                       "         'vdev=xvdb, access=ro, target=/boot/vms/data.img' ]\n")
    run = qemu(smp=2, mem="1G", timeout=1800, extra_args=ICOUNT,
               modules=[cfg, KERNEL, INITRD, DISK, DATA])
    d, e = DISKLINE.search(run.log), EXITS.search(run.log)
    if run.status != 0 or not d or not e:
        sys.exit("bench: the hypervisor run failed:\n" + run.log[-3000:])
    dd = DD.search(run.log)
    return {"ns": int(dd.group(2)) if dd else None, "bytes": int(dd.group(1)) if dd else 0,
            "requests": int(d.group(1)), "notifies": int(d.group(2)),
            "interrupts": int(d.group(3)), "isr": int(d.group(4)), "exits": int(e.group(1))}


def bare_run(append):
    out = subprocess.run([os.path.join(ROOT, "scripts", "qemu-virtio-reference.sh"), "cloud"],
                         env=dict(os.environ, ICOUNT="1", APPEND=append, TIMEOUT="900"),
                         capture_output=True, text=True)
    dd = DD.search(out.stdout)
    if not dd:
        sys.exit("bench: the bare QEMU run failed:\n" + out.stdout[-3000:])
    return int(dd.group(2))


def main():
    base = hv_run("")
    rows = []
    for kib, jobs, reference in CASES:
        append = "hv.ddbench hv.ddbs=%dk hv.ddjobs=%d" % (kib, jobs)
        hv = hv_run(append)
        bare = bare_run(append) if reference else None
        reqs = hv["requests"] - base["requests"]
        rows.append((kib, jobs, reqs, (hv["exits"] - base["exits"]) / reqs,
                     (hv["notifies"] - base["notifies"]) / reqs,
                     (hv["interrupts"] - base["interrupts"]) / reqs, hv["isr"],
                     "%.0f" % ((hv["ns"] - bare) / reqs) if bare else "-", hv["ns"],
                     bare or "-", "%.2f" % (hv["ns"] / bare) if bare else "-"))
    print("virtio-blk, 64 MiB O_DIRECT dd from a RAM disk (cloud kernel; QEMU TCG SVM, "
          "-icount shift=0: 1 ns = 1 instruction)")
    print("%-8s %4s %8s %10s %11s %11s %5s %12s %12s %12s %6s" % (
        "request", "QD", "requests", "exits/req", "notify/req", "irq/req", "ISR",
        "hv insn/req", "hv ns", "bare ns", "ratio"))
    for r in rows:
        print("%-8s %4d %8d %10.2f %11.3f %11.3f %5d %12s %12d %12s %6s" % (
            "%d KiB" % r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10]))


if __name__ == "__main__":
    main()
