#include "kernel/cpu/deferred.h"

#include "include/x86.h"
#include "kernel/lib/spinlock.h"
#include "kernel/time/tsc.h"

static struct deferred *head;
static spinlock_t register_lock = SPINLOCK_INIT;
/* raised entries not yet run, and entries that poll: the safe points' fast test */
uint32_t deferred_raised_count; /* deferred.h reads it */
static uint32_t pollers;

static uint64_t us_to_tsc(uint64_t us)
{
	return tsc_khz() * us / 1000;
}

void deferred_register(struct deferred *d)
{
	spin_lock(&register_lock);
	d->pending = 0;
	d->next_poll = 0;
	d->runs = 0;
	d->next = head;
	if (d->poll_us)
		__atomic_fetch_add(&pollers, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&head, d, __ATOMIC_RELEASE); /* readers walk without the lock */
	spin_unlock(&register_lock);
}

void deferred_raise(struct deferred *d)
{
	if (!__atomic_exchange_n(&d->pending, 1, __ATOMIC_ACQ_REL))
		__atomic_fetch_add(&deferred_raised_count, 1, __ATOMIC_RELEASE);
}

void deferred_set_poll(struct deferred *d, uint64_t poll_us)
{
	spin_lock(&register_lock);
	if (!d->poll_us && poll_us)
		__atomic_fetch_add(&pollers, 1, __ATOMIC_RELAXED);
	else if (d->poll_us && !poll_us)
		__atomic_fetch_sub(&pollers, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&d->poll_us, poll_us, __ATOMIC_RELAXED);
	spin_unlock(&register_lock);
}

/* Whether d's polling period has come round; one core wins each period. */
static bool poll_due(struct deferred *d, uint64_t now)
{
	uint64_t every = __atomic_load_n(&d->poll_us, __ATOMIC_RELAXED);
	if (!every)
		return false;
	uint64_t next = __atomic_load_n(&d->next_poll, __ATOMIC_RELAXED);
	if (now < next)
		return false;
	return __atomic_compare_exchange_n(&d->next_poll, &next, now + us_to_tsc(every), false,
					   __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

void deferred_run(void)
{
	if (!__atomic_load_n(&deferred_raised_count, __ATOMIC_ACQUIRE) &&
	    !__atomic_load_n(&pollers, __ATOMIC_RELAXED))
		return;
	uint64_t now = rdtsc();
	for (struct deferred *d = __atomic_load_n(&head, __ATOMIC_ACQUIRE); d; d = d->next) {
		bool run = false;
		if (__atomic_load_n(&d->pending, __ATOMIC_ACQUIRE) &&
		    __atomic_exchange_n(&d->pending, 0, __ATOMIC_ACQ_REL)) {
			__atomic_fetch_sub(&deferred_raised_count, 1, __ATOMIC_RELEASE);
			run = true;
		}
		if (!run)
			run = poll_due(d, now);
		if (run) {
			__atomic_fetch_add(&d->runs, 1, __ATOMIC_RELAXED);
			d->fn(d->arg);
		}
	}
}
