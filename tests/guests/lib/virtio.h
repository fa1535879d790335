/*
 * A small modern virtio-pci driver for the test guests (virtio 1.2 §4.1 the
 * PCI transport, §2.7 split virtqueues, §5.2 the block device), written the
 * way the spec orders a driver's steps, and exposed raw enough that a
 * hostile guest can break each rule on purpose.
 *
 * Finding a device: vendor 0x1af4, device 0x1040 + type (modern only), its
 * vendor capabilities (ID 9, §4.1.4): cfg_type 1 common, 2 notify (+ the
 * notify_off_multiplier), 3 ISR, 4 device configuration; the first of each
 * type is used (§4.1.4.1). The BARs they name are made to decode below
 * 4 GiB (pci_bar_map).
 *
 * Initialization (§3.1.1): reset (status 0, then wait until it reads 0),
 * ACKNOWLEDGE, DRIVER, read the device features, write the driver's,
 * FEATURES_OK and read it back, set up the queues, DRIVER_OK.
 *
 * Completions are polled (no interrupts: every queue's MSI-X vector is
 * NO_VECTOR), with a bound: a wait ends after VIRTIO_TIMEOUT_CYCLES TSC
 * cycles, or as soon as the device reports NEEDS_RESET, and says which.
 */
#ifndef GUEST_LIB_VIRTIO_H
#define GUEST_LIB_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "pci.h"

#define VIRTIO_VENDOR 0x1af4
#define VIRTIO_DEVICE_MODERN 0x1040
#define VIRTIO_TYPE_BLOCK 2
#define VIRTIO_TYPE_CONSOLE 3
#define VIRTIO_TYPE_RNG 4

/* Device status (§2.1). */
#define VIRTIO_S_ACKNOWLEDGE 1
#define VIRTIO_S_DRIVER 2
#define VIRTIO_S_DRIVER_OK 4
#define VIRTIO_S_FEATURES_OK 8
#define VIRTIO_S_NEEDS_RESET 0x40
#define VIRTIO_S_FAILED 0x80

/* Feature bits. */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_BLK_F_RO 5

/* Common configuration offsets (§4.1.4.3). */
#define VCOMMON_DFSELECT 0x00
#define VCOMMON_DF 0x04
#define VCOMMON_GFSELECT 0x08
#define VCOMMON_GF 0x0c
#define VCOMMON_MSIX 0x10
#define VCOMMON_NUMQ 0x12
#define VCOMMON_STATUS 0x14
#define VCOMMON_CFGGEN 0x15
#define VCOMMON_Q_SELECT 0x16
#define VCOMMON_Q_SIZE 0x18
#define VCOMMON_Q_MSIX 0x1a
#define VCOMMON_Q_ENABLE 0x1c
#define VCOMMON_Q_NOFF 0x1e
#define VCOMMON_Q_DESC 0x20
#define VCOMMON_Q_AVAIL 0x28
#define VCOMMON_Q_USED 0x30
#define VIRTIO_NO_VECTOR 0xffff

/* The cfg_type of a vendor capability (§4.1.4). */
#define VIRTIO_CAP_COMMON 1
#define VIRTIO_CAP_NOTIFY 2
#define VIRTIO_CAP_ISR 3
#define VIRTIO_CAP_DEVICE 4

/* Split virtqueue layout (§2.7). */
#define VRING_F_NEXT 1
#define VRING_F_WRITE 2
#define VRING_F_INDIRECT 4

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
} __attribute__((packed));

struct vring_avail {
	uint16_t flags, idx;
	uint16_t ring[]; /* then used_event */
} __attribute__((packed));

struct vring_used_elem {
	uint32_t id, len;
} __attribute__((packed));

struct vring_used {
	uint16_t flags, idx;
	struct vring_used_elem ring[]; /* then avail_event */
} __attribute__((packed));

#define VQ_GUEST_MAX 256
/* A queue's memory: the descriptor table, then the available ring at +4 KiB,
 * the used ring at +8 KiB (each aligned more than §2.7 asks). */
#define VQ_MEM_SIZE (3 * 4096)
#define VQ_AVAIL_OFF 4096
#define VQ_USED_OFF 8192

struct vdev {
	struct pci_fn pci;
	uint16_t type;
	volatile uint8_t *common, *isr, *devcfg, *notify;
	uint32_t notify_mult, notify_len, devcfg_len;
	uint64_t offered, features; /* the device's features; what was negotiated */
};

