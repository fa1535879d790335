// SOURCES: drivers/nvme/nvme.c drivers/nvme/nvme_queue.c kernel/blk/blk_check.c kernel/lib/format.c kernel/lib/string.c
/*
 * The NVMe driver against a fake controller: a register file and queues in
 * memory that a step function serves as a controller would (enable and
 * disable, admin commands, reads and writes through the PRPs, interrupts),
 * strict about the PRP rules and MDTS, and able to hold commands, fail
 * them, ignore aborts or refuse to come back after a reset. Time, deferred
 * work, PCI, interrupt vectors and hostblk are fakes the test drives.
 *
 * Covered: bring-up and namespaces, reads and writes through scattered
 * guest pages, MDTS splits, bounce buffers, misaligned segments, 4 KiB
 * blocks, flush/discard/write-zeroes, error logging with suppression, a
 * full queue, timeouts (abort, reset, offline), interrupts, MSI and
 * polling, shutdown, refused controllers, and the completion contract
 * (no done inside another request's submit, none with the lock held).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/nvme/nvme.h"
#include "drivers/nvme/nvme_queue.h"
#include "drivers/nvme/nvme_regs.h"
#include "kernel/blk/blkdev.h"
#include "kernel/blk/hostblk.h"
#include "kernel/cpu/deferred.h"
#include "kernel/cpu/irqvec.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/time/tsc.h"

#define PG 4096u

/* Controllers live for ever in the driver (as at boot); the test makes many. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

/* ---- the log ---- */

static char logbuf[1 << 16];
static size_t loglen;

void printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(logbuf + loglen, sizeof(logbuf) - loglen, fmt, ap);
	va_end(ap);
	if (getenv("NVME_TEST_LOG"))
		fputs(logbuf + loglen, stdout);
	if (n > 0 && (size_t)n < sizeof(logbuf) - loglen)
		loglen += (size_t)n;
}

static void assert_logged(const char *s)
{
	if (!strstr(logbuf, s))
		fail_msg("log lacks \"%s\"; log:\n%s", s, logbuf);
}

static unsigned log_count(const char *s)
{
	unsigned n = 0;
	for (const char *p = logbuf; (p = strstr(p, s)); p++)
		n++;
	return n;
}

/* ---- memory ---- */

void *kmalloc(size_t size)
{
	return malloc(size);
}

void *kzalloc(size_t size)
{
	return calloc(1, size);
}

void kfree(void *p)
{
	free(p);
}

uint64_t frame_alloc_zeroed(unsigned n)
{
	void *p = aligned_alloc(PG, (size_t)n * PG);
	memset(p, 0, (size_t)n * PG);
	return (uint64_t)(uintptr_t)p;
}

/* ---- time ---- */

static uint64_t now;
static void dev_step(void);

uint64_t uptime_us(void)
{
	return now;
}

void udelay(uint64_t us)
{
	now += us;
	dev_step();
}

/* ---- deferred work ---- */

#define DEFS_MAX 16
static struct deferred *defs[DEFS_MAX];
static unsigned ndefs;

void deferred_register(struct deferred *d)
{
	d->pending = 0;
	assert_true(ndefs < DEFS_MAX);
	defs[ndefs++] = d;
}

void deferred_raise(struct deferred *d)
{
	d->pending = 1;
}

void deferred_set_poll(struct deferred *d, uint64_t poll_us)
{
	d->poll_us = poll_us;
}

/* The latest controller's entries. */
static struct deferred *watchdog(void)
{
	for (unsigned i = ndefs; i--;)
		if (!strcmp(defs[i]->name, "nvme watchdog"))
			return defs[i];
	fail_msg("no watchdog registered");
	return NULL;
}

static struct deferred *work(void)
{
	for (unsigned i = ndefs; i--;)
		if (strcmp(defs[i]->name, "nvme watchdog"))
			return defs[i];
	fail_msg("no work registered");
	return NULL;
}

/* What raised work there is, run as the safe points would. */
static void run_raised(void)
{
	for (bool again = true; again;) {
		again = false;
		for (unsigned i = 0; i < ndefs; i++)
			if (defs[i]->pending) {
				defs[i]->pending = 0;
				defs[i]->fn(defs[i]->arg);
				again = true;
			}
	}
}

/* Time passes: the controller works, polled entries whose period fits run, then raised ones. */
static void advance(uint64_t us)
{
	now += us;
	dev_step();
	for (unsigned i = 0; i < ndefs; i++)
		if (defs[i]->poll_us && defs[i]->poll_us <= us)
			defs[i]->fn(defs[i]->arg);
	run_raised();
	dev_step();
	run_raised();
}

/* ---- interrupts and PCI ---- */

static irqvec_handler_t irq_fn;
static void *irq_arg;
static unsigned msix_vectors;
static bool msi_ok;
static unsigned msix_sets;

int irqvec_alloc(unsigned cpu_index, irqvec_handler_t handler, void *arg, uint32_t *apic_id)
{
	(void)cpu_index;
	irq_fn = handler;
	irq_arg = arg;
	*apic_id = 1;
	return 0x41;
}

void irqvec_free(int vector)
{
	(void)vector;
	irq_fn = NULL;
}

unsigned irqvec_pick_cpu(void)
{
	return 1;
}

static struct pci_dev pdev;
static uint16_t pci_cmd;

uint16_t pci_read16(const struct pci_dev *d, uint16_t off)
{
	(void)d;
	return off == PCI_COMMAND ? pci_cmd : 0;
}

void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v)
{
	(void)d;
	if (off == PCI_COMMAND)
		pci_cmd = v;
}

void pci_enable(struct pci_dev *d, bool mem, bool io, bool master)
{
	(void)d;
	pci_cmd |= (mem ? PCI_CMD_MEM : 0) | (io ? PCI_CMD_IO : 0) | (master ? PCI_CMD_MASTER : 0);
}

static uint8_t *bar_regs(void);

volatile void *pci_bar_map(struct pci_dev *d, unsigned i)
{
	(void)d;
	return i == 0 ? bar_regs() : NULL;
}

/* As kernel/pci/pci_host.c's, over the fake BAR. */
volatile uint8_t *pci_probe_mmio_bar(struct pci_dev *d, unsigned i, uint64_t min_size, char *err,
				     size_t errlen)
{
	if (d->bar[i].io || d->bar[i].size < min_size || !d->bar[i].base) {
		snprintf(err, errlen, "BAR%u is not a memory BAR of at least %llu KiB", i,
			 (unsigned long long)(min_size >> 10));
		return NULL;
	}
	pci_enable(d, true, false, true);
	return pci_bar_map(d, i);
}

unsigned pci_msix_enable(struct pci_dev *d)
{
	(void)d;
	return msix_vectors;
}

bool pci_msix_set(struct pci_dev *d, unsigned idx, uint8_t vector, uint32_t apic_id)
{
	(void)d;
	(void)vector;
	(void)apic_id;
	assert_int_equal(idx, 0);
	msix_sets++;
	return true;
}

