/*
 * The NVMe host driver (see nvme.h): controller bring-up, namespaces as
 * block devices, the I/O path, completions in deferred work, and what
 * happens when the controller misbehaves.
 *
 * Locking: one spinlock per controller covers its registers' use, both
 * queue pairs, the command table and the request lists. Nothing waits
 * while holding it: bring-up and reset are a state machine stepped by the
 * probe's loop or by the watchdog, never a blocking wait, so no vCPU stalls
 * behind a slow or dead controller. Requests' done callbacks run from the
 * deferred work with the lock released (blkdev.h's contract): completions
 * are moved to a done list under the lock and called after it.
 *
 * Memory: the host identity-maps its memory, so the frames given to the
 * controller (queues, PRP lists, bounce buffers) are used at the same
 * address by the CPU.
 */
#include "drivers/nvme/nvme.h"

#include <stdarg.h>

#include "drivers/nvme/nvme_queue.h"
#include "drivers/nvme/nvme_regs.h"
#include "kernel/blk/blkdev.h"
#include "kernel/blk/hostblk.h"
#include "kernel/cpu/deferred.h"
#include "kernel/cpu/irqvec.h"
#include "kernel/lib/format.h"
#include "kernel/lib/spinlock.h"
#include "kernel/lib/string.h"
#include "kernel/lib/unaligned.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/time/tsc.h"

#define NVME_ADMIN_DEPTH 32
#define NVME_IO_DEPTH 1024 /* at most; CAP.MQES may allow less */
#define NVME_IOQ 1	   /* the one I/O queue pair's identifier */
#define NVME_MAX_XFER (1u << 20) /* per command, below MDTS: one PRP list page per command */
#define NVME_MAX_PIECES (NVME_MAX_XFER / NVME_PAGE_SIZE + 2)
#define NVME_BOUNCE_BUFS 8
#define NVME_BOUNCE_BYTES (128u << 10)
#define NVME_MAX_NS 16
#define NVME_NS_SCAN_MAX 1024
#define NVME_DSM_MAX_BLOCKS (1u << 30) /* per range: the field is 32 bits */
#define NVME_WZ_MAX_BLOCKS 65536u      /* NLB is 16 bits, zero-based */

#define NVME_POLL_US 200		/* without interrupts: the completion queue's poll */
#define NVME_WATCHDOG_US 100000		/* timeouts and lost interrupts */
#define NVME_RESET_POLL_US 1000		/* the watchdog's pace while a reset is stepped */
#define NVME_IO_TIMEOUT_US 5000000	/* a command older than this is aborted */
#define NVME_ABORT_WAIT_US 3000000	/* ... and the controller reset if that did not help */
#define NVME_ADMIN_TIMEOUT_US 5000000
#define NVME_SHUTDOWN_MIN_US 5000000
#define NVME_SHUTDOWN_MAX_US 30000000
#define NVME_ERR_LOG_US 1000000 /* at most one error line a second, then a count */
#define NVME_RESETS_MAX 3	/* resets in NVME_RESET_WINDOW_US before giving up */
#define NVME_RESET_WINDOW_US 60000000ull

enum nvme_state {
	NVME_LIVE,
	NVME_RESET_DISABLE, /* CC.EN cleared, waiting for CSTS.RDY = 0 */
	NVME_RESET_ENABLE,  /* admin queue set, CC.EN set, waiting for CSTS.RDY = 1 */
	NVME_RESET_QUEUES,  /* Set Features, Create I/O CQ, Create I/O SQ, one by one */
	NVME_OFFLINE,	    /* every request fails at once */
	NVME_SHUTDOWN,	    /* the host is going down */
};

enum nvme_irq_mode { NVME_IRQ_POLL, NVME_IRQ_MSI, NVME_IRQ_MSIX };

enum nvme_admin_use { ADM_FREE, ADM_WAIT, ADM_ABANDONED, ADM_ABORT, ADM_STEP };

struct nvme_ctrl;

struct nvme_ns {
	struct blkdev dev;
	struct nvme_ctrl *c;
	uint32_t nsid;
	unsigned lba_shift; /* 9 or 12 */
};

/* One block request as the driver carries it (possibly several commands). */
struct nvme_io {
	struct blk_request *r;
	struct nvme_ns *ns;
	struct nvme_io *next; /* on the pending, done or free list */
	struct nvme_cursor cur; /* READ/WRITE: the first byte not yet issued */
	uint64_t lba;		/* the first block not yet issued */
	uint64_t blocks;	/* blocks not yet issued (FLUSH: 1 until issued) */
	unsigned inflight;	/* commands at the controller */
	int status;
	bool queued; /* on the pending list: more to issue */
};

/* A command at the controller, by command identifier. */
struct nvme_cmd {
	struct nvme_io *io;
	uint64_t started; /* us */
	uint64_t abort_sent;
	uint64_t lba;
	uint32_t blocks;
	uint32_t bytes;
	uint8_t opcode;
	bool aborted;
	int bounce;		/* bounce buffer index, -1: none */
	struct nvme_cursor cur; /* a bounced READ's first byte in the request */
	uint64_t *list;		/* this identifier's PRP list page (also DSM ranges) */
};

struct nvme_admin_slot {
	enum nvme_admin_use use;
	bool done;
	uint16_t status;
	uint32_t dw0;
};

struct nvme_ctrl {
	spinlock_t lock;
	struct pci_dev *pci;
	volatile uint8_t *regs;
	unsigned index;
	char name[16];
	enum nvme_state state;
	bool probing;
	bool was_reset;
	uint64_t cap;
	uint32_t vs;
	unsigned dstrd;
	uint64_t to_us; /* CAP.TO */
	uint32_t cc;	/* what enabling writes */

	enum nvme_irq_mode irq;
	int vector;

	/* admin queue pair */
	struct nvme_sqe *asq;
	struct nvme_cqe *acq;
	struct nvme_sq asq_state;
	struct nvme_cq acq_state;
	struct nvme_cids admin_cids;
	struct nvme_admin_slot admin[NVME_ADMIN_DEPTH];
	unsigned aborts_inflight, abort_limit;

	/* I/O queue pair, shared by all CPUs */
	uint16_t depth;
	struct nvme_sqe *sq;
	struct nvme_cqe *cq;
	struct nvme_sq sq_state;
	struct nvme_cq cq_state;
	struct nvme_cids cids;
	struct nvme_cmd *cmds;
	bool sq_dirty; /* tail moved since the doorbell */

	uint8_t *bounce[NVME_BOUNCE_BUFS];
	unsigned nbounce;
	uint32_t bounce_free; /* bit i: buffer i free */

	struct nvme_io *free_ios;
	struct nvme_io *pending_head, *pending_tail;
	struct nvme_io *done_head, *done_tail;

	/* Identify Controller */
	char model[HOSTBLK_MODEL_MAX + 1];
	char serial[HOSTBLK_SERIAL_MAX + 1];
	uint64_t max_xfer;
	bool vwc;
	uint16_t oncs;
	uint32_t nn;
	uint32_t rtd3e;
	uint8_t *ident; /* one page for Identify data */

	unsigned nns;
	struct nvme_ns *ns[NVME_MAX_NS];

	/* bring-up / reset steps */
	uint64_t step_deadline;
	unsigned step;
	int step_cid;
	unsigned resets_in_window;
	uint64_t reset_window_start;
	char reason[128]; /* why the controller went offline */

