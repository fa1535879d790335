/*
 * Fuzz target for the DMAR parser (kernel/iommu/dmar.c). The input's length
 * and checksum fields are fixed up first, so the mutations reach the
 * remapping structures instead of dying at the header. A parse either
 * fails with a reason or gives units, regions and scopes whose indices stay
 * inside the arrays; resolving the scopes through a bridge callback that
 * answers from the input, and looking devices up, never goes outside them.
 */
#include "tests/fuzz/fuzz_guest.h"

#include "kernel/iommu/dmar.h"

static struct dmar_info info;
static const uint8_t *cur;
static size_t cur_len;

static bool bridge(void *ctx, uint16_t seg, uint8_t bus, uint8_t devfn, uint8_t *sec, uint8_t *sub)
{
	(void)ctx;
	if (!cur_len)
		return false;
	uint8_t b = cur[(seg + bus * 7u + devfn) % cur_len];
	if (b & 1)
		return false;
	*sec = (uint8_t)(bus + 1 + (b >> 4));
	*sub = (uint8_t)(*sec + (b & 0xe));
	return true;
}

static void check_span(unsigned first, unsigned n)
{
	CHECK(first <= info.nscopes && n <= info.nscopes - first);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t t[FUZZ_MAX_INPUT];
	char err[128];
	if (size > sizeof(t))
		size = sizeof(t);
	memcpy(t, data, size);
	if (size >= 10) {
		put_le(t + 4, size, 4);
		t[9] = 0;
		uint8_t s = 0;
		for (size_t i = 0; i < size; i++)
			s = (uint8_t)(s + t[i]);
		t[9] = (uint8_t)-s;
	}
	/* an exact-size copy: a read past the table is a heap overflow */
	uint8_t *p = malloc(size ? size : 1);
	CHECK(p);
	memcpy(p, t, size);
	int r = dmar_parse(&info, p, size, err, sizeof(err));
	if (r < 0) {
		CHECK(err[0] != 0);
	} else {
		CHECK(r == 0);
		CHECK(info.ndrhd >= 1 && info.ndrhd <= DMAR_MAX_UNITS);
		CHECK(info.nrmrr <= DMAR_MAX_RMRR && info.natsr <= DMAR_MAX_ATSR);
		CHECK(info.nscopes <= DMAR_MAX_SCOPES);
		for (unsigned i = 0; i < info.ndrhd; i++) {
			check_span(info.drhd[i].first_scope, info.drhd[i].nscopes);
			CHECK(info.drhd[i].base && !(info.drhd[i].base & 0xfff));
		}
		for (unsigned i = 0; i < info.nrmrr; i++) {
			check_span(info.rmrr[i].first_scope, info.rmrr[i].nscopes);
			CHECK(info.rmrr[i].base <= info.rmrr[i].limit);
		}
		for (unsigned i = 0; i < info.natsr; i++)
			check_span(info.atsr[i].first_scope, info.atsr[i].nscopes);
		for (unsigned i = 0; i < info.nscopes; i++) {
			const struct dmar_scope *s = &info.scopes[i];
			CHECK(s->npath >= 1 && s->npath <= DMAR_MAX_PATH);
			CHECK(s->type >= DMAR_SCOPE_ENDPOINT && s->type <= DMAR_SCOPE_ACPI);
		}
		cur = t;
		cur_len = size;
		dmar_resolve(&info, bridge, NULL);
		for (unsigned bus = 0; bus < 256; bus += 5)
			for (unsigned df = 0; df < 256; df += 9) {
				int u = dmar_unit_for(&info, 0, (uint8_t)bus, (uint8_t)df);
				CHECK(u == -1 || (u >= 0 && (unsigned)u < info.ndrhd));
				for (unsigned k = 0; k < info.nrmrr; k++)
					dmar_rmrr_names(&info, &info.rmrr[k], 0, (uint8_t)bus, (uint8_t)df);
			}
		int unit;
		uint16_t sid;
		for (unsigned id = 0; id < 256; id += 17)
			if (dmar_ioapic_sid(&info, (uint8_t)id, &unit, &sid))
				CHECK(unit >= 0 && (unsigned)unit < info.ndrhd);
	}
	free(p);
	return 0;
}

/* QEMU 7.2's q35 table with a root port (tests/data/dmar-qemu-q35-rootport.bin), and one with
 * INCLUDE_PCI_ALL, an RMRR and an ATSR built from it. */
static const uint8_t qemu_rootport[] = {
    0x44, 0x4d, 0x41, 0x52, 0x78, 0x00, 0x00, 0x00, 0x01, 0x00, 0x42, 0x4f, 0x43, 0x48, 0x53, 0x20,
    0x42, 0x58, 0x50, 0x43, 0x20, 0x20, 0x20, 0x20, 0x01, 0x00, 0x00, 0x00, 0x42, 0x58, 0x50, 0x43,
    0x01, 0x00, 0x00, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x48, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xd9, 0xfe, 0x00, 0x00, 0x00, 0x00,
    0x03, 0x08, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x08, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00,
    0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x1f, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x1f, 0x02,
    0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x1f, 0x03,
};

static size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	size_t n = sizeof(qemu_rootport);
	if (i > 1 || cap < n + 64)
		return 0;
	memcpy(buf, qemu_rootport, n);
	if (i == 1) {
		buf[48 + 4] = 1; /* INCLUDE_PCI_ALL */
		static const uint8_t rmrr[] = {1, 0, 32, 0, 0, 0, 0, 0, 0, 0, 0xd0, 0x7d, 0, 0, 0, 0,
					       0xff, 0xff, 0xd0, 0x7d, 0, 0, 0, 0, 1, 8, 0, 0, 0, 0,
					       0x1d, 0};
		static const uint8_t atsr[] = {2, 0, 8, 0, 1, 0, 0, 0};
		memcpy(buf + n, rmrr, sizeof(rmrr));
		n += sizeof(rmrr);
		memcpy(buf + n, atsr, sizeof(atsr));
		n += sizeof(atsr);
	}
	return n;
}
