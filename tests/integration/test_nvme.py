"""The hypervisor's own NVMe driver (drivers/nvme) on QEMU's NVMe controllers:
bring-up with MSI-X, one namespace per block device (512-byte and 4 KiB
blocks, namespaces with a gap in their identifiers), and real I/O through
the `test_nvme` self-check: a 1 MiB + 8 KiB write from scattered pages
(split at QEMU's 512 KiB MDTS), a read back through the bounce buffers,
misaligned segments, flush, write-zeroes, discard and a refused read past
the end. The data is then checked in the disk images from the host side.
"""

import re

import pytest

from hvrun import qemu

DONE = r"hv: exit status \d+"
DATA_PAGES = 258


def image(tmp_path, name, size=64 << 20):
    path = tmp_path / name
    with open(path, "wb") as f:
        f.truncate(size)
    return str(path)


def expected_page(i):
    """What the self-check writes to its i-th page (nvme_selftest.c)."""
    return bytes((i * 7 + k * 13 + (k >> 8)) & 0xff for k in range(4096))


def check_image(path, size=64 << 20):
    """The self-check's write reached the medium: the last 2 MiB hold its pattern.

    The first 4 KiB were rewritten by the misaligned-segment check, the first
    64 KiB zeroed and the 128 KiB after 128 KiB discarded; the pages after
    256 KiB are checked."""
    with open(path, "rb") as f:
        f.seek(size - (2 << 20))
        data = f.read(DATA_PAGES * 4096)
    assert data[4096:65536] == bytes(65536 - 4096), "write-zeroes did not reach the image"
    for i in range(64, DATA_PAGES):
        assert data[i * 4096:(i + 1) * 4096] == expected_page(i), "page %d differs" % i


def test_nvme_io(tmp_path):
    n0, n1 = image(tmp_path, "n0.raw"), image(tmp_path, "n1.raw")
    args = ["-nic", "none",
            "-drive", "file=%s,if=none,id=n0,format=raw" % n0,
            "-device", "nvme,serial=hv0,drive=n0,addr=4",
            "-drive", "file=%s,if=none,id=n1,format=raw" % n1,
            "-device", "nvme,serial=hv1,drive=n1,addr=5,logical_block_size=4096,"
                       "physical_block_size=4096"]
    run = qemu(smp=2, cmdline="test_nvme", extra_args=args, timeout=60, until=DONE)
    assert run.status == 0, run
    for ctrl, serial in (("nvme0", "hv0"), ("nvme1", "hv1")):
        assert re.search(r"^%s: QEMU NVMe Ctrl \(serial %s\), 1 I/O queue of 1024 shared by all "
                         r"CPUs, MSI-X, max transfer 512 KiB, volatile cache: yes, 1 namespace$"
                         % (ctrl, serial), run.log, re.M), run
    assert "[driver nvme: nvme0]" in run.log and "[driver nvme: nvme1]" in run.log, run
    for ns in ("nvme0n1", "nvme1n1"):
        m = re.search(r"^nvme selftest: %s: (.*) \(write, read, flush, write-zeroes, discard; "
                      r"(\d+) interrupts, \d+ ms\)$" % ns, run.log, re.M)
        assert m, run
        assert m.group(1) == "ok", run
        assert int(m.group(2)) > 0, run
    assert "I/O errors" not in run.log and "timed out" not in run.log, run
    check_image(n0)
    check_image(n1)


def test_nvme_namespaces(tmp_path):
    """One controller with namespaces 1 and 3: both found (the active list), both work."""
    a, b = image(tmp_path, "a.raw"), image(tmp_path, "b.raw", 32 << 20)
    args = ["-nic", "none",
            "-device", "nvme,id=nc,serial=hv2,addr=4",
            "-drive", "file=%s,if=none,id=a,format=raw" % a,
            "-device", "nvme-ns,drive=a,bus=nc,nsid=1",
            "-drive", "file=%s,if=none,id=b,format=raw" % b,
            "-device", "nvme-ns,drive=b,bus=nc,nsid=3,logical_block_size=4096,"
                       "physical_block_size=4096"]
    run = qemu(smp=2, cmdline="test_nvme", extra_args=args, timeout=60, until=DONE)
    assert run.status == 0, run
    assert re.search(r"^nvme0: QEMU NVMe Ctrl \(serial hv2\), .*, 2 namespaces$", run.log, re.M), run
    assert re.search(r"^nvme selftest: nvme0n1: ok ", run.log, re.M), run
    assert re.search(r"^nvme selftest: nvme0n3: ok ", run.log, re.M), run
    check_image(a)
    check_image(b, 32 << 20)


def test_nvme_after_uefi(tmp_path):
    """OVMF drives the controller before us: the probe disables it and starts afresh."""
    n0 = image(tmp_path, "n0.raw")
    args = ["-nic", "none",
            "-drive", "file=%s,if=none,id=n0,format=raw" % n0,
            "-device", "nvme,serial=hv0,drive=n0,addr=4"]
    run = qemu(smp=2, firmware="uefi", cmdline="test_nvme", extra_args=args, timeout=120,
               until=DONE)
    assert run.status == 0, run
    assert re.search(r"^nvme selftest: nvme0n1: ok ", run.log, re.M), run
    check_image(n0)
