/*
 * Which CPUID leaves and sub-leaves a dump covers, shared by the two dumpers
 * (tests/tools/cpuid_dump_host.c on this machine's CPU, tests/guests/cpuid_dump.c
 * inside QEMU and Bochs), so every stored dump in tests/data/cpuid/ has the
 * same shape.
 *
 * A leaf that ignores ECX is dumped once, as sub-leaf 0. A leaf indexed by
 * ECX is dumped for sub-leaves 0..N (N below), every one of them, so a
 * reader can tell the two kinds apart by counting lines: one line per leaf
 * means "the same answer whatever ECX holds".
 *
 * Header-only and free of any library: the 32-bit test guest includes it too.
 */
#ifndef TESTS_TOOLS_CPUID_WALK_H
#define TESTS_TOOLS_CPUID_WALK_H

#include <stdint.h>

struct cpuid_walk_regs {
	uint32_t eax, ebx, ecx, edx;
};

typedef void (*cpuid_walk_query)(uint32_t leaf, uint32_t sub, struct cpuid_walk_regs *r);
typedef void (*cpuid_walk_emit)(uint32_t leaf, uint32_t sub, const struct cpuid_walk_regs *r);

/* The last sub-leaf dumped for an ECX-indexed leaf, or 0 for a leaf that ignores ECX. */
static inline uint32_t cpuid_walk_last_subleaf(uint32_t leaf)
{
	switch (leaf) {
	case 0xd: /* XSAVE: one sub-leaf per state component, 0..62 */
		return 63;
	case 0x4:  /* deterministic cache parameters */
	case 0x7:  /* structured extended features */
	case 0xb:  /* extended topology */
	case 0xf:  /* RDT monitoring */
	case 0x10: /* RDT allocation */
	case 0x12: /* SGX */
	case 0x14: /* processor trace */
	case 0x17: /* SoC vendor */
	case 0x18: /* deterministic address translation */
	case 0x1a: /* hybrid core type */
	case 0x1b: /* PCONFIG */
	case 0x1d: /* AMX tile information */
	case 0x1e: /* AMX TMUL information */
	case 0x1f: /* V2 extended topology */
	case 0x20: /* HRESET */
	case 0x23: /* architectural performance monitoring extended */
	case 0x24: /* AVX10 */
	case 0x8000001d: /* AMD cache topology */
	case 0x80000020: /* AMD platform QoS */
	case 0x80000026: /* AMD extended CPU topology */
		return 15;
	default:
		return 0;
	}
}

/* Basic leaves 0..max (at most 0x3f), then extended leaves (at most 0x80000040). */
static inline void cpuid_walk(cpuid_walk_query query, cpuid_walk_emit emit)
{
	struct cpuid_walk_regs r;
	uint32_t bases[2] = {0, 0x80000000u};

	for (int b = 0; b < 2; b++) {
		query(bases[b], 0, &r);
		uint32_t max = r.eax;
		if (max < bases[b] || max - bases[b] > 0x40)
			max = max < bases[b] ? bases[b] : bases[b] + 0x40;
		for (uint32_t leaf = bases[b]; leaf <= max; leaf++) {
			uint32_t last = cpuid_walk_last_subleaf(leaf);
			for (uint32_t sub = 0; sub <= last; sub++) {
				query(leaf, sub, &r);
				emit(leaf, sub, &r);
			}
		}
	}
}

#endif
