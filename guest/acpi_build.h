/*
 * ACPI tables for a guest (ACPI 6.5 §5.2): what a PC-like VM's firmware
 * would give its OS. Written into a caller's buffer that will sit at a given
 * guest-physical address, with every checksum right. Pure logic.
 *
 * Tables, in buffer order (each 16-byte aligned, the FACS 64-byte aligned):
 *   RSDP  rev 2 (ACPI 2.0+), at the start: 16-byte aligned, so placed at
 *         0xe0000 (E820_ACPI_DEFAULT_BASE) the §5.2.5.1 BIOS scan finds it
 *   FACS  (required without HW_REDUCED_ACPI; no checksum)
 *   DSDT  AML: Name (\_S5, Package () {5, 5, 0, 0}) so poweroff works,
 *         \_SB.PEVT, QEMU's pvpanic device (_HID "QEMU0001", I/O port 0x505), so
 *         that a panicking Linux says so, and with a PCI bus the root bridge
 *         \_SB.PCI0 (windows, _PRT, _OSC) and \_SB.ECAM reserving the ECAM
 *         window (guest/acpi_dsdt.h)
 *   FACP  FADT rev 6.5: PM1a event/control blocks, optional PM timer, SCI 9,
 *         reset register I/O 0xcf9 value 6, IAPC_BOOT_ARCH from the config
 *   APIC  MADT: local APIC at 0xfee00000, PCAT_COMPAT, one enabled Processor
 *         Local APIC per vCPU (ACPI UID = APIC ID = vCPU index) for APIC IDs
 *         0-254 and a Processor Local x2APIC for each one past them, the
 *         IOAPIC at 0xfec00000 with GSI base 0, overrides IRQ0 -> GSI 2 and
 *         IRQ9 (SCI) level/active-high, LINT1 as NMI on every CPU (also in
 *         the x2APIC form when there are x2APIC entries)
 *   HPET  when one is modelled (at 0xfed00000)
 *   MCFG  with a PCI bus: its ECAM window (guest/pci/vpci.h), segment 0, bus 0
 *   XSDT  FACP, APIC[, HPET][, MCFG]
 *   RSDT  the same with 32-bit pointers (for acpi=rsdt and ACPI 1.0 readers)
 *
 * The devices these tables promise are the VM's to model: PM1a_EVT at
 * pm1_base (4 bytes: status, enable), PM1a_CNT at pm1_base+4 (2 bytes; the
 * guest powers off by writing SLP_TYP=5 with SLP_EN, i.e. 0x3400), the PM
 * timer at pm_timer_port (3.579545 MHz, 24 or 32 bits), reset by writing 6 to
 * port 0xcf9, the IOAPIC, the local APICs, the HPET.
 */
#ifndef HV_GUEST_ACPI_BUILD_H
#define HV_GUEST_ACPI_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* APIC IDs 0-254 as Local APIC entries, the rest as Local x2APIC entries */
#define ACPI_BUILD_MAX_VCPUS 4096

#define ACPI_BUILD_LAPIC_BASE 0xfee00000u
#define ACPI_BUILD_IOAPIC_BASE 0xfec00000u
#define ACPI_BUILD_HPET_BASE 0xfed00000u
#define ACPI_BUILD_PM1_BASE_DEFAULT 0x600u /* ICH9's PMBASE, as QEMU q35 */
#define ACPI_BUILD_PM_TIMER_DEFAULT 0x608u /* PMBASE + 8 */
#define ACPI_BUILD_RESET_PORT 0xcf9u /* PCI reset control register */
#define ACPI_BUILD_RESET_VALUE 6u /* full reset | system reset */
#define ACPI_BUILD_SCI_IRQ 9u
#define ACPI_BUILD_PVPANIC_PORT 0x505 /* pvpanic: reads 1 (panics reported), a write of 1: panicked */
#define ACPI_BUILD_S5_SLP_TYP 5u /* what \_S5 says; PM1a_CNT bits 12:10 */
/* HPET General Capabilities bits 31:0 (IA-PC HPET 1.0a §2.3.4): vendor 8086,
 * legacy replacement capable, 64-bit counter, 3 timers, revision 1. */
