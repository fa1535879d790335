/*
 * x86 instruction decoder and emulator for trapped MMIO accesses.
 *
 * A guest access to an MMIO region exits as an EPT violation or nested page
 * fault. The exit reports the guest-physical address but (on QEMU TCG's SVM)
 * neither the instruction length nor its operands, so the caller fetches the
 * bytes at the guest's RIP, x86_decode() decodes them and x86_emulate_mmio()
 * performs the access through the device callbacks, updates registers and
 * flags, and advances RIP. Vendor-neutral: nothing here knows VMCS or VMCB.
 */
#ifndef HV_GUEST_X86_EMULATE_H
#define HV_GUEST_X86_EMULATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* General-purpose registers in ModRM/REX encoding order (SDM Vol. 2A §2.1.5, Table 2-2). */
enum x86_reg {
	X86_RAX,
	X86_RCX,
	X86_RDX,
	X86_RBX,
	X86_RSP,
	X86_RBP,
	X86_RSI,
	X86_RDI,
	X86_R8,
	X86_R9,
	X86_R10,
	X86_R11,
	X86_R12,
	X86_R13,
	X86_R14,
	X86_R15,
	X86_NR_GPRS,
};

/* The guest state the emulator reads and writes. */
struct x86_regs {
	uint64_t gpr[X86_NR_GPRS];
	uint64_t rip;
	uint64_t rflags;
};

/* RFLAGS bits the emulator touches (SDM Vol. 1 §3.4.3). */
#define X86_RFLAGS_CF (1ull << 0)
#define X86_RFLAGS_PF (1ull << 2)
#define X86_RFLAGS_AF (1ull << 4)
#define X86_RFLAGS_ZF (1ull << 6)
#define X86_RFLAGS_SF (1ull << 7)
#define X86_RFLAGS_DF (1ull << 10)
#define X86_RFLAGS_OF (1ull << 11)
#define X86_RFLAGS_ARITH                                                                  \
	(X86_RFLAGS_CF | X86_RFLAGS_PF | X86_RFLAGS_AF | X86_RFLAGS_ZF | X86_RFLAGS_SF |  \
	 X86_RFLAGS_OF)

/*
 * The code segment's default size: 16-bit (real mode, virtual-8086, or a
 * protected-mode CS with D=0), 32-bit (CS.D=1), 64-bit (long mode with CS.L=1).
 * Compatibility mode is 16- or 32-bit here.
 */
enum x86_cpu_mode {
	X86_MODE_16,
	X86_MODE_32,
	X86_MODE_64,
};

/* Segment registers in the encoding order of Sreg (SDM Vol. 2A §3.1.1.3). */
enum x86_seg {
	X86_SEG_ES,
	X86_SEG_CS,
	X86_SEG_SS,
	X86_SEG_DS,
	X86_SEG_FS,
	X86_SEG_GS,
};

/* An instruction is at most 15 bytes; longer raises #GP (SDM Vol. 2A §2.3.11). */
#define X86_MAX_INSN_LEN 15

/* What the instruction does with its memory operand. */
enum x86_op {
	X86_OP_MOV_STORE,	/* mem <- reg: 88, 89, A2, A3 */
	X86_OP_MOV_STORE_IMM,	/* mem <- imm: C6 /0, C7 /0 */
	X86_OP_MOV_LOAD,	/* reg <- mem: 8A, 8B, A0, A1 */
	X86_OP_MOVZX,		/* reg <- zero-extended mem: 0F B6, 0F B7 */
	X86_OP_MOVSX,		/* reg <- sign-extended mem: 0F BE, 0F BF, 63 (MOVSXD) */
	X86_OP_ALU_STORE,	/* mem <- mem op (reg|imm): 00..39 even, 80, 81, 83 */
	X86_OP_ALU_LOAD,	/* reg <- reg op mem: 02..3B */
	X86_OP_TEST,		/* flags <- mem AND (reg|imm): 84, 85, F6 /0, F7 /0 */
	X86_OP_XCHG,		/* mem <-> reg: 86, 87 */
	X86_OP_BIT,		/* BT/BTS/BTR/BTC: 0F A3/AB/B3/BB, 0F BA /4../7 */
	X86_OP_STOS,		/* ES:[rDI] <- AL/AX/EAX/RAX: AA, AB */
	X86_OP_MOVS,		/* ES:[rDI] <- seg:[rSI]: A4, A5 (needs read_virt/write_virt) */
	X86_OP_LODS,		/* AL/AX/EAX/RAX <- seg:[rSI]: AC, AD */
	X86_OP_INS,		/* ES:[rDI] <- port DX: 6C, 6D (needs port_in, write_virt) */
	X86_OP_OUTS,		/* port DX <- seg:[rSI]: 6E, 6F (needs port_out, read_virt) */
	X86_OP_CMPXCHG,		/* compare rAX with mem, exchange: 0F B0, 0F B1 */
	X86_OP_XADD,		/* mem <- mem + reg, reg <- old mem: 0F C0, 0F C1 */
	X86_OP_UNARY,		/* INC, DEC (FE/FF /0 /1), NOT, NEG (F6/F7 /2 /3) */
};

