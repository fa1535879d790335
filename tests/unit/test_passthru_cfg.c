// SOURCES: guest/pci/passthru.c guest/pci/vpci.c guest/pci/vpci_bus.c guest/pci/msix.c kernel/pci/pci_cfg.c kernel/pci/pci_cap.c kernel/pci/pci_names.c kernel/lib/format.c kernel/lib/string.c
/*
 * A passed-through function's virtual config space over a fake host
 * function: IDs and class copied, BARs with the host's sizes (sized by the
 * guest the usual way), no ROM BAR, the capability list filtered (PM and
 * PCIe read-only, MSI with one vector, MSI-X with the host's offsets,
 * vendor-specific dropped), writes to other registers dropped, and which
 * parts of a BAR trap (MSI-X table/PBA pages, sub-page BARs). INTx-only
 * functions and bridges are refused with the reason. MSI translation: the
 * guest's programming stays the model's (its message, masks and pending
 * bits), the host capability gets the hypervisor's message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "guest/pci/passthru.h"

static uint8_t space[4096];

static uint32_t rd(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	(void)ctx, (void)bus, (void)dev, (void)fn;
	uint32_t v;
	memcpy(&v, space + off, 4);
	return v;
}

static unsigned host_writes;
static bool host_writable; /* only the MSI programming writes the host's space */
static void wr(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v)
{
	(void)ctx, (void)bus, (void)dev, (void)fn;
	host_writes++; /* building the virtual space never writes the host's */
	if (host_writable)
		memcpy(space + off, &v, 4);
}

static const struct pci_cfg cfg = {.read32 = rd, .write32 = wr, .max_offset = 0x1000,
				   .bus_end = 255};

static void put16(unsigned off, uint16_t v)
{
	memcpy(space + off, &v, 2);
}

static void put32(unsigned off, uint32_t v)
{
	memcpy(space + off, &v, 4);
}

/* An NVMe-like function: BAR0 16 KiB 64-bit with MSI-X table at 0x2000, PBA at 0x3000. */
static struct pci_dev nvme_like(void)
{
	memset(space, 0, sizeof(space));
	put16(0, 0x1b36), put16(2, 0x0010);
	space[8] = 0x02, space[9] = 0x02, space[10] = 0x08, space[11] = 0x01;
	put16(0x2c, 0x1af4), put16(0x2e, 0x1100);
	put32(0x30, 0xfeb00000); /* an expansion ROM: hidden */
	space[0x06] = 0x10;
	space[0x34] = 0x40;
	space[0x40] = 0x01, space[0x41] = 0x48; /* PM */
	put16(0x42, 0x0003), put16(0x44, 0x0008 | 0x3); /* PMCSR: No_Soft_Reset, D3 */
	space[0x48] = 0x09, space[0x49] = 0x50, space[0x4a] = 0x10; /* vendor: dropped */
	space[0x50] = 0x10, space[0x51] = 0x90; /* PCIe v2 */
	put16(0x52, 0x0002);
	put32(0x54, 0x10008000); /* DevCap: FLR */
	space[0x90] = 0x11, space[0x91] = 0x00; /* MSI-X, 33 vectors */
	put16(0x92, 32);
	put32(0x94, 0x2000 | 0), put32(0x98, 0x3000 | 0);
	struct pci_dev d = {.bus = 1, .vendor = 0x1b36, .device = 0x0010, .class_base = 1,
			    .class_sub = 8, .prog_if = 2, .revision = 2, .cap_pm = 0x40,
			    .cap_pcie = 0x50, .cap_msix = 0x90, .cfg = &cfg};
	d.bar[0] = (struct pci_bar){.base = 0xfe000000, .size = 0x4000, .is64 = true};
	return d;
}

static uint32_t cr(struct vpci_func *f, unsigned reg, unsigned size)
{
	return vpci_func_config_read(f, reg, size);
}

