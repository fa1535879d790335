// SOURCES: loader/mb2info.c kernel/boot/bootinfo.c kernel/lib/string.c
/*
 * hvboot.efi's hand-over: a UEFI memory map (as OVMF gives it, with
 * descriptors larger than the structure) becomes E820 entries, and the
 * multiboot2 information built from it reads back through the hypervisor's
 * own parser (kernel/boot/bootinfo.c) with everything the loader put in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/boot/bootinfo.h"
#include "loader/mb2info.h"

#define DESC_SIZE 48 /* what OVMF uses: larger than the 40-byte structure */

struct efimap {
	uint8_t buf[64 * DESC_SIZE];
	size_t size;
};

static void add(struct efimap *m, uint32_t type, uint64_t start, uint64_t pages, uint64_t attr)
{
	struct efi_mem_desc d = {type, 0, start, 0, pages, attr};
	memset(m->buf + m->size, 0xa5, DESC_SIZE); /* the padding is not ours to read as data */
	memcpy(m->buf + m->size, &d, sizeof(d));
	m->size += DESC_SIZE;
}

#define WB UEFI_MEMORY_WB
#define UC 0x1ull
#define RT 0x8000000000000000ull

/* Roughly OVMF's map on a 1 GiB q35 machine, out of order in one place. */
static void ovmf_map(struct efimap *m)
{
	memset(m, 0, sizeof(*m));
	add(m, UEFI_BOOT_SERVICES_CODE, 0x0, 1, WB | UC);
	add(m, UEFI_CONVENTIONAL_MEMORY, 0x1000, 0x9f, WB | UC);
	add(m, UEFI_CONVENTIONAL_MEMORY, 0x100000, 0x700, WB | UC);
	add(m, UEFI_LOADER_DATA, 0x800000, 0x10, WB | UC);
	add(m, UEFI_ACPI_MEMORY_NVS, 0x810000, 0x8, WB | UC);
	add(m, UEFI_CONVENTIONAL_MEMORY, 0x818000, 0x37000 - 0x818, WB | UC);
	add(m, UEFI_BOOT_SERVICES_DATA, 0x37000000, 0x1000, WB | UC);
	add(m, UEFI_ACPI_RECLAIM_MEMORY, 0x3f000000, 0x10, WB | UC);
	add(m, UEFI_RUNTIME_SERVICES_DATA, 0x3f010000, 0x20, WB | UC | RT);
	add(m, UEFI_LOADER_CODE, 0x38000000, 0x100, WB | UC); /* out of order */
	add(m, UEFI_CONVENTIONAL_MEMORY, 0x38100000, 0x6f00, WB | UC);
	add(m, UEFI_UNUSABLE_MEMORY, 0x3f030000, 0x1, WB);
	add(m, UEFI_MEMORY_MAPPED_IO, 0xffc00000, 0x400, UC | RT);
	add(m, UEFI_CONVENTIONAL_MEMORY, 0x40000000, 0, WB);	      /* empty: dropped */
	add(m, UEFI_CONVENTIONAL_MEMORY, 0xfffffffffffff000ull, 2, WB); /* wraps: dropped */
	add(m, UEFI_CONVENTIONAL_MEMORY, 0x100000000ull, 0x100, UC);   /* uncached: not RAM */
}

