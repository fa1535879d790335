// SOURCES: guest/guest_paging.c guest/x86_decode.c guest/x86_emulate.c kernel/lib/string.c
/*
 * The guest page-table walker, on page tables built the way a guest kernel
 * builds them, in a small fake guest RAM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "guest/guest_paging.h"
#include "guest/x86_emulate.h"
#include "kernel/lib/string.h"

#define RAM_SIZE 0x40000ull	/* 256 KiB of guest RAM at guest-physical 0 */

#define P 0x1ull
#define RW 0x2ull
#define US 0x4ull
#define A 0x20ull
#define D 0x40ull
#define PS 0x80ull
#define XD (1ull << 63)

struct fake_ram {
	uint8_t bytes[RAM_SIZE];
	int writes;
};

static int ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct fake_ram *ram = ctx;

	if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
		return -1;
	memcpy(buf, ram->bytes + gpa, len);
	return 0;
}

static int ram_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	struct fake_ram *ram = ctx;

	if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
		return -1;
	memcpy(ram->bytes + gpa, buf, len);
	ram->writes++;
	return 0;
}

static const struct guest_mem_ops mem_ro = { .read_phys = ram_read };
static const struct guest_mem_ops mem_rw = { .read_phys = ram_read, .write_phys = ram_write };

static void put32(struct fake_ram *ram, uint64_t gpa, uint32_t v)
{
	memcpy(ram->bytes + gpa, &v, 4);
}

static void put64(struct fake_ram *ram, uint64_t gpa, uint64_t v)
{
	memcpy(ram->bytes + gpa, &v, 8);
}

static uint64_t get64(const struct fake_ram *ram, uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, ram->bytes + gpa, 8);
	return v;
}

static struct fake_ram *ram_new(void)
{
	struct fake_ram *ram = test_calloc(1, sizeof(*ram));

	assert_non_null(ram);
	return ram;
}

/* Guest states as an OS sets them up. */
#define CR0_PE 0x1ull
static const struct guest_paging_state state_32 = {
	.cr0 = CR0_PE | GUEST_CR0_PG | GUEST_CR0_WP,
	.cr3 = 0x1000,
	.cr4 = GUEST_CR4_PSE,
	.maxphyaddr = 36,
};
static const struct guest_paging_state state_pae = {
	.cr0 = CR0_PE | GUEST_CR0_PG | GUEST_CR0_WP,
	.cr3 = 0x1020,
	.cr4 = GUEST_CR4_PAE,
	.efer = GUEST_EFER_NXE,
	.maxphyaddr = 36,
};
static const struct guest_paging_state state_long = {
	.cr0 = CR0_PE | GUEST_CR0_PG | GUEST_CR0_WP,
	.cr3 = 0x1000,
	.cr4 = GUEST_CR4_PAE,
	.efer = GUEST_EFER_LMA | GUEST_EFER_NXE,
	.maxphyaddr = 40,
};

static int walk(const struct guest_paging_state *st, struct fake_ram *ram, uint64_t gva,
		enum guest_access access, uint64_t *gpa, uint32_t *err)
{
	return guest_walk(st, gva, access, gpa, err, &mem_ro, ram);
}

/* 4-level tables: PML4 at 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000. */
static void build_long(struct fake_ram *ram, uint64_t gva, uint64_t leaf_flags)
{
	put64(ram, 0x1000 + ((gva >> 39) & 511) * 8, 0x2000 | P | RW | US);
	put64(ram, 0x2000 + ((gva >> 30) & 511) * 8, 0x3000 | P | RW | US);
	put64(ram, 0x3000 + ((gva >> 21) & 511) * 8, 0x4000 | P | RW | US);
	put64(ram, 0x4000 + ((gva >> 12) & 511) * 8, 0x7000 | leaf_flags);
}

/* ---- modes ---- */

