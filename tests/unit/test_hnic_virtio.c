// SOURCES: drivers/net/virtio_ring_drv.c drivers/net/virtio_pci_caps.c kernel/pci/pci_cfg.c
/*
 * The host virtio-net driver's split virtqueue (drivers/net/virtio_ring_drv.c)
 * over fake device memory, with the test playing the device: buffers go
 * round and come back with their tokens, the ring fills at its size and
 * wraps, chains free all their descriptors, notifications and interrupts
 * are suppressed as asked, and a misbehaving device (ids out of range or
 * returned twice, lengths beyond the buffer, a used index running ahead)
 * is counted or stops the queue without the driver touching anything it
 * did not hand over. And the modern device's register blocks are found in
 * a fake configuration space, with bad capabilities skipped and loops ended.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/net/virtio_pci_caps.h"
#include "drivers/net/virtio_ring_drv.h"

struct fake {
	struct vring_drv q;
	void *mem;
	uint16_t dev_avail; /* the device's next available entry */
	uint16_t dev_used;  /* the device's used index */
};

static struct fake *fake_new(uint16_t size)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct vring_layout l;
	vring_layout(size, &l);
	f->mem = aligned_alloc(4096, l.total);
	memset(f->mem, 0, l.total);
	assert_true(vring_init(&f->q, size, f->mem));
	return f;
}

static void fake_free(struct fake *f)
{
	free(f->mem);
	free(f);
}

/* The device takes the next available chain: its head, -1 if none published. */
static int dev_pop(struct fake *f)
{
	if (f->dev_avail == f->q.avail->idx)
		return -1;
	return f->q.avail->ring[f->dev_avail++ & (f->q.size - 1)];
}

static void dev_push(struct fake *f, uint32_t id, uint32_t len)
{
	f->q.used->ring[f->dev_used & (f->q.size - 1)].id = id;
	f->q.used->ring[f->dev_used & (f->q.size - 1)].len = len;
	f->dev_used++;
	f->q.used->idx = f->dev_used;
}

static int add1(struct fake *f, uint64_t addr, uint32_t len, bool wr, uint64_t token)
{
	struct vring_seg s = {addr, len, wr};
	return vring_add(&f->q, &s, 1, token);
}

static void test_layout_and_sizes(void **state)
{
	(void)state;
	struct vring_layout l;
	vring_layout(256, &l);
	assert_int_equal(l.desc, 0);
	assert_int_equal(l.avail, 4096); /* 256 * 16 bytes */
	assert_int_equal(l.used, 8192);
	assert_int_equal(l.total, 12288);
	assert_true(l.avail % 16 == 0 && l.used % 4 == 0);

	struct vring_drv q;
	static uint8_t mem[3 * 4096] __attribute__((aligned(4096)));
	assert_false(vring_init(&q, 0, mem));
	assert_false(vring_init(&q, 100, mem));
	assert_false(vring_init(&q, 512, mem));
	assert_true(vring_init(&q, 1, mem));
	assert_true(vring_init(&q, 256, mem));
	assert_int_equal(vring_free(&q), 256);
}

static void test_round_trip(void **state)
{
	(void)state;
	struct fake *f = fake_new(8);
	int id = add1(f, 0x10000, 2048, true, 77);
	assert_true(id >= 0 && id < 8);
	/* not visible before publishing */
	assert_int_equal(dev_pop(f), -1);
	assert_true(vring_publish(&f->q));
	assert_false(vring_publish(&f->q)); /* nothing new: no notify */
	assert_int_equal(dev_pop(f), id);
	const volatile struct vring_desc_le *d = &f->q.desc[id];
	assert_int_equal(d->addr, 0x10000);
	assert_int_equal(d->len, 2048);
	assert_int_equal(d->flags, VRING_DESC_F_WRITE);

	uint64_t tok;
	uint32_t len;
	assert_false(vring_has_used(&f->q));
	assert_int_equal(vring_get(&f->q, &tok, &len), VRING_GET_NONE);
	dev_push(f, (uint32_t)id, 60);
	assert_true(vring_has_used(&f->q));
	assert_int_equal(vring_get(&f->q, &tok, &len), VRING_GET_OK);
	assert_int_equal(tok, 77);
	assert_int_equal(len, 60);
	assert_int_equal(vring_free(&f->q), 8);
	assert_int_equal(f->q.inflight, 0);
	fake_free(f);
}

