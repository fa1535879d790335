#include "kernel/mm/heap.h"

#include "kernel/lib/string.h"

#define HEAP_PAGE 4096u
#define HEAP_MAGIC 0x48454150u /* "HEAP" */
#define HEAP_LARGE 0xffu

/* Every heap page run starts with this header; objects follow it. */
struct page_header {
	uint32_t magic;
	uint32_t size_class; /* index, or HEAP_LARGE */
	uint64_t pages;      /* large runs: length in pages */
	uint64_t pad[6];     /* keeps objects 64-byte aligned */
};

_Static_assert(sizeof(struct page_header) == 64, "page header size");

static size_t class_size(unsigned c)
{
	return 16u << c;
}

static int size_to_class(size_t size)
{
	for (unsigned c = 0; c < HEAP_CLASSES; c++)
		if (size <= class_size(c))
			return (int)c;
	return -1;
}

void heap_init(struct heap *h, const struct heap_page_ops *ops)
{
	memset(h, 0, sizeof(*h));
	h->ops = *ops;
}

static int refill(struct heap *h, unsigned c)
{
	struct page_header *ph = h->ops.alloc_pages(h->ops.arg, 1);
	if (!ph)
		return -1;
	ph->magic = HEAP_MAGIC;
	ph->size_class = c;
	ph->pages = 1;
	h->pages_in_use++;
	size_t sz = class_size(c);
	uint8_t *obj = (uint8_t *)ph + sizeof(*ph);
	uint8_t *end = (uint8_t *)ph + HEAP_PAGE;
	for (; obj + sz <= end; obj += sz) {
		*(void **)obj = h->free_list[c];
		h->free_list[c] = obj;
	}
	return 0;
}

void *heap_alloc(struct heap *h, size_t size)
{
	if (size == 0)
		size = 1;
	int c = size_to_class(size);
	uint64_t flags = spin_lock_irqsave(&h->lock);
	void *p = NULL;

	if (c < 0) {
		if (size > (size_t)1 << 40)
			goto out;
		size_t pages = (size + sizeof(struct page_header) + HEAP_PAGE - 1) / HEAP_PAGE;
		struct page_header *ph = h->ops.alloc_pages(h->ops.arg, pages);
		if (!ph)
			goto out;
		ph->magic = HEAP_MAGIC;
		ph->size_class = HEAP_LARGE;
		ph->pages = pages;
		h->pages_in_use += pages;
		h->bytes_in_use += pages * HEAP_PAGE;
		p = ph + 1;
		goto out;
	}
	if (!h->free_list[c] && refill(h, (unsigned)c) < 0)
		goto out;
	p = h->free_list[c];
	h->free_list[c] = *(void **)p;
	h->bytes_in_use += class_size((unsigned)c);
out:
	spin_unlock_irqrestore(&h->lock, flags);
	return p;
}

void *heap_zalloc(struct heap *h, size_t size)
{
	void *p = heap_alloc(h, size);
	if (p)
		memset(p, 0, size);
	return p;
}

void heap_free(struct heap *h, void *p)
{
	if (!p)
		return;
	struct page_header *ph = (struct page_header *)((uintptr_t)p & ~(uintptr_t)(HEAP_PAGE - 1));
	uint64_t flags = spin_lock_irqsave(&h->lock);
	if (ph->magic == HEAP_MAGIC && ph->size_class == HEAP_LARGE && (void *)(ph + 1) == p) {
		h->pages_in_use -= ph->pages;
		h->bytes_in_use -= ph->pages * HEAP_PAGE;
		ph->magic = 0;
		h->ops.free_pages(h->ops.arg, ph, ph->pages);
	} else if (ph->magic == HEAP_MAGIC && ph->size_class < HEAP_CLASSES) {
		unsigned c = ph->size_class;
		*(void **)p = h->free_list[c];
		h->free_list[c] = p;
		h->bytes_in_use -= class_size(c);
	}
	spin_unlock_irqrestore(&h->lock, flags);
}
