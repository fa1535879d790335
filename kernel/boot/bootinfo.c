#include "kernel/boot/bootinfo.h"

#include "kernel/lib/string.h"
#include "kernel/lib/unaligned.h"

/* Multiboot2 spec §3.6: tag types */
enum {
	MB2_TAG_END = 0,
	MB2_TAG_CMDLINE = 1,
	MB2_TAG_LOADER_NAME = 2,
	MB2_TAG_MODULE = 3,
	MB2_TAG_MMAP = 6,
	MB2_TAG_FRAMEBUFFER = 8,
	MB2_TAG_EFI32 = 11,
	MB2_TAG_EFI64 = 12,
	MB2_TAG_ACPI_OLD = 14,
	MB2_TAG_ACPI_NEW = 15,
	MB2_TAG_EFI_MMAP = 17,
};

static void copy_string(char *dst, size_t size, const uint8_t *src, size_t maxlen)
{
	size_t n = 0;
	while (n < maxlen && src[n] && n + 1 < size) {
		dst[n] = (char)src[n];
		n++;
	}
	dst[n] = 0;
}

static void add_region(struct boot_info *bi, uint64_t base, uint64_t len, uint32_t type)
{
	if (len == 0)
		return;
	if (bi->nregions == BOOT_MAX_REGIONS) {
		bi->regions_truncated = true;
		return;
	}
	/* Types outside 1..5 are reserved for our purposes (ACPI spec, E820). */
	if (type < MEM_USABLE || type > MEM_BAD)
		type = MEM_RESERVED;
	bi->regions[bi->nregions++] = (struct mem_region){base, len, type};
}

/* Insertion sort by base: maps are small and nearly sorted. */
static void sort_regions(struct boot_info *bi)
{
	for (size_t i = 1; i < bi->nregions; i++) {
		struct mem_region r = bi->regions[i];
		size_t j = i;
		while (j > 0 && bi->regions[j - 1].base > r.base) {
			bi->regions[j] = bi->regions[j - 1];
			j--;
		}
		bi->regions[j] = r;
	}
}

static void add_module(struct boot_info *bi, uint64_t start, uint64_t end, const uint8_t *name,
		       size_t maxlen)
{
	if (bi->nmodules == BOOT_MAX_MODULES || end < start)
		return;
	struct boot_module *m = &bi->modules[bi->nmodules++];
	m->start = start;
	m->end = end;
	copy_string(m->cmdline, sizeof(m->cmdline), name, maxlen);
}

/*
 * Tag 8 (Multiboot2 spec §3.6.12): common part of 32 bytes, then for direct
 * RGB the position and size of each colour field. Indexed colour is not
 * used by any loader we know of for consoles; it is ignored.
 */
static void parse_framebuffer(struct boot_framebuffer *fb, const uint8_t *tag, uint32_t size)
{
	if (size < 32)
		return;
	struct boot_framebuffer f = {
		.addr = rd64(tag + 8),
		.pitch = rd32(tag + 16),
		.width = rd32(tag + 20),
		.height = rd32(tag + 24),
		.bpp = tag[28],
	};
	uint8_t type = tag[29];
	if (!f.addr || !f.width || !f.height || !f.pitch)
		return;
	if (type == 1 && size >= 38 && (f.bpp == 15 || f.bpp == 16 || f.bpp == 24 || f.bpp == 32) &&
	    (uint64_t)f.width * ((f.bpp + 7u) / 8) <= f.pitch) {
		f.kind = FB_RGB;
		f.red_pos = tag[32];
		f.red_size = tag[33];
		f.green_pos = tag[34];
		f.green_size = tag[35];
		f.blue_pos = tag[36];
		f.blue_size = tag[37];
		if (f.red_pos + f.red_size > f.bpp || f.green_pos + f.green_size > f.bpp ||
		    f.blue_pos + f.blue_size > f.bpp)
			return;
	} else if (type == 2 && (uint64_t)f.width * 2 <= f.pitch) {
		f.kind = FB_TEXT;
	} else {
		return;
	}
	*fb = f;
}

