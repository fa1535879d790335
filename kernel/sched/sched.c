#include "kernel/sched/sched.h"
#include "kernel/cpu/deferred.h"

#include "drivers/lapic.h"
#include "include/x86.h"
#include "kernel/config/vmconfig.h"
#include "kernel/cpu/fpu.h"
#include "kernel/cpu/idt.h"
#include "kernel/cpu/percpu.h"
#include "kernel/cpu/smp.h"
#include "kernel/lib/format.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/panic.h"
#include "kernel/time/timer.h"
#include "kernel/time/tsc.h"
#include "kernel/vm/exit.h"
#include "kernel/vm/hvm.h"
#include "kernel/vm/msr_policy.h"
#include "kernel/vm/pvsched.h"
#include "kernel/vm/vintr.h"
#include "kernel/vm/vm.h"
#include "kernel/vm/vm_load.h"

#define IDLE_POLL_US 10000 /* an idle core looks for work to steal at least this often */

struct sched_core {
	spinlock_t lock; /* the run queue and the entities' states on it */
	struct sched_rq rq;
	struct vcpu *current; /* running on the core now */
	/* whose guest state (FPU, the backend's per-core state, MSRs) the core holds */
	struct vcpu *volatile loaded;
	volatile bool look; /* something changed for a queued vCPU: look before running on */
	bool loop_started;
	struct vm *owner; /* a VM that owns the core, or NULL */
	bool shared;	  /* the vCPU it runs now has others waiting for the core */
	uint64_t left_at; /* when the last vCPU left the core (0: idle since) */
	uint64_t switches, switch_ticks; /* switches, and TSC ticks from one vCPU to the next */
	/*
	 * The last SWITCH_RECENT switches' ticks, for a median: under a
	 * harness whose TSC counts every emulated core's instructions (QEMU's
	 * icount runs them in turn), one window that another core's work lands
	 * in would move the average by tens of ticks.
	 */
	uint32_t recent[SWITCH_RECENT];
	unsigned most; /* the most vCPUs its queue has held at once */
};

/* One per host core, allocated by sched_init for the cores present. */
static struct sched_core *cores;
static unsigned ncores;
static struct sched_params params;
static spinlock_t claim_lock;
static struct cpuset usable_cores; /* cores that may hold vCPUs */
static struct cpuset owned_cores;  /* cores a VM owns (claim_lock) */
/*
 * A hint for stealing, kept by each core for itself at each decision: it
 * has a runnable vCPU waiting behind the one it runs. An idle core looks
 * only at these cores, never at every core of the host.
 */
static struct cpuset waiting_cores;

static struct vcpu *vcpu_of(struct sched_entity *e)
{
	return (struct vcpu *)((char *)e - __builtin_offsetof(struct vcpu, se));
}

static uint64_t us_to_tsc(uint64_t us)
{
	return us * tsc_khz() / 1000;
}

void sched_init(void)
{
	/* short slices: guests wait on each other (IPIs, spinlocks) more than they compute */
	params.slice = us_to_tsc(4000);
	params.cap_period = us_to_tsc(10000);
	params.wake_bonus = params.slice;
	if (cores)
		return;
	cores = kzalloc(cpu_count * sizeof(*cores));
	if (!cores)
		panic("out of memory for the run queues of %u cores", cpu_count);
	ncores = cpu_count;
	fpu_init();
}

static inline __attribute__((always_inline)) void set_bit_atomic(struct cpuset *s, unsigned c, bool on)
{
	/* only when it changes: the word is shared by 64 cores */
	if (cpuset_has(s, c) == on)
		return;
	if (on)
		__atomic_fetch_or(&s->w[c / 64], 1ull << (c % 64), __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&s->w[c / 64], ~(1ull << (c % 64)), __ATOMIC_RELAXED);
}

void sched_core_set_usable(unsigned c, bool usable)
{
	if (c < ncores)
		set_bit_atomic(&usable_cores, c, usable && cpus[c]->online);
}

bool sched_core_usable(unsigned c)
{
	return cpuset_has(&usable_cores, c);
}

/* May v run on core c: its affinity, a usable core, not owned by another VM. O(1). */
static bool core_allowed(const struct vcpu *v, unsigned c)
{
	return cpuset_has(&v->se.affinity, c) && sched_core_usable(c) &&
	       (!cores[c].owner || cores[c].owner == v->vm);
}

