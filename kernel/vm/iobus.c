#include "kernel/vm/iobus.h"

int iobus_register(struct io_bus *b, uint64_t base, uint64_t len, io_read_fn read,
		   io_write_fn write, void *opaque, const char *name)
{
	if (len == 0 || base + len < base || b->n == IOBUS_MAX_RANGES)
		return -1;
	for (size_t i = 0; i < b->n; i++) {
		const struct io_range *r = &b->ranges[i];
		if (base < r->base + r->len && r->base < base + len)
			return -1;
	}
	b->ranges[b->n++] = (struct io_range){base, len, read, write, opaque, name, false, 0};
	return 0;
}


const struct io_range *iobus_find(const struct io_bus *b, uint64_t addr)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct io_range *r = &b->ranges[i];
		if (addr >= r->base && addr - r->base < r->len)
			return r;
	}
	return NULL;
}

static uint64_t ones(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

uint64_t iobus_read(struct io_bus *b, uint64_t addr, unsigned size)
{
	struct io_range *r = (struct io_range *)iobus_find(b, addr);
	if (!r || !r->read) {
		b->unclaimed++;
		return ones(size);
	}
	r->hits++;
	return r->read(r->opaque, addr - r->base, size) & ones(size);
}

void iobus_write(struct io_bus *b, uint64_t addr, unsigned size, uint64_t value)
{
	struct io_range *r = (struct io_range *)iobus_find(b, addr);
	if (!r || !r->write) {
		b->unclaimed++;
		return;
	}
	r->hits++;
	r->write(r->opaque, addr - r->base, size, value & ones(size));
}
