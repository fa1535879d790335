// SOURCES: kernel/blk/hostblk.c kernel/blk/gpt.c kernel/blk/blk_sync.c kernel/blk/ramdisk.c kernel/blk/blk_check.c kernel/blk/disk_claim.c kernel/lib/string.c kernel/lib/format.c
/*
 * The host's disks as drivers register them: Linux's names, the GPT read
 * through the block layer (completions at once, from deferred work, or
 * never), the boot lines, the boot medium kept from labels and UUIDs, VM
 * disk targets resolved or refused with their reasons, block-list's table,
 * and the controllers' shutdown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/blk/blk_sync.h"
#include "kernel/blk/disk_claim.h"
#include "kernel/blk/hostblk.h"
#include "kernel/blk/ramdisk.h"
#include "tests/unit/gpt_fixture.h"

/* ---- the kernel services hostblk.c and blk_sync.c use ---- */

static char logbuf[16384], conbuf[16384];
static uint64_t khz = 1000000;

static void append(char *buf, size_t size, const char *fmt, va_list ap)
{
	size_t used = strlen(buf);
	if (used < size)
		vsnprintf(buf + used, size - used, fmt, ap);
}

void printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	append(logbuf, sizeof(logbuf), fmt, ap);
	va_end(ap);
}

void console_print(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	append(conbuf, sizeof(conbuf), fmt, ap);
	va_end(ap);
}

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

uint64_t tsc_khz(void)
{
	return khz;
}

/* A disk whose driver completes from deferred work (or, when stuck, never). */
struct slow_disk {
	struct blkdev dev;
	struct ramdisk rd; /* the medium */
	struct blk_request *queue[16];
	unsigned queued;
	bool stuck;
};

static struct slow_disk *slow_disks[4];
static unsigned nslow;

static void slow_complete_all(struct slow_disk *s)
{
	for (unsigned i = 0; i < s->queued; i++)
		s->rd.dev.ops->submit(&s->rd.dev, s->queue[i]); /* completes inside */
	s->queued = 0;
}

void deferred_run(void)
{
	for (unsigned i = 0; i < nslow; i++)
		if (!slow_disks[i]->stuck)
			slow_complete_all(slow_disks[i]);
}

static void slow_submit(struct blkdev *d, struct blk_request *r)
{
	struct slow_disk *s = d->priv;
	assert_true(s->queued < 16);
	s->queue[s->queued++] = r;
}

static const struct blkdev_ops slow_ops = {.submit = slow_submit};

/* ---- disks ---- */

#define MIB (1024 * 1024)

struct mem_disk {
	struct ramdisk rd;
	uint8_t *data;
};

static struct mem_disk mem_disks[8];
static unsigned nmem;

/* A RAM-backed disk of `bytes` with a GPT of these partitions (n = 0: no GPT). */
static struct blkdev *disk_with(uint64_t bytes, uint32_t bs, const struct gptfx_part *p,
				unsigned n)
{
	struct mem_disk *m = &mem_disks[nmem++];

	m->data = calloc(1, bytes);
	assert_non_null(m->data);
	if (n)
		gptfx_write(m->data, bytes / bs, bs, p, n);
	assert_int_equal(ramdisk_init(&m->rd, "x", m->data, bytes, false), 0);
	m->rd.dev.block_size = bs;
	return &m->rd.dev;
}

static const struct gptfx_part alpha_beta[] = {
	{1, 2048, 4095, "vm-alpha", 0xa1},
	{2, 4096, 6143, "vm-beta", 0xb2},
};

static int teardown(void **state)
{
	(void)state;
	hostblk_reset();
	for (unsigned i = 0; i < nmem; i++)
		free(mem_disks[i].data);
	nmem = 0;
	nslow = 0;
	memset(&disk_claims_host.c, 0, sizeof(disk_claims_host.c));
	logbuf[0] = conbuf[0] = 0;
	khz = 1000000;
	return 0;
}

static void expect_log(const char *line)
{
	if (!strstr(logbuf, line))
		fail_msg("log lacks \"%s\"; it is:\n%s", line, logbuf);
}

