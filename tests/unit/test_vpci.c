// SOURCES: guest/pci/vpci.c guest/pci/vpci_bus.c guest/pci/msix.c kernel/lib/string.c
/*
 * The VM's PCI bus driven as a guest's firmware and Linux drive it: config
 * cycles by mechanism #1 (0xcf8/0xcfc, any width inside the data window)
 * and by ECAM, the host bridge, what is read-only and what a written 1
 * clears, BAR sizing by all ones (32-bit, 64-bit pairs, I/O), moving and
 * disabling BARs with the accesses following, COMMAND's decode gating, the
 * capability list, and INTx onto GSI 16-19 shared by several functions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guest/pci/vpci.h"

static struct vpci_bus bus;
static struct vpci_func dev, dev2;
static unsigned gsi_level[24], gsi_calls;
static unsigned changed_calls;
static struct {
	unsigned bar;
	uint64_t offset, value;
	unsigned size, reads, writes;
} access;

static uint64_t dev_bar_read(void *opaque, unsigned bar, uint64_t offset, unsigned size)
{
	(void)opaque;
	access.bar = bar;
	access.offset = offset;
	access.size = size;
	access.reads++;
	return 0x1122334455667788ull;
}

static void dev_bar_write(void *opaque, unsigned bar, uint64_t offset, unsigned size, uint64_t v)
{
	(void)opaque;
	access.bar = bar;
	access.offset = offset;
	access.size = size;
	access.value = v;
	access.writes++;
}

static void dev_changed(void *opaque)
{
	(void)opaque;
	changed_calls++;
}

static const struct vpci_func_ops ops = {dev_bar_read, dev_bar_write, dev_changed, NULL};

static void set_gsi(void *ctx, unsigned gsi, bool level)
{
	(void)ctx;
	assert_true(gsi >= 16 && gsi < 20);
	gsi_level[gsi] = level;
	gsi_calls++;
}

static const struct vpci_bus_config bus_cfg = {
	.ecam_base = VPCI_ECAM_BASE,
	.mem32 = {VPCI_MEM32_BASE, VPCI_MEM32_SIZE},
	.mem64 = {VPCI_MEM64_BASE, VPCI_MEM64_SIZE},
	.io = {VPCI_IO_BASE, VPCI_IO_SIZE},
	.set_gsi = set_gsi,
};

static int setup(void **state)
{
	(void)state;
	memset(gsi_level, 0, sizeof(gsi_level));
	gsi_calls = changed_calls = 0;
	memset(&access, 0, sizeof(access));
	vpci_bus_init(&bus, &bus_cfg);
	/* a virtio-blk-like function: a 64-bit prefetchable BAR0, a 32-bit BAR2, an I/O BAR3 */
	vpci_func_init(&dev, "blk", 0x1af4, 0x1042, 0x010000, 1, 0x1af4, 2, &ops, NULL);
	assert_int_equal(vpci_func_add_bar(&dev, 0, VPCI_BAR_MEM64, 0x80000, true), 0);
	assert_int_equal(vpci_func_add_bar(&dev, 2, VPCI_BAR_MEM32, 0x1000, false), 0);
	assert_int_equal(vpci_func_add_bar(&dev, 3, VPCI_BAR_IO, 0x20, false), 0);
	vpci_func_set_intx_pin(&dev, 1);
	vpci_func_init(&dev2, "net", 0x1af4, 0x1041, 0x020000, 1, 0x1af4, 1, &ops, NULL);
	assert_int_equal(vpci_func_add_bar(&dev2, 0, VPCI_BAR_MEM32, 0x4000, false), 0);
	vpci_func_set_intx_pin(&dev2, 1);
	return 0;
}

/* Mechanism #1: the latch, then the data window. */
static uint32_t cf8_addr(unsigned bus_nr, unsigned slot, unsigned fn, unsigned reg)
{
	return 0x80000000u | bus_nr << 16 | slot << 11 | fn << 8 | (reg & 0xfc);
}

static uint64_t cf8_read(unsigned slot, unsigned reg, unsigned size)
{
	vpci_cf8_write(&bus, 0, 4, cf8_addr(0, slot, 0, reg));
	return vpci_cf8_read(&bus, 4 + (reg & 3), size);
}

static void cf8_write(unsigned slot, unsigned reg, unsigned size, uint32_t v)
{
	vpci_cf8_write(&bus, 0, 4, cf8_addr(0, slot, 0, reg));
	vpci_cf8_write(&bus, 4 + (reg & 3), size, v);
}

static uint64_t ecam(unsigned slot, unsigned fn, unsigned reg)
{
	return (uint64_t)slot << 15 | fn << 12 | reg;
}

static uint32_t cfg32(unsigned slot, unsigned reg)
{
	return (uint32_t)vpci_ecam_read(&bus, ecam(slot, 0, reg), 4);
}

