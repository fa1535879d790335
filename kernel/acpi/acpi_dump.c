#include "kernel/acpi/acpi_dump.h"

#include "kernel/log.h"

static void dump_bytes(const char *sig, uint64_t addr, const uint8_t *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char line[2 * 32 + 1];

	printk("acpi-dump: %s %#llx %zu\n", sig, (unsigned long long)addr, len);
	for (size_t off = 0; off < len; off += 32) {
		size_t n = len - off < 32 ? len - off : 32;
		for (size_t i = 0; i < n; i++) {
			line[2 * i] = hex[p[off + i] >> 4];
			line[2 * i + 1] = hex[p[off + i] & 15];
		}
		line[2 * n] = 0;
		printk("acpi-hex: %s\n", line);
	}
}

void acpi_dump(const uint8_t *rsdp, size_t rsdp_len, const struct acpi_info *ai,
	       acpi_phys_fn phys)
{
	dump_bytes("RSDP", 0, rsdp, rsdp_len);
	const uint8_t *root = phys(ai->root_address);
	uint32_t root_len;
	__builtin_memcpy(&root_len, root + 4, 4);
	dump_bytes(ai->root_is_xsdt ? "XSDT" : "RSDT", ai->root_address, root, root_len);
	for (size_t i = 0; i < ai->ntables; i++) {
		const struct acpi_table_ref *t = &ai->tables[i];
		if (t->length <= (1u << 20))
			dump_bytes(t->signature, t->address, phys(t->address), t->length);
	}
	/* the DSDT is named by the FADT, not the root table: dumped too (AML: _PRT, _S5) */
	const struct acpi_table_ref *fadt = acpi_table(ai, "FACP");
	if (fadt && fadt->length >= 44) {
		const uint8_t *f = phys(fadt->address);
		uint64_t dsdt = (uint64_t)f[40] | (uint64_t)f[41] << 8 | (uint64_t)f[42] << 16 |
				(uint64_t)f[43] << 24;
		if (fadt->length >= 148) {
			uint64_t x = 0;
			for (unsigned i = 0; i < 8; i++)
				x |= (uint64_t)f[140 + i] << (8 * i);
			if (x)
				dsdt = x;
		}
		const uint8_t *d = dsdt ? phys(dsdt) : NULL;
		uint32_t dlen = d ? (uint32_t)d[4] | (uint32_t)d[5] << 8 | (uint32_t)d[6] << 16 |
					    (uint32_t)d[7] << 24
				  : 0;
		if (d && __builtin_memcmp(d, "DSDT", 4) == 0 && dlen >= 36 && dlen <= (1u << 20))
			dump_bytes("DSDT", dsdt, d, dlen);
	}
	printk("acpi-dump: end\n");
}
