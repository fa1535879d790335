// SOURCES: guest/x86_decode.c guest/x86_emulate.c kernel/lib/string.c
/*
 * The MMIO instruction emulator's read-modify-write and string instructions:
 * ALU operations and their flags, TEST, XCHG, bit operations, REP STOS and
 * MOVS through the virtual-memory callbacks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "x86_emulate_fixture.h"

/* ---- ALU ---- */

static void test_alu_or_imm8(void **state)
{
	/* or dword [rax], 1 */
	struct x86_regs r = regs_at(0);
	struct fake_dev d = { .read_val = 0x80000000 };

	(void)state;
	r.rflags |= X86_RFLAGS_CF | X86_RFLAGS_OF | X86_RFLAGS_ZF;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x83, 0x08, 0x01), 3, 0x30, &ops, &d),
			 X86_EMUL_DONE);
	assert_int_equal(d.n, 2);
	assert_access(&d, 0, 'r', 0x30, 4, 0);
	assert_access(&d, 1, 'w', 0x30, 4, 0x80000001);
	/* SF from bit 31; PF clear (low byte 0x01 has odd parity); CF/OF/ZF cleared */
	assert_int_equal(r.rflags & X86_RFLAGS_ARITH, X86_RFLAGS_SF);
	assert_int_equal(r.rip, 3);
}

static void test_alu_and_imm32(void **state)
{
	/* and dword [rax+0x10], 0xffff00ff */
	struct x86_regs r = regs_at(0);
	struct fake_dev d = { .read_val = 0x0000ff00 };

	(void)state;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x81, 0x60, 0x10, 0xff, 0x00, 0xff, 0xff),
				 7, 0x40, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 1, 'w', 0x40, 4, 0);
	assert_int_equal(r.rflags & X86_RFLAGS_ARITH, X86_RFLAGS_ZF | X86_RFLAGS_PF);
}

static void test_alu_add_qword_minus_one(void **state)
{
	/* add qword [rax], -1: 83 with REX.W sign-extends imm8 to 64 bits */
	struct x86_regs r = regs_at(0);
	struct fake_dev d = { .read_val = 1 };

	(void)state;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x48, 0x83, 0x00, 0xff), 4, 0x40, &ops,
				 &d),
			 X86_EMUL_DONE);
	assert_access(&d, 1, 'w', 0x40, 8, 0);
	assert_int_equal(r.rflags & X86_RFLAGS_ARITH,
			 X86_RFLAGS_CF | X86_RFLAGS_ZF | X86_RFLAGS_PF | X86_RFLAGS_AF);
}

static void test_alu_add_signed_overflow(void **state)
{
	/* add [rax], ebx: 0x7fffffff + 1 */
	struct x86_regs r = regs_at(0);
	struct fake_dev d = { .read_val = 0x7fffffff };

	(void)state;
	r.gpr[X86_RBX] = 1;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x01, 0x18), 2, 0x40, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 1, 'w', 0x40, 4, 0x80000000);
	assert_int_equal(r.rflags & X86_RFLAGS_ARITH,
			 X86_RFLAGS_OF | X86_RFLAGS_SF | X86_RFLAGS_AF | X86_RFLAGS_PF);
}

static void test_alu_add_byte_carry(void **state)
{
	/* add [rax], bl: 0xff + 1 wraps to 0 */
	struct x86_regs r = regs_at(0);
	struct fake_dev d = { .read_val = 0xff };

	(void)state;
	r.gpr[X86_RBX] = 0x101;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x00, 0x18), 2, 0x40, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 1, 'w', 0x40, 1, 0);
	assert_int_equal(r.rflags & X86_RFLAGS_ARITH,
			 X86_RFLAGS_CF | X86_RFLAGS_ZF | X86_RFLAGS_PF | X86_RFLAGS_AF);
}

static void test_alu_sub_load_borrow(void **state)
{
	/* sub eax, [rbx]: 1 - 2 */
	struct x86_regs r = regs_at(0);
	struct fake_dev d = { .read_val = 2 };

	(void)state;
	r.gpr[X86_RAX] = 0xdead000000000001ull;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x2b, 0x03), 2, 0x40, &ops, &d),
			 X86_EMUL_DONE);
	assert_int_equal(d.n, 1);
	assert_int_equal(r.gpr[X86_RAX], 0xffffffff);
	assert_int_equal(r.rflags & X86_RFLAGS_ARITH,
			 X86_RFLAGS_CF | X86_RFLAGS_SF | X86_RFLAGS_PF | X86_RFLAGS_AF);
}

