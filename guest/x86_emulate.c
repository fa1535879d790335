/*
 * x86 instruction emulator for trapped MMIO accesses and string port I/O:
 * executes an instruction x86_decode.c decoded, through the device and
 * guest-memory callbacks, and updates registers, flags and RIP. References:
 * Intel SDM Vol. 2 (each instruction's operation and flags), AMD APM Vol. 3.
 */
#include "guest/x86_emulate.h"

#include "kernel/lib/string.h"

static uint64_t addr_mask(const struct x86_insn *insn)
{
	return x86_size_mask(insn->addr_size);
}

uint64_t x86_insn_mem_offset(const struct x86_insn *insn, const struct x86_regs *regs)
{
	uint64_t ea;

	if (insn->op == X86_OP_STOS || insn->op == X86_OP_INS)
		return regs->gpr[X86_RDI] & addr_mask(insn);
	if (insn->op == X86_OP_MOVS || insn->op == X86_OP_LODS || insn->op == X86_OP_OUTS)
		return regs->gpr[X86_RSI] & addr_mask(insn);
	ea = (uint64_t)insn->disp;
	if (insn->base >= 0)
		ea += regs->gpr[insn->base];
	if (insn->index >= 0)
		ea += regs->gpr[insn->index] * insn->scale;
	if (insn->rip_relative)
		ea += regs->rip + insn->len;
	if (insn->op == X86_OP_BIT && !insn->has_imm) {
		/*
		 * A register bit offset is signed and reaches past the operand: the
		 * CPU accesses the word EA + size * (offset SAR log2(bits)) (SDM Vol. 2A
		 * BT, "Bit(BitBase, BitOffset)"). An immediate is taken modulo the size.
		 */
		unsigned int size = insn->op_size;
		int64_t off = (int64_t)x86_sign_extend(regs->gpr[insn->reg] & x86_size_mask(size), size);

		ea += (uint64_t)((off >> (size == 2 ? 4 : size == 4 ? 5 : 6)) * (int64_t)size);
	}
	return ea & addr_mask(insn);
}

/*
 * Byte registers 4..7 are AH, CH, DH, BH unless a REX prefix is present, then
 * SPL, BPL, SIL, DIL (SDM Vol. 2A §2.2.1.2, Table 3-1).
 */
static bool is_high_byte(unsigned int reg, unsigned int size, bool rex)
{
	return size == 1 && !rex && reg >= 4 && reg < 8;
}

static uint64_t reg_read(const struct x86_regs *regs, unsigned int reg, unsigned int size,
			 bool rex)
{
	if (is_high_byte(reg, size, rex))
		return (regs->gpr[reg - 4] >> 8) & 0xff;
	return regs->gpr[reg] & x86_size_mask(size);
}

/* 8- and 16-bit writes merge; 32-bit writes zero bits 63:32 (SDM Vol. 1 §3.4.1.1). */
static void reg_write(struct x86_regs *regs, unsigned int reg, unsigned int size, uint64_t val,
		      bool rex)
{
	uint64_t *r;

	if (is_high_byte(reg, size, rex)) {
		r = &regs->gpr[reg - 4];
		*r = (*r & ~0xff00ull) | ((val & 0xff) << 8);
		return;
	}
	r = &regs->gpr[reg];
	if (size >= 4) {
		*r = val & x86_size_mask(size);
		return;
	}
	*r = (*r & ~x86_size_mask(size)) | (val & x86_size_mask(size));
}

/* PF is set when the low byte of the result has an even number of 1 bits. */
static bool parity_even(uint64_t v)
{
	uint8_t b = (uint8_t)v;

	b ^= b >> 4;
	b ^= b >> 2;
	b ^= b >> 1;
	return !(b & 1);
}

static uint64_t result_flags(uint64_t r, unsigned int size)
{
	uint64_t flags = 0;

	if (r == 0)
		flags |= X86_RFLAGS_ZF;
	if (r & (1ull << (8 * size - 1)))
		flags |= X86_RFLAGS_SF;
	if (parity_even(r))
		flags |= X86_RFLAGS_PF;
	return flags;
}

/*
 * Computes a op b at the given size and the new arithmetic flags (SDM Vol. 2
 * ADD/ADC/SUB/SBB/CMP: CF, OF, SF, ZF, AF, PF per result; AND/OR/XOR/TEST: CF
 * and OF cleared, AF undefined and cleared here).
 */
