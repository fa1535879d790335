// SOURCES: guest/x86_decode.c guest/x86_emulate.c kernel/lib/string.c
/*
 * String instructions through the virtual-memory and port callbacks (INS,
 * OUTS, LODS, STOS, MOVS with and without REP, every size and address size,
 * DF, the batch bound, faults in the middle of a REP), and the read-modify-
 * write forms added for device registers: CMPXCHG, XADD, INC/DEC/NOT/NEG,
 * and BT with a register offset that moves the address.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "x86_emulate_fixture.h"

static struct x86_insn decode_ok(const uint8_t *b, size_t n, enum x86_cpu_mode mode, int len)
{
	struct x86_insn insn;

	assert_int_equal(x86_decode(b, n, mode, &insn), len);
	return insn;
}

/* Virtual memory anywhere (no bounds, no log) and a port that only counts. */
static int quiet_read(void *ctx, enum x86_seg seg, uint64_t off, unsigned int size, uint64_t *val)
{
	(void)ctx;
	(void)seg;
	(void)size;
	*val = off & 0xff;
	return 0;
}

static int quiet_write(void *ctx, enum x86_seg seg, uint64_t off, unsigned int size, uint64_t val)
{
	struct fake_dev *d = ctx;

	(void)seg;
	(void)size;
	(void)val;
	d->fault_off = off;	/* where the last element went */
	return 0;
}

static int quiet_port_out(void *ctx, uint16_t port, unsigned int size, uint64_t val)
{
	struct fake_dev *d = ctx;

	(void)port;
	(void)size;
	(void)val;
	d->port_accesses++;
	return 0;
}

/* ---- INS and OUTS ---- */

static void test_ins_outs_decode(void **state)
{
	struct x86_insn i;

	(void)state;
	i = decode_ok(BYTES(0x6c), X86_MODE_32, 1);
	assert_int_equal(i.op, X86_OP_INS);
	assert_int_equal(i.op_size, 1);
	assert_int_equal(i.seg, X86_SEG_ES);
	i = decode_ok(BYTES(0x66, 0x6d), X86_MODE_32, 2);
	assert_int_equal(i.op_size, 2);
	i = decode_ok(BYTES(0x6d), X86_MODE_16, 1);
	assert_int_equal(i.op_size, 2);
	assert_int_equal(i.addr_size, 2);
	/* REX.W does not make a qword INS/OUTS */
	i = decode_ok(BYTES(0xf3, 0x48, 0x6f), X86_MODE_64, 3);
	assert_int_equal(i.op, X86_OP_OUTS);
	assert_int_equal(i.op_size, 4);
	assert_int_equal(i.rep, 0xf3);
	assert_int_equal(i.addr_size, 8);
	/* OUTS takes a segment override for its source, INS never for ES */
	i = decode_ok(BYTES(0x2e, 0x6e), X86_MODE_32, 2);
	assert_int_equal(i.seg, X86_SEG_CS);
	i = decode_ok(BYTES(0x2e, 0x6c), X86_MODE_32, 2);
	assert_int_equal(i.seg, X86_SEG_ES);
	/* 67 in 32-bit code: SI/DI/CX */
	i = decode_ok(BYTES(0x67, 0xf3, 0x6e), X86_MODE_32, 3);
	assert_int_equal(i.addr_size, 2);
	/* LOCK on a string instruction is #UD */
	assert_int_equal(x86_decode(BYTES(0xf0, 0x6c), X86_MODE_32, &i), X86_DECODE_INVALID);
}

