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
#   LINUX-GUEST-MEMHIGH <start>-<end> ...|none (System RAM above 4 GiB, hex, /proc/iomem)
#   LINUX-GUEST-FLAGS <the flags of /proc/cpuinfo, a dozen a line, as many lines as needed>
#   LINUX-GUEST-MCE ok banks=<N>|none (none: a kernel without CONFIG_X86_MCE)
#   LINUX-GUEST-PVPANIC ok|none
#   LINUX-GUEST-CLOCK ok|stuck uptime=<first>-><second>
#   LINUX-GUEST-TIMER ok|none loc=<LOC total> irq0=<IRQ 0 total>
#   LINUX-GUEST-MODULES loaded=<N> failed=<names>|none (only with a
#     virtio function, vendor 0x1af4, on the PCI bus: then the drivers load)
#   LINUX-GUEST-PCI <slot> <vendor>:<device> <class> <driver>|- (one per
#     PCI function) or LINUX-GUEST-PCI none
#   LINUX-GUEST-VIRTIO-IRQS <N> <names...> (the MSI/MSI-X vectors named
#     virtio*, five names a line, N on each)
#   LINUX-GUEST-BLK none|ok files=<N> write=ok|refused|fail <why> (/dev/vda:
#     the ext4 disk.img of scripts/build-disk-images.sh)
#   DISKTEST write|verify ok <sha256> files=<N> bytes=<B> | DISKTEST FAIL <why>
#     (instead of LINUX-GUEST-BLK, only with hv.disktest=write|verify: /dev/vda
#     a partition of scripts/build-gpt-disk.sh's disk; see disk_test in /init)
#   LINUX-GUEST-BLK2 size=<bytes> ro=0|1 sha=<sha256 of the first MiB>
#     tag=<what its first line says> (only with a /dev/vdb)
#   LINUX-GUEST-BLKSHA <dev> size=<bytes> sha=<sha256> | FAIL <why> (hv.blksha=DEV)
#   LINUX-GUEST-HWRNG ok|fail|none bytes=<N> rng=<hw_random's current>
#   LINUX-GUEST-HVC ok|none (and LINUX-GUEST-HVC-HELLO on /dev/hvc0 itself,
#     where a shell then runs)
#   LINUX-GUEST-DDBENCH bytes=<N> ns=<elapsed> bs=<B> jobs=<J> clock=timer_list|uptime
#     iflag=direct|cached (only with hv.ddbench: 64 MiB read from /dev/vdb)
#   LINUX-GUEST-BLKBENCH mode=seq|rand dev=<name> bytes=<N> ns=<elapsed>
#     reads=<device read requests> bs=<B> clock=... | LINUX-GUEST-BLKBENCH FAIL <why>
#     (only with hv.blkbench=seq|rand, no LINUX-GUEST-BLK then: see /init)
#   LINUX-GUEST-NET ok eth0 mac=<MAC> ip=<IP/PREFIX> | LINUX-GUEST-NET FAIL <why>
#   LINUX-GUEST-NETIRQS <N> <driver> <PCI-MSI:name>... (after NET ok: eth0's
#     MSI/MSI-X vectors in /proc/interrupts)
#     (only with hv.net=IP/PREFIX or hv.net=dhcp (also hvnet=): eth0 configured;
#     hv.netmac=MAC first gives eth0 that MAC, which the device does not know)
#   LINUX-GUEST-PING ok|fail <IP> sent=<N> recv=<M> (hv.ping=IP; waits for the peer
#     up to hv.pingwait seconds, default 120)
#   LINUX-GUEST-NCRECV ok bytes=<N> sha=<sha256> | FAIL <why> (hv.ncrecv=PORT:
#     one TCP stream received with busybox nc)
#   LINUX-GUEST-NCSEND ok bytes=<N> sha=<sha256> ns=<elapsed> clock=... | FAIL <why>
#     (hv.ncsend=IP:PORT:MIB: MIB MiB of /dev/urandom sent with busybox nc)
#   LINUX-GUEST-NETSTAT rx_packets=<N> tx_packets=<N> rx_bytes=<N> tx_bytes=<N> (eth0's)
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

