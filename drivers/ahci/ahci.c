/*
 * AHCI host bus adapters and their ATA disks (see ahci.h); the command
 * building and IDENTIFY parsing it relies on are in ahci_cmd.c.
 *
 * Per port: one page holds the command list (1 KiB) and the received-FIS
 * area; each command slot the driver uses has a one-page command table (248
 * PRDs) and, once needed, a 64 KiB bounce buffer for data that cannot be
 * DMA'd in place. A block request becomes one or more commands; each
 * occupies a slot until it completes.
 *
 * Locking: one spinlock per port covers its slots, queue and counters. No
 * interrupt handler takes it (handlers only raise deferred work), so it is
 * taken with interrupts on. Requests' done() is called only from deferred
 * work (or the shutdown path), after the lock is released: done() may
 * submit again.
 *
 * Slot states: FREE, READY (built, waiting for the port), ISSUED (its bit
 * set in PxCI). After an error whose slot is unknown, the port runs
 * "serial": one command at a time until the suspects have been re-run, so
 * the next failure names its command.
 */
#include "drivers/ahci/ahci.h"

#include "drivers/ahci/ahci_cmd.h"
#include "drivers/ahci/ahci_regs.h"
#include "kernel/blk/blkdev.h"
#include "kernel/blk/hostblk.h"
#include "kernel/cpu/deferred.h"
#include "kernel/cpu/irqvec.h"
#include "kernel/lib/format.h"
#include "kernel/lib/spinlock.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/time/tsc.h"

#define AHCI_SLOTS_USED 16		  /* per port, at most CAP.NCS */
#define AHCI_BOUNCE_BYTES (64u * 1024)	  /* per slot, allocated on first use */
#define AHCI_CMD_TIMEOUT_MS 5000	  /* no command finished for this long: reset */
#define AHCI_RESET_WAIT_MS 10000	  /* link and !BSY after a COMRESET */
#define AHCI_POLL_US 200		  /* without interrupts (and until the first one) */
#define AHCI_WATCHDOG_US 100000		  /* timeouts, lost interrupts, resets' progress */
#define AHCI_MAX_ATTEMPTS 3		  /* issues of one command across port resets */
#define AHCI_SHUTDOWN_MS 10000		  /* draining and the final FLUSH CACHE EXT */
#define AHCI_TRACKERS_INITIAL 32

enum slot_state { SLOT_FREE, SLOT_READY, SLOT_ISSUED };
enum port_state { PORT_RUNNING, PORT_RESETTING, PORT_OFFLINE };

/* A block request in the driver's hands. */
struct ahci_req {
	struct ahci_req *next;
	struct blk_request *r;
	struct ahci_pos pos; /* how far its data has been put into commands */
	int status;
	unsigned inflight; /* its commands in slots */
	bool queued;	   /* on the port's queue: data left to put into commands */
};

struct ahci_slot {
	enum slot_state state;
	struct ahci_req *req;
	uint8_t *table; /* command table (one page); physical == virtual */
	uint8_t *bounce;
	bool bounced; /* this command's data is in the bounce buffer */
	bool write;
	struct ahci_pos pos; /* where its data starts in the request */
	uint64_t lba;
	uint32_t count;
	uint64_t bytes;
	unsigned attempts;
};

struct ahci_ctrl;

struct ahci_port {
	struct ahci_ctrl *ctrl;
	unsigned num;
	volatile uint8_t *regs;
	spinlock_t lock;
	enum port_state state;
	struct blkdev dev; /* dev.name: "sda" once added */
	struct hostblk *hb; /* its entry in the block layer, once added */
	struct ata_identity id;
	struct ahci_cmd_header *cl;
	uint8_t *fis;
	unsigned nslots;
	struct ahci_slot slot[AHCI_SLOTS_USED];
	uint32_t issued;   /* slots set in PxCI by us, not yet seen complete */
	uint32_t suspects; /* slots re-queued after a failure that named none */
	uint32_t ie;	   /* PxIE as set up */
	bool serial;
	uint64_t last_progress_us;
	uint64_t reset_deadline_us;
	struct ahci_req *q_head, *q_tail;
	struct ahci_req *done_head, *done_tail;
	struct ahci_req *free;
	struct ahci_ratelimit rl;
	bool shutting_down;
	uint64_t resets;
	/* the shutdown flush: lives for ever, the machinery may hold it late */
	struct blk_request flush_req;
	int flush_status;
};

struct ahci_ctrl {
	struct pci_dev *pci;
	volatile uint8_t *abar;
	char name[12]; /* "ahci0" */
	uint32_t cap;
	bool s64a;
	const char *irq_mode;
	int vector;
	bool msi;
	uint32_t polling; /* 1 while work is polled; MSI turns it off once an interrupt came */
	uint32_t irq_seen;
	struct ahci_port *port[AHCI_MAX_PORTS];
	struct deferred work, watchdog;
	char work_name[20], watchdog_name[24];
	struct hostblk_controller hc;
};

static unsigned controllers;

/* ---- registers ---- */

#ifdef HV_HOSTED
/* the unit test's model of an HBA answers the driver's register accesses */
uint32_t ahci_test_mmio_read(volatile uint8_t *addr);
void ahci_test_mmio_write(volatile uint8_t *addr, uint32_t v);
#endif

static uint32_t rd(volatile uint8_t *base, unsigned off)
{
#ifdef HV_HOSTED
	return ahci_test_mmio_read(base + off);
#else
	uint32_t v = *(volatile uint32_t *)(base + off);
	__asm__ volatile("" ::: "memory");
	return v;
#endif
}

/* x86 keeps stores in order; the barrier keeps the compiler from moving table writes past this. */
static void wr(volatile uint8_t *base, unsigned off, uint32_t v)
{
#ifdef HV_HOSTED
	ahci_test_mmio_write(base + off, v);
#else
	__asm__ volatile("" ::: "memory");
	*(volatile uint32_t *)(base + off) = v;
#endif
}

