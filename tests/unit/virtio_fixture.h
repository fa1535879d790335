/*
 * The virtio tests' fixture, shared by test_virtqueue.c and the device
 * tests: a guest with 1 MiB of "RAM" at RAM_BASE (a heap array; everything
 * else is a hole the accessors refuse), and the driver's side of a split
 * ring laid out in it the way Linux lays it out. Include after <cmocka.h>.
 */
#ifndef TESTS_UNIT_VIRTIO_FIXTURE_H
#define TESTS_UNIT_VIRTIO_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "guest/virtio/virtqueue.h"

#define RAM_BASE 0x100000ull
#define RAM_SIZE 0x100000ull
#define RAM_END (RAM_BASE + RAM_SIZE)
/* Where the test driver puts its rings and buffers. */
#define DESC_GPA (RAM_BASE + 0x0000)
#define AVAIL_GPA (RAM_BASE + 0x1000)
#define USED_GPA (RAM_BASE + 0x2000)
#define ITABLE_GPA (RAM_BASE + 0x4000) /* indirect tables */
#define DATA_GPA (RAM_BASE + 0x10000)

static uint8_t *ram;
/* Pretend RAM reaches this far for is_ram (for length-overflow tests); reads stay real. */
static uint64_t fake_ram_end;
static unsigned mem_reads, mem_writes;

static bool in_ram(uint64_t gpa, uint64_t len)
{
	return gpa >= RAM_BASE && len <= RAM_END - gpa && gpa <= RAM_END;
}

static __attribute__((unused)) int ram_read(void *ctx, uint64_t gpa, void *dst, size_t len)
{
	(void)ctx;
	mem_reads++;
	if (!in_ram(gpa, len))
		return -1;
	memcpy(dst, ram + (gpa - RAM_BASE), len);
	return 0;
}

static __attribute__((unused)) int ram_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
	(void)ctx;
	mem_writes++;
	if (!in_ram(gpa, len))
		return -1;
	memcpy(ram + (gpa - RAM_BASE), src, len);
	return 0;
}

static __attribute__((unused)) bool ram_is_ram(void *ctx, uint64_t gpa, uint64_t len)
{
	(void)ctx;
	if (fake_ram_end)
		return gpa >= RAM_BASE && gpa <= fake_ram_end && len <= fake_ram_end - gpa;
	return in_ram(gpa, len);
}

static const struct vq_mem guest_mem = {
	.read = ram_read, .write = ram_write, .ctx = NULL, .is_ram = ram_is_ram
};

static __attribute__((unused)) void *G(uint64_t gpa)
{
	assert_true(in_ram(gpa, 1));
	return ram + (gpa - RAM_BASE);
}

static __attribute__((unused)) void ram_setup(void)
{
	if (!ram)
		ram = malloc(RAM_SIZE);
	assert_non_null(ram);
	memset(ram, 0, RAM_SIZE);
	fake_ram_end = 0;
	mem_reads = mem_writes = 0;
}

/* ---- the driver's side of one ring ---- */

struct drv {
	uint16_t size;
	uint16_t avail_idx; /* next avail slot */
	uint16_t used_seen;
	uint64_t desc, avail, used;
};

static __attribute__((unused)) void drv_init(struct drv *v, struct virtqueue *q, uint16_t size)
{
	v->size = size;
	v->avail_idx = v->used_seen = 0;
	v->desc = DESC_GPA;
	v->avail = AVAIL_GPA;
	v->used = USED_GPA;
	q->size = size;
	q->desc_gpa = v->desc;
	q->avail_gpa = v->avail;
	q->used_gpa = v->used;
}

/* Rings of a second queue, for two-queue devices. */
#define DESC2_GPA (RAM_BASE + 0x8000)
#define AVAIL2_GPA (RAM_BASE + 0x9000)
#define USED2_GPA (RAM_BASE + 0xa000)

