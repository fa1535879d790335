/*
 * xl's DISKSPEC (see diskspec.h): split at commas, each item a `target=` (the rest of the
 * string), a `key=value`, a flag, or the next positional parameter; then the values are
 * judged. The grammar follows xl-disk-configuration(5), "More formally".
 */
#include "kernel/config/diskspec.h"

#include <stdarg.h>

#include "kernel/config/specparse.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"

#define ITEM_MAX 64 /* longest non-target value we keep; longer ones are wrong anyway */

enum param { P_TARGET, P_FORMAT, P_VDEV, P_ACCESS, P_DEVTYPE, P_COUNT };

static const char *const param_names[P_COUNT] = { "target", "format", "vdev", "access",
						  "devtype" };

/* xl's other keys and flags: refused by name, so a file written for xl is told plainly. */
static const char *const xl_keys[] = { "backendtype", "backend", "script", "specification",
				       "colo-host", "colo-port", "colo-export",
				       "active-disk", "hidden-disk" };
static const char *const xl_flags[] = { "discard", "no-discard", "direct-io-safe", "trusted",
					"untrusted", "colo" };

struct spec {
	bool given[P_COUNT];
	char value[P_COUNT][DISK_TARGET_MAX + 1];
};


/* Records param p = value (an empty value: the default, but it counts as given). */
static bool set_param(struct spec *sp, enum param p, const char *value, size_t len, char *why,
		      size_t whylen)
{
	if (sp->given[p])
		return spec_fail(why, whylen, "%s is given twice", param_names[p]);
	if (len > DISK_TARGET_MAX)
		return spec_fail(why, whylen, "%s is %zu characters, more than %d", param_names[p], len,
			    DISK_TARGET_MAX);
	sp->given[p] = true;
	memcpy(sp->value[p], value, len);
	sp->value[p][len] = 0;
	return true;
}

static bool split(const char *spec, struct spec *sp, char *why, size_t whylen)
{
	const char *p = spec;
	unsigned next_positional = P_TARGET;

	memset(sp, 0, sizeof(*sp));
	for (;;) {
		const char *start, *end, *eq;
		char item[ITEM_MAX + 1];
		size_t len;

		while (spec_is_space(*p))
			p++;
		if (strncmp(p, "target=", 7) == 0) /* the rest of the string, commas and all */
			return set_param(sp, P_TARGET, p + 7, strlen(p + 7), why, whylen);
		start = p;
		while (*p && *p != ',')
			p++;
		end = p;
		while (end > start && spec_is_space(end[-1]))
			end--;
		len = (size_t)(end - start);
		eq = NULL;
		for (const char *q = start; q < end && !eq; q++)
			if (*q == '=')
				eq = q;
		if (eq) {
			size_t klen = (size_t)(eq - start);
			enum param k = P_COUNT;

			if (klen > ITEM_MAX)
				klen = ITEM_MAX;
			memcpy(item, start, klen);
			item[klen] = 0;
			for (unsigned i = P_FORMAT; i < P_COUNT; i++)
				if (strcmp(item, param_names[i]) == 0)
					k = (enum param)i;
			if (k == P_COUNT) {
				if (SPEC_IN_LIST(item, xl_keys))
					return spec_fail(why, whylen, "%s= is not supported", item);
				return spec_fail(why, whylen, "unknown key \"%.40s\"", item);
			}
			if (!set_param(sp, k, eq + 1, (size_t)(end - eq - 1), why, whylen))
				return false;
		} else {
			size_t n = len > ITEM_MAX ? ITEM_MAX : len;

			memcpy(item, start, n);
			item[n] = 0;
			if (len && strcmp(item, "cdrom") == 0) {
				if (!set_param(sp, P_DEVTYPE, "cdrom", 5, why, whylen))
					return false;
			} else if (len && SPEC_IN_LIST(item, xl_flags)) {
				return spec_fail(why, whylen, "the %s flag is not supported", item);
			} else {
				/* the next positional parameter not yet given by name */
				while (next_positional <= P_ACCESS && sp->given[next_positional])
					next_positional++;
				if (next_positional > P_ACCESS)
					return spec_fail(why, whylen,
						    "\"%.40s\": too many positional parameters "
						    "(target, format, vdev, access)",
						    item);
				if (!set_param(sp, (enum param)next_positional++, start, len, why,
					       whylen))
					return false;
			}
		}
		if (*p == 0)
			return true;
		p++; /* the comma */
	}
}

