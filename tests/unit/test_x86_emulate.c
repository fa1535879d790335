// SOURCES: guest/x86_decode.c guest/x86_emulate.c kernel/lib/string.c
/*
 * The MMIO instruction emulator, fed the byte sequences guests really use on
 * device registers: moves, addressing forms, prefixes and modes, and what it
 * refuses (truncated, too long, unsupported). ALU and string instructions are
 * in test_x86_emulate_alu.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "x86_emulate_fixture.h"

/* ---- plain moves ---- */

static void test_lapic_eoi_store_imm(void **state)
{
	/* mov dword [rax+0xb0], 0: Linux's native_apic_mem_write(APIC_EOI, 0). */
	struct x86_regs r = regs_at(0xffffffff81000000);
	struct fake_dev d = { 0 };
	struct x86_insn insn;

	(void)state;
	assert_int_equal(x86_decode(BYTES(0xc7, 0x80, 0xb0, 0, 0, 0, 0, 0, 0, 0), X86_MODE_64,
				    &insn), 10);
	assert_int_equal(insn.op, X86_OP_MOV_STORE_IMM);
	assert_int_equal(insn.base, X86_RAX);
	assert_int_equal(insn.index, -1);
	assert_int_equal(insn.disp, 0xb0);
	assert_int_equal(insn.mem_size, 4);
	r.gpr[X86_RAX] = 0xffffffffff5fc000ull;
	assert_int_equal(x86_insn_mem_offset(&insn, &r), 0xffffffffff5fc0b0ull);
	assert_int_equal(x86_emulate_mmio(&r, &insn, 0xfee000b0, &ops, &d), X86_EMUL_DONE);
	assert_int_equal(d.n, 1);
	assert_access(&d, 0, 'w', 0xfee000b0, 4, 0);
	assert_int_equal(r.rip, 0xffffffff8100000aull);
}

static void test_rip_relative_load(void **state)
{
	/* mov eax, [rip+0x2010]: a 32-bit load zeroes bits 63:32 of RAX. */
	struct x86_regs r = regs_at(0x1000);
	struct fake_dev d = { .read_val = 0x12345678 };
	struct x86_insn insn;

	(void)state;
	assert_int_equal(x86_decode(BYTES(0x8b, 0x05, 0x10, 0x20, 0, 0), X86_MODE_64, &insn), 6);
	assert_true(insn.rip_relative);
	assert_int_equal(x86_insn_mem_offset(&insn, &r), 0x1000 + 6 + 0x2010);
	assert_int_equal(x86_emulate_mmio(&r, &insn, 0xfed00000, &ops, &d), X86_EMUL_DONE);
	assert_access(&d, 0, 'r', 0xfed00000, 4, 0);
	assert_int_equal(r.gpr[X86_RAX], 0x12345678);
	assert_int_equal(r.rip, 0x1006);
}

static void test_rip_relative_negative_disp(void **state)
{
	/* mov [rip-0x10], ecx: the displacement is signed. */
	struct x86_regs r = regs_at(0x5000);
	struct x86_insn insn;

	(void)state;
	assert_int_equal(x86_decode(BYTES(0x89, 0x0d, 0xf0, 0xff, 0xff, 0xff), X86_MODE_64, &insn),
			 6);
	assert_int_equal(x86_insn_mem_offset(&insn, &r), 0x5006 - 0x10);
}

static void test_store_word_with_66(void **state)
{
	/* mov [rax], dx */
	struct x86_regs r = regs_at(0);
	struct fake_dev d = { 0 };

	(void)state;
	r.gpr[X86_RDX] = 0xaaaabbbbccccbeefull;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x66, 0x89, 0x10), 3, 0x100, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 0, 'w', 0x100, 2, 0xbeef);
	assert_int_equal(r.rip, 3);
}

static void test_store_qword_rex_w_r(void **state)
{
	/* mov [rdi+8], r9: REX.W picks 64 bits, REX.R picks R9. */
	struct x86_regs r = regs_at(0);
	struct fake_dev d = { 0 };

	(void)state;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x4c, 0x89, 0x4f, 0x08), 4, 0x208, &ops,
				 &d),
			 X86_EMUL_DONE);
	assert_access(&d, 0, 'w', 0x208, 8, r.gpr[X86_R9]);
}

