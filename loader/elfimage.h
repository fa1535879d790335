/*
 * The hypervisor image as hvboot.efi checks it before loading: an x86-64
 * ELF executable with a multiboot2 header in its first 32 KiB, whose
 * loadable segments lie within the file and below 4 GiB (the multiboot2
 * entry is 32-bit and the image is linked to run where it is loaded).
 * Pure: the loader and the hosted tests share it.
 */
#ifndef HV_LOADER_ELFIMAGE_H
#define HV_LOADER_ELFIMAGE_H

#include <stddef.h>
#include <stdint.h>

#define ELFIMAGE_MAX_SEGMENTS 16

struct elfimage_segment {
	uint64_t paddr;	 /* where it goes */
	uint64_t offset; /* its bytes in the file */
	uint64_t filesz;
	uint64_t memsz;	 /* >= filesz; the rest is zeroed */
};

struct elfimage {
	uint32_t entry;
	struct elfimage_segment seg[ELFIMAGE_MAX_SEGMENTS];
	unsigned nseg;
};

/* Returns NULL when the image is good, else why not (a sentence fragment). */
const char *elfimage_check(const void *file, size_t size, struct elfimage *out);

#endif
