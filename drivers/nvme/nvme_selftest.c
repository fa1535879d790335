/* See nvme_selftest.h. */
#include "drivers/nvme/nvme_selftest.h"

#include "drivers/nvme/nvme.h"
#include "include/x86.h"
#include "kernel/blk/blkdev.h"
#include "kernel/cmdline.h"
#include "kernel/cpu/deferred.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/time/tsc.h"

#define PAGE 4096u
#define DATA_PAGES 258 /* 1 MiB + 8 KiB: three commands at QEMU's 512 KiB MDTS */
#define TIMEOUT_US 20000000

/* Host memory as "guest" memory: addresses are host physical (identity-mapped). */
static int host_read(void *ctx, uint64_t a, void *dst, size_t len)
{
	(void)ctx;
	memcpy(dst, phys_to_virt(a), len);
	return 0;
}

static int host_write(void *ctx, uint64_t a, const void *src, size_t len)
{
	(void)ctx;
	memcpy(phys_to_virt(a), src, len);
	return 0;
}

static uint64_t host_dma(void *ctx, uint64_t a, uint64_t len)
{
	(void)ctx;
	(void)len;
	return a;
}

static const struct blk_guest_mem direct = {host_read, host_write, host_dma, NULL};
static const struct blk_guest_mem bounced = {host_read, host_write, NULL, NULL};

/* Static: a request that times out may still complete later. */
static struct blk_request req;
static struct blk_seg segs[DATA_PAGES];
static volatile int req_done, req_status;

static void on_done(struct blk_request *r, int status)
{
	(void)r;
	req_status = status;
	__atomic_store_n(&req_done, 1, __ATOMIC_RELEASE);
}

static int run(struct blkdev *d, enum blk_op op, uint64_t sector, uint64_t nsectors, unsigned nseg,
	       const struct blk_guest_mem *mem)
{
	req = (struct blk_request){.op = op, .sector = sector, .nsectors = nsectors, .segs = segs,
				   .nseg = nseg, .mem = mem, .done = on_done};
	req_done = 0;
	d->ops->submit(d, &req);
	uint64_t end = uptime_us() + TIMEOUT_US;
	while (!__atomic_load_n(&req_done, __ATOMIC_ACQUIRE)) {
		if (uptime_us() > end)
			return 100; /* not a blk_status */
		deferred_run();
		cpu_relax();
	}
	return req_status;
}

static const char *check(struct blkdev *d, uint8_t *pages, uint8_t *flat)
{
	uint64_t bytes = (uint64_t)DATA_PAGES * PAGE, n = bytes / BLK_SECTOR_SIZE;
	uint64_t at = d->sectors - 2 * 1024 * 1024 / BLK_SECTOR_SIZE; /* the last 2 MiB */

	/* scattered: every other page of `pages`, no two host-contiguous */
	for (unsigned i = 0; i < DATA_PAGES; i++) {
		uint8_t *p = pages + 2ull * i * PAGE;
		for (unsigned k = 0; k < PAGE; k++)
			p[k] = (uint8_t)(i * 7 + k * 13 + (k >> 8));
		segs[i] = (struct blk_seg){(uint64_t)(uintptr_t)p, PAGE};
	}
	if (run(d, BLK_OP_WRITE, at, n, DATA_PAGES, &direct))
		return "scattered write failed";
	memset(flat, 0, bytes);
	segs[0] = (struct blk_seg){(uint64_t)(uintptr_t)flat, (uint32_t)bytes};
	if (run(d, BLK_OP_READ, at, n, 1, &bounced))
		return "bounced read failed";
	for (unsigned i = 0; i < DATA_PAGES; i++)
		if (memcmp(flat + (uint64_t)i * PAGE, pages + 2ull * i * PAGE, PAGE))
			return "bounced read gave other data";

	/* 4 KiB from an odd address and another page, read back 0x200 into a page */
	segs[0] = (struct blk_seg){(uint64_t)(uintptr_t)(pages + 3), 1000};
	segs[1] = (struct blk_seg){(uint64_t)(uintptr_t)(pages + 4 * PAGE), PAGE - 1000};
	if (run(d, BLK_OP_WRITE, at, PAGE / BLK_SECTOR_SIZE, 2, &direct))
		return "misaligned write failed";
	segs[0] = (struct blk_seg){(uint64_t)(uintptr_t)(flat + 0x200), PAGE};
	if (run(d, BLK_OP_READ, at, PAGE / BLK_SECTOR_SIZE, 1, &direct))
		return "offset read failed";
	if (memcmp(flat + 0x200, pages + 3, 1000) ||
	    memcmp(flat + 0x200 + 1000, pages + 4 * PAGE, PAGE - 1000))
		return "misaligned segments gave other data";

	if (d->volatile_cache && run(d, BLK_OP_FLUSH, 0, 0, 0, &direct))
		return "flush failed";
	if (d->can_write_zeroes) {
		if (run(d, BLK_OP_WRITE_ZEROES, at, 128, 0, &direct))
			return "write-zeroes failed";
		memset(flat, 0xee, 65536);
		segs[0] = (struct blk_seg){(uint64_t)(uintptr_t)flat, 65536};
		if (run(d, BLK_OP_READ, at, 128, 1, &direct))
			return "read after write-zeroes failed";
		for (unsigned i = 0; i < 65536; i++)
			if (flat[i])
				return "write-zeroes left data";
	}
	if (d->can_discard && run(d, BLK_OP_DISCARD, at + 256, 256, 0, &direct))
		return "discard failed";
	segs[0] = (struct blk_seg){(uint64_t)(uintptr_t)flat, PAGE};
	if (run(d, BLK_OP_READ, d->sectors, PAGE / BLK_SECTOR_SIZE, 1, &direct) != BLK_ERANGE)
		return "a read past the end was not refused";
	return NULL;
}

void nvme_selftest(const char *cmdline)
{
	const char *v;
	size_t len;

	if (!cmdline_find(cmdline, "test_nvme", &v, &len))
		return;
	uint64_t pages = frame_alloc_zeroed(2 * DATA_PAGES), flat = frame_alloc_zeroed(DATA_PAGES);
	if (!pages || !flat) {
		printk("nvme selftest: out of memory\n");
		return;
	}
	for (unsigned i = 0; nvme_namespace(i); i++) {
		struct blkdev *d = nvme_namespace(i);
		if (d->sectors < 8192 || d->read_only) {
			printk("nvme selftest: %s: too small or read-only; skipped\n", d->name);
			continue;
		}
		uint64_t irqs = nvme_interrupts(d), t0 = uptime_us();
		const char *why = check(d, phys_to_virt(pages), phys_to_virt(flat));
		printk("nvme selftest: %s: %s (write, read%s%s%s; %lu interrupts, %lu ms)\n", d->name,
		       why ? why : "ok", d->volatile_cache ? ", flush" : "",
		       d->can_write_zeroes ? ", write-zeroes" : "", d->can_discard ? ", discard" : "",
		       nvme_interrupts(d) - irqs, (uptime_us() - t0) / 1000);
	}
}
