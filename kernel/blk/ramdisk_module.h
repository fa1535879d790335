/*
 * A VM's `disk` entry as a RAM disk over its boot module (the host side of ramdisk.h):
 * claims the target under the sharing rule (disk_claim.h), maps the module's bytes and
 * makes the block device. The caller (VM create) found the module by the disk's target
 * path and owns the struct ramdisk, which must live until ramdisk_detach().
 */
#ifndef HV_KERNEL_BLK_RAMDISK_MODULE_H
#define HV_KERNEL_BLK_RAMDISK_MODULE_H

#include <stddef.h>

#include "kernel/blk/ramdisk.h"
#include "kernel/boot/bootinfo.h"
#include "kernel/config/diskspec.h"

/*
 * Attaches module m (disk->target's) to VM vm_name as rd, read-only when the disk says so.
 * Returns 0, or -1 with err: "disk target /boot/x.img is in use read-write by VM web-1",
 * "disk target /boot/x.img is 100 bytes: a disk needs at least 512".
 */
int ramdisk_attach(struct ramdisk *rd, const struct vm_disk *disk, const struct boot_module *m,
		   const char *vm_name, char *err, size_t errlen);

/* Gives the target back (VM destroyed); rd is no longer a device. Safe on a detached rd. */
void ramdisk_detach(struct ramdisk *rd);

#endif
