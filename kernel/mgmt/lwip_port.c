/*
 * What lwIP asks of its NO_SYS port: a millisecond clock for its timers,
 * and random numbers for DHCP transaction ids, TCP initial sequence numbers
 * and local ports.
 */
#include "lwip/sys.h"

#include "kernel/cpu/entropy.h"
#include "kernel/time/tsc.h"

u32_t sys_now(void)
{
	return (u32_t)(uptime_us() / 1000); /* wraps after 49 days: lwIP's timers compare by difference */
}

/*
 * The CPU's generator when it has one. Without (QEMU's default CPU model),
 * a xorshift stream seeded from the TSC at first use and stirred with it on
 * every call: not secret, but different on every boot, which is what DHCP
 * ids and TCP sequence numbers need against accidental collisions.
 */
uint32_t lwip_port_rand(void)
{
	static uint64_t state;
	uint32_t v;

	if (entropy_available() && entropy_fill(&v, sizeof(v)) == sizeof(v))
		return v;
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	state ^= ((uint64_t)hi << 32 | lo) * 0x9e3779b97f4a7c15ull;
	if (!state)
		state = 0x2545f4914f6cdd1dull;
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return (uint32_t)(state >> 16);
}
