#!/bin/sh
# Fuzzes the VM file parser (kernel/config/) for a bounded number of executions.
#
#   tests/fuzz/run-fuzz.sh [runs]      default 200000 runs, about 30 s
#
# Uses libFuzzer (clang -fsanitize=fuzzer; Debian: clang and libclang-rt-NN-dev) with
# AddressSanitizer and UBSan; without libFuzzer it falls back to the harness's own mutation
# loop under gcc's sanitizers. Exits non-zero on a crash, a hang, a sanitizer report or a
# broken invariant, and leaves the input that did it in build/fuzz/.
set -eu

RUNS=${1:-200000}
case $RUNS in
'' | *[!0-9]*) echo "usage: $0 [runs]" >&2; exit 2 ;;
esac

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/build/fuzz
SRC="$ROOT/tests/fuzz/fuzz_vmconfig.c $ROOT/kernel/config/vmconfig.c $ROOT/kernel/config/diskspec.c
$ROOT/kernel/config/xlcfg.c
$ROOT/kernel/lib/string.c $ROOT/kernel/lib/format.c"
CFLAGS="-std=gnu11 -g -O1 -I$ROOT -DHV_HOSTED -fno-omit-frame-pointer
-fsanitize=address,undefined -fno-sanitize-recover=all"
mkdir -p "$OUT"

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
	# shellcheck disable=SC2086
	gcc $CFLAGS -DFUZZ_STANDALONE -o "$OUT/fuzz_vmconfig_standalone" $SRC
	exec "$OUT/fuzz_vmconfig_standalone" "$RUNS"
fi

# shellcheck disable=SC2086
clang $CFLAGS -fsanitize=fuzzer -o "$OUT/fuzz_vmconfig" $SRC

# Seeds: what real files look like, and what broken ones do.
SEEDS=$OUT/seeds
CORPUS=$OUT/corpus
rm -rf "$SEEDS"
mkdir -p "$SEEDS" "$CORPUS"
cat >"$SEEDS/good.cfg" <<'EOF'
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
	>"$SEEDS/crlf.cfg"
cat >"$SEEDS/bad.cfg" <<'EOF'
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
printf 'name = "a\0b"\nmemory = 1\xff\n# \0\n' >"$SEEDS/nul.cfg"

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

LOG=$OUT/fuzz.log
echo "run-fuzz: libFuzzer, $RUNS runs (log: $LOG)"
set +e
(cd "$OUT" && ./fuzz_vmconfig -runs="$RUNS" -max_len=8192 -timeout=5 -rss_limit_mb=2048 \
	-max_total_time=55 -print_final_stats=1 -dict="$OUT/xlcfg.dict" \
	-artifact_prefix="$OUT/" "$CORPUS" "$SEEDS") >"$LOG" 2>&1
rc=$?
set -e

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$LOG" | tail -n 1)
if [ "$rc" -ne 0 ]; then
	tail -n 40 "$LOG"
	echo "run-fuzz: FAILED after ${execs:-?} executions (exit $rc); inputs in $OUT/" >&2
	exit 1
fi
echo "run-fuzz: ${execs:-?} executions, nothing found"
