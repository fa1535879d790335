#include "kernel/cpu/entropy.h"

#include <stdint.h>

#include "kernel/cpu/features.h"
#include "kernel/lib/string.h"

#define RETRIES 10 /* Intel's DRNG guide: RDRAND failing 10 times in a row means a broken part */

static bool rdseed64(uint64_t *v)
{
	uint8_t ok;
	__asm__ volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
	return ok;
}

static bool rdrand64(uint64_t *v)
{
	uint8_t ok;
	__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
	return ok;
}

bool entropy_available(void)
{
	return host_cpu.rdseed || host_cpu.rdrand;
}

static bool one_word(uint64_t *v)
{
	for (unsigned i = 0; host_cpu.rdseed && i < RETRIES; i++)
		if (rdseed64(v))
			return true;
	for (unsigned i = 0; host_cpu.rdrand && i < RETRIES; i++)
		if (rdrand64(v))
			return true;
	return false;
}

size_t entropy_fill(void *buf, size_t n)
{
	uint8_t *p = buf;
	size_t done = 0;
	while (done < n) {
		uint64_t w;
		if (!one_word(&w))
			break;
		size_t take = n - done < sizeof(w) ? n - done : sizeof(w);
		memcpy(p + done, &w, take);
		done += take;
	}
	return done;
}
