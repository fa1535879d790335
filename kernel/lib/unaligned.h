/*
 * Little-endian loads and stores in byte buffers at any alignment (firmware
 * tables, boot structures, what loaders write for a guest).
 */
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

static inline void wr16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static inline void wr64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

#endif
