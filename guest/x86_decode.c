/*
 * x86 instruction decoder for trapped MMIO accesses and string port I/O
 * (the emulator that executes what it decodes is x86_emulate.c).
 *
 * Only the instructions guests use on device registers are decoded (see the
 * opcode switch in classify_one_byte()/classify_two_byte()); for those the
 * whole prefix/ModRM/SIB/displacement/immediate machinery is decoded so the
 * length is exact. References: Intel SDM Vol. 2A ch. 2 (instruction format),
 * Vol. 2 appendix A (opcode map), AMD APM Vol. 3 ch. 1.
 */
#include "guest/x86_emulate.h"

#include "kernel/lib/string.h"

/* Reads the instruction bytes one field at a time, enforcing the 15-byte limit. */
struct insn_cursor {
	const uint8_t *bytes;
	size_t len;
	size_t pos;
};

static int fetch_bytes(struct insn_cursor *c, unsigned int n, uint64_t *out)
{
	uint64_t v = 0;
	unsigned int i;

	/* Past 15 bytes the CPU raises #GP whatever follows (SDM Vol. 2A §2.3.11). */
	if (c->pos + n > X86_MAX_INSN_LEN)
		return X86_DECODE_TOO_LONG;
	if (c->pos + n > c->len)
		return X86_DECODE_TRUNCATED;
	for (i = 0; i < n; i++)
		v |= (uint64_t)c->bytes[c->pos + i] << (8 * i);
	c->pos += n;
	*out = v;
	return 0;
}

/* Fetches a signed field of n bytes (displacements, immediates). */
static int fetch_signed(struct insn_cursor *c, unsigned int n, uint64_t *out)
{
	int rc = fetch_bytes(c, n, out);

	if (rc == 0)
		*out = x86_sign_extend(*out, n);
	return rc;
}

#define REX_W 0x08
#define REX_R 0x04
#define REX_X 0x02
#define REX_B 0x01

/* 16-bit ModRM addressing: base and index for each r/m value (SDM Vol. 2A Table 2-1). */
static const int8_t modrm16_base[8] = { X86_RBX, X86_RBX, X86_RBP, X86_RBP,
					X86_RSI, X86_RDI, X86_RBP, X86_RBX };
static const int8_t modrm16_index[8] = { X86_RSI, X86_RDI, X86_RSI, X86_RDI, -1, -1, -1, -1 };

static int decode_modrm16(struct insn_cursor *c, struct x86_insn *insn, unsigned int rm)
{
	unsigned int mod = insn->modrm_mod;
	uint64_t disp = 0;
	int rc = 0;

	if (mod == 0 && rm == 6) {
		/* [disp16] takes the place of [BP] with no displacement. */
		insn->base = -1;
		insn->index = -1;
		rc = fetch_signed(c, 2, &disp);
	} else {
		insn->base = modrm16_base[rm];
		insn->index = modrm16_index[rm];
		if (mod == 1)
			rc = fetch_signed(c, 1, &disp);
		else if (mod == 2)
			rc = fetch_signed(c, 2, &disp);
	}
	insn->disp = (int64_t)disp;
	return rc;
}

static int decode_modrm32(struct insn_cursor *c, struct x86_insn *insn, unsigned int rm)
{
	unsigned int mod = insn->modrm_mod;
	bool disp32 = mod == 2;
	uint64_t disp = 0;
	int rc;

	if (rm == 4) {
		/* SIB follows (SDM Vol. 2A Table 2-3). */
		uint64_t sib;
		unsigned int index, base;

		rc = fetch_bytes(c, 1, &sib);
		if (rc)
			return rc;
		insn->scale = 1u << (sib >> 6);
		index = ((sib >> 3) & 7) | (insn->rex & REX_X ? 8 : 0);
		base = sib & 7;
		/* Index 100b means none, unless REX.X makes it R12. */
		insn->index = index == X86_RSP ? -1 : (int8_t)index;
		if (base == 5 && mod == 0) {
			/* No base register, disp32 (with REX.B too: the test is on the 3 bits). */
			insn->base = -1;
			disp32 = true;
		} else {
			insn->base = (int8_t)(base | (insn->rex & REX_B ? 8 : 0));
		}
	} else if (rm == 5 && mod == 0) {
		/* disp32, RIP-relative in 64-bit mode (SDM Vol. 2A §2.2.1.6). */
		insn->base = -1;
		insn->index = -1;
		insn->rip_relative = insn->mode == X86_MODE_64;
		disp32 = true;
	} else {
		insn->base = (int8_t)(rm | (insn->rex & REX_B ? 8 : 0));
		insn->index = -1;
	}

	if (mod == 1)
		rc = fetch_signed(c, 1, &disp);
	else if (disp32)
		rc = fetch_signed(c, 4, &disp);
	else
		rc = 0;
	insn->disp = (int64_t)disp;
	return rc;
}

