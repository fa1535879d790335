#include "kernel/cmdline.h"

#include "kernel/lib/format.h"
#include "kernel/lib/string.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool cmdline_find(const char *cmdline, const char *key, const char **value, size_t *len)
{
	size_t klen = strlen(key);
	bool found = false;

	if (!cmdline)
		return false;
	for (const char *p = cmdline; *p;) {
		while (is_space(*p))
			p++;
		const char *tok = p;
		while (*p && !is_space(*p))
			p++;
		size_t tlen = (size_t)(p - tok);
		if (tlen < klen || strncmp(tok, key, klen) != 0)
			continue;
		if (tlen == klen) {
			*value = tok + tlen;
			*len = 0;
			found = true;
		} else if (tok[klen] == '=') {
			*value = tok + klen + 1;
			*len = tlen - klen - 1;
			found = true;
		}
	}
	return found;
}

bool cmdline_get_u64(const char *cmdline, const char *key, uint64_t *out)
{
	const char *v;
	size_t len;
	uint64_t x;

	if (!cmdline_find(cmdline, key, &v, &len) || len == 0)
		return false;
	if (parse_u64(v, len, &x) != len)
		return false;
	*out = x;
	return true;
}

bool cmdline_get_str(const char *cmdline, const char *key, char *out, size_t size)
{
	const char *v;
	size_t len;

	if (!cmdline_find(cmdline, key, &v, &len) || len + 1 > size)
		return false;
	memcpy(out, v, len);
	out[len] = 0;
	return true;
}

static const uint16_t com_ports[4] = {0x3f8, 0x2f8, 0x3e8, 0x2e8};

static int parse_dps(const char *s, size_t len, struct serial_params *out)
{
	if (len != 3 || s[0] < '5' || s[0] > '8')
		return -1;
	char parity = s[1];
	if (parity != 'n' && parity != 'o' && parity != 'e' && parity != 'm' && parity != 's')
		return -1;
	if (s[2] != '1' && s[2] != '2')
		return -1;
	out->data_bits = (uint8_t)(s[0] - '0');
	out->parity = parity;
	out->stop_bits = (uint8_t)(s[2] - '0');
	return 0;
}

void cmdline_console(const char *cmdline, bool *serial, bool *vga)
{
	const char *v;
	size_t len;
	*serial = true;
	*vga = false;
	if (!cmdline_find(cmdline, "console", &v, &len))
		return;
	*serial = false;
	for (size_t i = 0; i < len;) {
		size_t n = 0;
		while (i + n < len && v[i + n] != ',')
			n++;
		if (n == 4 && strncmp(v + i, "com", 3) == 0 && v[i + 3] >= '1' && v[i + 3] <= '4')
			*serial = true;
		else if (n == 3 && strncmp(v + i, "vga", 3) == 0)
			*vga = true;
		i += n + 1;
	}
	if (!*serial && !*vga)
		*serial = true; /* nothing we know: keep the serial port rather than go dark */
}

int cmdline_serial(const char *cmdline, struct serial_params *out, char *err, size_t errlen)
{
	const char *v;
	size_t len;
	unsigned com = 1;
	char key[5] = "com1";

	*out = (struct serial_params){0x3f8, 115200, 8, 'n', 1};
	if (errlen)
		err[0] = 0;

	if (cmdline_find(cmdline, "console", &v, &len)) {
		/* console= is a comma list (Xen: console=com1,vga); take the first comN */
		for (size_t i = 0; i + 4 <= len; i++) {
			if (strncmp(v + i, "com", 3) == 0 && v[i + 3] >= '1' && v[i + 3] <= '4') {
				com = (unsigned)(v[i + 3] - '0');
				break;
			}
		}
	}
	key[3] = (char)('0' + com);
	out->port = com_ports[com - 1];

	if (!cmdline_find(cmdline, key, &v, &len))
		return 0;

	/* <baud>|auto [,DPS [,<io-base>]] */
	const char *end = v + len;
	const char *f = v;
	const char *comma = f;
	while (comma < end && *comma != ',')
		comma++;
	uint64_t baud;
	if (comma == f || ((size_t)(comma - f) == 4 && strncmp(f, "auto", 4) == 0)) {
		/* empty or "auto": keep the default */
	} else if (parse_u64(f, (size_t)(comma - f), &baud) != (size_t)(comma - f) || baud < 50 ||
		   baud > 115200 || 115200 % baud) {
		format(err, errlen, "%s: baud rate '%.*s' is not a divisor of 115200", key,
		       (int)(comma - f), f);
		return -1;
	} else {
		out->baud = (uint32_t)baud;
	}
	if (comma == end)
		return 0;

	f = comma + 1;
	comma = f;
	while (comma < end && *comma != ',')
		comma++;
	if (comma > f && parse_dps(f, (size_t)(comma - f), out) < 0) {
		format(err, errlen, "%s: '%.*s' is not a data/parity/stop setting such as 8n1", key,
		       (int)(comma - f), f);
		return -1;
	}
	if (comma == end)
		return 0;

	f = comma + 1;
	comma = f;
	while (comma < end && *comma != ',')
		comma++;
	uint64_t port;
	if (comma == f)
		return 0; /* empty: keep the default */
	if (parse_u64(f, (size_t)(comma - f), &port) != (size_t)(comma - f) || port == 0 ||
	    port > 0xfff8) {
		format(err, errlen, "%s: I/O base '%.*s' is not a port number", key, (int)(comma - f),
		       f);
		return -1;
	}
	out->port = (uint16_t)port;
	return 0;
}
