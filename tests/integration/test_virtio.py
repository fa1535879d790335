"""Virtio-blk disks served inside the hypervisor (project issue 12), driven by
the freestanding guests tests/guests/vblk.c (a well-behaved driver) and
tests/guests/vhostile.c (one that breaks a ring, transport or request rule
per case).

Each disk is a raw image the test writes (a known pattern), passed as a GRUB
module and named by the VM file as `disk = [ 'format=raw, vdev=xvda,
access=rw, target=/boot/vms/NAME.img' ]`. The guests print an FNV-1a (32-bit)
checksum of what they read; the test computes the same over the image.

These need the hypervisor's PCI bus, virtio-pci transport and virtio-blk
device: until those are merged the tests fail (no virtio-blk function is
found). They live in their own file so no other test depends on them.
"""

import os
import re
import struct

from hvconsole import PROMPT, boot as console_boot, command
from hvrun import BUILD, guest, qemu, vm_file, vm_stops

MIB = 1 << 20


def fnv1a(data, h=0x811c9dc5):
    # 32-bit FNV-1a, as tests/guests/lib/virtio.c computes it
    for b in data:
        h = ((h ^ b) * 16777619) & 0xffffffff
    return h


def disk_image(name, size=4 * MIB, seed=1):
    """A raw image of a known pattern (distinct per seed) under build/test-vms; (path, data)."""
    d = os.path.join(BUILD, "test-vms")
    os.makedirs(d, exist_ok=True)
    words = size // 4
    x = (seed * 0x9e3779b9) & 0xffffffff
    data = bytearray(size)
    for i in range(words):
        # xorshift32: every sector differs, so a misplaced read changes the sum
        x ^= (x << 13) & 0xffffffff
        x ^= x >> 17
        x ^= (x << 5) & 0xffffffff
        struct.pack_into("<I", data, 4 * i, x)
    path = os.path.join(d, name)
    with open(path, "wb") as f:
        f.write(data)
    return path, bytes(data)


def disk_line(path, access="rw"):
    return "disk = [ 'format=raw, vdev=xvda, access=%s, target=/boot/vms/%s' ]\n" % (
        access, os.path.basename(path))