int diskspec_vdev_index(const char *vdev)
{
	static const char *const prefixes[] = { "xvd", "hd", "sd", "vd" };
	const char *p = NULL;
	int index = 0;
	size_t n;

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t plen = strlen(prefixes[i]);

		if (strncmp(vdev, prefixes[i], plen) == 0) {
			p = vdev + plen;
			break;
		}
	}
	if (!p)
		return -1;
	n = strlen(p);
	if (n < 1 || n > 2)
		return -1;
	/* bijective base 26, as Linux and xl name disks: a..z, then aa..zz */
	for (size_t i = 0; i < n; i++) {
		if (p[i] < 'a' || p[i] > 'z')
			return -1;
		index = index * 26 + (p[i] - 'a' + 1);
	}
	return index - 1;
}

/* nvme0n1, nvme0n1p3 */
static bool is_nvme_name(const char *s)
{
	if (strncmp(s, "nvme", 4) != 0)
		return false;
	s += 4;
	if (!(*s >= '0' && *s <= '9'))
		return false;
	while (*s >= '0' && *s <= '9')
		s++;
	if (*s++ != 'n' || !(*s >= '0' && *s <= '9'))
		return false;
	while (*s >= '0' && *s <= '9')
		s++;
	return *s == 0 || (*s == 'p' && str_all_digits(s + 1));
}

/* sda, sda2, hdb1, vdc (a host's name for a whole disk or a partition) */
static bool is_sd_name(const char *s)
{
	if (!(s[0] == 's' || s[0] == 'h' || s[0] == 'v') || s[1] != 'd')
		return false;
	s += 2;
	if (!(*s >= 'a' && *s <= 'z'))
		return false;
	while (*s >= 'a' && *s <= 'z')
		s++;
	return *s == 0 || str_all_digits(s);
}

/* ram0, ram0p1: a boot module given to the host as a disk (hostdisk=) */
static bool is_ram_name(const char *s)
{
	if (strncmp(s, "ram", 3) != 0)
		return false;
	s += 3;
	if (!(*s >= '0' && *s <= '9'))
		return false;
	while (*s >= '0' && *s <= '9')
		s++;
	return *s == 0 || (*s == 'p' && str_all_digits(s + 1));
}

static bool is_device_name(const char *s)
{
	return is_nvme_name(s) || is_sd_name(s) || is_ram_name(s);
}

/* Linux's udev links name the same things */
#define BY_PARTLABEL "/dev/disk/by-partlabel/"
#define BY_PARTUUID "/dev/disk/by-partuuid/"

bool diskspec_is_host_disk(const char *t)
{
	return strncmp(t, "partlabel:", 10) == 0 || strncmp(t, "partuuid:", 9) == 0 ||
	       strncmp(t, "/dev/", 5) == 0 || is_device_name(t);
}

