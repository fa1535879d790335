/*
 * The NVMe driver's pure logic, hosted-testable: submission-queue tail and
 * fullness, completion-queue head and phase, command identifiers, and the
 * PRP description of a transfer (NVMe 1.4 §4.3): which bytes of a request
 * one command can carry straight from their host pages, and the PRP1 / PRP2
 * / PRP-list entries that say so.
 *
 * The PRP rules: the first entry may start anywhere in a page (dword
 * aligned); every later entry is a whole page's start; so a piece of memory
 * other than the first must begin on a page boundary, and every piece but
 * the last must end on one. Two entries fit in the command; more go to PRP
 * lists of 512 entries per page, the last entry of a full page pointing to
 * the next page. What breaks the rules is carried by a later command (the
 * part that fits goes first) or, when not even one block fits, through the
 * driver's bounce buffer.
 */
#ifndef HV_DRIVERS_NVME_NVME_QUEUE_H
#define HV_DRIVERS_NVME_NVME_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/nvme/nvme_regs.h"
#include "kernel/blk/blkdev.h"

/* The host memory page the driver programs (CC.MPS = 0). */
#define NVME_PAGE_SHIFT 12
#define NVME_PAGE_SIZE (1u << NVME_PAGE_SHIFT)
#define NVME_PRP_PER_PAGE (NVME_PAGE_SIZE / 8)

/* ---- submission queue: the driver is the producer ---- */
struct nvme_sq {
	uint16_t size; /* entries; holds size - 1 commands */
	uint16_t tail; /* next slot the driver fills */
	uint16_t head; /* the controller's head as its last completion said */
};

void nvme_sq_init(struct nvme_sq *q, uint16_t size);
bool nvme_sq_full(const struct nvme_sq *q);
/* Commands handed over that the controller has not fetched (as far as known). */
unsigned nvme_sq_used(const struct nvme_sq *q);
/* Takes the slot at the tail and moves the tail on: the slot, or -1 when full. */
int nvme_sq_push(struct nvme_sq *q);
/*
 * A completion's SQ head: taken only when it lies between the known head
 * and the tail (a controller cannot have fetched what was never handed
 * over); false when it does not, the head then stays.
 */
bool nvme_sq_set_head(struct nvme_sq *q, uint16_t sqhd);

/* ---- completion queue: the driver is the consumer ---- */
struct nvme_cq {
	uint16_t size;
	uint16_t head;	/* next entry to look at */
	uint8_t phase;	/* the phase tag a new entry carries: 1 on the first pass */
};

void nvme_cq_init(struct nvme_cq *q, uint16_t size);
/*
 * If the controller has posted the entry at the head (its phase tag is the
 * expected one), copies it to out, moves the head on (the expected phase
 * flips when the head wraps) and returns true. The status word is read
 * first and the rest only after it: the entry is complete once its phase
 * tag has changed.
 */
bool nvme_cq_pop(struct nvme_cq *q, const volatile struct nvme_cqe *ring, struct nvme_cqe *out);

/* ---- command identifiers ---- */
#define NVME_CID_MAX 1024

struct nvme_cids {
	uint16_t n;	  /* identifiers 0..n-1 */
	uint16_t used;
	uint16_t hint;	  /* where the next search starts: identifiers rotate */
	uint64_t bits[NVME_CID_MAX / 64];
};

void nvme_cids_init(struct nvme_cids *p, uint16_t n);
/*
 * A free identifier, or -1. The search starts after the last one given, so
 * an identifier is not reused at once: a late completion for an old command
 * does not meet a new one with its number.
 */
int nvme_cid_alloc(struct nvme_cids *p);
/* false when cid was not allocated (a completion for a command that does not exist). */
bool nvme_cid_free(struct nvme_cids *p, uint16_t cid);
bool nvme_cid_busy(const struct nvme_cids *p, uint16_t cid);

/* ---- data pointers ---- */

/* A run of host-physical memory a transfer uses. */
struct nvme_piece {
	uint64_t addr;
	uint32_t len;
};

/* Where PRP list pages are: their addresses for the CPU and for the controller. */
struct nvme_prp_pages {
	uint64_t *const *virt;
	const uint64_t *phys;
	unsigned count;
};

struct nvme_prp {
	uint64_t prp1, prp2;
	unsigned entries;    /* PRP entries describing the data */
	unsigned list_pages; /* list pages used (0: PRP2 is data or unused) */
};

/* Entries one command can hold with list_pages list pages (2 with none). */
uint64_t nvme_prp_capacity(unsigned list_pages);

/*
 * The bytes from the start of p[0..n) one command can describe, at most
 * max_bytes, with list_pages list pages: host-contiguous pieces are taken
 * as one; the walk stops before a piece that does not start a page, after
 * one that does not end a page, and where the entries run out. 0 when the
 * first piece is not dword aligned.
 */
uint64_t nvme_prp_fit(const struct nvme_piece *p, unsigned n, uint64_t max_bytes,
		      unsigned list_pages);

/*
 * Fills out with the entries describing the first `bytes` of p[0..n),
 * writing PRP lists into pages (chained when one is not enough). 0, or -1
 * when those bytes cannot be described (nvme_prp_fit() is less) or need
 * more list pages than given; out is then not meaningful.
 */
int nvme_prp_build(const struct nvme_piece *p, unsigned n, uint64_t bytes,
		   const struct nvme_prp_pages *pages, struct nvme_prp *out);

/*
 * The next command's share of a transfer whose remaining bytes (`want`,
 * a multiple of block) start at p[0]: the most, in whole blocks, that one
 * command carries straight from these pieces within max_xfer, or 0 when
 * not one block can be (the driver then bounces).
 */
uint64_t nvme_next_chunk(const struct nvme_piece *p, unsigned n, uint64_t want, uint64_t max_xfer,
			 uint32_t block, unsigned list_pages);

/*
 * The most bytes one command may move: 2^MDTS pages of 2^(12 + mpsmin)
 * bytes (MDTS 0: no limit), at most cap.
 */
uint64_t nvme_max_transfer(uint8_t mdts, unsigned mpsmin, uint64_t cap);

/* ---- a request's segments as host pieces ---- */

/* A position in a request's segments. */
struct nvme_cursor {
	unsigned seg;
	uint32_t off;
};

/* Moves c on by bytes (not past the last segment's end). */
void nvme_cursor_advance(const struct blk_seg *segs, unsigned nseg, struct nvme_cursor *c,
			 uint64_t bytes);

/*
 * Host pieces for up to `want` bytes of segs from c on, asked of
 * mem->dma_addr one guest page at a time; host-contiguous pages join one
 * piece. Stops early at a page dma_addr refuses, or when max pieces are
 * full. Returns the bytes gathered (*n pieces); 0 when mem has no
 * dma_addr or the first page is refused.
 */
uint64_t nvme_gather(const struct blk_seg *segs, unsigned nseg, struct nvme_cursor c,
		     uint64_t want, const struct blk_guest_mem *mem, struct nvme_piece *out,
		     unsigned max, unsigned *n);

#endif