for tool in apt-get apt-cache dpkg-deb gzip find objcopy; do
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
# blkread: timed O_DIRECT random reads for hv.blkbench (no libc: raw syscalls)
command -v gcc >/dev/null 2>&1 || die "needs gcc"
gcc -static -nostdlib -O2 -Wall -Wextra -Werror -ffreestanding -fno-builtin -fno-stack-protector \
	-fno-pie -no-pie -fcf-protection=none -Wl,--build-id=none -s \
	-o "$root/bin/blkread" "$(dirname "$0")/linux-guest/blkread.c" || die "cannot build blkread"
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

# ---- virtio: the stock drivers for the VM's virtio-pci devices ----
# Whatever of these the kernel builds as modules goes into the initramfs with
# everything it needs, in load order (/lib/modules/virtio/order); what it
# builds in (modules.builtin) is skipped. The .deb ships no modules.dep (depmod
# runs at install), so dependencies come from each module's own .modinfo
# (depends=, and softdep=pre: for what ext4/jbd2 find through the crypto API).
# virtio-rng needs rng-core and ext4 jbd2/mbcache/crc16/crc32c: built in on
# cloud, modules on generic.
moddir=$(find "$work/kernel/lib/modules" -mindepth 1 -maxdepth 1 -type d | head -n 1)
[ -n "$moddir" ] || die "$kernel_deb holds no /lib/modules/<release>"
# name (dashes as underscores) -> path, for every module file in the package
find "$moddir/kernel" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz' |
	awk '{ n = $0; sub(/.*\//, "", n); sub(/\.ko(\.(xz|zst|gz))?$/, "", n); gsub(/-/, "_", n); print n, $0 }' |
	LC_ALL=C sort -k1,1 -u >"$work/modindex"
sed 's|.*/||; s|\.ko$||; s|-|_|g' "$moddir/modules.builtin" | LC_ALL=C sort -u >"$work/builtin"
mkdir -p "$work/ko" "$root/lib/modules/virtio"
# module_file NAME: the uncompressed .ko for NAME (in $work/ko), or nothing
module_file() {
	local path
	path=$(awk -v n="$1" '$1 == n { print $2; exit }' "$work/modindex")
	[ -n "$path" ] || return 0
	if [ ! -e "$work/ko/$1.ko" ]; then
		case "$path" in
		*.ko.xz) xz -dc "$path" >"$work/ko/$1.ko" ;;
		*.ko.zst) zstd -qdc "$path" >"$work/ko/$1.ko" ;;
		*.ko.gz) gzip -dc "$path" >"$work/ko/$1.ko" ;;
		*) cp "$path" "$work/ko/$1.ko" ;;
		esac
	fi
	echo "$work/ko/$1.ko"
}
modinfo_field() { # FILE FIELD: the values of FIELD= in the module's .modinfo
	objcopy -O binary --only-section=.modinfo "$1" "$work/modinfo" &&
		tr '\0' '\n' <"$work/modinfo" | sed -n "s/^$2=//p"
}
is_builtin() { grep -qx "$1" "$work/builtin"; }
# add_module NAME REQUIRED: NAME's dependencies, then NAME, onto the order
add_module() {
	local name=${1//-/_} required=$2 ko dep
	grep -qx "$name" "$work/modorder" 2>/dev/null && return 0
	is_builtin "$name" && return 0
	ko=$(module_file "$name")
	if [ -z "$ko" ]; then
		[ "$required" = 1 ] && die "$kernel_deb has $name neither built in nor as a module"
		return 0
	fi
	for dep in $(modinfo_field "$ko" depends | tr ',' ' '); do
		add_module "$dep" 1
	done
	# softdep=pre: names modules or aliases (crypto-crc32c: crc32c_generic)
	for dep in $(modinfo_field "$ko" softdep | sed -n 's/ post:.*//; s/^pre: *//p'); do
		dep=${dep//-/_}
		case "$dep" in crypto_*) dep=${dep#crypto_} ;; esac
		if [ -z "$(module_file "$dep")" ] && ! is_builtin "$dep"; then dep=${dep}_generic; fi
		add_module "$dep" 0
	done
	cp "$ko" "$root/lib/modules/virtio/$name.ko"
	echo "$name" >>"$work/modorder"
}
: >"$work/modorder"
for m in virtio_pci virtio_blk virtio_console virtio_rng virtio_net ext4 crc32c_generic; do
	add_module "$m" 1
done
# e1000e and nvme for devices passed through to the VM (device assignment):
# modules on the generic kernel; the cloud kernel has no e1000e (skipped)
add_module e1000e 0
add_module nvme 0
cp "$work/modorder" "$root/lib/modules/virtio/order"
say "virtio modules: $(tr '\n' ' ' <"$work/modorder")"

# udhcpc's script (busybox's default path): the lease's address and router on eth0
mkdir -p "$root/usr/share/udhcpc"
cat >"$root/usr/share/udhcpc/default.script" <<'DHCP'
#!/bin/sh
case "$1" in
deconfig)
	ip addr flush dev "$interface"
	ip link set "$interface" up
	;;
bound | renew)
	ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}"
	for r in $router; do
		ip route replace default via "$r" dev "$interface"
		break
	done
	echo "$ip/${mask:-24}" >/tmp/udhcpc.lease
	;;
