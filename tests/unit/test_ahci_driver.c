// SOURCES: drivers/ahci/ahci.c drivers/ahci/ahci_cmd.c kernel/blk/blk_check.c kernel/lib/format.c kernel/lib/string.c
/*
 * The AHCI driver against a model of an HBA: the model answers register
 * accesses, runs the commands the driver issues (IDENTIFY, READ/WRITE DMA
 * EXT, FLUSH CACHE EXT) over RAM disks through the command list, command
 * tables and PRDTs in memory, raises "MSIs" by calling the driver's handler,
 * and fails or hangs commands on demand. Time is the test's: udelay()
 * advances it and lets the model run.
 *
 * Checked: bring-up (firmware-running port stopped, empty and ATAPI ports
 * skipped, disks named in port order, the boot line), I/O through several
 * slots at once, splitting by PRDT size, bouncing, FLUSH only with a write
 * cache, the completion contract (never from inside submit, never with the
 * port lock held), error recovery with re-issue, timeouts and COMRESET,
 * offline ports, rate-limited error lines, polling without MSI, shutdown
 * flush.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "drivers/ahci/ahci.h"
#include "drivers/ahci/ahci_cmd.h"
#include "drivers/ahci/ahci_regs.h"
#include "kernel/blk/hostblk.h"
#include "kernel/cpu/deferred.h"
#include "kernel/cpu/irqvec.h"
#include "kernel/mm/mm.h"
#include "kernel/time/tsc.h"

uint32_t ahci_test_mmio_read(volatile uint8_t *addr);
void ahci_test_mmio_write(volatile uint8_t *addr, uint32_t v);

/* ---- the model HBA ---- */

#define NPORTS 4
enum kind { NONE, ATA, ATAPI };

struct fport {
	enum kind kind;
	uint8_t *disk;
	uint64_t sectors; /* logical */
	uint32_t bs;
	bool wc;
	uint32_t clb, clbu, fb, fbu, is, ie, cmd, tfd, sig, ssts, sctl, serr, ci;
	bool halted;	   /* after an error, until ST is cleared */
	uint64_t fail_lba; /* a READ/WRITE covering it fails (UINT64_MAX: none) */
	unsigned fail_times;
	bool hang;	  /* commands are not run; the device shows BSY */
	bool fail_identify;
	uint64_t hang_lba; /* a READ/WRITE covering it hangs the device (hang_times times) */
	unsigned hang_times;
	bool no_comeback; /* a COMRESET leaves the link down */
	bool ccs;	  /* the HBA reports PxCMD.CCS */
	/* QEMU before 8.1: a failed command leaves PxCI too, the next ones run; ST=0 keeps PxCI */
	bool old_qemu;
	bool firmware_running;
	unsigned cmds, reads, writes, flushes, identifies, comresets, max_ci, max_prdtl, ci_writes;
	uint64_t bytes;
};

static struct {
	uint8_t abar[0x100 + 0x80 * 32] __attribute__((aligned(4096)));
	uint32_t cap, ghc, is, pi;
	struct fport port[NPORTS];
	bool auto_run;
	bool msi_ok;
	irqvec_handler_t handler;
	void *handler_arg;
	unsigned irqs;
} hba;

static uint64_t clock_us;
static char logbuf[65536];
static size_t loglen;

static void *ptr(uint32_t lo, uint32_t hi)
{
	return (void *)(uintptr_t)((uint64_t)hi << 32 | lo);
}

static void raise_irq(void)
{
	bool any = false;
	for (int n = 0; n < NPORTS; n++) {
		struct fport *p = &hba.port[n];
		if (p->is & p->ie) {
			hba.is |= 1u << n;
			any = true;
		}
	}
	if (any && (hba.ghc & AHCI_GHC_IE) && hba.handler) {
		hba.irqs++;
		hba.handler(hba.handler_arg);
	}
}

static void identify_data(struct fport *p, uint8_t *b, unsigned n)
{
	memset(b, 0, 512);
	char serial[21], model[41];
	memset(serial, ' ', sizeof(serial));
	memset(model, ' ', sizeof(model));
	char num[8];
	snprintf(num, sizeof(num), "QM%05u", (n + 1) % 100000);
	memcpy(serial, num, 7);
	memcpy(model, "QEMU HARDDISK", 13);
	uint16_t w[256] = {0};
	w[0] = 0x0040;
	for (int i = 0; i < 10; i++)
		w[10 + i] = (uint16_t)(serial[2 * i] << 8 | serial[2 * i + 1]);
	for (int i = 0; i < 20; i++)
		w[27 + i] = (uint16_t)(model[2 * i] << 8 | model[2 * i + 1]);
	w[49] = 1 << 8 | 1 << 9;
	w[82] = 1 << 14 | 1 << 5;
	w[83] = 1 << 14 | 1 << 13 | 1 << 10;
	w[85] = 1 << 14 | (p->wc ? 1 << 5 : 0);
	w[87] = 1 << 14;
	for (int i = 0; i < 4; i++)
		w[100 + i] = (uint16_t)(p->sectors >> (16 * i));
	if (p->bs != 512) {
		w[106] = 1 << 14 | 1 << 12;
		w[117] = (uint16_t)(p->bs / 2);
	}
	for (int i = 0; i < 256; i++) {
		b[2 * i] = (uint8_t)w[i];
		b[2 * i + 1] = (uint8_t)(w[i] >> 8);
	}
}

/* Moves len bytes between buf and the PRDT's memory; checks the PRDs as the HBA would. */
static uint64_t prdt_move(struct ahci_prd *prd, unsigned n, uint8_t *buf, uint64_t len,
			  bool to_mem)
{
	uint64_t done = 0;
	for (unsigned i = 0; i < n; i++) {
		uint32_t l = (prd[i].dbc & 0x3fffff) + 1;
		assert_int_equal(l % 2, 0);
		assert_int_equal(prd[i].dba & 1, 0);
		uint8_t *a = ptr(prd[i].dba, prd[i].dbau);
		uint64_t k = l < len - done ? l : len - done;
		if (to_mem)
			memcpy(a, buf + done, k);
		else
			memcpy(buf + done, a, k);
		done += k;
	}
	return done;
}