void pci_msix_unmask_function(struct pci_dev *d)
{
	(void)d;
}

bool pci_msi_enable(struct pci_dev *d, uint8_t vector, uint32_t apic_id)
{
	(void)d;
	(void)vector;
	(void)apic_id;
	return msi_ok;
}

void pci_msi_disable(struct pci_dev *d)
{
	(void)d;
}

/* ---- hostblk ---- */

static struct blkdev *disks[8];
static unsigned ndisks;
static struct hostblk_controller *hbc;
static unsigned add_ctrl[8], add_nsid[8];
static char add_model[64], add_serial[32];
static uint8_t sector0[4096];
static int sector0_status;

static void sync_read(struct blkdev *d, uint64_t sector, void *buf, uint32_t bytes, int *status);

struct hostblk *hostblk_add(struct blkdev *dev, const char *kind, unsigned ctrl, unsigned nsid,
			    const char *model, const char *serial)
{
	static struct hostblk hb;
	assert_string_equal(kind, "nvme");
	add_ctrl[ndisks] = ctrl;
	add_nsid[ndisks] = nsid;
	snprintf(add_model, sizeof(add_model), "%s", model);
	snprintf(add_serial, sizeof(add_serial), "%s", serial);
	disks[ndisks++] = dev;
	/* the real one reads the GPT at once, through the driver's I/O path */
	if (ndisks == 1)
		sync_read(dev, 0, sector0, dev->block_size, &sector0_status);
	return &hb;
}

void hostblk_controller_register(struct hostblk_controller *c)
{
	hbc = c;
}

/* ---- the fake controller ---- */

#define BAR_SIZE 0x4000
#define HELD_MAX 64

struct fq {
	uint64_t base;
	uint16_t size, head, tail;
	uint8_t phase;
	bool ien, live;
};

struct fns {
	uint64_t nsze;
	unsigned lbads, ms;
	uint8_t *data;
	uint64_t data_blocks; /* what is stored; beyond reads as zeroes */
};

static struct fdev {
	_Alignas(4096) uint8_t regs[BAR_SIZE];
	bool rdy;
	unsigned enables;
	struct fq sq[2], cq[2];
	/* configuration */
	uint16_t mqes;
	uint8_t mdts, acl;
	bool vwc;
	uint16_t oncs;
	struct fns ns[4];
	unsigned nns;
	bool never_ready, stuck_disable, refuse_reenable, cfs_on_enable;
	bool hold_all, abort_ignored;
	uint64_t fail_lba;
	bool fail_on;
	uint16_t held[HELD_MAX];
	unsigned nheld;
	/* what it saw */
	unsigned reads, writes, flushes, dsms, wzs, aborts, prp_errors, mdts_violations, irqs;
	uint32_t max_nlb, last_wz_nlb;
	uint64_t last_dsm_slba, last_dsm_nlb;
	uint32_t last_cc;
} dev;

static uint8_t *bar_regs(void)
{
	return dev.regs;
}

static uint32_t r32(uint32_t off)
{
	uint32_t v;
	memcpy(&v, dev.regs + off, 4);
	return v;
}

static void w32(uint32_t off, uint32_t v)
{
	memcpy(dev.regs + off, &v, 4);
}

static uint64_t r64(uint32_t off)
{
	return (uint64_t)r32(off + 4) << 32 | r32(off);
}

static void dev_config(void)
{
	uint64_t cap = dev.mqes | (1ull << 16) /* CQR */ | (2ull << 24) /* TO: 1 s */ |
		       (1ull << 37) /* NVM */;
	w32(NVME_REG_CAP, (uint32_t)cap);
	w32(NVME_REG_CAP + 4, (uint32_t)(cap >> 32));
	w32(NVME_REG_VS, 0x00010400);
}

static void post(unsigned q, uint16_t cid, uint16_t sf, uint32_t dw0)
{
	struct fq *c = &dev.cq[q];
	struct nvme_cqe *ring = (struct nvme_cqe *)(uintptr_t)c->base;
	uint16_t head_db = (uint16_t)r32(0x1000 + 8 * q + 4);

	if ((c->tail + 1) % c->size == head_db)
		fail_msg("completion queue %u overflows: the driver does not consume", q);
	ring[c->tail] = (struct nvme_cqe){.dw0 = dw0,
					  .sqhd = dev.sq[q].head,
					  .sqid = (uint16_t)q,
					  .cid = cid,
					  .status = (uint16_t)(sf << 1 | c->phase)};
	if (++c->tail == c->size) {
		c->tail = 0;
		c->phase ^= 1;
	}
	if (c->ien && irq_fn) {
		dev.irqs++;
		irq_fn(irq_arg);
	}
}

/* Moves bytes between buf and host memory as the PRPs say, strictly. */
static bool prp_copy(uint64_t prp1, uint64_t prp2, uint8_t *buf, uint64_t bytes, bool to_mem)
{
#define XFER(addr, p, n) (to_mem ? memcpy((void *)(uintptr_t)(addr), (p), (n)) \
				 : memcpy((p), (void *)(uintptr_t)(addr), (n)))
	uint64_t first = PG - (prp1 & (PG - 1)), rest;

	if (prp1 & 3)
		return false;
	if (first > bytes)
		first = bytes;
	XFER(prp1, buf, first);
	buf += first;
	rest = bytes - first;
	if (!rest)
		return true;
	if (rest <= PG) {
		if (prp2 & (PG - 1))
			return false;
		XFER(prp2, buf, rest);
		return true;
	}
	if (prp2 & 7)
		return false;
	uint64_t *page = (uint64_t *)(uintptr_t)(prp2 & ~(uint64_t)(PG - 1));
	unsigned slot = (unsigned)((prp2 & (PG - 1)) / 8);
	while (rest) {
		if (slot == 511 && rest > PG) {
			if (page[511] & (PG - 1))
				return false;
			page = (uint64_t *)(uintptr_t)page[511];
			slot = 0;
			continue;
		}
		uint64_t e = page[slot++], take = rest < PG ? rest : PG;
		if (e & (PG - 1))
			return false;
		XFER(e, buf, take);
		buf += take;
		rest -= take;
	}
	return true;
#undef XFER
}

