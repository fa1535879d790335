#!/bin/sh
# Fuzzes the hypervisor's parsers of guest- and user-controlled input for a bounded number of
# executions:
#   vmconfig    the VM file parser and checker (kernel/config/)
#   virtqueue   the split virtqueue (guest/virtio/virtqueue.c)
#   virtio_blk  virtio-blk over a RAM disk (guest/virtio/virtio_blk.c and the core under it)
#   virtio_net  virtio-net as a switch port (guest/virtio/virtio_net.c and the core under it)
#   gpt         the GPT reader (kernel/blk/gpt.c) on sparse disks
#   net_offload the software offloads (kernel/net/net_offload.c) on guests' frames
#   http        the management API's HTTP connection, parser and routes (kernel/mgmt/)
#   json        the management API's JSON parser and writer (kernel/mgmt/json.c)
#   dmar        the ACPI DMAR parser and scope lookups (kernel/iommu/dmar.c)
#   hvcfg       hvboot.efi's hv.cfg parser (loader/hvcfg.c)
#
#   tests/fuzz/run-fuzz.sh [TARGET|all] [runs]   default: all targets, 200000 runs each
#   tests/fuzz/run-fuzz.sh [runs]                the same, all targets
#
# FUZZ_TIME=S caps each target's time (default 55 s; 0: no cap, all the runs are made).
# Uses libFuzzer (clang -fsanitize=fuzzer; Debian: clang and libclang-rt-NN-dev) with
# AddressSanitizer and UBSan; without libFuzzer it falls back to the harness's own mutation
# loop under gcc's sanitizers. Exits non-zero on a crash, a hang, a sanitizer report or a
# broken invariant, and leaves the input that did it in build/fuzz/.
set -eu

TARGET=all
case ${1:-} in
'' | *[!0-9]*)
	if [ $# -gt 0 ]; then
		TARGET=$1
		shift
	fi
	;;
esac
RUNS=${1:-200000}
case $RUNS in
'' | *[!0-9]*) echo "usage: $0 [vmconfig|virtqueue|virtio_blk|virtio_net|gpt|net_offload|http|json|dmar|hvcfg|all] [runs]" >&2; exit 2 ;;
esac
case $TARGET in
all) TARGETS="vmconfig virtqueue virtio_blk virtio_net gpt net_offload http json dmar hvcfg" ;;
vmconfig | virtqueue | virtio_blk | virtio_net | gpt | net_offload | http | json | dmar | hvcfg) TARGETS=$TARGET ;;
*) echo "run-fuzz: unknown target '$TARGET' (vmconfig, virtqueue, virtio_blk, virtio_net, gpt, net_offload, http, json, dmar, hvcfg, all)" >&2; exit 2 ;;
esac
FUZZ_TIME=${FUZZ_TIME:-55}
case $FUZZ_TIME in
'' | *[!0-9]*) echo "run-fuzz: FUZZ_TIME must be a number of seconds" >&2; exit 2 ;;
esac

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/build/fuzz
CFLAGS="-std=gnu11 -g -O1 -I$ROOT -DHV_HOSTED -fno-omit-frame-pointer
-fsanitize=address,undefined -fno-sanitize-recover=all"
mkdir -p "$OUT"

