/*
 * Lexer and parser for Xen's xl.cfg syntax (xl.cfg(5)): `key = value` statements ended by a
 * newline or ';', values that are numbers, quoted strings or [ lists ], and '#' comments.
 *
 * The result is a bounded, allocation-free `struct xlcfg`: every limit below is fixed, and
 * input that exceeds one is reported as an error, never truncated in silence. The text need
 * not be NUL-terminated and may hold any bytes; bad bytes are errors. No recursion.
 *
 * Errors are collected, not fatal: the parser recovers at the next statement and goes on, so
 * one pass reports every problem it finds (up to XLCFG_MAX_ERRORS are kept).
 */
#ifndef HV_CONFIG_XLCFG_H
#define HV_CONFIG_XLCFG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XLCFG_MAX_FILE_SIZE 65536 /* bytes; a VM file is a few hundred */
#define XLCFG_MAX_LINE_LEN 4096	  /* bytes per line, newline excluded */
#define XLCFG_MAX_KEY_LEN 31
#define XLCFG_MAX_STRING_LEN 2047 /* one string, after escapes */
#define XLCFG_POOL_SIZE 8192	  /* all strings of a file together, with their NULs */
#define XLCFG_MAX_ENTRIES 48	  /* keys in one file */
#define XLCFG_MAX_ITEMS 64	  /* list items in one file, all lists together */

#define XLCFG_MAX_ERRORS 16
#define XLCFG_REASON_LEN 200

/* A place in the file, both 1-based; line 0 means the file as a whole. */
struct xlcfg_pos {
	uint32_t line;
	uint32_t column; /* in bytes from the start of the line */
};

struct xlcfg_error {
	struct xlcfg_pos pos;
	char reason[XLCFG_REASON_LEN];
};

struct xlcfg_errors {
	const char *file_name;
	unsigned count;	  /* kept in err[] */
	unsigned dropped; /* found after err[] was full */
	struct xlcfg_error err[XLCFG_MAX_ERRORS];
};

enum xlcfg_type {
	XLCFG_INVALID = 0, /* the statement had a syntax error, already reported */
	XLCFG_NUMBER,
	XLCFG_STRING,
	XLCFG_LIST, /* of numbers and strings; lists do not nest */
};

struct xlcfg_value {
	enum xlcfg_type type;
	struct xlcfg_pos pos; /* of its first character ('[' for a list) */
	uint64_t number;      /* XLCFG_NUMBER */
	uint16_t str;	      /* XLCFG_STRING: offset in pool, NUL-terminated ... */
	uint16_t len;	      /* ... and its length (the text holds no NUL) */
	uint16_t first;	      /* XLCFG_LIST: its items are items[first .. first + count) */
	uint16_t count;
};

struct xlcfg_entry {
	char key[XLCFG_MAX_KEY_LEN + 1];
	struct xlcfg_pos key_pos;
	struct xlcfg_value value;
};

/* About 12 KiB: the caller places it (static or heap), it is too big for a small stack. */
struct xlcfg {
	unsigned entry_count;
	unsigned item_count;
	size_t pool_used;
	struct xlcfg_entry entries[XLCFG_MAX_ENTRIES];
	struct xlcfg_value items[XLCFG_MAX_ITEMS];
	char pool[XLCFG_POOL_SIZE];
};

void xlcfg_errors_init(struct xlcfg_errors *errs, const char *file_name);
/* Records an error at pos (a reason without the "file:line:col: " prefix). */
void xlcfg_error_add(struct xlcfg_errors *errs, struct xlcfg_pos pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void xlcfg_error_addv(struct xlcfg_errors *errs, struct xlcfg_pos pos, const char *fmt,
		      va_list ap);
/* Orders the kept errors by place, file-wide ones (line 0) last; keeps equal ones in order. */
void xlcfg_errors_sort(struct xlcfg_errors *errs);
/*
 * Writes error i as a compiler would, "vm.cfg:3:10: reason" ("vm.cfg: reason" for line 0).
 * Returns the length the full text would have, like format().
 */
int xlcfg_error_format(const struct xlcfg_errors *errs, unsigned i, char *buf, size_t size);

/*
 * Parses text[0..len) into cfg (which it clears first). Every key appears once in cfg: a
 * duplicate is an error and is not stored. A statement with a syntax error is stored with
 * type XLCFG_INVALID when its key is known, so that later checks neither report it again
 * nor call it missing. Returns true when it added no error to errs.
 */
bool xlcfg_parse(struct xlcfg *cfg, const char *text, size_t len, struct xlcfg_errors *errs);

const struct xlcfg_entry *xlcfg_find(const struct xlcfg *cfg, const char *key);
/* The NUL-terminated text of an XLCFG_STRING value. */
const char *xlcfg_string(const struct xlcfg *cfg, const struct xlcfg_value *v);
/* Item i (< list->count) of an XLCFG_LIST value; never itself a list. */
const struct xlcfg_value *xlcfg_item(const struct xlcfg *cfg, const struct xlcfg_value *list,
				     unsigned i);
/* "a number", "a string", "a list": for messages such as "expected a number, got a list". */
const char *xlcfg_type_name(enum xlcfg_type type);

#endif
