/*
 * Builds synthetic ACPI tables (ACPI 6.5 §5.2) with correct lengths and
 * checksums, and a fake physical address space to put them in. Each table
 * placed gets a heap block of exactly its length, so AddressSanitizer catches
 * a parser reading past a table's end. Include after <cmocka.h>.
 */
#ifndef TESTS_UNIT_ACPI_BUILDER_H
#define TESTS_UNIT_ACPI_BUILDER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- fake physical memory: a list of segments ---- */

#define FAKE_MAX_SEGS 128

struct fake_seg {
	uint64_t phys;
	uint8_t *mem;
	size_t len;
};

static struct fake_seg fake_segs[FAKE_MAX_SEGS];
static size_t fake_nsegs;

/* Adds zeroed memory of exactly len bytes at phys. */
static inline uint8_t *fake_mem_add(uint64_t phys, size_t len)
{
	assert_true(fake_nsegs < FAKE_MAX_SEGS);
	uint8_t *m = calloc(1, len ? len : 1);
	assert_non_null(m);
	fake_segs[fake_nsegs++] = (struct fake_seg){phys, m, len};
	return m;
}

static inline const void *fake_phys(uint64_t phys)
{
	for (size_t i = 0; i < fake_nsegs; i++)
		if (phys >= fake_segs[i].phys && phys - fake_segs[i].phys < fake_segs[i].len)
			return fake_segs[i].mem + (phys - fake_segs[i].phys);
	fail_msg("access to unmapped physical address 0x%llx", (unsigned long long)phys);
	return NULL;
}

static inline void fake_mem_reset(void)
{
	for (size_t i = 0; i < fake_nsegs; i++)
		free(fake_segs[i].mem);
	fake_nsegs = 0;
}

/* ---- tables ---- */

struct ab_table {
	uint8_t b[65536]; /* room for a MADT of 4096 x2APIC entries */
	uint32_t len;
};

static inline uint8_t ab_sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static inline void ab_set(struct ab_table *t, uint32_t off, const void *v, size_t n)
{
	assert_true(off + n <= sizeof(t->b));
	memcpy(t->b + off, v, n);
	if (off + n > t->len)
		t->len = (uint32_t)(off + n);
}

static inline void ab_set8(struct ab_table *t, uint32_t off, uint8_t v)
{
	ab_set(t, off, &v, 1);
}

static inline void ab_set16(struct ab_table *t, uint32_t off, uint16_t v)
{
	ab_set(t, off, &v, 2);
}

static inline void ab_set32(struct ab_table *t, uint32_t off, uint32_t v)
{
	ab_set(t, off, &v, 4);
}

static inline void ab_set64(struct ab_table *t, uint32_t off, uint64_t v)
{
	ab_set(t, off, &v, 8);
}

static inline void ab_u8(struct ab_table *t, uint8_t v)
{
	ab_set8(t, t->len, v);
}

static inline void ab_u16(struct ab_table *t, uint16_t v)
{
	ab_set16(t, t->len, v);
}

static inline void ab_u32(struct ab_table *t, uint32_t v)
{
	ab_set32(t, t->len, v);
}

static inline void ab_u64(struct ab_table *t, uint64_t v)
{
	ab_set64(t, t->len, v);
}

/* Generic Address Structure (§5.2.3.2) at off. */
static inline void ab_set_gas(struct ab_table *t, uint32_t off, uint8_t space, uint8_t width,
			      uint8_t bit_offset, uint8_t access, uint64_t address)
{
	ab_set8(t, off, space);
	ab_set8(t, off + 1, width);
	ab_set8(t, off + 2, bit_offset);
	ab_set8(t, off + 3, access);
	ab_set64(t, off + 4, address);
}

/* The 36-byte System Description Table Header (§5.2.6). */
static inline void ab_begin(struct ab_table *t, const char sig[4], uint8_t revision)
{
	memset(t, 0, sizeof(*t));
	ab_set(t, 0, sig, 4);
	ab_set8(t, 8, revision);
	ab_set(t, 10, "HVTEST", 6);
	ab_set(t, 16, "UNITTEST", 8);
	ab_set32(t, 24, 1);
	ab_set(t, 28, "HVTB", 4);
	ab_set32(t, 32, 1);
	t->len = 36;
}

