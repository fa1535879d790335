/*
 * Who uses which disk, so two VMs never write one disk under each other's feet (nor one
 * reads what another is half-way through writing): a range held read-write by one VM is
 * refused to every other VM; held read-only, it is shared by any number. A claim lasts
 * from VM create until the VM is destroyed (or stops for good).
 *
 * A claim is a range of 512-byte sectors on a device, and claims conflict when their
 * ranges overlap on the same device: the whole disk `nvme0n1` and its partition
 * `nvme0n1p2` conflict, two partitions of one disk do not. A boot module is a device of
 * its own (its path), always claimed whole.
 *
 * Pure logic with its own lock: claims come from the console core's `create` and from
 * whichever core tears a VM down.
 */
#ifndef HV_KERNEL_BLK_DISK_CLAIM_H
#define HV_KERNEL_BLK_DISK_CLAIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/lib/spinlock.h"

#define DISK_CLAIMS_MAX 128 /* 16 VMs x 8 disks */
#define DISK_CLAIM_TARGET_MAX 255
#define DISK_CLAIM_VM_MAX 31

struct disk_claim {
	bool used;
	bool write;
	char target[DISK_CLAIM_TARGET_MAX + 1]; /* as errors name it: "/boot/x.img", "nvme0n1p2" */
	char device[DISK_CLAIM_TARGET_MAX + 1]; /* what the range is on: "/boot/x.img", "nvme0n1" */
	uint64_t first, count;			/* 512-byte sectors on device */
	char vm[DISK_CLAIM_VM_MAX + 1];
};

struct disk_claims {
	spinlock_t lock;
	struct disk_claim c[DISK_CLAIMS_MAX];
};

/* The host's table (zeroed at start: no claims). */
extern struct disk_claims disk_claims_host;

/*
 * VM vm takes sectors [first, first + count) of device, named target, for writing or
 * only reading. Returns the claim's id (>= 0), or -1 with err saying why: "disk target
 * nvme0n1p2 is in use read-write by VM web-1" (the same target), "disk target nvme0n1
 * overlaps nvme0n1p2, in use read-only by VM db" (another target on the same sectors),
 * or a full table.
 */
int disk_claim_take_range(struct disk_claims *t, const char *target, const char *device,
			  uint64_t first, uint64_t count, const char *vm, bool write, char *err,
			  size_t errlen);

/* A whole device that is its own target (a boot module's path): the range is all of it. */
int disk_claim_take(struct disk_claims *t, const char *target, const char *vm, bool write,
		    char *err, size_t errlen);

/* Gives claim id back (ids < 0 are ignored). */
void disk_claim_release(struct disk_claims *t, int id);

/* How many VMs hold target now (for tests and `info`). */
unsigned disk_claim_holders(struct disk_claims *t, const char *target);

/*
 * The VMs holding any of [first, first + count) on device, as "web (rw), db (ro)" in buf
 * (cut to fit); returns how many there are. For `block-list`.
 */
unsigned disk_claim_users(struct disk_claims *t, const char *device, uint64_t first,
			  uint64_t count, char *buf, size_t len);

#endif
