/*
 * Host block devices as VMs' disks see them: a RAM disk from a boot module
 * today, NVMe and AHCI partitions later. A front end (virtio-blk) turns a
 * guest's request into a `struct blk_request` and submits it; the device
 * completes it, at once or later (an interrupt's deferred work), by calling
 * its `done`. The data moves straight between the device and guest RAM
 * through the request's guest-memory accessors, never through a bounce
 * buffer the front end owns. Pure interface: no kernel dependencies, so the
 * front ends and their tests compile hosted.
 *
 * Sectors are 512 bytes whatever the medium's block size (virtio-blk's
 * unit); a device whose logical block is larger says so in block_size and
 * refuses requests not aligned to it.
 */
#ifndef HV_KERNEL_BLK_BLKDEV_H
#define HV_KERNEL_BLK_BLKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLK_SECTOR_SIZE 512u
#define BLK_NAME_LEN 32

enum blk_op {
	BLK_OP_READ,
	BLK_OP_WRITE,
	BLK_OP_FLUSH,
	BLK_OP_DISCARD,
	BLK_OP_WRITE_ZEROES,
};

enum blk_status {
	BLK_OK = 0,
	BLK_EIO = -1,	  /* the medium failed, or guest memory could not be reached */
	BLK_ERANGE = -2,  /* past the end of the device */
	BLK_EROFS = -3,	  /* a write to a read-only device */
	BLK_ENOTSUP = -4, /* an operation the device does not do */
};

/* Guest RAM as the request's buffers live in it: 0, or -1 when not RAM. */
struct blk_guest_mem {
	int (*read)(void *ctx, uint64_t gpa, void *dst, size_t len);
	int (*write)(void *ctx, uint64_t gpa, const void *src, size_t len);
	/*
	 * Optional (NULL: a DMA device bounces through read/write): the host
	 * physical address of [gpa, gpa + len) when that range is RAM in one
	 * host-contiguous run a device may DMA to, else 0. A device calls it
	 * per page (len <= 4096 within one page), so a VM's 2 MiB chunks need
	 * not be contiguous with each other. The memory stays the VM's until
	 * the request's done: a VM is not freed while its disks hold requests.
	 */
	uint64_t (*dma_addr)(void *ctx, uint64_t gpa, uint64_t len);
	void *ctx;
};

struct blk_seg {
	uint64_t gpa;
	uint32_t len;
};

struct blk_request {
	enum blk_op op;
	uint64_t sector;   /* first 512-byte sector */
	uint64_t nsectors; /* for READ/WRITE: the segments' total / 512 */
	const struct blk_seg *segs; /* READ/WRITE data, in order */
	unsigned nseg;
	const struct blk_guest_mem *mem;
	/* called once, with a blk_status, when the request is complete */
	void (*done)(struct blk_request *r, int status);
	void *ctx; /* the submitter's */
};

struct blkdev;

struct blkdev_ops {
	/*
	 * Starts r; r->done is called exactly once, either before submit
	 * returns (in the submitter's context: a refused request, a RAM disk)
	 * or later from deferred work (kernel/cpu/deferred.h) holding no lock,
	 * never from inside another request's submit. The request and its
	 * segments stay the submitter's and must live until then. A layer
	 * below (a partition) may rewrite r->sector on the way down.
	 */
	void (*submit)(struct blkdev *d, struct blk_request *r);
};

struct blkdev_stats {
	uint64_t reads, writes, flushes, discards, errors;
	uint64_t bytes_read, bytes_written;
};

struct blkdev {
	char name[BLK_NAME_LEN]; /* "ram:/boot/vms/root.img" */
	uint64_t sectors;	 /* capacity in 512-byte sectors */
	uint32_t block_size;	 /* logical block: 512 or 4096 */
	bool read_only;
	bool volatile_cache; /* writes may sit in a cache until FLUSH */
	bool can_discard, can_write_zeroes;
	const struct blkdev_ops *ops;
	void *priv;
	struct blkdev_stats stats; /* kept by the device */
};

/*
 * Checks r against d (range with overflow, read-only, alignment, the
 * operation supported) before a device starts it: BLK_OK or the error to
 * complete it with. Every device calls it first.
 */
int blk_request_check(const struct blkdev *d, const struct blk_request *r);

#endif
