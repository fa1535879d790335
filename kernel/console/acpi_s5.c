#include "kernel/console/acpi_s5.h"

#define AML_NAME_OP 0x08
#define AML_PACKAGE_OP 0x12
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_BYTE_PREFIX 0x0a
#define AML_ROOT_CHAR 0x5c /* '\' */

/* One package element that is a small integer; false for anything else. */
static bool small_integer(const uint8_t *p, const uint8_t *end, uint8_t *value, size_t *used)
{
	if (p >= end)
		return false;
	if (*p == AML_ZERO_OP || *p == AML_ONE_OP) {
		*value = *p;
		*used = 1;
		return true;
	}
	if (*p == AML_BYTE_PREFIX && p + 1 < end) {
		*value = p[1];
		*used = 2;
		return true;
	}
	return false;
}

static bool parse_package(const uint8_t *p, const uint8_t *end, uint8_t *a, uint8_t *b)
{
	if (p >= end || *p++ != AML_PACKAGE_OP || p >= end)
		return false;
	/* PkgLength: bits 7:6 of the lead byte count the bytes that follow (§20.2.4) */
	size_t extra = *p >> 6;
	p += 1 + extra;
	if (p >= end)
		return false;
	uint8_t count = *p++;
	size_t used;
	if (count < 1 || !small_integer(p, end, a, &used))
		return false;
	p += used;
	/* a one-element package gives both registers the same type */
	if (count < 2 || !small_integer(p, end, b, &used))
		*b = *a;
	return true;
}

bool acpi_find_s5(const uint8_t *aml, size_t len, uint8_t *slp_typa, uint8_t *slp_typb)
{
	const uint8_t *end = aml + len;
	for (size_t i = 1; i + 4 < len; i++) {
		if (aml[i] != '_' || aml[i + 1] != 'S' || aml[i + 2] != '5' || aml[i + 3] != '_')
			continue;
		/* NameOp, optionally with the root prefix: Name (\_S5_, Package ...) */
		bool named = aml[i - 1] == AML_NAME_OP ||
			     (aml[i - 1] == AML_ROOT_CHAR && i >= 2 && aml[i - 2] == AML_NAME_OP);
		if (named && parse_package(aml + i + 4, end, slp_typa, slp_typb))
			return true;
	}
	return false;
}