static int decode_modrm(struct insn_cursor *c, struct x86_insn *insn)
{
	uint64_t modrm;
	unsigned int rm;
	int rc;

	rc = fetch_bytes(c, 1, &modrm);
	if (rc)
		return rc;
	insn->has_modrm = true;
	insn->modrm_mod = modrm >> 6;
	insn->modrm_reg = ((modrm >> 3) & 7) | (insn->rex & REX_R ? 8 : 0);
	rm = modrm & 7;
	insn->modrm_rm = rm | (insn->rex & REX_B ? 8 : 0);
	insn->scale = 1;
	insn->base = -1;
	insn->index = -1;
	if (insn->modrm_mod == 3)
		return 0;
	if (insn->addr_size == 2)
		return decode_modrm16(c, insn, rm);
	return decode_modrm32(c, insn, rm);
}

/* The immediate that follows the ModRM bytes. */
enum imm_kind {
	IMM_NONE,
	IMM_B,		/* one byte */
	IMM_Z,		/* operand size, at most four bytes (sign-extended to 64 bits) */
};

/* What the opcode tables say about one opcode. */
struct opcode_info {
	enum x86_op op;
	enum x86_alu alu;
	bool byte_op;		/* operand size is one byte */
	bool modrm;
	enum imm_kind imm;
	bool moffs;		/* A0..A3: an address-sized offset instead of ModRM */
	bool lockable;		/* LOCK is allowed (with a memory destination; SDM Vol. 2A LOCK) */
};

/* The eight ALU operations at 00..3F: bits 5:3 pick the operation, bits 1:0 the form. */
static bool classify_alu(uint8_t opc, struct opcode_info *info)
{
	if (opc >= 0x40 || (opc & 7) > 3)
		return false;
	info->alu = (enum x86_alu)(opc >> 3);
	info->byte_op = !(opc & 1);
	info->modrm = true;
	/* Bit 1 set: the register is the destination (SDM Vol. 2 App. A, Ev,Gv vs Gv,Ev). */
	info->op = (opc & 2) ? X86_OP_ALU_LOAD : X86_OP_ALU_STORE;
	info->lockable = info->op == X86_OP_ALU_STORE && info->alu != X86_ALU_CMP;
	return true;
}