static void test_paging_off(void **state)
{
	struct guest_paging_state st = { .cr0 = CR0_PE };
	struct fake_ram *ram = ram_new();
	uint64_t gpa = 0;
	uint32_t err = 0xff;

	(void)state;
	assert_int_equal(guest_paging_mode(&st), GUEST_PAGING_NONE);
	assert_int_equal(walk(&st, ram, 0xfee000b0, GUEST_ACCESS_WRITE, &gpa, &err), 0);
	assert_int_equal(gpa, 0xfee000b0);
	assert_int_equal(err, 0);
	/* linear addresses are 32 bits without long mode */
	assert_int_equal(walk(&st, ram, 0x1000b8000ull, GUEST_ACCESS_READ, &gpa, &err), 0);
	assert_int_equal(gpa, 0xb8000);
	test_free(ram);
}

static void test_mode_selection(void **state)
{
	struct guest_paging_state st = state_long;

	(void)state;
	assert_int_equal(guest_paging_mode(&state_32), GUEST_PAGING_32);
	assert_int_equal(guest_paging_mode(&state_pae), GUEST_PAGING_PAE);
	assert_int_equal(guest_paging_mode(&st), GUEST_PAGING_4LEVEL);
	st.cr4 |= GUEST_CR4_LA57;
	assert_int_equal(guest_paging_mode(&st), GUEST_PAGING_5LEVEL);
}

static void test_32bit_4k(void **state)
{
	struct fake_ram *ram = ram_new();
	uint64_t gpa;
	uint32_t err;

	(void)state;
	/* 0xc0123456: PDE 0x300 -> PT at 0x2000, PTE 0x123 -> frame 0x00345000 */
	put32(ram, 0x1000 + 0x300 * 4, 0x2000 | P | RW);
	put32(ram, 0x2000 + 0x123 * 4, 0x00345000 | P | RW);
	assert_int_equal(walk(&state_32, ram, 0xc0123456, GUEST_ACCESS_WRITE, &gpa, &err), 0);
	assert_int_equal(gpa, 0x00345456);
	test_free(ram);
}

static void test_32bit_4m_pse(void **state)
{
	struct guest_paging_state st = state_32;
	struct fake_ram *ram = ram_new();
	uint64_t gpa;
	uint32_t err;

	(void)state;
	/* a 4 MiB page at 0x00c00000 for 0xc0000000 */
	put32(ram, 0x1000 + 0x300 * 4, 0x00c00000 | PS | P | RW);
	assert_int_equal(walk(&st, ram, 0xc0123456, GUEST_ACCESS_READ, &gpa, &err), 0);
	assert_int_equal(gpa, 0x00d23456);
	/* without CR4.PSE the PS bit is ignored and the PDE points at a table */
	st.cr4 = 0;
	put32(ram, 0x1000 + 0x300 * 4, 0x3000 | PS | P | RW);
	put32(ram, 0x3000 + 0x123 * 4, 0x00008000 | P);
	assert_int_equal(walk(&st, ram, 0xc0123456, GUEST_ACCESS_READ, &gpa, &err), 0);
	assert_int_equal(gpa, 0x8456);
	test_free(ram);
}

static void test_32bit_pse36(void **state)
{
	struct fake_ram *ram = ram_new();
	uint64_t gpa;
	uint32_t err;

	(void)state;
	/* PDE bits 16:13 hold physical bits 35:32 with MAXPHYADDR 36 */
	put32(ram, 0x1000, 0x00400000 | (0x5u << 13) | PS | P);
	assert_int_equal(walk(&state_32, ram, 0x1234, GUEST_ACCESS_READ, &gpa, &err), 0);
	assert_int_equal(gpa, 0x500401234ull);
	/* bit 17 is above MAXPHYADDR: reserved */
	put32(ram, 0x1000, 0x00400000 | (1u << 17) | PS | P);
	assert_int_equal(walk(&state_32, ram, 0x1234, GUEST_ACCESS_READ, &gpa, &err),
			 GUEST_WALK_PAGE_FAULT);
	assert_int_equal(err, GUEST_PF_P | GUEST_PF_RSVD);
	test_free(ram);
}