static void test_rep_outsb_every_element_in_one_call(void **state)
{
	struct x86_regs r = regs_at(0x1000);
	struct fake_dev d = { 0 };
	unsigned int i;

	(void)state;
	for (i = 0; i < 5; i++)
		d.vmem[16 + i] = (uint8_t)('a' + i);
	r.gpr[X86_RDX] = 0x103f8;	/* the port is DX: bits above 15 are not */
	r.gpr[X86_RSI] = 16;
	r.gpr[X86_RCX] = 5;
	assert_int_equal(emulate(&r, X86_MODE_32, BYTES(0xf3, 0x6e), 2, 0, &ops_all, &d),
			 X86_EMUL_DONE);
	assert_int_equal(d.n, 10);
	for (i = 0; i < 5; i++) {
		assert_access(&d, 2 * (int)i, 'R', 16 + i, 1, 0);
		assert_int_equal(d.log[2 * i].seg, X86_SEG_DS);
		assert_access(&d, 2 * (int)i + 1, 'o', 0x3f8, 1, 'a' + i);
	}
	assert_int_equal(r.gpr[X86_RSI], 21);
	assert_int_equal(r.gpr[X86_RCX], 0);
	assert_int_equal(r.rip, 0x1002);
}

static void test_rep_insw_probes_before_reading_the_port(void **state)
{
	struct x86_regs r = regs_at(0x1000);
	struct fake_dev d = { .port_val = 0x4140 };

	(void)state;
	r.gpr[X86_RDX] = 0x3ff;
	r.gpr[X86_RDI] = 8;
	r.gpr[X86_RCX] = 3;
	assert_int_equal(emulate(&r, X86_MODE_32, BYTES(0x66, 0xf3, 0x6d), 3, 0, &ops_all, &d),
			 X86_EMUL_DONE);
	/* probe ES:DI for a write, read the port, store: per element */
	assert_int_equal(d.n, 9);
	assert_access(&d, 0, 'P', 8, 2, 0);
	assert_int_equal(d.log[0].val, 1);	/* a write probe */
	assert_int_equal(d.log[0].seg, X86_SEG_ES);
	assert_access(&d, 1, 'i', 0x3ff, 2, 0x4140);
	assert_access(&d, 2, 'W', 8, 2, 0x4140);
	assert_access(&d, 8, 'W', 12, 2, 0x4142);
	assert_int_equal(r.gpr[X86_RDI], 14);
	assert_int_equal(r.gpr[X86_RCX], 0);
	assert_int_equal(r.rip, 0x1003);
}

static void test_insd_df_steps_down(void **state)
{
	struct x86_regs r = regs_at(0x1000);
	struct fake_dev d = { .port_val = 0x11223344 };

	(void)state;
	r.rflags |= X86_RFLAGS_DF;
	r.gpr[X86_RDX] = 0x60;
	r.gpr[X86_RDI] = 0x20;
	r.gpr[X86_RCX] = 2;
	assert_int_equal(emulate(&r, X86_MODE_32, BYTES(0xf3, 0x6d), 2, 0, &ops_all, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 2, 'W', 0x20, 4, 0x11223344);
	assert_access(&d, 5, 'W', 0x1c, 4, 0x11223345);
	assert_int_equal(r.gpr[X86_RDI], 0x18);
}

static void test_rep_zero_count_touches_nothing(void **state)
{
	struct x86_regs r = regs_at(0x1000);
	struct fake_dev d = { 0 };

	(void)state;
	r.gpr[X86_RCX] = 0;
	r.gpr[X86_RDI] = 4;
	assert_int_equal(emulate(&r, X86_MODE_32, BYTES(0xf3, 0x6c), 2, 0, &ops_all, &d),
			 X86_EMUL_DONE);
	assert_int_equal(d.n, 0);
	assert_int_equal(r.gpr[X86_RDI], 4);
	assert_int_equal(r.rip, 0x1002);
	/* ECX counts in 32-bit addressing: bits 63:32 of RCX do not make it non-zero */
	r.gpr[X86_RCX] = 0x100000000ull;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x67, 0xf3, 0x6e), 3, 0, &ops_all, &d),
			 X86_EMUL_DONE);
	assert_int_equal(d.n, 0);
}