esac
exit 0
DHCP
chmod 0755 "$root/usr/share/udhcpc/default.script"

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
# RAM above 4 GiB: a VM of more than 3 GiB has the rest of its RAM past the
# 32-bit hole (top-level System RAM ranges of /proc/iomem, 9+ hex digits)
memhigh=$(grep 'System RAM' /proc/iomem | grep -v '^ ' |
	awk -F'[- ]' 'length($1) > 8 { printf "%s%s-%s", sep, $1, $2; sep = " " }')
echo "LINUX-GUEST-MEMHIGH ${memhigh:-none}"
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

# ---- virtio-pci devices: block, console, entropy ----
# The drivers load only when a virtio function (vendor 0x1af4) is on the bus:
# a VM without one spends nothing here but a look at sysfs.
virtio=0
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor" 2>/dev/null)" = 0x1af4 ] && virtio=1
done
if [ "$virtio" = 1 ]; then
	loaded=0
	failed=""
	while read -r m; do
		if insmod "/lib/modules/virtio/$m.ko" 2>/dev/null; then
			loaded=$((loaded + 1))
		else
			failed="$failed $m"
		fi
	done </lib/modules/virtio/order
	failed=$(echo $failed | tr ' ' ,)
	echo "LINUX-GUEST-MODULES loaded=$loaded failed=${failed:-none}" | cut -c1-140
	# console ports come up after the driver's probe (the device announces
	# them on its control queue): give hvc0 a moment
	if grep -qx 0x0003 /sys/bus/virtio/devices/*/device 2>/dev/null; then
		i=0
		while [ ! -e /dev/hvc0 ] && [ $i -lt 30 ]; do
			usleep 100000
			i=$((i + 1))
		done
	fi
fi
# every PCI function: slot, vendor:device, class, the driver bound to it
npci=0
for d in /sys/bus/pci/devices/*; do
	[ -e "$d/vendor" ] || continue
	drv=-
	[ -e "$d/driver" ] && drv=$(basename "$(readlink "$d/driver")")
	ven=$(cat "$d/vendor")
	dev=$(cat "$d/device")
	echo "LINUX-GUEST-PCI ${d##*/} ${ven#0x}:${dev#0x} $(cat "$d/class") $drv"
	npci=$((npci + 1))
done
[ "$npci" = 0 ] && echo "LINUX-GUEST-PCI none"
# the virtio drivers' MSI/MSI-X vectors (virtioN-config, virtioN-req.0, ...),
# five names a line
irqs=$(awk '/PCI-MSI/ && $NF ~ /^virtio/ { print $NF }' /proc/interrupts)
nirq=$(echo $irqs | wc -w)
if [ "$nirq" = 0 ]; then
	echo "LINUX-GUEST-VIRTIO-IRQS 0"
else
	echo $irqs | xargs -n 5 | sed "s/^/LINUX-GUEST-VIRTIO-IRQS $nirq /"
fi

# /dev/vda: the ext4 image of scripts/build-disk-images.sh. Read-only first:
# every file against the manifest written at build time; then (a writable
# disk) write 1 MiB and its sha256, unmount, drop the caches, mount again and
# check it came back from the device; (a read-only disk) check a write to
# the device is refused.
blk_check() {
	[ -b /dev/vda ] || { echo "LINUX-GUEST-BLK none"; return; }
	mkdir -p /mnt/vda
	ro=$(cat /sys/block/vda/ro)
	mount -t ext4 -o ro /dev/vda /mnt/vda || { echo "LINUX-GUEST-BLK fail mount-ro"; return; }
	files=$(grep -c . /mnt/vda/MANIFEST.sha256 2>/dev/null)
	if ! (cd /mnt/vda && sha256sum -c -s MANIFEST.sha256); then
		umount /mnt/vda
		echo "LINUX-GUEST-BLK fail manifest files=$files"
		return
	fi
	umount /mnt/vda
	if [ "$ro" = 1 ]; then
		# sector 0 written back as read (ext4 leaves it unused): EPERM
		dd if=/dev/vda of=/tmp/sector0 bs=512 count=1 2>/dev/null
		if dd if=/tmp/sector0 of=/dev/vda bs=512 count=1 conv=notrunc,fsync 2>/dev/null; then
			echo "LINUX-GUEST-BLK fail files=$files write=accepted"
		else
			echo "LINUX-GUEST-BLK ok files=$files write=refused"
		fi
		return
	fi
	mount -t ext4 /dev/vda /mnt/vda || { echo "LINUX-GUEST-BLK fail mount-rw files=$files"; return; }
	dd if=/dev/urandom of=/mnt/vda/guest-write.bin bs=64k count=16 2>/dev/null &&
		(cd /mnt/vda && sha256sum guest-write.bin >guest-write.sha256)
	w=$?
	sync
	umount /mnt/vda || w=1
	echo 3 >/proc/sys/vm/drop_caches
	if [ "$w" != 0 ]; then
		echo "LINUX-GUEST-BLK fail files=$files write=failed"
		return
	fi
	mount -t ext4 -o ro /dev/vda /mnt/vda || { echo "LINUX-GUEST-BLK fail remount files=$files"; return; }
	if (cd /mnt/vda && sha256sum -c -s guest-write.sha256); then
		echo "LINUX-GUEST-BLK ok files=$files write=ok"
	else
		echo "LINUX-GUEST-BLK fail files=$files write=corrupt"
	fi
	umount /mnt/vda
}
# hv.X=VALUE on the kernel command line: VALUE (nothing when absent)
hv_opt() {
	for w in $(cat /proc/cmdline); do
		case "$w" in "hv.$1="*) echo "${w#*=}" ;; esac
	done
}

