// SOURCES: guest/mb_loader.c kernel/lib/string.c kernel/lib/format.c
/*
 * The multiboot1 guest loader, on the kernels a VM would boot: the real test
 * guests from build/guests/ (when `make guests` has run), and ELF32 and
 * a.out-kludge images built here, loaded into a fake guest RAM. Each broken
 * image gives the error a user would read, and writes nothing.
 */
#include <dirent.h>
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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
	mem = (struct mb_guest_mem){ .ram_bytes = size, .write = ram_write, .zero = ram_zero,
				     .ctx = &ram };
}

static uint32_t want_info;

static int setup(void **state)
{
	(void)state;
	want_info = MB_INFO_ADDR;
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

static uint32_t ram32(uint64_t gpa)
{
	uint32_t v;
	assert_true(gpa + 4 <= ram.size);
	memcpy(&v, ram.bytes + gpa, 4);
	return v;
}

static uint64_t ram64(uint64_t gpa)
{
	return ram32(gpa) | (uint64_t)ram32(gpa + 4) << 32;
}

static const char *ram_str(uint64_t gpa)
{
	assert_true(gpa < ram.size);
	assert_non_null(memchr(ram.bytes + gpa, 0, ram.size - gpa));
	return (const char *)ram.bytes + gpa;
}

static bool ram_all(uint64_t gpa, uint64_t len, uint8_t v)
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

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* A multiboot1 header at off: magic, flags, checksum (+ a.out fields if given). */
static void put_mb_header(uint8_t *file, size_t off, uint32_t flags, const uint32_t *aout)
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

static void set_phdr(Elf32_Phdr *ph, uint32_t type, uint32_t off, uint32_t vaddr, uint32_t paddr,
		     uint32_t filesz, uint32_t memsz)
{
	*ph = (Elf32_Phdr){ .p_type = type, .p_offset = off, .p_vaddr = vaddr, .p_paddr = paddr,
			    .p_filesz = filesz, .p_memsz = memsz, .p_align = 0x1000 };
}

static struct image make_elf(void)
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

static struct image make_aout(uint32_t load_end, uint32_t bss_end)
{
	struct image im = { malloc(AOUT_FILE_SIZE), AOUT_FILE_SIZE };
	uint32_t fields[5] = { AOUT_LOAD + AOUT_HDR_OFF, AOUT_LOAD, load_end, bss_end, AOUT_ENTRY };

	assert_non_null(im.bytes);
	for (size_t i = 0; i < im.len; i++)
		im.bytes[i] = (uint8_t)(i * 13 + 5);
	put_mb_header(im.bytes, AOUT_HDR_OFF, MB_HFLAG_AOUT_KLUDGE | MB_HFLAG_MEMINFO, fields);
	return im;
}

static struct image read_file(const char *path)
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

static int load(struct image im, const char *cmdline, const struct mb_module *mod)
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
static void expect_error(struct image im, int code, const char *phrase)
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
static void check_info(uint32_t want_flags, const char *cmdline)
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

static void test_elf_segments_bss_entry(void **state)
{
	(void)state;
	struct image im = make_elf();

	assert_int_equal(load(im, "console=ttyS0", NULL), 0);
	assert_int_equal(entry.eip, ELF_TEXT_PADDR + 0x10);	/* translated from 0xc0200010 */
	assert_int_equal(entry.eax, 0x2badb002);
	assert_int_equal(entry.kernel_start, ELF_TEXT_PADDR);
	assert_int_equal(entry.kernel_end, ELF_DATA_PADDR + ELF_DATA_MEMSZ);
	assert_int_equal(entry.module_start, 0);
	assert_int_equal(entry.module_end, 0);
	assert_memory_equal(ram.bytes + ELF_TEXT_PADDR, im.bytes + ELF_TEXT_OFF, ELF_TEXT_SIZE);
	assert_memory_equal(ram.bytes + ELF_DATA_PADDR, im.bytes + ELF_DATA_OFF, ELF_DATA_FILESZ);
	assert_true(ram_all(ELF_DATA_PADDR + ELF_DATA_FILESZ, ELF_DATA_MEMSZ - ELF_DATA_FILESZ, 0));
	/* Nothing around the segments, nor for the empty PT_LOAD or the PT_NOTE. */
	assert_true(ram_all(ELF_TEXT_PADDR + ELF_TEXT_SIZE,
			    ELF_DATA_PADDR - ELF_TEXT_PADDR - ELF_TEXT_SIZE, FILL));
	assert_true(ram_all(ELF_DATA_PADDR + ELF_DATA_MEMSZ, 0x1000, FILL));
	assert_true(ram_all(0x700000, 0x1000, FILL));
	assert_true(ram_all(0, 0x8000, FILL));
	free(im.bytes);
}

static void test_info_structure(void **state)
{
	(void)state;
	struct image im = make_elf();

	assert_int_equal(load(im, "seed=7 bare", NULL), 0);
	check_info(MB_INFO_MEM | MB_INFO_CMDLINE | MB_INFO_MMAP | MB_INFO_LOADER_NAME,
		   "seed=7 bare");
	assert_int_equal(ram32(MB_INFO_ADDR), 0x245);	/* bits 0, 2, 6, 9 of §3.3 */
	assert_int_equal(ram32(MB_INFO_ADDR + 8), 15360);	/* (16 MiB - 1 MiB) / 1 KiB */
	free(im.bytes);
}

static void test_info_other_ram_size_and_null_cmdline(void **state)
{
	(void)state;
	struct image im = make_elf();

	ram_setup(34 * MIB + 0x1000);	/* not a whole MiB */
	assert_int_equal(load(im, NULL, NULL), 0);
	check_info(0x245, "");
	assert_int_equal(ram32(MB_INFO_ADDR + 8), (33 * MIB + 0x1000) / 1024);
	free(im.bytes);
}

static void test_module_placement(void **state)
{
	(void)state;
	struct image im = make_elf();
	uint8_t data[5000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 3 + 1);
	struct mb_module mod = { data, sizeof(data), "/boot/initrd.img root=/dev/ram" };

	assert_int_equal(load(im, "root=/dev/ram0", &mod), 0);
	/* Kernel ends at 0x202010: the module starts on the next page. */
	assert_int_equal(entry.module_start, 0x203000);
	assert_int_equal(entry.module_start % 4096, 0);
	assert_int_equal(entry.module_end, 0x203000 + sizeof(data));
	assert_memory_equal(ram.bytes + 0x203000, data, sizeof(data));
	check_info(0x24d, "root=/dev/ram0");
	assert_int_equal(ram32(MB_INFO_ADDR + 20), 1);
	uint32_t m = ram32(MB_INFO_ADDR + 24);
	assert_int_equal(m, MB_MODS_ADDR);
	assert_int_equal(ram32(m), 0x203000);
	assert_int_equal(ram32(m + 4), 0x203000 + sizeof(data));
	assert_string_equal(ram_str(ram32(m + 8)), "/boot/initrd.img root=/dev/ram");
	assert_int_equal(ram32(m + 12), 0);
	free(im.bytes);
}

static void test_module_after_page_aligned_kernel_and_empty(void **state)
{
	(void)state;
	struct image im = make_elf();
	elf_phdr(&im, 3)->p_memsz = 0x1000;	/* kernel ends exactly at 0x202000 */
	struct mb_module mod = { NULL, 0, NULL };

	assert_int_equal(load(im, "", &mod), 0);
	assert_int_equal(entry.module_start, 0x202000);
	assert_int_equal(entry.module_end, 0x202000);
	assert_int_equal(ram32(MB_INFO_ADDR) & MB_INFO_MODS, MB_INFO_MODS);
	assert_string_equal(ram_str(ram32(ram32(MB_INFO_ADDR + 24) + 8)), "");
	free(im.bytes);
}

/* ---- a.out kludge ---- */

static void test_aout_kludge(void **state)
{
	(void)state;
	struct image im = make_aout(AOUT_LOAD + AOUT_LOAD_SIZE, AOUT_BSS_END);

	assert_int_equal(load(im, "aout", NULL), 0);
	assert_int_equal(entry.eip, AOUT_ENTRY);
	assert_int_equal(entry.kernel_start, AOUT_LOAD);
	assert_int_equal(entry.kernel_end, AOUT_BSS_END);
	assert_memory_equal(ram.bytes + AOUT_LOAD, im.bytes, AOUT_LOAD_SIZE);
	assert_true(ram_all(AOUT_LOAD + AOUT_LOAD_SIZE,
			    AOUT_BSS_END - AOUT_LOAD - AOUT_LOAD_SIZE, 0));
	assert_true(ram_all(AOUT_BSS_END, 0x1000, FILL));
	check_info(0x245, "aout");
	free(im.bytes);
}

static void test_aout_to_end_of_file_no_bss(void **state)
{
	(void)state;
	struct image im = make_aout(0, 0);

	assert_int_equal(load(im, "", NULL), 0);
	assert_int_equal(entry.kernel_end, AOUT_LOAD + AOUT_FILE_SIZE);
	assert_memory_equal(ram.bytes + AOUT_LOAD, im.bytes, AOUT_FILE_SIZE);
	assert_true(ram_all(AOUT_LOAD + AOUT_FILE_SIZE, 0x1000, FILL));
	free(im.bytes);
}

/* ---- the real test guests ---- */

/* Checks every PT_LOAD of a linked guest landed where its program header says. */
static void check_real_guest(const char *path)
{
	struct image im = read_file(path);
	const Elf32_Ehdr *eh = (const Elf32_Ehdr *)im.bytes;

	assert_true(im.len >= sizeof(*eh));
	assert_true(mb_is_multiboot(im.bytes, im.len));
	ram_setup(32 * MIB);
	assert_int_equal(load(im, "seed=7 bare", NULL), 0);
	assert_int_equal(entry.eip, eh->e_entry);
	/* at 1 MiB, or (lowmem) at 0x8000, where the information used to be */
	assert_true(entry.kernel_start >= MIB || entry.kernel_start == MB_INFO_BASE);
	for (int i = 0; i < eh->e_phnum; i++) {
		const Elf32_Phdr *ph = (const Elf32_Phdr *)(im.bytes + eh->e_phoff) + i;
		if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
			continue;
		assert_memory_equal(ram.bytes + ph->p_paddr, im.bytes + ph->p_offset, ph->p_filesz);
		assert_true(ram_all(ph->p_paddr + ph->p_filesz, ph->p_memsz - ph->p_filesz, 0));
		assert_true(ph->p_paddr + ph->p_memsz <= entry.kernel_end);
	}
	/* a guest linked low finds the information elsewhere, clear of its image */
	want_info = entry.ebx;
	assert_int_equal(want_info % 0x1000, 0);
	assert_true(want_info + MB_INFO_AREA_SIZE <= entry.kernel_start ||
		    want_info >= entry.kernel_end);
	if (entry.kernel_start >= MB_INFO_BASE + MB_INFO_AREA_SIZE)
		assert_int_equal(want_info, MB_INFO_ADDR);
	check_info(0x245, "seed=7 bare");
	free(im.bytes);
}

static void test_real_guests(void **state)
{
	(void)state;
	DIR *d = opendir("build/guests");
	int loaded = 0;

	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			size_t n = strlen(de->d_name);
			if (n < 5 || strcmp(de->d_name + n - 4, ".elf"))
				continue;
			char path[512];
			snprintf(path, sizeof(path), "build/guests/%s", de->d_name);
			fprintf(stderr, "  loading %s\n", path);
			check_real_guest(path);
			loaded++;
		}
		closedir(d);
	}
	if (!loaded) {
		fprintf(stderr, "  no build/guests/*.elf (run `make guests` from the "
				"repository root)\n");
		skip();
	}
}

