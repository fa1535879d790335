/*
 * xl's VIFSPEC (see vifspec.h): comma-separated `key=value` items, blanks
 * around each ignored, empty items skipped (xl accepts a trailing comma).
 */
#include "kernel/config/vifspec.h"

#include <stdarg.h>

#include "kernel/config/specparse.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"

#define VALUE_MAX 64 /* longest value we keep; longer ones are wrong anyway */

/* xl's other keys and flags: refused by name, so a file written for xl is told plainly. */
static const char *const xl_keys[] = { "ip", "script", "backend", "rate", "type", "gatewaydev",
				       "devid", "mtu", "accel", "forwarddev", "bootproto" };
static const char *const xl_flags[] = { "trusted", "untrusted" };
static const char *const other_models[] = { "e1000", "rtl8139", "ne2k_pci", "pcnet", "i82551",
					    "i82557b", "i82559er", "vmxnet3", "e1000e" };

enum key { K_MAC, K_BRIDGE, K_MODEL, K_VIFNAME, K_COUNT };
static const char *const key_names[K_COUNT] = { "mac", "bridge", "model", "vifname" };


/* "00:16:3e:01:02:03" (or with '-'): two hex digits per octet, one separator throughout. */
static bool parse_mac(const char *s, uint8_t mac[6], char *why, size_t whylen)
{
	char sep = s[0] && s[1] && s[2] ? s[2] : 0;

	if (sep != ':' && sep != '-')
		sep = ':';
	for (int i = 0; i < 6; i++) {
		const char *o = s + 3 * i;
		int hi = hex_digit_value(o[0]), lo = hi < 0 ? -1 : hex_digit_value(o[1]);

		if (hi < 0 || lo < 0 || (i < 5 ? o[2] != sep : o[2] != 0))
			return spec_fail(why, whylen, "mac=%.40s: expected six hex octets like "
				    "00:16:3e:01:02:03", s);
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	if (mac[0] & 1)
		return spec_fail(why, whylen, "mac=%.40s is a multicast address (bit 0 of the first "
			    "octet is set)", s);
	if ((mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0)
		return spec_fail(why, whylen, "mac=%.40s is all zero", s);
	return true;
}

/* letters, digits, '-', '_', '.'; 1..max characters */
static bool good_name(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* One "key=value" item (already trimmed, len > 0). */
static bool item(const char *start, size_t len, struct vm_vif *out, bool *given, char *why,
		 size_t whylen)
{
	char key[VALUE_MAX + 1], value[VALUE_MAX + 1];
	const char *eq = NULL;
	size_t klen, vlen;
	enum key k = K_COUNT;

	for (size_t i = 0; i < len && !eq; i++)
		if (start[i] == '=')
			eq = start + i;
	klen = eq ? (size_t)(eq - start) : len;
	while (klen && spec_is_space(start[klen - 1]))
		klen--;
	if (klen > VALUE_MAX)
		klen = VALUE_MAX;
	memcpy(key, start, klen);
	key[klen] = 0;
	if (!eq) {
		if (SPEC_IN_LIST(key, xl_flags))
			return spec_fail(why, whylen, "the %s flag is not supported", key);
		return spec_fail(why, whylen, "\"%.40s\": expected key=value", key);
	}
	for (unsigned i = 0; i < K_COUNT; i++)
		if (strcmp(key, key_names[i]) == 0)
			k = (enum key)i;
	if (k == K_COUNT) {
		if (SPEC_IN_LIST(key, xl_keys))
			return spec_fail(why, whylen, "%s= is not supported", key);
		return spec_fail(why, whylen, "unknown key \"%.40s\"", key);
	}
	if (given[k])
		return spec_fail(why, whylen, "%s is given twice", key);
	given[k] = true;
	eq++;
	while (spec_is_space(*eq) && eq < start + len)
		eq++;
	vlen = (size_t)(start + len - eq);
	if (vlen > VALUE_MAX)
		return spec_fail(why, whylen, "%s= is %zu characters, too long", key, vlen);
	memcpy(value, eq, vlen);
	value[vlen] = 0;

	switch (k) {
	case K_MAC:
		if (!parse_mac(value, out->mac, why, whylen))
			return false;
		out->mac_given = true;
		return true;
	case K_BRIDGE:
		if (!good_name(value, VIF_BRIDGE_MAX))
			return spec_fail(why, whylen, "bridge=%.40s: a switch name is 1 to %d letters, "
				    "digits, '-', '_' or '.'", value, VIF_BRIDGE_MAX);
		strlcpy_hv(out->bridge, value, sizeof(out->bridge));
		return true;
	case K_MODEL:
		if (strcmp(value, "virtio-net") == 0 || strcmp(value, "virtio") == 0)
			return true;
		if (SPEC_IN_LIST(value, other_models))
			return spec_fail(why, whylen, "model=%.40s is not supported: every vif is a "
				    "virtio-net device (model=virtio-net)", value);
		return spec_fail(why, whylen, "unknown model=%.40s (only virtio-net)", value);
	case K_VIFNAME:
		if (!good_name(value, VIF_NAME_MAX))
			return spec_fail(why, whylen, "vifname=%.40s: 1 to %d letters, digits, '-', '_' "
				    "or '.'", value, VIF_NAME_MAX);
		strlcpy_hv(out->vifname, value, sizeof(out->vifname));
		return true;
	default:
		return false;
	}
}

bool vifspec_parse(const char *spec, struct vm_vif *out, char *why, size_t whylen)
{
	bool given[K_COUNT] = { false };
	const char *p = spec;

	memset(out, 0, sizeof(*out));
	strlcpy_hv(out->bridge, "uplink", sizeof(out->bridge));
	if (whylen)
		why[0] = 0;
	for (;;) {
		const char *start, *end;

		while (spec_is_space(*p))
			p++;
		start = p;
		while (*p && *p != ',')
			p++;
		end = p;
		while (end > start && spec_is_space(end[-1]))
			end--;
		if (end > start && !item(start, (size_t)(end - start), out, given, why, whylen))
			return false;
		if (*p == 0)
			return true;
		p++; /* the comma */
	}
}

void vifspec_derive_mac(const char *vm_name, unsigned index, uint8_t mac[6])
{
	/* FNV-1a over the name, a separator and the index: stable, and spread over 24 bits */
	uint32_t h = 2166136261u;

	for (const char *s = vm_name; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	h ^= 0xff; /* "a1"+0 and "a"+... differ */
	h *= 16777619u;
	for (int i = 0; i < 4; i++) {
		h ^= (uint8_t)(index >> (8 * i));
		h *= 16777619u;
	}
	h ^= h >> 24; /* fold the top byte in */
	mac[0] = 0x00;
	mac[1] = 0x16;
	mac[2] = 0x3e;
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}