# hv.disktest=write|verify: the persistent-disk test (issue 13), in place of
# the LINUX-GUEST-BLK check. /dev/vda is a host partition the VM sees as a
# whole disk holding ext4 (scripts/build-gpt-disk.sh). Both modes mount it and
# check every file of /MANIFEST.sha256. write: N MiB from /dev/urandom into
# /written[-TAG].bin and its sha256 into /written[-TAG].sha256, sync, unmount,
# drop the caches, mount read-only and check the file came back from the
# device. verify: check the file an earlier boot wrote against its sha256.
# Prints DISKTEST write ok <sha256> files=<N> bytes=<B>, DISKTEST verify ok
# <sha256> files=<N> bytes=<B>, or DISKTEST FAIL <reason>. Options:
# hv.disktag=TAG (two VMs' files get different names), hv.diskmib=N (default
# 4), hv.diskdev=NAME (default vda).
disk_test() {
	mode=$1
	dev=/dev/$(hv_opt diskdev)
	[ "$dev" = /dev/ ] && dev=/dev/vda
	tag=$(hv_opt disktag)
	name=written${tag:+-$tag}
	mib=$(hv_opt diskmib)
	mib=${mib:-4}
	case "$mode" in write | verify) ;; *)
		echo "DISKTEST FAIL unknown mode '$mode' (write or verify)"
		return
		;;
	esac
	# the device node may come a moment after the driver's probe
	i=0
	while [ ! -b "$dev" ] && [ $i -lt 50 ]; do
		usleep 100000
		i=$((i + 1))
	done
	[ -b "$dev" ] || { echo "DISKTEST FAIL no $dev"; return; }
	mkdir -p /mnt/disk
	opts=rw
	[ "$mode" = verify ] && opts=ro
	mount -t ext4 -o $opts "$dev" /mnt/disk || { echo "DISKTEST FAIL mount $dev $opts"; return; }
	files=$(grep -c . /mnt/disk/MANIFEST.sha256 2>/dev/null)
	if ! (cd /mnt/disk && sha256sum -c -s MANIFEST.sha256); then
		umount /mnt/disk
		echo "DISKTEST FAIL manifest files=${files:-0}"
		return
	fi
	if [ "$mode" = write ]; then
		if ! dd if=/dev/urandom of=/mnt/disk/$name.bin bs=1M count=$mib 2>/dev/null ||
			! (cd /mnt/disk && sha256sum $name.bin >$name.sha256); then
			umount /mnt/disk
			echo "DISKTEST FAIL write $name.bin"
			return
		fi
		sync
		umount /mnt/disk || { echo "DISKTEST FAIL umount"; return; }
		echo 3 >/proc/sys/vm/drop_caches
		mount -t ext4 -o ro "$dev" /mnt/disk || { echo "DISKTEST FAIL remount"; return; }
	fi
	if [ ! -e /mnt/disk/$name.sha256 ]; then
		umount /mnt/disk
		echo "DISKTEST FAIL no /$name.sha256"
		return
	fi
	if ! (cd /mnt/disk && sha256sum -c -s $name.sha256); then
		umount /mnt/disk
		echo "DISKTEST FAIL corrupt /$name.bin"
		return
	fi
	sha=$(cut -d' ' -f1 /mnt/disk/$name.sha256)
	bytes=$(wc -c </mnt/disk/$name.bin)
	umount /mnt/disk || { echo "DISKTEST FAIL umount"; return; }
	echo "DISKTEST $mode ok $sha files=$files bytes=$bytes"
}
disktest=$(hv_opt disktest)
if [ -n "$disktest" ]; then
	disk_test "$disktest"