/* ---- finding the header ---- */

static void test_header_search_window(void **state)
{
	(void)state;
	uint8_t file[8192 + 64] = { 0 };
	struct mb_header h;

	/* The last 4-byte aligned slot whose 12 bytes fit in the first 8 KiB. */
	put_mb_header(file, 8180, 0, NULL);
	assert_int_equal(mb_find_header(file, sizeof(file), &h), 0);
	assert_int_equal(h.offset, 8180);
	memset(file, 0, sizeof(file));
	put_mb_header(file, 8184, 0, NULL);
	assert_int_equal(mb_find_header(file, sizeof(file), &h), MB_ERR_NO_HEADER);
	/* Not 4-byte aligned. */
	memset(file, 0, sizeof(file));
	put_mb_header(file, 0x102, 0, NULL);
	assert_false(mb_is_multiboot(file, sizeof(file)));
	/* A stray magic with a bad checksum before the real header is passed over. */
	memset(file, 0, sizeof(file));
	put32(file + 0x10, MB_HEADER_MAGIC);
	put_mb_header(file, 0x20, MB_HFLAG_MEMINFO, NULL);
	assert_int_equal(mb_find_header(file, sizeof(file), &h), 0);
	assert_int_equal(h.offset, 0x20);
	assert_int_equal(h.flags, MB_HFLAG_MEMINFO);
}

