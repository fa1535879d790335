/*
 * Who uses which disk target, so two VMs never write one RAM disk under each other's feet
 * (nor one reads what another is half-way through writing): a target held read-write by
 * one VM is refused to every other VM; held read-only, it is shared by any number. A
 * claim lasts from VM create until the VM is destroyed (or stops for good).
 *
 * Pure logic with its own lock: claims come from the console core's `create` and from
 * whichever core tears a VM down.
 */
#ifndef HV_KERNEL_BLK_DISK_CLAIM_H
#define HV_KERNEL_BLK_DISK_CLAIM_H

#include <stdbool.h>
#include <stddef.h>

#include "kernel/lib/spinlock.h"

#define DISK_CLAIMS_MAX 128 /* 16 VMs x 8 disks */
#define DISK_CLAIM_TARGET_MAX 255
#define DISK_CLAIM_VM_MAX 31

struct disk_claim {
	bool used;
	bool write;
	char target[DISK_CLAIM_TARGET_MAX + 1];
	char vm[DISK_CLAIM_VM_MAX + 1];
};

struct disk_claims {
	spinlock_t lock;
	struct disk_claim c[DISK_CLAIMS_MAX];
};

/* The host's table (zeroed at start: no claims). */
extern struct disk_claims disk_claims_host;

/*
 * VM vm takes target, for writing or only reading. Returns the claim's id (>= 0), or -1
 * with err saying why: "disk target /boot/x.img is in use read-write by VM web-1" (or
 * "read-only by VM db" when writing is asked), or a full table.
 */
int disk_claim_take(struct disk_claims *t, const char *target, const char *vm, bool write,
		    char *err, size_t errlen);

/* Gives claim id back (ids < 0 are ignored). */
void disk_claim_release(struct disk_claims *t, int id);

/* How many VMs hold target now (for tests and `info`). */
unsigned disk_claim_holders(struct disk_claims *t, const char *target);

#endif
