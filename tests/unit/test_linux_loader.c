// SOURCES: guest/linux_loader.c guest/e820.c kernel/lib/string.c kernel/lib/format.c
/*
 * The Linux boot protocol loader, on the kernels a VM would boot: a synthetic
 * bzImage built here with a setup header like Debian's 6.1 kernels have, and
 * the real Debian cloud kernel from build/linux-guest/ (when
 * scripts/build-linux-guest.sh has run), loaded into a fake guest RAM. The
 * zero page, e820 table, initrd placement, command line, GDT and page tables
 * are read back from that RAM; each broken image gives the error a user would
 * read, and writes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "guest/linux_loader.h"

#define MIB 0x100000ull
#define RAM_BYTES (48 * MIB)
#define FILL 0xcc /* what untouched guest RAM holds */
#define REAL_KERNEL "build/linux-guest/vmlinuz"
#define REAL_INITRD "build/linux-guest/initrd.img"
#define REAL_RELEASE "build/linux-guest/kernel-release"

/* ---- fake guest RAM ---- */

struct fake_ram {
	uint8_t *bytes;
	uint64_t size;
	int calls; /* write and zero callbacks made */
	int fail_at; /* make this call (1-based) fail; 0: never */
};

static struct fake_ram ram;
static struct linux_guest_mem mem;

static int ram_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
	struct fake_ram *r = ctx;
	assert_true(gpa + len <= r->size);
	if (++r->calls == r->fail_at)
		return -1;
	memcpy(r->bytes + gpa, src, len);
	return 0;
}

static int ram_zero(void *ctx, uint64_t gpa, size_t len)
{
	struct fake_ram *r = ctx;
	assert_true(gpa + len <= r->size);
	if (++r->calls == r->fail_at)
		return -1;
	memset(r->bytes + gpa, 0, len);
	return 0;
}

static void ram_setup(uint64_t size)
{
	free(ram.bytes);
	ram = (struct fake_ram){ .bytes = malloc(size), .size = size };
	assert_non_null(ram.bytes);
	memset(ram.bytes, FILL, size);
	mem = (struct linux_guest_mem){
		.ram_bytes = size, .write = ram_write, .zero = ram_zero, .ctx = &ram
	};
}

static bool ram_untouched(void)
{
	static uint8_t fill[65536];
	if (fill[0] != FILL)
		memset(fill, FILL, sizeof(fill));
	for (uint64_t i = 0; i < ram.size; i += sizeof(fill)) {
		size_t n = ram.size - i < sizeof(fill) ? (size_t)(ram.size - i) : sizeof(fill);
		if (memcmp(ram.bytes + i, fill, n) != 0)
			return false;
	}
	return ram.calls == 0;
}

static int setup(void **state)
{
	(void)state;
	ram_setup(RAM_BYTES);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(ram.bytes);
	ram.bytes = NULL;
	return 0;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)v);
	wr16(p + 2, (uint16_t)(v >> 16));
}

static void wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t)v);
	wr32(p + 4, (uint32_t)(v >> 32));
}

static const uint8_t *zp(void)
{
	return ram.bytes + LINUX_ZERO_PAGE_ADDR;
}

/* ---- a synthetic bzImage ---- */

/* The header fields a test varies; the rest are Debian 6.1's. */
struct bz_spec {
	uint8_t setup_sects;
	uint16_t version;
	uint8_t loadflags;
	uint16_t xloadflags;
	uint8_t relocatable;
	uint32_t kernel_alignment;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;
	size_t kernel_bytes; /* protected-mode part */
};

static struct bz_spec debian_like(void)
{
	return (struct bz_spec){
		.setup_sects = 39,
		.version = 0x020f,
		.loadflags = LINUX_LOADED_HIGH,
		.xloadflags = 0x7f,
		.relocatable = 1,
		.kernel_alignment = 0x200000,
		.pref_address = 0x1000000,
		.init_size = 0x800000,
		.initrd_addr_max = 0x7fffffff,
		.cmdline_size = 2047,
		.kernel_bytes = 0x100000,
	};
}

static uint8_t *bz_image;
static size_t bz_len;

static size_t setup_bytes_of(const struct bz_spec *s)
{
	return ((s->setup_sects ? s->setup_sects : 4u) + 1u) * 512u;
}

/* Byte i of the protected-mode kernel. */
static uint8_t kernel_byte(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 9) + 1);
}