/* Cores v may run on, as a set (placement, not the exit path). */
static void allowed_cores(const struct vcpu *v, struct cpuset *out)
{
	struct cpuset owned;
	cpuset_and(out, &v->se.affinity, &usable_cores);
	cpuset_and(&owned, out, &owned_cores);
	for (CPUSET_FOR_EACH(c, &owned))
		if (cores[c].owner != v->vm)
			cpuset_del(out, c);
}

/* ---- exclusive cores ---- */

int sched_vm_claim_cores(struct vm *vm, char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->config;
	/* sized by the VM, not VCPU_MAX: 512 of them would be 2 KiB of a 16 KiB stack */
	int *got = kmalloc(vm->nvcpus * sizeof(*got));
	struct cpuset taken;
	if (!got) {
		format(err, errlen, "out of memory choosing cores for %u vCPUs to own", vm->nvcpus);
		return -1;
	}
	cpuset_clear(&taken);
	spin_lock(&claim_lock);
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		/* a core to own has nothing on it and nobody else's claim */
		struct cpuset free;
		cpuset_and(&free, &cfg->affinity[i], &usable_cores);
		cpuset_andnot(&free, &free, &owned_cores);
		cpuset_andnot(&free, &free, &taken);
		got[i] = -1;
		for (CPUSET_FOR_EACH(c, &free)) {
			if (c < ncores && !cores[c].rq.n) {
				got[i] = (int)c;
				cpuset_add(&taken, c);
				break;
			}
		}
		if (got[i] < 0) {
			spin_unlock(&claim_lock);
			kfree(got);
			format(err, errlen, "no free core for vCPU %u to own (a core to own must have "
			       "no vCPU on it%s)", i, cfg->pinned ? " and be in `cpus`" : "");
			return -1;
		}
	}
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		cores[got[i]].owner = vm;
		cpuset_add(&owned_cores, (unsigned)got[i]);
		cpuset_only(&vm->vcpus[i]->se.affinity, (unsigned)got[i]);
	}
	spin_unlock(&claim_lock);
	kfree(got);
	return 0;
}

void sched_vm_release(struct vm *vm)
{
	spin_lock(&claim_lock);
	for (CPUSET_FOR_EACH(c, &owned_cores)) {
		if (cores[c].owner == vm) {
			cores[c].owner = NULL;
			cpuset_del(&owned_cores, c);
		}
	}
	spin_unlock(&claim_lock);
}

/* ---- switching a core between vCPUs ---- */

/* Saves what the core holds of v's state; on v's core, v not running. */
static void unload(struct sched_core *c)
{
	struct vcpu *v = c->loaded;
	if (!v)
		return;
	fpu_save(&v->fpu);
	if (hvm->vcpu_unload)
		hvm->vcpu_unload(v);
	__atomic_store_n(&c->loaded, NULL, __ATOMIC_RELEASE);
}

static void load(struct sched_core *c, struct vcpu *v, unsigned me)
{
	uint64_t t = rdtsc();
	struct vcpu *old = c->loaded;
	if (old != v) {
		if (old) {
			/* the unload of `old`, with its FPU save and v's restore in one */
			fpu_switch(&old->fpu, &v->fpu);
			if (hvm->vcpu_unload)
				hvm->vcpu_unload(old);
		} else {
			fpu_restore(&v->fpu);
		}
		msr_load_guest_state(v);
		__atomic_store_n(&c->loaded, v, __ATOMIC_RELEASE);
		v->se.switches_in++;
		if (c->left_at) {
			uint64_t d = rdtsc() - c->left_at;
			c->recent[c->switches % SWITCH_RECENT] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
			c->switches++;
			c->switch_ticks += d;
		}
	}
	cpuset_add(&v->se.ran_on, me);
	uint64_t kicked = v->kicked_at;
	if (kicked) {
		uint64_t lat = t > kicked ? t - kicked : 0;
		v->wake_latency_sum += lat;
		if (lat > v->wake_latency_max)
			v->wake_latency_max = lat;
		v->wakes++;
		v->kicked_at = 0;
	}
}

/* ---- run queues ---- */

