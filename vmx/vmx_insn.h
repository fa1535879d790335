/*
 * The VMX instructions (SDM Vol. 3C ch. 31) as C functions, for the files of
 * the VT-x backend. VMREAD/VMWRITE act on the current VMCS of this core.
 */
#ifndef HV_VMX_VMX_INSN_H
#define HV_VMX_VMX_INSN_H

#include <stdbool.h>
#include <stdint.h>

static inline uint64_t vmread(uint64_t field)
{
	uint64_t v;
	__asm__ volatile("vmread %1, %0" : "=rm"(v) : "r"(field) : "cc");
	return v;
}

static inline void vmwrite(uint64_t field, uint64_t v)
{
	__asm__ volatile("vmwrite %1, %0" ::"r"(field), "rm"(v) : "cc", "memory");
}

/* true on success (CF and ZF clear) */
static inline bool vmx_op_ok(uint8_t failed)
{
	return !failed;
}

static inline bool do_vmxon(uint64_t pa)
{
	uint8_t failed;
	__asm__ volatile("vmxon %1; setbe %0" : "=q"(failed) : "m"(pa) : "cc", "memory");
	return vmx_op_ok(failed);
}

static inline bool do_vmclear(uint64_t pa)
{
	uint8_t failed;
	__asm__ volatile("vmclear %1; setbe %0" : "=q"(failed) : "m"(pa) : "cc", "memory");
	return vmx_op_ok(failed);
}

static inline bool do_vmptrld(uint64_t pa)
{
	uint8_t failed;
	__asm__ volatile("vmptrld %1; setbe %0" : "=q"(failed) : "m"(pa) : "cc", "memory");
	return vmx_op_ok(failed);
}

static inline void invept(uint64_t type, uint64_t eptp)
{
	struct {
		uint64_t eptp, zero;
	} desc = {eptp, 0};
	__asm__ volatile("invept %0, %1" ::"m"(desc), "r"(type) : "cc", "memory");
}

static inline void invvpid(uint64_t type, uint16_t vpid)
{
	struct {
		uint64_t vpid, addr;
	} desc = {vpid, 0};
	__asm__ volatile("invvpid %0, %1" ::"m"(desc), "r"(type) : "cc", "memory");
}

#endif
