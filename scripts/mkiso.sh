#!/bin/sh
# Builds a hybrid ISO that boots the hypervisor through GRUB on BIOS and
# UEFI machines, from CD or (written with dd) from a USB stick.
#   mkiso.sh OUT.iso HV.ELF GRUB.CFG [MODULE...]
# Modules are copied to /boot/vms/ under their own file names.
# With HV_ESP_EXTRA=DIR, DIR's files also go into the image's EFI system
# partition (hvboot.efi and its files, see the Makefile), and DIR/EFI/hv/
# hvboot.efi into the ISO tree too, for GRUB to chainload it from a CD.
set -e
out=$1
elf=$2
cfg=$3
shift 3
[ -n "$out" ] && [ -f "$elf" ] && [ -f "$cfg" ] || {
	echo "usage: mkiso.sh OUT.iso HV.ELF GRUB.CFG [MODULE...]" >&2
	exit 2
}
for platform in i386-pc x86_64-efi; do
	[ -d /usr/lib/grub/$platform ] || {
		echo "mkiso: GRUB for $platform is missing (run scripts/install-deps.sh)" >&2
		exit 1
	}
done

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/boot/grub" "$stage/boot/vms"
cp "$elf" "$stage/boot/hv.elf"
cp "$cfg" "$stage/boot/grub/grub.cfg"
for m in "$@"; do
	cp "$m" "$stage/boot/vms/"
done
if [ -n "${HV_ESP_EXTRA:-}" ] && [ -f "$HV_ESP_EXTRA/EFI/hv/hvboot.efi" ]; then
	mkdir -p "$stage/EFI/hv"
	cp "$HV_ESP_EXTRA/EFI/hv/hvboot.efi" "$stage/EFI/hv/"
fi
mkdir -p "$(dirname "$out")"
grub-mkrescue --xorriso="$(cd "$(dirname "$0")" && pwd)/xorriso-esp.sh" -o "$out" "$stage" >"$stage.log" 2>&1 || {
	cat "$stage.log" >&2
	rm -f "$stage.log"
	exit 1
}
rm -f "$stage.log"
