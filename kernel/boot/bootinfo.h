/*
 * What the boot loader told us, in one loader-neutral form: memory map,
 * command line, modules, the ACPI RSDP. Filled from multiboot1 or multiboot2.
 */
#ifndef HV_BOOT_BOOTINFO_H
#define HV_BOOT_BOOTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MB1_BOOTLOADER_MAGIC 0x2badb002u
#define MB2_BOOTLOADER_MAGIC 0x36d76289u

#define BOOT_MAX_REGIONS 128
#define BOOT_MAX_MODULES 160 /* the hypervisor's own, kernels, and up to 128 VM files or more */
#define BOOT_CMDLINE_MAX 1024
#define BOOT_MODNAME_MAX 256

/* E820 / multiboot memory types */
enum mem_type {
	MEM_USABLE = 1,
	MEM_RESERVED = 2,
	MEM_ACPI_RECLAIMABLE = 3,
	MEM_ACPI_NVS = 4,
	MEM_BAD = 5,
};

struct mem_region {
	uint64_t base;
	uint64_t length;
	uint32_t type;
};

struct boot_module {
	uint64_t start; /* physical, [start, end) */
	uint64_t end;
	char cmdline[BOOT_MODNAME_MAX]; /* path and arguments as the loader gave them */
};

/* The loader's framebuffer (multiboot2 tag 8), if it gave one. */
enum fb_kind {
	FB_NONE = 0,
	FB_RGB = 1,  /* direct colour, bpp 15..32 */
	FB_TEXT = 2, /* EGA text mode: width x height cells of 2 bytes */
};

struct boot_framebuffer {
	enum fb_kind kind;
	uint64_t addr;
	uint32_t pitch; /* bytes per line */
	uint32_t width, height; /* pixels, or text cells */
	uint8_t bpp;
	uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

struct boot_info {
	int protocol; /* 1 or 2 */
	char loader_name[64];
	char cmdline[BOOT_CMDLINE_MAX];
	struct mem_region regions[BOOT_MAX_REGIONS];
	size_t nregions;
	bool regions_truncated;
	struct boot_module modules[BOOT_MAX_MODULES];
	size_t nmodules;
	uint8_t rsdp[36]; /* copy of the RSDP the loader handed over, if any */
	size_t rsdp_len;
	bool rsdp_from_loader; /* else found in BIOS memory */
	bool efi; /* booted from UEFI firmware */
	struct boot_framebuffer fb;
	uint64_t info_start; /* the loader's structure, physical [start, end) */
	uint64_t info_end;
};

/* Resolves a physical address the loader gave us into a pointer. */
typedef const void *(*phys_ptr_fn)(uint64_t phys);

/* Returns 0, or a negative value if the structure is malformed. */
int bootinfo_parse_mb2(struct boot_info *bi, const void *info, uint64_t info_phys);
int bootinfo_parse_mb1(struct boot_info *bi, const void *info, uint64_t info_phys,
		       phys_ptr_fn phys_ptr);

/* Sum of usable RAM in bytes. */
uint64_t bootinfo_usable_bytes(const struct boot_info *bi);

#endif
