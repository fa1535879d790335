/*
 * Linux/x86 boot protocol loader (see linux_loader.h). Two passes, as in
 * mb_loader.c: plan (parse the header, place kernel, initrd and command line
 * against the e820 map), then write.
 */
#include "guest/linux_loader.h"

#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/lib/unaligned.h"

struct plan {
	struct linux_header hdr;
	uint64_t kernel_start, kernel_span;
	uint64_t initrd_start;
	size_t cmdline_len;
};

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static uint64_t align_down(uint64_t v, uint64_t a)
{
	return v & ~(a - 1);
}

static void set_err(char *err, size_t errlen, const char *what)
{
	if (err && errlen)
		strlcpy_hv(err, what, errlen);
}

bool linux_is_bzimage(const uint8_t *img, size_t len)
{
	return img && len >= LINUX_HDR_MAGIC + 4 &&
	       rd16(img + LINUX_HDR_BOOT_FLAG) == LINUX_BOOT_FLAG &&
	       rd32(img + LINUX_HDR_MAGIC) == LINUX_HDR_SIGNATURE;
}

/* The kernel_version string's first word ("6.1.0-56-cloud-amd64"), if the
 * header points at one inside the setup code (boot.rst: pointer + 0x200). */
static void read_release(const uint8_t *img, struct linux_header *h)
{
	uint16_t ptr = rd16(img + LINUX_HDR_KERNEL_VERSION);
	size_t n = 0;

	h->release[0] = 0;
	if (ptr == 0)
		return;
	for (size_t off = (size_t)ptr + 0x200; off < h->setup_bytes && n < sizeof(h->release) - 1;
	     off++) {
		char c = (char)img[off];
		if (c <= ' ' || c > '~')
			break;
		h->release[n++] = c;
	}
	h->release[n] = 0;
}

