/*
 * The host heap: power-of-two size classes from 16 to 2048 bytes carved out
 * of 4 KiB pages, larger blocks as whole runs of pages. Pure logic over a
 * page provider, so hosted tests drive it too.
 */
#ifndef HV_MM_HEAP_H
#define HV_MM_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/lib/spinlock.h"

#define HEAP_CLASSES 8 /* 16, 32, ... 2048 */

struct heap_page_ops {
	void *(*alloc_pages)(void *arg, size_t n); /* n contiguous 4 KiB pages, 4 KiB aligned */
	void (*free_pages)(void *arg, void *p, size_t n);
	void *arg;
};

struct heap {
	spinlock_t lock;
	struct heap_page_ops ops;
	void *free_list[HEAP_CLASSES];
	size_t bytes_in_use;
	size_t pages_in_use;
};

void heap_init(struct heap *h, const struct heap_page_ops *ops);
void *heap_alloc(struct heap *h, size_t size); /* 16-byte aligned; NULL when out of memory */
void *heap_zalloc(struct heap *h, size_t size);
void heap_free(struct heap *h, void *p);

#endif