/* Writes the length and the checksum byte so that all bytes sum to zero. */
static inline void ab_finish(struct ab_table *t)
{
	ab_set32(t, 4, t->len);
	t->b[9] = 0;
	t->b[9] = (uint8_t)(0 - ab_sum(t->b, t->len));
}

/* Finishes the table and places an exact-size copy at phys. */
static inline uint64_t ab_place(struct ab_table *t, uint64_t phys)
{
	ab_finish(t);
	memcpy(fake_mem_add(phys, t->len), t->b, t->len);
	return phys;
}

/* Places the bytes as they are: for tables damaged on purpose. */
static inline uint64_t ab_place_raw(const struct ab_table *t, uint32_t len, uint64_t phys)
{
	memcpy(fake_mem_add(phys, len), t->b, len);
	return phys;
}

/* ---- RSDT / XSDT (§5.2.7, §5.2.8) ---- */

static inline void ab_root(struct ab_table *t, int xsdt, const uint64_t *tables, size_t n)
{
	ab_begin(t, xsdt ? "XSDT" : "RSDT", 1);
	for (size_t i = 0; i < n; i++) {
		if (xsdt)
			ab_u64(t, tables[i]);
		else
			ab_u32(t, (uint32_t)tables[i]);
	}
}

/* ---- RSDP (§5.2.5.3): revision 0 is 20 bytes, 2 is 36 ---- */

static inline void ab_rsdp(uint8_t r[36], uint8_t revision, uint32_t rsdt, uint64_t xsdt)
{
	memset(r, 0, 36);
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "HVOEM ", 6);
	r[15] = revision;
	memcpy(r + 16, &rsdt, 4);
	r[8] = (uint8_t)(0 - ab_sum(r, 20));
	if (revision >= 2) {
		uint32_t len = 36;
		memcpy(r + 20, &len, 4);
		memcpy(r + 24, &xsdt, 8);
		r[32] = (uint8_t)(0 - ab_sum(r, 36));
	}
}

/* ---- MADT (§5.2.12) ---- */

static inline void ab_madt_begin(struct ab_table *t, uint32_t lapic_address, uint32_t flags)
{
	ab_begin(t, "APIC", 5);
	ab_u32(t, lapic_address);
	ab_u32(t, flags);
}

static inline void ab_madt_lapic(struct ab_table *t, uint8_t uid, uint8_t apic_id, uint32_t flags)
{
	ab_u8(t, 0);
	ab_u8(t, 8);
	ab_u8(t, uid);
	ab_u8(t, apic_id);
	ab_u32(t, flags);
}

static inline void ab_madt_ioapic(struct ab_table *t, uint8_t id, uint32_t address,
				  uint32_t gsi_base)
{
	ab_u8(t, 1);
	ab_u8(t, 12);
	ab_u8(t, id);
	ab_u8(t, 0);
	ab_u32(t, address);
	ab_u32(t, gsi_base);
}

static inline void ab_madt_override(struct ab_table *t, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	ab_u8(t, 2);
	ab_u8(t, 10);
	ab_u8(t, 0); /* bus: ISA */
	ab_u8(t, irq);
	ab_u32(t, gsi);
	ab_u16(t, flags);
}

static inline void ab_madt_lapic_nmi(struct ab_table *t, uint8_t uid, uint16_t flags, uint8_t lint)
{
	ab_u8(t, 4);
	ab_u8(t, 6);
	ab_u8(t, uid);
	ab_u16(t, flags);
	ab_u8(t, lint);
}

static inline void ab_madt_lapic_override(struct ab_table *t, uint64_t address)
{
	ab_u8(t, 5);
	ab_u8(t, 12);
	ab_u16(t, 0);
	ab_u64(t, address);
}

static inline void ab_madt_x2apic(struct ab_table *t, uint32_t apic_id, uint32_t flags,
				  uint32_t uid)
{
	ab_u8(t, 9);
	ab_u8(t, 16);
	ab_u16(t, 0);
	ab_u32(t, apic_id);
	ab_u32(t, flags);
	ab_u32(t, uid);
}

static inline void ab_madt_x2apic_nmi(struct ab_table *t, uint16_t flags, uint32_t uid,
				      uint8_t lint)
{
	ab_u8(t, 0x0a);
	ab_u8(t, 12);
	ab_u16(t, flags);
	ab_u32(t, uid);
	ab_u8(t, lint);
	ab_u8(t, 0);
	ab_u16(t, 0);
}

/* ---- FADT (§5.2.9): offsets of the fields the hypervisor reads ---- */