static void test_host_bridge(void **state)
{
	(void)state;
	assert_int_equal(cf8_read(0, 0x00, 4), 0x29c08086);
	assert_int_equal(cf8_read(0, 0x08, 4), 0x06000000);
	assert_int_equal(cf8_read(0, 0x0e, 1), 0x00); /* type 0, single function */
	assert_int_equal(cf8_read(0, 0x10, 4), 0);	/* no BARs */
	assert_int_equal(cfg32(0, 0), 0x29c08086);
	/* nothing else on bus 0, no other function, no other bus */
	assert_int_equal(cf8_read(7, 0, 4), 0xffffffff);
	vpci_cf8_write(&bus, 0, 4, cf8_addr(0, 0, 1, 0));
	assert_int_equal(vpci_cf8_read(&bus, 4, 4), 0xffffffff);
	vpci_cf8_write(&bus, 0, 4, cf8_addr(1, 0, 0, 0));
	assert_int_equal(vpci_cf8_read(&bus, 4, 4), 0xffffffff);
	assert_int_equal(vpci_ecam_read(&bus, ecam(0, 1, 0), 4), 0xffffffff);
	assert_int_equal(vpci_ecam_read(&bus, ecam(31, 0, 0), 2), 0xffff);
}

static void test_cf8_latch(void **state)
{
	(void)state;
	/* bits 1:0 and 30:24 read 0; the rest sticks */
	vpci_cf8_write(&bus, 0, 4, 0xffffffff);
	assert_int_equal(vpci_cf8_read(&bus, 0, 4), 0x80fffffc);
	/* without the enable bit, the data window is no config cycle */
	vpci_cf8_write(&bus, 0, 4, 0x00000000);
	assert_int_equal(vpci_cf8_read(&bus, 4, 4), 0xffffffff);
	vpci_cf8_write(&bus, 4, 4, 0x12345678); /* dropped, no crash */
	/* byte or word accesses to 0xcf8-0xcfb are not the latch */
	vpci_cf8_write(&bus, 0, 4, cf8_addr(0, 0, 0, 0));
	vpci_cf8_write(&bus, 0, 2, 0);
	vpci_cf8_write(&bus, 2, 1, 0);
	assert_int_equal(vpci_cf8_read(&bus, 0, 4), 0x80000000);
	assert_int_equal(vpci_cf8_read(&bus, 0, 1), 0xff);
	assert_true(bus.bad_config >= 3);
	/* widths a port cannot have: no crash */
	assert_int_equal(vpci_cf8_read(&bus, 4, 0), 0);
	assert_int_equal(vpci_cf8_read(&bus, 9, 4), 0xffffffff);
}

static void test_cf8_widths(void **state)
{
	(void)state;
	assert_int_equal(vpci_bus_add(&bus, &dev, 1), 1);
	/* bytes and words anywhere in the data window */
	assert_int_equal(cf8_read(1, 0x00, 1), 0xf4);
	assert_int_equal(cf8_read(1, 0x01, 1), 0x1a);
	assert_int_equal(cf8_read(1, 0x02, 2), 0x1042);
	assert_int_equal(cf8_read(1, 0x03, 1), 0x10);
	assert_int_equal(cf8_read(1, 0x0b, 1), 0x01); /* class */
	/* a word at 0xcfe is the top half; a dword at 0xcfe only has two bytes in the window */
	vpci_cf8_write(&bus, 0, 4, cf8_addr(0, 1, 0, 0));
	assert_int_equal(vpci_cf8_read(&bus, 6, 2), 0x1042);
	assert_int_equal(vpci_cf8_read(&bus, 6, 4), 0xffff1042);
	/* a word write of COMMAND through 0xcfc, a byte write of INTERRUPT_LINE through 0xcfc */
	cf8_write(1, PCI_COMMAND, 2, 0);
	assert_int_equal(cf8_read(1, PCI_COMMAND, 2), 0);
	cf8_write(1, PCI_INTERRUPT_LINE, 1, 0x0b);
	assert_int_equal(cf8_read(1, PCI_INTERRUPT_LINE, 1), 0x0b);
	assert_int_equal(cf8_read(1, PCI_INTERRUPT_PIN, 1), 1);
}

