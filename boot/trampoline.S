/*
 * Real-mode trampoline for application processors.
 *
 * A STARTUP IPI with vector V starts the AP in real mode at CS = V << 8,
 * IP = 0 (SDM Vol. 3A §8.4.4). The BSP copies this blob to a free page below
 * 1 MiB and patches the parameter block at its end. The AP goes straight from
 * real mode to long mode (PAE, CR3, EFER.LME, then PE|PG together) and far
 * jumps into the image, which is below 4 GiB.
 */
	.section .rodata
	.code16
	.globl trampoline_start, trampoline_end
	.globl trampoline_gdt, trampoline_gdt_desc, trampoline_cr3, trampoline_jump
trampoline_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl (trampoline_gdt_desc - trampoline_start)
	movl %cr4, %eax
	orl $0x20, %eax				/* PAE */
	movl %eax, %cr4
	movl (trampoline_cr3 - trampoline_start), %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx			/* EFER.LME */
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	andl $~0x60000000, %eax			/* CD, NW: INIT left the caches off */
	orl $0x80000001, %eax			/* PG | PE */
	movl %eax, %cr0
	ljmpl *(trampoline_jump - trampoline_start)

	.align 8
trampoline_gdt:
	.quad 0
	.quad 0x00af9a000000ffff		/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff		/* 0x10: data */
trampoline_gdt_desc:
	.word 23
	.long 0					/* patched: linear address of trampoline_gdt */
trampoline_jump:
	.long 0					/* patched: ap_entry64 */
	.word 0x08
trampoline_cr3:
	.long 0					/* patched: early page tables */
trampoline_end:
	.code64
