/*
 * The multiboot loader tests' fixture, shared by test_mb_loader*.c: a fake
 * guest RAM, multiboot kernels (ELF32 and a.out kludge) built in memory, and
 * one call that loads and one that checks the information structure.
 * Include after <cmocka.h>.
 */
#ifndef TESTS_UNIT_MB_LOADER_FIXTURE_H
#define TESTS_UNIT_MB_LOADER_FIXTURE_H

#include "guest/mb_loader.h"

#define MIB 0x100000ull
#define RAM_BYTES (16 * MIB)
#define FILL 0xcc	/* what untouched guest RAM holds */

/* ---- fake guest RAM ---- */

struct fake_ram {
	uint8_t *bytes;
	uint64_t size;
	int calls;	/* write and zero callbacks made */
	int fail_at;	/* make this call (1-based) fail; 0: never */
};

static struct fake_ram ram;
static struct mb_guest_mem mem;

static __attribute__((unused)) int ram_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
	struct fake_ram *r = ctx;
	assert_true(gpa + len <= r->size);
	if (++r->calls == r->fail_at)
		return -1;
	memcpy(r->bytes + gpa, src, len);
	return 0;
}

static __attribute__((unused)) int ram_zero(void *ctx, uint64_t gpa, size_t len)
{
	struct fake_ram *r = ctx;
	assert_true(gpa + len <= r->size);
	if (++r->calls == r->fail_at)
		return -1;
	memset(r->bytes + gpa, 0, len);
	return 0;
}

static __attribute__((unused)) void ram_setup(uint64_t size)
{
	free(ram.bytes);
	ram = (struct fake_ram){ .bytes = malloc(size), .size = size };
	assert_non_null(ram.bytes);
	memset(ram.bytes, FILL, size);
	mem = (struct mb_guest_mem){ .ram_bytes = size, .write = ram_write, .zero = ram_zero,
				     .ctx = &ram };
}

static uint32_t want_info;

static __attribute__((unused)) int setup(void **state)
{
	(void)state;
	want_info = MB_INFO_ADDR;
	ram_setup(RAM_BYTES);
	return 0;
}

static __attribute__((unused)) int teardown(void **state)
{
	(void)state;
	free(ram.bytes);
	ram.bytes = NULL;
	return 0;
}

static __attribute__((unused)) uint32_t ram32(uint64_t gpa)
{
	uint32_t v;
	assert_true(gpa + 4 <= ram.size);
	memcpy(&v, ram.bytes + gpa, 4);
	return v;
}

static __attribute__((unused)) uint64_t ram64(uint64_t gpa)
{
	return ram32(gpa) | (uint64_t)ram32(gpa + 4) << 32;
}

static __attribute__((unused)) const char *ram_str(uint64_t gpa)
{
	assert_true(gpa < ram.size);
	assert_non_null(memchr(ram.bytes + gpa, 0, ram.size - gpa));
	return (const char *)ram.bytes + gpa;
}

static __attribute__((unused)) bool ram_all(uint64_t gpa, uint64_t len, uint8_t v)
{
	for (uint64_t i = 0; i < len; i++)
		if (ram.bytes[gpa + i] != v)
			return false;
	return true;
}

/* ---- images ---- */

struct image {
	uint8_t *bytes;
	size_t len;
};

static __attribute__((unused)) void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* A multiboot1 header at off: magic, flags, checksum (+ a.out fields if given). */
static __attribute__((unused)) void put_mb_header(uint8_t *file, size_t off, uint32_t flags, const uint32_t *aout)
{
	put32(file + off, MB_HEADER_MAGIC);
	put32(file + off + 4, flags);
	put32(file + off + 8, (uint32_t)-(MB_HEADER_MAGIC + flags));
	if (aout)
		for (int i = 0; i < 5; i++)
			put32(file + off + 12 + 4 * i, aout[i]);
}

/*
 * An ELF32 kernel like a linker makes one, higher-half style so the entry
 * must be translated: text at vaddr 0xc0200000 / paddr 0x200000 (file 0x100,
 * 0x200 bytes, multiboot header at its start), data at paddr 0x201000 (file
 * 0x300, 0x80 bytes, 0x1010 in memory: the rest is BSS), a PT_NOTE and an
 * empty PT_LOAD the loader must skip. Entry 0xc0200010.
 */
#define ELF_TEXT_OFF 0x100
#define ELF_TEXT_PADDR 0x200000u
#define ELF_TEXT_VADDR 0xc0200000u
#define ELF_TEXT_SIZE 0x200
#define ELF_DATA_OFF 0x300
#define ELF_DATA_PADDR 0x201000u
#define ELF_DATA_FILESZ 0x80
#define ELF_DATA_MEMSZ 0x1010
#define ELF_FILE_SIZE 0x380
#define ELF_PHNUM 4

