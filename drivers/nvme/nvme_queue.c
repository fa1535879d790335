/*
 * NVMe queue arithmetic and PRP description (see nvme_queue.h). No kernel
 * dependencies: the unit tests drive it over arrays.
 */
#include "drivers/nvme/nvme_queue.h"

#define PAGE_MASK ((uint64_t)NVME_PAGE_SIZE - 1)

/* ---- submission queue ---- */

void nvme_sq_init(struct nvme_sq *q, uint16_t size)
{
	q->size = size;
	q->tail = 0;
	q->head = 0;
}

unsigned nvme_sq_used(const struct nvme_sq *q)
{
	return (unsigned)(q->tail + q->size - q->head) % q->size;
}

bool nvme_sq_full(const struct nvme_sq *q)
{
	return nvme_sq_used(q) >= (unsigned)q->size - 1;
}

int nvme_sq_push(struct nvme_sq *q)
{
	if (nvme_sq_full(q))
		return -1;
	int slot = q->tail;
	q->tail = (uint16_t)((q->tail + 1) % q->size);
	return slot;
}

bool nvme_sq_set_head(struct nvme_sq *q, uint16_t sqhd)
{
	if (sqhd >= q->size)
		return false;
	unsigned moved = (unsigned)(sqhd + q->size - q->head) % q->size;
	if (moved > nvme_sq_used(q))
		return false;
	q->head = sqhd;
	return true;
}

/* ---- completion queue ---- */

void nvme_cq_init(struct nvme_cq *q, uint16_t size)
{
	q->size = size;
	q->head = 0;
	q->phase = 1;
}

bool nvme_cq_pop(struct nvme_cq *q, const volatile struct nvme_cqe *ring, struct nvme_cqe *out)
{
	const volatile struct nvme_cqe *e = &ring[q->head];
	uint16_t status = e->status;

	if (NVME_STATUS_PHASE(status) != q->phase)
		return false;
	/* the rest of the entry was written before its phase tag */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	out->dw0 = e->dw0;
	out->dw1 = e->dw1;
	out->sqhd = e->sqhd;
	out->sqid = e->sqid;
	out->cid = e->cid;
	out->status = status;
	if (++q->head == q->size) {
		q->head = 0;
		q->phase ^= 1;
	}
	return true;
}

/* ---- command identifiers ---- */

void nvme_cids_init(struct nvme_cids *p, uint16_t n)
{
	if (n > NVME_CID_MAX)
		n = NVME_CID_MAX;
	p->n = n;
	p->used = 0;
	p->hint = 0;
	for (unsigned i = 0; i < NVME_CID_MAX / 64; i++)
		p->bits[i] = 0;
}

bool nvme_cid_busy(const struct nvme_cids *p, uint16_t cid)
{
	return cid < p->n && (p->bits[cid / 64] >> (cid % 64)) & 1;
}

int nvme_cid_alloc(struct nvme_cids *p)
{
	if (p->used >= p->n)
		return -1;
	for (unsigned k = 0; k < p->n; k++) {
		uint16_t cid = (uint16_t)((p->hint + k) % p->n);
		if (!nvme_cid_busy(p, cid)) {
			p->bits[cid / 64] |= 1ull << (cid % 64);
			p->used++;
			p->hint = (uint16_t)((cid + 1) % p->n);
			return cid;
		}
	}
	return -1;
}

bool nvme_cid_free(struct nvme_cids *p, uint16_t cid)
{
	if (!nvme_cid_busy(p, cid))
		return false;
	p->bits[cid / 64] &= ~(1ull << (cid % 64));
	p->used--;
	return true;
}

/* ---- PRPs ---- */

uint64_t nvme_prp_capacity(unsigned list_pages)
{
	if (!list_pages)
		return 2;
	/* PRP1, then each list page but the last gives one slot to the chain pointer */
	return 1 + (uint64_t)list_pages * (NVME_PRP_PER_PAGE - 1) + 1;
}

/* List pages needed for m list entries. */
static unsigned list_pages_for(uint64_t m)
{
	unsigned pages = 0;
	while (m > NVME_PRP_PER_PAGE) {
		m -= NVME_PRP_PER_PAGE - 1;
		pages++;
	}
	return pages + (m ? 1 : 0);
}

/* Pages [addr, addr + len) touches (len > 0). */
static uint64_t pages_touched(uint64_t addr, uint64_t len)
{
	return ((addr + len - 1) >> NVME_PAGE_SHIFT) - (addr >> NVME_PAGE_SHIFT) + 1;
}

/* Where the walk puts entries: counts them, or writes them (out != NULL). */
struct prp_sink {
	const struct nvme_prp_pages *pages;
	uint64_t total; /* entries the walk will produce, known before writing */
	uint64_t count; /* entries so far */
	unsigned page, slot;
	struct nvme_prp *out;
};

static void emit(struct prp_sink *s, uint64_t entry)
{
	uint64_t i = s->count++;

	if (!s->out)
		return;
	if (i == 0) {
		s->out->prp1 = entry;
		return;
	}
	if (s->total == 2) {
		s->out->prp2 = entry;
		return;
	}
	/* list entry i - 1; total - i entries are still to come after this one */
	if (s->slot == NVME_PRP_PER_PAGE - 1 && s->total - i > 1) {
		s->pages->virt[s->page][s->slot] = s->pages->phys[s->page + 1];
		s->page++;
		s->slot = 0;
	}
	s->pages->virt[s->page][s->slot++] = entry;
}

