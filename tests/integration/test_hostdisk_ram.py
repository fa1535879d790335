"""VM disks on GPT partitions of a host disk (project issue 13), where the
host disk is a boot module made one by `hostdisk=` (ram0): the block layer,
the GPT reader, target resolution, claims and the verbs, on emulators that
have no NVMe or AHCI controller for the hypervisor to drive.

The test builds a raw image with sgdisk holding two labelled partitions, each
filled with a known pattern, boots with it as a module and
`hostdisk=/boot/vms/NAME`, and runs the freestanding virtio-blk guest
(tests/guests/vblk.c) on `target=partlabel:vm-alpha`: its checksum of the
disk is the host's of that partition's bytes, a read past the partition's end
is refused, and a write lands and is restored. VMs whose targets cannot be
had (a label that does not exist, a partition another VM writes, the whole
disk under it) are refused with their reasons while the others run.
"""

import os
import re
import shutil
import struct
import subprocess

import pytest

from hvconsole import PROMPT, command
from hvrun import BUILD, DEBUG_EXIT_PORT, bochs, guest, make_iso, qemu, vm_file, vm_stops

KIB = 1024
SECTOR = 512
IMAGE_BYTES = 4 * 1024 * KIB
# sectors of each partition (inclusive), small so the VT-x run under Bochs stays short
ALPHA = (2048, 2559)
BETA = (4096, 4607)
ALPHA_UUID = "3b6f4c1e-8a2d-4e5f-9c7b-1a2b3c4d5e6f"
BETA_UUID = "5d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
SGDISK = shutil.which("sgdisk") or "/usr/sbin/sgdisk"


def fnv1a(data, h=0x811c9dc5):
    # 32-bit FNV-1a, as tests/guests/lib/virtio.c computes it
    for b in data:
        h = ((h ^ b) * 16777619) & 0xffffffff
    return h


def pattern(nbytes, seed):
    """xorshift32 words: every sector differs, so a misplaced read changes the sum."""
    x = (seed * 0x9e3779b9) & 0xffffffff
    out = bytearray(nbytes)
    for i in range(nbytes // 4):
        x ^= (x << 13) & 0xffffffff
        x ^= x >> 17
        x ^= (x << 5) & 0xffffffff
        struct.pack_into("<I", out, 4 * i, x)
    return bytes(out)


def span(part):
    return (part[1] - part[0] + 1) * SECTOR


def gpt_image(name, damage_primary=False):
    """A 4 MiB raw image with a GPT (vm-alpha, vm-beta) made by sgdisk; (path, alpha, beta)."""
    if not os.path.exists(SGDISK):
        pytest.skip("sgdisk (package gdisk) is not installed: make deps")
    d = os.path.join(BUILD, "test-vms")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, name)
    with open(path, "wb") as f:
        f.truncate(IMAGE_BYTES)
    subprocess.run([SGDISK, "-o",
                    "-n", "1:%d:%d" % ALPHA, "-c", "1:vm-alpha", "-u", "1:" + ALPHA_UUID,
                    "-n", "2:%d:%d" % BETA, "-c", "2:vm-beta", "-u", "2:" + BETA_UUID,
                    path], check=True, stdout=subprocess.DEVNULL)
    alpha, beta = pattern(span(ALPHA), 21), pattern(span(BETA), 22)
    with open(path, "r+b") as f:
        f.seek(ALPHA[0] * SECTOR)
        f.write(alpha)
        f.seek(BETA[0] * SECTOR)
        f.write(beta)
        if damage_primary:
            # one byte of the primary header (its MyLBA): its CRC no longer matches
            f.seek(SECTOR + 24)
            f.write(b"\0")
    return path, alpha, beta


def disk_line(target, access="rw"):
    return "disk = [ 'format=raw, vdev=xvda, access=%s, target=%s' ]\n" % (access, target)