static void fail_command(struct fport *p, unsigned slot)
{
	p->tfd = ATA_STS_DRDY | ATA_STS_ERR | 0x10 | (ATA_ERR_UNC << 8);
	p->is |= AHCI_PxIS_TFES;
	if (p->old_qemu) {
		p->ci &= ~(1u << slot);
		return;
	}
	p->halted = true;
	if (p->ccs)
		p->cmd = (p->cmd & ~(0x1fu << 8)) | slot << 8;
}

static void run_command(struct fport *p, unsigned n, unsigned slot)
{
	struct ahci_cmd_header *h = (struct ahci_cmd_header *)ptr(p->clb, p->clbu) + slot;
	uint8_t *table = ptr(h->ctba, h->ctbau);
	struct ahci_prd *prd = (struct ahci_prd *)(table + 0x80);
	unsigned prdtl = h->dw0 >> 16;
	assert_int_equal(h->dw0 & 0x1f, 5);
	assert_int_equal(h->ctba & 0x7f, 0);
	assert_int_equal(table[0], 0x27);
	assert_int_equal(table[1], 0x80);
	if (prdtl > p->max_prdtl)
		p->max_prdtl = prdtl;
	p->cmds++;
	uint64_t moved = 0;
	switch (table[2]) {
	case ATA_CMD_IDENTIFY: {
		uint8_t b[512];
		if (p->fail_identify) {
			fail_command(p, slot);
			return;
		}
		identify_data(p, b, n);
		moved = prdt_move(prd, prdtl, b, 512, true);
		p->identifies++;
		break;
	}
	case ATA_CMD_READ_DMA_EXT:
	case ATA_CMD_WRITE_DMA_EXT: {
		bool write = table[2] == ATA_CMD_WRITE_DMA_EXT;
		assert_int_equal(!!(h->dw0 & AHCI_CMDH_W), write);
		assert_int_equal(table[7], 0x40);
		uint64_t lba = 0;
		const int at[6] = {4, 5, 6, 8, 9, 10};
		for (int i = 0; i < 6; i++)
			lba |= (uint64_t)table[at[i]] << (8 * i);
		uint32_t count = table[12] | table[13] << 8;
		if (!count)
			count = 65536;
		assert_true(lba + count <= p->sectors);
		if (p->hang_times && p->hang_lba >= lba && p->hang_lba < lba + count) {
			p->hang_times--;
			p->hang = true; /* until a COMRESET */
			return;
		}
		if (p->fail_times && p->fail_lba >= lba && p->fail_lba < lba + count) {
			p->fail_times--;
			fail_command(p, slot);
			return;
		}
		uint64_t bytes = (uint64_t)count * p->bs, total = 0;
		for (unsigned i = 0; i < prdtl; i++)
			total += (prd[i].dbc & 0x3fffff) + 1;
		assert_int_equal(total, bytes);
		moved = prdt_move(prd, prdtl, p->disk + lba * p->bs, bytes, !write);
		if (write)
			p->writes++;
		else
			p->reads++;
		p->bytes += bytes;
		break;
	}
	case ATA_CMD_FLUSH_CACHE_EXT:
		assert_int_equal(prdtl, 0);
		p->flushes++;
		break;
	default:
		fail_command(p, slot);
		return;
	}
	h->prdbc = (uint32_t)moved;
	p->ci &= ~(1u << slot);
	p->is |= AHCI_PxIS_DHRS;
}

/* The HBA runs what is issued, in slot order, one after another (non-queued commands). */
static void hba_step(void)
{
	for (int n = 0; n < NPORTS; n++) {
		struct fport *p = &hba.port[n];
		unsigned bits = (unsigned)__builtin_popcount(p->ci);
		if (bits > p->max_ci)
			p->max_ci = bits;
		if (!(p->cmd & AHCI_PxCMD_ST) || p->halted || p->hang)
			continue;
		for (unsigned s = 0; s < 32 && !p->halted && !p->hang; s++)
			if (p->ci & (1u << s))
				run_command(p, (unsigned)n, s);
	}
	raise_irq();
}

static int port_of(unsigned off, unsigned *reg)
{
	if (off < 0x100)
		return -1;
	*reg = (off - 0x100) % 0x80;
	return (int)((off - 0x100) / 0x80);
}

uint32_t ahci_test_mmio_read(volatile uint8_t *addr)
{
	unsigned off = (unsigned)(addr - hba.abar), reg;
	int n = port_of(off, &reg);
	if (n < 0) {
		switch (off) {
		case AHCI_CAP:
			return hba.cap;
		case AHCI_GHC:
			return hba.ghc;
		case AHCI_IS:
			return hba.is;
		case AHCI_PI:
			return hba.pi;
		case AHCI_VS:
			return 0x00010000;
		default:
			return 0;
		}
	}
	assert_true(n < NPORTS);
	struct fport *p = &hba.port[n];
	switch (reg) {
	case AHCI_PxCLB:
		return p->clb;
	case AHCI_PxCLBU:
		return p->clbu;
	case AHCI_PxFB:
		return p->fb;
	case AHCI_PxFBU:
		return p->fbu;
	case AHCI_PxIS:
		return p->is;
	case AHCI_PxIE:
		return p->ie;
	case AHCI_PxCMD:
		return p->cmd;
	case AHCI_PxTFD:
		return p->hang ? ATA_STS_BSY : p->tfd;
	case AHCI_PxSIG:
		return p->sig;
	case AHCI_PxSSTS:
		return p->ssts;
	case AHCI_PxSCTL:
		return p->sctl;
	case AHCI_PxSERR:
		return p->serr;
	case AHCI_PxCI:
		return p->ci;
	default:
		return 0;
	}
}

static void link_comes_up(struct fport *p)
{
	if (p->kind == NONE)
		return;
	p->ssts = 0x113;
	p->tfd = ATA_STS_DRDY | 0x10;
	p->sig = p->kind == ATA ? AHCI_SIG_ATA : AHCI_SIG_ATAPI;
	p->serr |= 1u << 26; /* DIAG.X, as a link coming up sets it */
}