static void identify(const struct nvme_sqe *e)
{
	uint8_t *b = (uint8_t *)(uintptr_t)e->prp1;
	unsigned cns = e->cdw10 & 0xff;

	memset(b, 0, PG);
	if (cns == NVME_CNS_CONTROLLER) {
		memset(b + NVME_IDC_SN, ' ', 20);
		memcpy(b + NVME_IDC_SN, "hv0", 3);
		memset(b + NVME_IDC_MN, ' ', 40);
		memcpy(b + NVME_IDC_MN, "Fake NVMe Ctrl", 14);
		b[NVME_IDC_MDTS] = dev.mdts;
		b[NVME_IDC_ACL] = dev.acl;
		b[NVME_IDC_SQES] = 0x66;
		b[NVME_IDC_CQES] = 0x44;
		uint32_t nn = dev.nns;
		memcpy(b + NVME_IDC_NN, &nn, 4);
		memcpy(b + NVME_IDC_ONCS, &dev.oncs, 2);
		b[NVME_IDC_VWC] = dev.vwc;
	} else if (cns == NVME_CNS_NAMESPACE) {
		if (e->nsid >= 1 && e->nsid <= dev.nns) {
			const struct fns *n = &dev.ns[e->nsid - 1];
			uint32_t lbaf = n->lbads << 16 | n->ms;
			memcpy(b + NVME_IDNS_NSZE, &n->nsze, 8);
			memcpy(b + NVME_IDNS_NCAP, &n->nsze, 8);
			b[NVME_IDNS_NLBAF] = 0;
			b[NVME_IDNS_FLBAS] = 0;
			memcpy(b + NVME_IDNS_LBAF, &lbaf, 4);
		}
	} else if (cns == NVME_CNS_ACTIVE_NS_LIST) {
		unsigned k = 0;
		for (uint32_t id = 1; id <= dev.nns; id++)
			if (id > e->nsid && dev.ns[id - 1].nsze) {
				memcpy(b + 4 * k, &id, 4);
				k++;
			}
	}
}

static void exec_admin(const struct nvme_sqe *e)
{
	switch (e->opcode) {
	case NVME_ADMIN_IDENTIFY:
		identify(e);
		post(0, e->cid, 0, 0);
		return;
	case NVME_ADMIN_SET_FEATURES:
		assert_int_equal(e->cdw10 & 0xff, NVME_FEAT_NUM_QUEUES);
		post(0, e->cid, 0, 0);
		return;
	case NVME_ADMIN_CREATE_CQ:
		assert_int_equal(e->cdw10 & 0xffff, 1);
		assert_int_equal(e->prp1 & (PG - 1), 0);
		dev.cq[1] = (struct fq){.base = e->prp1,
					.size = (uint16_t)((e->cdw10 >> 16) + 1),
					.phase = 1,
					.ien = (e->cdw11 & NVME_CQ_IEN) != 0,
					.live = true};
		assert_true(dev.cq[1].size <= dev.mqes + 1u);
		post(0, e->cid, 0, 0);
		return;
	case NVME_ADMIN_CREATE_SQ:
		assert_int_equal(e->cdw10 & 0xffff, 1);
		assert_int_equal(e->cdw11 >> 16, 1);
		assert_true(dev.cq[1].live);
		dev.sq[1] = (struct fq){.base = e->prp1,
					.size = (uint16_t)((e->cdw10 >> 16) + 1),
					.live = true};
		post(0, e->cid, 0, 0);
		return;
	case NVME_ADMIN_ABORT: {
		uint16_t target = (uint16_t)(e->cdw10 >> 16);
		dev.aborts++;
		assert_int_equal(e->cdw10 & 0xffff, 1);
		for (unsigned i = 0; i < dev.nheld && !dev.abort_ignored; i++)
			if (dev.held[i] == target) {
				dev.held[i] = dev.held[--dev.nheld];
				post(1, target, NVME_SC_ABORT_REQUESTED, 0);
				post(0, e->cid, 0, 0);
				return;
			}
		post(0, e->cid, 0, 1); /* not aborted */
		return;
	}
	default:
		post(0, e->cid, 0x01, 0); /* invalid opcode */
	}
}

/* The namespace's blocks [lba, lba + n) to or from buf. */
static void ns_io(struct fns *n, uint64_t lba, uint64_t blocks, uint8_t *buf, bool store)
{
	uint64_t bs = 1ull << n->lbads;
	for (uint64_t i = 0; i < blocks; i++) {
		uint8_t *b = buf ? buf + i * bs : NULL;
		if (lba + i >= n->data_blocks) {
			if (!store && b)
				memset(b, 0, bs);
			continue;
		}
		uint8_t *d = n->data + (lba + i) * bs;
		if (store)
			b ? memcpy(d, b, bs) : memset(d, 0, bs);
		else
			memcpy(b, d, bs);
	}
}

static void exec_io(const struct nvme_sqe *e)
{
	if (e->nsid < 1 || e->nsid > dev.nns || !dev.ns[e->nsid - 1].nsze) {
		post(1, e->cid, 0x0b, 0);
		return;
	}
	if (dev.hold_all) {
		assert_true(dev.nheld < HELD_MAX);
		dev.held[dev.nheld++] = e->cid;
		return;
	}
	struct fns *n = &dev.ns[e->nsid - 1];
	uint64_t slba = (uint64_t)e->cdw11 << 32 | e->cdw10;
	uint32_t nlb = (e->cdw12 & 0xffff) + 1;

	switch (e->opcode) {
	case NVME_CMD_READ:
	case NVME_CMD_WRITE: {
		uint64_t bytes = (uint64_t)nlb << n->lbads;
		bool write = e->opcode == NVME_CMD_WRITE;
		write ? dev.writes++ : dev.reads++;
		if (nlb > dev.max_nlb)
			dev.max_nlb = nlb;
		if (slba + nlb > n->nsze) {
			post(1, e->cid, 0x80, 0);
			return;
		}
		if (dev.mdts && bytes > ((uint64_t)PG << dev.mdts)) {
			dev.mdts_violations++;
			post(1, e->cid, 0x02, 0);
			return;
		}
		if (dev.fail_on && dev.fail_lba >= slba && dev.fail_lba < slba + nlb) {
			post(1, e->cid, 2 << 8 | 0x81, 0); /* media: unrecovered read error */
			return;
		}
		uint8_t *buf = malloc(bytes);
		if (!write)
			ns_io(n, slba, nlb, buf, false);
		if (!prp_copy(e->prp1, e->prp2, buf, bytes, !write)) {
			dev.prp_errors++;
			free(buf);
			post(1, e->cid, 0x13, 0); /* PRP offset invalid */
			return;
		}
		if (write)
			ns_io(n, slba, nlb, buf, true);
		free(buf);
		post(1, e->cid, 0, 0);
		return;
	}
	case NVME_CMD_FLUSH:
		dev.flushes++;
		post(1, e->cid, 0, 0);
		return;
	case NVME_CMD_DSM: {
		const struct nvme_dsm_range *r = (const struct nvme_dsm_range *)(uintptr_t)e->prp1;
		unsigned nr = (e->cdw10 & 0xff) + 1;
		assert_true(e->cdw11 & NVME_DSM_AD);
		dev.dsms++;
		for (unsigned i = 0; i < nr; i++) {
			dev.last_dsm_slba = r[i].slba;
			dev.last_dsm_nlb = r[i].nlb;
			ns_io(n, r[i].slba, r[i].nlb, NULL, true);
		}
		post(1, e->cid, 0, 0);
		return;
	}
	case NVME_CMD_WRITE_ZEROES:
		dev.wzs++;
		dev.last_wz_nlb = nlb;
		ns_io(n, slba, nlb, NULL, true);
		post(1, e->cid, 0, 0);
		return;
	default:
		post(1, e->cid, 0x01, 0);
	}
}

