// SOURCES: guest/acpi_build.c guest/acpi_dsdt.c guest/aml.c guest/vhpet.c kernel/acpi/acpi.c kernel/lib/format.c kernel/lib/string.c
/*
 * The guest's ACPI tables, read back the way the guest's OS reads them: with
 * the hypervisor's own parser (kernel/acpi/acpi.c) from a fake guest-physical
 * memory, after checking every checksum by hand, and the DSDT's AML bytes.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "guest/acpi_build.h"
#include "guest/vhpet.h"
#include "kernel/acpi/acpi.h"

#define BASE 0xe0000ull
#define LOW_MEM 0x100000u /* the fake guest memory: the first MiB */

static uint8_t *low; /* guest-physical 0 .. LOW_MEM */

static const void *guest_phys(uint64_t gpa)
{
	assert_true(gpa < LOW_MEM);
	return low + gpa;
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

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static int setup(void **state)
{
	(void)state;
	low = calloc(1, LOW_MEM);
	assert_non_null(low);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(low);
	low = NULL;
	return 0;
}

/* Builds into the fake memory at base; returns the bytes used. */
static size_t build_at(const struct acpi_build_config *cfg, uint64_t base)
{
	size_t used = 0;
	uint64_t rsdp = 0;
	memset(low, 0, LOW_MEM);
	assert_int_equal(acpi_build(cfg, low + base, LOW_MEM - base, base, &used, &rsdp),
			 ACPI_BUILD_OK);
	assert_int_equal(rsdp, base);
	assert_true(used > ACPI_BUILD_RSDP_SIZE);
	assert_true(used <= acpi_build_size(cfg));
	return used;
}

static void parse(struct acpi_info *ai, uint64_t rsdp)
{
	char err[128] = "";
	int rc = acpi_parse(ai, low + rsdp, ACPI_BUILD_RSDP_SIZE, guest_phys, err, sizeof(err));
	if (rc)
		fail_msg("acpi_parse: %s", err);
}

/* A table's checksum, signature and length, and that it lies in [base, base+used). */
static const uint8_t *check_table(uint64_t gpa, const char *sig, uint64_t base, size_t used)
{
	const uint8_t *t = low + gpa;
	assert_true(gpa >= base && gpa + 36 <= base + used);
	assert_memory_equal(t, sig, 4);
	assert_true(gpa + rd32(t + 4) <= base + used);
	assert_int_equal(sum(t, rd32(t + 4)), 0);
	assert_int_equal(gpa % 16, 0);
	return t;
}

static const struct acpi_build_config full = {
	.vcpus = 4,
	.pm_timer_port = ACPI_BUILD_PM_TIMER_DEFAULT,
	.has_8042 = true,
	.hpet = true,
	.ioapic_id = 4,
};

static void test_every_checksum(void **state)
{
	(void)state;
	size_t used = build_at(&full, BASE);
	const uint8_t *r = low + BASE;

	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(r[15], 2);
	assert_int_equal(rd32(r + 20), 36);
	assert_int_equal(sum(r, 20), 0);
	assert_int_equal(sum(r, 36), 0);

	const uint8_t *x = check_table(rd64(r + 24), "XSDT", BASE, used);
	const uint8_t *rs = check_table(rd32(r + 16), "RSDT", BASE, used);
	assert_int_equal(rd32(x + 4), 36 + 3 * 8);
	assert_int_equal(rd32(rs + 4), 36 + 3 * 4);
	static const char *const sigs[] = { "FACP", "APIC", "HPET" };
	for (int i = 0; i < 3; i++) {
		uint64_t a = rd64(x + 36 + 8 * i);
		assert_int_equal(a, rd32(rs + 36 + 4 * i)); /* RSDT and XSDT agree */
		check_table(a, sigs[i], BASE, used);
	}
	const uint8_t *fadt = low + rd64(x + 36);
	check_table(rd64(fadt + 140), "DSDT", BASE, used);
	assert_int_equal(rd32(fadt + 40), rd64(fadt + 140)); /* DSDT == X_DSDT */

	/* the FACS has no checksum: signature, length, 64-byte alignment */
	uint64_t facs = rd64(fadt + 132);
	assert_int_equal(rd32(fadt + 36), 0); /* FIRMWARE_CTRL 0 when X_FIRMWARE_CTRL is set */
	assert_int_equal(facs % 64, 0);
	assert_memory_equal(low + facs, "FACS", 4);
	assert_int_equal(rd32(low + facs + 4), 64);
}

static void test_parsed_by_the_hypervisors_parser(void **state)
{
	(void)state;
	struct acpi_info ai;
	build_at(&full, BASE);
	parse(&ai, BASE);

	assert_int_equal(ai.rsdp_revision, 2);
	assert_true(ai.root_is_xsdt);
	assert_string_equal(ai.oem_id, "HV    ");
	assert_int_equal(ai.ntables, 3);
	for (size_t i = 0; i < ai.ntables; i++)
		assert_true(ai.tables[i].checksum_ok);
	assert_non_null(acpi_table(&ai, "FACP"));
	assert_non_null(acpi_table(&ai, "APIC"));
	assert_non_null(acpi_table(&ai, "HPET"));

	/* MADT */
	assert_true(ai.have_madt);
	assert_int_equal(ai.lapic_address, 0xfee00000);
	assert_true(ai.pcat_compat);
	assert_int_equal(ai.ncpus, 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(ai.cpus[i].apic_id, i);
		assert_int_equal(ai.cpus[i].uid, i);
		assert_true(ai.cpus[i].enabled);
		assert_false(ai.cpus[i].x2apic_entry);
	}
	assert_int_equal(ai.nioapics, 1);
	assert_int_equal(ai.ioapics[0].id, 4);
	assert_int_equal(ai.ioapics[0].address, 0xfec00000);
	assert_int_equal(ai.ioapics[0].gsi_base, 0);
	assert_int_equal(ai.noverrides, 2);
	assert_int_equal(ai.overrides[0].source_irq, 0);
	assert_int_equal(ai.overrides[0].gsi, 2);
	assert_int_equal(ai.overrides[0].flags, 0);
	assert_int_equal(ai.overrides[1].source_irq, 9);
	assert_int_equal(ai.overrides[1].gsi, 9);
	assert_int_equal(ai.overrides[1].flags, 0x000d); /* level, active high */
	assert_int_equal(ai.lapic_nmi_entries, 1);

	/* FADT */
	assert_true(ai.have_fadt);
	assert_int_equal(ai.sci_irq, 9);
	assert_int_equal(ai.pm_timer_port, 0x608);
	assert_false(ai.pm_timer_32bit);
	assert_int_equal(ai.pm1a_control_port, 0x604);
	assert_true(ai.reset_supported);
	assert_int_equal(ai.reset_register.space, ACPI_SPACE_IO);
	assert_int_equal(ai.reset_register.bit_width, 8);
	assert_int_equal(ai.reset_register.bit_offset, 0);
	assert_int_equal(ai.reset_register.address, 0xcf9);
	assert_int_equal(ai.reset_value, 6);
	assert_int_equal(ai.boot_arch, ACPI_BOOT_ARCH_LEGACY_DEVICES | ACPI_BOOT_ARCH_8042 |
					       ACPI_BOOT_ARCH_VGA_NOT_PRESENT);
	assert_int_equal(ai.century_index, 0x32);

	/* HPET */
	assert_int_equal(ai.hpet_base, 0xfed00000);
	assert_int_equal(ai.dmar_address, 0);
}

static void test_fadt_fields(void **state)
{
	(void)state;
	struct acpi_info ai;
	build_at(&full, BASE);
	parse(&ai, BASE);
	const uint8_t *f = low + acpi_table(&ai, "FACP")->address;

	assert_int_equal(rd32(f + 4), ACPI_BUILD_FADT_SIZE);
	assert_int_equal(f[8], 6); /* revision */
	assert_int_equal(f[131], 5); /* minor version */
	assert_int_equal(rd32(f + 48), 0); /* SMI_CMD: ACPI mode fixed on */
	assert_int_equal(rd32(f + 56), 0x600); /* PM1a_EVT_BLK */
	assert_int_equal(f[88], 4);
	assert_int_equal(f[89], 2);
	assert_int_equal(f[91], 4);
	uint32_t flags = rd32(f + 112);
	assert_false(flags & ACPI_FADT_HW_REDUCED);
	assert_true(flags & ACPI_FADT_RESET_REG_SUP);
	assert_false(flags & ACPI_FADT_PWR_BUTTON); /* the fixed power button, in PM1 */
	assert_true(flags & ACPI_FADT_SLP_BUTTON);  /* no sleep button */
	/* the 64-bit blocks match the 32-bit ones */
	assert_int_equal(f[148], ACPI_SPACE_IO);
	assert_int_equal(f[149], 32);
	assert_int_equal(rd64(f + 152), 0x600);
	assert_int_equal(f[172], ACPI_SPACE_IO);
	assert_int_equal(f[173], 16);
	assert_int_equal(rd64(f + 176), 0x604);
	assert_int_equal(f[208], ACPI_SPACE_IO);
	assert_int_equal(f[209], 32);
	assert_int_equal(rd64(f + 212), 0x608);
}

static void test_dsdt_s5(void **state)
{
	(void)state;
	struct acpi_info ai;
	size_t used = build_at(&full, BASE);
	parse(&ai, BASE);
	const uint8_t *f = low + acpi_table(&ai, "FACP")->address;
	const uint8_t *d = check_table(rd64(f + 140), "DSDT", BASE, used);
	/* Name (\_S5, Package (0x04) { 5, 5, 0, 0 }) */
	static const uint8_t s5[] = { 0x08, 0x5c, '_',	'S',  '5',  '_',  0x12, 0x08,
				      0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00 };
	assert_int_equal(d[8], 2); /* revision 2: 64-bit integers */
	assert_memory_equal(d + 36, s5, sizeof(s5));
	/* PkgLength counts itself, NumElements and the elements: to the next term */
	assert_int_equal(d + 36 + 7 + d[36 + 7], d + 36 + sizeof(s5));
}

/* Scope (\_SB) { Device (PEVT) { _HID "QEMU0001", _CRS: I/O port 0x505 } } */
static void test_dsdt_pvpanic(void **state)
{
	(void)state;
	struct acpi_info ai;
	size_t used = build_at(&full, BASE);
	parse(&ai, BASE);
	const uint8_t *f = low + acpi_table(&ai, "FACP")->address;
	const uint8_t *d = check_table(rd64(f + 140), "DSDT", BASE, used);
	const uint8_t *scope = d + 36 + 15, *end = d + rd32(d + 4);
	/* ScopeOp whose one-byte PkgLength reaches the table's end */
	assert_int_equal(scope[0], 0x10);
	assert_int_equal(scope + 1 + scope[1], end);
	assert_memory_equal(scope + 2, "\\_SB_", 5);
	const uint8_t *dev = scope + 7;
	assert_int_equal(dev[0], 0x5b);
	assert_int_equal(dev[1], 0x82);
	assert_int_equal(dev + 2 + dev[2], end); /* DeviceOp's PkgLength: the scope's rest */
	assert_memory_equal(dev + 3, "PEVT", 4);
	static const uint8_t hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0d, 'Q', 'E',
				       'M',  'U', '0', '0', '0', '1', 0x00 };
	assert_memory_equal(dev + 7, hid, sizeof(hid));
	const uint8_t *crs = dev + 7 + sizeof(hid);
	assert_memory_equal(crs, "\x08_CRS\x11", 6);
	assert_int_equal(crs + 6 + crs[6], end); /* the buffer ends the table */
	assert_int_equal(crs[7], 0x0a);
	assert_int_equal(crs[8], 10); /* an I/O descriptor and the end tag */
	static const uint8_t io[] = { 0x47, 0x01, 0x05, 0x05, 0x05, 0x05, 0x01, 0x01, 0x79, 0x00 };
	assert_memory_equal(crs + 9, io, sizeof(io));
	assert_int_equal(ACPI_BUILD_PVPANIC_PORT, 0x505);
}