# The sources each target is built from.
sources() {
	case $1 in
	vmconfig)
		echo "$ROOT/tests/fuzz/fuzz_vmconfig.c $ROOT/kernel/config/vmconfig.c $ROOT/kernel/config/diskspec.c $ROOT/kernel/config/vifspec.c $ROOT/kernel/config/specparse.c" \
			"$ROOT/kernel/config/xlcfg.c $ROOT/kernel/lib/string.c $ROOT/kernel/lib/format.c $ROOT/kernel/lib/cpuset.c"
		;;
	virtqueue)
		echo "$ROOT/tests/fuzz/fuzz_virtqueue.c $ROOT/guest/virtio/virtqueue.c"
		;;
	virtio_blk)
		echo "$ROOT/tests/fuzz/fuzz_virtio_blk.c $ROOT/guest/virtio/virtio_blk.c" \
			"$ROOT/guest/virtio/virtio_dev.c $ROOT/guest/virtio/virtqueue.c" \
			"$ROOT/kernel/blk/blk_check.c"
		;;
	virtio_net)
		echo "$ROOT/tests/fuzz/fuzz_virtio_net.c $ROOT/guest/virtio/virtio_net.c" \
			"$ROOT/guest/virtio/virtio_dev.c $ROOT/guest/virtio/virtqueue.c" \
			"$ROOT/kernel/lib/string.c"
		;;
	gpt)
		echo "$ROOT/tests/fuzz/fuzz_gpt.c $ROOT/kernel/blk/gpt.c $ROOT/kernel/lib/string.c" \
			"$ROOT/kernel/lib/format.c"
		;;
	net_offload)
		echo "$ROOT/tests/fuzz/fuzz_net_offload.c $ROOT/kernel/net/net_offload.c"
		;;
	http)
		echo "$ROOT/tests/fuzz/fuzz_http.c $ROOT/kernel/mgmt/http_conn.c" \
			"$ROOT/kernel/mgmt/http_parse.c $ROOT/kernel/mgmt/api.c $ROOT/kernel/mgmt/json.c" \
			"$ROOT/kernel/lib/string.c $ROOT/kernel/lib/format.c"
		;;
	json)
		echo "$ROOT/tests/fuzz/fuzz_json.c $ROOT/kernel/mgmt/json.c $ROOT/kernel/lib/string.c"
		;;
	dmar)
		echo "$ROOT/tests/fuzz/fuzz_dmar.c $ROOT/kernel/iommu/dmar.c $ROOT/kernel/lib/string.c" \
			"$ROOT/kernel/lib/format.c"
		;;
	hvcfg)
		echo "$ROOT/tests/fuzz/fuzz_hvcfg.c $ROOT/loader/hvcfg.c"
		;;
	esac
}

have_libfuzzer() {
	command -v clang >/dev/null 2>&1 || return 1
	echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d && n; }' \
		>"$OUT/probe.c"
	clang -fsanitize=fuzzer -o "$OUT/probe" "$OUT/probe.c" >/dev/null 2>&1
}

# libFuzzer comes with clang's runtime (Debian 12: clang 14); installed on demand,
# unless FUZZ_NO_INSTALL=1.
install_libfuzzer() {
	[ "${FUZZ_NO_INSTALL:-0}" = 1 ] && return 1
	command -v apt-get >/dev/null 2>&1 || return 1
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	echo "run-fuzz: installing clang and libclang-rt-14-dev (libFuzzer)"
	$SUDO apt-get install -y -q clang libclang-rt-14-dev >/dev/null 2>&1 ||
		{ $SUDO apt-get update -q >/dev/null 2>&1 &&
			$SUDO apt-get install -y -q clang libclang-rt-14-dev >/dev/null 2>&1; }
}

if ! have_libfuzzer; then
	install_libfuzzer || true
fi
if ! have_libfuzzer; then
	echo "run-fuzz: no libFuzzer (install clang and libclang-rt-dev); using the built-in loop"
	for t in $TARGETS; do
		# shellcheck disable=SC2046
		gcc $CFLAGS -DFUZZ_STANDALONE -o "$OUT/fuzz_${t}_standalone" $(sources "$t")
		"$OUT/fuzz_${t}_standalone" "$RUNS"
	done
	exit 0
fi