static void test_high_byte_registers(void **state)
{
	/* mov [rax], ah without REX; mov [rax], spl with an empty REX. */
	struct x86_regs r = regs_at(0);
	struct fake_dev d = { 0 };

	(void)state;
	r.gpr[X86_RAX] = 0x1234;
	r.gpr[X86_RSP] = 0x99;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x88, 0x20), 2, 0x10, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 0, 'w', 0x10, 1, 0x12);
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x40, 0x88, 0x20), 3, 0x10, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 1, 'w', 0x10, 1, 0x99);
}

static void test_load_byte_merges(void **state)
{
	/* mov bh, [rax] merges bits 15:8; mov r15b, [rax] merges bits 7:0. */
	struct x86_regs r = regs_at(0);
	struct fake_dev d = { .read_val = 0xab };

	(void)state;
	r.gpr[X86_RBX] = 0x1122334455667788ull;
	r.gpr[X86_R15] = 0x1122334455667788ull;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x8a, 0x38), 2, 0x10, &ops, &d),
			 X86_EMUL_DONE);
	assert_int_equal(r.gpr[X86_RBX], 0x112233445566ab88ull);
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x44, 0x8a, 0x38), 3, 0x10, &ops, &d),
			 X86_EMUL_DONE);
	assert_int_equal(r.gpr[X86_R15], 0x11223344556677abull);
}

static void test_load_word_merges_dword_zero_extends(void **state)
{
	struct x86_regs r = regs_at(0);
	struct fake_dev d = { .read_val = 0xffffffffcafef00dull };

	(void)state;
	/* mov cx, [rax] keeps bits 63:16; the device's upper bits are dropped. */
	r.gpr[X86_RCX] = 0x1111222233334444ull;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x66, 0x8b, 0x08), 3, 0x10, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 0, 'r', 0x10, 2, 0);
	assert_int_equal(r.gpr[X86_RCX], 0x111122223333f00dull);
	/* mov r9d, [rax] zeroes bits 63:32. */
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x44, 0x8b, 0x08), 3, 0x10, &ops, &d),
			 X86_EMUL_DONE);
	assert_int_equal(r.gpr[X86_R9], 0xcafef00d);
}

static void test_movzx_movsx(void **state)
{
	struct x86_regs r = regs_at(0);
	struct fake_dev d = { .read_val = 0x80fe };

	(void)state;
	/* movzx eax, byte [rdi] */
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x0f, 0xb6, 0x07), 3, 0x20, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 0, 'r', 0x20, 1, 0);
	assert_int_equal(r.gpr[X86_RAX], 0xfe);
	/* movzx ecx, word [rdi] */
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x0f, 0xb7, 0x0f), 3, 0x20, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 1, 'r', 0x20, 2, 0);
	assert_int_equal(r.gpr[X86_RCX], 0x80fe);
	/* movsx eax, byte [rdi]: 0xfe is -2 */
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x0f, 0xbe, 0x07), 3, 0x20, &ops, &d),
			 X86_EMUL_DONE);
	assert_int_equal(r.gpr[X86_RAX], 0xfffffffe);
	/* movsx rax, word [rdi] */
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x48, 0x0f, 0xbf, 0x07), 4, 0x20, &ops,
				 &d),
			 X86_EMUL_DONE);
	assert_int_equal(r.gpr[X86_RAX], 0xffffffffffff80feull);
	/* movzx ax, byte [rdi] merges into AX only */
	r.gpr[X86_RAX] = 0x1234567812345678ull;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x66, 0x0f, 0xb6, 0x07), 4, 0x20, &ops,
				 &d),
			 X86_EMUL_DONE);
	assert_int_equal(r.gpr[X86_RAX], 0x12345678123400feull);
}

static void test_movsxd(void **state)
{
	struct x86_regs r = regs_at(0);
	struct fake_dev d = { .read_val = 0x80000001 };

	(void)state;
	/* movsxd rax, dword [rdi] reads 4 bytes and sign-extends. */
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x48, 0x63, 0x07), 3, 0x40, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 0, 'r', 0x40, 4, 0);
	assert_int_equal(r.gpr[X86_RAX], 0xffffffff80000001ull);
}