static void make_bzimage(const struct bz_spec *s)
{
	size_t setup = setup_bytes_of(s);
	free(bz_image);
	bz_len = setup + s->kernel_bytes;
	bz_image = calloc(1, bz_len);
	assert_non_null(bz_image);
	uint8_t *b = bz_image;
	b[0] = 0x4d; /* "MZ": the PE stub real bzImages carry */
	b[1] = 0x5a;
	b[LINUX_HDR_SETUP_SECTS] = s->setup_sects;
	wr32(b + LINUX_HDR_SYSSIZE, (uint32_t)(s->kernel_bytes / 16));
	wr16(b + LINUX_HDR_VID_MODE, 0xffff);
	wr16(b + LINUX_HDR_BOOT_FLAG, 0xaa55);
	b[0x200] = 0xeb; /* jmp short: the header ends at 0x202 + 0x6a */
	b[0x201] = 0x6a;
	memcpy(b + LINUX_HDR_MAGIC, "HdrS", 4);
	wr16(b + LINUX_HDR_VERSION, s->version);
	wr16(b + LINUX_HDR_KERNEL_VERSION, 0x100); /* string at 0x300 */
	strcpy((char *)b + 0x300, "6.1.0-99-test-amd64 (tester@example) #1 SMP");
	b[LINUX_HDR_LOADFLAGS] = s->loadflags;
	wr32(b + LINUX_HDR_CODE32_START, 0x100000);
	wr32(b + LINUX_HDR_INITRD_ADDR_MAX, s->initrd_addr_max);
	wr32(b + LINUX_HDR_KERNEL_ALIGNMENT, s->kernel_alignment);
	b[LINUX_HDR_RELOCATABLE] = s->relocatable;
	b[LINUX_HDR_MIN_ALIGNMENT] = 21;
	wr16(b + LINUX_HDR_XLOADFLAGS, s->xloadflags);
	wr32(b + LINUX_HDR_CMDLINE_SIZE, s->cmdline_size);
	wr64(b + LINUX_HDR_PREF_ADDRESS, s->pref_address);
	wr32(b + LINUX_HDR_INIT_SIZE, s->init_size);
	wr32(b + 0x264, 0x3f0); /* handover_offset */
	wr32(b + 0x268, 0x4000); /* kernel_info_offset */
	for (size_t i = 0; i < s->kernel_bytes; i++)
		b[setup + i] = kernel_byte(i);
}

static uint8_t initrd[3 * 4096 + 123];

static void make_initrd(void)
{
	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(0x5a ^ i ^ (i >> 8));
}

static int load(const struct linux_boot_config *cfg, struct linux_entry *out, char *err, size_t n)
{
	return linux_load(bz_image, bz_len, &mem, cfg, out, err, n);
}

/* ---- checks on guest RAM ---- */

/* Walks the identity map the loader built: returns the physical address gpa
 * translates to, or ~0 when not mapped. */
static uint64_t walk(uint64_t cr3, uint64_t va)
{
	uint64_t table = cr3 & ~0xfffull;
	static const int shift[] = { 39, 30, 21 };
	for (int level = 0; level < 3; level++) {
		assert_true(table + 4096 <= ram.size);
		uint64_t e = rd64(ram.bytes + table + 8 * ((va >> shift[level]) & 511));
		if (!(e & LINUX_PTE_P))
			return ~0ull;
		assert_true(e & LINUX_PTE_RW);
		if (level == 2) {
			assert_true(e & LINUX_PTE_PS); /* 2 MiB pages */
			return (e & 0x000fffffffe00000ull) | (va & 0x1fffff);
		}
		assert_false(e & LINUX_PTE_PS);
		table = e & 0x000ffffffffff000ull;
	}
	return ~0ull;
}

static void assert_identity(uint64_t cr3, uint64_t va)
{
	assert_int_equal(walk(cr3, va), va);
}