static size_t pkg_len(const uint8_t *p, size_t *n)
{
	size_t extra = p[0] >> 6, v = extra ? p[0] & 0xf : p[0];
	for (size_t i = 0; i < extra; i++)
		v |= (size_t)p[1 + i] << (4 + 8 * i);
	*n = 1 + extra;
	return v;
}

/* Finds the NameSeg `seg` after a NameOp or DeviceOp in the AML; NULL when absent. */
static const uint8_t *find_named(const uint8_t *aml, size_t len, const char *seg)
{
	for (size_t i = 0; i + 9 <= len; i++) {
		size_t n = 0;
		if (aml[i] == 0x08 && memcmp(aml + i + 1, seg, 4) == 0)
			return aml + i;
		if (i && aml[i - 1] == 0x5b && aml[i] == 0x82 && (pkg_len(aml + i + 1, &n), 1) &&
		    memcmp(aml + i + 1 + n, seg, 4) == 0)
			return aml + i;
	}
	return NULL;
}

/* With a PCI bus: MCFG listed and parsed, PCI0 with its _PRT, the ECAM device. */
static void test_pci_bus(void **state)
{
	struct acpi_build_config cfg = full;
	struct acpi_info ai;

	(void)state;
	cfg.pci = true;
	size_t used = build_at(&cfg, BASE);
	assert_true(used <= acpi_build_size(&cfg));
	parse(&ai, BASE);
	assert_int_equal(ai.ntables, 4);
	assert_non_null(acpi_table(&ai, "MCFG"));
	assert_int_equal(ai.nmcfg, 1);
	assert_int_equal(ai.mcfg[0].base, 0xc0000000);
	assert_int_equal(ai.mcfg[0].segment, 0);
	assert_int_equal(ai.mcfg[0].bus_start, 0);
	assert_int_equal(ai.mcfg[0].bus_end, 0);
	assert_false(ai.boot_arch & ACPI_BOOT_ARCH_MSI_NOT_SUPPORTED);
	const uint8_t *m = check_table(acpi_table(&ai, "MCFG")->address, "MCFG", BASE, used);
	assert_int_equal(rd32(m + 4), ACPI_BUILD_MCFG_SIZE);

	const uint8_t *f = low + acpi_table(&ai, "FACP")->address;
	const uint8_t *d = check_table(rd64(f + 140), "DSDT", BASE, used);
	size_t len = rd32(d + 4) - 36, n;
	const uint8_t *aml = d + 36;
	/* the \_SB scope's two-byte PkgLength reaches the table's end */
	const uint8_t *scope = aml + 15;
	assert_int_equal(scope[0], 0x10);
	assert_int_equal(scope + 1 + pkg_len(scope + 1, &n), aml + len);
	assert_int_equal(n, 2);
	/* PCI0: PNP0A08, compatible PNP0A03 */
	const uint8_t *pci0 = find_named(aml, len, "PCI0");
	assert_non_null(pci0);
	const uint8_t *hid = find_named(aml, len, "_HID");
	assert_non_null(hid);
	static const uint8_t pnp0a08[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x08 };
	assert_non_null(memmem(aml, len, pnp0a08, sizeof(pnp0a08)));
	static const uint8_t pnp0a03[] = { 0x08, '_', 'C', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03 };
	assert_non_null(memmem(aml, len, pnp0a03, sizeof(pnp0a03)));
	/* _PRT: 124 Packages of 4 whose lengths chain to the end of the outer one */
	const uint8_t *prt = find_named(aml, len, "_PRT");
	assert_non_null(prt);
	assert_int_equal(prt[5], 0x12);
	size_t outer = pkg_len(prt + 6, &n);
	const uint8_t *e = prt + 6 + n + 1, *end = prt + 6 + outer;
	assert_int_equal(prt[6 + n], 124);
	for (unsigned slot = 1; slot < 32; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			size_t en, elen;
			assert_int_equal(e[0], 0x12);
			elen = pkg_len(e + 1, &en);
			assert_int_equal(e[1 + en], 4);
			const uint8_t *v = e + 2 + en;
			assert_int_equal(v[0], 0x0c); /* DWord address */
			assert_int_equal(rd32(v + 1), slot << 16 | 0xffff);
			v += 5;
			assert_int_equal(v[0] <= 1 ? v[0] : v[1], pin); /* Zero/One or BytePrefix */
			v += v[0] <= 1 ? 1 : 2;
			assert_int_equal(v[0], 0x00); /* Source: Zero */
			assert_int_equal(v[1], 0x0a);
			assert_int_equal(v[2], 16 + (slot + pin) % 4);
			e += 1 + elen;
		}
	}
	assert_ptr_equal(e, end);
	/* _OSC, and the motherboard resource reserving the ECAM */
	assert_non_null(find_named(aml, len, "ECAM"));
	static const uint8_t ecam_crs[] = { 0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xc0,
					    0x00, 0x00, 0x10, 0x00, 0x79, 0x00 };
	assert_non_null(memmem(aml, len, ecam_crs, sizeof(ecam_crs)));
	static const uint8_t osc_name[] = { '_', 'O', 'S', 'C', 0x04 };
	assert_non_null(memmem(aml, len, osc_name, sizeof(osc_name)));
}