static void test_32bit_not_present(void **state)
{
	struct guest_paging_state user = state_32;
	struct fake_ram *ram = ram_new();
	uint64_t gpa;
	uint32_t err;

	(void)state;
	assert_int_equal(walk(&state_32, ram, 0x08048000, GUEST_ACCESS_READ, &gpa, &err),
			 GUEST_WALK_PAGE_FAULT);
	assert_int_equal(err, 0);
	/* a user write to a missing PTE under a present PDE */
	user.cpl = 3;
	put32(ram, 0x1000 + 0x20 * 4, 0x2000 | P | RW | US);
	assert_int_equal(walk(&user, ram, 0x08048000, GUEST_ACCESS_WRITE, &gpa, &err),
			 GUEST_WALK_PAGE_FAULT);
	assert_int_equal(err, GUEST_PF_W | GUEST_PF_U);
	/* no I/D bit for a fetch in 32-bit paging without SMEP */
	assert_int_equal(walk(&user, ram, 0x08048000, GUEST_ACCESS_EXEC, &gpa, &err),
			 GUEST_WALK_PAGE_FAULT);
	assert_int_equal(err, GUEST_PF_U);
	test_free(ram);
}

static void test_pae_4k_and_2m(void **state)
{
	struct fake_ram *ram = ram_new();
	uint64_t gpa;
	uint32_t err;

	(void)state;
	/* CR3 0x1020: a 32-byte aligned PDPT; 0xc0000000 uses PDPTE 3 */
	put64(ram, 0x1020 + 3 * 8, 0x2000 | P);
	put64(ram, 0x2000 + 0 * 8, 0x3000 | P | RW);
	put64(ram, 0x3000 + 0x123 * 8, 0x12345000ull | P | RW);
	assert_int_equal(walk(&state_pae, ram, 0xc0123456, GUEST_ACCESS_WRITE, &gpa, &err), 0);
	assert_int_equal(gpa, 0x12345456);
	/* a 2 MiB page above 4 GiB at PDE 1 */
	put64(ram, 0x2000 + 1 * 8, 0x800200000ull | PS | P);
	assert_int_equal(walk(&state_pae, ram, 0xc0312345, GUEST_ACCESS_READ, &gpa, &err), 0);
	assert_int_equal(gpa, 0x800312345ull);
	test_free(ram);
}

static void test_pae_reserved_bits(void **state)
{
	struct fake_ram *ram = ram_new();
	uint64_t gpa;
	uint32_t err;

	(void)state;
	/* PDPTE bit 1 (R/W) is reserved in PAE paging */
	put64(ram, 0x1020, 0x2000 | RW | P);
	assert_int_equal(walk(&state_pae, ram, 0x1000, GUEST_ACCESS_READ, &gpa, &err),
			 GUEST_WALK_PAGE_FAULT);
	assert_int_equal(err, GUEST_PF_P | GUEST_PF_RSVD);
	/* PDE bit 62 is reserved in PAE paging (ignored in 4-level) */
	put64(ram, 0x1020, 0x2000 | P);
	put64(ram, 0x2000, 0x200000 | (1ull << 62) | PS | P);
	assert_int_equal(walk(&state_pae, ram, 0x1000, GUEST_ACCESS_READ, &gpa, &err),
			 GUEST_WALK_PAGE_FAULT);
	assert_int_equal(err, GUEST_PF_P | GUEST_PF_RSVD);
	/* ...and in a PAE PTE */
	put64(ram, 0x2000, 0x3000 | P);
	put64(ram, 0x3000 + 1 * 8, 0x5000 | (1ull << 62) | P);
	assert_int_equal(walk(&state_pae, ram, 0x1000, GUEST_ACCESS_READ, &gpa, &err),
			 GUEST_WALK_PAGE_FAULT);
	assert_int_equal(err, GUEST_PF_P | GUEST_PF_RSVD);
	/* a 2 MiB PDE with bit 13 set is reserved */
	put64(ram, 0x2000, 0x200000 | (1ull << 13) | PS | P);
	assert_int_equal(walk(&state_pae, ram, 0x1000, GUEST_ACCESS_READ, &gpa, &err),
			 GUEST_WALK_PAGE_FAULT);
	assert_int_equal(err, GUEST_PF_P | GUEST_PF_RSVD);
	test_free(ram);
}

