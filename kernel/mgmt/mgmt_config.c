#include "kernel/mgmt/mgmt_config.h"

#include "kernel/cmdline.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"

bool mgmt_parse_ipv4(const char *s, size_t len, uint32_t *out)
{
	uint32_t v = 0;
	size_t i = 0;

	for (unsigned part = 0; part < 4; part++) {
		if (part) {
			if (i >= len || s[i] != '.')
				return false;
			i++;
		}
		size_t start = i;
		unsigned n = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 3)
			n = n * 10 + (unsigned)(s[i++] - '0');
		if (i == start || n > 255 || (s[start] == '0' && i - start > 1))
			return false;
		v = v << 8 | n;
	}
	if (i != len)
		return false;
	*out = v;
	return true;
}

uint32_t mgmt_prefix_mask(unsigned prefix)
{
	return prefix == 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~((1u << (32 - prefix)) - 1);
}

int mgmt_mask_prefix(uint32_t mask)
{
	unsigned p = 0;
	while (p < 32 && (mask & (0x80000000u >> p)))
		p++;
	return mgmt_prefix_mask(p) == mask ? (int)p : -1;
}

static void fmt_ip(char *out, size_t size, uint32_t a)
{
	format(out, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

void mgmt_format_addr(char *out, size_t size, uint32_t addr, unsigned prefix, uint32_t gw,
		      const char *how)
{
	char a[16], g[16];
	fmt_ip(a, sizeof(a), addr);
	if (gw) {
		fmt_ip(g, sizeof(g), gw);
		format(out, size, "%s/%u gw %s (%s)", a, prefix, g, how);
	} else {
		format(out, size, "%s/%u (%s)", a, prefix, how);
	}
}

/* Keeps the first error's reason. */
static int fail(char *err, size_t errlen, int *errors, const char *fmt, const char *v, size_t len)
{
	if (!*errors)
		format(err, errlen, fmt, (int)len, v);
	(*errors)++;
	return -1;
}

static bool is_unicast_host(uint32_t a, uint32_t mask)
{
	uint32_t host = a & ~mask;
	if (a == 0 || (a >> 24) == 127 || (a >> 28) >= 14) /* 0.0.0.0, loopback, multicast, class E */
		return false;
	/* neither the network's own address nor its broadcast (on /31 and /32 both are hosts) */
	return mask >= 0xfffffffeu || (host != 0 && host != ~mask);
}

/* "ADDR/PREFIX[,gw=GW]" */
static int parse_static(const char *v, size_t len, struct mgmt_config *cfg, char *err, size_t errlen,
			int *errors)
{
	size_t comma = 0, slash = 0;
	while (comma < len && v[comma] != ',')
		comma++;
	while (slash < comma && v[slash] != '/')
		slash++;
	if (slash == comma)
		return fail(err, errlen, errors, "mgmt=%.*s: give ADDR/PREFIX, dhcp or off", v, len);

	uint32_t addr;
	uint64_t prefix;
	if (!mgmt_parse_ipv4(v, slash, &addr))
		return fail(err, errlen, errors, "mgmt=%.*s: not an IPv4 address", v, len);
	size_t plen = comma - slash - 1;
	if (plen == 0 || plen > 2 || parse_u64(v + slash + 1, plen, &prefix) != plen || prefix < 1 ||
	    prefix > 32)
		return fail(err, errlen, errors, "mgmt=%.*s: the prefix is 1 to 32", v, len);
	uint32_t mask = mgmt_prefix_mask((unsigned)prefix);
	if (!is_unicast_host(addr, mask))
		return fail(err, errlen, errors, "mgmt=%.*s: not a host address of that network", v, len);

	uint32_t gw = 0;
	if (comma < len) {
		const char *o = v + comma + 1;
		size_t olen = len - comma - 1;
		if (olen < 3 || strncmp(o, "gw=", 3) != 0 || !mgmt_parse_ipv4(o + 3, olen - 3, &gw))
			return fail(err, errlen, errors, "mgmt=%.*s: after the address only gw=A.B.C.D",
				    v, len);
		if ((gw & mask) != (addr & mask) || gw == addr || !is_unicast_host(gw, mask))
			return fail(err, errlen, errors,
				    "mgmt=%.*s: the gateway is not another host of that network", v, len);
	}
	cfg->mode = MGMT_STATIC;
	cfg->addr = addr;
	cfg->prefix = (unsigned)prefix;
	cfg->gw = gw;
	return 0;
}

/* HOST[:PORT], HOST an IPv4 address (there is no DNS) */
static int parse_syslog(const char *v, size_t len, struct mgmt_config *cfg, char *err, size_t errlen,
			int *errors)
{
	size_t colon = 0;
	uint32_t addr;
	uint64_t port = MGMT_SYSLOG_DEFAULT_PORT;

	while (colon < len && v[colon] != ':')
		colon++;
	if (!mgmt_parse_ipv4(v, colon, &addr) || addr == 0 || addr == 0xffffffffu)
		return fail(err, errlen, errors, "syslog=%.*s: give an IPv4 address[:PORT]", v, len);
	if (colon < len) {
		size_t plen = len - colon - 1;
		if (plen == 0 || plen > 5 || parse_u64(v + colon + 1, plen, &port) != plen || port == 0 ||
		    port > 65535)
			return fail(err, errlen, errors, "syslog=%.*s: the port is 1 to 65535", v, len);
	}
	cfg->syslog = true;
	cfg->syslog_addr = addr;
	cfg->syslog_port = (uint16_t)port;
	return 0;
}

int mgmt_config_parse(const char *cmdline, struct mgmt_config *cfg, char *err, size_t errlen)
{
	const char *v;
	size_t len;
	int errors = 0;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = MGMT_DHCP;
	cfg->port = MGMT_DEFAULT_PORT;
	if (errlen)
		err[0] = 0;

	if (cmdline_find(cmdline, "mgmt", &v, &len)) {
		if (len == 4 && strncmp(v, "dhcp", 4) == 0)
			cfg->mode = MGMT_DHCP;
		else if (len == 3 && strncmp(v, "off", 3) == 0)
			cfg->mode = MGMT_OFF;
		else if (parse_static(v, len, cfg, err, errlen, &errors) < 0)
			cfg->mode = MGMT_OFF;
	}

	if (cmdline_find(cmdline, "mgmt_port", &v, &len)) {
		uint64_t port;
		if (len == 0 || len > 5 || parse_u64(v, len, &port) != len || port == 0 || port > 65535)
			fail(err, errlen, &errors, "mgmt_port=%.*s: the port is 1 to 65535", v, len);
		else
			cfg->port = (uint16_t)port;
	}

	if (cmdline_find(cmdline, "mgmt_token", &v, &len)) {
		bool printable = true;
		for (size_t i = 0; i < len; i++)
			printable &= v[i] > ' ' && v[i] < 0x7f;
		if (len == 0 || len > MGMT_TOKEN_MAX || !printable)
			fail(err, errlen, &errors, "mgmt_token%.*s: 1 to 128 printable characters, no spaces", "",
			     0); /* the token itself is never printed */
		else
			memcpy(cfg->token, v, len);
	}

	if (cmdline_find(cmdline, "mgmt_token_file", &v, &len)) {
		if (len == 0 || len >= sizeof(cfg->token_file))
			fail(err, errlen, &errors, "mgmt_token_file=%.*s: a boot module's path", v, len);
		else
			memcpy(cfg->token_file, v, len);
	}

	if (cmdline_find(cmdline, "syslog", &v, &len))
		parse_syslog(v, len, cfg, err, errlen, &errors);
	return errors;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'; /* as cmdline_find splits */
}

void mgmt_redact_cmdline(char *out, size_t size, const char *cmdline)
{
	static const char key[] = "mgmt_token=";
	size_t n = 0;

	if (!size)
		return;
	for (const char *p = cmdline ? cmdline : ""; *p && n + 1 < size;) {
		bool token_start = p == cmdline || is_space(p[-1]);
		if (token_start && strncmp(p, key, sizeof(key) - 1) == 0) {
			for (size_t i = 0; i < sizeof(key) - 1 && n + 1 < size; i++)
				out[n++] = key[i];
			for (size_t i = 0; i < 3 && n + 1 < size; i++)
				out[n++] = '*';
			p += sizeof(key) - 1;
			while (*p && !is_space(*p))
				p++;
			continue;
		}
		out[n++] = *p++;
	}
	out[n] = 0;
}

int mgmt_token_from_text(const char *text, size_t len, char *out, size_t outlen)
{
	size_t start = 0, end;
	while (start < len && (text[start] == ' ' || text[start] == '\t'))
		start++;
	end = start;
	while (end < len && text[end] != '\n' && text[end] != '\r')
		end++;
	while (end > start && (text[end - 1] == ' ' || text[end - 1] == '\t'))
		end--;
	size_t n = end - start;
	if (n == 0 || n > MGMT_TOKEN_MAX || n + 1 > outlen)
		return -1;
	for (size_t i = start; i < end; i++)
		if (text[i] <= ' ' || text[i] >= 0x7f)
			return -1;
	memcpy(out, text + start, n);
	out[n] = 0;
	return 0;
}
