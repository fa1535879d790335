/*
 * Guest page-table walker: guest linear (virtual) address to guest-physical,
 * in software, as the guest's MMU would do it. Used to fetch the instruction
 * at the guest's RIP for MMIO emulation and for emulated accesses through
 * guest virtual addresses. Reads the guest's tables through a callback, so it
 * knows nothing of how guest memory is mapped in the host.
 */
#ifndef HV_GUEST_GUEST_PAGING_H
#define HV_GUEST_GUEST_PAGING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The control-register bits the walk depends on (SDM Vol. 3A §2.5, §4.1). */
#define GUEST_CR0_WP (1ull << 16)
#define GUEST_CR0_PG (1ull << 31)
#define GUEST_CR4_PSE (1ull << 4)
#define GUEST_CR4_PAE (1ull << 5)
#define GUEST_CR4_LA57 (1ull << 12)
#define GUEST_CR4_SMEP (1ull << 20)
#define GUEST_CR4_SMAP (1ull << 21)
#define GUEST_EFER_LMA (1ull << 10)
#define GUEST_EFER_NXE (1ull << 11)
#define GUEST_RFLAGS_AC (1ull << 18)

/* The guest's translation state at the time of the access. */
struct guest_paging_state {
	uint64_t cr0, cr3, cr4, efer;
	uint64_t rflags;	/* only AC, for SMAP */
	uint8_t cpl;		/* 3 makes the access a user-mode access */
	uint8_t maxphyaddr;	/* CPUID 8000_0008h EAX[7:0] as the guest sees it; 0 means 52 */
};

/* The paging mode the state selects (SDM Vol. 3A §4.1.1, Table 4-1). */
enum guest_paging_mode {
	GUEST_PAGING_NONE,	/* CR0.PG=0: linear is physical */
	GUEST_PAGING_32,	/* 2-level, 4 KiB and (with CR4.PSE) 4 MiB pages */
	GUEST_PAGING_PAE,	/* 3-level, 4 KiB and 2 MiB pages */
	GUEST_PAGING_4LEVEL,	/* long mode, 4 KiB, 2 MiB and 1 GiB pages */
	GUEST_PAGING_5LEVEL,	/* long mode with CR4.LA57 */
};

enum guest_access {
	GUEST_ACCESS_READ,
	GUEST_ACCESS_WRITE,
	GUEST_ACCESS_EXEC,
};

/* Page-fault error code bits (SDM Vol. 3A §4.7, Figure 4-12). */
#define GUEST_PF_P (1u << 0)	/* protection violation (0: page not present) */
#define GUEST_PF_W (1u << 1)	/* the access was a write */
#define GUEST_PF_U (1u << 2)	/* the access was in user mode (CPL 3) */
#define GUEST_PF_RSVD (1u << 3)	/* a reserved bit was set in a paging entry */
#define GUEST_PF_ID (1u << 4)	/* the access was an instruction fetch */

/* guest_walk() results. */
enum guest_walk_result {
	GUEST_WALK_OK = 0,
	GUEST_WALK_PAGE_FAULT = -1,	/* inject #PF with the error code, CR2 = the address */
	GUEST_WALK_NONCANONICAL = -2,	/* a non-canonical address: #GP(0) (or #SS for SS) */
	GUEST_WALK_MEM_ERROR = -3,	/* a paging entry lies outside guest RAM */
};

/* Access to guest-physical memory, as the host maps it. Return 0 or negative. */
struct guest_mem_ops {
	int (*read_phys)(void *ctx, uint64_t gpa, void *buf, size_t len);
	/*
	 * Optional: when set, the walk sets Accessed and Dirty bits like the CPU
	 * does (SDM Vol. 3A §4.8). This is a plain read-then-write, not the CPU's
	 * locked update, so a guest racing on its own entries may lose one.
	 */
	int (*write_phys)(void *ctx, uint64_t gpa, const void *buf, size_t len);
};

enum guest_paging_mode guest_paging_mode(const struct guest_paging_state *st);

/*
 * Translates the linear address gva for the given access. On GUEST_WALK_OK
 * stores the guest-physical address in *gpa; on GUEST_WALK_PAGE_FAULT stores
 * the error code a real CPU would push in *pf_error (P, W, U, RSVD, I/D;
 * protection keys and shadow stacks are not modelled). Outside long mode the
 * address is truncated to 32 bits.
 */
int guest_walk(const struct guest_paging_state *st, uint64_t gva, enum guest_access access,
	       uint64_t *gpa, uint32_t *pf_error, const struct guest_mem_ops *mem, void *ctx);

#define GUEST_INSN_MAX 15

/* The bytes fetched at a guest RIP. */
struct guest_insn_fetch {
	uint8_t bytes[GUEST_INSN_MAX];
	size_t len;		/* bytes fetched */
	int stop;		/* GUEST_WALK_OK if all 15 came, else why fetching stopped */
	uint32_t pf_error;	/* with stop == GUEST_WALK_PAGE_FAULT */
	uint64_t fault_addr;	/* linear address of byte len (for CR2) */
};

/*
 * Fetches up to 15 instruction bytes at the linear address rip (CS base
 * added by the caller), crossing a page boundary when the instruction does.
 * Returns GUEST_WALK_OK when at least one byte was fetched: a fault on a later
 * page is recorded in f->stop and matters only if the decoder needs those
 * bytes (it returns X86_DECODE_TRUNCATED; the caller then injects the fault).
 * Otherwise returns the walk's error for the first byte, with f filled in.
 */
int guest_fetch_insn(const struct guest_paging_state *st, uint64_t rip,
		     struct guest_insn_fetch *f, const struct guest_mem_ops *mem, void *ctx);

#endif
