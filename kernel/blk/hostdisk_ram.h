/*
 * Boot modules as host disks: `hostdisk=/boot/vms/disk.img[,/boot/vms/other.img]` on the
 * hypervisor's command line makes each named module a host block device, ram0, ram1, ...
 * in that order, registered through hostblk_add() like an NVMe namespace: its GPT is
 * read, its partitions are named (ram0p1) and VM files reach them by `partlabel:`,
 * `partuuid:` or name. Requests complete at once, inside submit. This is how the block
 * layer runs where the emulator has no NVMe or AHCI controller (Bochs), and in CI; writes
 * stay in RAM until the host reboots.
 */
#ifndef HV_KERNEL_BLK_HOSTDISK_RAM_H
#define HV_KERNEL_BLK_HOSTDISK_RAM_H

#include "kernel/boot/bootinfo.h"

#define HOSTDISK_RAM_MAX 8

/* Reads hostdisk= from the command line and registers its modules; logs what it refuses. */
void hostdisk_ram_init(const struct boot_info *bi);

/* The host disk a boot module became ("ram0"), or NULL: such a module is no VM's RAM disk. */
const char *hostdisk_ram_of_module(const char *path);

#endif