static void test_alu_sub_signed_overflow(void **state)
{
	/* sub word [rax], cx: 0x8000 - 1 overflows the signed range */
	struct x86_regs r = regs_at(0);
	struct fake_dev d = { .read_val = 0x8000 };

	(void)state;
	r.gpr[X86_RCX] = 1;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x66, 0x29, 0x08), 3, 0x40, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 1, 'w', 0x40, 2, 0x7fff);
	assert_int_equal(r.rflags & X86_RFLAGS_ARITH,
			 X86_RFLAGS_OF | X86_RFLAGS_AF | X86_RFLAGS_PF);
}

static void test_alu_adc_sbb_use_carry(void **state)
{
	struct x86_regs r = regs_at(0);
	struct fake_dev d = { .read_val = 0 };

	(void)state;
	/* adc eax, [rbx] with CF=1: 0xffffffff + 0 + 1 */
	r.gpr[X86_RAX] = 0xffffffff;
	r.rflags |= X86_RFLAGS_CF;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x13, 0x03), 2, 0x40, &ops, &d),
			 X86_EMUL_DONE);
	assert_int_equal(r.gpr[X86_RAX], 0);
	assert_int_equal(r.rflags & X86_RFLAGS_ARITH,
			 X86_RFLAGS_CF | X86_RFLAGS_ZF | X86_RFLAGS_PF | X86_RFLAGS_AF);
	/* sbb eax, [rbx] with CF=1: 0 - 0 - 1 */
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x1b, 0x03), 2, 0x40, &ops, &d),
			 X86_EMUL_DONE);
	assert_int_equal(r.gpr[X86_RAX], 0xffffffff);
	assert_true(r.rflags & X86_RFLAGS_CF);
	assert_true(r.rflags & X86_RFLAGS_SF);
	assert_false(r.rflags & X86_RFLAGS_OF);
	/* adc without carry in is a plain add */
	r.rflags &= ~X86_RFLAGS_CF;
	d.read_val = 5;
	r.gpr[X86_RAX] = 1;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x13, 0x03), 2, 0x40, &ops, &d),
			 X86_EMUL_DONE);
	assert_int_equal(r.gpr[X86_RAX], 6);
}

static void test_alu_cmp_writes_nothing(void **state)
{
	struct x86_regs r = regs_at(0);
	struct x86_regs before;
	struct fake_dev d = { .read_val = 0 };

	(void)state;
	/* cmp byte [rax], 0 */
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x80, 0x38, 0x00), 3, 0x40, &ops, &d),
			 X86_EMUL_DONE);
	assert_int_equal(d.n, 1);
	assert_int_equal(r.rflags & X86_RFLAGS_ARITH, X86_RFLAGS_ZF | X86_RFLAGS_PF);
	/* cmp eax, [rbx] leaves EAX alone */
	d.read_val = 0x10;
	r.gpr[X86_RAX] = 0x8;
	before = r;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x3b, 0x03), 2, 0x40, &ops, &d),
			 X86_EMUL_DONE);
	assert_int_equal(r.gpr[X86_RAX], before.gpr[X86_RAX]);
	assert_true(r.rflags & X86_RFLAGS_CF);
	assert_int_equal(d.n, 2);
}

static void test_alu_xor_both_directions(void **state)
{
	struct x86_regs r = regs_at(0);
	struct fake_dev d = { .read_val = 0xf0f0 };

	(void)state;
	r.gpr[X86_RAX] = 0xff00;
	/* xor [rbx], eax */
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x31, 0x03), 2, 0x40, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 1, 'w', 0x40, 4, 0x0ff0);
	/* xor eax, [rbx] */
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x33, 0x03), 2, 0x40, &ops, &d),
			 X86_EMUL_DONE);
	assert_int_equal(r.gpr[X86_RAX], 0x0ff0);
	assert_int_equal(d.n, 3);
}

static void test_test_forms(void **state)
{
	struct x86_regs r = regs_at(0);
	struct fake_dev d = { .read_val = 0x80 };
	struct x86_insn insn;

	(void)state;
	r.rflags |= X86_RFLAGS_CF | X86_RFLAGS_OF;
	/* test byte [rax], 0x80 */
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0xf6, 0x00, 0x80), 3, 0x40, &ops, &d),
			 X86_EMUL_DONE);
	assert_int_equal(d.n, 1);
	assert_int_equal(r.rflags & X86_RFLAGS_ARITH, X86_RFLAGS_SF);
	/* test [rbx], eax with no common bits */
	r.gpr[X86_RAX] = 0x7f;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x85, 0x03), 2, 0x40, &ops, &d),
			 X86_EMUL_DONE);
	assert_int_equal(r.rflags & X86_RFLAGS_ARITH, X86_RFLAGS_ZF | X86_RFLAGS_PF);
	/* test dword [rax], imm32 and test word [rax], imm16 lengths */
	assert_int_equal(x86_decode(BYTES(0xf7, 0x00, 1, 2, 3, 4), X86_MODE_64, &insn), 6);
	assert_int_equal(x86_decode(BYTES(0x66, 0xf7, 0x00, 1, 2), X86_MODE_64, &insn), 5);
	assert_int_equal(insn.imm, 0x0201);
	assert_int_equal(d.n, 2);
}

