/*
 * Guest ACPI tables (see acpi_build.h). Plan the offsets, check the buffer,
 * then write each table and set its checksum last.
 */
#include "guest/acpi_build.h"

#include "guest/acpi_dsdt.h"
#include "guest/pci/vpci.h"

#include "kernel/lib/string.h"
#include "kernel/lib/unaligned.h"

#define OEM_ID "HV    " /* 6 bytes */
#define OEM_TABLE_ID "HVGUEST " /* 8 bytes */
#define OEM_REVISION 1
#define CREATOR_ID "HV  " /* 4 bytes */
#define CREATOR_REVISION 1

#define RTC_CENTURY_INDEX 0x32 /* CMOS century byte, as guest/vrtc.h keeps it */
#define PM1_EVT_LEN 4 /* PM1 status + enable, 16 bits each */
#define PM1_CNT_LEN 2
#define PM_TMR_LEN 4

/* MADT structures (ACPI 6.5 §5.2.12). */
#define MADT_FIXED 44 /* header, local APIC address, flags */
#define MADT_PCAT_COMPAT 1u
#define MADT_LAPIC 0
#define MADT_LAPIC_LEN 8
#define MADT_IOAPIC 1
#define MADT_IOAPIC_LEN 12
#define MADT_ISO 2
#define MADT_ISO_LEN 10
#define MADT_LAPIC_NMI 4
#define MADT_LAPIC_NMI_LEN 6
#define MADT_X2APIC 9
#define MADT_X2APIC_LEN 16
#define MADT_X2APIC_NMI 0xa
#define MADT_X2APIC_NMI_LEN 12
#define MADT_XAPIC_IDS 255 /* IDs 0-254 take Local APIC entries; 255 is xAPIC broadcast */
#define MADT_ISO_COUNT 2
#define MPS_ACTIVE_HIGH 0x1u /* MPS INTI flags: polarity bits 1:0 */
#define MPS_LEVEL 0xcu /* trigger mode bits 3:2 */

/* Generic Address Structure (ACPI 6.5 §5.2.3.2). */
#define GAS_SPACE_MEMORY 0
#define GAS_SPACE_IO 1
#define GAS_ACCESS_BYTE 1
#define GAS_ACCESS_WORD 2
#define GAS_ACCESS_DWORD 3

#define MAX_TABLES 4 /* in the XSDT: FACP, APIC, HPET, MCFG */

struct layout {
	size_t facs, dsdt, fadt, madt, hpet, mcfg, xsdt, rsdt, end;
	size_t dsdt_len, madt_len, xsdt_len, rsdt_len;
	unsigned ntables;
};

static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return (uint8_t)(0 - s);
}

/* Offset of the next free byte at or after off whose guest address is align-aligned. */
static size_t place(uint64_t base, size_t off, size_t align)
{
	uint64_t gpa = (base + off + align - 1) & ~(uint64_t)(align - 1);
	return (size_t)(gpa - base);
}

/*
 * vCPU i has APIC ID i. ACPI 6.5 §5.2.12.12: a processor whose APIC ID is
 * below 255 is described by a Processor Local APIC structure, in xAPIC or
 * x2APIC mode alike; the rest by Processor Local x2APIC structures, whose
 * LINT1 NMI then needs the x2APIC form of the NMI structure too.
 */
static unsigned madt_xapics(unsigned vcpus)
{
	return vcpus < MADT_XAPIC_IDS ? vcpus : MADT_XAPIC_IDS;
}

static size_t madt_length(unsigned vcpus)
{
	unsigned x2 = vcpus - madt_xapics(vcpus);
	return MADT_FIXED + (size_t)madt_xapics(vcpus) * MADT_LAPIC_LEN +
	       (size_t)x2 * MADT_X2APIC_LEN + MADT_IOAPIC_LEN + MADT_ISO_COUNT * MADT_ISO_LEN +
	       MADT_LAPIC_NMI_LEN + (x2 ? MADT_X2APIC_NMI_LEN : 0);
}

