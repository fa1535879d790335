// SOURCES: kernel/pci/pci_cfg.c kernel/pci/pci_enum.c kernel/pci/pci_bar.c kernel/pci/pci_cap.c kernel/pci/pci_names.c kernel/pci/pci_msimsg.c kernel/lib/format.c kernel/lib/string.c
/*
 * The host's PCI logic over a fake configuration space: accessors and the
 * RW1C status bits, enumeration behind bridges (multi-function devices,
 * ghost functions of single-function devices, peer root buses, bridges
 * with bogus secondary buses reported and skipped, no bus twice), BAR
 * sizing (32/64-bit memory, prefetch, 16-bit I/O; decoding off while a BAR
 * holds all ones, everything restored), capability walks that loop or
 * point into the header, extended capabilities only through ECAM, names,
 * and the MSI message encoding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/pci/pci.h"

/* ---- the fake configuration space ---- */

#define MAX_FUNCS 32

struct fake_fn {
	bool present;
	uint8_t bus, dev, fn;
	uint8_t space[4096];
	/* BAR i's writable address bits (0: no BAR); type bits stay as in space */
	uint32_t bar_mask[6];
	bool ghost_of_fn0; /* answers on every function number like a sloppy single-function device */
};

static struct fake_fn fns[MAX_FUNCS];
static unsigned nfns;
static unsigned probe_with_decode_on; /* all ones written to a BAR while decoding was on */
static unsigned cfg_reads, cfg_writes;
static char logged[16][160];
static unsigned nlogged;

static struct fake_fn *lookup(uint8_t bus, uint8_t dev, uint8_t fn)
{
	for (unsigned i = 0; i < nfns; i++) {
		struct fake_fn *f = &fns[i];
		if (f->bus == bus && f->dev == dev && (f->fn == fn || (f->ghost_of_fn0 && f->fn == 0)))
			return f;
	}
	return NULL;
}

static uint32_t get32(const struct fake_fn *f, uint16_t off)
{
	uint32_t v;
	memcpy(&v, f->space + off, 4);
	return v;
}

static void put32(struct fake_fn *f, uint16_t off, uint32_t v)
{
	memcpy(f->space + off, &v, 4);
}

static uint32_t fake_read32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	(void)ctx;
	assert_int_equal(off & 3, 0);
	cfg_reads++;
	struct fake_fn *f = lookup(bus, dev, fn);
	return f ? get32(f, off) : 0xffffffffu;
}

static void fake_write32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v)
{
	(void)ctx;
	assert_int_equal(off & 3, 0);
	cfg_writes++;
	struct fake_fn *f = lookup(bus, dev, fn);
	if (!f)
		return;
	if (off == PCI_COMMAND) {
		/* Command is RW; Status is RW1C */
		uint32_t old = get32(f, off);
		uint32_t status = (old >> 16) & ~(v >> 16);
		put32(f, off, (status << 16) | (v & 0xffff));
		return;
	}
	if (off >= PCI_BAR0 && off < PCI_BAR0 + 24) {
		unsigned i = (off - PCI_BAR0) / 4;
		uint32_t cmd = get32(f, PCI_COMMAND) & 0xffff;
		bool host_bridge = f->space[PCI_CLASS_BASE] == 6 && f->space[PCI_CLASS_SUB] == 0;
		if (v == 0xffffffffu && (cmd & (PCI_CMD_IO | PCI_CMD_MEM)) && !host_bridge)
			probe_with_decode_on++;
		/* the type bits, and the address bits below the size, are read-only */
		uint32_t mask = f->bar_mask[i];
		put32(f, off, (v & mask) | (get32(f, off) & ~mask));
		return;
	}
	if (off == 0x00 || off == 0x08)
		return; /* IDs and class are read-only */
	put32(f, off, v);
}

static void fake_log(void *ctx, const char *line)
{
	(void)ctx;
	if (nlogged < 16)
		snprintf(logged[nlogged++], sizeof(logged[0]), "%s", line);
}

static struct pci_cfg ecam = {
    .read32 = fake_read32,
    .write32 = fake_write32,
    .max_offset = 0x1000,
    .bus_start = 0,
    .bus_end = 255,
    .log = fake_log,
};