static void test_addr16_in_32bit_code_wraps_si_di_cx(void **state)
{
	/* 67 rep outsb in 32-bit code: SI, CX count; bits above 15 stay */
	struct x86_regs r = regs_at(0x1000);
	struct fake_dev d = { 0 };

	(void)state;
	r.gpr[X86_RSI] = 0xabcd0000 | 0xffff;
	r.gpr[X86_RCX] = 0x77770002;
	r.gpr[X86_RDX] = 0x3ff;
	d.vmem[0] = 0x5a;
	/* offset 0xffff is outside the fake's memory: only check it is offered truncated */
	d.fault_armed = true;
	d.fault_off = 0xffff;
	assert_int_equal(emulate(&r, X86_MODE_32, BYTES(0x67, 0xf3, 0x6e), 3, 0, &ops_all, &d),
			 X86_EMUL_FAULT);
	assert_int_equal(d.n, 0);
	assert_int_equal(r.rip, 0x1000);
	d.fault_armed = false;
	r.gpr[X86_RSI] = 0xabcd0000 | 0x007f;
	r.gpr[X86_RCX] = 0x77770002;
	assert_int_equal(emulate(&r, X86_MODE_32, BYTES(0x67, 0xf3, 0x6e), 3, 0, &ops_all, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 0, 'R', 0x7f, 1, 0);
	assert_access(&d, 2, 'R', 0x80, 1, 0);
	assert_int_equal(r.gpr[X86_RSI], 0xabcd0081);
	assert_int_equal(r.gpr[X86_RCX], 0x77770000);
	assert_int_equal(r.rip, 0x1003);
}

static void test_di_wraps_at_64k(void **state)
{
	/* 16-bit addressing: DI = 0xffff steps to 0 */
	struct x86_regs r = regs_at(0x100);
	struct fake_dev d = { .port_val = 7 };
	struct x86_mmio_ops o = ops_all;

	(void)state;
	o.write_virt = quiet_write;
	o.probe_virt = NULL;
	r.gpr[X86_RDI] = 0x1ffff;
	r.gpr[X86_RCX] = 1;
	assert_int_equal(emulate(&r, X86_MODE_16, BYTES(0x6c), 1, 0, &o, &d), X86_EMUL_DONE);
	assert_int_equal(d.fault_off, 0xffff);	/* the element went to DI, not EDI */
	assert_int_equal(r.gpr[X86_RDI], 0x10000);
	assert_int_equal(r.gpr[X86_RCX], 1);	/* no REP: CX untouched */
	assert_int_equal(r.rip, 0x101);
}

static void test_fault_mid_rep_keeps_progress(void **state)
{
	/* rep insb into 4 bytes whose third faults: two done, RIP stays on the instruction */
	struct x86_regs r = regs_at(0x1000);
	struct fake_dev d = { .port_val = 0x30, .fault_armed = true, .fault_off = 0x42 };

	(void)state;
	r.gpr[X86_RDX] = 0x3f8;
	r.gpr[X86_RDI] = 0x40;
	r.gpr[X86_RCX] = 4;
	assert_int_equal(emulate(&r, X86_MODE_32, BYTES(0xf3, 0x6c), 2, 0, &ops_all, &d),
			 X86_EMUL_FAULT);
	assert_int_equal(r.gpr[X86_RDI], 0x42);
	assert_int_equal(r.gpr[X86_RCX], 2);
	assert_int_equal(r.rip, 0x1000);
	/* the failing element's probe came before any port read for it */
	assert_int_equal(d.port_reads, 2);
	assert_int_equal(d.log[d.n - 1].dir, 'P');
	assert_int_equal(d.vmem[0x40], 0x30);
	assert_int_equal(d.vmem[0x41], 0x31);
}

static void test_movs_faulting_destination_does_not_read_source(void **state)
{
	struct x86_regs r = regs_at(0x1000);
	struct fake_dev d = { .fault_armed = true, .fault_off = 0x80 };

	(void)state;
	r.gpr[X86_RSI] = 0x10;
	r.gpr[X86_RDI] = 0x80;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0xa5), 1, 0, &ops_all, &d), X86_EMUL_FAULT);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.log[0].dir, 'P');
	assert_int_equal(r.gpr[X86_RSI], 0x10);
	assert_int_equal(r.rip, 0x1000);
}