elif [ -z "$(hv_opt blkbench)" ]; then
	# (the storage benchmark leaves its disk alone until it reads it)
	blk_check
fi
# /dev/vdb: a raw image (data.img): its size, read-only flag, the name its
# first sector carries and the sha256 of its first MiB (two VMs given
# different images must each see their own)
if [ -b /dev/vdb ]; then
	# (data images start "hv-data NAME sector 0": the tag is NAME)
	tag=$(dd if=/dev/vdb bs=512 count=1 2>/dev/null | head -n 1 | cut -d' ' -f2 | cut -c1-24 | tr -c 'A-Za-z0-9._\n-' '_')
	sha=$(dd if=/dev/vdb bs=64k count=16 2>/dev/null | sha256sum | cut -d' ' -f1)
	echo "LINUX-GUEST-BLK2 size=$(($(cat /sys/block/vdb/size) * 512)) ro=$(cat /sys/block/vdb/ro) sha=$sha tag=$tag"
fi

# hv.blksha=NAME: a whole block device's size and sha256 (an NVMe namespace
# passed through: the test knows the image behind it)
blksha=$(hv_opt blksha)
if [ -n "$blksha" ]; then
	i=0
	while [ ! -b /dev/$blksha ] && [ $i -lt 100 ]; do
		usleep 100000
		i=$((i + 1))
	done
	if [ -b /dev/$blksha ]; then
		sha=$(sha256sum </dev/$blksha | cut -d' ' -f1)
		echo "LINUX-GUEST-BLKSHA $blksha size=$(($(cat /sys/class/block/$blksha/size) * 512)) sha=$sha"
	else
		echo "LINUX-GUEST-BLKSHA FAIL no /dev/$blksha"
	fi
fi

