// SOURCES: kernel/sched/policy.c kernel/lib/cpuset.c kernel/lib/format.c kernel/lib/string.c
/*
 * The scheduling policy driven as a core drives it, over simulated seconds:
 * weights share a core in proportion (a VM's split among its vCPUs), caps
 * hold over every window with overrun carried over and across cores' clock
 * readings, steal time, wake-up placement and preemption, work stealing,
 * core placement, queue bookkeeping and virtual time wrapping past 2^64.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/sched/policy.h"

#define MS 1000000ull /* ticks: 1e9 a second */
#define SEC (1000 * MS)

static const struct sched_params P = {.slice = 4 * MS, .cap_period = 10 * MS, .wake_bonus = 2 * MS};

static struct sched_rq rq;
static struct sched_share sh[4];
static struct sched_entity ent[4];
static uint64_t now, t0;
static uint32_t seed;

static struct run {
	const struct sched_entity *e;
	uint64_t start, len;
} runs[16384]; /* what sim() ran */
static unsigned nruns;

static int setup(void **state)
{
	(void)state;
	memset(&rq, 0, sizeof(rq));
	memset(ent, 0, sizeof(ent));
	now = t0 = 5 * SEC + 123; /* host time does not start at a period boundary */
	seed = 1;
	nruns = 0;
	return 0;
}

/* VM k's share, new. */
static struct sched_share *vm(unsigned k, unsigned weight, unsigned cap)
{
	sched_share_init(&sh[k], weight, cap);
	return &sh[k];
}

/* Entity i of the VM `s`, on rq and runnable, at virtual time vt. */
static struct sched_entity *add(unsigned i, struct sched_share *s, uint64_t vt)
{
	struct sched_entity *e = &ent[i];
	e->share = s;
	e->vtime = vt;
	cpuset_fill(&e->affinity, CPUSET_MAX);
	assert_true(sched_rq_add(&rq, e));
	sched_set_state(e, SCHED_RUNNABLE, now);
	return e;
}

/* The core picks e now and runs it for t ticks; it leaves the core in state `after`. */
static void turn(struct sched_entity *e, uint64_t t, enum sched_state after)
{
	unsigned others;
	assert_ptr_equal(sched_pick(&rq, now, &P, &others), e);
	sched_set_state(e, SCHED_RUNNING, now);
	now += t;
	sched_charge(e, t);
	sched_set_state(e, after, now);
}

/*
 * Runs rq's core until `end`: each turn ends when the guest exits on its own
 * (at a pseudo-random time) or when the core's timer fires, `late` ticks
 * after the slice (or a capped VM's refill) was due.
 */
static void sim(uint64_t end, uint64_t late)
{
	while (now < end) {
		unsigned others;
		struct sched_entity *e = sched_pick(&rq, now, &P, &others);
		uint64_t refill = sched_rq_refill_at(&rq, &P);
		if (!e) { /* idle: every runnable VM spent its cap */
			assert_true(refill > now && refill <= now + P.cap_period);
			assert_int_equal(refill % P.cap_period, 0);
			now = refill;
			continue;
		}
		assert_int_equal(e->state, SCHED_RUNNABLE);
		sched_set_state(e, SCHED_RUNNING, now);
		uint64_t limit = sched_slice(e, others, now, &P);
		if (refill > now && refill - now < limit)
			limit = refill - now;
		seed = seed * 1103515245u + 12345u;
		uint64_t exit = 50000 + (seed >> 4) % (6 * MS);
		uint64_t ran = exit < limit ? exit : limit + late;
		assert_true(nruns < sizeof(runs) / sizeof(runs[0]));
		runs[nruns++] = (struct run){e, now, ran};
		now += ran;
		sched_charge(e, ran);
		sched_set_state(e, SCHED_RUNNABLE, now);
	}
}

/* Ticks e ran within [a, b). */
static uint64_t ran_in(const struct sched_entity *e, uint64_t a, uint64_t b)
{
	uint64_t sum = 0;
	for (unsigned i = 0; i < nruns; i++) {
		uint64_t s = runs[i].start, t = s + runs[i].len;
		if (runs[i].e == e && t > a && s < b)
			sum += (t < b ? t : b) - (s > a ? s : a);
	}
	return sum;
}