static void assert_entry_state(const struct linux_entry *e)
{
	assert_int_equal(e->rsi, LINUX_ZERO_PAGE_ADDR);
	assert_int_equal(e->rip, e->kernel_start + 0x200);
	assert_int_equal(e->cr0 & (LINUX_CR0_PE | LINUX_CR0_PG), LINUX_CR0_PE | LINUX_CR0_PG);
	assert_true(e->cr4 & LINUX_CR4_PAE);
	assert_int_equal(e->efer & (LINUX_EFER_LME | LINUX_EFER_LMA),
			 LINUX_EFER_LME | LINUX_EFER_LMA);
	assert_int_equal(e->cs, 0x10);
	assert_int_equal(e->ds, 0x18);
	assert_int_equal(e->gdt_limit, 0x1f);

	/* GDT: __BOOT_CS a present, DPL0, execute/read, long-mode code segment;
	 * __BOOT_DS a present, read/write, flat 4 GiB data segment */
	uint64_t cs = rd64(ram.bytes + e->gdt_base + 0x10);
	uint64_t ds = rd64(ram.bytes + e->gdt_base + 0x18);
	assert_int_equal(rd64(ram.bytes + e->gdt_base), 0);
	assert_int_equal((cs >> 40) & 0x9a, 0x9a); /* P, S, code, readable */
	assert_int_equal((cs >> 45) & 3, 0); /* DPL 0 */
	assert_int_equal((cs >> 53) & 1, 1); /* L */
	assert_int_equal((cs >> 54) & 1, 0); /* D clear with L */
	assert_int_equal((ds >> 40) & 0x9a, 0x92); /* P, S, data, writable */
	assert_int_equal(ds & 0xffff, 0xffff); /* limit 0xfffff, 4 KiB granular */
	assert_int_equal((ds >> 48) & 0xf, 0xf);
	assert_int_equal((ds >> 55) & 1, 1);
	assert_int_equal(ds & 0xff000000ffff0000ull, 0); /* base 0 */

	/* identity map over what the kernel needs first (boot.rst 64-bit protocol) */
	assert_identity(e->cr3, e->rip);
	assert_identity(e->cr3, e->kernel_start);
	assert_identity(e->cr3, e->kernel_end - 1);
	assert_identity(e->cr3, e->rsi);
	assert_identity(e->cr3, e->cmdline_addr);
	assert_identity(e->cr3, e->gdt_base);
	assert_identity(e->cr3, e->rsp - 8);
	assert_identity(e->cr3, 0x40e); /* the BDA the decompressor reads */
	assert_identity(e->cr3, 0xfffff000);
	if (e->initrd_end) {
		assert_identity(e->cr3, e->initrd_start);
		assert_identity(e->cr3, e->initrd_end - 1);
	}
	assert_int_equal(walk(e->cr3, 0x100000000ull), ~0ull);
}

/* The zero page's e820 table is the map, entry for entry. */
static void assert_zero_page_e820(const struct e820_map *m)
{
	assert_int_equal(zp()[LINUX_BP_E820_ENTRIES], m->count);
	for (size_t i = 0; i < m->count; i++) {
		const uint8_t *e = zp() + LINUX_BP_E820_TABLE + 20 * i;
		assert_int_equal(rd64(e), m->entry[i].addr);
		assert_int_equal(rd64(e + 8), m->entry[i].size);
		assert_int_equal(rd32(e + 16), m->entry[i].type);
	}
}

/* ---- tests ---- */

static void test_is_bzimage(void **state)
{
	(void)state;
	struct bz_spec s = debian_like();
	make_bzimage(&s);
	assert_true(linux_is_bzimage(bz_image, bz_len));
	assert_false(linux_is_bzimage(bz_image, 0x205));
	assert_false(linux_is_bzimage(NULL, 0));
	static const uint8_t elf[0x400] = { 0x7f, 'E', 'L', 'F' };
	assert_false(linux_is_bzimage(elf, sizeof(elf)));
	bz_image[LINUX_HDR_MAGIC] = 'h';
	assert_false(linux_is_bzimage(bz_image, bz_len));
	/* an old protocol is still a bzImage: the loader explains why it refuses it */
	s.version = 0x0204;
	make_bzimage(&s);
	assert_true(linux_is_bzimage(bz_image, bz_len));
}

static void test_parse_header(void **state)
{
	(void)state;
	struct bz_spec s = debian_like();
	struct linux_header h;
	char err[160] = "";
	make_bzimage(&s);
	assert_int_equal(linux_parse_header(bz_image, bz_len, &h, err, sizeof(err)), LINUX_OK);
	assert_int_equal(h.version, 0x020f);
	assert_int_equal(h.setup_sects, 39);
	assert_int_equal(h.setup_bytes, 40 * 512);
	assert_int_equal(h.kernel_bytes, 0x100000);
	assert_int_equal(h.syssize, 0x10000);
	assert_true(h.relocatable);
	assert_int_equal(h.kernel_alignment, 0x200000);
	assert_int_equal(h.min_alignment, 21);
	assert_int_equal(h.pref_address, 0x1000000);
	assert_int_equal(h.init_size, 0x800000);
	assert_int_equal(h.initrd_addr_max, 0x7fffffff);
	assert_int_equal(h.cmdline_size, 2047);
	assert_int_equal(h.xloadflags, 0x7f);
	assert_int_equal(h.header_end, 0x26c);
	assert_string_equal(h.release, "6.1.0-99-test-amd64");
}

