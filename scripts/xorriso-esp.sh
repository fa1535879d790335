#!/bin/sh
# grub-mkrescue's xorriso (mkiso.sh passes it with --xorriso=): before the
# image is written, puts the files of $HV_ESP_EXTRA (a directory) into the
# EFI system partition grub-mkrescue made (efi.img, GRUB's BOOTX64.EFI
# alone on a 2.88 MB FAT), rebuilt as large as they need. hvboot.efi, its
# hv.cfg, hv.elf and small VMs then sit in the ESP, where UEFI can read them
# (it cannot read the ISO 9660 tree). Without HV_ESP_EXTRA: plain xorriso.
set -eu

if [ -n "${HV_ESP_EXTRA:-}" ]; then
	img=
	for a in "$@"; do
		if [ -d "$a" ] && [ -f "$a/efi.img" ]; then
			img=$a/efi.img
		fi
	done
	# grub-mkrescue also runs xorriso to learn its options: nothing to add then
	[ -n "$img" ] || exec xorriso "$@"
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	mcopy -s -i "$img" ::/EFI "$work/"
	cp -r "$HV_ESP_EXTRA"/. "$work/"
	bytes=$(du -sb "$work" | cut -f1)
	# FAT overhead and slack; El Torito images stay far below its 32 MiB
	mib=$(((bytes * 11 / 10 + 2 * 1048576 + 1048575) / 1048576))
	[ "$mib" -ge 4 ] || mib=4
	rm -f "$img"
	truncate -s "${mib}M" "$img"
	mformat -i "$img" -T $((mib * 2048)) -h 64 -s 32 -v ESP ::
	for f in "$work"/*; do
		mcopy -s -i "$img" "$f" ::/
	done
fi
exec xorriso "$@"
