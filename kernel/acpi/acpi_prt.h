/*
 * Which host GSI a PCI function's INTx reaches, from the firmware's ACPI
 * _PRT (ACPI 6.5 §6.2.13) for bus 0: a small reader of the static forms
 * firmware commonly uses, not an AML interpreter.
 *
 * What it reads, in the DSDT and SSDTs (AML bytes after the table header):
 *   - the PCI host bridge: a Device whose _HID (or _CID) is PNP0A08 or
 *     PNP0A03 and whose _BBN is absent or 0;
 *   - its _PRT: either Name(_PRT, Package(){...}), or a Method(_PRT) whose
 *     Return()s name packages declared with Name() (QEMU's q35 returns
 *     PRTA in APIC mode and PRTP in PIC mode, picked by a variable): each
 *     returned package is tried and the first that resolves to GSIs wins;
 *   - each entry: Package(4){ address (slot << 16 | 0xffff), pin (0-3),
 *     source, source index }: source 0 means the index is the GSI;
 *     otherwise source names a link device whose Name(_CRS, Buffer) holds an
 *     IRQ or Extended Interrupt descriptor: its first interrupt is the GSI.
 * Anything else (a _CRS that is a Method, as PIC-mode links have; entries
 * built at run time; several bus-0 host bridges with _PRTs) is beyond it:
 * acpi_prt_read fails with the reason in words.
 *
 * Everything is bounds-checked against the tables' lengths (hostile AML
 * reads nothing outside them). Pure logic.
 */
#ifndef HV_KERNEL_ACPI_ACPI_PRT_H
#define HV_KERNEL_ACPI_ACPI_PRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_PRT_MAX 256

struct acpi_prt_entry {
	uint8_t slot; /* device number on bus 0 */
	uint8_t pin;  /* 0-3: INTA-INTD */
	uint32_t gsi;
};

struct acpi_prt {
	unsigned n;
	struct acpi_prt_entry e[ACPI_PRT_MAX];
	char source[5]; /* the package read ("_PRT", "PRTA"), for messages */
};

/* One AML block: a DSDT's or SSDT's bytes after its 36-byte header. */
struct acpi_aml {
	const uint8_t *p;
	size_t len;
};

/* Reads bus 0's routing. 0, or -1 with the reason in why. */
int acpi_prt_read(const struct acpi_aml *aml, unsigned naml, struct acpi_prt *out, char *why,
		  size_t whylen);

/* The GSI of (slot, pin 0-3) on bus 0; false when the table has no entry. */
bool acpi_prt_lookup(const struct acpi_prt *prt, unsigned slot, unsigned pin, uint32_t *gsi);

/*
 * The PCI-to-PCI bridge swizzle (PCI-to-PCI Bridge spec §9.1): INTx pin
 * `pin` (0-3) of device `dev` below a bridge arrives at the bridge's own
 * pin (pin + dev) % 4.
 */
static inline unsigned pci_swizzle(unsigned dev, unsigned pin)
{
	return (pin + dev) % 4;
}

#endif