static uint64_t alu_compute(enum x86_alu alu, uint64_t a, uint64_t b, unsigned int size,
			    uint64_t *rflags)
{
	uint64_t m = x86_size_mask(size), sign = 1ull << (8 * size - 1);
	uint64_t cin = *rflags & X86_RFLAGS_CF ? 1 : 0;
	uint64_t r, flags = 0;
	bool arith = true, carry = false, overflow = false;

	a &= m;
	b &= m;
	switch (alu) {
	case X86_ALU_ADD:
	case X86_ALU_ADC:
		if (alu == X86_ALU_ADD)
			cin = 0;
		r = (a + b + cin) & m;
		carry = cin ? r <= a : r < a;
		overflow = (~(a ^ b) & (a ^ r) & sign) != 0;
		break;
	case X86_ALU_SUB:
	case X86_ALU_CMP:
	case X86_ALU_SBB:
		if (alu != X86_ALU_SBB)
			cin = 0;
		r = (a - b - cin) & m;
		carry = cin ? a <= b : a < b;
		overflow = ((a ^ b) & (a ^ r) & sign) != 0;
		break;
	case X86_ALU_OR:
		r = a | b;
		arith = false;
		break;
	case X86_ALU_XOR:
		r = a ^ b;
		arith = false;
		break;
	default: /* X86_ALU_AND, and TEST */
		r = a & b;
		arith = false;
		break;
	}

	flags = result_flags(r, size);
	if (carry)
		flags |= X86_RFLAGS_CF;
	if (overflow)
		flags |= X86_RFLAGS_OF;
	if (arith && ((a ^ b ^ r) & 0x10))
		flags |= X86_RFLAGS_AF;
	*rflags = (*rflags & ~X86_RFLAGS_ARITH) | flags;
	return r;
}

static int callback_error(int rc)
{
	return rc == X86_EMUL_FAULT ? X86_EMUL_FAULT : X86_EMUL_DEVICE_ERROR;
}

static int mmio_read(const struct x86_mmio_ops *ops, void *ctx, uint64_t gpa, unsigned int size,
		     uint64_t *val)
{
	int rc = ops->read(ctx, gpa, size, val);

	if (rc)
		return callback_error(rc);
	*val &= x86_size_mask(size);
	return 0;
}

static int mmio_write(const struct x86_mmio_ops *ops, void *ctx, uint64_t gpa, unsigned int size,
		      uint64_t val)
{
	int rc = ops->write(ctx, gpa, size, val & x86_size_mask(size));

	return rc ? callback_error(rc) : 0;
}

/* IP wraps at the code segment's size. */
static void advance_rip(struct x86_regs *regs, const struct x86_insn *insn)
{
	uint64_t rip = regs->rip + insn->len;

	if (insn->mode == X86_MODE_16)
		rip &= 0xffff;
	else if (insn->mode == X86_MODE_32)
		rip &= 0xffffffff;
	regs->rip = rip;
}

/* The string element at seg:offset, through the virtual-memory callbacks. */
static int virt_read(const struct x86_mmio_ops *ops, void *ctx, enum x86_seg seg, uint64_t offset,
		     unsigned int size, uint64_t *val)
{
	int rc = ops->read_virt(ctx, seg, offset, size, val);

	if (rc)
		return callback_error(rc);
	*val &= x86_size_mask(size);
	return 0;
}

static int virt_write(const struct x86_mmio_ops *ops, void *ctx, enum x86_seg seg,
		      uint64_t offset, unsigned int size, uint64_t val)
{
	int rc = ops->write_virt(ctx, seg, offset, size, val & x86_size_mask(size));

	return rc ? callback_error(rc) : 0;
}

/* A store is coming to seg:offset: fault now, before anything is read for it. */
static int virt_probe_write(const struct x86_mmio_ops *ops, void *ctx, enum x86_seg seg,
			    uint64_t offset, unsigned int size)
{
	int rc;

	if (!ops->probe_virt)
		return 0;
	rc = ops->probe_virt(ctx, seg, offset, size, true);
	return rc ? callback_error(rc) : 0;
}

/* A port callback's answer: 0, X86_PORT_STOP (done, end the batch) or an error. */
static int port_result(int rc)
{
	if (rc == 0 || rc == X86_PORT_STOP)
		return rc;
	return callback_error(rc);
}

