/*
 * Multiboot1 guest loader: puts a guest kernel image into guest RAM the way
 * QEMU's -kernel does for a multiboot1 kernel, and builds the multiboot
 * information the kernel finds in EBX (Multiboot spec 0.6.96, §3.1 the OS
 * image format, §3.2 the machine state, §3.3 the boot information).
 *
 * Pure logic: guest RAM is reached only through the callbacks in
 * struct mb_guest_mem, so the same code runs in the hypervisor and in a
 * hosted unit test with a buffer for RAM.
 *
 * Guest-physical layout it produces:
 *   kernel          where its ELF program headers (p_paddr) or its a.out-kludge
 *                   header say, BSS zeroed: anywhere in RAM but the reserved
 *                   0x9fc00-0x100000
 *   module          the one boot module (the VM's ramdisk), page aligned after
 *                   the kernel's highest byte (and never below 1 MiB)
 *   information     an 8 KiB area (MB_INFO_AREA_SIZE): the multiboot
 *                   information, module list, loader name, memory map and
 *                   module string in its first 4 KiB, the command line (at
 *                   most MB_CMDLINE_MAX) in the second. It goes where neither
 *                   the kernel nor the module is: at MB_INFO_BASE (0x8000)
 *                   when that is free, else the lowest free page-aligned spot
 *                   from 0x1000 below 0x9fc00, else above 1 MiB; a kernel
 *                   that leaves no room is refused with MB_ERR_RANGE.
 * The memory map it reports: usable 0-0x9fc00, reserved 0x9fc00-0xa0000 and
 * 0xf0000-0x100000, usable 0x100000-end of RAM.
 */
#ifndef HV_GUEST_MB_LOADER_H
#define HV_GUEST_MB_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MB_HEADER_MAGIC 0x1badb002u	/* in the image, §3.1.1 */
#define MB_BOOT_MAGIC 0x2badb002u	/* in EAX at entry, §3.2 */
#define MB_HEADER_SEARCH 8192u		/* the header lies in the first 8 KiB, 4-byte aligned */

/* Header flags (§3.1.2). Bits 0-15 are requirements a loader must honour or refuse. */
#define MB_HFLAG_PAGE_ALIGN (1u << 0)	/* modules page aligned: we always do */
#define MB_HFLAG_MEMINFO (1u << 1)	/* mem_* fields: we always give them */
#define MB_HFLAG_VIDEO (1u << 2)	/* a video mode: advisory, we have no display */
#define MB_HFLAG_AOUT_KLUDGE (1u << 16)	/* load addresses in the header, not the ELF */

/* Information flags (§3.3). */
#define MB_INFO_MEM (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS (1u << 3)
#define MB_INFO_MMAP (1u << 6)
#define MB_INFO_LOADER_NAME (1u << 9)

/* Information structure offsets (§3.3). */
#define MB_INFO_OFF_FLAGS 0
#define MB_INFO_OFF_MEM_LOWER 4
#define MB_INFO_OFF_MEM_UPPER 8
#define MB_INFO_OFF_CMDLINE 16
#define MB_INFO_OFF_MODS_COUNT 20
#define MB_INFO_OFF_MODS_ADDR 24
#define MB_INFO_OFF_MMAP_LENGTH 44
#define MB_INFO_OFF_MMAP_ADDR 48
#define MB_INFO_OFF_LOADER_NAME 64
#define MB_INFO_SIZE 88	/* up to and including the VBE fields */

#define MB_MMAP_ENTRY_SIZE 24	/* size(4) base(8) length(8) type(4); size field says 20 */
#define MB_MMAP_ENTRIES 4
#define MB_MMAP_USABLE 1
#define MB_MMAP_RESERVED 2
#define MB_MODULE_SIZE 16	/* mod_start, mod_end, string, reserved */

/* The information area's parts, as offsets in it (see the layout above). */
#define MB_AREA_INFO 0x000		/* the information structure */
#define MB_AREA_MODS 0x080		/* the module list (one entry) */
#define MB_AREA_LOADER_NAME 0x0c0
#define MB_AREA_MMAP 0x100
#define MB_AREA_MODNAME 0x200
#define MB_MODNAME_MAX 0xe00u		/* with its terminator */
#define MB_AREA_CMDLINE 0x1000
#define MB_CMDLINE_MAX 0x1000u		/* with its terminator */
#define MB_INFO_AREA_SIZE 0x2000u
#define MB_INFO_ALIGN 0x1000u
#define MB_INFO_LOW_START 0x1000u	/* page 0 (real-mode IVT, BIOS data) is left alone */
#define MB_LOADER_NAME "hv"

