/*
 * A reader for bus 0's static _PRT forms (see acpi_prt.h). AML is scanned,
 * not interpreted: Device and Scope objects are found by their opcodes and
 * package lengths (ACPI 6.5 §20.2), names and integers are decoded where
 * they are expected, and every read is checked against the block's end.
 */
#include "kernel/acpi/acpi_prt.h"

#include "kernel/lib/format.h"
#include "kernel/lib/string.h"

#define OP_ZERO 0x00
#define OP_ONE 0x01
#define OP_NAME 0x08
#define OP_BYTE 0x0a
#define OP_WORD 0x0b
#define OP_DWORD 0x0c
#define OP_STRING 0x0d
#define OP_QWORD 0x0e
#define OP_SCOPE 0x10
#define OP_BUFFER 0x11
#define OP_PACKAGE 0x12
#define OP_METHOD 0x14
#define OP_DUAL_NAME 0x2e
#define OP_MULTI_NAME 0x2f
#define OP_EXT 0x5b
#define OP_EXT_DEVICE 0x82
#define OP_ROOT 0x5c   /* '\' */
#define OP_PARENT 0x5e /* '^' */
#define OP_RETURN 0xa4
#define OP_ONES 0xff

#define EISA_PNP0A08 0x080ad041u /* EisaId("PNP0A08"): PCI Express host bridge */
#define EISA_PNP0A03 0x030ad041u /* EisaId("PNP0A03"): PCI host bridge */

#define MAX_SPANS 512
#define MAX_CANDIDATES 4

/* A Device or Scope: its opcode at `op`, its contents [body, end), its last name segment. */
struct span {
	unsigned blk;
	size_t op, body, end;
	char seg[5];
	bool device;
};

struct reader {
	const struct acpi_aml *aml;
	unsigned naml;
	struct span spans[MAX_SPANS];
	unsigned nspans;
};

/* PkgLength (§20.2.4) at p: the length it encodes (counting itself) and its own size. */
static bool pkg_length(const uint8_t *p, const uint8_t *end, size_t *len, size_t *size)
{
	if (p >= end)
		return false;
	unsigned extra = *p >> 6;
	if ((size_t)(end - p) < 1 + extra)
		return false;
	if (!extra) {
		*len = *p & 0x3f;
	} else {
		if (*p & 0x30)
			return false; /* bits 5:4 must be zero with following bytes */
		*len = *p & 0x0f;
		for (unsigned i = 0; i < extra; i++)
			*len |= (size_t)p[1 + i] << (4 + 8 * i);
	}
	*size = 1 + extra;
	return *len >= *size;
}

static bool lead_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static bool seg_ok(const uint8_t *p)
{
	if (!lead_char(p[0]))
		return false;
	for (unsigned i = 1; i < 4; i++)
		if (!lead_char(p[i]) && !(p[i] >= '0' && p[i] <= '9'))
			return false;
	return true;
}

/* A NameString (§20.2.2) at p: its last segment (empty for the null name) and its size. */
static bool name_string(const uint8_t *p, const uint8_t *end, char seg[5], size_t *size)
{
	const uint8_t *q = p;
	if (q < end && *q == OP_ROOT)
		q++;
	else
		while (q < end && *q == OP_PARENT)
			q++;
	if (q >= end)
		return false;
	unsigned n = 1;
	if (*q == OP_ZERO) {
		seg[0] = 0;
		*size = (size_t)(q + 1 - p);
		return true;
	}
	if (*q == OP_DUAL_NAME) {
		n = 2, q++;
	} else if (*q == OP_MULTI_NAME) {
		if (end - q < 2)
			return false;
		n = q[1], q += 2;
		if (!n)
			return false;
	}
	if ((size_t)(end - q) < 4ull * n)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (!seg_ok(q + 4 * i))
			return false;
	memcpy(seg, q + 4 * (n - 1), 4);
	seg[4] = 0;
	*size = (size_t)(q + 4 * n - p);
	return true;
}

/* An integer constant (§20.2.3) at p. */
static bool integer(const uint8_t *p, const uint8_t *end, uint64_t *v, size_t *size)
{
	if (p >= end)
		return false;
	unsigned n;
	switch (*p) {
	case OP_ZERO:
	case OP_ONE:
		*v = *p, *size = 1;
		return true;
	case OP_ONES:
		*v = ~0ull, *size = 1;
		return true;
	case OP_BYTE:
		n = 1;
		break;
	case OP_WORD:
		n = 2;
		break;
	case OP_DWORD:
		n = 4;
		break;
	case OP_QWORD:
		n = 8;
		break;
	default:
		return false;
	}
	if ((size_t)(end - p) < 1 + n)
		return false;
	*v = 0;
	for (unsigned i = 0; i < n; i++)
		*v |= (uint64_t)p[1 + i] << (8 * i);
	*size = 1 + n;
	return true;
}