static size_t dsdt_length(const struct acpi_build_config *cfg)
{
	return ACPI_BUILD_HEADER_SIZE + acpi_dsdt_aml(cfg, NULL, 0);
}

static void plan(const struct acpi_build_config *cfg, uint64_t base, struct layout *l)
{
	l->ntables = 2 + (cfg->hpet ? 1 : 0) + (cfg->pci ? 1 : 0); /* FADT, MADT[, HPET][, MCFG] */
	l->dsdt_len = dsdt_length(cfg);
	l->madt_len = madt_length(cfg->vcpus);
	l->xsdt_len = ACPI_BUILD_HEADER_SIZE + 8 * (size_t)l->ntables;
	l->rsdt_len = ACPI_BUILD_HEADER_SIZE + 4 * (size_t)l->ntables;

	l->facs = place(base, ACPI_BUILD_RSDP_SIZE, 64); /* §5.2.10: 64-byte aligned */
	l->dsdt = place(base, l->facs + ACPI_BUILD_FACS_SIZE, 16);
	l->fadt = place(base, l->dsdt + l->dsdt_len, 16);
	l->madt = place(base, l->fadt + ACPI_BUILD_FADT_SIZE, 16);
	size_t next = l->madt + l->madt_len;
	l->hpet = 0;
	if (cfg->hpet) {
		l->hpet = place(base, next, 16);
		next = l->hpet + ACPI_BUILD_HPET_SIZE;
	}
	l->mcfg = 0;
	if (cfg->pci) {
		l->mcfg = place(base, next, 16);
		next = l->mcfg + ACPI_BUILD_MCFG_SIZE;
	}
	l->xsdt = place(base, next, 16);
	l->rsdt = place(base, l->xsdt + l->xsdt_len, 16);
	l->end = l->rsdt + l->rsdt_len;
}

size_t acpi_build_size(const struct acpi_build_config *cfg)
{
	struct acpi_build_config most = { .hpet = true, .pci = true };
	unsigned vcpus = cfg && cfg->vcpus ? cfg->vcpus : ACPI_BUILD_MAX_VCPUS;
	/* every table's worst-case alignment padding, with an HPET and a PCI bus */
	return ACPI_BUILD_RSDP_SIZE + 63 + ACPI_BUILD_FACS_SIZE + 15 + dsdt_length(&most) + 15 +
	       ACPI_BUILD_FADT_SIZE + 15 + madt_length(vcpus) + 15 + ACPI_BUILD_HPET_SIZE + 15 +
	       ACPI_BUILD_MCFG_SIZE + 15 + ACPI_BUILD_HEADER_SIZE + MAX_TABLES * 8 + 15 +
	       ACPI_BUILD_HEADER_SIZE + MAX_TABLES * 4;
}

/* The common 36-byte header (§5.2.6); the checksum is set by finish(). */
static void header(uint8_t *t, const char *sig, size_t len, uint8_t revision)
{
	memcpy(t, sig, 4);
	wr32(t + 4, (uint32_t)len);
	t[8] = revision;
	t[9] = 0;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	wr32(t + 24, OEM_REVISION);
	memcpy(t + 28, CREATOR_ID, 4);
	wr32(t + 32, CREATOR_REVISION);
}

static void finish(uint8_t *t, size_t len)
{
	t[9] = 0;
	t[9] = checksum(t, len);
}

static void gas(uint8_t *p, uint8_t space, uint8_t bit_width, uint8_t access, uint64_t address)
{
	p[0] = space;
	p[1] = bit_width;
	p[2] = 0; /* bit offset */
	p[3] = access;
	wr64(p + 4, address);
}

