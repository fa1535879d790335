/*
 * How we are entered: multiboot1 and multiboot2 headers, the 32-bit entry
 * both loaders use, and the switch to long mode.
 *
 * Both loaders leave us in 32-bit protected mode with paging off, EAX holding
 * the loader's magic and EBX the physical address of its information
 * structure (Multiboot spec 0.6.96 §3.2; Multiboot2 spec §3.3).
 */

#define MB1_MAGIC 0x1badb002
/* page-align modules, want memory info, a.out kludge (load addresses below) */
#define MB1_FLAGS 0x00010003
#define MB2_MAGIC 0xe85250d6
#define COM1 0x3f8

	.section .multiboot, "a"
	.align 8
mb1_header:
	.long MB1_MAGIC
	.long MB1_FLAGS
	.long -(MB1_MAGIC + MB1_FLAGS)
	.long mb1_header	/* header_addr */
	.long __image_start	/* load_addr */
	.long __data_end	/* load_end_addr */
	.long __bss_end		/* bss_end_addr */
	.long _start32		/* entry_addr */

	.align 8
mb2_header:
	.long MB2_MAGIC
	.long 0			/* architecture: i386 protected mode */
	.long mb2_header_end - mb2_header
	.long -(MB2_MAGIC + (mb2_header_end - mb2_header))
	/* information request: command line, modules, memory map, ACPI */
	.align 8
mb2_info_req:
	.short 1, 0
	.long mb2_info_req_end - mb2_info_req
	.long 1, 3, 6
mb2_info_req_end:
	.align 8
	/* module alignment: modules page-aligned */
	.short 6, 0
	.long 8
	/* end tag */
	.short 0, 0
	.long 8
mb2_header_end:

	.section .text.boot, "ax"
	.code32
	.globl _start32
_start32:
	cli
	cld
	movl $boot_stack_top, %esp
	movl %eax, boot_magic
	movl %ebx, boot_info_addr

	call early_serial_init

	/* Long mode needs CPUID leaf 0x80000001 EDX bit 29 (SDM Vol. 2A, CPUID). */
	pushfl
	popl %eax
	movl %eax, %ecx
	xorl $0x200000, %eax		/* can EFLAGS.ID be toggled? */
	pushl %eax
	popfl
	pushfl
	popl %eax
	cmpl %eax, %ecx
	je no_long_mode
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	testl $(1 << 29), %edx
	jz no_long_mode

	/* Early page tables: identity map of the first 4 GiB with 2 MiB pages. */
	movl $boot_pdpt, %eax
	orl $0x3, %eax
	movl %eax, boot_pml4
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	addl $boot_pd, %eax
	orl $0x3, %eax
	movl %eax, boot_pdpt(,%ecx,8)
	incl %ecx
	cmpl $4, %ecx
	jb 1b
	xorl %ecx, %ecx			/* 2048 entries of 2 MiB */
2:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax			/* present, writable, page size */
	movl %eax, boot_pd(,%ecx,8)
	movl %ecx, %eax
	shrl $11, %eax			/* high dword: bits 32.. of the address */
	movl %eax, boot_pd+4(,%ecx,8)
	incl %ecx
	cmpl $2048, %ecx
	jb 2b

	movl %cr4, %eax
	orl $0x20, %eax			/* PAE */
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx		/* EFER.LME */
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax		/* PG | PE */
	movl %eax, %cr0

	lgdt boot_gdt_desc
	ljmp $0x08, $start64

no_long_mode:
	movl $msg_no_long_mode, %esi
	call early_puts
3:	hlt
	jmp 3b