void ahci_test_mmio_write(volatile uint8_t *addr, uint32_t v)
{
	unsigned off = (unsigned)(addr - hba.abar), reg;
	int n = port_of(off, &reg);
	if (n < 0) {
		if (off == AHCI_GHC)
			hba.ghc = v;
		else if (off == AHCI_IS)
			hba.is &= ~v;
		return;
	}
	assert_true(n < NPORTS);
	struct fport *p = &hba.port[n];
	switch (reg) {
	case AHCI_PxCLB:
		assert_int_equal(v & 0x3ff, 0);
		p->clb = v;
		break;
	case AHCI_PxCLBU:
		p->clbu = v;
		break;
	case AHCI_PxFB:
		assert_int_equal(v & 0xff, 0);
		p->fb = v;
		break;
	case AHCI_PxFBU:
		p->fbu = v;
		break;
	case AHCI_PxIS:
		p->is &= ~v;
		break;
	case AHCI_PxIE:
		p->ie = v;
		break;
	case AHCI_PxCMD: {
		uint32_t keep = p->cmd & (0x1fu << 8);
		p->cmd = (v & (AHCI_PxCMD_ST | AHCI_PxCMD_SUD | AHCI_PxCMD_POD | AHCI_PxCMD_FRE)) | keep;
		if (v & AHCI_PxCMD_ST) {
			assert_true(v & AHCI_PxCMD_FRE); /* FRE before ST */
			assert_false(p->hang);		 /* not with BSY set */
			p->cmd |= AHCI_PxCMD_CR;
		} else {
			if (!p->old_qemu)
				p->ci = 0;
			p->halted = false;
			p->cmd &= ~(0x1fu << 8);
		}
		if (v & AHCI_PxCMD_FRE)
			p->cmd |= AHCI_PxCMD_FR;
		break;
	}
	case AHCI_PxSCTL:
		p->sctl = v;
		if ((v & 0xf) == 1) {
			p->comresets++;
			p->ie = 0; /* as some HBAs do */
			p->ssts = p->kind == NONE ? 0 : 1;
			p->tfd = ATA_STS_BSY;
			p->hang = false;
		} else if (!p->no_comeback && (p->sctl & 0xf) == 0) {
			link_comes_up(p);
		}
		break;
	case AHCI_PxSERR:
		p->serr &= ~v;
		break;
	case AHCI_PxCI:
		assert_true(p->cmd & AHCI_PxCMD_ST);
		p->ci_writes++;
		assert_int_equal(p->ci & v, 0); /* a slot issued twice */
		p->ci |= v;
		break;
	default:
		break;
	}
}

/* ---- the kernel around the driver ---- */

struct frame_allocator host_frames;

void printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(logbuf + loglen, sizeof(logbuf) - loglen, fmt, ap);
	va_end(ap);
	if (n > 0)
		loglen = loglen + (size_t)n < sizeof(logbuf) ? loglen + (size_t)n : sizeof(logbuf) - 1;
}

void udelay(uint64_t us)
{
	clock_us += us;
	if (hba.auto_run)
		hba_step();
}

uint64_t uptime_us(void)
{
	return clock_us;
}

uint64_t frame_alloc_zeroed(unsigned n)
{
	void *p = aligned_alloc(4096, (size_t)n * 4096);
	assert_non_null(p);
	memset(p, 0, (size_t)n * 4096);
	return (uint64_t)(uintptr_t)p;
}

void frame_free(struct frame_allocator *fa, uint64_t addr)
{
	(void)fa;
	free((void *)(uintptr_t)addr);
}

void frame_free_contig(struct frame_allocator *fa, uint64_t addr, uint64_t n)
{
	(void)fa;
	(void)n;
	free((void *)(uintptr_t)addr);
}

void *kzalloc(size_t size)
{
	return calloc(1, size);
}

void *kmalloc(size_t size)
{
	return malloc(size);
}

void kfree(void *p)
{
	free(p);
}

static struct deferred *work, *watchdog;

void deferred_register(struct deferred *d)
{
	if (!work)
		work = d;
	else
		watchdog = d;
}

void deferred_raise(struct deferred *d)
{
	d->pending = 1;
}

void deferred_set_poll(struct deferred *d, uint64_t poll_us)
{
	d->poll_us = poll_us;
}

int irqvec_alloc(unsigned cpu_index, irqvec_handler_t handler, void *arg, uint32_t *apic_id)
{
	(void)cpu_index;
	hba.handler = handler;
	hba.handler_arg = arg;
	*apic_id = 1;
	return 0x41;
}

void irqvec_free(int vector)
{
	(void)vector;
	hba.handler = NULL;
}

unsigned irqvec_pick_cpu(void)
{
	return 1;
}

void pci_enable(struct pci_dev *d, bool mem, bool io, bool master)
{
	(void)d;
	assert_true(mem && master && !io);
}

volatile void *pci_bar_map(struct pci_dev *d, unsigned i)
{
	(void)d;
	assert_int_equal(i, 5);
	return hba.abar;
}

bool pci_msi_enable(struct pci_dev *d, uint8_t vector, uint32_t apic_id)
{
	(void)d;
	assert_int_equal(vector, 0x41);
	assert_int_equal(apic_id, 1);
	return hba.msi_ok;
}

unsigned pci_msix_enable(struct pci_dev *d)
{
	(void)d;
	return 0;
}

bool pci_msix_set(struct pci_dev *d, unsigned idx, uint8_t vector, uint32_t apic_id)
{
	(void)d;
	(void)idx;
	(void)vector;
	(void)apic_id;
	return false;
}

void pci_msix_unmask_function(struct pci_dev *d)
{
	(void)d;
}

void pci_msi_disable(struct pci_dev *d)
{
	(void)d;
}

static struct hostblk disks[8];
static size_t ndisks;
static struct hostblk_controller *ctrl;

struct hostblk *hostblk_add(struct blkdev *dev, const char *kind, unsigned c, unsigned nsid,
			    const char *model, const char *serial)
{
	assert_string_equal(kind, "sd");
	assert_int_equal(c, 0);
	assert_int_equal(nsid, 0);
	struct hostblk *hb = &disks[ndisks];
	snprintf(hb->name, sizeof(hb->name), "sd%c", 'a' + (int)ndisks);
	snprintf(hb->model, sizeof(hb->model), "%s", model);
	snprintf(hb->serial, sizeof(hb->serial), "%s", serial);
	hb->dev = dev;
	snprintf(dev->name, sizeof(dev->name), "%s", hb->name);
	ndisks++;
	return hb;
}

void hostblk_offline(struct blkdev *dev, const char *why)
{
	printk("blk: %s offline: %s\n", dev->name, why);
}

void hostblk_controller_register(struct hostblk_controller *c)
{
	ctrl = c;
}

/* ---- requests ---- */