static struct fake_fn *add(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t vendor, uint16_t device,
			   uint32_t class_code, uint8_t header)
{
	assert_true(nfns < MAX_FUNCS);
	struct fake_fn *f = &fns[nfns++];
	memset(f, 0, sizeof(*f));
	f->present = true;
	f->bus = bus;
	f->dev = dev;
	f->fn = fn;
	put32(f, 0, vendor | (uint32_t)device << 16);
	put32(f, 8, class_code << 8 | 0x01); /* revision 1 */
	f->space[PCI_HEADER_TYPE] = header;
	put32(f, PCI_COMMAND, PCI_CMD_MEM | PCI_CMD_IO | PCI_CMD_MASTER);
	return f;
}

static struct fake_fn *add_bridge(uint8_t bus, uint8_t dev, uint8_t secondary, uint8_t subordinate)
{
	struct fake_fn *f = add(bus, dev, 0, 0x8086, 0x1234, 0x060400, 1);
	f->space[PCI_PRIMARY_BUS] = bus;
	f->space[PCI_SECONDARY_BUS] = secondary;
	f->space[PCI_SUBORDINATE_BUS] = subordinate;
	return f;
}

/* A memory BAR: size a power of two; flags the low bits (0 32-bit, 4 64-bit, | 8 prefetch). */
static void set_mem_bar(struct fake_fn *f, unsigned i, uint64_t base, uint64_t size, uint32_t flags)
{
	uint64_t mask = ~(size - 1);
	put32(f, PCI_BAR0 + 4 * i, (uint32_t)base | flags);
	f->bar_mask[i] = (uint32_t)mask & ~0xfu;
	if ((flags & 4) && i < 5) {
		put32(f, PCI_BAR0 + 4 * (i + 1), (uint32_t)(base >> 32));
		f->bar_mask[i + 1] = (uint32_t)(mask >> 32);
	}
}

static void set_io_bar(struct fake_fn *f, unsigned i, uint32_t base, uint32_t size)
{
	put32(f, PCI_BAR0 + 4 * i, base | 1);
	f->bar_mask[i] = ~(size - 1) & 0xfffcu; /* a 16-bit decoder: the upper half reads 0 */
}

