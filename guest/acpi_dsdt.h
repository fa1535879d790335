/*
 * The guest DSDT's AML body (after the 36-byte header), from acpi_build()'s config:
 *
 *   Name (\_S5, Package () { 5, 5, 0, 0 })            poweroff (SLP_TYP 5)
 *   Scope (\_SB) {
 *     Device (PEVT) { _HID "QEMU0001", _CRS IO 0x505 }   QEMU's pvpanic
 *     -- with cfg->pci (guest/pci/vpci.h's fixed places):
 *     Device (PCI0) {                                    the PCIe root bridge
 *       _HID EISAID("PNP0A08"), _CID EISAID("PNP0A03"), _ADR 0, _UID 0, _SEG 0, _BBN 0
 *       _CRS: bus 0; I/O 0xcf8-0xcff (config mechanism #1, consumed); I/O windows
 *             0x0000-0x0cf7 (the legacy ISA ports stay decodable) and the bus's
 *             I/O window; the 32-bit memory window (non-cacheable); the 64-bit one
 *       _PRT: slots 1-31, INTA-INTD, each straight to GSI vpci_intx_gsi(slot, pin)
 *             (the "Source 0" form of ACPI 6.5 §6.2.13: no link devices)
 *       _OSC: PCI host bridge UUID: grants what the OS asks within native hotplug,
 *             SHPC, PME, AER and the PCIe capability (QEMU q35's mask); flags an
 *             unknown revision or UUID, and masked bits, in the first DWORD
 *     }
 *     Device (ECAM) { _HID EISAID("PNP0C02"), _CRS Memory32Fixed (ECAM window) }
 *       a motherboard resource, so Linux finds the MCFG area reserved
 *   }
 */
#ifndef HV_GUEST_ACPI_DSDT_H
#define HV_GUEST_ACPI_DSDT_H

#include <stddef.h>
#include <stdint.h>

#include "guest/acpi_build.h"

#define ACPI_DSDT_PRT_ENTRIES (31 * 4)
/* ToUUID ("33DB4D5B-1FF7-401C-9657-7441C03DD766"): PCI Firmware 3.3 §4.5.1 */
#define ACPI_PCI_OSC_UUID                                                                  \
	{ 0x5b, 0x4d, 0xdb, 0x33, 0xf7, 0x1f, 0x1c, 0x40,                                  \
	  0x96, 0x57, 0x74, 0x41, 0xc0, 0x3d, 0xd7, 0x66 }
#define ACPI_PCI_OSC_GRANTED 0x1fu /* _OSC control bits 4:0 */

/*
 * Writes the AML into buf (cap bytes; buf NULL: only counts). Returns its length; the
 * body is complete only when that is <= cap.
 */
size_t acpi_dsdt_aml(const struct acpi_build_config *cfg, uint8_t *buf, size_t cap);

#endif