static bool in_submit;
static struct blkdev *resubmit_to; /* a done() that submits again (takes the port lock) */

struct treq {
	struct blk_request r;
	struct blk_seg segs[600];
	int status;
	int calls;
};

static int mem_read(void *ctx, uint64_t gpa, void *dst, size_t len)
{
	(void)ctx;
	if (gpa < 0x10000)
		return -1;
	memcpy(dst, (void *)(uintptr_t)gpa, len);
	return 0;
}

static int mem_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
	(void)ctx;
	if (gpa < 0x10000)
		return -1;
	memcpy((void *)(uintptr_t)gpa, src, len);
	return 0;
}

static uint64_t mem_dma(void *ctx, uint64_t gpa, uint64_t len)
{
	(void)ctx;
	(void)len;
	return gpa;
}

static const struct blk_guest_mem dma_mem = {mem_read, mem_write, mem_dma, NULL};
static const struct blk_guest_mem copy_mem = {mem_read, mem_write, NULL, NULL};

static struct treq extra;

static void req_done(struct blk_request *r, int status)
{
	struct treq *t = r->ctx;
	assert_false(in_submit); /* never from inside submit */
	t->status = status;
	t->calls++;
	if (resubmit_to) {
		/* the lock must not be held here: this would deadlock */
		struct blkdev *d = resubmit_to;
		resubmit_to = NULL;
		extra = (struct treq){.r = {.op = BLK_OP_FLUSH, .done = req_done, .ctx = &extra}};
		d->ops->submit(d, &extra.r);
	}
}

static void submit(struct blkdev *d, struct treq *t)
{
	t->calls = 0;
	t->status = 99;
	t->r.done = req_done;
	t->r.ctx = t;
	in_submit = true;
	d->ops->submit(d, &t->r);
	in_submit = false;
}

/* A request over buf in segments of seg bytes, every `stride` bytes apart. */
static void rw_req(struct treq *t, enum blk_op op, uint64_t sector, uint8_t *buf, unsigned nseg,
		   uint32_t seg, uint32_t stride, const struct blk_guest_mem *mem)
{
	memset(&t->r, 0, sizeof(t->r));
	for (unsigned i = 0; i < nseg; i++)
		t->segs[i] = (struct blk_seg){(uint64_t)(uintptr_t)(buf + (size_t)i * stride), seg};
	t->r.op = op;
	t->r.sector = sector;
	t->r.nsectors = (uint64_t)nseg * seg / 512;
	t->r.segs = t->segs;
	t->r.nseg = nseg;
	t->r.mem = mem;
}

static void run_deferred(void)
{
	if (work->pending || work->poll_us) {
		work->pending = 0;
		work->fn(work->arg);
	}
}

/* Runs the HBA and the driver's deferred work until t completes (or rounds run out). */
static void complete(struct treq *t)
{
	for (int i = 0; i < 1000 && !t->calls; i++) {
		hba_step();
		run_deferred();
	}
}

/* ---- set-up ---- */

/* one per test: what the driver allocated stays reachable (no leak reports) */
static struct pci_dev pdevs[32];
static unsigned probes;
#define pdev (pdevs[probes])

static void model_port(unsigned n, enum kind k, uint64_t sectors, uint32_t bs, bool wc)
{
	struct fport *p = &hba.port[n];
	memset(p, 0, sizeof(*p));
	p->kind = k;
	p->fail_lba = UINT64_MAX;
	p->ccs = true;
	p->tfd = 0x7f;
	p->sig = ~0u;
	if (k == ATA) {
		p->sectors = sectors;
		p->bs = bs;
		p->wc = wc;
		p->disk = calloc(sectors, bs);
	}
	link_comes_up(p);
}

static int setup(void **state)
{
	(void)state;
	for (int n = 0; n < NPORTS; n++)
		free(hba.port[n].disk);
	memset(&hba, 0, sizeof(hba));
	hba.cap = (NPORTS - 1) | (31u << 8) | AHCI_CAP_S64A | AHCI_CAP_SNCQ;
	hba.pi = (1u << NPORTS) - 1;
	hba.auto_run = true;
	hba.msi_ok = true;
	model_port(0, NONE, 0, 0, false);
	model_port(1, ATAPI, 0, 0, false);
	model_port(2, ATA, 131072, 512, true); /* 64 MiB */
	model_port(3, ATA, 4096, 4096, false); /* 16 MiB, 4Kn */
	/* the firmware left port 2 running */
	hba.port[2].cmd = AHCI_PxCMD_ST | AHCI_PxCMD_CR | AHCI_PxCMD_FRE | AHCI_PxCMD_FR;
	clock_us = 0;
	loglen = 0;
	logbuf[0] = 0;
	work = watchdog = NULL;
	ndisks = 0;
	ctrl = NULL;
	resubmit_to = NULL;
	memset(&pdev, 0, sizeof(pdev));
	pdev.class_base = 1;
	pdev.class_sub = 6;
	pdev.prog_if = 1;
	pdev.bar[5] = (struct pci_bar){.base = 0xfebf1000, .size = 0x1000};
	return 0;
}

static void probe(void)
{
	char err[128] = "";
	assert_true(ahci_pci_driver.match(&pdev));
	assert_int_equal(ahci_pci_driver.probe(&pdev, err, sizeof(err)), 0);
	probes++;
}

static struct blkdev *sda(void)
{
	return disks[0].dev;
}

static uint8_t *pages(unsigned n)
{
	uint8_t *b = aligned_alloc(4096, (size_t)n * 4096);
	assert_non_null(b);
	return b;
}

/* ---- tests ---- */