static void write_rsdp(uint8_t *r, uint64_t xsdt, uint64_t rsdt)
{
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, OEM_ID, 6);
	r[15] = 2; /* revision: ACPI 2.0+ layout with the XSDT */
	wr32(r + 16, (uint32_t)rsdt);
	wr32(r + 20, ACPI_BUILD_RSDP_SIZE);
	wr64(r + 24, xsdt);
	r[8] = checksum(r, 20); /* the ACPI 1.0 part */
	r[32] = checksum(r, ACPI_BUILD_RSDP_SIZE); /* the whole structure */
}

static void write_facs(uint8_t *f)
{
	memcpy(f, "FACS", 4);
	wr32(f + 4, ACPI_BUILD_FACS_SIZE);
	/* hardware signature, waking vectors, global lock, flags: 0 */
	f[32] = 2; /* version */
}

static void write_dsdt(uint8_t *t, const struct acpi_build_config *cfg, size_t len)
{
	header(t, "DSDT", len, 2); /* revision 2: 64-bit AML integers */
	acpi_dsdt_aml(cfg, t + ACPI_BUILD_HEADER_SIZE, len - ACPI_BUILD_HEADER_SIZE);
	finish(t, len);
}

/* FADT, ACPI 6.5 Table 5.9: field offsets as in the comments. */
static void write_fadt(uint8_t *t, const struct acpi_build_config *cfg, uint64_t facs,
		       uint64_t dsdt)
{
	uint16_t pm1 = cfg->pm1_base ? cfg->pm1_base : ACPI_BUILD_PM1_BASE_DEFAULT;
	uint16_t boot_arch = ACPI_BOOT_ARCH_LEGACY_DEVICES;
	/* PWR_BUTTON clear: the fixed-feature power button in PM1 (what `shutdown` presses) */
	uint32_t flags = ACPI_FADT_WBINVD | ACPI_FADT_PROC_C1 | ACPI_FADT_SLP_BUTTON |
			 ACPI_FADT_RESET_REG_SUP;

	if (cfg->has_8042)
		boot_arch |= ACPI_BOOT_ARCH_8042;
	if (!cfg->has_vga)
		boot_arch |= ACPI_BOOT_ARCH_VGA_NOT_PRESENT;
	if (cfg->pm_timer_port && cfg->pm_timer_32bit)
		flags |= ACPI_FADT_TMR_VAL_EXT;

	header(t, "FACP", ACPI_BUILD_FADT_SIZE, 6);
	wr32(t + 36, 0); /* FIRMWARE_CTRL: 0, X_FIRMWARE_CTRL holds it */
	wr32(t + 40, (uint32_t)dsdt); /* DSDT (the same as X_DSDT) */
	t[45] = 0; /* Preferred_PM_Profile: unspecified */
	wr16(t + 46, ACPI_BUILD_SCI_IRQ); /* SCI_INT */
	wr32(t + 48, 0); /* SMI_CMD 0: no SMM, ACPI mode always on */
	wr32(t + 56, pm1); /* PM1a_EVT_BLK */
	wr32(t + 64, pm1 + 4u); /* PM1a_CNT_BLK */
	wr32(t + 76, cfg->pm_timer_port); /* PM_TMR_BLK */
	t[88] = PM1_EVT_LEN;
	t[89] = PM1_CNT_LEN;
	t[91] = cfg->pm_timer_port ? PM_TMR_LEN : 0;
	wr16(t + 96, 101); /* P_LVL2_LAT > 100: no C2 */
	wr16(t + 98, 1001); /* P_LVL3_LAT > 1000: no C3 */
	t[108] = RTC_CENTURY_INDEX; /* CENTURY */
	wr16(t + 109, boot_arch); /* IAPC_BOOT_ARCH */
	wr32(t + 112, flags);
	gas(t + 116, GAS_SPACE_IO, 8, GAS_ACCESS_BYTE, ACPI_BUILD_RESET_PORT); /* RESET_REG */
	t[128] = ACPI_BUILD_RESET_VALUE;
	t[131] = 5; /* FADT minor version: 6.5 */
	wr64(t + 132, facs); /* X_FIRMWARE_CTRL */
	wr64(t + 140, dsdt); /* X_DSDT */
	gas(t + 148, GAS_SPACE_IO, PM1_EVT_LEN * 8, GAS_ACCESS_WORD, pm1); /* X_PM1a_EVT_BLK */
	gas(t + 172, GAS_SPACE_IO, PM1_CNT_LEN * 8, GAS_ACCESS_WORD, pm1 + 4u); /* X_PM1a_CNT_BLK */
	if (cfg->pm_timer_port) /* X_PM_TMR_BLK */
		gas(t + 208, GAS_SPACE_IO, PM_TMR_LEN * 8, GAS_ACCESS_DWORD, cfg->pm_timer_port);
	finish(t, ACPI_BUILD_FADT_SIZE);
}

