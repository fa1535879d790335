/*
 * The scheduling policy, apart from the hardware: which vCPU a core runs
 * next, how long, what it is charged, when a core steals work from another.
 * Pure logic on plain structs, so the hosted unit tests drive it directly;
 * kernel/sched/sched.c applies it on the cores.
 *
 * Proportional share in the spirit of Xen's credit scheduler, with xl's
 * meanings for the knobs:
 *   weight  a VM's share of a contended core relative to other VMs (default
 *           256); a VM's share is split among its vCPUs that want to run.
 *   cap     the most CPU a VM may use, in percent of one core (0: none);
 *           50 is half a core, 200 two whole cores.
 * Each vCPU keeps a virtual time that advances by the host time it runs,
 * scaled by 256 / (its VM's weight per wanting vCPU); a core runs the
 * runnable vCPU with the lowest virtual time (weighted fair queueing: two
 * busy VMs weighted 2:1 get time 2:1). A cap is a budget per period, refilled
 * each period; a VM that spent it waits for the next one, overrun included.
 * Times are host TSC ticks throughout.
 */
#ifndef HV_SCHED_POLICY_H
#define HV_SCHED_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/lib/cpuset.h"
#include "kernel/lib/spinlock.h"

#define SCHED_WEIGHT_UNIT 256

enum sched_state {
	SCHED_OFFLINE,	/* on no core: not started, or its VM stopped */
	SCHED_RUNNABLE, /* wants its core */
	SCHED_RUNNING,	/* its core runs it now */
	SCHED_BLOCKED,	/* in HLT, or an AP before its STARTUP IPI: waits for an interrupt */
	SCHED_PAUSED,	/* its VM is paused */
};

/* What a VM's vCPUs share: the VM's weight and cap, and the cap's bookkeeping. */
struct sched_share {
	spinlock_t lock; /* vCPUs of one VM run on several cores */
	unsigned weight;
	unsigned cap;		/* percent of one core; 0: none */
	unsigned wanting;	/* its vCPUs runnable or running now */
	uint64_t period_start;	/* the cap's current period */
	uint64_t used;		/* ticks run in the period (overrun carries over) */
};

struct sched_entity {
	struct sched_share *share;
	enum sched_state state;
	uint64_t vtime;		 /* virtual time: lowest runs first */
	struct cpuset affinity;	 /* host cores it may run on */
	unsigned cpu;		 /* the core whose queue holds it */
	uint64_t runnable_since; /* when it last became runnable (for steal time) */
	bool boost;		 /* a spinning sibling yielded to it: the next pick takes it first */
	bool spun;		 /* it left its core last by yielding from a spin loop */
	/*
	 * The wake check's last answer, reused while it holds: a blocked
	 * entity stays asleep until host TSC sleep_until unless it is kicked
	 * (kicks: bumped by every kick; kicks_seen: its value at that check).
	 */
	unsigned kicks;
	unsigned kicks_seen;
	uint64_t sleep_until;
	/* accounting */
	uint64_t run_ticks;	/* time it held a core */
	uint64_t steal_ticks;	/* time it was runnable but another vCPU had its core */
	struct cpuset ran_on;	/* host cores it has ever run on */
	uint64_t switches_in;	/* times a core switched to it */
	uint64_t spin_yields;	/* times it gave its core away from a spin loop */
	/*
	 * The links of the run queue that holds it. In the entity, so that a
	 * queue holds any number of them and never allocates: a core that
	 * steals or receives a vCPU needs no memory, under its lock or not.
	 */
	struct sched_entity *rq_next, *rq_prev;
	struct sched_rq *rq; /* the queue it is on, or NULL */
};

/*
 * One core's run queue: the vCPUs placed on it, in any state but OFFLINE,
 * in the order they came (among equal virtual times the earlier one wins).
 * A doubly linked list through the entities; all zero is an empty queue.
 */
struct sched_rq {
	struct sched_entity *first, *last;
	unsigned n;
	uint64_t min_vtime; /* never goes back: where a waking or arriving vCPU starts */
};

/* Each entity of rq, first to last: for (SCHED_RQ_FOR_EACH(e, rq)). Removing e ends the walk. */
#define SCHED_RQ_FOR_EACH(e, rq) struct sched_entity *e = (rq)->first; e; e = e->rq_next

