"""Disks that persist (issue 13): VMs whose disks are GPT partitions of a host
NVMe namespace or SATA disk, driven by the hypervisor's own NVMe and AHCI
drivers (SVM: QEMU TCG q35 `-cpu max`; Bochs has neither controller, and
QEMU TCG has no VT-x, so there is no VMX run of these).

The host disk is scripts/build-gpt-disk.sh's image, built per test into a
temporary folder (gptdisk.py): partitions vm-alpha and vm-beta, each ext4
with known files and a MANIFEST.sha256. It is attached to QEMU as
  nvme:  -drive file=IMG,if=none,id=n0,format=raw -device nvme,serial=hvtest0,drive=n0
  ahci:  -drive file=IMG,if=none,id=d0,format=raw -device ide-hd,drive=d0,bus=ide.1
         (port 1 of q35's built-in ICH9 AHCI; the hypervisor's ISO is the CD on port 2)
and a VM file names a partition as
  disk = [ 'vdev=xvda, access=rw, target=partlabel:vm-alpha' ]
(or `target=partuuid:UUID`, or `target=nvme0n1p2`). The Linux VMs run
scripts/build-linux-guest.sh's hv.disktest: `write` puts 4 MiB and its
sha256 on the partition's ext4 and prints `DISKTEST write ok <sha256>`, the
host powers off (the harness's exit port once every VM has stopped), QEMU
boots again on the same image file and `verify` must print the same sha256.
Then the test reads the image file itself (gptdisk.py: debugfs at the
partition's offset, the file's blocks, e2fsck) and finds the data inside
that partition, and everything else as built. The faults use the small
freestanding virtio-blk guest tests/guests/vblk.c (seconds, not a Linux boot).

test_host_disks_guest_reference.py holds the same guest and the same host
checks to bare QEMU, where Linux itself drives the NVMe controller.

Boot-log wording is the hypervisor's to choose; the tests match stable
words only, with the patterns below in one place. What they assume (the
examples are what the block layer printed when these tests were written):
  - a line per partition naming its device name and its GPT label, e.g.
    `blk: nvme0n1p1 "vm-alpha" 64.0 MiB partuuid 0b7d...`: PART_LINE;
  - with the primary GPT damaged, a line naming the disk and the word
    `backup`, e.g. `blk: nvme0n1: primary GPT damaged (header CRC
    mismatch): using the backup`: BACKUP_LINE;
  - a refused VM: `hv: vm NAME not started: REASON` (vm_create's failure)
    or `hv: /boot/vms/NAME.cfg: VM not started` (a file refused at parse
    time); the reason for an unknown label contains `no partition labelled
    "NAME"` (quotes optional; hostblk_resolve), for a second writer `in use
    read-write by VM FIRST` (disk_claim's): NOT_STARTED, NO_LABEL, IN_USE;
  - names as Linux gives them: the first NVMe namespace nvme0n1, the first
    SATA disk sda (the ISO's ATAPI CD is not one): DEVICE.
"""

import hashlib
import os
import re
import shutil

import pytest

import gptdisk
from hvrun import BUILD, guest, qemu, rerun_once_if_a_guest_crashes, vm_file, vm_stops
from test_virtio import fnv1a

GUEST = os.path.join(BUILD, "linux-guest")
KERNEL, INITRD = os.path.join(GUEST, "vmlinuz"), os.path.join(GUEST, "initrd.img")
MIB = 1 << 20

pytestmark = pytest.mark.skipif(
    not all(os.path.exists(f) for f in (KERNEL, INITRD)) or not shutil.which("sgdisk"),
    reason="no Linux guest (make linux-guest) or no sgdisk (apt-get install gdisk)")

# ---- the boot log's wording (see the module's docstring) ----
# a partition's boot line: its Linux-style name, then (anywhere after) its label
PART_LINE = r"\b((?:nvme\d+n\d+p|sd[a-z]+)\d+)\b[^\n]*\b%s\b"
BACKUP_LINE = r"^[^\n]*\b%s\b[^\n]*\bbackup\b"  # %s: the whole disk (nvme0n1, sda)
NOT_STARTED = re.compile(r"^hv: (?:vm (\S+) not started\b|/boot/vms/(\S+)\.cfg: VM not started$)",
                         re.M)