static void test_batch_bound_leaves_rip(void **state)
{
	/* rep outsb of 5000 bytes: 4096 now, RIP stays, the rest on re-execution */
	struct x86_regs r = regs_at(0x1000);
	struct fake_dev d = { .port_stop_after = 0 };
	struct x86_insn insn = decode_ok(BYTES(0xf3, 0x6e), X86_MODE_64, 2);
	struct x86_mmio_ops o = ops_all;

	(void)state;
	/* memory and port that log nothing: count the port writes only */
	o.read_virt = quiet_read;
	o.port_out = quiet_port_out;
	r.gpr[X86_RCX] = 5000;
	r.gpr[X86_RSI] = 0;
	assert_int_equal(x86_emulate_mmio(&r, &insn, 0, &o, &d), X86_EMUL_DONE);
	assert_int_equal(d.port_accesses, X86_STRING_BATCH);
	assert_int_equal(r.gpr[X86_RCX], 5000 - X86_STRING_BATCH);
	assert_int_equal(r.gpr[X86_RSI], X86_STRING_BATCH);
	assert_int_equal(r.rip, 0x1000);
	assert_int_equal(x86_emulate_mmio(&r, &insn, 0, &o, &d), X86_EMUL_DONE);
	assert_int_equal(d.port_accesses, 5000);
	assert_int_equal(r.gpr[X86_RCX], 0);
	assert_int_equal(r.rip, 0x1002);
}

static void test_port_stop_ends_the_batch(void **state)
{
	/* the second OUT stops the VM (the exit port): nothing after it */
	struct x86_regs r = regs_at(0x1000);
	struct fake_dev d = { .port_stop_after = 2 };

	(void)state;
	r.gpr[X86_RCX] = 4;
	r.gpr[X86_RSI] = 0;
	assert_int_equal(emulate(&r, X86_MODE_32, BYTES(0xf3, 0x6e), 2, 0, &ops_all, &d),
			 X86_EMUL_DONE);
	assert_int_equal(d.port_accesses, 2);
	assert_int_equal(r.gpr[X86_RCX], 2);
	assert_int_equal(r.gpr[X86_RSI], 2);
	assert_int_equal(r.rip, 0x1000);
}

static void test_ins_outs_need_port_callbacks(void **state)
{
	struct x86_regs r = regs_at(0x1000);
	struct fake_dev d = { 0 };

	(void)state;
	assert_int_equal(emulate(&r, X86_MODE_32, BYTES(0x6c), 1, 0, &ops_virt, &d),
			 X86_EMUL_UNSUPPORTED);
	assert_int_equal(emulate(&r, X86_MODE_32, BYTES(0x6e), 1, 0, &ops, &d),
			 X86_EMUL_UNSUPPORTED);
	assert_int_equal(d.n, 0);
}

/* ---- LODS, STOS, MOVS batched ---- */

static void test_lods(void **state)
{
	struct x86_regs r = regs_at(0x1000);
	struct fake_dev d = { 0 };

	(void)state;
	d.vmem[0x10] = 0x78;
	d.vmem[0x11] = 0x56;
	d.vmem[0x12] = 0x34;
	d.vmem[0x13] = 0x12;
	r.gpr[X86_RSI] = 0x10;
	r.gpr[X86_RAX] = 0xffffffffffffffffull;
	/* lodsd in 64-bit mode zero-extends into RAX */
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0xad), 1, 0, &ops_all, &d), X86_EMUL_DONE);
	assert_int_equal(r.gpr[X86_RAX], 0x12345678);
	assert_int_equal(r.gpr[X86_RSI], 0x14);
	/* lodsb with a GS override merges AL */
	r.gpr[X86_RSI] = 0x10;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x65, 0xac), 2, 0, &ops_all, &d),
			 X86_EMUL_DONE);
	assert_int_equal(d.log[1].seg, X86_SEG_GS);
	assert_int_equal(r.gpr[X86_RAX], 0x12345678);
	/* without the virtual callbacks: the one element at the exit's gpa */
	d.read_val = 0xab;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0xac), 1, 0xfec00000, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 2, 'r', 0xfec00000, 1, 0);
	assert_int_equal(r.gpr[X86_RAX] & 0xff, 0xab);
}

