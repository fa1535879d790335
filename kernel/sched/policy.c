#include "kernel/sched/policy.h"

#include <stddef.h>

/* Virtual times wrap: compare them by their difference. */
static bool vt_before(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b) < 0;
}

#define wants_core sched_wants_core

void sched_share_init(struct sched_share *s, unsigned weight, unsigned cap)
{
	*s = (struct sched_share){.weight = weight ? weight : SCHED_WEIGHT_UNIT, .cap = cap};
}

bool sched_rq_add(struct sched_rq *rq, struct sched_entity *e)
{
	if (e->rq)
		return false; /* one queue at a time: its links are in use */
	e->rq = rq;
	e->rq_next = NULL;
	e->rq_prev = rq->last;
	if (rq->last)
		rq->last->rq_next = e;
	else
		rq->first = e;
	rq->last = e;
	rq->n++;
	return true;
}

void sched_rq_remove(struct sched_rq *rq, struct sched_entity *e)
{
	if (e->rq != rq)
		return;
	/* the others keep their order: among equal virtual times the earlier one wins */
	if (e->rq_prev)
		e->rq_prev->rq_next = e->rq_next;
	else
		rq->first = e->rq_next;
	if (e->rq_next)
		e->rq_next->rq_prev = e->rq_prev;
	else
		rq->last = e->rq_prev;
	e->rq_next = e->rq_prev = NULL;
	e->rq = NULL;
	rq->n--;
}

static uint64_t cap_budget(const struct sched_share *s, const struct sched_params *p)
{
	return (uint64_t)s->cap * p->cap_period / 100;
}

/* Rolls the cap period forward to now; the share's lock is held. */
static void cap_roll(struct sched_share *s, uint64_t now, const struct sched_params *p)
{
	/*
	 * Signed: another core may have rolled the period with a clock reading
	 * a little after ours; a `now` before period_start is in this period.
	 */
	if ((int64_t)(now - s->period_start) < (int64_t)p->cap_period)
		return;
	uint64_t periods = (now - s->period_start) / p->cap_period;
	uint64_t refill = periods * cap_budget(s, p);
	s->used = s->used > refill ? s->used - refill : 0;
	s->period_start += periods * p->cap_period;
}

uint64_t sched_cap_left(struct sched_share *s, uint64_t now, const struct sched_params *p)
{
	spin_lock(&s->lock);
	cap_roll(s, now, p);
	uint64_t budget = cap_budget(s, p);
	uint64_t left = s->used < budget ? budget - s->used : 0;
	spin_unlock(&s->lock);
	return left;
}

void sched_cap_charge(struct sched_share *s, uint64_t ticks)
{
	spin_lock(&s->lock);
	s->used += ticks;
	spin_unlock(&s->lock);
}

bool sched_cap_allows(struct sched_share *s, uint64_t now, const struct sched_params *p)
{
	if (!s->cap)
		return true;
	spin_lock(&s->lock);
	cap_roll(s, now, p);
	bool ok = s->used < cap_budget(s, p);
	spin_unlock(&s->lock);
	return ok;
}

struct sched_entity *sched_pick(struct sched_rq *rq, uint64_t now, const struct sched_params *p,
				unsigned *others)
{
	struct sched_pick_state ps;
	sched_pick_init(&ps);
	for (SCHED_RQ_FOR_EACH(e, rq))
		sched_pick_consider(&ps, e, now, p);
	return sched_pick_finish(rq, &ps, others);
}





struct sched_entity *sched_steal_candidate(struct sched_rq *from, unsigned to,
					   const struct sched_entity *skip)
{
	struct sched_entity *best = NULL;
	unsigned wanting = 0;
	for (SCHED_RQ_FOR_EACH(e, from))
		wanting += wants_core(e->state);
	if (wanting < 2)
		return NULL; /* its core runs what it has */
	for (SCHED_RQ_FOR_EACH(e, from)) {
		if (e == skip || e->state != SCHED_RUNNABLE || !cpuset_has(&e->affinity, to))
			continue;
		/* the one waiting longest */
		if (!best || (int64_t)(e->runnable_since - best->runnable_since) < 0)
			best = e;
	}
	return best;
}

bool sched_spin_yield(struct sched_rq *rq, struct sched_entity *spinner, uint64_t now,
		      const struct sched_params *p)
{
	struct sched_entity *target = NULL;
	uint64_t back = spinner->vtime;
	bool any = false;
	for (SCHED_RQ_FOR_EACH(e, rq)) {
		if (e == spinner || e->state != SCHED_RUNNABLE || !sched_cap_allows(e->share, now, p))
			continue;
		any = true;
		if (vt_before(back, e->vtime))
			back = e->vtime;
		if (e->share == spinner->share && !e->spun &&
		    (!target || vt_before(e->vtime, target->vtime)))
			target = e;
	}
	if (!any)
		return false;
	/*
	 * Behind the last runnable one, not further: the spinner's VM pays for
	 * the turn it gave away and no more, and the others keep their order.
	 */
	spinner->vtime = back + 1;
	spinner->spun = true;
	spinner->spin_yields++;
	if (target)
		target->boost = true;
	return true;
}

void sched_rebase(struct sched_entity *e, const struct sched_rq *from, const struct sched_rq *to)
{
	e->vtime = e->vtime - from->min_vtime + to->min_vtime;
}

uint64_t sched_rq_refill_at(const struct sched_rq *rq, const struct sched_params *p)
{
	uint64_t at = UINT64_MAX;
	for (SCHED_RQ_FOR_EACH(e, rq)) {
		if (!wants_core(e->state) || !e->share->cap)
			continue;
		uint64_t end = e->share->period_start + p->cap_period;
		if (end < at)
			at = end;
	}
	return at;
}

int sched_pick_core(const struct cpuset *allowed, unsigned ncores,
		    unsigned (*load)(void *ctx, unsigned core), void *ctx)
{
	int best = -1;
	unsigned best_load = 0;
	for (CPUSET_FOR_EACH(c, allowed)) {
		if (c >= ncores)
			break;
		unsigned l = load(ctx, c);
		if (best < 0 || l < best_load) {
			best = (int)c;
			best_load = l;
		}
	}
	return best;
}