struct sched_params {
	uint64_t slice;	     /* ticks a vCPU runs before others on its core get a turn */
	uint64_t cap_period; /* ticks per cap period */
	uint64_t wake_bonus; /* virtual ticks a woken vCPU may start below min_vtime */
};

void sched_share_init(struct sched_share *s, unsigned weight, unsigned cap);

/* Puts e at the end of rq; false (nothing changes) when e is on a queue already. O(1). */
bool sched_rq_add(struct sched_rq *rq, struct sched_entity *e);
/* Takes e off rq; nothing when e is not on rq. O(1). */
void sched_rq_remove(struct sched_rq *rq, struct sched_entity *e);

/* What a capped VM has left of its budget this period (ticks); starts a new period when due. */
uint64_t sched_cap_left(struct sched_share *s, uint64_t now, const struct sched_params *p);
/* Spends ticks of a capped VM's budget. */
void sched_cap_charge(struct sched_share *s, uint64_t ticks);

/* May the entity's VM run now, as far as its cap goes? Starts a new period when due. */
bool sched_cap_allows(struct sched_share *s, uint64_t now, const struct sched_params *p);

/*
 * The runnable (or running) entity with the lowest virtual time whose cap
 * allows it to run, or NULL. *others: how many other entities could run.
 */
struct sched_entity *sched_pick(struct sched_rq *rq, uint64_t now, const struct sched_params *p,
				unsigned *others);

/*
 * sched_pick in steps, so that a core's one pass over its queue reviews,
 * picks and finds the next cap refill together: init, consider each
 * entity (any state), finish. Also the next refill: when the first capped
 * entity that wants the core gets a new budget (sched_rq_refill_at).
 */
struct sched_pick_state {
	struct sched_entity *best;
	unsigned eligible;
	uint64_t refill_at;
};

static inline bool sched_vt_before(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b) < 0; /* virtual times wrap: compare their difference */
}

static inline void sched_pick_init(struct sched_pick_state *ps)
{
	ps->best = NULL;
	ps->eligible = 0;
	ps->refill_at = UINT64_MAX;
}

static inline void sched_pick_consider(struct sched_pick_state *ps, struct sched_entity *e,
				       uint64_t now, const struct sched_params *p)
{
	if (e->state != SCHED_RUNNABLE && e->state != SCHED_RUNNING)
		return;
	/* (the cap's lock only for a capped VM) */
	if (__builtin_expect(e->share->cap != 0, 0)) {
		bool ok = sched_cap_allows(e->share, now, p);
		uint64_t end = e->share->period_start + p->cap_period;
		if (end < ps->refill_at)
			ps->refill_at = end;
		if (!ok)
			return;
	}
	ps->eligible++;
	struct sched_entity *best = ps->best;
	/* a directed yield's target first, then the lowest virtual time */
	if (!best || (e->boost && !best->boost) ||
	    (e->boost == best->boost && sched_vt_before(e->vtime, best->vtime)))
		ps->best = e;
}

static inline struct sched_entity *sched_pick_finish(struct sched_rq *rq,
						     struct sched_pick_state *ps, unsigned *others)
{
	struct sched_entity *best = ps->best;
	*others = ps->eligible ? ps->eligible - 1 : 0;
	if (best) {
		best->boost = false;
		if (sched_vt_before(rq->min_vtime, best->vtime))
			rq->min_vtime = best->vtime;
	}
	return best;
}





/*
 * Work stealing: a runnable entity of `from` that core `to` may run and
 * `from` would not run next, or NULL. skip: an entity that must stay (the
 * one whose state is still loaded on from's core).
 */
struct sched_entity *sched_steal_candidate(struct sched_rq *from, unsigned to,
					   const struct sched_entity *skip);

/*
 * A running entity spins (a PAUSE exit: a guest waits for a lock or for
 * another vCPU). True when another entity of rq may run instead: the
 * spinner goes behind every runnable one (its virtual time moves to the
 * back of the queue, as a round-robin yield) and, when a runnable sibling
 * of the same VM waits on rq, that sibling is picked next (a directed
 * yield: it likely holds what the spinner waits for). Siblings that spun
 * themselves are passed over for that boost. False: nothing else may run;
 * the spinner goes back to its guest at once.
 */
