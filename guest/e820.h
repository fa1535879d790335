/*
 * The memory map a guest is told about (the BIOS INT 15h E820 map, ACPI 6.5
 * §15 "System Address Map Interfaces"): built once from the VM's RAM size and
 * the areas its platform reserves, then written by each loader in its own
 * format (Linux boot_params e820_table, multiboot mmap).
 *
 * Pure logic. The map is kept sorted by address, without overlaps, adjacent
 * entries of one type merged.
 *
 * The map of a VM (guest RAM is 0..ram_bytes, contiguous, below the 32-bit
 * MMIO window, and for a VM of more than 3 GiB the rest from 4 GiB up, see
 * ept/gpa_map.h):
 *   0x00000000-0x0009fc00  RAM       base memory (639 KiB)
 *   0x0009fc00-0x00100000  reserved  EBDA, VGA hole, option and BIOS ROM area;
 *                                    the guest's ACPI tables live here by default
 *                                    (E820_ACPI_DEFAULT_BASE)
 *   0x00100000-ram_bytes   RAM       less any ACPI area the caller put in RAM
 *                                    (type ACPI, reclaimable after boot)
 *   0xc0000000 +1 MiB      reserved  PCI ECAM      (with a PCI bus: the MCFG area,
 *                                    which Linux uses only when it is reserved)
 *   0xfec00000 +4 KiB      reserved  IOAPIC        (when modelled)
 *   0xfed00000 +1 KiB      reserved  HPET          (when modelled)
 *   0xfee00000 +4 KiB      reserved  local APIC    (when modelled)
 *   4 GiB +high_ram_bytes  RAM       (when the VM has more than 3 GiB)
 */
#ifndef HV_GUEST_E820_H
#define HV_GUEST_E820_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Address range types (ACPI 6.5 Table 15.1). */
#define E820_RAM 1
#define E820_RESERVED 2
#define E820_ACPI 3 /* ACPI tables: reclaimable once the OS has read them */
#define E820_NVS 4
#define E820_UNUSABLE 5

#define E820_MAX_ENTRIES 32 /* a VM map has 3 to 8; the zero page allows 128 */

#define E820_LOW_RAM_END 0x9fc00ull /* base memory ends, the EBDA begins */
#define E820_HIGH_RAM 0x100000ull /* 1 MiB */
#define E820_RAM_MAX 0xc0000000ull /* 3 GiB: RAM below the MMIO window (GPA_LOW_RAM_MAX) */
#define E820_HIGH_RAM_BASE 0x100000000ull /* 4 GiB: where the rest of a big VM's RAM is */
#define E820_HIGH_RAM_MAX (60ull << 30) /* up to the 64-bit PCI window at 64 GiB */

/* Platform MMIO a VM may model (the addresses every PC OS expects). */
#define E820_IOAPIC_BASE 0xfec00000ull
#define E820_IOAPIC_SIZE 0x1000ull
#define E820_HPET_BASE 0xfed00000ull
#define E820_HPET_SIZE 0x400ull
#define E820_LAPIC_BASE 0xfee00000ull
#define E820_LAPIC_SIZE 0x1000ull

/* Where guest ACPI tables go unless a VM says otherwise: in the reserved BIOS
 * area, so the RSDP is also found by the ACPI 6.5 §5.2.5.1 scan of 0xe0000-0xfffff. */
#define E820_ACPI_DEFAULT_BASE 0xe0000ull
#define E820_ACPI_DEFAULT_SIZE 0x10000ull

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

struct e820_map {
	struct e820_entry entry[E820_MAX_ENTRIES];
	size_t count;
};

/* What a VM's map is made of. */
struct e820_layout {
	uint64_t ram_bytes; /* guest RAM from 0; at least 1 MiB, at most E820_RAM_MAX */
	/* guest RAM from 4 GiB (E820_HIGH_RAM_BASE) on, past the 32-bit MMIO hole; 0: none */
	uint64_t high_ram_bytes;
	/* ACPI tables in RAM (size 0: none, or they lie in the reserved BIOS area,
	 * which needs no entry): reported as E820_ACPI. */
	uint64_t acpi_base, acpi_size;
	bool ioapic, hpet, lapic; /* reserve their MMIO windows */
	bool pci_ecam; /* reserve the PCI bus's ECAM window (guest/pci/vpci.h) */
};

enum e820_error {
	E820_OK = 0,
	E820_ERR_INVAL = -1, /* bad arguments: RAM size, a range past RAM, zero size */
	E820_ERR_FULL = -2, /* more than E820_MAX_ENTRIES entries */
};

/* Builds the VM's map (see the layout above). Returns 0 or a negative enum e820_error. */
int e820_build(const struct e820_layout *layout, struct e820_map *out);

/* Empties a map. */
void e820_init(struct e820_map *map);

/*
 * Gives [addr, addr+size) the type type, replacing whatever covered any part
 * of it (splitting entries as needed), then sorts and merges. Returns 0,
 * E820_ERR_INVAL (size 0, or the range wraps) or E820_ERR_FULL (map unchanged).
 */
int e820_set(struct e820_map *map, uint64_t addr, uint64_t size, uint32_t type);

/* The type of the byte at addr, or 0 when no entry covers it. */
uint32_t e820_type_at(const struct e820_map *map, uint64_t addr);

/* True when [addr, addr+size) lies within one entry of type type. */
bool e820_range_is(const struct e820_map *map, uint64_t addr, uint64_t size, uint32_t type);

/* Total bytes of type type. */
uint64_t e820_total(const struct e820_map *map, uint32_t type);

/* "usable", "reserved", "ACPI data", "ACPI NVS", "unusable" or "unknown". */
const char *e820_type_name(uint32_t type);

#endif