static int classify_one_byte(uint8_t opc, enum x86_cpu_mode mode, struct opcode_info *info)
{
	if (classify_alu(opc, info))
		return 0;

	switch (opc) {
	case 0x63:
		/* MOVSXD in 64-bit mode; ARPL elsewhere, which no guest aims at MMIO. */
		if (mode != X86_MODE_64)
			return X86_DECODE_UNSUPPORTED;
		info->op = X86_OP_MOVSX;
		info->modrm = true;
		return 0;
	case 0x82:
		/* An alias of 80 outside 64-bit mode, #UD in it (SDM Vol. 2 Table A-2). */
		if (mode == X86_MODE_64)
			return X86_DECODE_INVALID;
		/* fall through */
	case 0x80:
	case 0x81:
	case 0x83:
		info->op = X86_OP_ALU_STORE;
		info->alu = X86_ALU_ADD;	/* the real one comes from ModRM.reg */
		info->byte_op = opc != 0x81 && opc != 0x83;
		info->modrm = true;
		info->imm = opc == 0x81 ? IMM_Z : IMM_B;
		info->lockable = true;
		return 0;
	case 0x84:
	case 0x85:
		info->op = X86_OP_TEST;
		info->byte_op = opc == 0x84;
		info->modrm = true;
		return 0;
	case 0x86:
	case 0x87:
		info->op = X86_OP_XCHG;
		info->byte_op = opc == 0x86;
		info->modrm = true;
		info->lockable = true;
		return 0;
	case 0x88:
	case 0x89:
	case 0x8a:
	case 0x8b:
		info->op = opc & 2 ? X86_OP_MOV_LOAD : X86_OP_MOV_STORE;
		info->byte_op = !(opc & 1);
		info->modrm = true;
		return 0;
	case 0xa0:
	case 0xa1:
	case 0xa2:
	case 0xa3:
		info->op = opc & 2 ? X86_OP_MOV_STORE : X86_OP_MOV_LOAD;
		info->byte_op = !(opc & 1);
		info->moffs = true;
		return 0;
	case 0x6c:
	case 0x6d:
		info->op = X86_OP_INS;
		info->byte_op = opc == 0x6c;
		return 0;
	case 0x6e:
	case 0x6f:
		info->op = X86_OP_OUTS;
		info->byte_op = opc == 0x6e;
		return 0;
	case 0xa4:
	case 0xa5:
		info->op = X86_OP_MOVS;
		info->byte_op = opc == 0xa4;
		return 0;
	case 0xaa:
	case 0xab:
		info->op = X86_OP_STOS;
		info->byte_op = opc == 0xaa;
		return 0;
	case 0xac:
	case 0xad:
		info->op = X86_OP_LODS;
		info->byte_op = opc == 0xac;
		return 0;
	case 0xc6:
	case 0xc7:
		/* /0 is MOV; the rest is #UD with a memory operand (C6 F8 / C7 F8 are XABORT / XBEGIN). */
		info->op = X86_OP_MOV_STORE_IMM;
		info->byte_op = opc == 0xc6;
		info->modrm = true;
		info->imm = opc == 0xc6 ? IMM_B : IMM_Z;
		return 0;
	case 0xf6:
	case 0xf7:
		/* Group 3: TEST /0, NOT /2, NEG /3; MUL, IMUL, DIV, IDIV are not handled. */
		info->op = X86_OP_TEST;
		info->byte_op = opc == 0xf6;
		info->modrm = true;
		return 0;
	case 0xfe:
	case 0xff:
		/* Groups 4 and 5: INC /0, DEC /1 (FF's CALL, JMP, PUSH are not handled). */
		info->op = X86_OP_UNARY;
		info->byte_op = opc == 0xfe;
		info->modrm = true;
		return 0;
	default:
		return X86_DECODE_UNSUPPORTED;
	}
}

static int classify_two_byte(uint8_t opc, struct opcode_info *info)
{
	info->modrm = true;
	switch (opc) {
	case 0xa3:
	case 0xab:
	case 0xb3:
	case 0xbb:
		/* BT, BTS, BTR, BTC Ev,Gv: bits 4:3 of the opcode pick the operation. */
		info->op = X86_OP_BIT;
		info->alu = (enum x86_alu)(X86_ALU_BT + ((opc >> 3) & 3));
		info->lockable = opc != 0xa3;
		return 0;
	case 0xba:
		/* Group 8: /4../7 are BT, BTS, BTR, BTC Ev,Ib; /0../3 are #UD. */
		info->op = X86_OP_BIT;
		info->alu = X86_ALU_BT;	/* the real one comes from ModRM.reg */
		info->imm = IMM_B;
		info->lockable = true;
		return 0;
	case 0xb0:
	case 0xb1:
		info->op = X86_OP_CMPXCHG;
		info->byte_op = opc == 0xb0;
		info->lockable = true;
		return 0;
	case 0xc0:
	case 0xc1:
		info->op = X86_OP_XADD;
		info->byte_op = opc == 0xc0;
		info->lockable = true;
		return 0;
	case 0xb6:
	case 0xb7:
		info->op = X86_OP_MOVZX;
		return 0;
	case 0xbe:
	case 0xbf:
		info->op = X86_OP_MOVSX;
		return 0;
	default:
		return X86_DECODE_UNSUPPORTED;
	}
}