static void test_fill_and_wrap(void **state)
{
	(void)state;
	struct fake *f = fake_new(4);
	uint64_t tok;
	uint32_t len;
	uint64_t next_token = 0, expect = 0;
	int held[4];
	unsigned nheld = 0;

	for (unsigned round = 0; round < 50; round++) {
		/* refill whatever is free: the ring is full after */
		while (add1(f, 0x1000 * next_token, 100, false, next_token) >= 0)
			next_token++;
		assert_int_equal(vring_free(&f->q), 0);
		assert_int_equal(add1(f, 0, 1, false, 0), -1);
		vring_publish(&f->q);
		int id;
		while ((id = dev_pop(f)) >= 0)
			held[nheld++] = id;
		assert_int_equal(nheld, 4);
		/* the device completes 1, 2 or 3 of them, in order, and keeps the rest */
		unsigned k = round % 3 + 1;
		for (unsigned i = 0; i < k; i++) {
			assert_int_equal(f->q.desc[held[i]].addr, 0x1000 * (expect + i));
			dev_push(f, (uint32_t)held[i], 0);
		}
		memmove(held, held + k, (nheld - k) * sizeof(held[0]));
		nheld -= k;
		for (unsigned i = 0; i < k; i++) {
			assert_int_equal(vring_get(&f->q, &tok, &len), VRING_GET_OK);
			assert_int_equal(tok, expect++);
		}
		assert_int_equal(vring_get(&f->q, &tok, &len), VRING_GET_NONE);
		assert_int_equal(vring_free(&f->q), k);
	}
	/* 16-bit indexes went round the 4-entry ring many times with no confusion */
	assert_true(expect > 90);
	assert_int_equal(f->q.bad_ids + f->q.bad_lens, 0);
	fake_free(f);
}

static void test_chain(void **state)
{
	(void)state;
	struct fake *f = fake_new(8);
	struct vring_seg segs[3] = {{0x1000, 2, false}, {0x2000, 1, false}, {0x3000, 1, true}};
	int head = vring_add(&f->q, segs, 3, 5);
	assert_true(head >= 0);
	assert_int_equal(vring_free(&f->q), 5);
	vring_publish(&f->q);
	assert_int_equal(dev_pop(f), head);
	/* the device follows the chain: readable parts first, the writable one last */
	uint16_t id = (uint16_t)head;
	uint32_t flags[3];
	uint64_t addrs[3];
	for (int i = 0; i < 3; i++) {
		flags[i] = f->q.desc[id].flags;
		addrs[i] = f->q.desc[id].addr;
		id = f->q.desc[id].next;
	}
	assert_int_equal(flags[0], VRING_DESC_F_NEXT);
	assert_int_equal(flags[1], VRING_DESC_F_NEXT);
	assert_int_equal(flags[2], VRING_DESC_F_WRITE);
	assert_int_equal(addrs[0], 0x1000);
	assert_int_equal(addrs[2], 0x3000);
	/* a device that scribbles over the chain's links cannot confuse the free list */
	f->q.desc[head].next = (uint16_t)head;
	dev_push(f, (uint32_t)head, 1);
	uint64_t tok;
	uint32_t len;
	assert_int_equal(vring_get(&f->q, &tok, &len), VRING_GET_OK);
	assert_int_equal(tok, 5);
	assert_int_equal(len, 1);
	assert_int_equal(vring_free(&f->q), 8);
	/* every descriptor can be handed out once more, each exactly once */
	bool seen[8] = {0};
	for (int i = 0; i < 8; i++) {
		int h = add1(f, 0, 1, false, 0);
		assert_true(h >= 0 && h < 8 && !seen[h]);
		seen[h] = true;
	}
	/* more segments than free descriptors, or none */
	assert_int_equal(vring_add(&f->q, segs, 0, 0), -1);
	fake_free(f);
}

