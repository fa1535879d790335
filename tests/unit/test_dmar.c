// SOURCES: kernel/iommu/dmar.c kernel/lib/format.c kernel/lib/string.c
/*
 * The DMAR parser (kernel/iommu/dmar.c) on QEMU 7.2's tables, dumped by the
 * hypervisor's acpi_dump from q35 machines with intel-iommu (tests/data/
 * dmar-qemu-*.bin: explicit endpoint scopes, the IOAPIC's, a root port's
 * sub-hierarchy, an ATSR), on crafted tables (INCLUDE_PCI_ALL, RMRR,
 * several units, bridges resolved through a fake bus), and on hostile
 * ones: lengths that run past the table or the structure, odd paths,
 * bad checksums, too many structures, unaligned regions. None may read
 * past the buffer (AddressSanitizer watches) and the damage is reported.
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

#include "kernel/iommu/dmar.h"

static struct dmar_info info;
static char err[128];

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

/* An exact-size heap copy, so AddressSanitizer catches a read one past the end. */
static uint8_t *exact(const uint8_t *src, size_t n)
{
	uint8_t *p = malloc(n);
	memcpy(p, src, n);
	return p;
}

/* ---- a table builder ---- */

static uint8_t tb[4096];
static size_t tlen;

static void put(const void *p, size_t n)
{
	memcpy(tb + tlen, p, n);
	tlen += n;
}

static void put16(uint16_t v)
{
	put(&v, 2);
}

static void put64(uint64_t v)
{
	put(&v, 8);
}

static void begin(uint8_t haw_minus_1, uint8_t flags)
{
	memset(tb, 0, sizeof(tb));
	memcpy(tb, "DMAR", 4);
	tb[8] = 1;
	memcpy(tb + 10, "TESTER", 6);
	tlen = 36;
	uint8_t h[12] = {haw_minus_1, flags};
	put(h, 12);
}

static void finish(void)
{
	uint32_t l = (uint32_t)tlen;
	memcpy(tb + 4, &l, 4);
	tb[9] = 0;
	uint8_t s = 0;
	for (size_t i = 0; i < tlen; i++)
		s = (uint8_t)(s + tb[i]);
	tb[9] = (uint8_t)-s;
}

static size_t struct_start;

static void drhd(uint8_t flags, uint16_t seg, uint64_t base)
{
	struct_start = tlen;
	put16(0);
	put16(0); /* length, patched by end_struct */
	uint8_t f[2] = {flags, 0};
	put(f, 2);
	put16(seg);
	put64(base);
}

static void rmrr(uint16_t seg, uint64_t base, uint64_t limit)
{
	struct_start = tlen;
	put16(1);
	put16(0);
	put16(0);
	put16(seg);
	put64(base);
	put64(limit);
}

static void scope(uint8_t type, uint8_t id, uint8_t bus, int nhops, const uint8_t *hops)
{
	uint8_t h[6] = {type, (uint8_t)(6 + 2 * nhops), 0, 0, id, bus};
	put(h, 6);
	put(hops, 2 * (size_t)nhops);
}

static void end_struct(void)
{
	uint16_t l = (uint16_t)(tlen - struct_start);
	memcpy(tb + struct_start + 2, &l, 2);
}

/* ---- QEMU's tables ---- */

