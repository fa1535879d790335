// SOURCES: guest/guest_vmem.c guest/guest_paging.c kernel/lib/string.c
/*
 * seg:offset accesses as the string-instruction emulator makes them:
 * segment limits and types (#GP, #SS), canonical addresses, the guest's
 * paging with the architectural #PF error code and CR2, accesses split at a
 * page boundary (checked whole before any byte moves), and the way to RAM or
 * to a device.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "guest/guest_vmem.h"
#include "kernel/lib/string.h"

#define RAM_SIZE 0x40000ull	/* 256 KiB of RAM at guest-physical 0 */
#define MMIO_BASE 0xfec00000ull

#define P 0x1u
#define RW 0x2u
#define US 0x4u
#define D 0x40u

/* Segment attribs (descriptor bits 40-47 in 7:0, 52-55 in 11:8). */
#define DATA_RW 0x0093		/* present, S, data read/write, accessed */
#define DATA_RO 0x0091
#define DATA_DOWN 0x0097	/* expand-down read/write */
#define CODE_XO 0x0099		/* execute-only */
#define CODE_XR 0x009b
#define DB 0x0400

struct mmio_access {
	char dir;
	uint64_t gpa;
	unsigned int size;
	uint64_t val;
};

struct world {
	uint8_t ram[RAM_SIZE];
	struct mmio_access log[8];
	int n;
	uint64_t mmio_val;
};

static int ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct world *w = ctx;

	if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
		return -1;
	memcpy(buf, w->ram + gpa, len);
	return 0;
}

static int ram_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	struct world *w = ctx;

	if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
		return -1;
	memcpy(w->ram + gpa, buf, len);
	return 0;
}

static int phys_read(void *ctx, uint64_t gpa, unsigned int size, uint64_t *val)
{
	struct world *w = ctx;

	*val = 0;
	if (ram_read(ctx, gpa, val, size) == 0)
		return 0;
	assert_true(w->n < 8);
	w->log[w->n++] = (struct mmio_access){ 'r', gpa, size, 0 };
	*val = w->mmio_val;
	return 0;
}

static int phys_write(void *ctx, uint64_t gpa, unsigned int size, uint64_t val)
{
	struct world *w = ctx;

	if (ram_write(ctx, gpa, &val, size) == 0)
		return 0;
	assert_true(w->n < 8);
	w->log[w->n++] = (struct mmio_access){ 'w', gpa, size, val };
	return 0;
}

static void put32(struct world *w, uint64_t gpa, uint32_t v)
{
	memcpy(w->ram + gpa, &v, 4);
}

static uint32_t get32(const struct world *w, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, w->ram + gpa, 4);
	return v;
}

static struct world *world_new(void)
{
	struct world *w = test_calloc(1, sizeof(*w));

	assert_non_null(w);
	return w;
}

/* Flat 32-bit protected mode, paging off. */
static struct guest_vmem flat32(struct world *w)
{
	struct guest_vmem m = {
		.paging = { .cr0 = 1 },
		.protected_mode = true,
		.walk_mem = { .read_phys = ram_read, .write_phys = ram_write },
		.phys_read = phys_read,
		.phys_write = phys_write,
		.ctx = w,
	};
	unsigned int i;

	for (i = 0; i < 6; i++)
		m.seg[i] = (struct guest_segment){ .base = 0, .limit = 0xffffffff,
						   .attrib = DATA_RW | DB | 0x800 };
	m.seg[X86_SEG_CS].attrib = CODE_XR | DB | 0x800;
	return m;
}

/*
 * 32-bit paging: the page directory at 0x1000, one page table at 0x2000
 * covering linear 0..4 MiB. Pages 0x10..0x1f map identity (supervisor,
 * writable); 0x20 is read-only, 0x21 user, 0x22 not present, 0x23 maps the
 * device page, 0x24 maps RAM page 0x30 (not contiguous with 0x25 -> 0x25).
 */
static void build_paging32(struct world *w, struct guest_vmem *m)
{
	unsigned int i;

	put32(w, 0x1000, 0x2000 | P | RW | US);
	for (i = 0x10; i < 0x20; i++)
		put32(w, 0x2000 + 4 * i, (i << 12) | P | RW);
	put32(w, 0x2000 + 4 * 0x20, (0x20 << 12) | P);
	put32(w, 0x2000 + 4 * 0x21, (0x21 << 12) | P | RW | US);
	put32(w, 0x2000 + 4 * 0x22, 0);
	put32(w, 0x2000 + 4 * 0x23, (uint32_t)MMIO_BASE | P | RW);
	put32(w, 0x2000 + 4 * 0x24, (0x30 << 12) | P | RW);
	put32(w, 0x2000 + 4 * 0x25, (0x25 << 12) | P | RW);
	m->paging.cr0 = 1 | GUEST_CR0_PG | GUEST_CR0_WP;
	m->paging.cr3 = 0x1000;
}