static uint64_t now_us(void)
{
	return uptime_us();
}

/* Waits up to ms for (register & mask) == want. */
static bool wait_reg(volatile uint8_t *base, unsigned off, uint32_t mask, uint32_t want,
		     unsigned ms)
{
	for (unsigned i = 0;; i++) {
		if ((rd(base, off) & mask) == want)
			return true;
		if (i >= ms * 10)
			return false;
		udelay(100);
	}
}

/* Physical memory the HBA can reach: below 4 GiB without S64A. */
static void *dma_alloc(struct ahci_ctrl *c, unsigned pages)
{
	uint64_t pa = frame_alloc_zeroed(pages);
	if (!pa)
		return NULL;
	if (!c->s64a && pa + (uint64_t)pages * FRAME_SIZE > (1ull << 32)) {
		frame_free_contig(&host_frames, pa, pages);
		return NULL;
	}
	return phys_to_virt(pa);
}

static uint64_t phys(const void *p)
{
	return (uint64_t)(uintptr_t)p; /* identity map */
}

/* ---- port engine (AHCI §10.1.2, §10.4) ---- */

/* Clears ST and waits for CR to drop (the spec allows 500 ms). */
static bool engine_stop(struct ahci_port *p)
{
	uint32_t cmd = rd(p->regs, AHCI_PxCMD);
	if (cmd & AHCI_PxCMD_ST)
		wr(p->regs, AHCI_PxCMD, cmd & ~AHCI_PxCMD_ST);
	return wait_reg(p->regs, AHCI_PxCMD, AHCI_PxCMD_CR, 0, 500);
}

static bool fis_stop(struct ahci_port *p)
{
	uint32_t cmd = rd(p->regs, AHCI_PxCMD);
	if (cmd & AHCI_PxCMD_FRE)
		wr(p->regs, AHCI_PxCMD, cmd & ~AHCI_PxCMD_FRE);
	return wait_reg(p->regs, AHCI_PxCMD, AHCI_PxCMD_FR, 0, 500);
}

static void engine_start(struct ahci_port *p)
{
	wr(p->regs, AHCI_PxCMD, rd(p->regs, AHCI_PxCMD) | AHCI_PxCMD_ST);
}

/* COMRESET: SCTL.DET = 1 for more than 1 ms, then 0 (SATA: at least 1 ms of COMRESET). */
static void comreset(struct ahci_port *p)
{
	uint32_t sctl = rd(p->regs, AHCI_PxSCTL) & ~AHCI_SCTL_DET_MASK;
	wr(p->regs, AHCI_PxSCTL, sctl | AHCI_SCTL_DET_COMRESET);
	udelay(1500);
	wr(p->regs, AHCI_PxSCTL, sctl);
}

static bool link_up(struct ahci_port *p)
{
	return AHCI_SSTS_DET(rd(p->regs, AHCI_PxSSTS)) == AHCI_SSTS_DET_PRESENT_PHY;
}

static bool device_busy(struct ahci_port *p)
{
	return rd(p->regs, AHCI_PxTFD) & (ATA_STS_BSY | ATA_STS_DRQ);
}

/* ---- trackers ---- */

static struct ahci_req *req_alloc(struct ahci_port *p)
{
	struct ahci_req *t = p->free;
	if (t) {
		p->free = t->next;
		memset(t, 0, sizeof(*t));
		return t;
	}
	return kzalloc(sizeof(*t)); /* never freed: kept on the free list */
}

static void queue_remove(struct ahci_port *p, struct ahci_req *t)
{
	struct ahci_req **pp = &p->q_head, *prev = NULL;
	while (*pp && *pp != t) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (!*pp)
		return;
	*pp = t->next;
	if (p->q_tail == t)
		p->q_tail = prev;
	t->next = NULL;
	t->queued = false;
}

static void count_finished(struct ahci_port *p, struct ahci_req *t)
{
	struct blkdev_stats *st = &p->dev.stats;
	uint64_t bytes = t->r->nsectors * BLK_SECTOR_SIZE;
	switch (t->r->op) {
	case BLK_OP_READ:
		st->reads++;
		if (!t->status)
			st->bytes_read += bytes;
		break;
	case BLK_OP_WRITE:
		st->writes++;
		if (!t->status)
			st->bytes_written += bytes;
		break;
	default:
		st->flushes++;
		break;
	}
	if (t->status)
		st->errors++;
}

/* t is finished once no command of it is in a slot and none is left to build. */
static void maybe_finish(struct ahci_port *p, struct ahci_req *t)
{
	if (t->inflight || t->queued)
		return;
	count_finished(p, t);
	t->next = NULL;
	if (p->done_tail)
		p->done_tail->next = t;
	else
		p->done_head = t;
	p->done_tail = t;
}

static void req_fail(struct ahci_port *p, struct ahci_req *t, int status)
{
	if (!t->status)
		t->status = status;
	if (t->queued)
		queue_remove(p, t);
	maybe_finish(p, t);
}

/* ---- building and issuing commands ---- */

static int free_slot(struct ahci_port *p)
{
	for (unsigned s = 0; s < p->nslots; s++)
		if (p->slot[s].state == SLOT_FREE)
			return (int)s;
	return -1;
}

static const char *cmd_name(const struct ahci_slot *s)
{
	if (!s->req || s->req->r->op == BLK_OP_FLUSH)
		return "FLUSH CACHE EXT";
	return s->write ? "WRITE DMA EXT" : "READ DMA EXT";
}