static void test_long_4k_kernel_address(void **state)
{
	struct fake_ram *ram = ram_new();
	uint64_t gva = 0xffff888012345678ull, gpa;
	uint32_t err;

	(void)state;
	build_long(ram, gva, P | RW);
	assert_int_equal(walk(&state_long, ram, gva, GUEST_ACCESS_WRITE, &gpa, &err), 0);
	assert_int_equal(gpa, 0x7678);
	/* bits 62:52 are ignored in 4-level entries (unlike PAE) */
	build_long(ram, gva, P | RW | (1ull << 60));
	assert_int_equal(walk(&state_long, ram, gva, GUEST_ACCESS_WRITE, &gpa, &err), 0);
	test_free(ram);
}

static void test_long_large_pages(void **state)
{
	struct fake_ram *ram = ram_new();
	uint64_t gpa;
	uint32_t err;

	(void)state;
	/* 1 GiB page: 0x40000000..0x7fffffff -> 0x1c0000000 */
	put64(ram, 0x1000, 0x2000 | P | RW);
	put64(ram, 0x2000 + 1 * 8, 0x1c0000000ull | PS | P | RW);
	assert_int_equal(walk(&state_long, ram, 0x6789abcd, GUEST_ACCESS_READ, &gpa, &err), 0);
	assert_int_equal(gpa, 0x1e789abcdull);
	/* 2 MiB page: 0x80200000 -> 0xfe00000 */
	put64(ram, 0x2000 + 2 * 8, 0x3000 | P | RW);
	put64(ram, 0x3000 + 1 * 8, 0xfe00000 | PS | P | RW);
	assert_int_equal(walk(&state_long, ram, 0x80234567, GUEST_ACCESS_READ, &gpa, &err), 0);
	assert_int_equal(gpa, 0xfe34567);
	/* a 1 GiB page that is not 1 GiB aligned has reserved bits set */
	put64(ram, 0x2000 + 1 * 8, 0x1c0200000ull | PS | P | RW);
	assert_int_equal(walk(&state_long, ram, 0x6789abcd, GUEST_ACCESS_READ, &gpa, &err),
			 GUEST_WALK_PAGE_FAULT);
	assert_int_equal(err, GUEST_PF_P | GUEST_PF_RSVD);
	test_free(ram);
}

static void test_long_reserved_bits(void **state)
{
	struct fake_ram *ram = ram_new();
	uint64_t gva = 0x400000, gpa;
	uint32_t err;

	(void)state;
	/* PS in a PML4E is reserved */
	put64(ram, 0x1000, 0x2000 | PS | P | RW);
	assert_int_equal(walk(&state_long, ram, gva, GUEST_ACCESS_READ, &gpa, &err),
			 GUEST_WALK_PAGE_FAULT);
	assert_int_equal(err, GUEST_PF_P | GUEST_PF_RSVD);
	/* an address bit above MAXPHYADDR (40) in a PTE */
	build_long(ram, gva, P | RW | (1ull << 45));
	assert_int_equal(walk(&state_long, ram, gva, GUEST_ACCESS_WRITE, &gpa, &err),
			 GUEST_WALK_PAGE_FAULT);
	assert_int_equal(err, GUEST_PF_P | GUEST_PF_RSVD | GUEST_PF_W);
	test_free(ram);
}

