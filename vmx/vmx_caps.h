/*
 * VMX capability arithmetic, pure so it is unit-tested on the host: control
 * fields are computed from the allowed-0/allowed-1 settings the capability
 * MSRs report (SDM Vol. 3D appendix A.3-A.5), never hard-coded.
 */
#ifndef HV_VMX_VMX_CAPS_H
#define HV_VMX_VMX_CAPS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * cap: the capability MSR (low dword: bits that must be 1; high dword:
 * bits that may be 1). want: bits we ask for; need: those of them we cannot
 * do without. Returns false (and the missing bits) if a needed bit may not
 * be set; otherwise *out holds the value to write.
 */
bool vmx_adjust_controls(uint64_t cap, uint32_t want, uint32_t need, uint32_t *out,
			 uint32_t *missing);

/* CR0/CR4 under VMX: bits fixed to 1 (FIXED0 MSR) and to 0 (not in FIXED1). */
uint64_t vmx_fix_cr(uint64_t value, uint64_t fixed0, uint64_t fixed1);

/* EPT pointer (Vol. 3C §25.6.11): 4-level walk, write-back tables. */
uint64_t vmx_eptp(uint64_t root);

/* EPT leaf and table entry bits (Vol. 3C §29.3.2) */
#define EPT_READ (1ull << 0)
#define EPT_WRITE (1ull << 1)
#define EPT_EXEC (1ull << 2)
#define EPT_MEMTYPE_WB (6ull << 3)

#endif