static void test_setup_sects_zero_means_four(void **state)
{
	(void)state;
	struct bz_spec s = debian_like();
	struct linux_header h;
	struct linux_entry e;
	char err[160] = "";
	s.setup_sects = 0;
	make_bzimage(&s);
	assert_int_equal(linux_parse_header(bz_image, bz_len, &h, err, sizeof(err)), LINUX_OK);
	assert_int_equal(h.setup_bytes, 5 * 512);
	assert_int_equal(load(NULL, &e, err, sizeof(err)), LINUX_OK);
	assert_int_equal(ram.bytes[e.kernel_start], kernel_byte(0));
	assert_int_equal(ram.bytes[e.kernel_start + 0x1234], kernel_byte(0x1234));
}

static void test_load_debian_like(void **state)
{
	(void)state;
	struct bz_spec s = debian_like();
	struct linux_entry e;
	struct e820_map map;
	struct e820_layout layout = { .ram_bytes = RAM_BYTES, .ioapic = true, .lapic = true };
	char err[160] = "";
	const char *cmdline = "console=ttyS0 quiet root=/dev/ram0";

	make_bzimage(&s);
	make_initrd();
	assert_int_equal(e820_build(&layout, &map), E820_OK);
	struct linux_boot_config cfg = { .cmdline = cmdline,
					 .initrd = initrd,
					 .initrd_len = sizeof(initrd),
					 .e820 = &map,
					 .acpi_rsdp = 0xe0000 };
	assert_int_equal(load(&cfg, &e, err, sizeof(err)), LINUX_OK);

	/* the kernel at pref_address, its init_size cleared after the file's bytes */
	assert_int_equal(e.kernel_start, 0x1000000);
	assert_int_equal(e.kernel_end, 0x1800000);
	assert_int_equal(e.rip, 0x1000200);
	for (size_t i = 0; i < s.kernel_bytes; i += 511)
		assert_int_equal(ram.bytes[e.kernel_start + i], kernel_byte(i));
	assert_memory_equal(ram.bytes + e.kernel_start, bz_image + setup_bytes_of(&s),
			    s.kernel_bytes);
	assert_int_equal(ram.bytes[e.kernel_start + s.kernel_bytes], 0);
	assert_int_equal(ram.bytes[e.kernel_end - 1], 0);
	assert_int_equal(ram.bytes[e.kernel_end], FILL);
	assert_int_equal(ram.bytes[e.kernel_start - 1], FILL);
	assert_int_equal(e.version, 0x020f);

	/* the initrd as high as it goes, page aligned */
	assert_int_equal(e.initrd_start, (RAM_BYTES - sizeof(initrd)) & ~0xfffull);
	assert_int_equal(e.initrd_end, e.initrd_start + sizeof(initrd));
	assert_memory_equal(ram.bytes + e.initrd_start, initrd, sizeof(initrd));

	/* the command line, terminated */
	assert_int_equal(e.cmdline_addr, LINUX_CMDLINE_ADDR);
	assert_string_equal((const char *)ram.bytes + LINUX_CMDLINE_ADDR, cmdline);

	/* the zero page: the image's setup header, then the loader's fields */
	const uint8_t *z = zp();
	for (size_t off = 0; off < 0x1f1; off++) {
		bool loader_field =
			(off >= LINUX_BP_ACPI_RSDP_ADDR && off < LINUX_BP_ACPI_RSDP_ADDR + 8) ||
			(off >= LINUX_BP_EXT_RAMDISK_IMAGE &&
			 off < LINUX_BP_EXT_CMD_LINE_PTR + 4) ||
			(off >= LINUX_BP_ALT_MEM_K && off < LINUX_BP_ALT_MEM_K + 4) ||
			off == LINUX_BP_E820_ENTRIES;
		if (!loader_field)
			assert_int_equal(z[off], 0);
	}
	assert_int_equal(z[LINUX_BP_SENTINEL], 0);
	assert_memory_equal(z + 0x1f1, bz_image + 0x1f1, 0x210 - 0x1f1); /* up to type_of_loader */
	assert_int_equal(rd16(z + LINUX_HDR_BOOT_FLAG), 0xaa55);
	assert_memory_equal(z + LINUX_HDR_MAGIC, "HdrS", 4);
	assert_int_equal(rd16(z + LINUX_HDR_VERSION), 0x020f);
	assert_int_equal(z[LINUX_HDR_TYPE_OF_LOADER], 0xff);
	assert_int_equal(z[LINUX_HDR_LOADFLAGS], LINUX_LOADED_HIGH);
	assert_int_equal(rd32(z + LINUX_HDR_CODE32_START), 0x1000000);
	assert_int_equal(rd32(z + LINUX_HDR_RAMDISK_IMAGE), e.initrd_start);
	assert_int_equal(rd32(z + LINUX_HDR_RAMDISK_SIZE), sizeof(initrd));
	assert_int_equal(rd32(z + LINUX_BP_EXT_RAMDISK_IMAGE), 0);
	assert_int_equal(rd32(z + LINUX_BP_EXT_RAMDISK_SIZE), 0);
	assert_int_equal(rd32(z + LINUX_HDR_CMD_LINE_PTR), LINUX_CMDLINE_ADDR);
	assert_int_equal(rd32(z + LINUX_BP_EXT_CMD_LINE_PTR), 0);
	assert_int_equal(rd64(z + LINUX_BP_ACPI_RSDP_ADDR), 0xe0000);
	assert_int_equal(rd64(z + LINUX_HDR_SETUP_DATA), 0);
	assert_int_equal(rd32(z + LINUX_BP_ALT_MEM_K), (RAM_BYTES - MIB) / 1024);
	/* fields after type_of_loader the loader leaves as the image has them */
	assert_int_equal(rd32(z + LINUX_HDR_INITRD_ADDR_MAX), 0x7fffffff);
	assert_int_equal(rd32(z + LINUX_HDR_CMDLINE_SIZE), 2047);
	assert_int_equal(rd64(z + LINUX_HDR_PREF_ADDRESS), 0x1000000);
	assert_int_equal(rd32(z + LINUX_HDR_INIT_SIZE), 0x800000);
	assert_int_equal(rd32(z + 0x268), 0x4000); /* kernel_info_offset, the header's last field */
	assert_int_equal(z[0x26c], 0); /* past the header: not copied */

	assert_zero_page_e820(&map);
	assert_int_equal(zp()[LINUX_BP_E820_ENTRIES], 5);
	assert_entry_state(&e);
}