static void test_qemu_q35_intremap(void **state)
{
	(void)state;
	uint8_t raw[512];
	size_t n = load("dmar-qemu-q35-intremap.bin", raw, sizeof(raw));
	uint8_t *t = exact(raw, n);
	assert_int_equal(dmar_parse(&info, t, n, err, sizeof(err)), 0);
	assert_int_equal(info.haw, 48);
	assert_true(info.flags & DMAR_FLAG_INTR_REMAP);
	assert_int_equal(info.ndrhd, 1);
	assert_int_equal(info.nrmrr, 0);
	assert_int_equal(info.natsr, 0);
	assert_int_equal(info.nwarn, 0);
	const struct dmar_drhd *d = &info.drhd[0];
	assert_int_equal(d->base, 0xfed90000);
	assert_int_equal(d->segment, 0);
	assert_false(d->include_all);
	assert_int_equal(d->nscopes, 6);
	/* the IOAPIC (ID 0) as q35 wires it: bus 0xff, 00.0 */
	const struct dmar_scope *s = &info.scopes[d->first_scope];
	assert_int_equal(s->type, DMAR_SCOPE_IOAPIC);
	assert_int_equal(s->enum_id, 0);
	assert_int_equal(s->start_bus, 0xff);
	dmar_resolve(&info, NULL, NULL);
	int unit;
	uint16_t sid;
	assert_true(dmar_ioapic_sid(&info, 0, &unit, &sid));
	assert_int_equal(unit, 0);
	assert_int_equal(sid, 0xff00);
	assert_false(dmar_ioapic_sid(&info, 1, &unit, &sid));
	/* the endpoints: host bridge, VGA, LPC, SATA, SMBus */
	assert_int_equal(dmar_unit_for(&info, 0, 0, 0x00), 0);
	assert_int_equal(dmar_unit_for(&info, 0, 0, 0x08), 0);
	assert_int_equal(dmar_unit_for(&info, 0, 0, 0x1f << 3 | 2), 0);
	assert_int_equal(dmar_unit_for(&info, 0, 0, 0x1f << 3 | 3), 0);
	/* no INCLUDE_PCI_ALL: a device the table does not name is not covered */
	assert_int_equal(dmar_unit_for(&info, 0, 0, 0x20), -1);
	assert_int_equal(dmar_unit_for(&info, 1, 0, 0x00), -1);
	free(t);
}

static void test_qemu_q35_devtlb_has_atsr(void **state)
{
	(void)state;
	uint8_t raw[512];
	size_t n = load("dmar-qemu-q35-devtlb.bin", raw, sizeof(raw));
	uint8_t *t = exact(raw, n);
	assert_int_equal(dmar_parse(&info, t, n, err, sizeof(err)), 0);
	assert_int_equal(info.haw, 39); /* aw-bits left at 7.2's default */
	assert_int_equal(info.natsr, 1);
	assert_true(info.atsr[0].all_ports);
	assert_int_equal(info.atsr[0].nscopes, 0);
	assert_int_equal(info.nwarn, 0);
	free(t);
}

static bool fake_bridge(void *ctx, uint16_t seg, uint8_t bus, uint8_t devfn, uint8_t *sec,
			uint8_t *sub)
{
	(void)ctx;
	if (seg == 0 && bus == 0 && devfn == (5 << 3)) { /* the root port at 00:05.0 */
		*sec = 1;
		*sub = 1;
		return true;
	}
	if (seg == 0 && bus == 1 && devfn == 0) { /* a switch port under it (crafted tests) */
		*sec = 2;
		*sub = 4;
		return true;
	}
	return false;
}

static void test_qemu_q35_root_port_sub_hierarchy(void **state)
{
	(void)state;
	uint8_t raw[512];
	size_t n = load("dmar-qemu-q35-rootport.bin", raw, sizeof(raw));
	uint8_t *t = exact(raw, n);
	assert_int_equal(dmar_parse(&info, t, n, err, sizeof(err)), 0);
	assert_int_equal(info.ndrhd, 1);
	assert_true(info.flags & DMAR_FLAG_INTR_REMAP);
	dmar_resolve(&info, fake_bridge, NULL);
	/* the root port itself and the e1000e behind it (bus 1) */
	assert_int_equal(dmar_unit_for(&info, 0, 0, 5 << 3), 0);
	assert_int_equal(dmar_unit_for(&info, 0, 1, 0), 0);
	assert_int_equal(dmar_unit_for(&info, 0, 2, 0), -1);
	/* unresolved (no bridge answers): the sub-hierarchy covers only nothing */
	dmar_resolve(&info, NULL, NULL);
	assert_int_equal(dmar_unit_for(&info, 0, 1, 0), -1);
	assert_int_equal(dmar_unit_for(&info, 0, 0, 5 << 3), -1);
	free(t);
}

/* ---- crafted tables ---- */