static void enqueue(unsigned cpu, struct vcpu *v)
{
	struct sched_core *c = &cores[cpu];
	uint64_t flags = spin_lock_irqsave(&c->lock);
	__atomic_store_n(&v->se.cpu, cpu, __ATOMIC_RELEASE);
	sched_place(&c->rq, &v->se, &params);
	/* always room: the links are in the entity; every caller took it off its last queue */
	bool added = sched_rq_add(&c->rq, &v->se);
	if (c->rq.n > c->most)
		c->most = c->rq.n;
	c->look = true;
	spin_unlock_irqrestore(&c->lock, flags);
	if (!added)
		printk("hv: sched: vm %s vCPU %u is on another core's queue still; not added to "
		       "CPU %u's\n", v->vm->name, v->id, cpu);
}

static void start_loop(unsigned cpu);

static void kick_core(unsigned cpu)
{
	if (cpu != this_cpu()->index)
		lapic_send_ipi(cpus[cpu]->apic_id, VECTOR_IPI_CALL);
}

void sched_kick(struct vcpu *v)
{
	if (!__atomic_load_n(&v->active, __ATOMIC_ACQUIRE))
		return;
	unsigned cpu = __atomic_load_n(&v->se.cpu, __ATOMIC_ACQUIRE);
	struct sched_core *c = &cores[cpu];
	/* first: whoever reviews v after this sees that its last wake check is stale */
	__atomic_fetch_add(&v->se.kicks, 1, __ATOMIC_SEQ_CST);
	if (v->se.state == SCHED_BLOCKED && !v->kicked_at)
		v->kicked_at = rdtsc();
	/* a running vCPU needs only to leave the guest; anything else, the core's look */
	if (c->current != v)
		__atomic_store_n(&c->look, true, __ATOMIC_RELEASE);
	kick_core(cpu);
}

/* A core's load for placement: its queue, plus the placed vCPU's siblings already there. */
struct placing {
	unsigned *siblings; /* per core, or NULL */
};

static unsigned placing_load(void *ctx, unsigned c)
{
	const struct placing *p = ctx;
	/* the boot CPU runs vCPUs only between turns of the console: last choice */
	return cores[c].rq.n + (c == 0) + (p->siblings ? p->siblings[c] : 0);
}

int sched_vcpu_attach(struct vcpu *v, char *err, size_t errlen)
{
	struct cpuset allowed;
	if (v->se.rq) {
		/* its old queue's core has not let go of it yet (the VM was stopped just now) */
		format(err, errlen, "vCPU %u is still on CPU %u's run queue", v->id, v->se.cpu);
		return -1;
	}
	struct placing pl = {kzalloc(ncores * sizeof(unsigned))};
	allowed_cores(v, &allowed);
	/* vCPUs of one VM on different cores where it can: they wait on each other */
	for (unsigned i = 0; i < v->id && pl.siblings; i++) {
		unsigned c = v->vm->vcpus[i]->se.cpu;
		if (v->vm->vcpus[i]->active && c < ncores)
			pl.siblings[c]++;
	}
	int cpu = sched_pick_core(&allowed, ncores, placing_load, &pl);
	kfree(pl.siblings);
	if (cpu < 0) {
		/* a queue takes any number of vCPUs (their links are in them): only the cores can refuse */
		format(err, errlen, "no core may run vCPU %u (its `cpus` are all unusable or owned "
		       "by other VMs)", v->id);
		return -1;
	}
	v->se.share = &v->vm->share;
	v->se.state = SCHED_OFFLINE;
	v->move_to = -1;
	v->halted = false;
	v->se.sleep_until = 0; /* no wake check to reuse yet */
	sched_set_state(&v->se, v->waiting_sipi ? SCHED_BLOCKED : SCHED_RUNNABLE, rdtsc());
	__atomic_store_n(&v->active, true, __ATOMIC_RELEASE);
	enqueue((unsigned)cpu, v);
	start_loop((unsigned)cpu);
	kick_core((unsigned)cpu);
	return 0;
}