static void test_ecam_decode(void **state)
{
	(void)state;
	assert_int_equal(vpci_bus_add(&bus, &dev, 4), 4);
	assert_int_equal(vpci_ecam_read(&bus, ecam(4, 0, 0), 4), 0x10421af4);
	assert_int_equal(vpci_ecam_read(&bus, ecam(4, 0, 2), 2), 0x1042);
	assert_int_equal(vpci_ecam_read(&bus, ecam(4, 0, 0x2c), 4), 0x00021af4);
	/* a qword is two dwords; an access crossing a dword is split at the boundary */
	assert_int_equal(vpci_ecam_read(&bus, ecam(4, 0, 0), 8), 0x0000000310421af4ull);
	assert_int_equal(vpci_ecam_read(&bus, ecam(4, 0, 3), 2), 0x0310);
	/* the extended space reads 0 (no extended capability) and ignores writes */
	assert_int_equal(vpci_ecam_read(&bus, ecam(4, 0, 0x100), 4), 0);
	vpci_ecam_write(&bus, ecam(4, 0, 0x100), 4, 0xffffffff);
	assert_int_equal(vpci_ecam_read(&bus, ecam(4, 0, 0xffc), 4), 0);
	/* the same function by both mechanisms */
	vpci_ecam_write(&bus, ecam(4, 0, PCI_INTERRUPT_LINE), 1, 0x42);
	assert_int_equal(cf8_read(4, PCI_INTERRUPT_LINE, 1), 0x42);
	/* a qword write of BAR0/BAR1 through ECAM moves the 64-bit BAR in one go */
	vpci_ecam_write(&bus, ecam(4, 0, PCI_BAR0), 8, 0x0000001200000000ull);
	assert_int_equal(dev.bars[0].addr, 0x1200000000ull);
	/* a crossing qword at the end of one function's space reaches the next slot's start */
	assert_int_equal(vpci_ecam_read(&bus, ecam(4, 0, 0xffe), 4), 0xffff0000);
	/* widths no MMIO access has: no crash */
	assert_int_equal(vpci_ecam_read(&bus, ecam(4, 0, 0), 0), 0);
	vpci_ecam_write(&bus, ecam(4, 0, 0), 9, 0);
}

static void test_readonly_and_w1c(void **state)
{
	(void)state;
	assert_int_equal(vpci_bus_add(&bus, &dev, 1), 1);
	uint32_t id = cfg32(1, 0), class = cfg32(1, 8), sub = cfg32(1, 0x2c);
	vpci_ecam_write(&bus, ecam(1, 0, 0), 4, 0);
	vpci_ecam_write(&bus, ecam(1, 0, 8), 4, 0);
	vpci_ecam_write(&bus, ecam(1, 0, 0x2c), 4, 0);
	vpci_ecam_write(&bus, ecam(1, 0, PCI_HEADER_TYPE), 1, 0x80);
	vpci_ecam_write(&bus, ecam(1, 0, PCI_INTERRUPT_PIN), 1, 3);
	vpci_ecam_write(&bus, ecam(1, 0, PCI_CAP_PTR), 1, 0x40);
	assert_int_equal(cfg32(1, 0), id);
	assert_int_equal(cfg32(1, 8), class);
	assert_int_equal(cfg32(1, 0x2c), sub);
	assert_int_equal(vpci_ecam_read(&bus, ecam(1, 0, PCI_HEADER_TYPE), 1), 0);
	assert_int_equal(vpci_ecam_read(&bus, ecam(1, 0, PCI_INTERRUPT_PIN), 1), 1);
	assert_int_equal(vpci_ecam_read(&bus, ecam(1, 0, PCI_CAP_PTR), 1), 0);
	/* COMMAND: I/O, memory, master, INTx disable; nothing else */
	vpci_ecam_write(&bus, ecam(1, 0, PCI_COMMAND), 2, 0xffff);
	assert_int_equal(vpci_ecam_read(&bus, ecam(1, 0, PCI_COMMAND), 2), 0x0407);
	/* STATUS: error bits clear on a written 1, the rest read-only */
	dev.cfg[PCI_STATUS + 1] = 0xf9; /* as if every error had been seen */
	vpci_ecam_write(&bus, ecam(1, 0, PCI_STATUS), 2, 0x2000); /* received master abort */
	assert_int_equal(vpci_ecam_read(&bus, ecam(1, 0, PCI_STATUS), 2), 0xd900);
	vpci_ecam_write(&bus, ecam(1, 0, PCI_STATUS), 2, 0);
	assert_int_equal(vpci_ecam_read(&bus, ecam(1, 0, PCI_STATUS), 2), 0xd900);
	/* a dword write of COMMAND+STATUS: COMMAND takes its bits, STATUS clears its ones */
	vpci_ecam_write(&bus, ecam(1, 0, PCI_COMMAND), 4, 0xffff0002);
	assert_int_equal(cfg32(1, PCI_COMMAND), 0x00000002);
	/* no expansion ROM: its BAR sizes to 0 */
	vpci_ecam_write(&bus, ecam(1, 0, 0x30), 4, 0xffffffff);
	assert_int_equal(cfg32(1, 0x30), 0);
}