static void serve(unsigned q)
{
	struct fq *s = &dev.sq[q];
	if (!s->live)
		return;
	uint32_t tail = r32(0x1000 + 8 * q);
	assert_true(tail < s->size);
	while (s->head != tail && dev.rdy) {
		struct nvme_sqe e = ((struct nvme_sqe *)(uintptr_t)s->base)[s->head];
		s->head = (uint16_t)((s->head + 1) % s->size);
		q ? exec_io(&e) : exec_admin(&e);
	}
}

static void dev_step(void)
{
	uint32_t cc = r32(NVME_REG_CC);

	dev.last_cc = cc;
	if (cc & NVME_CC_EN) {
		if (!dev.rdy && !dev.never_ready && !(dev.refuse_reenable && dev.enables)) {
			uint32_t aqa = r32(NVME_REG_AQA);
			assert_int_equal((cc >> 16) & 0xf, 6);
			assert_int_equal((cc >> 20) & 0xf, 4);
			dev.sq[0] = (struct fq){.base = r64(NVME_REG_ASQ),
						.size = (uint16_t)((aqa & 0xfff) + 1),
						.live = true};
			dev.cq[0] = (struct fq){.base = r64(NVME_REG_ACQ),
						.size = (uint16_t)(((aqa >> 16) & 0xfff) + 1),
						.phase = 1,
						.ien = true,
						.live = true};
			dev.sq[1].live = dev.cq[1].live = false;
			dev.rdy = true;
			dev.enables++;
			dev.nheld = 0;
		}
	} else if (dev.rdy && !dev.stuck_disable) {
		/* a controller reset: queues and doorbells start afresh */
		dev.rdy = false;
		memset(dev.regs + 0x1000, 0, 16);
		dev.sq[0].live = dev.cq[0].live = dev.sq[1].live = dev.cq[1].live = false;
		dev.nheld = 0;
	}
	uint32_t csts = (dev.rdy ? NVME_CSTS_RDY : 0) |
			((dev.cfs_on_enable && (cc & NVME_CC_EN)) ? NVME_CSTS_CFS : 0) |
			((cc & NVME_CC_SHN_MASK) == NVME_CC_SHN_NORMAL ? NVME_CSTS_SHST_DONE : 0);
	w32(NVME_REG_CSTS, csts);
	if (!dev.rdy)
		return;
	serve(0);
	serve(1);
}

/* ---- guest memory: 128 pages at GPA 1 MiB, scattered over the host ---- */

#define GPAGES 128
#define GBASE 0x100000ull
static uint8_t *host_pages; /* GPAGES pages, aligned */
static bool refuse_page[GPAGES];

static uint8_t *gpa_host(uint64_t gpa)
{
	uint64_t page = (gpa - GBASE) / PG;
	/* page i lives at host page i * 37 mod 128: neighbours are never host neighbours */
	return host_pages + ((page * 37) % GPAGES) * PG + gpa % PG;
}

static bool in_guest(uint64_t gpa, size_t len)
{
	return gpa >= GBASE && len <= GPAGES * PG && gpa - GBASE <= GPAGES * PG - len;
}

static int g_read(void *ctx, uint64_t gpa, void *dst, size_t len)
{
	(void)ctx;
	if (!in_guest(gpa, len))
		return -1;
	for (size_t done = 0; done < len;) {
		size_t n = PG - (gpa + done) % PG;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)dst + done, gpa_host(gpa + done), n);
		done += n;
	}
	return 0;
}

static int g_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
	(void)ctx;
	if (!in_guest(gpa, len))
		return -1;
	for (size_t done = 0; done < len;) {
		size_t n = PG - (gpa + done) % PG;
		if (n > len - done)
			n = len - done;
		memcpy(gpa_host(gpa + done), (const uint8_t *)src + done, n);
		done += n;
	}
	return 0;
}

static uint64_t g_dma(void *ctx, uint64_t gpa, uint64_t len)
{
	(void)ctx;
	assert_true(len > 0 && gpa % PG + len <= PG); /* page by page, as blkdev.h says */
	if (!in_guest(gpa, len) || refuse_page[(gpa - GBASE) / PG])
		return 0;
	return (uint64_t)(uintptr_t)gpa_host(gpa);
}

static const struct blk_guest_mem gmem = {.read = g_read, .write = g_write, .dma_addr = g_dma};
static const struct blk_guest_mem gmem_nodma = {.read = g_read, .write = g_write};

/* Host memory as the hypervisor's own reads use it: address = pointer. */
static int h_read(void *ctx, uint64_t a, void *dst, size_t len)
{
	(void)ctx;
	memcpy(dst, (void *)(uintptr_t)a, len);
	return 0;
}

static int h_write(void *ctx, uint64_t a, const void *src, size_t len)
{
	(void)ctx;
	memcpy((void *)(uintptr_t)a, src, len);
	return 0;
}

static const struct blk_guest_mem hmem = {.read = h_read, .write = h_write};

/* ---- requests ---- */

struct req {
	struct blk_request r;
	struct blk_seg segs[16];
	int status;
	int done;
	void (*then)(struct req *q); /* called from done: a resubmission */
};

static struct blk_request *submitting;
static unsigned completions;

static void req_done(struct blk_request *r, int status)
{
	struct req *q = r->ctx;
	if (submitting && submitting != r)
		fail_msg("a request completed inside another request's submit");
	q->status = status;
	q->done++;
	completions++;
	if (q->then)
		q->then(q);
}

static void submit(struct blkdev *d, struct req *q)
{
	struct blk_request *outer = submitting;
	submitting = &q->r;
	q->done = 0;
	q->status = 99;
	d->ops->submit(d, &q->r);
	submitting = outer;
}

static void req_init(struct req *q, enum blk_op op, uint64_t sector, const struct blk_guest_mem *mem)
{
	memset(q, 0, sizeof(*q));
	q->r = (struct blk_request){.op = op, .sector = sector, .segs = q->segs, .mem = mem,
				    .done = req_done, .ctx = q};
}

static void req_seg(struct req *q, uint64_t gpa, uint32_t len)
{
	q->segs[q->r.nseg++] = (struct blk_seg){gpa, len};
	q->r.nsectors += len / BLK_SECTOR_SIZE;
}

/* Lets time pass (200 us a step, as polling needs) until q completes. */
static void advance(uint64_t us);

static int wait_req(struct req *q)
{
	for (int i = 0; i < 1000 && !q->done; i++)
		advance(200);
	if (!q->done)
		fail_msg("request did not complete; log:\n%s", logbuf);
	assert_int_equal(q->done, 1);
	return q->status;
}

static void sync_read(struct blkdev *d, uint64_t sector, void *buf, uint32_t bytes, int *status)
{
	struct req q;
	req_init(&q, BLK_OP_READ, sector, &hmem);
	req_seg(&q, (uint64_t)(uintptr_t)buf, bytes);
	submit(d, &q);
	*status = wait_req(&q);
}