static __attribute__((unused)) void set_phdr(Elf32_Phdr *ph, uint32_t type, uint32_t off, uint32_t vaddr, uint32_t paddr,
		     uint32_t filesz, uint32_t memsz)
{
	*ph = (Elf32_Phdr){ .p_type = type, .p_offset = off, .p_vaddr = vaddr, .p_paddr = paddr,
			    .p_filesz = filesz, .p_memsz = memsz, .p_align = 0x1000 };
}

static __attribute__((unused)) struct image make_elf(void)
{
	struct image im = { calloc(1, ELF_FILE_SIZE), ELF_FILE_SIZE };
	Elf32_Ehdr eh = { 0 };
	Elf32_Phdr ph[ELF_PHNUM];

	assert_non_null(im.bytes);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS32;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_386;
	eh.e_version = EV_CURRENT;
	eh.e_entry = ELF_TEXT_VADDR + 0x10;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf32_Phdr);
	eh.e_phnum = ELF_PHNUM;
	memcpy(im.bytes, &eh, sizeof(eh));

	set_phdr(&ph[0], PT_NOTE, 0, 0, 0, 0x10, 0x10);
	set_phdr(&ph[1], PT_LOAD, ELF_TEXT_OFF, ELF_TEXT_VADDR, ELF_TEXT_PADDR, ELF_TEXT_SIZE,
		 ELF_TEXT_SIZE);
	set_phdr(&ph[2], PT_LOAD, 0, 0xd0000000u, 0x700000, 0, 0);
	set_phdr(&ph[3], PT_LOAD, ELF_DATA_OFF, ELF_DATA_PADDR + 0xc0000000u, ELF_DATA_PADDR,
		 ELF_DATA_FILESZ, ELF_DATA_MEMSZ);
	memcpy(im.bytes + sizeof(eh), ph, sizeof(ph));

	for (int i = 0; i < ELF_TEXT_SIZE; i++)
		im.bytes[ELF_TEXT_OFF + i] = (uint8_t)(0x10 + i * 7);
	for (int i = 0; i < ELF_DATA_FILESZ; i++)
		im.bytes[ELF_DATA_OFF + i] = (uint8_t)(0xd0 ^ i);
	put_mb_header(im.bytes, ELF_TEXT_OFF, MB_HFLAG_PAGE_ALIGN | MB_HFLAG_MEMINFO, NULL);
	return im;
}

static Elf32_Phdr *elf_phdr(struct image *im, int i)
{
	return (Elf32_Phdr *)(im->bytes + sizeof(Elf32_Ehdr)) + i;
}

/*
 * An a.out-kludge kernel: the header at file offset 0x40 says the file's
 * bytes from offset 0 go to 0x300000, 0x800 of them (the file has 0x900),
 * BSS up to 0x302000, entry 0x300100.
 */
#define AOUT_LOAD 0x300000u
#define AOUT_HDR_OFF 0x40
#define AOUT_LOAD_SIZE 0x800
#define AOUT_FILE_SIZE 0x900
#define AOUT_BSS_END 0x302000u
#define AOUT_ENTRY 0x300100u

static __attribute__((unused)) struct image make_aout(uint32_t load_end, uint32_t bss_end)
{
	struct image im = { malloc(AOUT_FILE_SIZE), AOUT_FILE_SIZE };
	uint32_t fields[5] = { AOUT_LOAD + AOUT_HDR_OFF, AOUT_LOAD, load_end, bss_end, AOUT_ENTRY };

	assert_non_null(im.bytes);
	for (size_t i = 0; i < im.len; i++)
		im.bytes[i] = (uint8_t)(i * 13 + 5);
	put_mb_header(im.bytes, AOUT_HDR_OFF, MB_HFLAG_AOUT_KLUDGE | MB_HFLAG_MEMINFO, fields);
	return im;
}

static __attribute__((unused)) struct image read_file(const char *path)
{
	struct image im = { 0 };
	FILE *f = fopen(path, "rb");
	if (!f)
		return im;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	im.bytes = malloc(n > 0 ? (size_t)n : 1);
	assert_non_null(im.bytes);
	im.len = fread(im.bytes, 1, (size_t)n, f);
	fclose(f);
	assert_int_equal(im.len, (size_t)n);
	return im;
}

/* ---- load helpers ---- */

static char err[256];
static struct mb_entry entry;

static __attribute__((unused)) int load(struct image im, const char *cmdline, const struct mb_module *mod)
{
	memset(&entry, 0xee, sizeof(entry));
	err[0] = 'X';
	err[1] = 0;
	int rc = mb_load(im.bytes, im.len, &mem, cmdline, mod, &entry, err, sizeof(err));
	if (rc)
		fprintf(stderr, "  mb_load: %d %s\n", rc, err);
	return rc;
}