static void test_rep_stosd_batched_through_write_virt(void **state)
{
	struct x86_regs r = regs_at(0x1000);
	struct fake_dev d = { 0 };

	(void)state;
	r.gpr[X86_RAX] = 0x00010012;
	r.gpr[X86_RDI] = 0x10;
	r.gpr[X86_RCX] = 5;
	assert_int_equal(emulate(&r, X86_MODE_32, BYTES(0xf3, 0xab), 2, 0xfec00000, &ops_all, &d),
			 X86_EMUL_DONE);
	assert_int_equal(d.n, 5);
	assert_access(&d, 0, 'W', 0x10, 4, 0x00010012);
	assert_int_equal(d.log[0].seg, X86_SEG_ES);
	assert_access(&d, 4, 'W', 0x20, 4, 0x00010012);
	assert_int_equal(r.gpr[X86_RDI], 0x24);
	assert_int_equal(r.gpr[X86_RCX], 0);
	assert_int_equal(r.rip, 0x1002);
}

static void test_rep_movsq_df(void **state)
{
	struct x86_regs r = regs_at(0x1000);
	struct fake_dev d = { 0 };
	unsigned int i;

	(void)state;
	for (i = 0; i < 16; i++)
		d.vmem[i] = (uint8_t)i;
	r.rflags |= X86_RFLAGS_DF;
	r.gpr[X86_RSI] = 8;
	r.gpr[X86_RDI] = 0x48;
	r.gpr[X86_RCX] = 2;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0xf3, 0x48, 0xa5), 3, 0, &ops_all, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 2, 'W', 0x48, 8, 0x0f0e0d0c0b0a0908ull);
	assert_access(&d, 5, 'W', 0x40, 8, 0x0706050403020100ull);
	assert_int_equal(r.gpr[X86_RSI], (uint64_t)-8);
	assert_int_equal(r.gpr[X86_RDI], 0x38);
}

/* ---- read-modify-write forms ---- */

static void test_cmpxchg(void **state)
{
	struct x86_regs r = regs_at(0x1000);
	struct fake_dev d = { .read_val = 0x12 };

	(void)state;
	/* lock cmpxchg [rbx], ecx with EAX == mem: ECX stored, ZF set, RAX kept */
	r.gpr[X86_RAX] = 0xdead000000000012ull;
	r.gpr[X86_RCX] = 0x55;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0xf0, 0x0f, 0xb1, 0x0b), 4, 0xfec00000,
				 &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 0, 'r', 0xfec00000, 4, 0);
	assert_access(&d, 1, 'w', 0xfec00000, 4, 0x55);
	assert_true(r.rflags & X86_RFLAGS_ZF);
	assert_int_equal(r.gpr[X86_RAX], 0xdead000000000012ull);
	assert_int_equal(r.rip, 0x1004);
	/* unequal: the old value written back, EAX loaded (zero-extended), ZF clear, CF as CMP */
	r.gpr[X86_RAX] = 0xdead000000000001ull;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x0f, 0xb1, 0x0b), 3, 0xfec00000, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 3, 'w', 0xfec00000, 4, 0x12);
	assert_false(r.rflags & X86_RFLAGS_ZF);
	assert_true(r.rflags & X86_RFLAGS_CF);	/* 1 - 0x12 borrows */
	assert_int_equal(r.gpr[X86_RAX], 0x12);
	/* byte form compares AL, writes only AL */
	r.gpr[X86_RAX] = 0x7700;
	assert_int_equal(emulate(&r, X86_MODE_32, BYTES(0x0f, 0xb0, 0x0b), 3, 0xfec00000, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 4, 'r', 0xfec00000, 1, 0);
	assert_int_equal(r.gpr[X86_RAX], 0x7712);
}

