/* The disk sharing rule (see disk_claim.h): a small table under one lock. */
#include "kernel/blk/disk_claim.h"

#include "kernel/lib/format.h"
#include "kernel/lib/string.h"

struct disk_claims disk_claims_host = { .lock = SPINLOCK_INIT };

/* The end of [first, first + count), saturating instead of wrapping. */
static uint64_t range_end(uint64_t first, uint64_t count)
{
	return count > UINT64_MAX - first ? UINT64_MAX : first + count;
}

static bool overlaps(const struct disk_claim *c, const char *device, uint64_t first,
		     uint64_t count)
{
	if (!c->used || !count || !c->count || strcmp(c->device, device) != 0)
		return false;
	return first < range_end(c->first, c->count) && c->first < range_end(first, count);
}

int disk_claim_take_range(struct disk_claims *t, const char *target, const char *device,
			  uint64_t first, uint64_t count, const char *vm, bool write, char *err,
			  size_t errlen)
{
	int free_slot = -1;
	uint64_t flags;

	if (strlen(target) > DISK_CLAIM_TARGET_MAX || strlen(device) > DISK_CLAIM_TARGET_MAX ||
	    strlen(vm) > DISK_CLAIM_VM_MAX) {
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
		if (!overlaps(c, device, first, count))
			continue;
		/* a writer excludes everyone; a reader excludes writers */
		if (c->write || write) {
			if (strcmp(c->target, target) == 0)
				format(err, errlen, "disk target %s is in use %s by VM %s", target,
				       c->write ? "read-write" : "read-only", c->vm);
			else
				format(err, errlen, "disk target %s overlaps %s, in use %s by VM %s",
				       target, c->target, c->write ? "read-write" : "read-only",
				       c->vm);
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
	c->first = first;
	c->count = count;
	strlcpy_hv(c->target, target, sizeof(c->target));
	strlcpy_hv(c->device, device, sizeof(c->device));
	strlcpy_hv(c->vm, vm, sizeof(c->vm));
	spin_unlock_irqrestore(&t->lock, flags);
	return free_slot;
}

int disk_claim_take(struct disk_claims *t, const char *target, const char *vm, bool write,
		    char *err, size_t errlen)
{
	return disk_claim_take_range(t, target, target, 0, UINT64_MAX, vm, write, err, errlen);
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

unsigned disk_claim_users(struct disk_claims *t, const char *device, uint64_t first,
			  uint64_t count, char *buf, size_t len)
{
	unsigned n = 0;
	size_t used = 0;
	uint64_t flags;

	if (len)
		buf[0] = 0;
	flags = spin_lock_irqsave(&t->lock);
	for (int i = 0; i < DISK_CLAIMS_MAX; i++) {
		const struct disk_claim *c = &t->c[i];

		if (!overlaps(c, device, first, count))
			continue;
		if (used < len)
			used += (size_t)format(buf + used, len - used, "%s%s (%s)", n ? ", " : "",
					       c->vm, c->write ? "rw" : "ro");
		n++;
	}
	spin_unlock_irqrestore(&t->lock, flags);
	return n;
}
