/*
 * The exit path's profile: host TSC ticks (instructions, under QEMU's
 * -icount shift=0 and in Bochs) between named points of one exit's round
 * trip, summed per exit reason and printed with the VM's accounting. Off
 * unless the hypervisor option `exitprof` is given: a mark then costs one
 * test of a byte.
 */
#ifndef HV_VM_EXITPROF_H
#define HV_VM_EXITPROF_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;
struct vm;

/* The points in the order one exit passes them; each names the segment it ends. */
enum exitprof_point {
	XP_EXITED,   /* the backend got control back: world switch and guest time */
	XP_DECODED,  /* the backend's exit work: registers read, exit decoded */
	XP_SYNCED,   /* NMI blocking noted, host interrupts back on */
	XP_HANDLED,  /* the exit's handler (fast path or dispatch) */
	XP_LOOPED,   /* the vCPU loop's checks between exits */
	XP_INJECTED, /* pending events injected, the host timer armed */
	XP_ENTER,    /* the backend's entry work, up to the world switch */
	XP_COUNT,
};

/* What a vCPU keeps: the current exit's segments, and the sums per reason. */
struct exitprof {
	uint64_t last;		/* TSC of the last mark; 0: none since the vCPU was loaded */
	unsigned reason;	/* the current exit's common reason */
	bool fast;		/* the fast path took it */
	uint64_t cur[XP_COUNT];
	uint64_t *sum;		/* [reason * 2 + fast][XP_COUNT], allocated on first use */
	uint64_t *count;	/* [reason * 2 + fast] */
};

extern bool exitprof_on;

void exitprof_init(const char *cmdline);
void exitprof_record(struct vcpu *v, enum exitprof_point p);
/* The vCPU comes onto a core: what passed meanwhile is no exit's. */
void exitprof_restart(struct vcpu *v);
/* The exit's reason, once decoded, and whether the fast path took it. */
void exitprof_reason(struct vcpu *v, unsigned reason, bool fast);
void exitprof_print(const struct vm *vm);
/*
 * A line of a VM's console output: the first that holds the text of the
 * hypervisor option exitmark=TEXT prints the VM's exits so far, by reason
 * ("a Linux boot to its marker"). Off without the option.
 */
void exitprof_console_line(struct vm *vm, const char *text);

static inline void exitprof_mark(struct vcpu *v, enum exitprof_point p)
{
	if (__builtin_expect(exitprof_on, 0))
		exitprof_record(v, p);
}

#endif
