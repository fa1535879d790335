#include "kernel/cpu/fpu.h"

#include "include/x86.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"

static bool use_xsave;
static uint64_t area_size = 512; /* FXSAVE's */
/*
 * The XCR0 in force while saving and restoring: every component the host
 * supports (x87, SSE, AVX, AVX-512, PKRU). A guest that never set XCR0 still
 * uses SSE, and XSAVE saves only what XCR0 enables.
 */
static uint64_t full_xcr0;

#define CR4_OSXSAVE (1ul << 18)

void fpu_init(void)
{
	struct cpuid_regs r;
	cpuid(1, &r);
	if ((r.ecx & (1u << 26)) && (read_cr4() & CR4_OSXSAVE)) {
		struct cpuid_regs d;
		cpuid_count(0xd, 0, &d);
		use_xsave = true;
		full_xcr0 = (d.eax | (uint64_t)d.edx << 32) & 0x2e7;
		/* ECX: the size for every component this CPU supports, whatever XCR0 the guest picks */
		area_size = d.ecx > 576 ? d.ecx : 576;
	}
	printk("hv: guest FPU state: %s, %llu bytes per vCPU\n", use_xsave ? "XSAVE" : "FXSAVE",
	       (unsigned long long)area_size);
}

uint64_t fpu_area_size(void)
{
	return area_size;
}

static uint64_t area_pages(void)
{
	return (area_size + FRAME_SIZE - 1) / FRAME_SIZE;
}

void fpu_state_reset(struct fpu_state *f)
{
	uint8_t *a = f->area;
	memset(a, 0, area_size);
	/* legacy area: FCW at 0, MXCSR at 24; an XSAVE header of zeros means "initial state" */
	a[0] = 0x7f;
	a[1] = 0x03;
	a[24] = 0x80;
	a[25] = 0x1f;
	f->xcr0 = 1;
}

int fpu_state_alloc(struct fpu_state *f)
{
	uint64_t pa = frame_alloc_contig(&host_frames, area_pages(), FRAME_SIZE);
	if (!pa)
		return -1;
	f->area = phys_to_virt(pa);
	fpu_state_reset(f);
	return 0;
}

void fpu_state_free(struct fpu_state *f)
{
	if (!f->area)
		return;
	frame_free_contig(&host_frames, (uint64_t)(uintptr_t)f->area, area_pages()); /* identity-mapped */
	f->area = NULL;
}

static inline uint64_t xgetbv0(void)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

static inline void xsetbv0(uint64_t v)
{
	__asm__ volatile("xsetbv" ::"c"(0), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

uint64_t fpu_current_xcr0(void)
{
	return use_xsave ? xgetbv0() : 1;
}

void fpu_save(struct fpu_state *f)
{
	if (use_xsave) {
		f->xcr0 = xgetbv0();
		if (f->xcr0 != full_xcr0)
			xsetbv0(full_xcr0);
		__asm__ volatile("xsave64 (%0)" ::"r"(f->area), "a"(~0u), "d"(~0u) : "memory");
	} else {
		__asm__ volatile("fxsave64 (%0)" ::"r"(f->area) : "memory");
	}
}

void fpu_restore(const struct fpu_state *f)
{
	if (use_xsave) {
		if (xgetbv0() != full_xcr0)
			xsetbv0(full_xcr0);
		__asm__ volatile("xrstor64 (%0)" ::"r"(f->area), "a"(~0u), "d"(~0u) : "memory");
		if (f->xcr0 != full_xcr0)
			xsetbv0(f->xcr0);
	} else {
		__asm__ volatile("fxrstor64 (%0)" ::"r"(f->area) : "memory");
	}
}

void fpu_switch(struct fpu_state *from, const struct fpu_state *to)
{
	if (!use_xsave) {
		__asm__ volatile("fxsave64 (%0)" ::"r"(from->area) : "memory");
		__asm__ volatile("fxrstor64 (%0)" ::"r"(to->area) : "memory");
		return;
	}
	from->xcr0 = xgetbv0();
	if (from->xcr0 != full_xcr0)
		xsetbv0(full_xcr0);
	__asm__ volatile("xsave64 (%0)" ::"r"(from->area), "a"(~0u), "d"(~0u) : "memory");
	/* XCR0 is the full set here: the restore needs no second look at it */
	__asm__ volatile("xrstor64 (%0)" ::"r"(to->area), "a"(~0u), "d"(~0u) : "memory");
	if (to->xcr0 != full_xcr0)
		xsetbv0(to->xcr0);
}