/* Its preferred place, and the addresses of its parts there. */
#define MB_INFO_BASE 0x8000u
#define MB_INFO_ADDR (MB_INFO_BASE + MB_AREA_INFO)
#define MB_MODS_ADDR (MB_INFO_BASE + MB_AREA_MODS)
#define MB_LOADER_NAME_ADDR (MB_INFO_BASE + MB_AREA_LOADER_NAME)
#define MB_MMAP_ADDR (MB_INFO_BASE + MB_AREA_MMAP)
#define MB_MODNAME_ADDR (MB_INFO_BASE + MB_AREA_MODNAME)
#define MB_CMDLINE_ADDR (MB_INFO_BASE + MB_AREA_CMDLINE)

#define MB_LOW_RAM_END 0x9fc00u		/* usable base memory: 639 KiB */
#define MB_MEM_LOWER_KIB 639u
#define MB_BIOS_AREA 0xf0000u		/* reserved: the guest's BIOS tables */
#define MB_HIGH_RAM 0x100000u

/* Errors (negative); err says which field of which header, in words. */
enum mb_error {
	MB_OK = 0,
	MB_ERR_INVAL = -1,	/* bad arguments */
	MB_ERR_NO_HEADER = -2,	/* no multiboot1 magic in the first 8 KiB */
	MB_ERR_CHECKSUM = -3,	/* magic found, checksum wrong */
	MB_ERR_FLAGS = -4,	/* a required feature we do not provide */
	MB_ERR_FORMAT = -5,	/* not an ELF32 x86 executable (ELF64, other machine, ...) */
	MB_ERR_TRUNCATED = -6,	/* the file ends before what its headers describe */
	MB_ERR_RANGE = -7,	/* outside guest RAM, over the reserved area, or no room left */
	MB_ERR_TOO_LONG = -8,	/* command line or module name too long */
	MB_ERR_MEM = -9,	/* a guest-memory callback failed */
};

/* Guest RAM, from guest-physical 0 to ram_bytes. Callbacks return 0 or negative. */
struct mb_guest_mem {
	uint64_t ram_bytes;
	int (*write)(void *ctx, uint64_t gpa, const void *src, size_t len);
	int (*zero)(void *ctx, uint64_t gpa, size_t len);
	void *ctx;
};

/* The one boot module (the VM's ramdisk); name becomes its multiboot string. */
struct mb_module {
	const uint8_t *data;
	size_t len;
	const char *name;	/* NULL: "" */
};

/* How to enter the guest: 32-bit protected mode, paging off (§3.2). */
struct mb_entry {
	uint32_t eip;
	uint32_t eax;	/* MB_BOOT_MAGIC */
	uint32_t ebx;	/* the information structure (MB_INFO_ADDR where that is free) */
	uint32_t kernel_start, kernel_end;	/* what was loaded, BSS included */
	uint32_t module_start, module_end;	/* both 0 without a module */
};

/* The header as found in the image. */
struct mb_header {
	uint32_t offset;	/* in the file */
	uint32_t flags;
	/* Valid with MB_HFLAG_AOUT_KLUDGE (§3.1.3). */
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/*
 * Finds the multiboot1 header: the first 4-byte aligned magic in the first
 * 8 KiB whose checksum holds. Returns 0, MB_ERR_NO_HEADER, MB_ERR_CHECKSUM
 * (a magic was found but no checksum held) or MB_ERR_TRUNCATED (a.out-kludge
 * fields cut off by the end of the file).
 */
int mb_find_header(const uint8_t *image, size_t len, struct mb_header *out);

/* True when the image carries a valid multiboot1 header (recognising a kernel). */
bool mb_is_multiboot(const uint8_t *image, size_t len);

/*
 * Loads image into guest RAM and writes the multiboot information for
 * cmdline (NULL: "") and module (NULL: none). Everything is checked before
 * the first byte is written: on error, nothing was written, err holds the
 * reason and the result is a negative enum mb_error. On success fills out.
 */
int mb_load(const uint8_t *image, size_t len, const struct mb_guest_mem *mem, const char *cmdline,
	    const struct mb_module *module, struct mb_entry *out, char *err, size_t errlen);

#endif
