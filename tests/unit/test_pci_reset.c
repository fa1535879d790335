// SOURCES: kernel/pci/pci_reset.c kernel/pci/pci_cfg.c kernel/pci/pci_cap.c kernel/pci/pci_names.c kernel/lib/format.c kernel/lib/string.c
/*
 * Reset-method selection for device assignment (FLR, else AF FLR, else PM
 * D3hot->D0 without No_Soft_Reset, else a secondary bus reset for a device
 * alone behind its bridge), the facts read from config space, the reason
 * given when there is none, and a reset done over a fake config space:
 * BARs restored, decoding and mastering left off.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/pci/pci_reset.h"

static void test_select_order(void **state)
{
	(void)state;
	struct pci_reset_facts f = {.flr = true, .af_flr = true, .pm = true, .has_bridge = true,
				    .on_bus = 1};
	assert_int_equal(pci_reset_select(&f), PCI_RESET_FLR);
	f.flr = false;
	assert_int_equal(pci_reset_select(&f), PCI_RESET_AF_FLR);
	f.af_flr = false;
	assert_int_equal(pci_reset_select(&f), PCI_RESET_PM);
	f.pm_no_soft_reset = true;
	assert_int_equal(pci_reset_select(&f), PCI_RESET_BUS);
	f.on_bus = 2; /* the bus reset would hit a neighbour */
	assert_int_equal(pci_reset_select(&f), PCI_RESET_NONE);
	f.on_bus = 1;
	f.has_bridge = false; /* a root bus: nothing above to reset */
	assert_int_equal(pci_reset_select(&f), PCI_RESET_NONE);
	assert_string_equal(pci_reset_method_name(PCI_RESET_BUS), "secondary bus reset");
}

static void test_why_none(void **state)
{
	(void)state;
	char buf[200];
	struct pci_reset_facts f = {.has_bridge = false, .on_bus = 5};
	pci_reset_why_none(&f, buf, sizeof(buf));
	assert_string_equal(buf, "no reset method: no FLR, no AF FLR, no PM capability, on a root "
				 "bus (no bridge to reset)");
	f = (struct pci_reset_facts){.pm = true, .pm_no_soft_reset = true, .has_bridge = true,
				     .on_bus = 3};
	pci_reset_why_none(&f, buf, sizeof(buf));
	assert_string_equal(buf, "no reset method: no FLR, no AF FLR, no PM reset (No_Soft_Reset "
				 "set), shares its bus with 2 other devices");
}

/* ---- a fake config space: a root port (00:1c.0, bus 1) and functions ---- */

struct fake {
	uint8_t bus, dev, fn;
	uint8_t space[4096];
	unsigned bus_resets; /* times the bridge's SBR bit went 1 -> 0 */
};
static struct fake fakes[4];
static unsigned nfakes;

static struct fake *find(uint8_t bus, uint8_t dev, uint8_t fn)
{
	for (unsigned i = 0; i < nfakes; i++)
		if (fakes[i].bus == bus && fakes[i].dev == dev && fakes[i].fn == fn)
			return &fakes[i];
	return NULL;
}

static uint32_t rd(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	(void)ctx;
	struct fake *f = find(bus, dev, fn);
	uint32_t v = 0xffffffffu;
	if (f)
		memcpy(&v, f->space + off, 4);
	return v;
}

static void wr(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v)
{
	(void)ctx;
	struct fake *f = find(bus, dev, fn);
	if (!f)
		return;
	uint32_t old;
	memcpy(&old, f->space + off, 4);
	memcpy(f->space + off, &v, 4);
	/* the bridge's SBR released: every function below loses its BARs and COMMAND */
	if (off == 0x3c && (old >> 16 & 0x40) && !(v >> 16 & 0x40)) {
		f->bus_resets++;
		for (unsigned i = 0; i < nfakes; i++)
			if (fakes[i].bus == f->space[0x19]) {
				memset(fakes[i].space + 0x10, 0, 24);
				memset(fakes[i].space + 0x04, 0, 2);
			}
	}
}

static const struct pci_cfg cfg = {.read32 = rd, .write32 = wr, .max_offset = 0x1000,
				   .bus_end = 255};
