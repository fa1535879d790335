/*
 * lwIP's port to the hypervisor (lwip/arch.h asks for this file): a
 * freestanding x86-64 kernel with the compiler's own stdint/stddef
 * headers and no C library. Types come from <stdint.h>; the printf length
 * macros and ctype are lwIP's fallbacks; a failed assertion is a panic.
 */
#ifndef HV_MGMT_LWIP_ARCH_CC_H
#define HV_MGMT_LWIP_ARCH_CC_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/log.h"
#include "kernel/panic.h"

#define LWIP_NO_STDINT_H 0   /* the compiler's freestanding header */
#define LWIP_NO_INTTYPES_H 1 /* no C library: the format macros are below */
#define LWIP_NO_CTYPE_H 1    /* lwIP's own isdigit() and friends */
#define LWIP_NO_UNISTD_H 1
#define LWIP_NO_LIMITS_H 1   /* the compiler's limits.h wants the C library's */
#define INT_MAX __INT_MAX__
#define UINT_MAX (__INT_MAX__ * 2u + 1u)

#define X8_F "02x"
#define U16_F "u"
#define S16_F "d"
#define X16_F "x"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "zu"

#define BYTE_ORDER LITTLE_ENDIAN
/* one instruction instead of lwIP's shifts */
#define lwip_htons(x) ((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_htonl(x) ((u32_t)__builtin_bswap32((u32_t)(x)))

#define LWIP_PLATFORM_DIAG(x) \
	do { \
		printk x; \
	} while (0)
#define LWIP_PLATFORM_ASSERT(x) panic("lwIP: assertion \"%s\" failed at %s:%d", x, __FILE__, __LINE__)

/* DHCP transaction ids, TCP initial sequence numbers and local ports (kernel/mgmt/lwip_port.c). */
uint32_t lwip_port_rand(void);
#define LWIP_RAND() lwip_port_rand()

#endif