static void test_default_e820_and_no_initrd(void **state)
{
	(void)state;
	struct bz_spec s = debian_like();
	struct linux_entry e;
	struct e820_map map;
	struct e820_layout layout = { .ram_bytes = RAM_BYTES };
	char err[160] = "";
	make_bzimage(&s);
	assert_int_equal(load(NULL, &e, err, sizeof(err)), LINUX_OK);
	assert_int_equal(e820_build(&layout, &map), E820_OK);
	assert_zero_page_e820(&map);
	assert_int_equal(e.initrd_start, 0);
	assert_int_equal(e.initrd_end, 0);
	assert_int_equal(rd32(zp() + LINUX_HDR_RAMDISK_IMAGE), 0);
	assert_int_equal(rd32(zp() + LINUX_HDR_RAMDISK_SIZE), 0);
	assert_int_equal(rd64(zp() + LINUX_BP_ACPI_RSDP_ADDR), 0);
	assert_int_equal(ram.bytes[LINUX_CMDLINE_ADDR], 0); /* "" */
	assert_entry_state(&e);
}

static void test_initrd_below_initrd_addr_max(void **state)
{
	(void)state;
	struct bz_spec s = debian_like();
	struct linux_entry e;
	char err[160] = "";
	s.initrd_addr_max = 40 * MIB - 1;
	s.xloadflags &= (uint16_t)~LINUX_XLF_CAN_BE_LOADED_ABOVE_4G; /* else the limit is 4 GiB */
	make_bzimage(&s);
	make_initrd();
	struct linux_boot_config cfg = { .initrd = initrd, .initrd_len = sizeof(initrd) };
	assert_int_equal(load(&cfg, &e, err, sizeof(err)), LINUX_OK);
	assert_int_equal(e.initrd_start, (40 * MIB - sizeof(initrd)) & ~0xfffull);
	assert_true(e.initrd_end - 1 <= 40 * MIB - 1);
	assert_memory_equal(ram.bytes + e.initrd_start, initrd, sizeof(initrd));
}

static void test_initrd_avoids_acpi_in_ram(void **state)
{
	(void)state;
	struct bz_spec s = debian_like();
	struct linux_entry e;
	struct e820_map map;
	uint64_t acpi = RAM_BYTES - 0x10000;
	struct e820_layout layout = { .ram_bytes = RAM_BYTES,
				      .acpi_base = acpi,
				      .acpi_size = 0x10000 };
	char err[160] = "";
	make_bzimage(&s);
	make_initrd();
	assert_int_equal(e820_build(&layout, &map), E820_OK);
	struct linux_boot_config cfg = { .initrd = initrd,
					 .initrd_len = sizeof(initrd),
					 .e820 = &map };
	assert_int_equal(load(&cfg, &e, err, sizeof(err)), LINUX_OK);
	assert_int_equal(e.initrd_start, (acpi - sizeof(initrd)) & ~0xfffull);
	assert_true(e.initrd_end <= acpi);
	for (uint64_t a = acpi; a < RAM_BYTES; a++)
		assert_int_equal(ram.bytes[a], FILL);
	assert_zero_page_e820(&map);
}