static void test_sib_forms(void **state)
{
	struct x86_regs r = regs_at(0);
	struct x86_insn insn;

	(void)state;
	/* mov eax, [rbx+rcx*4+8] */
	assert_int_equal(x86_decode(BYTES(0x8b, 0x44, 0x8b, 0x08), X86_MODE_64, &insn), 4);
	assert_int_equal(insn.base, X86_RBX);
	assert_int_equal(insn.index, X86_RCX);
	assert_int_equal(insn.scale, 4);
	r.gpr[X86_RBX] = 0x1000;
	r.gpr[X86_RCX] = 3;
	assert_int_equal(x86_insn_mem_offset(&insn, &r), 0x1000 + 12 + 8);
	/* mov eax, [rax+r12*4]: REX.X turns index 100b into R12 */
	assert_int_equal(x86_decode(BYTES(0x42, 0x8b, 0x04, 0xa0), X86_MODE_64, &insn), 4);
	assert_int_equal(insn.index, X86_R12);
	/* mov eax, [r12]: rm 100b with REX.B still needs a SIB */
	assert_int_equal(x86_decode(BYTES(0x41, 0x8b, 0x04, 0x24), X86_MODE_64, &insn), 4);
	assert_int_equal(insn.base, X86_R12);
	assert_int_equal(insn.index, -1);
	/* mov eax, [disp32]: SIB base 101b with mod 00 has no base, even with REX.B */
	assert_int_equal(x86_decode(BYTES(0x41, 0x8b, 0x04, 0x25, 0xf0, 0x00, 0xc0, 0x0f),
				    X86_MODE_64, &insn),
			 8);
	assert_int_equal(insn.base, -1);
	assert_false(insn.rip_relative);
	assert_int_equal(x86_insn_mem_offset(&insn, &r), 0x0fc000f0);
	/* mov eax, [r13+0]: rm 101b with mod 01 is a base plus disp8 */
	assert_int_equal(x86_decode(BYTES(0x41, 0x8b, 0x45, 0x00), X86_MODE_64, &insn), 4);
	assert_int_equal(insn.base, X86_R13);
	/* mov eax, [rsp+rdx*8+0x12345678] with disp32 */
	assert_int_equal(x86_decode(BYTES(0x8b, 0x84, 0xd4, 0x78, 0x56, 0x34, 0x12), X86_MODE_64,
				    &insn),
			 7);
	assert_int_equal(insn.base, X86_RSP);
	assert_int_equal(insn.index, X86_RDX);
	assert_int_equal(insn.scale, 8);
	assert_int_equal(insn.disp, 0x12345678);
	assert_int_equal(insn.seg, X86_SEG_SS);
}

static void test_moffs(void **state)
{
	struct x86_regs r = regs_at(0);
	struct fake_dev d = { .read_val = 0x55667788 };
	struct x86_insn insn;

	(void)state;
	/* mov eax, [0xfee00020] with an 8-byte moffs in 64-bit mode */
	assert_int_equal(x86_decode(BYTES(0xa1, 0x20, 0x00, 0xe0, 0xfe, 0, 0, 0, 0), X86_MODE_64,
				    &insn),
			 9);
	assert_int_equal(x86_insn_mem_offset(&insn, &r), 0xfee00020);
	assert_int_equal(x86_emulate_mmio(&r, &insn, 0xfee00020, &ops, &d), X86_EMUL_DONE);
	assert_int_equal(r.gpr[X86_RAX], 0x55667788);
	/* mov [moffs64], rax */
	assert_int_equal(emulate(&r, X86_MODE_64,
				 BYTES(0x48, 0xa3, 0x00, 0x10, 0, 0, 0, 0, 0, 0), 10, 0x1000,
				 &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 1, 'w', 0x1000, 8, 0x55667788);
	/* 67: a 4-byte moffs; mov al, [moffs32] */
	assert_int_equal(x86_decode(BYTES(0x67, 0xa0, 0x00, 0x10, 0, 0), X86_MODE_64, &insn), 6);
	assert_int_equal(insn.op_size, 1);
	/* 32-bit mode: mov [moffs32], al */
	assert_int_equal(emulate(&r, X86_MODE_32, BYTES(0xa2, 0x00, 0x10, 0, 0), 5, 0x1000, &ops,
				 &d),
			 X86_EMUL_DONE);
	assert_access(&d, 2, 'w', 0x1000, 1, 0x88);
	/* 16-bit mode: mov ax, [0x0400] */
	assert_int_equal(x86_decode(BYTES(0xa1, 0x00, 0x04), X86_MODE_16, &insn), 3);
	assert_int_equal(insn.op_size, 2);
}

static void test_store_imm_forms(void **state)
{
	struct x86_regs r = regs_at(0);
	struct fake_dev d = { 0 };

	(void)state;
	/* mov byte [rax], 0x5a */
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0xc6, 0x00, 0x5a), 3, 0x10, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 0, 'w', 0x10, 1, 0x5a);
	/* mov qword [rax], -1: imm32 sign-extended to 64 bits */
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff),
				 7, 0x10, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 1, 'w', 0x10, 8, ~0ull);
	/* mov word [rax], 0x1234: 66 shrinks the immediate to 2 bytes */
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x66, 0xc7, 0x00, 0x34, 0x12), 5, 0x10,
				 &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 2, 'w', 0x10, 2, 0x1234);
}

