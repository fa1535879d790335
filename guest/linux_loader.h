/*
 * Linux/x86 boot protocol loader: puts a bzImage, its initrd and command line
 * into guest RAM and builds the zero page (struct boot_params), for the
 * 64-bit entry (Documentation/arch/x86/boot.rst, protocol 2.12+, "64-bit
 * BOOT PROTOCOL"; the zero page layout is Documentation/arch/x86/zero-page.rst).
 * The kernel's real-mode setup code is not run: like QEMU's and Firecracker's
 * direct kernel boot, the loader does what it would have done.
 *
 * Pure logic: guest RAM is reached only through the callbacks in
 * struct linux_guest_mem (the style of mb_loader.h), so the same code runs in
 * the hypervisor and in a hosted unit test.
 *
 * Guest-physical layout it produces (all below the EBDA at 0x9fc00, in RAM the
 * e820 map calls usable; the kernel copies the zero page and command line
 * early, and its decompressor switches to page tables of its own):
 *   0x07000-0x07fff   stack (RSP = LINUX_STACK_TOP; the kernel sets its own at once)
 *   0x08000-0x08fff   zero page (struct boot_params), RSI at entry
 *   0x09000-0x09fff   GDT: null, null, __BOOT_CS 0x10 (64-bit code), __BOOT_DS 0x18
 *   0x0a000-0x0afff   PML4
 *   0x0b000-0x0bfff   PDPT
 *   0x0c000-0x0ffff   4 page directories: identity map of 0-4 GiB with 2 MiB pages
 *   0x10000-0x1ffff   command line (at most the kernel's cmdline_size + 1 bytes)
 *   kernel            pref_address (16 MiB for Debian's kernels), else the lowest
 *                     kernel_alignment-aligned address from 16 MiB (then 1 MiB)
 *                     where init_size bytes fit in usable RAM
 *   initrd            as high as it fits: page aligned, in usable RAM, below
 *                     initrd_addr_max, above the kernel's init_size
 * The BIOS data area (0x400-0x4ff) is left zeroed: the kernel then assumes the
 * EBDA at 0x9f000 and below, which the e820 map also reserves. The real-mode
 * trampoline Linux 6.1's decompressor may place just below 0x9f000 does not
 * collide with anything here.
 */
#ifndef HV_GUEST_LINUX_LOADER_H
#define HV_GUEST_LINUX_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/e820.h"

/* Setup header (boot.rst "THE REAL-MODE KERNEL HEADER"): offsets in the image
 * file, which are also their offsets in the zero page. */
#define LINUX_HDR_SETUP_SECTS 0x1f1
#define LINUX_HDR_SYSSIZE 0x1f4
#define LINUX_HDR_VID_MODE 0x1fa
#define LINUX_HDR_BOOT_FLAG 0x1fe /* 0xaa55 */
#define LINUX_HDR_JUMP 0x200 /* byte 0x201: where the header ends, from 0x202 */
#define LINUX_HDR_MAGIC 0x202 /* "HdrS" */
#define LINUX_HDR_VERSION 0x206
#define LINUX_HDR_KERNEL_VERSION 0x20e /* string pointer, less 0x200 */
#define LINUX_HDR_TYPE_OF_LOADER 0x210
#define LINUX_HDR_LOADFLAGS 0x211
#define LINUX_HDR_CODE32_START 0x214
#define LINUX_HDR_RAMDISK_IMAGE 0x218
#define LINUX_HDR_RAMDISK_SIZE 0x21c
#define LINUX_HDR_HEAP_END_PTR 0x224
#define LINUX_HDR_CMD_LINE_PTR 0x228
#define LINUX_HDR_INITRD_ADDR_MAX 0x22c
#define LINUX_HDR_KERNEL_ALIGNMENT 0x230
#define LINUX_HDR_RELOCATABLE 0x234
#define LINUX_HDR_MIN_ALIGNMENT 0x235
#define LINUX_HDR_XLOADFLAGS 0x236
#define LINUX_HDR_CMDLINE_SIZE 0x238
#define LINUX_HDR_HARDWARE_SUBARCH 0x23c
#define LINUX_HDR_SETUP_DATA 0x250
#define LINUX_HDR_PREF_ADDRESS 0x258
#define LINUX_HDR_INIT_SIZE 0x260
#define LINUX_HDR_END_MIN 0x264 /* through init_size: what protocol 2.12 has */
#define LINUX_HDR_END_MAX 0x290 /* where the zero page's next field begins */

