/*
 * virtio-blk (virtio 1.2 §5.2), device type 2, over a host block device
 * (kernel/blk/blkdev.h). One request queue; requests go to the disk
 * asynchronously, several at a time, one slot each, and complete in any
 * order. The transport drives `dev` (struct virtio_dev) like any device.
 *
 * Offered: VERSION_1, INDIRECT_DESC, EVENT_IDX, SEG_MAX, BLK_SIZE, and as
 * the disk allows FLUSH (volatile cache), RO, DISCARD, WRITE_ZEROES.
 * A chain without a readable 16-byte header or a writable status byte
 * breaks the device (NEEDS_RESET); a well-formed request the device cannot
 * do gets UNSUPP, a bad range or length IOERR.
 *
 * Size: VBLK_QUEUE_SIZE slots of VBLK_SEG_MAX segments, about 280 KiB per
 * disk; allocate it, do not put it on a stack.
 */
#ifndef HV_GUEST_VIRTIO_VIRTIO_BLK_H
#define HV_GUEST_VIRTIO_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "guest/virtio/virtio_dev.h"
#include "kernel/blk/blkdev.h"

/* Feature bits (virtio 1.2 §5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_GEOMETRY 4
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_TOPOLOGY 10
#define VIRTIO_BLK_F_CONFIG_WCE 11
#define VIRTIO_BLK_F_MQ 12
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and status (§5.2.6). */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_WZ_F_UNMAP 1 /* discard/write-zeroes segment flags */
#define VIRTIO_BLK_ID_BYTES 20

/* Configuration layout (§5.2.4): byte offsets of the fields used. */
#define VIRTIO_BLK_CFG_CAPACITY 0
#define VIRTIO_BLK_CFG_SIZE_MAX 8
#define VIRTIO_BLK_CFG_SEG_MAX 12
#define VIRTIO_BLK_CFG_GEOMETRY 16
#define VIRTIO_BLK_CFG_BLK_SIZE 20
#define VIRTIO_BLK_CFG_TOPOLOGY 24
#define VIRTIO_BLK_CFG_WRITEBACK 32
#define VIRTIO_BLK_CFG_NUM_QUEUES 34
#define VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS 36
#define VIRTIO_BLK_CFG_MAX_DISCARD_SEG 40
#define VIRTIO_BLK_CFG_DISCARD_ALIGNMENT 44
#define VIRTIO_BLK_CFG_MAX_WZ_SECTORS 48
#define VIRTIO_BLK_CFG_MAX_WZ_SEG 52
#define VIRTIO_BLK_CFG_WZ_MAY_UNMAP 56
#define VIRTIO_BLK_CFG_SIZE 60 /* through unused1[3]; secure erase and zoned not offered */

#define VBLK_QUEUE_SIZE 128
#define VBLK_SEG_MAX 128 /* data segments per request (config seg_max) */
/* Per request: discard / write-zeroes ranges are split by the guest to this (32 MiB),
 * so one request never holds the disk for long. */
#define VBLK_MAX_DISCARD_SECTORS 65536u

struct virtio_blk;

struct vblk_slot {
	struct virtio_blk *vb;
	struct blk_request req;
	uint64_t status_gpa; /* the chain's last writable byte */
	uint32_t used_len;
	uint32_t gen; /* the device's reset generation it was taken in */
	uint16_t head;
	uint8_t type;
	bool busy;
	struct vblk_slot *next_free;
	struct blk_seg segs[VBLK_SEG_MAX];
};

struct vblk_lock_ops {
	void (*lock)(void *ctx);
	void (*unlock)(void *ctx);
	bool (*held)(void *ctx);
};

struct virtio_blk_stats {
	uint64_t requests, reads, writes, flushes, discards, write_zeroes, get_ids;
	uint64_t bytes_read, bytes_written;
	uint64_t errors;      /* completed with IOERR */
	uint64_t unsupported; /* completed with UNSUPP */
};

struct virtio_blk {
	struct virtio_dev dev; /* first: the transport's handle */
	struct blkdev *disk;
	char serial[VIRTIO_BLK_ID_BYTES];
	struct blk_guest_mem gmem; /* dev.mem, as the disk takes it */
	uint8_t cfg[VIRTIO_BLK_CFG_SIZE];
	uint32_t gen;
	unsigned busy;	  /* slots the disk still holds (this generation or older) */
	bool draining;	  /* inside the ring-draining loop */
	bool drain_again; /* asked to drain while draining */
	bool stalled;	  /* stopped draining for want of a slot */
	bool push_pending; /* used entries published, no interrupt decided yet */
	struct vblk_slot *free;
	/*
	 * Poll mode (the host turns it on when it can poll: vm_virtio.c): after
	 * a kick's drain, kicks stay off and the host calls virtio_blk_poll()
	 * on its next exits, so requests the driver adds meanwhile cost no kick.
	 */
	bool poll_mode;
	bool polling;	  /* kicks are off: the host must poll */
	uint64_t polls, polled; /* polls, and the requests they found */
	uint64_t drained;	/* requests taken off the ring, all told */
	struct virtio_blk_stats stats;
	/*
	 * Set by the host when its disk completes requests later, from deferred
	 * work (blkdev.h): such a completion takes the device's lock first
	 * unless `held` says this context holds it already (a completion from
	 * inside submit). NULL: every completion comes with the lock held.
	 */
	const struct vblk_lock_ops *lock_ops;
	void *lock_ctx;
	struct vq_elem elem; /* the chain being parsed */
	struct vblk_slot slot[VBLK_QUEUE_SIZE];
};

/*
 * Sets vb up as a virtio-blk device over `disk` (which must outlive it) in
 * the VM whose RAM `mem` reaches. `serial` (GET_ID, at most 20 bytes used)
 * may be NULL: the disk name's last 20 characters then. The transport sets
 * vb->dev.notify_queue / notify_config / transport and drives &vb->dev.
 */
void virtio_blk_init(struct virtio_blk *vb, struct blkdev *disk, const char *serial,
		     const struct vq_mem *mem);
/*
 * Requests the disk still holds, including ones from before the last
 * reset: a transport may keep reading status as non-zero after a reset
 * until this is 0 (virtio 1.2 §4.1.4.3.2 lets the device finish the reset
 * late), so no old request writes guest RAM after the driver thinks it is
 * reset.
 */
unsigned virtio_blk_in_flight(const struct virtio_blk *vb);
/*
 * Poll mode: serves what the driver added since the last look. Returns how
 * many requests it found. With none found and `may_rearm`, kicks are turned
 * back on (and the ring looked at once more: a request that raced the
 * re-arm is served, and polling goes on). vb->polling says whether the host
 * must keep polling.
 */
unsigned virtio_blk_poll(struct virtio_blk *vb, bool may_rearm);

#endif