static void assert_near(uint64_t got, uint64_t want, unsigned permille)
{
	uint64_t d = got > want ? got - want : want - got;
	if (d * 1000 > want * permille)
		fail_msg("%llu is not within %u/1000 of %llu", (unsigned long long)got, permille,
			 (unsigned long long)want);
}

/* Every always-runnable entity of a core that was never idle waited exactly while others ran. */
static void assert_steal_accounts_for_waits(const struct sched_entity *e)
{
	assert_int_equal(e->state, SCHED_RUNNABLE);
	assert_int_equal(e->run_ticks + e->steal_ticks + (now - e->runnable_since), now - t0);
}

static void test_weights_share_a_core(void **state)
{
	struct sched_entity *a = add(0, vm(0, 512, 0), 0), *b = add(1, vm(1, 256, 0), 0);
	sim(t0 + 10 * SEC, 0);
	assert_int_equal(a->run_ticks + b->run_ticks, now - t0);
	assert_near(a->run_ticks, 2 * b->run_ticks, 10);
	assert_steal_accounts_for_waits(a);
	assert_steal_accounts_for_waits(b);

	/* three VMs, 1:1:2 */
	setup(state);
	a = add(0, vm(0, 256, 0), 0);
	b = add(1, vm(1, 256, 0), 0);
	struct sched_entity *c = add(2, vm(2, 512, 0), 0);
	sim(t0 + 10 * SEC, 0);
	assert_near(b->run_ticks, a->run_ticks, 10);
	assert_near(c->run_ticks, 2 * a->run_ticks, 10);
	assert_near(c->run_ticks, a->run_ticks + b->run_ticks, 10);
	assert_steal_accounts_for_waits(c);
}

/* A VM's weight is the VM's, whatever its vCPU count: split among the vCPUs that want to run. */
static void test_vm_weight_split_among_vcpus(void **state)
{
	(void)state;
	struct sched_entity *a0 = add(0, vm(0, 256, 0), 0), *a1 = add(1, &sh[0], 0);
	struct sched_entity *b = add(2, vm(1, 256, 0), 0);
	assert_int_equal(sh[0].wanting, 2);
	sim(t0 + 10 * SEC, 0);
	assert_near(a0->run_ticks + a1->run_ticks, b->run_ticks, 10);
	assert_near(a0->run_ticks, a1->run_ticks, 10);
	assert_int_equal(sh[0].wanting, 2);
	/* a vCPU that blocks no longer counts: the other has the VM's weight alone */
	sched_set_state(a1, SCHED_BLOCKED, now);
	assert_int_equal(sh[0].wanting, 1);
	uint64_t v = a0->vtime;
	sched_charge(a0, MS);
	assert_int_equal(a0->vtime - v, MS);
	/* 64 vCPUs wanting; one ran alone on its core for ~17 days (3 GHz), charged at once */
	a1->share = vm(2, 64 * 256, 0);
	sh[2].wanting = 64;
	a1->vtime = 0;
	a1->run_ticks = 0;
	sched_charge(a1, 1ull << 52); /* 2^52 * 256 * 64 overflows 64 bits */
	assert_int_equal(a1->vtime, 1ull << 52);
	assert_int_equal(a1->run_ticks, 1ull << 52);
}

/* Alone on its core, a VM capped at 25% with a timer firing 0.7 ms late; then beside another. */
static void test_cap_holds_over_every_window(void **state)
{
	const uint64_t budget = P.cap_period / 4, late = 700000;
	struct sched_entity *e = add(0, vm(0, 256, 25), 0);
	sim(t0 + 2 * SEC, late);
	assert_near(e->run_ticks, (now - t0) / 4, 10);
	/* one period's overrun is paid in the next: 4 whole periods hold 4 budgets + 1 overrun */
	uint64_t first = (t0 / P.cap_period + 1) * P.cap_period;
	for (uint64_t w = first; w + 4 * P.cap_period <= now; w += P.cap_period) {
		uint64_t r = ran_in(e, w, w + 4 * P.cap_period);
		if (r > 4 * budget + late)
			fail_msg("ran %llu ticks in the 4 periods from %llu", (unsigned long long)r,
				 (unsigned long long)w);
	}

	/* beside an uncapped VM of the same weight: that one gets the rest */
	setup(state);
	struct sched_entity *c = add(0, vm(0, 256, 25), 0), *u = add(1, vm(1, 256, 0), 0);
	sim(t0 + 5 * SEC, 0);
	assert_int_equal(c->run_ticks + u->run_ticks, now - t0); /* never idle */
	assert_near(c->run_ticks, (now - t0) / 4, 10);
	assert_near(u->run_ticks, (now - t0) * 3 / 4, 10);
}