int linux_parse_header(const uint8_t *img, size_t len, struct linux_header *out, char *err,
		       size_t errlen)
{
	struct linux_header h;

	if (!img || !out) {
		set_err(err, errlen, "no image");
		return LINUX_ERR_INVAL;
	}
	if (!linux_is_bzimage(img, len)) {
		set_err(err, errlen,
			"not a Linux bzImage (no 0xaa55 boot flag and \"HdrS\" header)");
		return LINUX_ERR_NOT_BZIMAGE;
	}
	memset(&h, 0, sizeof(h));
	if (len < LINUX_HDR_VERSION + 2) {
		set_err(err, errlen, "truncated image: the setup header is cut off");
		return LINUX_ERR_TRUNCATED;
	}
	h.version = rd16(img + LINUX_HDR_VERSION);
	if (h.version < LINUX_MIN_VERSION) {
		format(err, errlen,
		       "Linux boot protocol %u.%02u is too old: 2.12 or later is needed for the "
		       "64-bit entry",
		       h.version >> 8, h.version & 0xff);
		return LINUX_ERR_VERSION;
	}
	/* boot.rst: the header ends at 0x202 + the byte at 0x201 (the jump's offset) */
	h.header_end = 0x202u + img[LINUX_HDR_JUMP + 1];
	if (h.header_end < LINUX_HDR_END_MIN) {
		format(err, errlen, "setup header ends at 0x%x, before init_size (0x%x)",
		       h.header_end, LINUX_HDR_END_MIN);
		return LINUX_ERR_TRUNCATED;
	}
	if (h.header_end > LINUX_HDR_END_MAX)
		h.header_end = LINUX_HDR_END_MAX;
	if (h.header_end > len) {
		format(err, errlen,
		       "truncated image: the setup header ends at 0x%x, the file at 0x%zx",
		       h.header_end, len);
		return LINUX_ERR_TRUNCATED;
	}

	h.setup_sects = img[LINUX_HDR_SETUP_SECTS];
	h.setup_bytes =
		((h.setup_sects ? h.setup_sects : LINUX_DEFAULT_SETUP_SECTS) + 1u) * LINUX_SECTOR;
	h.syssize = rd32(img + LINUX_HDR_SYSSIZE);
	h.loadflags = img[LINUX_HDR_LOADFLAGS];
	h.initrd_addr_max = rd32(img + LINUX_HDR_INITRD_ADDR_MAX);
	h.kernel_alignment = rd32(img + LINUX_HDR_KERNEL_ALIGNMENT);
	h.relocatable = img[LINUX_HDR_RELOCATABLE] != 0;
	h.min_alignment = img[LINUX_HDR_MIN_ALIGNMENT];
	h.xloadflags = rd16(img + LINUX_HDR_XLOADFLAGS);
	h.cmdline_size = rd32(img + LINUX_HDR_CMDLINE_SIZE);
	h.pref_address = rd64(img + LINUX_HDR_PREF_ADDRESS);
	h.init_size = rd32(img + LINUX_HDR_INIT_SIZE);

	if (h.setup_bytes >= len) {
		format(err, errlen,
		       "truncated image: %u setup sectors (0x%x bytes) leave no protected-mode "
		       "kernel in a file of 0x%zx bytes",
		       h.setup_bytes / LINUX_SECTOR - 1, h.setup_bytes, len);
		return LINUX_ERR_TRUNCATED;
	}
	h.kernel_bytes = len - h.setup_bytes;
	if ((uint64_t)h.syssize * 16 > h.kernel_bytes) {
		format(err, errlen,
		       "truncated image: syssize says 0x%llx bytes of protected-mode kernel, the "
		       "file has 0x%llx after the setup code",
		       (unsigned long long)h.syssize * 16, (unsigned long long)h.kernel_bytes);
		return LINUX_ERR_TRUNCATED;
	}
	if (!(h.loadflags & LINUX_LOADED_HIGH)) {
		set_err(err, errlen,
			"a zImage (loadflags LOADED_HIGH clear): only bzImage kernels are "
			"supported");
		return LINUX_ERR_FLAGS;
	}
	if (!(h.xloadflags & LINUX_XLF_KERNEL_64)) {
		set_err(err, errlen,
			"no 64-bit entry point (xloadflags XLF_KERNEL_64 clear): a 32-bit kernel?");
		return LINUX_ERR_FLAGS;
	}
	if (h.relocatable && (h.kernel_alignment < LINUX_PAGE ||
			      (h.kernel_alignment & (h.kernel_alignment - 1)) != 0)) {
		format(err, errlen, "kernel_alignment 0x%x is not a power of two of 4 KiB or more",
		       h.kernel_alignment);
		return LINUX_ERR_FLAGS;
	}
	if (h.init_size == 0) {
		set_err(err, errlen,
			"init_size is 0: the header does not say how much memory the kernel needs");
		return LINUX_ERR_FLAGS;
	}
	read_release(img, &h);
	*out = h;
	return LINUX_OK;
}

/* Usable RAM for [addr, addr+size): one e820 RAM entry, inside guest RAM and the identity map. */
static bool fits_ram(const struct e820_map *map, const struct linux_guest_mem *mem, uint64_t addr,
		     uint64_t size)
{
	return addr + size >= addr && addr + size <= mem->ram_bytes &&
	       addr + size <= LINUX_IDENTITY_MAP_END && e820_range_is(map, addr, size, E820_RAM);
}

/* The lowest kernel_alignment-aligned address >= floor where span fits usable RAM, or 0. */
static uint64_t lowest_fit(const struct e820_map *map, const struct linux_guest_mem *mem,
			   uint64_t floor, uint64_t align, uint64_t span)
{
	for (size_t i = 0; i < map->count; i++) {
		const struct e820_entry *e = &map->entry[i];
		if (e->type != E820_RAM)
			continue;
		uint64_t a = align_up(e->addr > floor ? e->addr : floor, align);
		if (fits_ram(map, mem, a, span))
			return a;
	}
	return 0;
}

