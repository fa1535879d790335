// SOURCES: guest/pci/vpci.c guest/pci/vpci_bus.c guest/pci/msix.c guest/pci/msi.c kernel/lib/string.c
/*
 * MSI-X and MSI as Linux's drivers/pci/msi drives them (PCI 3.0 §6.8): the
 * capability's Message Control (only Function Mask and Enable writable),
 * table entries written by dword and qword with reserved bits reading 0,
 * the PBA read-only, messages held as pending bits while a vector or the
 * function is masked and sent on unmask, MSI-X Enable taking the function
 * off INTx; the MSI capability's layouts, multiple messages and per-vector
 * masking; and msi_decode's fields and rejects (SDM Vol. 3A §11.11).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guest/pci/msi.h"
#include "guest/pci/vpci.h"

#define TABLE 0x8000u
#define PBA 0x48000u
#define NVEC 4

static struct vpci_bus bus;
static struct vpci_func dev;
static struct {
	uint64_t addr;
	uint32_t data;
} sent[16];
static unsigned nsent, gsi17;
static unsigned device_accesses;

static void msi(void *ctx, uint64_t address, uint32_t data)
{
	(void)ctx;
	if (nsent < 16)
		sent[nsent] = (typeof(sent[0])){address, data};
	nsent++;
}

static void set_gsi(void *ctx, unsigned gsi, bool level)
{
	(void)ctx;
	if (gsi == 17)
		gsi17 = level;
}

static uint64_t bar_read(void *o, unsigned bar, uint64_t off, unsigned size)
{
	(void)o;
	(void)bar;
	(void)off;
	(void)size;
	device_accesses++;
	return 0;
}

static void bar_write(void *o, unsigned bar, uint64_t off, unsigned size, uint64_t v)
{
	(void)o;
	(void)bar;
	(void)off;
	(void)size;
	(void)v;
	device_accesses++;
}

static const struct vpci_func_ops ops = {bar_read, bar_write, NULL, NULL};

static int setup(void **state)
{
	(void)state;
	struct vpci_bus_config cfg = {
		.ecam_base = VPCI_ECAM_BASE,
		.mem32 = {VPCI_MEM32_BASE, VPCI_MEM32_SIZE},
		.mem64 = {VPCI_MEM64_BASE, VPCI_MEM64_SIZE},
		.io = {VPCI_IO_BASE, VPCI_IO_SIZE},
		.msi = msi,
		.set_gsi = set_gsi,
	};
	nsent = gsi17 = device_accesses = 0;
	memset(sent, 0, sizeof(sent));
	vpci_bus_init(&bus, &cfg);
	/* the virtio-pci layout: one 512 KiB 64-bit BAR0, table at 0x8000, PBA at 0x48000 */
	vpci_func_init(&dev, "blk", 0x1af4, 0x1042, 0x010000, 1, 0x1af4, 2, &ops, NULL);
	assert_int_equal(vpci_func_add_bar(&dev, 0, VPCI_BAR_MEM64, 0x80000, true), 0);
	assert_int_equal(vpci_func_add_msix(&dev, NVEC, 0, TABLE, PBA), 0);
	vpci_func_set_intx_pin(&dev, 1);
	assert_int_equal(vpci_bus_add(&bus, &dev, 1), 1);
	return 0;
}

static uint64_t cfg_read(unsigned reg, unsigned size)
{
	return vpci_ecam_read(&bus, 1u << 15 | reg, size);
}

static void cfg_write(unsigned reg, unsigned size, uint32_t v)
{
	vpci_ecam_write(&bus, 1u << 15 | reg, size, v);
}

static uint64_t bar_rd(uint64_t off, unsigned size)
{
	uint64_t v = 0xdead;
	assert_true(vpci_mem_read(&bus, dev.bars[0].addr + off, size, &v));
	return v;
}

static void bar_wr(uint64_t off, unsigned size, uint64_t v)
{
	assert_true(vpci_mem_write(&bus, dev.bars[0].addr + off, size, v));
}

static uint16_t mc(void)
{
	return (uint16_t)cfg_read(dev.msix.cap + 2, 2);
}