# the entropy device: 64 bytes through the kernel's hw_random core
rng=$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)
if [ -c /dev/hwrng ] && [ -n "$rng" ] && [ "$rng" != none ]; then
	n=$(timeout 10 dd if=/dev/hwrng bs=64 count=1 iflag=fullblock 2>/dev/null | wc -c)
	if [ "$n" = 64 ]; then hwrng=ok; else hwrng=fail; fi
	echo "LINUX-GUEST-HWRNG $hwrng bytes=$n rng=$rng"
else
	echo "LINUX-GUEST-HWRNG none bytes=0"
fi

# the virtio console: a hello on it, then a shell there for a harness
if [ -c /dev/hvc0 ]; then
	echo "LINUX-GUEST-HVC-HELLO" >/dev/hvc0
	# the session leader opens hvc0 first, so it becomes the shell's terminal
	setsid sh -c 'exec </dev/hvc0 >/dev/hvc0 2>&1; while true; do PS1="hvc0# " sh -i; done' &
	echo "LINUX-GUEST-HVC ok"
else
	echo "LINUX-GUEST-HVC none"
fi

# hv.ddbench: time 64 MiB of reads from /dev/vdb past the page cache, by the
# finest guest clock there is (under QEMU -icount it counts instructions)
now_ns() {
	if [ -r /proc/timer_list ]; then
		awk '/^now at / { print $3; exit }' /proc/timer_list
	else
		awk '{ printf "%d\n", $1 * 1000000000 }' /proc/uptime
	fi
}
if grep -q 'hv.ddbench' /proc/cmdline; then
	# hv.ddbs=4k|64k (block size, default 64k), hv.ddjobs=N (N dd's at once
	# on disjoint parts of the 64 MiB: a queue depth of N), default 1
	bs=$(sed -n 's/.*hv\.ddbs=\([0-9]*\)k.*/\1/p' /proc/cmdline)
	bs=$((${bs:-64} * 1024))
	jobs=$(sed -n 's/.*hv\.ddjobs=\([0-9]*\).*/\1/p' /proc/cmdline)
	jobs=${jobs:-1}
	count=$((67108864 / bs / jobs))
	if [ -b /dev/vdb ]; then
		clock=uptime
		[ -n "$(now_ns)" ] && [ -r /proc/timer_list ] && clock=timer_list
		direct=iflag=direct
		dd if=/dev/vdb of=/dev/null bs=512 count=1 $direct 2>/dev/null || direct=""
		echo 3 >/proc/sys/vm/drop_caches
		t0=$(now_ns)
		j=0
		pids=""
		while [ $j -lt $jobs ]; do
			dd if=/dev/vdb of=/dev/null bs=$bs count=$count skip=$((j * count)) $direct \
				>/tmp/dd.$j 2>&1 &
			pids="$pids $!"
			j=$((j + 1))
		done
		# only the dd's: the shell on hvc0 runs in the background too
		wait $pids
		t1=$(now_ns)
		# busybox's dd reports records only: "N+M records out" (M partial)
		bytes=0
		j=0
		while [ $j -lt $jobs ]; do
			rec=$(sed -n 's/^\([0-9]*\)+\([0-9]*\) records out.*/\1/p' /tmp/dd.$j)
			bytes=$((bytes + ${rec:-0} * bs))
			j=$((j + 1))
		done
		echo "LINUX-GUEST-DDBENCH bytes=$bytes ns=$((t1 - t0)) bs=$bs jobs=$jobs clock=$clock ${direct:-cached}"
	else
		echo "LINUX-GUEST-DDBENCH none"
	fi
fi

