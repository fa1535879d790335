// SOURCES: kernel/sched/policy.c kernel/lib/cpuset.c kernel/lib/format.c kernel/lib/string.c
/*
 * Run queues bounded only by memory: thousands of entities on one core's
 * queue and moved between queues (add, remove, pick, steal), checked
 * against a plain array model of each queue after every step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/sched/policy.h"

#define NE 5000 /* entities: far past the 64 a queue once held */
#define NQ 4	/* queues (cores) */

static const struct sched_params P = {.slice = 4000000, .cap_period = 10000000, .wake_bonus = 2000000};

static struct sched_entity ent[NE];
static struct sched_share sh[8];
static struct sched_rq rq[NQ];
/* the model: each queue's entities in order */
static struct sched_entity *model[NQ][NE];
static unsigned model_n[NQ];
static uint32_t seed;

static uint32_t rnd(void)
{
	seed = seed * 1103515245u + 12345u;
	return seed >> 8;
}

static int setup(void **state)
{
	(void)state;
	memset(ent, 0, sizeof(ent));
	memset(rq, 0, sizeof(rq));
	memset(model_n, 0, sizeof(model_n));
	seed = 7;
	for (unsigned k = 0; k < 8; k++)
		sched_share_init(&sh[k], 256, 0);
	for (unsigned i = 0; i < NE; i++) {
		ent[i].share = &sh[i % 8];
		cpuset_fill(&ent[i].affinity, CPUSET_MAX);
	}
	return 0;
}

static void model_add(unsigned q, struct sched_entity *e)
{
	model[q][model_n[q]++] = e;
}

static void model_remove(unsigned q, struct sched_entity *e)
{
	for (unsigned i = 0; i < model_n[q]; i++) {
		if (model[q][i] == e) {
			memmove(&model[q][i], &model[q][i + 1], (model_n[q] - i - 1) * sizeof(model[q][0]));
			model_n[q]--;
			return;
		}
	}
	fail_msg("entity not in the model of queue %u", q);
}

/* Queue q holds exactly the model's entities, in its order, linked both ways. */
static void check_queue(unsigned q)
{
	const struct sched_rq *r = &rq[q];
	assert_int_equal(r->n, model_n[q]);
	unsigned i = 0;
	const struct sched_entity *prev = NULL;
	for (SCHED_RQ_FOR_EACH(e, r)) {
		assert_true(i < model_n[q]);
		assert_ptr_equal(e, model[q][i]);
		assert_ptr_equal(e->rq, r);
		assert_ptr_equal(e->rq_prev, prev);
		prev = e;
		i++;
	}
	assert_int_equal(i, model_n[q]);
	assert_ptr_equal(r->last, model_n[q] ? model[q][model_n[q] - 1] : NULL);
}

static int queue_of(const struct sched_entity *e)
{
	for (unsigned q = 0; q < NQ; q++)
		if (e->rq == &rq[q])
			return (int)q;
	return -1;
}

/* One queue with thousands: order kept, no double add, removes anywhere, a stranger's remove does nothing. */
static void test_thousands_on_one_queue(void **state)
{
	(void)state;
	for (unsigned i = 0; i < NE; i++) {
		assert_true(sched_rq_add(&rq[0], &ent[i]));
		model_add(0, &ent[i]);
	}
	check_queue(0);
	/* on a queue already, this one or another: refused, nothing changes */
	assert_false(sched_rq_add(&rq[0], &ent[17]));
	assert_false(sched_rq_add(&rq[1], &ent[17]));
	check_queue(0);
	check_queue(1);
	/* not on that queue: nothing changes */
	sched_rq_remove(&rq[1], &ent[17]);
	check_queue(0);
	/* first, last, middle */
	unsigned gone[] = {0, NE - 1, NE / 2, 1, NE - 2, 1234};
	for (unsigned k = 0; k < sizeof(gone) / sizeof(gone[0]); k++) {
		sched_rq_remove(&rq[0], &ent[gone[k]]);
		model_remove(0, &ent[gone[k]]);
		assert_null(ent[gone[k]].rq);
		check_queue(0);
	}
	/* back in at the end */
	assert_true(sched_rq_add(&rq[0], &ent[NE / 2]));
	model_add(0, &ent[NE / 2]);
	check_queue(0);
	/* emptied from the front, then refilled: an empty queue is all zero again */
	while (model_n[0]) {
		struct sched_entity *e = model[0][0];
		sched_rq_remove(&rq[0], e);
		model_remove(0, e);
	}
	check_queue(0);
	assert_null(rq[0].first);
	assert_true(sched_rq_add(&rq[0], &ent[3]));
	model_add(0, &ent[3]);
	check_queue(0);
}