static int do_req(struct blkdev *d, struct req *q)
{
	submit(d, q);
	return wait_req(q);
}

/* Fills guest bytes [gpa, gpa + len) with a pattern seeded by seed. */
static void fill_guest(uint64_t gpa, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t v = (uint8_t)((i * 131 + seed * 7 + (i >> 9)) ^ seed);
		g_write(NULL, gpa + i, &v, 1);
	}
}

static void guest_bytes(uint64_t gpa, void *out, size_t len)
{
	assert_int_equal(g_read(NULL, gpa, out, len), 0);
}

/* ---- setup ---- */

static uint8_t *ns1_data, *ns2_data;

static void dev_reset(void)
{
	memset(&dev, 0, sizeof(dev));
	dev.mqes = 63;
	dev.mdts = 5; /* 128 KiB */
	dev.acl = 3;
	dev.vwc = true;
	dev.oncs = NVME_ONCS_DSM | NVME_ONCS_WRITE_ZEROES;
	dev.nns = 3;
	memset(ns1_data, 0, 16384 * 512);
	memset(ns2_data, 0, 1024 * 4096);
	dev.ns[0] = (struct fns){.nsze = 200000, .lbads = 9, .data = ns1_data, .data_blocks = 16384};
	dev.ns[1] = (struct fns){.nsze = 1024, .lbads = 12, .data = ns2_data, .data_blocks = 1024};
	dev.ns[2] = (struct fns){.nsze = 100, .lbads = 9, .ms = 8}; /* metadata: not used */
	dev_config();
}

static int setup(void **state)
{
	(void)state;
	if (!host_pages) {
		host_pages = aligned_alloc(PG, GPAGES * PG);
		ns1_data = malloc(16384 * 512);
		ns2_data = malloc(1024 * 4096);
	}
	memset(host_pages, 0, GPAGES * PG);
	memset(refuse_page, 0, sizeof(refuse_page));
	dev_reset();
	memcpy(ns1_data, "NS1-SECTOR-0", 12);
	loglen = 0;
	logbuf[0] = 0;
	ndefs = 0;
	ndisks = 0;
	hbc = NULL;
	irq_fn = NULL;
	msix_vectors = 4;
	msi_ok = true;
	msix_sets = 0;
	pci_cmd = 0;
	completions = 0;
	now = 1000000;
	memset(&pdev, 0, sizeof(pdev));
	pdev.class_base = PCI_CLASS_STORAGE;
	pdev.class_sub = PCI_SUBCLASS_NVM;
	pdev.prog_if = 2;
	pdev.bar[0] = (struct pci_bar){.base = (uint64_t)(uintptr_t)dev.regs, .size = BAR_SIZE, .is64 = true};
	pdev.cap_msix = 0x50;
	pdev.cap_msi = 0x60;
	return 0;
}

static void enabled_by_firmware(void)
{
	w32(NVME_REG_CC, NVME_CC_EN);
	dev.rdy = true;
	w32(NVME_REG_CSTS, NVME_CSTS_RDY);
}

static void probe_ok(void)
{
	char err[160] = "";
	if (nvme_pci_driver.probe(&pdev, err, sizeof(err)) != 0)
		fail_msg("probe failed: %s; log:\n%s", err, logbuf);
}

static void probe_fails(const char *why)
{
	char err[160] = "";
	assert_int_equal(nvme_pci_driver.probe(&pdev, err, sizeof(err)), -1);
	if (!strstr(err, why))
		fail_msg("probe error \"%s\" lacks \"%s\"", err, why);
	assert_int_equal(ndisks, 0);
}

/* ---- tests ---- */

static void test_match(void **state)
{
	(void)state;
	assert_true(nvme_pci_driver.match(&pdev));
	pdev.prog_if = 1;
	assert_false(nvme_pci_driver.match(&pdev));
	pdev.prog_if = 2;
	pdev.class_sub = PCI_SUBCLASS_SATA;
	assert_false(nvme_pci_driver.match(&pdev));
	assert_string_equal(nvme_pci_driver.name, "nvme");
}

static void test_probe_and_namespaces(void **state)
{
	(void)state;
	probe_ok();
	assert_logged("Fake NVMe Ctrl (serial hv0), 1 I/O queue of 64 shared by all CPUs, MSI-X, "
		      "max transfer 128 KiB, volatile cache: yes, 2 namespaces");
	assert_logged("namespace 3: 8 bytes of metadata per block; not used");
	assert_int_equal(ndisks, 2);
	assert_string_equal(add_model, "Fake NVMe Ctrl");
	assert_string_equal(add_serial, "hv0");
	assert_int_equal(add_nsid[0], 1);
	assert_int_equal(add_nsid[1], 2);
	assert_int_equal(add_ctrl[0], add_ctrl[1]);

	struct blkdev *a = disks[0], *b = disks[1];
	assert_int_equal(a->sectors, 200000);
	assert_int_equal(a->block_size, 512);
	assert_true(a->volatile_cache);
	assert_true(a->can_discard);
	assert_true(a->can_write_zeroes);
	assert_false(a->read_only);
	assert_int_equal(b->sectors, 1024 * 8);
	assert_int_equal(b->block_size, 4096);

	/* the GPT read at hostblk_add went through the I/O queue */
	assert_int_equal(sector0_status, BLK_OK);
	assert_memory_equal(sector0, "NS1-SECTOR-0", 12);
	assert_true(dev.cq[1].ien);
	assert_int_equal(dev.cq[1].size, 64);
	assert_int_equal(msix_sets, 1);
	assert_true(dev.irqs > 0);
	assert_non_null(hbc);
	assert_true(pci_cmd & PCI_CMD_MASTER);
	assert_int_equal(watchdog()->poll_us, 100000);
	assert_int_equal(work()->poll_us, 0);
	assert_non_null(pdev.status);
	assert_string_equal(pdev.status, hbc->name);
}

static void test_read_write_scattered(void **state)
{
	(void)state;
	probe_ok();
	struct blkdev *d = disks[0];
	struct req w, r;
	uint8_t want[40960], got[40960];

	/* 40 KiB in three segments over guest pages that are scattered in the host */
	fill_guest(GBASE + 2 * PG, 16 * PG, 1);
	req_init(&w, BLK_OP_WRITE, 100, &gmem);
	req_seg(&w, GBASE + 2 * PG, 4 * PG);
	req_seg(&w, GBASE + 6 * PG, 2 * PG);
	req_seg(&w, GBASE + 8 * PG, 4 * PG);
	assert_int_equal(do_req(d, &w), BLK_OK);
	assert_int_equal(dev.writes, 1);
	guest_bytes(GBASE + 2 * PG, want, sizeof(want));
	assert_memory_equal(ns1_data + 100 * 512, want, sizeof(want));

	req_init(&r, BLK_OP_READ, 100, &gmem);
	req_seg(&r, GBASE + 40 * PG + 0x200, 10 * PG); /* unaligned start: first PRP entry with an offset */
	assert_int_equal(do_req(d, &r), BLK_OK);
	guest_bytes(GBASE + 40 * PG + 0x200, got, sizeof(got));
	assert_memory_equal(got, want, sizeof(got));
	assert_int_equal(dev.prp_errors, 0);
	assert_int_equal(d->stats.reads, 2); /* and the probe's GPT read */
	assert_int_equal(d->stats.writes, 1);
	assert_int_equal(d->stats.bytes_written, sizeof(want));
}

