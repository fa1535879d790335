/*
 * void svm_vmrun(struct x86_regs *regs, uint64_t vmcb_pa, uint64_t host_pa)
 *
 * One trip into the guest (APM Vol. 2 §15.5): with GIF clear, load the
 * guest's share of the state VMRUN does not switch (FS, GS, TR, LDTR,
 * KernelGSBase, the SYSCALL and SYSENTER MSRs) with VMLOAD, VMRUN, VMSAVE
 * it back, and VMLOAD the host's from host_pa. The host's share never
 * changes on a core, so the caller saved it there once (svm.c,
 * svm_vcpu_run) rather than on every trip. The guest's GPRs other than RAX
 * and RSP (which live in the VMCB) come from and go back to *regs (gpr[]
 * in encoding order).
 */
#include "include/guest_gprs.S.inc"

	.text
	.code64
	.globl svm_vmrun
svm_vmrun:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdx			/* 16(%rsp): host save page */
	pushq %rsi			/*  8(%rsp): guest VMCB */
	pushq %rdi			/*  0(%rsp): regs */

	clgi
	/*
	 * The caller may come with interrupts off (so that a timer it just armed
	 * cannot fire before the guest runs); the guest needs the host's IF set,
	 * or V_INTR_MASKING keeps physical interrupts from ever exiting it. With
	 * GIF clear, STI lets nothing in before VMRUN.
	 */
	sti
	movq %rsi, %rax
	GUEST_GPRS_LOAD %rdi
	movq 8*7(%rdi), %rdi
	vmload
	vmrun
	vmsave

	/* back in the host: RSP and RAX are the host's again */
	pushq %rdi
	movq 8(%rsp), %rdi
	GUEST_GPRS_SAVE %rdi
	popq 8*7(%rdi)

	movq 16(%rsp), %rax
	vmload				/* host GS base (our per-CPU data) is back */
	stgi				/* host interrupts held during the trip arrive now */

	addq $24, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
