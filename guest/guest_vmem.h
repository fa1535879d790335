/*
 * Guest memory as an instruction sees it: seg:offset through segmentation
 * (base, limit and type checks) to a linear address, through the guest's
 * paging (guest_walk) to a guest-physical address, then to guest RAM or a
 * device, in pieces that never cross a page. What the emulator uses for the
 * string instructions (MOVS, STOS, LODS, INS, OUTS), whose elements lie
 * wherever rSI and rDI point.
 *
 * A failed check is not an error of the hypervisor: it is the exception the
 * CPU would raise (#GP, #SS or #PF with its error code and CR2), recorded in
 * `fault` for the caller to inject. Vendor-neutral and hosted-testable: the
 * caller fills the state from its backend and supplies the memory callbacks.
 */
#ifndef HV_GUEST_GUEST_VMEM_H
#define HV_GUEST_GUEST_VMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "guest/guest_paging.h"
#include "guest/x86_emulate.h"

/* A segment register's hidden part (attrib: descriptor bits 40-47 in 7:0, 52-55 in 11:8). */
struct guest_segment {
	uint64_t base;
	uint32_t limit;		/* in bytes (granularity already applied) */
	uint16_t attrib;
};

/* Exception vectors the access checks raise (SDM Vol. 3A Table 6-1). */
#define GUEST_VEC_SS 12
#define GUEST_VEC_GP 13
#define GUEST_VEC_PF 14

/* The exception an access raised. */
struct guest_fault {
	bool valid;
	uint8_t vector;
	uint32_t error_code;	/* #GP/#SS: 0 here; #PF: P, W/R, U/S, RSVD, I/D */
	uint64_t cr2;		/* #PF: the faulting linear address */
};

/* guest_vmem_* results. */
enum guest_vmem_result {
	GUEST_VMEM_OK = 0,
	GUEST_VMEM_FAULT = -1,	/* `fault` holds the exception to inject */
	GUEST_VMEM_ERROR = -2,	/* a paging entry outside RAM, or the device failed */
};

struct guest_vmem {
	struct guest_paging_state paging;
	/* CR0.PE and not virtual-8086: segment types and presence are checked */
	bool protected_mode;
	/* 64-bit code: no limits, only FS and GS have a base, canonical addresses */
	bool long64;
	struct guest_segment seg[6];	/* by enum x86_seg */

	/* Page-table reads and Accessed/Dirty updates. */
	struct guest_mem_ops walk_mem;
	/* One access of 1..8 bytes within a page, to RAM or to a device. */
	int (*phys_read)(void *ctx, uint64_t gpa, unsigned int size, uint64_t *val);
	int (*phys_write)(void *ctx, uint64_t gpa, unsigned int size, uint64_t val);
	void *ctx;

	/*
	 * The last translation for a read and for a write. Caching within one
	 * emulated instruction is what the CPU's TLB does: a guest changing its
	 * tables meanwhile must invalidate anyway (SDM Vol. 3A §4.10.4).
	 */
	struct {
		bool valid;
		uint64_t page, gpa_page;
	} tlb[2];

	struct guest_fault fault;
};

/* Reads/writes size (1..8) bytes at seg:offset; returns enum guest_vmem_result. */
int guest_vmem_read(struct guest_vmem *m, enum x86_seg seg, uint64_t offset, unsigned int size,
		    uint64_t *val);
int guest_vmem_write(struct guest_vmem *m, enum x86_seg seg, uint64_t offset, unsigned int size,
		     uint64_t val);
/* Runs every check of such an access (segment, paging) without making it. */
int guest_vmem_probe(struct guest_vmem *m, enum x86_seg seg, uint64_t offset, unsigned int size,
		     bool write);

#endif
