"""The host disk of the persistent-disk tests (issue 13), read from the host side.

scripts/build-gpt-disk.sh builds a raw image with a GPT and two ext4
partitions, vm-alpha and vm-beta; these helpers build it, parse its table
(both copies, CRCs checked, independently of sgdisk and of the hypervisor),
damage the primary header, and look inside a partition through e2fsprogs at
the partition's offset in the image file (debugfs and e2fsck take
`IMAGE?offset=BYTES`), so a test reads what a VM wrote straight from the
file QEMU wrote it to.
"""

import hashlib
import os
import re
import struct
import subprocess
import zlib

from hvrun import ROOT

SECTOR = 512
FS_BLOCK = 4096  # build-gpt-disk.sh's mke2fs block size
DISK_GUID = "6a1c7e0e-3b1f-4c52-9d0a-5e7f10a2b001"
UUIDS = {"vm-alpha": "0b7d3c59-7a41-4d1e-8c36-a1f2e3d4c5a1",
         "vm-beta": "0b7d3c59-7a41-4d1e-8c36-a1f2e3d4c5b2"}
# what build-gpt-disk.sh puts in each file system (MANIFEST.sha256 names them)
FILES = ("hello.txt", "random-1m.bin", "dir/odd-4097.bin")


def build(path, total_mib=160, part_mib=64):
    subprocess.run([os.path.join(ROOT, "scripts", "build-gpt-disk.sh"), path, str(total_mib),
                    str(part_mib)], check=True, capture_output=True)
    return path


def guid_text(raw):
    """A GUID's 16 on-disk bytes in the mixed-endian text form GPT tools print."""
    a, b, c = struct.unpack_from("<IHH", raw)
    return "%08x-%04x-%04x-%s-%s" % (a, b, c, raw[8:10].hex(), raw[10:16].hex())


class Part:
    def __init__(self, number, label, uuid, first, last):
        self.number, self.label, self.uuid = number, label, uuid
        self.first, self.last = first, last  # LBAs, inclusive

    @property
    def offset(self):
        return self.first * SECTOR

    @property
    def size(self):
        return (self.last - self.first + 1) * SECTOR

    @property
    def sectors(self):
        return self.last - self.first + 1

    def __repr__(self):
        return "Part(%d %s %s LBA %d-%d)" % (self.number, self.label, self.uuid, self.first,
                                               self.last)


def header_ok(path, lba):
    """Whether the GPT header at lba has its signature and both CRCs right."""
    try:
        read_table(path, lba)
        return True
    except ValueError:
        return False


def read_table(path, lba=1):
    """{label: Part} from the GPT header at lba (1: primary; -1: the backup at
    the last LBA), checked as UEFI 2.10 §5.3.2 says; ValueError when it is bad."""
    with open(path, "rb") as f:
        if lba < 0:
            lba = os.path.getsize(path) // SECTOR + lba
        f.seek(lba * SECTOR)
        hdr = f.read(SECTOR)
        if hdr[:8] != b"EFI PART":
            raise ValueError("no signature at LBA %d" % lba)
        size, crc = struct.unpack_from("<II", hdr, 12)
        if not 92 <= size <= SECTOR:
            raise ValueError("header size %d" % size)
        if zlib.crc32(hdr[:16] + b"\0\0\0\0" + hdr[20:size]) != crc:
            raise ValueError("header CRC at LBA %d" % lba)
        my_lba, = struct.unpack_from("<Q", hdr, 24)
        if my_lba != lba:
            raise ValueError("MyLBA %d read at LBA %d" % (my_lba, lba))
        entries_lba, count, esize, ecrc = struct.unpack_from("<QIII", hdr, 72)
        f.seek(entries_lba * SECTOR)
        table = f.read(count * esize)
        if zlib.crc32(table) != ecrc:
            raise ValueError("entry array CRC")
    parts = {}
    for i in range(count):
        e = table[i * esize:(i + 1) * esize]
        if e[:16] == bytes(16):
            continue
        first, last = struct.unpack_from("<QQ", e, 32)
        label = e[56:128].decode("utf-16-le").rstrip("\0")
        parts[label] = Part(i + 1, label, guid_text(e[16:32]), first, last)
    return parts


