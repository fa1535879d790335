#!/bin/sh
# Boots the hypervisor ISO under QEMU with the serial console on this
# terminal. Leave with Ctrl-A X. Environment:
#   SMP=4 MEM=2G     cores and memory of the emulated machine
#   FIRMWARE=uefi    boot through OVMF instead of SeaBIOS
#   ACCEL=kvm        use KVM where /dev/kvm exists (default: TCG, -cpu max)
set -e
iso=${1:-build/hv.iso}
smp=${SMP:-4}
mem=${MEM:-2G}
accel=${ACCEL:-tcg}
fw=""
if [ "${FIRMWARE:-bios}" = uefi ]; then
	vars=$(mktemp)
	cp /usr/share/OVMF/OVMF_VARS_4M.fd "$vars"
	fw="-drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd -drive if=pflash,format=raw,file=$vars"
fi
cpu="-cpu max"
[ "$accel" = kvm ] && cpu="-cpu host"
echo "run-qemu: booting $iso on $smp cores, $mem RAM ($accel); Ctrl-A X quits"
# shellcheck disable=SC2086
exec qemu-system-x86_64 -machine q35,accel=$accel $cpu -smp "$smp" -m "$mem" \
	-cdrom "$iso" -boot d $fw \
	-display none -serial mon:stdio -no-reboot