static void test_bring_up(void **state)
{
	(void)state;
	probe();
	assert_int_equal(ndisks, 2);
	assert_string_equal(disks[0].model, "QEMU HARDDISK");
	assert_string_equal(disks[0].serial, "QM00003");
	assert_string_equal(disks[1].serial, "QM00004");
	assert_int_equal(sda()->sectors, 131072);
	assert_int_equal(sda()->block_size, 512);
	assert_true(sda()->volatile_cache);
	assert_false(sda()->can_discard);
	assert_int_equal(disks[1].dev->sectors, 4096 * 8);
	assert_int_equal(disks[1].dev->block_size, 4096);
	assert_false(disks[1].dev->volatile_cache);
	assert_non_null(strstr(logbuf, "sda: QEMU HARDDISK (serial QM00003), 64.0 MiB, 512-byte "
				       "sectors, write cache: yes, port 2 of ahci0 (MSI)\n"));
	assert_non_null(strstr(logbuf, "sdb: QEMU HARDDISK (serial QM00004), 16.0 MiB, 4096-byte "
				       "sectors, write cache: off, port 3 of ahci0 (MSI)\n"));
	assert_non_null(strstr(logbuf, "ahci0 port 1: an ATAPI device (CD/DVD) (signature "
				       "0xeb140101), not used\n"));
	assert_null(strstr(logbuf, "port 0")); /* empty: quiet */
	assert_non_null(strstr(logbuf, "ahci0: AHCI 1.0, 4 ports"));
	assert_string_equal(pdevs[probes - 1].status, "ahci0");
	/* the port the firmware left running was stopped and pointed at our memory */
	assert_int_equal(hba.port[2].identifies, 1);
	assert_true(hba.port[2].cmd & AHCI_PxCMD_ST);
	assert_int_equal(hba.port[2].ie & AHCI_PxIS_DHRS, AHCI_PxIS_DHRS);
	assert_true(hba.ghc & AHCI_GHC_IE);
	assert_true(hba.ghc & AHCI_GHC_AE);
	assert_non_null(ctrl);
	assert_non_null(work);
	assert_non_null(watchdog);
	assert_int_equal(work->poll_us, 200); /* polled until an interrupt is seen */
	assert_int_equal(watchdog->poll_us, 100000);
}

static void test_read_write_round_trip(void **state)
{
	(void)state;
	probe();
	struct blkdev *d = sda();
	/* 16 KiB in 4 segments on every other page: 4 PRDs */
	uint8_t *out = pages(8), *in = pages(8);
	for (int i = 0; i < 8 * 4096; i++)
		out[i] = (uint8_t)(i * 7 + 1);
	static struct treq w, r;
	rw_req(&w, BLK_OP_WRITE, 100, out, 4, 4096, 8192, &dma_mem);
	submit(d, &w);
	assert_int_equal(w.calls, 0); /* not from inside submit */
	complete(&w);
	assert_int_equal(w.calls, 1);
	assert_int_equal(w.status, BLK_OK);
	assert_memory_equal(hba.port[2].disk + 100 * 512, out, 4096);
	assert_memory_equal(hba.port[2].disk + 100 * 512 + 3 * 4096, out + 6 * 8192 / 2, 4096);
	assert_true(work->poll_us == 0); /* an interrupt came: polling stops */

	memset(in, 0, 8 * 4096);
	rw_req(&r, BLK_OP_READ, 100, in, 4, 4096, 8192, &dma_mem);
	submit(d, &r);
	complete(&r);
	assert_int_equal(r.status, BLK_OK);
	for (int i = 0; i < 4; i++)
		assert_memory_equal(in + i * 8192, out + i * 8192, 4096);
	assert_int_equal(d->stats.reads, 1);
	assert_int_equal(d->stats.writes, 1);
	assert_int_equal(d->stats.bytes_read, 16384);
	assert_int_equal(hba.port[2].max_prdtl, 4);

	/* 4Kn disk: LBAs in 4 KiB blocks */
	static struct treq w4;
	rw_req(&w4, BLK_OP_WRITE, 16, out, 2, 4096, 4096, &dma_mem);
	submit(disks[1].dev, &w4);
	complete(&w4);
	assert_int_equal(w4.status, BLK_OK);
	assert_memory_equal(hba.port[3].disk + 2 * 4096, out, 8192);
	/* misaligned for 4Kn: refused inside submit, which is allowed */
	rw_req(&w4, BLK_OP_WRITE, 1, out, 1, 4096, 4096, &dma_mem);
	in_submit = false;
	w4.r.done = req_done;
	w4.r.ctx = &w4;
	w4.calls = 0;
	disks[1].dev->ops->submit(disks[1].dev, &w4.r);
	assert_int_equal(w4.calls, 1);
	assert_int_equal(w4.status, BLK_EIO);
	free(out);
	free(in);
}

static void test_many_requests_use_several_slots(void **state)
{
	(void)state;
	probe();
	struct blkdev *d = sda();
	enum { N = 40 };
	static struct treq t[N];
	hba.port[2].max_ci = 0;
	uint8_t *buf = pages(N);
	for (int i = 0; i < N; i++) {
		memset(buf + i * 4096, i + 1, 4096);
		rw_req(&t[i], BLK_OP_WRITE, (uint64_t)i * 8, buf + i * 4096, 1, 4096, 4096, &dma_mem);
		submit(d, &t[i]);
	}
	assert_int_equal(hba.port[2].max_ci, 0); /* nothing ran yet */
	hba_step();
	assert_int_equal(hba.port[2].max_ci, 16); /* the slots the driver uses, all at once */
	for (int i = 0; i < 100; i++) {
		run_deferred();
		hba_step();
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(t[i].calls, 1);
		assert_int_equal(t[i].status, BLK_OK);
		assert_int_equal(hba.port[2].disk[i * 4096 + 17], i + 1);
	}
	free(buf);
}

static void test_large_requests_split(void **state)
{
	(void)state;
	probe();
	struct blkdev *d = sda();
	/* 300 scattered pages: more than 248 PRDs, so two commands */
	uint8_t *buf = pages(600);
	for (int i = 0; i < 600 * 4096; i++)
		buf[i] = (uint8_t)(i >> 12);
	static struct treq t;
	rw_req(&t, BLK_OP_WRITE, 0, buf, 300, 4096, 8192, &dma_mem);
	submit(d, &t);
	complete(&t);
	assert_int_equal(t.status, BLK_OK);
	assert_int_equal(hba.port[2].writes, 2);
	assert_int_equal(hba.port[2].max_prdtl, 248);
	for (int i = 0; i < 300; i++)
		assert_int_equal(hba.port[2].disk[i * 4096 + 5], (uint8_t)(2 * i));

	/* 40 MiB contiguous: more than 65535 sectors, so two commands */
	free(buf);
	buf = pages(10240);
	memset(buf, 0x5a, 10240 * 4096ul);
	static struct treq big;
	memset(&big.r, 0, sizeof(big.r));
	big.segs[0] = (struct blk_seg){(uint64_t)(uintptr_t)buf, 40u << 20};
	big.r = (struct blk_request){.op = BLK_OP_WRITE, .sector = 1000, .nsectors = (40u << 20) / 512,
				     .segs = big.segs, .nseg = 1, .mem = &dma_mem};
	hba.port[2].writes = 0;
	submit(d, &big);
	complete(&big);
	assert_int_equal(big.status, BLK_OK);
	assert_int_equal(hba.port[2].writes, 2);
	assert_int_equal(hba.port[2].disk[1000 * 512 + (40u << 20) - 1], 0x5a);
	assert_int_equal(hba.port[2].disk[1000 * 512 + (40u << 20)], 0);
	free(buf);
}

