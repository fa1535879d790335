/*
 * <stdlib.h> for lwIP's sources: only netif_find() uses it, for atoi() on
 * the digits after an interface's two-letter name.
 */
#ifndef HV_MGMT_LWIP_LIBC_STDLIB_H
#define HV_MGMT_LWIP_LIBC_STDLIB_H

static inline int atoi(const char *s)
{
	int v = 0;
	while (*s >= '0' && *s <= '9' && v < 100000000)
		v = v * 10 + (*s++ - '0');
	return v;
}

#endif
