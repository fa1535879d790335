#include "loader/elfimage.h"

#define MB2_HEADER_MAGIC 0xe85250d6u
#define BELOW_4G 0xffffffffull
#define PT_LOAD 1
#define ET_EXEC 2
#define EM_X86_64 62

/* little-endian reads at any alignment */
static uint64_t rd(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Multiboot2 spec §3.1.1: 8-aligned, within the first 32 KiB, the four words summing to 0. */
static int has_mb2_header(const uint8_t *img, size_t size)
{
	for (size_t off = 0; off + 16 <= size && off < 32768; off += 8) {
		uint32_t magic = (uint32_t)rd(img + off, 4), arch = (uint32_t)rd(img + off + 4, 4);
		uint32_t len = (uint32_t)rd(img + off + 8, 4), sum = (uint32_t)rd(img + off + 12, 4);
		if (magic == MB2_HEADER_MAGIC && arch == 0 && (uint32_t)(magic + arch + len + sum) == 0)
			return 1;
	}
	return 0;
}

const char *elfimage_check(const void *file, size_t size, struct elfimage *out)
{
	const uint8_t *f = file;
	out->nseg = 0;
	out->entry = 0;
	/* ELF-64 header (System V gABI): ident 16, type 16, machine 18, entry 24, phoff 32,
	 * phentsize 54, phnum 56 */
	if (size < 64 || f[0] != 0x7f || f[1] != 'E' || f[2] != 'L' || f[3] != 'F' || f[4] != 2 ||
	    f[5] != 1 || rd(f + 18, 2) != EM_X86_64 || rd(f + 16, 2) != ET_EXEC)
		return "is not an x86-64 ELF executable";
	if (!has_mb2_header(f, size))
		return "has no multiboot2 header: not a hypervisor image";
	uint64_t entry = rd(f + 24, 8), phoff = rd(f + 32, 8);
	uint64_t phentsize = rd(f + 54, 2), phnum = rd(f + 56, 2);
	if (phentsize != 56 || phoff > size || phnum * 56 > size - phoff)
		return "has a malformed program header table";
	if (entry == 0)
		return "has no entry point";
	if (entry > BELOW_4G)
		return "has its entry point above 4 GiB";
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *p = f + phoff + i * 56;
		struct elfimage_segment s = {
			.offset = rd(p + 8, 8), .paddr = rd(p + 24, 8),
			.filesz = rd(p + 32, 8), .memsz = rd(p + 40, 8),
		};
		if (rd(p, 4) != PT_LOAD || s.memsz == 0)
			continue;
		if (s.filesz > s.memsz || s.offset > size || s.filesz > size - s.offset)
			return "has a segment outside the file";
		if (s.paddr > BELOW_4G || s.memsz > BELOW_4G + 1 - s.paddr)
			return "has a segment above 4 GiB";
		for (unsigned k = 0; k < out->nseg; k++) {
			const struct elfimage_segment *o = &out->seg[k];
			if (s.paddr < o->paddr + o->memsz && o->paddr < s.paddr + s.memsz) {
				out->nseg = 0;
				return "has overlapping segments";
			}
		}
		if (out->nseg == ELFIMAGE_MAX_SEGMENTS) {
			out->nseg = 0;
			return "has too many segments";
		}
		out->seg[out->nseg++] = s;
	}
	if (!out->nseg)
		return "has nothing to load";
	int inside = 0;
	for (unsigned k = 0; k < out->nseg; k++)
		inside |= entry >= out->seg[k].paddr && entry < out->seg[k].paddr + out->seg[k].filesz;
	if (!inside) {
		out->nseg = 0;
		return "has its entry point outside what it loads";
	}
	out->entry = (uint32_t)entry;
	return NULL;
}
