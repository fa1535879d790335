/*
 * The hand-over from UEFI's 64-bit world to a multiboot2 kernel's 32-bit
 * entry (Multiboot2 spec §3.3: protected mode, flat 4 GiB segments, paging
 * off, EAX = 0x36d76289, EBX = the information structure). hvboot.c copies
 * these bytes to a page below 4 GiB (identity-mapped by UEFI) and calls
 * them there with interrupts off, after ExitBootServices:
 *	handover(uint32_t entry [EDI], uint32_t mbi [ESI])
 * Position-independent: only RIP-relative references inside the blob.
 */
	.section .text
	.code64
	.globl handover_start, handover_end
handover_start:
	cli
	/* a PCID-enabled CR4 forbids turning paging off (SDM Vol. 3A §4.10.1) */
	movq %cr4, %rax
	andq $~(1 << 17), %rax
	movq %rax, %cr4
	/* our GDT, wherever the blob now is: fill in its base */
	leaq ho_gdt(%rip), %rax
	movq %rax, ho_gdt_base(%rip)
	lgdt ho_gdtr(%rip)
	movl %esi, %ebx
	/* to 32-bit compatibility mode through a far return to selector 0x08 */
	leaq ho_compat(%rip), %rax
	pushq $0x08
	pushq %rax
	lretq

	.code32
ho_compat:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %fs
	movl %eax, %gs
	movl %eax, %ss
	/* paging off leaves long mode (LMA clears); then LME and NXE off, CR4 clean */
	movl %cr0, %eax
	andl $0x7fffffff, %eax
	movl %eax, %cr0
	movl $0xc0000080, %ecx
	rdmsr
	andl $~0x900, %eax
	wrmsr
	xorl %eax, %eax
	movl %eax, %cr4
	movl $0x36d76289, %eax
	jmp *%edi

	.balign 8
ho_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: 32-bit code, base 0, 4 GiB */
	.quad 0x00cf92000000ffff	/* 0x10: data, base 0, 4 GiB */
ho_gdt_end:
ho_gdtr:
	.word ho_gdt_end - ho_gdt - 1
ho_gdt_base:
	.quad 0
handover_end:

	.section .note.GNU-stack, "", @progbits