static void test_long_5level(void **state)
{
	struct guest_paging_state st = state_long;
	struct fake_ram *ram = ram_new();
	uint64_t gva = 0x00ab000000401000ull, gpa;
	uint32_t err;

	(void)state;
	st.cr4 |= GUEST_CR4_LA57;
	/* PML5 at 0x1000 -> PML4 at 0x5000 -> PDPT 0x2000 ... */
	put64(ram, 0x1000 + ((gva >> 48) & 511) * 8, 0x5000 | P | RW);
	put64(ram, 0x5000 + ((gva >> 39) & 511) * 8, 0x2000 | P | RW);
	put64(ram, 0x2000 + ((gva >> 30) & 511) * 8, 0x3000 | P | RW);
	put64(ram, 0x3000 + ((gva >> 21) & 511) * 8, 0x4000 | P | RW);
	put64(ram, 0x4000 + ((gva >> 12) & 511) * 8, 0x9000 | P | RW);
	assert_int_equal(walk(&st, ram, gva | 0x123, GUEST_ACCESS_READ, &gpa, &err), 0);
	assert_int_equal(gpa, 0x9123);
	/* the same address is non-canonical with 4-level paging */
	assert_int_equal(walk(&state_long, ram, gva, GUEST_ACCESS_READ, &gpa, &err),
			 GUEST_WALK_NONCANONICAL);
	test_free(ram);
}

static void test_noncanonical(void **state)
{
	struct fake_ram *ram = ram_new();
	uint64_t gpa;
	uint32_t err;

	(void)state;
	assert_int_equal(walk(&state_long, ram, 0x0000800000000000ull, GUEST_ACCESS_READ, &gpa,
			      &err),
			 GUEST_WALK_NONCANONICAL);
	assert_int_equal(walk(&state_long, ram, 0xffff7fffffffffffull, GUEST_ACCESS_READ, &gpa,
			      &err),
			 GUEST_WALK_NONCANONICAL);
	test_free(ram);
}

/* ---- rights ---- */

static void test_execute_disable(void **state)
{
	struct guest_paging_state st = state_long;
	struct fake_ram *ram = ram_new();
	uint64_t gva = 0xffffffff81000000ull, gpa;
	uint32_t err;

	(void)state;
	build_long(ram, gva, P | RW | XD);
	assert_int_equal(walk(&st, ram, gva, GUEST_ACCESS_READ, &gpa, &err), 0);
	assert_int_equal(walk(&st, ram, gva, GUEST_ACCESS_EXEC, &gpa, &err),
			 GUEST_WALK_PAGE_FAULT);
	assert_int_equal(err, GUEST_PF_P | GUEST_PF_ID);
	/* XD is reserved when EFER.NXE is clear */
	st.efer &= ~GUEST_EFER_NXE;
	assert_int_equal(walk(&st, ram, gva, GUEST_ACCESS_READ, &gpa, &err),
			 GUEST_WALK_PAGE_FAULT);
	assert_int_equal(err, GUEST_PF_P | GUEST_PF_RSVD);
	test_free(ram);
}

static void test_user_supervisor(void **state)
{
	struct guest_paging_state user = state_long;
	struct fake_ram *ram = ram_new();
	uint64_t gva = 0x400000, gpa;
	uint32_t err;

	(void)state;
	user.cpl = 3;
	/* a supervisor-only page */
	build_long(ram, gva, P | RW);
	assert_int_equal(walk(&user, ram, gva, GUEST_ACCESS_READ, &gpa, &err),
			 GUEST_WALK_PAGE_FAULT);
	assert_int_equal(err, GUEST_PF_P | GUEST_PF_U);
	/* a user read-only page: user reads, user writes fault */
	build_long(ram, gva, P | US);
	assert_int_equal(walk(&user, ram, gva, GUEST_ACCESS_READ, &gpa, &err), 0);
	assert_int_equal(walk(&user, ram, gva, GUEST_ACCESS_WRITE, &gpa, &err),
			 GUEST_WALK_PAGE_FAULT);
	assert_int_equal(err, GUEST_PF_P | GUEST_PF_W | GUEST_PF_U);
	/* U/S is the AND over the levels: a supervisor PDE hides a user PTE */
	build_long(ram, gva, P | RW | US);
	put64(ram, 0x3000 + 2 * 8, 0x4000 | P | RW);
	assert_int_equal(walk(&user, ram, gva, GUEST_ACCESS_READ, &gpa, &err),
			 GUEST_WALK_PAGE_FAULT);
	assert_int_equal(err, GUEST_PF_P | GUEST_PF_U);
	test_free(ram);
}