	/* error log rate */
	uint64_t err_last;
	uint64_t err_suppressed;

	uint64_t interrupts;
	struct deferred work;	  /* completions: raised by the interrupt, or polled */
	struct deferred watchdog; /* timeouts, lost interrupts, reset steps */
	struct hostblk_controller hbc;

	struct nvme_piece pieces[NVME_MAX_PIECES]; /* scratch for the command being built */
};

static unsigned controllers;

/* Every namespace brought up, for nvme_namespace(). */
#define NVME_ALL_NS 64
static struct nvme_ns *all_ns[NVME_ALL_NS];
static unsigned all_ns_count;

/* ---- registers and time ---- */

static uint32_t reg_rd32(struct nvme_ctrl *c, uint32_t off)
{
	return *(volatile uint32_t *)(c->regs + off);
}

static void reg_wr32(struct nvme_ctrl *c, uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(c->regs + off) = v;
}

static uint64_t reg_rd64(struct nvme_ctrl *c, uint32_t off)
{
	uint64_t lo = reg_rd32(c, off), hi = reg_rd32(c, off + 4);
	return hi << 32 | lo;
}

static void reg_wr64(struct nvme_ctrl *c, uint32_t off, uint64_t v)
{
	reg_wr32(c, off, (uint32_t)v);
	reg_wr32(c, off + 4, (uint32_t)(v >> 32));
}

static void doorbell(struct nvme_ctrl *c, uint16_t q, int cq, uint16_t v)
{
	/* the queue entries are written before the controller may fetch them */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	reg_wr32(c, nvme_doorbell_offset(q, cq, c->dstrd), v);
}

static uint64_t now_us(void)
{
	return uptime_us();
}

static uint64_t phys(const void *p)
{
	return (uint64_t)(uintptr_t)p; /* identity map */
}

static void stat_add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static const char *op_name(uint8_t opcode)
{
	switch (opcode) {
	case NVME_CMD_READ:
		return "read";
	case NVME_CMD_WRITE:
		return "write";
	case NVME_CMD_FLUSH:
		return "flush";
	case NVME_CMD_DSM:
		return "discard";
	case NVME_CMD_WRITE_ZEROES:
		return "write-zeroes";
	default:
		return "command";
	}
}