/* ---- errors ---- */

static void test_error_no_header(void **state)
{
	(void)state;
	struct image im = make_elf();
	memset(im.bytes + ELF_TEXT_OFF, 0, 12);
	expect_error(im, MB_ERR_NO_HEADER, "no multiboot1 header");
	/* A header past the first 8 KiB does not count. */
	struct image big = { calloc(1, 0x3000), 0x3000 };
	put_mb_header(big.bytes, 0x2000, 0, NULL);
	expect_error(big, MB_ERR_NO_HEADER, "first 8192 bytes");
	free(big.bytes);
	free(im.bytes);
}

static void test_error_bad_checksum(void **state)
{
	(void)state;
	struct image im = make_elf();
	im.bytes[ELF_TEXT_OFF + 8] ^= 1;
	expect_error(im, MB_ERR_CHECKSUM, "checksum");
	free(im.bytes);
}

static void test_error_unsupported_flag(void **state)
{
	(void)state;
	struct image im = make_elf();
	put_mb_header(im.bytes, ELF_TEXT_OFF, MB_HFLAG_MEMINFO | (1u << 3), NULL);
	expect_error(im, MB_ERR_FLAGS, "requires features 0x8");
	free(im.bytes);
}

static void test_error_elf64(void **state)
{
	(void)state;
	struct image im = make_elf();
	im.bytes[EI_CLASS] = ELFCLASS64;
	expect_error(im, MB_ERR_FORMAT, "ELF64");
	free(im.bytes);
}

