/*
 * Synchronous block I/O for the host itself (GPT reads at boot, the boot
 * medium check): submits a request on host memory and runs deferred work
 * until it completes, or gives up after timeout_ms (the device driver's own
 * timeout then fails the request back). The data moves through a bounce
 * buffer of its own, which a late completion frees: the caller's buffer is
 * the caller's again as soon as the call returns, timed out or not.
 */
#ifndef HV_KERNEL_BLK_BLK_SYNC_H
#define HV_KERNEL_BLK_BLK_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/blk/blkdev.h"

/* The host's memory as a blk_guest_mem: "guest addresses" are host physical. */
extern const struct blk_guest_mem blk_host_mem;

/* Reads/writes n 512-byte sectors at sector to/from buf: a blk_status. */
int blk_read_sync(struct blkdev *d, uint64_t sector, void *buf, uint32_t n, unsigned timeout_ms);
int blk_write_sync(struct blkdev *d, uint64_t sector, const void *buf, uint32_t n,
		   unsigned timeout_ms);

#endif