/* Group 3 (F6/F7) by ModRM.reg (SDM Vol. 2 Table A-6). */
static int resolve_group3(struct opcode_info *info, struct x86_insn *insn, unsigned int reg3)
{
	switch (reg3) {
	case 0:
		info->imm = insn->op_size == 1 ? IMM_B : IMM_Z;
		return 0;
	case 2:
	case 3:
		insn->op = X86_OP_UNARY;
		insn->alu = reg3 == 2 ? X86_ALU_NOT : X86_ALU_NEG;
		info->lockable = true;
		return 0;
	default:
		/* /1 is reserved (some CPUs alias TEST); /4../7 multiply and divide */
		return X86_DECODE_UNSUPPORTED;
	}
}

/* Applies ModRM.reg to group opcodes once the ModRM byte is known. */
static int resolve_group(uint8_t opc, bool two_byte, struct opcode_info *info,
			 struct x86_insn *insn, unsigned int reg3)
{
	int rc;

	insn->alu = info->alu;
	if (!two_byte && (opc & 0xfc) == 0x80)
		insn->alu = (enum x86_alu)reg3;
	if (!two_byte && (opc == 0xc6 || opc == 0xc7) && reg3 != 0)
		return X86_DECODE_INVALID;
	if (!two_byte && (opc == 0xf6 || opc == 0xf7)) {
		rc = resolve_group3(info, insn, reg3);
		if (rc)
			return rc;
	}
	if (!two_byte && (opc == 0xfe || opc == 0xff)) {
		/* FE /2../7 and FF /7 are #UD; FF /2../6 (CALL, JMP, PUSH) are valid */
		if (reg3 >= 2)
			return opc == 0xff && reg3 != 7 ? X86_DECODE_UNSUPPORTED
							: X86_DECODE_INVALID;
		insn->alu = reg3 == 0 ? X86_ALU_INC : X86_ALU_DEC;
		info->lockable = true;
	}
	if (two_byte && opc == 0xba) {
		if (reg3 < 4)
			return X86_DECODE_INVALID;
		insn->alu = (enum x86_alu)(X86_ALU_BT + (reg3 - 4));
	}
	/* BT does not write memory, so LOCK BT is #UD like LOCK CMP. */
	if (insn->alu == X86_ALU_CMP || insn->alu == X86_ALU_BT) {
		if (insn->op == X86_OP_ALU_STORE || insn->op == X86_OP_BIT)
			return insn->lock ? X86_DECODE_INVALID : 0;
	}
	return 0;
}

/* Operand and address sizes from the mode, 66/67 and REX.W (SDM Vol. 1 §3.6, Table 3-4). */
static void set_sizes(struct x86_insn *insn, bool opsize_prefix, bool addrsize_prefix)
{
	switch (insn->mode) {
	case X86_MODE_64:
		insn->op_size = insn->rex & REX_W ? 8 : (opsize_prefix ? 2 : 4);
		insn->addr_size = addrsize_prefix ? 4 : 8;
		break;
	case X86_MODE_32:
		insn->op_size = opsize_prefix ? 2 : 4;
		insn->addr_size = addrsize_prefix ? 2 : 4;
		break;
	default:
		insn->op_size = opsize_prefix ? 4 : 2;
		insn->addr_size = addrsize_prefix ? 4 : 2;
		break;
	}
}

static unsigned int mem_size_of(const struct x86_insn *insn)
{
	if (insn->op == X86_OP_MOVZX || insn->op == X86_OP_MOVSX) {
		if (!insn->two_byte)	/* MOVSXD reads a dword for a qword destination */
			return insn->op_size == 8 ? 4 : insn->op_size;
		return insn->opcode & 1 ? 2 : 1;
	}
	return insn->op_size;
}