static void test_initrd_below_kernel_when_nothing_above(void **state)
{
	(void)state;
	struct bz_spec s = debian_like();
	struct linux_entry e;
	char err[160] = "";
	/* 32 MiB of RAM: the kernel takes 16-24 MiB; initrd_addr_max stops at 20 MiB */
	s.initrd_addr_max = 20 * MIB - 1;
	s.xloadflags &= (uint16_t)~LINUX_XLF_CAN_BE_LOADED_ABOVE_4G;
	ram_setup(32 * MIB);
	make_bzimage(&s);
	make_initrd();
	struct linux_boot_config cfg = { .initrd = initrd, .initrd_len = sizeof(initrd) };
	assert_int_equal(load(&cfg, &e, err, sizeof(err)), LINUX_OK);
	assert_int_equal(e.kernel_start, 16 * MIB);
	assert_true(e.initrd_end <= e.kernel_start);
	assert_int_equal(e.initrd_start, (16 * MIB - sizeof(initrd)) & ~0xfffull);
}

static void test_pref_address_unusable_relocates(void **state)
{
	(void)state;
	struct bz_spec s = debian_like();
	struct linux_entry e;
	char err[160] = "";
	s.pref_address = 0x80000000; /* beyond the VM's RAM */
	make_bzimage(&s);
	assert_int_equal(load(NULL, &e, err, sizeof(err)), LINUX_OK);
	assert_int_equal(e.kernel_start, 16 * MIB);
	assert_entry_state(&e);

	/* a misaligned pref_address: the next aligned address from 16 MiB */
	s.pref_address = 0x1100000;
	make_bzimage(&s);
	ram_setup(RAM_BYTES);
	assert_int_equal(load(NULL, &e, err, sizeof(err)), LINUX_OK);
	assert_int_equal(e.kernel_start, 16 * MIB);

	/* too little RAM for 16 MiB + init_size: the lowest aligned spot above 1 MiB */
	s.pref_address = 0x1000000;
	make_bzimage(&s);
	ram_setup(20 * MIB);
	assert_int_equal(load(NULL, &e, err, sizeof(err)), LINUX_OK);
	assert_int_equal(e.kernel_start, 2 * MIB);
	assert_int_equal(ram.bytes[e.kernel_start], kernel_byte(0));
}

static void test_non_relocatable_at_pref_address_only(void **state)
{
	(void)state;
	struct bz_spec s = debian_like();
	struct linux_entry e;
	char err[160] = "";
	s.relocatable = 0;
	s.pref_address = 0x1100000; /* not aligned: fine, it is not relocatable */
	make_bzimage(&s);
	assert_int_equal(load(NULL, &e, err, sizeof(err)), LINUX_OK);
	assert_int_equal(e.kernel_start, 0x1100000);

	s.pref_address = 0x4000000; /* 64 MiB: beyond RAM */
	make_bzimage(&s);
	ram_setup(RAM_BYTES);
	assert_int_equal(load(NULL, &e, err, sizeof(err)), LINUX_ERR_RANGE);
	assert_non_null(strstr(err, "not relocatable"));
	assert_true(ram_untouched());
}

/* One broken image: the error, its words, and nothing written. */
static void expect_refusal(const struct bz_spec *s, const struct linux_boot_config *cfg, int rc,
			   const char *words)
{
	struct linux_entry e;
	char err[200] = "";
	make_bzimage(s);
	ram_setup(RAM_BYTES);
	assert_int_equal(load(cfg, &e, err, sizeof(err)), rc);
	if (!strstr(err, words))
		fail_msg("error \"%s\" does not say \"%s\"", err, words);
	assert_true(ram_untouched());
}

