#include "ept/gpa_map.h"

#include "kernel/lib/string.h"

int gpa_map_init(struct gpa_map *m, uint64_t ram_bytes, uint64_t *chunk_table,
		 uint64_t (*alloc_chunk)(void *ctx), void (*free_chunk)(void *ctx, uint64_t hpa),
		 void *ctx, void *(*phys_to_virt)(uint64_t))
{
	memset(m, 0, sizeof(*m));
	if (ram_bytes == 0 || ram_bytes % GPA_CHUNK_SIZE || ram_bytes > GPA_RAM_MAX)
		return -1;
	m->phys_to_virt = phys_to_virt;
	m->chunk_hpa = chunk_table;
	for (size_t i = 0; i < ram_bytes / GPA_CHUNK_SIZE; i++) {
		uint64_t hpa = alloc_chunk(ctx);
		if (!hpa || hpa % GPA_CHUNK_SIZE) {
			if (hpa)
				free_chunk(ctx, hpa);
			gpa_map_release(m, free_chunk, ctx);
			return -1;
		}
		m->chunk_hpa[m->nchunks++] = hpa;
	}
	m->ram_bytes = ram_bytes;
	gpa_ram_split(ram_bytes, &m->low_bytes, &m->high_bytes);
	return 0;
}

void gpa_map_release(struct gpa_map *m, void (*free_chunk)(void *ctx, uint64_t hpa), void *ctx)
{
	for (size_t i = 0; i < m->nchunks; i++)
		free_chunk(ctx, m->chunk_hpa[i]);
	m->nchunks = 0;
	m->ram_bytes = m->low_bytes = m->high_bytes = 0;
}

/*
 * The RAM region holding gpa: its offset in the RAM (the chunk table's
 * order) and the bytes of the region from gpa on; false outside RAM.
 */
static bool ram_offset(const struct gpa_map *m, uint64_t gpa, uint64_t *off, uint64_t *left)
{
	if (gpa < m->low_bytes) {
		*off = gpa;
		*left = m->low_bytes - gpa;
		return true;
	}
	if (gpa >= GPA_HIGH_RAM_BASE && gpa - GPA_HIGH_RAM_BASE < m->high_bytes) {
		*off = m->low_bytes + (gpa - GPA_HIGH_RAM_BASE);
		*left = m->high_bytes - (gpa - GPA_HIGH_RAM_BASE);
		return true;
	}
	return false;
}

/* ---- lazy zeroing ---- */

static bool bit_get(const uint64_t *bits, size_t i)
{
	return (__atomic_load_n(&bits[i / 64], __ATOMIC_ACQUIRE) >> (i % 64)) & 1;
}

static void bit_clear(uint64_t *bits, size_t i)
{
	/* release: whoever sees it clear sees the zeroed chunk (or its mapping) */
	__atomic_fetch_and(&bits[i / 64], ~(1ull << (i % 64)), __ATOMIC_RELEASE);
}

size_t gpa_lazy_words(const struct gpa_map *m)
{
	return (m->nchunks + 63) / 64;
}

void gpa_map_set_lazy(struct gpa_map *m, struct gpa_lazy *l, uint64_t *unzeroed, uint64_t *unmapped)
{
	size_t words = gpa_lazy_words(m);
	*l = (struct gpa_lazy){.lock = SPINLOCK_INIT, .unzeroed = unzeroed, .unmapped = unmapped};
	for (size_t w = 0; w < words; w++) {
		size_t left = m->nchunks - w * 64;
		uint64_t all = left >= 64 ? ~0ull : (1ull << left) - 1;
		unzeroed[w] = unmapped[w] = all;
	}
	m->lazy = l;
}

/* Zeroes chunk i if it still waits for that; the lock is held. */
static void zero_locked(const struct gpa_map *m, size_t i)
{
	struct gpa_lazy *l = m->lazy;
	if (!bit_get(l->unzeroed, i))
		return;
	memset(m->phys_to_virt(m->chunk_hpa[i]), 0, GPA_CHUNK_SIZE);
	l->zeroed++;
	bit_clear(l->unzeroed, i);
}

/* Chunk i is zeroed before anyone reads or writes it (cheap once it is). */
static void touch(const struct gpa_map *m, size_t i)
{
	struct gpa_lazy *l = m->lazy;
	if (!l || !bit_get(l->unzeroed, i))
		return;
	/* interrupts off: a chunk's zeroing is short, and nothing may wait on it here */
	uint64_t flags = spin_lock_irqsave(&l->lock);
	zero_locked(m, i);
	spin_unlock_irqrestore(&l->lock, flags);
}

void gpa_map_zero_now(const struct gpa_map *m)
{
	struct gpa_lazy *l = m->lazy;
	if (!l)
		return;
	for (size_t i = 0; i < m->nchunks; i++) {
		touch(m, i);
		bit_clear(l->unmapped, i);
	}
}

int gpa_map_fault(const struct gpa_map *m, uint64_t gpa, int (*map)(void *ctx), void *ctx)
{
	struct gpa_lazy *l = m->lazy;
	uint64_t off, left;
	if (!l || !ram_offset(m, gpa, &off, &left))
		return -1;
	size_t i = (size_t)(off >> GPA_CHUNK_SHIFT);
	if (!bit_get(l->unmapped, i))
		return 0;
	int r = 1;
	uint64_t flags = spin_lock_irqsave(&l->lock);
	if (bit_get(l->unmapped, i)) {
		zero_locked(m, i); /* before the guest can see it */
		l->emit_only = i + 1;
		if (map(ctx) < 0)
			r = -1;
		else
			bit_clear(l->unmapped, i);
		l->emit_only = 0;
	} else {
		r = 0;
	}
	spin_unlock_irqrestore(&l->lock, flags);
	return r;
}

