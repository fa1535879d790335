/*
 * int vmx_enter(struct x86_regs *regs, int launched)
 *
 * Enters the guest whose VMCS is current with VMLAUNCH (first time) or
 * VMRESUME, after saving the host's callee-saved registers and writing the
 * stack pointer the exit will land on into HOST_RSP (SDM Vol. 3C §26-28).
 * The guest's GPRs other than RSP (in the VMCS) come from and go back to
 * *regs. Returns 0 after a VM exit, 1 if the entry itself failed
 * (VMfailValid/VMfailInvalid: the caller reads the VM-instruction error).
 */
#include "include/guest_gprs.S.inc"

	.text
	.code64
	.globl vmx_enter
vmx_enter:
	pushfq
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi			/* regs, found again after the exit */
	movq $0x6c14, %rax		/* HOST_RSP */
	vmwrite %rsp, %rax
	leaq vmx_exit_landing(%rip), %rdx
	movq $0x6c16, %rax		/* HOST_RIP */
	vmwrite %rdx, %rax

	movl %esi, %eax			/* launched? decided before the GPRs are replaced */
	movq 8*0(%rdi), %r8		/* guest RAX, loaded last */
	pushq %r8
	GUEST_GPRS_LOAD %rdi
	testl %eax, %eax
	movq 8*7(%rdi), %rdi
	popq %rax			/* guest RAX; flags from the test survive */
	jnz 1f
	vmlaunch
	jmp vmx_entry_failed
1:	vmresume
vmx_entry_failed:
	/* still in the host, with guest GPRs loaded: restore and report */
	popq %rdi
	movl $1, %eax
	jmp vmx_out

vmx_exit_landing:
	/* RSP is HOST_RSP: the regs pointer is on top */
	pushq %rax
	movq 8(%rsp), %rax
	GUEST_GPRS_SAVE %rax
	movq %rdi, 8*7(%rax)
	popq 8*0(%rax)
	popq %rdi
	xorl %eax, %eax
vmx_out:
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	popfq				/* the exit cleared RFLAGS; the host's IF comes back */
	ret