#define LINUX_BOOT_FLAG 0xaa55u
#define LINUX_HDR_SIGNATURE 0x53726448u /* "HdrS" */
#define LINUX_MIN_VERSION 0x020cu /* 2.12: xloadflags, XLF_KERNEL_64 */
#define LINUX_VERSION_RSDP 0x020eu /* 2.14: boot_params.acpi_rsdp_addr */
#define LINUX_SECTOR 512u
#define LINUX_DEFAULT_SETUP_SECTS 4u /* setup_sects 0 means 4 */

#define LINUX_LOADED_HIGH (1u << 0) /* loadflags: protected-mode code at 1 MiB+ */
#define LINUX_CAN_USE_HEAP (1u << 7)
#define LINUX_XLF_KERNEL_64 (1u << 0) /* xloadflags: has the 64-bit entry at +0x200 */
#define LINUX_XLF_CAN_BE_LOADED_ABOVE_4G (1u << 1)

#define LINUX_TYPE_OF_LOADER 0xff /* "undefined" loader ID */
#define LINUX_ENTRY_64_OFFSET 0x200 /* startup_64 = load address + 0x200 */

/* Zero page fields outside the setup header (zero-page.rst). */
#define LINUX_BP_ACPI_RSDP_ADDR 0x070
#define LINUX_BP_EXT_RAMDISK_IMAGE 0x0c0
#define LINUX_BP_EXT_RAMDISK_SIZE 0x0c4
#define LINUX_BP_EXT_CMD_LINE_PTR 0x0c8
#define LINUX_BP_ALT_MEM_K 0x1e0
#define LINUX_BP_E820_ENTRIES 0x1e8
#define LINUX_BP_SENTINEL 0x1ef
#define LINUX_BP_E820_TABLE 0x2d0
#define LINUX_BP_E820_ENTRY_SIZE 20 /* addr(8) size(8) type(4), packed */
#define LINUX_BP_E820_MAX 128
#define LINUX_BP_SIZE 0x1000

/* Where the loader puts its data in guest RAM (see the layout above). */
#define LINUX_STACK_TOP 0x8000ull
#define LINUX_ZERO_PAGE_ADDR 0x8000ull
#define LINUX_GDT_ADDR 0x9000ull
#define LINUX_PML4_ADDR 0xa000ull
#define LINUX_PDPT_ADDR 0xb000ull
#define LINUX_PD_ADDR 0xc000ull /* LINUX_PD_COUNT pages */
#define LINUX_PD_COUNT 4 /* 4 x 1 GiB: identity map of 0-4 GiB */
#define LINUX_CMDLINE_ADDR 0x10000ull
#define LINUX_CMDLINE_MAX 0x10000u /* with its terminator */
#define LINUX_BOOT_AREA_START 0x7000ull
#define LINUX_BOOT_AREA_END 0x20000ull
#define LINUX_IDENTITY_MAP_END 0x100000000ull

#define LINUX_KERNEL_MIN_ADDR 0x100000ull /* never below 1 MiB */
#define LINUX_KERNEL_FALLBACK 0x1000000ull /* 16 MiB: LOAD_PHYSICAL_ADDR of most kernels */
#define LINUX_PAGE 4096u

/* GDT (boot.rst: __BOOT_CS 0x10 execute/read, __BOOT_DS 0x18 read/write, both
 * flat 4 GiB; CS a long-mode code segment). Accessed bits preset so the CPU
 * never writes the table. */
#define LINUX_BOOT_CS 0x10
#define LINUX_BOOT_DS 0x18
#define LINUX_GDT_ENTRIES 4
#define LINUX_GDT_CODE64 0x00af9b000000ffffull /* G, L, P, DPL0, code exec/read, accessed */
#define LINUX_GDT_DATA 0x00cf93000000ffffull /* G, D/B, P, DPL0, data read/write, accessed */

/* Control registers at entry (SDM Vol. 3A §2.5, §9.8.5: IA-32e mode). */
#define LINUX_CR0_PE (1ull << 0)
#define LINUX_CR0_ET (1ull << 4)
#define LINUX_CR0_NE (1ull << 5)
#define LINUX_CR0_PG (1ull << 31)
#define LINUX_CR4_PAE (1ull << 5)
#define LINUX_EFER_LME (1ull << 8)
#define LINUX_EFER_LMA (1ull << 10)

/* Page table entry bits (SDM Vol. 3A §4.5). */
#define LINUX_PTE_P (1ull << 0)
#define LINUX_PTE_RW (1ull << 1)
#define LINUX_PTE_PS (1ull << 7)

