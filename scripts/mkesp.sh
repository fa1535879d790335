#!/bin/sh
# Builds a disk image that boots the hypervisor on UEFI machines without
# GRUB: a GPT disk with one EFI system partition (FAT) holding only
#   \EFI\BOOT\BOOTX64.EFI   hvboot.efi (the firmware's default loader path)
#   \EFI\BOOT\hv.cfg        its configuration
#   \EFI\BOOT\hv.elf        the hypervisor
#   \EFI\BOOT\vms\*         the modules, under their own file names
#
#   mkesp.sh OUT.img HVBOOT.EFI HV.ELF HV.CFG [MODULE...]
#   mkesp.sh --fat OUT.fat ...     the FAT file system alone, no partition table
#
# Write it to a USB stick with dd (see the README). mtools and sgdisk work on
# files: no root, no loop devices.
set -eu

fat_only=0
if [ "${1:-}" = --fat ]; then
	fat_only=1
	shift
fi
[ $# -ge 4 ] || {
	echo "usage: mkesp.sh [--fat] OUT.img HVBOOT.EFI HV.ELF HV.CFG [MODULE...]" >&2
	exit 2
}
out=$1
efi=$2
elf=$3
cfg=$4
shift 4
for f in "$efi" "$elf" "$cfg" "$@"; do
	[ -f "$f" ] || {
		echo "mkesp: $f is missing" >&2
		exit 1
	}
done
command -v mformat >/dev/null 2>&1 || {
	echo "mkesp: mtools is missing (run scripts/install-deps.sh)" >&2
	exit 1
}

# size: the files, plus FAT overhead and room to spare, in whole MiB (>= 16)
bytes=$(cat "$efi" "$elf" "$cfg" "$@" | wc -c)
mib=$(((bytes * 11 / 10 + 4 * 1048576 + 1048575) / 1048576))
[ "$mib" -ge 16 ] || mib=16

fat=$out.fat.tmp
rm -f "$fat"
truncate -s "${mib}M" "$fat"
mformat -i "$fat" -T $((mib * 2048)) -h 64 -s 32 -v HVBOOT ::
mmd -i "$fat" ::/EFI ::/EFI/BOOT ::/EFI/BOOT/vms
mcopy -i "$fat" "$efi" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$fat" "$elf" ::/EFI/BOOT/hv.elf
mcopy -i "$fat" "$cfg" ::/EFI/BOOT/hv.cfg
for m in "$@"; do
	mcopy -i "$fat" "$m" "::/EFI/BOOT/vms/$(basename "$m")"
done

mkdir -p "$(dirname "$out")"
if [ "$fat_only" = 1 ]; then
	mv "$fat" "$out"
	exit 0
fi
command -v sgdisk >/dev/null 2>&1 || {
	echo "mkesp: sgdisk is missing (run scripts/install-deps.sh)" >&2
	exit 1
}
# GPT: the partition from 1 MiB, then 1 MiB for the backup header
img=$out.tmp
rm -f "$img"
truncate -s $((mib + 2))M "$img"
sgdisk -n 1:2048:+${mib}M -t 1:ef00 -c 1:"EFI system partition" "$img" >/dev/null
dd if="$fat" of="$img" bs=1M seek=1 conv=notrunc status=none
rm -f "$fat"
mv "$img" "$out"