static struct pci_dev devs[4];

static void add(unsigned i, uint8_t bus, uint8_t dev, uint8_t fn, uint8_t hdr)
{
	struct fake *f = &fakes[i];
	memset(f, 0, sizeof(*f));
	f->bus = bus, f->dev = dev, f->fn = fn;
	f->space[0] = 0x34, f->space[1] = 0x12;
	f->space[0x0e] = hdr;
	devs[i] = (struct pci_dev){.bus = bus, .dev = dev, .fn = fn, .header_type = hdr,
				   .cfg = &cfg};
	if (hdr == 1) {
		f->space[0x19] = devs[i].secondary_bus = 1;
		f->space[0x1a] = devs[i].subordinate_bus = 1;
	}
	nfakes = i + 1;
}

static uint64_t slept;
static void fake_delay(uint64_t us)
{
	slept += us;
}

static void test_bus_reset_alone_behind_bridge(void **state)
{
	(void)state;
	add(0, 0, 0x1c, 0, 1);
	add(1, 1, 0, 0, 0);
	fakes[1].space[0x10] = 0x00, fakes[1].space[0x12] = 0xe0, fakes[1].space[0x13] = 0xfe;
	fakes[1].space[0x04] = 0x06;
	struct pci_reset_facts f;
	const struct pci_dev *br;
	pci_reset_probe(&devs[1], devs, 2, &f, &br);
	assert_false(f.flr);
	assert_false(f.pm);
	assert_true(f.has_bridge);
	assert_ptr_equal(br, &devs[0]);
	assert_int_equal(f.on_bus, 1);
	assert_int_equal(pci_reset_select(&f), PCI_RESET_BUS);
	char err[120] = "";
	slept = 0;
	assert_int_equal(pci_reset_do(&devs[1], br, PCI_RESET_BUS, fake_delay, err, sizeof(err)), 0);
	assert_int_equal(fakes[0].bus_resets, 1);
	assert_true(slept >= 100000); /* 100 ms before the function must answer */
	/* BAR0 restored; decoding and mastering off, INTx disabled */
	assert_int_equal(fakes[1].space[0x13], 0xfe);
	assert_int_equal(fakes[1].space[0x12], 0xe0);
	assert_int_equal(fakes[1].space[0x04] & 7, 0);
	assert_int_equal(fakes[1].space[0x05] & 4, 4);

	/* a neighbour on the bus: no bus reset */
	add(2, 1, 1, 0, 0);
	pci_reset_probe(&devs[1], devs, 3, &f, &br);
	assert_int_equal(f.on_bus, 2);
	assert_int_equal(pci_reset_select(&f), PCI_RESET_NONE);
}

static void test_flr_from_pcie_cap(void **state)
{
	(void)state;
	add(0, 0, 3, 0, 0);
	struct fake *f = &fakes[0];
	f->space[0x06] = 0x10; /* capability list */
	f->space[0x34] = 0x40;
	f->space[0x40] = 0x10; /* PCIe, next 0x50 */
	f->space[0x41] = 0x50;
	f->space[0x47] = 0x10; /* DevCap bit 28 */
	f->space[0x50] = 0x01; /* PM, last */
	devs[0].cap_pcie = 0x40;
	devs[0].cap_pm = 0x50;
	struct pci_reset_facts facts;
	const struct pci_dev *br;
	pci_reset_probe(&devs[0], devs, 1, &facts, &br);
	assert_true(facts.flr);
	assert_true(facts.pm);
	assert_false(facts.has_bridge);
	assert_int_equal(pci_reset_select(&facts), PCI_RESET_FLR);
	char err[120];
	assert_int_equal(pci_reset_do(&devs[0], NULL, PCI_RESET_FLR, fake_delay, err, sizeof(err)),
			 0);
	assert_int_equal(f->space[0x49] & 0x80, 0x80); /* DevCtl bit 15 written */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_select_order),
		cmocka_unit_test(test_why_none),
		cmocka_unit_test(test_bus_reset_alone_behind_bridge),
		cmocka_unit_test(test_flr_from_pcie_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
