/*
 * Intel EPT (SDM Vol. 3C §29.3): the same guest-physical map as NPT, written
 * with EPT's permission bits (read, write, execute) and write-back memory
 * type. The walk is the same four levels, so the page-table builder serves.
 */
#ifndef HV_EPT_EPT_H
#define HV_EPT_EPT_H

#include "ept/gpa_map.h"
#include "kernel/mm/pagetable.h"

int ept_build(const struct gpa_map *m, struct pagetable *pt, bool gbpages);
/* A device's registers at hpa, read/write, not executable, memory type UC (0). 0 or -1. */
int ept_map_mmio(struct pagetable *pt, uint64_t gpa, uint64_t hpa, uint64_t size);

#endif
