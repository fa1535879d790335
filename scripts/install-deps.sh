#!/bin/sh
# Installs the Debian packages the build and tests need, when any is missing.
# Safe to run again: it only calls apt-get when something is absent.
set -e

# command-or-file:package pairs
NEEDS="
gcc:gcc
make:make
grub-mkrescue:grub-common
/usr/lib/grub/i386-pc/multiboot2.mod:grub-pc-bin
/usr/lib/grub/x86_64-efi/multiboot2.mod:grub-efi-amd64-bin
xorriso:xorriso
cpio:cpio
/usr/sbin/mke2fs:e2fsprogs
/usr/sbin/sgdisk:gdisk
objcopy:binutils
python3:python3
mformat:mtools
/usr/include/efi/efi.h:gnu-efi
qemu-system-x86_64:qemu-system-x86
/usr/share/OVMF/OVMF_CODE_4M.fd:ovmf
/usr/share/seabios/bios.bin:seabios
/usr/include/cmocka.h:libcmocka-dev
/usr/lib/python3/dist-packages/pytest/__init__.py:python3-pytest
/usr/lib/python3/dist-packages/pexpect/__init__.py:python3-pexpect
bochs:bochs
/usr/share/bochs/BIOS-bochs-latest:bochsbios
/usr/share/vgabios/vgabios.bin:vgabios
iasl:acpica-tools
curl:curl
/usr/lib/python3/dist-packages/prometheus_client/__init__.py:python3-prometheus-client
dpkg-source:dpkg-dev

"

missing=""
for pair in $NEEDS; do
	what=${pair%%:*}
	pkg=${pair#*:}
	case "$what" in
	/*) [ -e "$what" ] && continue ;;
	*) command -v "$what" >/dev/null 2>&1 && continue ;;
	esac
	case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
done

[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root (or sudo) to install:$missing" >&2; exit 1; }
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
