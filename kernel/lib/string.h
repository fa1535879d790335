/* String and memory routines; the C library's own in hosted unit tests. */
#ifndef HV_LIB_STRING_H
#define HV_LIB_STRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef HV_HOSTED
#include <string.h>
#else
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
#endif

/* Parses an unsigned number: decimal, or hex with 0x. Returns chars used, 0 on error. */
size_t parse_u64(const char *s, size_t len, uint64_t *out);
/* Copies at most size-1 chars and always terminates (if size > 0). */
size_t strlcpy_hv(char *d, const char *s, size_t size);
/* The value of a hexadecimal digit (either case), or -1. */
int hex_digit_value(char c);
/* Whether s is one or more decimal digits and nothing else. */
bool str_all_digits(const char *s);

#endif
