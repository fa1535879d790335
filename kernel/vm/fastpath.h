/*
 * The exit fast path: the commonest exits (CPUID, port I/O to a device
 * whose handlers are short, such as COM1 and the POST port, the x2APIC EOI
 * that leaves nothing to inject) handled right
 * where the backend gets control back, before the general dispatch, and
 * the guest entered again at once when nothing else can be waiting for the
 * vCPU's loop: no lock of the scheduler or the platform taken, no timer
 * reprogrammed, no interrupt controller looked at. "Nothing waiting" is
 * what the last pass through the loop left (nothing pending, no window
 * asked for), checked again against the platform's generation word, the
 * core's look flag and the deadline the loop armed the host timer for.
 * Everything else, and everything when the hypervisor option fastpath=off
 * is given, takes the slow path, which stays the reference: the fast
 * path's results equal its own (tests/guests/fastcheck.c checks it).
 */
#ifndef HV_VM_FASTPATH_H
#define HV_VM_FASTPATH_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;
struct vm_exit;
struct io_bus;

#define FASTPATH_CPUID_SLOTS 16

struct fastpath_cpuid {
	uint32_t leaf, sub;
	uint32_t r[4];
	bool valid;
};

/* What a vCPU's loop leaves for the fast path before each entry. */
struct vcpu_fast {
	bool quiet;		       /* this entry injected nothing and asked for no window */
	uint64_t until;		       /* host TSC by which the loop must look again */
	const volatile bool *look;     /* the core's "look again" flag */
	const volatile uint64_t *gen;  /* the platform's generation word, or NULL */
	uint64_t gen_seen;	       /* its value when the platform was last found quiet */
	const void *io_last;	       /* the fast port range last used */
	/* CPUID answers that depend on nothing but the leaf, sub-leaf and vCPU */
	struct fastpath_cpuid cpuid[FASTPATH_CPUID_SLOTS];
};

extern bool fastpath_on;

void fastpath_init(const char *cmdline);

/*
 * fastpath_handle and fastpath_may_reenter, the steps the backends take on
 * every exit, are inline in kernel/vm/fastpath_inline.h. Port I/O (not a
 * string) to a range marked fast, as handle_io in exit.c does it: true if
 * handled, RIP moved past it.
 */
bool fastpath_io(struct vcpu *v, const struct vm_exit *e);

/*
 * Marks the port range registered at base as one the fast path may call
 * (its handlers as struct io_range's `fast` says); -1 if none is, or no
 * memory for the bus's map (the range then stays on the slow path).
 */
int iobus_set_fast(struct io_bus *b, uint64_t base);

/* The slow path's CPUID answer, kept when it depends on nothing that changes. */
void fastpath_cpuid_learn(struct vcpu *v, uint32_t leaf, uint32_t sub, const uint32_t r[4]);

#endif