static void test_mdts_split(void **state)
{
	(void)state;
	probe_ok();
	struct blkdev *d = disks[0];
	struct req w;
	static uint8_t want[300 * 1024];

	fill_guest(GBASE, sizeof(want), 2);
	completions = 0;
	req_init(&w, BLK_OP_WRITE, 2000, &gmem);
	req_seg(&w, GBASE, sizeof(want));
	assert_int_equal(do_req(d, &w), BLK_OK);
	/* 128 + 128 + 44 KiB */
	assert_int_equal(dev.writes, 3);
	assert_int_equal(dev.max_nlb, 256);
	assert_int_equal(dev.mdts_violations, 0);
	assert_int_equal(completions, 1);
	guest_bytes(GBASE, want, sizeof(want));
	assert_memory_equal(ns1_data + 2000 * 512, want, sizeof(want));
}

static void test_bounce_without_dma(void **state)
{
	(void)state;
	probe_ok();
	struct blkdev *d = disks[0];
	struct req w, r;
	static uint8_t want[200 * 1024], got[200 * 1024];

	fill_guest(GBASE, sizeof(want), 3);
	req_init(&w, BLK_OP_WRITE, 8, &gmem_nodma);
	req_seg(&w, GBASE, sizeof(want));
	assert_int_equal(do_req(d, &w), BLK_OK);
	assert_int_equal(dev.writes, 2); /* a 128 KiB bounce buffer at a time */
	guest_bytes(GBASE, want, sizeof(want));
	assert_memory_equal(ns1_data + 8 * 512, want, sizeof(want));

	req_init(&r, BLK_OP_READ, 8, &gmem_nodma);
	req_seg(&r, GBASE + 60 * PG, sizeof(got));
	assert_int_equal(do_req(d, &r), BLK_OK);
	guest_bytes(GBASE + 60 * PG, got, sizeof(got));
	assert_memory_equal(got, want, sizeof(got));
}

static void test_misaligned_segments(void **state)
{
	(void)state;
	probe_ok();
	struct blkdev *d = disks[0];
	struct req w, r;
	uint8_t want[1024], got[4096], buf[4096];

	/* 100 bytes at an odd address, then 412 bytes elsewhere: no PRP can say that */
	fill_guest(GBASE, 8 * PG, 4);
	req_init(&w, BLK_OP_WRITE, 50, &gmem);
	req_seg(&w, GBASE + 3, 100);
	req_seg(&w, GBASE + 5 * PG + 0x40, 412);
	req_seg(&w, GBASE + 7 * PG, 512);
	w.r.nsectors = 2;
	assert_int_equal(do_req(d, &w), BLK_OK);
	guest_bytes(GBASE + 3, want, 100);
	guest_bytes(GBASE + 5 * PG + 0x40, want + 100, 412);
	guest_bytes(GBASE + 7 * PG, want + 512, 512);
	assert_memory_equal(ns1_data + 50 * 512, want, 1024);

	/* half pages in different pages: a command per half, straight from guest memory */
	unsigned before = dev.writes;
	req_init(&w, BLK_OP_WRITE, 60, &gmem);
	req_seg(&w, GBASE + 10 * PG, 2048);
	req_seg(&w, GBASE + 20 * PG + 2048, 2048);
	assert_int_equal(do_req(d, &w), BLK_OK);
	assert_int_equal(dev.writes - before, 2);
	guest_bytes(GBASE + 10 * PG, buf, 2048);
	guest_bytes(GBASE + 20 * PG + 2048, buf + 2048, 2048);
	assert_memory_equal(ns1_data + 60 * 512, buf, 4096);

	/* a page dma_addr refuses: the part before goes straight, that one is bounced */
	refuse_page[31] = true;
	before = dev.reads;
	req_init(&r, BLK_OP_READ, 60, &gmem);
	req_seg(&r, GBASE + 30 * PG + 2048, 2048);
	req_seg(&r, GBASE + 31 * PG, 2048);
	assert_int_equal(do_req(d, &r), BLK_OK);
	guest_bytes(GBASE + 30 * PG + 2048, got, 2048);
	guest_bytes(GBASE + 31 * PG, got + 2048, 2048);
	assert_memory_equal(got, buf, 4096);
	assert_int_equal(dev.reads - before, 2);
	assert_int_equal(dev.prp_errors, 0);
}

static void test_4k_namespace(void **state)
{
	(void)state;
	probe_ok();
	struct blkdev *d = disks[1];
	struct req w;
	uint8_t want[8192];

	fill_guest(GBASE, 2 * PG, 5);
	req_init(&w, BLK_OP_WRITE, 16, &gmem); /* LBA 2 */
	req_seg(&w, GBASE, 2 * PG);
	assert_int_equal(do_req(d, &w), BLK_OK);
	guest_bytes(GBASE, want, sizeof(want));
	assert_memory_equal(ns2_data + 2 * 4096, want, sizeof(want));

	/* not a whole block: refused inside submit, no command */
	unsigned before = dev.writes;
	req_init(&w, BLK_OP_WRITE, 3, &gmem);
	req_seg(&w, GBASE, PG);
	submit(d, &w);
	assert_int_equal(w.done, 1);
	assert_int_equal(w.status, BLK_EIO);
	assert_int_equal(dev.writes, before);
}

static void test_flush_discard_write_zeroes(void **state)
{
	(void)state;
	probe_ok();
	struct blkdev *d = disks[0];
	struct req q;

	req_init(&q, BLK_OP_FLUSH, 0, &gmem);
	assert_int_equal(do_req(d, &q), BLK_OK);
	assert_int_equal(dev.flushes, 1);

	memset(ns1_data + 10 * 512, 0xaa, 20 * 512);
	req_init(&q, BLK_OP_DISCARD, 10, &gmem);
	q.r.nsectors = 20;
	assert_int_equal(do_req(d, &q), BLK_OK);
	assert_int_equal(dev.dsms, 1);
	assert_int_equal(dev.last_dsm_slba, 10);
	assert_int_equal(dev.last_dsm_nlb, 20);
	assert_int_equal(ns1_data[10 * 512], 0);
	assert_int_equal(d->stats.discards, 1);

	/* 140000 blocks: 65536 + 65536 + 8928 */
	req_init(&q, BLK_OP_WRITE_ZEROES, 1000, &gmem);
	q.r.nsectors = 140000;
	assert_int_equal(do_req(d, &q), BLK_OK);
	assert_int_equal(dev.wzs, 3);
	assert_int_equal(dev.last_wz_nlb, 8928);

	/* past the end: refused */
	req_init(&q, BLK_OP_WRITE_ZEROES, 199999, &gmem);
	q.r.nsectors = 2;
	submit(d, &q);
	assert_int_equal(q.status, BLK_ERANGE);
}

