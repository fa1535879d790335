/*
 * The driver's side of a split virtqueue (virtio 1.2 §2.7), as the host's
 * own virtio drivers (drivers/net/virtio_net.c) use it: the descriptor
 * table, the available ring the driver fills and the used ring the device
 * returns buffers on.
 *
 * Pure logic over the ring's memory (no registers, no locks: the caller
 * serialises each queue), so it runs hosted over fake device memory in the
 * unit tests.
 *
 * The device is not trusted: every used element is checked before the
 * driver acts on it. An id that is out of range, not the head of a chain
 * the driver handed over, or handed back twice is dropped and counted; a
 * length above what the chain can hold is reported as such (the buffer
 * still comes back, so it can be posted again); a used index that runs
 * ahead of everything the driver made available marks the queue broken,
 * and then nothing more is taken from it.
 */
#ifndef HV_DRIVERS_NET_VIRTIO_RING_DRV_H
#define HV_DRIVERS_NET_VIRTIO_RING_DRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VRING_MAX 256 /* the largest queue the driver uses (the device may offer more) */

#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY 1

struct vring_desc_le {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_avail_le {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[]; /* then used_event (unused: no EVENT_IDX) */
};

struct vring_used_elem_le {
	uint32_t id;
	uint32_t len;
};

struct vring_used_le {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem_le ring[]; /* then avail_event */
};

/* Where the three parts lie in one zeroed allocation (offsets in bytes, page-aligned parts). */
struct vring_layout {
	size_t desc, avail, used, total;
};
void vring_layout(uint16_t size, struct vring_layout *l);

/* One piece of a buffer: bus address, length, whether the device writes it. */
struct vring_seg {
	uint64_t addr;
	uint32_t len;
	bool device_writes;
};

enum vring_get {
	VRING_GET_OK = 0,    /* *token and *len are the buffer's */
	VRING_GET_NONE = -1, /* nothing (more) used */
	VRING_GET_BAD_LEN = -2, /* *token is valid, *len was above the chain's writable bytes (set to 0) */
	VRING_GET_BROKEN = -3,	/* the device wrote a used index ahead of what it was given */
};

struct vring_drv {
	uint16_t size; /* a power of two, at most VRING_MAX */
	volatile struct vring_desc_le *desc;
	volatile struct vring_avail_le *avail;
	volatile struct vring_used_le *used;
	uint16_t avail_idx;    /* next free slot of the available ring (published by vring_publish) */
	uint16_t published;    /* what avail->idx says */
	uint16_t last_used;    /* the next used element to look at */
	uint16_t nfree;
	uint16_t inflight;     /* chains the device holds */
	bool broken;
	uint64_t bad_ids, bad_lens;
	/* per descriptor */
	uint16_t free_ids[VRING_MAX]; /* a stack of free descriptors */
	uint16_t next_id[VRING_MAX];   /* the chain's links as the driver wrote them */
	uint16_t chain_len[VRING_MAX]; /* at a head the device holds: descriptors in its chain; else 0 */
	uint32_t wlen[VRING_MAX];      /* at a head: the chain's device-writable bytes */
	uint64_t token[VRING_MAX];     /* at a head: the caller's cookie */
};

/*
 * Sets q up over mem (vring_layout(size) bytes, zeroed, at the address the
 * device will be given). Returns false if size is not a power of two in
 * 1..VRING_MAX.
 */
bool vring_init(struct vring_drv *q, uint16_t size, void *mem);

/* Descriptors free for vring_add. */
static inline unsigned vring_free(const struct vring_drv *q)
{
	return q->nfree;
}

/*
 * Chains n segments (readable ones first, as the spec wants) and puts the
 * chain on the available ring, not yet published. token comes back from
 * vring_get. Returns the head's id, or -1 with no descriptors left (or n 0,
 * or a broken queue).
 */
int vring_add(struct vring_drv *q, const struct vring_seg *segs, unsigned n, uint64_t token);

/*
 * Makes what vring_add put on the ring visible to the device (after a
 * release fence). Returns true when the device should be notified: there
 * was something new and it did not ask to be spared notifications.
 */
bool vring_publish(struct vring_drv *q);

/*
 * Takes the next used buffer: its token and the bytes the device wrote.
 * Its descriptors are free again. Elements with a bad id are skipped and
 * counted (bad_ids). See enum vring_get.
 */
enum vring_get vring_get(struct vring_drv *q, uint64_t *token, uint32_t *len);

/* True when the device has returned something not yet taken (or the queue is broken). */
bool vring_has_used(const struct vring_drv *q);

/* Asks the device not to interrupt for this queue (a hint) or to do so again. */
void vring_set_interrupts(struct vring_drv *q, bool on);

#endif
