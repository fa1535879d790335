/*
 * A vCPU's non-maskable interrupts, vendor-neutral: what the processor's NMI
 * latch does (SDM Vol. 3A §6.7.1, "Handling Multiple NMIs"; APM Vol. 2
 * §8.2.2): after an NMI is delivered, further NMIs are blocked until the
 * handler's IRET; one that arrives meanwhile is held, and more merge into it;
 * it is taken right after the IRET. NMIs ignore RFLAGS.IF and come before
 * external interrupts; the MOV SS / STI shadow holds them off for one
 * instruction (whatever the backend's interruptibility state says).
 *
 * The backend knows whether the guest blocks NMIs now (VMX: the virtual-NMI
 * blocking bit of the interruptibility state; SVM: the IRET it intercepts,
 * followed with struct vnmi_sw_mask below) and injects; this part counts
 * what is pending and decides, before each entry, whether to inject one or
 * to ask for an exit at the NMI window.
 *
 * Pending allows two while NMIs are not blocked (KVM's rule too): two NMIs
 * sent to a vCPU that is not running at that moment would on hardware be one
 * delivered and one latched behind it. While blocked, only one.
 */
#ifndef HV_VM_VNMI_H
#define HV_VM_VNMI_H

#include <stdbool.h>
#include <stdint.h>

struct vnmi {
	uint8_t pending; /* NMIs to deliver: 0..2 (2 only while not blocked) */
	bool blocked;	 /* as the backend reported at the last exit, or since our injection */
};

enum vnmi_action {
	VNMI_NONE,   /* nothing pending */
	VNMI_INJECT, /* inject one NMI on this entry */
	VNMI_WINDOW, /* one is pending but cannot go in now: exit when it can */
};

void vnmi_reset(struct vnmi *n);
/* `count` NMIs arrived (from the local APIC). */
void vnmi_arrive(struct vnmi *n, unsigned count);
/* The backend's word after an exit: does the guest block NMIs? */
void vnmi_set_blocked(struct vnmi *n, bool blocked);
/*
 * Before an entry. can_inject: the backend could inject an NMI now (not
 * blocked, no shadow, no other event queued for this entry). INJECT counts
 * the NMI as delivered: the backend re-delivers one that an exit cuts short.
 */
enum vnmi_action vnmi_before_entry(struct vnmi *n, bool can_inject);
/* Would a pending NMI be taken (wakes a halted vCPU)? */
bool vnmi_deliverable(const struct vnmi *n);

/*
 * NMI blocking for a backend whose hardware does not show it (SVM without
 * vNMI, APM Vol. 2 §15.21): the CPU masks NMIs when it delivers the one we
 * inject, and unmasks them when the guest's IRET completes. The IRET
 * intercept fires before the IRET runs, so blocking ends only at a later
 * exit whose RIP is elsewhere (KVM's awaiting_iret_completion).
 */
struct vnmi_sw_mask {
	bool masked;
	bool awaiting_iret; /* the IRET was intercepted at iret_rip and let run */
	uint64_t iret_rip;
};

void vnmi_sw_reset(struct vnmi_sw_mask *m);
/* An NMI was injected (it masks NMIs as it is delivered). */
void vnmi_sw_injected(struct vnmi_sw_mask *m);
/* The guest's IRET at `rip` was intercepted; it runs once the guest resumes. */
void vnmi_sw_iret(struct vnmi_sw_mask *m, uint64_t rip);
/* After any exit, with the guest's RIP now: the IRET has run if RIP moved. */
void vnmi_sw_exit(struct vnmi_sw_mask *m, uint64_t rip);
/* Masked, and the IRET not yet seen: the backend intercepts IRET. */
bool vnmi_sw_wants_iret_intercept(const struct vnmi_sw_mask *m);

#endif
