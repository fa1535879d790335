/*
 * Test-guest entry: the multiboot1 header, the 32-bit entry point, our own GDT
 * (the loader's may live in memory a test overwrites) and the exception stubs.
 * Multiboot spec 0.6.96 §3.1 (header) and §3.2 (machine state at entry).
 */
#define MB1_MAGIC 0x1badb002
#define MB1_FLAGS 0x00000003	/* bit 0: page-align modules; bit 1: want memory info */

#define SEL_CODE 0x08
#define SEL_DATA 0x10

	.section .multiboot, "a"
	.align 4
	.long MB1_MAGIC
	.long MB1_FLAGS
	.long -(MB1_MAGIC + MB1_FLAGS)

	.text
	.code32
	.globl _start
_start:
	cli
	cld
	movl $stack_top, %esp
	/* Keep the loader's EAX (magic) and EBX (info) across the segment reload. */
	movl %eax, %esi
	movl %ebx, %edi
	lgdt gdt_ptr
	ljmp $SEL_CODE, $1f
1:	movw $SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	pushl %edi
	pushl %esi
	call guest_runtime_start	/* never returns */
2:	cli
	hlt
	jmp 2b

/*
 * Exception stubs: vectors 0-31. The CPU pushes an error code for 8, 10-14,
 * 17, 21, 29 and 30 (SDM Vol. 3A Table 6-1); the others push a zero so every
 * frame looks alike: [pusha][vector][error][eip][cs][eflags].
 */
.macro STUB vec, has_err
	.align 8
stub_\vec:
	.if \has_err == 0
	pushl $0
	.endif
	pushl $\vec
	jmp exception_common
.endm

	STUB 0, 0
	STUB 1, 0
	STUB 2, 0
	STUB 3, 0
	STUB 4, 0
	STUB 5, 0
	STUB 6, 0
	STUB 7, 0
	STUB 8, 1
	STUB 9, 0
	STUB 10, 1
	STUB 11, 1
	STUB 12, 1
	STUB 13, 1
	STUB 14, 1
	STUB 15, 0
	STUB 16, 0
	STUB 17, 1
	STUB 18, 0
	STUB 19, 0
	STUB 20, 0
	STUB 21, 1
	STUB 22, 0
	STUB 23, 0
	STUB 24, 0
	STUB 25, 0
	STUB 26, 0
	STUB 27, 0
	STUB 28, 0
	STUB 29, 1
	STUB 30, 1
	STUB 31, 0

exception_common:
	pushal
	movl %esp, %eax
	pushl %eax
	call guest_exception	/* may rewrite the saved EIP to skip a faulting insn */
	addl $4, %esp
	popal
	addl $8, %esp		/* vector and error code */
	iretl

	.section .rodata
	.align 4
	.globl exception_stubs
exception_stubs:
	.irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	.long stub_\vec
	.endr
	.irp vec, 16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.long stub_\vec
	.endr

	.align 8
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: flat 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: flat data */
gdt_end:
	.align 4
gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt

	.section .bss
	.align 16
	.space 16384
stack_top:

	.section .note.GNU-stack, "", @progbits
