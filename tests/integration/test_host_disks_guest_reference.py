"""The persistent-disk test's guest and host-side checks on bare QEMU, with
no hypervisor (issue 13): the reference test_host_disks.py is held to.

The Linux test guest's hv.disktest (scripts/build-linux-guest.sh) writes a
file to the ext4 on /dev/vda in one boot and checks it in the next; the
host then reads the image file itself (gptdisk.py). Here the same guest and
the same checks run first on QEMU's own virtio-blk over one partition of the
GPT disk (a window of the image file, as the hypervisor's partition view
gives it), then with Linux driving QEMU's NVMe controller itself and finding
the partitions with its own GPT parser, the damaged-primary case included.
If these fail, the guest or the checks are wrong; if they pass and
test_host_disks.py fails, the hypervisor is.
"""

import os
import re
import shutil
import subprocess

import pytest

import gptdisk
from hvrun import BUILD

GUEST = os.path.join(BUILD, "linux-guest")
KERNEL, INITRD = os.path.join(GUEST, "vmlinuz"), os.path.join(GUEST, "initrd.img")

pytestmark = pytest.mark.skipif(
    not all(os.path.exists(f) for f in (KERNEL, INITRD)) or not shutil.which("sgdisk") or
    not shutil.which("qemu-system-x86_64"),
    reason="no Linux guest (make linux-guest) or no sgdisk (apt-get install gdisk)")

DISKTEST = re.compile(r"^DISKTEST (write|verify) ok ([0-9a-f]{64}) files=(\d+) bytes=(\d+)\r?$", re.M)


def bare_linux(append, drives, timeout=150):
    """Boots the cloud kernel on bare QEMU TCG with these -drive/-device
    arguments; returns its serial log."""
    cmd = ["qemu-system-x86_64", "-M", "q35", "-cpu", "max", "-m", "256", "-smp", "1",
           "-display", "none", "-vga", "none", "-nic", "none", "-monitor", "none",
           "-serial", "stdio", "-no-reboot", "-kernel", KERNEL, "-initrd", INITRD,
           "-append", "console=ttyS0 quiet " + append] + drives
    try:
        out = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        log = out.stdout
    except subprocess.TimeoutExpired as e:
        log = (e.stdout or b"") + b"\n[timed out]"
    return log.decode(errors="replace").replace("\r", "")


def disktest(log, mode):
    """The sha256 a DISKTEST MODE ok line gives (the test fails with the log otherwise)."""
    m = DISKTEST.search(log)
    assert m and m.group(1) == mode, log[-3000:]
    assert m.group(3) == str(len(gptdisk.FILES)) and m.group(4) == str(4 << 20), m.group(0)
    return m.group(2)


def virtio_on(img, part):
    """QEMU's virtio-blk over one partition of img: the guest's /dev/vda."""
    return ["-drive", "file=%s,if=none,id=d0,format=raw,offset=%d,size=%d" % (
        img, part.offset, part.size),
            "-device", "virtio-blk-pci,drive=d0,disable-legacy=on,disable-modern=off"]


def nvme_on(img):
    return ["-drive", "file=%s,if=none,id=n0,format=raw" % img,
            "-device", "nvme,serial=hvref0,drive=n0"]


def test_disktest_on_qemus_virtio_blk_over_a_partition(tmp_path):
    """Write in one boot, verify in the next, on vm-alpha through QEMU's
    virtio-blk; the host finds the file inside vm-alpha, and every byte
    outside vm-alpha is as built."""
    img = gptdisk.build(str(tmp_path / "disk.img"))
    parts = gptdisk.read_table(img)
    alpha, beta = parts["vm-alpha"], parts["vm-beta"]
    before = gptdisk.outside(img, [alpha])
    beta_before = gptdisk.part_bytes(img, beta)

    sha = disktest(bare_linux("hv.disktest=write", virtio_on(img, alpha)), "write")
    assert disktest(bare_linux("hv.disktest=verify", virtio_on(img, alpha)), "verify") == sha

    gptdisk.assert_written(img, alpha, None, sha)
    assert gptdisk.outside(img, [alpha]) == before
    assert gptdisk.part_bytes(img, beta) == beta_before
    # and the guest says so when the file is not there
    log = bare_linux("hv.disktest=verify hv.disktag=absent", virtio_on(img, beta))
    assert "DISKTEST FAIL no /written-absent.sha256" in log, log[-3000:]


def test_linux_finds_the_partitions_on_qemus_nvme_and_writes_persist(tmp_path):
    """Linux's own NVMe driver and GPT parser: nvme0n1p1 and nvme0n1p2 are
    the partitions the image was built with; two boots, two tags, one per
    partition, and the host finds each file only in its own partition."""
    img = gptdisk.build(str(tmp_path / "disk.img"))
    parts = gptdisk.read_table(img)
    alpha, beta = parts["vm-alpha"], parts["vm-beta"]
    before = gptdisk.outside(img, [alpha, beta])

    sha_a = disktest(bare_linux("hv.disktest=write hv.diskdev=nvme0n1p1 hv.disktag=alpha",
                                nvme_on(img)), "write")
    sha_b = disktest(bare_linux("hv.disktest=write hv.diskdev=nvme0n1p2 hv.disktag=beta",
                                nvme_on(img)), "write")
    assert disktest(bare_linux("hv.disktest=verify hv.diskdev=nvme0n1p1 hv.disktag=alpha",
                               nvme_on(img)), "verify") == sha_a

    gptdisk.assert_written(img, alpha, "alpha", sha_a)
    gptdisk.assert_written(img, beta, "beta", sha_b)
    assert not gptdisk.exists(img, alpha, "written-beta.bin")
    assert not gptdisk.exists(img, beta, "written-alpha.bin")
    assert gptdisk.outside(img, [alpha, beta]) == before


def test_linux_uses_the_backup_gpt_when_the_primary_header_is_damaged(tmp_path):
    """gptdisk.corrupt_primary_header damages the table the way the
    hypervisor's backup test does; Linux says the primary is invalid, takes
    the backup and finds vm-beta at nvme0n1p2 all the same."""
    img = gptdisk.build(str(tmp_path / "disk.img"))
    gptdisk.corrupt_primary_header(img)
    parts = gptdisk.read_table(img, -1)
    # (Linux looks for the backup at the last LBA only when told to: `gpt`)
    log = bare_linux("gpt loglevel=5 hv.disktest=write hv.diskdev=nvme0n1p2", nvme_on(img))
    assert re.search(r"Primary GPT is invalid, using alternate GPT", log), log[-3000:]
    gptdisk.assert_written(img, parts["vm-beta"], None, disktest(log, "write"))