static void test_write_protect(void **state)
{
	struct guest_paging_state st = state_long;
	struct fake_ram *ram = ram_new();
	uint64_t gva = 0x400000, gpa;
	uint32_t err;

	(void)state;
	/* read-only at the PDE level, writable PTE: still read-only */
	build_long(ram, gva, P | RW);
	put64(ram, 0x3000 + 2 * 8, 0x4000 | P | US);
	assert_int_equal(walk(&st, ram, gva, GUEST_ACCESS_WRITE, &gpa, &err),
			 GUEST_WALK_PAGE_FAULT);
	assert_int_equal(err, GUEST_PF_P | GUEST_PF_W);
	/* with CR0.WP clear a supervisor write goes through */
	st.cr0 &= ~GUEST_CR0_WP;
	assert_int_equal(walk(&st, ram, gva, GUEST_ACCESS_WRITE, &gpa, &err), 0);
	test_free(ram);
}

static void test_smep_smap(void **state)
{
	struct guest_paging_state st = state_long;
	struct fake_ram *ram = ram_new();
	uint64_t gva = 0x400000, gpa;
	uint32_t err;

	(void)state;
	build_long(ram, gva, P | RW | US);
	/* without SMEP/SMAP the kernel may fetch and read user pages */
	assert_int_equal(walk(&st, ram, gva, GUEST_ACCESS_EXEC, &gpa, &err), 0);
	assert_int_equal(walk(&st, ram, gva, GUEST_ACCESS_READ, &gpa, &err), 0);
	st.cr4 |= GUEST_CR4_SMEP | GUEST_CR4_SMAP;
	assert_int_equal(walk(&st, ram, gva, GUEST_ACCESS_EXEC, &gpa, &err),
			 GUEST_WALK_PAGE_FAULT);
	assert_int_equal(err, GUEST_PF_P | GUEST_PF_ID);
	assert_int_equal(walk(&st, ram, gva, GUEST_ACCESS_READ, &gpa, &err),
			 GUEST_WALK_PAGE_FAULT);
	assert_int_equal(err, GUEST_PF_P);
	/* stac (RFLAGS.AC) opens user pages to kernel data accesses */
	st.rflags = GUEST_RFLAGS_AC;
	assert_int_equal(walk(&st, ram, gva, GUEST_ACCESS_WRITE, &gpa, &err), 0);
	test_free(ram);
}

static void test_accessed_dirty(void **state)
{
	struct fake_ram *ram = ram_new();
	uint64_t gva = 0x400000, gpa;
	uint32_t err;

	(void)state;
	build_long(ram, gva, P | RW);
	/* without write_phys the tables are left alone */
	assert_int_equal(walk(&state_long, ram, gva, GUEST_ACCESS_WRITE, &gpa, &err), 0);
	assert_int_equal(get64(ram, 0x1000) & A, 0);
	/* a read sets A everywhere and D nowhere */
	assert_int_equal(guest_walk(&state_long, gva, GUEST_ACCESS_READ, &gpa, &err, &mem_rw, ram),
			 0);
	assert_int_equal(get64(ram, 0x1000) & (A | D), A);
	assert_int_equal(get64(ram, 0x3000 + 2 * 8) & (A | D), A);
	assert_int_equal(get64(ram, 0x4000) & (A | D), A);
	assert_int_equal(ram->writes, 4);
	/* a write then sets D on the PTE only */
	assert_int_equal(
		guest_walk(&state_long, gva, GUEST_ACCESS_WRITE, &gpa, &err, &mem_rw, ram), 0);
	assert_int_equal(get64(ram, 0x4000) & (A | D), A | D);
	assert_int_equal(get64(ram, 0x3000 + 2 * 8) & D, 0);
	assert_int_equal(ram->writes, 5);
	/* a faulting walk writes nothing */
	build_long(ram, 0x600000, P);
	assert_int_equal(
		guest_walk(&state_long, 0x600000, GUEST_ACCESS_WRITE, &gpa, &err, &mem_rw, ram),
		GUEST_WALK_PAGE_FAULT);
	assert_int_equal(ram->writes, 5);
	test_free(ram);
}