static void test_include_all_and_specific_units(void **state)
{
	(void)state;
	static const uint8_t hop_gpu[] = {2, 0};
	static const uint8_t hop_sw[] = {5, 0, 0, 0}; /* root port 00:05.0, then 01:00.0 */
	begin(38, DMAR_FLAG_INTR_REMAP | DMAR_FLAG_X2APIC_OPT_OUT);
	drhd(0, 0, 0xfed90000); /* the graphics unit: one endpoint */
	scope(DMAR_SCOPE_ENDPOINT, 0, 0, 1, hop_gpu);
	end_struct();
	drhd(0, 0, 0xfed91000); /* a unit for a switch's downstream buses */
	scope(DMAR_SCOPE_BRIDGE, 0, 0, 2, hop_sw);
	end_struct();
	drhd(1, 0, 0xfed92000); /* everything else, with the IOAPIC and an HPET */
	static const uint8_t hop_ioapic[] = {0x1e, 7};
	static const uint8_t hop_hpet[] = {0x1f, 0};
	scope(DMAR_SCOPE_IOAPIC, 8, 0xf0, 1, hop_ioapic);
	scope(DMAR_SCOPE_HPET, 0, 0, 1, hop_hpet);
	end_struct();
	rmrr(0, 0x7d000000, 0x7d0fffff); /* USB's legacy buffers, for 00:1d.0 */
	static const uint8_t hop_usb[] = {0x1d, 0};
	scope(DMAR_SCOPE_ENDPOINT, 0, 0, 1, hop_usb);
	end_struct();
	finish();

	assert_int_equal(dmar_parse(&info, tb, tlen, err, sizeof(err)), 0);
	assert_int_equal(info.haw, 39);
	assert_true(info.flags & DMAR_FLAG_X2APIC_OPT_OUT);
	assert_int_equal(info.ndrhd, 3);
	assert_int_equal(info.nrmrr, 1);
	assert_int_equal(info.nwarn, 0);
	assert_true(info.drhd[2].include_all);
	dmar_resolve(&info, fake_bridge, NULL);
	assert_int_equal(dmar_unit_for(&info, 0, 0, 2 << 3), 0);
	/* the switch port 01:00.0 and buses 2-4 behind it; the root port is not in that scope */
	assert_int_equal(dmar_unit_for(&info, 0, 1, 0), 1);
	assert_int_equal(dmar_unit_for(&info, 0, 3, 0x10), 1);
	assert_int_equal(dmar_unit_for(&info, 0, 4, 0), 1);
	assert_int_equal(dmar_unit_for(&info, 0, 0, 5 << 3), 2);
	assert_int_equal(dmar_unit_for(&info, 0, 5, 0), 2);
	assert_int_equal(dmar_unit_for(&info, 0, 0, 0x1d << 3), 2);
	assert_int_equal(dmar_unit_for(&info, 1, 0, 0), -1); /* INCLUDE_PCI_ALL is per segment */
	int unit;
	uint16_t sid;
	assert_true(dmar_ioapic_sid(&info, 8, &unit, &sid));
	assert_int_equal(unit, 2);
	assert_int_equal(sid, 0xf0f7);
	const struct dmar_rmrr *r = &info.rmrr[0];
	assert_int_equal(r->base, 0x7d000000);
	assert_int_equal(r->limit, 0x7d0fffff);
	assert_true(dmar_rmrr_names(&info, r, 0, 0, 0x1d << 3));
	assert_false(dmar_rmrr_names(&info, r, 0, 0, 0x1d << 3 | 1));
	assert_false(dmar_rmrr_names(&info, r, 1, 0, 0x1d << 3));
}

/* ---- hostile tables ---- */

static void expect_reject(const uint8_t *t, size_t n, const char *words)
{
	uint8_t *p = exact(t, n);
	assert_int_equal(dmar_parse(&info, p, n, err, sizeof(err)), -1);
	if (!strstr(err, words))
		fail_msg("error \"%s\" lacks \"%s\"", err, words);
	free(p);
}

static bool warned(const char *words)
{
	for (unsigned i = 0; i < info.nwarn && i < DMAR_MAX_WARN; i++)
		if (strstr(info.warn[i], words))
			return true;
	return false;
}

static void test_rejects_broken_headers(void **state)
{
	(void)state;
	begin(47, 0);
	drhd(1, 0, 0xfed90000);
	end_struct();
	finish();
	assert_int_equal(dmar_parse(&info, tb, tlen, err, sizeof(err)), 0);

	expect_reject(tb, 20, "not a DMAR");
	/* a length beyond the buffer the caller has */
	expect_reject(tb, tlen - 1, "length");
	uint8_t bad[256];
	memcpy(bad, tb, tlen);
	bad[20] ^= 1;
	expect_reject(bad, tlen, "checksum");
	memcpy(bad, "DMAX", 4);
	expect_reject(bad, tlen, "not a DMAR");

	begin(10, 0); /* an 11-bit host address width */
	drhd(1, 0, 0xfed90000);
	end_struct();
	finish();
	expect_reject(tb, tlen, "width");

	begin(47, 0); /* only an RMRR: nothing to remap with */
	rmrr(0, 0x1000, 0x1fff);
	end_struct();
	finish();
	expect_reject(tb, tlen, "no usable remapping unit");
}