static void test_segment_base_and_ram(void **state)
{
	struct world *w = world_new();
	struct guest_vmem m = flat32(w);
	uint64_t v;

	(void)state;
	m.seg[X86_SEG_ES].base = 0x10000;
	assert_int_equal(guest_vmem_write(&m, X86_SEG_ES, 0x20, 4, 0xcafef00d), GUEST_VMEM_OK);
	assert_int_equal(get32(w, 0x10020), 0xcafef00d);
	assert_int_equal(guest_vmem_read(&m, X86_SEG_DS, 0x10022, 2, &v), GUEST_VMEM_OK);
	assert_int_equal(v, 0xcafe);
	/* outside RAM: the device, with the access size kept */
	assert_int_equal(guest_vmem_write(&m, X86_SEG_DS, MMIO_BASE + 0x10, 4, 0x12),
			 GUEST_VMEM_OK);
	assert_int_equal(w->n, 1);
	assert_int_equal(w->log[0].gpa, MMIO_BASE + 0x10);
	assert_int_equal(w->log[0].size, 4);
	/* the linear address wraps at 4 GiB outside 64-bit mode */
	m.seg[X86_SEG_DS].base = 0xfffff000;
	assert_int_equal(guest_vmem_read(&m, X86_SEG_DS, 0x1000, 4, &v), GUEST_VMEM_OK);
	assert_int_equal(v, 0);
	test_free(w);
}

static void test_segment_limits_and_types(void **state)
{
	struct world *w = world_new();
	struct guest_vmem m = flat32(w);
	uint64_t v;

	(void)state;
	m.seg[X86_SEG_DS].limit = 0xfff;
	assert_int_equal(guest_vmem_read(&m, X86_SEG_DS, 0xffc, 4, &v), GUEST_VMEM_OK);
	/* the last byte past the limit is #GP(0) */
	assert_int_equal(guest_vmem_read(&m, X86_SEG_DS, 0xffd, 4, &v), GUEST_VMEM_FAULT);
	assert_true(m.fault.valid);
	assert_int_equal(m.fault.vector, GUEST_VEC_GP);
	assert_int_equal(m.fault.error_code, 0);
	/* through SS it is #SS(0) */
	m.seg[X86_SEG_SS].limit = 0xfff;
	assert_int_equal(guest_vmem_write(&m, X86_SEG_SS, 0x1000, 1, 0), GUEST_VMEM_FAULT);
	assert_int_equal(m.fault.vector, GUEST_VEC_SS);
	/* expand-down: offsets above the limit up to 0xffff (B clear) are valid */
	m.seg[X86_SEG_ES] = (struct guest_segment){ .base = 0x10000, .limit = 0x0fff,
						    .attrib = DATA_DOWN };
	assert_int_equal(guest_vmem_write(&m, X86_SEG_ES, 0x1000, 4, 1), GUEST_VMEM_OK);
	assert_int_equal(guest_vmem_write(&m, X86_SEG_ES, 0xfff, 1, 1), GUEST_VMEM_FAULT);
	assert_int_equal(guest_vmem_write(&m, X86_SEG_ES, 0xfffe, 4, 1), GUEST_VMEM_FAULT);
	m.seg[X86_SEG_ES].attrib = DATA_DOWN | DB;
	assert_int_equal(guest_vmem_write(&m, X86_SEG_ES, 0xfffe, 4, 1), GUEST_VMEM_OK);
	/* a read-only data segment refuses writes, takes reads */
	m.seg[X86_SEG_FS] = (struct guest_segment){ .limit = 0xffffffff, .attrib = DATA_RO };
	assert_int_equal(guest_vmem_write(&m, X86_SEG_FS, 0x100, 1, 1), GUEST_VMEM_FAULT);
	assert_int_equal(m.fault.vector, GUEST_VEC_GP);
	assert_int_equal(guest_vmem_read(&m, X86_SEG_FS, 0x100, 1, &v), GUEST_VMEM_OK);
	/* code: readable only with R, never writable (OUTS with a CS override) */
	assert_int_equal(guest_vmem_read(&m, X86_SEG_CS, 0x100, 1, &v), GUEST_VMEM_OK);
	assert_int_equal(guest_vmem_write(&m, X86_SEG_CS, 0x100, 1, 1), GUEST_VMEM_FAULT);
	m.seg[X86_SEG_CS].attrib = CODE_XO | DB;
	assert_int_equal(guest_vmem_read(&m, X86_SEG_CS, 0x100, 1, &v), GUEST_VMEM_FAULT);
	/* a null (unusable) segment */
	m.seg[X86_SEG_GS].attrib = 0;
	assert_int_equal(guest_vmem_read(&m, X86_SEG_GS, 0, 1, &v), GUEST_VMEM_FAULT);
	assert_int_equal(m.fault.vector, GUEST_VEC_GP);
	test_free(w);
}