static void test_xchg(void **state)
{
	/* xchg [rbx], eax */
	struct x86_regs r = regs_at(0);
	struct fake_dev d = { .read_val = 0xaaaa };

	(void)state;
	r.gpr[X86_RAX] = 0xffffffff00005555ull;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x87, 0x03), 2, 0x40, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 0, 'r', 0x40, 4, 0);
	assert_access(&d, 1, 'w', 0x40, 4, 0x5555);
	assert_int_equal(r.gpr[X86_RAX], 0xaaaa);
}

static void test_bit_ops(void **state)
{
	struct x86_regs r = regs_at(0);
	struct fake_dev d = { .read_val = 0x20 };

	(void)state;
	/* bt dword [rax], 5 */
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x0f, 0xba, 0x20, 0x05), 4, 0x40, &ops,
				 &d),
			 X86_EMUL_DONE);
	assert_int_equal(d.n, 1);
	assert_true(r.rflags & X86_RFLAGS_CF);
	/* bts dword [rax], 37: the offset is taken modulo 32 */
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x0f, 0xba, 0x28, 37), 4, 0x40, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 2, 'w', 0x40, 4, 0x20);
	assert_true(r.rflags & X86_RFLAGS_CF);
	/* btr [rbx], eax with eax = 3 (bit clear already) */
	r.gpr[X86_RAX] = 3;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x0f, 0xb3, 0x03), 3, 0x40, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 4, 'w', 0x40, 4, 0x20);
	assert_false(r.rflags & X86_RFLAGS_CF);
	/* btc qword [rbx], rax with rax = 5 */
	r.gpr[X86_RAX] = 5;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x48, 0x0f, 0xbb, 0x03), 4, 0x40, &ops,
				 &d),
			 X86_EMUL_DONE);
	assert_access(&d, 6, 'w', 0x40, 8, 0);
	assert_true(r.rflags & X86_RFLAGS_CF);
}

/* ---- string instructions ---- */

static void test_rep_stos_one_iteration_per_call(void **state)
{
	/* rep stosd with ECX = 2: the guest re-executes until RCX reaches 0 */
	struct x86_regs r = regs_at(0x2000);
	struct fake_dev d = { 0 };

	(void)state;
	r.gpr[X86_RCX] = 2;
	r.gpr[X86_RDI] = 0x100;
	r.gpr[X86_RAX] = 0xabcdef;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0xf3, 0xab), 2, 0xfebf0100, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 0, 'w', 0xfebf0100, 4, 0xabcdef);
	assert_int_equal(r.gpr[X86_RCX], 1);
	assert_int_equal(r.gpr[X86_RDI], 0x104);
	assert_int_equal(r.rip, 0x2000);
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0xf3, 0xab), 2, 0xfebf0104, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 1, 'w', 0xfebf0104, 4, 0xabcdef);
	assert_int_equal(r.gpr[X86_RCX], 0);
	assert_int_equal(r.gpr[X86_RDI], 0x108);
	assert_int_equal(r.rip, 0x2002);
}

static void test_rep_stos_zero_count_and_df(void **state)
{
	struct x86_regs r = regs_at(0x2000);
	struct fake_dev d = { 0 };

	(void)state;
	/* rep stosq with RCX = 0 does nothing but move on */
	r.gpr[X86_RCX] = 0;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0xf3, 0x48, 0xab), 3, 0x100, &ops, &d),
			 X86_EMUL_DONE);
	assert_int_equal(d.n, 0);
	assert_int_equal(r.rip, 0x2003);
	/* stosb with DF set steps RDI down, no REP: advances at once */
	r.rflags |= X86_RFLAGS_DF;
	r.gpr[X86_RDI] = 0x100;
	r.gpr[X86_RAX] = 0x1234;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0xaa), 1, 0x100, &ops, &d), X86_EMUL_DONE);
	assert_access(&d, 0, 'w', 0x100, 1, 0x34);
	assert_int_equal(r.gpr[X86_RDI], 0xff);
	assert_int_equal(r.rip, 0x2004);
}