/* The ALU operation; the first eight in the order of the opcode's bits 5:3 / ModRM.reg. */
enum x86_alu {
	X86_ALU_ADD,
	X86_ALU_OR,
	X86_ALU_ADC,
	X86_ALU_SBB,
	X86_ALU_AND,
	X86_ALU_SUB,
	X86_ALU_XOR,
	X86_ALU_CMP,
	X86_ALU_BT,
	X86_ALU_BTS,
	X86_ALU_BTR,
	X86_ALU_BTC,
	X86_ALU_INC,
	X86_ALU_DEC,
	X86_ALU_NOT,
	X86_ALU_NEG,
};

/* x86_decode() errors. */
enum x86_decode_error {
	X86_DECODE_TRUNCATED = -1,	/* the bytes ran out (e.g. the next page faulted) */
	X86_DECODE_TOO_LONG = -2,	/* over 15 bytes: the guest gets #GP(0) */
	X86_DECODE_UNSUPPORTED = -3,	/* an opcode or form this emulator does not handle */
	X86_DECODE_INVALID = -4,	/* an encoding the CPU rejects with #UD (e.g. LOCK MOV) */
};

/* A decoded instruction. Register numbers include the REX extension bits. */
struct x86_insn {
	uint8_t len;		/* length in bytes, prefixes included */
	uint8_t opcode;		/* the final opcode byte */
	bool two_byte;		/* opcode follows the 0F escape */
	enum x86_cpu_mode mode;
	enum x86_op op;
	enum x86_alu alu;	/* for ALU_STORE, ALU_LOAD, BIT and UNARY */
	uint8_t op_size;	/* operand size in bytes: 1, 2, 4 or 8 */
	uint8_t mem_size;	/* bytes read or written in memory */
	uint8_t addr_size;	/* address size in bytes: 2, 4 or 8 */

	/* Prefixes. */
	uint8_t rex;		/* the REX byte (0x40..0x4f), 0 when none */
	uint8_t rep;		/* 0, 0xf3 (REP/REPE) or 0xf2 (REPNE) */
	bool lock;
	bool seg_override;
	enum x86_seg seg;	/* segment of the memory operand (the source for MOVS/OUTS) */

	/* ModRM/SIB decode; base and index are -1 when absent. */
	bool has_modrm;
	uint8_t modrm_mod;
	uint8_t modrm_reg;	/* with REX.R */
	uint8_t modrm_rm;	/* with REX.B */
	int8_t base;
	int8_t index;
	uint8_t scale;		/* 1, 2, 4 or 8 */
	bool rip_relative;
	int64_t disp;		/* displacement, or the moffs of A0..A3 (zero-extended) */

	bool has_imm;
	uint64_t imm;		/* immediate, sign-extended from its encoded size */

	uint8_t reg;		/* register operand: ModRM.reg, or rAX for A0..A3/STOS/LODS */
};

/* The string instructions: one element per iteration, rSI/rDI stepping, REP counting rCX. */
static inline bool x86_insn_is_string(const struct x86_insn *insn)
{
	return insn->op == X86_OP_STOS || insn->op == X86_OP_MOVS || insn->op == X86_OP_LODS ||
	       insn->op == X86_OP_INS || insn->op == X86_OP_OUTS;
}

/*
 * Decodes one instruction from bytes[0..len). Returns its length (1..15) and
 * fills insn, or a negative enum x86_decode_error.
 */
int x86_decode(const uint8_t *bytes, size_t len, enum x86_cpu_mode mode, struct x86_insn *insn);