static int place_kernel(struct plan *p, const struct e820_map *map,
			const struct linux_guest_mem *mem, char *err, size_t errlen)
{
	const struct linux_header *h = &p->hdr;
	uint64_t span = h->init_size > h->kernel_bytes ? h->init_size : h->kernel_bytes;
	uint64_t align = h->kernel_alignment;

	p->kernel_span = align_up(span, LINUX_PAGE);
	if (!h->relocatable) {
		/* boot.rst (2.10+): a non-relocatable kernel runs only at pref_address */
		if (h->pref_address < LINUX_KERNEL_MIN_ADDR ||
		    !fits_ram(map, mem, h->pref_address, p->kernel_span)) {
			format(err, errlen,
			       "the kernel is not relocatable and its 0x%llx bytes at pref_address "
			       "0x%llx do not fit usable guest RAM (0x%llx bytes)",
			       (unsigned long long)p->kernel_span,
			       (unsigned long long)h->pref_address,
			       (unsigned long long)mem->ram_bytes);
			return LINUX_ERR_RANGE;
		}
		p->kernel_start = h->pref_address;
		return LINUX_OK;
	}
	if (h->pref_address >= LINUX_KERNEL_MIN_ADDR && (h->pref_address & (align - 1)) == 0 &&
	    fits_ram(map, mem, h->pref_address, p->kernel_span)) {
		p->kernel_start = h->pref_address;
		return LINUX_OK;
	}
	p->kernel_start = lowest_fit(map, mem, LINUX_KERNEL_FALLBACK, align, p->kernel_span);
	if (!p->kernel_start)
		p->kernel_start =
			lowest_fit(map, mem, LINUX_KERNEL_MIN_ADDR, align, p->kernel_span);
	if (!p->kernel_start) {
		format(err, errlen,
		       "the kernel needs 0x%llx bytes (init_size) of usable RAM above 1 MiB, "
		       "aligned "
		       "to 0x%llx: guest RAM (0x%llx bytes) is too small",
		       (unsigned long long)p->kernel_span, (unsigned long long)align,
		       (unsigned long long)mem->ram_bytes);
		return LINUX_ERR_RANGE;
	}
	return LINUX_OK;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* As high as it fits: below initrd_addr_max and the identity map, in usable
 * RAM, clear of the kernel (above it if possible, else below it). */
static int place_initrd(struct plan *p, const struct e820_map *map,
			const struct linux_guest_mem *mem, uint64_t size, char *err, size_t errlen)
{
	const struct linux_header *h = &p->hdr;
	uint64_t limit = (uint64_t)h->initrd_addr_max + 1;

	if (h->xloadflags & LINUX_XLF_CAN_BE_LOADED_ABOVE_4G)
		limit = LINUX_IDENTITY_MAP_END;
	if (limit > LINUX_IDENTITY_MAP_END)
		limit = LINUX_IDENTITY_MAP_END;
	if (limit > mem->ram_bytes)
		limit = mem->ram_bytes;

	for (size_t i = map->count; i-- > 0;) {
		const struct e820_entry *e = &map->entry[i];
		uint64_t end = e->addr + e->size;
		if (e->type != E820_RAM)
			continue;
		if (end > limit)
			end = limit;
		if (end < size || end - size < e->addr)
			continue;
		uint64_t a = align_down(end - size, LINUX_PAGE);
		if (overlaps(a, size, p->kernel_start, p->kernel_span)) {
			/* try just below the kernel */
			if (p->kernel_start < size)
				continue;
			a = align_down(p->kernel_start - size, LINUX_PAGE);
		}
		if (a < e->addr || a < LINUX_KERNEL_MIN_ADDR)
			continue;
		p->initrd_start = a;
		return LINUX_OK;
	}
	format(err, errlen,
	       "the initrd (0x%llx bytes) does not fit usable guest RAM below 0x%llx beside the "
	       "kernel at 0x%llx-0x%llx",
	       (unsigned long long)size, (unsigned long long)limit,
	       (unsigned long long)p->kernel_start,
	       (unsigned long long)(p->kernel_start + p->kernel_span));
	return LINUX_ERR_RANGE;
}

static int plan_load(const uint8_t *img, size_t len, const struct linux_guest_mem *mem,
		     const struct linux_boot_config *cfg, const struct e820_map *map,
		     struct plan *p, char *err, size_t errlen)
{
	const char *cmdline = cfg->cmdline ? cfg->cmdline : "";
	int rc = linux_parse_header(img, len, &p->hdr, err, errlen);
	if (rc)
		return rc;

	if (!fits_ram(map, mem, LINUX_BOOT_AREA_START,
		      LINUX_BOOT_AREA_END - LINUX_BOOT_AREA_START)) {
		format(err, errlen,
		       "guest RAM 0x%llx-0x%llx (zero page, GDT, page tables, command line) is not "
		       "usable RAM in the VM's memory map",
		       (unsigned long long)LINUX_BOOT_AREA_START,
		       (unsigned long long)LINUX_BOOT_AREA_END);
		return LINUX_ERR_RANGE;
	}

	size_t max = p->hdr.cmdline_size < LINUX_CMDLINE_MAX - 1 ? p->hdr.cmdline_size
								 : LINUX_CMDLINE_MAX - 1;
	p->cmdline_len = strnlen(cmdline, (size_t)max + 1);
	if (p->cmdline_len > max) {
		format(err, errlen,
		       "command line longer than the %zu bytes the kernel accepts (cmdline_size)",
		       max);
		return LINUX_ERR_TOO_LONG;
	}

	rc = place_kernel(p, map, mem, err, errlen);
	if (rc)
		return rc;
	if (cfg->initrd && cfg->initrd_len)
		rc = place_initrd(p, map, mem, cfg->initrd_len, err, errlen);
	return rc;
}

/* ---- writing ---- */

static int put(const struct linux_guest_mem *mem, uint64_t gpa, const void *src, size_t len)
{
	return mem->write(mem->ctx, gpa, src, len) < 0 ? LINUX_ERR_MEM : LINUX_OK;
}

static int put_u8(const struct linux_guest_mem *mem, uint64_t gpa, uint8_t v)
{
	return put(mem, gpa, &v, 1);
}

static int put_u32(const struct linux_guest_mem *mem, uint64_t gpa, uint32_t v)
{
	uint8_t b[4];
	wr32(b, v);
	return put(mem, gpa, b, 4);
}

static int put_u64(const struct linux_guest_mem *mem, uint64_t gpa, uint64_t v)
{
	uint8_t b[8];
	wr64(b, v);
	return put(mem, gpa, b, 8);
}

static int zero(const struct linux_guest_mem *mem, uint64_t gpa, uint64_t len)
{
	/* in pieces a size_t surely holds */
	while (len) {
		size_t n = len > 0x40000000ull ? 0x40000000u : (size_t)len;
		if (mem->zero(mem->ctx, gpa, n) < 0)
			return LINUX_ERR_MEM;
		gpa += n;
		len -= n;
	}
	return LINUX_OK;
}

/* The zero page: the image's setup header, then what a boot loader fills in
 * (boot.rst "DETAILS OF HEADER FIELDS", zero-page.rst). */
static int write_zero_page(const struct linux_guest_mem *mem, const uint8_t *img,
			   const struct plan *p, const struct linux_boot_config *cfg,
			   const struct e820_map *map)
{
	const struct linux_header *h = &p->hdr;
	const uint64_t zp = LINUX_ZERO_PAGE_ADDR;
	uint64_t initrd = cfg->initrd && cfg->initrd_len ? p->initrd_start : 0;
	uint64_t initrd_len = initrd ? cfg->initrd_len : 0;
	uint8_t e[LINUX_BP_E820_ENTRY_SIZE];
	int rc = 0;

	rc |= put(mem, zp + LINUX_HDR_SETUP_SECTS, img + LINUX_HDR_SETUP_SECTS,
		  h->header_end - LINUX_HDR_SETUP_SECTS);
	rc |= put_u8(mem, zp + LINUX_HDR_TYPE_OF_LOADER, LINUX_TYPE_OF_LOADER);
	/* no real-mode heap: the setup code does not run */
	rc |= put_u8(mem, zp + LINUX_HDR_LOADFLAGS, (uint8_t)(h->loadflags & ~LINUX_CAN_USE_HEAP));
	rc |= put_u32(mem, zp + LINUX_HDR_CODE32_START, (uint32_t)p->kernel_start);
	rc |= put_u32(mem, zp + LINUX_HDR_RAMDISK_IMAGE, (uint32_t)initrd);
	rc |= put_u32(mem, zp + LINUX_HDR_RAMDISK_SIZE, (uint32_t)initrd_len);
	rc |= put_u32(mem, zp + LINUX_BP_EXT_RAMDISK_IMAGE, (uint32_t)(initrd >> 32));
	rc |= put_u32(mem, zp + LINUX_BP_EXT_RAMDISK_SIZE, (uint32_t)(initrd_len >> 32));
	rc |= put_u32(mem, zp + LINUX_HDR_CMD_LINE_PTR, (uint32_t)LINUX_CMDLINE_ADDR);
	rc |= put_u32(mem, zp + LINUX_BP_EXT_CMD_LINE_PTR, (uint32_t)(LINUX_CMDLINE_ADDR >> 32));
	rc |= put_u64(mem, zp + LINUX_HDR_SETUP_DATA, 0); /* no setup_data list */
	if (h->version >= LINUX_VERSION_RSDP)
		rc |= put_u64(mem, zp + LINUX_BP_ACPI_RSDP_ADDR, cfg->acpi_rsdp);

	/* extended memory above 1 MiB, in KiB (used only without an e820 map) */
	uint64_t ext_kib =
		mem->ram_bytes > E820_HIGH_RAM ? (mem->ram_bytes - E820_HIGH_RAM) >> 10 : 0;
	rc |= put_u32(mem, zp + LINUX_BP_ALT_MEM_K,
		      ext_kib > 0xffffffffu ? 0xffffffffu : (uint32_t)ext_kib);

	rc |= put_u8(mem, zp + LINUX_BP_E820_ENTRIES, (uint8_t)map->count);
	for (size_t i = 0; i < map->count; i++) {
		wr64(e, map->entry[i].addr);
		wr64(e + 8, map->entry[i].size);
		wr32(e + 16, map->entry[i].type);
		rc |= put(mem, zp + LINUX_BP_E820_TABLE + i * LINUX_BP_E820_ENTRY_SIZE, e,
			  sizeof(e));
	}
	return rc ? LINUX_ERR_MEM : LINUX_OK;
}

/* The GDT and an identity map of 0-4 GiB with 2 MiB pages (boot.rst "64-bit
 * BOOT PROTOCOL": the kernel, zero page and command line must be identity mapped). */
static int write_gdt_and_page_tables(const struct linux_guest_mem *mem)
{
	uint8_t chunk[64 * 8];
	int rc = 0;

	wr64(chunk, 0);
	wr64(chunk + 8, 0);
	wr64(chunk + 16, LINUX_GDT_CODE64);
	wr64(chunk + 24, LINUX_GDT_DATA);
	rc |= put(mem, LINUX_GDT_ADDR, chunk, LINUX_GDT_ENTRIES * 8);

	rc |= put_u64(mem, LINUX_PML4_ADDR, LINUX_PDPT_ADDR | LINUX_PTE_P | LINUX_PTE_RW);
	for (int i = 0; i < LINUX_PD_COUNT; i++)
		rc |= put_u64(mem, LINUX_PDPT_ADDR + 8 * (uint64_t)i,
			      (LINUX_PD_ADDR + LINUX_PAGE * (uint64_t)i) | LINUX_PTE_P |
				      LINUX_PTE_RW);
	for (uint64_t n = 0; n < LINUX_PD_COUNT * 512ull; n += 64) {
		for (int j = 0; j < 64; j++)
			wr64(chunk + 8 * j, ((n + (uint64_t)j) << 21) | LINUX_PTE_P |
						     LINUX_PTE_RW | LINUX_PTE_PS);
		rc |= put(mem, LINUX_PD_ADDR + 8 * n, chunk, sizeof(chunk));
	}
	return rc ? LINUX_ERR_MEM : LINUX_OK;
}

int linux_load(const uint8_t *img, size_t len, const struct linux_guest_mem *mem,
	       const struct linux_boot_config *cfg, struct linux_entry *out, char *err,
	       size_t errlen)
{
	static const struct linux_boot_config no_cfg;
	struct e820_map own_map;
	const struct e820_map *map;
	struct plan p;
	int rc;

	if (!img || !mem || !mem->write || !mem->zero || !out) {
		set_err(err, errlen, "bad arguments");
		return LINUX_ERR_INVAL;
	}
	if (!cfg)
		cfg = &no_cfg;
	map = cfg->e820;
	if (!map) {
		struct e820_layout layout = { .ram_bytes = mem->ram_bytes };
		if (e820_build(&layout, &own_map) != E820_OK) {
			format(err, errlen,
			       "guest RAM of 0x%llx bytes cannot be described (1 MiB to 3 GiB)",
			       (unsigned long long)mem->ram_bytes);
			return LINUX_ERR_RANGE;
		}
		map = &own_map;
	}
	if (map->count > LINUX_BP_E820_MAX) {
		set_err(err, errlen, "the memory map has more entries than the zero page holds");
		return LINUX_ERR_INVAL;
	}
	memset(&p, 0, sizeof(p));
	rc = plan_load(img, len, mem, cfg, map, &p, err, errlen);
	if (rc)
		return rc;

	/* Everything checked: write. */
	const char *cmdline = cfg->cmdline ? cfg->cmdline : "";
	uint64_t kernel_bytes = p.hdr.kernel_bytes;
	rc = zero(mem, LINUX_BOOT_AREA_START, LINUX_BOOT_AREA_END - LINUX_BOOT_AREA_START);
	if (!rc)
		rc = put(mem, p.kernel_start, img + p.hdr.setup_bytes, (size_t)kernel_bytes);
	if (!rc && p.kernel_span > kernel_bytes)
		rc = zero(mem, p.kernel_start + kernel_bytes, p.kernel_span - kernel_bytes);
	if (!rc && cfg->initrd && cfg->initrd_len)
		rc = put(mem, p.initrd_start, cfg->initrd, cfg->initrd_len);
	if (!rc)
		rc = put(mem, LINUX_CMDLINE_ADDR, cmdline, p.cmdline_len + 1);
	if (!rc)
		rc = write_zero_page(mem, img, &p, cfg, map);
	if (!rc)
		rc = write_gdt_and_page_tables(mem);
	if (rc) {
		set_err(err, errlen, "writing guest memory failed");
		return LINUX_ERR_MEM;
	}

	memset(out, 0, sizeof(*out));
	out->rip = p.kernel_start + LINUX_ENTRY_64_OFFSET;
	out->rsi = LINUX_ZERO_PAGE_ADDR;
	out->rsp = LINUX_STACK_TOP;
	out->cr0 = LINUX_CR0_PE | LINUX_CR0_ET | LINUX_CR0_NE | LINUX_CR0_PG;
	out->cr3 = LINUX_PML4_ADDR;
	out->cr4 = LINUX_CR4_PAE;
	out->efer = LINUX_EFER_LME | LINUX_EFER_LMA;
	out->gdt_base = LINUX_GDT_ADDR;
	out->gdt_limit = LINUX_GDT_ENTRIES * 8 - 1;
	out->cs = LINUX_BOOT_CS;
	out->ds = LINUX_BOOT_DS;
	out->kernel_start = p.kernel_start;
	out->kernel_end = p.kernel_start + p.kernel_span;
	if (cfg->initrd && cfg->initrd_len) {
		out->initrd_start = p.initrd_start;
		out->initrd_end = p.initrd_start + cfg->initrd_len;
	}
	out->cmdline_addr = LINUX_CMDLINE_ADDR;
	out->version = p.hdr.version;
	return LINUX_OK;
}