/* ---- 16- and 32-bit modes ---- */

static void test_mode16_forms(void **state)
{
	struct x86_regs r = regs_at(0xfffe);
	struct fake_dev d = { 0 };
	struct x86_insn insn;

	(void)state;
	/* mov [bx], ax: 16-bit operand by default */
	assert_int_equal(emulate(&r, X86_MODE_16, BYTES(0x89, 0x07), 2, 0xb8000, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 0, 'w', 0xb8000, 2, r.gpr[X86_RAX] & 0xffff);
	/* IP wraps at 64 KiB */
	assert_int_equal(r.rip, 0);
	/* mov [bx], eax: 66 selects 32 bits in a 16-bit segment */
	assert_int_equal(emulate(&r, X86_MODE_16, BYTES(0x66, 0x89, 0x07), 3, 0xb8000, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 1, 'w', 0xb8000, 4, r.gpr[X86_RAX] & 0xffffffff);
	/* mov ax, [bp-2]: SS-relative with disp8 */
	assert_int_equal(x86_decode(BYTES(0x8b, 0x46, 0xfe), X86_MODE_16, &insn), 3);
	assert_int_equal(insn.seg, X86_SEG_SS);
	r.gpr[X86_RBP] = 0x100;
	assert_int_equal(x86_insn_mem_offset(&insn, &r), 0xfe);
	/* mov word [0x1234], 0x5678: rm 110b with mod 00 is disp16 */
	assert_int_equal(emulate(&r, X86_MODE_16, BYTES(0xc7, 0x06, 0x34, 0x12, 0x78, 0x56), 6,
				 0x1234, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 2, 'w', 0x1234, 2, 0x5678);
	/* mov ax, [bx+si-2] wraps at 64 KiB */
	assert_int_equal(x86_decode(BYTES(0x8b, 0x40, 0xfe), X86_MODE_16, &insn), 3);
	r.gpr[X86_RBX] = 0;
	r.gpr[X86_RSI] = 1;
	assert_int_equal(x86_insn_mem_offset(&insn, &r), 0xffff);
	/* mov ax, [eax]: 67 selects 32-bit addressing */
	assert_int_equal(x86_decode(BYTES(0x67, 0x8b, 0x00), X86_MODE_16, &insn), 3);
	assert_int_equal(insn.addr_size, 4);
	assert_int_equal(insn.base, X86_RAX);
	/* mov ax, [bx+0x1234]: mod 10 takes a disp16, not disp32 */
	assert_int_equal(x86_decode(BYTES(0x8b, 0x87, 0x34, 0x12), X86_MODE_16, &insn), 4);
}

static void test_mode32_forms(void **state)
{
	struct x86_regs r = regs_at(0xfffffffe);
	struct fake_dev d = { 0 };
	struct x86_insn insn;

	(void)state;
	/* mov [0x12345678], edx: in 32-bit mode disp32 is absolute, not RIP-relative */
	assert_int_equal(x86_decode(BYTES(0x89, 0x15, 0x78, 0x56, 0x34, 0x12), X86_MODE_32, &insn),
			 6);
	assert_false(insn.rip_relative);
	assert_int_equal(x86_insn_mem_offset(&insn, &r), 0x12345678);
	assert_int_equal(x86_emulate_mmio(&r, &insn, 0x12345678, &ops, &d), X86_EMUL_DONE);
	assert_access(&d, 0, 'w', 0x12345678, 4, r.gpr[X86_RDX] & 0xffffffff);
	assert_int_equal(r.rip, 4); /* EIP wraps at 4 GiB */
	/* 0x40 is INC EAX outside 64-bit mode, not a REX prefix */
	assert_int_equal(x86_decode(BYTES(0x40, 0x89, 0x00), X86_MODE_32, &insn),
			 X86_DECODE_UNSUPPORTED);
	/* mov [bx+si], ax with 66 67 in 32-bit mode */
	assert_int_equal(x86_decode(BYTES(0x66, 0x67, 0x89, 0x00), X86_MODE_32, &insn), 4);
	assert_int_equal(insn.op_size, 2);
	assert_int_equal(insn.addr_size, 2);
	assert_int_equal(insn.base, X86_RBX);
	assert_int_equal(insn.index, X86_RSI);
}

/* ---- prefixes ---- */

static void test_rex_prefix_rules(void **state)
{
	struct x86_insn insn;

	(void)state;
	/* A REX followed by a legacy prefix is ignored: a 16-bit store. */
	assert_int_equal(x86_decode(BYTES(0x48, 0x66, 0x89, 0x00), X86_MODE_64, &insn), 4);
	assert_int_equal(insn.op_size, 2);
	assert_int_equal(insn.rex, 0);
	/* REX.W wins over 66. */
	assert_int_equal(x86_decode(BYTES(0x66, 0x48, 0x89, 0x00), X86_MODE_64, &insn), 4);
	assert_int_equal(insn.op_size, 8);
	/* Of two REX prefixes only the last counts. */
	assert_int_equal(x86_decode(BYTES(0x4c, 0x40, 0x89, 0x08), X86_MODE_64, &insn), 4);
	assert_int_equal(insn.reg, X86_RCX);
	assert_int_equal(insn.op_size, 4);
}

static void test_segment_overrides(void **state)
{
	struct x86_insn insn;

	(void)state;
	assert_int_equal(x86_decode(BYTES(0x64, 0x8b, 0x00), X86_MODE_64, &insn), 3);
	assert_int_equal(insn.seg, X86_SEG_FS);
	assert_true(insn.seg_override);
	/* CS/DS/ES/SS overrides are ignored in 64-bit mode... */
	assert_int_equal(x86_decode(BYTES(0x26, 0x8b, 0x00), X86_MODE_64, &insn), 3);
	assert_int_equal(insn.seg, X86_SEG_DS);
	/* ...but not in 32-bit mode. */
	assert_int_equal(x86_decode(BYTES(0x26, 0x8b, 0x00), X86_MODE_32, &insn), 3);
	assert_int_equal(insn.seg, X86_SEG_ES);
	/* [ebp+0] defaults to SS, an override beats that. */
	assert_int_equal(x86_decode(BYTES(0x8b, 0x45, 0x00), X86_MODE_32, &insn), 3);
	assert_int_equal(insn.seg, X86_SEG_SS);
	assert_int_equal(x86_decode(BYTES(0x3e, 0x8b, 0x45, 0x00), X86_MODE_32, &insn), 4);
	assert_int_equal(insn.seg, X86_SEG_DS);
	/* STOS writes ES whatever the override. */
	assert_int_equal(x86_decode(BYTES(0x65, 0xab), X86_MODE_64, &insn), 2);
	assert_int_equal(insn.seg, X86_SEG_ES);
}

static void test_lock_rules(void **state)
{
	struct x86_insn insn;

	(void)state;
	/* lock or dword [rax], 1 */
	assert_int_equal(x86_decode(BYTES(0xf0, 0x83, 0x08, 0x01), X86_MODE_64, &insn), 4);
	assert_true(insn.lock);
	/* lock xchg and lock bts are fine */
	assert_int_equal(x86_decode(BYTES(0xf0, 0x87, 0x08), X86_MODE_64, &insn), 3);
	assert_int_equal(x86_decode(BYTES(0xf0, 0x0f, 0xab, 0x08), X86_MODE_64, &insn), 4);
	/* lock mov, lock cmp, lock bt and lock test are #UD */
	assert_int_equal(x86_decode(BYTES(0xf0, 0x89, 0x08), X86_MODE_64, &insn),
			 X86_DECODE_INVALID);
	assert_int_equal(x86_decode(BYTES(0xf0, 0x83, 0x38, 0x01), X86_MODE_64, &insn),
			 X86_DECODE_INVALID);
	assert_int_equal(x86_decode(BYTES(0xf0, 0x0f, 0xba, 0x20, 0x01), X86_MODE_64, &insn),
			 X86_DECODE_INVALID);
	assert_int_equal(x86_decode(BYTES(0xf0, 0x85, 0x08), X86_MODE_64, &insn),
			 X86_DECODE_INVALID);
	/* lock add eax, [rax]: the destination is a register */
	assert_int_equal(x86_decode(BYTES(0xf0, 0x03, 0x00), X86_MODE_64, &insn),
			 X86_DECODE_INVALID);
}

/* ---- errors ---- */

static void test_device_errors_leave_registers(void **state)
{
	struct x86_regs r = regs_at(0x4000), before = r;
	struct fake_dev d = { .read_rc = -5 };

	(void)state;
	/* a failed read: mov eax, [rbx] */
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x8b, 0x03), 2, 0x40, &ops, &d),
			 X86_EMUL_DEVICE_ERROR);
	assert_memory_equal(&r, &before, sizeof(r));
	/* a failed write after the read of an ALU store: flags and RIP unchanged */
	d.read_rc = 0;
	d.write_rc = -1;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x83, 0x08, 0x01), 3, 0x40, &ops, &d),
			 X86_EMUL_DEVICE_ERROR);
	assert_memory_equal(&r, &before, sizeof(r));
	/* a callback that raised a guest exception is told apart */
	d.write_rc = X86_EMUL_FAULT;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x89, 0x03), 2, 0x40, &ops, &d),
			 X86_EMUL_FAULT);
	/* a failed rep stos keeps RCX and RDI */
	r.gpr[X86_RCX] = 4;
	before = r;
	d.write_rc = -1;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0xf3, 0xab), 2, 0x40, &ops, &d),
			 X86_EMUL_DEVICE_ERROR);
	assert_memory_equal(&r, &before, sizeof(r));
}