static void test_notify_and_interrupt_hints(void **state)
{
	(void)state;
	struct fake *f = fake_new(8);
	f->q.used->flags = VRING_USED_F_NO_NOTIFY;
	add1(f, 0, 1, false, 0);
	assert_false(vring_publish(&f->q)); /* published, but the device asked for no kick */
	assert_int_equal(f->q.avail->idx, 1);
	f->q.used->flags = 0;
	add1(f, 0, 1, false, 0);
	assert_true(vring_publish(&f->q));
	vring_set_interrupts(&f->q, false);
	assert_int_equal(f->q.avail->flags, VRING_AVAIL_F_NO_INTERRUPT);
	vring_set_interrupts(&f->q, true);
	assert_int_equal(f->q.avail->flags, 0);
	fake_free(f);
}

static void test_bad_ids_are_skipped(void **state)
{
	(void)state;
	struct fake *f = fake_new(8);
	int a = add1(f, 0xa000, 100, true, 1);
	int b = add1(f, 0xb000, 100, true, 2);
	vring_publish(&f->q);
	dev_pop(f);
	dev_pop(f);
	uint64_t tok;
	uint32_t len;
	dev_push(f, 1000, 10);	      /* out of range */
	dev_push(f, (uint32_t)a, 10); /* fine */
	assert_int_equal(vring_get(&f->q, &tok, &len), VRING_GET_OK);
	assert_int_equal(tok, 1);
	assert_int_equal(f->q.bad_ids, 1);
	dev_push(f, (uint32_t)a, 10); /* the same buffer again */
	assert_int_equal(vring_get(&f->q, &tok, &len), VRING_GET_NONE);
	assert_int_equal(f->q.bad_ids, 2);
	/* a descriptor that is no chain's head in flight: never handed over */
	int never = (b == 0) ? 1 : 0;
	if (never == a)
		never = 2;
	dev_push(f, (uint32_t)never, 10);
	assert_int_equal(vring_get(&f->q, &tok, &len), VRING_GET_NONE);
	assert_int_equal(f->q.bad_ids, 3);
	assert_false(f->q.broken);
	assert_int_equal(vring_free(&f->q), 7); /* b is still the device's */
	/* more returned at once than the device holds: broken */
	dev_push(f, (uint32_t)b, 10);
	dev_push(f, (uint32_t)b, 10);
	assert_int_equal(vring_get(&f->q, &tok, &len), VRING_GET_BROKEN);
	fake_free(f);
}

static void test_bad_len_returns_the_buffer(void **state)
{
	(void)state;
	struct fake *f = fake_new(8);
	int a = add1(f, 0xa000, 2048, true, 9);
	vring_publish(&f->q);
	dev_pop(f);
	dev_push(f, (uint32_t)a, 4096);
	uint64_t tok;
	uint32_t len = 123;
	assert_int_equal(vring_get(&f->q, &tok, &len), VRING_GET_BAD_LEN);
	assert_int_equal(tok, 9);
	assert_int_equal(len, 0);
	assert_int_equal(f->q.bad_lens, 1);
	assert_int_equal(vring_free(&f->q), 8);
	/* a TX buffer (device reads it) has no writable bytes: any written length is bad */
	int t = add1(f, 0xc000, 60, false, 3);
	vring_publish(&f->q);
	dev_pop(f);
	dev_push(f, (uint32_t)t, 1);
	assert_int_equal(vring_get(&f->q, &tok, &len), VRING_GET_BAD_LEN);
	dev_push(f, (uint32_t)t, 0); /* ... and returning it again is a bad id */
	assert_int_equal(vring_get(&f->q, &tok, &len), VRING_GET_BROKEN);
	fake_free(f);
}

static void test_used_index_running_ahead_breaks_the_queue(void **state)
{
	(void)state;
	struct fake *f = fake_new(8);
	add1(f, 0xa000, 100, true, 1);
	vring_publish(&f->q);
	f->q.used->idx = 5; /* five returned, one given */
	uint64_t tok;
	uint32_t len;
	assert_int_equal(vring_get(&f->q, &tok, &len), VRING_GET_BROKEN);
	assert_true(f->q.broken);
	assert_true(vring_has_used(&f->q));
	/* and it stays so: nothing more is added or taken */
	assert_int_equal(add1(f, 0, 1, false, 0), -1);
	f->q.used->idx = 0;
	assert_int_equal(vring_get(&f->q, &tok, &len), VRING_GET_BROKEN);
	fake_free(f);
}