#define FADT_SCI_INT 46
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM_TMR_BLK 76
#define FADT_PM_TMR_LEN 91
#define FADT_CENTURY 108
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_X_PM_TMR_BLK 208
#define FADT_LEN_V1 116
#define FADT_LEN_V6 276

#define FADT_TMR_VAL_EXT (1u << 8)
#define FADT_RESET_REG_SUP (1u << 10)

/* A FADT of `len` bytes with a legacy PM timer at `pm_port`. */
static inline void ab_fadt(struct ab_table *t, uint32_t len, uint8_t revision, uint32_t pm_port,
			   uint32_t flags)
{
	ab_begin(t, "FACP", revision);
	ab_set8(t, len - 1, 0); /* extend to len */
	/* fields that do not fit in len are left out, so a short FADT stays short */
	if (len >= FADT_SCI_INT + 2)
		ab_set16(t, FADT_SCI_INT, 9);
	if (len >= FADT_PM1A_CNT_BLK + 4)
		ab_set32(t, FADT_PM1A_CNT_BLK, 0x604);
	if (len >= FADT_PM_TMR_BLK + 4)
		ab_set32(t, FADT_PM_TMR_BLK, pm_port);
	if (len > FADT_PM_TMR_LEN)
		ab_set8(t, FADT_PM_TMR_LEN, pm_port ? 4 : 0);
	if (len > FADT_CENTURY)
		ab_set8(t, FADT_CENTURY, 0x32);
	if (len >= FADT_IAPC_BOOT_ARCH + 2)
		ab_set16(t, FADT_IAPC_BOOT_ARCH, 0x3);
	if (len >= FADT_FLAGS + 4)
		ab_set32(t, FADT_FLAGS, flags);
}

/* ---- MCFG (PCI Firmware 3.2 §4.1.2) ---- */

static inline void ab_mcfg_begin(struct ab_table *t)
{
	ab_begin(t, "MCFG", 1);
	ab_u64(t, 0); /* reserved */
}

static inline void ab_mcfg_entry(struct ab_table *t, uint64_t base, uint16_t segment,
				 uint8_t bus_start, uint8_t bus_end)
{
	ab_u64(t, base);
	ab_u16(t, segment);
	ab_u8(t, bus_start);
	ab_u8(t, bus_end);
	ab_u32(t, 0);
}

/* ---- DMAR (Intel VT-d 4.1 §8.1) ---- */

static inline void ab_dmar_begin(struct ab_table *t, uint8_t host_address_width_minus_1,
				 uint8_t flags)
{
	ab_begin(t, "DMAR", 1);
	ab_u8(t, host_address_width_minus_1);
	ab_u8(t, flags);
	for (int i = 0; i < 10; i++)
		ab_u8(t, 0);
}

/* A DRHD with one device scope entry (a PCI endpoint). */
static inline void ab_dmar_drhd(struct ab_table *t, uint8_t flags, uint16_t segment,
				uint64_t base)
{
	ab_u16(t, 0);
	ab_u16(t, 16 + 8);
	ab_u8(t, flags);
	ab_u8(t, 0);
	ab_u16(t, segment);
	ab_u64(t, base);
	/* device scope: type 1 (endpoint), length 8, bus 0, path 2.0 */
	ab_u8(t, 1);
	ab_u8(t, 8);
	ab_u16(t, 0);
	ab_u8(t, 0);
	ab_u8(t, 0);
	ab_u8(t, 2);
	ab_u8(t, 0);
}

/* A reserved memory region (RMRR) with no device scope. */
static inline void ab_dmar_rmrr(struct ab_table *t, uint64_t base, uint64_t limit)
{
	ab_u16(t, 1);
	ab_u16(t, 24);
	ab_u16(t, 0);
	ab_u16(t, 0);
	ab_u64(t, base);
	ab_u64(t, limit);
}

/* ---- HPET (IA-PC HPET 1.0a §3.2.4) ---- */

static inline void ab_hpet(struct ab_table *t, uint64_t base)
{
	ab_begin(t, "HPET", 1);
	ab_u32(t, 0x8086a201); /* event timer block id */
	ab_set_gas(t, 40, 0, 64, 0, 0, base);
	ab_set8(t, 52, 0);    /* HPET number */
	ab_set16(t, 53, 128); /* minimum clock tick */
	ab_set8(t, 55, 0);    /* page protection */
}

#endif