bool sched_spin_yield(struct sched_rq *rq, struct sched_entity *spinner, uint64_t now,
		      const struct sched_params *p);

/* Moves an entity's virtual time from one queue's frame to another's. */
void sched_rebase(struct sched_entity *e, const struct sched_rq *from, const struct sched_rq *to);

/* When the first capped, runnable entity of rq gets a new budget (UINT64_MAX: none waits). */
uint64_t sched_rq_refill_at(const struct sched_rq *rq, const struct sched_params *p);

/*
 * Placement of a vCPU: the core of `allowed` (below ncores) with the fewest
 * vCPUs, lowest index on ties, or -1. load(ctx, c): how many vCPUs core c
 * has. Looks only at the allowed cores, not at every core of the host.
 */
int sched_pick_core(const struct cpuset *allowed, unsigned ncores,
		    unsigned (*load)(void *ctx, unsigned core), void *ctx);

/*
 * The switch path's steps below are inline: a core runs them on every
 * switch, and each is a few instructions once the cap is out of the way.
 */
static inline bool sched_wants_core(enum sched_state s)
{
	return s == SCHED_RUNNABLE || s == SCHED_RUNNING;
}

/*
 * How long the picked entity may run before the core looks again (ticks;
 * UINT64_MAX: until it blocks). others: from sched_pick.
 */
static inline uint64_t sched_slice(const struct sched_entity *e, unsigned others, uint64_t now,
				   const struct sched_params *p)
{
	uint64_t slice = others ? p->slice : UINT64_MAX;
	if (__builtin_expect(e->share->cap != 0, 0)) {
		uint64_t left = sched_cap_left(e->share, now, p);
		/* other vCPUs of the VM spend the same budget elsewhere: look again soon */
		if (left < slice)
			slice = left ? left : 1;
	}
	return slice;
}

/* Charges ticks of run time: virtual time, cap budget, accounting. */
static inline void sched_charge(struct sched_entity *e, uint64_t ticks)
{
	struct sched_share *s = e->share;
	/* the budget is the cap's alone: an uncapped VM's switch takes no lock */
	if (__builtin_expect(s->cap != 0, 0))
		sched_cap_charge(s, ticks);
	unsigned wanting = __atomic_load_n(&s->wanting, __ATOMIC_RELAXED);
	if (!wanting)
		wanting = 1;
	/*
	 * The VM's weight is split among its vCPUs that want to run. In two
	 * parts, so that a long run (ticks * 256 * wanting past 2^64) is exact.
	 */
	uint64_t mul = (uint64_t)SCHED_WEIGHT_UNIT * wanting;
	e->vtime += ticks / s->weight * mul + ticks % s->weight * mul / s->weight;
	e->run_ticks += ticks;
}

/* State changes that keep the share's `wanting` count right. */
static inline void sched_set_state(struct sched_entity *e, enum sched_state st, uint64_t now)
{
	enum sched_state old = e->state;
	if (old == st)
		return;
	if (sched_wants_core(old) != sched_wants_core(st))
		__atomic_fetch_add(&e->share->wanting, sched_wants_core(st) ? 1u : -1u,
				   __ATOMIC_RELAXED);
	if (st == SCHED_RUNNABLE)
		e->runnable_since = now;
	if (st == SCHED_RUNNING && old == SCHED_RUNNABLE)
		e->steal_ticks += now - e->runnable_since;
	e->state = st;
}

/*
 * A blocked or new entity becomes runnable on rq: where its virtual time
 * starts. Its core looks at once (a kick), and runs it if that puts it
 * lowest: a woken vCPU takes the core without waiting for the slice to end
 * (guests wait on each other's IPIs).
 */
static inline void sched_place(struct sched_rq *rq, struct sched_entity *e,
			       const struct sched_params *p)
{
	/* a sleeper comes back a little ahead of the queue, never a whole sleep ahead */
	uint64_t floor = rq->min_vtime - p->wake_bonus;
	if (sched_vt_before(e->vtime, floor))
		e->vtime = floor;
}

#endif
