/*
 * What hvboot.efi hands the hypervisor: a multiboot2 information structure
 * (Multiboot2 spec §3.6) built from what UEFI told it, so the hypervisor
 * has one entry contract and one parser whoever loaded it.
 *
 * Pure: no firmware calls, no allocation (it runs between the last
 * GetMemoryMap and ExitBootServices, when allocating would change the map).
 */
#ifndef HV_LOADER_MB2INFO_H
#define HV_LOADER_MB2INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* UEFI 2.9 §7.2 EFI_MEMORY_TYPE, and the attribute bit that matters here */
enum {
	UEFI_RESERVED_TYPE = 0,
	UEFI_LOADER_CODE = 1,
	UEFI_LOADER_DATA = 2,
	UEFI_BOOT_SERVICES_CODE = 3,
	UEFI_BOOT_SERVICES_DATA = 4,
	UEFI_RUNTIME_SERVICES_CODE = 5,
	UEFI_RUNTIME_SERVICES_DATA = 6,
	UEFI_CONVENTIONAL_MEMORY = 7,
	UEFI_UNUSABLE_MEMORY = 8,
	UEFI_ACPI_RECLAIM_MEMORY = 9,
	UEFI_ACPI_MEMORY_NVS = 10,
	UEFI_MEMORY_MAPPED_IO = 11,
	UEFI_MEMORY_MAPPED_IO_PORT_SPACE = 12,
	UEFI_PAL_CODE = 13,
	UEFI_PERSISTENT_MEMORY = 14,
};
#define UEFI_MEMORY_WB 0x8ull

/* One UEFI memory descriptor as the firmware lays it out (desc_size may be larger). */
struct efi_mem_desc {
	uint32_t type;
	uint32_t pad;
	uint64_t phys_start;
	uint64_t virt_start;
	uint64_t pages; /* 4 KiB */
	uint64_t attribute;
};

/* One multiboot2 memory map entry (tag 6), as E820 types */
struct mb2_mmap_entry {
	uint64_t base;
	uint64_t length;
	uint32_t type; /* 1 RAM, 2 reserved, 3 ACPI reclaimable, 4 ACPI NVS, 5 bad */
	uint32_t reserved;
};

/*
 * Converts a UEFI memory map into E820-typed, sorted, merged entries, as Xen
 * does: loader, boot-services and conventional memory are RAM when
 * write-back cacheable, ACPI reclaim and NVS keep their kinds, unusable is
 * bad, everything else (runtime services, MMIO, persistent) reserved.
 * Returns the number of entries written (at most max); *dropped is set when
 * more were needed.
 */
size_t mb2_efi_to_e820(const void *map, size_t map_size, size_t desc_size,
		       struct mb2_mmap_entry *out, size_t max, bool *dropped);

struct mb2_module_in {
	uint64_t start, end; /* physical, [start, end), below 4 GiB */
	const char *cmdline;
};

struct mb2_framebuffer_in {
	uint64_t addr;
	uint32_t pitch, width, height; /* pitch in bytes */
	uint8_t bpp;
	uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

struct mb2_input {
	const char *cmdline;
	const char *loader_name;
	const struct mb2_module_in *modules;
	size_t nmodules;
	const void *efi_map; /* the final UEFI memory map */
	size_t efi_map_size, efi_desc_size;
	uint32_t efi_desc_version;
	const uint8_t *rsdp; /* NULL: none */
	size_t rsdp_len;     /* 36 for ACPI 2.0+ (tag 15), 20 for 1.0 (tag 14) */
	const uint8_t *smbios; /* entry point structure (tag 13); NULL: none */
	size_t smbios_len;
	uint8_t smbios_major, smbios_minor;
	uint64_t efi_systab; /* tag 12 */
	const struct mb2_framebuffer_in *fb; /* tag 8, RGB; NULL: none */
};

/*
 * Writes the information structure into buf (8-byte aligned). Returns its
 * total size, or 0 when it does not fit in size bytes (or the E820 map
 * would not fit in scratch, which holds max_scratch entries).
 */
size_t mb2_build(const struct mb2_input *in, uint8_t *buf, size_t size,
		 struct mb2_mmap_entry *scratch, size_t max_scratch);

/* An upper bound of mb2_build's size for these inputs (to allocate ahead). */
size_t mb2_size_bound(const struct mb2_input *in, size_t max_map_size);

#endif