static void test_rsdp_found_by_bios_scan(void **state)
{
	(void)state;
	build_at(&full, BASE);
	assert_int_equal(acpi_find_rsdp_bios(guest_phys), BASE);
}

static void test_minimal_platform(void **state)
{
	(void)state;
	struct acpi_info ai;
	struct acpi_build_config cfg = { .vcpus = 1 };
	size_t used = build_at(&cfg, BASE);
	parse(&ai, BASE);
	assert_int_equal(ai.ntables, 2);
	assert_null(acpi_table(&ai, "HPET"));
	assert_int_equal(ai.hpet_base, 0);
	assert_int_equal(ai.ncpus, 1);
	assert_int_equal(ai.ioapics[0].id, 0);
	assert_int_equal(ai.pm_timer_port, 0);
	assert_int_equal(ai.pm1a_control_port, 0x604);
	assert_int_equal(ai.boot_arch,
			 ACPI_BOOT_ARCH_LEGACY_DEVICES | ACPI_BOOT_ARCH_VGA_NOT_PRESENT);
	const uint8_t *f = low + acpi_table(&ai, "FACP")->address;
	assert_int_equal(f[91], 0); /* PM_TMR_LEN */
	assert_int_equal(rd64(f + 212), 0); /* X_PM_TMR_BLK */
	/* nothing written past what was used */
	for (size_t i = used; i < 0x1000; i++)
		assert_int_equal(low[BASE + i], 0);
}

