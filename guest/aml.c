/* The AML writer (see aml.h). */
#include "guest/aml.h"

#include "kernel/lib/string.h"

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	a->buf = buf;
	a->cap = buf ? cap : 0;
	a->len = 0;
	a->overflow = false;
}

void aml_byte(struct aml *a, uint8_t b)
{
	if (a->buf && a->len < a->cap)
		a->buf[a->len] = b;
	else if (a->buf)
		a->overflow = true;
	a->len++;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	const uint8_t *s = p;
	for (size_t i = 0; i < n; i++)
		aml_byte(a, s[i]);
}

static void le(struct aml *a, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0) {
		aml_byte(a, AML_ZERO);
	} else if (v == 1) {
		aml_byte(a, AML_ONE);
	} else if (v <= 0xff) {
		aml_byte(a, AML_BYTE_PREFIX);
		le(a, v, 1);
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD_PREFIX);
		le(a, v, 2);
	} else if (v <= 0xffffffffu) {
		aml_byte(a, AML_DWORD_PREFIX);
		le(a, v, 4);
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		le(a, v, 8);
	}
}

/* One NameSeg: up to 4 characters, padded with '_' (§20.2.2). */
static const char *name_seg(struct aml *a, const char *p)
{
	unsigned n = 0;
	for (; *p && *p != '.' && n < 4; p++, n++)
		aml_byte(a, (uint8_t)*p);
	for (; n < 4; n++)
		aml_byte(a, '_');
	return *p == '.' ? p + 1 : p;
}

void aml_name(struct aml *a, const char *path)
{
	unsigned segs = 1;

	if (*path == '\\') {
		aml_byte(a, AML_ROOT_CHAR);
		path++;
	}
	for (const char *p = path; *p; p++)
		segs += *p == '.';
	if (!*path) {
		aml_byte(a, 0); /* NullName: the root itself */
		return;
	}
	if (segs == 2) {
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	} else if (segs > 2) {
		aml_byte(a, AML_MULTI_NAME_PREFIX);
		aml_byte(a, (uint8_t)segs);
	}
	while (segs--)
		path = name_seg(a, path);
}

void aml_string(struct aml *a, const char *s)
{
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

static unsigned hex_digit(char c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
}

uint32_t aml_eisaid_value(const char *id)
{
	/* three letters of 5 bits (A = 1), then the product number in hex, big-endian */
	uint32_t v = (uint32_t)((id[0] - 0x40) & 0x1f) << 26 |
		     (uint32_t)((id[1] - 0x40) & 0x1f) << 21 |
		     (uint32_t)((id[2] - 0x40) & 0x1f) << 16;
	for (int i = 3; i < 7; i++)
		v |= (uint32_t)hex_digit(id[i]) << (4 * (6 - i));
	return __builtin_bswap32(v);
}

void aml_eisaid(struct aml *a, const char *id)
{
	aml_byte(a, AML_DWORD_PREFIX);
	le(a, aml_eisaid_value(id), 4);
}

size_t aml_pkg_open(struct aml *a)
{
	size_t mark = a->len;
	aml_byte(a, 0); /* one byte now; aml_pkg_close() makes room for more */
	return mark;
}

void aml_pkg_close(struct aml *a, size_t mark)
{
	size_t body = a->len - mark - 1;
	unsigned n;
	size_t total;

	/* the PkgLength counts itself (§20.2.4): 1 byte below 64, then 4 bits + 8 per byte */
	for (n = 1;; n++) {
		total = body + n;
		if ((n == 1 && total < 0x40) || (n == 2 && total < 0x1000) ||
		    (n == 3 && total < 0x100000) || n == 4)
			break;
	}
	/*
	 * Growing the length field slides the body up; the buffer never holds more than
	 * the finished AML, so a cap that fits the result fits every step.
	 */
	if (a->buf && !a->overflow && a->len + (n - 1) > a->cap)
		a->overflow = true;
	if (a->buf && !a->overflow) {
		uint8_t *p = a->buf + mark;
		memmove(p + n, p + 1, body);
		if (n == 1) {
			p[0] = (uint8_t)total;
		} else {
			p[0] = (uint8_t)((n - 1) << 6 | (total & 0xf));
			for (unsigned i = 1; i < n; i++)
				p[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
		}
	}
	a->len += n - 1;
}

void aml_name_integer(struct aml *a, const char *name, uint64_t v)
{
	aml_byte(a, AML_NAME);
	aml_name(a, name);
	aml_integer(a, v);
}

void aml_name_buffer(struct aml *a, const char *name, const uint8_t *bytes, size_t n)
{
	aml_byte(a, AML_NAME);
	aml_name(a, name);
	aml_byte(a, AML_BUFFER);
	size_t pkg = aml_pkg_open(a);
	aml_integer(a, n);
	aml_bytes(a, bytes, n);
	aml_pkg_close(a, pkg);
}

size_t aml_scope_open(struct aml *a, const char *name)
{
	aml_byte(a, AML_SCOPE);
	size_t pkg = aml_pkg_open(a);
	aml_name(a, name);
	return pkg;
}

size_t aml_device_open(struct aml *a, const char *name)
{
	aml_byte(a, AML_EXT_PREFIX);
	aml_byte(a, AML_EXT_DEVICE);
	size_t pkg = aml_pkg_open(a);
	aml_name(a, name);
	return pkg;
}