static void test_bounce(void **state)
{
	(void)state;
	probe();
	struct blkdev *d = sda();
	/* no dma_addr: everything through the bounce buffer, 64 KiB at a time */
	uint8_t *out = pages(40), *in = pages(40);
	for (int i = 0; i < 40 * 4096; i++)
		out[i] = (uint8_t)(i * 31);
	static struct treq w, r;
	rw_req(&w, BLK_OP_WRITE, 8, out, 40, 4096, 4096, &copy_mem);
	submit(d, &w);
	complete(&w);
	assert_int_equal(w.status, BLK_OK);
	assert_int_equal(hba.port[2].writes, 3); /* 160 KiB: 64 + 64 + 32 */
	assert_memory_equal(hba.port[2].disk + 8 * 512, out, 40 * 4096);
	rw_req(&r, BLK_OP_READ, 8, in, 40, 4096, 4096, &copy_mem);
	submit(d, &r);
	complete(&r);
	assert_int_equal(r.status, BLK_OK);
	assert_memory_equal(in, out, 40 * 4096);

	/* odd segments bounce too, and arrive where they belong */
	static struct treq o;
	memset(in, 0, 4096);
	memset(&o.r, 0, sizeof(o.r));
	o.segs[0] = (struct blk_seg){(uint64_t)(uintptr_t)(in + 1), 511};
	o.segs[1] = (struct blk_seg){(uint64_t)(uintptr_t)(in + 1001), 1};
	o.r = (struct blk_request){.op = BLK_OP_READ, .sector = 8, .nsectors = 1, .segs = o.segs,
				   .nseg = 2, .mem = &dma_mem};
	submit(d, &o);
	complete(&o);
	assert_int_equal(o.status, BLK_OK);
	assert_memory_equal(in + 1, out, 511);
	assert_int_equal(in[1001], out[511]);

	/* guest memory that cannot be read: that request fails, later in deferred work */
	static struct treq bad;
	memset(&bad.r, 0, sizeof(bad.r));
	bad.segs[0] = (struct blk_seg){0x1000, 512};
	bad.r = (struct blk_request){.op = BLK_OP_WRITE, .sector = 0, .nsectors = 1,
				     .segs = bad.segs, .nseg = 1, .mem = &copy_mem};
	submit(d, &bad);
	assert_int_equal(bad.calls, 0);
	complete(&bad);
	assert_int_equal(bad.status, BLK_EIO);
	assert_int_equal(d->stats.errors, 1);
	free(out);
	free(in);
}

static void test_flush(void **state)
{
	(void)state;
	probe();
	static struct treq f;
	memset(&f.r, 0, sizeof(f.r));
	f.r.op = BLK_OP_FLUSH;
	submit(sda(), &f);
	complete(&f);
	assert_int_equal(f.status, BLK_OK);
	assert_int_equal(hba.port[2].flushes, 1);
	/* no write cache: nothing to send, done at once */
	memset(&f.r, 0, sizeof(f.r));
	f.r.op = BLK_OP_FLUSH;
	f.r.done = req_done;
	f.r.ctx = &f;
	f.calls = 0;
	disks[1].dev->ops->submit(disks[1].dev, &f.r);
	assert_int_equal(f.calls, 1);
	assert_int_equal(f.status, BLK_OK);
	assert_int_equal(hba.port[3].flushes, 0);
	/* discard: not supported */
	memset(&f.r, 0, sizeof(f.r));
	f.r.op = BLK_OP_DISCARD;
	f.r.nsectors = 8;
	f.r.done = req_done;
	f.r.ctx = &f;
	f.calls = 0;
	sda()->ops->submit(sda(), &f.r);
	assert_int_equal(f.status, BLK_ENOTSUP);
}

static void test_done_may_submit(void **state)
{
	(void)state;
	probe();
	uint8_t *buf = pages(1);
	static struct treq t;
	rw_req(&t, BLK_OP_READ, 0, buf, 1, 4096, 4096, &dma_mem);
	resubmit_to = sda(); /* done() submits a flush: the port lock must be free */
	submit(sda(), &t);
	complete(&t);
	assert_int_equal(t.status, BLK_OK);
	complete(&extra);
	assert_int_equal(extra.calls, 1);
	assert_int_equal(extra.status, BLK_OK);
	free(buf);
}

