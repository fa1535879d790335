/* Ticket spinlocks: FIFO-fair, usable from any core. */
#ifndef HV_LIB_SPINLOCK_H
#define HV_LIB_SPINLOCK_H

#include <stdint.h>

typedef struct {
	volatile uint32_t next;
	volatile uint32_t owner;
} spinlock_t;

#define SPINLOCK_INIT {0, 0}

static inline void spin_lock(spinlock_t *l)
{
	uint32_t ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != ticket)
		__builtin_ia32_pause();
}

static inline void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->owner, l->owner + 1, __ATOMIC_RELEASE);
}

/* Takes the lock with interrupts off; returns the caller's RFLAGS.IF state. */
static inline uint64_t spin_lock_irqsave(spinlock_t *l)
{
	uint64_t flags = 0;
#ifndef HV_HOSTED
	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags)::"memory");
#endif
	spin_lock(l);
	return flags;
}

static inline void spin_unlock_irqrestore(spinlock_t *l, uint64_t flags)
{
	spin_unlock(l);
#ifndef HV_HOSTED
	if (flags & (1u << 9))
		__asm__ volatile("sti" ::: "memory");
#else
	(void)flags;
#endif
}

#endif