int sched_vcpu_pin(struct vcpu *v, unsigned cpu, char *err, size_t errlen)
{
	if (!sched_core_usable(cpu)) {
		format(err, errlen, "CPU %u does not run vCPUs%s", cpu,
		       cpu == 0 ? " (it runs the console)" : "");
		return -1;
	}
	if (cores[cpu].owner && cores[cpu].owner != v->vm) {
		format(err, errlen, "CPU %u is owned by vm %s", cpu, cores[cpu].owner->name);
		return -1;
	}
	if (v->vm->exclusive) {
		format(err, errlen, "vm %s owns its cores; its vCPUs stay where they are", v->vm->name);
		return -1;
	}
	cpuset_only(&v->se.affinity, cpu);
	if (!v->active || v->se.cpu == cpu)
		return 0;
	v->move_to = (int)cpu;
	sched_kick(v);
	for (unsigned t = 0; t < 1000 && v->move_to >= 0; t++)
		sched_wait_a_little(1000);
	if (v->move_to >= 0) {
		format(err, errlen, "vCPU %u did not leave CPU %u", v->id, v->se.cpu);
		return -1;
	}
	start_loop(cpu);
	return 0;
}

/* ---- the core's loop ---- */

static inline bool vcpu_wakeable(struct vcpu *v, uint64_t *wake_at)
{
	if (v->waiting_sipi) {
		vm_check_startup(v);
		vintr_nmi_wake_hlt(v, wake_at);
		return !v->waiting_sipi;
	}
	return vintr_wake_check(v, wake_at);
}

/* What the core does with each queued vCPU given its VM's state; under the core's lock. */
enum verdict { KEEP, DETACH, MOVE };

/*
 * A blocked vCPU: wakes it if it may run. The last check's answer holds
 * until its deadline unless a kick came since (every wake-up source kicks:
 * sched_kick), so a core passing over a sleeper does not look at its chips.
 */
static inline __attribute__((always_inline)) void review_blocked(struct sched_core *c, struct vcpu *v, uint64_t now, uint64_t *wake_at)
{
	struct sched_entity *e = &v->se;
	unsigned kicks = __atomic_load_n(&e->kicks, __ATOMIC_SEQ_CST);
	if (kicks == e->kicks_seen && (int64_t)(now - e->sleep_until) < 0) {
		if (e->sleep_until < *wake_at)
			*wake_at = e->sleep_until;
		return;
	}
	uint64_t at = UINT64_MAX;
	if (vcpu_wakeable(v, &at)) {
		v->halted = false;
		sched_place(&c->rq, e, &params);
		sched_set_state(e, SCHED_RUNNABLE, now);
		if (!v->kicked_at)
			v->kicked_at = now; /* woken by its own timer: latency counts from here */
		return;
	}
	v->kicked_at = 0; /* that kick did not wake it */
	e->kicks_seen = kicks;
	e->sleep_until = at;
	if (at < *wake_at)
		*wake_at = at;
}

static enum verdict review(struct sched_core *c, struct vcpu *v, uint64_t now, uint64_t *wake_at)
{
	struct sched_entity *e = &v->se;
	enum vm_state s = __atomic_load_n(&v->vm->state, __ATOMIC_ACQUIRE);
	/* the common case: a running VM's vCPU that stays, runnable or asleep */
	if (__builtin_expect(s == VM_RUNNING && v->move_to < 0, 1)) {
		if (e->state == SCHED_BLOCKED)
			review_blocked(c, v, now, wake_at);
		else if (e->state == SCHED_PAUSED)
			goto resumed;
		return KEEP;
	}
	if (s != VM_RUNNING && s != VM_PAUSED)
		return DETACH; /* stopped or rebooting: the VM manager takes it from here */
	if (v->move_to >= 0)
		return MOVE;
	sched_set_state(e, SCHED_PAUSED, now);
	return KEEP;
resumed:
	e->sleep_until = 0; /* its timers may have moved meanwhile: check it afresh */
	sched_set_state(e, v->halted || v->waiting_sipi ? SCHED_BLOCKED : SCHED_RUNNABLE, now);
	if (e->state == SCHED_BLOCKED)
		review_blocked(c, v, now, wake_at);
	return KEEP;
}

/*
 * vCPUs taken off core c's queue by schedule take their state with them:
 * `moving` to the core each is moved to, `detached` off every core (lists
 * through rq_next). Both links of an entity are read before enqueue reuses
 * them.
 */