static void test_options(void **state)
{
	(void)state;
	struct acpi_info ai;
	struct acpi_build_config cfg = { .vcpus = 2,
					 .pm1_base = 0xb000,
					 .pm_timer_port = 0xb008,
					 .pm_timer_32bit = true,
					 .has_vga = true,
					 .hpet = true,
					 .hpet_id = 0x8086a701 };
	build_at(&cfg, BASE);
	parse(&ai, BASE);
	assert_int_equal(ai.pm_timer_port, 0xb008);
	assert_true(ai.pm_timer_32bit);
	assert_int_equal(ai.pm1a_control_port, 0xb004);
	assert_int_equal(ai.boot_arch, ACPI_BOOT_ARCH_LEGACY_DEVICES);
	const uint8_t *h = low + acpi_table(&ai, "HPET")->address;
	assert_int_equal(rd32(h + 36), 0x8086a701);
	assert_int_equal(h[40], 0); /* system memory */
}

/* The HPET table describes the model the VM has (IA-PC HPET 1.0a §3.2.4, Table 3). */
static void test_hpet_table_matches_the_model(void **state)
{
	(void)state;
	struct acpi_info ai;
	struct acpi_build_config cfg = { .vcpus = 1, .hpet = true,
					 .hpet_id = (uint32_t)vhpet_capabilities() };
	build_at(&cfg, BASE);
	parse(&ai, BASE);
	const uint8_t *h = low + acpi_table(&ai, "HPET")->address;
	assert_int_equal(rd32(h + 4), ACPI_BUILD_HPET_SIZE);
	assert_int_equal(h[8], 1); /* revision */
	/* Event Timer Block ID: the capabilities register's low half */
	assert_int_equal(rd32(h + 36), 0x8086a201);
	assert_int_equal(rd32(h + 36), ACPI_BUILD_HPET_ID_DEFAULT);
	/* Base Address: a GAS in system memory */
	assert_int_equal(h[40], 0);  /* address space: system memory */
	assert_int_equal(h[41], 64); /* register bit width */
	assert_int_equal(h[42], 0);  /* bit offset */
	assert_int_equal(rd64(h + 44), VHPET_BASE);
	assert_int_equal(h[52], 0);			/* HPET number */
	assert_int_equal(rd16(h + 53), VHPET_MIN_TICK); /* minimum clock tick in periodic mode */
	assert_int_equal(h[55], 0);			/* no page protection */
	assert_int_equal(ai.hpet_base, VHPET_BASE);
}