static void test_truncated(void **state)
{
	struct x86_insn insn;
	const uint8_t eoi[] = { 0xc7, 0x80, 0xb0, 0, 0, 0, 0, 0, 0, 0 };
	size_t n;

	(void)state;
	/* every proper prefix of a complete instruction is truncated */
	for (n = 0; n < sizeof(eoi); n++)
		assert_int_equal(x86_decode(eoi, n, X86_MODE_64, &insn), X86_DECODE_TRUNCATED);
	assert_int_equal(x86_decode(eoi, sizeof(eoi), X86_MODE_64, &insn), 10);
	/* prefixes only, an escape byte only, a missing SIB */
	assert_int_equal(x86_decode(BYTES(0x66, 0x48), X86_MODE_64, &insn), X86_DECODE_TRUNCATED);
	assert_int_equal(x86_decode(BYTES(0x0f), X86_MODE_64, &insn), X86_DECODE_TRUNCATED);
	assert_int_equal(x86_decode(BYTES(0x8b, 0x04), X86_MODE_64, &insn), X86_DECODE_TRUNCATED);
	/* a moffs is 8 bytes in 64-bit mode */
	assert_int_equal(x86_decode(BYTES(0xa1, 0, 0, 0, 0), X86_MODE_64, &insn),
			 X86_DECODE_TRUNCATED);
}