static void test_no_cache_no_dsm(void **state)
{
	(void)state;
	dev.vwc = false;
	dev.oncs = 0;
	probe_ok();
	assert_logged("volatile cache: no");
	struct blkdev *d = disks[0];
	struct req q;

	assert_false(d->volatile_cache);
	assert_false(d->can_discard);
	assert_false(d->can_write_zeroes);
	/* nothing to write back: done at once, no command */
	req_init(&q, BLK_OP_FLUSH, 0, &gmem);
	submit(d, &q);
	assert_int_equal(q.done, 1);
	assert_int_equal(q.status, BLK_OK);
	assert_int_equal(dev.flushes, 0);
	req_init(&q, BLK_OP_DISCARD, 0, &gmem);
	q.r.nsectors = 8;
	submit(d, &q);
	assert_int_equal(q.status, BLK_ENOTSUP);
	assert_int_equal(dev.dsms, 0);
}

static void test_errors_logged_once_per_burst(void **state)
{
	(void)state;
	probe_ok();
	struct blkdev *d = disks[0];
	struct req q[5];

	dev.fail_on = true;
	dev.fail_lba = 500;
	for (int i = 0; i < 5; i++) {
		req_init(&q[i], BLK_OP_READ, 496, &gmem);
		req_seg(&q[i], GBASE, PG);
		assert_int_equal(do_req(d, &q[i]), BLK_EIO);
	}
	assert_int_equal(log_count("read of 8 blocks at lba 496 failed: status type 2, code 0x81"), 1);
	assert_int_equal(d->stats.errors, 5);
	/* a second later the watchdog says how many it kept quiet */
	advance(1100000);
	watchdog()->fn(watchdog()->arg);
	assert_logged("4 more I/O errors");
	/* a new burst logs its first error again */
	req_init(&q[0], BLK_OP_READ, 500, &gmem);
	req_seg(&q[0], GBASE, 512);
	advance(1100000);
	assert_int_equal(do_req(d, &q[0]), BLK_EIO);
	assert_logged("read of 1 block at lba 500 failed");

	/* other requests are unaffected */
	dev.fail_on = false;
	req_init(&q[1], BLK_OP_READ, 496, &gmem);
	req_seg(&q[1], GBASE, PG);
	assert_int_equal(do_req(d, &q[1]), BLK_OK);
}

static void test_full_queue_waits(void **state)
{
	(void)state;
	dev.mqes = 7; /* 8 entries: 7 commands at a time */
	dev_config();
	probe_ok();
	assert_logged("1 I/O queue of 8 shared");
	struct blkdev *d = disks[0];
	static struct req q[40];

	for (int i = 0; i < 40; i++) {
		req_init(&q[i], BLK_OP_WRITE, (uint64_t)i * 8, &gmem);
		req_seg(&q[i], GBASE + (uint64_t)(i % 64) * PG, PG);
		fill_guest(GBASE + (uint64_t)(i % 64) * PG, 8, (unsigned)i);
		submit(d, &q[i]);
		assert_int_equal(q[i].done, 0); /* accepted requests never complete inside submit */
	}
	for (int i = 0; i < 40; i++)
		assert_int_equal(wait_req(&q[i]), BLK_OK);
	assert_int_equal(dev.writes, 40);
	for (int i = 0; i < 40; i++) {
		uint8_t g[8];
		guest_bytes(GBASE + (uint64_t)(i % 64) * PG, g, 8);
		assert_memory_equal(ns1_data + i * 8 * 512, g, 8);
	}
}

static struct req chained;
static struct blkdev *chain_dev;

static void resubmit(struct req *q)
{
	(void)q;
	/* from inside a done callback: the driver's lock must not be held here */
	req_init(&chained, BLK_OP_READ, 0, &gmem);
	req_seg(&chained, GBASE, 512);
	submit(chain_dev, &chained);
}

static void test_done_may_submit(void **state)
{
	(void)state;
	probe_ok();
	struct req q;
	chain_dev = disks[0];
	req_init(&q, BLK_OP_READ, 0, &gmem);
	req_seg(&q, GBASE, 512);
	q.then = resubmit;
	assert_int_equal(do_req(disks[0], &q), BLK_OK);
	assert_int_equal(wait_req(&chained), BLK_OK);
}

static void test_timeout_abort(void **state)
{
	(void)state;
	probe_ok();
	struct blkdev *d = disks[0];
	struct req q;

	dev.hold_all = true;
	req_init(&q, BLK_OP_READ, 24, &gmem);
	req_seg(&q, GBASE, PG);
	submit(d, &q);
	advance(1000);
	assert_int_equal(dev.nheld, 1);
	advance(4000000);
	assert_int_equal(dev.aborts, 0); /* not yet */
	advance(1100000);
	assert_int_equal(dev.aborts, 1);
	assert_logged("read of 8 blocks at lba 24 timed out after 5 s; aborting");
	assert_int_equal(q.done, 1);
	assert_int_equal(q.status, BLK_EIO);

	/* the controller goes on */
	dev.hold_all = false;
	req_init(&q, BLK_OP_READ, 24, &gmem);
	req_seg(&q, GBASE, PG);
	assert_int_equal(do_req(d, &q), BLK_OK);
	assert_int_equal(dev.enables, 1);
}

static void test_timeout_reset(void **state)
{
	(void)state;
	probe_ok();
	struct blkdev *d = disks[0];
	struct req q, waiting;

	dev.hold_all = true;
	dev.abort_ignored = true;
	req_init(&q, BLK_OP_WRITE, 24, &gmem);
	req_seg(&q, GBASE, PG);
	submit(d, &q);
	advance(5100000);
	assert_int_equal(dev.aborts, 1);
	assert_int_equal(q.done, 0);
	advance(3100000);
	assert_logged("a timed-out command was not aborted; resetting the controller");
	assert_int_equal(watchdog()->poll_us, 1000);

	/* a request submitted during the reset waits for it */
	dev.hold_all = false;
	req_init(&waiting, BLK_OP_READ, 24, &gmem);
	req_seg(&waiting, GBASE, PG);
	submit(d, &waiting);
	for (int i = 0; i < 20 && !strstr(logbuf, "reset done"); i++)
		advance(1000);
	assert_logged("controller reset done, I/O goes on");
	assert_int_equal(dev.enables, 2);
	assert_int_equal(watchdog()->poll_us, 100000);
	assert_int_equal(q.done, 1);
	assert_int_equal(q.status, BLK_EIO);
	assert_int_equal(wait_req(&waiting), BLK_OK);

	req_init(&q, BLK_OP_READ, 24, &gmem);
	req_seg(&q, GBASE, PG);
	assert_int_equal(do_req(d, &q), BLK_OK);
}