static void test_cap_overrun_waits_whole_periods(void **state)
{
	(void)state;
	unsigned others;
	struct sched_entity *e = add(0, vm(0, 256, 25), 0);
	now = 100 * P.cap_period;
	assert_ptr_equal(sched_pick(&rq, now, &P, &others), e);
	assert_int_equal(others, 0);
	sched_set_state(e, SCHED_RUNNING, now);
	assert_int_equal(sched_slice(e, others, now, &P), P.cap_period / 4); /* not "forever" */
	/* its timer came a whole period late: 4 periods' budget spent at once */
	now += P.cap_period;
	sched_charge(e, P.cap_period);
	sched_set_state(e, SCHED_RUNNABLE, now);
	for (uint64_t k = 101; k < 104; k++) {
		assert_int_equal(now, k * P.cap_period);
		assert_null(sched_pick(&rq, now, &P, &others));
		assert_int_equal(sched_rq_refill_at(&rq, &P), (k + 1) * P.cap_period);
		now = sched_rq_refill_at(&rq, &P);
	}
	assert_ptr_equal(sched_pick(&rq, now, &P, &others), e);
	assert_int_equal(sched_slice(e, others, now, &P), P.cap_period / 4);
}

/* Two cores run vCPUs of one capped VM; one read its clock just before the other rolled the period. */
static void test_cap_budget_shared_across_cores(void **state)
{
	(void)state;
	struct sched_entity *e = add(0, vm(0, 256, 50), 0);
	uint64_t start = 100 * P.cap_period;
	assert_true(sched_cap_allows(&sh[0], start + 1000, &P));
	sched_charge(e, P.cap_period / 2);
	assert_false(sched_cap_allows(&sh[0], start + 2000, &P));
	assert_false(sched_cap_allows(&sh[0], start - 500, &P)); /* the other core's reading */
	assert_int_equal(sched_slice(e, 1, start - 400, &P), 1);
	assert_false(sched_cap_allows(&sh[0], start + 3000, &P));
	assert_int_equal(sh[0].period_start, start);
	assert_true(sched_cap_allows(&sh[0], start + P.cap_period, &P));
}

static void test_steal_time(void **state)
{
	(void)state;
	struct sched_entity *a = add(0, vm(0, 256, 0), 0), *b = add(1, vm(1, 256, 0), 0);
	turn(a, 3 * MS, SCHED_RUNNABLE); /* equal vtimes: the first */
	turn(b, 2 * MS, SCHED_BLOCKED);	 /* b waited for a, then HLT */
	assert_int_equal(a->steal_ticks, 0);
	assert_int_equal(b->steal_ticks, 3 * MS);
	turn(a, 5 * MS, SCHED_RUNNABLE); /* b sleeps meanwhile: not stolen from it */
	assert_int_equal(a->steal_ticks, 2 * MS);
	sched_place(&rq, b, &P);
	sched_set_state(b, SCHED_RUNNABLE, now);
	now += MS; /* b waits for the core a little */
	turn(b, MS, SCHED_BLOCKED);
	assert_int_equal(b->steal_ticks, 4 * MS);
	/* woken onto an idle core, straight to running: its sleep is no steal either */
	now += 3 * MS;
	sched_set_state(b, SCHED_RUNNING, now);
	assert_int_equal(b->steal_ticks, 4 * MS);
	assert_int_equal(a->run_ticks + b->run_ticks, 11 * MS);
}

