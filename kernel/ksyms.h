/*
 * Names for code addresses in backtraces. The table is generated from the
 * linked image (scripts/gen-ksyms.sh) and linked in by a second link pass.
 */
#ifndef HV_KSYMS_H
#define HV_KSYMS_H

#include <stddef.h>
#include <stdint.h>

/* Finds the function containing addr; returns its name (and the offset) or NULL. */
const char *ksym_lookup(uint64_t addr, uint64_t *offset);

#endif