# Seeds for the VM file parser: what real files look like, and what broken ones do.
vmconfig_seeds() {
	cat >"$1/good.cfg" <<'EOF'
# a web server
name = "web-1.prod"
memory = 2048
vcpus = 4
cpus = "0,2-3,6"
kernel = "/boot/vmlinuz"
ramdisk = '/boot/initrd.img'
extra = "console=ttyS0 root=/dev/vda1 \"quoted\""
weight = 0x200; cap = 250
on_poweroff = 'destroy'
on_reboot = "restart"
on_crash = 'restart'
autostart = 0
pci = [ '03:00.0', '0000:81:1f.7', ]
vif = [ 'mac=00:16:3e:00:00:01,bridge=br0',
        # storage
        'bridge=br1' ]
disk = [ 'format=raw, vdev=xvda, target=/dev/vg/web' ]
EOF
	printf 'name="a"\r\nmemory=1\r\nkernel="/boot/vmlinuz"\r\ncpus=["1","2-3"]\r\nvcpus=2\r\n' \
		>"$1/crlf.cfg"
	cat >"$1/bad.cfg" <<'EOF'
name = 'web 1'
memory = 012
vcpus = 65
cap = 1000
cpus = "0-3,^1"
kernel = '/boot/nope'
on_crash = preserve
builder = "hvm"
colour = 'blue'
x = [ [1], 2 3 ]
vif += [ 'a'
pci = ['0001:03:00.0,permissive=1', '00:20.8']
name = "dup"
EOF
	printf 'name = "a\0b"\nmemory = 1\xff\n# \0\n' >"$1/nul.cfg"

	# Tokens the mutator should splice in.
	cat >"$OUT/xlcfg.dict" <<'EOF'
"name"
"memory"
"vcpus"
"cpus"
"kernel"
"ramdisk"
"extra"
"weight"
"cap"
"on_crash"
"autostart"
"pci"
"vif"
"disk"
"builder"
"destroy"
"restart"
"/boot/vmlinuz"
"0x"
"[ "
" ]"
", "
" = "
"\x0a"
"\x00"
"#"
"\\\""
"00:1f.7"
"0-3"
EOF
}

# Tokens for the management API's targets.
mgmt_dicts() {
	cat >"$OUT/http.dict" <<'EOF2'
"GET "
"POST "
" HTTP/1.1\x0d\x0a"
" HTTP/1.0\x0d\x0a"
"\x0d\x0a"
"\x0d\x0a\x0d\x0a"
"Authorization: Bearer s3cret\x0d\x0a"
"Content-Length: "
"Content-Type: application/json\x0d\x0a"
"Content-Type: text/plain\x0d\x0a"
"Transfer-Encoding: chunked\x0d\x0a"
"Connection: close\x0d\x0a"
"/v1/vms"
"/v1/vms/web"
"/v1/host"
"/metrics"
"/console?since="
"/shutdown"
"/destroy"
"/reboot"
"/pause"
"/unpause"
"{\"module\": \""
"{\"config\": \""
"%2f"
"\\u00e9"
"\\ud83d\\ude00"
EOF2
	cat >"$OUT/json.dict" <<'EOF2'
"{"
"}"
"["
"]"
":"
","
"\""
"\\u"
"\\ud800"
"\\udc00"
"true"
"false"
"null"
"-0.5e+3"
"\xc3\xa9"
"\xf0\x9f\x98\x80"
"\xed\xa0\x80"
EOF2
}

# One target: build, seed, run; stops the script on a finding.
fuzz_one() {
	t=$1
	seeds=$OUT/seeds-$t
	corpus=$OUT/corpus-$t
	log=$OUT/fuzz-$t.log
	rm -rf "$seeds"
	mkdir -p "$seeds" "$corpus"
	# shellcheck disable=SC2046
	clang $CFLAGS -fsanitize=fuzzer -o "$OUT/fuzz_$t" $(sources "$t")
	set -- -runs="$RUNS" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$OUT/$t-"
	if [ "$FUZZ_TIME" -gt 0 ]; then
		set -- "$@" -max_total_time="$FUZZ_TIME"
	fi
	if [ "$t" = vmconfig ]; then
		vmconfig_seeds "$seeds"
		set -- "$@" -max_len=8192 -dict="$OUT/xlcfg.dict"
	else
		# The harness writes its own seeds (and checks that each passes).
		# shellcheck disable=SC2046
		gcc $CFLAGS -DFUZZ_SEEDS -o "$OUT/fuzz_${t}_seeds" $(sources "$t")
		"$OUT/fuzz_${t}_seeds" "$seeds"
		if [ "$t" = http ] || [ "$t" = json ]; then
			# Short inputs keep 10^7 runs affordable; the size limits
			# (8 KiB heads, 64 KiB bodies) are unit-tested instead.
			mgmt_dicts
			set -- "$@" -max_len=2048 -dict="$OUT/$t.dict"
		elif [ "$t" = hvcfg ]; then
			set -- "$@" -max_len=8192
		else
			set -- "$@" -max_len=16384
		fi
	fi
	echo "run-fuzz: $t: libFuzzer, $RUNS runs (log: $log)"
	start=$(date +%s)
	set +e
	(cd "$OUT" && "./fuzz_$t" "$@" "$corpus" "$seeds") >"$log" 2>&1
	rc=$?
	set -e
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	if [ "$rc" -ne 0 ]; then
		tail -n 40 "$log"
		echo "run-fuzz: $t: FAILED after ${execs:-?} executions (exit $rc); inputs in $OUT/" >&2
		exit 1
	fi
	echo "run-fuzz: $t: ${execs:-?} executions in $(($(date +%s) - start)) s, nothing found"
}

for t in $TARGETS; do
	fuzz_one "$t"
done