/*
 * One element of a string instruction at the current rSI/rDI (already
 * truncated to the address size). Returns 0, X86_PORT_STOP, or an error with
 * nothing committed to the registers.
 */
static int string_element(struct x86_regs *regs, const struct x86_insn *insn, uint64_t gpa,
			  const struct x86_mmio_ops *ops, void *ctx, bool virt)
{
	unsigned int size = insn->op_size;
	uint64_t amask = x86_size_mask(insn->addr_size);
	uint64_t rsi = regs->gpr[X86_RSI] & amask, rdi = regs->gpr[X86_RDI] & amask;
	uint16_t port = (uint16_t)regs->gpr[X86_RDX];
	uint64_t val;
	int rc, prc;

	switch (insn->op) {
	case X86_OP_STOS:
		val = reg_read(regs, X86_RAX, size, true);
		return virt ? virt_write(ops, ctx, X86_SEG_ES, rdi, size, val)
			    : mmio_write(ops, ctx, gpa, size, val);
	case X86_OP_LODS:
		rc = virt ? virt_read(ops, ctx, insn->seg, rsi, size, &val)
			  : mmio_read(ops, ctx, gpa, size, &val);
		if (rc)
			return rc;
		reg_write(regs, X86_RAX, size, val, true);
		return 0;
	case X86_OP_MOVS:
		rc = virt_probe_write(ops, ctx, X86_SEG_ES, rdi, size);
		if (rc == 0)
			rc = virt_read(ops, ctx, insn->seg, rsi, size, &val);
		if (rc == 0)
			rc = virt_write(ops, ctx, X86_SEG_ES, rdi, size, val);
		return rc;
	case X86_OP_INS:
		/* The destination is checked before the port is read (the read may pop a FIFO). */
		rc = virt_probe_write(ops, ctx, X86_SEG_ES, rdi, size);
		if (rc)
			return rc;
		prc = port_result(ops->port_in(ctx, port, size, &val));
		if (prc < 0)
			return prc;
		rc = virt_write(ops, ctx, X86_SEG_ES, rdi, size, val);
		return rc ? rc : prc;
	case X86_OP_OUTS:
		rc = virt_read(ops, ctx, insn->seg, rsi, size, &val);
		if (rc)
			return rc;
		return port_result(ops->port_out(ctx, port, size, val));
	default:
		return X86_EMUL_UNSUPPORTED;
	}
}

/*
 * STOS, LODS, MOVS, INS, OUTS, with or without REP (F2 acts like F3 on these,
 * SDM Vol. 2B REP). A REP with a zero count does nothing; otherwise rCX (of
 * the address size) counts down, and rSI/rDI step by the element size, down
 * when RFLAGS.DF is set. Up to X86_STRING_BATCH elements per call; RIP moves
 * on once the count is done (or at once without REP).
 */
static int emulate_string(struct x86_regs *regs, const struct x86_insn *insn, uint64_t gpa,
			  const struct x86_mmio_ops *ops, void *ctx)
{
	unsigned int size = insn->op_size, asz = insn->addr_size;
	uint64_t amask = x86_size_mask(asz);
	uint64_t delta = regs->rflags & X86_RFLAGS_DF ? (uint64_t)-(int64_t)size : size;
	bool virt = ops->read_virt && ops->write_virt;
	bool uses_rsi = insn->op == X86_OP_MOVS || insn->op == X86_OP_LODS ||
			insn->op == X86_OP_OUTS;
	bool uses_rdi = insn->op == X86_OP_MOVS || insn->op == X86_OP_STOS ||
			insn->op == X86_OP_INS;
	unsigned int budget = insn->rep ? X86_STRING_BATCH : 1;
	int rc;

	if (!virt && insn->op != X86_OP_STOS && insn->op != X86_OP_LODS)
		return X86_EMUL_UNSUPPORTED;
	if ((insn->op == X86_OP_INS && !ops->port_in) || (insn->op == X86_OP_OUTS && !ops->port_out))
		return X86_EMUL_UNSUPPORTED;
	/* Without the virtual callbacks only the element at the exit's gpa is known. */
	if (!virt)
		budget = 1;

	while (budget > 0) {
		if (insn->rep && (regs->gpr[X86_RCX] & amask) == 0)
			break;
		rc = string_element(regs, insn, gpa, ops, ctx, virt);
		if (rc < 0)
			return rc;	/* the elements before this one stay done */
		if (uses_rsi)
			reg_write(regs, X86_RSI, asz, regs->gpr[X86_RSI] + delta, true);
		if (uses_rdi)
			reg_write(regs, X86_RDI, asz, regs->gpr[X86_RDI] + delta, true);
		if (insn->rep)
			reg_write(regs, X86_RCX, asz, regs->gpr[X86_RCX] - 1, true);
		budget = rc == X86_PORT_STOP ? 0 : budget - 1;
	}
	if (!insn->rep || (regs->gpr[X86_RCX] & amask) == 0)
		advance_rip(regs, insn);
	return X86_EMUL_DONE;
}