#define ACPI_BUILD_HPET_ID_DEFAULT 0x8086a201u

/* Signatures and sizes (ACPI 6.5 §5.2.5-§5.2.12). */
#define ACPI_BUILD_RSDP_SIZE 36
#define ACPI_BUILD_HEADER_SIZE 36
#define ACPI_BUILD_FACS_SIZE 64
#define ACPI_BUILD_FADT_SIZE 276 /* revision 6, minor 5 */
#define ACPI_BUILD_HPET_SIZE 56
#define ACPI_BUILD_MCFG_SIZE 60 /* header, 8 reserved, one allocation */

/* IAPC_BOOT_ARCH flags (ACPI 6.5 Table 5.11). */
#define ACPI_BOOT_ARCH_LEGACY_DEVICES (1u << 0)
#define ACPI_BOOT_ARCH_8042 (1u << 1)
#define ACPI_BOOT_ARCH_VGA_NOT_PRESENT (1u << 2)
#define ACPI_BOOT_ARCH_MSI_NOT_SUPPORTED (1u << 3)
#define ACPI_BOOT_ARCH_CMOS_RTC_NOT_PRESENT (1u << 5)

/* FADT fixed feature flags (ACPI 6.5 Table 5.10). */
#define ACPI_FADT_WBINVD (1u << 0)
#define ACPI_FADT_PROC_C1 (1u << 2)
#define ACPI_FADT_PWR_BUTTON (1u << 4) /* set: no fixed-feature power button */
#define ACPI_FADT_SLP_BUTTON (1u << 5) /* set: no fixed-feature sleep button */
#define ACPI_FADT_TMR_VAL_EXT (1u << 8) /* the PM timer counts 32 bits */
#define ACPI_FADT_RESET_REG_SUP (1u << 10)
#define ACPI_FADT_HW_REDUCED (1u << 20)

/* What the VM models. A zeroed struct with vcpus set is valid: no PM timer, 8042, VGA or HPET. */
struct acpi_build_config {
	unsigned vcpus; /* 1..ACPI_BUILD_MAX_VCPUS */
	uint16_t pm1_base; /* PM1a event block; 0: ACPI_BUILD_PM1_BASE_DEFAULT */
	uint16_t pm_timer_port; /* 0: no PM timer */
	bool pm_timer_32bit; /* TMR_VAL_EXT */
	bool has_8042; /* keyboard controller present */
	bool has_vga; /* clear: VGA Not Present */
	bool hpet; /* an HPET at ACPI_BUILD_HPET_BASE */
	uint32_t hpet_id; /* its capabilities bits 31:0; 0: ACPI_BUILD_HPET_ID_DEFAULT */
	uint8_t ioapic_id; /* the IOAPIC's ID register (0 is what QEMU uses) */
	bool pci; /* a PCI bus at guest/pci/vpci.h's fixed places: PCI0, ECAM, MCFG */
};

enum acpi_build_error {
	ACPI_BUILD_OK = 0,
	ACPI_BUILD_ERR_INVAL = -1, /* bad config, buffer or base (not 16-byte aligned, > 4 GiB) */
	ACPI_BUILD_ERR_SPACE = -2, /* buffer too small: *used says how much is needed */
};

/* The most bytes acpi_build() can need for cfg (an upper bound). */
size_t acpi_build_size(const struct acpi_build_config *cfg);

/*
 * Writes the tables into buf, which the guest will see at base_gpa (16-byte
 * aligned, the whole buffer below 4 GiB). On success returns 0, *used is the
 * bytes written (the rest of buf untouched) and *rsdp_gpa the RSDP's address
 * (base_gpa), for boot_params.acpi_rsdp_addr. On ACPI_BUILD_ERR_SPACE, *used
 * is the size needed.
 */
int acpi_build(const struct acpi_build_config *cfg, uint8_t *buf, size_t size, uint64_t base_gpa,
	       size_t *used, uint64_t *rsdp_gpa);

#endif