/* Puts t's next command into slot s: 0, or a blk_status for t. */
static int build(struct ahci_port *p, unsigned s, struct ahci_req *t)
{
	struct ahci_slot *sl = &p->slot[s];
	struct blk_request *r = t->r;
	struct ahci_cmd_header *h = &p->cl[s];
	struct ahci_prd *prd = (struct ahci_prd *)(sl->table + AHCI_CMD_TABLE_PRDT);
	uint32_t bs = p->dev.block_size;

	sl->bounced = false;
	sl->write = false;
	sl->bytes = 0;
	sl->count = 0;
	sl->lba = 0;
	if (r->op == BLK_OP_FLUSH) {
		ahci_fis_flush_ext(sl->table);
		ahci_cmd_header_set(h, phys(sl->table), false, 0);
		queue_remove(p, t);
	} else {
		struct ahci_prdt pt;
		bool write = r->op == BLK_OP_WRITE;
		uint64_t max = (uint64_t)(ATA_EXT_MAX_COUNT - 1) * bs;
		ahci_prdt_init(&pt, prd, AHCI_PRDT_ENTRIES, p->ctrl->s64a);
		struct ahci_chunk ch = ahci_map_chunk(r, &t->pos, bs, max, AHCI_BOUNCE_BYTES, &pt);
		if (!ch.bytes)
			return BLK_EIO;
		if (ch.bounce) {
			if (!sl->bounce)
				sl->bounce = dma_alloc(p->ctrl, AHCI_BOUNCE_BYTES / FRAME_SIZE);
			if (!sl->bounce)
				return BLK_EIO;
			if (write && ahci_bounce_copy(r, &t->pos, sl->bounce, ch.bytes, false) < 0)
				return BLK_EIO; /* not guest RAM */
			if (ahci_prdt_add(&pt, phys(sl->bounce), ch.bytes) != AHCI_PRDT_OK)
				return BLK_EIO;
		}
		uint64_t lba = (r->sector * BLK_SECTOR_SIZE + t->pos.done) / bs;
		uint32_t count = (uint32_t)(ch.bytes / bs);
		if (!ahci_fis_rw_dma_ext(sl->table, write, lba, count))
			return BLK_ERANGE;
		ahci_cmd_header_set(h, phys(sl->table), write, pt.n);
		sl->bounced = ch.bounce;
		sl->write = write;
		sl->pos = t->pos;
		sl->lba = lba;
		sl->count = count;
		sl->bytes = ch.bytes;
		ahci_pos_advance(r, &t->pos, ch.bytes);
		if (t->pos.done >= r->nsectors * BLK_SECTOR_SIZE)
			queue_remove(p, t);
	}
	sl->state = SLOT_READY;
	sl->req = t;
	sl->attempts = 0;
	t->inflight++;
	return 0;
}

static uint32_t ready_mask(struct ahci_port *p)
{
	uint32_t m = 0;
	for (unsigned s = 0; s < p->nslots; s++)
		if (p->slot[s].state == SLOT_READY)
			m |= 1u << s;
	return m;
}

/* Hands READY slots to the HBA: all of them, or one while the port runs serial. */
static void kick(struct ahci_port *p)
{
	uint32_t ready = ready_mask(p);
	if (p->serial && !p->suspects)
		p->serial = false;
	if (!ready)
		return;
	if (p->serial) {
		if (p->issued)
			return;
		uint32_t pick = ready & p->suspects ? ready & p->suspects : ready;
		ready = 1u << __builtin_ctz(pick);
	}
	if (!p->issued)
		p->last_progress_us = now_us();
	for (unsigned s = 0; s < p->nslots; s++)
		if (ready & (1u << s)) {
			p->slot[s].state = SLOT_ISSUED;
			p->cl[s].prdbc = 0;
		}
	p->issued |= ready;
	wr(p->regs, AHCI_PxCI, ready);
}

/* Builds commands for queued requests into free slots and issues them. */
static void issue(struct ahci_port *p)
{
	if (p->state != PORT_RUNNING)
		return;
	for (;;) {
		struct ahci_req *t = p->q_head;
		int s;
		if (!t || (s = free_slot(p)) < 0)
			break;
		int rc = build(p, (unsigned)s, t);
		if (rc)
			req_fail(p, t, rc);
	}
	kick(p);
}

/* Slot s is done (status BLK_OK, or the error its request gets). */
static void complete_slot(struct ahci_port *p, unsigned s, int status)
{
	struct ahci_slot *sl = &p->slot[s];
	struct ahci_req *t = sl->req;
	if (status == BLK_OK && sl->bounced && !sl->write &&
	    ahci_bounce_copy(t->r, &sl->pos, sl->bounce, sl->bytes, true) < 0)
		status = BLK_EIO;
	sl->state = SLOT_FREE;
	sl->req = NULL;
	p->issued &= ~(1u << s);
	p->suspects &= ~(1u << s);
	t->inflight--;
	if (status != BLK_OK)
		req_fail(p, t, status);
	else
		maybe_finish(p, t);
}

/* Slots the HBA has cleared from PxCI (ci) completed without error. */
static void reap(struct ahci_port *p, uint32_t ci)
{
	uint32_t done = p->issued & ~ci;
	if (!done)
		return;
	p->last_progress_us = now_us();
	for (unsigned s = 0; s < p->nslots; s++)
		if (done & (1u << s))
			complete_slot(p, s, BLK_OK);
}

/* ---- errors ---- */

/*
 * Fails back every request on the port. Slots still issued when the engine
 * could not be stopped are abandoned instead: the HBA may still move their
 * data, so their requests never complete and their memory is never reused
 * (a VM keeps its RAM while its disks hold requests).
 */
static void fail_everything(struct ahci_port *p, bool engine_stopped)
{
	for (unsigned s = 0; s < p->nslots; s++) {
		struct ahci_slot *sl = &p->slot[s];
		if (sl->state == SLOT_FREE || (!engine_stopped && sl->state == SLOT_ISSUED))
			continue;
		complete_slot(p, s, BLK_EIO);
	}
	while (p->q_head)
		req_fail(p, p->q_head, BLK_EIO);
}

/* One line, through the block layer so that block-list shows it and new VMs refuse the disk. */
static void go_offline(struct ahci_port *p, const char *why)
{
	p->state = PORT_OFFLINE;
	wr(p->regs, AHCI_PxIE, 0);
	bool stopped = engine_stop(p);
	fail_everything(p, stopped);
	char line[128];
	format(line, sizeof(line), "port %u of %s %s; %s", p->num, p->ctrl->name, why,
	       stopped ? "its I/O fails from now on" : "I/O fails, held commands never complete");
	if (p->hb)
		hostblk_offline(&p->dev, line);
	else
		printk("%s: offline: %s\n", p->dev.name, line);
}