static int decode_prefixes(struct insn_cursor *c, struct x86_insn *insn, bool *opsize_prefix,
			   bool *addrsize_prefix, uint8_t *opc)
{
	for (;;) {
		uint64_t b;
		int rc = fetch_bytes(c, 1, &b);

		if (rc)
			return rc;
		switch (b) {
		case 0x66:
			*opsize_prefix = true;
			break;
		case 0x67:
			*addrsize_prefix = true;
			break;
		case 0xf0:
			insn->lock = true;
			break;
		case 0xf2:
		case 0xf3:
			insn->rep = (uint8_t)b;	/* the last of F2/F3 wins */
			break;
		case 0x26:
		case 0x2e:
		case 0x36:
		case 0x3e:
			/* 64-bit mode ignores ES/CS/SS/DS overrides (SDM Vol. 1 §3.3.7.1). */
			if (insn->mode != X86_MODE_64) {
				insn->seg_override = true;
				insn->seg = (enum x86_seg)((b >> 3) & 3);
			}
			break;
		case 0x64:
		case 0x65:
			insn->seg_override = true;
			insn->seg = b == 0x64 ? X86_SEG_FS : X86_SEG_GS;
			break;
		default:
			if (insn->mode == X86_MODE_64 && (b & 0xf0) == 0x40) {
				insn->rex = (uint8_t)b;
				continue;
			}
			*opc = (uint8_t)b;
			return 0;
		}
		/* A REX not immediately before the opcode is ignored (SDM Vol. 2A §2.2.1). */
		insn->rex = 0;
	}
}

int x86_decode(const uint8_t *bytes, size_t len, enum x86_cpu_mode mode, struct x86_insn *insn)
{
	struct insn_cursor c = { .bytes = bytes, .len = len, .pos = 0 };
	struct opcode_info info = { .op = X86_OP_MOV_STORE };
	bool opsize_prefix = false, addrsize_prefix = false;
	unsigned int reg3 = 0;
	uint8_t opc;
	uint64_t v;
	int rc;

	memset(insn, 0, sizeof(*insn));
	insn->mode = mode;
	insn->seg = X86_SEG_DS;
	insn->base = -1;
	insn->index = -1;
	insn->scale = 1;

	rc = decode_prefixes(&c, insn, &opsize_prefix, &addrsize_prefix, &opc);
	if (rc)
		return rc;
	if (opc == 0x0f) {
		rc = fetch_bytes(&c, 1, &v);
		if (rc)
			return rc;
		opc = (uint8_t)v;
		insn->two_byte = true;
		rc = classify_two_byte(opc, &info);
	} else {
		rc = classify_one_byte(opc, mode, &info);
	}
	if (rc)
		return rc;
	insn->opcode = opc;
	insn->op = info.op;
	set_sizes(insn, opsize_prefix, addrsize_prefix);
	if (info.byte_op)
		insn->op_size = 1;
	/* INS and OUTS move at most a dword: REX.W is ignored (SDM Vol. 2B INS, OUTS). */
	if ((insn->op == X86_OP_INS || insn->op == X86_OP_OUTS) && insn->op_size == 8)
		insn->op_size = 4;

	if (info.modrm) {
		rc = decode_modrm(&c, insn);
		if (rc)
			return rc;
		/* A register operand cannot have caused an MMIO exit. */
		if (insn->modrm_mod == 3)
			return X86_DECODE_UNSUPPORTED;
		reg3 = insn->modrm_reg & 7;
		insn->reg = insn->modrm_reg;
		/* SP- or BP-based addresses default to SS (SDM Vol. 1 §3.7.4). */
		if (!insn->seg_override && (insn->base == X86_RSP || insn->base == X86_RBP))
			insn->seg = X86_SEG_SS;
	} else if (info.moffs) {
		rc = fetch_bytes(&c, insn->addr_size, &v);
		if (rc)
			return rc;
		insn->disp = (int64_t)v;
		insn->reg = X86_RAX;
	} else {
		/*
		 * String instructions: rAX, rSI and rDI are implied. The destination
		 * (STOS, INS) is always ES, whatever the override (SDM Vol. 2B STOS, INS).
		 */
		insn->reg = X86_RAX;
		if (insn->op == X86_OP_STOS || insn->op == X86_OP_INS) {
			insn->seg = X86_SEG_ES;
			insn->seg_override = false;
		}
	}

	rc = resolve_group(opc, insn->two_byte, &info, insn, reg3);
	if (rc)
		return rc;
	if (insn->lock && !info.lockable)
		return X86_DECODE_INVALID;

	if (info.imm != IMM_NONE) {
		unsigned int n = info.imm == IMM_B ? 1 : (insn->op_size >= 4 ? 4 : insn->op_size);

		rc = fetch_signed(&c, n, &v);
		if (rc)
			return rc;
		insn->has_imm = true;
		insn->imm = v;
	}

	insn->mem_size = (uint8_t)mem_size_of(insn);
	insn->len = (uint8_t)c.pos;
	return insn->len;
}