struct vq {
	struct vdev *d;
	uint16_t index, size;
	uint16_t notify_off;
	volatile struct vring_desc *desc;
	volatile struct vring_avail *avail;
	volatile struct vring_used *used;
	uint16_t avail_idx; /* the driver's next avail.idx */
	uint16_t last_used; /* used.idx the driver has seen */
	uint32_t base;	    /* guest-physical address of the queue's memory */
};

/* How long a wait for a used buffer or a reset lasts (TSC cycles). */
extern uint64_t virtio_timeout_cycles;

/*
 * The index-th modern virtio-pci function of this type: its structures
 * found and mapped (force_move: move its BARs even when already below
 * 4 GiB). False, after printing why, when there is none or it is unusable.
 */
bool virtio_find(uint16_t type, unsigned index, bool force_move, struct vdev *d);

/* Common configuration, raw. */
uint8_t vc_read8(struct vdev *d, unsigned off);
uint16_t vc_read16(struct vdev *d, unsigned off);
uint32_t vc_read32(struct vdev *d, unsigned off);
void vc_write8(struct vdev *d, unsigned off, uint8_t v);
void vc_write16(struct vdev *d, unsigned off, uint16_t v);
void vc_write32(struct vdev *d, unsigned off, uint32_t v);
void vc_write64(struct vdev *d, unsigned off, uint64_t v); /* low dword, then high */

static inline uint8_t virtio_status(struct vdev *d)
{
	return vc_read8(d, VCOMMON_STATUS);
}
static inline void virtio_set_status(struct vdev *d, uint8_t s)
{
	vc_write8(d, VCOMMON_STATUS, s);
}
/* Writes status 0 and waits (bounded) until it reads 0 (§4.1.4.3.2). */
bool virtio_reset(struct vdev *d);
/* All 64 offered feature bits. */
uint64_t virtio_device_features(struct vdev *d);
/* Writes the driver's 64 feature bits. */
void virtio_driver_features(struct vdev *d, uint64_t f);
/*
 * Reset, ACKNOWLEDGE, DRIVER, features (offered & want, VERSION_1 required),
 * FEATURES_OK read back. False (after printing why) when the device refuses.
 */
bool virtio_begin(struct vdev *d, uint64_t want);
/* Sets DRIVER_OK. */
void virtio_driver_ok(struct vdev *d);

/*
 * Queue qidx with `size` entries (0: the device's maximum, at most
 * VQ_GUEST_MAX) in mem (VQ_MEM_SIZE bytes, 4 KiB aligned): selects it,
 * checks it exists and is not enabled, writes size and addresses, no MSI-X
 * vector, reads its notify offset. Enables it when `enable`. False (after
 * printing why) on any refusal.
 */
bool vq_setup(struct vdev *d, struct vq *q, uint16_t qidx, uint16_t size, void *mem, bool enable);

/* Puts head on the available ring (avail.idx += 1) without notifying. */
void vq_publish(struct vq *q, uint16_t head);
/* Notifies the device of queue q (§4.1.5.2). */
void vq_notify(struct vq *q);

enum vq_wait_result {
	VQ_USED = 1,	   /* a used buffer came back: *id, *len */
	VQ_TIMEOUT = 0,	   /* nothing within virtio_timeout_cycles */
	VQ_NEEDS_RESET = -1, /* the device set NEEDS_RESET */
};
/* Waits for the next used buffer; consumes it. */
enum vq_wait_result vq_wait(struct vq *q, uint32_t *id, uint32_t *len);
/* "used", "timeout", "needs-reset". */
const char *vq_result_name(enum vq_wait_result r);

/* ---- virtio-blk (§5.2) ---- */
#define VBLK_T_IN 0
#define VBLK_T_OUT 1
#define VBLK_S_OK 0
#define VBLK_S_IOERR 1
#define VBLK_S_UNSUPP 2
#define VBLK_SECTOR 512u

struct vblk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
} __attribute__((packed));

/* The capacity in 512-byte sectors (device configuration offset 0, read
 * under the configuration generation, §4.1.4.3.1). */
uint64_t vblk_capacity(struct vdev *d);
/*
 * One request of three descriptors (header, data, status) at descriptors
 * 0-2: len bytes at buf (a multiple of 512) to or from `sector`. Returns
 * the wait's result; the status byte in *status (0xff when not written).
 */
enum vq_wait_result vblk_rw(struct vq *q, uint32_t type, uint64_t sector, void *buf, uint32_t len,
			    uint8_t *status);

/* FNV-1a, 32 bits: running hash h over n bytes (start with FNV1A_INIT). */
#define FNV1A_INIT 0x811c9dc5u
uint32_t fnv1a(uint32_t h, const void *p, uint32_t n);

#endif