/*
 * CMPXCHG: rAX is compared with the destination (flags as CMP); equal: the
 * source register is stored, else rAX gets the destination. The destination
 * gets a write cycle either way, its old value when the compare fails (SDM
 * Vol. 2A CMPXCHG: "the processor never produces a locked read without also
 * producing a locked write"), which a device register sees as on hardware.
 */
static int emulate_cmpxchg(struct x86_regs *regs, const struct x86_insn *insn, uint64_t gpa,
			   const struct x86_mmio_ops *ops, void *ctx)
{
	unsigned int size = insn->op_size;
	bool rex = insn->rex != 0;
	uint64_t val, acc, rflags = regs->rflags;
	int rc;

	rc = mmio_read(ops, ctx, gpa, size, &val);
	if (rc)
		return rc;
	acc = reg_read(regs, X86_RAX, size, true);
	alu_compute(X86_ALU_CMP, acc, val, size, &rflags);
	if (acc == val) {
		rc = mmio_write(ops, ctx, gpa, size, reg_read(regs, insn->reg, size, rex));
		if (rc)
			return rc;
	} else {
		rc = mmio_write(ops, ctx, gpa, size, val);
		if (rc)
			return rc;
		/* only a failed compare writes rAX (a 32-bit one zeroes bits 63:32) */
		reg_write(regs, X86_RAX, size, val, true);
	}
	regs->rflags = rflags;
	advance_rip(regs, insn);
	return X86_EMUL_DONE;
}

/*
 * INC and DEC (flags as ADD/SUB 1, CF kept), NOT (no flags), NEG (flags as
 * 0 - mem, CF set unless the operand was 0); SDM Vol. 2A/2B.
 */
static uint64_t unary_compute(enum x86_alu alu, uint64_t val, unsigned int size, uint64_t *rflags)
{
	uint64_t cf = *rflags & X86_RFLAGS_CF;

	switch (alu) {
	case X86_ALU_INC:
	case X86_ALU_DEC:
		val = alu_compute(alu == X86_ALU_INC ? X86_ALU_ADD : X86_ALU_SUB, val, 1, size,
				  rflags);
		*rflags = (*rflags & ~X86_RFLAGS_CF) | cf;
		return val;
	case X86_ALU_NEG:
		return alu_compute(X86_ALU_SUB, 0, val, size, rflags);
	default: /* X86_ALU_NOT */
		return ~val & x86_size_mask(size);
	}
}

/*
 * BT/BTS/BTR/BTC on memory. The CPU accesses the operand-sized word that holds
 * the bit (EA + size * (offset DIV bits), SDM Vol. 2A BT), which is the gpa
 * the exit reported, so only the offset within that word matters here. CF
 * gets the old bit; the other arithmetic flags are left as they were.
 */
static int emulate_bit(struct x86_regs *regs, const struct x86_insn *insn, uint64_t gpa,
		       const struct x86_mmio_ops *ops, void *ctx)
{
	unsigned int size = insn->op_size, bit;
	uint64_t offset, val, mask;
	int rc;

	offset = insn->has_imm ? insn->imm : reg_read(regs, insn->reg, size, insn->rex);
	bit = (unsigned int)(offset & (8 * size - 1));
	mask = 1ull << bit;
	rc = mmio_read(ops, ctx, gpa, size, &val);
	if (rc)
		return rc;
	if (insn->alu != X86_ALU_BT) {
		uint64_t nval = insn->alu == X86_ALU_BTS ? val | mask
			       : insn->alu == X86_ALU_BTR ? val & ~mask : val ^ mask;

		rc = mmio_write(ops, ctx, gpa, size, nval);
		if (rc)
			return rc;
	}
	regs->rflags = (regs->rflags & ~X86_RFLAGS_CF) | (val & mask ? X86_RFLAGS_CF : 0);
	advance_rip(regs, insn);
	return X86_EMUL_DONE;
}