static void test_nvme_like(void **state)
{
	(void)state;
	struct pci_dev d = nvme_like();
	struct vpci_func f;
	char err[160] = "";
	host_writes = 0;
	assert_int_equal(vpt_func_build(&f, "pt", &d, false, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(host_writes, 0);
	assert_int_equal(cr(&f, 0, 4), 0x00101b36);
	assert_int_equal(cr(&f, 8, 4), 0x01080202);
	assert_int_equal(cr(&f, 0x2c, 4), 0x11001af4);
	assert_int_equal(cr(&f, 0x30, 4), 0); /* no ROM BAR */
	assert_int_equal(cr(&f, 0x3d, 1), 0); /* no INTx pin */
	/* BAR0: 64-bit memory, 16 KiB by the usual sizing */
	assert_int_equal(cr(&f, 0x10, 4) & 7, 4);
	vpci_func_config_write(&f, 0x10, 4, 0xffffffff);
	assert_int_equal(cr(&f, 0x10, 4) & ~0xfu, 0xffffc000u);
	/* capabilities: PM, PCIe, MSI-X; the vendor one dropped */
	unsigned ids[8], n = 0;
	for (unsigned at = cr(&f, 0x34, 1); at && n < 8; at = cr(&f, at + 1, 1))
		ids[n++] = cr(&f, at, 1);
	assert_int_equal(n, 3);
	assert_int_equal(ids[0], 0x01);
	assert_int_equal(ids[1], 0x10);
	assert_int_equal(ids[2], 0x11);
	unsigned pm = cr(&f, 0x34, 1), pcie = cr(&f, pm + 1, 1), msix = cr(&f, pcie + 1, 1);
	/* PMCSR reads D0 (No_Soft_Reset kept) and stays so */
	assert_int_equal(cr(&f, pm + 4, 2), 0x0008);
	vpci_func_config_write(&f, pm + 4, 2, 3);
	assert_int_equal(cr(&f, pm + 4, 2), 0x0008);
	/* PCIe: the host's DevCap, DevCtl read-only (no FLR from the guest) */
	assert_int_equal(cr(&f, pcie + 4, 4), 0x10008000);
	vpci_func_config_write(&f, pcie + 8, 2, 0x8000);
	assert_int_equal(cr(&f, pcie + 8, 2), 0);
	/* MSI-X: 33 vectors, table and PBA where the host has them */
	assert_int_equal(cr(&f, msix + 2, 2) & 0x7ff, 32);
	assert_int_equal(cr(&f, msix + 4, 4), 0x2000);
	assert_int_equal(cr(&f, msix + 8, 4), 0x3000);
	/* COMMAND: memory, master, INTx-disable writable; the rest dropped */
	vpci_func_config_write(&f, 0x04, 2, 0xffff);
	assert_int_equal(cr(&f, 0x04, 2), 0x0407);
	vpci_func_config_write(&f, 0x0c, 4, 0xffffffff); /* cache line, latency, BIST */
	assert_int_equal(cr(&f, 0x0c, 4), 0);
	/* the MSI-X pages trap, the rest maps straight */
	uint64_t lo, hi, off[2], len[2];
	vpt_trap_window(&f, 0, 33, &lo, &hi);
	assert_int_equal(lo, 0x2000);
	assert_int_equal(hi, 0x4000);
	assert_int_equal(vpt_direct_ranges(&f, 0, 33, off, len), 1);
	assert_int_equal(off[0], 0);
	assert_int_equal(len[0], 0x2000);
	/* the table's entries are the model's, never forwarded; the rest of the page is */
	assert_true(vpt_msix_host_range(&f, 0, 33, 0x2000, 4));
	assert_true(vpt_msix_host_range(&f, 0, 33, 0x3000, 8));
	assert_false(vpt_msix_host_range(&f, 0, 33, 0x2000 + 33 * 16, 4));
	/* a host table of 300 entries (the guest sees 64): all 5 of its pages trap */
	vpt_trap_window(&f, 0, 300, &lo, &hi);
	assert_int_equal(lo, 0x2000);
	assert_int_equal(hi, 0x4000);
	assert_true(vpt_msix_host_range(&f, 0, 300, 0x2000 + 200 * 16, 4));
}

/* edu: 1 MiB BAR0, MSI (64-bit, no per-vector masks), conventional PCI. */
static void test_edu_like(void **state)
{
	(void)state;
	memset(space, 0, sizeof(space));
	put16(0, 0x1234), put16(2, 0x11e8);
	space[0x06] = 0x10, space[0x34] = 0x40, space[0x3d] = 1;
	space[0x40] = 0x05, space[0x41] = 0;
	put16(0x42, 0x0080);
	struct pci_dev d = {.vendor = 0x1234, .device = 0x11e8, .class_base = 0xff, .revision = 0x10,
			    .cap_msi = 0x40, .cfg = &cfg};
	d.bar[0] = (struct pci_bar){.base = 0xfea00000, .size = 1 << 20};
	d.bar[1] = (struct pci_bar){.base = 0xfebf1000, .size = 0x100}; /* sub-page: traps */
	struct vpci_func f;
	char err[160] = "";
	assert_int_equal(vpt_func_build(&f, "edu", &d, false, NULL, NULL, err, sizeof(err)), 0);
	unsigned msi = cr(&f, 0x34, 1);
	assert_int_equal(cr(&f, msi, 1), 0x05);
	assert_int_equal(cr(&f, msi + 1, 1), 0);
	assert_int_equal(cr(&f, msi + 2, 2) & 0x18e, 0x80); /* 64-bit, 1 vector, no masks */
	uint64_t off[2], len[2], lo, hi;
	assert_int_equal(vpt_direct_ranges(&f, 0, 0, off, len), 1);
	assert_int_equal(len[0], 1 << 20);
	assert_int_equal(vpt_direct_ranges(&f, 1, 0, off, len), 0);
	vpt_trap_window(&f, 1, 0, &lo, &hi);
	assert_int_equal(hi - lo, 0x100);
}

static void test_refused(void **state)
{
	(void)state;
	memset(space, 0, sizeof(space));
	put16(0, 0x8086), put16(2, 0x100e);
	struct pci_dev d = {.bus = 2, .dev = 3, .vendor = 0x8086, .device = 0x100e, .cfg = &cfg};
	d.bar[0] = (struct pci_bar){.base = 0xfe000000, .size = 0x20000};
	struct vpci_func f;
	char err[160] = "";
	assert_int_equal(vpt_func_build(&f, "x", &d, false, NULL, NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "0000:02:03.0 has neither MSI nor MSI-X, and no INTx the host "
				 "can route");
	/* with a routable INTx it is given, with pin INTA */
	assert_int_equal(vpt_func_build(&f, "x", &d, true, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(f.cfg[PCI_INTERRUPT_PIN], 1);
	d.header_type = 1;
	assert_int_equal(vpt_func_build(&f, "x", &d, false, NULL, NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "0000:02:03.0 is a bridge: only endpoints can be passed through");
}

/* What the VM's bus sends out: the guest's own message. */
static uint64_t sent_addr;
static uint32_t sent_data;
static unsigned sent;
static void bus_msi(void *ctx, uint64_t address, uint32_t data)
{
	(void)ctx;
	sent_addr = address, sent_data = data, sent++;
}

static struct pci_dev edu_msi64(bool pvm)
{
	memset(space, 0, sizeof(space));
	put16(0, 0x1234), put16(2, 0x11e8);
	space[0x06] = 0x10, space[0x34] = 0x40;
	space[0x40] = 0x05, space[0x41] = 0;
	put16(0x42, 0x0080 | 0x0002 | (pvm ? 0x100 : 0)); /* 64-bit, 2 vectors capable */
	put32(0x50, 0xffffffff); /* masks all set */
	struct pci_dev d = {.bus = 1, .vendor = 0x1234, .device = 0x11e8, .cap_msi = 0x40,
			    .cfg = &cfg};
	d.bar[0] = (struct pci_bar){.base = 0xfea00000, .size = 1 << 20};
	return d;
}

static void test_msi_translation(void **state)
{
	(void)state;
	struct pci_dev d = edu_msi64(true);
	struct vpci_func f;
	struct vpci_bus bus;
	struct vpci_bus_config bc = {.ecam_base = 0xc0000000, .mem32 = {0xc1000000, 0x3dc00000},
				     .msi = bus_msi};
	char err[160];
	assert_int_equal(vpt_func_build(&f, "edu", &d, false, NULL, NULL, err, sizeof(err)), 0);
	vpci_bus_init(&bus, &bc);
	assert_true(vpci_bus_add(&bus, &f, 3) == 3);
	unsigned msi = cr(&f, 0x34, 1);
	/* one vector offered, with the host's per-vector masking */
	assert_int_equal(cr(&f, msi + 2, 2) & 0x10e, 0x100);
	/* the guest's programming: its APIC 2, vector 0x51 */
	vpci_func_config_write(&f, msi + 4, 4, 0xfee02000);
	vpci_func_config_write(&f, msi + 8, 4, 0);
	vpci_func_config_write(&f, msi + 12, 2, 0x51);
	sent = 0;
	assert_false(vpci_msi_notify(&f, 0)); /* not enabled yet: nothing goes out */
	vpci_func_config_write(&f, msi + 2, 2, 1);
	assert_true(vpci_msi_notify(&f, 0));
	assert_int_equal(sent, 1);
	assert_int_equal(sent_addr, 0xfee02000);
	assert_int_equal(sent_data, 0x51);
	/* masked by the guest: held pending, sent when it unmasks */
	vpci_func_config_write(&f, msi + 16, 4, 1);
	assert_false(vpci_msi_notify(&f, 0));
	assert_int_equal(cr(&f, msi + 20, 4) & 1, 1);
	vpci_func_config_write(&f, msi + 16, 4, 0);
	assert_int_equal(sent, 2);

	/* the host's capability gets the hypervisor's message (a remapping handle here) */
	host_writable = true;
	vpt_host_msi_program(&d, 0xfee00010 | 3 << 5, 0);
	uint32_t v;
	memcpy(&v, space + 0x44, 4);
	assert_int_equal(v, 0xfee00070);
	memcpy(&v, space + 0x48, 4);
	assert_int_equal(v, 0);
	memcpy(&v, space + 0x4c, 4);
	assert_int_equal(v & 0xffff, 0);
	memcpy(&v, space + 0x50, 4);
	assert_int_equal(v, 0); /* its masks clear: the guest's are the model's */
	assert_int_equal(space[0x42] & 0x71, 0x01); /* enabled, one vector */
	vpt_host_msi_off(&d);
	assert_int_equal(space[0x42] & 1, 0);

	/* a 32-bit capability: the data right after the address */
	d = edu_msi64(false);
	put16(0x42, 0);
	vpt_host_msi_program(&d, 0xfee01000, 0x4045);
	memcpy(&v, space + 0x48, 4);
	assert_int_equal(v & 0xffff, 0x4045);
	host_writable = false;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nvme_like),
		cmocka_unit_test(test_edu_like),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_msi_translation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