/* Entry vec as Linux's msi_write_msg / pci_msix_write_vector_ctrl write it. */
static void program(unsigned vec, uint64_t addr, uint32_t data, bool masked)
{
	bar_wr(TABLE + 16 * vec, 4, (uint32_t)addr);
	bar_wr(TABLE + 16 * vec + 4, 4, (uint32_t)(addr >> 32));
	bar_wr(TABLE + 16 * vec + 8, 4, data);
	bar_wr(TABLE + 16 * vec + 12, 4, masked);
}

static void enable(bool function_mask)
{
	cfg_write(dev.msix.cap + 2, 2, 0x8000 | (function_mask ? 0x4000 : 0));
}

static void test_capability(void **state)
{
	(void)state;
	unsigned cap = dev.msix.cap;
	assert_int_equal(cfg_read(cap, 1), PCI_CAP_ID_MSIX);
	assert_int_equal(mc(), NVEC - 1);
	assert_int_equal(cfg_read(cap + 4, 4), TABLE | 0);
	assert_int_equal(cfg_read(cap + 8, 4), PBA | 0);
	/* only Function Mask and Enable take a write */
	cfg_write(cap + 2, 2, 0xffff);
	assert_int_equal(mc(), 0xc000 | (NVEC - 1));
	cfg_write(cap + 2, 2, 0);
	assert_int_equal(mc(), NVEC - 1);
	cfg_write(cap + 4, 4, 0);
	cfg_write(cap + 8, 4, 0);
	assert_int_equal(cfg_read(cap + 4, 4), TABLE);
	/* a byte write to the top byte of Message Control, as some drivers do */
	cfg_write(cap + 3, 1, 0x80);
	assert_int_equal(mc(), 0x8000 | (NVEC - 1));
	assert_true(vpci_msix_enabled(&dev));
	cfg_write(cap + 3, 1, 0xc0);
	assert_false(vpci_msix_enabled(&dev));
}

static void test_table(void **state)
{
	(void)state;
	/* every vector starts masked with a zero message (§6.8.2.9) */
	for (unsigned v = 0; v < NVEC; v++) {
		assert_int_equal(bar_rd(TABLE + 16 * v, 8), 0);
		assert_int_equal(bar_rd(TABLE + 16 * v + 8, 8), 1ull << 32);
	}
	/* address low bits 1:0 and reserved control bits read 0 */
	bar_wr(TABLE, 4, 0xfee01007);
	bar_wr(TABLE + 12, 4, 0xfffffffe);
	assert_int_equal(bar_rd(TABLE, 4), 0xfee01004);
	assert_int_equal(bar_rd(TABLE + 12, 4), 0);
	/* a qword write: address low and high */
	bar_wr(TABLE + 16, 8, 0x00000001fee02000ull);
	assert_int_equal(dev.msix.entries[1].addr_lo, 0xfee02000);
	assert_int_equal(dev.msix.entries[1].addr_hi, 1);
	bar_wr(TABLE + 24, 8, 0x0000000100004041ull); /* data, then control */
	assert_int_equal(dev.msix.entries[1].data, 0x4041);
	assert_int_equal(dev.msix.entries[1].ctrl, 1);
	/* bytes, words and misaligned writes are dropped; reads of any width see the bytes */
	bar_wr(TABLE + 8, 1, 0x55);
	bar_wr(TABLE + 8, 2, 0x5555);
	bar_wr(TABLE + 10, 4, 0x55555555);
	bar_wr(TABLE + 8, 8, 0); /* a qword at a non-qword boundary */
	bar_wr(TABLE + 4, 8, 0);
	assert_int_equal(dev.msix.entries[0].data, 0);
	assert_int_equal(dev.msix.entries[0].addr_hi, 0);
	assert_int_equal(bar_rd(TABLE + 1, 1), 0x10);
	assert_int_equal(bar_rd(TABLE + 2, 2), 0xfee0);
	/* the table's accesses never reach the device; the rest of the BAR does */
	assert_int_equal(device_accesses, 0);
	bar_rd(TABLE + 16 * NVEC, 4);
	bar_rd(0x0, 4);
	assert_int_equal(device_accesses, 2);
}