/* The first error line of a burst, then at most one a second carrying the count. */
static void log_error(struct ahci_port *p, const char *what)
{
	uint64_t suppressed;
	if (!ahci_ratelimit_ok(&p->rl, now_us(), 1000000, &suppressed))
		return;
	if (suppressed)
		printk("%s: %s (and %llu more errors since the last line)\n", p->dev.name, what,
		       (unsigned long long)suppressed);
	else
		printk("%s: %s\n", p->dev.name, what);
}

static void log_failure(struct ahci_port *p, uint32_t suspects, uint32_t is, bool timeout)
{
	uint32_t tfd = rd(p->regs, AHCI_PxTFD), serr = rd(p->regs, AHCI_PxSERR);
	char line[200], errs[48], what[80];
	ata_error_names((uint8_t)AHCI_TFD_ERR(tfd), errs, sizeof(errs));
	if (__builtin_popcount(suspects) == 1) {
		const struct ahci_slot *sl = &p->slot[__builtin_ctz(suspects)];
		if (sl->count)
			format(what, sizeof(what), "%s of %u sectors at LBA %llu", cmd_name(sl),
			       sl->count, (unsigned long long)sl->lba);
		else
			format(what, sizeof(what), "%s", cmd_name(sl));
	} else {
		format(what, sizeof(what), "a command (one of %u, re-run one at a time)",
		       (unsigned)__builtin_popcount(suspects));
	}
	if (timeout)
		format(line, sizeof(line), "%s timed out after %u s (status 0x%02x); resetting the port",
		       what, AHCI_CMD_TIMEOUT_MS / 1000, AHCI_TFD_STS(tfd));
	else
		format(line, sizeof(line),
		       "%s failed: status 0x%02x error 0x%02x (%s), PxIS 0x%08x SERR 0x%08x; "
		       "resetting the port",
		       what, AHCI_TFD_STS(tfd), AHCI_TFD_ERR(tfd), errs, is, serr);
	log_error(p, line);
}

/*
 * After a fatal port error or a timeout (AHCI §6.2.2.1), ci being the PxCI
 * read before PxIS. The slots that may hold the failure are the suspects
 * (ahci_error_suspects); a single suspect gets BLK_EIO, several are re-run
 * one at a time so the next failure names its command (each command at most
 * AHCI_MAX_ATTEMPTS times, then failed back; re-running a READ or WRITE is
 * harmless, its buffers are the submitter's until done). The engine is
 * stopped, errors cleared, the device reset with a COMRESET when it stays
 * busy or the link dropped; the port comes back in reset_step().
 */
static void recover(struct ahci_port *p, uint32_t is, uint32_t ci, bool timeout)
{
	uint32_t suspects = ahci_error_suspects(p->issued, ci, timeout);
	uint32_t finished = p->issued & ~suspects;
	for (unsigned s = 0; s < p->nslots; s++)
		if (finished & (1u << s))
			complete_slot(p, s, BLK_OK);
	if (!suspects)
		return; /* a timeout whose commands all finished meanwhile */
	log_failure(p, suspects, is, timeout);
	p->resets++;

	bool stopped = engine_stop(p);
	if (!stopped) {
		go_offline(p, "would not stop its command engine");
		return;
	}
	p->issued = 0;
	/* HBAs that keep PxCI with ST clear run those slots again once ST is set */
	uint32_t stale = rd(p->regs, AHCI_PxCI) & suspects;
	wr(p->regs, AHCI_PxSERR, ~0u);
	wr(p->regs, AHCI_PxIS, ~0u);
	bool single = __builtin_popcount(suspects) == 1;
	bool exhausted = false;
	for (unsigned s = 0; s < p->nslots; s++) {
		uint32_t bit = 1u << s;
		if (!(suspects & bit))
			continue;
		struct ahci_slot *sl = &p->slot[s];
		bool last = ++sl->attempts >= AHCI_MAX_ATTEMPTS;
		if ((single || last) && !(stale & bit)) {
			complete_slot(p, s, BLK_EIO);
			continue;
		}
		exhausted |= last; /* stale: cannot be freed while the HBA may still run it */
		if (stale & bit) {
			sl->state = SLOT_ISSUED;
			p->issued |= bit;
		} else {
			sl->state = SLOT_READY; /* its table is intact: issue it again */
		}
		if (!single)
			p->suspects |= bit;
	}
	if (p->suspects)
		p->serial = true;
	if (exhausted) {
		go_offline(p, "keeps failing a command its controller will not let go of");
		return;
	}
	if (device_busy(p) || !link_up(p)) {
		comreset(p);
		p->state = PORT_RESETTING;
		p->reset_deadline_us = now_us() + AHCI_RESET_WAIT_MS * 1000ull;
		return;
	}
	engine_start(p);
	p->last_progress_us = now_us();
}

/* A port in reset: back in service once the link is up and the device not busy. */
static void reset_step(struct ahci_port *p)
{
	if (link_up(p) && !device_busy(p)) {
		wr(p->regs, AHCI_PxSERR, ~0u);
		wr(p->regs, AHCI_PxIS, ~0u);
		wr(p->regs, AHCI_PxIE, p->ie); /* some HBAs clear it with the port reset */
		engine_start(p);
		p->state = PORT_RUNNING;
		p->last_progress_us = now_us();
		log_error(p, "port reset done, I/O resumes");
		return;
	}
	if (now_us() > p->reset_deadline_us)
		go_offline(p, "did not come back after a reset");
}

/* ---- the port's service: completions, errors, timeouts, more commands ---- */