enum linux_error {
	LINUX_OK = 0,
	LINUX_ERR_INVAL = -1, /* bad arguments */
	LINUX_ERR_NOT_BZIMAGE = -2, /* no boot flag or no "HdrS" */
	LINUX_ERR_VERSION = -3, /* protocol older than 2.12 */
	LINUX_ERR_FLAGS = -4, /* not LOADED_HIGH, no 64-bit entry, bad alignment */
	LINUX_ERR_TRUNCATED = -5, /* the file ends before what its header describes */
	LINUX_ERR_RANGE = -6, /* kernel, initrd or loader data do not fit guest RAM */
	LINUX_ERR_TOO_LONG = -7, /* command line longer than the kernel accepts */
	LINUX_ERR_MEM = -8, /* a guest-memory callback failed */
};

/* Guest RAM, from guest-physical 0 to ram_bytes. Callbacks return 0 or negative. */
struct linux_guest_mem {
	uint64_t ram_bytes;
	int (*write)(void *ctx, uint64_t gpa, const void *src, size_t len);
	int (*zero)(void *ctx, uint64_t gpa, size_t len);
	void *ctx;
};

/* The setup header as found in the image. */
struct linux_header {
	uint16_t version; /* 0x020f is 2.15 */
	uint8_t setup_sects; /* as read (0 is reported as 4) */
	uint8_t loadflags;
	uint16_t xloadflags;
	bool relocatable;
	uint8_t min_alignment; /* log2 */
	uint32_t kernel_alignment;
	uint32_t initrd_addr_max; /* highest address the initrd's last byte may have */
	uint32_t cmdline_size; /* longest command line, terminator not counted */
	uint32_t init_size; /* bytes the kernel needs from its load address */
	uint32_t syssize; /* protected-mode code, in 16-byte units */
	uint64_t pref_address;
	uint32_t setup_bytes; /* (setup_sects + 1) * 512: where the kernel starts */
	uint32_t header_end; /* 0x202 + byte 0x201, clamped to LINUX_HDR_END_MAX */
	uint64_t kernel_bytes; /* what follows the setup code: copied to the load address */
	char release[65]; /* kernel_version string's first word, or "" */
};

/* What to boot with. */
struct linux_boot_config {
	const char *cmdline; /* NULL: "" */
	const uint8_t *initrd; /* NULL or initrd_len 0: none */
	size_t initrd_len;
	const struct e820_map *e820; /* NULL: e820_build() with only ram_bytes */
	uint64_t acpi_rsdp; /* 0: none (the kernel then scans 0xe0000-0xfffff) */
};

/* How to enter the guest: 64-bit mode, paging on, interrupts off (boot.rst). */
struct linux_entry {
	uint64_t rip; /* load address + 0x200 */
	uint64_t rsi; /* the zero page */
	uint64_t rsp;
	uint64_t cr0, cr3, cr4, efer;
	uint64_t gdt_base;
	uint16_t gdt_limit;
	uint16_t cs, ds; /* ds also for es, ss (fs, gs may be 0 or ds) */
	uint64_t kernel_start, kernel_end; /* load address .. + max(init_size, file) */
	uint64_t initrd_start, initrd_end; /* both 0 without an initrd */
	uint64_t cmdline_addr;
	uint16_t version; /* boot protocol of the kernel */
};

/*
 * Reads and checks the setup header: boot flag, "HdrS", protocol 2.12+,
 * LOADED_HIGH, XLF_KERNEL_64, the setup sectors and syssize against the file,
 * a power-of-two kernel_alignment when relocatable. Returns 0 or a negative
 * enum linux_error with the reason in err.
 */
int linux_parse_header(const uint8_t *img, size_t len, struct linux_header *out, char *err,
		       size_t errlen);

/* True when the image is a bzImage (boot flag and "HdrS"), whatever its protocol. */
bool linux_is_bzimage(const uint8_t *img, size_t len);

/*
 * Loads img into guest RAM, with cfg's initrd and command line, and writes
 * the zero page, GDT and identity-mapped page tables. Everything is checked
 * before the first byte is written: on error nothing was written, err holds
 * the reason and the result is a negative enum linux_error. On success fills out.
 */
int linux_load(const uint8_t *img, size_t len, const struct linux_guest_mem *mem,
	       const struct linux_boot_config *cfg, struct linux_entry *out, char *err,
	       size_t errlen);

#endif
