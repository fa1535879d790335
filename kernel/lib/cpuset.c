#include "kernel/lib/cpuset.h"

#include "kernel/lib/format.h"
#include "kernel/lib/string.h"

static void range_op(struct cpuset *s, unsigned lo, unsigned hi, bool add)
{
	if (hi >= CPUSET_MAX)
		hi = CPUSET_MAX - 1;
	/* a word at a time: "0-1023" is 16 stores, not 1024 */
	for (unsigned c = lo; c <= hi && c < CPUSET_MAX;) {
		unsigned bit = c % 64, last = hi - c + bit < 63 ? hi - c + bit : 63;
		uint64_t mask = (last == 63 ? ~0ull : (1ull << (last + 1)) - 1) & ~((1ull << bit) - 1);
		if (add)
			s->w[c / 64] |= mask;
		else
			s->w[c / 64] &= ~mask;
		c += last - bit + 1;
	}
}

void cpuset_add_range(struct cpuset *s, unsigned lo, unsigned hi)
{
	range_op(s, lo, hi, true);
}

void cpuset_del_range(struct cpuset *s, unsigned lo, unsigned hi)
{
	range_op(s, lo, hi, false);
}

void cpuset_fill(struct cpuset *s, unsigned n)
{
	cpuset_clear(s);
	if (n)
		range_op(s, 0, n - 1, true);
}

bool cpuset_empty(const struct cpuset *s)
{
	uint64_t any = 0;
	for (unsigned i = 0; i < CPUSET_WORDS; i++)
		any |= s->w[i];
	return !any;
}

unsigned cpuset_count(const struct cpuset *s)
{
	unsigned n = 0;
	for (unsigned i = 0; i < CPUSET_WORDS; i++)
		n += (unsigned)__builtin_popcountll(s->w[i]);
	return n;
}

bool cpuset_equal(const struct cpuset *a, const struct cpuset *b)
{
	for (unsigned i = 0; i < CPUSET_WORDS; i++)
		if (a->w[i] != b->w[i])
			return false;
	return true;
}

bool cpuset_intersects(const struct cpuset *a, const struct cpuset *b)
{
	for (unsigned i = 0; i < CPUSET_WORDS; i++)
		if (a->w[i] & b->w[i])
			return true;
	return false;
}

bool cpuset_subset(const struct cpuset *a, const struct cpuset *of)
{
	for (unsigned i = 0; i < CPUSET_WORDS; i++)
		if (a->w[i] & ~of->w[i])
			return false;
	return true;
}

void cpuset_and(struct cpuset *d, const struct cpuset *a, const struct cpuset *b)
{
	for (unsigned i = 0; i < CPUSET_WORDS; i++)
		d->w[i] = a->w[i] & b->w[i];
}

void cpuset_or(struct cpuset *d, const struct cpuset *a, const struct cpuset *b)
{
	for (unsigned i = 0; i < CPUSET_WORDS; i++)
		d->w[i] = a->w[i] | b->w[i];
}

void cpuset_andnot(struct cpuset *d, const struct cpuset *a, const struct cpuset *b)
{
	for (unsigned i = 0; i < CPUSET_WORDS; i++)
		d->w[i] = a->w[i] & ~b->w[i];
}

unsigned cpuset_next(const struct cpuset *s, unsigned from)
{
	if (from >= CPUSET_MAX)
		return CPUSET_MAX;
	unsigned i = from / 64;
	uint64_t w = s->w[i] & (~0ull << (from % 64));
	for (;;) {
		if (w)
			return i * 64 + (unsigned)__builtin_ctzll(w);
		if (++i == CPUSET_WORDS)
			return CPUSET_MAX;
		w = s->w[i];
	}
}

/* ---- text ---- */

/* Digits only: "0x" or a sign has no business in a core list. */
static size_t parse_decimal(const char *s, size_t len, uint64_t *out)
{
	size_t n = 0;
	while (n < len && s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0 || parse_u64(s, n, out) != n)
		return 0;
	return n;
}