static void service(struct ahci_port *p, bool watchdog)
{
	if (p->state == PORT_OFFLINE)
		return;
	/*
	 * PxCI before PxIS: an HBA that clears a failed command's PxCI bit sets
	 * TFES with it, so a slot seen cleared here with no error in the PxIS
	 * read after it really completed.
	 */
	uint32_t ci = rd(p->regs, AHCI_PxCI);
	uint32_t is = rd(p->regs, AHCI_PxIS);
	if (is)
		wr(p->regs, AHCI_PxIS, is);
	if (p->state == PORT_RESETTING) {
		reset_step(p);
	} else if (is & AHCI_PxIS_FATAL) {
		recover(p, is, ci, false);
	} else {
		reap(p, ci);
		if (watchdog && p->issued &&
		    now_us() - p->last_progress_us > AHCI_CMD_TIMEOUT_MS * 1000ull)
			recover(p, is, rd(p->regs, AHCI_PxCI), true);
	}
	if (watchdog) {
		uint64_t held = ahci_ratelimit_flush(&p->rl, now_us(), 1000000);
		if (held)
			printk("%s: %llu more errors\n", p->dev.name, (unsigned long long)held);
	}
	issue(p);
}

static bool port_idle(struct ahci_port *p)
{
	return !__atomic_load_n(&p->issued, __ATOMIC_RELAXED) &&
	       !__atomic_load_n(&p->q_head, __ATOMIC_RELAXED) &&
	       !__atomic_load_n(&p->done_head, __ATOMIC_RELAXED) &&
	       __atomic_load_n(&p->state, __ATOMIC_RELAXED) != PORT_RESETTING;
}

/* Services p, then completes what finished with no lock held. */
static void port_run(struct ahci_port *p, bool watchdog)
{
	spin_lock(&p->lock);
	service(p, watchdog);
	struct ahci_req *done = p->done_head;
	p->done_head = p->done_tail = NULL;
	spin_unlock(&p->lock);
	if (!done)
		return;
	struct ahci_req *last = done;
	for (struct ahci_req *t = done; t; t = t->next) {
		t->r->done(t->r, t->status);
		last = t;
	}
	spin_lock(&p->lock);
	last->next = p->free;
	p->free = done;
	spin_unlock(&p->lock);
}

static void ahci_work(void *arg)
{
	struct ahci_ctrl *c = arg;
	if (c->msi && __atomic_load_n(&c->irq_seen, __ATOMIC_RELAXED) &&
	    __atomic_exchange_n(&c->polling, 0, __ATOMIC_ACQ_REL))
		deferred_set_poll(&c->work, 0); /* interrupts arrive: no need to poll */
	/* without interrupts PxIE is 0 and IS stays clear: only busy ports need a look */
	uint32_t his = c->msi ? rd(c->abar, AHCI_IS) : 0;
	for (unsigned n = 0; n < AHCI_MAX_PORTS; n++) {
		struct ahci_port *p = c->port[n];
		if (p && ((his & (1u << n)) || !port_idle(p)))
			port_run(p, false);
	}
	if (his)
		wr(c->abar, AHCI_IS, his);
}

static void ahci_watchdog(void *arg)
{
	struct ahci_ctrl *c = arg;
	for (unsigned n = 0; n < AHCI_MAX_PORTS; n++) {
		struct ahci_port *p = c->port[n];
		/* busy ports: timeouts, lost interrupts; idle ones only for held-back error lines */
		if (p && (!port_idle(p) || __atomic_load_n(&p->rl.suppressed, __ATOMIC_RELAXED)))
			port_run(p, true);
	}
}

static void ahci_irq(void *arg)
{
	struct ahci_ctrl *c = arg;
	__atomic_store_n(&c->irq_seen, 1, __ATOMIC_RELAXED);
	deferred_raise(&c->work);
}

/* ---- block device ---- */

static void enqueue(struct ahci_port *p, struct ahci_req *t)
{
	t->queued = true;
	t->next = NULL;
	if (p->q_tail)
		p->q_tail->next = t;
	else
		p->q_head = t;
	p->q_tail = t;
}

static void ahci_submit(struct blkdev *d, struct blk_request *r)
{
	struct ahci_port *p = d->priv;
	int status = blk_request_check(d, r);
	/* at once: a refusal, a transfer of nothing, a flush with no cache to write back */
	bool now = status != BLK_OK || (r->op != BLK_OP_FLUSH && !r->nsectors) ||
		   (r->op == BLK_OP_FLUSH && !d->volatile_cache);
	if (now) {
		spin_lock(&p->lock);
		if (status != BLK_OK)
			d->stats.errors++;
		else if (r->op == BLK_OP_FLUSH)
			d->stats.flushes++;
		spin_unlock(&p->lock);
		r->done(r, status);
		return;
	}

	spin_lock(&p->lock);
	struct ahci_req *t = NULL;
	if (p->state != PORT_OFFLINE && !p->shutting_down)
		t = req_alloc(p);
	if (!t) {
		d->stats.errors++;
		spin_unlock(&p->lock);
		r->done(r, BLK_EIO);
		return;
	}
	t->r = r;
	enqueue(p, t);
	issue(p);
	bool finished = p->done_head != NULL;
	spin_unlock(&p->lock);
	if (finished)
		deferred_raise(&p->ctrl->work); /* never done() from inside submit */
}

static const struct blkdev_ops ahci_blk_ops = {
	.submit = ahci_submit,
};

/* ---- shutdown: write caches back ---- */

static void flush_done(struct blk_request *r, int status)
{
	struct ahci_port *p = r->ctx;
	__atomic_store_n(&p->flush_status, status, __ATOMIC_RELEASE);
}

