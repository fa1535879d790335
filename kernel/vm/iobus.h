/*
 * A bus of emulated devices: port I/O or MMIO ranges, each with read and
 * write handlers. Device models register here; exits are routed here.
 * Accesses that hit no device read as all ones and are dropped, as on a PC.
 */
#ifndef HV_VM_IOBUS_H
#define HV_VM_IOBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t (*io_read_fn)(void *opaque, uint64_t offset, unsigned size);
typedef void (*io_write_fn)(void *opaque, uint64_t offset, unsigned size, uint64_t value);

struct io_range {
	uint64_t base;
	uint64_t len;
	io_read_fn read;
	io_write_fn write;
	void *opaque;
	const char *name;
	/*
	 * Its handlers are short, take no lock but their device's own,
	 * change what a vCPU has pending only through the platform's
	 * generation word and never stop the VM: the exit fast path
	 * (kernel/vm/fastpath.c) may call them.
	 */
	bool fast;
	uint64_t hits; /* accesses through iobus_read/iobus_write (accounting) */
};

#define IOBUS_MAX_RANGES 32

struct io_bus {
	struct io_range ranges[IOBUS_MAX_RANGES];
	size_t n;
	uint64_t unclaimed; /* accesses no device answered */
	uint8_t *fast_map; /* a bit per port of a range marked fast (iobus_set_fast), or NULL */
};

/* Is addr in a range marked fast? (A port bus's test, one bit.) */
static inline bool iobus_fast(const struct io_bus *b, uint64_t addr)
{
	return b->fast_map && addr < 0x10000 && (b->fast_map[addr >> 3] >> (addr & 7) & 1);
}

/* 0, or -1 if the range overlaps another or the bus is full. */
int iobus_register(struct io_bus *b, uint64_t base, uint64_t len, io_read_fn read,
		   io_write_fn write, void *opaque, const char *name);
/* Reads size bytes; all ones when no device claims the address. */
uint64_t iobus_read(struct io_bus *b, uint64_t addr, unsigned size);
void iobus_write(struct io_bus *b, uint64_t addr, unsigned size, uint64_t value);
const struct io_range *iobus_find(const struct io_bus *b, uint64_t addr);

#endif