static void write_madt(uint8_t *t, const struct acpi_build_config *cfg, size_t len)
{
	static const struct {
		uint8_t irq;
		uint32_t gsi;
		uint16_t flags;
	} overrides[MADT_ISO_COUNT] = {
		{ 0, 2, 0 }, /* the PIT's IRQ0 is the IOAPIC's pin 2 (bus-conforming: edge/high) */
		{ ACPI_BUILD_SCI_IRQ, ACPI_BUILD_SCI_IRQ, MPS_LEVEL | MPS_ACTIVE_HIGH }, /* SCI */
	};
	uint8_t *e;

	header(t, "APIC", len, 5);
	wr32(t + 36, ACPI_BUILD_LAPIC_BASE);
	wr32(t + 40, MADT_PCAT_COMPAT);
	e = t + MADT_FIXED;
	for (unsigned i = 0; i < madt_xapics(cfg->vcpus); i++, e += MADT_LAPIC_LEN) {
		e[0] = MADT_LAPIC;
		e[1] = MADT_LAPIC_LEN;
		e[2] = (uint8_t)i; /* ACPI processor UID */
		e[3] = (uint8_t)i; /* APIC ID */
		wr32(e + 4, 1); /* enabled */
	}
	for (unsigned i = MADT_XAPIC_IDS; i < cfg->vcpus; i++, e += MADT_X2APIC_LEN) {
		e[0] = MADT_X2APIC;
		e[1] = MADT_X2APIC_LEN;
		wr16(e + 2, 0); /* reserved */
		wr32(e + 4, i); /* x2APIC ID */
		wr32(e + 8, 1); /* enabled */
		wr32(e + 12, i); /* ACPI processor UID */
	}
	e[0] = MADT_IOAPIC;
	e[1] = MADT_IOAPIC_LEN;
	e[2] = cfg->ioapic_id;
	e[3] = 0;
	wr32(e + 4, ACPI_BUILD_IOAPIC_BASE);
	wr32(e + 8, 0); /* GSI base */
	e += MADT_IOAPIC_LEN;
	for (int i = 0; i < MADT_ISO_COUNT; i++, e += MADT_ISO_LEN) {
		e[0] = MADT_ISO;
		e[1] = MADT_ISO_LEN;
		e[2] = 0; /* bus: ISA */
		e[3] = overrides[i].irq;
		wr32(e + 4, overrides[i].gsi);
		wr16(e + 8, overrides[i].flags);
	}
	e[0] = MADT_LAPIC_NMI;
	e[1] = MADT_LAPIC_NMI_LEN;
	e[2] = 0xff; /* all processors */
	wr16(e + 3, 0); /* flags: bus-conforming */
	e[5] = 1; /* LINT1 */
	e += MADT_LAPIC_NMI_LEN;
	if (cfg->vcpus > MADT_XAPIC_IDS) {
		e[0] = MADT_X2APIC_NMI;
		e[1] = MADT_X2APIC_NMI_LEN;
		wr16(e + 2, 0); /* flags: bus-conforming */
		wr32(e + 4, 0xffffffffu); /* all processors */
		e[8] = 1; /* LINT1 */
	}
	finish(t, len);
}

