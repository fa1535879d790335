#include "kernel/ksyms.h"

struct ksym {
	uint64_t addr;
	const char *name;
};

/* Weak: the first link pass has no table yet. */
extern const struct ksym ksym_table[] __attribute__((weak));
extern const uint64_t ksym_count __attribute__((weak));
extern char __text_end[];

const char *ksym_lookup(uint64_t addr, uint64_t *offset)
{
	if (!&ksym_count || !ksym_table || addr >= (uint64_t)__text_end)
		return NULL;
	/* the table is sorted by address: binary search for the last entry <= addr */
	size_t lo = 0, hi = ksym_count;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (ksym_table[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (!ksym_count || ksym_table[lo].addr > addr)
		return NULL;
	*offset = addr - ksym_table[lo].addr;
	return ksym_table[lo].name;
}