static void test_length_limit(void **state)
{
	struct x86_insn insn;
	/* fs cs ds es REX.W mov qword [rax+disp32], imm32: exactly 15 bytes */
	const uint8_t ok15[] = { 0x64, 0x2e, 0x3e, 0x26, 0x48, 0xc7, 0x80, 0xb0, 0, 0, 0,
				 1, 0, 0, 0 };
	/* one more prefix makes 16 */
	const uint8_t bad16[] = { 0x64, 0x64, 0x2e, 0x3e, 0x26, 0x48, 0xc7, 0x80, 0xb0, 0, 0, 0,
				  1, 0, 0, 0 };
	uint8_t prefixes[20];

	(void)state;
	assert_int_equal(x86_decode(ok15, sizeof(ok15), X86_MODE_64, &insn), 15);
	assert_int_equal(insn.imm, 1);
	assert_int_equal(insn.seg, X86_SEG_FS);
	assert_int_equal(x86_decode(bad16, sizeof(bad16), X86_MODE_64, &insn),
			 X86_DECODE_TOO_LONG);
	/* only 15 bytes given, but they are all prefixes: too long, not truncated */
	memset(prefixes, 0x66, sizeof(prefixes));
	assert_int_equal(x86_decode(prefixes, 15, X86_MODE_64, &insn), X86_DECODE_TOO_LONG);
	/* 14 prefixes then a 2-byte mov */
	prefixes[14] = 0x89;
	prefixes[15] = 0x00;
	assert_int_equal(x86_decode(prefixes, 16, X86_MODE_64, &insn), X86_DECODE_TOO_LONG);
	/* 13 prefixes then a 2-byte mov is legal */
	assert_int_equal(x86_decode(prefixes + 1, 15, X86_MODE_64, &insn), 15);
}