static void test_rx_refill_many_rounds(void **state)
{
	(void)state;
	/* the RX pattern: 256 buffers posted once, each reposted as it comes back */
	struct fake *f = fake_new(256);
	for (uint64_t i = 0; i < 256; i++)
		assert_true(add1(f, 0x100000 + i * 2048, 2048, true, i) >= 0);
	vring_publish(&f->q);
	uint64_t tok;
	uint32_t len;
	unsigned seen = 0;
	for (unsigned n = 0; n < 256 * 300; n++) {
		int id = dev_pop(f);
		assert_true(id >= 0);
		dev_push(f, (uint32_t)id, 42 + (n % 1000));
		assert_int_equal(vring_get(&f->q, &tok, &len), VRING_GET_OK);
		assert_int_equal(len, 42 + (n % 1000));
		assert_int_equal(tok, n % 256); /* buffers come back in the order they went */
		assert_true(add1(f, 0x100000 + tok * 2048, 2048, true, tok) >= 0);
		vring_publish(&f->q);
		seen++;
	}
	assert_int_equal(seen, 256 * 300);
	assert_int_equal(f->q.inflight, 256);
	fake_free(f);
}

/* ---- the modern device's capabilities ---- */

static uint8_t cfgspace[256];

static uint32_t cfg_read32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	(void)ctx, (void)bus, (void)dev, (void)fn;
	uint32_t v;
	memcpy(&v, cfgspace + off, 4);
	return v;
}

static void cfg_write32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v)
{
	(void)ctx, (void)bus, (void)dev, (void)fn;
	memcpy(cfgspace + off, &v, 4);
}

static const struct pci_cfg fake_cfg = {
    .read32 = cfg_read32, .write32 = cfg_write32, .max_offset = 0x100, .bus_end = 0};

static void vcap(uint8_t off, uint8_t next, uint8_t type, uint8_t bar, uint32_t offset, uint32_t len,
		 uint8_t caplen)
{
	cfgspace[off] = PCI_CAP_ID_VNDR;
	cfgspace[off + 1] = next;
	cfgspace[off + 2] = caplen;
	cfgspace[off + 3] = type;
	cfgspace[off + 4] = bar;
	memcpy(cfgspace + off + 8, &offset, 4);
	memcpy(cfgspace + off + 12, &len, 4);
}

/* QEMU's layout: MSI-X, then common, ISR, device, notify and PCI-config windows into BAR4. */
static struct pci_dev qemu_like(void)
{
	memset(cfgspace, 0, sizeof(cfgspace));
	cfgspace[PCI_STATUS] = PCI_STATUS_CAP_LIST;
	cfgspace[PCI_CAP_PTR] = 0x98;
	cfgspace[0x98] = PCI_CAP_ID_MSIX;
	cfgspace[0x99] = 0x88;
	vcap(0x88, 0x78, VIRTIO_PCI_CAP_COMMON, 4, 0x0000, 0x1000, 16);
	vcap(0x78, 0x68, VIRTIO_PCI_CAP_ISR, 4, 0x1000, 0x1000, 16);
	vcap(0x68, 0x54, VIRTIO_PCI_CAP_DEVICE, 4, 0x2000, 0x1000, 16);
	vcap(0x54, 0x40, VIRTIO_PCI_CAP_NOTIFY, 4, 0x3000, 0x1000, 20);
	uint32_t mult = 4;
	memcpy(cfgspace + 0x54 + 16, &mult, 4);
	vcap(0x40, 0x00, 5 /* PCI config access */, 0, 0, 0, 20);
	struct pci_dev d = {.cfg = &fake_cfg};
	d.bar[1] = (struct pci_bar){.base = 0xfebd0000, .size = 0x1000};
	d.bar[4] = (struct pci_bar){.base = 0xfe000000, .size = 0x4000, .is64 = true, .prefetch = true};
	return d;
}