static int check_core(uint64_t cpu, unsigned host, char *err, size_t errlen)
{
	if (cpu < host && cpu < CPUSET_MAX)
		return 0;
	if (cpu >= host) {
		if (host == 1)
			format(err, errlen, "host core %llu does not exist (the host has only core 0)",
			       (unsigned long long)cpu);
		else if (host)
			format(err, errlen, "host core %llu does not exist (the host has cores 0-%u)",
			       (unsigned long long)cpu, host - 1);
		else
			format(err, errlen, "host core %llu does not exist", (unsigned long long)cpu);
	} else {
		format(err, errlen, "host core %llu is past the %d this hypervisor supports",
		       (unsigned long long)cpu, CPUSET_MAX);
	}
	return -1;
}

int cpuset_parse(const char *s, size_t len, unsigned host_cores, struct cpuset *out, char *err,
		 size_t errlen)
{
	size_t p = 0;
	unsigned host = host_cores < CPUSET_MAX ? host_cores : CPUSET_MAX;

	cpuset_clear(out);
	for (;;) {
		bool del = p < len && s[p] == '^';
		uint64_t lo, hi;
		size_t n;

		p += del;
		if (len - p >= 3 && memcmp(s + p, "all", 3) == 0) {
			p += 3;
			lo = 0;
			hi = host ? host - 1 : 0;
			if (!host)
				goto next; /* no cores: "all" is none */
		} else {
			n = parse_decimal(s + p, len - p, &lo);
			if (!n)
				goto syntax;
			p += n;
			hi = lo;
			if (p < len && s[p] == '-') {
				n = parse_decimal(s + p + 1, len - p - 1, &hi);
				if (!n)
					goto syntax;
				p += 1 + n;
				if (hi < lo) {
					format(err, errlen, "range %llu-%llu goes backwards",
					       (unsigned long long)lo, (unsigned long long)hi);
					goto fail;
				}
			}
			if (check_core(hi, host_cores, err, errlen) < 0)
				goto fail;
		}
		range_op(out, (unsigned)lo, (unsigned)hi, !del);
next:
		if (p == len)
			break;
		if (s[p] != ',')
			goto syntax;
		p++;
	}
	if (cpuset_empty(out)) {
		format(err, errlen, "\"%.*s\" leaves no host core", (int)(len < 40 ? len : 40), s);
		goto fail;
	}
	return 0;
syntax:
	format(err, errlen,
	       "\"%.*s\" is not a list of host cores (expected N, N-M or all, each may start with ^ "
	       "to leave those out, comma-separated)",
	       (int)(len < 40 ? len : 40), s);
fail:
	cpuset_clear(out);
	return -1;
}

size_t cpuset_format(const struct cpuset *s, char *buf, size_t len)
{
	size_t need = 0, at = 0;
	bool cut = false;
	char item[24];

	if (len)
		buf[0] = 0;
	for (unsigned lo = cpuset_first(s); lo < CPUSET_MAX;) {
		unsigned hi = lo;
		while (hi + 1 < CPUSET_MAX && cpuset_has(s, hi + 1))
			hi++;
		unsigned next = cpuset_next(s, hi + 1);
		int n = lo == hi ? format(item, sizeof(item), "%s%u", need ? "," : "", lo)
				 : format(item, sizeof(item), "%s%u-%u", need ? "," : "", lo, hi);
		need += (size_t)n;
		if (!cut) {
			/* a cut list ends in "..." after a whole item, never inside one */
			size_t room = len > at ? len - at - 1 : 0;
			size_t reserve = next < CPUSET_MAX ? 3 : 0;
			if ((size_t)n + reserve <= room) {
				memcpy(buf + at, item, (size_t)n + 1);
				at += (size_t)n;
			} else {
				cut = true;
				if (len >= 4) {
					if (at + 3 >= len)
						at = len - 4;
					memcpy(buf + at, "...", 4);
				}
			}
		}
		lo = next;
	}
	return need;
}