static void go_offline(struct nvme_ctrl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void start_reset(struct nvme_ctrl *c, const char *why);
static void kick(struct nvme_ctrl *c);

/* ---- admin queue ---- */

/* Hands an admin command over: its identifier, or -1 when the admin queue is full. */
static int admin_submit(struct nvme_ctrl *c, struct nvme_sqe *e, enum nvme_admin_use use)
{
	if (nvme_sq_full(&c->asq_state))
		return -1;
	int cid = nvme_cid_alloc(&c->admin_cids);
	if (cid < 0)
		return -1;
	int slot = nvme_sq_push(&c->asq_state);
	e->cid = (uint16_t)cid;
	c->asq[slot] = *e;
	c->admin[cid] = (struct nvme_admin_slot){.use = use};
	doorbell(c, 0, 0, c->asq_state.tail);
	return cid;
}

static void admin_release(struct nvme_ctrl *c, int cid)
{
	c->admin[cid].use = ADM_FREE;
	nvme_cid_free(&c->admin_cids, (uint16_t)cid);
}

static void admin_reap(struct nvme_ctrl *c)
{
	struct nvme_cqe e;
	bool any = false;

	while (nvme_cq_pop(&c->acq_state, c->acq, &e)) {
		any = true;
		nvme_sq_set_head(&c->asq_state, e.sqhd);
		if (!nvme_cid_busy(&c->admin_cids, e.cid))
			continue; /* not ours (or failed back by a reset) */
		struct nvme_admin_slot *s = &c->admin[e.cid];
		switch (s->use) {
		case ADM_ABORT:
			c->aborts_inflight--;
			admin_release(c, e.cid);
			break;
		case ADM_ABANDONED:
			admin_release(c, e.cid);
			break;
		default:
			s->done = true;
			s->status = e.status;
			s->dw0 = e.dw0;
			break;
		}
	}
	if (any)
		doorbell(c, 0, 1, c->acq_state.head);
}

/*
 * An admin command run to its end at probe time (Identify): 0 with its
 * completion's dw0, or -1 with the reason. Polls without holding the lock
 * between looks, so deferred work elsewhere goes on.
 */
static int admin_sync(struct nvme_ctrl *c, struct nvme_sqe *e, uint32_t *dw0, const char *what,
		      char *err, size_t errlen)
{
	spin_lock(&c->lock);
	int cid = c->state == NVME_LIVE ? admin_submit(c, e, ADM_WAIT) : -1;
	spin_unlock(&c->lock);
	if (cid < 0) {
		format(err, errlen, "%s: the admin queue is not running", what);
		return -1;
	}
	uint64_t deadline = now_us() + NVME_ADMIN_TIMEOUT_US;
	for (;;) {
		spin_lock(&c->lock);
		admin_reap(c);
		struct nvme_admin_slot *s = &c->admin[cid];
		if (s->use == ADM_WAIT && s->done) {
			uint16_t st = s->status;
			if (dw0)
				*dw0 = s->dw0;
			admin_release(c, cid);
			spin_unlock(&c->lock);
			if (NVME_STATUS_OK(st))
				return 0;
			format(err, errlen, "%s failed (status type %u, code 0x%02x)", what,
			       NVME_STATUS_SCT(st), NVME_STATUS_SC(st));
			return -1;
		}
		if (s->use != ADM_WAIT || now_us() > deadline) {
			if (s->use == ADM_WAIT)
				s->use = ADM_ABANDONED; /* its completion, if ever, frees it */
			spin_unlock(&c->lock);
			format(err, errlen, "%s timed out after %u s", what,
			       NVME_ADMIN_TIMEOUT_US / 1000000);
			return -1;
		}
		spin_unlock(&c->lock);
		udelay(10);
	}
}

/* ---- bring-up and reset: a state machine stepped with the lock held ---- */

static void admin_queue_init(struct nvme_ctrl *c)
{
	memset(c->asq, 0, NVME_ADMIN_DEPTH * sizeof(struct nvme_sqe));
	memset(c->acq, 0, NVME_ADMIN_DEPTH * sizeof(struct nvme_cqe));
	nvme_sq_init(&c->asq_state, NVME_ADMIN_DEPTH);
	nvme_cq_init(&c->acq_state, NVME_ADMIN_DEPTH);
	nvme_cids_init(&c->admin_cids, NVME_ADMIN_DEPTH - 1);
	memset(c->admin, 0, sizeof(c->admin));
	c->aborts_inflight = 0;
	reg_wr32(c, NVME_REG_AQA, NVME_AQA(NVME_ADMIN_DEPTH, NVME_ADMIN_DEPTH));
	reg_wr64(c, NVME_REG_ASQ, phys(c->asq));
	reg_wr64(c, NVME_REG_ACQ, phys(c->acq));
}

static const char *const step_names[] = {"Set Features (number of queues)",
					 "Create I/O completion queue",
					 "Create I/O submission queue"};

static void queue_step_start(struct nvme_ctrl *c, uint64_t now)
{
	struct nvme_sqe e = {0};

	switch (c->step) {
	case 0:
		e.opcode = NVME_ADMIN_SET_FEATURES;
		e.cdw10 = NVME_FEAT_NUM_QUEUES;
		e.cdw11 = 0; /* one submission and one completion queue (zero-based) */
		break;
	case 1:
		memset(c->cq, 0, (size_t)c->depth * sizeof(struct nvme_cqe));
		nvme_cq_init(&c->cq_state, c->depth);
		e.opcode = NVME_ADMIN_CREATE_CQ;
		e.prp1 = phys(c->cq);
		e.cdw10 = ((uint32_t)(c->depth - 1) << 16) | NVME_IOQ;
		e.cdw11 = NVME_QUEUE_PC | NVME_CQ_IV(0) |
			  (c->irq != NVME_IRQ_POLL ? NVME_CQ_IEN : 0);
		break;
	default:
		memset(c->sq, 0, (size_t)c->depth * sizeof(struct nvme_sqe));
		nvme_sq_init(&c->sq_state, c->depth);
		c->sq_dirty = false;
		e.opcode = NVME_ADMIN_CREATE_SQ;
		e.prp1 = phys(c->sq);
		e.cdw10 = ((uint32_t)(c->depth - 1) << 16) | NVME_IOQ;
		e.cdw11 = NVME_SQ_CQID(NVME_IOQ) | NVME_QUEUE_PC;
		break;
	}
	c->step_cid = admin_submit(c, &e, ADM_STEP);
	c->step_deadline = now + NVME_ADMIN_TIMEOUT_US;
	if (c->step_cid < 0)
		go_offline(c, "%s: no room in the admin queue", step_names[c->step]);
}

static void queues_live(struct nvme_ctrl *c)
{
	c->state = NVME_LIVE;
	if (!c->probing) {
		deferred_set_poll(&c->watchdog, NVME_WATCHDOG_US);
		printk("%s: controller reset done, I/O goes on\n", c->name);
		kick(c);
		deferred_raise(&c->work);
	}
}

/* Fails back every command at the controller; only once it has stopped (no DMA after). */
static void cmd_finish(struct nvme_ctrl *c, uint16_t cid, int st);
static void io_complete(struct nvme_ctrl *c, struct nvme_io *io);

static void fail_commands(struct nvme_ctrl *c)
{
	struct nvme_io **link = &c->pending_head, *io;

	for (uint16_t cid = 0; cid < c->cids.n; cid++)
		if (nvme_cid_busy(&c->cids, cid))
			cmd_finish(c, cid, BLK_EIO);
	/* requests with a command among those are over, even if they had more to issue */
	c->pending_tail = NULL;
	while ((io = *link)) {
		if (io->status == BLK_OK) {
			c->pending_tail = io;
			link = &io->next;
			continue;
		}
		*link = io->next;
		io->queued = false;
		io->blocks = 0;
		if (!io->inflight)
			io_complete(c, io);
	}
	/* admin commands are gone with the queue (admin_queue_init starts it afresh) */
	nvme_cids_init(&c->admin_cids, NVME_ADMIN_DEPTH - 1);
	memset(c->admin, 0, sizeof(c->admin));
	c->aborts_inflight = 0;
}

static void reset_step(struct nvme_ctrl *c)
{
	uint64_t now = now_us();
	uint32_t csts = reg_rd32(c, NVME_REG_CSTS);

	if (csts == 0xffffffffu) {
		go_offline(c, "the controller does not answer (its registers read all ones)");
		return;
	}
	switch (c->state) {
	case NVME_RESET_DISABLE:
		if (csts & NVME_CSTS_RDY) {
			if (now > c->step_deadline)
				go_offline(c, "the controller did not stop within %lu ms",
					   c->to_us / 1000);
			return;
		}
		fail_commands(c);
		admin_queue_init(c);
		reg_wr32(c, NVME_REG_CC, c->cc);
		reg_wr32(c, NVME_REG_CC, c->cc | NVME_CC_EN);
		c->state = NVME_RESET_ENABLE;
		c->step_deadline = now + c->to_us;
		return;
	case NVME_RESET_ENABLE:
		if (csts & NVME_CSTS_CFS) {
			go_offline(c, "the controller reported a fatal error while starting");
			return;
		}
		if (!(csts & NVME_CSTS_RDY)) {
			if (now > c->step_deadline)
				go_offline(c, "the controller did not become ready within %lu ms",
					   c->to_us / 1000);
			return;
		}
		c->state = NVME_RESET_QUEUES;
		c->step = 0;
		queue_step_start(c, now);
		return;
	case NVME_RESET_QUEUES: {
		admin_reap(c);
		struct nvme_admin_slot *s = &c->admin[c->step_cid];
		if (s->use != ADM_STEP || !s->done) {
			if (now > c->step_deadline)
				go_offline(c, "%s timed out", step_names[c->step]);
			return;
		}
		uint16_t st = s->status;
		admin_release(c, c->step_cid);
		if (!NVME_STATUS_OK(st)) {
			go_offline(c, "%s failed (status type %u, code 0x%02x)", step_names[c->step],
				   NVME_STATUS_SCT(st), NVME_STATUS_SC(st));
			return;
		}
		if (++c->step == 3)
			queues_live(c);
		else
			queue_step_start(c, now);
		return;
	}
	default:
		return;
	}
}

/* Clears CC.EN: the controller drops every queue; reset_step() brings it up again. */
static void begin_disable(struct nvme_ctrl *c)
{
	uint32_t cc = reg_rd32(c, NVME_REG_CC);

	c->state = NVME_RESET_DISABLE;
	c->step_deadline = now_us() + c->to_us;
	if (cc & NVME_CC_EN)
		reg_wr32(c, NVME_REG_CC, cc & ~NVME_CC_EN);
}

static void start_reset(struct nvme_ctrl *c, const char *why)
{
	uint64_t now = now_us();

	if (c->state != NVME_LIVE)
		return;
	if (now - c->reset_window_start > NVME_RESET_WINDOW_US) {
		c->reset_window_start = now;
		c->resets_in_window = 0;
	}
	if (++c->resets_in_window > NVME_RESETS_MAX) {
		go_offline(c, "%s, after %u resets within a minute", why, NVME_RESETS_MAX);
		return;
	}
	printk("%s: %s; resetting the controller\n", c->name, why);
	c->was_reset = true;
	begin_disable(c);
	deferred_set_poll(&c->watchdog, NVME_RESET_POLL_US);
}

static void go_offline(struct nvme_ctrl *c, const char *fmt, ...)
{
	va_list ap;

	if (c->state == NVME_OFFLINE)
		return;
	c->state = NVME_OFFLINE;
	va_start(ap, fmt);
	format_v(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
	/* stop the controller and its DMA before any buffer goes back to its owner */
	reg_wr32(c, NVME_REG_CC, reg_rd32(c, NVME_REG_CC) & ~NVME_CC_EN);
	pci_write16(c->pci, PCI_COMMAND, pci_read16(c->pci, PCI_COMMAND) & ~PCI_CMD_MASTER);
	fail_commands(c);
	kick(c); /* fails what waits */
	if (!c->probing) {
		printk("%s: controller offline: %s; its disks fail every request from now on\n",
		       c->name, c->reason);
		deferred_set_poll(&c->watchdog, 0);
		deferred_set_poll(&c->work, 0);
		deferred_raise(&c->work);
	}
}

/* ---- the I/O path ---- */

static int bounce_get(struct nvme_ctrl *c)
{
	if (!c->bounce_free)
		return -1;
	int b = __builtin_ctz(c->bounce_free);
	c->bounce_free &= ~(1u << b);
	return b;
}

static void bounce_put(struct nvme_ctrl *c, int b)
{
	c->bounce_free |= 1u << b;
}

/* Copies between a bounce buffer and `bytes` of the request's segments from cur. */
static int bounce_copy(const struct blk_request *r, struct nvme_cursor cur, uint8_t *buf,
		       uint64_t bytes, bool to_guest)
{
	const struct blk_guest_mem *m = r->mem;

	while (bytes && cur.seg < r->nseg) {
		const struct blk_seg *s = &r->segs[cur.seg];
		uint64_t len = s->len - cur.off;
		if (len > bytes)
			len = bytes;
		int rc = to_guest ? m->write(m->ctx, s->gpa + cur.off, buf, len)
				  : m->read(m->ctx, s->gpa + cur.off, buf, len);
		if (rc < 0)
			return -1;
		buf += len;
		bytes -= len;
		cur.seg++;
		cur.off = 0;
	}
	return bytes ? -1 : 0;
}

/*
 * Whether an error line may be printed now: the first of a burst is, then
 * at most one a second; the others are counted (n each) and the count is
 * printed before the next line, or by the watchdog.
 */
static bool err_may_log(struct nvme_ctrl *c, uint64_t n)
{
	uint64_t now = now_us();

	if (c->err_last && now - c->err_last < NVME_ERR_LOG_US) {
		c->err_suppressed += n;
		return false;
	}
	if (c->err_suppressed)
		printk("%s: %lu more I/O errors\n", c->name, c->err_suppressed);
	c->err_suppressed = 0;
	c->err_last = now;
	return true;
}

static void log_error(struct nvme_ctrl *c, struct nvme_cmd *cmd, const char *what)
{
	const char *dev = cmd->io ? cmd->io->ns->dev.name : c->name;

	if (!err_may_log(c, 1))
		return;
	printk("%s: %s of %u block%s at lba %lu failed: %s\n", dev, op_name(cmd->opcode),
	       cmd->blocks, cmd->blocks == 1 ? "" : "s", cmd->lba, what);
}

static void cmd_finish(struct nvme_ctrl *c, uint16_t cid, int st)
{
	struct nvme_cmd *cmd = &c->cmds[cid];
	struct nvme_io *io = cmd->io;

	if (st == BLK_OK && cmd->bounce >= 0 && cmd->opcode == NVME_CMD_READ &&
	    bounce_copy(io->r, cmd->cur, c->bounce[cmd->bounce], cmd->bytes, true) < 0) {
		log_error(c, cmd, "the buffer is not RAM");
		st = BLK_EIO;
	}
	if (cmd->bounce >= 0)
		bounce_put(c, cmd->bounce);
	cmd->bounce = -1;
	cmd->io = NULL;
	nvme_cid_free(&c->cids, cid);
	if (!io)
		return;
	if (st != BLK_OK && io->status == BLK_OK)
		io->status = st;
	io->inflight--;
	if (!io->inflight && !io->queued)
		io_complete(c, io);
}

static void io_complete(struct nvme_ctrl *c, struct nvme_io *io)
{
	struct blkdev_stats *st = &io->ns->dev.stats;
	uint64_t bytes = io->r->nsectors * BLK_SECTOR_SIZE;

	if (io->status == BLK_OK) {
		if (io->r->op == BLK_OP_READ)
			stat_add(&st->bytes_read, bytes);
		else if (io->r->op == BLK_OP_WRITE || io->r->op == BLK_OP_WRITE_ZEROES)
			stat_add(&st->bytes_written, bytes);
	} else {
		stat_add(&st->errors, 1);
	}
	io->next = NULL;
	if (c->done_tail)
		c->done_tail->next = io;
	else
		c->done_head = io;
	c->done_tail = io;
	deferred_raise(&c->work);
}

/*
 * Fills e for the next READ/WRITE command of io: its data pointers, through
 * the request's own pages when they fit PRPs, else a bounce buffer. Returns
 * the bytes it carries, 0 when no bounce buffer is free (try later), -1
 * when guest memory cannot be read.
 */
static int64_t rw_prepare(struct nvme_ctrl *c, struct nvme_io *io, struct nvme_cmd *cmd,
			  struct nvme_sqe *e)
{
	const struct blk_request *r = io->r;
	unsigned shift = io->ns->lba_shift;
	uint64_t want = io->blocks << shift, bytes = 0;
	unsigned n = 0;
	uint64_t *const list_virt[1] = {cmd->list};
	const uint64_t list_phys[1] = {phys(cmd->list)};
	const struct nvme_prp_pages pages = {list_virt, list_phys, 1};
	struct nvme_prp prp;

	uint64_t limit = want < c->max_xfer ? want : c->max_xfer;
	if (nvme_gather(r->segs, r->nseg, io->cur, limit, r->mem, c->pieces, NVME_MAX_PIECES, &n))
		bytes = nvme_next_chunk(c->pieces, n, want, c->max_xfer, 1u << shift, 1);
	cmd->bounce = -1;
	if (!bytes) {
		int b = bounce_get(c);
		if (b < 0)
			return 0;
		bytes = want < NVME_BOUNCE_BYTES ? want : NVME_BOUNCE_BYTES;
		if (bytes > c->max_xfer)
			bytes = c->max_xfer;
		if (io->r->op == BLK_OP_WRITE &&
		    bounce_copy(r, io->cur, c->bounce[b], bytes, false) < 0) {
			bounce_put(c, b);
			return -1;
		}
		cmd->bounce = b;
		cmd->cur = io->cur;
		c->pieces[0] = (struct nvme_piece){phys(c->bounce[b]), (uint32_t)bytes};
		n = 1;
	}
	/* cannot fail: nvme_next_chunk measured it, and a bounce buffer is one run */
	nvme_prp_build(c->pieces, n, bytes, &pages, &prp);
	e->prp1 = prp.prp1;
	e->prp2 = prp.prp2;
	cmd->bytes = (uint32_t)bytes;
	nvme_cursor_advance(r->segs, r->nseg, &io->cur, bytes);
	return (int64_t)bytes;
}

/*
 * Issues io's next commands while the queue, identifiers and bounce
 * buffers last. false when it stopped for want of them (io keeps its
 * place); true when io has nothing more to issue (or failed).
 */
static bool issue(struct nvme_ctrl *c, struct nvme_io *io)
{
	struct nvme_ns *ns = io->ns;

	while (io->blocks && io->status == BLK_OK) {
		if (nvme_sq_full(&c->sq_state))
			return false;
		int cid = nvme_cid_alloc(&c->cids);
		if (cid < 0)
			return false;
		struct nvme_cmd *cmd = &c->cmds[cid];
		struct nvme_sqe e = {.cid = (uint16_t)cid, .nsid = ns->nsid};
		uint64_t n;

		switch (io->r->op) {
		case BLK_OP_FLUSH:
			e.opcode = NVME_CMD_FLUSH;
			n = io->blocks; /* the marker: one command */
			cmd->lba = 0;
			cmd->blocks = 0;
			cmd->bytes = 0;
			cmd->bounce = -1;
			break;
		case BLK_OP_DISCARD: {
			struct nvme_dsm_range *range = (struct nvme_dsm_range *)cmd->list;
			n = io->blocks < NVME_DSM_MAX_BLOCKS ? io->blocks : NVME_DSM_MAX_BLOCKS;
			*range = (struct nvme_dsm_range){0, (uint32_t)n, io->lba};
			e.opcode = NVME_CMD_DSM;
			e.prp1 = phys(range);
			e.cdw10 = 0; /* one range (zero-based) */
			e.cdw11 = NVME_DSM_AD;
			cmd->bounce = -1;
			cmd->bytes = 0;
			break;
		}
		case BLK_OP_WRITE_ZEROES:
			n = io->blocks < NVME_WZ_MAX_BLOCKS ? io->blocks : NVME_WZ_MAX_BLOCKS;
			e.opcode = NVME_CMD_WRITE_ZEROES;
			e.cdw10 = (uint32_t)io->lba;
			e.cdw11 = (uint32_t)(io->lba >> 32);
			e.cdw12 = (uint32_t)(n - 1);
			cmd->bounce = -1;
			cmd->bytes = 0;
			break;
		default: {
			int64_t bytes = rw_prepare(c, io, cmd, &e);
			if (bytes <= 0) {
				nvme_cid_free(&c->cids, (uint16_t)cid);
				if (!bytes)
					return false;
				io->status = BLK_EIO; /* guest memory that is not RAM */
				return true;
			}
			n = (uint64_t)bytes >> ns->lba_shift;
			e.opcode = io->r->op == BLK_OP_WRITE ? NVME_CMD_WRITE : NVME_CMD_READ;
			e.cdw10 = (uint32_t)io->lba;
			e.cdw11 = (uint32_t)(io->lba >> 32);
			e.cdw12 = (uint32_t)(n - 1);
			break;
		}
		}
		if (e.opcode != NVME_CMD_FLUSH) {
			cmd->lba = io->lba;
			cmd->blocks = (uint32_t)n;
		}
		cmd->io = io;
		cmd->opcode = e.opcode;
		cmd->started = now_us();
		cmd->aborted = false;
		io->lba += n;
		io->blocks -= n;
		io->inflight++;
		c->sq[nvme_sq_push(&c->sq_state)] = e;
		c->sq_dirty = true;
	}
	return true;
}

/* Starts what waits, in order; requests that failed or have all their commands out leave the list. */
static void kick(struct nvme_ctrl *c)
{
	struct nvme_io *io;

	while ((io = c->pending_head)) {
		if (c->state == NVME_OFFLINE || c->state == NVME_SHUTDOWN) {
			if (io->status == BLK_OK)
				io->status = BLK_EIO;
		} else if (c->state != NVME_LIVE) {
			break; /* a reset: wait for the queues */
		}
		if (io->status == BLK_OK && !issue(c, io))
			break;
		c->pending_head = io->next;
		if (!c->pending_head)
			c->pending_tail = NULL;
		io->queued = false;
		io->blocks = 0;
		if (!io->inflight)
			io_complete(c, io);
	}
	if (c->sq_dirty && c->state == NVME_LIVE) {
		c->sq_dirty = false;
		doorbell(c, NVME_IOQ, 0, c->sq_state.tail);
	}
}

static void io_reap(struct nvme_ctrl *c)
{
	struct nvme_cqe e;
	bool any = false;

	while (nvme_cq_pop(&c->cq_state, c->cq, &e)) {
		any = true;
		nvme_sq_set_head(&c->sq_state, e.sqhd);
		if (e.cid >= c->cids.n || !nvme_cid_busy(&c->cids, e.cid) || !c->cmds[e.cid].io) {
			if (err_may_log(c, 1))
				printk("%s: completion for command %u, which is not outstanding; "
				       "ignored\n",
				       c->name, e.cid);
			continue;
		}
		int st = BLK_OK;
		if (!NVME_STATUS_OK(e.status)) {
			char why[64];
			format(why, sizeof(why), "status type %u, code 0x%02x%s",
			       NVME_STATUS_SCT(e.status), NVME_STATUS_SC(e.status),
			       c->cmds[e.cid].aborted ? " (timed out, aborted)" : "");
			log_error(c, &c->cmds[e.cid], why);
			st = BLK_EIO;
		}
		cmd_finish(c, e.cid, st);
	}
	if (any)
		doorbell(c, NVME_IOQ, 1, c->cq_state.head);
}

/* Calls the done callbacks of what completed: no lock held (blkdev.h). */
static void deliver(struct nvme_ctrl *c, struct nvme_io *done)
{
	struct nvme_io *io, *first = done, *last = NULL;

	for (io = done; io; io = io->next) {
		struct blk_request *r = io->r;
		last = io;
		io->r = NULL;
		r->done(r, io->status);
	}
	if (!first)
		return;
	spin_lock(&c->lock);
	last->next = c->free_ios;
	c->free_ios = first;
	spin_unlock(&c->lock);
}

static void nvme_work(void *arg)
{
	struct nvme_ctrl *c = arg;
	struct nvme_io *done;

	spin_lock(&c->lock);
	if (c->state == NVME_LIVE) {
		io_reap(c);
		admin_reap(c);
		kick(c);
	}
	done = c->done_head;
	c->done_head = c->done_tail = NULL;
	spin_unlock(&c->lock);
	deliver(c, done);
}

/* Commands past their time: Abort first, reset when that does not help. */
static void check_timeouts(struct nvme_ctrl *c, uint64_t now)
{
	unsigned late = 0;
	struct nvme_cmd *first = NULL;
	const char *reset_why = NULL;

	if (!c->cids.used)
		return;
	for (uint16_t cid = 0; cid < c->cids.n; cid++) {
		struct nvme_cmd *cmd = &c->cmds[cid];
		if (!nvme_cid_busy(&c->cids, cid) || !cmd->io || now - cmd->started < NVME_IO_TIMEOUT_US)
			continue;
		if (cmd->aborted) {
			if (now - cmd->abort_sent > NVME_ABORT_WAIT_US)
				reset_why = "a timed-out command was not aborted";
			continue;
		}
		if (c->aborts_inflight >= c->abort_limit) {
			if (now - cmd->started > NVME_IO_TIMEOUT_US + NVME_ABORT_WAIT_US)
				reset_why = "commands time out faster than they can be aborted";
			continue;
		}
		struct nvme_sqe e = {.opcode = NVME_ADMIN_ABORT,
				     .cdw10 = ((uint32_t)cid << 16) | NVME_IOQ};
		if (admin_submit(c, &e, ADM_ABORT) < 0)
			continue; /* the admin queue is full: next round */
		c->aborts_inflight++;
		cmd->aborted = true;
		cmd->abort_sent = now;
		if (!late++)
			first = cmd;
	}
	if (late && err_may_log(c, late))
		printk("%s: %s of %u block%s at lba %lu timed out after %u s%s; aborting\n",
		       first->io->ns->dev.name, op_name(first->opcode), first->blocks,
		       first->blocks == 1 ? "" : "s", first->lba, NVME_IO_TIMEOUT_US / 1000000,
		       late > 1 ? " (and others)" : "");
	if (reset_why)
		start_reset(c, reset_why);
}

static void nvme_watchdog(void *arg)
{
	struct nvme_ctrl *c = arg;
	uint64_t now = now_us();

	spin_lock(&c->lock);
	switch (c->state) {
	case NVME_LIVE: {
		uint32_t csts = reg_rd32(c, NVME_REG_CSTS);
		if (csts == 0xffffffffu) {
			go_offline(c, "the controller does not answer (its registers read all ones)");
			break;
		}
		if (csts & NVME_CSTS_CFS) {
			start_reset(c, "the controller reported a fatal error");
			break;
		}
		/* lost interrupts: look at the queues anyway */
		io_reap(c);
		admin_reap(c);
		kick(c);
		check_timeouts(c, now);
		if (c->err_suppressed && now - c->err_last >= NVME_ERR_LOG_US) {
			printk("%s: %lu more I/O errors\n", c->name, c->err_suppressed);
			c->err_suppressed = 0;
			c->err_last = now;
		}
		break;
	}
	case NVME_RESET_DISABLE:
	case NVME_RESET_ENABLE:
	case NVME_RESET_QUEUES:
		reset_step(c);
		break;
	default:
		break;
	}
	spin_unlock(&c->lock);
}

static struct nvme_io *io_alloc(struct nvme_ctrl *c)
{
	spin_lock(&c->lock);
	struct nvme_io *io = c->free_ios;
	if (io)
		c->free_ios = io->next;
	spin_unlock(&c->lock);
	if (!io)
		io = kzalloc(sizeof(*io));
	return io;
}

static void nvme_submit(struct blkdev *d, struct blk_request *r)
{
	struct nvme_ns *ns = d->priv;
	struct nvme_ctrl *c = ns->c;
	int st = blk_request_check(d, r);
	enum nvme_state state = __atomic_load_n(&c->state, __ATOMIC_RELAXED);

	if (st == BLK_OK && (state == NVME_OFFLINE || state == NVME_SHUTDOWN))
		st = BLK_EIO;
	if (st != BLK_OK) {
		stat_add(&d->stats.errors, 1);
		r->done(r, st);
		return;
	}
	switch (r->op) {
	case BLK_OP_READ:
		stat_add(&d->stats.reads, 1);
		break;
	case BLK_OP_WRITE:
	case BLK_OP_WRITE_ZEROES:
		stat_add(&d->stats.writes, 1);
		break;
	case BLK_OP_FLUSH:
		stat_add(&d->stats.flushes, 1);
		break;
	case BLK_OP_DISCARD:
		stat_add(&d->stats.discards, 1);
		break;
	}
	/* nothing to do: no data, or no volatile cache to write back */
	if ((r->op != BLK_OP_FLUSH && !r->nsectors) || (r->op == BLK_OP_FLUSH && !c->vwc)) {
		r->done(r, BLK_OK);
		return;
	}
	struct nvme_io *io = io_alloc(c);
	if (!io) {
		stat_add(&d->stats.errors, 1);
		r->done(r, BLK_EIO);
		return;
	}
	*io = (struct nvme_io){.r = r, .ns = ns, .status = BLK_OK, .queued = true};
	if (r->op == BLK_OP_FLUSH) {
		io->blocks = 1;
	} else {
		io->lba = r->sector >> (ns->lba_shift - 9);
		io->blocks = r->nsectors >> (ns->lba_shift - 9);
	}
	spin_lock(&c->lock);
	if (c->pending_tail)
		c->pending_tail->next = io;
	else
		c->pending_head = io;
	c->pending_tail = io;
	/* never completes another request here: failures go to the done list and the work */
	kick(c);
	spin_unlock(&c->lock);
}

static const struct blkdev_ops nvme_blk_ops = {
	.submit = nvme_submit,
};

/* ---- shutdown ---- */

static bool try_lock_for(spinlock_t *l, uint64_t us)
{
	uint64_t end = now_us() + us;

	do {
		uint32_t owner = __atomic_load_n(&l->owner, __ATOMIC_ACQUIRE);
		uint32_t next = owner;
		if (__atomic_compare_exchange_n(&l->next, &next, owner + 1, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return true;
		udelay(10);
	} while (now_us() < end);
	return false;
}

static void nvme_shutdown(void *arg)
{
	struct nvme_ctrl *c = arg;
	/* a CPU stopped while holding the lock must not stop the power-off */
	bool locked = try_lock_for(&c->lock, 100000);
	enum nvme_state was = c->state;

	c->state = NVME_SHUTDOWN;
	if (locked) {
		kick(c); /* what was waiting fails */
		spin_unlock(&c->lock);
		deferred_raise(&c->work);
	}
	if (was == NVME_OFFLINE || was == NVME_SHUTDOWN)
		return;
	uint64_t limit = (uint64_t)c->rtd3e;
	if (limit < NVME_SHUTDOWN_MIN_US)
		limit = NVME_SHUTDOWN_MIN_US;
	if (limit > NVME_SHUTDOWN_MAX_US)
		limit = NVME_SHUTDOWN_MAX_US;
	uint32_t cc = reg_rd32(c, NVME_REG_CC);
	reg_wr32(c, NVME_REG_CC, (cc & ~NVME_CC_SHN_MASK) | NVME_CC_SHN_NORMAL);
	uint64_t end = now_us() + limit;
	for (;;) {
		uint32_t csts = reg_rd32(c, NVME_REG_CSTS);
		if (csts != 0xffffffffu && (csts & NVME_CSTS_SHST_MASK) == NVME_CSTS_SHST_DONE) {
			printk("%s: shut down\n", c->name);
			return;
		}
		if (csts == 0xffffffffu || now_us() > end) {
			printk("%s: shutdown not confirmed within %lu s; going on\n", c->name,
			       limit / 1000000);
			return;
		}
		udelay(100);
	}
}

/* ---- probe ---- */

static void irq_handler(void *arg)
{
	struct nvme_ctrl *c = arg;
	__atomic_fetch_add(&c->interrupts, 1, __ATOMIC_RELAXED);
	deferred_raise(&c->work);
}

static const char *irq_setup(struct nvme_ctrl *c)
{
	struct pci_dev *d = c->pci;
	uint32_t apic;
	unsigned cpu = irqvec_pick_cpu();

	c->vector = -1;
	if (d->cap_msix && pci_msix_enable(d) > 0) {
		c->vector = irqvec_alloc(cpu, irq_handler, c, &apic);
		if (c->vector >= 0 && pci_msix_set(d, 0, (uint8_t)c->vector, apic)) {
			pci_msix_unmask_function(d);
			c->irq = NVME_IRQ_MSIX;
			return "MSI-X";
		}
		if (c->vector >= 0)
			irqvec_free(c->vector);
		pci_msi_disable(d);
	}
	if (d->cap_msi) {
		c->vector = irqvec_alloc(cpu, irq_handler, c, &apic);
		if (c->vector >= 0 && pci_msi_enable(d, (uint8_t)c->vector, apic)) {
			c->irq = NVME_IRQ_MSI;
			return "MSI";
		}
		if (c->vector >= 0)
			irqvec_free(c->vector);
	}
	c->vector = -1;
	c->irq = NVME_IRQ_POLL;
	pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) | PCI_CMD_INTX_DISABLE);
	deferred_set_poll(&c->work, NVME_POLL_US);
	return "polling";
}

/* ASCII from Identify data: trailing spaces off, anything unprintable as '?'. */
static void id_string(char *out, const uint8_t *in, size_t len)
{
	size_t n = len;

	while (n && (in[n - 1] == ' ' || in[n - 1] == 0))
		n--;
	for (size_t i = 0; i < n; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f ? (char)in[i] : '?';
	out[n] = 0;
}

static int identify(struct nvme_ctrl *c, uint8_t cns, uint32_t nsid, const char *what, char *err,
		    size_t errlen)
{
	struct nvme_sqe e = {.opcode = NVME_ADMIN_IDENTIFY, .nsid = nsid, .prp1 = phys(c->ident),
			     .cdw10 = cns};
	memset(c->ident, 0, NVME_PAGE_SIZE);
	return admin_sync(c, &e, NULL, what, err, errlen);
}

static int identify_controller(struct nvme_ctrl *c, char *err, size_t errlen)
{
	const uint8_t *id = c->ident;

	if (identify(c, NVME_CNS_CONTROLLER, 0, "Identify controller", err, errlen) < 0)
		return -1;
	id_string(c->serial, id + NVME_IDC_SN, 20);
	id_string(c->model, id + NVME_IDC_MN, 40);
	c->max_xfer = nvme_max_transfer(id[NVME_IDC_MDTS], NVME_CAP_MPSMIN(c->cap), NVME_MAX_XFER);
	c->vwc = id[NVME_IDC_VWC] & NVME_VWC_PRESENT;
	c->oncs = rd16(id + NVME_IDC_ONCS);
	c->nn = rd32(id + NVME_IDC_NN);
	c->rtd3e = rd32(id + NVME_IDC_RTD3E);
	c->abort_limit = (unsigned)id[NVME_IDC_ACL] + 1;
	if (c->abort_limit > NVME_ADMIN_DEPTH / 2)
		c->abort_limit = NVME_ADMIN_DEPTH / 2;
	/* the queue entry sizes the driver uses must be within what it takes */
	if ((id[NVME_IDC_SQES] & 0xf) > NVME_SQES_LOG2 || (id[NVME_IDC_SQES] >> 4) < NVME_SQES_LOG2 ||
	    (id[NVME_IDC_CQES] & 0xf) > NVME_CQES_LOG2 || (id[NVME_IDC_CQES] >> 4) < NVME_CQES_LOG2) {
		format(err, errlen, "queue entry sizes 0x%02x/0x%02x do not allow 64/16 bytes",
		       id[NVME_IDC_SQES], id[NVME_IDC_CQES]);
		return -1;
	}
	return 0;
}

/* Identify Namespace for nsid: a block device, or NULL (inactive, or a format not used). */
static struct nvme_ns *namespace_setup(struct nvme_ctrl *c, uint32_t nsid)
{
	const uint8_t *id = c->ident;
	char err[128];

	if (identify(c, NVME_CNS_NAMESPACE, nsid, "Identify namespace", err, sizeof(err)) < 0) {
		printk("%s: namespace %u: %s\n", c->name, nsid, err);
		return NULL;
	}
	uint64_t nsze = rd64(id + NVME_IDNS_NSZE);
	if (!nsze)
		return NULL; /* not active */
	unsigned fmt = id[NVME_IDNS_FLBAS] & 0xf;
	uint32_t lbaf = rd32(id + NVME_IDNS_LBAF + 4 * fmt);
	unsigned lbads = NVME_LBAF_LBADS(lbaf);
	if (fmt > id[NVME_IDNS_NLBAF]) {
		printk("%s: namespace %u: format %u is not one it lists; not used\n", c->name, nsid,
		       fmt);
		return NULL;
	}
	if (NVME_LBAF_MS(lbaf)) {
		printk("%s: namespace %u: %u bytes of metadata per block; not used\n", c->name,
		       nsid, NVME_LBAF_MS(lbaf));
		return NULL;
	}
	if (lbads != 9 && lbads != 12) {
		printk("%s: namespace %u: blocks of 2^%u bytes (512 or 4096 only); not used\n",
		       c->name, nsid, lbads);
		return NULL;
	}
	if (nsze > (UINT64_MAX >> 3)) {
		printk("%s: namespace %u: %lu blocks is too large; not used\n", c->name, nsid, nsze);
		return NULL;
	}
	struct nvme_ns *ns = kzalloc(sizeof(*ns));
	if (!ns) {
		printk("%s: namespace %u: out of memory\n", c->name, nsid);
		return NULL;
	}
	ns->c = c;
	ns->nsid = nsid;
	ns->lba_shift = lbads;
	format(ns->dev.name, sizeof(ns->dev.name), "%sn%u", c->name, nsid);
	ns->dev.sectors = nsze << (lbads - 9);
	ns->dev.block_size = 1u << lbads;
	ns->dev.read_only = id[NVME_IDNS_NSATTR] & 1;
	ns->dev.volatile_cache = c->vwc;
	ns->dev.can_discard = c->oncs & NVME_ONCS_DSM;
	ns->dev.can_write_zeroes = c->oncs & NVME_ONCS_WRITE_ZEROES;
	ns->dev.ops = &nvme_blk_ops;
	ns->dev.priv = ns;
	return ns;
}

static void namespaces_setup(struct nvme_ctrl *c)
{
	uint32_t *ids = kmalloc(NVME_NS_SCAN_MAX * sizeof(uint32_t));
	unsigned count = 0;
	char err[128];

	if (!ids) {
		printk("%s: out of memory for the namespace list\n", c->name);
		return;
	}

	/* the active namespace list (NVMe 1.1), else every identifier up to NN */
	if (c->vs >= 0x00010100 &&
	    identify(c, NVME_CNS_ACTIVE_NS_LIST, 0, "Identify active namespaces", err,
		     sizeof(err)) == 0) {
		for (unsigned i = 0; i < NVME_NS_SCAN_MAX; i++) {
			uint32_t id = rd32(c->ident + 4 * i);
			if (!id)
				break;
			ids[count++] = id;
		}
	} else {
		for (uint32_t id = 1; id <= c->nn && count < NVME_NS_SCAN_MAX; id++)
			ids[count++] = id;
	}
	for (unsigned i = 0; i < count; i++) {
		if (c->nns == NVME_MAX_NS) {
			printk("%s: only the first %u namespaces are used\n", c->name, NVME_MAX_NS);
			break;
		}
		struct nvme_ns *ns = namespace_setup(c, ids[i]);
		if (ns)
			c->ns[c->nns++] = ns;
	}
	kfree(ids);
}

/* Memory for I/O: the command table with a PRP list page each, and the bounce buffers. */
static int io_memory(struct nvme_ctrl *c, char *err, size_t errlen)
{
	c->cmds = kzalloc((size_t)c->depth * sizeof(struct nvme_cmd));
	if (!c->cmds)
		goto short_of_memory;
	for (unsigned i = 0; i < c->depth; i++) {
		uint64_t pa = frame_alloc_zeroed(1);
		if (!pa)
			goto short_of_memory;
		c->cmds[i].list = phys_to_virt(pa);
		c->cmds[i].bounce = -1;
	}
	for (unsigned i = 0; i < NVME_BOUNCE_BUFS; i++) {
		uint64_t pa = frame_alloc_zeroed(NVME_BOUNCE_BYTES / NVME_PAGE_SIZE);
		if (!pa)
			break;
		c->bounce[c->nbounce] = phys_to_virt(pa);
		c->bounce_free |= 1u << c->nbounce++;
	}
	if (!c->nbounce)
		goto short_of_memory;
	return 0;
short_of_memory:
	format(err, errlen, "out of memory for the I/O queue's buffers");
	return -1;
}

/* What a failed probe leaves: a controller that stays off (its deferred entries stay registered). */
static int probe_fail(struct nvme_ctrl *c, char *err, size_t errlen, const char *why)
{
	if (why != err)
		strlcpy_hv(err, why, errlen);
	spin_lock(&c->lock);
	c->state = NVME_OFFLINE;
	reg_wr32(c, NVME_REG_CC, reg_rd32(c, NVME_REG_CC) & ~NVME_CC_EN);
	spin_unlock(&c->lock);
	deferred_set_poll(&c->work, 0);
	deferred_set_poll(&c->watchdog, 0);
	if (c->irq != NVME_IRQ_POLL) {
		pci_msi_disable(c->pci);
		if (c->vector >= 0)
			irqvec_free(c->vector);
	}
	return -1;
}

static int nvme_probe(struct pci_dev *d, char *err, size_t errlen)
{
	volatile uint8_t *regs = pci_probe_mmio_bar(d, 0, 0x2000, err, errlen);
	if (!regs)
		return -1;
	struct nvme_ctrl *c = kzalloc(sizeof(*c));
	if (!c) {
		format(err, errlen, "out of memory");
		return -1;
	}
	c->lock = (spinlock_t)SPINLOCK_INIT;
	c->pci = d;
	c->regs = regs;
	c->index = controllers++;
	format(c->name, sizeof(c->name), "nvme%u", c->index);
	c->probing = true;
	c->vector = -1;
	c->cap = reg_rd64(c, NVME_REG_CAP);
	c->vs = reg_rd32(c, NVME_REG_VS);
	c->dstrd = NVME_CAP_DSTRD(c->cap);
	if (c->cap == ~0ull) {
		format(err, errlen, "the controller does not answer (CAP reads all ones)");
		return -1;
	}
	if (!(NVME_CAP_CSS(c->cap) & NVME_CAP_CSS_NVM)) {
		format(err, errlen, "no NVM command set (CAP.CSS 0x%02x)", NVME_CAP_CSS(c->cap));
		return -1;
	}
	if (NVME_CAP_MPSMIN(c->cap) != 0) {
		format(err, errlen, "smallest memory page %u KiB; the driver uses 4 KiB",
		       4u << NVME_CAP_MPSMIN(c->cap));
		return -1;
	}
	if (nvme_doorbell_offset(NVME_IOQ, 1, c->dstrd) + 4 > d->bar[0].size) {
		format(err, errlen, "BAR0 too small for the doorbells");
		return -1;
	}
	c->to_us = (uint64_t)(NVME_CAP_TO(c->cap) ? NVME_CAP_TO(c->cap) : 1) * 500000;
	c->cc = NVME_CC_CSS_NVM | NVME_CC_MPS(NVME_PAGE_SHIFT) | NVME_CC_AMS_RR |
		NVME_CC_IOSQES(NVME_SQES_LOG2) | NVME_CC_IOCQES(NVME_CQES_LOG2);
	c->depth = NVME_CAP_MQES(c->cap) + 1 < NVME_IO_DEPTH ? (uint16_t)(NVME_CAP_MQES(c->cap) + 1)
							      : NVME_IO_DEPTH;
	nvme_cids_init(&c->cids, (uint16_t)(c->depth - 1));

	/* queue memory: admin pair in one page each, the I/O pair contiguous */
	uint64_t asq = frame_alloc_zeroed(1), acq = frame_alloc_zeroed(1);
	unsigned sq_pages = (c->depth * sizeof(struct nvme_sqe) + NVME_PAGE_SIZE - 1) / NVME_PAGE_SIZE;
	unsigned cq_pages = (c->depth * sizeof(struct nvme_cqe) + NVME_PAGE_SIZE - 1) / NVME_PAGE_SIZE;
	uint64_t sq = frame_alloc_zeroed(sq_pages), cq = frame_alloc_zeroed(cq_pages);
	uint64_t ident = frame_alloc_zeroed(1);
	if (!asq || !acq || !sq || !cq || !ident) {
		format(err, errlen, "out of memory for the queues");
		return -1;
	}
	c->asq = phys_to_virt(asq);
	c->acq = phys_to_virt(acq);
	c->sq = phys_to_virt(sq);
	c->cq = phys_to_virt(cq);
	c->ident = phys_to_virt(ident);

	c->work = (struct deferred){.name = c->name, .fn = nvme_work, .arg = c};
	c->watchdog = (struct deferred){.name = "nvme watchdog", .fn = nvme_watchdog, .arg = c};
	deferred_register(&c->work);
	deferred_register(&c->watchdog);
	const char *irq = irq_setup(c);

	/* bring-up: the reset's steps, looked at here until they end */
	spin_lock(&c->lock);
	begin_disable(c);
	spin_unlock(&c->lock);
	for (;;) {
		spin_lock(&c->lock);
		reset_step(c);
		enum nvme_state s = c->state;
		spin_unlock(&c->lock);
		if (s == NVME_LIVE)
			break;
		if (s == NVME_OFFLINE)
			return probe_fail(c, err, errlen, c->reason);
		udelay(50);
	}
	if (identify_controller(c, err, errlen) < 0 || io_memory(c, err, errlen) < 0)
		return probe_fail(c, err, errlen, err);
	namespaces_setup(c);

	c->probing = false;
	deferred_set_poll(&c->watchdog, NVME_WATCHDOG_US);
	d->driver_data = c;
	d->status = c->name;
	printk("%s: %s (serial %s), 1 I/O queue of %u shared by all CPUs, %s, max transfer %lu KiB, "
	       "volatile cache: %s, %u namespace%s\n",
	       c->name, c->model, c->serial, c->depth, irq, c->max_xfer >> 10,
	       c->vwc ? "yes" : "no", c->nns, c->nns == 1 ? "" : "s");
	c->hbc = (struct hostblk_controller){.name = c->name, .shutdown = nvme_shutdown, .arg = c};
	hostblk_controller_register(&c->hbc);
	for (unsigned i = 0; i < c->nns; i++) {
		struct nvme_ns *ns = c->ns[i];
		if (all_ns_count < NVME_ALL_NS)
			all_ns[all_ns_count++] = ns;
		if (!hostblk_add(&ns->dev, "nvme", c->index, ns->nsid, c->model, c->serial))
			printk("%s: no room for more host disks\n", ns->dev.name);
	}
	return 0;
}

struct blkdev *nvme_namespace(unsigned i)
{
	return i < all_ns_count ? &all_ns[i]->dev : NULL;
}

uint64_t nvme_interrupts(const struct blkdev *ns)
{
	const struct nvme_ns *n = ns->priv;
	return __atomic_load_n(&n->c->interrupts, __ATOMIC_RELAXED);
}

static bool nvme_match(const struct pci_dev *d)
{
	return d->class_base == PCI_CLASS_STORAGE && d->class_sub == PCI_SUBCLASS_NVM &&
	       d->prog_if == 0x02;
}

const struct pci_driver nvme_pci_driver = {
	.name = "nvme",
	.match = nvme_match,
	.probe = nvme_probe,
};
