#!/bin/sh
# Checks what the loaders need of hv.elf: both multiboot headers where they
# must be, and a 64-bit ELF linked at 1 MiB.
set -e
elf=$1
nosyms=$2
if [ -n "$nosyms" ]; then
	# the symbol table pass must not move any code
	a=$(nm -n --defined-only "$nosyms" | awk '$2 ~ /^[tT]$/')
	b=$(nm -n --defined-only "$elf" | awk '$2 ~ /^[tT]$/')
	[ "$a" = "$b" ] || { echo "check-image: code moved between link passes" >&2; exit 1; }
fi
python3 - "$elf" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
def find(magic, limit, align):
    for off in range(0, min(limit, len(data)) - 4, align):
        if struct.unpack_from('<I', data, off)[0] == magic:
            return off
    return None
mb1 = find(0x1BADB002, 8192, 4)
mb2 = find(0xE85250D6, 32768, 8)
if mb1 is None:
    sys.exit('check-image: no multiboot1 header in the first 8 KiB of ' + sys.argv[1])
if mb2 is None:
    sys.exit('check-image: no multiboot2 header in the first 32 KiB of ' + sys.argv[1])
magic, flags, csum, header_addr, load_addr, load_end, bss_end, entry = struct.unpack_from('<8I', data, mb1)
if (magic + flags + csum) & 0xffffffff:
    sys.exit('check-image: multiboot1 checksum is wrong')
# a.out kludge: the file must hold [load_addr, load_end) contiguously after the header
text_off = mb1 - (header_addr - load_addr)
if text_off < 0 or text_off + (load_end - load_addr) > len(data):
    sys.exit('check-image: multiboot1 load range is not contiguous in the file')
PY