/* Appends a capability at off with id, pointing to next. */
static void set_cap(struct fake_fn *f, uint8_t off, uint8_t id, uint8_t next)
{
	f->space[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	f->space[off] = id;
	f->space[off + 1] = next;
}

static void set_ext_cap(struct fake_fn *f, uint16_t off, uint16_t id, uint16_t next)
{
	put32(f, off, id | 1u << 16 | (uint32_t)next << 20);
}

static int setup(void **state)
{
	(void)state;
	memset(fns, 0, sizeof(fns));
	nfns = 0;
	probe_with_decode_on = cfg_reads = cfg_writes = nlogged = 0;
	memset(logged, 0, sizeof(logged));
	ecam.max_offset = 0x1000;
	ecam.bus_start = 0;
	ecam.bus_end = 255;
	return 0;
}

static struct pci_dev dev_at(uint8_t bus, uint8_t dev, uint8_t fn)
{
	struct pci_dev d = {.bus = bus, .dev = dev, .fn = fn, .cfg = &ecam};
	struct fake_fn *f = lookup(bus, dev, fn);
	if (f)
		d.header_type = f->space[PCI_HEADER_TYPE];
	return d;
}

static bool logged_has(const char *s)
{
	for (unsigned i = 0; i < nlogged; i++)
		if (strstr(logged[i], s))
			return true;
	return false;
}

/* ---- tests ---- */

static void test_accessors(void **state)
{
	(void)state;
	struct fake_fn *f = add(0, 3, 0, 0x1b36, 0x0010, 0x010802, 0);
	f->space[PCI_STATUS + 1] = 0x80; /* Detected Parity Error, RW1C */
	put32(f, 0x40, 0xaabbccdd);
	struct pci_dev d = dev_at(0, 3, 0);

	assert_int_equal(pci_read32(&d, 0), 0x00101b36);
	assert_int_equal(pci_read16(&d, PCI_DEVICE_ID), 0x0010);
	assert_int_equal(pci_read8(&d, PCI_CLASS_BASE), 0x01);
	assert_int_equal(pci_read8(&d, PCI_CLASS_PROG), 0x02);
	assert_int_equal(pci_read8(&d, 0x43), 0xaa);
	assert_int_equal(pci_read16(&d, 0x42), 0xaabb);

	pci_write8(&d, 0x41, 0x11);
	assert_int_equal(get32(f, 0x40), 0xaabb11dd);
	pci_write16(&d, 0x42, 0x2233);
	assert_int_equal(get32(f, 0x40), 0x223311dd);

	/* a Command write through the dword leaves Status's error bits set */
	pci_write16(&d, PCI_COMMAND, PCI_CMD_MEM);
	assert_int_equal(pci_read16(&d, PCI_COMMAND), PCI_CMD_MEM);
	assert_int_equal(pci_read16(&d, PCI_STATUS), 0x8000);
	/* a write to Status itself clears what it names, and keeps Command */
	pci_write16(&d, PCI_STATUS, 0x8000);
	assert_int_equal(pci_read16(&d, PCI_STATUS), 0);
	assert_int_equal(pci_read16(&d, PCI_COMMAND), PCI_CMD_MEM);

	/* misaligned or beyond what the access reaches: all ones, writes dropped */
	assert_int_equal(pci_read32(&d, 0x41), 0xffffffffu);
	assert_int_equal(pci_read16(&d, 0x41), 0xffff);
	ecam.max_offset = 0x100;
	assert_int_equal(pci_read32(&d, 0x100), 0xffffffffu);
	assert_int_equal(pci_read8(&d, 0x100), 0xff);
	unsigned before = cfg_writes;
	pci_write32(&d, 0x100, 1);
	pci_write16(&d, 0x1fe, 1);
	assert_int_equal(cfg_writes, before);
	/* an absent function reads all ones */
	struct pci_dev none = dev_at(0, 9, 0);
	assert_int_equal(pci_read16(&none, PCI_VENDOR_ID), 0xffff);
}

/*
 * bus 0: 00:00.0 host bridge, 00:01.0 bridge -> bus 1 (subordinate 2),
 *        00:02.{0,1,3} multi-function, 00:03.0 single-function that answers
 *        on every function number
 * bus 1: 01:00.0 NVMe, 01:01.0 bridge -> bus 2
 * bus 2: 02:05.0 AHCI
 */
static void build_tree(void)
{
	add(0, 0, 0, 0x8086, 0x29c0, 0x060000, 0);
	add_bridge(0, 1, 1, 2);
	add(0, 2, 0, 0x8086, 0x2918, 0x060100, 0x80);
	add(0, 2, 1, 0x8086, 0x2922, 0x010601, 0);
	add(0, 2, 3, 0x8086, 0x2930, 0x0c0500, 0);
	add(0, 3, 0, 0x1234, 0x1111, 0x030000, 0)->ghost_of_fn0 = true;
	add(1, 0, 0, 0x1b36, 0x0010, 0x010802, 0);
	add_bridge(1, 1, 2, 2);
	add(2, 5, 0, 0x8086, 0x2922, 0x010601, 0);
}

static void test_enumerate_tree(void **state)
{
	(void)state;
	build_tree();
	struct pci_dev out[16];
	size_t n = pci_enumerate(&ecam, 0, out, 16);
	assert_int_equal(n, 9);
	static const struct {
		uint8_t bus, dev, fn;
		uint16_t device;
	} want[] = {{0, 0, 0, 0x29c0}, {0, 1, 0, 0x1234}, {0, 2, 0, 0x2918}, {0, 2, 1, 0x2922},
		    {0, 2, 3, 0x2930}, {0, 3, 0, 0x1111}, {1, 0, 0, 0x0010}, {1, 1, 0, 0x1234},
		    {2, 5, 0, 0x2922}};
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(out[i].bus, want[i].bus);
		assert_int_equal(out[i].dev, want[i].dev);
		assert_int_equal(out[i].fn, want[i].fn);
		assert_int_equal(out[i].device, want[i].device);
		assert_ptr_equal(out[i].cfg, &ecam);
		assert_int_equal(out[i].segment, 0);
		assert_null(out[i].status);
	}
	/* the NVMe function's class, revision and header */
	assert_int_equal(out[6].class_base, PCI_CLASS_STORAGE);
	assert_int_equal(out[6].class_sub, PCI_SUBCLASS_NVM);
	assert_int_equal(out[6].prog_if, 0x02);
	assert_int_equal(out[6].revision, 1);
	assert_int_equal(out[6].vendor, 0x1b36);
	assert_int_equal(out[1].header_type & 0x7f, 1);
	assert_int_equal(out[1].secondary_bus, 1);
	assert_int_equal(out[1].subordinate_bus, 2);
	assert_int_equal(out[2].header_type, 0x80);
	assert_int_equal(nlogged, 0);
	/* with room for 4: all are counted, 4 stored */
	struct pci_dev few[4];
	memset(few, 0xa5, sizeof(few));
	assert_int_equal(pci_enumerate(&ecam, 0, few, 4), 9);
	assert_int_equal(few[3].fn, 1);
	assert_int_equal(pci_enumerate(&ecam, 0, NULL, 0), 9);
}