static void test_table_outside_ram(void **state)
{
	struct guest_paging_state st = state_long;
	struct fake_ram *ram = ram_new();
	uint64_t gpa;
	uint32_t err;

	(void)state;
	st.cr3 = 0x80000000;
	assert_int_equal(walk(&st, ram, 0x1000, GUEST_ACCESS_READ, &gpa, &err),
			 GUEST_WALK_MEM_ERROR);
	test_free(ram);
}

/* ---- instruction fetch ---- */

static void test_fetch_across_pages(void **state)
{
	/* the LAPIC EOI store split over two pages mapped to unrelated frames */
	static const uint8_t eoi[] = { 0xc7, 0x80, 0xb0, 0, 0, 0, 0, 0, 0, 0 };
	struct fake_ram *ram = ram_new();
	struct guest_insn_fetch f;
	struct x86_insn insn;
	uint64_t rip = 0xffffffff81000ffcull;

	(void)state;
	build_long(ram, rip, P);
	build_long(ram, rip + 4, P);
	put64(ram, 0x4000 + ((rip >> 12) & 511) * 8, 0x8000 | P);
	put64(ram, 0x4000 + (((rip >> 12) + 1) & 511) * 8, 0xa000 | P);
	memcpy(ram->bytes + 0x8ffc, eoi, 4);
	memcpy(ram->bytes + 0xa000, eoi + 4, 6);
	assert_int_equal(guest_fetch_insn(&state_long, rip, &f, &mem_ro, ram), GUEST_WALK_OK);
	assert_int_equal(f.len, 15);
	assert_int_equal(f.stop, GUEST_WALK_OK);
	assert_memory_equal(f.bytes, eoi, sizeof(eoi));
	assert_int_equal(x86_decode(f.bytes, f.len, X86_MODE_64, &insn), 10);
	test_free(ram);
}

static void test_fetch_second_page_missing(void **state)
{
	static const uint8_t eoi[] = { 0xc7, 0x80, 0xb0, 0, 0, 0, 0, 0, 0, 0 };
	struct fake_ram *ram = ram_new();
	struct guest_insn_fetch f;
	struct x86_insn insn;
	uint64_t rip = 0xffffffff81000ffcull;

	(void)state;
	build_long(ram, rip, P);
	put64(ram, 0x4000 + ((rip >> 12) & 511) * 8, 0x8000 | P);
	memcpy(ram->bytes + 0x8ffc, eoi, 4);
	assert_int_equal(guest_fetch_insn(&state_long, rip, &f, &mem_ro, ram), GUEST_WALK_OK);
	assert_int_equal(f.len, 4);
	assert_int_equal(f.stop, GUEST_WALK_PAGE_FAULT);
	assert_int_equal(f.fault_addr, rip + 4);
	assert_int_equal(f.pf_error, GUEST_PF_ID);
	/* the decoder needs the missing bytes: the caller injects the #PF */
	assert_int_equal(x86_decode(f.bytes, f.len, X86_MODE_64, &insn), X86_DECODE_TRUNCATED);
	/* a short instruction fits in the first page and does not care */
	memcpy(ram->bytes + 0x8ffc, (const uint8_t[]){ 0x89, 0x10 }, 2);
	assert_int_equal(guest_fetch_insn(&state_long, rip, &f, &mem_ro, ram), GUEST_WALK_OK);
	assert_int_equal(x86_decode(f.bytes, f.len, X86_MODE_64, &insn), 2);
	test_free(ram);
}