static void port_shutdown(struct ahci_port *p)
{
	uint64_t deadline = now_us() + AHCI_SHUTDOWN_MS * 1000ull;
	spin_lock(&p->lock);
	p->shutting_down = true; /* new requests fail from now on */
	bool flush = p->dev.volatile_cache && p->state != PORT_OFFLINE;
	spin_unlock(&p->lock);
	/* let what is in flight finish first: the flush covers completed writes only */
	while (!port_idle(p) && now_us() < deadline) {
		port_run(p, true);
		udelay(100);
	}
	if (!flush)
		return;
	if (!port_idle(p)) {
		printk("%s: requests still in flight at shutdown; cache not flushed\n", p->dev.name);
		return;
	}
	p->flush_req = (struct blk_request){.op = BLK_OP_FLUSH, .done = flush_done, .ctx = p};
	p->flush_status = 1;
	spin_lock(&p->lock);
	struct ahci_req *t = p->state == PORT_OFFLINE ? NULL : req_alloc(p);
	if (t) {
		t->r = &p->flush_req;
		enqueue(p, t);
		issue(p);
	}
	spin_unlock(&p->lock);
	if (!t) {
		printk("%s: write cache not flushed at shutdown (%s)\n", p->dev.name,
		       p->state == PORT_OFFLINE ? "offline" : "no memory");
		return;
	}
	while (__atomic_load_n(&p->flush_status, __ATOMIC_ACQUIRE) == 1 && now_us() < deadline) {
		port_run(p, true);
		udelay(100);
	}
	int st = __atomic_load_n(&p->flush_status, __ATOMIC_ACQUIRE);
	if (st == 1)
		printk("%s: write cache flush did not finish within %u s\n", p->dev.name,
		       AHCI_SHUTDOWN_MS / 1000);
	else if (st != BLK_OK)
		printk("%s: write cache flush failed\n", p->dev.name);
	else
		printk("%s: write cache flushed\n", p->dev.name);
}

static void ahci_shutdown(void *arg)
{
	struct ahci_ctrl *c = arg;
	for (unsigned n = 0; n < AHCI_MAX_PORTS; n++)
		if (c->port[n])
			port_shutdown(c->port[n]);
}

/* ---- bring-up ---- */

/*
 * Runs one command in slot 0 of a port not yet in service, polling: 0, or
 * -1 with PxTFD in *tfd (or all ones on a timeout); -2 when the engine
 * would not stop afterwards (the buffer may still be written to).
 */
static int exec_polled(struct ahci_port *p, uint64_t buf, uint32_t len, unsigned ms,
		       uint32_t *tfd)
{
	struct ahci_slot *sl = &p->slot[0];
	struct ahci_prdt pt;
	ahci_prdt_init(&pt, (struct ahci_prd *)(sl->table + AHCI_CMD_TABLE_PRDT), AHCI_PRDT_ENTRIES,
		       p->ctrl->s64a);
	if (len && ahci_prdt_add(&pt, buf, len) != AHCI_PRDT_OK)
		return -1;
	ahci_cmd_header_set(&p->cl[0], phys(sl->table), false, pt.n);
	wr(p->regs, AHCI_PxIS, ~0u);
	wr(p->regs, AHCI_PxCI, 1);
	bool failed = false;
	for (unsigned i = 0; i <= ms * 10; i++) {
		/* PxCI first: an HBA that clears a failed command's bit sets TFES with it */
		uint32_t ci = rd(p->regs, AHCI_PxCI);
		failed = rd(p->regs, AHCI_PxIS) & AHCI_PxIS_FATAL;
		if (failed)
			break;
		if (!(ci & 1)) {
			wr(p->regs, AHCI_PxIS, ~0u);
			return 0;
		}
		udelay(100);
	}
	*tfd = failed ? rd(p->regs, AHCI_PxTFD) : ~0u;
	bool stopped = engine_stop(p); /* clears PxCI */
	wr(p->regs, AHCI_PxSERR, ~0u);
	wr(p->regs, AHCI_PxIS, ~0u);
	return stopped ? -1 : -2;
}

static const char *signature_name(uint32_t sig)
{
	switch (sig) {
	case AHCI_SIG_ATAPI:
		return "an ATAPI device (CD/DVD)";
	case AHCI_SIG_PM:
		return "a port multiplier";
	case AHCI_SIG_SEMB:
		return "an enclosure management bridge";
	default:
		return "a device with an unknown signature";
	}
}

/*
 * Waits for the link. A port showing a device but no link gets one
 * COMRESET; one showing nothing after 50 ms is empty.
 */
static bool bring_link_up(struct ahci_port *p)
{
	/* the firmware may have left the phy off (SCTL.DET = 4) */
	uint32_t sctl = rd(p->regs, AHCI_PxSCTL);
	if (sctl & AHCI_SCTL_DET_MASK)
		wr(p->regs, AHCI_PxSCTL, sctl & ~AHCI_SCTL_DET_MASK);
	if (wait_reg(p->regs, AHCI_PxSSTS, 0xf, AHCI_SSTS_DET_PRESENT_PHY, 50))
		return true;
	if (AHCI_SSTS_DET(rd(p->regs, AHCI_PxSSTS)) == 0)
		return false;
	comreset(p);
	return wait_reg(p->regs, AHCI_PxSSTS, 0xf, AHCI_SSTS_DET_PRESENT_PHY, 200);
}

/*
 * Brings port n up and identifies its disk: 0 (a disk, engine running,
 * interrupts off), 1 (nothing to use: said or quiet), -1 (reason in err).
 */
