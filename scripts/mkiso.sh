#!/bin/sh
# Builds a hybrid ISO that boots the hypervisor through GRUB on BIOS and
# UEFI machines, from CD or (written with dd) from a USB stick.
#   mkiso.sh OUT.iso HV.ELF GRUB.CFG [MODULE...]
# Modules are copied to /boot/vms/ under their own file names.
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
mkdir -p "$(dirname "$out")"
grub-mkrescue -o "$out" "$stage" >"$stage.log" 2>&1 || {
	cat "$stage.log" >&2
	rm -f "$stage.log"
	exit 1
}
rm -f "$stage.log"