int x86_emulate_mmio(struct x86_regs *regs, const struct x86_insn *insn, uint64_t gpa,
		     const struct x86_mmio_ops *ops, void *ctx)
{
	unsigned int size = insn->op_size;
	bool rex = insn->rex != 0;
	uint64_t val, src, rflags = regs->rflags;
	int rc;

	switch (insn->op) {
	case X86_OP_MOV_STORE:
		rc = mmio_write(ops, ctx, gpa, size, reg_read(regs, insn->reg, size, rex));
		if (rc)
			return rc;
		break;
	case X86_OP_MOV_STORE_IMM:
		rc = mmio_write(ops, ctx, gpa, size, insn->imm);
		if (rc)
			return rc;
		break;
	case X86_OP_MOV_LOAD:
	case X86_OP_MOVZX:
	case X86_OP_MOVSX:
		rc = mmio_read(ops, ctx, gpa, insn->mem_size, &val);
		if (rc)
			return rc;
		if (insn->op == X86_OP_MOVSX)
			val = x86_sign_extend(val, insn->mem_size);
		reg_write(regs, insn->reg, size, val, rex);
		break;
	case X86_OP_ALU_STORE:
	case X86_OP_TEST:
		rc = mmio_read(ops, ctx, gpa, size, &val);
		if (rc)
			return rc;
		src = insn->has_imm ? insn->imm : reg_read(regs, insn->reg, size, rex);
		val = alu_compute(insn->op == X86_OP_TEST ? X86_ALU_AND : insn->alu, val, src,
				  size, &rflags);
		if (insn->op == X86_OP_ALU_STORE && insn->alu != X86_ALU_CMP) {
			rc = mmio_write(ops, ctx, gpa, size, val);
			if (rc)
				return rc;
		}
		regs->rflags = rflags;
		break;
	case X86_OP_ALU_LOAD:
		rc = mmio_read(ops, ctx, gpa, size, &val);
		if (rc)
			return rc;
		val = alu_compute(insn->alu, reg_read(regs, insn->reg, size, rex), val, size,
				  &rflags);
		if (insn->alu != X86_ALU_CMP)
			reg_write(regs, insn->reg, size, val, rex);
		regs->rflags = rflags;
		break;
	case X86_OP_XCHG:
		rc = mmio_read(ops, ctx, gpa, size, &val);
		if (rc)
			return rc;
		rc = mmio_write(ops, ctx, gpa, size, reg_read(regs, insn->reg, size, rex));
		if (rc)
			return rc;
		reg_write(regs, insn->reg, size, val, rex);
		break;
	case X86_OP_XADD:
		/* mem <- mem + reg, then reg <- the old mem (flags as ADD; SDM Vol. 2B XADD) */
		rc = mmio_read(ops, ctx, gpa, size, &val);
		if (rc)
			return rc;
		src = alu_compute(X86_ALU_ADD, val, reg_read(regs, insn->reg, size, rex), size,
				  &rflags);
		rc = mmio_write(ops, ctx, gpa, size, src);
		if (rc)
			return rc;
		reg_write(regs, insn->reg, size, val, rex);
		regs->rflags = rflags;
		break;
	case X86_OP_UNARY:
		rc = mmio_read(ops, ctx, gpa, size, &val);
		if (rc)
			return rc;
		val = unary_compute(insn->alu, val, size, &rflags);
		rc = mmio_write(ops, ctx, gpa, size, val);
		if (rc)
			return rc;
		regs->rflags = rflags;
		break;
	case X86_OP_CMPXCHG:
		return emulate_cmpxchg(regs, insn, gpa, ops, ctx);
	case X86_OP_BIT:
		return emulate_bit(regs, insn, gpa, ops, ctx);
	case X86_OP_STOS:
	case X86_OP_MOVS:
	case X86_OP_LODS:
	case X86_OP_INS:
	case X86_OP_OUTS:
		return emulate_string(regs, insn, gpa, ops, ctx);
	default:
		return X86_EMUL_UNSUPPORTED;
	}
	advance_rip(regs, insn);
	return X86_EMUL_DONE;
}