/* Every Device and Scope whose encoding fits its block. */
static void collect_spans(struct reader *r)
{
	for (unsigned b = 0; b < r->naml; b++) {
		const uint8_t *a = r->aml[b].p, *end = a + r->aml[b].len;
		for (size_t i = 0; i + 1 < r->aml[b].len && r->nspans < MAX_SPANS; i++) {
			bool dev = a[i] == OP_EXT && a[i + 1] == OP_EXT_DEVICE;
			if (!dev && a[i] != OP_SCOPE)
				continue;
			const uint8_t *pl = a + i + (dev ? 2 : 1);
			size_t len, lsize, nsize;
			struct span s = {.blk = b, .op = i, .device = dev};
			if (!pkg_length(pl, end, &len, &lsize) || len > (size_t)(end - pl) ||
			    !name_string(pl + lsize, pl + len, s.seg, &nsize) || !s.seg[0])
				continue;
			s.body = (size_t)(pl + lsize + nsize - a);
			s.end = (size_t)(pl + len - a);
			r->spans[r->nspans++] = s;
		}
	}
}

/* The span starting at `op` strictly inside [from, to) of block b, if any. */
static const struct span *nested_at(const struct reader *r, unsigned b, size_t op)
{
	for (unsigned k = 0; k < r->nspans; k++)
		if (r->spans[k].blk == b && r->spans[k].op == op)
			return &r->spans[k];
	return NULL;
}

/*
 * Where `opcode` + segment `seg` appears directly in s (not inside a nested
 * Device or Scope): the offset just after the segment, or 0.
 */
static size_t find_direct_op(const struct reader *r, const struct span *s, uint8_t opcode,
			     const char *seg, size_t *op)
{
	const uint8_t *a = r->aml[s->blk].p;
	for (size_t i = s->body; i + 5 <= s->end;) {
		const struct span *n = nested_at(r, s->blk, i);
		if (n && n != s && n->end <= s->end && n->end > i) {
			i = n->end;
			continue;
		}
		if (a[i] == opcode) {
			size_t at = i + 1;
			if (opcode == OP_METHOD) {
				size_t len, lsize;
				if (!pkg_length(a + at, a + s->end, &len, &lsize))
					goto next;
				at += lsize;
			}
			if (at + 4 <= s->end && memcmp(a + at, seg, 4) == 0) {
				*op = i;
				return at + 4;
			}
		}
next:
		i++;
	}
	return 0;
}

static size_t find_direct(const struct reader *r, const struct span *s, uint8_t opcode,
			  const char *seg)
{
	size_t op;
	return find_direct_op(r, s, opcode, seg, &op);
}

/* Name(seg, Integer) directly in s. */
static bool name_integer(const struct reader *r, const struct span *s, const char *seg,
			 uint64_t *v)
{
	size_t at = find_direct(r, s, OP_NAME, seg), size;
	const uint8_t *a = r->aml[s->blk].p;
	return at && integer(a + at, a + s->end, v, &size);
}

static bool is_host_bridge_id(const struct reader *r, const struct span *s, const char *seg)
{
	size_t at = find_direct(r, s, OP_NAME, seg), size;
	const uint8_t *a = r->aml[s->blk].p;
	uint64_t v;
	if (!at)
		return false;
	if (integer(a + at, a + s->end, &v, &size))
		return v == EISA_PNP0A08 || v == EISA_PNP0A03;
	if (a[at] == OP_STRING && at + 9 <= s->end)
		return a[at + 8] == 0 && (memcmp(a + at + 1, "PNP0A08", 7) == 0 ||
					  memcmp(a + at + 1, "PNP0A03", 7) == 0);
	return false;
}

static bool bus0_host_bridge(const struct reader *r, const struct span *s)
{
	uint64_t bbn;
	if (!s->device || !(is_host_bridge_id(r, s, "_HID") || is_host_bridge_id(r, s, "_CID")))
		return false;
	return !name_integer(r, s, "_BBN", &bbn) || bbn == 0;
}

