/*
 * Interrupt and exception entry stubs. Each pushes an error code (a zero
 * where the CPU pushes none, SDM Vol. 3A §6.13) and its vector, then the
 * common path saves the GPRs as a struct trap_frame and calls trap_dispatch.
 */
	.text
	.code64

.macro STUB vector, has_error
	.align 16
isr_stub_\vector:
	.if \has_error == 0
	pushq $0
	.endif
	pushq $\vector
	jmp isr_common
.endm

/* Exceptions with an error code: #DF 8, #TS 10, #NP 11, #SS 12, #GP 13, #PF 14, #AC 17, #CP 21, #VC 29, #SX 30 */
.irp v, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
	STUB \v, 0
.endr
.irp v, 8,10,11,12,13,14,17,21,29,30
	STUB \v, 1
.endr
/* external interrupts and IPIs: 32..255 */
.altmacro
.macro STUB_RANGE from, to
	STUB \from, 0
	.if \to-\from
	STUB_RANGE %(\from+1), \to
	.endif
.endm
STUB_RANGE 32, 95
STUB_RANGE 96, 159
STUB_RANGE 160, 223
STUB_RANGE 224, 255

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	movq %rsp, %rbx
	andq $-16, %rsp
	call trap_dispatch
	movq %rbx, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq

/* Table of stub addresses for idt_init. */
	.section .rodata
	.align 8
	.globl isr_stub_table
.macro STUB_ADDR n
	.quad isr_stub_\n
.endm
isr_stub_table:
.set i, 0
.rept 256
	STUB_ADDR %i
	.set i, i+1
.endr
