#!/bin/bash
# Builds the Linux test guest pair from Debian packages: the stock kernel
# (bzImage, Linux boot protocol) and a busybox initramfs whose /init prints
# markers a harness waits for, checks a few things and powers off.
#
#   scripts/build-linux-guest.sh [cloud|generic] [OUTDIR]
#
# cloud (default): linux-image-cloud-amd64, LZ4-compressed, boots ~2.5x faster
#   under emulation; output in build/linux-guest/.
# generic: linux-image-amd64; output in build/linux-guest-generic/.
#
# Output: OUTDIR/vmlinuz, OUTDIR/initrd.img, OUTDIR/kernel-release.
# The .deb files are cached in OUTDIR/debs/ (or $LINUX_GUEST_CACHE): a second
# run downloads nothing unless the archive has a newer kernel. No root is
# needed except to apt-get install cpio when it is missing. Nothing built here
# is committed: build/ is ignored.
#
# What /init prints on the console (one line each, in this order):
#   LINUX-GUEST-UP <uname -r> cpus=<online CPUs> mem=<MemTotal kB>
#   LINUX-GUEST-FLAGS <the flags of /proc/cpuinfo, a dozen a line, as many lines as needed>
#   LINUX-GUEST-MCE ok banks=<N>|none (none: a kernel without CONFIG_X86_MCE)
#   LINUX-GUEST-PVPANIC ok|none
#   LINUX-GUEST-CLOCK ok|stuck uptime=<first>-><second>
#   LINUX-GUEST-TIMER ok|none loc=<LOC total> irq0=<IRQ 0 total>
#   LINUX-GUEST-DONE
# then `poweroff -f` (or, with hv.shell on the kernel command line, a shell).
set -euo pipefail

flavour=${1:-cloud}
case "$flavour" in
cloud) meta=linux-image-cloud-amd64 default_out=build/linux-guest ;;
generic) meta=linux-image-amd64 default_out=build/linux-guest-generic ;;
*)
	echo "usage: $0 [cloud|generic] [OUTDIR]" >&2
	exit 2
	;;
esac
out=${2:-$default_out}
cache=${LINUX_GUEST_CACHE:-$out/debs}

say() { echo "build-linux-guest: $*" >&2; }
die() {
	echo "build-linux-guest: $*" >&2
	exit 1
}

for tool in apt-get apt-cache dpkg-deb gzip find; do
	command -v "$tool" >/dev/null 2>&1 || die "needs $tool (a Debian system)"
done
if ! command -v cpio >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ]; then
		say "installing cpio"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends cpio >/dev/null ||
			{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends cpio >/dev/null; }
	elif command -v sudo >/dev/null 2>&1; then
		say "installing cpio (sudo)"
		sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends cpio >/dev/null
	fi
	command -v cpio >/dev/null 2>&1 || die "needs cpio: apt-get install cpio"
fi