static __attribute__((noinline)) void leave(struct sched_core *c, struct sched_entity *moving,
					    struct sched_entity *detached, uint64_t now)
{
	for (struct sched_entity *q = detached, *after; q; q = after) {
		after = q->rq_next;
		q->rq_next = NULL;
		struct vcpu *v = vcpu_of(q);
		if (c->loaded == v)
			unload(c);
		sched_set_state(q, SCHED_OFFLINE, now);
		__atomic_store_n(&v->active, false, __ATOMIC_RELEASE);
	}
	for (struct sched_entity *q = moving, *after; q; q = after) {
		after = q->rq_next;
		q->rq_next = NULL;
		struct vcpu *v = vcpu_of(q);
		if (c->loaded == v)
			unload(c);
		unsigned to = (unsigned)v->move_to;
		sched_rebase(q, &c->rq, &cores[to].rq);
		if (q->state == SCHED_PAUSED)
			sched_set_state(q, SCHED_RUNNABLE, now); /* its new core looks again */
		enqueue(to, v);
		v->move_to = -1;
		kick_core(to);
	}
}

/*
 * One scheduling decision, in one pass over the queue: every queued vCPU
 * reviewed and considered for the pick (and the next cap refill), the next
 * one picked and marked running. NULL: nothing to run before *wake_at.
 */
static inline __attribute__((always_inline)) struct vcpu *
schedule(struct sched_core *c, uint64_t now, uint64_t *wake_at, uint64_t *slice_end)
{
	/*
	 * vCPUs leaving the core, linked through their queue links (free once
	 * off the queue): a queue of any length needs no room here.
	 */
	struct sched_entity *moving = NULL, *detached = NULL;
	struct sched_pick_state ps;

	sched_pick_init(&ps);
	spin_lock(&c->lock);
	__atomic_store_n(&c->look, false, __ATOMIC_RELEASE);
	for (struct sched_entity *q = c->rq.first; q;) {
		struct vcpu *v = vcpu_of(q);
		enum verdict d = review(c, v, now, wake_at);
		if (__builtin_expect(d == KEEP, 1)) {
			sched_pick_consider(&ps, q, now, &params);
			q = q->rq_next;
			continue;
		}
		struct sched_entity *gone = q;
		q = q->rq_next;
		sched_rq_remove(&c->rq, gone);
		if (d == MOVE) {
			gone->rq_next = moving;
			moving = gone;
		} else {
			gone->rq_next = detached;
			detached = gone;
		}
	}

	unsigned others;
	struct sched_entity *e = sched_pick_finish(&c->rq, &ps, &others);
	struct vcpu *next = NULL;
	set_bit_atomic(&waiting_cores, (unsigned)(c - cores), others > 0);
	/* a capped vCPU waiting for its next period: look again when it begins */
	uint64_t refill = ps.refill_at;
	if (e) {
		next = vcpu_of(e);
		sched_set_state(e, SCHED_RUNNING, now);
		uint64_t slice = sched_slice(e, others, now, &params);
		*slice_end = slice == UINT64_MAX ? UINT64_MAX : now + slice;
		c->shared = others > 0;
		if (refill < *slice_end)
			*slice_end = refill;
		/*
		 * A vCPU blocked here until its timer (a guest in HLT waiting for
		 * its tick): look again then. Alone on the core, `next` has no
		 * slice end, and nothing else would wake the sleeper in time.
		 */
		if (*wake_at > now && *wake_at < *slice_end)
			*slice_end = *wake_at;
		c->current = next;
	} else if (refill < *wake_at) {
		*wake_at = refill;
	}
	spin_unlock(&c->lock);

	if (__builtin_expect(moving || detached, 0))
		leave(c, moving, detached, now);
	return next;
}

/* Takes a stealable vCPU from core `from` for core me; true if one came. */
static bool steal_from(struct sched_core *c, unsigned me, unsigned from)
{
	struct sched_core *o = &cores[from];
	if (!o->rq.n || o->owner)
		return false;
	spin_lock(&o->lock);
	const struct vcpu *keep = __atomic_load_n(&o->loaded, __ATOMIC_ACQUIRE);
	struct sched_entity *e = sched_steal_candidate(&o->rq, me, keep ? &keep->se : NULL);
	if (e)
		sched_rq_remove(&o->rq, e);
	spin_unlock(&o->lock);
	if (!e)
		return false;
	struct vcpu *v = vcpu_of(e);
	if (!core_allowed(v, me)) { /* owned meanwhile: back where it was */
		enqueue(from, v);
		return false;
	}
	sched_rebase(e, &o->rq, &c->rq);
	enqueue(me, v);
	return true;
}