/* 8-4-4-4-12 hex digits, as GPT tools print a partition's unique GUID */
static bool is_guid_text(const char *s)
{
	for (int i = 0; i < 36; i++) {
		char c = s[i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? c != '-'
			 : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return s[36] == 0;
}

/* A host disk target's form (whether the disk exists is judged when the VM is created). */
static bool check_host_target(const char *t, char *why, size_t whylen)
{
	const char *label = NULL, *uuid = NULL;

	if (strncmp(t, "partlabel:", 10) == 0)
		label = t + 10;
	else if (strncmp(t, BY_PARTLABEL, strlen(BY_PARTLABEL)) == 0)
		label = t + strlen(BY_PARTLABEL);
	else if (strncmp(t, "partuuid:", 9) == 0)
		uuid = t + 9;
	else if (strncmp(t, BY_PARTUUID, strlen(BY_PARTUUID)) == 0)
		uuid = t + strlen(BY_PARTUUID);
	if (label) {
		if (!*label)
			return spec_fail(why, whylen, "target %.60s names no partition label", t);
		if (strlen(label) > DISK_LABEL_MAX)
			return spec_fail(why, whylen, "target %.60s: a GPT partition label has at most %d "
				    "characters", t, DISK_LABEL_MAX);
		return true;
	}
	if (uuid) {
		if (!is_guid_text(uuid))
			return spec_fail(why, whylen, "target %.60s: not a GPT partition UUID (like "
				    "0fc63daf-8483-4772-8e79-3d69d8477de4; MBR partitions are not "
				    "supported)", t);
		return true;
	}
	if (!is_device_name(strncmp(t, "/dev/", 5) == 0 ? t + 5 : t))
		return spec_fail(why, whylen, "target %.60s is not a host disk name (nvme0n1p2, sda2, "
			    "partlabel:NAME or partuuid:UUID)", t);
	return true;
}

/* xl's deprecated "format:target" forms ("raw:/x", "phy:/dev/sda", "tap:qcow2:/x") */
static bool is_prefix_form(const char *t)
{
	static const char *const prefixes[] = { "raw:", "qcow:", "qcow2:", "vhd:", "qed:",
						"phy:", "file:", "tap:", "tap2:", "aio:" };
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(t, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

bool diskspec_parse(const char *spec, struct vm_disk *out, char *why, size_t whylen)
{
	struct spec spec_values; /* 1.3 KiB of the 16 KiB stack */
	struct spec *sp = &spec_values;
	int index;

	memset(out, 0, sizeof(*out));
	if (!split(spec, sp, why, whylen))
		return false;

	const char *format = sp->value[P_FORMAT], *vdev = sp->value[P_VDEV];
	const char *access = sp->value[P_ACCESS], *devtype = sp->value[P_DEVTYPE];
	const char *target = sp->value[P_TARGET];

	if (is_prefix_form(target)) /* its other items shift: judge nothing else */
		return spec_fail(why, whylen,
			    "target %.60s: the deprecated \"format:path\" form is not supported "
			    "(write format=raw, target=PATH)",
			    target);
	if (format[0] && strcmp(format, "raw") != 0)
		return spec_fail(why, whylen, "format=%.40s is not supported: only raw", format);
	if (devtype[0] && strcmp(devtype, "disk") != 0) {
		if (strcmp(devtype, "cdrom") == 0)
			return spec_fail(why, whylen, "devtype=cdrom is not supported: only disk");
		return spec_fail(why, whylen, "unknown devtype=%.40s (only disk)", devtype);
	}
	if (!access[0] || strcmp(access, "rw") == 0 || strcmp(access, "w") == 0)
		out->read_only = false;
	else if (strcmp(access, "ro") == 0 || strcmp(access, "r") == 0)
		out->read_only = true;
	else
		return spec_fail(why, whylen, "access=%.40s: expected rw, w, ro or r", access);

	if (!vdev[0])
		return spec_fail(why, whylen, "missing vdev (the disk's name, e.g. vdev=xvda)");
	index = diskspec_vdev_index(vdev);
	if (index < 0) {
		char whole[DISK_TARGET_MAX + 1];
		size_t n = strlen(vdev);

		memcpy(whole, vdev, n + 1);
		while (n && whole[n - 1] >= '0' && whole[n - 1] <= '9')
			whole[--n] = 0;
		if (n < strlen(vdev) && diskspec_vdev_index(whole) >= 0)
			return spec_fail(why, whylen,
				    "vdev=%.40s: partitions are not supported (name a whole disk, "
				    "e.g. xvda)",
				    vdev);
		return spec_fail(why, whylen, "vdev=%.40s is not a disk name (xvdX, hdX, sdX or vdX)",
			    vdev);
	}
	memcpy(out->vdev, vdev, strlen(vdev) + 1); /* at most "xvdzz" */
	out->index = (unsigned)index;

	if (!target[0])
		return spec_fail(why, whylen, "missing target (a boot module's path or a host disk)");
	if (diskspec_is_host_disk(target) && !check_host_target(target, why, whylen))
		return false;
	memcpy(out->target, target, strlen(target) + 1);
	return true;
}
