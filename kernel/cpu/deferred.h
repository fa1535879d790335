/*
 * Deferred work: what an interrupt handler leaves to be done outside
 * interrupt context (an NVMe completion queue to reap, a NIC's RX ring).
 *
 * A handler calls deferred_raise(); the work runs at the next safe point on
 * any core: after a VM exit has been handled, in the idle loop after HLT,
 * and in the console's loop. A safe point holds no lock and has interrupts
 * on, so the work may take locks, submit more I/O and inject interrupts
 * into VMs. A device without interrupts asks to be polled instead
 * (poll_us): its work then also runs at safe points at most that often.
 *
 * The same work may run on two cores at once: its function takes its own
 * locks. Entries are registered at boot and never removed.
 */
#ifndef HV_CPU_DEFERRED_H
#define HV_CPU_DEFERRED_H

#include <stdbool.h>
#include <stdint.h>

struct deferred {
	const char *name;
	void (*fn)(void *arg);
	void *arg;
	uint64_t poll_us; /* 0: only when raised */
	/* the implementation's */
	uint32_t pending;
	uint64_t next_poll; /* host TSC */
	uint64_t runs;
	struct deferred *next;
};

/* Adds d (fn, arg, name, poll_us set by the caller) to the safe points' list. */
void deferred_register(struct deferred *d);
/* Asks for d's work at the next safe point: from any context, interrupt handlers included. */
void deferred_raise(struct deferred *d);
/* Changes d's polling period (0: off), e.g. when a device falls back from interrupts. */
void deferred_set_poll(struct deferred *d, uint64_t poll_us);
/* A safe point: runs what was raised and what is due for polling. Cheap when nothing is. */
void deferred_run(void);
/* Work was raised and waits for a safe point (the exit fast path goes to one then). */
extern uint32_t deferred_raised_count;
static inline bool deferred_raised(void)
{
	return __atomic_load_n(&deferred_raised_count, __ATOMIC_ACQUIRE) != 0;
}

#endif