# hv.blkbench=seq|rand|none: read throughput of /dev/$hv.blkdev (default vda)
# past the page cache, timed by the guest's clock (under QEMU -icount it counts
# instructions). seq: hv.blkmib MiB (default 48) by dd bs=1M iflag=direct;
# rand: hv.blkreads (default 2048) 4 KiB reads at pseudo-random aligned
# offsets over the device (blkread, O_DIRECT, one process); none: nothing
# (a baseline run that boots the same way). reads= is the device's completed
# read requests over the run (its sysfs stat), the rest is the block layer's.
blkbench=$(hv_opt blkbench)
if [ -n "$blkbench" ] && [ "$blkbench" != none ]; then
	dev=$(hv_opt blkdev)
	dev=${dev:-vda}
	i=0
	while [ ! -b /dev/$dev ] && [ $i -lt 50 ]; do
		usleep 100000
		i=$((i + 1))
	done
	clock=uptime
	[ -n "$(now_ns)" ] && [ -r /proc/timer_list ] && clock=timer_list
	stat_reads() { awk '{ print $1 }' /sys/class/block/$dev/stat; }
	if [ ! -b /dev/$dev ]; then
		echo "LINUX-GUEST-BLKBENCH FAIL no /dev/$dev"
	elif [ "$blkbench" = seq ]; then
		mib=$(hv_opt blkmib)
		mib=${mib:-48}
		echo 3 >/proc/sys/vm/drop_caches
		r0=$(stat_reads)
		t0=$(now_ns)
		dd if=/dev/$dev of=/dev/null bs=1M count=$mib iflag=direct >/tmp/dd.out 2>&1
		t1=$(now_ns)
		r1=$(stat_reads)
		rec=$(sed -n 's/^\([0-9]*\)+\([0-9]*\) records in.*/\1/p' /tmp/dd.out)
		if [ "${rec:-0}" = "$mib" ]; then
			echo "LINUX-GUEST-BLKBENCH mode=seq dev=$dev bytes=$((mib * 1048576)) ns=$((t1 - t0)) reads=$((r1 - r0)) bs=1048576 clock=$clock"
		else
			echo "LINUX-GUEST-BLKBENCH FAIL seq: $(head -n 1 /tmp/dd.out)"
		fi
	elif [ "$blkbench" = rand ]; then
		n=$(hv_opt blkreads)
		r0=$(stat_reads)
		out=$(blkread /dev/$dev rand 4096 ${n:-2048})
		r1=$(stat_reads)
		case "$out" in
		bytes=*) echo "LINUX-GUEST-BLKBENCH mode=rand dev=$dev ${out% reads=*} reads=$((r1 - r0)) bs=4096 clock=monotonic" ;;
		*) echo "LINUX-GUEST-BLKBENCH FAIL rand: $out" ;;
		esac
	else
		echo "LINUX-GUEST-BLKBENCH FAIL unknown mode $blkbench"
	fi
fi