static void test_fetch_first_page_missing(void **state)
{
	struct guest_paging_state user = state_long;
	struct fake_ram *ram = ram_new();
	struct guest_insn_fetch f;

	(void)state;
	user.cpl = 3;
	assert_int_equal(guest_fetch_insn(&user, 0x401000, &f, &mem_ro, ram),
			 GUEST_WALK_PAGE_FAULT);
	assert_int_equal(f.len, 0);
	assert_int_equal(f.fault_addr, 0x401000);
	assert_int_equal(f.pf_error, GUEST_PF_U | GUEST_PF_ID);
	test_free(ram);
}

static void test_fetch_wraps_at_4g(void **state)
{
	/* 32-bit paging: EIP 0xfffffffe, the next bytes come from linear 0 */
	struct fake_ram *ram = ram_new();
	struct guest_insn_fetch f;
	struct x86_insn insn;

	(void)state;
	put32(ram, 0x1000 + 1023 * 4, 0x2000 | P);
	put32(ram, 0x2000 + 1023 * 4, 0x5000 | P);
	put32(ram, 0x1000, 0x3000 | P);
	put32(ram, 0x3000, 0x6000 | P);
	ram->bytes[0x5ffe] = 0x8b;	/* mov eax, [0x12345678] */
	ram->bytes[0x5fff] = 0x05;
	memcpy(ram->bytes + 0x6000, (const uint8_t[]){ 0x78, 0x56, 0x34, 0x12 }, 4);
	assert_int_equal(guest_fetch_insn(&state_32, 0xfffffffe, &f, &mem_ro, ram), GUEST_WALK_OK);
	assert_int_equal(f.len, 15);
	assert_int_equal(x86_decode(f.bytes, f.len, X86_MODE_32, &insn), 6);
	assert_int_equal(insn.disp, 0x12345678);
	test_free(ram);
}

static void test_fetch_real_mode(void **state)
{
	/* paging off: the linear address is the guest-physical one */
	struct guest_paging_state st = { 0 };
	struct fake_ram *ram = ram_new();
	struct guest_insn_fetch f;

	(void)state;
	ram->bytes[0x7c00] = 0xa1;
	assert_int_equal(guest_fetch_insn(&st, 0x7c00, &f, &mem_ro, ram), GUEST_WALK_OK);
	assert_int_equal(f.len, 15);
	assert_int_equal(f.bytes[0], 0xa1);
	/* the end of RAM stops fetching with a memory error */
	assert_int_equal(guest_fetch_insn(&st, RAM_SIZE - 3, &f, &mem_ro, ram), GUEST_WALK_OK);
	assert_int_equal(f.len, 3);
	assert_int_equal(f.stop, GUEST_WALK_MEM_ERROR);
	test_free(ram);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paging_off),
		cmocka_unit_test(test_mode_selection),
		cmocka_unit_test(test_32bit_4k),
		cmocka_unit_test(test_32bit_4m_pse),
		cmocka_unit_test(test_32bit_pse36),
		cmocka_unit_test(test_32bit_not_present),
		cmocka_unit_test(test_pae_4k_and_2m),
		cmocka_unit_test(test_pae_reserved_bits),
		cmocka_unit_test(test_long_4k_kernel_address),
		cmocka_unit_test(test_long_large_pages),
		cmocka_unit_test(test_long_reserved_bits),
		cmocka_unit_test(test_long_5level),
		cmocka_unit_test(test_noncanonical),
		cmocka_unit_test(test_execute_disable),
		cmocka_unit_test(test_user_supervisor),
		cmocka_unit_test(test_write_protect),
		cmocka_unit_test(test_smep_smap),
		cmocka_unit_test(test_accessed_dirty),
		cmocka_unit_test(test_table_outside_ram),
		cmocka_unit_test(test_fetch_across_pages),
		cmocka_unit_test(test_fetch_second_page_missing),
		cmocka_unit_test(test_fetch_first_page_missing),
		cmocka_unit_test(test_fetch_wraps_at_4g),
		cmocka_unit_test(test_fetch_real_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
