/*
 * xl.cfg lexer and parser. See xlcfg.h for the shape of the result and its limits.
 *
 * The grammar (xl.cfg(5), less nested lists, '+=' and octal numbers):
 *   file      := { statement? ( '\n' | ';' ) }
 *   statement := KEY '=' value
 *   value     := NUMBER | STRING | '[' { newline } [ atom { ',' atom } [ ',' ] ] ']'
 * with newlines allowed anywhere inside a list. The parser is a loop over tokens with one token
 * of look-ahead; a syntax error drops the rest of its statement and parsing goes on.
 */
#include "kernel/config/xlcfg.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"

/* ---- error list ---- */

void xlcfg_errors_init(struct xlcfg_errors *errs, const char *file_name)
{
	memset(errs, 0, sizeof(*errs));
	errs->file_name = file_name ? file_name : "(config)";
}

void xlcfg_error_addv(struct xlcfg_errors *errs, struct xlcfg_pos pos, const char *fmt,
		      va_list ap)
{
	struct xlcfg_error *e;

	if (errs->count >= XLCFG_MAX_ERRORS) {
		errs->dropped++;
		return;
	}
	e = &errs->err[errs->count++];
	e->pos = pos;
	format_v(e->reason, sizeof(e->reason), fmt, ap);
}

void xlcfg_error_add(struct xlcfg_errors *errs, struct xlcfg_pos pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xlcfg_error_addv(errs, pos, fmt, ap);
	va_end(ap);
}

/* File-wide errors (line 0) sort after every placed one: they are found last, read last. */
static uint64_t error_order(const struct xlcfg_error *e)
{
	uint64_t line = e->pos.line ? e->pos.line : UINT32_MAX;

	return line << 32 | e->pos.column;
}

void xlcfg_errors_sort(struct xlcfg_errors *errs)
{
	/* Insertion sort: at most XLCFG_MAX_ERRORS entries, and stable. */
	for (unsigned i = 1; i < errs->count; i++) {
		struct xlcfg_error e = errs->err[i];
		unsigned j = i;

		while (j > 0 && error_order(&errs->err[j - 1]) > error_order(&e)) {
			errs->err[j] = errs->err[j - 1];
			j--;
		}
		errs->err[j] = e;
	}
}

int xlcfg_error_format(const struct xlcfg_errors *errs, unsigned i, char *buf, size_t size)
{
	const struct xlcfg_error *e;

	if (i >= errs->count)
		return format(buf, size, "%s", "");
	e = &errs->err[i];
	if (e->pos.line == 0)
		return format(buf, size, "%s: %s", errs->file_name, e->reason);
	return format(buf, size, "%s:%u:%u: %s", errs->file_name, (unsigned)e->pos.line,
		      (unsigned)e->pos.column, e->reason);
}

/* ---- lookups ---- */

const struct xlcfg_entry *xlcfg_find(const struct xlcfg *cfg, const char *key)
{
	for (unsigned i = 0; i < cfg->entry_count; i++)
		if (strcmp(cfg->entries[i].key, key) == 0)
			return &cfg->entries[i];
	return NULL;
}

const char *xlcfg_string(const struct xlcfg *cfg, const struct xlcfg_value *v)
{
	if (v->type != XLCFG_STRING || v->str >= XLCFG_POOL_SIZE)
		return "";
	return &cfg->pool[v->str];
}

const struct xlcfg_value *xlcfg_item(const struct xlcfg *cfg, const struct xlcfg_value *list,
				     unsigned i)
{
	if (list->type != XLCFG_LIST || i >= list->count ||
	    (unsigned)list->first + i >= XLCFG_MAX_ITEMS)
		return NULL;
	return &cfg->items[list->first + i];
}

const char *xlcfg_type_name(enum xlcfg_type type)
{
	switch (type) {
	case XLCFG_NUMBER:
		return "a number";
	case XLCFG_STRING:
		return "a string";
	case XLCFG_LIST:
		return "a list";
	default:
		return "an invalid value";
	}
}

/* ---- lexer ---- */

enum tok_type {
	TOK_EOF,
	TOK_NEWLINE,
	TOK_SEMI,
	TOK_EQUALS,
	TOK_LBRACKET,
	TOK_RBRACKET,
	TOK_COMMA,
	TOK_KEY,
	TOK_NUMBER,
	TOK_STRING,
	TOK_BAD, /* the lexer reported it already */
};

struct token {
	enum tok_type type;
	struct xlcfg_pos pos;
	bool line_start; /* the first token on its line */
	uint64_t number;
	uint16_t str, len;	/* TOK_STRING, in the pool */
	const char *text;	/* TOK_KEY, in the source */
	size_t text_len;
};

struct parser {
	const char *text;
	size_t len;
	size_t i;
	uint32_t line;
	size_t line_start; /* offset of the current line's first byte */
	bool tokens_on_line;
	bool quiet; /* skipping a broken statement: its further faults are not news */
	bool reported_full;
	const char *key; /* of the statement being parsed, to prefix messages */
	struct token peeked;
	bool have_peeked;
	struct xlcfg *cfg;
	struct xlcfg_errors *errs;
};

static struct xlcfg_pos here(const struct parser *p)
{
	return (struct xlcfg_pos){ p->line, (uint32_t)(p->i - p->line_start + 1) };
}

static void perr(struct parser *p, struct xlcfg_pos pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void perr(struct parser *p, struct xlcfg_pos pos, const char *fmt, ...)
{
	char reason[XLCFG_REASON_LEN];
	va_list ap;

	if (p->quiet)
		return;
	va_start(ap, fmt);
	format_v(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (p->key)
		xlcfg_error_add(p->errs, pos, "%s: %s", p->key, reason);
	else
		xlcfg_error_add(p->errs, pos, "%s", reason);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_key_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_key_char(char c)
{
	return is_key_start(c) || is_digit(c);
}

/* What a lexer saw, for a message: "'x'", "NUL byte", "byte 0x80". */
static const char *describe_byte(unsigned char c, char *buf, size_t size)
{
	if (c == 0)
		format(buf, size, "NUL byte");
	else if (c < 0x20 || c >= 0x7f)
		format(buf, size, "byte 0x%02x", c);
	else
		format(buf, size, "'%c'", c);
	return buf;
}

/*
 * Called at the first byte of every line. A line over the limit is reported once and dropped
 * whole (up to its newline): whatever it held cannot be trusted to be what was meant.
 */
static void begin_line(struct parser *p)
{
	size_t end = p->i;

	p->line_start = p->i;
	p->tokens_on_line = false;
	while (end < p->len && p->text[end] != '\n')
		end++;
	if (end - p->i > XLCFG_MAX_LINE_LEN) {
		const char *key = p->key;

		/* Not a fault of the statement around it: say it without a key. */
		p->key = NULL;
		perr(p, (struct xlcfg_pos){ p->line, XLCFG_MAX_LINE_LEN + 1 },
		     "line is longer than %d bytes", XLCFG_MAX_LINE_LEN);
		p->key = key;
		p->i = end;
	}
}

static void skip_comment(struct parser *p)
{
	bool reported = false;

	/* Comments may hold any text (UTF-8 included); a NUL says this is no text file. */
	while (p->i < p->len && p->text[p->i] != '\n') {
		if (p->text[p->i] == 0 && !reported) {
			perr(p, here(p), "NUL byte in a comment");
			reported = true;
		}
		p->i++;
	}
}

static bool is_hex_digit(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Whether s[0..n) is a well-formed number, decimal or 0x hex, whatever its size. */
static bool only_digits(const char *s, size_t n)
{
	size_t k = 0;
	bool hex = n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');

	if (hex)
		k = 2;
	if (k == n)
		return false;
	for (; k < n; k++)
		if (!(hex ? is_hex_digit(s[k]) : is_digit(s[k])))
			return false;
	return true;
}

static void lex_number(struct parser *p, struct token *t)
{
	size_t start = p->i, n;
	const char *s = p->text + start;
	int shown;
	uint64_t v;

	/* Take the whole word, so that "12ab" or "1.5" is one bad number, not two tokens. */
	while (p->i < p->len && (is_key_char(p->text[p->i]) || p->text[p->i] == '.'))
		p->i++;
	n = p->i - start;
	shown = n > 32 ? 32 : (int)n;
	if (n > 1 && s[0] == '0' && is_digit(s[1])) {
		/* xl.cfg(5) reads a leading 0 as octal, parse_u64 as decimal: refuse both. */
		perr(p, t->pos, "number '%.*s' has a leading zero (xl reads that as octal)",
		     shown, s);
		t->type = TOK_BAD;
		return;
	}
	if (parse_u64(s, n, &v) != n) {
		if (only_digits(s, n))
			perr(p, t->pos, "number '%.*s' is too large", shown, s);
		else
			perr(p, t->pos, "'%.*s' is not a number", shown, s);
		t->type = TOK_BAD;
		return;
	}
	t->type = TOK_NUMBER;
	t->number = v;
}

static void lex_key(struct parser *p, struct token *t)
{
	size_t start = p->i;

	while (p->i < p->len && is_key_char(p->text[p->i]))
		p->i++;
	t->text = p->text + start;
	t->text_len = p->i - start;
	if (t->text_len > XLCFG_MAX_KEY_LEN) {
		perr(p, t->pos, "key '%.*s...' is longer than %d characters", XLCFG_MAX_KEY_LEN,
		     t->text, XLCFG_MAX_KEY_LEN);
		t->type = TOK_BAD;
		return;
	}
	t->type = TOK_KEY;
}

/*
 * A quoted string, decoded into the pool. Double quotes take the escapes \\ \" \'; single
 * quotes take none. Strings hold printable ASCII only: they end up in guest command lines
 * and on the console, where a control byte or a stray UTF-8 fragment does harm.
 */
static void lex_string(struct parser *p, struct token *t)
{
	struct xlcfg *cfg = p->cfg;
	char quote = p->text[p->i];
	size_t start = cfg->pool_used, n = 0;
	bool bad = false;

	p->i++;
	for (;;) {
		unsigned char c;
		struct xlcfg_pos pos = here(p);

		if (p->i >= p->len || p->text[p->i] == '\n') {
			perr(p, t->pos, "unterminated string (missing closing %c)", quote);
			bad = true;
			break;
		}
		c = (unsigned char)p->text[p->i];
		if (c == (unsigned char)quote) {
			p->i++;
			break;
		}
		if (c == '\\' && quote == '"' && p->i + 1 < p->len && p->text[p->i + 1] != '\n') {
			unsigned char e = (unsigned char)p->text[p->i + 1];

			p->i += 2;
			if (e != '\\' && e != '"' && e != '\'') {
				char what[16];

				if (!bad)
					perr(p, pos, "unknown escape sequence '\\' followed by %s",
					     describe_byte(e, what, sizeof(what)));
				bad = true;
			}
			c = e;
		} else {
			p->i++;
			if (c < 0x20 || c >= 0x7f) {
				if (!bad) {
					if (c == 0)
						perr(p, pos, "NUL byte in a string");
					else if (c >= 0x80)
						perr(p, pos, "non-ASCII byte 0x%02x in a string",
						     c);
					else
						perr(p, pos,
						     "control character 0x%02x in a string", c);
				}
				bad = true;
			}
		}
		if (bad)
			continue; /* on to the closing quote, so the next token is right */
		if (n == XLCFG_MAX_STRING_LEN) {
			perr(p, t->pos, "string is longer than %d bytes", XLCFG_MAX_STRING_LEN);
			bad = true;
			continue;
		}
		if (start + n + 2 > XLCFG_POOL_SIZE) {
			perr(p, t->pos, "strings of this file exceed %d bytes in all",
			     XLCFG_POOL_SIZE);
			bad = true;
			continue;
		}
		cfg->pool[start + n++] = (char)c;
	}
	if (bad) {
		t->type = TOK_BAD;
		return;
	}
	cfg->pool[start + n] = 0;
	cfg->pool_used = start + n + 1;
	t->type = TOK_STRING;
	t->str = (uint16_t)start;
	t->len = (uint16_t)n;
}

static void lex(struct parser *p, struct token *t)
{
	char c, what[16];

	memset(t, 0, sizeof(*t));
	for (;;) {
		if (p->i >= p->len) {
			t->type = TOK_EOF;
			t->pos = here(p);
			return;
		}
		c = p->text[p->i];
		if (c == ' ' || c == '\t' || c == '\r')
			p->i++;
		else if (c == '#')
			skip_comment(p);
		else
			break;
	}
	t->pos = here(p);
	t->line_start = !p->tokens_on_line;
	p->tokens_on_line = true;

	switch (c) {
	case '\n':
		t->type = TOK_NEWLINE;
		p->i++;
		p->line++;
		begin_line(p);
		return;
	case ';':
		t->type = TOK_SEMI;
		break;
	case '=':
		t->type = TOK_EQUALS;
		break;
	case '[':
		t->type = TOK_LBRACKET;
		break;
	case ']':
		t->type = TOK_RBRACKET;
		break;
	case ',':
		t->type = TOK_COMMA;
		break;
	case '"':
	case '\'':
		lex_string(p, t);
		return;
	default:
		if (is_digit(c)) {
			lex_number(p, t);
			return;
		}
		if (is_key_start(c)) {
			lex_key(p, t);
			return;
		}
		t->type = TOK_BAD;
		if (c == '-' && p->i + 1 < p->len && is_digit(p->text[p->i + 1])) {
			p->i++;
			lex_number(p, t);
			if (t->type == TOK_NUMBER)
				perr(p, t->pos, "negative numbers are not allowed");
			t->type = TOK_BAD;
			return;
		}
		if (c == '+' && p->i + 1 < p->len && p->text[p->i + 1] == '=')
			perr(p, t->pos, "'+=' is not supported; use '='");
		else
			perr(p, t->pos, "unexpected %s",
			     describe_byte((unsigned char)c, what, sizeof(what)));
		break;
	}
	p->i++;
}

/* ---- parser ---- */

static void next(struct parser *p, struct token *t)
{
	if (p->have_peeked) {
		*t = p->peeked;
		p->have_peeked = false;
		return;
	}
	lex(p, t);
}

static void unget(struct parser *p, const struct token *t)
{
	p->peeked = *t;
	p->have_peeked = true;
}

static const char *describe_token(const struct token *t, char *buf, size_t size)
{
	switch (t->type) {
	case TOK_EOF:
		return "end of file";
	case TOK_NEWLINE:
		return "end of line";
	case TOK_SEMI:
		return "';'";
	case TOK_EQUALS:
		return "'='";
	case TOK_LBRACKET:
		return "'['";
	case TOK_RBRACKET:
		return "']'";
	case TOK_COMMA:
		return "','";
	case TOK_KEY:
		format(buf, size, "'%.*s'", (int)t->text_len, t->text);
		return buf;
	case TOK_NUMBER:
		return "a number";
	case TOK_STRING:
		return "a string";
	default:
		return "a bad token";
	}
}

static bool ends_statement(const struct token *t)
{
	return t->type == TOK_NEWLINE || t->type == TOK_SEMI || t->type == TOK_EOF;
}

/*
 * Drops the rest of a broken statement, `depth` lists deep. A list is skipped to its ']', so
 * that its items on later lines are not read as statements, unless a key starts a line
 * first: then the ']' was forgotten, and that key begins the next statement.
 */
static void skip_statement(struct parser *p, unsigned depth)
{
	struct token t;

	p->quiet = true;
	for (;;) {
		next(p, &t);
		if (t.type == TOK_EOF)
			break;
		if (t.type == TOK_LBRACKET) {
			depth++;
		} else if (t.type == TOK_RBRACKET) {
			if (depth)
				depth--;
		} else if (t.type == TOK_NEWLINE || t.type == TOK_SEMI) {
			if (!depth)
				break;
		} else if (t.type == TOK_KEY && depth && t.line_start) {
			unget(p, &t);
			break;
		}
	}
	p->quiet = false;
}

/* After an error at token t, `depth` lists deep: skip what is left of the statement. */
static void recover(struct parser *p, const struct token *t, unsigned depth)
{
	if (depth == 0 && ends_statement(t))
		return; /* the error token was the statement's end */
	skip_statement(p, depth);
}

static bool add_item(struct parser *p, const struct token *t, struct xlcfg_value *list)
{
	struct xlcfg *cfg = p->cfg;
	struct xlcfg_value *item;

	if (cfg->item_count >= XLCFG_MAX_ITEMS) {
		perr(p, t->pos, "too many list items in one file (limit %d)", XLCFG_MAX_ITEMS);
		return false;
	}
	item = &cfg->items[cfg->item_count++];
	memset(item, 0, sizeof(*item));
	item->pos = t->pos;
	if (t->type == TOK_NUMBER) {
		item->type = XLCFG_NUMBER;
		item->number = t->number;
	} else {
		item->type = XLCFG_STRING;
		item->str = t->str;
		item->len = t->len;
	}
	list->count++;
	return true;
}

/* After '['. Returns false on an error, with the statement already skipped. */
static bool parse_list(struct parser *p, const struct token *open, struct xlcfg_value *list)
{
	bool want_item = true; /* after '[' or ',' */
	char what[48];
	struct token t;

	list->type = XLCFG_LIST;
	list->pos = open->pos;
	list->first = (uint16_t)p->cfg->item_count;
	list->count = 0;
	for (;;) {
		do
			next(p, &t);
		while (t.type == TOK_NEWLINE);

		if (t.type == TOK_RBRACKET)
			return true; /* "[]" and a trailing comma are fine */
		if (t.type == TOK_EOF || (t.type == TOK_KEY && t.line_start))
			break;
		if (t.type == TOK_BAD)
			goto skip;
		if (want_item) {
			if (t.type == TOK_NUMBER || t.type == TOK_STRING) {
				if (!add_item(p, &t, list))
					goto skip;
				want_item = false;
				continue;
			}
			if (t.type == TOK_LBRACKET)
				perr(p, t.pos, "lists inside lists are not supported");
			else if (t.type == TOK_KEY)
				perr(p, t.pos, "bare word %s must be quoted",
				     describe_token(&t, what, sizeof(what)));
			else
				perr(p, t.pos, "expected a list item or ']', found %s",
				     describe_token(&t, what, sizeof(what)));
			goto skip;
		}
		if (t.type == TOK_COMMA) {
			want_item = true;
			continue;
		}
		perr(p, t.pos, "expected ',' or ']' after a list item, found %s",
		     describe_token(&t, what, sizeof(what)));
		goto skip;
	}
	/* EOF, or a key starting a line: the list was never closed. */
	perr(p, t.pos, "missing ']' to close the list opened at line %u, column %u",
	     (unsigned)open->pos.line, (unsigned)open->pos.column);
	if (t.type == TOK_KEY)
		unget(p, &t);
	return false;
skip:
	skip_statement(p, 1);
	return false;
}

static bool store_entry(struct parser *p, const struct xlcfg_entry *e)
{
	struct xlcfg *cfg = p->cfg;
	const struct xlcfg_entry *first = xlcfg_find(cfg, e->key);

	if (first) {
		perr(p, e->key_pos, "duplicate key (first set at line %u)",
		     (unsigned)first->key_pos.line);
		return false;
	}
	if (cfg->entry_count >= XLCFG_MAX_ENTRIES) {
		if (!p->reported_full)
			perr(p, e->key_pos, "too many keys in one file (limit %d)",
			     XLCFG_MAX_ENTRIES);
		p->reported_full = true;
		return false;
	}
	cfg->entries[cfg->entry_count++] = *e;
	return true;
}

/* key '=' value, from the key on. */
static void parse_statement(struct parser *p, const struct token *key)
{
	struct xlcfg *cfg = p->cfg;
	size_t pool_mark = cfg->pool_used;
	unsigned items_mark = cfg->item_count;
	struct xlcfg_entry e;
	char what[48];
	struct token t;

	memset(&e, 0, sizeof(e));
	memcpy(e.key, key->text, key->text_len);
	e.key_pos = key->pos;
	p->key = e.key;

	next(p, &t);
	if (t.type != TOK_EQUALS) {
		if (t.type != TOK_BAD)
			perr(p, t.pos, "expected '=' after the key, found %s",
			     describe_token(&t, what, sizeof(what)));
		recover(p, &t, 0);
		goto invalid;
	}

	next(p, &t);
	e.value.pos = t.pos;
	switch (t.type) {
	case TOK_NUMBER:
		e.value.type = XLCFG_NUMBER;
		e.value.number = t.number;
		break;
	case TOK_STRING:
		e.value.type = XLCFG_STRING;
		e.value.str = t.str;
		e.value.len = t.len;
		break;
	case TOK_LBRACKET:
		if (!parse_list(p, &t, &e.value))
			goto invalid;
		break;
	case TOK_BAD:
		recover(p, &t, 0);
		goto invalid;
	case TOK_KEY:
		perr(p, t.pos, "bare word %s must be quoted",
		     describe_token(&t, what, sizeof(what)));
		recover(p, &t, 0);
		goto invalid;
	default:
		if (ends_statement(&t))
			perr(p, t.pos, "missing value after '='");
		else
			perr(p, t.pos, "expected a value, found %s",
			     describe_token(&t, what, sizeof(what)));
		recover(p, &t, t.type == TOK_LBRACKET);
		goto invalid;
	}

	next(p, &t);
	if (!ends_statement(&t)) {
		if (t.type != TOK_BAD)
			perr(p, t.pos, "expected end of line after the value, found %s",
			     describe_token(&t, what, sizeof(what)));
		recover(p, &t, t.type == TOK_LBRACKET);
		goto invalid;
	}
	if (store_entry(p, &e))
		return;
	cfg->pool_used = pool_mark;
	cfg->item_count = items_mark;
	return;

invalid:
	/* Keep the key, so later checks neither repeat the error nor call the key missing. */
	cfg->pool_used = pool_mark;
	cfg->item_count = items_mark;
	memset(&e.value, 0, sizeof(e.value));
	e.value.type = XLCFG_INVALID;
	e.value.pos = e.key_pos;
	store_entry(p, &e);
}

bool xlcfg_parse(struct xlcfg *cfg, const char *text, size_t len, struct xlcfg_errors *errs)
{
	unsigned errors_before = errs->count + errs->dropped;
	struct parser parser, *p = &parser;
	char what[48];
	struct token t;

	memset(cfg, 0, sizeof(*cfg));
	if (len > XLCFG_MAX_FILE_SIZE) {
		xlcfg_error_add(errs, (struct xlcfg_pos){ 0, 0 },
				"file is %zu bytes, more than the %d allowed", len,
				XLCFG_MAX_FILE_SIZE);
		return false;
	}
	memset(p, 0, sizeof(*p));
	p->text = text;
	p->len = len;
	p->line = 1;
	p->cfg = cfg;
	p->errs = errs;
	/* A UTF-8 byte order mark, as some editors write, is no part of the text. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		p->i = 3;
	begin_line(p);

	for (;;) {
		p->key = NULL;
		next(p, &t);
		if (t.type == TOK_EOF)
			break;
		if (t.type == TOK_NEWLINE || t.type == TOK_SEMI)
			continue;
		if (t.type == TOK_KEY) {
			parse_statement(p, &t);
			continue;
		}
		if (t.type != TOK_BAD)
			perr(p, t.pos, "expected a key at the start of a statement, found %s",
			     describe_token(&t, what, sizeof(what)));
		skip_statement(p, t.type == TOK_LBRACKET);
	}
	return errs->count + errs->dropped == errors_before;
}
