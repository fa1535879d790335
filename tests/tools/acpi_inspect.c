/*
 * Host tool for the test suite: reads an `acpi_dump` log (from the serial
 * console) on stdin, rebuilds those tables at their physical addresses, runs
 * the hypervisor's ACPI parser over them (under AddressSanitizer) and prints
 * what it found, one "key: value" per line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
	char line[512];
	struct blob *cur = NULL;

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
	return 0;
}