static void e820_conversion(void **state)
{
	(void)state;
	struct efimap m;
	struct mb2_mmap_entry e[32];
	bool dropped;
	ovmf_map(&m);
	size_t n = mb2_efi_to_e820(m.buf, m.size, DESC_SIZE, e, 32, &dropped);
	assert_false(dropped);
	const struct mb2_mmap_entry want[] = {
		{0x0, 0xa0000, 1, 0},
		{0x100000, 0x710000, 1, 0}, /* conventional and the loader's data */
		{0x810000, 0x8000, 4, 0},
		{0x818000, 0x3f000000 - 0x818000, 1, 0},
		{0x3f000000, 0x10000, 3, 0},
		{0x3f010000, 0x20000, 2, 0},
		{0x3f030000, 0x1000, 5, 0},
		{0xffc00000, 0x500000, 2, 0}, /* MMIO, then uncached memory above 4 GiB */
	};
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(e[i].base, want[i].base);
		assert_int_equal(e[i].length, want[i].length);
		assert_int_equal(e[i].type, want[i].type);
	}
	/* too small an output: said so */
	n = mb2_efi_to_e820(m.buf, m.size, DESC_SIZE, e, 3, &dropped);
	assert_true(dropped);
	assert_true(n <= 3);
	/* a descriptor size smaller than the structure is no map */
	assert_int_equal(mb2_efi_to_e820(m.buf, m.size, 16, e, 32, &dropped), 0);
}

static void make_rsdp(uint8_t *r, size_t len)
{
	memset(r, 0, len);
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "HVTEST", 6);
	r[15] = len == 36 ? 2 : 0;
	uint8_t sum = 0;
	for (int i = 0; i < 20; i++)
		sum += r[i];
	r[8] = (uint8_t)-sum;
	if (len == 36) {
		r[20] = 36;
		sum = 0;
		for (int i = 0; i < 36; i++)
			sum += r[i];
		r[32] = (uint8_t)-sum;
	}
}

static void round_trip_through_the_kernels_parser(void **state)
{
	(void)state;
	static struct efimap m;
	static struct boot_info bi;
	struct mb2_mmap_entry scratch[64];
	uint8_t rsdp[36], smbios[31] = "_SM_";
	ovmf_map(&m);
	make_rsdp(rsdp, 36);
	struct mb2_module_in mods[] = {
		{0x9000000, 0x9000123, "/boot/vms/echo.cfg"},
		{0x9001000, 0x9005000, "/boot/vms/echo.elf arg"},
	};
	struct mb2_framebuffer_in fb = {0x80000000ull, 4096, 1024, 768, 32, 16, 8, 8, 8, 0, 8};
	struct mb2_input in = {
		.cmdline = "console=com1,vga loglevel=info",
		.loader_name = "hvboot.efi",
		.modules = mods,
		.nmodules = 2,
		.efi_map = m.buf,
		.efi_map_size = m.size,
		.efi_desc_size = DESC_SIZE,
		.efi_desc_version = 1,
		.rsdp = rsdp,
		.rsdp_len = 36,
		.smbios = smbios,
		.smbios_len = sizeof(smbios),
		.smbios_major = 2,
		.smbios_minor = 8,
		.efi_systab = 0x3f5e0018,
		.fb = &fb,
	};
	size_t bound = mb2_size_bound(&in, m.size);
	uint8_t *buf = malloc(bound);
	size_t n = mb2_build(&in, buf, bound, scratch, 64);
	assert_true(n > 0 && n <= bound);
	assert_int_equal(n % 8, 0);
	uint32_t total;
	memcpy(&total, buf, 4);
	assert_int_equal(total, n);
	/* an exact-size copy: the parser must not read past it */
	uint8_t *exact = malloc(n);
	memcpy(exact, buf, n);
	assert_int_equal(bootinfo_parse_mb2(&bi, exact, 0x7000000), 0);
	assert_string_equal(bi.loader_name, "hvboot.efi");
	assert_string_equal(bi.cmdline, "console=com1,vga loglevel=info");
	assert_true(bi.efi);
	assert_int_equal(bi.nmodules, 2);
	assert_int_equal(bi.modules[0].start, 0x9000000);
	assert_int_equal(bi.modules[0].end, 0x9000123);
	assert_string_equal(bi.modules[1].cmdline, "/boot/vms/echo.elf arg");
	assert_int_equal(bi.nregions, 8);
	assert_int_equal(bi.regions[3].base, 0x818000);
	assert_int_equal(bi.regions[3].type, MEM_USABLE);
	assert_int_equal(bi.rsdp_len, 36);
	assert_memory_equal(bi.rsdp, rsdp, 36);
	assert_int_equal(bi.info_start, 0x7000000);
	assert_int_equal(bi.info_end, 0x7000000 + n);
	assert_int_equal(bi.fb.kind, FB_RGB);
	assert_int_equal(bi.fb.addr, 0x80000000ull);
	assert_int_equal(bi.fb.pitch, 4096);
	assert_int_equal(bi.fb.width, 1024);
	assert_int_equal(bi.fb.height, 768);
	assert_int_equal(bi.fb.bpp, 32);
	assert_int_equal(bi.fb.red_pos, 16);
	assert_int_equal(bi.fb.green_pos, 8);
	assert_int_equal(bi.fb.blue_pos, 0);
	assert_int_equal(bi.fb.blue_size, 8);

	/* ACPI 1.0 only: tag 14, still found */
	make_rsdp(rsdp, 20);
	in.rsdp_len = 20;
	in.fb = NULL;
	n = mb2_build(&in, buf, bound, scratch, 64);
	assert_true(n > 0);
	assert_int_equal(bootinfo_parse_mb2(&bi, buf, 0x7000000), 0);
	assert_int_equal(bi.rsdp_len, 20);
	assert_int_equal(bi.rsdp[15], 0);
	assert_int_equal(bi.fb.kind, FB_NONE);

	/* too small a buffer, too small a scratch map, a module above 4 GiB: refused */
	assert_int_equal(mb2_build(&in, buf, 64, scratch, 64), 0);
	assert_int_equal(mb2_build(&in, buf, bound, scratch, 2), 0);
	mods[1].end = 0x100000010ull;
	assert_int_equal(mb2_build(&in, buf, bound, scratch, 64), 0);
	free(exact);
	free(buf);
}

