#!/bin/sh
# Boots the hypervisor ISO under QEMU with the serial console on this
# terminal. Leave with Ctrl-A X. Environment:
#   SMP=4 MEM=2G     cores and memory of the emulated machine
#   FIRMWARE=uefi    boot through OVMF instead of SeaBIOS
#   ACCEL=kvm        use KVM where /dev/kvm exists (default: TCG, -cpu max)
#   MGMT_PORT=8080   the host port (127.0.0.1 only) forwarded to the management API
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
mgmt_port=${MGMT_PORT:-8080}
echo "run-qemu: booting $iso on $smp cores, $mem RAM ($accel); Ctrl-A X quits"
token=$(dirname "$iso")/mgmt.token
[ -r "$token" ] &&
	echo "run-qemu: management API at 127.0.0.1:$mgmt_port: scripts/hvctl --host 127.0.0.1 --port $mgmt_port --token \$(cat $token) list"
# shellcheck disable=SC2086
exec qemu-system-x86_64 -machine q35,accel=$accel $cpu -smp "$smp" -m "$mem" \
	-cdrom "$iso" -boot d $fw \
	-netdev user,id=n0,hostfwd=tcp:127.0.0.1:"$mgmt_port"-:8080 -device e1000e,netdev=n0 \
	-display none -serial mon:stdio -no-reboot