NO_LABEL = r"no partition labell?ed \W?%s\b"  # the label may be quoted
IN_USE = re.compile(r"in use read-write by VM (\S+)")
DISKTEST = r"^\[%s\] DISKTEST (write|verify) ok ([0-9a-f]{64}) files=(\d+) bytes=(\d+)\r?$"
# the whole device each controller's disk is (the first of its kind)
DEVICE = {"nvme": "nvme0n1", "ahci": "sda"}


def attach(kind, img):
    if kind == "nvme":
        return ("-drive", "file=%s,if=none,id=n0,format=raw" % img,
                "-device", "nvme,serial=hvtest0,drive=n0")
    return ("-drive", "file=%s,if=none,id=d0,format=raw" % img,
            "-device", "ide-hd,drive=d0,bus=ide.1")


def disk_line(target, access="rw"):
    return "disk = [ 'vdev=xvda, access=%s, target=%s' ]\n" % (access, target)


def linux_vm(name, target, mode, tag=None):
    """A Linux VM running hv.disktest=MODE on the partition target names:
    (its file, the modules it needs)."""
    extra = "console=ttyS0 quiet hv.disktest=%s" % mode + (" hv.disktag=" + tag if tag else "")
    cfg = vm_file(name, KERNEL, memory=192, extra=extra,
                  more='ramdisk = "/boot/vms/%s"\n' % os.path.basename(INITRD) +
                  disk_line(target))
    return (cfg, KERNEL, INITRD)


def vblk_vm(name, target, opts, access="rw"):
    return (vm_file(name, guest("vblk"), extra=opts, more=disk_line(target, access)),
            guest("vblk"))


def boot(kind, img, vms, timeout=300):
    """Boots the hypervisor with these VMs and the host disk attached as kind."""
    modules = []
    for files in vms:
        modules += [f for f in files if f not in modules]
    names = [re.search(r'^name\s*=\s*"([^"]+)"', open(files[0]).read(), re.M).group(1)
             for files in vms]
    return rerun_once_if_a_guest_crashes(
        lambda: qemu(smp=2, spare_cpu0=True, mem="1G", timeout=timeout, modules=modules,
                     extra_args=attach(kind, img)), names)


def part_name(log, label):
    """The device name the hypervisor's boot lines give the partition labelled label."""
    m = re.search(PART_LINE % re.escape(label), log)
    return m.group(1) if m else None


def disktest(log, vm, mode):
    """The sha256 of VM vm's `DISKTEST MODE ok` line (fails with the log otherwise)."""
    m = re.search(DISKTEST % re.escape(vm), log, re.M)
    assert m and m.group(1) == mode, log[-6000:]
    assert m.group(3) == str(len(gptdisk.FILES)) and m.group(4) == str(4 * MIB), m.group(0)
    return m.group(2)


def not_started(log):
    return {a or b for a, b in NOT_STARTED.findall(log)}