static void test_place_and_wake_preemption(void **state)
{
	(void)state;
	unsigned others;
	const uint64_t m = 1000 * SEC;
	struct sched_entity *r = add(0, vm(0, 256, 0), m), *s = add(1, vm(1, 256, 0), 3 * SEC);
	struct sched_entity *w = add(2, vm(2, 256, 0), m - P.wake_bonus / 4);
	sched_set_state(s, SCHED_BLOCKED, now);
	sched_set_state(w, SCHED_BLOCKED, now);
	assert_ptr_equal(sched_pick(&rq, now, &P, &others), r);
	assert_int_equal(rq.min_vtime, m);
	sched_set_state(r, SCHED_RUNNING, now);
	/* the long sleeper comes back a little ahead, not its whole sleep ahead */
	sched_place(&rq, s, &P);
	sched_set_state(s, SCHED_RUNNABLE, now);
	assert_int_equal(s->vtime, m - P.wake_bonus);
	/* a short sleeper keeps its place */
	sched_place(&rq, w, &P);
	sched_set_state(w, SCHED_RUNNABLE, now);
	assert_int_equal(w->vtime, m - P.wake_bonus / 4);
	/* r ran a slice: the woken ones are next */
	sched_charge(r, P.slice);
	assert_int_equal(rq.min_vtime, m); /* never goes back */
	assert_ptr_equal(sched_pick(&rq, now, &P, &others), s);
	assert_int_equal(rq.min_vtime, m);
}

static void test_steal_candidate(void **state)
{
	(void)state;
	struct sched_entity *run = add(0, vm(0, 256, 0), 0), *x = add(1, &sh[0], 0);
	struct sched_entity *y = add(2, &sh[0], 0), *pin = add(3, &sh[0], 0);
	sched_set_state(run, SCHED_RUNNING, now);
	run->runnable_since = 1; /* longest waiting of all, but running */
	x->runnable_since = 300;
	y->runnable_since = 200;
	pin->runnable_since = 100;
	cpuset_only(&pin->affinity, 0); /* core 0 only */
	cpuset_clear(&x->affinity);
	cpuset_add(&x->affinity, 5);
	cpuset_add(&x->affinity, 63);
	cpuset_add(&x->affinity, 700); /* cores past 64 and 255 too */
	y->affinity = x->affinity;
	assert_ptr_equal(sched_steal_candidate(&rq, 5, NULL), y);
	assert_ptr_equal(sched_steal_candidate(&rq, 63, NULL), y);
	assert_ptr_equal(sched_steal_candidate(&rq, 700, NULL), y);
	assert_ptr_equal(sched_steal_candidate(&rq, 5, y), x);
	assert_ptr_equal(sched_steal_candidate(&rq, 0, NULL), pin);
	assert_null(sched_steal_candidate(&rq, 0, pin));
	assert_null(sched_steal_candidate(&rq, 7, NULL));
	assert_null(sched_steal_candidate(&rq, 64, NULL));
	assert_null(sched_steal_candidate(&rq, CPUSET_MAX, NULL));
	/* its core has only one that wants it: nothing to spare */
	sched_set_state(x, SCHED_BLOCKED, now);
	sched_set_state(y, SCHED_PAUSED, now);
	sched_set_state(pin, SCHED_OFFLINE, now);
	assert_null(sched_steal_candidate(&rq, 5, NULL));
	sched_set_state(run, SCHED_RUNNABLE, now);
	assert_null(sched_steal_candidate(&rq, 5, NULL));
	sched_set_state(x, SCHED_RUNNABLE, 50);
	assert_ptr_equal(sched_steal_candidate(&rq, 5, NULL), x);
	assert_ptr_equal(sched_steal_candidate(&rq, 5, x), run);
}

static unsigned load_of(void *ctx, unsigned core)
{
	return ((const unsigned *)ctx)[core];
}

/* The set of cores given as bits of a 64-bit mask. */
static struct cpuset mask(uint64_t bits)
{
	struct cpuset s;
	cpuset_clear(&s);
	s.w[0] = bits;
	return s;
}