static void test_reset_fails_offline(void **state)
{
	(void)state;
	probe_ok();
	struct blkdev *d = disks[0];
	struct req q;

	dev.hold_all = true;
	dev.abort_ignored = true;
	dev.refuse_reenable = true;
	req_init(&q, BLK_OP_READ, 24, &gmem);
	req_seg(&q, GBASE, PG);
	submit(d, &q);
	advance(5100000);
	advance(3100000);
	assert_logged("resetting the controller");
	for (int i = 0; i < 30 && !strstr(logbuf, "offline"); i++)
		advance(100000);
	assert_logged("controller offline: the controller did not become ready within 1000 ms; "
		      "its disks fail every request from now on");
	assert_int_equal(log_count("offline"), 1);
	assert_int_equal(q.done, 1);
	assert_int_equal(q.status, BLK_EIO);
	assert_false(pci_cmd & PCI_CMD_MASTER);
	assert_int_equal(watchdog()->poll_us, 0);

	/* every later request fails at once */
	req_init(&q, BLK_OP_READ, 0, &gmem);
	req_seg(&q, GBASE, PG);
	submit(d, &q);
	assert_int_equal(q.done, 1);
	assert_int_equal(q.status, BLK_EIO);
}

static void test_repeated_resets_go_offline(void **state)
{
	(void)state;
	probe_ok();
	struct blkdev *d = disks[0];
	struct req q;

	dev.hold_all = true;
	dev.abort_ignored = true;
	for (int round = 0; round < 4; round++) {
		req_init(&q, BLK_OP_READ, 24, &gmem);
		req_seg(&q, GBASE, PG);
		submit(d, &q);
		advance(5100000);
		advance(3100000);
		for (int i = 0; i < 50 && !q.done; i++)
			advance(1000);
		assert_int_equal(q.done, 1);
		assert_int_equal(q.status, BLK_EIO);
		for (int i = 0; i < 50; i++)
			advance(1000);
	}
	assert_int_equal(log_count("resetting the controller"), 3);
	assert_logged("after 3 resets within a minute");
}

static void test_fatal_status_resets(void **state)
{
	(void)state;
	probe_ok();
	dev.cfs_on_enable = true;
	advance(100000);
	assert_logged("the controller reported a fatal error; resetting the controller");
	for (int i = 0; i < 50 && !strstr(logbuf, "offline"); i++)
		advance(1000);
	assert_logged("controller offline: the controller reported a fatal error while starting");
}

static void test_polling_without_msi(void **state)
{
	(void)state;
	msix_vectors = 0;
	msi_ok = false;
	probe_ok();
	assert_logged("shared by all CPUs, polling,");
	assert_false(dev.cq[1].ien);
	assert_int_equal(work()->poll_us, 200);
	assert_true(pci_cmd & PCI_CMD_INTX_DISABLE);
	assert_int_equal(dev.irqs, 0);

	struct req q;
	req_init(&q, BLK_OP_READ, 0, &gmem);
	req_seg(&q, GBASE, 512);
	submit(disks[0], &q);
	dev_step();
	run_raised();
	assert_int_equal(q.done, 0); /* no interrupt: it waits for the poll */
	advance(200);
	assert_int_equal(q.done, 1);
	assert_int_equal(q.status, BLK_OK);
}

static void test_msi(void **state)
{
	(void)state;
	msix_vectors = 0;
	probe_ok();
	assert_logged("shared by all CPUs, MSI,");
	assert_true(dev.cq[1].ien);
	assert_int_equal(work()->poll_us, 0);
}

static void test_shutdown(void **state)
{
	(void)state;
	probe_ok();
	assert_non_null(hbc);
	hbc->shutdown(hbc->arg);
	assert_int_equal(r32(NVME_REG_CC) & NVME_CC_SHN_MASK, NVME_CC_SHN_NORMAL);
	assert_logged(": shut down");

	struct req q;
	req_init(&q, BLK_OP_WRITE, 0, &gmem);
	req_seg(&q, GBASE, 512);
	submit(disks[0], &q);
	assert_int_equal(q.status, BLK_EIO);
}

static void test_refused_controllers(void **state)
{
	(void)state;
	uint32_t hi = r32(NVME_REG_CAP + 4);

	w32(NVME_REG_CAP + 4, hi & ~(1u << 5));
	probe_fails("no NVM command set");
	w32(NVME_REG_CAP + 4, hi | (1u << 16)); /* MPSMIN 1: 8 KiB */
	probe_fails("smallest memory page 8 KiB");
	w32(NVME_REG_CAP + 4, hi);

	pdev.bar[0].size = 0x1000;
	probe_fails("BAR0");
	pdev.bar[0].size = BAR_SIZE;

	dev.never_ready = true;
	probe_fails("did not become ready within 1000 ms");
	assert_int_equal(watchdog()->poll_us, 0);
	dev.never_ready = false;

	enabled_by_firmware(); /* and it will not stop */
	dev.stuck_disable = true;
	probe_fails("did not stop within 1000 ms");
}

static void test_firmware_left_it_enabled(void **state)
{
	(void)state;
	/* as after a UEFI driver: enabled, with its own queues; the probe disables first */
	enabled_by_firmware();
	probe_ok();
	assert_int_equal(dev.enables, 1);
	assert_int_equal(ndisks, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_match, setup),
		cmocka_unit_test_setup(test_probe_and_namespaces, setup),
		cmocka_unit_test_setup(test_read_write_scattered, setup),
		cmocka_unit_test_setup(test_mdts_split, setup),
		cmocka_unit_test_setup(test_bounce_without_dma, setup),
		cmocka_unit_test_setup(test_misaligned_segments, setup),
		cmocka_unit_test_setup(test_4k_namespace, setup),
		cmocka_unit_test_setup(test_flush_discard_write_zeroes, setup),
		cmocka_unit_test_setup(test_no_cache_no_dsm, setup),
		cmocka_unit_test_setup(test_errors_logged_once_per_burst, setup),
		cmocka_unit_test_setup(test_full_queue_waits, setup),
		cmocka_unit_test_setup(test_done_may_submit, setup),
		cmocka_unit_test_setup(test_timeout_abort, setup),
		cmocka_unit_test_setup(test_timeout_reset, setup),
		cmocka_unit_test_setup(test_reset_fails_offline, setup),
		cmocka_unit_test_setup(test_repeated_resets_go_offline, setup),
		cmocka_unit_test_setup(test_fatal_status_resets, setup),
		cmocka_unit_test_setup(test_polling_without_msi, setup),
		cmocka_unit_test_setup(test_msi, setup),
		cmocka_unit_test_setup(test_shutdown, setup),
		cmocka_unit_test_setup(test_refused_controllers, setup),
		cmocka_unit_test_setup(test_firmware_left_it_enabled, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
