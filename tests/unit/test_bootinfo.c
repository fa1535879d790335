// SOURCES: kernel/boot/bootinfo.c kernel/lib/string.c
/*
 * Multiboot1 and multiboot2 information as GRUB builds it, parsed into
 * struct boot_info. Each structure is copied into a heap block of exactly its
 * size, so AddressSanitizer catches any read past what the loader gave us.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/boot/bootinfo.h"

/* ---- a multiboot2 information builder (Multiboot2 spec §3.6) ---- */

struct mb2 {
	uint8_t buf[16384];
	size_t len;
	size_t tag; /* offset of the open tag */
};

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void mb2_begin(struct mb2 *m)
{
	memset(m, 0, sizeof(*m));
	m->len = 8; /* total_size, reserved */
}

static void mb2_open(struct mb2 *m, uint32_t type)
{
	m->tag = m->len;
	put32(m->buf + m->len, type);
	m->len += 8;
}

static void mb2_bytes(struct mb2 *m, const void *p, size_t n)
{
	assert_true(m->len + n <= sizeof(m->buf));
	memcpy(m->buf + m->len, p, n);
	m->len += n;
}

static void mb2_u32(struct mb2 *m, uint32_t v)
{
	mb2_bytes(m, &v, 4);
}

static void mb2_u64(struct mb2 *m, uint64_t v)
{
	mb2_bytes(m, &v, 8);
}

/* Closes the open tag: its size excludes padding, the next tag starts 8-aligned. */
static void mb2_close(struct mb2 *m)
{
	put32(m->buf + m->tag + 4, (uint32_t)(m->len - m->tag));
	m->len = (m->len + 7) & ~(size_t)7;
}

static void mb2_string_tag(struct mb2 *m, uint32_t type, const char *s)
{
	mb2_open(m, type);
	mb2_bytes(m, s, strlen(s) + 1);
	mb2_close(m);
}

static void mb2_module(struct mb2 *m, uint32_t start, uint32_t end, const char *cmdline)
{
	mb2_open(m, 3);
	mb2_u32(m, start);
	mb2_u32(m, end);
	mb2_bytes(m, cmdline, strlen(cmdline) + 1);
	mb2_close(m);
}

struct e820 {
	uint64_t base, len;
	uint32_t type;
};

/* GRUB's memory map tag: entry_size 24 (the spec's 20 bytes plus a reserved word) */
static void mb2_mmap(struct mb2 *m, const struct e820 *e, size_t n)
{
	mb2_open(m, 6);
	mb2_u32(m, 24);
	mb2_u32(m, 0); /* entry_version */
	for (size_t i = 0; i < n; i++) {
		mb2_u64(m, e[i].base);
		mb2_u64(m, e[i].len);
		mb2_u32(m, e[i].type);
		mb2_u32(m, 0);
	}
	mb2_close(m);
}

/* Ends the structure and returns an exact-size heap copy (free it). */
static uint8_t *mb2_finish(struct mb2 *m)
{
	mb2_open(m, 0);
	mb2_close(m);
	put32(m->buf, (uint32_t)m->len);
	uint8_t *copy = malloc(m->len);
	memcpy(copy, m->buf, m->len);
	return copy;
}

/* An ACPI 2.0 RSDP, as GRUB copies it into the "ACPI new RSDP" tag. */
static void make_rsdp_v2(uint8_t r[36], uint64_t xsdt)
{
	memset(r, 0, 36);
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "BOCHS ", 6);
	r[15] = 2;
	put32(r + 16, 0x7ffe1234);
	put32(r + 20, 36);
	put64(r + 24, xsdt);
}

static void make_rsdp_v1(uint8_t r[20])
{
	memset(r, 0, 20);
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "OLDOEM", 6);
	r[15] = 0;
	put32(r + 16, 0x7ffe0000);
}

