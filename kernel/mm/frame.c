#include "kernel/mm/frame.h"

#include "kernel/lib/string.h"

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

static uint64_t align_down(uint64_t x, uint64_t a)
{
	return x & ~(a - 1);
}

static bool overlaps(uint64_t s, uint64_t e, const struct phys_range *r)
{
	return s < r->end && r->start < e;
}

/* Is [s, e) free of every non-usable region and every reserved range? */
static bool range_is_clear(const struct mem_region *map, size_t n, const struct phys_range *res,
			   size_t nres, uint64_t s, uint64_t e)
{
	for (size_t i = 0; i < n; i++) {
		struct phys_range r = {map[i].base, map[i].base + map[i].length};
		if (map[i].type != MEM_USABLE && overlaps(s, e, &r))
			return false;
	}
	for (size_t i = 0; i < nres; i++)
		if (overlaps(s, e, &res[i]))
			return false;
	return true;
}

uint64_t phys_find_free(const struct mem_region *map, size_t n, const struct phys_range *reserved,
			size_t nres, uint64_t lo, uint64_t hi, uint64_t size, uint64_t align)
{
	for (size_t i = 0; i < n; i++) {
		if (map[i].type != MEM_USABLE)
			continue;
		uint64_t rs = map[i].base, re = map[i].base + map[i].length;
		if (rs < lo)
			rs = lo;
		if (re > hi)
			re = hi;
		for (uint64_t s = align_up(rs, align); s + size <= re && s + size > s; s += align) {
			if (range_is_clear(map, n, reserved, nres, s, s + size))
				return s;
		}
	}
	return UINT64_MAX;
}

static void bit_set(uint64_t *bm, uint64_t i)
{
	bm[i / 64] |= 1ull << (i % 64);
}

static void bit_clear(uint64_t *bm, uint64_t i)
{
	bm[i / 64] &= ~(1ull << (i % 64));
}

static bool bit_test(const uint64_t *bm, uint64_t i)
{
	return bm[i / 64] >> (i % 64) & 1;
}

static void mark_used(struct frame_allocator *fa, uint64_t s, uint64_t e)
{
	uint64_t first = align_down(s, FRAME_SIZE) >> FRAME_SHIFT;
	uint64_t last = align_up(e, FRAME_SIZE) >> FRAME_SHIFT;
	for (uint64_t f = first; f < last && f < fa->nframes; f++) {
		if (!bit_test(fa->bitmap, f)) {
			bit_set(fa->bitmap, f);
			fa->free_frames--;
			fa->managed_frames--;
		}
	}
}

int frame_init(struct frame_allocator *fa, const struct mem_region *map, size_t n,
	       const struct phys_range *reserved, size_t nres, uint64_t min_addr,
	       void *(*phys_to_virt)(uint64_t))
{
	uint64_t top = 0;

	memset(fa, 0, sizeof(*fa));
	for (size_t i = 0; i < n; i++)
		if (map[i].type == MEM_USABLE && map[i].base + map[i].length > top)
			top = map[i].base + map[i].length;
	top = align_down(top, FRAME_SIZE);
	if (top <= min_addr)
		return -1;

	fa->nframes = top >> FRAME_SHIFT;
	uint64_t bytes = align_up((fa->nframes + 63) / 64 * 8, FRAME_SIZE);
	uint64_t where = phys_find_free(map, n, reserved, nres, min_addr, top, bytes, FRAME_SIZE);
	if (where == UINT64_MAX)
		return -1;
	fa->bitmap = phys_to_virt(where);
	fa->bitmap_range = (struct phys_range){where, where + bytes};

	/* Everything starts used; usable frames (whole ones only) are released. */
	memset(fa->bitmap, 0xff, bytes);
	for (size_t i = 0; i < n; i++) {
		if (map[i].type != MEM_USABLE)
			continue;
		uint64_t s = align_up(map[i].base, FRAME_SIZE);
		uint64_t e = align_down(map[i].base + map[i].length, FRAME_SIZE);
		if (s < min_addr)
			s = align_up(min_addr, FRAME_SIZE);
		if (s == 0)
			s = FRAME_SIZE; /* address 0 is how frame_alloc says "none left" */
		for (uint64_t f = s >> FRAME_SHIFT; f < (e >> FRAME_SHIFT); f++) {
			if (bit_test(fa->bitmap, f)) {
				bit_clear(fa->bitmap, f);
				fa->free_frames++;
				fa->managed_frames++;
			}
		}
	}
	/* A frame any non-usable region touches is not RAM we may hand out. */
	for (size_t i = 0; i < n; i++)
		if (map[i].type != MEM_USABLE)
			mark_used(fa, map[i].base, map[i].base + map[i].length);
	for (size_t i = 0; i < nres; i++)
		mark_used(fa, reserved[i].start, reserved[i].end);
	mark_used(fa, where, where + bytes);
	fa->next_hint = 0;
	return 0;
}

uint64_t frame_alloc(struct frame_allocator *fa)
{
	return frame_alloc_contig(fa, 1, FRAME_SIZE);
}

uint64_t frame_alloc_contig(struct frame_allocator *fa, uint64_t n, uint64_t align)
{
	uint64_t step = align >> FRAME_SHIFT;
	uint64_t result = 0;

	if (n == 0 || step == 0 || (step & (step - 1)))
		return 0;
	spin_lock(&fa->lock);
	if (fa->free_frames >= n) {
		/* two passes: from the hint to the end, then from the start */
		for (int pass = 0; pass < 2 && !result; pass++) {
			uint64_t f = pass ? 0 : align_up(fa->next_hint, step);
			for (; f + n <= fa->nframes; f += step) {
				uint64_t k = 0;
				while (k < n && !bit_test(fa->bitmap, f + k))
					k++;
				if (k == n) {
					for (k = 0; k < n; k++)
						bit_set(fa->bitmap, f + k);
					fa->free_frames -= n;
					fa->next_hint = f + n;
					result = f << FRAME_SHIFT;
					break;
				}
				/* skip past the used frame that stopped us */
				f = align_down(f + k, step);
			}
		}
	}
	spin_unlock(&fa->lock);
	return result;
}

void frame_free_contig(struct frame_allocator *fa, uint64_t addr, uint64_t n)
{
	uint64_t f = addr >> FRAME_SHIFT;

	spin_lock(&fa->lock);
	for (uint64_t k = 0; k < n && f + k < fa->nframes; k++) {
		if (bit_test(fa->bitmap, f + k)) {
			bit_clear(fa->bitmap, f + k);
			fa->free_frames++;
		}
	}
	if (f < fa->next_hint)
		fa->next_hint = f;
	spin_unlock(&fa->lock);
}

void frame_free(struct frame_allocator *fa, uint64_t addr)
{
	frame_free_contig(fa, addr, 1);
}

bool frame_is_free(const struct frame_allocator *fa, uint64_t addr)
{
	uint64_t f = addr >> FRAME_SHIFT;
	return f < fa->nframes && !bit_test(fa->bitmap, f);
}