/* The first interrupt of a resource template (§6.4): IRQ or Extended Interrupt descriptor. */
static bool template_irq(const uint8_t *p, const uint8_t *end, uint32_t *gsi)
{
	while (p < end) {
		if (!(*p & 0x80)) {
			unsigned type = *p >> 3 & 0xf, len = *p & 7;
			if (type == 0xf) /* end tag */
				return false;
			if ((size_t)(end - p) < 1 + len)
				return false;
			if (type == 4 && len >= 2) { /* IRQ descriptor: a mask of ISA IRQs */
				unsigned mask = p[1] | p[2] << 8;
				if (!mask)
					return false;
				*gsi = (uint32_t)__builtin_ctz(mask);
				return true;
			}
			p += 1 + len;
			continue;
		}
		if (end - p < 3)
			return false;
		unsigned type = *p & 0x7f, len = p[1] | p[2] << 8;
		if ((size_t)(end - p) < 3 + (size_t)len)
			return false;
		if (type == 0x09 && len >= 6 && p[4] >= 1) { /* Extended Interrupt */
			*gsi = (uint32_t)p[5] | (uint32_t)p[6] << 8 | (uint32_t)p[7] << 16 |
			       (uint32_t)p[8] << 24;
			return true;
		}
		p += 3 + len;
	}
	return false;
}

/* The GSI of link device `seg`: the first interrupt of its Name(_CRS, Buffer). */
static bool link_gsi(const struct reader *r, const char *seg, uint32_t *gsi, char *why,
		     size_t whylen)
{
	for (unsigned k = 0; k < r->nspans; k++) {
		const struct span *s = &r->spans[k];
		if (!s->device || memcmp(s->seg, seg, 4) != 0)
			continue;
		const uint8_t *a = r->aml[s->blk].p, *end = a + s->end;
		size_t at = find_direct(r, s, OP_NAME, "_CRS"), len, lsize, size;
		uint64_t n;
		if (!at) {
			format(why, whylen, "link %s has no static _CRS (%s)", seg,
			       find_direct(r, s, OP_METHOD, "_CRS") ? "it is a method, run-time routing"
								     : "none found");
			return false;
		}
		const uint8_t *p = a + at;
		if (p >= end || *p != OP_BUFFER || !pkg_length(p + 1, end, &len, &lsize) ||
		    len > (size_t)(end - p - 1) || !integer(p + 1 + lsize, end, &n, &size)) {
			format(why, whylen, "link %s's _CRS is not a plain buffer", seg);
			return false;
		}
		const uint8_t *data = p + 1 + lsize + size, *dend = p + 1 + len;
		if (n < (uint64_t)(dend - data))
			dend = data + n;
		if (data > dend || !template_irq(data, dend, gsi)) {
			format(why, whylen, "link %s's _CRS has no interrupt", seg);
			return false;
		}
		return true;
	}
	format(why, whylen, "link device %s not found", seg);
	return false;
}

/* A routing package at p: Package(){ Package(4){addr, pin, source, index}, ... }. */
static bool routing_package(const struct reader *r, const uint8_t *p, const uint8_t *end,
			    struct acpi_prt *out, char *why, size_t whylen)
{
	size_t len, lsize, used;
	out->n = 0;
	if (p >= end || *p != OP_PACKAGE || !pkg_length(p + 1, end, &len, &lsize) ||
	    len > (size_t)(end - p - 1) || len < lsize + 1) {
		format(why, whylen, "%s is not a plain package", out->source);
		return false;
	}
	end = p + 1 + len;
	unsigned count = p[1 + lsize];
	p += 2 + lsize;
	for (unsigned k = 0; k < count && p < end; k++) {
		size_t elen, elsize;
		if (*p != OP_PACKAGE || !pkg_length(p + 1, end, &elen, &elsize) ||
		    elen > (size_t)(end - p - 1) || elen < elsize + 1 || p[1 + elsize] < 4) {
			format(why, whylen, "%s entry %u is not a Package(4)", out->source, k);
			return false;
		}
		const uint8_t *q = p + 2 + elsize, *eend = p + 1 + elen;
		uint64_t addr, pin, index = 0;
		char seg[5] = "";
		if (!integer(q, eend, &addr, &used))
			goto bad;
		q += used;
		if (!integer(q, eend, &pin, &used) || pin > 3)
			goto bad;
		q += used;
		uint64_t zero;
		if (integer(q, eend, &zero, &used)) {
			if (zero != 0)
				goto bad;
		} else if (!name_string(q, eend, seg, &used)) {
			goto bad;
		}
		q += used;
		if (!integer(q, eend, &index, &used))
			goto bad;
		uint32_t gsi = (uint32_t)index;
		if (seg[0] && !link_gsi(r, seg, &gsi, why, whylen))
			return false;
		if ((addr & 0xffff) != 0xffff || (addr >> 16) > 31 || index > 0xffffffffu) {
			format(why, whylen, "%s entry %u has address %#llx (not a whole slot)",
			       out->source, k, (unsigned long long)addr);
			return false;
		}
		if (out->n >= ACPI_PRT_MAX) {
			format(why, whylen, "%s has more than %u entries", out->source, ACPI_PRT_MAX);
			return false;
		}
		out->e[out->n++] = (struct acpi_prt_entry){(uint8_t)(addr >> 16), (uint8_t)pin, gsi};
		p = eend;
		continue;
bad:
		format(why, whylen, "%s entry %u is not {address, pin, 0 or link, index} in constants",
		       out->source, k);
		return false;
	}
	if (!out->n) {
		format(why, whylen, "%s is empty", out->source);
		return false;
	}
	return true;
}