static void test_real_mode(void **state)
{
	/* real mode: base = selector * 16, the 64 KiB limit, no type checks */
	struct world *w = world_new();
	struct guest_vmem m = flat32(w);

	(void)state;
	m.paging.cr0 = 0;
	m.protected_mode = false;
	m.seg[X86_SEG_ES] = (struct guest_segment){ .base = 0x1234 * 16, .limit = 0xffff,
						    .attrib = 0 };
	assert_int_equal(guest_vmem_write(&m, X86_SEG_ES, 0x10, 2, 0xbeef), GUEST_VMEM_OK);
	assert_int_equal(w->ram[0x12350], 0xef);
	assert_int_equal(guest_vmem_write(&m, X86_SEG_ES, 0xffff, 2, 0), GUEST_VMEM_FAULT);
	assert_int_equal(m.fault.vector, GUEST_VEC_GP);
	test_free(w);
}

static void test_long_mode_canonical_and_bases(void **state)
{
	struct world *w = world_new();
	struct guest_vmem m = flat32(w);
	uint64_t v;

	(void)state;
	m.long64 = true;
	m.seg[X86_SEG_DS].base = 0x5000;	/* ignored in 64-bit mode */
	m.seg[X86_SEG_DS].limit = 0;		/* so is the limit */
	m.seg[X86_SEG_FS].base = 0x20000;
	assert_int_equal(guest_vmem_write(&m, X86_SEG_DS, 0x100, 4, 0x11), GUEST_VMEM_OK);
	assert_int_equal(get32(w, 0x100), 0x11);
	assert_int_equal(guest_vmem_read(&m, X86_SEG_FS, 0x0, 4, &v), GUEST_VMEM_OK);
	assert_int_equal(guest_vmem_write(&m, X86_SEG_FS, 0x8, 4, 0x22), GUEST_VMEM_OK);
	assert_int_equal(get32(w, 0x20008), 0x22);
	/* non-canonical: #GP(0), or #SS(0) through SS */
	assert_int_equal(guest_vmem_read(&m, X86_SEG_DS, 0x0000800000000000ull, 1, &v),
			 GUEST_VMEM_FAULT);
	assert_int_equal(m.fault.vector, GUEST_VEC_GP);
	assert_int_equal(guest_vmem_read(&m, X86_SEG_SS, 0x00007ffffffffffeull, 4, &v),
			 GUEST_VMEM_FAULT);
	assert_int_equal(m.fault.vector, GUEST_VEC_SS);
	/* LA57 widens the canonical range */
	m.paging.cr4 = GUEST_CR4_LA57;
	assert_int_equal(guest_vmem_probe(&m, X86_SEG_DS, 0x0000800000000000ull, 1, false),
			 GUEST_VMEM_OK);
	test_free(w);
}