static void test_firmware_layout(void **state)
{
	(void)state;
	assert_int_equal(vpci_bus_add(&bus, &dev, 0), 1); /* the first free slot */
	assert_int_equal(vpci_bus_add(&bus, &dev2, 0), 2);
	/* the prefetchable 64-bit BAR in the 64-bit window, the rest below 4 GiB, all aligned */
	assert_int_equal(dev.bars[0].addr, VPCI_MEM64_BASE);
	assert_int_equal(cfg32(1, 0x10), (uint32_t)VPCI_MEM64_BASE | 0xc);
	assert_int_equal(cfg32(1, 0x14), VPCI_MEM64_BASE >> 32);
	assert_int_equal(dev.bars[2].addr, VPCI_MEM32_BASE);
	assert_int_equal(cfg32(1, 0x18), (uint32_t)VPCI_MEM32_BASE);
	assert_int_equal(dev.bars[3].addr, VPCI_IO_BASE);
	assert_int_equal(cfg32(1, 0x1c), VPCI_IO_BASE | 1);
	assert_int_equal(dev2.bars[0].addr, VPCI_MEM32_BASE + 0x4000); /* 16 KiB aligned */
	/* decoding on, the GSI where a BIOS puts it */
	assert_int_equal(cfg32(1, PCI_COMMAND) & 0xffff, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	assert_int_equal(cfg32(2, PCI_COMMAND) & 0xffff, PCI_COMMAND_MEMORY);
	assert_int_equal(vpci_ecam_read(&bus, ecam(1, 0, PCI_INTERRUPT_LINE), 1), 17);
	assert_int_equal(vpci_ecam_read(&bus, ecam(2, 0, PCI_INTERRUPT_LINE), 1), 18);
	assert_int_equal(changed_calls, 0); /* the firmware's layout is no guest change */
	assert_ptr_equal(vpci_bus_func(&bus, 2), &dev2);
	assert_ptr_equal(vpci_bus_func(&bus, 0), &bus.host_bridge);
	assert_null(vpci_bus_func(&bus, 3));
	assert_null(vpci_bus_func(&bus, 32));
}

/* A passed-through function's STATUS.INTERRUPT is what its owner says (the host's bit). */
static bool host_line;
static bool host_intx_status(void *opaque)
{
	(void)opaque;
	return host_line;
}

static void test_intx_status_hook(void **state)
{
	(void)state;
	static const struct vpci_func_ops pt = {.intx_status = host_intx_status};
	struct vpci_func f;
	vpci_func_init(&f, "pt", 1, 2, 0, 0, 0, 0, &pt, NULL);
	host_line = true;
	/* no INTx pin: the model's bit (clear) */
	assert_int_equal(vpci_func_config_read(&f, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
	vpci_func_set_intx_pin(&f, 1);
	assert_int_equal(vpci_func_config_read(&f, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT,
			 PCI_STATUS_INTERRUPT);
	assert_int_equal(vpci_func_config_read(&f, PCI_COMMAND, 4) >> 16 & PCI_STATUS_INTERRUPT,
			 PCI_STATUS_INTERRUPT);
	host_line = false;
	assert_int_equal(vpci_func_config_read(&f, PCI_STATUS, 1) & PCI_STATUS_INTERRUPT, 0);
}

static void test_add_rejects(void **state)
{
	(void)state;
	struct vpci_func f, g;
	vpci_func_init(&f, "x", 1, 2, 0, 0, 0, 0, NULL, NULL);
	/* bad BARs */
	assert_int_equal(vpci_func_add_bar(&f, 6, VPCI_BAR_MEM32, 0x1000, false), -1);
	assert_int_equal(vpci_func_add_bar(&f, 0, VPCI_BAR_MEM32, 0x1800, false), -1);
	assert_int_equal(vpci_func_add_bar(&f, 0, VPCI_BAR_MEM32, 8, false), -1);
	assert_int_equal(vpci_func_add_bar(&f, 0, VPCI_BAR_IO, 512, false), -1);
	assert_int_equal(vpci_func_add_bar(&f, 0, VPCI_BAR_IO, 16, true), -1);
	assert_int_equal(vpci_func_add_bar(&f, 5, VPCI_BAR_MEM64, 0x1000, false), -1);
	assert_int_equal(vpci_func_add_bar(&f, 0, VPCI_BAR_NONE, 0x1000, false), -1);
	assert_int_equal(vpci_func_add_bar(&f, 1, VPCI_BAR_MEM64, 0x1000, false), 0);
	assert_int_equal(vpci_func_add_bar(&f, 2, VPCI_BAR_MEM32, 0x1000, false), -1); /* upper half */
	assert_int_equal(vpci_func_add_bar(&f, 1, VPCI_BAR_MEM32, 0x1000, false), -1); /* taken */
	assert_int_equal(vpci_func_add_bar(&f, 0, VPCI_BAR_MEM64, 0x1000, false), -1); /* overlaps 1 */
	/* slots */
	assert_int_equal(vpci_bus_add(&bus, &dev, 32), -1);
	assert_int_equal(vpci_bus_add(&bus, &dev, 3), 3);
	assert_int_equal(vpci_bus_add(&bus, &dev, 4), -1); /* already plugged */
	assert_int_equal(vpci_bus_add(&bus, &dev2, 3), -1); /* taken */
	/* a function that does not fit takes nothing */
	vpci_func_init(&g, "huge", 1, 3, 0, 0, 0, 0, NULL, NULL);
	assert_int_equal(vpci_func_add_bar(&g, 0, VPCI_BAR_MEM32, 1ull << 31, false), 0);
	assert_int_equal(vpci_func_add_bar(&g, 1, VPCI_BAR_MEM32, 1ull << 31, false), 0);
	uint64_t m32 = bus.mem32_next;
	assert_int_equal(vpci_bus_add(&bus, &g, 0), -1);
	assert_int_equal(bus.mem32_next, m32);
	assert_null(g.bus);
	/* every slot filled: no free one */
	static struct vpci_func many[31];
	unsigned added = 0;
	for (unsigned i = 0; i < 31; i++) {
		vpci_func_init(&many[i], "m", 1, 4, 0, 0, 0, 0, NULL, NULL);
		if (vpci_bus_add(&bus, &many[i], 0) > 0)
			added++;
	}
	assert_int_equal(added, 30); /* slot 3 was dev's */
}

static void test_bar_sizing(void **state)
{
	(void)state;
	assert_int_equal(vpci_bus_add(&bus, &dev, 1), 1);
	/* 32-bit memory: the size's low bits read 0, type bits stay */
	uint32_t bar2 = cfg32(1, 0x18);
	vpci_ecam_write(&bus, ecam(1, 0, 0x18), 4, 0xffffffff);
	assert_int_equal(cfg32(1, 0x18), 0xfffff000);
	vpci_ecam_write(&bus, ecam(1, 0, 0x18), 4, bar2);
	assert_int_equal(cfg32(1, 0x18), bar2);
	/* I/O: bit 0 says so */
	vpci_ecam_write(&bus, ecam(1, 0, 0x1c), 4, 0xffffffff);
	assert_int_equal(cfg32(1, 0x1c), 0xffffffe1);
	/* the 64-bit pair: low then high, as Linux's __pci_read_base does */
	vpci_ecam_write(&bus, ecam(1, 0, 0x10), 4, 0xffffffff);
	vpci_ecam_write(&bus, ecam(1, 0, 0x14), 4, 0xffffffff);
	assert_int_equal(cfg32(1, 0x10), 0xfff8000c);
	assert_int_equal(cfg32(1, 0x14), 0xffffffff);
	/* unimplemented BARs read 0 after all ones */
	vpci_ecam_write(&bus, ecam(1, 0, 0x20), 4, 0xffffffff);
	vpci_ecam_write(&bus, ecam(1, 0, 0x24), 4, 0xffffffff);
	assert_int_equal(cfg32(1, 0x20), 0);
	assert_int_equal(cfg32(1, 0x24), 0);
	/* sub-dword writes merge into the BAR */
	vpci_ecam_write(&bus, ecam(1, 0, 0x18), 4, 0xd0000000);
	vpci_ecam_write(&bus, ecam(1, 0, 0x1a), 2, 0xd123);
	assert_int_equal(cfg32(1, 0x18), 0xd1230000);
	assert_int_equal(dev.bars[2].addr, 0xd1230000);
}

static void test_bar64_large(void **state)
{
	(void)state;
	struct vpci_func big;
	vpci_func_init(&big, "big", 1, 5, 0x030000, 0, 0, 0, &ops, NULL);
	assert_int_equal(vpci_func_add_bar(&big, 2, VPCI_BAR_MEM64, 8ull << 30, true), 0);
	assert_int_equal(vpci_bus_add(&bus, &big, 6), 6);
	assert_int_equal(big.bars[2].addr, VPCI_MEM64_BASE);
	/* an 8 GiB BAR: no size bits in the low dword, three in the high one */
	vpci_ecam_write(&bus, ecam(6, 0, 0x18), 4, 0xffffffff);
	vpci_ecam_write(&bus, ecam(6, 0, 0x1c), 4, 0xffffffff);
	assert_int_equal(cfg32(6, 0x18), 0x0000000c);
	assert_int_equal(cfg32(6, 0x1c), 0xfffffffe);
	vpci_ecam_write(&bus, ecam(6, 0, 0x18), 4, 0x0000000c);
	vpci_ecam_write(&bus, ecam(6, 0, 0x1c), 4, 0x00000012);
	assert_int_equal(big.bars[2].addr, 0x1200000000ull);
	/* a non-prefetchable 64-bit BAR goes below 4 GiB */
	struct vpci_func np;
	vpci_func_init(&np, "np", 1, 6, 0, 0, 0, 0, &ops, NULL);
	assert_int_equal(vpci_func_add_bar(&np, 0, VPCI_BAR_MEM64, 0x1000, false), 0);
	assert_int_equal(vpci_bus_add(&bus, &np, 7), 7);
	assert_true(np.bars[0].addr >= VPCI_MEM32_BASE && np.bars[0].addr < (1ull << 32));
	assert_int_equal(cfg32(7, 0x10), (uint32_t)np.bars[0].addr | 0x4);
	assert_int_equal(cfg32(7, 0x14), 0);
}

static void test_dispatch_follows_moves(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(vpci_bus_add(&bus, &dev, 1), 1);
	uint64_t bar0 = dev.bars[0].addr, bar2 = dev.bars[2].addr;
	/* reads and writes reach the device with the BAR and offset */
	assert_true(vpci_mem_read(&bus, bar0 + 0x4010, 4, &v));
	assert_int_equal(v, 0x1122334455667788ull);
	assert_int_equal(access.bar, 0);
	assert_int_equal(access.offset, 0x4010);
	assert_int_equal(access.size, 4);
	assert_true(vpci_mem_write(&bus, bar2 + 8, 2, 0xbeef));
	assert_int_equal(access.bar, 2);
	assert_int_equal(access.offset, 8);
	assert_int_equal(access.value, 0xbeef);
	/* the whole access must be inside the BAR */
	assert_false(vpci_mem_read(&bus, bar2 + 0xffe, 4, &v));
	assert_true(vpci_mem_read(&bus, bar2 + 0xffc, 4, &v));
	/* a hole in the window decodes nothing */
	assert_false(vpci_mem_read(&bus, bar2 + 0x100000, 4, &v));
	/* move BAR2: the old place goes dark, the new one answers */
	uint64_t to = VPCI_MEM32_BASE + 0x200000;
	vpci_ecam_write(&bus, ecam(1, 0, 0x18), 4, (uint32_t)to);
	assert_false(vpci_mem_write(&bus, bar2, 4, 1));
	assert_true(vpci_mem_write(&bus, to + 4, 4, 1));
	assert_int_equal(access.offset, 4);
	/* move the 64-bit BAR0 by its high half, then low half */
	uint64_t to64 = VPCI_MEM64_BASE + 0x300000000ull;
	vpci_ecam_write(&bus, ecam(1, 0, 0x14), 4, (uint32_t)(to64 >> 32));
	vpci_ecam_write(&bus, ecam(1, 0, 0x10), 4, (uint32_t)to64);
	assert_false(vpci_mem_read(&bus, bar0, 4, &v));
	assert_true(vpci_mem_read(&bus, to64 + 0x7fff8, 8, &v));
	assert_int_equal(access.offset, 0x7fff8);
	/* a BAR the guest put outside the windows decodes nothing, not even RAM's addresses */
	vpci_ecam_write(&bus, ecam(1, 0, 0x18), 4, 0x00100000);
	assert_false(vpci_mem_read(&bus, 0x00100000, 4, &v));
	/* COMMAND gates each space */
	vpci_ecam_write(&bus, ecam(1, 0, 0x18), 4, (uint32_t)to);
	vpci_ecam_write(&bus, ecam(1, 0, PCI_COMMAND), 2, PCI_COMMAND_IO);
	assert_false(vpci_mem_read(&bus, to, 4, &v));
	assert_true(vpci_io_read(&bus, dev.bars[3].addr + 2, 2, &v));
	assert_int_equal(access.bar, 3);
	assert_int_equal(access.offset, 2);
	vpci_ecam_write(&bus, ecam(1, 0, PCI_COMMAND), 2, PCI_COMMAND_MEMORY);
	assert_true(vpci_mem_read(&bus, to, 4, &v));
	assert_false(vpci_io_read(&bus, dev.bars[3].addr, 1, &v));
	assert_false(vpci_io_write(&bus, dev.bars[3].addr, 1, 0));
	/* an I/O BAR moved within the I/O window */
	vpci_ecam_write(&bus, ecam(1, 0, PCI_COMMAND), 2, PCI_COMMAND_IO);
	vpci_ecam_write(&bus, ecam(1, 0, 0x1c), 4, 0xd000);
	assert_true(vpci_io_write(&bus, 0xd01f, 1, 0x5a));
	assert_int_equal(access.offset, 0x1f);
	assert_false(vpci_io_write(&bus, VPCI_IO_BASE, 1, 0x5a));
	/* zero-size accesses decode nothing */
	assert_false(vpci_io_read(&bus, 0xd000, 0, &v));
}

static void test_config_changed(void **state)
{
	(void)state;
	assert_int_equal(vpci_bus_add(&bus, &dev, 1), 1);
	vpci_ecam_write(&bus, ecam(1, 0, PCI_COMMAND), 2, 0);
	assert_int_equal(changed_calls, 1);
	vpci_ecam_write(&bus, ecam(1, 0, PCI_COMMAND), 2, 0); /* no change */
	assert_int_equal(changed_calls, 1);
	vpci_ecam_write(&bus, ecam(1, 0, 0x18), 4, 0xffffffff);
	assert_int_equal(changed_calls, 2);
	vpci_ecam_write(&bus, ecam(1, 0, PCI_INTERRUPT_LINE), 1, 3);
	assert_int_equal(changed_calls, 2);
	/* a deferring bus marks the slot instead, for its caller to call unlocked */
	bus.cfg.defer_config_changed = true;
	vpci_ecam_write(&bus, ecam(1, 0, PCI_COMMAND), 2, 2);
	assert_int_equal(changed_calls, 2);
	assert_int_equal(vpci_bus_take_changed(&bus), 1u << 1);
	assert_int_equal(vpci_bus_take_changed(&bus), 0);
}

static void test_cap_list(void **state)
{
	(void)state;
	uint8_t body[14] = {16, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x38, 0, 0, 0};
	uint8_t a = vpci_func_add_cap(&dev, PCI_CAP_ID_VNDR, body, 16);
	uint8_t b = vpci_func_add_cap(&dev, PCI_CAP_ID_VNDR, body, 13);
	assert_int_equal(vpci_func_add_msix(&dev, 2, 0, 0x8000, 0x48000), 0);
	assert_int_equal(a, 0x40);
	assert_int_equal(b, 0x50);
	assert_int_equal(dev.msix.cap, 0x60); /* dword-aligned after 13 bytes */
	assert_int_equal(vpci_bus_add(&bus, &dev, 1), 1);
	/* the walk Linux's pci_find_capability does */
	assert_true(vpci_ecam_read(&bus, ecam(1, 0, PCI_STATUS), 2) & PCI_STATUS_CAP_LIST);
	uint8_t ids[8], n = 0;
	unsigned p = vpci_ecam_read(&bus, ecam(1, 0, PCI_CAP_PTR), 1);
	while (p && n < 8) {
		assert_int_equal(p & 3, 0);
		ids[n++] = (uint8_t)vpci_ecam_read(&bus, ecam(1, 0, p), 1);
		p = vpci_ecam_read(&bus, ecam(1, 0, p + 1), 1);
	}
	assert_int_equal(n, 3);
	assert_int_equal(ids[0], PCI_CAP_ID_VNDR);
	assert_int_equal(ids[1], PCI_CAP_ID_VNDR);
	assert_int_equal(ids[2], PCI_CAP_ID_MSIX);
	/* the body reads back and is read-only unless the device says otherwise */
	assert_int_equal(vpci_ecam_read(&bus, ecam(1, 0, 0x42), 2), 0x0110);
	vpci_ecam_write(&bus, ecam(1, 0, 0x40), 4, 0);
	assert_int_equal(vpci_ecam_read(&bus, ecam(1, 0, 0x40), 4), 0x01105009);
	dev.wmask[0x4c] = 0xff;
	vpci_ecam_write(&bus, ecam(1, 0, 0x4c), 1, 0x77);
	assert_int_equal(vpci_ecam_read(&bus, ecam(1, 0, 0x4c), 1), 0x77);
	/* no room: 0; a function without caps has no CAP_LIST */
	struct vpci_func f;
	vpci_func_init(&f, "f", 1, 2, 0, 0, 0, 0, NULL, NULL);
	assert_false(f.cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST);
	unsigned added = 0;
	while (vpci_func_add_cap(&f, PCI_CAP_ID_VNDR, NULL, 64))
		added++;
	assert_int_equal(added, 3);
	assert_int_equal(vpci_func_add_cap(&f, PCI_CAP_ID_VNDR, NULL, 1), 0);
	assert_int_equal(vpci_func_add_cap(&f, PCI_CAP_ID_VNDR, NULL, 4), 0); /* full */
}

static void test_intx(void **state)
{
	(void)state;
	assert_int_equal(vpci_bus_add(&bus, &dev, 1), 1);
	assert_int_equal(vpci_intx_gsi(1, 1), 17);
	vpci_func_set_intx(&dev, true);
	assert_int_equal(gsi_level[17], 1);
	assert_true(vpci_ecam_read(&bus, ecam(1, 0, PCI_STATUS), 2) & PCI_STATUS_INTERRUPT);
	/* INTX_DISABLE drops the line, not STATUS.INTERRUPT (§6.2.3) */
	vpci_ecam_write(&bus, ecam(1, 0, PCI_COMMAND), 2, PCI_COMMAND_INTX_DISABLE);
	assert_int_equal(gsi_level[17], 0);
	assert_true(vpci_ecam_read(&bus, ecam(1, 0, PCI_STATUS), 2) & PCI_STATUS_INTERRUPT);
	vpci_ecam_write(&bus, ecam(1, 0, PCI_COMMAND), 2, 0);
	assert_int_equal(gsi_level[17], 1);
	vpci_func_set_intx(&dev, false);
	assert_int_equal(gsi_level[17], 0);
	assert_false(vpci_ecam_read(&bus, ecam(1, 0, PCI_STATUS), 2) & PCI_STATUS_INTERRUPT);
	/* a disabled line that the device raises and drops never reaches the GSI */
	vpci_ecam_write(&bus, ecam(1, 0, PCI_COMMAND), 2, PCI_COMMAND_INTX_DISABLE);
	unsigned calls = gsi_calls;
	vpci_func_set_intx(&dev, true);
	vpci_func_set_intx(&dev, false);
	assert_int_equal(gsi_calls, calls);
	/* STATUS.INTERRUPT cannot be written */
	vpci_ecam_write(&bus, ecam(1, 0, PCI_STATUS), 2, 0xffff);
	assert_false(vpci_ecam_read(&bus, ecam(1, 0, PCI_STATUS), 2) & PCI_STATUS_INTERRUPT);
}

static void test_intx_shared(void **state)
{
	(void)state;
	/* slots 1 and 5 pin A both swizzle onto GSI 17 */
	assert_int_equal(vpci_bus_add(&bus, &dev, 1), 1);
	assert_int_equal(vpci_bus_add(&bus, &dev2, 5), 5);
	assert_int_equal(vpci_intx_gsi(5, 1), 17);
	assert_int_equal(vpci_intx_gsi(2, 1), 18);
	assert_int_equal(vpci_intx_gsi(1, 4), 16);
	vpci_func_set_intx(&dev, true);
	vpci_func_set_intx(&dev2, true);
	vpci_func_set_intx(&dev, true); /* again: counted once */
	assert_int_equal(bus.gsi_count[1], 2);
	assert_int_equal(gsi_calls, 1);
	vpci_func_set_intx(&dev, false);
	assert_int_equal(gsi_level[17], 1); /* dev2 still holds it */
	vpci_func_set_intx(&dev, false);
	assert_int_equal(bus.gsi_count[1], 1);
	vpci_func_set_intx(&dev2, false);
	assert_int_equal(gsi_level[17], 0);
	assert_int_equal(gsi_calls, 2);
	/* a line raised before the function is plugged in reaches the GSI on plugging */
	struct vpci_func early;
	vpci_func_init(&early, "early", 1, 7, 0, 0, 0, 0, NULL, NULL);
	vpci_func_set_intx_pin(&early, 2);
	vpci_func_set_intx(&early, true);
	assert_int_equal(vpci_bus_add(&bus, &early, 3), 3);
	assert_int_equal(gsi_level[vpci_intx_gsi(3, 2)], 1);
}

static void test_reset(void **state)
{
	(void)state;
	assert_int_equal(vpci_func_add_msix(&dev, 2, 0, 0x8000, 0x48000), 0);
	assert_int_equal(vpci_bus_add(&bus, &dev, 1), 1);
	uint32_t bar0 = cfg32(1, 0x10), bar2 = cfg32(1, 0x18), cmd = cfg32(1, 4);
	vpci_ecam_write(&bus, ecam(1, 0, 0x10), 4, 0);
	vpci_ecam_write(&bus, ecam(1, 0, 0x14), 4, 0x20);
	vpci_ecam_write(&bus, ecam(1, 0, 0x18), 4, 0xe0000000);
	vpci_ecam_write(&bus, ecam(1, 0, PCI_COMMAND), 2, 0x0004);
	vpci_ecam_write(&bus, ecam(1, 0, PCI_INTERRUPT_LINE), 1, 5);
	vpci_ecam_write(&bus, ecam(1, 0, dev.msix.cap + 2), 2, 0x8000);
	vpci_func_set_intx(&dev, true);
	vpci_cf8_write(&bus, 0, 4, 0x80000800);
	vpci_bus_reset(&bus);
	assert_int_equal(cfg32(1, 0x10), bar0);
	assert_int_equal(cfg32(1, 0x18), bar2);
	assert_int_equal(cfg32(1, 4), cmd);
	assert_int_equal(dev.bars[0].addr, VPCI_MEM64_BASE);
	assert_int_equal(dev.bars[2].addr, VPCI_MEM32_BASE);
	assert_int_equal(vpci_ecam_read(&bus, ecam(1, 0, PCI_INTERRUPT_LINE), 1), 17);
	assert_int_equal(vpci_ecam_read(&bus, ecam(1, 0, dev.msix.cap + 2), 2), 1);
	assert_int_equal(gsi_level[17], 0);
	assert_int_equal(bus.gsi_count[1], 0);
	assert_int_equal(vpci_cf8_read(&bus, 0, 4), 0);
	assert_int_equal(cfg32(0, 0), 0x29c08086);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_host_bridge, setup),
		cmocka_unit_test_setup(test_cf8_latch, setup),
		cmocka_unit_test_setup(test_cf8_widths, setup),
		cmocka_unit_test_setup(test_ecam_decode, setup),
		cmocka_unit_test_setup(test_readonly_and_w1c, setup),
		cmocka_unit_test_setup(test_firmware_layout, setup),
		cmocka_unit_test_setup(test_add_rejects, setup),
		cmocka_unit_test_setup(test_bar_sizing, setup),
		cmocka_unit_test_setup(test_bar64_large, setup),
		cmocka_unit_test_setup(test_dispatch_follows_moves, setup),
		cmocka_unit_test_setup(test_config_changed, setup),
		cmocka_unit_test_setup(test_cap_list, setup),
		cmocka_unit_test_setup(test_intx, setup),
		cmocka_unit_test_setup(test_intx_shared, setup),
		cmocka_unit_test_setup(test_reset, setup),
		cmocka_unit_test(test_intx_status_hook),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
