/*
 * What the parsers of xl's device spec strings (diskspec.c, vifspec.c)
 * share: the failure formatter, blanks, and keyword lists.
 */
#ifndef HV_CONFIG_SPECPARSE_H
#define HV_CONFIG_SPECPARSE_H

#include <stdbool.h>
#include <stddef.h>

/* Formats the reason into why and returns false (so a parser can `return spec_fail(...)`). */
bool spec_fail(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static inline bool spec_is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Whether s is one of list[0..n). */
bool spec_in_list(const char *s, const char *const *list, size_t n);
#define SPEC_IN_LIST(s, list) spec_in_list(s, list, sizeof(list) / sizeof((list)[0]))

#endif