static void test_structure_longer_than_the_table(void **state)
{
	(void)state;
	begin(47, 0);
	drhd(1, 0, 0xfed90000);
	end_struct();
	rmrr(0, 0x1000, 0x1fff);
	end_struct();
	uint16_t huge = 0x400;
	memcpy(tb + struct_start + 2, &huge, 2);
	finish();
	uint8_t *p = exact(tb, tlen);
	assert_int_equal(dmar_parse(&info, p, tlen, err, sizeof(err)), 0);
	assert_int_equal(info.ndrhd, 1);
	assert_int_equal(info.nrmrr, 0);
	assert_true(warned("RMRR at 0x40: length 1024 does not fit"));
	free(p);

	/* length 0 (would loop forever) and 2 (shorter than the header) stop the walk too */
	for (uint16_t l = 0; l < 4; l++) {
		memcpy(tb + struct_start + 2, &l, 2);
		finish();
		p = exact(tb, tlen);
		assert_int_equal(dmar_parse(&info, p, tlen, err, sizeof(err)), 0);
		assert_int_equal(info.nrmrr, 0);
		assert_int_equal(info.nwarn, 1);
		free(p);
	}
}

static void test_scopes_that_do_not_fit(void **state)
{
	(void)state;
	static const uint8_t hop[] = {3, 0, 4, 0};
	/* a scope claiming 12 bytes in a structure with 8 left */
	begin(47, 0);
	drhd(0, 0, 0xfed90000);
	scope(DMAR_SCOPE_ENDPOINT, 0, 0, 1, hop);
	end_struct();
	tb[struct_start + 16 + 1] = 12;
	drhd(1, 0, 0xfed91000);
	end_struct();
	finish();
	uint8_t *p = exact(tb, tlen);
	assert_int_equal(dmar_parse(&info, p, tlen, err, sizeof(err)), 0);
	assert_int_equal(info.ndrhd, 1); /* the damaged unit dropped, the other kept */
	assert_int_equal(info.drhd[0].base, 0xfed91000);
	assert_int_equal(info.nscopes, 0);
	assert_true(warned("device scope of length 12 does not fit"));
	free(p);

	/* an odd path length; a scope shorter than its header; stray bytes */
	for (int kind = 0; kind < 3; kind++) {
		begin(47, 0);
		drhd(1, 0, 0xfed90000);
		if (kind == 0) {
			uint8_t s[7] = {DMAR_SCOPE_ENDPOINT, 7, 0, 0, 0, 0, 3};
			put(s, 7);
		} else if (kind == 1) {
			uint8_t s[4] = {DMAR_SCOPE_ENDPOINT, 4, 0, 0};
			put(s, 4);
		} else {
			scope(DMAR_SCOPE_ENDPOINT, 0, 0, 2, hop);
			uint8_t s[1] = {1};
			put(s, 1);
		}
		end_struct();
		finish();
		p = exact(tb, tlen);
		assert_int_equal(dmar_parse(&info, p, tlen, err, sizeof(err)), kind == 2 ? 0 : -1);
		assert_true(info.nwarn >= 1);
		if (kind == 2) {
			assert_int_equal(info.drhd[0].nscopes, 1);
			assert_true(warned("stray bytes"));
		}
		free(p);
	}
}

