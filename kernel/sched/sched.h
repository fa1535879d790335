/*
 * The vCPU scheduler on the cores: each core that runs VMs has a run queue
 * and a loop that picks a vCPU (kernel/sched/policy.c decides which),
 * switches its state in (FPU/XSAVE, the backend's per-core state, MSRs),
 * runs it until its slice ends, it blocks in HLT, or something changes, and
 * charges it. An idle core steals runnable vCPUs from busy ones; a blocked
 * vCPU is woken by its virtual interrupts (a kick: an IPI to the core that
 * holds it). A VM may own cores: nothing else runs there and, with nothing
 * to switch to, no scheduler tick interrupts its guest.
 */
#ifndef HV_SCHED_SCHED_H
#define HV_SCHED_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vcpu;
struct vm;

/* Once, on the boot CPU, before any vCPU is attached. */
void sched_init(void);
/* Whether core c may hold vCPUs (the boot CPU only under a test harness). */
void sched_core_set_usable(unsigned c, bool usable);
bool sched_core_usable(unsigned c);

/*
 * Reserves the cores an exclusive VM owns (one per vCPU, from its affinity);
 * 0, or -1 with the reason. Undone by sched_vm_release.
 */
int sched_vm_claim_cores(struct vm *vm, char *err, size_t errlen);
void sched_vm_release(struct vm *vm);

/* Puts a vCPU on a core's run queue (its VM is running); 0 or -1 with the reason. */
int sched_vcpu_attach(struct vcpu *v, char *err, size_t errlen);
/* Something changed for v (an interrupt, a SIPI, its VM's state): its core looks again. */
void sched_kick(struct vcpu *v);
/*
 * v, running on this core, spins in its guest (a PAUSE exit): when another
 * vCPU is runnable on the core, v gives the core away (to a sibling of its
 * VM first: likely the one holding what v waits for) and the core picks
 * again; otherwise v goes back to its guest at once.
 */
void sched_vcpu_spins(struct vcpu *v);
/*
 * v (running on this core) waits for `target`, a vCPU of its VM that is
 * runnable but not running (a paravirtual directed yield, KVM_HC_SCHED_YIELD):
 * target's core runs it next, preempting what runs there, unless target's
 * virtual time is more than a slice past its queue's (a guest cannot buy
 * more than its share this way). On v's own core v steps aside for it.
 */
void sched_vcpu_yield_to(struct vcpu *v, struct vcpu *target);
/* vcpu-pin: v may run on cpu only; it moves there. 0 or -1 with the reason. */
int sched_vcpu_pin(struct vcpu *v, unsigned cpu, char *err, size_t errlen);

/* The boot CPU's share of the work (test harness): run its queue for up to us microseconds. */
void sched_run_boot_cpu(uint64_t us);
/* Waits about us microseconds; on the boot CPU under a harness, running its vCPUs meanwhile. */
void sched_wait_a_little(uint64_t us);

/* What sharing a core cost, for the final report and the benchmark. */
#define SWITCH_RECENT 64
struct sched_core_stats {
	uint64_t switches;     /* from one vCPU's state to another's */
	uint64_t switch_ticks; /* TSC ticks from leaving one vCPU to entering the next */
	uint64_t switch_median; /* the median of the last SWITCH_RECENT switches' ticks */
	unsigned most;	       /* the most vCPUs its run queue has held at once */
};
void sched_core_stats(unsigned c, struct sched_core_stats *out);

#endif