static void test_refusals(void **state)
{
	(void)state;
	struct bz_spec s;

	s = debian_like();
	s.version = 0x020b;
	expect_refusal(&s, NULL, LINUX_ERR_VERSION, "2.11 is too old");
	s = debian_like();
	s.loadflags = 0;
	expect_refusal(&s, NULL, LINUX_ERR_FLAGS, "zImage");
	s = debian_like();
	s.xloadflags = 0x7e;
	expect_refusal(&s, NULL, LINUX_ERR_FLAGS, "64-bit entry");
	s = debian_like();
	s.kernel_alignment = 0x300000;
	expect_refusal(&s, NULL, LINUX_ERR_FLAGS, "kernel_alignment");
	s = debian_like();
	s.init_size = 0;
	expect_refusal(&s, NULL, LINUX_ERR_FLAGS, "init_size");
	s = debian_like();
	s.init_size = 0x4000000; /* 64 MiB: more than the VM has */
	expect_refusal(&s, NULL, LINUX_ERR_RANGE, "too small");

	s = debian_like();
	s.cmdline_size = 16;
	struct linux_boot_config long_cmdline = { .cmdline = "console=ttyS0 quiet" };
	expect_refusal(&s, &long_cmdline, LINUX_ERR_TOO_LONG, "16 bytes");
	struct linux_boot_config just_fits = { .cmdline = "console=ttyS0 qu" }; /* 16 */
	struct linux_entry e;
	char err[160];
	if (load(&just_fits, &e, err, sizeof(err)) != LINUX_OK)
		fail_msg("%s", err);

	static uint8_t huge_initrd[1];
	s = debian_like();
	s.initrd_addr_max = 0xfffff; /* nowhere above 1 MiB */
	s.xloadflags &= (uint16_t)~LINUX_XLF_CAN_BE_LOADED_ABOVE_4G;
	struct linux_boot_config with_initrd = { .initrd = huge_initrd, .initrd_len = 1 };
	expect_refusal(&s, &with_initrd, LINUX_ERR_RANGE, "initrd");
}

static void test_truncated_images(void **state)
{
	(void)state;
	struct bz_spec s = debian_like();
	struct linux_header h;
	char err[200] = "";
	make_bzimage(&s);

	/* the file ends inside the setup code */
	assert_int_equal(linux_parse_header(bz_image, 40 * 512, &h, err, sizeof(err)),
			 LINUX_ERR_TRUNCATED);
	assert_non_null(strstr(err, "truncated"));
	/* syssize says more than the file has */
	assert_int_equal(linux_parse_header(bz_image, bz_len - 16, &h, err, sizeof(err)),
			 LINUX_ERR_TRUNCATED);
	assert_non_null(strstr(err, "syssize"));
	/* the header itself is cut off */
	assert_int_equal(linux_parse_header(bz_image, 0x250, &h, err, sizeof(err)),
			 LINUX_ERR_TRUNCATED);
	/* a header too short to hold init_size */
	bz_image[0x201] = 0x40;
	assert_int_equal(linux_parse_header(bz_image, bz_len, &h, err, sizeof(err)),
			 LINUX_ERR_TRUNCATED);
	assert_non_null(strstr(err, "init_size"));
	/* not a bzImage at all */
	memset(bz_image + 0x1fe, 0, 2);
	assert_int_equal(linux_parse_header(bz_image, bz_len, &h, err, sizeof(err)),
			 LINUX_ERR_NOT_BZIMAGE);
	assert_int_equal(linux_parse_header(NULL, 0, &h, err, sizeof(err)), LINUX_ERR_INVAL);
}

static void test_rsdp_only_for_protocol_2_14(void **state)
{
	(void)state;
	struct bz_spec s = debian_like();
	struct linux_entry e;
	char err[160] = "";
	struct linux_boot_config cfg = { .acpi_rsdp = 0xe0000 };
	s.version = 0x020d; /* 2.13 */
	make_bzimage(&s);
	assert_int_equal(load(&cfg, &e, err, sizeof(err)), LINUX_OK);
	assert_int_equal(rd64(zp() + LINUX_BP_ACPI_RSDP_ADDR), 0);
	s.version = 0x020e;
	make_bzimage(&s);
	assert_int_equal(load(&cfg, &e, err, sizeof(err)), LINUX_OK);
	assert_int_equal(rd64(zp() + LINUX_BP_ACPI_RSDP_ADDR), 0xe0000);
}

static void test_boot_area_must_be_ram(void **state)
{
	(void)state;
	struct bz_spec s = debian_like();
	struct e820_map map;
	struct e820_layout layout = { .ram_bytes = RAM_BYTES };
	struct linux_entry e;
	char err[200] = "";
	make_bzimage(&s);
	assert_int_equal(e820_build(&layout, &map), E820_OK);
	assert_int_equal(e820_set(&map, 0x9000, 0x1000, E820_RESERVED), E820_OK);
	struct linux_boot_config cfg = { .e820 = &map };
	assert_int_equal(load(&cfg, &e, err, sizeof(err)), LINUX_ERR_RANGE);
	assert_non_null(strstr(err, "zero page"));
	assert_true(ram_untouched());
}

