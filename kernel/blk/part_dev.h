/*
 * A VM's view of a host disk: a window [first, first + sectors) of a host
 * block device, itself a struct blkdev. Every request is checked against
 * the window with overflow-safe arithmetic (blk_request_check), then its
 * sector is moved by `first` and it goes to the host device. Read-only
 * views refuse writes, discards and write-zeroes themselves.
 */
#ifndef HV_KERNEL_BLK_PART_DEV_H
#define HV_KERNEL_BLK_PART_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/blk/blkdev.h"

struct part_dev {
	struct blkdev dev; /* what the front end drives */
	struct blkdev *lower;
	uint64_t first; /* 512-byte sectors */
};

/* Sets p up over lower; name is shown by block-list ("nvme0n1p2"). */
void part_dev_init(struct part_dev *p, struct blkdev *lower, uint64_t first, uint64_t sectors,
		   bool read_only, const char *name);

#endif