def sum_line(vm, data, nbytes):
    """The line vblk prints for a pass over the first nbytes, without its slot."""
    return re.compile(r"^\[%s\] vblk: disk \d+ capacity=%d sum=%08x over %d$" % (
        re.escape(vm), len(data) // 512, fnv1a(data[:nbytes]), nbytes), re.M)


def boot_with_disks(vms, smp=2, timeout=240):
    """vms: (cfg, kernel, image) triples; every file a module once."""
    modules = []
    for triple in vms:
        for m in triple:
            if m and m not in modules:
                modules.append(m)
    return qemu(smp=smp, mem="1G", modules=modules, timeout=timeout)


def test_vblk_reads_its_disk_and_the_checksum_matches_the_host():
    """A well-behaved driver: features, queue, capacity from the device
    configuration, 4 MiB read twice in 64 KiB requests (the sum equals the
    host's), reads past the end refused with IOERR, a write read back and
    restored."""
    img, data = disk_image("vblk-a.img", seed=1)
    g = guest("vblk")
    cfg = vm_file("vblk-a", g, extra="sum=4 passes=2 tail write", more=disk_line(img))
    run = boot_with_disks([(cfg, g, img)])
    assert vm_stops(run.log) == {"vblk-a": ("exit-port", 0)}, run
    assert "[vblk-a] GUEST vblk: PASS" in run.log, run
    assert len(sum_line("vblk-a", data, 4 * MIB).findall(run.log)) == 2, run
    assert "[vblk-a] vblk: reads past the end refused" in run.log, run
    assert "[vblk-a] vblk: wrote, read back and restored sectors 8-15" in run.log, run
    assert run.status == 0, run


def test_two_vms_each_read_only_their_own_disk_and_vblk_on_vmx():
    """Two VMs with a disk each, on VT-x (Bochs): each sums its own image,
    never the other's (the BARs are moved into the 32-bit window first, as
    an OS would)."""
    from hvrun import bochs
    g = guest("vblk")
    img_a, data_a = disk_image("vblk-x1.img", size=1 * MIB, seed=11)
    img_b, data_b = disk_image("vblk-x2.img", size=1 * MIB, seed=12)
    cfg_a = vm_file("vx1", g, extra="sum=1 movebar", more=disk_line(img_a))
    cfg_b = vm_file("vx2", g, extra="sum=1", more=disk_line(img_b))
    run = bochs(smp=2, mem_mb=256, timeout=600, modules=[cfg_a, g, img_a, cfg_b, img_b])
    assert vm_stops(run.log) == {"vx1": ("exit-port", 0), "vx2": ("exit-port", 0)}, run
    assert sum_line("vx1", data_a, MIB).search(run.log), run
    assert sum_line("vx2", data_b, MIB).search(run.log), run
    assert fnv1a(data_a) != fnv1a(data_b)


def test_read_only_disk_refuses_writes():
    """access=ro: the device offers VIRTIO_BLK_F_RO, a write completes with
    IOERR (1) and the sectors read back unchanged; the disk's sum is the
    host's."""
    img, data = disk_image("vblk-ro.img", size=2 * MIB, seed=7)
    g = guest("vblk")
    cfg = vm_file("vblk-ro", g, extra="sum=4 ro", more=disk_line(img, access="ro"))
    run = boot_with_disks([(cfg, g, img)])
    assert vm_stops(run.log) == {"vblk-ro": ("exit-port", 0)}, run
    assert "[vblk-ro] GUEST vblk: PASS" in run.log, run
    # the disk is 2 MiB: vblk sums all of it
    assert sum_line("vblk-ro", data, 2 * MIB).search(run.log), run
    assert "[vblk-ro] vblk: write to the read-only disk refused, sectors unchanged" in run.log


def test_hostile_driver_is_contained_and_the_neighbours_disk_is_unchanged():
    """vhostile breaks the rules case by case on its own disk (each answered by
    NEEDS_RESET or an error status, then a reset and a normal read that
    works) while vblk on another VM checksums its own disk over and over:
    every pass, before and after the hostile run, equals the host's sum, and
    the host still answers `list` at its console."""
    img_h, _ = disk_image("vhostile.img", seed=2)
    img_n, data_n = disk_image("vblk-n.img", seed=3)
    gh, gn = guest("vhostile"), guest("vblk")
    hostile = vm_file("vhostile", gh, extra="storm=100000", more=disk_line(img_h))
    neighbour = vm_file("vblk-n", gn, extra="sum=4 passes=0 gap=200", more=disk_line(img_n))
    # without debug_exit the prompt comes at once and the host keeps running
    child = console_boot([(hostile, gh), (neighbour, gn), (img_h, img_h), (img_n, img_n)],
                         smp=2, debug_exit=False)
    want = sum_line("vblk-n", data_n, 4 * MIB)
    any_sum = re.compile(r"\[vblk-n\] vblk: disk \d+ capacity=\d+ sum=[0-9a-f]+ over \d+\r*\n")
    log = ""

    def expect(pattern, timeout):
        nonlocal log
        child.expect(pattern, timeout=timeout)
        log += child.before + child.after
        return child.after

    try:
        sums = [expect(any_sum, 240)]  # the neighbour's first pass
        verdict = expect(r"\[vhostile\] vhostile: \d+ cases ok|\[vhostile\] vhostile: \d+ of "
                         r"\d+ cases BAD|\[vhostile\] GUEST vhostile: FAIL[^\r\n]*", 600)
        # the pass under way when the hostile run ended, and one that began after it
        sums += [expect(any_sum, 240), expect(any_sum, 240)]
        child.send("\r")
        child.expect_exact(PROMPT, timeout=60)
        out = command(child, "list")
    finally:
        child.terminate(force=True)
    assert re.search(r"vhostile: \d+ cases ok", verdict), log[-6000:]
    # every case printed "-> OUTCOME ok", and the device recovered after a reset
    assert not re.search(r"vhostile: \S+ -> \S+ BAD", log), log[-6000:]
    assert "vhostile: recover -> ok ok" in log, log[-6000:]
    assert "[vblk-n] GUEST vblk: FAIL" not in log, log[-6000:]
    for line in sums:
        assert want.search(line.strip()), (line, want.pattern)
    assert "vhostile" in out and "vblk-n" in out, out


# ---- the guests alone on bare QEMU (TCG), its own virtio-blk-pci: checks the
# test guests' driver without the hypervisor, and records where QEMU agrees ----

def bare_qemu(kernel, append, image, readonly=False, timeout=120):
    """Boots a test guest by QEMU's multiboot loader beside a modern-only
    virtio-blk-pci; returns (guest exit code or None, serial output)."""
    import subprocess
    drive = "file=%s,if=none,id=d0,format=raw%s" % (image, ",readonly=on" if readonly else "")
    args = ["qemu-system-x86_64", "-M", "q35,accel=tcg", "-cpu", "max", "-m", "64",
            "-display", "none", "-no-reboot", "-monitor", "none", "-serial", "stdio",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=1",
            "-kernel", kernel, "-append", append, "-drive", drive,
            "-device", "virtio-blk-pci,drive=d0,disable-legacy=on"]
    p = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout)
    out = p.stdout.decode("utf-8", "replace").replace("\r\n", "\n")
    code = (p.returncode >> 1) if p.returncode > 0 and p.returncode & 1 else None
    return code, out


def test_bare_qemu_vblk_moves_its_bar_and_sums_the_disk():
    img, data = disk_image("bare-vblk.img", seed=5)
    code, out = bare_qemu(guest("vblk"), "sum=4 passes=2 tail write movebar", img)
    assert code == 0, out
    assert re.search(r"pci: 00:\w\w\.0 BAR4 0x\w+ -> 0xd0\w+", out), out
    sums = re.findall(r"vblk: disk \d+ capacity=8192 sum=([0-9a-f]{8}) over 4194304", out)
    assert sums == ["%08x" % fnv1a(data)] * 2, out
    code, out = bare_qemu(guest("vblk"), "sum=1 ro", img, readonly=True)
    assert code == 0 and "write to the read-only disk refused" in out, out


# The cases QEMU 7.2 answers as the spec says; the others (buffers in MMIO
# holes or past RAM, INDIRECT without the feature or with NEXT, bad queue
# layouts, late register and feature writes, features not offered) QEMU
# serves or accepts: the hypervisor must refuse them, QEMU does not.
QEMU_AGREES = ["loop", "long-chain", "head-oob", "head-ffff", "next-oob", "avail-jump",
               "len-overflow", "indirect-nested", "indirect-len40", "indirect-len0",
               "indirect-loop", "indirect-160", "read-after-write", "no-status", "status-len0",
               "short-header", "past-end", "sector-wrap", "partial-sector", "unknown-type",
               "ro-write", "storm-empty", "storm-broken", "recover"]


def test_bare_qemu_vhostile_runs_every_case_and_never_hangs():
    img, _ = disk_image("bare-vhostile.img", seed=6)
    code, out = bare_qemu(guest("vhostile"), "storm=20000", img, readonly=True)
    assert code is not None, out  # it finished, by the exit port
    assert re.search(r"vhostile: \d+ of \d+ cases BAD|vhostile: \d+ cases ok", out), out
    for case in QEMU_AGREES:
        assert re.search(r"^vhostile: %s -> \S+ ok" % re.escape(case), out, re.M), (case, out)
