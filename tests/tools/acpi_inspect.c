/*
 * Host tool for the test suite: reads an `acpi_dump` log (from the serial
 * console) on stdin, rebuilds those tables at their physical addresses, runs
 * the hypervisor's ACPI parser over them (under AddressSanitizer) and prints
 * what it found, one "key: value" per line.
 *
 * `acpi_inspect --guest DIR` does the same for the tables a VM gets
 * (guest/acpi_build.c, with a PCI bus and an HPET), and writes each table as
 * DIR/SIG.dat, the form `iasl -d` disassembles; it also walks the DSDT's AML
 * (every PkgLength must nest) and counts the root bridge's _PRT entries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/acpi_build.h"
#include "kernel/acpi/acpi.h"

#define MAX_BLOBS 64

struct blob {
	char sig[8];
	uint64_t addr;
	size_t len, filled;
	uint8_t *data;
};

static struct blob blobs[MAX_BLOBS];
static size_t nblobs;
static uint8_t zero_page[1 << 16];

static const void *phys(uint64_t addr)
{
	for (size_t i = 0; i < nblobs; i++)
		if (blobs[i].addr && addr >= blobs[i].addr && addr < blobs[i].addr + blobs[i].len)
			return blobs[i].data + (addr - blobs[i].addr);
	return zero_page; /* not dumped: reads as zeros, which the parser must survive */
}