def corrupt_primary_header(path):
    """Flips a byte of the primary GPT header's disk GUID: the signature is
    still there, the header CRC no longer matches (the backup is whole)."""
    with open(path, "r+b") as f:
        f.seek(SECTOR + 56)
        b = f.read(1)
        f.seek(SECTOR + 56)
        f.write(bytes([b[0] ^ 0xff]))
    assert not header_ok(path, 1) and header_ok(path, -1)


def read_bytes(path, offset, size):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(size)


def part_bytes(path, part):
    return read_bytes(path, part.offset, part.size)


def outside(path, parts):
    """sha256 of everything in the image outside the given partitions."""
    h = hashlib.sha256()
    size = os.path.getsize(path)
    pos = 0
    with open(path, "rb") as f:
        for p in sorted(parts, key=lambda p: p.offset):
            f.seek(pos)
            h.update(f.read(p.offset - pos))
            pos = p.offset + p.size
        f.seek(pos)
        h.update(f.read(size - pos))
    return h.hexdigest()


def _at(path, part):
    return "%s?offset=%d" % (path, part.offset)


def debugfs(path, part, request):
    """What debugfs says to one request on the partition's file system (stdout, bytes)."""
    out = subprocess.run(["debugfs", "-R", request, _at(path, part)], capture_output=True)
    return out.stdout


def cat(path, part, name):
    return debugfs(path, part, "cat /" + name)


def exists(path, part, name):
    out = subprocess.run(["debugfs", "-R", "stat /" + name, _at(path, part)],
                         capture_output=True, text=True)
    return "File not found" not in out.stderr and "Inode:" in out.stdout


def fsck(path, part):
    """e2fsck -fn on the partition: (clean?, what it said)."""
    out = subprocess.run(["e2fsck", "-fn", _at(path, part)], capture_output=True, text=True)
    return out.returncode == 0, out.stdout + out.stderr


def file_by_blocks(path, part, name):
    """A file's bytes read straight from the image through its block list (debugfs
    `blocks`), with the largest block number: the file is where the file system
    says, at the partition's offset in the image, and ends inside it."""
    blocks = [int(b) for b in debugfs(path, part, "blocks /" + name).split()]
    m = re.search(rb"Size: (\d+)", debugfs(path, part, "stat /" + name))
    assert blocks and m, "debugfs finds no /%s on %s" % (name, part)
    size = int(m.group(1))
    with open(path, "rb") as f:
        data = bytearray()
        for b in blocks:
            f.seek(part.offset + b * FS_BLOCK)
            data += f.read(FS_BLOCK)
    return bytes(data[:size]), max(blocks)


def manifest_ok(path, part):
    """Every file of the partition's MANIFEST.sha256 reads back with its sha256
    (what the VM checks, here from the host side)."""
    lines = cat(path, part, "MANIFEST.sha256").decode().split("\n")
    want = dict(reversed(line.split()) for line in lines if line.strip())
    if sorted(want) != sorted(FILES):
        return False
    return all(hashlib.sha256(cat(path, part, name)).hexdigest() == sha
               for name, sha in want.items())


def assert_written(path, part, tag, sha, nbytes=4 << 20):
    """What a Linux VM's hv.disktest=write left on its partition, read from the
    host side: /written[-TAG].bin with the sha256 the VM printed, once through
    the file system and once from its blocks at the partition's offset (all of
    them inside the partition), its .sha256 beside it, the built files as they
    were, and a clean file system (the VM unmounted it)."""
    name = "written" + ("-" + tag if tag else "")
    data = cat(path, part, name + ".bin")
    assert len(data) == nbytes and hashlib.sha256(data).hexdigest() == sha, (part, len(data))
    direct, last_block = file_by_blocks(path, part, name + ".bin")
    assert direct == data, part
    assert (last_block + 1) * FS_BLOCK <= part.size, (part, last_block)
    assert cat(path, part, name + ".sha256").decode().split() == [sha, name + ".bin"], part
    assert manifest_ok(path, part), part
    clean, said = fsck(path, part)
    assert clean, said