static int pick(uint64_t allowed, unsigned *load, unsigned ncores)
{
	struct cpuset s = mask(allowed);
	return sched_pick_core(&s, ncores, load_of, load);
}

static void test_pick_core(void **state)
{
	(void)state;
	static unsigned load[CPUSET_MAX] = {3, 1, 1, 0, 5};
	assert_int_equal(pick(~0ull, load, 5), 3);
	assert_int_equal(pick(~(1ull << 3), load, 5), 1); /* tie: lowest index */
	assert_int_equal(pick(1ull << 2 | 1ull << 4, load, 5), 2);
	assert_int_equal(pick(1ull << 4, load, 5), 4);
	assert_int_equal(pick(0, load, 5), -1);
	assert_int_equal(pick(1ull << 5, load, 5), -1); /* no such core */
	for (unsigned c = 0; c < 64; c++)
		load[c] = 2;
	load[63] = 1;
	assert_int_equal(pick(~0ull, load, 64), 63);
	/* a 1024-core host: the least loaded of the allowed, past 64 and 255 */
	for (unsigned c = 0; c < CPUSET_MAX; c++)
		load[c] = 4;
	load[300] = 1;
	load[1023] = 0;
	struct cpuset all;
	cpuset_fill(&all, CPUSET_MAX);
	assert_int_equal(sched_pick_core(&all, CPUSET_MAX, load_of, load), 1023);
	assert_int_equal(sched_pick_core(&all, 1000, load_of, load), 300);
	cpuset_del(&all, 300);
	assert_int_equal(sched_pick_core(&all, 1000, load_of, load), 0);
}

static void test_queue_bookkeeping(void **state)
{
	(void)state;
	enum { N = 200 }; /* more than the 64 a queue once held: tests/unit/test_sched_rq.c has thousands */
	static struct sched_entity es[N + 1];
	unsigned others;
	sched_share_init(&sh[0], 256, 0);
	for (unsigned i = 0; i < N; i++) {
		es[i] = (struct sched_entity){.share = &sh[0], .vtime = 7};
		assert_true(sched_rq_add(&rq, &es[i]));
	}
	assert_false(sched_rq_add(&rq, &es[3])); /* on it already */
	assert_int_equal(rq.n, N);
	es[N] = (struct sched_entity){.share = &sh[0], .vtime = 7};
	sched_rq_remove(&rq, &es[N]); /* not on it: nothing moves */
	sched_rq_remove(&rq, &es[0]);
	sched_rq_remove(&rq, &es[10]);
	assert_int_equal(rq.n, N - 2);
	unsigned want = 1;
	for (SCHED_RQ_FOR_EACH(e, &rq)) {
		assert_ptr_equal(e, &es[want]);
		want += want == 9 ? 2 : 1;
	}
	assert_int_equal(want, N);
	for (unsigned i = 0; i < N; i++)
		sched_set_state(&es[i], SCHED_RUNNABLE, now);
	assert_ptr_equal(sched_pick(&rq, now, &P, &others), &es[1]); /* equal vtimes: earliest */
	assert_int_equal(others, N - 3);

	/* moving between cores keeps the distance to each queue's min_vtime, across the wrap */
	struct sched_rq from = {.min_vtime = 1000}, to = {.min_vtime = 5000};
	struct sched_entity e = {.vtime = 1300};
	sched_rebase(&e, &from, &to);
	assert_int_equal(e.vtime, 5300);
	from.min_vtime = UINT64_MAX - 100;
	to.min_vtime = 10;
	e.vtime = UINT64_MAX - 40;
	sched_rebase(&e, &from, &to);
	assert_int_equal(e.vtime, 70);
	e.vtime = 5;
	sched_rebase(&e, &to, &from);
	assert_int_equal(e.vtime, UINT64_MAX - 105);
}

