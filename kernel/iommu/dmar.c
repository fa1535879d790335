/*
 * DMAR parsing (VT-d 4.1 §8). Layout reminders:
 *   header: ACPI header (36), host address width - 1 (1), flags (1),
 *           reserved (10); remapping structures from offset 48, each
 *           type (2), length (2).
 *   DRHD (0): flags (1, bit 0 INCLUDE_PCI_ALL), size (1), segment (2),
 *             register base (8); device scopes from 16.
 *   RMRR (1): reserved (2), segment (2), base (8), limit (8); scopes from 24.
 *   ATSR (2): flags (1, bit 0 ALL_PORTS), reserved (1), segment (2); scopes from 8.
 *   device scope: type (1), length (1), reserved (2), enumeration id (1),
 *                 start bus (1), then (device, function) pairs.
 */
#include "kernel/iommu/dmar.h"

#include "kernel/lib/format.h"
#include "kernel/lib/string.h"

#define DMAR_HEADER_LEN 48
#define DMAR_MAX_TABLE (1u << 20)

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

__attribute__((format(printf, 2, 3))) static void warn(struct dmar_info *info, const char *fmt, ...)
{
	if (info->nwarn < DMAR_MAX_WARN) {
		va_list ap;
		va_start(ap, fmt);
		format_v(info->warn[info->nwarn], sizeof(info->warn[0]), fmt, ap);
		va_end(ap);
	}
	info->nwarn++;
}

static const char *struct_name(uint16_t type)
{
	switch (type) {
	case 0:
		return "DRHD";
	case 1:
		return "RMRR";
	case 2:
		return "ATSR";
	default:
		return "structure";
	}
}

/*
 * Parses the device scopes in [p, end) of structure `what` at table offset
 * off. Returns false when the structure must be dropped (a scope runs past
 * it, or there is no room left for its scopes).
 */
static bool parse_scopes(struct dmar_info *info, const uint8_t *p, const uint8_t *end, uint32_t off,
			 const char *what, unsigned *first, unsigned *count)
{
	unsigned start = info->nscopes;
	*first = start;
	*count = 0;
	while (p < end) {
		size_t left = (size_t)(end - p);
		if (left < 2) {
			warn(info, "%s at %#x: %zu stray bytes after its device scopes", what, off, left);
			break;
		}
		uint8_t type = p[0], len = p[1];
		if (len < 6 || len > left) {
			warn(info, "%s at %#x: device scope of length %u does not fit", what, off, len);
			info->nscopes = start;
			return false;
		}
		if ((len - 6) % 2) {
			warn(info, "%s at %#x: device scope path of odd length %u", what, off, len - 6);
			info->nscopes = start;
			return false;
		}
		unsigned npath = (len - 6) / 2;
		if (type < DMAR_SCOPE_ENDPOINT || type > DMAR_SCOPE_ACPI) {
			warn(info, "%s at %#x: device scope of unknown type %u skipped", what, off, type);
		} else if (npath == 0 || npath > DMAR_MAX_PATH) {
			warn(info, "%s at %#x: device scope with a path of %u hops skipped", what, off,
			     npath);
		} else if (info->nscopes == DMAR_MAX_SCOPES) {
			warn(info, "%s at %#x: more than %u device scopes in the table; dropped", what,
			     off, DMAR_MAX_SCOPES);
			info->nscopes = start;
			return false;
		} else {
			struct dmar_scope *s = &info->scopes[info->nscopes++];
			memset(s, 0, sizeof(*s));
			s->type = type;
			s->enum_id = p[4];
			s->start_bus = p[5];
			s->npath = (uint8_t)npath;
			for (unsigned i = 0; i < npath; i++) {
				s->path[i][0] = p[6 + 2 * i];
				s->path[i][1] = p[7 + 2 * i];
				if (s->path[i][0] > 31 || s->path[i][1] > 7) {
					warn(info, "%s at %#x: device scope names device %u function %u",
					     what, off, s->path[i][0], s->path[i][1]);
					info->nscopes--;
					break;
				}
			}
		}
		p += len;
	}
	*count = info->nscopes - start;
	return true;
}

