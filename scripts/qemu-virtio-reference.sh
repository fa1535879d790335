#!/bin/bash
# Runs the Linux test guest on bare QEMU (no hypervisor) with QEMU's own
# virtio-pci devices: the reference the hypervisor's virtio devices are held
# to. The same guest, the same markers (scripts/build-linux-guest.sh).
#
#   scripts/qemu-virtio-reference.sh [cloud|generic]
#
# The VM: q35, 256 MiB, one CPU under TCG; modern-only virtio-pci functions
# (disable-legacy=on, as the hypervisor's are): virtio-blk on a scratch copy
# of build/linux-guest/disk.img (vda), virtio-blk on data.img read-only
# (vdb), virtio-rng, and virtio-serial with a console port (hvc0) whose
# output goes to a file; no NIC, no VGA. Kernel command line: console=ttyS0
# quiet, then $APPEND (and idle=poll with ICOUNT=1).
#
# Environment:
#   APPEND="..."    more kernel command line (e.g. hv.ddbench)
#   ICOUNT=1        -icount shift=0,sleep=off: guest time counts instructions
#                   (the benchmark's reference run reads LINUX-GUEST-DDBENCH),
#                   and idle=poll on the kernel command line: with sleep=off
#                   each HLT waiting for a request jumps the clock to the next
#                   timer deadline (64 MiB "took" 24-45 s of guest time);
#                   a polling idle loop keeps counting instructions instead
#                   (31-35 ms, run to run)
#   DISK_RO=1       vda read-only too (the guest then checks a write is refused)
#   LEGACY=1        transitional virtio-pci functions (legacy I/O BARs too)
#   TIMEOUT=secs    give up after this long (default 300)
#   KEEP=DIR        leave the serial log, the hvc0 log and the disk copy in DIR
#
# Prints the serial log, then a summary; exits 0 when every virtio marker
# says ok (BLK ok, BLK2 present, HWRNG ok, HVC ok with the hello on hvc0,
# at least one virtio MSI/MSI-X vector), 1 otherwise.
set -euo pipefail

flavour=${1:-cloud}
root=$(cd "$(dirname "$0")/.." && pwd)
case "$flavour" in
cloud) dir=$root/build/linux-guest ;;
generic) dir=$root/build/linux-guest-generic ;;
*)
	echo "usage: $0 [cloud|generic]" >&2
	exit 2
	;;
esac
images=$root/build/linux-guest
for f in "$dir/vmlinuz" "$dir/initrd.img" "$images/disk.img" "$images/data.img"; do
	[ -e "$f" ] || {
		echo "qemu-virtio-reference: no $f: run make linux-guest" >&2
		exit 2
	}
done

if [ -n "${KEEP:-}" ]; then
	mkdir -p "$KEEP"
	work=$(cd "$KEEP" && pwd)
else
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
fi
cp "$images/disk.img" "$work/disk.img"
: >"$work/hvc0.log"

legacy=",disable-legacy=on,disable-modern=off"
[ "${LEGACY:-0}" = 1 ] && legacy=""
ro=""
[ "${DISK_RO:-0}" = 1 ] && ro=",readonly=on"
icount=()
append="console=ttyS0 quiet ${APPEND:-}"
if [ "${ICOUNT:-0}" = 1 ]; then
	icount=(-icount shift=0,sleep=off)
	append="$append idle=poll"
fi

start=$(date +%s.%N)
set +e
timeout "${TIMEOUT:-300}" qemu-system-x86_64 -M q35 -cpu max -m 256 -smp 1 "${icount[@]}" \
	-display none -vga none -nic none -monitor none -serial stdio -no-reboot \
	-kernel "$dir/vmlinuz" -initrd "$dir/initrd.img" \
	-append "$append" \
	-drive "file=$work/disk.img,if=none,id=d0,format=raw$ro" \
	-device "virtio-blk-pci,drive=d0$legacy" \
	-drive "file=$images/data.img,if=none,id=d1,format=raw,readonly=on" \
	-device "virtio-blk-pci,drive=d1$legacy" \
	-device "virtio-rng-pci$legacy" \
	-device "virtio-serial-pci$legacy" \
	-chardev "file,id=c1,path=$work/hvc0.log" -device virtconsole,chardev=c1 \
	</dev/null | tr -d '\r' | tee "$work/serial.log"
rc=${PIPESTATUS[0]}
set -e
end=$(date +%s.%N)

log=$work/serial.log
marker() { sed -n "s/^$1 //p" "$log" | tail -n 1; }
fails=""
grep -q '^LINUX-GUEST-DONE' "$log" || fails="$fails done"
case "$(marker LINUX-GUEST-BLK)" in
"ok files="*" write=ok" | "ok files="*" write=refused") ;;
*) fails="$fails blk" ;;
esac
grep -q '^LINUX-GUEST-BLK2 size=67108864 ' "$log" || fails="$fails blk2"
case "$(marker LINUX-GUEST-HWRNG)" in "ok bytes=64 "*) ;; *) fails="$fails hwrng" ;; esac
[ "$(marker LINUX-GUEST-HVC)" = ok ] || fails="$fails hvc"
grep -q 'LINUX-GUEST-HVC-HELLO' "$work/hvc0.log" || fails="$fails hvc-hello"
case "$(marker LINUX-GUEST-VIRTIO-IRQS)" in 0 | "") fails="$fails irqs" ;; esac
[ "$(grep -c '^LINUX-GUEST-PCI .* 1af4:' "$log")" -ge 4 ] || fails="$fails pci"
if grep -q 'hv.ddbench' <<<"${APPEND:-}"; then
	grep -q '^LINUX-GUEST-DDBENCH bytes=67108864 ns=[1-9]' "$log" || fails="$fails ddbench"
fi

echo "qemu-virtio-reference: $flavour: qemu exit $rc, $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s" \
	"(hvc0 got: $(tr -d '\r' <"$work/hvc0.log" | grep -c LINUX-GUEST-HVC-HELLO) hello)" >&2
if [ -n "$fails" ]; then
	echo "qemu-virtio-reference: FAIL:$fails" >&2
	exit 1
fi
echo "qemu-virtio-reference: all virtio markers ok" >&2
