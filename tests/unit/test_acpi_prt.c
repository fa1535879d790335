// SOURCES: kernel/acpi/acpi_prt.c kernel/lib/format.c kernel/lib/string.c
/*
 * The _PRT reader (kernel/acpi/acpi_prt.c): on QEMU q35's real DSDT
 * (tests/data/dsdt-qemu-q35.bin, dumped by the hypervisor's `acpi_dump`
 * from QEMU 8's q35 with edu and intel-iommu: Method(_PRT) returning PRTA
 * or PRTP, GSIx link devices with Interrupt _CRS), on crafted AML for the
 * plain Name(_PRT, Package) form and for what it refuses, on every
 * truncation and on corrupted copies (AddressSanitizer watches), and the
 * bridge swizzle.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/acpi/acpi_prt.h"

static struct acpi_prt prt;
static char why[160];

static size_t load(const char *name, uint8_t *buf, size_t max)
{
	char path[256];
	snprintf(path, sizeof(path), "tests/data/%s", name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t n = fread(buf, 1, max, f);
	fclose(f);
	return n;
}

static uint8_t *exact(const uint8_t *src, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	memcpy(p, src, n);
	return p;
}

static int read_one(const uint8_t *aml, size_t len)
{
	struct acpi_aml a = {aml, len};
	why[0] = 0;
	return acpi_prt_read(&a, 1, &prt, why, sizeof(why));
}

static void qemu_q35_dsdt(void **state)
{
	(void)state;
	static uint8_t raw[65536];
	size_t n = load("dsdt-qemu-q35.bin", raw, sizeof(raw));
	assert_true(n > 36);
	uint8_t *aml = exact(raw + 36, n - 36);
	assert_int_equal(read_one(aml, n - 36), 0);
	/* the APIC-mode table (PRTA): PRTP's LNKx links have method _CRS and are skipped */
	assert_string_equal(prt.source, "PRTA");
	assert_int_equal(prt.n, 128);
	uint32_t gsi;
	/* slots 0-0x17: GSIE-GSIH (20-23) swizzled by slot; 0x18-0x1f: GSIA-GSID (16-19) */
	assert_true(acpi_prt_lookup(&prt, 0, 0, &gsi));
	assert_int_equal(gsi, 20);
	assert_true(acpi_prt_lookup(&prt, 1, 0, &gsi));
	assert_int_equal(gsi, 21);
	assert_true(acpi_prt_lookup(&prt, 3, 0, &gsi));
	assert_int_equal(gsi, 23);
	assert_true(acpi_prt_lookup(&prt, 4, 1, &gsi));
	assert_int_equal(gsi, 21);
	assert_true(acpi_prt_lookup(&prt, 0x19, 0, &gsi));
	assert_int_equal(gsi, 16);
	assert_true(acpi_prt_lookup(&prt, 0x1f, 3, &gsi));
	for (unsigned i = 0; i < prt.n; i++)
		assert_true(prt.e[i].gsi >= 16 && prt.e[i].gsi <= 23);
	assert_false(acpi_prt_lookup(&prt, 0x20, 0, &gsi));
	free(aml);
}

/* Every prefix, and copies with one byte changed: no read outside, no crash. */
static void qemu_q35_hostile(void **state)
{
	(void)state;
	static uint8_t raw[65536];
	size_t n = load("dsdt-qemu-q35.bin", raw, sizeof(raw)) - 36;
	const uint8_t *src = raw + 36;
	for (size_t len = 0; len < n; len += 29) {
		uint8_t *p = exact(src, len);
		if (read_one(p, len) < 0)
			assert_true(why[0] != 0);
		free(p);
	}
	uint32_t seed = 12345;
	for (unsigned k = 0; k < 400; k++) {
		uint8_t *p = exact(src, n);
		seed = seed * 1103515245u + 12345u;
		size_t at = (seed >> 8) % n;
		seed = seed * 1103515245u + 12345u;
		p[at] = (uint8_t)(seed >> 16);
		if (read_one(p, n) == 0)
			for (unsigned i = 0; i < prt.n; i++)
				assert_true(prt.e[i].pin < 4 && prt.e[i].slot < 32);
		free(p);
	}
}

/* ---- crafted AML ---- */

static uint8_t buf[4096];
static size_t at;

static void emit(const void *p, size_t n)
{
	memcpy(buf + at, p, n);
	at += n;
}

static void byte(uint8_t b)
{
	buf[at++] = b;
}

/* Opens an object with a 2-byte PkgLength; close() fills it in. */
static size_t open_pkg(void)
{
	size_t pl = at;
	at += 2;
	return pl;
}

static void close_pkg(size_t pl)
{
	size_t len = at - pl;
	buf[pl] = (uint8_t)(0x40 | (len & 0xf));
	buf[pl + 1] = (uint8_t)(len >> 4);
}

static void dword(uint32_t v)
{
	byte(0x0c);
	for (unsigned i = 0; i < 4; i++)
		byte((uint8_t)(v >> (8 * i)));
}

/* Device(PCI0) { Name(_HID, EisaId("PNP0A08")) <then the caller's content> */
static size_t host_bridge(void)
{
	byte(0x5b), byte(0x82);
	size_t pl = open_pkg();
	emit("PCI0", 4);
	byte(0x08), emit("_HID", 4), dword(0x080ad041u);
	return pl;
}