static int hexval(char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

static void print_facts(const struct acpi_info *ai);

/* PkgLength at p (ACPI 6.5 §20.2.4): its value, and its own size in *n. */
static size_t pkg_length(const uint8_t *p, size_t *n)
{
	size_t extra = p[0] >> 6, v = extra ? p[0] & 0xf : p[0] & 0x3f;
	for (size_t i = 0; i < extra; i++)
		v |= (size_t)p[1 + i] << (4 + 8 * i);
	*n = 1 + extra;
	return v;
}

/*
 * Finds Name (_PRT, Package (N) {...}) in the AML and checks each element is a
 * Package of 4 whose PkgLength lands on the next one; returns N or -1.
 */
static int prt_entries(const uint8_t *aml, size_t len)
{
	for (size_t i = 0; i + 7 < len; i++) {
		if (aml[i] != 0x08 || memcmp(aml + i + 1, "_PRT", 4) != 0 || aml[i + 5] != 0x12)
			continue;
		size_t n, plen = pkg_length(aml + i + 6, &n);
		const uint8_t *p = aml + i + 6, *end = p + plen, *e = p + n + 1;
		if (end > aml + len)
			return -1;
		unsigned count = p[n];
		for (unsigned k = 0; k < count; k++) {
			size_t en, elen;
			if (e >= end || e[0] != 0x12)
				return -1;
			elen = pkg_length(e + 1, &en);
			if (e[1 + en] != 4 || e + 1 + elen > end)
				return -1;
			e += 1 + elen;
		}
		return e == end ? (int)count : -1;
	}
	return -1;
}

static int guest_tables(const char *dir)
{
	static uint8_t mem[0x10000];
	struct acpi_build_config cfg = { .vcpus = 2, .pm_timer_port = ACPI_BUILD_PM_TIMER_DEFAULT,
					 .hpet = true, .pci = true };
	size_t used;
	uint64_t rsdp;
	const uint64_t base = 0xe0000;

	if (acpi_build(&cfg, mem, sizeof(mem), base, &used, &rsdp) != ACPI_BUILD_OK)
		return 2;
	blobs[0] = (struct blob){ "RSDP", base, used, used, mem };
	nblobs = 1;

	static struct acpi_info ai;
	char err[128];
	if (acpi_parse(&ai, mem, 36, phys, err, sizeof(err)) < 0) {
		printf("error: %s\n", err);
		return 1;
	}
	print_facts(&ai);
	const struct acpi_table_ref *fadt = acpi_table(&ai, "FACP");
	const uint8_t *f = fadt ? phys(fadt->address) : NULL;
	for (size_t i = 0; i <= ai.ntables; i++) {
		/* every table the XSDT lists, and the DSDT the FADT points at */
		uint64_t a = i < ai.ntables ? ai.tables[i].address
					    : (f ? (uint64_t)f[140] | (uint64_t)f[141] << 8 |
							   (uint64_t)f[142] << 16 | (uint64_t)f[143] << 24
						 : 0);
		const uint8_t *t = phys(a);
		size_t len = (size_t)t[4] | (size_t)t[5] << 8 | (size_t)t[6] << 16;
		char path[512];
		snprintf(path, sizeof(path), "%s/%.4s.dat", dir, (const char *)t);
		FILE *out = fopen(path, "wb");
		if (!out || fwrite(t, 1, len, out) != len || fclose(out) != 0)
			return 2;
		if (memcmp(t, "DSDT", 4) == 0)
			printf("prt entries: %d\n", prt_entries(t + 36, len - 36));
	}
	return 0;
}

int main(int argc, char **argv)
{
	char line[512];
	struct blob *cur = NULL;

	if (argc == 3 && strcmp(argv[1], "--guest") == 0)
		return guest_tables(argv[2]);

	while (fgets(line, sizeof(line), stdin)) {
		char *p;
		if ((p = strstr(line, "acpi-dump: ")) && !strstr(line, "acpi-dump: end")) {
			if (nblobs == MAX_BLOBS)
				return 2;
			cur = &blobs[nblobs++];
			unsigned long long addr;
			size_t len;
			if (sscanf(p + 11, "%7s %llx %zu", cur->sig, &addr, &len) != 3)
				return 2;
			cur->addr = addr;
			cur->len = len;
			cur->data = calloc(1, len);
		} else if ((p = strstr(line, "acpi-hex: ")) && cur) {
			for (p += 10; p[0] && p[1] && p[0] != '\n' && cur->filled < cur->len; p += 2)
				cur->data[cur->filled++] = (uint8_t)(hexval(p[0]) << 4 | hexval(p[1]));
		}
	}
	if (nblobs == 0 || strcmp(blobs[0].sig, "RSDP") != 0) {
		fprintf(stderr, "acpi_inspect: no RSDP in the dump\n");
		return 2;
	}

	static struct acpi_info ai;
	char err[128];
	if (acpi_parse(&ai, blobs[0].data, blobs[0].len, phys, err, sizeof(err)) < 0) {
		printf("error: %s\n", err);
		return 1;
	}
	print_facts(&ai);
	return 0;
}

static void print_facts(const struct acpi_info *aip)
{
	const struct acpi_info ai = *aip;

	printf("revision: %u\n", ai.rsdp_revision);
	printf("root: %s\n", ai.root_is_xsdt ? "XSDT" : "RSDT");
	printf("tables:");
	for (size_t i = 0; i < ai.ntables; i++)
		printf(" %s%s", ai.tables[i].signature, ai.tables[i].checksum_ok ? "" : "(bad)");
	printf("\ncpus: %zu\n", ai.ncpus);
	printf("cpu apic ids:");
	for (size_t i = 0; i < ai.ncpus; i++)
		printf(" %u", ai.cpus[i].apic_id);
	printf("\nlapic address: %#llx\n", (unsigned long long)ai.lapic_address);
	printf("pcat compat: %d\n", ai.pcat_compat);
	for (size_t i = 0; i < ai.nioapics; i++)
		printf("ioapic: id %u at %#x gsi %u\n", ai.ioapics[i].id, ai.ioapics[i].address,
		       ai.ioapics[i].gsi_base);
	for (size_t i = 0; i < ai.noverrides; i++)
		printf("override: irq %u -> gsi %u flags %#x\n", ai.overrides[i].source_irq,
		       ai.overrides[i].gsi, ai.overrides[i].flags);
	printf("lapic nmi entries: %u\n", ai.lapic_nmi_entries);
	printf("sci irq: %u\n", ai.sci_irq);
	printf("pm timer: %#x %s\n", ai.pm_timer_port, ai.pm_timer_32bit ? "32-bit" : "24-bit");
	printf("pm1a control: %#x\n", ai.pm1a_control_port);
	printf("reset: %s space %u address %#llx value %#x\n", ai.reset_supported ? "yes" : "no",
	       ai.reset_register.space, (unsigned long long)ai.reset_register.address,
	       ai.reset_value);
	for (size_t i = 0; i < ai.nmcfg; i++)
		printf("mcfg: %#llx segment %u buses %u-%u\n", (unsigned long long)ai.mcfg[i].base,
		       ai.mcfg[i].segment, ai.mcfg[i].bus_start, ai.mcfg[i].bus_end);
	printf("hpet: %#llx\n", (unsigned long long)ai.hpet_base);
	printf("dmar units: %u\n", ai.dmar_units);
	printf("boot arch: %#x\n", ai.boot_arch);
}