static void test_xadd(void **state)
{
	struct x86_regs r = regs_at(0x1000);
	struct fake_dev d = { .read_val = 0xffffffff };

	(void)state;
	r.gpr[X86_RDX] = 1;
	/* lock xadd [rax], edx */
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0xf0, 0x0f, 0xc1, 0x10), 4, 0x40, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 1, 'w', 0x40, 4, 0);
	assert_int_equal(r.gpr[X86_RDX], 0xffffffff);
	assert_true(r.rflags & X86_RFLAGS_CF);
	assert_true(r.rflags & X86_RFLAGS_ZF);
}

static void test_inc_dec_not_neg(void **state)
{
	struct x86_regs r = regs_at(0x1000);
	struct fake_dev d = { .read_val = 0x7f };

	(void)state;
	r.rflags |= X86_RFLAGS_CF;
	/* inc byte [rax]: 0x7f -> 0x80 overflows, CF kept */
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0xfe, 0x00), 2, 0x40, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 1, 'w', 0x40, 1, 0x80);
	assert_true(r.rflags & X86_RFLAGS_OF);
	assert_true(r.rflags & X86_RFLAGS_CF);
	/* lock dec dword [rax]: 0 -> 0xffffffff, CF still kept */
	d.read_val = 0;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0xf0, 0xff, 0x08), 3, 0x40, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 3, 'w', 0x40, 4, 0xffffffff);
	assert_true(r.rflags & X86_RFLAGS_SF);
	assert_true(r.rflags & X86_RFLAGS_CF);
	/* not word [rax]: no flags change */
	d.read_val = 0x00ff;
	r.rflags = 0x2;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0x66, 0xf7, 0x10), 3, 0x40, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 5, 'w', 0x40, 2, 0xff00);
	assert_int_equal(r.rflags, 0x2);
	/* neg dword [rax]: CF set for a non-zero operand */
	d.read_val = 1;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0xf7, 0x18), 2, 0x40, &ops, &d),
			 X86_EMUL_DONE);
	assert_access(&d, 7, 'w', 0x40, 4, 0xffffffff);
	assert_true(r.rflags & X86_RFLAGS_CF);
	/* neg of 0: CF clear, ZF set */
	d.read_val = 0;
	assert_int_equal(emulate(&r, X86_MODE_64, BYTES(0xf7, 0x18), 2, 0x40, &ops, &d),
			 X86_EMUL_DONE);
	assert_false(r.rflags & X86_RFLAGS_CF);
	assert_true(r.rflags & X86_RFLAGS_ZF);
}

static void test_group_encodings(void **state)
{
	struct x86_insn i;

	(void)state;
	/* FE /2 and FF /7 are #UD; FF /2 (call [mem]) is valid but not emulated */
	assert_int_equal(x86_decode(BYTES(0xfe, 0x10), X86_MODE_64, &i), X86_DECODE_INVALID);
	assert_int_equal(x86_decode(BYTES(0xff, 0x38), X86_MODE_64, &i), X86_DECODE_INVALID);
	assert_int_equal(x86_decode(BYTES(0xff, 0x10), X86_MODE_64, &i), X86_DECODE_UNSUPPORTED);
	/* C7 /1 with a memory operand is #UD */
	assert_int_equal(x86_decode(BYTES(0xc7, 0x08, 0, 0, 0, 0), X86_MODE_64, &i),
			 X86_DECODE_INVALID);
	/* F7 /2 (not) has no immediate; F7 /0 (test) has one */
	assert_int_equal(x86_decode(BYTES(0xf7, 0x10), X86_MODE_64, &i), 2);
	assert_int_equal(x86_decode(BYTES(0xf7, 0x00, 1, 2, 3, 4), X86_MODE_64, &i), 6);
	/* LOCK: allowed on XADD, CMPXCHG, INC, NEG; not on TEST */
	assert_int_equal(x86_decode(BYTES(0xf0, 0x0f, 0xb0, 0x00), X86_MODE_64, &i), 4);
	assert_int_equal(x86_decode(BYTES(0xf0, 0xf6, 0x18), X86_MODE_64, &i), 3);
	assert_int_equal(x86_decode(BYTES(0xf0, 0xf6, 0x00, 1), X86_MODE_64, &i),
			 X86_DECODE_INVALID);
}

