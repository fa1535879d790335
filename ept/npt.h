/*
 * AMD nested page tables (APM Vol. 2 §15.25): the guest-physical map written
 * in the long-mode page-table format, every guest access treated as a user
 * access, so leaves carry U.
 */
#ifndef HV_EPT_NPT_H
#define HV_EPT_NPT_H

#include "ept/gpa_map.h"
#include "kernel/mm/pagetable.h"

/* Builds tables for m into pt (already initialised, empty). 0 or -1. */
int npt_build(const struct gpa_map *m, struct pagetable *pt, bool gbpages);
/*
 * Maps [gpa, gpa+size) to a device's registers at hpa (a passed-through
 * BAR): uncached (PCD|PWT: PAT entry 3, UC in the power-on PAT, which
 * overrides whatever type the guest asks for). 0 or -1.
 */
int npt_map_mmio(struct pagetable *pt, uint64_t gpa, uint64_t hpa, uint64_t size);

#endif