static void test_error_not_elf_nor_aout(void **state)
{
	(void)state;
	struct image im = make_elf();
	im.bytes[1] = 'X';
	expect_error(im, MB_ERR_FORMAT, "not an ELF file");
	free(im.bytes);
}

static void test_error_wrong_machine(void **state)
{
	(void)state;
	struct image im = make_elf();
	((Elf32_Ehdr *)im.bytes)->e_machine = EM_X86_64;
	expect_error(im, MB_ERR_FORMAT, "machine 62");
	free(im.bytes);
}

static void test_error_segment_beyond_ram(void **state)
{
	(void)state;
	struct image im = make_elf();
	elf_phdr(&im, 3)->p_paddr = RAM_BYTES - 0x1000;	/* BSS runs past the end */
	expect_error(im, MB_ERR_RANGE, "ELF segment 3 0xfff000-0x1000010 lies beyond guest RAM");
	elf_phdr(&im, 3)->p_paddr = 0xfffff000u;	/* and past 4 GiB */
	expect_error(im, MB_ERR_RANGE, "beyond guest RAM");
	free(im.bytes);
}

static void test_error_segment_over_low_areas(void **state)
{
	(void)state;
	struct image im = make_elf();
	elf_phdr(&im, 1)->p_paddr = 0xb8000;
	expect_error(im, MB_ERR_RANGE, "overlaps the reserved area below 1 MiB");
	elf_phdr(&im, 1)->p_paddr = 0xfff00;	/* straddles 1 MiB */
	expect_error(im, MB_ERR_RANGE, "overlaps the reserved area below 1 MiB");
	free(im.bytes);
}

/* ---- where the information goes ---- */

/*
 * An ELF32 kernel of `n` PT_LOAD segments at the given physical addresses
 * (identity-mapped, 0x100 file bytes each, the rest BSS), the multiboot
 * header at the start of the first, entered there.
 */
struct seg_spec {
	uint32_t paddr, memsz;
};

static struct image make_elf_segments(const struct seg_spec *segs, int n)
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
static void check_segments(struct image im, const struct seg_spec *segs, int n)
{
	for (int i = 0; i < n; i++) {
		assert_memory_equal(ram.bytes + segs[i].paddr, im.bytes + 0x200 + 0x100 * i, 0x100);
		assert_true(ram_all(segs[i].paddr + 0x100, segs[i].memsz - 0x100, 0));
		assert_true(entry.ebx + MB_INFO_AREA_SIZE <= segs[i].paddr ||
			    entry.ebx >= segs[i].paddr + segs[i].memsz);
	}
}