static int port_setup(struct ahci_ctrl *c, struct ahci_port *p, unsigned n, char *err,
		      size_t errlen)
{
	p->ctrl = c;
	p->num = n;
	p->regs = c->abar + AHCI_PORT_BASE(n);
	p->lock = (spinlock_t)SPINLOCK_INIT;
	format(p->dev.name, sizeof(p->dev.name), "%s port %u", c->name, n);

	/* the firmware may have left the port running, on its own memory */
	if (!engine_stop(p) || !fis_stop(p)) {
		format(err, errlen, "its command engine would not stop (PxCMD 0x%08x)",
		       rd(p->regs, AHCI_PxCMD));
		return -1;
	}
	uint8_t *page = dma_alloc(c, 1);
	if (!page) {
		format(err, errlen, "no memory for its command list");
		return -1;
	}
	p->cl = (struct ahci_cmd_header *)page;
	p->fis = page + AHCI_CMD_LIST_BYTES;
	wr(p->regs, AHCI_PxCLB, (uint32_t)phys(p->cl));
	wr(p->regs, AHCI_PxCLBU, (uint32_t)(phys(p->cl) >> 32));
	wr(p->regs, AHCI_PxFB, (uint32_t)phys(p->fis));
	wr(p->regs, AHCI_PxFBU, (uint32_t)(phys(p->fis) >> 32));
	wr(p->regs, AHCI_PxIE, 0);
	wr(p->regs, AHCI_PxSERR, ~0u);
	wr(p->regs, AHCI_PxIS, ~0u);
	/* receive FISes (the signature's too), power on and spin up */
	uint32_t cmd = (rd(p->regs, AHCI_PxCMD) & ~AHCI_PxCMD_ICC_MASK) | AHCI_PxCMD_ICC_ACTIVE |
		       AHCI_PxCMD_FRE | AHCI_PxCMD_POD | AHCI_PxCMD_SUD;
	wr(p->regs, AHCI_PxCMD, cmd);

	if (!bring_link_up(p))
		return 1; /* empty: quiet */
	wr(p->regs, AHCI_PxSERR, ~0u);
	if (!wait_reg(p->regs, AHCI_PxTFD, ATA_STS_BSY | ATA_STS_DRQ, 0, AHCI_RESET_WAIT_MS)) {
		format(err, errlen, "the device stays busy (status 0x%02x)",
		       AHCI_TFD_STS(rd(p->regs, AHCI_PxTFD)));
		return -1;
	}
	uint32_t sig = rd(p->regs, AHCI_PxSIG);
	if (sig != AHCI_SIG_ATA) {
		printk("%s port %u: %s (signature 0x%08x), not used\n", c->name, n,
		       signature_name(sig), sig);
		return 1;
	}

	p->nslots = AHCI_CAP_NCS(c->cap) < AHCI_SLOTS_USED ? AHCI_CAP_NCS(c->cap) : AHCI_SLOTS_USED;
	uint8_t *tables = dma_alloc(c, p->nslots);
	if (!tables) {
		format(err, errlen, "no memory for its command tables");
		return -1;
	}
	for (unsigned s = 0; s < p->nslots; s++)
		p->slot[s].table = tables + (size_t)s * AHCI_CMD_TABLE_BYTES;
	engine_start(p);

	uint8_t *idbuf = dma_alloc(c, 1);
	if (!idbuf) {
		format(err, errlen, "no memory for IDENTIFY");
		return -1;
	}
	uint32_t tfd = 0;
	ahci_fis_identify(p->slot[0].table);
	int rc = exec_polled(p, phys(idbuf), 512, 5000, &tfd);
	bool keep = rc == -2; /* the HBA may still write there: never reused */
	if (rc == 0)
		rc = ata_identify_parse(idbuf, &p->id, err, errlen);
	else if (tfd == ~0u)
		format(err, errlen, "IDENTIFY DEVICE timed out");
	else
		format(err, errlen, "IDENTIFY DEVICE failed (status 0x%02x error 0x%02x)",
		       AHCI_TFD_STS(tfd), AHCI_TFD_ERR(tfd));
	if (!keep)
		frame_free(&host_frames, phys(idbuf));
	if (rc == 0)
		rc = ata_identity_usable(&p->id, err, errlen);
	if (rc < 0) {
		engine_stop(p);
		return -1;
	}

	p->dev.sectors = ata_identity_sectors512(&p->id);
	p->dev.block_size = p->id.logical_size;
	p->dev.read_only = false;
	p->dev.volatile_cache = p->id.write_cache_on;
	p->dev.can_discard = false;
	p->dev.can_write_zeroes = false;
	p->dev.ops = &ahci_blk_ops;
	p->dev.priv = p;
	p->state = PORT_RUNNING;
	for (unsigned i = 0; i < AHCI_TRACKERS_INITIAL; i++) {
		struct ahci_req *t = kzalloc(sizeof(*t));
		if (!t)
			break;
		t->next = p->free;
		p->free = t;
	}
	return 0;
}

/* A port not used: stopped, and its memory given back unless the HBA may still write to it. */
static void port_release(struct ahci_port *p)
{
	bool stopped = p->regs && engine_stop(p) && fis_stop(p);
	if (stopped && p->cl) {
		frame_free(&host_frames, phys(p->cl));
		if (p->slot[0].table)
			frame_free_contig(&host_frames, phys(p->slot[0].table), p->nslots);
	}
	kfree(p);
}

/* Takes the HBA from the firmware where it supports the BIOS/OS handoff (AHCI §10.6). */
static void bios_handoff(struct ahci_ctrl *c)
{
	if (!(rd(c->abar, AHCI_CAP2) & AHCI_CAP2_BOH))
		return;
	wr(c->abar, AHCI_BOHC, rd(c->abar, AHCI_BOHC) | AHCI_BOHC_OOS);
	if (wait_reg(c->abar, AHCI_BOHC, AHCI_BOHC_BOS, 0, 25))
		return;
	/* BIOS busy: it may take up to 2 s to finish what it is doing */
	if (!wait_reg(c->abar, AHCI_BOHC, AHCI_BOHC_BOS | AHCI_BOHC_BB, 0, 2000))
		printk("%s: the firmware did not hand the controller over; taking it anyway\n",
		       c->name);
}