def vblk_sum(vm, part_data, nbytes):
    """vblk's line for a pass over the first nbytes of a disk holding part_data."""
    return re.compile(r"^\[%s\] vblk: disk \d+ capacity=%d sum=%08x over %d$" % (
        re.escape(vm), len(part_data) // 512, fnv1a(part_data[:nbytes]), nbytes), re.M)


def image_sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_nvme_two_vms_write_their_partitions_at_once_and_the_next_boot_reads_them(tmp_path):
    """Two Linux VMs on two partitions of one NVMe namespace (by label and by
    UUID) write at once; after a host power-off the next boot reads both
    files back; the host finds each file inside its own partition only, the
    built files of both as they were, and nothing outside the partitions
    changed."""
    img = gptdisk.build(str(tmp_path / "disk.img"))
    parts = gptdisk.read_table(img)
    alpha, beta = parts["vm-alpha"], parts["vm-beta"]
    outside = gptdisk.outside(img, [alpha, beta])
    target_b = "partuuid:" + gptdisk.UUIDS["vm-beta"]

    run = boot("nvme", img, [linux_vm("hd-alpha", "partlabel:vm-alpha", "write", "alpha"),
                             linux_vm("hd-beta", target_b, "write", "beta")])
    assert vm_stops(run.log) == {"hd-alpha": ("poweroff", 0), "hd-beta": ("poweroff", 0)}, run
    assert re.search(r"\bnvme0n1\b", run.log), run
    assert part_name(run.log, "vm-alpha") == "nvme0n1p1", run
    assert part_name(run.log, "vm-beta") == "nvme0n1p2", run
    sha_a, sha_b = disktest(run.log, "hd-alpha", "write"), disktest(run.log, "hd-beta", "write")
    assert sha_a != sha_b
    assert run.status == 0, run

    # the host was powered off; the same image file, a new boot
    run = boot("nvme", img, [linux_vm("hd-alpha", "partlabel:vm-alpha", "verify", "alpha"),
                             linux_vm("hd-beta", target_b, "verify", "beta")])
    assert vm_stops(run.log) == {"hd-alpha": ("poweroff", 0), "hd-beta": ("poweroff", 0)}, run
    assert disktest(run.log, "hd-alpha", "verify") == sha_a, run
    assert disktest(run.log, "hd-beta", "verify") == sha_b, run
    assert run.status == 0, run

    gptdisk.assert_written(img, alpha, "alpha", sha_a)
    gptdisk.assert_written(img, beta, "beta", sha_b)
    assert not gptdisk.exists(img, alpha, "written-beta.bin")
    assert not gptdisk.exists(img, beta, "written-alpha.bin")
    assert gptdisk.outside(img, [alpha, beta]) == outside


def test_ahci_partition_written_in_one_boot_reads_back_in_the_next(tmp_path):
    """One Linux VM on vm-alpha of a SATA disk behind the ICH9 AHCI: written,
    the host powered off, read back by the next boot; the host finds the file
    inside vm-alpha, and vm-beta and everything outside vm-alpha byte-identical
    to the image as built."""
    img = gptdisk.build(str(tmp_path / "disk.img"))
    parts = gptdisk.read_table(img)
    alpha, beta = parts["vm-alpha"], parts["vm-beta"]
    outside = gptdisk.outside(img, [alpha])
    beta_before = gptdisk.part_bytes(img, beta)

    run = boot("ahci", img, [linux_vm("hd-sata", "partlabel:vm-alpha", "write")])
    assert vm_stops(run.log) == {"hd-sata": ("poweroff", 0)}, run
    # the ISO's CD (ATAPI, on port 2) is no sd disk: the test disk is the first
    assert re.search(r"\bsda\b", run.log), run
    assert part_name(run.log, "vm-alpha") == "sda1", run
    sha = disktest(run.log, "hd-sata", "write")
    assert run.status == 0, run

    run = boot("ahci", img, [linux_vm("hd-sata", "partlabel:vm-alpha", "verify")])
    assert vm_stops(run.log) == {"hd-sata": ("poweroff", 0)}, run
    assert disktest(run.log, "hd-sata", "verify") == sha, run
    assert run.status == 0, run

    gptdisk.assert_written(img, alpha, None, sha)
    assert gptdisk.part_bytes(img, beta) == beta_before
    assert gptdisk.outside(img, [alpha]) == outside


@pytest.mark.parametrize("kind", ["nvme", "ahci"])
def test_damaged_primary_gpt_uses_the_backup(tmp_path, kind):
    """The primary GPT header's CRC is wrong, the backup at the last LBA is
    whole: the hypervisor says it uses the backup, and a VM on vm-beta reads
    its partition where the backup says it is."""
    img = gptdisk.build(str(tmp_path / "disk.img"))
    gptdisk.corrupt_primary_header(img)
    beta = gptdisk.read_table(img, -1)["vm-beta"]
    data = gptdisk.part_bytes(img, beta)

    run = boot(kind, img, [vblk_vm("hd-backup", "partlabel:vm-beta", "sum=2")], timeout=180)
    assert re.search(BACKUP_LINE % DEVICE[kind], run.log, re.M | re.I), run
    assert vm_stops(run.log) == {"hd-backup": ("exit-port", 0)}, run
    assert "[hd-backup] GUEST vblk: PASS" in run.log, run
    assert vblk_sum("hd-backup", data, 2 * MIB).search(run.log), run
    assert gptdisk.part_bytes(img, beta) == data
    assert run.status == 0, run


def test_unknown_label_is_refused_with_its_reason_and_the_other_vm_starts(tmp_path):
    """partlabel:nope names no partition: that VM is refused, saying so;
    the other VM (its partition named by device name) runs."""
    img = gptdisk.build(str(tmp_path / "disk.img"))
    beta = gptdisk.read_table(img)["vm-beta"]
    data = gptdisk.part_bytes(img, beta)
    before = image_sha(img)

    run = boot("nvme", img, [vblk_vm("hd-nope", "partlabel:nope", "sum=1"),
                             vblk_vm("hd-named", "nvme0n1p2", "sum=1")], timeout=180)
    assert not_started(run.log) == {"hd-nope"}, run
    assert re.search(NO_LABEL % "nope", run.log, re.I), run
    assert vm_stops(run.log) == {"hd-named": ("exit-port", 0)}, run
    assert vblk_sum("hd-named", data, MIB).search(run.log), run
    assert image_sha(img) == before
    assert run.status == 1, run  # a refused file is a failure the harness must see


def test_second_rw_opener_of_a_partition_is_refused(tmp_path):
    """Two VM files open vm-alpha read-write (by label and by UUID: the same
    partition): the first gets it, the second is refused, naming the first."""
    img = gptdisk.build(str(tmp_path / "disk.img"))
    alpha = gptdisk.read_table(img)["vm-alpha"]
    data = gptdisk.part_bytes(img, alpha)

    run = boot("nvme", img, [
        vblk_vm("hd-first", "partlabel:vm-alpha", "sum=1"),
        vblk_vm("hd-second", "partuuid:" + gptdisk.UUIDS["vm-alpha"], "sum=1")], timeout=180)
    assert not_started(run.log) == {"hd-second"}, run
    assert IN_USE.findall(run.log) == ["hd-first"], run
    assert vm_stops(run.log) == {"hd-first": ("exit-port", 0)}, run
    assert vblk_sum("hd-first", data, MIB).search(run.log), run
    assert run.status == 1, run


@pytest.mark.parametrize("kind", ["nvme", "ahci"])
def test_requests_past_a_partitions_end_fail_and_nothing_else_changes(tmp_path, kind):
    """vblk on vm-alpha: its disk is exactly the partition (capacity, and the
    first 2 MiB sum as the host reads them at the partition's offset); reads
    and writes past its end (one sector, two straddling it, far beyond, a
    sector that wraps 64 bits) get an I/O error; its last 8 sectors are
    written, read back and restored. Beside it, vblk on vm-beta with
    access=ro has its write refused. Afterwards every byte of the image, of
    vm-beta right behind vm-alpha's end included, is as built."""
    img = gptdisk.build(str(tmp_path / "disk.img"))
    parts = gptdisk.read_table(img)
    alpha, beta = parts["vm-alpha"], parts["vm-beta"]
    data_a, data_b = gptdisk.part_bytes(img, alpha), gptdisk.part_bytes(img, beta)
    before = image_sha(img)

    run = boot(kind, img, [
        vblk_vm("hd-edge", "partlabel:vm-alpha",
                "sum=2 tail tailwrite write wsector=%d" % (alpha.sectors - 8)),
        vblk_vm("hd-ro", "partlabel:vm-beta", "sum=2 ro", access="ro")], timeout=180)
    assert vm_stops(run.log) == {"hd-edge": ("exit-port", 0), "hd-ro": ("exit-port", 0)}, run
    assert vblk_sum("hd-edge", data_a, 2 * MIB).search(run.log), run
    assert vblk_sum("hd-ro", data_b, 2 * MIB).search(run.log), run
    for line in ("[hd-edge] vblk: reads past the end refused",
                 "[hd-edge] vblk: writes past the end refused, the last sector unchanged",
                 "[hd-edge] vblk: wrote, read back and restored sectors %d-%d" % (
                     alpha.sectors - 8, alpha.sectors - 1),
                 "[hd-ro] vblk: write to the read-only disk refused, sectors unchanged",
                 "[hd-edge] GUEST vblk: PASS", "[hd-ro] GUEST vblk: PASS"):
        assert line in run.log, (line, run)
    assert gptdisk.part_bytes(img, beta) == data_b
    assert image_sha(img) == before
    assert run.status == 0, run
