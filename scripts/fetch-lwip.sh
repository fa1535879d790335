#!/bin/sh
# Unpacks lwIP's sources from Debian's source package into DEST (default
# build/lwip-src, or $LWIP_SRC_CACHE), once. lwIP is never committed: the
# build compiles it from there (the Makefile's LWIP_* rules).
#
# `apt-get source` needs a deb-src entry; Debian's images ship only `deb`
# ones. When none is there, hv-deb-src.sources is written next to them with
# the same URIs, suites, components and key as the `deb` entries, and the
# package lists are updated.
set -e

dest=${1:-${LWIP_SRC_CACHE:-build/lwip-src}}
want_version=2.1.3

if [ -f "$dest/src/core/tcp.c" ] && [ -f "$dest/src/include/lwip/init.h" ]; then
	exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "fetch-lwip: need root (or sudo) to add a deb-src entry" >&2; exit 1; }
	SUDO=sudo
fi

command -v dpkg-source >/dev/null 2>&1 || {
	echo "fetch-lwip: installing dpkg-dev (apt-get source needs dpkg-source)"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -q
	$SUDO apt-get install -y -q --no-install-recommends dpkg-dev
}

srcdir=/etc/apt/sources.list.d
ours=$srcdir/hv-deb-src.sources

# Whether any configured source already offers deb-src.
has_deb_src() {
	grep -qsE '^[[:space:]]*Types:.*deb-src' /etc/apt/sources.list.d/*.sources && return 0
	grep -qsE '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list && return 0
	return 1
}

# The `deb` stanzas of the deb822 files (and one-line `deb` entries), turned into deb-src ones.
make_deb_src() {
	for f in "$srcdir"/*.sources; do
		[ -f "$f" ] || continue
		[ "$f" = "$ours" ] && continue
		awk '
		function flush() {
			if (is_deb && uris != "" && suites != "") {
				print "Types: deb-src"
				print "URIs: " uris
				print "Suites: " suites
				if (comps != "") print "Components: " comps
				if (signed != "") print "Signed-By: " signed
				print ""
			}
			is_deb = 0; uris = suites = comps = signed = ""
		}
		/^[[:space:]]*$/ { flush(); next }
		/^[[:space:]]*#/ { next }
		/^Types:/ { is_deb = ($0 ~ /[[:space:]]deb([[:space:]]|$)/) }
		/^Enabled:[[:space:]]*no/ { is_deb = 0 }
		/^URIs:/ { sub(/^URIs:[[:space:]]*/, ""); uris = $0 }
		/^Suites:/ { sub(/^Suites:[[:space:]]*/, ""); suites = $0 }
		/^Components:/ { sub(/^Components:[[:space:]]*/, ""); comps = $0 }
		/^Signed-By:[[:space:]]*[^[:space:]]/ { sub(/^Signed-By:[[:space:]]*/, ""); signed = $0 }
		END { flush() }
		' "$f"
	done
	# one-line format: "deb [opts] URI SUITE COMP..."
	for f in /etc/apt/sources.list "$srcdir"/*.list; do
		[ -f "$f" ] || continue
		sed -n 's/^[[:space:]]*deb[[:space:]]\(.*\)$/\1/p' "$f" | while read -r rest; do
			opts=""
			case "$rest" in
			\[*) opts=$(echo "$rest" | sed 's/^\[\([^]]*\)\].*/\1/'); rest=$(echo "$rest" | sed 's/^\[[^]]*\][[:space:]]*//') ;;
			esac
			# shellcheck disable=SC2086
			set -- $rest
			[ $# -ge 2 ] || continue
			uri=$1 suite=$2
			shift 2
			echo "Types: deb-src"
			echo "URIs: $uri"
			echo "Suites: $suite"
			[ $# -gt 0 ] && echo "Components: $*"
			signed=$(echo "$opts" | tr ' ' '\n' | sed -n 's/^signed-by=//p')
			[ -n "$signed" ] && echo "Signed-By: $signed"
			echo
		done
	done
}

if ! has_deb_src; then
	entries=$(make_deb_src)
	[ -n "$entries" ] || { echo "fetch-lwip: no 'deb' entry in /etc/apt to derive a deb-src one from" >&2; exit 1; }
	echo "fetch-lwip: adding $ours (deb-src for the configured Debian mirrors)"
	printf '# Added by the hypervisor build (scripts/fetch-lwip.sh): apt-get source lwip.\n%s\n' \
		"$entries" | $SUDO tee "$ours" >/dev/null
	$SUDO apt-get update -q
elif ! apt-cache showsrc lwip >/dev/null 2>&1 || [ -z "$(apt-cache showsrc lwip 2>/dev/null)" ]; then
	$SUDO apt-get update -q
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp" # apt's download user (_apt) writes there
echo "fetch-lwip: apt-get source lwip"
# The .dsc's hashes are checked against the signed Sources index; dpkg-source's own
# warning about the uploader's key (debian-keyring is not installed) stays in the log.
(cd "$tmp" && apt-get source -q lwip) >"$tmp/log" 2>&1 || {
	cat "$tmp/log" >&2
	echo "fetch-lwip: apt-get source lwip failed (is Debian's mirror reachable?)" >&2
	exit 1
}
tree=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d -name 'lwip-*' | head -n 1)
[ -n "$tree" ] && [ -f "$tree/src/core/tcp.c" ] || { echo "fetch-lwip: the source package has no src/core/tcp.c" >&2; exit 1; }
grep -q "LWIP_VERSION_MAJOR *2" "$tree/src/include/lwip/init.h" &&
	grep -q "LWIP_VERSION_MINOR *1" "$tree/src/include/lwip/init.h" ||
	echo "fetch-lwip: warning: not lwIP $want_version: $(basename "$tree")" >&2

mkdir -p "$(dirname "$dest")"
rm -rf "$dest.tmp"
mv "$tree" "$dest.tmp"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "fetch-lwip: lwIP sources in $dest ($(basename "$tree"))"