int gpa_map_expose_zeroed(const struct gpa_map *m, int (*map)(void *ctx), void *ctx)
{
	const struct gpa_lazy *l = m->lazy;
	size_t low_chunks = (size_t)(m->low_bytes >> GPA_CHUNK_SHIFT);
	if (!l)
		return 0;
	for (size_t i = 0; i < m->nchunks; i++) {
		if (bit_get(l->unzeroed, i) || !bit_get(l->unmapped, i))
			continue;
		uint64_t gpa = i < low_chunks ? (uint64_t)i * GPA_CHUNK_SIZE
					      : GPA_HIGH_RAM_BASE + (uint64_t)(i - low_chunks) * GPA_CHUNK_SIZE;
		if (gpa_map_fault(m, gpa, map, ctx) < 0)
			return -1;
	}
	return 0;
}

uint64_t gpa_map_zeroed_bytes(const struct gpa_map *m)
{
	return m->lazy ? __atomic_load_n(&m->lazy->zeroed, __ATOMIC_RELAXED) * GPA_CHUNK_SIZE : 0;
}

bool gpa_to_hpa(const struct gpa_map *m, uint64_t gpa, uint64_t *hpa)
{
	uint64_t off, left;
	if (!ram_offset(m, gpa, &off, &left))
		return false;
	touch(m, (size_t)(off >> GPA_CHUNK_SHIFT));
	*hpa = m->chunk_hpa[off >> GPA_CHUNK_SHIFT] + (off & (GPA_CHUNK_SIZE - 1));
	return true;
}

bool gpa_is_ram(const struct gpa_map *m, uint64_t gpa, uint64_t len)
{
	uint64_t off, left;
	return len && ram_offset(m, gpa, &off, &left) && len <= left;
}

/* Walks [gpa, gpa+len) chunk by chunk; op 0 write, 1 read, 2 zero. */
static int copy(const struct gpa_map *m, uint64_t gpa, void *buf, size_t len, int op)
{
	uint8_t *p = buf;
	uint64_t off, left;

	/* one region holds it all: nothing is copied into, or out of, the hole */
	if (!ram_offset(m, gpa, &off, &left) || len > left)
		return -1;
	while (len) {
		uint64_t hpa = 0;
		size_t n = (size_t)(GPA_CHUNK_SIZE - (gpa & (GPA_CHUNK_SIZE - 1)));
		if (n > len)
			n = len;
		if (op == 2 && m->lazy && ram_offset(m, gpa, &off, &left) &&
		    bit_get(m->lazy->unzeroed, (size_t)(off >> GPA_CHUNK_SHIFT))) {
			gpa += n; /* zeroed at its first use anyway */
			len -= n;
			continue;
		}
		gpa_to_hpa(m, gpa, &hpa);
		uint8_t *host = m->phys_to_virt(hpa);
		if (op == 0)
			memcpy(host, p, n);
		else if (op == 1)
			memcpy(p, host, n);
		else
			memset(host, 0, n);
		if (p)
			p += n;
		gpa += n;
		len -= n;
	}
	return 0;
}

int gpa_write(const struct gpa_map *m, uint64_t gpa, const void *src, size_t len)
{
	return copy(m, gpa, (void *)src, len, 0);
}

int gpa_read(const struct gpa_map *m, uint64_t gpa, void *dst, size_t len)
{
	return copy(m, gpa, dst, len, 1);
}

int gpa_zero(const struct gpa_map *m, uint64_t gpa, size_t len)
{
	return copy(m, gpa, NULL, len, 2);
}

void gpa_zero_all(const struct gpa_map *m)
{
	if (m->low_bytes)
		gpa_zero(m, 0, m->low_bytes);
	if (m->high_bytes)
		gpa_zero(m, GPA_HIGH_RAM_BASE, m->high_bytes);
}

int gpa_map_for_each_run(const struct gpa_map *m,
			 int (*emit)(void *ctx, uint64_t gpa, uint64_t hpa, uint64_t size), void *ctx)
{
	size_t low_chunks = (size_t)(m->low_bytes >> GPA_CHUNK_SHIFT);
	const struct gpa_lazy *l = m->lazy;
	if (l && l->emit_only) {
		size_t k = l->emit_only - 1;
		uint64_t gpa = k < low_chunks ? (uint64_t)k * GPA_CHUNK_SIZE
					      : GPA_HIGH_RAM_BASE + (uint64_t)(k - low_chunks) * GPA_CHUNK_SIZE;
		return emit(ctx, gpa, m->chunk_hpa[k], GPA_CHUNK_SIZE);
	}
	size_t i = 0;
	while (i < m->nchunks) {
		if (l && bit_get(l->unmapped, i)) {
			i++; /* mapped at the guest's first touch */
			continue;
		}
		/* a run stays on its side of the hole */
		size_t end = i < low_chunks ? low_chunks : m->nchunks;
		size_t j = i + 1;
		while (j < end && !(l && bit_get(l->unmapped, j)) &&
		       m->chunk_hpa[j] == m->chunk_hpa[i] + (uint64_t)(j - i) * GPA_CHUNK_SIZE)
			j++;
		uint64_t gpa = i < low_chunks ? (uint64_t)i * GPA_CHUNK_SIZE
					      : GPA_HIGH_RAM_BASE +
						    (uint64_t)(i - low_chunks) * GPA_CHUNK_SIZE;
		int r = emit(ctx, gpa, m->chunk_hpa[i], (uint64_t)(j - i) * GPA_CHUNK_SIZE);
		if (r < 0)
			return r;
		i = j;
	}
	return 0;
}