static void parse_drhd(struct dmar_info *info, const uint8_t *e, uint16_t len, uint32_t off)
{
	if (len < 16) {
		warn(info, "DRHD at %#x: %u bytes, too short", off, len);
		return;
	}
	if (info->ndrhd == DMAR_MAX_UNITS) {
		warn(info, "DRHD at %#x: more than %u remapping units; ignored", off, DMAR_MAX_UNITS);
		return;
	}
	struct dmar_drhd d = {
	    .base = rd64(e + 8),
	    .segment = rd16(e + 6),
	    .include_all = e[4] & 1,
	};
	if (!d.base || (d.base & 0xfff)) {
		warn(info, "DRHD at %#x: register base %#llx is not a page address; unit ignored", off,
		     (unsigned long long)d.base);
		return;
	}
	for (unsigned i = 0; i < info->ndrhd; i++) {
		if (info->drhd[i].base == d.base) {
			warn(info, "DRHD at %#x: unit %#llx listed twice; ignored", off,
			     (unsigned long long)d.base);
			return;
		}
		if (d.include_all && info->drhd[i].include_all && info->drhd[i].segment == d.segment) {
			warn(info, "DRHD at %#x: a second INCLUDE_PCI_ALL unit for segment %u; ignored",
			     off, d.segment);
			return;
		}
	}
	if (!parse_scopes(info, e + 16, e + len, off, "DRHD", &d.first_scope, &d.nscopes))
		return;
	info->drhd[info->ndrhd++] = d;
}

static void parse_rmrr(struct dmar_info *info, const uint8_t *e, uint16_t len, uint32_t off)
{
	if (len < 24) {
		warn(info, "RMRR at %#x: %u bytes, too short", off, len);
		return;
	}
	if (info->nrmrr == DMAR_MAX_RMRR) {
		warn(info, "RMRR at %#x: more than %u reserved regions; ignored", off, DMAR_MAX_RMRR);
		return;
	}
	struct dmar_rmrr r = {.segment = rd16(e + 6), .base = rd64(e + 8), .limit = rd64(e + 16)};
	/* the spec asks for 4 KiB alignment: base aligned, limit + 1 aligned */
	if (r.limit < r.base || (r.base & 0xfff) || ((r.limit + 1) & 0xfff)) {
		warn(info, "RMRR at %#x: region %#llx-%#llx is not whole pages; ignored", off,
		     (unsigned long long)r.base, (unsigned long long)r.limit);
		return;
	}
	if (!parse_scopes(info, e + 24, e + len, off, "RMRR", &r.first_scope, &r.nscopes))
		return;
	info->rmrr[info->nrmrr++] = r;
}

static void parse_atsr(struct dmar_info *info, const uint8_t *e, uint16_t len, uint32_t off)
{
	if (len < 8) {
		warn(info, "ATSR at %#x: %u bytes, too short", off, len);
		return;
	}
	if (info->natsr == DMAR_MAX_ATSR) {
		warn(info, "ATSR at %#x: more than %u; ignored", off, DMAR_MAX_ATSR);
		return;
	}
	struct dmar_atsr a = {.segment = rd16(e + 6), .all_ports = e[4] & 1};
	if (!parse_scopes(info, e + 8, e + len, off, "ATSR", &a.first_scope, &a.nscopes))
		return;
	info->atsr[info->natsr++] = a;
}

int dmar_parse(struct dmar_info *info, const uint8_t *t, size_t buf_len, char *err, size_t errlen)
{
	memset(info, 0, sizeof(*info));
	if (buf_len < DMAR_HEADER_LEN || memcmp(t, "DMAR", 4) != 0) {
		format(err, errlen, "not a DMAR table");
		return -1;
	}
	uint32_t len = rd32(t + 4);
	if (len < DMAR_HEADER_LEN || len > buf_len || len > DMAR_MAX_TABLE) {
		format(err, errlen, "DMAR length %u is not between %u and %zu", len, DMAR_HEADER_LEN,
		       buf_len < DMAR_MAX_TABLE ? buf_len : (size_t)DMAR_MAX_TABLE);
		return -1;
	}
	uint8_t sum = 0;
	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + t[i]);
	if (sum) {
		format(err, errlen, "DMAR checksum is wrong");
		return -1;
	}
	info->haw = (uint8_t)(t[36] + 1);
	info->flags = t[37];
	if (info->haw < 32 || info->haw > 64) {
		format(err, errlen, "DMAR host address width %u is out of range", info->haw);
		return -1;
	}

	for (uint32_t off = DMAR_HEADER_LEN; off < len;) {
		if (len - off < 4) {
			warn(info, "%u stray bytes at the end of the table", len - off);
			break;
		}
		uint16_t type = rd16(t + off), elen = rd16(t + off + 2);
		if (elen < 4 || elen > len - off) {
			/* nothing after it can be trusted: the next structure's start is unknown */
			warn(info, "%s at %#x: length %u does not fit the table; the rest is ignored",
			     struct_name(type), off, elen);
			break;
		}
		switch (type) {
		case 0:
			parse_drhd(info, t + off, elen, off);
			break;
		case 1:
			parse_rmrr(info, t + off, elen, off);
			break;
		case 2:
			parse_atsr(info, t + off, elen, off);
			break;
		default:
			info->other++;
			break;
		}
		off += elen;
	}
	if (!info->ndrhd) {
		format(err, errlen, "the DMAR table lists no usable remapping unit");
		return -1;
	}
	return 0;
}