static void test_page_faults_have_the_architectural_error(void **state)
{
	struct world *w = world_new();
	struct guest_vmem m = flat32(w);
	uint64_t v;

	(void)state;
	build_paging32(w, &m);
	assert_int_equal(guest_vmem_write(&m, X86_SEG_ES, 0x10004, 4, 7), GUEST_VMEM_OK);
	assert_int_equal(get32(w, 0x10004), 7);
	/* the walk set Dirty on the PTE it wrote through */
	assert_true(get32(w, 0x2000 + 4 * 0x10) & D);
	/* not present, a write: W only, CR2 the byte address */
	assert_int_equal(guest_vmem_write(&m, X86_SEG_ES, 0x22010, 1, 0), GUEST_VMEM_FAULT);
	assert_int_equal(m.fault.vector, GUEST_VEC_PF);
	assert_int_equal(m.fault.error_code, GUEST_PF_W);
	assert_int_equal(m.fault.cr2, 0x22010);
	/* read-only with CR0.WP: P|W */
	assert_int_equal(guest_vmem_write(&m, X86_SEG_ES, 0x20000, 1, 0), GUEST_VMEM_FAULT);
	assert_int_equal(m.fault.error_code, GUEST_PF_P | GUEST_PF_W);
	/* a read there is fine */
	assert_int_equal(guest_vmem_read(&m, X86_SEG_DS, 0x20000, 1, &v), GUEST_VMEM_OK);
	/* CPL 3 reading a supervisor page: P|U; its own page is fine */
	m.paging.cpl = 3;
	assert_int_equal(guest_vmem_read(&m, X86_SEG_DS, 0x10000, 4, &v), GUEST_VMEM_FAULT);
	assert_int_equal(m.fault.error_code, GUEST_PF_P | GUEST_PF_U);
	assert_int_equal(guest_vmem_read(&m, X86_SEG_DS, 0x21000, 4, &v), GUEST_VMEM_OK);
	/* not present, a user read: U only */
	assert_int_equal(guest_vmem_probe(&m, X86_SEG_DS, 0x22000, 4, false), GUEST_VMEM_FAULT);
	assert_int_equal(m.fault.error_code, GUEST_PF_U);
	test_free(w);
}

static void test_page_crossing(void **state)
{
	struct world *w = world_new();
	struct guest_vmem m = flat32(w);
	uint64_t v;

	(void)state;
	build_paging32(w, &m);
	/* a dword across 0x24fff/0x25000 lands in two unrelated frames */
	assert_int_equal(guest_vmem_write(&m, X86_SEG_ES, 0x24ffe, 4, 0x44332211), GUEST_VMEM_OK);
	assert_int_equal(w->ram[0x30ffe], 0x11);
	assert_int_equal(w->ram[0x30fff], 0x22);
	assert_int_equal(w->ram[0x25000], 0x33);
	assert_int_equal(w->ram[0x25001], 0x44);
	assert_int_equal(guest_vmem_read(&m, X86_SEG_DS, 0x24ffd, 8, &v), GUEST_VMEM_OK);
	assert_int_equal(v, 0x0000004433221100ull);
	/* into a page that is not there: nothing written, CR2 at the second page */
	w->ram[0x21ffe] = 0xaa;
	assert_int_equal(guest_vmem_write(&m, X86_SEG_ES, 0x21ffe, 4, 0x55555555),
			 GUEST_VMEM_FAULT);
	assert_int_equal(m.fault.cr2, 0x22000);
	assert_int_equal(m.fault.error_code, GUEST_PF_W);
	assert_int_equal(w->ram[0x21ffe], 0xaa);
	test_free(w);
}

static void test_device_page_through_paging(void **state)
{
	struct world *w = world_new();
	struct guest_vmem m = flat32(w);
	uint64_t v;

	(void)state;
	build_paging32(w, &m);
	w->mmio_val = 0x00170011;
	assert_int_equal(guest_vmem_read(&m, X86_SEG_DS, 0x23010, 4, &v), GUEST_VMEM_OK);
	assert_int_equal(v, 0x00170011);
	assert_int_equal(w->log[0].dir, 'r');
	assert_int_equal(w->log[0].gpa, MMIO_BASE + 0x10);
	assert_int_equal(w->log[0].size, 4);
	/* a probe makes no access */
	assert_int_equal(guest_vmem_probe(&m, X86_SEG_ES, 0x23000, 4, true), GUEST_VMEM_OK);
	assert_int_equal(w->n, 1);
	test_free(w);
}

static void test_page_tables_outside_ram(void **state)
{
	struct world *w = world_new();
	struct guest_vmem m = flat32(w);
	uint64_t v;

	(void)state;
	m.paging.cr0 = 1 | GUEST_CR0_PG;
	m.paging.cr3 = 0x80000000;	/* no RAM there */
	assert_int_equal(guest_vmem_read(&m, X86_SEG_DS, 0x1000, 4, &v), GUEST_VMEM_ERROR);
	assert_false(m.fault.valid);
	test_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_segment_base_and_ram),
		cmocka_unit_test(test_segment_limits_and_types),
		cmocka_unit_test(test_real_mode),
		cmocka_unit_test(test_long_mode_canonical_and_bases),
		cmocka_unit_test(test_page_faults_have_the_architectural_error),
		cmocka_unit_test(test_page_crossing),
		cmocka_unit_test(test_device_page_through_paging),
		cmocka_unit_test(test_page_tables_outside_ram),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
