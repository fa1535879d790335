"""The hypervisor's own AHCI driver (drivers/ahci) on QEMU q35's built-in
ICH9 AHCI at 00:1f.2, where the boot CD-ROM sits too: the CD is reported and
skipped, the SATA disks become sda and sdb in port order with their GPTs read
through the driver, and VMs run the freestanding virtio-blk guest
(tests/guests/vblk.c) on their partitions: checksums match the host's bytes,
a write lands and is restored, and a read-only partition refuses writes.
At the console, `host-poweroff` flushes the disks' write caches.
"""

import os
import re
import shutil
import struct
import subprocess

import pytest

from hvconsole import PROMPT
from hvrun import BUILD, DEBUG_EXIT_PORT, guest, make_iso, qemu, vm_file, vm_stops

MIB = 1024 * 1024
SECTOR = 512
ALPHA = (2048, 2048 + 8192 - 1)  # 4 MiB each, inclusive sector ranges
BETA = (12288, 12288 + 8192 - 1)
ALPHA_UUID = "0a4c1e2d-3b5f-4a6e-9d7c-8b9a0c1d2e3f"
SGDISK = shutil.which("sgdisk") or "/usr/sbin/sgdisk"


def fnv1a(data, h=0x811c9dc5):
    # 32-bit FNV-1a, as tests/guests/lib/virtio.c computes it
    for b in data:
        h = ((h ^ b) * 16777619) & 0xffffffff
    return h