static void test_write_failure(void **state)
{
	(void)state;
	struct bz_spec s = debian_like();
	struct linux_entry e;
	char err[160] = "";
	make_bzimage(&s);
	make_initrd();
	struct linux_boot_config cfg = { .cmdline = "x",
					 .initrd = initrd,
					 .initrd_len = sizeof(initrd) };
	for (int at = 1; at <= 8; at++) {
		ram_setup(RAM_BYTES);
		ram.fail_at = at;
		assert_int_equal(load(&cfg, &e, err, sizeof(err)), LINUX_ERR_MEM);
	}
	assert_int_equal(linux_load(bz_image, bz_len, NULL, &cfg, &e, err, sizeof(err)),
			 LINUX_ERR_INVAL);
}

/* ---- the real Debian kernel, when scripts/build-linux-guest.sh has run ---- */

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = 0;
	*len = (size_t)n;
	return buf;
}

static void test_real_debian_kernel(void **state)
{
	(void)state;
	size_t klen = 0, ilen = 0, rlen = 0;
	uint8_t *kernel = read_file(REAL_KERNEL, &klen);
	if (!kernel) {
		skip(); /* scripts/build-linux-guest.sh has not run */
		return;
	}
	uint8_t *rd = read_file(REAL_INITRD, &ilen);
	uint8_t *release = read_file(REAL_RELEASE, &rlen);
	struct linux_header h;
	struct linux_entry e;
	struct e820_map map;
	struct e820_layout layout = { .ram_bytes = 256 * MIB, .ioapic = true, .lapic = true };
	char err[200] = "";

	assert_true(linux_is_bzimage(kernel, klen));
	assert_int_equal(linux_parse_header(kernel, klen, &h, err, sizeof(err)), LINUX_OK);
	assert_true(h.version >= 0x020c);
	assert_true(h.relocatable);
	assert_true(h.xloadflags & LINUX_XLF_KERNEL_64);
	assert_int_equal(h.pref_address, 0x1000000);
	assert_true(h.init_size > h.kernel_bytes);
	assert_true(h.cmdline_size >= 255);
	if (release) {
		while (rlen && (release[rlen - 1] == '\n'))
			release[--rlen] = 0;
		assert_string_equal(h.release, (const char *)release);
	}

	ram_setup(256 * MIB);
	assert_int_equal(e820_build(&layout, &map), E820_OK);
	struct linux_boot_config cfg = { .cmdline = "console=ttyS0 quiet",
					 .initrd = rd,
					 .initrd_len = rd ? ilen : 0,
					 .e820 = &map,
					 .acpi_rsdp = 0xe0000 };
	assert_int_equal(linux_load(kernel, klen, &mem, &cfg, &e, err, sizeof(err)), LINUX_OK);
	assert_int_equal(e.kernel_start, 0x1000000);
	assert_int_equal(e.rip, 0x1000200);
	assert_memory_equal(ram.bytes + e.kernel_start, kernel + h.setup_bytes, h.kernel_bytes);
	assert_true(e.kernel_end >= e.kernel_start + h.init_size);
	assert_memory_equal(zp() + 0x1f1, kernel + 0x1f1, LINUX_HDR_TYPE_OF_LOADER - 0x1f1);
	assert_int_equal(zp()[LINUX_HDR_TYPE_OF_LOADER], 0xff);
	assert_int_equal(rd64(zp() + LINUX_BP_ACPI_RSDP_ADDR), 0xe0000);
	if (rd) {
		assert_true(e.initrd_start >= e.kernel_end);
		assert_int_equal(e.initrd_start % 4096, 0);
		assert_true(256 * MIB - e.initrd_end < 4096);
		assert_memory_equal(ram.bytes + e.initrd_start, rd, ilen);
		assert_int_equal(rd32(zp() + LINUX_HDR_RAMDISK_SIZE), ilen);
	}
	assert_zero_page_e820(&map);
	assert_entry_state(&e);
	free(kernel);
	free(rd);
	free(release);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_is_bzimage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setup_sects_zero_means_four, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_debian_like, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_e820_and_no_initrd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_initrd_below_initrd_addr_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_initrd_avoids_acpi_in_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_initrd_below_kernel_when_nothing_above, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pref_address_unusable_relocates, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_non_relocatable_at_pref_address_only, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_images, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rsdp_only_for_protocol_2_14, setup, teardown),
		cmocka_unit_test_setup_teardown(test_boot_area_must_be_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_real_debian_kernel, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(bz_image);
	return rc;
}
