/*
 * A block device whose medium is host memory: a boot module's bytes, given to a VM as a
 * disk (`disk = [ '..., target=/boot/vms/root.img' ]`). Requests complete at once, inside
 * submit; data moves straight between the module and guest RAM through the request's
 * guest-memory accessors, one segment at a time. Writes land in the module's memory and
 * stay there until the host reboots. No write cache (FLUSH has nothing to do);
 * DISCARD and WRITE_ZEROES zero the range, so a discarded sector reads as zeroes.
 *
 * Pure logic, tested hosted (tests/unit/test_ramdisk.c); ramdisk_module.h attaches a
 * boot module to a VM under the sharing rule.
 */
#ifndef HV_KERNEL_BLK_RAMDISK_H
#define HV_KERNEL_BLK_RAMDISK_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/blk/blkdev.h"

struct ramdisk {
	struct blkdev dev; /* what a front end submits to; dev.priv is this ramdisk */
	uint8_t *data;	   /* dev.sectors * 512 bytes */
	int claim;	   /* disk_claim id while attached to a VM; -1 otherwise */
};

/*
 * Makes rd a disk of `bytes` rounded down to whole 512-byte sectors of data (the tail
 * is left alone), named name ("ram:/boot/vms/root.img", truncated to fit). Returns 0, or
 * -1 when bytes is under one sector (rd is then not a device).
 */
int ramdisk_init(struct ramdisk *rd, const char *name, void *data, uint64_t bytes,
		 bool read_only);

#endif