/* A kernel linked at 0x8000, where the information used to be: it goes below. */
static void test_info_kernel_at_0x8000(void **state)
{
	(void)state;
	static const struct seg_spec segs[] = { { 0x8000, 0x6000 } };
	struct image im = make_elf_segments(segs, 1);
	uint8_t data[100] = { 1, 2, 3 };
	struct mb_module mod = { data, sizeof(data), "initrd" };

	assert_int_equal(load(im, "console=ttyS0 low", &mod), 0);
	assert_int_equal(entry.eip, 0x8020);
	assert_int_equal(entry.kernel_start, 0x8000);
	assert_int_equal(entry.kernel_end, 0xe000);
	assert_int_equal(entry.module_start, MIB); /* never below 1 MiB */
	want_info = MB_INFO_LOW_START; /* the lowest free page-aligned spot */
	check_info(0x24d, "console=ttyS0 low");
	check_segments(im, segs, 1);
	assert_string_equal(ram_str(ram32(ram32(want_info + 24) + 8)), "initrd");
	/* page 0 is never used */
	assert_true(ram_all(0, 0x1000, FILL));
	free(im.bytes);
}

/* Kernel at 1 MiB (the test guests, most kernels): the information at 0x8000 as ever. */
static void test_info_kernel_at_1mib(void **state)
{
	(void)state;
	static const struct seg_spec segs[] = { { 0x100000, 0x3000 } };
	struct image im = make_elf_segments(segs, 1);

	assert_int_equal(load(im, "x=1", NULL), 0);
	check_info(0x245, "x=1");
	assert_string_equal(ram_str(MB_CMDLINE_ADDR), "x=1");
	check_segments(im, segs, 1);
	free(im.bytes);
}

/* Segments with gaps: the first gap that holds the whole area, page aligned. */
static void test_info_between_segments(void **state)
{
	(void)state;
	static const struct seg_spec segs[] = {
		{ 0x1000, 0x1800 },   /* to 0x2800: the gap up to 0x3000 is too small */
		{ 0x3000, 0x6000 },   /* over 0x8000 */
		{ 0xb000, 0x1000 },   /* 0x9000-0xb000: exactly the area */
	};
	struct image im = make_elf_segments(segs, 3);

	assert_int_equal(load(im, "", NULL), 0);
	want_info = 0x9000;
	check_info(0x245, "");
	check_segments(im, segs, 3);
	free(im.bytes);
}

/* A kernel filling most of low memory: the information goes above 1 MiB, past the module. */
static void test_info_kernel_fills_low_memory(void **state)
{
	(void)state;
	static const struct seg_spec segs[] = { { 0x1000, 0x9e000 } }; /* 0x9f000-0x9fc00 left */
	struct image im = make_elf_segments(segs, 1);

	assert_int_equal(load(im, "big", NULL), 0);
	want_info = MIB;
	check_info(0x245, "big");
	check_segments(im, segs, 1);

	ram_setup(RAM_BYTES);
	uint8_t data[0x1800];
	memset(data, 0x77, sizeof(data));
	struct mb_module mod = { data, sizeof(data), "m" };
	assert_int_equal(load(im, "big", &mod), 0);
	assert_int_equal(entry.module_start, MIB);
	want_info = MIB + 0x2000; /* the page after the module */
	check_info(0x24d, "big");
	assert_memory_equal(ram.bytes + MIB, data, sizeof(data));
	check_segments(im, segs, 1);
	free(im.bytes);
}

/* No room anywhere: refused in words, nothing written. */
static void test_error_no_room_for_info(void **state)
{
	(void)state;
	static const struct seg_spec segs[] = {
		{ 0x1000, 0x9e000 },
		{ 0x100000, RAM_BYTES - 0x100000 - 0x1000 }, /* a page short of the end */
	};
	struct image im = make_elf_segments(segs, 2);
	expect_error(im, MB_ERR_RANGE, "no room for the multiboot information (0x2000 bytes)");
	free(im.bytes);
}