/* MSI, else MSI-X, else polling. */
static void setup_interrupts(struct ahci_ctrl *c)
{
	uint32_t apic_id = 0;
	c->irq_mode = "polling";
	c->vector = irqvec_alloc(irqvec_pick_cpu(), ahci_irq, c, &apic_id);
	if (c->vector >= 0) {
		if (pci_msi_enable(c->pci, (uint8_t)c->vector, apic_id)) {
			c->msi = true;
			c->irq_mode = "MSI";
		} else if (pci_msix_enable(c->pci) > 0 &&
			   pci_msix_set(c->pci, 0, (uint8_t)c->vector, apic_id)) {
			pci_msix_unmask_function(c->pci);
			c->msi = true;
			c->irq_mode = "MSI-X";
		} else {
			pci_msi_disable(c->pci);
			irqvec_free(c->vector);
			c->vector = -1;
		}
	}
	format(c->work_name, sizeof(c->work_name), "%s", c->name);
	format(c->watchdog_name, sizeof(c->watchdog_name), "%s watchdog", c->name);
	/* polled at first even with MSI: boot-time I/O may run with interrupts off */
	c->work = (struct deferred){.name = c->work_name, .fn = ahci_work, .arg = c,
				    .poll_us = AHCI_POLL_US};
	c->polling = 1;
	c->watchdog = (struct deferred){.name = c->watchdog_name, .fn = ahci_watchdog, .arg = c,
					.poll_us = AHCI_WATCHDOG_US};
	deferred_register(&c->work);
	deferred_register(&c->watchdog);

	uint32_t ie = AHCI_PxIS_DHRS | AHCI_PxIS_PSS | AHCI_PxIS_DSS | AHCI_PxIS_SDBS |
		      AHCI_PxIS_UFS | AHCI_PxIS_DPS | AHCI_PxIS_FATAL | AHCI_PxIS_INFS;
	for (unsigned n = 0; n < AHCI_MAX_PORTS; n++)
		if (c->port[n]) {
			c->port[n]->ie = c->msi ? ie : 0;
			wr(c->port[n]->regs, AHCI_PxIS, ~0u);
			wr(c->port[n]->regs, AHCI_PxIE, c->port[n]->ie);
		}
	wr(c->abar, AHCI_IS, ~0u);
	if (c->msi)
		wr(c->abar, AHCI_GHC, rd(c->abar, AHCI_GHC) | AHCI_GHC_IE);
}

static bool ahci_match(const struct pci_dev *d)
{
	return d->class_base == PCI_CLASS_STORAGE && d->class_sub == PCI_SUBCLASS_SATA &&
	       d->prog_if == 0x01;
}

static int ahci_probe(struct pci_dev *d, char *err, size_t errlen)
{
	const struct pci_bar *bar = &d->bar[5];
	if (!bar->size || bar->io || !bar->base) {
		format(err, errlen, "no memory BAR5 (ABAR)");
		return -1;
	}
	struct ahci_ctrl *c = kzalloc(sizeof(*c));
	if (!c) {
		format(err, errlen, "out of memory");
		return -1;
	}
	c->pci = d;
	format(c->name, sizeof(c->name), "ahci%u", controllers);
	pci_enable(d, true, false, true);
	c->abar = pci_bar_map(d, 5);
	if (!c->abar) {
		format(err, errlen, "BAR5 (ABAR) could not be mapped");
		kfree(c);
		return -1;
	}

	bios_handoff(c);
	/* AHCI mode on (a no-op where CAP.SAM makes it read-only), interrupts off for now */
	uint32_t ghc = rd(c->abar, AHCI_GHC);
	wr(c->abar, AHCI_GHC, (ghc | AHCI_GHC_AE) & ~AHCI_GHC_IE);
	c->cap = rd(c->abar, AHCI_CAP);
	c->s64a = c->cap & AHCI_CAP_S64A;
	uint32_t pi = rd(c->abar, AHCI_PI);
	if (!pi) /* some firmware leaves PI zero: every port CAP.NP counts */
		pi = AHCI_CAP_NP(c->cap) >= 32 ? ~0u : (1u << AHCI_CAP_NP(c->cap)) - 1;
	uint32_t vs = rd(c->abar, AHCI_VS);

	unsigned disks = 0;
	for (unsigned n = 0; n < AHCI_MAX_PORTS; n++) {
		if (!(pi & (1u << n)))
			continue;
		struct ahci_port *p = kzalloc(sizeof(*p));
		if (!p) {
			printk("%s port %u: out of memory\n", c->name, n);
			break;
		}
		char why[128] = "";
		int rc = port_setup(c, p, n, why, sizeof(why));
		if (rc == 0) {
			c->port[n] = p;
			disks++;
			continue;
		}
		if (rc < 0)
			printk("%s port %u: %s; not used\n", c->name, n, why);
		port_release(p);
	}
	if (disks)
		setup_interrupts(c);
	else
		c->irq_mode = "left idle";
	controllers++;
	d->driver_data = c;
	d->status = c->name;
	printk("%s: AHCI %x.%x, %u ports (PI 0x%08x), %u command slots, %s DMA, NCQ %s, %u disk%s, "
	       "%s\n",
	       c->name, vs >> 16, (vs >> 8) & 0xff, AHCI_CAP_NP(c->cap), pi, AHCI_CAP_NCS(c->cap),
	       c->s64a ? "64-bit" : "32-bit", c->cap & AHCI_CAP_SNCQ ? "yes (not used)" : "no",
	       disks, disks == 1 ? "" : "s", c->irq_mode);

	/* in port order: hostblk names them sda, sdb, ... and reads their GPTs now */
	for (unsigned n = 0; n < AHCI_MAX_PORTS; n++) {
		struct ahci_port *p = c->port[n];
		if (!p)
			continue;
		char line[256];
		struct hostblk *hb = hostblk_add(&p->dev, "sd", 0, 0, p->id.model, p->id.serial);
		if (!hb) {
			printk("%s port %u: no room for another host disk; not used\n", c->name, n);
			continue;
		}
		p->hb = hb;
		ahci_disk_line(line, sizeof(line), hb->name, &p->id, n, c->name, c->irq_mode);
		printk("%s\n", line);
	}
	if (disks) {
		c->hc = (struct hostblk_controller){.name = c->name, .shutdown = ahci_shutdown,
						    .arg = c};
		hostblk_controller_register(&c->hc);
	}
	return 0;
}

const struct pci_driver ahci_pci_driver = {
	.name = "ahci",
	.match = ahci_match,
	.probe = ahci_probe,
};