static void test_vtime_wraps(void **state)
{
	(void)state;
	unsigned others;
	struct sched_entity *a = add(0, vm(0, 256, 0), 5);
	struct sched_entity *b = add(1, vm(1, 256, 0), UINT64_MAX - 10);
	rq.min_vtime = UINT64_MAX - 20;
	assert_ptr_equal(sched_pick(&rq, now, &P, &others), b); /* 16 ticks before a */
	assert_int_equal(rq.min_vtime, UINT64_MAX - 10);
	sched_charge(b, 100);
	assert_int_equal(b->vtime, 89);
	assert_ptr_equal(sched_pick(&rq, now, &P, &others), a);
	assert_int_equal(rq.min_vtime, 5);
	/* a sleeper placed just after the wrap, from a queue just past it */
	b->vtime = UINT64_MAX - 3 * SEC;
	sched_place(&rq, b, &P);
	assert_int_equal(b->vtime, 5 - P.wake_bonus);

	/* 2:1 weights still hold when every virtual time crosses 2^64 */
	setup(state);
	rq.min_vtime = UINT64_MAX - SEC;
	a = add(0, vm(0, 512, 0), UINT64_MAX - SEC);
	b = add(1, vm(1, 256, 0), UINT64_MAX - SEC);
	sim(t0 + 4 * SEC, 0);
	assert_true(a->vtime < SEC && b->vtime < SEC); /* both wrapped */
	assert_near(a->run_ticks, 2 * b->run_ticks, 10);
}

/*
 * A PAUSE exit: the spinner yields to what else is runnable on its core,
 * first to a sibling of its VM that did not spin itself (a directed yield),
 * and goes behind every runnable entity; alone, or beside blocked ones only,
 * it keeps its core and its virtual time.
 */
static void test_spin_yield(void **state)
{
	(void)state;
	unsigned others;
	struct sched_share *v0 = vm(0, 256, 0), *v1 = vm(1, 256, 0);
	struct sched_entity *a = add(0, v0, 0);
	assert_ptr_equal(sched_pick(&rq, now, &P, &others), a);
	sched_set_state(a, SCHED_RUNNING, now);
	assert_false(sched_spin_yield(&rq, a, now, &P)); /* alone */
	assert_int_equal(a->vtime, 0);
	struct sched_entity *b = add(1, v1, 100);
	sched_set_state(b, SCHED_BLOCKED, now);
	assert_false(sched_spin_yield(&rq, a, now, &P)); /* nobody runnable */
	assert_false(a->spun);

	/* another VM's vCPU at 100, a sibling at 300: the sibling first, then b, then a */
	sched_set_state(b, SCHED_RUNNABLE, now);
	struct sched_entity *c = add(2, v0, 300);
	assert_true(sched_spin_yield(&rq, a, now, &P));
	assert_true(a->spun && c->boost && !b->boost);
	assert_int_equal(a->vtime, 301);
	assert_int_equal(a->spin_yields, 1);
	sched_set_state(a, SCHED_RUNNABLE, now);
	turn(c, MS / 10, SCHED_RUNNABLE);
	assert_false(c->boost); /* one pick only */
	turn(b, MS / 10, SCHED_RUNNABLE);

	/* a sibling that spun itself gets no boost: the lowest virtual time goes first */
	a->spun = false;
	a->vtime = 0;
	c->spun = true;
	b->vtime = 100;
	c->vtime = 50;
	assert_true(sched_spin_yield(&rq, a, now, &P));
	assert_false(c->boost);
	assert_int_equal(a->vtime, 101);
	assert_ptr_equal(sched_pick(&rq, now, &P, &others), c);

	/* a runnable vCPU of a VM that spent its cap is no reason to yield */
	setup(state);
	a = add(0, vm(0, 256, 0), 0);
	b = add(1, vm(1, 256, 10), 100);
	sched_set_state(a, SCHED_RUNNING, now);
	sh[1].period_start = now;
	sh[1].used = P.cap_period;
	assert_false(sched_spin_yield(&rq, a, now, &P));
}

/*
 * The core's one pass (sched_pick_init, _consider on every queued entity,
 * _finish) picks what a reference pick over the queue picks: boosted first,
 * then the lowest virtual time, the earlier on ties, skipping entities that
 * do not want the core or whose cap is spent; and finds the same next
 * refill as sched_rq_refill_at. Random queues of mixed states and caps.
 */
static uint32_t rnd(void)
{
	seed = seed * 1103515245u + 12345u;
	return seed >> 8;
}