static void test_caps_qemu_layout(void **state)
{
	(void)state;
	struct pci_dev d = qemu_like();
	struct virtio_pci_caps c;
	const char *why;
	assert_true(virtio_pci_find_caps(&d, &c, &why));
	assert_null(why);
	assert_true(c.common.present && c.common.bar == 4 && c.common.offset == 0 &&
		    c.common.length == 0x1000);
	assert_true(c.isr.present && c.isr.offset == 0x1000);
	assert_true(c.device.present && c.device.offset == 0x2000);
	assert_true(c.notify.present && c.notify.offset == 0x3000);
	assert_int_equal(c.notify_off_multiplier, 4);
}

static void test_caps_bad_ones_skipped(void **state)
{
	(void)state;
	struct pci_dev d = qemu_like();
	struct virtio_pci_caps c;
	const char *why;
	/* a second common block is an alternative: the first stays */
	vcap(0x40, 0x00, VIRTIO_PCI_CAP_COMMON, 1, 0, 0x100, 16);
	assert_true(virtio_pci_find_caps(&d, &c, &why));
	assert_int_equal(c.common.bar, 4);

	/* the common block reaching past its BAR, or in an I/O BAR, or in BAR 7: not taken */
	d = qemu_like();
	vcap(0x88, 0x78, VIRTIO_PCI_CAP_COMMON, 4, 0x3800, 0x1000, 16);
	assert_false(virtio_pci_find_caps(&d, &c, &why));
	assert_string_equal(why, "no virtio 1.x common configuration capability");
	d = qemu_like();
	d.bar[4].io = true;
	assert_false(virtio_pci_find_caps(&d, &c, &why));
	d = qemu_like();
	vcap(0x88, 0x78, VIRTIO_PCI_CAP_COMMON, 7, 0, 0x100, 16);
	assert_false(virtio_pci_find_caps(&d, &c, &why));

	/* a common block too short for the queue registers */
	d = qemu_like();
	vcap(0x88, 0x78, VIRTIO_PCI_CAP_COMMON, 4, 0, 0x20, 16);
	assert_false(virtio_pci_find_caps(&d, &c, &why));
	assert_string_equal(why, "virtio common configuration block too short");

	/* a notify capability too short to hold its multiplier */
	d = qemu_like();
	vcap(0x54, 0x40, VIRTIO_PCI_CAP_NOTIFY, 4, 0x3000, 0x1000, 16);
	assert_false(virtio_pci_find_caps(&d, &c, &why));
	assert_string_equal(why, "no virtio 1.x notification capability");
}

static void test_caps_legacy_and_loops(void **state)
{
	(void)state;
	struct pci_dev d = qemu_like();
	struct virtio_pci_caps c;
	const char *why;
	/* legacy-only: MSI-X and nothing else */
	cfgspace[0x99] = 0;
	assert_false(virtio_pci_find_caps(&d, &c, &why));
	assert_string_equal(why, "no virtio 1.x common configuration capability");
	/* no list at all */
	cfgspace[PCI_STATUS] = 0;
	assert_false(virtio_pci_find_caps(&d, &c, &why));
	assert_string_equal(why, "no capability list");
	/* a list that loops ends, with what it found before */
	d = qemu_like();
	cfgspace[0x41] = 0x88; /* the last points back to the common one */
	assert_true(virtio_pci_find_caps(&d, &c, &why));
	/* a device-configuration block missing */
	d = qemu_like();
	cfgspace[0x68 + 3] = 0x7f;
	assert_false(virtio_pci_find_caps(&d, &c, &why));
	assert_string_equal(why, "no virtio 1.x device configuration capability");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_and_sizes),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_fill_and_wrap),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_notify_and_interrupt_hints),
		cmocka_unit_test(test_bad_ids_are_skipped),
		cmocka_unit_test(test_bad_len_returns_the_buffer),
		cmocka_unit_test(test_used_index_running_ahead_breaks_the_queue),
		cmocka_unit_test(test_rx_refill_many_rounds),
		cmocka_unit_test(test_caps_qemu_layout),
		cmocka_unit_test(test_caps_bad_ones_skipped),
		cmocka_unit_test(test_caps_legacy_and_loops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