/*
 * The MADT at n vCPUs, walked by hand: a Processor Local APIC for each APIC
 * ID below 255 and a Processor Local x2APIC for each one past it (ACPI 6.5
 * §5.2.12.12), UID = APIC ID = vCPU index, each listed once, every entry
 * inside the table; LINT1 as NMI for all in the xAPIC form, and in the
 * x2APIC form exactly when there are x2APIC entries. The hypervisor's own
 * parser reads the same list (as far as its ACPI_MAX_CPUS).
 */
static void check_madt(unsigned n)
{
	struct acpi_info ai;
	struct acpi_build_config cfg = { .vcpus = n, .hpet = true, .pci = true };
	size_t used = build_at(&cfg, BASE);
	parse(&ai, BASE);
	const struct acpi_table_ref *at = acpi_table(&ai, "APIC");
	assert_non_null(at);
	const uint8_t *m = check_table(at->address, "APIC", BASE, used);
	uint32_t len = rd32(m + 4);
	unsigned lapics = 0, x2apics = 0, nmis = 0, x2nmis = 0, ioapics = 0;
	static uint8_t seen[ACPI_BUILD_MAX_VCPUS];
	memset(seen, 0, sizeof(seen));
	for (uint32_t off = 44; off < len;) {
		const uint8_t *e = m + off;
		assert_true(e[1] >= 2 && off + e[1] <= len);
		switch (e[0]) {
		case 0: /* Processor Local APIC */
			assert_int_equal(e[1], 8);
			assert_int_equal(e[2], e[3]); /* UID = APIC ID */
			assert_int_equal(e[3], lapics); /* in order, from 0 */
			assert_int_equal(rd32(e + 4), 1);
			assert_true(e[3] < 255 && e[3] < n);
			seen[e[3]]++;
			lapics++;
			break;
		case 9: /* Processor Local x2APIC */
			assert_int_equal(e[1], 16);
			assert_int_equal(rd16(e + 2), 0);
			assert_true(rd32(e + 4) >= 255 && rd32(e + 4) < n);
			assert_int_equal(rd32(e + 8), 1);
			assert_int_equal(rd32(e + 12), rd32(e + 4)); /* UID = APIC ID */
			seen[rd32(e + 4)]++;
			x2apics++;
			break;
		case 4: /* Local APIC NMI */
			assert_int_equal(e[1], 6);
			assert_int_equal(e[2], 0xff);
			assert_int_equal(e[5], 1);
			nmis++;
			break;
		case 0xa: /* Local x2APIC NMI */
			assert_int_equal(e[1], 12);
			assert_int_equal(rd32(e + 4), 0xffffffffu);
			assert_int_equal(e[8], 1);
			x2nmis++;
			break;
		case 1:
			ioapics++;
			break;
		}
		off += e[1];
	}
	assert_int_equal(lapics, n < 255 ? n : 255);
	assert_int_equal(x2apics, n < 255 ? 0 : n - 255);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(seen[i], 1);
	assert_int_equal(nmis, 1);
	assert_int_equal(x2nmis, n > 255 ? 1 : 0);
	assert_int_equal(ioapics, 1);

	unsigned parsed = n < ACPI_MAX_CPUS ? n : ACPI_MAX_CPUS;
	assert_int_equal(ai.ncpus, parsed);
	assert_int_equal(ai.cpus_truncated, n > ACPI_MAX_CPUS);
	for (unsigned i = 0; i < parsed; i++) {
		assert_int_equal(ai.cpus[i].apic_id, i);
		assert_int_equal(ai.cpus[i].x2apic_entry, i >= 255);
	}
	assert_int_equal(ai.noverrides, 2);
	assert_int_equal(ai.nioapics, 1);
}

