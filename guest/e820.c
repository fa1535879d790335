/*
 * A VM's E820 memory map (see e820.h): a sorted list of non-overlapping
 * ranges, edited by "set this range to this type".
 */
#include "guest/e820.h"

#include "guest/pci/vpci.h"
#include "kernel/lib/string.h"

/* Room for the worst edit before merging: one entry split in two, plus the new one. */
#define E820_SCRATCH (E820_MAX_ENTRIES + 2)

void e820_init(struct e820_map *map)
{
	memset(map, 0, sizeof(*map));
}

static void sort_entries(struct e820_entry *e, size_t n)
{
	/* insertion sort: a VM map has a handful of entries */
	for (size_t i = 1; i < n; i++) {
		struct e820_entry v = e[i];
		size_t j = i;
		while (j > 0 && e[j - 1].addr > v.addr) {
			e[j] = e[j - 1];
			j--;
		}
		e[j] = v;
	}
}

/* Merges neighbours of one type that touch; returns the new count. */
static size_t merge_entries(struct e820_entry *e, size_t n)
{
	size_t out = 0;
	for (size_t i = 0; i < n; i++) {
		if (out && e[out - 1].type == e[i].type &&
		    e[out - 1].addr + e[out - 1].size == e[i].addr)
			e[out - 1].size += e[i].size;
		else
			e[out++] = e[i];
	}
	return out;
}

int e820_set(struct e820_map *map, uint64_t addr, uint64_t size, uint32_t type)
{
	struct e820_entry tmp[E820_SCRATCH];
	size_t n = 0;
	uint64_t end = addr + size;

	if (!map || size == 0 || end < addr)
		return E820_ERR_INVAL;
	for (size_t i = 0; i < map->count; i++) {
		const struct e820_entry *old = &map->entry[i];
		uint64_t old_end = old->addr + old->size;
		if (old_end <= addr || old->addr >= end) {
			tmp[n++] = *old; /* untouched */
			continue;
		}
		if (old->addr < addr) /* the part below the new range */
			tmp[n++] = (struct e820_entry){ old->addr, addr - old->addr, old->type };
		if (old_end > end) /* the part above it */
			tmp[n++] = (struct e820_entry){ end, old_end - end, old->type };
		if (n > E820_MAX_ENTRIES + 1)
			return E820_ERR_FULL;
	}
	tmp[n++] = (struct e820_entry){ addr, size, type };
	sort_entries(tmp, n);
	n = merge_entries(tmp, n);
	if (n > E820_MAX_ENTRIES)
		return E820_ERR_FULL;
	memcpy(map->entry, tmp, n * sizeof(tmp[0]));
	map->count = n;
	return E820_OK;
}

int e820_build(const struct e820_layout *l, struct e820_map *out)
{
	int rc;

	if (!l || !out)
		return E820_ERR_INVAL;
	e820_init(out);
	if (l->ram_bytes < E820_HIGH_RAM || l->ram_bytes > E820_RAM_MAX ||
	    l->high_ram_bytes > E820_HIGH_RAM_MAX)
		return E820_ERR_INVAL;
	if (l->acpi_size && (l->acpi_base + l->acpi_size < l->acpi_base ||
			     l->acpi_base + l->acpi_size > l->ram_bytes))
		return E820_ERR_INVAL;

	rc = e820_set(out, 0, E820_LOW_RAM_END, E820_RAM);
	if (!rc)
		rc = e820_set(out, E820_LOW_RAM_END, E820_HIGH_RAM - E820_LOW_RAM_END,
			      E820_RESERVED);
	if (!rc && l->ram_bytes > E820_HIGH_RAM)
		rc = e820_set(out, E820_HIGH_RAM, l->ram_bytes - E820_HIGH_RAM, E820_RAM);
	/* ACPI tables inside the reserved BIOS area need no entry of their own */
	if (!rc && l->acpi_size &&
	    !(l->acpi_base >= E820_LOW_RAM_END && l->acpi_base + l->acpi_size <= E820_HIGH_RAM))
		rc = e820_set(out, l->acpi_base, l->acpi_size, E820_ACPI);
	/* right above the most RAM a VM has, below the 32-bit PCI window */
	if (!rc && l->pci_ecam)
		rc = e820_set(out, VPCI_ECAM_BASE, VPCI_ECAM_SIZE, E820_RESERVED);
	if (!rc && l->ioapic)
		rc = e820_set(out, E820_IOAPIC_BASE, E820_IOAPIC_SIZE, E820_RESERVED);
	if (!rc && l->hpet)
		rc = e820_set(out, E820_HPET_BASE, E820_HPET_SIZE, E820_RESERVED);
	if (!rc && l->lapic)
		rc = e820_set(out, E820_LAPIC_BASE, E820_LAPIC_SIZE, E820_RESERVED);
	if (!rc && l->high_ram_bytes)
		rc = e820_set(out, E820_HIGH_RAM_BASE, l->high_ram_bytes, E820_RAM);
	if (rc)
		e820_init(out);
	return rc;
}

uint32_t e820_type_at(const struct e820_map *map, uint64_t addr)
{
	for (size_t i = 0; i < map->count; i++)
		if (addr >= map->entry[i].addr && addr - map->entry[i].addr < map->entry[i].size)
			return map->entry[i].type;
	return 0;
}

bool e820_range_is(const struct e820_map *map, uint64_t addr, uint64_t size, uint32_t type)
{
	if (size == 0 || addr + size < addr)
		return false;
	for (size_t i = 0; i < map->count; i++) {
		const struct e820_entry *e = &map->entry[i];
		if (e->type == type && addr >= e->addr && addr + size <= e->addr + e->size)
			return true;
	}
	return false;
}

uint64_t e820_total(const struct e820_map *map, uint32_t type)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < map->count; i++)
		if (map->entry[i].type == type)
			sum += map->entry[i].size;
	return sum;
}

const char *e820_type_name(uint32_t type)
{
	switch (type) {
	case E820_RAM:
		return "usable";
	case E820_RESERVED:
		return "reserved";
	case E820_ACPI:
		return "ACPI data";
	case E820_NVS:
		return "ACPI NVS";
	case E820_UNUSABLE:
		return "unusable";
	default:
		return "unknown";
	}
}