static void test_odd_values_skipped_with_words(void **state)
{
	(void)state;
	static const uint8_t hop_bad[] = {40, 9};
	static const uint8_t hop_ok[] = {3, 0};
	begin(47, 0);
	drhd(1, 0, 0xfed90800); /* not a page address */
	end_struct();
	drhd(0, 0, 0xfed91000);
	scope(9, 0, 0, 1, hop_ok);	    /* unknown type */
	scope(DMAR_SCOPE_ENDPOINT, 0, 0, 1, hop_bad); /* device 40 function 9 */
	scope(DMAR_SCOPE_ENDPOINT, 0, 0, 1, hop_ok);
	end_struct();
	drhd(1, 0, 0xfed91000); /* the same unit twice */
	end_struct();
	rmrr(0, 0x2000, 0x1fff); /* limit below base */
	end_struct();
	rmrr(0, 0x2000, 0x2800); /* not whole pages */
	end_struct();
	uint8_t other[8] = {4, 0, 8, 0}; /* an ANDD, not used */
	put(other, 8);
	finish();
	assert_int_equal(dmar_parse(&info, tb, tlen, err, sizeof(err)), 0);
	assert_int_equal(info.ndrhd, 1);
	assert_int_equal(info.drhd[0].nscopes, 1);
	assert_int_equal(info.nrmrr, 0);
	assert_int_equal(info.other, 1);
	assert_true(warned("not a page address"));
	assert_true(warned("unknown type 9"));
	assert_true(warned("device 40 function 9"));
	assert_true(warned("listed twice"));
	assert_true(warned("not whole pages"));
	assert_int_equal(info.nwarn, 6);
	dmar_resolve(&info, NULL, NULL);
	assert_int_equal(dmar_unit_for(&info, 0, 0, 3 << 3), 0);
}

static void test_too_many_of_everything(void **state)
{
	(void)state;
	static const uint8_t hop[] = {1, 0};
	begin(47, 0);
	for (unsigned i = 0; i < DMAR_MAX_UNITS + 4; i++) {
		drhd(0, 0, 0xfe000000 + 0x1000 * i);
		for (unsigned k = 0; k < 10; k++)
			scope(DMAR_SCOPE_ENDPOINT, 0, (uint8_t)i, 1, hop);
		end_struct();
	}
	for (unsigned i = 0; i < DMAR_MAX_RMRR + 1; i++) {
		rmrr(0, 0x100000ull * (i + 1), 0x100000ull * (i + 1) + 0xfff);
		end_struct();
	}
	finish();
	uint8_t *p = exact(tb, tlen);
	assert_int_equal(dmar_parse(&info, p, tlen, err, sizeof(err)), 0);
	/* 64 scopes hold six units of ten; the seventh's would overflow and it is dropped */
	assert_int_equal(info.nscopes, 60);
	assert_int_equal(info.ndrhd, 6);
	assert_int_equal(info.nrmrr, DMAR_MAX_RMRR);
	/* six units dropped for their scopes, one RMRR too many: counted beyond what is kept */
	assert_int_equal(info.nwarn, 7);
	assert_true(warned("more than 64 device scopes"));
	assert_true(warned("more than 16 reserved regions") || info.nwarn > DMAR_MAX_WARN);
	for (unsigned u = 0; u < info.ndrhd; u++)
		assert_int_equal(info.drhd[u].first_scope, u * 10);
	free(p);
}

static void test_every_truncation_is_safe(void **state)
{
	(void)state;
	/* the QEMU table cut at every length, with the header's length fixed to match */
	uint8_t raw[512];
	size_t n = load("dmar-qemu-q35-rootport.bin", raw, sizeof(raw));
	for (size_t cut = 0; cut <= n; cut++) {
		uint8_t *p = exact(raw, cut ? cut : 1);
		if (cut >= 10) {
			uint32_t l = (uint32_t)cut;
			memcpy(p + 4, &l, 4);
			p[9] = 0;
			uint8_t s = 0;
			for (size_t i = 0; i < cut; i++)
				s = (uint8_t)(s + p[i]);
			p[9] = (uint8_t)-s;
		}
		int r = dmar_parse(&info, p, cut, err, sizeof(err));
		assert_true(r == 0 || r == -1);
		if (r == 0)
			dmar_resolve(&info, fake_bridge, NULL);
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_qemu_q35_intremap),
	    cmocka_unit_test(test_qemu_q35_devtlb_has_atsr),
	    cmocka_unit_test(test_qemu_q35_root_port_sub_hierarchy),
	    cmocka_unit_test(test_include_all_and_specific_units),
	    cmocka_unit_test(test_rejects_broken_headers),
	    cmocka_unit_test(test_structure_longer_than_the_table),
	    cmocka_unit_test(test_scopes_that_do_not_fit),
	    cmocka_unit_test(test_odd_values_skipped_with_words),
	    cmocka_unit_test(test_too_many_of_everything),
	    cmocka_unit_test(test_every_truncation_is_safe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