static void test_segment_and_bus_range(void **state)
{
	(void)state;
	build_tree();
	struct pci_dev out[16];
	/* only bus 1 reachable: the bridge to bus 2 is refused as unreachable */
	ecam.bus_start = 1;
	ecam.bus_end = 1;
	size_t n = pci_enumerate(&ecam, 3, out, 16);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].segment, 3);
	assert_int_equal(out[0].bus, 1);
	assert_string_equal(out[1].status, "skipped: secondary bus unreachable");
	assert_true(logged_has("pci 0003:01:01.0: bridge skipped: secondary bus 2 is outside buses 1-1"));
	char name[16];
	pci_dev_name(&out[0], name, sizeof(name));
	assert_string_equal(name, "0003:01:00.0");
}

static void test_bad_bridges(void **state)
{
	(void)state;
	add(0, 0, 0, 0x8086, 0x29c0, 0x060000, 0);
	add_bridge(0, 1, 0, 0);  /* secondary 0 */
	add_bridge(0, 2, 3, 3);  /* fine: bus 3 */
	add_bridge(0, 3, 3, 3);  /* bus 3 again */
	add(3, 0, 0, 0x1b36, 0x0010, 0x010802, 0);
	add_bridge(3, 1, 3, 3);  /* its own bus */
	add_bridge(3, 2, 1, 1);  /* below its own bus */
	struct pci_dev out[16];
	size_t n = pci_enumerate(&ecam, 0, out, 16);
	assert_int_equal(n, 7); /* bus 3 walked once */
	assert_string_equal(out[1].status, "skipped: bad secondary bus");
	assert_null(out[2].status);
	assert_string_equal(out[3].status, "skipped: secondary bus taken");
	assert_int_equal(out[4].bus, 3);
	assert_string_equal(out[5].status, "skipped: bad secondary bus");
	assert_string_equal(out[6].status, "skipped: bad secondary bus");
	assert_int_equal(nlogged, 4);
	assert_true(logged_has("pci 0000:00:01.0: bridge skipped: secondary bus 0 is not above its own bus 0"));
	assert_true(logged_has("pci 0000:00:03.0: bridge skipped: bus 3 is already behind another bridge"));
	assert_true(logged_has("pci 0000:03:01.0: bridge skipped: secondary bus 3 is not above its own bus 3"));
	assert_true(logged_has("pci 0000:03:02.0: bridge skipped: secondary bus 1 is not above its own bus 3"));
	/* silent without a log */
	ecam.log = NULL;
	assert_int_equal(pci_enumerate(&ecam, 0, out, 16), 7);
	ecam.log = fake_log;
}

static void test_peer_root_bus(void **state)
{
	(void)state;
	/* a second root bus at 0x80 (a second socket's) with a bridge to 0x81 */
	add(0, 0, 0, 0x8086, 0x29c0, 0x060000, 0);
	add(0x80, 0, 0, 0x8086, 0x29c0, 0x060000, 0);
	add_bridge(0x80, 1, 0x81, 0x81);
	add(0x81, 0, 0, 0x1b36, 0x0010, 0x010802, 0);
	/* a device on a bus reserved behind a bridge but not its secondary: not scanned */
	add_bridge(0, 1, 0x10, 0x20);
	add(0x15, 0, 0, 0x1234, 0x5678, 0x020000, 0);
	struct pci_dev out[16];
	size_t n = pci_enumerate(&ecam, 0, out, 16);
	assert_int_equal(n, 5);
	assert_int_equal(out[2].bus, 0x80);
	assert_int_equal(out[4].bus, 0x81);
	assert_int_equal(out[4].device, 0x0010);
}

