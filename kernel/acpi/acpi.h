/*
 * The host's ACPI tables, as far as the hypervisor needs them: MADT (CPUs,
 * IOAPICs, interrupt overrides), FADT (PM timer, reset register), MCFG (PCI
 * ECAM), and where DMAR and HPET are, for later. ACPI 6.5 §5.2 for layouts.
 * Pure logic: the caller says how to reach physical memory.
 */
#ifndef HV_ACPI_ACPI_H
#define HV_ACPI_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_MAX_CPUS 1024 /* the most host cores a build takes (kernel/lib/cpuset.h) */
#define ACPI_MAX_IOAPICS 16
#define ACPI_MAX_OVERRIDES 24
#define ACPI_MAX_MCFG 8
#define ACPI_MAX_TABLES 48

/* Generic Address Structure (ACPI 6.5 §5.2.3.2) */
struct acpi_gas {
	uint8_t space; /* 0 memory, 1 system I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
};

#define ACPI_SPACE_MEMORY 0
#define ACPI_SPACE_IO 1

struct acpi_cpu {
	uint32_t apic_id;
	uint32_t uid;
	bool enabled;        /* usable now */
	bool online_capable; /* may be enabled later (hot-plug) */
	bool x2apic_entry;   /* came from a Processor Local x2APIC structure */
};

struct acpi_ioapic {
	uint8_t id;
	uint32_t address;
	uint32_t gsi_base;
};

struct acpi_override {
	uint8_t source_irq; /* ISA IRQ */
	uint32_t gsi;
	uint16_t flags; /* polarity bits 1:0, trigger mode bits 3:2 */
};

struct acpi_mcfg {
	uint64_t base;
	uint16_t segment;
	uint8_t bus_start;
	uint8_t bus_end;
};

struct acpi_table_ref {
	char signature[5];
	uint64_t address;
	uint32_t length;
	bool checksum_ok;
};

struct acpi_info {
	uint8_t rsdp_revision;
	char oem_id[7];
	uint64_t root_address; /* XSDT, or RSDT for ACPI 1.0 */
	bool root_is_xsdt;

	struct acpi_table_ref tables[ACPI_MAX_TABLES];
	size_t ntables;

	/* MADT */
	bool have_madt;
	uint64_t lapic_address;
	bool pcat_compat; /* dual 8259s present */
	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	size_t ncpus;
	bool cpus_truncated;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	size_t nioapics;
	struct acpi_override overrides[ACPI_MAX_OVERRIDES];
	size_t noverrides;
	unsigned lapic_nmi_entries;

	/* FADT */
	bool have_fadt;
	uint16_t sci_irq;
	uint32_t pm_timer_port; /* 0: none */
	bool pm_timer_32bit;
	uint32_t pm1a_control_port;
	bool reset_supported;
	struct acpi_gas reset_register;
	uint8_t reset_value;
	uint16_t boot_arch; /* IAPC_BOOT_ARCH */
	uint8_t century_index;

	struct acpi_mcfg mcfg[ACPI_MAX_MCFG];
	size_t nmcfg;

	uint64_t dmar_address; /* 0: no DMAR (no VT-d) */
	unsigned dmar_units;
	uint8_t dmar_host_address_width;
	uint64_t hpet_address; /* table address */
	uint64_t hpet_base;    /* register block */
};

typedef const void *(*acpi_phys_fn)(uint64_t phys);

/* Checks an RSDP's signature and checksums. */
bool acpi_rsdp_valid(const uint8_t *rsdp, size_t len);

/*
 * Scans the BIOS areas (the first KiB of the EBDA, then 0xE0000-0xFFFFF) for
 * the RSDP. Returns its physical address, or 0.
 */
uint64_t acpi_find_rsdp_bios(acpi_phys_fn phys);

/*
 * Parses everything reachable from the RSDP. Returns 0, or -1 with a reason in
 * err if the root tables are unusable. Damaged optional tables are skipped
 * (their checksum_ok is false) and do not fail the parse.
 */
int acpi_parse(struct acpi_info *ai, const uint8_t *rsdp, size_t rsdp_len, acpi_phys_fn phys,
	       char *err, size_t errlen);

/* Finds a table by signature (the first with a good checksum), or NULL. */
const struct acpi_table_ref *acpi_table(const struct acpi_info *ai, const char *sig);

#endif