static __attribute__((unused)) void drv_init2(struct drv *v, struct virtqueue *q, uint16_t size)
{
	drv_init(v, q, size);
	v->desc = q->desc_gpa = DESC2_GPA;
	v->avail = q->avail_gpa = AVAIL2_GPA;
	v->used = q->used_gpa = USED2_GPA;
}

static __attribute__((unused)) void put16(uint64_t gpa, uint16_t v)
{
	memcpy(G(gpa), &v, 2);
}

static __attribute__((unused)) uint16_t get16(uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, G(gpa), 2);
	return v;
}

static __attribute__((unused)) uint32_t get32(uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, G(gpa), 4);
	return v;
}

/* Descriptor i of the table at `table`. */
static __attribute__((unused)) void desc_at(uint64_t table, uint32_t i, uint64_t addr, uint32_t len,
					    uint16_t flags, uint16_t next)
{
	uint8_t *d = G(table + 16ull * i);

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static __attribute__((unused)) void desc(struct drv *v, uint16_t i, uint64_t addr, uint32_t len,
					 uint16_t flags, uint16_t next)
{
	desc_at(v->desc, i, addr, len, flags, next);
}

/* Puts head in the next avail slot and publishes it. */
static __attribute__((unused)) void avail(struct drv *v, uint16_t head)
{
	put16(v->avail + 4 + 2 * (v->avail_idx % v->size), head);
	v->avail_idx++;
	put16(v->avail + 2, v->avail_idx);
}

static __attribute__((unused)) void set_used_event(struct drv *v, uint16_t e)
{
	put16(v->avail + 4 + 2 * v->size, e);
}

static __attribute__((unused)) uint16_t avail_event(struct drv *v)
{
	return get16(v->used + 4 + 8 * v->size);
}

static __attribute__((unused)) uint16_t used_idx(struct drv *v)
{
	return get16(v->used + 2);
}

/* The next used element the driver has not seen: returns its id, *len its length. */
static __attribute__((unused)) uint32_t used_next(struct drv *v, uint32_t *len)
{
	uint64_t e = v->used + 4 + 8 * (v->used_seen % v->size);

	assert_true(v->used_seen != used_idx(v));
	v->used_seen++;
	if (len)
		*len = get32(e + 4);
	return get32(e);
}

#ifdef HV_GUEST_VIRTIO_VIRTIO_DEV_H
static unsigned queue_irqs[VIRTIO_MAX_QUEUES], config_irqs;

static __attribute__((unused)) void count_queue_irq(struct virtio_dev *d, unsigned q)
{
	(void)d;
	assert_true(q < VIRTIO_MAX_QUEUES);
	queue_irqs[q]++;
}

static __attribute__((unused)) void count_config_irq(struct virtio_dev *d)
{
	(void)d;
	config_irqs++;
}

/*
 * The driver's handshake as Linux does it (virtio 1.2 §3.1.1): ACK, DRIVER,
 * features, FEATURES_OK (checked), queues (v[i] over queue i, size qsize),
 * DRIVER_OK.
 */
static __attribute__((unused)) void dev_up(struct virtio_dev *d, uint64_t features, struct drv *v,
					   unsigned nq, uint16_t qsize)
{
	memset(queue_irqs, 0, sizeof(queue_irqs));
	config_irqs = 0;
	d->notify_queue = count_queue_irq;
	d->notify_config = count_config_irq;
	virtio_dev_set_status(d, 0);
	virtio_dev_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	virtio_dev_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	d->guest_features = features;
	virtio_dev_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					 VIRTIO_STATUS_FEATURES_OK);
	assert_true(d->status & VIRTIO_STATUS_FEATURES_OK);
	for (unsigned i = 0; i < nq; i++) {
		assert_true(qsize <= d->queue_max[i]);
		if (i == 0)
			drv_init(&v[i], &d->vq[i], qsize);
		else
			drv_init2(&v[i], &d->vq[i], qsize);
		assert_int_equal(vq_enable(&d->vq[i], &d->mem), 0);
	}
	virtio_dev_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	for (unsigned i = 0; i < nq; i++)
		assert_true(virtio_queue_ready(d, i));
}
#endif

#endif