static void test_pba(void **state)
{
	(void)state;
	enable(false);
	assert_false(vpci_msix_notify(&dev, 2));
	assert_false(vpci_msix_notify(&dev, 0));
	assert_int_equal(bar_rd(PBA, 8), 0x5);
	assert_int_equal(bar_rd(PBA, 4), 0x5);
	assert_int_equal(bar_rd(PBA, 1), 0x5);
	assert_int_equal(bar_rd(PBA + 4, 4), 0);
	/* read-only */
	bar_wr(PBA, 8, 0);
	bar_wr(PBA, 4, 0xff);
	assert_int_equal(bar_rd(PBA, 8), 0x5);
	assert_int_equal(dev.msi_masked, 2);
	assert_int_equal(device_accesses, 0);
	/* past the PBA's qword: the device's */
	bar_rd(PBA + 8, 4);
	assert_int_equal(device_accesses, 1);
}

static void test_pending_sent_on_unmask(void **state)
{
	(void)state;
	program(1, 0xfee01000, 0x41, true);
	enable(false);
	assert_false(vpci_msix_notify(&dev, 1));
	assert_false(vpci_msix_notify(&dev, 1)); /* one pending bit, however many events */
	assert_int_equal(nsent, 0);
	assert_int_equal(dev.msix.pending, 1u << 1);
	bar_wr(TABLE + 16 + 12, 4, 0); /* unmask */
	assert_int_equal(nsent, 1);
	assert_int_equal(sent[0].addr, 0xfee01000);
	assert_int_equal(sent[0].data, 0x41);
	assert_int_equal(dev.msix.pending, 0);
	assert_int_equal(bar_rd(PBA, 8), 0);
	/* unmasked: straight out */
	assert_true(vpci_msix_notify(&dev, 1));
	assert_int_equal(nsent, 2);
	assert_int_equal(dev.msi_sent, 2);
	/* masking again holds the next one back; unmasking a vector with nothing pending sends nothing */
	bar_wr(TABLE + 16 + 12, 4, 1);
	assert_false(vpci_msix_notify(&dev, 1));
	bar_wr(TABLE + 2 * 16 + 12, 4, 0);
	assert_int_equal(nsent, 2);
	bar_wr(TABLE + 16 + 12, 8, 0); /* a qword at +8 is data then control: not aligned, dropped */
	assert_int_equal(nsent, 2);
	bar_wr(TABLE + 16 + 8, 8, 0x42); /* data 0x42, control 0: unmasked, sent with the new data */
	assert_int_equal(nsent, 3);
	assert_int_equal(sent[2].data, 0x42);
}

static void test_function_mask(void **state)
{
	(void)state;
	program(0, 0xfee00000, 0x30, false);
	program(3, 0xfee01000, 0x33, false);
	enable(true);
	assert_false(vpci_msix_enabled(&dev));
	assert_false(vpci_msix_notify(&dev, 0));
	assert_false(vpci_msix_notify(&dev, 3));
	assert_int_equal(bar_rd(PBA, 8), 0x9);
	assert_int_equal(nsent, 0);
	enable(false); /* function mask off: both go out, in vector order */
	assert_int_equal(nsent, 2);
	assert_int_equal(sent[0].data, 0x30);
	assert_int_equal(sent[1].data, 0x33);
	assert_int_equal(bar_rd(PBA, 8), 0);
	/* a vector masked on its own stays pending when the function mask lifts */
	enable(true);
	bar_wr(TABLE + 12, 4, 1);
	vpci_msix_notify(&dev, 0);
	vpci_msix_notify(&dev, 3);
	enable(false);
	assert_int_equal(nsent, 3);
	assert_int_equal(sent[2].data, 0x33);
	assert_int_equal(bar_rd(PBA, 8), 0x1);
}

static void test_enable_disable(void **state)
{
	(void)state;
	program(0, 0xfee00000, 0x30, false);
	/* disabled: the function may not use the table; nothing is sent or held */
	assert_false(vpci_msix_notify(&dev, 0));
	assert_int_equal(nsent, 0);
	assert_int_equal(dev.msix.pending, 0);
	enable(false);
	assert_true(vpci_msix_notify(&dev, 0));
	/* a vector beyond the table is dropped */
	assert_false(vpci_msix_notify(&dev, NVEC));
	assert_false(vpci_msix_notify(&dev, 1000));
	assert_int_equal(nsent, 1);
	/* pending bits survive a disable and go out when enabled again */
	bar_wr(TABLE + 12, 4, 1);
	vpci_msix_notify(&dev, 0);
	cfg_write(dev.msix.cap + 2, 2, 0);
	bar_wr(TABLE + 12, 4, 0);
	assert_int_equal(nsent, 1);
	enable(false);
	assert_int_equal(nsent, 2);
}