def sum_re(vm, data):
    # not anchored: at the console, the prompt's redraw may precede a VM's line
    return re.compile(r"\[%s\] vblk: disk \d+ capacity=%d sum=%08x over %d$" % (
        re.escape(vm), len(data) // SECTOR, fnv1a(data), len(data)), re.M)


def hostdisk(img):
    return "hostdisk=/boot/vms/" + os.path.basename(img)


def boot_lines_ok(log, img):
    assert "blk: ram0: 4.0 MiB, GPT with 2 partitions (boot module /boot/vms/%s)" % (
        os.path.basename(img)) in log, log
    assert 'blk: ram0p1 "vm-alpha" 256.0 KiB partuuid %s' % ALPHA_UUID in log, log
    assert 'blk: ram0p2 "vm-beta" 256.0 KiB partuuid %s' % BETA_UUID in log, log


def test_vms_on_partitions_and_the_refused_ones_on_svm():
    """alpha reads and writes its partition by label; beta reads its own by
    UUID, read-only; a label that does not exist, a second writer and the
    whole disk under them are refused with their reasons, and the two others
    run."""
    img, alpha, beta = gpt_image("hd-gpt.img")
    g = guest("vblk")
    cfgs = [
        vm_file("hd-alpha", g, extra="sum=1 tail write", more=disk_line("partlabel:vm-alpha")),
        vm_file("hd-beta", g, extra="sum=1 ro", more=disk_line("partuuid:" + BETA_UUID, "ro")),
        vm_file("hd-missing", g, more=disk_line("partlabel:web")),
        vm_file("hd-second", g, more=disk_line("ram0p1")),
        vm_file("hd-whole", g, more=disk_line("/dev/ram0", "ro")),
    ]
    run = qemu(cmdline=hostdisk(img), smp=2, mem="512M", modules=cfgs + [g, img], timeout=120)
    boot_lines_ok(run.log, img)
    assert vm_stops(run.log) == {"hd-alpha": ("exit-port", 0), "hd-beta": ("exit-port", 0)}, run
    assert sum_re("hd-alpha", alpha).search(run.log), run
    assert sum_re("hd-beta", beta).search(run.log), run
    assert "[hd-alpha] vblk: reads past the end refused" in run.log, run
    assert "[hd-alpha] vblk: wrote, read back and restored sectors 8-15" in run.log, run
    assert "[hd-beta] vblk: write to the read-only disk refused, sectors unchanged" in run.log
    assert ('hv: vm hd-missing not started: disk xvda: no partition labelled "web" on any '
            'host disk') in run.log, run
    assert ("hv: vm hd-second not started: disk xvda: disk target ram0p1 is in use "
            "read-write by VM hd-alpha") in run.log, run
    assert ("hv: vm hd-whole not started: disk xvda: disk target ram0 overlaps ram0p1, in use "
            "read-write by VM hd-alpha") in run.log, run
    assert run.status == 1, run  # three VM files did not give a VM


def test_damaged_primary_gpt_and_block_list_at_the_console():
    """The primary header's CRC is broken: the backup is used and the boot
    says so; `block-list` shows the disk, its partitions, who uses them and
    the note; `block-list hd-live` shows the VM's disk on ram0p1."""
    import pexpect
    img, alpha, _ = gpt_image("hd-gpt-damaged.img", damage_primary=True)
    g = guest("vblk")
    cfg = vm_file("hd-live", g, extra="sum=1 passes=0 gap=1000",
                  more=disk_line("partlabel:vm-alpha"))
    iso = make_iso(hostdisk(img), [cfg, g, img])
    child = pexpect.spawn("qemu-system-x86_64", [
        "-machine", "q35,accel=tcg", "-cpu", "max", "-smp", "2", "-m", "512M",
        "-display", "none", "-no-reboot", "-monitor", "none",
        "-chardev", "stdio,id=com1,signal=off", "-serial", "chardev:com1",
        "-device", "isa-debug-exit,iobase=0x%x,iosize=0x04" % DEBUG_EXIT_PORT,
        "-cdrom", iso, "-boot", "d"], encoding="utf-8", codec_errors="replace", timeout=60)
    log = ""
    try:
        child.expect(r"\[hd-live\] vblk: disk \d+ capacity=\d+ sum=[0-9a-f]+ over \d+\r*\n", 120)
        log = child.before + child.after
        child.send("\r")
        child.expect_exact(PROMPT, timeout=30)
        host = command(child, "block-list")
        vm = command(child, "block-list hd-live")
    finally:
        child.terminate(force=True)
    log = log.replace("\r", "")
    assert "blk: ram0: primary GPT damaged (header CRC mismatch): using the backup" in log, log
    boot_lines_ok(log, img)
    assert sum_re("hd-live", alpha).search(log), log
    host = host.replace("\r", "")
    assert re.search(r"^ram0 +4\.0 MiB +\(GPT, 2 partitions\) +boot module /boot/vms/%s +"
                     r"hd-live \(rw\)$" % re.escape(os.path.basename(img)), host, re.M), host
    assert re.search(r"^  ram0p1 +256\.0 KiB +vm-alpha +%s +hd-live \(rw\)$" % ALPHA_UUID,
                     host, re.M), host
    assert re.search(r"^  ram0p2 +256\.0 KiB +vm-beta +%s +-$" % BETA_UUID, host, re.M), host
    assert "ram0: primary GPT damaged (header CRC mismatch): using the backup" in host, host
    vm = vm.replace("\r", "")
    assert re.search(r"In-flight +Backend", vm), vm
    assert re.search(r"^xvda +00:08 +active +256 KiB +rw .* +\d+ +ram0p1$", vm, re.M), vm


def test_vm_on_a_partition_on_vmx():
    """The same on VT-x (Bochs, which has no NVMe either): alpha sums its
    partition by label, and a read past its end is refused."""
    img, alpha, _ = gpt_image("hd-gpt-vmx.img")
    g = guest("vblk")
    cfg = vm_file("hd-vmx", g, extra="sum=1 tail", more=disk_line("partlabel:vm-alpha"))
    run = bochs(cmdline=hostdisk(img), smp=2, mem_mb=256, timeout=600, modules=[cfg, g, img])
    boot_lines_ok(run.log, img)
    assert vm_stops(run.log) == {"hd-vmx": ("exit-port", 0)}, run
    assert sum_re("hd-vmx", alpha).search(run.log), run
    assert "[hd-vmx] vblk: reads past the end refused" in run.log, run
    assert run.status == 0, run
