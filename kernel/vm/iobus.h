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
};

#define IOBUS_MAX_RANGES 32

struct io_bus {
	struct io_range ranges[IOBUS_MAX_RANGES];
	size_t n;
	uint64_t unclaimed; /* accesses no device answered */
};

/* 0, or -1 if the range overlaps another or the bus is full. */
int iobus_register(struct io_bus *b, uint64_t base, uint64_t len, io_read_fn read,
		   io_write_fn write, void *opaque, const char *name);
/* Reads size bytes; all ones when no device claims the address. */
uint64_t iobus_read(struct io_bus *b, uint64_t addr, unsigned size);
void iobus_write(struct io_bus *b, uint64_t addr, unsigned size, uint64_t value);
const struct io_range *iobus_find(const struct io_bus *b, uint64_t addr);

#endif
