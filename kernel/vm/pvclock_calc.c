/* The pvclock scale and readings (pvclock.h): pure arithmetic. */
#include "kernel/vm/pvclock.h"


uint64_t pvclock_khz(uint32_t mul, int8_t shift)
{
	if (!mul)
		return 0;
	uint64_t khz = (1000000ull << 32) / mul;
	return shift < 0 ? khz << -shift : khz >> shift;
}

void pvclock_scale(uint32_t tsc_khz, uint32_t *mul, int8_t *shift)
{
	/*
	 * ns per tick = 10^6 / khz = mul * 2^shift / 2^32: the smallest shift
	 * that brings mul under 2^32 keeps the most precision. The floor of
	 * the exact mul errs by under one part in mul, which moves Linux's
	 * floor((10^6 << 32) / mul) by less than one unit for any TSC below
	 * some 65 GHz: the try below confirms it.
	 */
	int8_t s = 0;
	while (s < 31 && ((uint64_t)tsc_khz << s) <= 1000000ull)
		s++;
	unsigned __int128 num = (unsigned __int128)1000000ull << 32;
	uint64_t m = (uint64_t)(num / ((uint64_t)tsc_khz << s));
	for (uint64_t c = m + 1; c + 2 >= m && c; c--) {
		if (c <= 0xffffffffull && pvclock_khz((uint32_t)c, s) == tsc_khz) {
			m = c;
			break;
		}
	}
	*mul = m > 0xffffffffull ? 0xffffffffu : (uint32_t)m;
	*shift = s;
}

uint64_t pvclock_read_ns(const struct pvclock_time_info *t, uint64_t tsc)
{
	uint64_t delta = tsc - t->tsc_timestamp;
	delta = t->tsc_shift < 0 ? delta >> -t->tsc_shift : delta << t->tsc_shift;
	return t->system_time + (uint64_t)(((unsigned __int128)delta * t->tsc_to_system_mul) >> 32);
}

bool pvclock_cpuid(uint32_t leaf, uint32_t out[4])
{
	static const char sig[12] = KVM_CPUID_SIGNATURE;
	if (leaf < KVM_CPUID_BASE || leaf >= KVM_CPUID_BASE + 0x100)
		return false;
	out[0] = out[1] = out[2] = out[3] = 0;
	if (leaf == KVM_CPUID_BASE) {
		out[0] = KVM_CPUID_BASE + 1; /* KVM_CPUID_FEATURES is the last leaf */
		for (unsigned i = 0; i < 12; i++)
			out[1 + i / 4] |= (uint32_t)(uint8_t)sig[i] << (8 * (i % 4));
	} else if (leaf == KVM_CPUID_BASE + 1) {
		out[0] = KVM_FEATURES_OFFERED; /* EDX: no hints (not "realtime") */
	}
	return true;
}