static void test_madt_at_1_8_64_255_and_more_vcpus(void **state)
{
	(void)state;
	static const unsigned sizes[] = { 1, 8, 64, 254, 255, 256, 300, 512, ACPI_BUILD_MAX_VCPUS };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_madt(sizes[i]);
}

static void test_unaligned_base_keeps_alignment(void **state)
{
	(void)state;
	struct acpi_info ai;
	uint64_t base = 0x80010; /* 16-byte, not 64-byte, aligned */
	size_t used = build_at(&full, base);
	parse(&ai, base);
	assert_int_equal(ai.ntables, 3);
	const uint8_t *f = low + acpi_table(&ai, "FACP")->address;
	assert_int_equal(rd64(f + 132) % 64, 0);
	assert_true(rd64(f + 132) + 64 <= base + used);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	uint8_t buf[4096];
	size_t used = 0;
	uint64_t rsdp = 0;
	struct acpi_build_config cfg = full;

	cfg.vcpus = 0;
	assert_int_equal(acpi_build(&cfg, buf, sizeof(buf), BASE, &used, &rsdp),
			 ACPI_BUILD_ERR_INVAL);
	cfg.vcpus = ACPI_BUILD_MAX_VCPUS + 1;
	assert_int_equal(acpi_build(&cfg, buf, sizeof(buf), BASE, &used, &rsdp),
			 ACPI_BUILD_ERR_INVAL);
	assert_int_equal(acpi_build(&full, buf, sizeof(buf), BASE + 8, &used, &rsdp),
			 ACPI_BUILD_ERR_INVAL);
	assert_int_equal(acpi_build(&full, buf, sizeof(buf), 0x100000000ull, &used, &rsdp),
			 ACPI_BUILD_ERR_INVAL);
	assert_int_equal(acpi_build(&full, buf, sizeof(buf), 0xffffff00ull, &used, &rsdp),
			 ACPI_BUILD_ERR_INVAL); /* would cross 4 GiB */
	assert_int_equal(acpi_build(NULL, buf, sizeof(buf), BASE, &used, &rsdp),
			 ACPI_BUILD_ERR_INVAL);
	assert_int_equal(acpi_build(&full, NULL, sizeof(buf), BASE, &used, &rsdp),
			 ACPI_BUILD_ERR_INVAL);
}

static void test_buffer_too_small(void **state)
{
	(void)state;
	uint8_t buf[256];
	size_t used = 0;
	uint64_t rsdp = 0;
	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(acpi_build(&full, buf, sizeof(buf), BASE, &used, &rsdp),
			 ACPI_BUILD_ERR_SPACE);
	assert_true(used > sizeof(buf));
	assert_true(used <= acpi_build_size(&full));
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xa5); /* untouched */
	/* exactly the size it asked for is enough */
	uint8_t *exact = malloc(used);
	assert_non_null(exact);
	size_t used2 = 0;
	assert_int_equal(acpi_build(&full, exact, used, BASE, &used2, &rsdp), ACPI_BUILD_OK);
	assert_int_equal(used2, used);
	free(exact);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_checksum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parsed_by_the_hypervisors_parser, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fadt_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dsdt_s5, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dsdt_pvpanic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pci_bus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rsdp_found_by_bios_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_minimal_platform, setup, teardown),
		cmocka_unit_test_setup_teardown(test_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hpet_table_matches_the_model, setup, teardown),
		cmocka_unit_test_setup_teardown(test_madt_at_1_8_64_255_and_more_vcpus, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unaligned_base_keeps_alignment, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffer_too_small, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