# ---- the network: eth0 (virtio-net) ----
# hv.net=IP/PREFIX or hv.net=dhcp (hvnet= too) configures eth0; hv.netmac=MAC
# first changes its MAC (a spoofing guest: the device keeps its own);
# hv.ping=IP pings a peer (waiting hv.pingwait seconds for it to come up);
# hv.ncrecv=PORT receives one TCP stream, hv.ncsend=IP:PORT:MIB sends one
# (busybox nc; both print the stream's sha256).
net=$(hv_opt net)
for w in $(cat /proc/cmdline); do
	case "$w" in hvnet=*) [ -n "$net" ] || net=${w#hvnet=} ;; esac
done
ncrecv_pid=""
if [ -n "$net" ]; then
	i=0
	while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do
		usleep 100000
		i=$((i + 1))
	done
	netmac=$(hv_opt netmac)
	if [ ! -e /sys/class/net/eth0 ]; then
		echo "LINUX-GUEST-NET FAIL no eth0"
	elif [ -n "$netmac" ] && ! ip link set eth0 address "$netmac"; then
		echo "LINUX-GUEST-NET FAIL cannot set mac $netmac"
	else
		ip link set lo up
		ip link set eth0 up
		addr=""
		if [ "$net" = dhcp ]; then
			udhcpc -i eth0 -s /usr/share/udhcpc/default.script -q -n -t 10 -T 2 >/tmp/udhcpc.log 2>&1 &&
				addr=$(cat /tmp/udhcpc.lease 2>/dev/null)
		elif ip addr add "$net" dev eth0; then
			addr=$net
		fi
		if [ -n "$addr" ]; then
			echo "LINUX-GUEST-NET ok eth0 mac=$(cat /sys/class/net/eth0/address) ip=$addr"
			# how eth0's driver takes its interrupts: MSI/MSI-X vectors (e1000e's
			# eth0-rx-0, eth0-tx-0, eth0; virtio's are counted above)
			eirqs=$(awk '/PCI-MSI/ && $NF ~ /^eth0/ { print $(NF-2) ":" $NF }' /proc/interrupts)
			echo "LINUX-GUEST-NETIRQS $(echo $eirqs | wc -w) $(readlink /sys/class/net/eth0/device/driver | sed 's|.*/||') $(echo $eirqs)" | cut -c1-140
		else
			echo "LINUX-GUEST-NET FAIL address $net: $(tail -n 1 /tmp/udhcpc.log 2>/dev/null)"
		fi
	fi
	# the receiver listens first: its peer may be sending as soon as it can ping
	port=$(hv_opt ncrecv)
	if [ -n "$port" ]; then
		# nc quits when its stdin ends: a FIFO held open keeps it listening
		mkfifo /tmp/nc.hold
		nc -l -p "$port" </tmp/nc.hold >/tmp/nc.rx 2>/tmp/nc.err &
		ncrecv_pid=$!
		exec 3>/tmp/nc.hold
	fi
	peer=$(hv_opt ping)
	if [ -n "$peer" ]; then
		wait_s=$(hv_opt pingwait)
		wait_s=${wait_s:-120}
		i=0
		while ! ping -c 1 -W 1 "$peer" >/dev/null 2>&1 && [ $i -lt "$wait_s" ]; do
			i=$((i + 1))
		done
		out=$(ping -c 5 -i 0.2 -W 2 "$peer" 2>&1 | sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) packets received.*/sent=\1 recv=\2/p')
		case "$out" in
		"sent="*" recv=0" | "") echo "LINUX-GUEST-PING fail $peer ${out:-sent=0 recv=0}" ;;
		*) echo "LINUX-GUEST-PING ok $peer $out" ;;
		esac
	fi
	send=$(hv_opt ncsend)
	if [ -n "$send" ]; then
		ip=${send%%:*}
		rest=${send#*:}
		port=${rest%%:*}
		mib=${rest#*:}
		clock=uptime
		[ -r /proc/timer_list ] && clock=timer_list
		if ! dd if=/dev/urandom of=/tmp/nc.tx bs=1M count="$mib" 2>/dev/null; then
			echo "LINUX-GUEST-NCSEND FAIL no data"
		else
			sha=$(sha256sum /tmp/nc.tx | cut -d' ' -f1)
			i=0
			t0=$(now_ns)
			# the listener may not be up yet: connection refused, try again
			until nc "$ip" "$port" </tmp/nc.tx >/dev/null 2>/tmp/nc.err; do
				i=$((i + 1))
				[ $i -ge 60 ] && break
				sleep 1
				t0=$(now_ns)
			done
			t1=$(now_ns)
			if [ $i -ge 60 ]; then
				echo "LINUX-GUEST-NCSEND FAIL $(head -n 1 /tmp/nc.err)"
			else
				echo "LINUX-GUEST-NCSEND ok bytes=$(wc -c </tmp/nc.tx) sha=$sha ns=$((t1 - t0)) clock=$clock"
			fi
			rm -f /tmp/nc.tx
		fi
	fi
	if [ -n "$ncrecv_pid" ]; then
		wait "$ncrecv_pid"
		rc=$?
		exec 3>&-
		if [ $rc = 0 ]; then
			echo "LINUX-GUEST-NCRECV ok bytes=$(wc -c </tmp/nc.rx) sha=$(sha256sum /tmp/nc.rx | cut -d' ' -f1)"
		else
			echo "LINUX-GUEST-NCRECV FAIL rc=$rc $(head -n 1 /tmp/nc.err)"
		fi
		rm -f /tmp/nc.rx
	fi
	# the interface's own counters, as the guest saw them
	st=/sys/class/net/eth0/statistics
	[ -d $st ] && echo "LINUX-GUEST-NETSTAT rx_packets=$(cat $st/rx_packets) tx_packets=$(cat $st/tx_packets) rx_bytes=$(cat $st/rx_bytes) tx_bytes=$(cat $st/tx_bytes)"
fi

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
