/*
 * Guest FPU/SSE/AVX state. The host never touches these registers (it is
 * built without x87/SSE), so a core holds the state of the vCPU it last ran;
 * when a core switches vCPUs, the old one's registers and XCR0 are saved
 * (XSAVE, or FXSAVE where XSAVE is missing) and the new one's restored.
 */
#ifndef HV_CPU_FPU_H
#define HV_CPU_FPU_H

#include <stdbool.h>
#include <stdint.h>

struct fpu_state {
	void *area;    /* XSAVE area (64-byte aligned), or FXSAVE's 512 bytes */
	uint64_t xcr0; /* the guest's XCR0 (1 until it sets one) */
};

/* Once, on the boot CPU: picks XSAVE or FXSAVE and the area's size. */
void fpu_init(void);
/* Bytes one vCPU's area takes. */
uint64_t fpu_area_size(void);
/* A vCPU's state as after power-on (x87 FCW 0x37f, MXCSR 0x1f80, the rest zero); -1 if out of memory. */
int fpu_state_alloc(struct fpu_state *f);
void fpu_state_reset(struct fpu_state *f);
void fpu_state_free(struct fpu_state *f);
/* The XCR0 the core holds now (the loaded vCPU's, in an exit handler); 1 without XSAVE. */
uint64_t fpu_current_xcr0(void);
/* The core's registers into f (with the XCR0 in force), and back. */
void fpu_save(struct fpu_state *f);
void fpu_restore(const struct fpu_state *f);
/* fpu_save(from) then fpu_restore(to), in one go (a core switching vCPUs). */
void fpu_switch(struct fpu_state *from, const struct fpu_state *to);

#endif