static void test_error_entry_outside(void **state)
{
	(void)state;
	struct image im = make_elf();
	((Elf32_Ehdr *)im.bytes)->e_entry = 0x12345678;
	expect_error(im, MB_ERR_FORMAT, "entry point 0x12345678");
	free(im.bytes);
}

static void test_error_truncated(void **state)
{
	(void)state;
	struct image im = make_elf();
	struct image cut = { malloc(ELF_FILE_SIZE), 0 };
	memcpy(cut.bytes, im.bytes, ELF_FILE_SIZE);

	cut.len = ELF_FILE_SIZE - 1;	/* the data segment's last byte */
	expect_error(cut, MB_ERR_TRUNCATED, "ELF segment 3 needs file bytes 0x300-0x380");
	/* Program headers past the end of the file (the header moved up to stay inside). */
	((Elf32_Ehdr *)cut.bytes)->e_phoff = 0x370;
	cut.len = ELF_FILE_SIZE;
	expect_error(cut, MB_ERR_TRUNCATED, "program headers end at 0x3f0");
	/* Shorter than an ELF header, multiboot header still in it. */
	struct image tiny = { calloc(1, 40), 40 };
	memcpy(tiny.bytes, ELFMAG, SELFMAG);
	put_mb_header(tiny.bytes, 16, 0, NULL);
	expect_error(tiny, MB_ERR_TRUNCATED, "shorter than an ELF header");
	/* An a.out kludge whose load_end_addr runs past the file. */
	struct image aout = make_aout(AOUT_LOAD + AOUT_FILE_SIZE + 4, 0);
	expect_error(aout, MB_ERR_TRUNCATED, "a.out kludge loads 0x904 bytes");
	/* An a.out-kludge header cut off inside its address fields. */
	aout.len = AOUT_HDR_OFF + 20;
	expect_error(aout, MB_ERR_TRUNCATED, "address fields are cut off");
	free(aout.bytes);
	free(tiny.bytes);
	free(cut.bytes);
	free(im.bytes);
}

static void test_error_aout_fields(void **state)
{
	(void)state;
	struct image im = make_aout(AOUT_LOAD + AOUT_LOAD_SIZE, AOUT_LOAD + 0x10);
	expect_error(im, MB_ERR_FORMAT, "bss_end_addr 0x300010 below");
	free(im.bytes);
	im = make_aout(AOUT_LOAD - 4, 0);
	expect_error(im, MB_ERR_FORMAT, "load_end_addr 0x2ffffc below load_addr");
	free(im.bytes);
	/* header_addr - load_addr larger than the header's file offset. */
	uint32_t fields[5] = { AOUT_LOAD + 0x1000, AOUT_LOAD, 0, 0, AOUT_ENTRY };
	im = make_aout(0, 0);
	put_mb_header(im.bytes, AOUT_HDR_OFF, MB_HFLAG_AOUT_KLUDGE, fields);
	expect_error(im, MB_ERR_FORMAT, "do not fit the header's file offset");
	free(im.bytes);
	im = make_aout(AOUT_LOAD + 0x2000, 0);
	expect_error(im, MB_ERR_TRUNCATED, "truncated");
	free(im.bytes);
	im = make_aout(0, 0);
	uint32_t low[5] = { 0x9f800 + AOUT_HDR_OFF, 0x9f800, 0, 0, 0x9f900 };
	put_mb_header(im.bytes, AOUT_HDR_OFF, MB_HFLAG_AOUT_KLUDGE, low);
	expect_error(im, MB_ERR_RANGE, "a.out kludge image 0x9f800-0xa0100 overlaps the reserved");
	free(im.bytes);
}