/* A broken image: the error code, a phrase of the message, and nothing written. */
static __attribute__((unused)) void expect_error(struct image im, int code, const char *phrase)
{
	int rc = mb_load(im.bytes, im.len, &mem, "x", NULL, &entry, err, sizeof(err));
	if (rc != code || !strstr(err, phrase))
		fprintf(stderr, "  got %d \"%s\", want %d \"...%s...\"\n", rc, err, code, phrase);
	assert_int_equal(rc, code);
	assert_non_null(strstr(err, phrase));
	assert_int_equal(ram.calls, 0);
	assert_true(ram_all(0, ram.size, FILL));
}


/* The information structure and everything it points to, for RAM of ram.size. */
static __attribute__((unused)) void check_info(uint32_t want_flags, const char *cmdline)
{
	uint32_t info = entry.ebx;

	assert_int_equal(entry.eax, MB_BOOT_MAGIC);
	assert_int_equal(info, want_info);
	assert_int_equal(ram32(info + 0), want_flags);
	assert_int_equal(ram32(info + 4), 639);
	assert_int_equal(ram32(info + 8), (ram.size - MIB) / 1024);
	assert_int_equal(ram32(info + 12), 0);	/* boot_device: not given */
	assert_string_equal(ram_str(ram32(info + 16)), cmdline);
	assert_int_equal(ram32(info + 44), 4 * 24);
	assert_string_equal(ram_str(ram32(info + 64)), "hv");
	if (!(want_flags & MB_INFO_MODS))
		assert_int_equal(ram32(info + 20), 0);

	/* The memory map: size fields of 20, then base, length, type. */
	static const uint64_t want[4][3] = {
		{ 0, 0x9fc00, 1 },
		{ 0x9fc00, 0x400, 2 },
		{ 0xf0000, 0x10000, 2 },
		{ 0x100000, 0, 1 },	/* length: RAM - 1 MiB */
	};
	uint32_t e = ram32(info + 48);
	for (int i = 0; i < 4; i++, e += 24) {
		assert_int_equal(ram32(e), 20);
		assert_int_equal(ram64(e + 4), want[i][0]);
		assert_int_equal(ram64(e + 12), i == 3 ? ram.size - MIB : want[i][1]);
		assert_int_equal(ram32(e + 20), want[i][2]);
	}
}

/* ---- synthetic ELF ---- */

/* ---- where the information goes ---- */

/*
 * An ELF32 kernel of `n` PT_LOAD segments at the given physical addresses
 * (identity-mapped, 0x100 file bytes each, the rest BSS), the multiboot
 * header at the start of the first, entered there.
 */
struct seg_spec {
	uint32_t paddr, memsz;
};

static __attribute__((unused)) struct image make_elf_segments(const struct seg_spec *segs, int n)
{
	size_t phoff = sizeof(Elf32_Ehdr), data = 0x200;
	struct image im = { calloc(1, data + 0x100 * (size_t)n), data + 0x100 * (size_t)n };
	Elf32_Ehdr eh = { 0 };

	assert_non_null(im.bytes);
	assert_true(phoff + (size_t)n * sizeof(Elf32_Phdr) <= data);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS32;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_386;
	eh.e_version = EV_CURRENT;
	eh.e_entry = segs[0].paddr + 0x20;
	eh.e_phoff = (uint32_t)phoff;
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf32_Phdr);
	eh.e_phnum = (uint16_t)n;
	memcpy(im.bytes, &eh, sizeof(eh));
	for (int i = 0; i < n; i++) {
		uint32_t off = (uint32_t)(data + 0x100 * (size_t)i);
		set_phdr(elf_phdr(&im, i), PT_LOAD, off, segs[i].paddr, segs[i].paddr, 0x100,
			 segs[i].memsz);
		for (int b = 0; b < 0x100; b++)
			im.bytes[off + b] = (uint8_t)(0x5a + b + i);
	}
	put_mb_header(im.bytes, data, MB_HFLAG_PAGE_ALIGN | MB_HFLAG_MEMINFO, NULL);
	return im;
}

/* The kernel's bytes are all there: nothing of the loader's was written over them. */
static __attribute__((unused)) void check_segments(struct image im, const struct seg_spec *segs, int n)
{
	for (int i = 0; i < n; i++) {
		assert_memory_equal(ram.bytes + segs[i].paddr, im.bytes + 0x200 + 0x100 * i, 0x100);
		assert_true(ram_all(segs[i].paddr + 0x100, segs[i].memsz - 0x100, 0));
		assert_true(entry.ebx + MB_INFO_AREA_SIZE <= segs[i].paddr ||
			    entry.ebx >= segs[i].paddr + segs[i].memsz);
	}
}

/* A kernel linked at 0x8000, where the information used to be: it goes below. */

/* A test that loads into a fresh fake RAM. */
#define RAM_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

#endif