/*
 * The PRP walk over at most max_bytes of p[0..n) within `cap` entries:
 * returns the bytes covered, sending each entry to s.
 */
static uint64_t prp_walk(const struct nvme_piece *p, unsigned n, uint64_t max_bytes, uint64_t cap,
			 struct prp_sink *s)
{
	uint64_t bytes = 0, entries = 0;
	bool first = true;
	unsigned i = 0;

	while (i < n && bytes < max_bytes) {
		uint64_t addr = p[i].addr, len = p[i].len;

		/* join the host-contiguous pieces that follow */
		for (i++; i < n && p[i].addr == addr + len; i++)
			len += p[i].len;
		if (!len)
			continue;
		if (first ? (addr & 3) : (addr & PAGE_MASK))
			break;
		uint64_t take = len < max_bytes - bytes ? len : max_bytes - bytes;
		uint64_t need = pages_touched(addr, take);
		if (entries + need > cap) {
			/* as many whole pages as the entries still allow */
			uint64_t end = (addr & ~PAGE_MASK) + (cap - entries) * NVME_PAGE_SIZE;
			take = end - addr;
			need = cap - entries;
		}
		if (!take)
			break;
		if (s) {
			emit(s, addr);
			for (uint64_t pg = (addr & ~PAGE_MASK) + NVME_PAGE_SIZE; pg < addr + take;
			     pg += NVME_PAGE_SIZE)
				emit(s, pg);
		}
		entries += need;
		bytes += take;
		first = false;
		if (take < len || ((addr + len) & PAGE_MASK))
			break; /* the limit, or a piece that ends inside a page: it must be the last */
	}
	return bytes;
}

uint64_t nvme_prp_fit(const struct nvme_piece *p, unsigned n, uint64_t max_bytes,
		      unsigned list_pages)
{
	return prp_walk(p, n, max_bytes, nvme_prp_capacity(list_pages), 0);
}

int nvme_prp_build(const struct nvme_piece *p, unsigned n, uint64_t bytes,
		   const struct nvme_prp_pages *pages, struct nvme_prp *out)
{
	unsigned have = pages ? pages->count : 0;
	struct prp_sink count = {0};

	if (!bytes)
		return -1;
	if (prp_walk(p, n, bytes, nvme_prp_capacity(have), &count) != bytes)
		return -1;
	out->prp1 = out->prp2 = 0;
	out->entries = (unsigned)count.count;
	out->list_pages = count.count > 2 ? list_pages_for(count.count - 1) : 0;
	if (out->list_pages > have)
		return -1;
	if (out->list_pages)
		out->prp2 = pages->phys[0];

	struct prp_sink write = {.pages = pages, .total = count.count, .out = out};
	prp_walk(p, n, bytes, nvme_prp_capacity(have), &write);
	return 0;
}

uint64_t nvme_next_chunk(const struct nvme_piece *p, unsigned n, uint64_t want, uint64_t max_xfer,
			 uint32_t block, unsigned list_pages)
{
	uint64_t limit = want < max_xfer ? want : max_xfer;
	uint64_t fit = nvme_prp_fit(p, n, limit, list_pages);

	return block ? fit - fit % block : 0;
}

uint64_t nvme_max_transfer(uint8_t mdts, unsigned mpsmin, uint64_t cap)
{
	unsigned shift = 12 + mpsmin + mdts;

	if (!mdts || shift >= 63)
		return cap;
	uint64_t bytes = 1ull << shift;
	return bytes < cap ? bytes : cap;
}

/* ---- segments to pieces ---- */

void nvme_cursor_advance(const struct blk_seg *segs, unsigned nseg, struct nvme_cursor *c,
			 uint64_t bytes)
{
	while (bytes && c->seg < nseg) {
		uint64_t left = segs[c->seg].len - c->off;
		if (bytes < left) {
			c->off += (uint32_t)bytes;
			return;
		}
		bytes -= left;
		c->seg++;
		c->off = 0;
	}
}

uint64_t nvme_gather(const struct blk_seg *segs, unsigned nseg, struct nvme_cursor c,
		     uint64_t want, const struct blk_guest_mem *mem, struct nvme_piece *out,
		     unsigned max, unsigned *n)
{
	uint64_t got = 0;

	*n = 0;
	if (!mem || !mem->dma_addr || !max)
		return 0;
	while (got < want && c.seg < nseg) {
		const struct blk_seg *s = &segs[c.seg];
		if (c.off >= s->len) {
			c.seg++;
			c.off = 0;
			continue;
		}
		uint64_t gpa = s->gpa + c.off;
		uint64_t len = NVME_PAGE_SIZE - (gpa & PAGE_MASK); /* to the guest page's end */
		if (len > s->len - c.off)
			len = s->len - c.off;
		if (len > want - got)
			len = want - got;
		uint64_t hpa = mem->dma_addr(mem->ctx, gpa, len);
		if (!hpa)
			break;
		struct nvme_piece *last = *n ? &out[*n - 1] : 0;
		if (last && last->addr + last->len == hpa && last->len <= UINT32_MAX - len) {
			last->len += (uint32_t)len;
		} else {
			if (*n == max)
				break;
			out[(*n)++] = (struct nvme_piece){hpa, (uint32_t)len};
		}
		got += len;
		c.off += (uint32_t)len;
	}
	return got;
}
