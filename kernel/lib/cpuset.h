/*
 * A set of host cores: one bit per core index (the dense index the boot
 * gives each core, 0 = the boot CPU; never an APIC ID, which may be sparse).
 * One type for every host-core set: a VM's `cpus`, a vCPU's affinity and the
 * cores it ran on, owned cores, the scheduler's usable cores, IPI targets.
 *
 * Fixed size, CPUSET_MAX bits, rather than sized at boot: a set is a plain
 * value (copied into a VM's config, kept per vCPU, built on the stack), and
 * 1024 bits are 128 bytes. 1024 covers today's largest x86 machines (two
 * sockets of 192 cores with SMT: 768 threads). Per-core data (struct cpu,
 * stacks, run queues) is allocated at boot for the cores present; only the
 * limit comes from here. An operation on a whole set is 16 words: cheap
 * enough that no path needs to know how many cores the host has.
 *
 * Text form (xl's CPU-LIST, without its "nodes:" form): comma-separated items
 * N, N-M or "all", each optionally preceded by ^ to remove those cores
 * instead; items apply left to right ("all,^0" is every core but 0).
 *
 * Pure logic: hosted unit tests (tests/unit/test_cpuset.c) drive it.
 */
#ifndef HV_LIB_CPUSET_H
#define HV_LIB_CPUSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CPUSET_MAX 1024 /* host cores this build supports */
#define CPUSET_WORDS (CPUSET_MAX / 64)

struct cpuset {
	uint64_t w[CPUSET_WORDS];
};

static inline void cpuset_clear(struct cpuset *s)
{
	for (unsigned i = 0; i < CPUSET_WORDS; i++)
		s->w[i] = 0;
}

static inline void cpuset_add(struct cpuset *s, unsigned cpu)
{
	if (cpu < CPUSET_MAX)
		s->w[cpu / 64] |= 1ull << (cpu % 64);
}

static inline void cpuset_del(struct cpuset *s, unsigned cpu)
{
	if (cpu < CPUSET_MAX)
		s->w[cpu / 64] &= ~(1ull << (cpu % 64));
}

static inline bool cpuset_has(const struct cpuset *s, unsigned cpu)
{
	return cpu < CPUSET_MAX && (s->w[cpu / 64] >> (cpu % 64) & 1);
}

/* The set of exactly one core. */
static inline void cpuset_only(struct cpuset *s, unsigned cpu)
{
	cpuset_clear(s);
	cpuset_add(s, cpu);
}

/* Cores 0..n-1 (n at most CPUSET_MAX). */
void cpuset_fill(struct cpuset *s, unsigned n);
/* Adds or removes cores lo..hi (inclusive, clipped to CPUSET_MAX). */
void cpuset_add_range(struct cpuset *s, unsigned lo, unsigned hi);
void cpuset_del_range(struct cpuset *s, unsigned lo, unsigned hi);

bool cpuset_empty(const struct cpuset *s);
unsigned cpuset_count(const struct cpuset *s);
bool cpuset_equal(const struct cpuset *a, const struct cpuset *b);
bool cpuset_intersects(const struct cpuset *a, const struct cpuset *b);
bool cpuset_subset(const struct cpuset *a, const struct cpuset *of);
void cpuset_and(struct cpuset *d, const struct cpuset *a, const struct cpuset *b);
void cpuset_or(struct cpuset *d, const struct cpuset *a, const struct cpuset *b);
void cpuset_andnot(struct cpuset *d, const struct cpuset *a, const struct cpuset *b);

/* The lowest core >= from in the set, or CPUSET_MAX when none. */
unsigned cpuset_next(const struct cpuset *s, unsigned from);
static inline unsigned cpuset_first(const struct cpuset *s)
{
	return cpuset_next(s, 0);
}

/* Every core in s, lowest first: for (CPUSET_FOR_EACH(c, s)) ... */
#define CPUSET_FOR_EACH(c, s) unsigned c = cpuset_first(s); c < CPUSET_MAX; c = cpuset_next(s, c + 1)

/*
 * Parses a CPU-LIST (above) of len bytes into *out. Cores must be below
 * host_cores (and CPUSET_MAX). Returns 0, or -1 with the reason in err
 * (`*out` is then empty). An empty result is an error ("leaves no core").
 */
int cpuset_parse(const char *s, size_t len, unsigned host_cores, struct cpuset *out, char *err,
		 size_t errlen);

/*
 * Writes the set as ranges ("0-3,8,100-199"; "" for none) into buf, always
 * NUL-terminated. Returns the length the whole text needs (as snprintf); a
 * text cut short ends in "..." so it is never read as a smaller set.
 */
size_t cpuset_format(const struct cpuset *s, char *buf, size_t len);

#endif
