/*
 * void svm_vmrun(struct x86_regs *regs, uint64_t vmcb_pa, uint64_t host_pa)
 *
 * One trip into the guest (APM Vol. 2 §15.5): with GIF clear, save the host
 * state that VMRUN does not (FS, GS, TR, LDTR, KernelGSBase, the SYSCALL and
 * SYSENTER MSRs) with VMSAVE, load the guest's with VMLOAD, VMRUN, then the
 * reverse. The guest's GPRs other than RAX and RSP (which live in the VMCB)
 * come from and go back to *regs (gpr[] in encoding order).
 */
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
	movq %rdx, %rax
	vmsave
	movq %rsi, %rax
	movq 8*1(%rdi), %rcx
	movq 8*2(%rdi), %rdx
	movq 8*3(%rdi), %rbx
	movq 8*5(%rdi), %rbp
	movq 8*6(%rdi), %rsi
	movq 8*8(%rdi), %r8
	movq 8*9(%rdi), %r9
	movq 8*10(%rdi), %r10
	movq 8*11(%rdi), %r11
	movq 8*12(%rdi), %r12
	movq 8*13(%rdi), %r13
	movq 8*14(%rdi), %r14
	movq 8*15(%rdi), %r15
	movq 8*7(%rdi), %rdi
	vmload
	vmrun
	vmsave

	/* back in the host: RSP and RAX are the host's again */
	pushq %rdi
	movq 8(%rsp), %rdi
	movq %rcx, 8*1(%rdi)
	movq %rdx, 8*2(%rdi)
	movq %rbx, 8*3(%rdi)
	movq %rbp, 8*5(%rdi)
	movq %rsi, 8*6(%rdi)
	popq 8*7(%rdi)
	movq %r8, 8*8(%rdi)
	movq %r9, 8*9(%rdi)
	movq %r10, 8*10(%rdi)
	movq %r11, 8*11(%rdi)
	movq %r12, 8*12(%rdi)
	movq %r13, 8*13(%rdi)
	movq %r14, 8*14(%rdi)
	movq %r15, 8*15(%rdi)

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