static uint8_t devfn_of(const uint8_t hop[2])
{
	return (uint8_t)(hop[0] << 3 | hop[1]);
}

void dmar_resolve(struct dmar_info *info, dmar_bridge_fn bridge, void *ctx)
{
	for (unsigned k = 0; k < info->ndrhd + info->nrmrr + info->natsr; k++) {
		unsigned first, n;
		uint16_t seg;
		if (k < info->ndrhd) {
			first = info->drhd[k].first_scope;
			n = info->drhd[k].nscopes;
			seg = info->drhd[k].segment;
		} else if (k < info->ndrhd + info->nrmrr) {
			const struct dmar_rmrr *r = &info->rmrr[k - info->ndrhd];
			first = r->first_scope;
			n = r->nscopes;
			seg = r->segment;
		} else {
			const struct dmar_atsr *a = &info->atsr[k - info->ndrhd - info->nrmrr];
			first = a->first_scope;
			n = a->nscopes;
			seg = a->segment;
		}
		for (unsigned i = first; i < first + n && i < info->nscopes; i++) {
			struct dmar_scope *s = &info->scopes[i];
			s->resolved = false;
			if (s->type == DMAR_SCOPE_ACPI)
				continue;
			uint8_t bus = s->start_bus, sec, sub;
			bool ok = true;
			/* every hop but the last is a bridge: go to its secondary bus */
			for (unsigned h = 0; h + 1 < s->npath; h++) {
				if (!bridge || !bridge(ctx, seg, bus, devfn_of(s->path[h]), &sec, &sub) ||
				    sec <= bus) {
					ok = false;
					break;
				}
				bus = sec;
			}
			if (!ok)
				continue;
			s->bus = bus;
			s->devfn = devfn_of(s->path[s->npath - 1]);
			if (s->type == DMAR_SCOPE_BRIDGE) {
				if (!bridge || !bridge(ctx, seg, bus, s->devfn, &sec, &sub) || sec > sub)
					continue;
				s->sec_bus = sec;
				s->sub_bus = sub;
			}
			s->resolved = true;
		}
	}
}

/* Whether scope s names (bus, devfn), or a bridge with it behind. */
static bool scope_names(const struct dmar_scope *s, uint8_t bus, uint8_t devfn)
{
	if (!s->resolved)
		return false;
	if (s->type == DMAR_SCOPE_ENDPOINT)
		return s->bus == bus && s->devfn == devfn;
	if (s->type == DMAR_SCOPE_BRIDGE)
		return (s->bus == bus && s->devfn == devfn) || (bus >= s->sec_bus && bus <= s->sub_bus);
	return false;
}

int dmar_unit_for(const struct dmar_info *info, uint16_t segment, uint8_t bus, uint8_t devfn)
{
	int all = -1;
	for (unsigned u = 0; u < info->ndrhd; u++) {
		const struct dmar_drhd *d = &info->drhd[u];
		if (d->segment != segment)
			continue;
		if (d->include_all) {
			all = (int)u;
			continue;
		}
		for (unsigned i = d->first_scope; i < d->first_scope + d->nscopes; i++)
			if (scope_names(&info->scopes[i], bus, devfn))
				return (int)u;
	}
	return all;
}

bool dmar_rmrr_names(const struct dmar_info *info, const struct dmar_rmrr *r, uint16_t segment,
		     uint8_t bus, uint8_t devfn)
{
	if (r->segment != segment)
		return false;
	for (unsigned i = r->first_scope; i < r->first_scope + r->nscopes; i++)
		if (scope_names(&info->scopes[i], bus, devfn))
			return true;
	return false;
}

bool dmar_ioapic_sid(const struct dmar_info *info, uint8_t id, int *unit, uint16_t *sid)
{
	for (unsigned u = 0; u < info->ndrhd; u++) {
		const struct dmar_drhd *d = &info->drhd[u];
		for (unsigned i = d->first_scope; i < d->first_scope + d->nscopes; i++) {
			const struct dmar_scope *s = &info->scopes[i];
			if (s->type == DMAR_SCOPE_IOAPIC && s->enum_id == id && s->resolved) {
				*unit = (int)u;
				*sid = (uint16_t)(s->bus << 8 | s->devfn);
				return true;
			}
		}
	}
	return false;
}
