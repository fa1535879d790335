/* The disk sharing rule (see disk_claim.h): a small table under one lock. */
#include "kernel/blk/disk_claim.h"

#include "kernel/lib/format.h"
#include "kernel/lib/string.h"

struct disk_claims disk_claims_host = { .lock = SPINLOCK_INIT };

int disk_claim_take(struct disk_claims *t, const char *target, const char *vm, bool write,
		    char *err, size_t errlen)
{
	int free_slot = -1;
	uint64_t flags;

	if (strlen(target) > DISK_CLAIM_TARGET_MAX || strlen(vm) > DISK_CLAIM_VM_MAX) {
		format(err, errlen, "disk target %.60s: name too long", target);
		return -1;
	}
	flags = spin_lock_irqsave(&t->lock);
	for (int i = 0; i < DISK_CLAIMS_MAX; i++) {
		const struct disk_claim *c = &t->c[i];

		if (!c->used) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (strcmp(c->target, target) != 0)
			continue;
		/* a writer excludes everyone; a reader excludes writers */
		if (c->write || write) {
			format(err, errlen, "disk target %s is in use %s by VM %s", target,
			       c->write ? "read-write" : "read-only", c->vm);
			spin_unlock_irqrestore(&t->lock, flags);
			return -1;
		}
	}
	if (free_slot < 0) {
		spin_unlock_irqrestore(&t->lock, flags);
		format(err, errlen, "disk target %s: too many disks attached (at most %d)", target,
		       DISK_CLAIMS_MAX);
		return -1;
	}
	struct disk_claim *c = &t->c[free_slot];
	c->used = true;
	c->write = write;
	strlcpy_hv(c->target, target, sizeof(c->target));
	strlcpy_hv(c->vm, vm, sizeof(c->vm));
	spin_unlock_irqrestore(&t->lock, flags);
	return free_slot;
}

void disk_claim_release(struct disk_claims *t, int id)
{
	if (id < 0 || id >= DISK_CLAIMS_MAX)
		return;
	uint64_t flags = spin_lock_irqsave(&t->lock);
	memset(&t->c[id], 0, sizeof(t->c[id]));
	spin_unlock_irqrestore(&t->lock, flags);
}

unsigned disk_claim_holders(struct disk_claims *t, const char *target)
{
	unsigned n = 0;
	uint64_t flags = spin_lock_irqsave(&t->lock);

	for (int i = 0; i < DISK_CLAIMS_MAX; i++)
		n += t->c[i].used && strcmp(t->c[i].target, target) == 0;
	spin_unlock_irqrestore(&t->lock, flags);
	return n;
}