static void test_unsupported_and_invalid(void **state)
{
	struct x86_insn insn;

	(void)state;
	/* ud2, mul dword [rax], a register-only mov, push imm */
	assert_int_equal(x86_decode(BYTES(0x0f, 0x0b), X86_MODE_64, &insn),
			 X86_DECODE_UNSUPPORTED);
	assert_int_equal(x86_decode(BYTES(0xf7, 0x20), X86_MODE_64, &insn),
			 X86_DECODE_UNSUPPORTED);
	assert_int_equal(x86_decode(BYTES(0x89, 0xc0), X86_MODE_64, &insn),
			 X86_DECODE_UNSUPPORTED);
	assert_int_equal(x86_decode(BYTES(0x6a, 0x01), X86_MODE_64, &insn),
			 X86_DECODE_UNSUPPORTED);
	/* xbegin is C7 /7 */
	assert_int_equal(x86_decode(BYTES(0xc7, 0xf8, 0, 0, 0, 0), X86_MODE_64, &insn),
			 X86_DECODE_UNSUPPORTED);
	/* ARPL (63) outside 64-bit mode */
	assert_int_equal(x86_decode(BYTES(0x63, 0x00), X86_MODE_32, &insn),
			 X86_DECODE_UNSUPPORTED);
	/* 82 is #UD in 64-bit mode, an alias of 80 elsewhere */
	assert_int_equal(x86_decode(BYTES(0x82, 0x00, 0x01), X86_MODE_64, &insn),
			 X86_DECODE_INVALID);
	assert_int_equal(x86_decode(BYTES(0x82, 0x00, 0x01), X86_MODE_32, &insn), 3);
	/* 0F BA /0 is #UD */
	assert_int_equal(x86_decode(BYTES(0x0f, 0xba, 0x00, 0x01), X86_MODE_64, &insn),
			 X86_DECODE_INVALID);
	/* SSE: movdqa xmm0, [rax] */
	assert_int_equal(x86_decode(BYTES(0x66, 0x0f, 0x6f, 0x00), X86_MODE_64, &insn),
			 X86_DECODE_UNSUPPORTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lapic_eoi_store_imm),
		cmocka_unit_test(test_rip_relative_load),
		cmocka_unit_test(test_rip_relative_negative_disp),
		cmocka_unit_test(test_store_word_with_66),
		cmocka_unit_test(test_store_qword_rex_w_r),
		cmocka_unit_test(test_high_byte_registers),
		cmocka_unit_test(test_load_byte_merges),
		cmocka_unit_test(test_load_word_merges_dword_zero_extends),
		cmocka_unit_test(test_movzx_movsx),
		cmocka_unit_test(test_movsxd),
		cmocka_unit_test(test_sib_forms),
		cmocka_unit_test(test_moffs),
		cmocka_unit_test(test_store_imm_forms),
		cmocka_unit_test(test_mode16_forms),
		cmocka_unit_test(test_mode32_forms),
		cmocka_unit_test(test_rex_prefix_rules),
		cmocka_unit_test(test_segment_overrides),
		cmocka_unit_test(test_lock_rules),
		cmocka_unit_test(test_device_errors_leave_registers),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_length_limit),
		cmocka_unit_test(test_unsupported_and_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