static void entry(unsigned slot, unsigned pin, const char *link, unsigned index)
{
	byte(0x12);
	size_t pl = open_pkg();
	byte(4);
	dword(slot << 16 | 0xffff);
	byte(0x0a), byte((uint8_t)pin);
	if (link)
		emit(link, 4);
	else
		byte(0);
	byte(0x0a), byte((uint8_t)index);
	close_pkg(pl);
}

static void link_device(const char *name, unsigned gsi, bool method_crs)
{
	byte(0x5b), byte(0x82);
	size_t pl = open_pkg();
	emit(name, 4);
	if (method_crs) {
		byte(0x14);
		size_t m = open_pkg();
		emit("_CRS", 4), byte(0);
		byte(0xa4), emit("BUFX", 4);
		close_pkg(m);
	} else {
		/* Name(_CRS, Buffer(){ Extended Interrupt {gsi}, end tag }) */
		byte(0x08), emit("_CRS", 4), byte(0x11);
		size_t b = open_pkg();
		byte(0x0a), byte(11);
		uint8_t d[] = {0x89, 6, 0, 0x09, 1, (uint8_t)gsi, 0, 0, 0, 0x79, 0};
		emit(d, sizeof(d));
		close_pkg(b);
	}
	close_pkg(pl);
}

static void static_prt_with_gsis(void **state)
{
	(void)state;
	at = 0;
	size_t dev = host_bridge();
	byte(0x08), emit("_PRT", 4), byte(0x12);
	size_t p = open_pkg();
	byte(3);
	entry(2, 0, NULL, 40);
	entry(2, 1, NULL, 41);
	entry(3, 0, "LNKA", 0);
	close_pkg(p);
	link_device("LNKA", 18, false);
	close_pkg(dev);
	uint8_t *aml = exact(buf, at);
	assert_int_equal(read_one(aml, at), 0);
	assert_string_equal(prt.source, "_PRT");
	uint32_t gsi;
	assert_true(acpi_prt_lookup(&prt, 2, 1, &gsi));
	assert_int_equal(gsi, 41);
	assert_true(acpi_prt_lookup(&prt, 3, 0, &gsi));
	assert_int_equal(gsi, 18);
	free(aml);
}

static void method_crs_is_refused_in_words(void **state)
{
	(void)state;
	at = 0;
	size_t dev = host_bridge();
	byte(0x08), emit("_PRT", 4), byte(0x12);
	size_t p = open_pkg();
	byte(1);
	entry(2, 0, "LNKB", 0);
	close_pkg(p);
	link_device("LNKB", 0, true);
	close_pkg(dev);
	assert_int_equal(read_one(buf, at), -1);
	assert_non_null(strstr(why, "beyond this reader"));
	assert_non_null(strstr(why, "method"));
}

static void no_host_bridge(void **state)
{
	(void)state;
	at = 0;
	byte(0x08), emit("_PRT", 4), byte(0x12);
	size_t p = open_pkg();
	byte(1);
	entry(2, 0, NULL, 40);
	close_pkg(p);
	assert_int_equal(read_one(buf, at), -1);
	assert_non_null(strstr(why, "no bus-0 PCI host bridge"));
}

static void bus_nonzero_is_not_bus0(void **state)
{
	(void)state;
	at = 0;
	size_t dev = host_bridge();
	byte(0x08), emit("_BBN", 4), byte(0x0a), byte(0x80);
	byte(0x08), emit("_PRT", 4), byte(0x12);
	size_t p = open_pkg();
	byte(1);
	entry(2, 0, NULL, 40);
	close_pkg(p);
	close_pkg(dev);
	assert_int_equal(read_one(buf, at), -1);
}

static void entry_not_a_whole_slot(void **state)
{
	(void)state;
	at = 0;
	size_t dev = host_bridge();
	byte(0x08), emit("_PRT", 4), byte(0x12);
	size_t p = open_pkg();
	byte(1);
	byte(0x12);
	size_t e = open_pkg();
	byte(4), dword(2u << 16 | 1), byte(0), byte(0), byte(0x0a), byte(40);
	close_pkg(e);
	close_pkg(p);
	close_pkg(dev);
	assert_int_equal(read_one(buf, at), -1);
	assert_non_null(strstr(why, "not a whole slot"));
}

static void swizzle(void **state)
{
	(void)state;
	/* device 0 behind a bridge: pins pass straight; device 1: INTA arrives as INTB */
	assert_int_equal(pci_swizzle(0, 0), 0);
	assert_int_equal(pci_swizzle(1, 0), 1);
	assert_int_equal(pci_swizzle(3, 2), 1);
	assert_int_equal(pci_swizzle(31, 3), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(qemu_q35_dsdt),
		cmocka_unit_test(qemu_q35_hostile),
		cmocka_unit_test(static_prt_with_gsis),
		cmocka_unit_test(method_crs_is_refused_in_words),
		cmocka_unit_test(no_host_bridge),
		cmocka_unit_test(bus_nonzero_is_not_bus0),
		cmocka_unit_test(entry_not_a_whole_slot),
		cmocka_unit_test(swizzle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