/* Name(seg, Package) anywhere: in the host bridge's scopes first, then any block. */
static bool named_package(const struct reader *r, const char *seg, const uint8_t **p,
			  const uint8_t **end)
{
	for (unsigned b = 0; b < r->naml; b++) {
		const uint8_t *a = r->aml[b].p;
		for (size_t i = 0; i + 6 <= r->aml[b].len; i++)
			if (a[i] == OP_NAME && memcmp(a + i + 1, seg, 4) == 0 &&
			    a[i + 5] == OP_PACKAGE) {
				*p = a + i + 5;
				*end = a + r->aml[b].len;
				return true;
			}
	}
	return false;
}

/* The packages a Method(_PRT) returns by name (Return(PRTA)), up to MAX_CANDIDATES. */
static unsigned returned_names(const uint8_t *p, const uint8_t *end, char names[][5])
{
	unsigned n = 0;
	for (; p + 5 <= end && n < MAX_CANDIDATES; p++) {
		char seg[5];
		size_t size;
		if (*p == OP_RETURN && lead_char(p[1]) && name_string(p + 1, end, seg, &size) &&
		    seg[0])
			memcpy(names[n++], seg, 5);
	}
	return n;
}

static int read_prt(struct reader *r, const struct span *s, struct acpi_prt *out, char *why,
		    size_t whylen)
{
	const uint8_t *a = r->aml[s->blk].p, *end = a + s->end;
	size_t at = find_direct(r, s, OP_NAME, "_PRT");
	if (at) {
		memcpy(out->source, "_PRT", 5);
		return routing_package(r, a + at, end, out, why, whylen) ? 0 : -1;
	}
	size_t op;
	at = find_direct_op(r, s, OP_METHOD, "_PRT", &op);
	if (!at)
		return 1; /* not here */
	size_t len, lsize;
	op++; /* its PkgLength */
	if (!pkg_length(a + op, end, &len, &lsize) || len > (size_t)(end - a - op)) {
		format(why, whylen, "Method(_PRT) is malformed");
		return -1;
	}
	const uint8_t *mend = a + op + len;
	char names[MAX_CANDIDATES][5];
	unsigned n = returned_names(a + at + 1, mend, names);
	if (!n) {
		format(why, whylen, "Method(_PRT) returns no named package (built at run time?)");
		return -1;
	}
	for (unsigned k = 0; k < n; k++) {
		const uint8_t *p, *pend;
		memcpy(out->source, names[k], 5);
		if (!named_package(r, names[k], &p, &pend)) {
			format(why, whylen, "Method(_PRT) returns %s, which is not a named package",
			       names[k]);
			continue;
		}
		if (routing_package(r, p, pend, out, why, whylen))
			return 0;
	}
	return -1;
}

int acpi_prt_read(const struct acpi_aml *aml, unsigned naml, struct acpi_prt *out, char *why,
		  size_t whylen)
{
	static struct reader r; /* large; callers are serialised (VM build, tests) */
	memset(&r, 0, sizeof(r));
	memset(out, 0, sizeof(*out));
	r.aml = aml;
	r.naml = naml;
	collect_spans(&r);
	bool bridge = false;
	char last[120] = "";
	for (unsigned k = 0; k < r.nspans; k++) {
		const struct span *hb = &r.spans[k];
		if (!bus0_host_bridge(&r, hb))
			continue;
		bridge = true;
		/* its _PRT may be in the Device, or in a Scope() of the same name elsewhere */
		for (unsigned j = 0; j < r.nspans; j++) {
			const struct span *s = &r.spans[j];
			if (s != hb && (s->device || memcmp(s->seg, hb->seg, 4) != 0))
				continue;
			int rc = read_prt(&r, s, out, last, sizeof(last));
			if (rc == 0)
				return 0;
		}
	}
	if (!bridge)
		format(why, whylen, "the ACPI tables have no bus-0 PCI host bridge (PNP0A08/PNP0A03)");
	else if (last[0])
		format(why, whylen, "bus 0's _PRT is beyond this reader: %s", last);
	else
		format(why, whylen, "bus 0's host bridge has no _PRT the reader can find");
	return -1;
}

bool acpi_prt_lookup(const struct acpi_prt *prt, unsigned slot, unsigned pin, uint32_t *gsi)
{
	for (unsigned i = 0; i < prt->n; i++)
		if (prt->e[i].slot == slot && prt->e[i].pin == pin) {
			*gsi = prt->e[i].gsi;
			return true;
		}
	return false;
}
