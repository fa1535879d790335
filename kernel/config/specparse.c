/* See specparse.h. */
#include "kernel/config/specparse.h"

#include <stdarg.h>

#include "kernel/lib/format.h"
#include "kernel/lib/string.h"

bool spec_fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	format_v(why, whylen, fmt, ap);
	va_end(ap);
	return false;
}

bool spec_in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}