static void test_bt_register_offset_moves_the_address(void **state)
{
	struct x86_regs r = regs_at(0x1000);
	struct fake_dev d = { .read_val = 0x1 };
	struct x86_insn insn;

	(void)state;
	/* bt [rbx+0x10], eax with eax = -128: the dword 16 bytes below, bit 0 */
	assert_int_equal(x86_decode(BYTES(0x0f, 0xa3, 0x43, 0x10), X86_MODE_64, &insn), 4);
	r.gpr[X86_RBX] = 0xfec00000;
	r.gpr[X86_RAX] = 0xffffff80;
	assert_int_equal(x86_insn_mem_offset(&insn, &r), 0xfec00000);
	assert_int_equal(x86_emulate_mmio(&r, &insn, 0xfec00000, &ops, &d), X86_EMUL_DONE);
	assert_true(r.rflags & X86_RFLAGS_CF);
	/* eax = 33: the next dword, bit 1 */
	r.gpr[X86_RAX] = 33;
	assert_int_equal(x86_insn_mem_offset(&insn, &r), 0xfec00014);
	assert_int_equal(x86_emulate_mmio(&r, &insn, 0xfec00014, &ops, &d), X86_EMUL_DONE);
	assert_false(r.rflags & X86_RFLAGS_CF);
	/* 16-bit: bt [rbx], ax with ax = 0xfff0 (-16) is the word 2 bytes below */
	assert_int_equal(x86_decode(BYTES(0x66, 0x0f, 0xa3, 0x03), X86_MODE_64, &insn), 4);
	r.gpr[X86_RAX] = 0xfff0;
	assert_int_equal(x86_insn_mem_offset(&insn, &r), 0xfebffffe);
	/* 64-bit: bt [rbx], rax with rax = 64 is 8 bytes up */
	assert_int_equal(x86_decode(BYTES(0x48, 0x0f, 0xa3, 0x03), X86_MODE_64, &insn), 4);
	r.gpr[X86_RAX] = 64;
	assert_int_equal(x86_insn_mem_offset(&insn, &r), 0xfec00008);
	/* the immediate form does not move: bt dword [rbx], 40 */
	assert_int_equal(x86_decode(BYTES(0x0f, 0xba, 0x23, 40), X86_MODE_64, &insn), 4);
	assert_int_equal(x86_insn_mem_offset(&insn, &r), 0xfec00000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ins_outs_decode),
		cmocka_unit_test(test_rep_outsb_every_element_in_one_call),
		cmocka_unit_test(test_rep_insw_probes_before_reading_the_port),
		cmocka_unit_test(test_insd_df_steps_down),
		cmocka_unit_test(test_rep_zero_count_touches_nothing),
		cmocka_unit_test(test_addr16_in_32bit_code_wraps_si_di_cx),
		cmocka_unit_test(test_di_wraps_at_64k),
		cmocka_unit_test(test_fault_mid_rep_keeps_progress),
		cmocka_unit_test(test_movs_faulting_destination_does_not_read_source),
		cmocka_unit_test(test_batch_bound_leaves_rip),
		cmocka_unit_test(test_port_stop_ends_the_batch),
		cmocka_unit_test(test_ins_outs_need_port_callbacks),
		cmocka_unit_test(test_lods),
		cmocka_unit_test(test_rep_stosd_batched_through_write_virt),
		cmocka_unit_test(test_rep_movsq_df),
		cmocka_unit_test(test_cmpxchg),
		cmocka_unit_test(test_xadd),
		cmocka_unit_test(test_inc_dec_not_neg),
		cmocka_unit_test(test_group_encodings),
		cmocka_unit_test(test_bt_register_offset_moves_the_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