static void test_msix_stops_intx(void **state)
{
	(void)state;
	vpci_func_set_intx(&dev, true);
	assert_int_equal(gsi17, 1);
	enable(true); /* even with the function masked, INTx is off (§6.8.2.3) */
	assert_int_equal(gsi17, 0);
	cfg_write(dev.msix.cap + 2, 2, 0);
	assert_int_equal(gsi17, 1);
	vpci_func_set_intx(&dev, false);
	assert_int_equal(gsi17, 0);
}

static void test_table_follows_bar_and_command(void **state)
{
	(void)state;
	uint64_t v;
	uint64_t old = dev.bars[0].addr, to = VPCI_MEM64_BASE + 0x100000000ull;
	cfg_write(0x14, 4, (uint32_t)(to >> 32));
	cfg_write(0x10, 4, (uint32_t)to);
	assert_false(vpci_mem_read(&bus, old + TABLE + 12, 4, &v));
	assert_true(vpci_mem_read(&bus, to + TABLE + 12, 4, &v));
	assert_int_equal(v, 1);
	cfg_write(PCI_COMMAND, 2, 0);
	assert_false(vpci_mem_read(&bus, to + TABLE + 12, 4, &v));
	/* the direct entry points agree */
	assert_true(vpci_msix_mmio_read(&dev, 0, TABLE + 12, 4, &v));
	assert_false(vpci_msix_mmio_read(&dev, 0, 0x100, 4, &v));
	assert_false(vpci_msix_mmio_read(&dev, 1, TABLE, 4, &v));
	assert_false(vpci_msix_mmio_write(&dev, 0, 0x100, 4, 0));
}

static void test_add_rejects(void **state)
{
	(void)state;
	struct vpci_func f;
	vpci_func_init(&f, "f", 1, 2, 0, 0, 0, 0, NULL, NULL);
	assert_int_equal(vpci_func_add_bar(&f, 0, VPCI_BAR_MEM32, 0x1000, false), 0);
	assert_int_equal(vpci_func_add_bar(&f, 1, VPCI_BAR_IO, 0x100, false), 0);
	assert_int_equal(vpci_func_add_msix(&f, 0, 0, 0, 0x800), -1);
	assert_int_equal(vpci_func_add_msix(&f, 65, 0, 0, 0x800), -1);
	assert_int_equal(vpci_func_add_msix(&f, 4, 1, 0, 0x80), -1); /* an I/O BAR */
	assert_int_equal(vpci_func_add_msix(&f, 4, 2, 0, 0x80), -1); /* no BAR */
	assert_int_equal(vpci_func_add_msix(&f, 4, 6, 0, 0x80), -1);
	assert_int_equal(vpci_func_add_msix(&f, 4, 0, 4, 0x80), -1); /* misaligned */
	assert_int_equal(vpci_func_add_msix(&f, 4, 0, 0, 0x84), -1);
	assert_int_equal(vpci_func_add_msix(&f, 4, 0, 0, 0x38), -1); /* PBA inside the table */
	assert_int_equal(vpci_func_add_msix(&f, 4, 0, 0xff8, 0), -1); /* table past the BAR */
	assert_int_equal(vpci_func_add_msix(&f, 64, 0, 0xe00, 0), -1); /* 1 KiB table past the BAR */
	assert_int_equal(vpci_func_add_msix(&f, 64, 0, 0x0, 0x400), 0);
	assert_int_equal(vpci_func_add_msix(&f, 4, 0, 0x800, 0xc00), -1); /* only one */
	assert_int_equal(f.cfg[f.msix.cap + 2], 63);
}

static void test_reset(void **state)
{
	(void)state;
	program(0, 0xfee00000, 0x30, false);
	enable(true);
	vpci_msix_notify(&dev, 0);
	vpci_bus_reset(&bus);
	assert_int_equal(mc(), NVEC - 1);
	assert_int_equal(dev.msix.pending, 0);
	assert_int_equal(dev.msix.entries[0].ctrl, 1);
	assert_int_equal(dev.msix.entries[0].addr_lo, 0);
	assert_int_equal(nsent, 0);
}

/* ---- MSI ---- */

