#!/bin/bash
# Builds the disk images the Linux test guest checks its virtio block devices
# against (scripts/build-linux-guest.sh's /init, LINUX-GUEST-BLK*):
#
#   scripts/build-disk-images.sh [OUTDIR]          (default build/linux-guest)
#     OUTDIR/disk.img  24 MiB ext4: a text file, a 1 MiB pseudo-random file,
#                      a nested directory, and /MANIFEST.sha256 naming them all
#                      (the guest runs `sha256sum -c` on it)
#     OUTDIR/data.img  64 MiB raw (the dd benchmark; the two-VM isolation test)
#   scripts/build-disk-images.sh --data NAME FILE [MIB]
#     FILE: a raw image like data.img whose content is keyed by NAME, so two
#     VMs given different images see different data (and different sha256s).
#
# Both are reproducible: byte-identical on every run and every host with the
# same e2fsprogs (fixed content from SHAKE-256 of a fixed seed, timestamps at
# the epoch, fixed UUID and directory hash seed, mke2fs settings from
# scripts/mke2fs.conf rather than the host's /etc/mke2fs.conf).
# No root is needed (mke2fs -d fills the file system from a directory).
set -euo pipefail

say() { echo "build-disk-images: $*" >&2; }
die() {
	echo "build-disk-images: $*" >&2
	exit 1
}

command -v python3 >/dev/null 2>&1 || die "needs python3"

# data_image NAME FILE MIB: MIB MiB, each 512-byte sector starting with a line
# naming the image and the sector ("hv-data NAME sector N"), the rest of the
# sector from SHAKE-256(NAME) so no two sectors (nor two images) match.
data_image() {
	python3 - "$1" "$2" "$3" <<'PY'
import hashlib, sys
name, path, mib = sys.argv[1], sys.argv[2], int(sys.argv[3])
sectors = mib * 2048
stream = hashlib.shake_256(("hv-data " + name).encode()).digest(sectors * 512)
with open(path + ".tmp", "wb") as f:
    for i in range(0, sectors, 2048):  # 1 MiB at a time
        chunk = bytearray(stream[i * 512:(i + 2048) * 512])
        for s in range(2048):
            head = ("hv-data %s sector %d\n" % (name, i + s)).encode()[:64]
            chunk[s * 512:s * 512 + len(head)] = head
        f.write(chunk)
import os
os.replace(path + ".tmp", path)
PY
}

if [ "${1:-}" = "--data" ]; then
	[ $# -ge 3 ] || die "usage: $0 --data NAME FILE [MIB]"
	data_image "$2" "$3" "${4:-64}"
	exit 0
fi

out=${1:-build/linux-guest}
mkdir -p "$out"
command -v mke2fs >/dev/null 2>&1 || die "needs mke2fs (apt-get install e2fsprogs)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ---- the file system's content ----
tree=$work/tree
mkdir -p "$tree/dir/sub"
cat >"$tree/hello.txt" <<'TXT'
hv test disk: if the guest reads this line back intact, virtio-blk works.
TXT
python3 - "$tree" <<'PY'
import hashlib, os, sys
tree = sys.argv[1]
# 1 MiB pseudo-random, and a few odd sizes that end mid-sector and mid-block
files = {
    "random-1m.bin": 1 << 20,
    "dir/odd-4097.bin": 4097,
    "dir/sub/odd-511.bin": 511,
}
for rel, size in files.items():
    with open(os.path.join(tree, rel), "wb") as f:
        f.write(hashlib.shake_256(("hv-disk " + rel).encode()).digest(size))
with open(os.path.join(tree, "dir/sub/deep.txt"), "w") as f:
    f.write("a file two directories down\n")
PY
# the manifest the guest checks (paths relative to the mount point)
(cd "$tree" && find . -type f | LC_ALL=C sort | sed 's|^\./||' | xargs sha256sum) >"$work/MANIFEST.sha256"
mv "$work/MANIFEST.sha256" "$tree/MANIFEST.sha256"
find "$tree" -exec touch -h -d @0 {} +
chmod -R u=rwX,go=rX "$tree"

# ---- the ext4 image ----
# Our own mke2fs.conf (scripts/mke2fs.conf): the host's decides features and
# block size otherwise (a 24 MiB file system is "small": 1 KiB blocks), so
# images would differ between e2fsprogs packagings.
mke2fs_conf=$(cd "$(dirname "$0")" && pwd)/mke2fs.conf
rm -f "$work/disk.img"
MKE2FS_CONFIG=$mke2fs_conf E2FSPROGS_FAKE_TIME=1 \
	mke2fs -q -F -t ext4 -T ext4 -b 4096 -L hv-test-disk \
	-U 5f1d3a62-7c4e-4b8a-9d2f-0a1b2c3d4e5f \
	-E hash_seed=0c7e9b1a-2d3f-4e5a-8b6c-7d8e9f0a1b2c,root_owner=0:0,lazy_itable_init=0,lazy_journal_init=0 \
	-d "$tree" "$work/disk.img" 24M >"$work/mke2fs.log" 2>&1 || { cat "$work/mke2fs.log" >&2; die "mke2fs failed"; }
# mke2fs -d copies each file's times, and no one can set a ctime (nor keep
# a directory's atime from moving) on the source tree: set all three to the
# epoch in the image instead (debugfs redoes the inode checksums); and every
# file root's, whoever builds.
(cd "$tree" && find . | LC_ALL=C sort | sed 's|^\.|/|; s|^//|/|') |
	awk '{ for (i = 1; i <= 3; i++) { t = substr("acm", i, 1) "time"
		print "sif \"" $0 "\" " t " 0"; print "sif \"" $0 "\" " t "_extra 0" }
		print "sif \"" $0 "\" uid 0"; print "sif \"" $0 "\" gid 0" }' >"$work/times.cmds"
debugfs -w -f "$work/times.cmds" "$work/disk.img" >"$work/debugfs.log" 2>&1 ||
	{ cat "$work/debugfs.log" >&2; die "debugfs failed"; }
if grep -qiE 'error|invalid|not found|usage' "$work/debugfs.log"; then
	cat "$work/debugfs.log" >&2
	die "debugfs could not set the times"
fi
e2fsck -fn "$work/disk.img" >"$work/fsck.log" 2>&1 || { cat "$work/fsck.log" >&2; die "e2fsck finds the image broken"; }
mv "$work/disk.img" "$out/disk.img"

data_image data.img "$work/data.img" 64
mv "$work/data.img" "$out/data.img"

say "$out/disk.img (ext4, $(grep -c . "$tree/MANIFEST.sha256") files), $out/data.img (64 MiB)"