static struct hostblk_target tgt;
static char err[256];

static void expect_refused(const char *target, const char *reason)
{
	assert_int_equal(hostblk_resolve(target, &tgt, err, sizeof(err)), -1);
	if (strcmp(err, reason) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", target, err, reason);
}

static void expect_target(const char *target, const char *canonical, uint64_t first,
			  uint64_t sectors)
{
	if (hostblk_resolve(target, &tgt, err, sizeof(err)) != 0)
		fail_msg("%s: refused: %s", target, err);
	assert_string_equal(tgt.canonical, canonical);
	assert_int_equal(tgt.first_sector, first);
	assert_int_equal(tgt.sectors, sectors);
}

/* ---- tests ---- */

static void test_size_text(void **state)
{
	char b[32];
	(void)state;
	hostblk_size_text(b, sizeof(b), 0);
	assert_string_equal(b, "0 B");
	hostblk_size_text(b, sizeof(b), 512);
	assert_string_equal(b, "512 B");
	hostblk_size_text(b, sizeof(b), 1536);
	assert_string_equal(b, "1.5 KiB");
	hostblk_size_text(b, sizeof(b), 64 * MIB);
	assert_string_equal(b, "64.0 MiB");
	hostblk_size_text(b, sizeof(b), 31 * MIB + 900 * 1024);
	assert_string_equal(b, "31.8 MiB");
	hostblk_size_text(b, sizeof(b), UINT64_MAX);
	assert_string_equal(b, "16383.9 PiB");
}

static void test_names_and_boot_lines(void **state)
{
	(void)state;
	struct hostblk *n = hostblk_add(disk_with(4 * MIB, 512, alpha_beta, 2), "nvme", 0, 1,
					"QEMU NVMe Ctrl", "hv0");
	assert_non_null(n);
	assert_string_equal(n->name, "nvme0n1");
	assert_string_equal(n->dev->name, "nvme0n1");
	assert_int_equal(n->gpt, GPT_OK);
	assert_false(n->boot_medium);
	expect_log("blk: nvme0n1: 4.0 MiB, GPT with 2 partitions (QEMU NVMe Ctrl hv0)\n");
	expect_log("blk: nvme0n1p1 \"vm-alpha\" 1.0 MiB partuuid "
		   "a1a1a1a1-a1a1-a1a1-a1a1-a1a1a1a1a1a1\n");
	expect_log("blk: nvme0n1p2 \"vm-beta\" 1.0 MiB partuuid "
		   "b2b2b2b2-b2b2-b2b2-b2b2-b2b2b2b2b2b2\n");
	assert_string_equal(hostblk_add(disk_with(MIB, 512, NULL, 0), "sd", 0, 0, "", "")->name,
			    "sda");
	expect_log("blk: sda: 1.0 MiB, no GPT\n");
	assert_string_equal(hostblk_add(disk_with(MIB, 512, NULL, 0), "sd", 1, 0, NULL, NULL)->name,
			    "sdb");
	assert_string_equal(hostblk_add(disk_with(MIB, 512, NULL, 0), "ram", 7, 0, NULL, NULL)->name,
			    "ram0");
	assert_string_equal(hostblk_add(disk_with(MIB, 512, NULL, 0), "nvme", 1, 2, NULL, NULL)->name,
			    "nvme1n2");
	/* the same namespace twice is a driver's bug: the second is ignored */
	assert_null(hostblk_add(disk_with(MIB, 512, NULL, 0), "nvme", 0, 1, NULL, NULL));
	expect_log("blk: nvme0n1 registered twice; the second ignored\n");
	assert_int_equal(hostblk_count(), 5);
	assert_ptr_equal(hostblk_find("sdb"), hostblk_get(2));
	assert_null(hostblk_find("sdc"));
	assert_null(hostblk_get(5));
}

static void test_sd_names_past_z(void **state)
{
	(void)state;
	for (int i = 0; i < 28; i++) {
		struct blkdev *d = calloc(1, sizeof(*d));
		d->sectors = 0; /* no reads at all */
		d->block_size = 512;
		if (i >= HOSTBLK_MAX) {
			free(d);
			break;
		}
		struct hostblk *hb = hostblk_add(d, "sd", 0, 0, NULL, NULL);
		assert_non_null(hb);
		if (i == 25)
			assert_string_equal(hb->name, "sdz");
		if (i == 26)
			assert_string_equal(hb->name, "sdaa");
		if (i == 27)
			assert_string_equal(hb->name, "sdab");
	}
	for (size_t i = 0; i < hostblk_count(); i++)
		free(hostblk_get(i)->dev);
}

static void test_table_full(void **state)
{
	static struct blkdev devs[HOSTBLK_MAX + 1];
	(void)state;
	for (int i = 0; i <= HOSTBLK_MAX; i++) {
		devs[i].block_size = 512;
		struct hostblk *hb = hostblk_add(&devs[i], "nvme", (unsigned)i, 1, NULL, NULL);
		if (i < HOSTBLK_MAX)
			assert_non_null(hb);
		else
			assert_null(hb);
	}
	expect_log("blk: more than 32 host disks: nvme 32/1 ignored\n");
}

static void test_resolve_targets(void **state)
{
	static const struct gptfx_part sda_parts[] = {
		{1, 2048, 2559, "web", 0xc3},
		{3, 2560, 3071, "", 0xd4},
	};
	(void)state;
	hostblk_add(disk_with(4 * MIB, 512, alpha_beta, 2), "nvme", 0, 1, NULL, NULL);
	hostblk_add(disk_with(2 * MIB, 512, sda_parts, 2), "sd", 0, 0, NULL, NULL);
	hostblk_add(disk_with(MIB, 512, NULL, 0), "sd", 0, 0, NULL, NULL); /* sdb: no GPT */

	expect_target("partlabel:vm-alpha", "nvme0n1p1", 2048, 2048);
	assert_string_equal(tgt.label, "vm-alpha");
	assert_string_equal(tgt.uuid, "a1a1a1a1-a1a1-a1a1-a1a1-a1a1a1a1a1a1");
	assert_ptr_equal(tgt.hb, hostblk_find("nvme0n1"));
	expect_target("/dev/disk/by-partlabel/web", "sda1", 2048, 512);
	expect_target("partuuid:B2B2B2B2-B2B2-B2B2-B2B2-B2B2B2B2B2B2", "nvme0n1p2", 4096, 2048);
	expect_target("/dev/disk/by-partuuid/d4d4d4d4-d4d4-d4d4-d4d4-d4d4d4d4d4d4", "sda3", 2560,
		      512);
	expect_target("nvme0n1p2", "nvme0n1p2", 4096, 2048);
	expect_target("/dev/sda3", "sda3", 2560, 512);
	expect_target("nvme0n1", "nvme0n1", 0, 8192);
	expect_target("/dev/sdb", "sdb", 0, 2048);
	assert_string_equal(tgt.label, "");

	expect_refused("partlabel:web-2", "no partition labelled \"web-2\" on any host disk");
	expect_refused("partuuid:00000000-0000-0000-0000-000000000001",
		       "no partition UUID 00000000-0000-0000-0000-000000000001 on any host disk");
	expect_refused("partuuid:0b8e7e1c-01", "0b8e7e1c-01 is not a GPT partition UUID (like "
					       "0fc63daf-8483-4772-8e79-3d69d8477de4)");
	expect_refused("partlabel:", "partlabel: names no partition label");
	expect_refused("nvme0n1p3", "nvme0n1 has no partition 3");
	expect_refused("sda2", "sda has no partition 2");
	expect_refused("sda0", "sda has no partition 0 (GPT slots count from 1)");
	expect_refused("sda99999", "sda has no partition 99999");
	expect_refused("sdb1", "sdb has no GPT, so no partition 1");
	expect_refused("nvme0n12", "no host disk named nvme0n12 (host disks: nvme0n1, sda, sdb)");
	expect_refused("sdc", "no host disk named sdc (host disks: nvme0n1, sda, sdb)");
	expect_refused("/dev/sdab1", "no host disk named sdab1 (host disks: nvme0n1, sda, sdb)");
	expect_refused("sdax", "no host disk named sdax (host disks: nvme0n1, sda, sdb)");

	/* the same label on two disks, and twice on one */
	static const struct gptfx_part dup[] = {{2, 100, 199, "vm-alpha", 0xe5},
						{4, 200, 299, "twice", 0xe6},
						{5, 300, 399, "twice", 0xe7}};
	hostblk_add(disk_with(MIB, 512, dup, 3), "nvme", 1, 1, NULL, NULL);
	expect_refused("partlabel:vm-alpha", "partition label \"vm-alpha\" is on two disks "
					     "(nvme0n1p1, nvme1n1p2): use partuuid:");
	expect_refused("partlabel:twice", "partition label \"twice\" is on two partitions "
					  "(nvme1n1p4, nvme1n1p5): use partuuid:");
	expect_target("partuuid:e5e5e5e5-e5e5-e5e5-e5e5-e5e5e5e5e5e5", "nvme1n1p2", 100, 100);
}

static void test_damaged_and_unusable_tables(void **state)
{
	(void)state;
	struct blkdev *d = disk_with(4 * MIB, 512, alpha_beta, 2);
	mem_disks[nmem - 1].data[512 + 40] ^= 1; /* the primary header's FirstUsableLBA */
	struct hostblk *hb = hostblk_add(d, "nvme", 0, 1, NULL, NULL);
	assert_int_equal(hb->gpt, GPT_OK);
	assert_true(hb->table->used_backup);
	expect_log("blk: nvme0n1: 4.0 MiB, GPT with 2 partitions\n");
	expect_log("blk: nvme0n1: primary GPT damaged (header CRC mismatch): using the backup\n");
	expect_target("partlabel:vm-beta", "nvme0n1p2", 4096, 2048);

	d = disk_with(4 * MIB, 512, alpha_beta, 2);
	mem_disks[nmem - 1].data[512 + 40] ^= 1;
	mem_disks[nmem - 1].data[(8191) * 512 + 40] ^= 1;
	hb = hostblk_add(d, "sd", 0, 0, NULL, NULL);
	assert_int_equal(hb->gpt, GPT_BAD);
	assert_null(hb->table);
	expect_log("blk: sda: 4.0 MiB, GPT unusable: primary GPT: header CRC mismatch; backup GPT: "
		   "header CRC mismatch\n");
	expect_refused("sda1", "sda has no usable GPT: primary GPT: header CRC mismatch; backup "
			       "GPT: header CRC mismatch");
	expect_refused("partlabel:nope", "no partition labelled \"nope\" on any host disk (sda's "
					 "GPT is unusable: primary GPT: header CRC mismatch; "
					 "backup GPT: header CRC mismatch)");
	expect_target("sda", "sda", 0, 8192); /* the whole disk still is one */
}

static void test_4k_disk(void **state)
{
	static const struct gptfx_part p[] = {{1, 256, 511, "big", 0x44}};
	(void)state;
	struct hostblk *hb = hostblk_add(disk_with(4 * MIB, 4096, p, 1), "nvme", 0, 1, NULL, NULL);
	assert_int_equal(hb->gpt, GPT_OK);
	expect_log("blk: nvme0n1: 4.0 MiB, GPT with 1 partition, 4096-byte blocks\n");
	expect_log("blk: nvme0n1p1 \"big\" 1.0 MiB partuuid 44444444-4444-4444-4444-444444444444\n");
	expect_target("partlabel:big", "nvme0n1p1", 2048, 2048);
}

static void test_boot_medium(void **state)
{
	static const struct gptfx_part p[] = {{1, 100, 199, "vm-alpha", 0x66},
					      {2, 200, 299, "only-here", 0x77}};
	(void)state;
	struct blkdev *d = disk_with(MIB, 512, p, 2);
	memcpy(mem_disks[nmem - 1].data + 32769, "CD001", 5);
	struct hostblk *stick = hostblk_add(d, "sd", 0, 0, "USB stick", "");
	assert_true(stick->boot_medium);
	expect_log("blk: sda: 1.0 MiB, GPT with 2 partitions, boot medium (USB stick)\n");
	hostblk_add(disk_with(4 * MIB, 512, alpha_beta, 2), "nvme", 0, 1, NULL, NULL);
	/* a label on the stick and on a real disk: the real disk's, without ambiguity */
	expect_target("partlabel:vm-alpha", "nvme0n1p1", 2048, 2048);
	expect_refused("partlabel:only-here", "partition label \"only-here\" is on the boot medium "
					      "sda: name it as sda2 to use it");
	expect_refused("partuuid:66666666-6666-6666-6666-666666666666",
		       "partition UUID 66666666-6666-6666-6666-666666666666 is on the boot medium "
		       "sda: name it as sda1 to use it");
	/* by name it is the operator's explicit choice */
	expect_target("sda2", "sda2", 200, 100);
	expect_target("sda", "sda", 0, 2048);
}

static void test_completions_from_deferred_work(void **state)
{
	(void)state;
	struct slow_disk *s = calloc(1, sizeof(*s));
	uint8_t *data = calloc(1, 4 * MIB);
	gptfx_write(data, 8192, 512, alpha_beta, 2);
	ramdisk_init(&s->rd, "medium", data, 4 * MIB, false);
	s->dev = (struct blkdev){.sectors = 8192, .block_size = 512, .ops = &slow_ops, .priv = s};
	slow_disks[nslow++] = s;
	struct hostblk *hb = hostblk_add(&s->dev, "nvme", 0, 1, NULL, NULL);
	assert_int_equal(hb->gpt, GPT_OK);
	assert_int_equal(hb->table->nparts, 2);
	assert_int_equal(s->queued, 0);

	/* the host's own writes go the same way */
	uint8_t buf[1024];
	memset(buf, 0x3c, sizeof(buf));
	assert_int_equal(blk_write_sync(&s->dev, 100, buf, 2, 1000), BLK_OK);
	assert_int_equal(data[100 * 512], 0x3c);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(blk_read_sync(&s->dev, 100, buf, 2, 1000), BLK_OK);
	assert_int_equal(buf[1023], 0x3c);
	assert_int_equal(blk_read_sync(&s->dev, 8191, buf, 2, 1000), BLK_ERANGE);
	assert_int_equal(blk_read_sync(&s->dev, 0, buf, 0, 1000), BLK_OK);
	free(data);
	free(s);
}

static void test_a_disk_that_never_answers(void **state)
{
	(void)state;
	struct slow_disk *s = calloc(1, sizeof(*s));
	uint8_t *data = calloc(1, 4 * MIB);
	gptfx_write(data, 8192, 512, alpha_beta, 2);
	ramdisk_init(&s->rd, "medium", data, 4 * MIB, false);
	s->dev = (struct blkdev){.sectors = 8192, .block_size = 512, .ops = &slow_ops, .priv = s};
	s->stuck = true;
	slow_disks[nslow++] = s;
	khz = 1; /* 5 s of timeout become 5000 cycles */
	struct hostblk *hb = hostblk_add(&s->dev, "nvme", 0, 1, NULL, NULL);
	assert_int_equal(hb->gpt, GPT_IOERR);
	expect_log("blk: nvme0n1: 4.0 MiB, GPT unreadable: read error at LBA 1\n");
	/* the reads were abandoned, not forgotten: they complete later into their own buffers */
	assert_int_equal(s->queued, 3); /* the ISO check, both headers */
	slow_complete_all(s); /* ASan: no use after free; LSan: nothing leaked */
	free(data);
	free(s);
}

static void test_offline(void **state)
{
	(void)state;
	struct hostblk *hb = hostblk_add(disk_with(4 * MIB, 512, alpha_beta, 2), "nvme", 0, 1, NULL,
					 NULL);
	hostblk_offline(hb->dev, "the controller did not come back from a reset");
	hostblk_offline(hb->dev, "again"); /* logged once */
	expect_log("blk: nvme0n1 offline: the controller did not come back from a reset\n");
	assert_null(strstr(logbuf, "again"));
	expect_refused("partlabel:vm-alpha",
		       "nvme0n1 is offline: the controller did not come back from a reset");
	expect_refused("nvme0n1p2", "nvme0n1 is offline: the controller did not come back from a "
				    "reset");
}

static void test_block_list(void **state)
{
	(void)state;
	char e[160];
	struct blkdev *d = disk_with(4 * MIB, 512, alpha_beta, 2);
	memcpy(mem_disks[nmem - 1].data + 32769, "CD001", 5);
	mem_disks[nmem - 1].data[512 + 40] ^= 1;
	hostblk_add(d, "ram", 0, 0, "boot module /boot/vms/gpt.img", "");
	hostblk_add(disk_with(MIB, 512, NULL, 0), "sd", 0, 0, NULL, NULL);
	assert_true(disk_claim_take_range(&disk_claims_host, "ram0p1", "ram0", 2048, 2048, "alpha",
					  true, e, sizeof(e)) >= 0);
	assert_true(disk_claim_take_range(&disk_claims_host, "ram0p2", "ram0", 4096, 2048, "beta",
					  false, e, sizeof(e)) >= 0);
	assert_true(disk_claim_take_range(&disk_claims_host, "ram0p2", "ram0", 4096, 2048, "gamma",
					  false, e, sizeof(e)) >= 0);
	hostblk_list();
	const char *want[] = {
	    "Device             Size  Label                PartUUID                              Used by\n",
	    "ram0 *          4.0 MiB  (GPT, 2 partitions)  boot module /boot/vms/gpt.img         "
	    "alpha (rw), beta (ro), gamma (ro)\n",
	    "  ram0p1        1.0 MiB  vm-alpha             a1a1a1a1-a1a1-a1a1-a1a1-a1a1a1a1a1a1  "
	    "alpha (rw)\n",
	    "  ram0p2        1.0 MiB  vm-beta              b2b2b2b2-b2b2-b2b2-b2b2-b2b2b2b2b2b2  "
	    "beta (ro), gamma (ro)\n",
	    "sda             1.0 MiB  (no GPT)                                                   -\n",
	    "ram0: primary GPT damaged (header CRC mismatch): using the backup\n",
	    "* the boot medium: a VM gets it only by naming its device\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(conbuf, want[i]))
			fail_msg("block-list lacks\n%s\nit printed:\n%s", want[i], conbuf);
	teardown(NULL);
	hostblk_list();
	assert_string_equal(conbuf, "no host disks\n");
	expect_refused("sda1", "no host disk named sda1 (no host disks were found)");
	expect_refused("partlabel:x", "no partition labelled \"x\" on any host disk (no host disks "
				      "were found)");
}

static char order[64];

static void shut(void *arg)
{
	strcat(order, arg);
}

static void test_shutdown_in_registration_order(void **state)
{
	static struct hostblk_controller a = {.name = "nvme0", .shutdown = shut, .arg = "a"};
	static struct hostblk_controller b = {.name = "ahci0", .shutdown = shut, .arg = "b"};
	static struct hostblk_controller c = {.name = "ram", .shutdown = NULL};
	(void)state;
	hostblk_controller_register(&a);
	hostblk_controller_register(&c);
	hostblk_controller_register(&b);
	hostblk_shutdown_all();
	assert_string_equal(order, "ab");
	expect_log("blk: shutting nvme0 down\nblk: shutting ahci0 down\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_text),
		cmocka_unit_test_teardown(test_names_and_boot_lines, teardown),
		cmocka_unit_test_teardown(test_sd_names_past_z, teardown),
		cmocka_unit_test_teardown(test_table_full, teardown),
		cmocka_unit_test_teardown(test_resolve_targets, teardown),
		cmocka_unit_test_teardown(test_damaged_and_unusable_tables, teardown),
		cmocka_unit_test_teardown(test_4k_disk, teardown),
		cmocka_unit_test_teardown(test_boot_medium, teardown),
		cmocka_unit_test_teardown(test_completions_from_deferred_work, teardown),
		cmocka_unit_test_teardown(test_a_disk_that_never_answers, teardown),
		cmocka_unit_test_teardown(test_offline, teardown),
		cmocka_unit_test_teardown(test_block_list, teardown),
		cmocka_unit_test_teardown(test_shutdown_in_registration_order, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
