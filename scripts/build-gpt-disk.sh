#!/bin/bash
# Builds the host disk the persistent-disk tests attach to QEMU as an NVMe
# namespace or a SATA disk (tests/integration/test_host_disks.py, issue 13):
# a raw image with a GUID Partition Table holding two ext4 partitions, each
# the disk of one VM (named in a VM file by `target=partlabel:vm-alpha` or
# `target=partuuid:UUID`).
#
#   scripts/build-gpt-disk.sh OUT.img [TOTAL_MIB [PART_MIB]]
#
# Layout (512-byte sectors; defaults TOTAL_MIB=160, PART_MIB=64):
#   LBA 0          protective MBR
#   LBA 1..33      primary GPT header and its 128-entry array
#   partition 1    label vm-alpha, from 1 MiB, PART_MIB MiB, ext4
#   partition 2    label vm-beta, right after it (no gap), PART_MIB MiB, ext4
#   the rest       unpartitioned, zero, then the backup GPT (last 33 sectors)
# GUIDs (fixed, so tests can name partitions by partuuid:):
#   disk      6a1c7e0e-3b1f-4c52-9d0a-5e7f10a2b001
#   vm-alpha  0b7d3c59-7a41-4d1e-8c36-a1f2e3d4c5a1
#   vm-beta   0b7d3c59-7a41-4d1e-8c36-a1f2e3d4c5b2
# Each file system (label = the partition's) holds:
#   /hello.txt          one line naming the partition
#   /random-1m.bin      1 MiB from SHAKE-256 of the partition's name
#   /dir/odd-4097.bin   4097 bytes, likewise (ends mid-block)
#   /MANIFEST.sha256    the sha256 of each file above (the guest runs
#                       `sha256sum -c` on it; scripts/build-linux-guest.sh's
#                       hv.disktest)
# The image is reproducible (fixed content, UUIDs, hash seeds and times, and
# mke2fs settings from scripts/mke2fs.conf), so a test can compare a
# partition byte for byte with a fresh build. No root is needed: sgdisk
# works on a file, mke2fs -d fills a file system from a directory.
# Nothing built here is committed: tests build it into a temporary folder.
set -euo pipefail

say() { echo "build-gpt-disk: $*" >&2; }
die() {
	echo "build-gpt-disk: $*" >&2
	exit 1
}