/* Random adds, removes and moves between queues against the model. */
static void test_random_adds_removes_moves(void **state)
{
	(void)state;
	for (unsigned step = 0; step < 200000; step++) {
		struct sched_entity *e = &ent[rnd() % NE];
		int q = queue_of(e);
		unsigned to = rnd() % NQ;
		unsigned op = rnd() % 4;
		if (q < 0) {
			assert_true(sched_rq_add(&rq[to], e));
			model_add(to, e);
		} else if (op == 0) {
			sched_rq_remove(&rq[q], e);
			model_remove((unsigned)q, e);
		} else if (op == 1 && (unsigned)q != to) {
			sched_rq_remove(&rq[to], e); /* the wrong queue: nothing */
			assert_ptr_equal(e->rq, &rq[q]);
		} else {
			/* a move (a steal or a pin): off one, onto the end of another */
			sched_rq_remove(&rq[q], e);
			model_remove((unsigned)q, e);
			assert_true(sched_rq_add(&rq[to], e));
			model_add(to, e);
		}
		if (step % 4096 == 0)
			for (unsigned k = 0; k < NQ; k++)
				check_queue(k);
	}
	unsigned total = 0;
	for (unsigned k = 0; k < NQ; k++) {
		check_queue(k);
		total += rq[k].n;
	}
	assert_true(total > NE / 2);
}

/* The pick over thousands is the reference pick over the model's array. */
static void test_pick_among_thousands(void **state)
{
	(void)state;
	static const enum sched_state states[] = {SCHED_RUNNABLE, SCHED_RUNNING, SCHED_BLOCKED,
						  SCHED_PAUSED};
	uint64_t now = 1000000000;
	for (unsigned round = 0; round < 20; round++) {
		setup(NULL);
		seed = round + 1;
		sh[7].cap = 50; /* one capped VM, its budget spent */
		sh[7].period_start = now;
		sh[7].used = P.cap_period;
		rq[0].min_vtime = 500;
		unsigned n = 1000 + rnd() % (NE - 1000);
		for (unsigned i = 0; i < n; i++) {
			struct sched_entity *e = &ent[i];
			e->vtime = 1000 + rnd() % 100000;
			e->state = states[rnd() % 4];
			e->boost = rnd() % 1000 == 0;
			assert_true(sched_rq_add(&rq[0], e));
			model_add(0, e);
		}
		struct sched_entity *want = NULL;
		unsigned eligible = 0;
		for (unsigned i = 0; i < model_n[0]; i++) {
			struct sched_entity *e = model[0][i];
			if (!sched_wants_core(e->state) || e->share == &sh[7])
				continue;
			eligible++;
			if (!want || (e->boost && !want->boost) ||
			    (e->boost == want->boost && (int64_t)(e->vtime - want->vtime) < 0))
				want = e;
		}
		unsigned others;
		assert_ptr_equal(sched_pick(&rq[0], now, &P, &others), want);
		assert_int_equal(others, eligible ? eligible - 1 : 0);
		check_queue(0);
	}
}

/*
 * Idle cores steal from one busy core with thousands: each steal takes the
 * runnable one waiting longest that the thief may run (never the skipped
 * one), until the busy core has fewer than two that want it.
 */
static void test_steal_from_thousands(void **state)
{
	(void)state;
	unsigned n = 3000;
	for (unsigned i = 0; i < n; i++) {
		struct sched_entity *e = &ent[i];
		sched_set_state(e, rnd() % 3 ? SCHED_RUNNABLE : SCHED_BLOCKED, rnd() % 1000000);
		if (rnd() % 4 == 0)
			cpuset_only(&e->affinity, 0); /* pinned to the busy core */
		assert_true(sched_rq_add(&rq[0], e));
		model_add(0, e);
	}
	struct sched_entity *skip = &ent[5]; /* loaded on the busy core: stays */
	sched_set_state(skip, SCHED_RUNNABLE, 0);
	unsigned steals = 0;
	for (;;) {
		unsigned to = 1 + steals % (NQ - 1);
		unsigned wanting = 0;
		struct sched_entity *want = NULL;
		for (unsigned i = 0; i < model_n[0]; i++)
			wanting += sched_wants_core(model[0][i]->state);
		for (unsigned i = 0; i < model_n[0] && wanting >= 2; i++) {
			struct sched_entity *e = model[0][i];
			if (e == skip || e->state != SCHED_RUNNABLE || !cpuset_has(&e->affinity, to))
				continue;
			if (!want || (int64_t)(e->runnable_since - want->runnable_since) < 0)
				want = e;
		}
		struct sched_entity *got = sched_steal_candidate(&rq[0], to, skip);
		assert_ptr_equal(got, want);
		if (!got)
			break;
		sched_rq_remove(&rq[0], got);
		model_remove(0, got);
		assert_true(sched_rq_add(&rq[to], got));
		model_add(to, got);
		steals++;
	}
	assert_true(steals > 1000);
	for (unsigned k = 0; k < NQ; k++)
		check_queue(k);
	/* what stayed: the skipped one, the pinned and the blocked */
	for (unsigned i = 0; i < model_n[0]; i++) {
		struct sched_entity *e = model[0][i];
		assert_true(e == skip || e->state != SCHED_RUNNABLE || !cpuset_has(&e->affinity, 1));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_thousands_on_one_queue, setup),
		cmocka_unit_test_setup(test_random_adds_removes_moves, setup),
		cmocka_unit_test_setup(test_pick_among_thousands, setup),
		cmocka_unit_test_setup(test_steal_from_thousands, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
