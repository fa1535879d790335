/*
 * A guest's crash, explained in the host log: what stopped it (a triple
 * fault, an exit the hypervisor could not handle) and enough state to tell
 * why without a debugger, the same on both backends. Lines start with
 * `vm NAME vcpu N:`:
 *
 *   <what> at rip R rsp S rflags F cr0 .. cr3 .. cr4 .. efer .. cpl N
 *   regs: rax .. r15
 *   cr2 .., cs/ss selectors and bases, idtr and gdtr
 *   event cut short by the exit: exception 14 (#PF) error 0x2 | none;
 *     queued for the next entry: ...; STI/MOV SS shadow; NMIs blocked
 *   idt[V]: the gate of that event's vector (selector, handler, type)
 *   bytes at rip: 0f 0b ...
 *   stack: the first words at RSP (the guest's word size)
 *   the last exits past the fast path (kernel/vm/fastpath.h), newest first:
 *     mmio gpa 0xfee000b0 @rip, hlt @rip, ...
 *
 * Guest memory is read through the guest's own page tables, without
 * setting Accessed or Dirty bits; whatever cannot be read says so.
 */
#ifndef HV_VM_CRASH_REPORT_H
#define HV_VM_CRASH_REPORT_H

#include "kernel/vm/vm.h"

/* Prints the report for v, stopped by exit e; `what` is its first words ("triple fault"). */
void vm_crash_report(struct vcpu *v, const struct vm_exit *e, const char *what);

/* Notes a dispatched exit in v's trail (vm_exit_dispatch, before its handler). */
void vm_exit_trail_note(struct vcpu *v, const struct vm_exit *e);

#endif