int bootinfo_parse_mb2(struct boot_info *bi, const void *info, uint64_t info_phys)
{
	const uint8_t *base = info;
	uint32_t total = rd32(base);

	memset(bi, 0, sizeof(*bi));
	bi->protocol = 2;
	if (total < 16 || total > (64u << 20))
		return -1;
	bi->info_start = info_phys;
	bi->info_end = info_phys + total;

	size_t off = 8;
	while (off + 8 <= total) {
		const uint8_t *tag = base + off;
		uint32_t type = rd32(tag), size = rd32(tag + 4);
		if (type == MB2_TAG_END)
			break;
		if (size < 8 || off + size > total)
			return -1;
		switch (type) {
		case MB2_TAG_CMDLINE:
			copy_string(bi->cmdline, sizeof(bi->cmdline), tag + 8, size - 8);
			break;
		case MB2_TAG_LOADER_NAME:
			copy_string(bi->loader_name, sizeof(bi->loader_name), tag + 8, size - 8);
			break;
		case MB2_TAG_MODULE:
			if (size >= 16)
				add_module(bi, rd32(tag + 8), rd32(tag + 12), tag + 16, size - 16);
			break;
		case MB2_TAG_MMAP: {
			if (size < 16)
				return -1;
			uint32_t esize = rd32(tag + 8);
			if (esize < 20)
				return -1;
			for (size_t e = 16; e + esize <= size; e += esize)
				add_region(bi, rd64(tag + e), rd64(tag + e + 8), rd32(tag + e + 16));
			break;
		}
		case MB2_TAG_ACPI_OLD:
		case MB2_TAG_ACPI_NEW: {
			size_t n = size - 8;
			if (n > sizeof(bi->rsdp))
				n = sizeof(bi->rsdp);
			/* prefer the ACPI 2.0+ copy when the loader gives both */
			if (type == MB2_TAG_ACPI_NEW || bi->rsdp_len == 0) {
				memcpy(bi->rsdp, tag + 8, n);
				bi->rsdp_len = n;
				bi->rsdp_from_loader = true;
			}
			break;
		}
		case MB2_TAG_FRAMEBUFFER:
			parse_framebuffer(&bi->fb, tag, size);
			break;
		case MB2_TAG_EFI32:
		case MB2_TAG_EFI64:
		case MB2_TAG_EFI_MMAP:
			bi->efi = true;
			break;
		default:
			break;
		}
		off += (size + 7) & ~7u;
	}
	sort_regions(bi);
	return 0;
}

/* Multiboot 0.6.96 §3.3: the information structure's fields */
#define MB1_INFO_MEM (1u << 0)
#define MB1_INFO_CMDLINE (1u << 2)
#define MB1_INFO_MODS (1u << 3)
#define MB1_INFO_MMAP (1u << 6)
#define MB1_INFO_LOADER_NAME (1u << 9)

int bootinfo_parse_mb1(struct boot_info *bi, const void *info, uint64_t info_phys,
		       phys_ptr_fn phys_ptr)
{
	const uint8_t *mbi = info;
	uint32_t flags = rd32(mbi);

	memset(bi, 0, sizeof(*bi));
	bi->protocol = 1;
	bi->info_start = info_phys;
	bi->info_end = info_phys + 88;

	if (flags & MB1_INFO_CMDLINE)
		copy_string(bi->cmdline, sizeof(bi->cmdline), phys_ptr(rd32(mbi + 16)),
			    sizeof(bi->cmdline));
	if (flags & MB1_INFO_LOADER_NAME)
		copy_string(bi->loader_name, sizeof(bi->loader_name), phys_ptr(rd32(mbi + 64)),
			    sizeof(bi->loader_name));
	if (flags & MB1_INFO_MODS) {
		uint32_t count = rd32(mbi + 20);
		const uint8_t *mods = phys_ptr(rd32(mbi + 24));
		for (uint32_t i = 0; i < count && i < BOOT_MAX_MODULES; i++) {
			const uint8_t *m = mods + 16 * i;
			uint32_t str = rd32(m + 8);
			const uint8_t *name = str ? phys_ptr(str) : (const uint8_t *)"";
			add_module(bi, rd32(m), rd32(m + 4), name, BOOT_MODNAME_MAX);
		}
	}
	if (flags & MB1_INFO_MMAP) {
		uint32_t len = rd32(mbi + 44);
		const uint8_t *p = phys_ptr(rd32(mbi + 48));
		/* each entry is preceded by its size, which does not count itself */
		for (uint32_t off = 0; off + 24 <= len;) {
			uint32_t esize = rd32(p + off);
			/* an entry may not run past the map (and off must not wrap) */
			if (esize < 20 || esize > len - off - 4)
				return -1;
			add_region(bi, rd64(p + off + 4), rd64(p + off + 12), rd32(p + off + 20));
			off += esize + 4;
		}
	} else if (flags & MB1_INFO_MEM) {
		add_region(bi, 0, (uint64_t)rd32(mbi + 4) << 10, MEM_USABLE);
		add_region(bi, 1ull << 20, (uint64_t)rd32(mbi + 8) << 10, MEM_USABLE);
	}
	sort_regions(bi);
	return 0;
}

uint64_t bootinfo_usable_bytes(const struct boot_info *bi)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < bi->nregions; i++)
		if (bi->regions[i].type == MEM_USABLE)
			sum += bi->regions[i].length;
	return sum;
}