static void test_msi_64bit_masking(void **state)
{
	(void)state;
	struct vpci_func f;
	vpci_func_init(&f, "m", 1, 2, 0, 0, 0, 0, NULL, NULL);
	vpci_func_set_intx_pin(&f, 1);
	assert_int_equal(vpci_func_add_msi(&f, 4, true, true), 0);
	assert_int_equal(vpci_func_add_msi(&f, 4, true, true), -1);
	assert_int_equal(vpci_bus_add(&bus, &f, 5), 5);
	unsigned cap = f.msi_cap, base = 5u << 15;
	assert_int_equal(vpci_ecam_read(&bus, base + cap, 1), PCI_CAP_ID_MSI);
	/* MMC 2 (4 vectors), 64-bit, per-vector masking; only Enable and MME writable */
	assert_int_equal(vpci_ecam_read(&bus, base + cap + 2, 2), 0x0184);
	vpci_ecam_write(&bus, base + cap + 2, 2, 0xffff);
	assert_int_equal(vpci_ecam_read(&bus, base + cap + 2, 2), 0x01f5);
	vpci_ecam_write(&bus, base + cap + 2, 2, 0);
	/* address, data, mask (4 bits), pending read-only */
	vpci_ecam_write(&bus, base + cap + 4, 4, 0xfee0300f);
	vpci_ecam_write(&bus, base + cap + 8, 4, 0);
	vpci_ecam_write(&bus, base + cap + 0xc, 4, 0xffff4050);
	vpci_ecam_write(&bus, base + cap + 0x10, 4, 0xffffffff);
	vpci_ecam_write(&bus, base + cap + 0x14, 4, 0xffffffff);
	assert_int_equal(vpci_ecam_read(&bus, base + cap + 4, 4), 0xfee0300c);
	assert_int_equal(vpci_ecam_read(&bus, base + cap + 0xc, 4), 0x4050);
	assert_int_equal(vpci_ecam_read(&bus, base + cap + 0x10, 4), 0xf);
	assert_int_equal(vpci_ecam_read(&bus, base + cap + 0x14, 4), 0);
	/* disabled: nothing */
	assert_false(vpci_msi_notify(&f, 0));
	/* enable 2 of 4 (MME 1): vector 1 replaces data bit 0; vector 2 is beyond */
	vpci_func_set_intx(&f, true);
	vpci_ecam_write(&bus, base + cap + 0x10, 4, 0);
	vpci_ecam_write(&bus, base + cap + 2, 2, 0x0011);
	assert_true(vpci_msi_enabled(&f));
	assert_int_equal(gsi17, 0); /* slot 5 pin A: GSI 17, off while MSI is on */
	assert_true(vpci_msi_notify(&f, 1));
	assert_int_equal(sent[0].addr, 0xfee0300c);
	assert_int_equal(sent[0].data, 0x4051);
	assert_false(vpci_msi_notify(&f, 2));
	assert_int_equal(nsent, 1);
	/* masked: pending; unmasked: sent */
	vpci_ecam_write(&bus, base + cap + 0x10, 4, 0x1);
	assert_false(vpci_msi_notify(&f, 0));
	assert_int_equal(vpci_ecam_read(&bus, base + cap + 0x14, 4), 0x1);
	vpci_ecam_write(&bus, base + cap + 0x10, 4, 0);
	assert_int_equal(nsent, 2);
	assert_int_equal(sent[1].data, 0x4050);
	assert_int_equal(vpci_ecam_read(&bus, base + cap + 0x14, 4), 0);
	/* the high address dword counts */
	vpci_ecam_write(&bus, base + cap + 8, 4, 1);
	vpci_msi_notify(&f, 0);
	assert_int_equal(sent[2].addr, 0x1fee0300cull);
	/* MME above MMC is clamped to what the function has */
	vpci_ecam_write(&bus, base + cap + 2, 2, 0x0071);
	assert_true(vpci_msi_notify(&f, 3));
	assert_false(vpci_msi_notify(&f, 4));
	vpci_ecam_write(&bus, base + cap + 2, 2, 0);
	assert_int_equal(gsi17, 1);
}