def pattern(nbytes, seed):
    """Distinct little-endian words: a misplaced sector changes the sum."""
    base = (seed * 0x9e3779b9) & 0xffffffff
    return b"".join(struct.pack("<I", (base + i * 2654435761) & 0xffffffff)
                    for i in range(nbytes // 4))


def span(part):
    return (part[1] - part[0] + 1) * SECTOR


def disk_image(name, size_mib, label="vm-alpha", uuid=ALPHA_UUID):
    """A raw image with a GPT (label, vm-beta), both partitions filled; (path, alpha, beta)."""
    if not os.path.exists(SGDISK):
        pytest.skip("sgdisk (package gdisk) is not installed: make deps")
    d = os.path.join(BUILD, "test-vms")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, name)
    with open(path, "wb") as f:
        f.truncate(size_mib * MIB)
    subprocess.run([SGDISK, "-o",
                    "-n", "1:%d:%d" % ALPHA, "-c", "1:" + label, "-u", "1:" + uuid,
                    "-n", "2:%d:%d" % BETA, "-c", "2:vm-beta", "-u", "2:R",
                    path], check=True, stdout=subprocess.DEVNULL)
    alpha, beta = pattern(span(ALPHA), 31), pattern(span(BETA), 32)
    with open(path, "r+b") as f:
        f.seek(ALPHA[0] * SECTOR)
        f.write(alpha)
        f.seek(BETA[0] * SECTOR)
        f.write(beta)
    return path, alpha, beta


def sata(path, drive_id, port):
    # the boot CD (-cdrom) is ide.2 on q35; ports 1 and 3 carry the disks
    return ["-drive", "file=%s,if=none,id=%s,format=raw" % (path, drive_id),
            "-device", "ide-hd,drive=%s,bus=ide.%d" % (drive_id, port)]


def disk_line(target, access="rw"):
    return "disk = [ 'format=raw, vdev=xvda, access=%s, target=%s' ]\n" % (access, target)


def sum_re(vm, data):
    return re.compile(r"\[%s\] vblk: disk \d+ capacity=%d sum=%08x over %d$" % (
        re.escape(vm), len(data) // SECTOR, fnv1a(data), len(data)), re.M)


def test_disks_and_vms_on_their_partitions():
    """sda and sdb (both with a GPT) come up with MSI; three VMs at once:
    alpha sums and writes its sda partition (by UUID), beta sums its own
    read-only (sda2), gamma sums a partition of sdb (by label) three times."""
    img0, alpha, beta = disk_image("ahci-d0.img", 64)
    img1, alpha1, _ = disk_image("ahci-d1.img", 32, "vm-gamma", "R")
    before = open(img0, "rb").read()
    g = guest("vblk")
    cfgs = [
        vm_file("sa-alpha", g, extra="sum=4 tail write", more=disk_line("partuuid:" + ALPHA_UUID)),
        vm_file("sa-beta", g, extra="sum=4 ro", more=disk_line("sda2", "ro")),
        vm_file("sa-gamma", g, extra="sum=4 passes=3", more=disk_line("partlabel:vm-gamma")),
    ]
    args = ["-nic", "none"] + sata(img0, "d0", 1) + sata(img1, "d1", 3)
    run = qemu(smp=2, mem="512M", modules=cfgs + [g], extra_args=args, timeout=180)
    log = run.log
    assert ("ahci0 port 2: an ATAPI device (CD/DVD) (signature 0xeb140101), not used"
            in log), run
    assert re.search(r"^ahci0: AHCI 1\.0, 6 ports \(PI 0x0000003f\), 32 command slots, 64-bit "
                     r"DMA, NCQ yes \(not used\), 2 disks, MSI$", log, re.M), run
    assert ("sda: QEMU HARDDISK (serial QM00003), 64.0 MiB, 512-byte sectors, write cache: yes,"
            " port 1 of ahci0 (MSI)") in log, run
    assert ("sdb: QEMU HARDDISK (serial QM00007), 32.0 MiB, 512-byte sectors, write cache: yes,"
            " port 3 of ahci0 (MSI)") in log, run
    assert re.search(r"^blk: sda: 64\.0 MiB, GPT with 2 partitions", log, re.M), run
    assert re.search(r"^blk: sdb: 32\.0 MiB, GPT with 2 partitions", log, re.M), run
    assert re.search(r"^pci 0000:00:1f\.2: 8086:2922 SATA controller \(AHCI\) "
                     r"\[driver ahci: ahci0\]$", log, re.M), run
    assert vm_stops(log) == {"sa-alpha": ("exit-port", 0), "sa-beta": ("exit-port", 0),
                             "sa-gamma": ("exit-port", 0)}, run
    assert sum_re("sa-alpha", alpha).search(log), run
    assert sum_re("sa-beta", beta).search(log), run
    assert len(sum_re("sa-gamma", alpha1).findall(log)) == 3, run
    assert "[sa-alpha] vblk: reads past the end refused" in log, run
    assert "[sa-alpha] vblk: wrote, read back and restored sectors 8-15" in log, run
    assert "[sa-beta] vblk: write to the read-only disk refused, sectors unchanged" in log, run
    assert "timed out" not in log and "failed:" not in log, run
    assert run.status == 0, run
    # what the guest wrote it restored: the image is as it was
    assert open(img0, "rb").read() == before


def test_poweroff_flushes_the_write_cache():
    """A VM writes (and restores) sectors of its partition; `host-poweroff`
    then flushes sda's write cache (FLUSH CACHE EXT) before the machine goes."""
    import pexpect
    img0, alpha, _ = disk_image("ahci-flush.img", 64)
    g = guest("vblk")
    cfg = vm_file("sa-flush", g, extra="sum=1 write", more=disk_line("partlabel:vm-alpha"))
    iso = make_iso("", [cfg, g])
    child = pexpect.spawn("qemu-system-x86_64", [
        "-machine", "q35,accel=tcg", "-cpu", "max", "-smp", "2", "-m", "512M",
        "-display", "none", "-no-reboot", "-monitor", "none", "-nic", "none",
        "-chardev", "stdio,id=com1,signal=off", "-serial", "chardev:com1",
        "-device", "isa-debug-exit,iobase=0x%x,iosize=0x04" % DEBUG_EXIT_PORT,
        "-cdrom", iso, "-boot", "d"] + sata(img0, "d0", 1),
        encoding="utf-8", codec_errors="replace", timeout=60)
    log = ""
    try:
        child.expect(r"vm sa-flush stopped: \S+ code=\d+", 120)
        log += child.before + child.after
        child.send("\r")
        child.expect_exact(PROMPT, timeout=30)
        child.send("host-poweroff\r")
        child.expect(r"\[y/N\] ", timeout=30)
        child.send("y\r")
        child.expect(r"sda: write cache (flushed|flush \w+[^\n]*)", timeout=60)
        log += child.before + child.after
        child.expect(pexpect.EOF, timeout=60)
    finally:
        child.terminate(force=True)
    log = log.replace("\r", "")
    assert "[sa-flush] vblk: wrote, read back and restored sectors 8-15" in log, log
    assert "sda: write cache flushed" in log, log


def test_linux_on_ahci_disks():
    """The cloud Debian kernel with its ext4 disk on sda (whole) and the raw
    data disk on sdb (read-only): Linux's own I/O patterns (several requests
    in flight, large ones) through the driver; every file's sha256 as built,
    a new file survives a remount, the data disk's first MiB as on the host."""
    from test_linux_virtio import DATA, DISK, INITRD, KERNEL, check_virtio, copy
    for f in (KERNEL, INITRD, DISK, DATA):
        if not os.path.exists(f):
            pytest.skip("no Linux guest or disk images: run make linux-guest")
    disk, data = copy(DISK, "ahci-linux-disk.img"), copy(DATA, "ahci-linux-data.img")
    more = ('ramdisk = "/boot/vms/%s"\n' % os.path.basename(INITRD) +
            "disk = [ 'format=raw, vdev=xvda, access=rw, target=sda',\n"
            "         'vdev=xvdb, access=ro, target=sdb' ]\n"
            "virtio_console = 1\n")
    cfg = vm_file("sa-linux", KERNEL, memory=192, extra="console=ttyS0 quiet", more=more)
    args = ["-nic", "none"] + sata(disk, "d0", 1) + sata(data, "d1", 3)
    run = qemu(smp=2, mem="1G", timeout=400, modules=[cfg, KERNEL, INITRD], extra_args=args)
    assert vm_stops(run.log) == {"sa-linux": ("poweroff", 0)}, run
    check_virtio(run.log, "sa-linux", data)
    assert "timed out" not in run.log and "failed:" not in run.log, run
    assert run.status == 0, run


def test_uefi_and_a_second_controller():
    """OVMF leaves the built-in AHCI's ports running on its own memory: they
    are stopped and taken over. A second controller (ich9-ahci at 00:06.0)
    comes first in PCI order: it is ahci0 and its disk sda; the built-in one
    (00:1f.2, with the CD) is ahci1 and its disk sdb. VMs on both run."""
    img0, alpha, _ = disk_image("ahci-u0.img", 64)
    img1, gamma, _ = disk_image("ahci-u1.img", 32, "vm-gamma", "R")
    g = guest("vblk")
    cfgs = [vm_file("sa-alpha", g, extra="sum=4 write", more=disk_line("partlabel:vm-alpha")),
            vm_file("sa-gamma", g, extra="sum=4", more=disk_line("partlabel:vm-gamma"))]
    args = (["-nic", "none", "-device", "ich9-ahci,id=ah,addr=6"] + sata(img0, "d0", 1) +
            ["-drive", "file=%s,if=none,id=d1,format=raw" % img1,
             "-device", "ide-hd,drive=d1,bus=ah.0"])
    run = qemu(smp=2, mem="512M", firmware="uefi", modules=cfgs + [g], extra_args=args,
               timeout=180)
    log = run.log
    assert re.search(r"^sda: QEMU HARDDISK \(serial \w+\), 32\.0 MiB, .* port 0 of ahci0 "
                     r"\(MSI\)$", log, re.M), run
    assert re.search(r"^sdb: QEMU HARDDISK \(serial \w+\), 64\.0 MiB, .* port 1 of ahci1 "
                     r"\(MSI\)$", log, re.M), run
    assert "ahci1 port 2: an ATAPI device (CD/DVD)" in log, run
    assert re.search(r"^pci 0000:00:06\.0: 8086:2922 SATA controller \(AHCI\) "
                     r"\[driver ahci: ahci0\]$", log, re.M), run
    assert re.search(r"^pci 0000:00:1f\.2: 8086:2922 SATA controller \(AHCI\) "
                     r"\[driver ahci: ahci1\]$", log, re.M), run
    assert vm_stops(log) == {"sa-alpha": ("exit-port", 0), "sa-gamma": ("exit-port", 0)}, run
    assert sum_re("sa-alpha", alpha).search(log), run
    assert sum_re("sa-gamma", gamma).search(log), run
    assert run.status == 0, run


def test_a_failing_sector():
    """QEMU's blkdebug fails reads of one sector with EIO: the command that
    covers it fails (TFES), its request gets an I/O error, the port is reset
    and goes on; a VM on the other partition reads its data unharmed. (QEMU
    7.2 also clears the failed command's PxCI bit: it must not pass for done.)"""
    img0, _, beta = disk_image("ahci-e0.img", 64)
    rules = os.path.join(BUILD, "test-vms", "ahci-blkdebug.cfg")
    with open(rules, "w") as f:
        f.write('[inject-error]\nevent = "read_aio"\nerrno = "5"\nsector = "%d"\n'
                'once = "off"\n' % (ALPHA[0] + 1000))
    g = guest("vblk")
    cfgs = [vm_file("sa-bad", g, extra="sum=4", more=disk_line("partlabel:vm-alpha")),
            vm_file("sa-good", g, extra="sum=4 passes=4", more=disk_line("sda2", "ro"))]
    args = ["-nic", "none",
            "-drive", "file=blkdebug:%s:%s,if=none,id=d0,format=raw,rerror=report,"
                      "werror=report" % (rules, img0),
            "-device", "ide-hd,drive=d0,bus=ide.1"]
    run = qemu(smp=2, mem="512M", modules=cfgs + [g], extra_args=args, timeout=180)
    log = run.log
    assert re.search(r"^sda: (READ DMA EXT of \d+ sectors at LBA \d+|a command \(one of \d+, "
                     r"re-run one at a time\)) failed: status 0x41 error 0x04 \(ABRT\), "
                     r"PxIS 0x4\w+ SERR 0x\w+; resetting the port$", log, re.M), run
    assert re.search(r"^\[sa-bad\] GUEST vblk: FAIL read sector \d+ \(65536 bytes\): used, "
                     r"status 1, want 0", log, re.M), run
    assert vm_stops(log) == {"sa-bad": ("exit-port", 1), "sa-good": ("exit-port", 0)}, run
    assert len(sum_re("sa-good", beta).findall(log)) == 4, run
    assert "offline" not in log, run