static void test_error_cmdline_and_module(void **state)
{
	(void)state;
	struct image im = make_elf();
	char *cmd = malloc(MB_CMDLINE_MAX + 1);
	memset(cmd, 'a', MB_CMDLINE_MAX);
	cmd[MB_CMDLINE_MAX] = 0;
	assert_int_equal(mb_load(im.bytes, im.len, &mem, cmd, NULL, &entry, err, sizeof(err)),
			 MB_ERR_TOO_LONG);
	assert_non_null(strstr(err, "command line longer than 4095"));
	cmd[MB_CMDLINE_MAX - 1] = 0;	/* exactly the limit: fits */
	assert_int_equal(mb_load(im.bytes, im.len, &mem, cmd, NULL, &entry, err, sizeof(err)), 0);
	assert_string_equal(ram_str(MB_CMDLINE_ADDR), cmd);
	free(cmd);

	ram_setup(RAM_BYTES);
	static uint8_t big[RAM_BYTES];
	struct mb_module mod = { big, RAM_BYTES - 0x203000 + 1, "big" };
	assert_int_equal(mb_load(im.bytes, im.len, &mem, "", &mod, &entry, err, sizeof(err)),
			 MB_ERR_RANGE);
	assert_non_null(strstr(err, "module of 0xdfd001 bytes at 0x203000 does not fit"));
	assert_int_equal(ram.calls, 0);
	mod.len--;	/* up to the last byte of RAM: fits */
	assert_int_equal(mb_load(im.bytes, im.len, &mem, "", &mod, &entry, err, sizeof(err)), 0);
	assert_int_equal(entry.module_end, RAM_BYTES);
	free(im.bytes);
}

static void test_error_small_ram_and_args(void **state)
{
	(void)state;
	struct image im = make_elf();
	mem.ram_bytes = 2 * MIB - 1;
	expect_error(im, MB_ERR_RANGE, "at least 2 MiB");
	mem.ram_bytes = ram.size;
	assert_int_equal(mb_load(NULL, 0, &mem, "", NULL, &entry, err, sizeof(err)), MB_ERR_INVAL);
	assert_int_equal(mb_load(im.bytes, im.len, &mem, "", NULL, NULL, err, sizeof(err)),
			 MB_ERR_INVAL);
	/* No error buffer at all is allowed. */
	assert_int_equal(mb_load(im.bytes, 8, &mem, "", NULL, &entry, NULL, 0), MB_ERR_NO_HEADER);
	free(im.bytes);
}

static void test_error_memory_callback(void **state)
{
	(void)state;
	struct image im = make_elf();
	for (int fail = 1; fail <= 7; fail++) {
		ram_setup(RAM_BYTES);
		ram.fail_at = fail;
		int rc = mb_load(im.bytes, im.len, &mem, "", NULL, &entry, err, sizeof(err));
		assert_int_equal(rc, MB_ERR_MEM);
		assert_non_null(strstr(err, "guest memory at 0x"));
	}
	ram_setup(RAM_BYTES);
	ram.fail_at = 9;	/* past the last call: succeeds */
	assert_int_equal(mb_load(im.bytes, im.len, &mem, "", NULL, &entry, err, sizeof(err)), 0);
	assert_int_equal(ram.calls, 7);	/* 2 segments + 1 BSS + mmap, name, cmdline, info */
	free(im.bytes);
}

#define RAM_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		RAM_TEST(test_elf_segments_bss_entry),
		RAM_TEST(test_info_structure),
		RAM_TEST(test_info_other_ram_size_and_null_cmdline),
		RAM_TEST(test_module_placement),
		RAM_TEST(test_module_after_page_aligned_kernel_and_empty),
		RAM_TEST(test_aout_kludge),
		RAM_TEST(test_aout_to_end_of_file_no_bss),
		RAM_TEST(test_real_guests),
		cmocka_unit_test(test_header_search_window),
		RAM_TEST(test_error_no_header),
		RAM_TEST(test_error_bad_checksum),
		RAM_TEST(test_error_unsupported_flag),
		RAM_TEST(test_error_elf64),
		RAM_TEST(test_error_not_elf_nor_aout),
		RAM_TEST(test_error_wrong_machine),
		RAM_TEST(test_error_segment_beyond_ram),
		RAM_TEST(test_error_segment_over_low_areas),
		RAM_TEST(test_info_kernel_at_0x8000),
		RAM_TEST(test_info_kernel_at_1mib),
		RAM_TEST(test_info_between_segments),
		RAM_TEST(test_info_kernel_fills_low_memory),
		RAM_TEST(test_error_no_room_for_info),
		RAM_TEST(test_error_entry_outside),
		RAM_TEST(test_error_truncated),
		RAM_TEST(test_error_aout_fields),
		RAM_TEST(test_error_cmdline_and_module),
		RAM_TEST(test_error_small_ram_and_args),
		RAM_TEST(test_error_memory_callback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