static void test_bar_sizing(void **state)
{
	(void)state;
	struct fake_fn *f = add(0, 4, 0, 0x1b36, 0x0010, 0x010802, 0);
	set_mem_bar(f, 0, 0x800000000ull, 0x4000, 4 | 8);     /* 64-bit prefetchable 16 KiB above 4G */
	set_mem_bar(f, 2, 0xfebd0000, 0x1000, 0);             /* 32-bit 4 KiB */
	set_io_bar(f, 3, 0xc040, 0x20);                       /* I/O 32 bytes, 16-bit decoder */
	set_mem_bar(f, 4, 0x400000000ull, 0x200000000ull, 4); /* 64-bit 8 GiB */
	uint8_t before[64];
	memcpy(before, f->space, sizeof(before));

	struct pci_dev out[2];
	assert_int_equal(pci_enumerate(&ecam, 0, out, 2), 1);
	struct pci_dev *d = &out[0];
	assert_int_equal(d->bar[0].base, 0x800000000ull);
	assert_int_equal(d->bar[0].size, 0x4000);
	assert_true(d->bar[0].is64);
	assert_true(d->bar[0].prefetch);
	assert_false(d->bar[0].io);
	assert_int_equal(d->bar[1].size, 0); /* upper half */
	assert_int_equal(d->bar[2].base, 0xfebd0000);
	assert_int_equal(d->bar[2].size, 0x1000);
	assert_false(d->bar[2].is64);
	assert_false(d->bar[2].prefetch);
	assert_true(d->bar[3].io);
	assert_int_equal(d->bar[3].base, 0xc040);
	assert_int_equal(d->bar[3].size, 0x20);
	assert_int_equal(d->bar[4].base, 0x400000000ull);
	assert_int_equal(d->bar[4].size, 0x200000000ull);
	assert_true(d->bar[4].is64);
	assert_int_equal(d->bar[5].size, 0);
	/* decoding was off whenever a BAR held all ones; everything is as it was */
	assert_int_equal(probe_with_decode_on, 0);
	assert_memory_equal(f->space, before, sizeof(before));

	/* pci_bar_probe on its own does the same, and steps over the upper half */
	struct pci_dev one = dev_at(0, 4, 0);
	assert_int_equal(pci_bar_probe(&one, 0), 2);
	assert_int_equal(one.bar[0].size, 0x4000);
	assert_int_equal(pci_bar_probe(&one, 2), 3);
	assert_int_equal(pci_bar_probe(&one, 3), 4);
	assert_true(one.bar[3].io);
	assert_int_equal(pci_bar_probe(&one, 4), 6);
	assert_int_equal(pci_bar_probe(&one, 6), PCI_MAX_BARS);
	assert_int_equal(probe_with_decode_on, 0);
	assert_memory_equal(f->space, before, sizeof(before));
}

static void test_bar_edge_cases(void **state)
{
	(void)state;
	/* a 64-bit BAR in the last slot has no upper half: sized as 32-bit */
	struct fake_fn *f = add(0, 5, 0, 0x1234, 0x0001, 0x020000, 0);
	set_mem_bar(f, 5, 0xfe000000, 0x100000, 4);
	f->bar_mask[5] = 0xfff00000u;
	/* a bridge has two BARs; what sits at 0x18 is bus numbers, not a BAR */
	struct fake_fn *b = add_bridge(0, 6, 1, 1);
	set_mem_bar(b, 0, 0xfd000000, 0x1000, 0);
	/* a disabled function (decoding off) stays off */
	put32(f, PCI_COMMAND, 0);

	struct pci_dev out[4];
	assert_int_equal(pci_enumerate(&ecam, 0, out, 4), 2);
	assert_int_equal(out[0].bar[5].base, 0xfe000000);
	assert_int_equal(out[0].bar[5].size, 0x100000);
	assert_false(out[0].bar[5].is64);
	for (int i = 0; i < 5; i++)
		assert_int_equal(out[0].bar[i].size, 0);
	assert_int_equal(get32(f, PCI_COMMAND) & 0xffff, 0);
	assert_int_equal(out[1].bar[0].size, 0x1000);
	assert_int_equal(out[1].bar[2].size, 0);
	assert_int_equal(b->space[PCI_SECONDARY_BUS], 1);
	assert_int_equal(probe_with_decode_on, 0);

	/* a host bridge keeps decoding on (the fake does not count it) */
	struct fake_fn *h = add(0, 0, 0, 0x8086, 0x29c0, 0x060000, 0);
	set_mem_bar(h, 0, 0xe0000000, 0x1000, 0);
	struct pci_dev hd = dev_at(0, 0, 0);
	hd.class_base = 6;
	hd.class_sub = 0;
	unsigned writes = cfg_writes;
	pci_bar_probe(&hd, 0);
	assert_int_equal(hd.bar[0].size, 0x1000);
	assert_int_equal(cfg_writes - writes, 2); /* all ones, then the original */
}

