#include "loader/mb2info.h"

/* Multiboot2 spec §3.6 tag types */
enum {
	TAG_END = 0,
	TAG_CMDLINE = 1,
	TAG_LOADER_NAME = 2,
	TAG_MODULE = 3,
	TAG_MMAP = 6,
	TAG_FRAMEBUFFER = 8,
	TAG_EFI64 = 12,
	TAG_SMBIOS = 13,
	TAG_ACPI_OLD = 14,
	TAG_ACPI_NEW = 15,
	TAG_EFI_MMAP = 17,
};

static uint32_t e820_type(const struct efi_mem_desc *d)
{
	switch (d->type) {
	case UEFI_LOADER_CODE:
	case UEFI_LOADER_DATA:
	case UEFI_BOOT_SERVICES_CODE:
	case UEFI_BOOT_SERVICES_DATA:
	case UEFI_CONVENTIONAL_MEMORY:
		/* RAM only if cacheable: uncached "RAM" is some device's */
		return (d->attribute & UEFI_MEMORY_WB) ? 1 : 2;
	case UEFI_ACPI_RECLAIM_MEMORY:
		return 3;
	case UEFI_ACPI_MEMORY_NVS:
		return 4;
	case UEFI_UNUSABLE_MEMORY:
		return 5;
	default:
		return 2;
	}
}

static void copy_desc(struct efi_mem_desc *d, const uint8_t *p)
{
	/* byte copy: descriptors need not be aligned for us in a test buffer */
	for (size_t i = 0; i < sizeof(*d); i++)
		((uint8_t *)d)[i] = p[i];
}

static size_t merge(struct mb2_mmap_entry *out, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (w && out[w - 1].type == out[i].type &&
		    out[w - 1].base + out[w - 1].length == out[i].base) {
			out[w - 1].length += out[i].length;
			continue;
		}
		out[w++] = out[i];
	}
	return w;
}

size_t mb2_efi_to_e820(const void *map, size_t map_size, size_t desc_size,
		       struct mb2_mmap_entry *out, size_t max, bool *dropped)
{
	size_t n = 0;
	*dropped = false;
	if (desc_size < sizeof(struct efi_mem_desc))
		return 0;
	for (size_t off = 0; off + desc_size <= map_size; off += desc_size) {
		struct efi_mem_desc d;
		copy_desc(&d, (const uint8_t *)map + off);
		/* more pages than an address can hold is a broken entry */
		if (d.pages == 0 || d.pages > (UINT64_MAX - d.phys_start) >> 12)
			continue;
		struct mb2_mmap_entry e = {d.phys_start, d.pages << 12, e820_type(&d), 0};
		if (n && out[n - 1].type == e.type && out[n - 1].base + out[n - 1].length == e.base) {
			out[n - 1].length += e.length;
			continue;
		}
		if (n == max) {
			*dropped = true;
			continue;
		}
		out[n++] = e;
	}
	/* insertion sort by base: firmware maps are nearly sorted already */
	for (size_t i = 1; i < n; i++) {
		struct mb2_mmap_entry e = out[i];
		size_t j = i;
		while (j && out[j - 1].base > e.base) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = e;
	}
	return merge(out, n);
}

/* ---- the information structure ---- */

struct writer {
	uint8_t *buf;
	size_t size, at;
	bool overflow;
};

