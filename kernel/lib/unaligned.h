/* Little-endian loads from byte buffers at any alignment (firmware tables, boot structures). */
#ifndef HV_LIB_UNALIGNED_H
#define HV_LIB_UNALIGNED_H

#include <stdint.h>

#include "kernel/lib/string.h"

static inline uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static inline uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

#endif
