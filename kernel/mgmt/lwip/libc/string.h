/*
 * <string.h> for lwIP's sources, which include it by that name: the
 * kernel's own routines (lwIP is compiled with -nostdinc).
 */
#ifndef HV_MGMT_LWIP_LIBC_STRING_H
#define HV_MGMT_LWIP_LIBC_STRING_H

#include "kernel/lib/string.h"

#endif