static void test_capabilities(void **state)
{
	(void)state;
	struct fake_fn *f = add(0, 4, 0, 0x1b36, 0x0010, 0x010802, 0);
	f->space[PCI_CAP_PTR] = 0x40;
	set_cap(f, 0x40, PCI_CAP_ID_PM, 0x50);
	set_cap(f, 0x50, PCI_CAP_ID_MSIX, 0x62); /* low bits reserved: 0x60 */
	set_cap(f, 0x60, PCI_CAP_ID_PCIE, 0x00);
	set_ext_cap(f, 0x100, 0x0001, 0x148); /* AER */
	set_ext_cap(f, 0x148, 0x0003, 0x000); /* serial number */

	struct pci_dev out[2];
	assert_int_equal(pci_enumerate(&ecam, 0, out, 2), 1);
	assert_int_equal(out[0].cap_pm, 0x40);
	assert_int_equal(out[0].cap_msix, 0x50);
	assert_int_equal(out[0].cap_pcie, 0x60);
	assert_int_equal(out[0].cap_msi, 0);
	assert_int_equal(pci_find_ext_cap(&out[0], 0x0003), 0x148);
	assert_int_equal(pci_find_ext_cap(&out[0], 0x0001), 0x100);
	assert_int_equal(pci_find_ext_cap(&out[0], 0x0010), 0);

	/* CF8/CFC reaches no extended space */
	ecam.max_offset = 0x100;
	assert_int_equal(pci_find_ext_cap(&out[0], 0x0003), 0);
	ecam.max_offset = 0x1000;

	/* a loop: 0x40 -> 0x50 -> 0x40 ... ends, and bounded */
	set_cap(f, 0x60, PCI_CAP_ID_PCIE, 0x40);
	unsigned reads = cfg_reads;
	assert_int_equal(pci_find_cap(&out[0], PCI_CAP_ID_MSI), 0);
	assert_true(cfg_reads - reads < 60);
	assert_int_equal(pci_find_cap(&out[0], PCI_CAP_ID_PCIE), 0x60);

	/* a self-loop and a pointer into the header */
	set_cap(f, 0x50, PCI_CAP_ID_MSIX, 0x50);
	assert_int_equal(pci_find_cap(&out[0], PCI_CAP_ID_MSI), 0);
	set_cap(f, 0x50, PCI_CAP_ID_MSIX, 0x10);
	assert_int_equal(pci_find_cap(&out[0], PCI_CAP_ID_MSI), 0);
	assert_int_equal(pci_find_cap(&out[0], PCI_CAP_ID_MSIX), 0x50);

	/* no capability list bit: no walk at all */
	f->space[PCI_STATUS] &= ~PCI_STATUS_CAP_LIST;
	assert_int_equal(pci_find_cap(&out[0], PCI_CAP_ID_PM), 0);
	assert_int_equal(pci_find_ext_cap(&out[0], 0x0001), 0); /* not PCIe then */
	f->space[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	set_cap(f, 0x50, PCI_CAP_ID_MSIX, 0x60);
	set_cap(f, 0x60, PCI_CAP_ID_PCIE, 0x00);

	/* extended loops: a self-loop, a pointer below 0x100 */
	set_ext_cap(f, 0x148, 0x0003, 0x148);
	reads = cfg_reads;
	assert_int_equal(pci_find_ext_cap(&out[0], 0x0010), 0);
	assert_true(cfg_reads - reads < 1100);
	set_ext_cap(f, 0x148, 0x0003, 0x040);
	assert_int_equal(pci_find_ext_cap(&out[0], 0x0010), 0);
	assert_int_equal(pci_find_ext_cap(&out[0], 0x0003), 0x148);
	/* nothing at 0x100 */
	put32(f, 0x100, 0);
	assert_int_equal(pci_find_ext_cap(&out[0], 0x0001), 0);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(pci_class_name(0x01, 0x08, 0x02), "NVM Express controller");
	assert_string_equal(pci_class_name(0x01, 0x06, 0x01), "SATA controller (AHCI)");
	assert_string_equal(pci_class_name(0x01, 0x06, 0x00), "SATA controller");
	assert_string_equal(pci_class_name(0x02, 0x00, 0x00), "Ethernet controller");
	assert_string_equal(pci_class_name(0x06, 0x04, 0x00), "PCI bridge");
	assert_string_equal(pci_class_name(0x06, 0x00, 0x00), "host bridge");
	assert_string_equal(pci_class_name(0x01, 0x42, 0x00), "storage controller");
	assert_string_equal(pci_class_name(0x77, 0x00, 0x00), "device");
	struct pci_dev d = {.segment = 0x1a, .bus = 0xfe, .dev = 31, .fn = 7};
	char buf[16];
	pci_dev_name(&d, buf, sizeof(buf));
	assert_string_equal(buf, "001a:fe:1f.7");
	char small[6];
	pci_dev_name(&d, small, sizeof(small));
	assert_string_equal(small, "001a:");
}

static void test_msi_message(void **state)
{
	(void)state;
	uint64_t addr;
	uint32_t data;
	assert_true(pci_msi_message(0, 0x40, &addr, &data));
	assert_int_equal(addr, 0xfee00000u);
	assert_int_equal(data, 0x40);
	assert_true(pci_msi_message(3, 0xdf, &addr, &data));
	assert_int_equal(addr, 0xfee03000u);
	assert_int_equal(data, 0xdf); /* fixed, edge */
	assert_true(pci_msi_message(255, 0x41, &addr, &data));
	assert_int_equal(addr, 0xfeeff000u);
	/* extended destination ID: bits 14:8 of the APIC ID in address bits 11:5 */
	assert_true(pci_msi_message(0x1ff, 0x41, &addr, &data));
	assert_int_equal(addr, 0xfeeff000u | (1u << 5));
	assert_true(pci_msi_message(0x7fff, 0x41, &addr, &data));
	assert_int_equal(addr, 0xfeeff000u | (0x7fu << 5));
	/* not expressible: refused, outputs untouched */
	addr = 1;
	data = 2;
	assert_false(pci_msi_message(0x8000, 0x41, &addr, &data));
	assert_false(pci_msi_message(1, 0x0f, &addr, &data));
	assert_int_equal(addr, 1);
	assert_int_equal(data, 2);
}

/* pciback=: the functions kept for VMs, by address. */
static void test_pci_list_has(void **state)
{
	(void)state;
	struct pci_dev d = {.bus = 1, .dev = 0x1f, .fn = 7};
	assert_true(pci_list_has("01:1f.7", &d));
	assert_true(pci_list_has("00:02.0,0000:01:1F.7", &d));
	assert_false(pci_list_has("01:1f.6,02:1f.7", &d));
	assert_false(pci_list_has("0001:01:1f.7", &d)); /* another segment */
	assert_false(pci_list_has("1:1f.7,01:1f.7x,", &d));
	assert_false(pci_list_has("", &d));
	assert_false(pci_list_has(NULL, &d));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pci_list_has),
	    cmocka_unit_test_setup(test_accessors, setup),
	    cmocka_unit_test_setup(test_enumerate_tree, setup),
	    cmocka_unit_test_setup(test_segment_and_bus_range, setup),
	    cmocka_unit_test_setup(test_bad_bridges, setup),
	    cmocka_unit_test_setup(test_peer_root_bus, setup),
	    cmocka_unit_test_setup(test_bar_sizing, setup),
	    cmocka_unit_test_setup(test_bar_edge_cases, setup),
	    cmocka_unit_test_setup(test_capabilities, setup),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_msi_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