/*
 * An idle core takes a runnable vCPU that waits on a busy one. It asks only
 * the cores that have one waiting (waiting_cores), the next after itself
 * first, so idle cores spread over the busy ones.
 */
static bool steal(struct sched_core *c, unsigned me)
{
	if (c->owner)
		return false; /* an owned core runs its owner only */
	for (unsigned from = cpuset_next(&waiting_cores, me + 1); from < ncores;
	     from = cpuset_next(&waiting_cores, from + 1))
		if (steal_from(c, me, from))
			return true;
	for (unsigned from = cpuset_first(&waiting_cores); from < me;
	     from = cpuset_next(&waiting_cores, from + 1))
		if (steal_from(c, me, from))
			return true;
	return false;
}

/* Runs v until its slice ends, it blocks, or the core must look again. */
static void run_vcpu(struct sched_core *c, struct vcpu *v, unsigned me, uint64_t slice_end)
{
	struct vm *vm = v->vm;
	struct vm_exit e;
	bool block = false;

	load(c, v, me);
	pvsched_vcpu_in(v); /* steal time, preempted flag, a TLB flush asked for (pvsched.h) */
	/* spinning on a shared core gives it away (sched_vcpu_spins); alone, it may spin */
	if (hvm->set_spin_exits)
		hvm->set_spin_exits(v, c->shared);
	v->se.spun = false; /* it runs: a sibling spinning now may yield to it again */
	exitprof_restart(v);
	uint64_t since = rdtsc();
	v->run_since = since;
	for (;;) {
		if (__atomic_load_n(&vm->state, __ATOMIC_ACQUIRE) != VM_RUNNING || v->move_to >= 0 ||
		    __atomic_load_n(&c->look, __ATOMIC_ACQUIRE))
			break;
		vm_check_startup(v);
		uint64_t not_before;
		vintr_nmi_wake_hlt(v, &not_before);
		if (v->waiting_sipi) {
			v->se.sleep_until = 0; /* the core's review checks it */
			block = true;
			break;
		}
		/*
		 * Interrupts off from arming the timer to the guest's entry: a timer
		 * due at once then exits the guest instead of passing in the host
		 * unseen, leaving a guest without exits to run on past its slice.
		 */
		exitprof_mark(v, XP_LOOPED);
		irq_disable();
		uint64_t due = vintr_before_entry(v);
		if (slice_end < due)
			due = slice_end;
		if (due != UINT64_MAX)
			timer_oneshot_at(due);
		/* what the exit fast path checks before entering again without this loop */
		v->fast.until = due;
		v->fast.look = &c->look;
		exitprof_mark(v, XP_INJECTED);
		hvm->vcpu_run(v, &e);
		exitprof_mark(v, XP_DECODED);
		vintr_after_exit(v);
		irq_enable();
		exitprof_mark(v, XP_SYNCED);
		vm_exit_dispatch(v, &e);
		if (exitprof_on) {
			exitprof_reason(v, e.reason, false);
			exitprof_mark(v, XP_HANDLED);
		}
		deferred_run(); /* an interrupt that made the exit may have left I/O to complete */
		if (v->halted) {
			/* the check's answer goes to the core's next review (review_blocked) */
			unsigned kicks = __atomic_load_n(&v->se.kicks, __ATOMIC_SEQ_CST);
			uint64_t until = UINT64_MAX;
			if (!vintr_wake_check(v, &until)) {
				v->se.kicks_seen = kicks;
				v->se.sleep_until = until;
				block = true;
				break;
			}
			v->halted = false;
		}
		if (slice_end != UINT64_MAX && rdtsc() >= slice_end)
			break;
	}
	uint64_t now = rdtsc();
	spin_lock(&c->lock);
	sched_charge(&v->se, now - since);
	v->run_since = 0;
	c->current = NULL;
	if (v->se.state == SCHED_RUNNING)
		sched_set_state(&v->se, block ? SCHED_BLOCKED : SCHED_RUNNABLE, now);
	spin_unlock(&c->lock);
	pvsched_vcpu_out(v, !block);
	c->left_at = now;
}