static void put(struct writer *w, const void *src, size_t n)
{
	if (w->overflow || n > w->size - w->at) {
		w->overflow = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		w->buf[w->at + i] = ((const uint8_t *)src)[i];
	w->at += n;
}

static void put8(struct writer *w, uint8_t v)
{
	put(w, &v, 1);
}

static void put16(struct writer *w, uint16_t v)
{
	put(w, &v, 2);
}

static void put32(struct writer *w, uint32_t v)
{
	put(w, &v, 4);
}

static void put64(struct writer *w, uint64_t v)
{
	put(w, &v, 8);
}

static size_t slen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

/* Opens a tag; returns its offset, for close_tag to fill in its size. */
static size_t open_tag(struct writer *w, uint32_t type)
{
	size_t at = w->at;
	put32(w, type);
	put32(w, 0);
	return at;
}

static void close_tag(struct writer *w, size_t at)
{
	if (w->overflow)
		return;
	uint32_t size = (uint32_t)(w->at - at);
	for (int i = 0; i < 4; i++)
		w->buf[at + 4 + (size_t)i] = (uint8_t)(size >> (8 * i));
	while (w->at & 7)
		put8(w, 0);
}

static void string_tag(struct writer *w, uint32_t type, const char *s)
{
	size_t t = open_tag(w, type);
	put(w, s, slen(s) + 1);
	close_tag(w, t);
}

size_t mb2_build(const struct mb2_input *in, uint8_t *buf, size_t size,
		 struct mb2_mmap_entry *scratch, size_t max_scratch)
{
	struct writer w = {buf, size, 0, false};
	bool dropped;
	size_t n = mb2_efi_to_e820(in->efi_map, in->efi_map_size, in->efi_desc_size, scratch,
				   max_scratch, &dropped);
	if (dropped || n == 0)
		return 0;

	put32(&w, 0); /* total_size, filled in last */
	put32(&w, 0);
	string_tag(&w, TAG_CMDLINE, in->cmdline ? in->cmdline : "");
	if (in->loader_name)
		string_tag(&w, TAG_LOADER_NAME, in->loader_name);
	for (size_t i = 0; i < in->nmodules; i++) {
		const struct mb2_module_in *m = &in->modules[i];
		if (m->end > 0xffffffffull || m->end < m->start)
			return 0; /* the tag holds 32-bit addresses */
		size_t t = open_tag(&w, TAG_MODULE);
		put32(&w, (uint32_t)m->start);
		put32(&w, (uint32_t)m->end);
		put(&w, m->cmdline, slen(m->cmdline) + 1);
		close_tag(&w, t);
	}

	size_t t = open_tag(&w, TAG_MMAP);
	put32(&w, sizeof(struct mb2_mmap_entry));
	put32(&w, 0);
	put(&w, scratch, n * sizeof(*scratch));
	close_tag(&w, t);

	if (in->fb) {
		const struct mb2_framebuffer_in *fb = in->fb;
		t = open_tag(&w, TAG_FRAMEBUFFER);
		put64(&w, fb->addr);
		put32(&w, fb->pitch);
		put32(&w, fb->width);
		put32(&w, fb->height);
		put8(&w, fb->bpp);
		put8(&w, 1); /* direct RGB */
		put16(&w, 0);
		put8(&w, fb->red_pos);
		put8(&w, fb->red_size);
		put8(&w, fb->green_pos);
		put8(&w, fb->green_size);
		put8(&w, fb->blue_pos);
		put8(&w, fb->blue_size);
		close_tag(&w, t);
	}
	if (in->efi_systab) {
		t = open_tag(&w, TAG_EFI64);
		put64(&w, in->efi_systab);
		close_tag(&w, t);
	}
	if (in->smbios && in->smbios_len) {
		t = open_tag(&w, TAG_SMBIOS);
		put8(&w, in->smbios_major);
		put8(&w, in->smbios_minor);
		put(&w, "\0\0\0\0\0\0", 6);
		put(&w, in->smbios, in->smbios_len);
		close_tag(&w, t);
	}
	if (in->rsdp && (in->rsdp_len == 20 || in->rsdp_len == 36)) {
		t = open_tag(&w, in->rsdp_len == 36 ? TAG_ACPI_NEW : TAG_ACPI_OLD);
		put(&w, in->rsdp, in->rsdp_len);
		close_tag(&w, t);
	}
	t = open_tag(&w, TAG_EFI_MMAP);
	put32(&w, (uint32_t)in->efi_desc_size);
	put32(&w, in->efi_desc_version);
	put(&w, in->efi_map, in->efi_map_size);
	close_tag(&w, t);

	t = open_tag(&w, TAG_END);
	close_tag(&w, t);
	if (w.overflow)
		return 0;
	for (int i = 0; i < 4; i++)
		buf[i] = (uint8_t)(w.at >> (8 * i));
	return w.at;
}

size_t mb2_size_bound(const struct mb2_input *in, size_t max_map_size)
{
	size_t descs = in->efi_desc_size ? max_map_size / in->efi_desc_size + 1 : 0;
	size_t n = 8 + 16 + 8;
	n += 16 + (in->cmdline ? slen(in->cmdline) : 0);
	n += 16 + (in->loader_name ? slen(in->loader_name) : 0);
	for (size_t i = 0; i < in->nmodules; i++)
		n += 24 + slen(in->modules[i].cmdline);
	n += 16 + descs * sizeof(struct mb2_mmap_entry); /* tag 6 */
	n += 16 + max_map_size;				 /* tag 17 */
	n += 48 + 24 + 24 + in->smbios_len + 48;	 /* 8, 12, 13, 14/15 */
	return n;
}