static const struct e820 qemu_map[] = {
	{0x0, 0x9fc00, 1},
	{0x9fc00, 0x400, 2},
	{0xf0000, 0x10000, 2},
	{0x100000, 0x7fee0000, 1},
	{0x7ffe0000, 0x20000, 2},
	{0xfeffc000, 0x4000, 2},
	{0xfffc0000, 0x40000, 2},
	{0x100000000ull, 0x80000000ull, 1},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void check_qemu_regions(const struct boot_info *bi)
{
	assert_int_equal(bi->nregions, NELEM(qemu_map));
	for (size_t i = 0; i < NELEM(qemu_map); i++) {
		assert_true(bi->regions[i].base == qemu_map[i].base);
		assert_true(bi->regions[i].length == qemu_map[i].len);
		assert_int_equal(bi->regions[i].type, qemu_map[i].type);
	}
	assert_false(bi->regions_truncated);
	assert_true(bootinfo_usable_bytes(bi) == 0x9fc00ull + 0x7fee0000ull + 0x80000000ull);
}

/* The tags GRUB 2.06 hands a multiboot2 kernel on a BIOS machine, in its order. */
static uint8_t *build_grub_bios(struct mb2 *m, const uint8_t rsdp_v2[36])
{
	uint8_t rsdp_v1[20];
	make_rsdp_v1(rsdp_v1);

	mb2_begin(m);
	mb2_open(m, 21); /* image load base physical address */
	mb2_u32(m, 0x200000);
	mb2_close(m);
	mb2_string_tag(m, 1, "console=com1 com1=115200,8n1 loglevel=4");
	mb2_string_tag(m, 2, "GRUB 2.06-13+deb12u1");
	mb2_module(m, 0x1000000, 0x1000400, "/boot/vm1.cfg");
	mb2_module(m, 0x1001000, 0x1a00000, "/boot/bzImage console=ttyS0 quiet");
	mb2_module(m, 0x1a00000, 0x1a00000, ""); /* an empty file is still a module */
	mb2_open(m, 4); /* basic memory information */
	mb2_u32(m, 639);
	mb2_u32(m, 2096000);
	mb2_close(m);
	mb2_open(m, 5); /* BIOS boot device */
	mb2_u32(m, 0x80);
	mb2_u32(m, 0);
	mb2_u32(m, 0xffffffff);
	mb2_close(m);
	mb2_mmap(m, qemu_map, NELEM(qemu_map));
	mb2_open(m, 8); /* framebuffer info (EGA text) */
	mb2_u64(m, 0xb8000);
	mb2_u32(m, 160);
	mb2_u32(m, 80);
	mb2_u32(m, 25);
	uint8_t fbtail[4] = {16, 2, 0, 0};
	mb2_bytes(m, fbtail, 2);
	mb2_close(m);
	mb2_open(m, 10); /* APM table */
	uint8_t apm[20] = {0};
	mb2_bytes(m, apm, sizeof(apm));
	mb2_close(m);
	mb2_open(m, 14); /* ACPI old RSDP */
	mb2_bytes(m, rsdp_v1, 20);
	mb2_close(m);
	mb2_open(m, 15); /* ACPI new RSDP */
	mb2_bytes(m, rsdp_v2, 36);
	mb2_close(m);
	return mb2_finish(m);
}

static void test_mb2_grub_bios(void **state)
{
	(void)state;
	static struct mb2 m;
	static struct boot_info bi;
	uint8_t rsdp[36];
	make_rsdp_v2(rsdp, 0x7ffe2000);
	uint8_t *info = build_grub_bios(&m, rsdp);

	assert_int_equal(bootinfo_parse_mb2(&bi, info, 0x10000), 0);
	assert_int_equal(bi.protocol, 2);
	assert_string_equal(bi.cmdline, "console=com1 com1=115200,8n1 loglevel=4");
	assert_string_equal(bi.loader_name, "GRUB 2.06-13+deb12u1");

	assert_int_equal(bi.nmodules, 3);
	assert_int_equal(bi.modules[0].start, 0x1000000);
	assert_int_equal(bi.modules[0].end, 0x1000400);
	assert_string_equal(bi.modules[0].cmdline, "/boot/vm1.cfg");
	assert_int_equal(bi.modules[1].start, 0x1001000);
	assert_int_equal(bi.modules[1].end, 0x1a00000);
	assert_string_equal(bi.modules[1].cmdline, "/boot/bzImage console=ttyS0 quiet");
	assert_int_equal(bi.modules[2].start, bi.modules[2].end);
	assert_string_equal(bi.modules[2].cmdline, "");

	check_qemu_regions(&bi);

	/* the ACPI 2.0 copy wins over the 1.0 one */
	assert_int_equal(bi.rsdp_len, 36);
	assert_memory_equal(bi.rsdp, rsdp, 36);
	assert_false(bi.efi);
	assert_int_equal(bi.info_start, 0x10000);
	assert_int_equal(bi.info_end, 0x10000 + m.len);
	free(info);
}

static void test_mb2_grub_efi(void **state)
{
	(void)state;
	static struct mb2 m;
	static struct boot_info bi;
	uint8_t rsdp[36];
	make_rsdp_v2(rsdp, 0x7fb7e0e8);

	mb2_begin(&m);
	mb2_string_tag(&m, 1, "");
	mb2_string_tag(&m, 2, "GRUB 2.12");
	mb2_open(&m, 12); /* EFI 64-bit system table pointer */
	mb2_u64(&m, 0x7fbee018);
	mb2_close(&m);
	mb2_open(&m, 18); /* EFI boot services not terminated */
	mb2_close(&m);
	mb2_open(&m, 20); /* EFI 64-bit image handle */
	mb2_u64(&m, 0x7e9c1a98);
	mb2_close(&m);
	mb2_mmap(&m, qemu_map, NELEM(qemu_map));
	mb2_open(&m, 15); /* new RSDP before any old one: must still win */
	mb2_bytes(&m, rsdp, 36);
	mb2_close(&m);
	uint8_t old[20];
	make_rsdp_v1(old);
	mb2_open(&m, 14);
	mb2_bytes(&m, old, 20);
	mb2_close(&m);
	mb2_open(&m, 17); /* EFI memory map: descriptor size 48, version 1 */
	mb2_u32(&m, 48);
	mb2_u32(&m, 1);
	uint8_t desc[2 * 48] = {0};
	mb2_bytes(&m, desc, sizeof(desc));
	mb2_close(&m);
	uint8_t *info = mb2_finish(&m);

	assert_int_equal(bootinfo_parse_mb2(&bi, info, 0x7e000000), 0);
	assert_true(bi.efi);
	assert_string_equal(bi.cmdline, "");
	assert_string_equal(bi.loader_name, "GRUB 2.12");
	assert_int_equal(bi.nmodules, 0);
	assert_int_equal(bi.rsdp_len, 36);
	assert_memory_equal(bi.rsdp, rsdp, 36);
	check_qemu_regions(&bi);
	free(info);
}

static void test_mb2_each_efi_tag_marks_efi(void **state)
{
	(void)state;
	static struct mb2 m;
	static struct boot_info bi;
	const uint32_t types[] = {11, 12, 17};
	for (size_t i = 0; i < NELEM(types); i++) {
		mb2_begin(&m);
		mb2_open(&m, types[i]);
		mb2_u64(&m, 0x1234);
		mb2_close(&m);
		uint8_t *info = mb2_finish(&m);
		assert_int_equal(bootinfo_parse_mb2(&bi, info, 0), 0);
		assert_true(bi.efi);
		free(info);
	}
}

static void test_mb2_only_old_rsdp(void **state)
{
	(void)state;
	static struct mb2 m;
	static struct boot_info bi;
	uint8_t old[20];
	make_rsdp_v1(old);
	mb2_begin(&m);
	mb2_open(&m, 14);
	mb2_bytes(&m, old, 20);
	mb2_close(&m);
	uint8_t *info = mb2_finish(&m);
	assert_int_equal(bootinfo_parse_mb2(&bi, info, 0), 0);
	assert_int_equal(bi.rsdp_len, 20);
	assert_memory_equal(bi.rsdp, old, 20);
	free(info);
}

static void test_mb2_unsorted_map_odd_types_and_empty_regions(void **state)
{
	(void)state;
	static struct mb2 m;
	static struct boot_info bi;
	const struct e820 map[] = {
		{0x100000000ull, 0x40000000, 1},
		{0x100000, 0x3ff00000, 1},
		{0x0, 0x9f000, 1},
		{0x50000000, 0x1000, 7},  /* persistent memory: not ours */
		{0x60000000, 0x0, 1},     /* empty: dropped */
		{0x70000000, 0x1000, 3},  /* ACPI reclaimable */
		{0x70001000, 0x1000, 4},  /* ACPI NVS */
		{0x70002000, 0x1000, 5},  /* bad RAM */
		{0x70003000, 0x1000, 0},  /* type 0 is no known type */
	};
	mb2_begin(&m);
	mb2_mmap(&m, map, NELEM(map));
	uint8_t *info = mb2_finish(&m);
	assert_int_equal(bootinfo_parse_mb2(&bi, info, 0), 0);

	assert_int_equal(bi.nregions, 8);
	for (size_t i = 1; i < bi.nregions; i++)
		assert_true(bi.regions[i - 1].base < bi.regions[i].base);
	assert_int_equal(bi.regions[0].base, 0);
	assert_int_equal(bi.regions[1].base, 0x100000);
	assert_int_equal(bi.regions[2].base, 0x50000000);
	assert_int_equal(bi.regions[2].type, MEM_RESERVED);
	assert_int_equal(bi.regions[3].type, MEM_ACPI_RECLAIMABLE);
	assert_int_equal(bi.regions[4].type, MEM_ACPI_NVS);
	assert_int_equal(bi.regions[5].type, MEM_BAD);
	assert_int_equal(bi.regions[6].type, MEM_RESERVED);
	assert_true(bi.regions[7].base == 0x100000000ull);
	assert_true(bootinfo_usable_bytes(&bi) == 0x9f000ull + 0x3ff00000ull + 0x40000000ull);
	free(info);
}

static void test_mb2_too_many_regions(void **state)
{
	(void)state;
	static struct mb2 m;
	static struct boot_info bi;
	static struct e820 map[BOOT_MAX_REGIONS + 5];
	for (size_t i = 0; i < NELEM(map); i++)
		map[i] = (struct e820){0x100000 * (i + 1), 0x1000, 1};
	mb2_begin(&m);
	mb2_mmap(&m, map, NELEM(map));
	uint8_t *info = mb2_finish(&m);
	assert_int_equal(bootinfo_parse_mb2(&bi, info, 0), 0);
	assert_int_equal(bi.nregions, BOOT_MAX_REGIONS);
	assert_true(bi.regions_truncated);
	free(info);
}

static void test_mb2_too_many_modules(void **state)
{
	(void)state;
	static struct mb2 m;
	static struct boot_info bi;
	mb2_begin(&m);
	for (uint32_t i = 0; i < BOOT_MAX_MODULES + 3; i++)
		mb2_module(&m, 0x1000000 + i * 0x1000, 0x1000000 + i * 0x1000 + 0x800, "/m");
	uint8_t *info = mb2_finish(&m);
	assert_int_equal(bootinfo_parse_mb2(&bi, info, 0), 0);
	assert_int_equal(bi.nmodules, BOOT_MAX_MODULES);
	assert_int_equal(bi.modules[BOOT_MAX_MODULES - 1].start,
			 0x1000000 + (BOOT_MAX_MODULES - 1) * 0x1000);
	free(info);
}

static void test_mb2_long_and_unterminated_strings(void **state)
{
	(void)state;
	static struct mb2 m;
	static struct boot_info bi;
	static char longline[BOOT_CMDLINE_MAX + 100];
	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = 0;

	mb2_begin(&m);
	mb2_string_tag(&m, 1, longline);
	mb2_open(&m, 2); /* a name without its terminator: bounded by the tag */
	mb2_bytes(&m, "GRUBGRUB", 8);
	mb2_close(&m);
	uint8_t *info = mb2_finish(&m);
	assert_int_equal(bootinfo_parse_mb2(&bi, info, 0), 0);
	assert_int_equal(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
	assert_string_equal(bi.loader_name, "GRUBGRUB");
	free(info);
}

static void test_mb2_end_tag_stops_parsing(void **state)
{
	(void)state;
	static struct mb2 m;
	static struct boot_info bi;
	mb2_begin(&m);
	mb2_string_tag(&m, 1, "first");
	mb2_open(&m, 0);
	mb2_close(&m);
	mb2_string_tag(&m, 1, "after the end");
	uint8_t *info = mb2_finish(&m);
	assert_int_equal(bootinfo_parse_mb2(&bi, info, 0), 0);
	assert_string_equal(bi.cmdline, "first");
	free(info);
}

/* Parses a hand-made (possibly broken) structure from an exact-size copy. */
static int parse_raw_mb2(const uint8_t *raw, size_t len, struct boot_info *bi)
{
	uint8_t *copy = malloc(len);
	memcpy(copy, raw, len);
	int rc = bootinfo_parse_mb2(bi, copy, 0x1000);
	free(copy);
	return rc;
}

static void test_mb2_malformed_rejected(void **state)
{
	(void)state;
	static struct mb2 m;
	static struct boot_info bi;
	uint8_t raw[64];

	/* total_size too small to hold even the end tag */
	memset(raw, 0, sizeof(raw));
	put32(raw, 8);
	assert_int_equal(parse_raw_mb2(raw, 8, &bi), -1);

	/* total_size absurdly large */
	put32(raw, 0x7fffffff);
	assert_int_equal(parse_raw_mb2(raw, 8, &bi), -1);

	/* a tag whose size is smaller than its own header */
	memset(raw, 0, sizeof(raw));
	put32(raw, 32);
	put32(raw + 8, 1);
	put32(raw + 12, 4);
	assert_int_equal(parse_raw_mb2(raw, 32, &bi), -1);

	/* a tag that runs past total_size (truncated structure) */
	memset(raw, 0, sizeof(raw));
	put32(raw, 32);
	put32(raw + 8, 1);
	put32(raw + 12, 40);
	assert_int_equal(parse_raw_mb2(raw, 32, &bi), -1);

	/* a memory map whose entries are smaller than the spec's 20 bytes */
	mb2_begin(&m);
	mb2_open(&m, 6);
	mb2_u32(&m, 16);
	mb2_u32(&m, 0);
	mb2_u64(&m, 0);
	mb2_u64(&m, 0x1000);
	mb2_close(&m);
	uint8_t *info = mb2_finish(&m);
	assert_int_equal(bootinfo_parse_mb2(&bi, info, 0), -1);
	free(info);

	/* a memory map tag too short for its own header */
	mb2_begin(&m);
	mb2_open(&m, 6);
	mb2_u32(&m, 24);
	mb2_close(&m);
	info = mb2_finish(&m);
	assert_int_equal(bootinfo_parse_mb2(&bi, info, 0), -1);
	free(info);

	/* entry_size 20 (the spec's minimum) still works; a partial last entry is ignored */
	mb2_begin(&m);
	mb2_open(&m, 6);
	mb2_u32(&m, 20);
	mb2_u32(&m, 0);
	mb2_u64(&m, 0x100000);
	mb2_u64(&m, 0x200000);
	mb2_u32(&m, 1);
	mb2_u64(&m, 0x900000); /* half an entry */
	mb2_close(&m);
	info = mb2_finish(&m);
	assert_int_equal(bootinfo_parse_mb2(&bi, info, 0), 0);
	assert_int_equal(bi.nregions, 1);
	assert_int_equal(bi.regions[0].length, 0x200000);
	free(info);
}

static void test_mb2_no_end_tag_stops_at_total(void **state)
{
	(void)state;
	static struct mb2 m;
	static struct boot_info bi;
	mb2_begin(&m);
	mb2_string_tag(&m, 1, "abc");
	put32(m.buf, (uint32_t)m.len); /* no end tag at all */
	assert_int_equal(parse_raw_mb2(m.buf, m.len, &bi), 0);
	assert_string_equal(bi.cmdline, "abc");
}

/* ---- multiboot1 (Multiboot 0.6.96 §3.3) through a fake physical memory ---- */

#define LOWMEM_SIZE 0x10000
static uint8_t *lowmem; /* physical 0 .. LOWMEM_SIZE */

static const void *low_phys(uint64_t phys)
{
	assert_true(phys < LOWMEM_SIZE);
	return lowmem + phys;
}

static int setup_lowmem(void **state)
{
	(void)state;
	lowmem = calloc(1, LOWMEM_SIZE);
	return lowmem ? 0 : -1;
}

static int teardown_lowmem(void **state)
{
	(void)state;
	free(lowmem);
	lowmem = NULL;
	return 0;
}

#define MBI 0x9000u

static void mb1_set(uint32_t off, uint32_t v)
{
	put32(lowmem + MBI + off, v);
}

/* Writes a multiboot1 memory map at 0x9400 the way GRUB legacy and QEMU do. */
static uint32_t mb1_mmap(const struct e820 *e, size_t n)
{
	uint8_t *p = lowmem + 0x9400;
	for (size_t i = 0; i < n; i++, p += 24) {
		put32(p, 20);
		put64(p + 4, e[i].base);
		put64(p + 12, e[i].len);
		put32(p + 20, e[i].type);
	}
	return (uint32_t)(24 * n);
}

static void test_mb1_grub_style(void **state)
{
	(void)state;
	static struct boot_info bi;

	mb1_set(0, (1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9));
	mb1_set(4, 639);
	mb1_set(8, 2096000);
	strcpy((char *)lowmem + 0x9100, "console=com2 loglevel=7");
	mb1_set(16, 0x9100);
	strcpy((char *)lowmem + 0x9180, "GRUB 0.97");
	mb1_set(64, 0x9180);
	/* two modules, the second without a string */
	mb1_set(20, 2);
	mb1_set(24, 0x9200);
	put32(lowmem + 0x9200, 0x200000);
	put32(lowmem + 0x9204, 0x201000);
	put32(lowmem + 0x9208, 0x9300);
	put32(lowmem + 0x9210, 0x300000);
	put32(lowmem + 0x9214, 0x380000);
	put32(lowmem + 0x9218, 0);
	strcpy((char *)lowmem + 0x9300, "/boot/vm1.cfg");
	mb1_set(44, mb1_mmap(qemu_map, NELEM(qemu_map)));
	mb1_set(48, 0x9400);

	assert_int_equal(bootinfo_parse_mb1(&bi, lowmem + MBI, MBI, low_phys), 0);
	assert_int_equal(bi.protocol, 1);
	assert_string_equal(bi.cmdline, "console=com2 loglevel=7");
	assert_string_equal(bi.loader_name, "GRUB 0.97");
	assert_int_equal(bi.nmodules, 2);
	assert_int_equal(bi.modules[0].start, 0x200000);
	assert_int_equal(bi.modules[0].end, 0x201000);
	assert_string_equal(bi.modules[0].cmdline, "/boot/vm1.cfg");
	assert_int_equal(bi.modules[1].start, 0x300000);
	assert_string_equal(bi.modules[1].cmdline, "");
	/* the memory map wins over mem_lower/mem_upper */
	check_qemu_regions(&bi);
	assert_int_equal(bi.rsdp_len, 0);
	assert_false(bi.efi);
	assert_int_equal(bi.info_start, MBI);
	assert_true(bi.info_end > bi.info_start);
}

static void test_mb1_fields_absent_by_flags(void **state)
{
	(void)state;
	static struct boot_info bi;
	/* pointers that would fault if followed: the flags say they are not valid */
	mb1_set(0, 0);
	mb1_set(16, 0xdeadbeef);
	mb1_set(24, 0xdeadbeef);
	mb1_set(48, 0xdeadbeef);
	mb1_set(64, 0xdeadbeef);
	assert_int_equal(bootinfo_parse_mb1(&bi, lowmem + MBI, MBI, low_phys), 0);
	assert_string_equal(bi.cmdline, "");
	assert_string_equal(bi.loader_name, "");
	assert_int_equal(bi.nmodules, 0);
	assert_int_equal(bi.nregions, 0);
}

static void test_mb1_mem_lower_upper_only(void **state)
{
	(void)state;
	static struct boot_info bi;
	mb1_set(0, 1u << 0);
	mb1_set(4, 639);
	mb1_set(8, 130048); /* KiB above 1 MiB */
	assert_int_equal(bootinfo_parse_mb1(&bi, lowmem + MBI, MBI, low_phys), 0);
	assert_int_equal(bi.nregions, 2);
	assert_int_equal(bi.regions[0].base, 0);
	assert_int_equal(bi.regions[0].length, 639 * 1024);
	assert_int_equal(bi.regions[1].base, 0x100000);
	assert_int_equal(bi.regions[1].length, 130048ull * 1024);
	assert_true(bootinfo_usable_bytes(&bi) == (639ull + 130048ull) * 1024);
}

static void test_mb1_module_limits(void **state)
{
	(void)state;
	static struct boot_info bi;
	mb1_set(0, 1u << 3);
	mb1_set(20, BOOT_MAX_MODULES + 4);
	mb1_set(24, 0xa000);
	for (uint32_t i = 0; i < BOOT_MAX_MODULES + 4; i++) {
		uint8_t *m = lowmem + 0xa000 + 16 * i;
		put32(m, 0x400000 + i * 0x1000);
		put32(m + 4, 0x400000 + i * 0x1000 + 0x10);
		put32(m + 8, 0);
	}
	/* a module ending before it starts is dropped */
	put32(lowmem + 0xa000 + 4, 0x100);
	assert_int_equal(bootinfo_parse_mb1(&bi, lowmem + MBI, MBI, low_phys), 0);
	assert_int_equal(bi.nmodules, BOOT_MAX_MODULES - 1);
	assert_int_equal(bi.modules[0].start, 0x401000);
}

static void test_mb1_bad_mmap_rejected(void **state)
{
	(void)state;
	static struct boot_info bi;
	mb1_set(0, 1u << 6);
	mb1_set(44, mb1_mmap(qemu_map, 3));
	mb1_set(48, 0x9400);

	/* an entry smaller than base+length+type */
	put32(lowmem + 0x9400 + 24, 12);
	assert_int_equal(bootinfo_parse_mb1(&bi, lowmem + MBI, MBI, low_phys), -1);

	/* an entry size that would wrap the offset (and loop for ever) */
	put32(lowmem + 0x9400 + 24, 0xfffffffc);
	assert_int_equal(bootinfo_parse_mb1(&bi, lowmem + MBI, MBI, low_phys), -1);

	/* an entry that claims more than the map holds */
	put32(lowmem + 0x9400 + 24, 20);
	put32(lowmem + 0x9400 + 48, 100);
	assert_int_equal(bootinfo_parse_mb1(&bi, lowmem + MBI, MBI, low_phys), -1);

	/* entries with a larger size word are stepped over correctly */
	uint8_t *p = lowmem + 0x9400;
	memset(p, 0, 0x200);
	put32(p, 28);
	put64(p + 4, 0x100000);
	put64(p + 12, 0x100000);
	put32(p + 20, 1);
	p += 32;
	put32(p, 20);
	put64(p + 4, 0x300000);
	put64(p + 12, 0x1000);
	put32(p + 20, 2);
	mb1_set(44, 56);
	assert_int_equal(bootinfo_parse_mb1(&bi, lowmem + MBI, MBI, low_phys), 0);
	assert_int_equal(bi.nregions, 2);
	assert_int_equal(bi.regions[1].base, 0x300000);
	assert_int_equal(bi.regions[1].type, MEM_RESERVED);
}

#define LOWMEM_TEST(f) cmocka_unit_test_setup_teardown(f, setup_lowmem, teardown_lowmem)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mb2_grub_bios),
		cmocka_unit_test(test_mb2_grub_efi),
		cmocka_unit_test(test_mb2_each_efi_tag_marks_efi),
		cmocka_unit_test(test_mb2_only_old_rsdp),
		cmocka_unit_test(test_mb2_unsorted_map_odd_types_and_empty_regions),
		cmocka_unit_test(test_mb2_too_many_regions),
		cmocka_unit_test(test_mb2_too_many_modules),
		cmocka_unit_test(test_mb2_long_and_unterminated_strings),
		cmocka_unit_test(test_mb2_end_tag_stops_parsing),
		cmocka_unit_test(test_mb2_malformed_rejected),
		cmocka_unit_test(test_mb2_no_end_tag_stops_at_total),
		LOWMEM_TEST(test_mb1_grub_style),
		LOWMEM_TEST(test_mb1_fields_absent_by_flags),
		LOWMEM_TEST(test_mb1_mem_lower_upper_only),
		LOWMEM_TEST(test_mb1_module_limits),
		LOWMEM_TEST(test_mb1_bad_mmap_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