/* GRUB's BIOS text-mode tag (type 2) and malformed framebuffer tags. */
static void framebuffer_tags(void **state)
{
	(void)state;
	static struct boot_info bi;
	uint8_t b[8 + 40 + 8 + 48] = {0};
	uint32_t v;
#define P32(off, x) (v = (x), memcpy(b + (off), &v, 4))
	/* tag 8 at 8: EGA text 80x25 at 0xb8000 */
	P32(8, 8);
	P32(12, 32);
	uint64_t a = 0xb8000;
	memcpy(b + 16, &a, 8);
	P32(24, 160);
	P32(28, 80);
	P32(32, 25);
	b[36] = 16;
	b[37] = 2;
	P32(40, 0); /* end */
	P32(44, 8);
	P32(0, 48);
	assert_int_equal(bootinfo_parse_mb2(&bi, b, 0), 0);
	assert_int_equal(bi.fb.kind, FB_TEXT);
	assert_int_equal(bi.fb.width, 80);
	assert_int_equal(bi.fb.height, 25);
	/* a pitch smaller than a line: ignored */
	P32(24, 100);
	assert_int_equal(bootinfo_parse_mb2(&bi, b, 0), 0);
	assert_int_equal(bi.fb.kind, FB_NONE);
	/* RGB with a colour field outside the pixel: ignored */
	P32(12, 40);
	P32(24, 4096);
	b[36] = 16;
	b[37] = 1;
	b[40] = 11; /* red at 11, 5 bits: 16 */
	b[41] = 6;
	P32(48, 0);
	P32(52, 8);
	P32(0, 56);
	assert_int_equal(bootinfo_parse_mb2(&bi, b, 0), 0);
	assert_int_equal(bi.fb.kind, FB_NONE);
	b[41] = 5; /* RGB565 */
	b[42] = 5;
	b[43] = 6;
	b[44] = 0;
	b[45] = 5;
	assert_int_equal(bootinfo_parse_mb2(&bi, b, 0), 0);
	assert_int_equal(bi.fb.kind, FB_RGB);
	assert_int_equal(bi.fb.bpp, 16);
#undef P32
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(e820_conversion),
		cmocka_unit_test(round_trip_through_the_kernels_parser),
		cmocka_unit_test(framebuffer_tags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