static void error_recovery(bool old_qemu)
{
	probe();
	struct blkdev *d = sda();
	hba.port[2].old_qemu = old_qemu;
	uint8_t *buf = pages(4);
	static struct treq t[4];
	for (int i = 0; i < 4; i++) {
		memset(buf + i * 4096, 0x10 + i, 4096);
		hba.port[2].disk[(1000 + i * 8) * 512] = (uint8_t)(0x40 + i);
	}
	hba.port[2].fail_lba = 1008; /* the second request's */
	hba.port[2].fail_times = 2;  /* in the batch, then again when re-run alone */
	for (int i = 0; i < 4; i++) {
		rw_req(&t[i], BLK_OP_READ, 1000 + (uint64_t)i * 8, buf + i * 4096, 1, 4096, 4096,
		       &dma_mem);
		submit(d, &t[i]);
	}
	for (int i = 0; i < 50; i++) {
		hba_step();
		run_deferred();
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(t[i].calls, 1);
	assert_int_equal(t[0].status, BLK_OK);
	assert_int_equal(t[1].status, BLK_EIO); /* not reported OK, though PxCI let it go */
	assert_int_equal(t[2].status, BLK_OK);	/* re-run after the reset */
	assert_int_equal(t[3].status, BLK_OK);
	assert_int_equal(buf[0], 0x40);
	assert_int_equal(buf[2 * 4096], 0x42);
	assert_int_equal(buf[3 * 4096], 0x43);
	assert_non_null(strstr(logbuf, "sda: a command (one of 4, re-run one at a time) failed: "
				       "status 0x51 error 0x40 (UNC), PxIS 0x40000001"));
	/* the second failure, alone, is counted rather than printed; its line follows later */
	clock_us += 2000000;
	watchdog->fn(watchdog->arg);
	assert_non_null(strstr(logbuf, "sda: 1 more errors\n"));
	assert_true(hba.port[2].cmd & AHCI_PxCMD_ST); /* running again */
	assert_int_equal(hba.port[2].comresets, 0);   /* the device was not busy */
	assert_int_equal(d->stats.errors, 1);

	/* and the port still works, several slots at once again */
	static struct treq after[3];
	hba.port[2].max_ci = 0;
	for (int i = 0; i < 3; i++) {
		rw_req(&after[i], BLK_OP_READ, (uint64_t)i * 8, buf + i * 4096, 1, 4096, 4096,
		       &dma_mem);
		submit(d, &after[i]);
	}
	complete(&after[2]);
	assert_int_equal(after[0].status, BLK_OK);
	assert_int_equal(after[2].status, BLK_OK);
	assert_int_equal(hba.port[2].max_ci, 3);

	/* a failure alone names its command */
	static struct treq one;
	clock_us += 2000000;
	hba.port[2].fail_lba = 16;
	hba.port[2].fail_times = 1;
	rw_req(&one, BLK_OP_WRITE, 16, buf, 1, 4096, 4096, &dma_mem);
	submit(d, &one);
	complete(&one);
	assert_int_equal(one.status, BLK_EIO);
	assert_non_null(strstr(logbuf, "sda: WRITE DMA EXT of 8 sectors at LBA 16 failed: "));
	free(buf);
}

static void test_error_recovery(void **state)
{
	(void)state;
	error_recovery(false);
}

static void test_error_recovery_old_qemu(void **state)
{
	(void)state;
	error_recovery(true);
}

/* ST=0 leaves PxCI set: those slots run when ST is set again, and are not issued twice. */
static void test_timeout_with_stale_ci(void **state)
{
	(void)state;
	probe();
	struct blkdev *d = sda();
	hba.port[2].old_qemu = true;
	uint8_t *buf = pages(2);
	static struct treq a, b;
	hba.port[2].hang = true;
	rw_req(&a, BLK_OP_READ, 0, buf, 1, 4096, 4096, &dma_mem);
	rw_req(&b, BLK_OP_READ, 8, buf + 4096, 1, 4096, 4096, &dma_mem);
	submit(d, &a);
	submit(d, &b);
	hba.auto_run = false;
	unsigned writes = hba.port[2].ci_writes;
	for (int i = 0; i < 60; i++) {
		clock_us += 100000;
		watchdog->fn(watchdog->arg);
	}
	assert_non_null(strstr(logbuf, "a command (one of 2, re-run one at a time) timed out"));
	assert_int_equal(hba.port[2].comresets, 1);
	hba.auto_run = true;
	for (int i = 0; i < 5; i++) {
		clock_us += 100000;
		watchdog->fn(watchdog->arg);
		hba_step();
		run_deferred();
	}
	assert_int_equal(a.status, BLK_OK);
	assert_int_equal(b.status, BLK_OK);
	assert_int_equal(hba.port[2].reads, 2);
	assert_int_equal(hba.port[2].ci_writes, writes); /* they ran from the stale PxCI */
	free(buf);
}

static void test_errors_rate_limited(void **state)
{
	(void)state;
	probe();
	uint8_t *buf = pages(1);
	static struct treq t;
	hba.port[2].fail_lba = 0;
	hba.port[2].fail_times = 100;
	for (int i = 0; i < 20; i++) {
		rw_req(&t, BLK_OP_READ, 0, buf, 1, 4096, 4096, &dma_mem);
		submit(sda(), &t);
		complete(&t);
		assert_int_equal(t.status, BLK_EIO);
		clock_us += 1000;
	}
	/* one line for the burst; the count follows when a second has passed */
	const char *first = strstr(logbuf, "failed:");
	assert_non_null(first);
	assert_null(strstr(first + 1, "failed:"));
	clock_us += 1000000;
	watchdog->fn(watchdog->arg);
	assert_non_null(strstr(logbuf, "sda: 19 more errors\n"));
	free(buf);
}

static void watch(unsigned ms)
{
	for (unsigned i = 0; i < ms / 100; i++) {
		clock_us += 100000;
		watchdog->fn(watchdog->arg);
		hba_step();
		run_deferred();
	}
}

static void test_timeout_and_comreset(void **state)
{
	(void)state;
	probe();
	struct blkdev *d = sda();
	uint8_t *buf = pages(2);
	static struct treq a, b;
	hba.port[2].hang_lba = 0; /* the device stops answering at a's sectors, twice */
	hba.port[2].hang_times = 2;
	rw_req(&a, BLK_OP_READ, 0, buf, 1, 4096, 4096, &dma_mem);
	rw_req(&b, BLK_OP_READ, 8, buf + 4096, 1, 4096, 4096, &dma_mem);
	submit(d, &a);
	submit(d, &b);
	watch(1000);
	assert_int_equal(a.calls, 0); /* 1 s: still waiting */
	watch(4500);
	/* 5 s without progress: both may be the one, the port is reset, both re-run alone */
	assert_non_null(strstr(logbuf, "sda: a command (one of 2, re-run one at a time) timed "
				       "out after 5 s (status 0x80); resetting the port\n"));
	assert_int_equal(hba.port[2].comresets, 1);
	assert_int_equal(a.calls, 0);
	/* a hangs again alone: failed back after another 5 s; then b runs */
	watch(5500);
	assert_int_equal(hba.port[2].comresets, 2);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.status, BLK_EIO);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.status, BLK_OK);
	assert_true(hba.port[2].cmd & AHCI_PxCMD_ST);
	assert_int_equal(hba.port[2].ie, hba.port[3].ie); /* interrupts back on */
	free(buf);
}

