/* printf-style formatting into a buffer; no floating point. */
#ifndef HV_LIB_FORMAT_H
#define HV_LIB_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Supports %d %i %u %x %X %o %c %s %p %% with flags '-', '0', '#', ' ', '+',
 * a width and precision (numbers or '*'), and the length modifiers hh h l ll z t.
 * Returns the length the full output would have; writes at most size-1
 * characters and always terminates when size > 0.
 */
int format_v(char *buf, size_t size, const char *fmt, va_list ap);
int format(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * Appends to buf[*n..size) and moves *n past what was written (at most to
 * size - 1, so a truncated line stays terminated and later appends do nothing).
 */
void format_append(char *buf, size_t size, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