/* IA-PC HPET Specification 1.0a §3.2.4. */
static void write_hpet(uint8_t *t, const struct acpi_build_config *cfg)
{
	header(t, "HPET", ACPI_BUILD_HPET_SIZE, 1);
	wr32(t + 36, cfg->hpet_id ? cfg->hpet_id : ACPI_BUILD_HPET_ID_DEFAULT);
	gas(t + 40, GAS_SPACE_MEMORY, 64, 0, ACPI_BUILD_HPET_BASE);
	t[52] = 0; /* HPET number */
	wr16(t + 53, 128); /* minimum periodic tick, in counter clocks */
	t[55] = 0; /* no page protection */
	finish(t, ACPI_BUILD_HPET_SIZE);
}

/*
 * PCI Firmware 3.3 §4.1.2: one ECAM allocation, segment 0, bus 0 only (the ECAM
 * window is 1 MiB: one bus). Linux checks the area is reserved (E820 or a PNP0C02
 * _CRS) before it uses it.
 */
static void write_mcfg(uint8_t *t)
{
	header(t, "MCFG", ACPI_BUILD_MCFG_SIZE, 1);
	/* 8 reserved bytes at 36 */
	wr64(t + 44, VPCI_ECAM_BASE);
	wr16(t + 52, 0); /* PCI segment group */
	t[54] = 0; /* start bus */
	t[55] = (uint8_t)(VPCI_ECAM_SIZE / (1u << 20) - 1); /* end bus: 1 MiB per bus */
	finish(t, ACPI_BUILD_MCFG_SIZE);
}

int acpi_build(const struct acpi_build_config *cfg, uint8_t *buf, size_t size, uint64_t base_gpa,
	       size_t *used, uint64_t *rsdp_gpa)
{
	struct layout l;

	if (!cfg || !buf || !used || !rsdp_gpa || cfg->vcpus == 0 ||
	    cfg->vcpus > ACPI_BUILD_MAX_VCPUS || (base_gpa & 15) != 0 || base_gpa >= 0x100000000ull)
		return ACPI_BUILD_ERR_INVAL;
	plan(cfg, base_gpa, &l);
	if (base_gpa + l.end > 0x100000000ull)
		return ACPI_BUILD_ERR_INVAL; /* the RSDT and FADT hold 32-bit pointers */
	*used = l.end;
	if (l.end > size)
		return ACPI_BUILD_ERR_SPACE;

	memset(buf, 0, l.end);
	write_facs(buf + l.facs);
	write_dsdt(buf + l.dsdt, cfg, l.dsdt_len);
	write_fadt(buf + l.fadt, cfg, base_gpa + l.facs, base_gpa + l.dsdt);
	write_madt(buf + l.madt, cfg, l.madt_len);
	if (cfg->hpet)
		write_hpet(buf + l.hpet, cfg);
	if (cfg->pci)
		write_mcfg(buf + l.mcfg);

	uint64_t tables[MAX_TABLES] = { base_gpa + l.fadt, base_gpa + l.madt };
	unsigned n = 2;
	if (cfg->hpet)
		tables[n++] = base_gpa + l.hpet;
	if (cfg->pci)
		tables[n++] = base_gpa + l.mcfg;
	uint8_t *x = buf + l.xsdt, *r = buf + l.rsdt;
	header(x, "XSDT", l.xsdt_len, 1);
	header(r, "RSDT", l.rsdt_len, 1);
	for (unsigned i = 0; i < l.ntables; i++) {
		wr64(x + ACPI_BUILD_HEADER_SIZE + 8 * i, tables[i]);
		wr32(r + ACPI_BUILD_HEADER_SIZE + 4 * i, (uint32_t)tables[i]);
	}
	finish(x, l.xsdt_len);
	finish(r, l.rsdt_len);
	write_rsdp(buf, base_gpa + l.xsdt, base_gpa + l.rsdt);
	*rsdp_gpa = base_gpa;
	return ACPI_BUILD_OK;
}