static void test_port_that_does_not_come_back_goes_offline(void **state)
{
	(void)state;
	probe();
	struct blkdev *d = sda();
	uint8_t *buf = pages(1);
	static struct treq a;
	hba.port[2].hang = true;
	hba.port[2].no_comeback = true;
	rw_req(&a, BLK_OP_READ, 0, buf, 1, 4096, 4096, &dma_mem);
	submit(d, &a);
	hba.auto_run = false;
	for (int i = 0; i < 55; i++) {
		clock_us += 100000;
		watchdog->fn(watchdog->arg);
	}
	/* timed out and failed back; the port is in reset, waiting for the link */
	assert_int_equal(a.status, BLK_EIO);
	assert_null(strstr(logbuf, "offline"));
	static struct treq waiting;
	rw_req(&waiting, BLK_OP_READ, 8, buf, 1, 4096, 4096, &dma_mem);
	submit(d, &waiting);
	for (int i = 0; i < 100; i++) {
		clock_us += 100000;
		watchdog->fn(watchdog->arg);
	}
	run_deferred();
	assert_int_equal(waiting.calls, 1); /* held during the reset, failed when it gave up */
	assert_int_equal(waiting.status, BLK_EIO);
	assert_non_null(strstr(logbuf, "blk: sda offline: port 2 of ahci"));
	assert_non_null(strstr(logbuf, " did not come back after a reset; its I/O fails from now "
				       "on\n"));
	/* from now on: at once */
	static struct treq b;
	rw_req(&b, BLK_OP_READ, 0, buf, 1, 4096, 4096, &dma_mem);
	in_submit = false;
	b.r.done = req_done;
	b.r.ctx = &b;
	b.calls = 0;
	d->ops->submit(d, &b.r);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.status, BLK_EIO);
	/* the other disk is unaffected */
	static struct treq c;
	hba.auto_run = true;
	rw_req(&c, BLK_OP_READ, 0, buf, 1, 4096, 4096, &dma_mem);
	submit(disks[1].dev, &c);
	complete(&c);
	assert_int_equal(c.status, BLK_OK);
	free(buf);
}

static void test_polling_without_msi(void **state)
{
	(void)state;
	hba.msi_ok = false;
	probe();
	assert_non_null(strstr(logbuf, "(polling)\n"));
	assert_false(hba.ghc & AHCI_GHC_IE);
	assert_int_equal(hba.port[2].ie, 0);
	uint8_t *buf = pages(1);
	static struct treq t;
	rw_req(&t, BLK_OP_READ, 0, buf, 1, 4096, 4096, &dma_mem);
	submit(sda(), &t);
	complete(&t);
	assert_int_equal(t.status, BLK_OK);
	assert_int_equal(work->poll_us, 200); /* stays polled */
	assert_int_equal(hba.irqs, 0);
	free(buf);
}

static void test_shutdown_flushes(void **state)
{
	(void)state;
	probe();
	ctrl->shutdown(ctrl->arg);
	assert_int_equal(hba.port[2].flushes, 1);
	assert_int_equal(hba.port[3].flushes, 0); /* no write cache */
	assert_non_null(strstr(logbuf, "sda: write cache flushed\n"));
	/* afterwards, requests fail at once */
	uint8_t *buf = pages(1);
	static struct treq t;
	rw_req(&t, BLK_OP_READ, 0, buf, 1, 4096, 4096, &dma_mem);
	t.r.done = req_done;
	t.r.ctx = &t;
	t.calls = 0;
	sda()->ops->submit(sda(), &t.r);
	assert_int_equal(t.status, BLK_EIO);
	free(buf);
}

static void test_no_disks_left_idle(void **state)
{
	(void)state;
	hba.pi = 0x3; /* the empty port and the CD only */
	probe();
	assert_int_equal(ndisks, 0);
	assert_non_null(strstr(logbuf, "ahci"));
	assert_non_null(strstr(logbuf, ", 0 disks, left idle\n"));
	assert_null(work); /* nothing polled, no interrupts */
	assert_null(hba.handler);
	assert_null(ctrl);
	assert_false(hba.ghc & AHCI_GHC_IE);
	assert_false(hba.port[1].cmd & (AHCI_PxCMD_ST | AHCI_PxCMD_FRE)); /* the CD's port stopped */
}

static void test_identify_fails(void **state)
{
	(void)state;
	hba.port[2].fail_identify = true;
	hba.port[2].old_qemu = true; /* PxCI let go with the error: still a failure */
	probe();
	assert_int_equal(ndisks, 1);
	assert_string_equal(disks[0].serial, "QM00004");
	assert_non_null(strstr(logbuf, " port 2: IDENTIFY DEVICE failed (status 0x51 error 0x40); "
				       "not used\n"));
	assert_false(hba.port[2].cmd & (AHCI_PxCMD_ST | AHCI_PxCMD_FRE));
}

static void test_no_match(void **state)
{
	(void)state;
	pdev.prog_if = 0; /* IDE mode */
	assert_false(ahci_pci_driver.match(&pdev));
	pdev.prog_if = 1;
	pdev.class_sub = 4; /* RAID */
	assert_false(ahci_pci_driver.match(&pdev));
	pdev.class_sub = 6;
	pdev.bar[5].size = 0;
	char err[128];
	assert_int_equal(ahci_pci_driver.probe(&pdev, err, sizeof(err)), -1);
	assert_string_equal(err, "no memory BAR5 (ABAR)");
}

int main(void)
{
	alarm(120); /* a deadlock fails the run instead of hanging it */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_bring_up, setup),
		cmocka_unit_test_setup(test_read_write_round_trip, setup),
		cmocka_unit_test_setup(test_many_requests_use_several_slots, setup),
		cmocka_unit_test_setup(test_large_requests_split, setup),
		cmocka_unit_test_setup(test_bounce, setup),
		cmocka_unit_test_setup(test_flush, setup),
		cmocka_unit_test_setup(test_done_may_submit, setup),
		cmocka_unit_test_setup(test_error_recovery, setup),
		cmocka_unit_test_setup(test_error_recovery_old_qemu, setup),
		cmocka_unit_test_setup(test_timeout_with_stale_ci, setup),
		cmocka_unit_test_setup(test_errors_rate_limited, setup),
		cmocka_unit_test_setup(test_timeout_and_comreset, setup),
		cmocka_unit_test_setup(test_port_that_does_not_come_back_goes_offline, setup),
		cmocka_unit_test_setup(test_polling_without_msi, setup),
		cmocka_unit_test_setup(test_shutdown_flushes, setup),
		cmocka_unit_test_setup(test_no_disks_left_idle, setup),
		cmocka_unit_test_setup(test_identify_fails, setup),
		cmocka_unit_test_setup(test_no_match, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