/* The low `size` bytes of a value (size 1, 2, 4 or 8), and their sign extension. */
static inline uint64_t x86_size_mask(unsigned int size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static inline uint64_t x86_sign_extend(uint64_t v, unsigned int size)
{
	unsigned int shift = 64 - 8 * size;

	if (size >= 8)
		return v;
	return (uint64_t)((int64_t)(v << shift) >> shift);
}

/*
 * The effective address (offset within insn->seg, before the segment base) of
 * the memory operand, truncated to the address size; for string instructions
 * the source (rSI) for MOVS, LODS and OUTS, the destination (rDI) for STOS and
 * INS. regs->rip is the address of the instruction itself (RIP-relative is
 * counted from its end).
 */
uint64_t x86_insn_mem_offset(const struct x86_insn *insn, const struct x86_regs *regs);

/*
 * Device and guest memory access for the emulator. Each returns 0 on success
 * or a negative code: X86_EMUL_FAULT when the access raised a guest exception
 * that the callback has recorded for the caller to inject, anything else for a
 * device error. A read stores the value zero-extended in *val.
 */
struct x86_mmio_ops {
	/* The trapped access at a guest-physical address. */
	int (*read)(void *ctx, uint64_t gpa, unsigned int size, uint64_t *val);
	int (*write)(void *ctx, uint64_t gpa, unsigned int size, uint64_t val);
	/*
	 * Optional, for MOVS only (NULL: MOVS is unsupported). Accesses seg:offset
	 * in guest virtual memory: the callback adds the segment base, walks the
	 * guest page tables and sends the access to RAM or to the MMIO device, so
	 * MOVS works whichever side (or both) is MMIO.
	 */
	int (*read_virt)(void *ctx, enum x86_seg seg, uint64_t offset, unsigned int size,
			 uint64_t *val);
	int (*write_virt)(void *ctx, enum x86_seg seg, uint64_t offset, unsigned int size,
			  uint64_t val);
	/*
	 * Optional: checks that seg:offset could be accessed (write: for a store)
	 * without accessing it, and records the fault if not. Called before the
	 * read half of MOVS and INS, so a fault on the destination does not lose
	 * what a device returned (the read is not repeated when the guest
	 * restarts the instruction after its fault handler).
	 */
	int (*probe_virt)(void *ctx, enum x86_seg seg, uint64_t offset, unsigned int size,
			  bool write);
	/*
	 * Port I/O, for INS and OUTS (NULL: those are unsupported). May return
	 * X86_PORT_STOP: the access was made, but no further iteration should be
	 * (the VM is stopping).
	 */
	int (*port_in)(void *ctx, uint16_t port, unsigned int size, uint64_t *val);
	int (*port_out)(void *ctx, uint16_t port, unsigned int size, uint64_t val);
};

#define X86_PORT_STOP 1

/*
 * The most iterations one call performs of a REP string instruction. When
 * the count is not done by then, RIP stays on the instruction with rCX, rSI
 * and rDI updated, and the guest re-executes it: interrupts are taken
 * between iterations as on a real CPU (SDM Vol. 2B REP), and no single exit
 * runs for long.
 */
#define X86_STRING_BATCH 4096

/* x86_emulate_mmio() results. */
enum x86_emul_result {
	X86_EMUL_DONE = 0,
	X86_EMUL_UNSUPPORTED = -1,	/* not an instruction this emulator performs */
	X86_EMUL_DEVICE_ERROR = -2,	/* a callback failed; registers are unchanged */
	X86_EMUL_FAULT = -3,		/* a callback raised a guest exception; regs unchanged */
};

/*
 * Performs insn's memory access at gpa, updates the destination register and
 * the arithmetic flags, and advances RIP. On any error the registers are left
 * as they were (an ALU store whose write fails has already read the device).
 *
 * String instructions go through the virtual-memory (and port) callbacks,
 * each element at seg:rSI / ES:rDI, so gpa is not used for them; with a REP
 * prefix up to X86_STRING_BATCH elements are done per call (RIP stays on the
 * instruction until rCX reaches zero). A fault or error in one element leaves
 * the registers as the elements before it made them, RIP on the instruction:
 * the state a real CPU reports a fault in a REP string with. Without
 * read_virt/write_virt, STOS and LODS fall back to one element at gpa per
 * call.
 */
int x86_emulate_mmio(struct x86_regs *regs, const struct x86_insn *insn, uint64_t gpa,
		     const struct x86_mmio_ops *ops, void *ctx);

#endif