static void test_rep_stos_addr32_in_long_mode(void **state)
{
	/* 67 rep stosw: ECX and EDI count, and their upper halves are cleared */
	struct x86_regs r = regs_at(0x2000);
	struct fake_dev d = { 0 };

	(void)state;
	r.gpr[X86_RCX] = 0xffffffff00000003ull;
	r.gpr[X86_RDI] = 0xffffffff00000100ull;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x66, 0x67, 0xf3, 0xab), 4, 0x100, &ops,
				 &d),
			 X86_EMUL_DONE);
	assert_access(&d, 0, 'w', 0x100, 2, r.gpr[X86_RAX] & 0xffff);
	assert_int_equal(r.gpr[X86_RCX], 2);
	assert_int_equal(r.gpr[X86_RDI], 0x102);
	assert_int_equal(r.rip, 0x2000);
}

static void test_rep_stos_mode16(void **state)
{
	/* rep stosw in real mode: CX and DI only, bits above merge */
	struct x86_regs r = regs_at(0x100);
	struct fake_dev d = { 0 };

	(void)state;
	r.gpr[X86_RCX] = 0x50001;
	r.gpr[X86_RDI] = 0x7ffff;
	assert_int_equal(emulate(&r, X86_MODE_16, BYTES(0xf3, 0xab), 2, 0xa0000, &ops, &d),
			 X86_EMUL_DONE);
	assert_int_equal(r.gpr[X86_RCX], 0x50000);
	assert_int_equal(r.gpr[X86_RDI], 0x70001);
	assert_int_equal(r.rip, 0x102);
}

static void test_movs_through_virtual_callbacks(void **state)
{
	/* rep movsd from DS:RSI to ES:RDI: the whole count in one call */
	struct x86_regs r = regs_at(0x3000);
	struct fake_dev d = { 0 };
	unsigned int i;

	(void)state;
	for (i = 0; i < 16; i++)
		d.vmem[i] = (uint8_t)(0xa0 + i);
	r.gpr[X86_RCX] = 2;
	r.gpr[X86_RSI] = 0;
	r.gpr[X86_RDI] = 32;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0xf3, 0xa5), 2, 0, &ops_virt, &d),
			 X86_EMUL_DONE);
	assert_int_equal(d.log[0].dir, 'R');
	assert_int_equal(d.log[0].seg, X86_SEG_DS);
	assert_access(&d, 1, 'W', 32, 4, 0xa3a2a1a0);
	assert_int_equal(d.log[1].seg, X86_SEG_ES);
	assert_access(&d, 2, 'R', 4, 4, 0);
	assert_access(&d, 3, 'W', 36, 4, 0xa7a6a5a4);
	assert_int_equal(r.gpr[X86_RSI], 8);
	assert_int_equal(r.gpr[X86_RDI], 40);
	assert_int_equal(r.gpr[X86_RCX], 0);
	assert_int_equal(r.rip, 0x3002);
	/* movsb with an FS override on the source, no REP */
	r.rip = 0x3000;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x64, 0xa4), 2, 0, &ops_virt, &d),
			 X86_EMUL_DONE);
	assert_int_equal(d.log[4].seg, X86_SEG_FS);
	assert_access(&d, 5, 'W', 40, 1, 0xa8);
	assert_int_equal(r.rip, 0x3002);
	/* without the virtual-memory callbacks MOVS is not supported */
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0xa5), 1, 0, &ops, &d),
			 X86_EMUL_UNSUPPORTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alu_or_imm8),
		cmocka_unit_test(test_alu_and_imm32),
		cmocka_unit_test(test_alu_add_qword_minus_one),
		cmocka_unit_test(test_alu_add_signed_overflow),
		cmocka_unit_test(test_alu_add_byte_carry),
		cmocka_unit_test(test_alu_sub_load_borrow),
		cmocka_unit_test(test_alu_sub_signed_overflow),
		cmocka_unit_test(test_alu_adc_sbb_use_carry),
		cmocka_unit_test(test_alu_cmp_writes_nothing),
		cmocka_unit_test(test_alu_xor_both_directions),
		cmocka_unit_test(test_test_forms),
		cmocka_unit_test(test_xchg),
		cmocka_unit_test(test_bit_ops),
		cmocka_unit_test(test_rep_stos_one_iteration_per_call),
		cmocka_unit_test(test_rep_stos_zero_count_and_df),
		cmocka_unit_test(test_rep_stos_addr32_in_long_mode),
		cmocka_unit_test(test_rep_stos_mode16),
		cmocka_unit_test(test_movs_through_virtual_callbacks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