[ $# -ge 1 ] || die "usage: $0 OUT.img [TOTAL_MIB [PART_MIB]]"
out=$1
total=${2:-160}
part=${3:-64}
command -v sgdisk >/dev/null 2>&1 || die "needs sgdisk (apt-get install gdisk)"
command -v mke2fs >/dev/null 2>&1 || die "needs mke2fs (apt-get install e2fsprogs)"
command -v python3 >/dev/null 2>&1 || die "needs python3"
# 1 MiB before, 1 MiB (well over the 33-sector backup GPT) after
[ $((2 * part + 2)) -le "$total" ] || die "two ${part} MiB partitions do not fit in ${total} MiB"

DISK_GUID=6a1c7e0e-3b1f-4c52-9d0a-5e7f10a2b001
LINUX_FS=0fc63daf-8483-4772-8e79-3d69d8477de4
labels=(vm-alpha vm-beta)
guids=(0b7d3c59-7a41-4d1e-8c36-a1f2e3d4c5a1 0b7d3c59-7a41-4d1e-8c36-a1f2e3d4c5b2)
# ext4 UUIDs and directory hash seeds (fixed: reproducible images)
fs_uuids=(2c4f8a10-5b6d-4e7f-8a9b-0c1d2e3f4a01 2c4f8a10-5b6d-4e7f-8a9b-0c1d2e3f4a02)
seeds=(7e1a2b3c-4d5e-4f60-8172-839405a6b701 7e1a2b3c-4d5e-4f60-8172-839405a6b702)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The same mke2fs settings on every host: scripts/mke2fs.conf, not the host's.
mke2fs_conf=$(cd "$(dirname "$0")" && pwd)/mke2fs.conf

# ---- the partition table ----
truncate -s "${total}M" "$work/disk.img"
first=2048
sectors=$((part * 2048))
args=(-o -U "$DISK_GUID")
for i in 0 1; do
	n=$((i + 1))
	start=$((first + i * sectors))
	args+=(-n "$n:$start:$((start + sectors - 1))" -t "$n:$LINUX_FS" -u "$n:${guids[$i]}" -c "$n:${labels[$i]}")
done
sgdisk "${args[@]}" "$work/disk.img" >"$work/sgdisk.log" 2>&1 || { cat "$work/sgdisk.log" >&2; die "sgdisk failed"; }
sgdisk -v "$work/disk.img" >"$work/verify.log" 2>&1 || { cat "$work/verify.log" >&2; die "sgdisk -v finds the table bad"; }

# ---- each partition's file system ----
for i in 0 1; do
	label=${labels[$i]}
	tree=$work/tree-$label
	mkdir -p "$tree/dir"
	echo "hv host disk partition $label: if a VM reads this line, its partition is the right one" >"$tree/hello.txt"
	python3 - "$tree" "$label" <<'PY'
import hashlib, os, sys
tree, label = sys.argv[1], sys.argv[2]
for rel, size in (("random-1m.bin", 1 << 20), ("dir/odd-4097.bin", 4097)):
    with open(os.path.join(tree, rel), "wb") as f:
        f.write(hashlib.shake_256(("hv-gpt %s %s" % (label, rel)).encode()).digest(size))
PY
	(cd "$tree" && find . -type f | LC_ALL=C sort | sed 's|^\./||' | xargs sha256sum) >"$work/MANIFEST.sha256"
	mv "$work/MANIFEST.sha256" "$tree/MANIFEST.sha256"
	find "$tree" -exec touch -h -d @0 {} +
	chmod -R u=rwX,go=rX "$tree"
	fs=$work/$label.ext4
	MKE2FS_CONFIG=$mke2fs_conf E2FSPROGS_FAKE_TIME=1 \
		mke2fs -q -F -t ext4 -T ext4 -b 4096 -L "$label" -U "${fs_uuids[$i]}" \
		-E "hash_seed=${seeds[$i]},root_owner=0:0,lazy_itable_init=0,lazy_journal_init=0" \
		-d "$tree" "$fs" "${part}M" >"$work/mke2fs.log" 2>&1 || { cat "$work/mke2fs.log" >&2; die "mke2fs $label failed"; }
	# mke2fs -d copies each file's times, and nothing sets a ctime on the
	# source tree: set all three to the epoch in the image, and every file
	# root's (debugfs redoes the inode checksums)
	(cd "$tree" && find . | LC_ALL=C sort | sed 's|^\.|/|; s|^//|/|') |
		awk '{ for (i = 1; i <= 3; i++) { t = substr("acm", i, 1) "time"
			print "sif \"" $0 "\" " t " 0"; print "sif \"" $0 "\" " t "_extra 0" }
			print "sif \"" $0 "\" uid 0"; print "sif \"" $0 "\" gid 0" }' >"$work/times.cmds"
	debugfs -w -f "$work/times.cmds" "$fs" >"$work/debugfs.log" 2>&1 || { cat "$work/debugfs.log" >&2; die "debugfs failed"; }
	if grep -qiE 'error|invalid|not found|usage' "$work/debugfs.log"; then
		cat "$work/debugfs.log" >&2
		die "debugfs could not set the times"
	fi
	e2fsck -fn "$fs" >"$work/fsck.log" 2>&1 || { cat "$work/fsck.log" >&2; die "e2fsck finds $label broken"; }
	dd if="$fs" of="$work/disk.img" bs=1M seek=$((1 + i * part)) conv=notrunc,sparse status=none
done

mv "$work/disk.img" "$out"
say "$out: ${total} MiB, GPT: vm-alpha (${guids[0]}), vm-beta (${guids[1]}), ${part} MiB ext4 each"