# The meta package depends on exactly one versioned image package
# (linux-image-6.1.0-NN-cloud-amd64): that one holds /boot/vmlinuz-*.
resolve_image() {
	apt-cache depends "$meta" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
image_pkg=$(resolve_image)
if [ -z "$image_pkg" ] && [ "$(id -u)" = 0 ]; then
	say "package lists are empty or stale: apt-get update"
	apt-get update -q >/dev/null
	image_pkg=$(resolve_image)
fi
[ -n "$image_pkg" ] || die "cannot resolve $meta to a versioned linux-image package (apt-get update?)"
say "$meta -> $image_pkg"

mkdir -p "$cache" "$out"
cache=$(cd "$cache" && pwd)
out=$(cd "$out" && pwd)

# Downloads package $1 into the cache unless the candidate version is there;
# prints the .deb's path.
fetch() {
	local pkg=$1 ver file
	ver=$(apt-cache policy "$pkg" | awk '$1 == "Candidate:" { print $2 }')
	if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
		die "no installable candidate for $pkg"
	fi
	# .deb names encode the epoch's ':' as %3a
	file="$cache/${pkg}_${ver//:/%3a}_amd64.deb"
	if [ ! -s "$file" ]; then
		say "downloading $pkg $ver"
		# as root, apt warns that _apt cannot write here: harmless, not shown
		(cd "$cache" && apt-get download -q "$pkg=$ver" 2>&1) |
			grep -v '^W: Download is performed unsandboxed' >&2 || true
		[ -s "$file" ] || die "apt-get download $pkg=$ver gave no $file"
	else
		say "cached $pkg $ver"
	fi
	echo "$file"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

kernel_deb=$(fetch "$image_pkg")
busybox_deb=$(fetch busybox-static)

# ---- the kernel ----
dpkg-deb -x "$kernel_deb" "$work/kernel"
vmlinuz=$(find "$work/kernel/boot" -maxdepth 1 -name 'vmlinuz-*' | head -n 1)
[ -n "$vmlinuz" ] || die "$kernel_deb holds no /boot/vmlinuz-*"
release=${vmlinuz##*/vmlinuz-}
cp "$vmlinuz" "$out/vmlinuz"
echo "$release" >"$out/kernel-release"

# ---- the initramfs ----
dpkg-deb -x "$busybox_deb" "$work/busybox"
root=$work/root
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp"
cp "$work/busybox/bin/busybox" "$root/bin/busybox"
chmod 0755 "$root/bin/busybox"
# pvpanic (a module in this kernel): a panic reaches the hypervisor, whose
# on_crash then acts; the guest's DSDT describes the device (QEMU0001)
mkdir -p "$root/lib/modules" "$root/etc/acpi/PWRF"
cat >"$root/etc/acpi/PWRF/00000080" <<'PWRF'
#!/bin/sh
echo "LINUX-GUEST-POWER-BUTTON: powering off" >/dev/console
sync
poweroff -f
PWRF
chmod 0755 "$root/etc/acpi/PWRF/00000080"
# evdev and button: the ACPI power button reaches busybox's acpid, which
# powers the guest off (what `shutdown NAME` in hv's console asks for)
for m in pvpanic pvpanic-mmio evdev button; do
	ko=$(find "$work/kernel/lib/modules" -name "$m.ko" | head -n 1)
	[ -n "$ko" ] || die "$kernel_deb holds no $m.ko"
	cp "$ko" "$root/lib/modules/"
done

# The kernel's built-in initramfs (Debian builds with an empty
# CONFIG_INITRAMFS_SOURCE) already holds /dev/console, so init's stdio is the
# console; devtmpfs is mounted as well in case it is not.
cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1

cpus=$(grep -c '^processor' /proc/cpuinfo)
mem=$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)
echo "LINUX-GUEST-UP $(uname -r) cpus=$cpus mem=$mem"
# What the kernel made of the VM's CPUID (checked against the hypervisor's
# CPUID policy by the tests), and whether its machine-check code took the
# VM's banks (a kernel built with CONFIG_X86_MCE creates machinecheckN).
# (a dozen flags a line: the hypervisor's console cuts long lines)
awk -F': ' '$1 ~ /^flags/ { print $2; exit }' /proc/cpuinfo | xargs -n 12 | sed 's/^/LINUX-GUEST-FLAGS /'
if [ -d /sys/devices/system/machinecheck/machinecheck0 ]; then
	echo "LINUX-GUEST-MCE ok banks=$(ls -d /sys/devices/system/machinecheck/machinecheck0/bank* 2>/dev/null | wc -l)"
else
	echo "LINUX-GUEST-MCE none"
fi

# pvpanic: the core, then the ACPI-described port driver
insmod /lib/modules/pvpanic.ko 2>/dev/null
insmod /lib/modules/pvpanic-mmio.ko 2>/dev/null
if [ -d /sys/bus/platform/drivers/pvpanic-mmio ] &&
	ls /sys/bus/platform/drivers/pvpanic-mmio | grep -q QEMU0001; then
	pvpanic=ok
else
	pvpanic=none
fi
echo "LINUX-GUEST-PVPANIC $pvpanic"
# the power button: busybox acpid runs /etc/acpi/PWRF/00000080 on a press
insmod /lib/modules/evdev.ko 2>/dev/null
insmod /lib/modules/button.ko 2>/dev/null
mkdir -p /var/run /var/log
acpid -l /dev/null -p /var/run/acpid.pid
# hv.panic on the kernel command line: crash on purpose (tests on_crash)
if grep -q 'hv.panic' /proc/cmdline; then
	echo "LINUX-GUEST-PANICKING"
	echo c >/proc/sysrq-trigger
fi

# The clock ticks: uptime moves across a short sleep.
u1=$(cut -d' ' -f1 /proc/uptime)
sleep 0.2 2>/dev/null || sleep 1
u2=$(cut -d' ' -f1 /proc/uptime)
if [ "$u1" != "$u2" ]; then clock=ok; else clock=stuck; fi
echo "LINUX-GUEST-CLOCK $clock uptime=$u1->$u2"

# Timer interrupts: the local APIC timer (LOC) and the legacy IRQ 0.
sum_irq() {
	awk -v key="$1" '$1 == key { for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; else break }
		END { print s + 0 }' /proc/interrupts
}
loc=$(sum_irq LOC:)
irq0=$(sum_irq 0:)
if [ "$loc" -gt 0 ] || [ "$irq0" -gt 0 ]; then timer=ok; else timer=none; fi
echo "LINUX-GUEST-TIMER $timer loc=$loc irq0=$irq0"

echo "LINUX-GUEST-DONE"
# hv.shell on the kernel command line: stay up with a shell on the console
# (the demo VM of `make run`; reach it with `console NAME` in hv's shell)
if grep -q 'hv.shell' /proc/cmdline; then
	echo "busybox shell on the console; 'poweroff -f' ends the VM"
	while true; do setsid cttyhack sh; done
fi
# hv.reboot on the kernel command line: reset instead (tests on_reboot)
if grep -q 'hv.reboot' /proc/cmdline; then
	reboot -f
fi
poweroff -f
# poweroff failed (no ACPI S5?): halt the kernel instead of panicking on exit
echo o >/proc/sysrq-trigger 2>/dev/null
sleep 1000000
EOF
chmod 0755 "$root/init"

# Reproducible: fixed timestamps, sorted names, root-owned, no gzip name/time.
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --reproducible --quiet) |
	gzip -9 -n >"$work/initrd.img"
mv "$work/initrd.img" "$out/initrd.img"

say "kernel $release: $out/vmlinuz ($(stat -c %s "$out/vmlinuz") bytes)"
say "initramfs: $out/initrd.img ($(stat -c %s "$out/initrd.img") bytes)"