static void test_pick_in_one_pass(void **state)
{
	(void)state;
	static const enum sched_state states[] = {SCHED_RUNNABLE, SCHED_RUNNING, SCHED_BLOCKED,
						  SCHED_PAUSED};
	for (unsigned round = 0; round < 2000; round++) {
		memset(&rq, 0, sizeof(rq));
		memset(ent, 0, sizeof(ent));
		rq.min_vtime = rnd() % 1000;
		for (unsigned k = 0; k < 4; k++) {
			vm(k, 128 + rnd() % 512, rnd() % 3 ? 0 : 20 + rnd() % 100);
			sh[k].period_start = now - rnd() % (2 * P.cap_period);
			sh[k].used = rnd() % P.cap_period;
		}
		unsigned n = 1 + rnd() % 4;
		for (unsigned i = 0; i < n; i++) {
			struct sched_entity *e = &ent[i];
			e->share = &sh[rnd() % 4];
			e->vtime = rnd() % 64;
			e->state = states[rnd() % 4];
			e->boost = rnd() % 8 == 0;
			assert_true(sched_rq_add(&rq, e));
		}
		/* the reference, on the shares as they are after the caps' periods roll */
		struct sched_entity *want = NULL;
		unsigned eligible = 0;
		for (SCHED_RQ_FOR_EACH(e, &rq)) {
			if (e->state != SCHED_RUNNABLE && e->state != SCHED_RUNNING)
				continue;
			if (!sched_cap_allows(e->share, now, &P))
				continue;
			eligible++;
			if (!want || (e->boost && !want->boost) ||
			    (e->boost == want->boost && (int64_t)(e->vtime - want->vtime) < 0))
				want = e;
		}
		uint64_t refill = sched_rq_refill_at(&rq, &P);
		bool boosted = want && want->boost;

		struct sched_pick_state ps;
		unsigned others;
		sched_pick_init(&ps);
		for (SCHED_RQ_FOR_EACH(e, &rq))
			sched_pick_consider(&ps, e, now, &P);
		struct sched_entity *got = sched_pick_finish(&rq, &ps, &others);
		assert_ptr_equal(got, want);
		assert_int_equal(others, eligible ? eligible - 1 : 0);
		assert_int_equal(ps.refill_at, refill);
		if (got) {
			assert_false(got->boost); /* a directed yield is used once */
			assert_false((int64_t)(rq.min_vtime - got->vtime) < 0);
		}
		if (boosted)
			assert_true(got == want);
	}
}

/* An uncapped VM's charge takes no budget (no lock); a capped one's does. */
static void test_charge_budget_only_when_capped(void **state)
{
	(void)state;
	struct sched_entity *a = add(0, vm(0, 256, 0), 0);
	struct sched_entity *b = add(1, vm(1, 256, 50), 0);
	sched_charge(a, 3 * MS);
	sched_charge(b, 3 * MS);
	assert_int_equal(sh[0].used, 0);
	assert_int_equal(sh[1].used, 3 * MS);
	assert_int_equal(a->vtime, b->vtime); /* equal weights, one wanting vCPU each */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_weights_share_a_core, setup),
		cmocka_unit_test_setup(test_vm_weight_split_among_vcpus, setup),
		cmocka_unit_test_setup(test_cap_holds_over_every_window, setup),
		cmocka_unit_test_setup(test_cap_overrun_waits_whole_periods, setup),
		cmocka_unit_test_setup(test_cap_budget_shared_across_cores, setup),
		cmocka_unit_test_setup(test_steal_time, setup),
		cmocka_unit_test_setup(test_place_and_wake_preemption, setup),
		cmocka_unit_test_setup(test_steal_candidate, setup),
		cmocka_unit_test_setup(test_pick_core, setup),
		cmocka_unit_test_setup(test_queue_bookkeeping, setup),
		cmocka_unit_test_setup(test_vtime_wraps, setup),
		cmocka_unit_test_setup(test_spin_yield, setup),
		cmocka_unit_test_setup(test_pick_in_one_pass, setup),
		cmocka_unit_test_setup(test_charge_budget_only_when_capped, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