void sched_vcpu_spins(struct vcpu *v)
{
	struct sched_core *c = &cores[this_cpu()->index];
	if (c->current != v || !c->shared)
		return; /* nobody else wanted the core when v got it: no lock holder waits here */
	uint64_t flags = spin_lock_irqsave(&c->lock);
	if (sched_spin_yield(&c->rq, &v->se, rdtsc(), &params))
		__atomic_store_n(&c->look, true, __ATOMIC_RELEASE); /* run_vcpu leaves; schedule picks */
	spin_unlock_irqrestore(&c->lock, flags);
}

void sched_vcpu_yield_to(struct vcpu *v, struct vcpu *target)
{
	(void)v;
	if (!__atomic_load_n(&target->active, __ATOMIC_ACQUIRE))
		return;
	unsigned cpu = __atomic_load_n(&target->se.cpu, __ATOMIC_ACQUIRE);
	struct sched_core *c = &cores[cpu];
	bool kick = false;
	uint64_t flags = spin_lock_irqsave(&c->lock);
	struct sched_entity *e = &target->se;
	/* its queue may have changed meanwhile (stolen, moved): only where it still is */
	if (e->cpu == cpu && e->state == SCHED_RUNNABLE && c->current != target &&
	    (int64_t)(e->vtime - c->rq.min_vtime) <= (int64_t)params.slice) {
		e->boost = true;
		__atomic_store_n(&c->look, true, __ATOMIC_RELEASE);
		kick = true;
	}
	spin_unlock_irqrestore(&c->lock, flags);
	if (kick)
		kick_core(cpu);
}

/* The core's scheduler until host TSC `until` (UINT64_MAX: for ever). */
static void run_core(unsigned me, uint64_t until)
{
	struct sched_core *c = &cores[me];
	for (;;) {
		uint64_t now = rdtsc();
		if (now >= until)
			return;
		uint64_t wake_at = until, slice_end = until;
		irq_disable();
		struct vcpu *v = schedule(c, now, &wake_at, &slice_end);
		if (v) {
			irq_enable();
			run_vcpu(c, v, me, slice_end < until ? slice_end : until);
			continue;
		}
		if (steal(c, me)) {
			irq_enable();
			continue;
		}
		/* idle: until a blocked vCPU's timer, a kick, or the next look for work to steal */
		uint64_t poll = now + us_to_tsc(IDLE_POLL_US);
		timer_oneshot_at(wake_at < poll ? wake_at : poll);
		c->left_at = 0;
		if (!__atomic_load_n(&c->look, __ATOMIC_ACQUIRE))
			__asm__ volatile("sti; hlt" ::: "memory");
		irq_enable();
		deferred_run();
	}
}

static void core_thread(void *arg)
{
	run_core((unsigned)(uintptr_t)arg, UINT64_MAX);
}

static void start_loop(unsigned cpu)
{
	struct sched_core *c = &cores[cpu];
	if (cpu == 0 || __atomic_exchange_n(&c->loop_started, true, __ATOMIC_ACQ_REL))
		return; /* the boot CPU runs its queue from the console's loop */
	for (unsigned tries = 0; tries < 1000; tries++) {
		if (smp_run_on(cpu, core_thread, (void *)(uintptr_t)cpu))
			return;
		udelay(100);
	}
	printk("hv: CPU %u did not start its scheduler; its vCPUs wait\n", cpu);
	c->loop_started = false;
}

void sched_run_boot_cpu(uint64_t us)
{
	run_core(0, rdtsc() + us_to_tsc(us));
}

void sched_wait_a_little(uint64_t us)
{
	if (this_cpu()->index == 0 && sched_core_usable(0))
		sched_run_boot_cpu(us); /* what the caller waits for may be queued right here */
	else
		udelay(us);
}

void sched_core_stats(unsigned c, struct sched_core_stats *out)
{
	if (c >= ncores) {
		*out = (struct sched_core_stats){0};
		return;
	}
	struct sched_core *k = &cores[c];
	*out = (struct sched_core_stats){k->switches, k->switch_ticks, 0, k->most};
	uint32_t v[SWITCH_RECENT];
	unsigned n = k->switches < SWITCH_RECENT ? (unsigned)k->switches : SWITCH_RECENT;
	for (unsigned i = 0; i < n; i++) { /* insertion sort: at most 64, once a report */
		unsigned j = i;
		for (; j > 0 && v[j - 1] > k->recent[i]; j--)
			v[j] = v[j - 1];
		v[j] = k->recent[i];
	}
	if (n)
		out->switch_median = v[n / 2];
}
