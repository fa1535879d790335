/*
 * A split virtqueue (virtio 1.2 §2.7), the device's side: every check of
 * IO-NOTES.md §1.3. Transport-agnostic and pure: guest memory is reached
 * only through the accessors given, which refuse anything but the VM's RAM.
 *
 * Layout in guest memory (size = queue size, a power of two <= VQ_MAX_SIZE):
 *   descriptor table  16 bytes each: u64 addr, u32 len, u16 flags, u16 next
 *   available ring    u16 flags, u16 idx, u16 ring[size], u16 used_event
 *   used ring         u16 flags, u16 idx, {u32 id, u32 len}[size], u16 avail_event
 *
 * A chain is read descriptor by descriptor into hypervisor memory, each
 * exactly once, before anything uses it: the guest changing its ring
 * meanwhile changes nothing. A chain is refused (the queue is then broken,
 * q->error says why, and nothing more is taken from it until a reset) when:
 *   - avail.idx moved more than `size` past what was taken;
 *   - a head or a next index is >= size;
 *   - the chain is longer than `size` descriptors (a loop), or an indirect
 *     table longer than its own entry count, or than VQ_MAX_SEGS;
 *   - an indirect descriptor where INDIRECT_DESC was not negotiated, one
 *     inside an indirect table (nested), with NEXT set, a length that is 0
 *     or not a multiple of 16;
 *   - a device-readable descriptor after a device-writable one;
 *   - a buffer that is not all guest RAM, or lengths whose sum overflows
 *     32 bits;
 *   - the rings themselves are not in RAM.
 * The used ring is written only at slots the device owns, with ids that
 * were popped.
 */
#ifndef HV_GUEST_VIRTIO_VIRTQUEUE_H
#define HV_GUEST_VIRTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VQ_MAX_SIZE 256
#define VQ_MAX_SEGS 130 /* buffers in one chain: virtio-blk offers seg_max 128, + header + status */

#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4
#define VRING_USED_F_NO_NOTIFY 1
#define VRING_AVAIL_F_NO_INTERRUPT 1

/* Guest RAM: each returns 0, or -1 if any byte of [gpa, gpa+len) is not RAM. */
struct vq_mem {
	int (*read)(void *ctx, uint64_t gpa, void *dst, size_t len);
	int (*write)(void *ctx, uint64_t gpa, const void *src, size_t len);
	void *ctx;
	/*
	 * Optional: whether all of [gpa, gpa+len) is RAM, without copying it
	 * (vq_pop checks every buffer of a chain). NULL: vq_pop reads the
	 * buffer through `read` instead, which costs a copy of it.
	 */
	bool (*is_ram)(void *ctx, uint64_t gpa, uint64_t len);
	/* Optional: passed on to block devices (blk_guest_mem.dma_addr). */
	uint64_t (*dma_addr)(void *ctx, uint64_t gpa, uint64_t len);
};

struct vq_seg {
	uint64_t gpa;
	uint32_t len;
};

/* One chain, as popped: the device-readable buffers, then the device-writable ones. */
struct vq_elem {
	uint16_t head;
	uint16_t nout, nin; /* seg[0..nout) readable, seg[nout..nout+nin) writable */
	uint32_t out_len, in_len; /* their total bytes */
	struct vq_seg seg[VQ_MAX_SEGS];
};

struct virtqueue {
	/* set by the driver through the transport */
	uint16_t size;
	bool enabled;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* negotiated features */
	bool event_idx, indirect;
	/* the device's progress */
	uint16_t last_avail; /* next avail.ring slot to take */
	uint16_t used_idx;   /* next used.ring slot to fill */
	uint16_t signalled_used; /* used_idx when the driver was last interrupted */
	bool signalled_valid;
	uint16_t in_flight;  /* popped, not yet pushed */
	uint32_t in_flight_map[VQ_MAX_SIZE / 32]; /* which heads those are */
	const char *error;   /* non-NULL: broken (why), until vq_reset */
	uint64_t pops, pushes, interrupts, interrupts_suppressed;
};

/* Forgets everything (device reset, or the queue disabled). */
void vq_reset(struct virtqueue *q);
/*
 * Checks the driver's setup when it enables the queue: size a power of two
 * <= VQ_MAX_SIZE, the three areas aligned (16, 2, 4) and in RAM. Returns 0,
 * or -1 with q->error set.
 */
int vq_enable(struct virtqueue *q, const struct vq_mem *m);
/*
 * Takes the next available chain into *e. Returns 1 (taken), 0 (nothing
 * available) or -1 (the queue is broken: q->error).
 */
int vq_pop(struct virtqueue *q, const struct vq_mem *m, struct vq_elem *e);
/* Returns a chain to the driver with `written` bytes written into its buffers. 0, or -1 (broken). */
int vq_push(struct virtqueue *q, const struct vq_mem *m, uint16_t head, uint32_t written);
/*
 * After pushes: whether the driver wants an interrupt now (EVENT_IDX's
 * used_event, else the NO_INTERRUPT flag), and if so records that it got one.
 */
bool vq_should_interrupt(struct virtqueue *q, const struct vq_mem *m);
/*
 * Asks for notifications (enable) or asks the driver not to send them
 * (while the device drains the ring). With EVENT_IDX it writes avail_event
 * = last_avail; on enable it then re-reads avail.idx behind a full fence
 * and returns true when chains arrived meanwhile (the caller drains again
 * instead of waiting for a kick that will not come).
 */
bool vq_set_notification(struct virtqueue *q, const struct vq_mem *m, bool enable);

/*
 * The readable part of a chain as one byte stream: copies len bytes at
 * offset `off` into dst. 0, or -1 (past the end, or not RAM).
 */
int vq_elem_read(const struct vq_elem *e, const struct vq_mem *m, uint32_t off, void *dst,
		 uint32_t len);
/* The same for the writable part. */
int vq_elem_write(const struct vq_elem *e, const struct vq_mem *m, uint32_t off, const void *src,
		  uint32_t len);

#endif