static void test_msi_32bit(void **state)
{
	(void)state;
	struct vpci_func f;
	vpci_func_init(&f, "m", 1, 2, 0, 0, 0, 0, NULL, NULL);
	assert_int_equal(vpci_func_add_msi(&f, 3, false, false), -1);
	assert_int_equal(vpci_func_add_msi(&f, 64, false, false), -1);
	assert_int_equal(vpci_func_add_msi(&f, 1, false, false), 0);
	assert_int_equal(vpci_bus_add(&bus, &f, 6), 6);
	unsigned cap = f.msi_cap, base = 6u << 15;
	assert_int_equal(vpci_ecam_read(&bus, base + cap + 2, 2), 0);
	vpci_ecam_write(&bus, base + cap + 4, 4, 0xfee00000);
	vpci_ecam_write(&bus, base + cap + 8, 2, 0x0122);
	vpci_ecam_write(&bus, base + cap + 2, 2, 1);
	assert_true(vpci_msi_notify(&f, 0));
	assert_false(vpci_msi_notify(&f, 1));
	assert_int_equal(sent[0].addr, 0xfee00000);
	assert_int_equal(sent[0].data, 0x0122);
	/* a reset disables it */
	vpci_bus_reset(&bus);
	assert_false(vpci_msi_enabled(&f));
	assert_int_equal(vpci_ecam_read(&bus, base + cap + 4, 4), 0);
}

/* ---- msi_decode ---- */

static void test_decode_fields(void **state)
{
	(void)state;
	struct msi_message m;
	/* Linux's physical fixed edge message to APIC 3, vector 0x41 */
	assert_true(msi_decode(0xfee03000, 0x0041, &m));
	assert_int_equal(m.dest, 3);
	assert_false(m.logical);
	assert_false(m.redirection_hint);
	assert_int_equal(m.vector, 0x41);
	assert_int_equal(m.delivery_mode, 0);
	assert_false(m.level_triggered);
	assert_false(m.assert);
	/* logical, redirection hint, lowest priority, level assert */
	assert_true(msi_decode(0xfeeff00c, 0xc1ef, &m));
	assert_int_equal(m.dest, 0xff);
	assert_true(m.logical);
	assert_true(m.redirection_hint);
	assert_int_equal(m.vector, 0xef);
	assert_int_equal(m.delivery_mode, 1);
	assert_true(m.level_triggered);
	assert_true(m.assert);
	/* NMI, INIT, SMI, ExtINT decode (the platform decides what to deliver) */
	assert_true(msi_decode(0xfee00000, 0x0400, &m));
	assert_int_equal(m.delivery_mode, 4);
	assert_true(msi_decode(0xfee00000, 0x0500, &m));
	assert_true(msi_decode(0xfee00000, 0x0200, &m));
	assert_true(msi_decode(0xfee00000, 0x0700, &m));
	/* the top of the window */
	assert_true(msi_decode(0xfeeffffc, 0, &m));
	assert_int_equal(m.dest, 0xff);
}

static void test_decode_rejects(void **state)
{
	(void)state;
	struct msi_message m;
	assert_false(msi_decode(0, 0x41, &m));			/* a never-programmed entry */
	assert_false(msi_decode(0xfed00000, 0x41, &m));		/* below the window */
	assert_false(msi_decode(0xfef00000, 0x41, &m));		/* above */
	assert_false(msi_decode(0x1fee00000ull, 0x41, &m));	/* high dword set */
	assert_false(msi_decode(0xfee00000, 0x0341, &m));	/* reserved mode 3 */
	assert_false(msi_decode(0xfee00000, 0x0641, &m));	/* reserved mode 6 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_capability, setup),
		cmocka_unit_test_setup(test_table, setup),
		cmocka_unit_test_setup(test_pba, setup),
		cmocka_unit_test_setup(test_pending_sent_on_unmask, setup),
		cmocka_unit_test_setup(test_function_mask, setup),
		cmocka_unit_test_setup(test_enable_disable, setup),
		cmocka_unit_test_setup(test_msix_stops_intx, setup),
		cmocka_unit_test_setup(test_table_follows_bar_and_command, setup),
		cmocka_unit_test_setup(test_add_rejects, setup),
		cmocka_unit_test_setup(test_reset, setup),
		cmocka_unit_test_setup(test_msi_64bit_masking, setup),
		cmocka_unit_test_setup(test_msi_32bit, setup),
		cmocka_unit_test(test_decode_fields),
		cmocka_unit_test(test_decode_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