/* 115200 8n1 on COM1, before anything can fail (divisor 1 = 115200 baud). */
early_serial_init:
	movw $COM1 + 1, %dx
	xorb %al, %al
	outb %al, %dx			/* IER: no interrupts */
	movw $COM1 + 3, %dx
	movb $0x80, %al
	outb %al, %dx			/* LCR: DLAB */
	movw $COM1, %dx
	movb $1, %al
	outb %al, %dx			/* DLL */
	movw $COM1 + 1, %dx
	xorb %al, %al
	outb %al, %dx			/* DLM */
	movw $COM1 + 3, %dx
	movb $3, %al
	outb %al, %dx			/* 8n1 */
	movw $COM1 + 2, %dx
	movb $0xc7, %al
	outb %al, %dx			/* FIFO on, cleared */
	movw $COM1 + 4, %dx
	movb $0x03, %al
	outb %al, %dx			/* DTR | RTS */
	ret

early_puts:
	lodsb
	testb %al, %al
	jz 2f
	movb %al, %bl
	movw $COM1 + 5, %dx
1:	inb %dx, %al
	testb $0x20, %al
	jz 1b
	movw $COM1, %dx
	movb %bl, %al
	outb %al, %dx
	jmp early_puts
2:	ret

	.code64
start64:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp
	xorl %ebp, %ebp
	movl boot_magic(%rip), %edi
	movl boot_info_addr(%rip), %esi
	call kmain
4:	cli
	hlt
	jmp 4b

/*
 * Application processors arrive here from the real-mode trampoline, in long
 * mode on the early page tables, with the boot GDT loaded. Many arrive at
 * once (kernel/cpu/smp.c starts them in parallel), so nothing here is
 * shared but read-only data and one counter: each AP reads its own APIC ID
 * with CPUID, switches to the host page tables (its stack may lie above the
 * 4 GiB the early tables map), finds its slot in ap_slots (APIC ID, stack
 * top, struct cpu; 24 bytes each) and calls ap_main(cpu) on its own stack.
 * An AP with no slot parks with interrupts off.
 */
	.globl ap_entry64
ap_entry64:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	lock incl ap_arrived(%rip)
	/* the APIC ID the firmware lists: CPUID.0BH:EDX (x2APIC), else CPUID.1:EBX[31:24] */
	cmpl $0, ap_id_leaf_b(%rip)
	je 1f
	movl $0xb, %eax
	xorl %ecx, %ecx
	cpuid
	movl %edx, %r8d
	jmp 2f
1:	movl $1, %eax
	cpuid
	shrl $24, %ebx
	movl %ebx, %r8d
2:	/* the host's paging: NX first (its tables use the bit), write protection, CR3 */
	cmpl $0, ap_efer_nxe(%rip)
	je 3f
	movl $0xc0000080, %ecx
	rdmsr
	orl $0x800, %eax
	wrmsr
3:	movq %cr0, %rax
	orq $0x10000, %rax			/* CR0.WP */
	movq %rax, %cr0
	movq ap_host_cr3(%rip), %rax
	movq %rax, %cr3
	movq ap_slots(%rip), %rsi
	movl ap_nslots(%rip), %ecx
4:	testl %ecx, %ecx
	jz 6f
	cmpl %r8d, (%rsi)
	je 5f
	addq $24, %rsi
	decl %ecx
	jmp 4b
5:	movq 8(%rsi), %rsp
	movq 16(%rsi), %rdi
	xorl %ebp, %ebp
	call ap_main
6:	cli
	hlt
	jmp 6b

	.section .rodata
msg_no_long_mode:
	.asciz "hv: this CPU does not support 64-bit long mode; the hypervisor needs an x86-64 CPU. Halted.\r\n"

	.section .data
	.align 16
	.globl boot_gdt
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
boot_gdt_end:
	.globl boot_gdt_desc
boot_gdt_desc:
	.word boot_gdt_end - boot_gdt - 1
	.quad boot_gdt

	.globl boot_magic, boot_info_addr
boot_magic:	.long 0
boot_info_addr:	.long 0

	.section .bss.pagetables, "aw", @nobits
	.align 4096
	.globl boot_pml4
boot_pml4:	.space 4096
boot_pdpt:	.space 4096
boot_pd:	.space 4096 * 4
	.globl boot_stack_guard, boot_stack_bottom, boot_stack_top
boot_stack_guard:	.space 4096
boot_stack_bottom:	.space 16384
boot_stack_top:
