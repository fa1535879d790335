#include "loader/hvcfg.h"

/* No libc in the loader: the few string helpers this parser needs. */
static size_t slen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static bool span_is(const char *s, size_t n, const char *word)
{
	size_t i = 0;
	for (; i < n; i++)
		if (!word[i] || word[i] != s[i])
			return false;
	return word[i] == 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Copies [s, s+n) terminated; false when it does not fit. */
static bool copy_span(char *dst, size_t size, const char *s, size_t n)
{
	if (n + 1 > size)
		return false;
	for (size_t i = 0; i < n; i++)
		dst[i] = s[i];
	dst[n] = 0;
	return true;
}

/* Appends what fits of s to out (terminated); returns the new length. */
static size_t append(char *out, size_t size, size_t at, const char *s)
{
	while (*s && at + 1 < size)
		out[at++] = *s++;
	if (size)
		out[at < size ? at : size - 1] = 0;
	return at;
}

static size_t append_uint(char *out, size_t size, size_t at, unsigned v)
{
	char digits[12];
	int n = 0;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	char s[12];
	for (int i = 0; i < n; i++)
		s[i] = digits[n - 1 - i];
	s[n] = 0;
	return append(out, size, at, s);
}

static void error(struct hvcfg *cfg, unsigned line, const char *what, const char *s, size_t n)
{
	if (cfg->nerrors == HVCFG_MAX_ERRORS) {
		cfg->errors_dropped = true;
		return;
	}
	struct hvcfg_error *e = &cfg->errors[cfg->nerrors++];
	e->line = line;
	size_t at = append(e->reason, sizeof(e->reason), 0, what);
	if (s) {
		/* quote what was read, cut short and printable */
		at = append(e->reason, sizeof(e->reason), at, " '");
		for (size_t i = 0; i < n && i < 40 && at + 1 < sizeof(e->reason); i++) {
			char c = s[i];
			e->reason[at++] = (c >= 0x20 && c < 0x7f) ? c : '?';
		}
		e->reason[at] = 0;
		append(e->reason, sizeof(e->reason), at, n > 40 ? "...'" : "'");
	}
}

static void trim(const char **s, size_t *n)
{
	while (*n && is_space(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_space((*s)[*n - 1]))
		(*n)--;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

/* A path on the ESP: printable, no "..", no drive or backslash games. */
static bool path_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c <= 0x20 || c >= 0x7f || c == '\\' || c == ':')
			return false;
		if (c == '.' && i + 1 < n && s[i + 1] == '.' && (i == 0 || s[i - 1] == '/') &&
		    (i + 2 == n || s[i + 2] == '/'))
			return false;
	}
	return true;
}

static bool set_path(struct hvcfg *cfg, unsigned line, char *dst, const char *v, size_t n,
		     const char *bad)
{
	if (!path_ok(v, n)) {
		error(cfg, line, bad, v, n);
		return false;
	}
	if (!copy_span(dst, HVCFG_PATH_MAX, v, n)) {
		error(cfg, line, "path too long", v, n);
		return false;
	}
	return true;
}

static void entry_key(struct hvcfg *cfg, struct hvcfg_section *sec, unsigned line, const char *k,
		      size_t kn, const char *v, size_t vn)
{
	if (span_is(k, kn, "options")) {
		if (!copy_span(sec->options, sizeof(sec->options), v, vn))
			error(cfg, line, "options= is too long", NULL, 0);
	} else if (span_is(k, kn, "kernel")) {
		set_path(cfg, line, sec->kernel, v, vn, "kernel= needs a file name, got");
	} else if (span_is(k, kn, "module")) {
		if (sec->nmodules == HVCFG_MAX_MODULES) {
			error(cfg, line, "too many modules (at most 32)", NULL, 0);
			return;
		}
		size_t pn = 0;
		while (pn < vn && !is_space(v[pn]))
			pn++;
		const char *rest = v + pn;
		size_t rn = vn - pn;
		trim(&rest, &rn);
		struct hvcfg_module *m = &sec->modules[sec->nmodules];
		if (!set_path(cfg, line, m->path, v, pn, "module= needs a file name, got"))
			return;
		if (rn == 0) {
			rest = v;
			rn = pn;
		}
		if (!copy_span(m->cmdline, sizeof(m->cmdline), rest, rn)) {
			error(cfg, line, "module name too long", rest, rn);
			m->path[0] = 0;
			return;
		}
		sec->nmodules++;
	} else {
		error(cfg, line, "unknown key (options, kernel, module)", k, kn);
	}
}

bool hvcfg_parse(struct hvcfg *cfg, const char *text, size_t len)
{
	*cfg = (struct hvcfg){0};
	cfg->default_index = -1;

	enum { NONE, GLOBAL, ENTRY, SKIP } where = NONE;
	const char *def = NULL;
	size_t def_len = 0;
	unsigned def_line = 0;
	unsigned line = 0;
	size_t pos = 0;

	while (pos < len) {
		size_t end = pos;
		while (end < len && text[end] != '\n')
			end++;
		line++;
		const char *s = text + pos;
		size_t n = end - pos;
		pos = end + 1;
		if (n && s[n - 1] == '\r')
			n--;
		if (line == 1 && n >= 3 && (uint8_t)s[0] == 0xef && (uint8_t)s[1] == 0xbb &&
		    (uint8_t)s[2] == 0xbf) {
			s += 3; /* a UTF-8 byte order mark, as some editors write */
			n -= 3;
		}
		trim(&s, &n);
		if (n == 0 || s[0] == '#' || s[0] == ';')
			continue;
		size_t ctl = 0;
		while (ctl < n && ((uint8_t)s[ctl] >= 0x20 || s[ctl] == '\t') && s[ctl] != 0x7f)
			ctl++;
		if (ctl < n) {
			/* a NUL or control byte: no value may carry one to the hypervisor */
			error(cfg, line, "a control character in the line:", s, n);
			continue;
		}

		if (s[0] == '[') {
			if (s[n - 1] != ']') {
				error(cfg, line, "a section header ends with ']':", s, n);
				where = SKIP;
				continue;
			}
			const char *name = s + 1;
			size_t nn = n - 2;
			trim(&name, &nn);
			bool ok = nn > 0 && nn < HVCFG_NAME_MAX;
			for (size_t i = 0; ok && i < nn; i++)
				ok = name_char(name[i]);
			if (!ok) {
				error(cfg, line, "bad section name (letters, digits, - _ .):", name, nn);
				where = SKIP;
				continue;
			}
			if (span_is(name, nn, "global")) {
				where = GLOBAL;
				continue;
			}
			bool dup = false;
			for (unsigned i = 0; i < cfg->nsections; i++)
				dup = dup || span_is(name, nn, cfg->sections[i].name);
			if (dup) {
				error(cfg, line, "section defined twice:", name, nn);
				where = SKIP;
				continue;
			}
			if (cfg->nsections == HVCFG_MAX_SECTIONS) {
				error(cfg, line, "too many sections (at most 8)", NULL, 0);
				where = SKIP;
				continue;
			}
			struct hvcfg_section *sec = &cfg->sections[cfg->nsections++];
			copy_span(sec->name, sizeof(sec->name), name, nn);
			sec->line = line;
			where = ENTRY;
			continue;
		}

		size_t eq = 0;
		while (eq < n && s[eq] != '=')
			eq++;
		if (eq == n) {
			error(cfg, line, "expected key=value or [section], got", s, n);
			continue;
		}
		const char *k = s, *v = s + eq + 1;
		size_t kn = eq, vn = n - eq - 1;
		trim(&k, &kn);
		trim(&v, &vn);
		if (kn == 0) {
			error(cfg, line, "a key is missing before '='", NULL, 0);
			continue;
		}
		switch (where) {
		case NONE:
			error(cfg, line, "a key before any [section]:", k, kn);
			break;
		case GLOBAL:
			if (span_is(k, kn, "default")) {
				def = v;
				def_len = vn;
				def_line = line;
			} else {
				error(cfg, line, "unknown key in [global] (default)", k, kn);
			}
			break;
		case ENTRY:
			entry_key(cfg, &cfg->sections[cfg->nsections - 1], line, k, kn, v, vn);
			break;
		case SKIP:
			break;
		}
	}

	for (unsigned i = 0; i < cfg->nsections; i++)
		if (!cfg->sections[i].kernel[0])
			copy_span(cfg->sections[i].kernel, HVCFG_PATH_MAX, "hv.elf", 6);
	if (def) {
		for (unsigned i = 0; i < cfg->nsections; i++)
			if (span_is(def, def_len, cfg->sections[i].name))
				cfg->default_index = (int)i;
		if (cfg->default_index < 0)
			error(cfg, def_line, "default= names no section:", def, def_len);
	}
	if (cfg->nsections == 0)
		error(cfg, 0, "no boot entry: add a section such as [hv] with kernel=hv.elf", NULL,
		      0);
	return cfg->nerrors == 0;
}

size_t hvcfg_error_format(const struct hvcfg *cfg, unsigned i, const char *file, char *out,
			  size_t size)
{
	if (!size)
		return 0;
	out[0] = 0;
	if (i >= cfg->nerrors)
		return 0;
	const struct hvcfg_error *e = &cfg->errors[i];
	size_t at = append(out, size, 0, file);
	if (e->line) {
		at = append(out, size, at, ":");
		at = append_uint(out, size, at, e->line);
	}
	at = append(out, size, at, ": ");
	at = append(out, size, at, e->reason);
	return slen(out);
}
