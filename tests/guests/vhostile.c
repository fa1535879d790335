/*
 * vhostile: a virtio-blk driver that breaks the rules (virtio 1.2 §2.7 split
 * virtqueues, §4.1 the PCI transport, §5.2 the block device), one rule per
 * case, to show the device contains it. Each case resets the device, sets
 * it up again, builds a malformed ring (or a well-formed request the device
 * must refuse), notifies, and observes:
 *   needs-reset  the device set DEVICE_NEEDS_RESET (0x40): what a device
 *                does when the driver broke the ring (§2.1.2);
 *   ioerr        the request completed with status IOERR or UNSUPP;
 *   ok           the request completed with status OK;
 *   empty        the chain came back used, its status byte not written;
 *   ignored      a forbidden register write did not stick and the queue
 *                still works;
 *   timeout      nothing within the wait's bound (never hangs the guest).
 * and prints `vhostile: CASE -> OUTCOME ok` (or `BAD, want ...`). The
 * guest keeps running whatever the device does; after all cases a reset
 * and a normal read must work and read what the first read did.
 * Ends with `vhostile: N cases ok` (or `vhostile: M of N cases BAD`); the
 * exit code is 0 only when every case behaved.
 *
 * Options: disk=I (the I-th virtio-blk), movebar, storm=N (notifies per
 * storm, default 100000), only=NAME (one case and the final read).
 */
#include "guest.h"
#include "virtio.h"

const char guest_name[] = "vhostile";

enum outcome { O_NEEDS_RESET, O_IOERR, O_OK, O_EMPTY, O_IGNORED, O_TIMEOUT, O_SETUP, O_COUNT };
static const char *const outcome_name[O_COUNT] = {
    "needs-reset", "ioerr", "ok", "empty", "ignored", "timeout", "setup-failed"};
#define W(o) (1u << (o))

#define QSIZE 16
static uint8_t qmem[VQ_MEM_SIZE] __attribute__((aligned(4096)));
static uint8_t spare_mem[VQ_MEM_SIZE] __attribute__((aligned(4096)));
static struct vring_desc itab[4][160] __attribute__((aligned(16)));
static uint8_t data[4096] __attribute__((aligned(4096)));
static uint8_t first_read[4096];
static struct vblk_hdr hdr __attribute__((aligned(16)));
static volatile uint8_t status_byte;

static struct vdev dev;
static struct vq q;
static uint64_t capacity;
static uint32_t ram_end; /* the end of the highest RAM below 4 GiB */
static bool indirect_ok;  /* the device offers INDIRECT_DESC */
static unsigned storm_count;

/* Reset, negotiate `want`, queue 0 of `size` entries, DRIVER_OK. */
static bool fresh(uint64_t want, uint16_t size)
{
	if (!virtio_begin(&dev, want))
		return false;
	if (!vq_setup(&dev, &q, 0, size, qmem, true))
		return false;
	virtio_driver_ok(&dev);
	uint8_t s = virtio_status(&dev);
	if (s != (VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK |
		  VIRTIO_S_DRIVER_OK)) {
		printf("vhostile: status 0x%x after DRIVER_OK\n", s);
		return false;
	}
	return true;
}

static bool fresh_default(void)
{
	return fresh(indirect_ok ? 1ull << VIRTIO_F_INDIRECT_DESC : 0, QSIZE);
}

static void desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	q.desc[i].addr = addr;
	q.desc[i].len = len;
	q.desc[i].flags = flags;
	q.desc[i].next = next;
}

static void itab_set(unsigned t, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	itab[t][i].addr = addr;
	itab[t][i].len = len;
	itab[t][i].flags = flags;
	itab[t][i].next = next;
}

static void request(uint32_t type, uint64_t sector)
{
	hdr.type = type;
	hdr.reserved = 0;
	hdr.sector = sector;
	status_byte = 0xff;
}

/* A well-formed read of `len` bytes into addr at descriptors 0-2 (the cases then break it). */
static void good_chain(uint64_t addr, uint32_t len)
{
	request(VBLK_T_IN, 0);
	desc(0, (uint32_t)&hdr, sizeof(hdr), VRING_F_NEXT, 1);
	desc(1, addr, len, VRING_F_NEXT | VRING_F_WRITE, 2);
	desc(2, (uint32_t)&status_byte, 1, VRING_F_WRITE, 0);
}

static enum outcome observe(void)
{
	uint32_t id, len;
	enum vq_wait_result r = vq_wait(&q, &id, &len);
	if (r == VQ_NEEDS_RESET)
		return O_NEEDS_RESET;
	if (r == VQ_TIMEOUT)
		return (virtio_status(&dev) & VIRTIO_S_NEEDS_RESET) ? O_NEEDS_RESET : O_TIMEOUT;
	if (status_byte == 0xff)
		return O_EMPTY;
	return status_byte == VBLK_S_OK ? O_OK : O_IOERR;
}

static enum outcome kick(uint16_t head)
{
	vq_publish(&q, head);
	vq_notify(&q);
	return observe();
}

/* ---- the cases: each returns what it saw ---- */

/* The loops use readable descriptors only (a write request), so that the
 * loop is the chain's one fault, not a readable after a writable one. */
static enum outcome c_loop(void)
{
	request(VBLK_T_OUT, 0);
	desc(0, (uint32_t)&hdr, sizeof(hdr), VRING_F_NEXT, 1);
	desc(1, (uint32_t)data, 512, VRING_F_NEXT, 0); /* 0 -> 1 -> 0 */
	return kick(0);
}

static enum outcome c_long_chain(void)
{
	/* every descriptor once, then round again: longer than the queue */
	request(VBLK_T_OUT, 0);
	desc(0, (uint32_t)&hdr, sizeof(hdr), VRING_F_NEXT, 1);
	for (unsigned i = 1; i < q.size; i++)
		desc(i, (uint32_t)data, 512, VRING_F_NEXT, (i + 1) % q.size);
	return kick(0);
}

static enum outcome c_head_oob(void)
{
	good_chain((uint32_t)data, 512);
	return kick(q.size);
}

static enum outcome c_head_ffff(void)
{
	good_chain((uint32_t)data, 512);
	return kick(0xffff);
}

static enum outcome c_next_oob(void)
{
	good_chain((uint32_t)data, 512);
	desc(1, (uint32_t)data, 512, VRING_F_NEXT | VRING_F_WRITE, q.size);
	return kick(0);
}

static enum outcome c_avail_jump(void)
{
	good_chain((uint32_t)data, 512);
	for (unsigned i = 0; i < q.size; i++)
		q.avail->ring[i] = 0;
	q.avail_idx += q.size + 1; /* more chains than the ring holds */
	q.avail->idx = q.avail_idx;
	vq_notify(&q);
	return observe();
}

static enum outcome c_len_overflow(void)
{
	request(VBLK_T_IN, 0);
	desc(0, (uint32_t)&hdr, sizeof(hdr), VRING_F_NEXT, 1);
	desc(1, (uint32_t)data, 0x80000000u, VRING_F_NEXT | VRING_F_WRITE, 2);
	desc(2, (uint32_t)data, 0x80000200u, VRING_F_NEXT | VRING_F_WRITE, 3);
	desc(3, (uint32_t)&status_byte, 1, VRING_F_WRITE, 0);
	return kick(0);
}

static uint64_t bad_addr;
static enum outcome c_bad_buffer(void)
{
	good_chain(bad_addr, 512);
	return kick(0);
}

static enum outcome c_bad_header(void)
{
	good_chain((uint32_t)data, 512);
	desc(0, bad_addr, sizeof(hdr), VRING_F_NEXT, 1);
	return kick(0);
}

static enum outcome c_straddle_ram_end(void)
{
	good_chain(ram_end - 256, 512);
	return kick(0);
}

static enum outcome c_indirect_nested(void)
{
	request(VBLK_T_IN, 0);
	itab_set(1, 0, (uint32_t)&hdr, sizeof(hdr), VRING_F_NEXT, 1);
	itab_set(1, 1, (uint32_t)data, 512, VRING_F_NEXT | VRING_F_WRITE, 2);
	itab_set(1, 2, (uint32_t)&status_byte, 1, VRING_F_WRITE, 0);
	itab_set(0, 0, (uint32_t)itab[1], 3 * 16, VRING_F_INDIRECT, 0);
	desc(0, (uint32_t)itab[0], 16, VRING_F_INDIRECT, 0);
	return kick(0);
}

static enum outcome indirect_len(uint32_t len)
{
	request(VBLK_T_IN, 0);
	itab_set(0, 0, (uint32_t)&hdr, sizeof(hdr), VRING_F_NEXT, 1);
	itab_set(0, 1, (uint32_t)data, 512, VRING_F_NEXT | VRING_F_WRITE, 2);
	itab_set(0, 2, (uint32_t)&status_byte, 1, VRING_F_WRITE, 0);
	desc(0, (uint32_t)itab[0], len, VRING_F_INDIRECT, 0);
	return kick(0);
}

static enum outcome c_indirect_len40(void)
{
	return indirect_len(40);
}

static enum outcome c_indirect_len0(void)
{
	return indirect_len(0);
}

static enum outcome c_indirect_next(void)
{
	/* INDIRECT together with NEXT (§2.7.5.3.1: the driver MUST NOT) */
	request(VBLK_T_IN, 0);
	itab_set(0, 0, (uint32_t)&hdr, sizeof(hdr), VRING_F_NEXT, 1);
	itab_set(0, 1, (uint32_t)data, 512, VRING_F_NEXT | VRING_F_WRITE, 2);
	itab_set(0, 2, (uint32_t)&status_byte, 1, VRING_F_WRITE, 0);
	desc(0, (uint32_t)itab[0], 48, VRING_F_INDIRECT | VRING_F_NEXT, 1);
	desc(1, (uint32_t)data, 512, VRING_F_WRITE, 0);
	return kick(0);
}

static enum outcome c_indirect_loop(void)
{
	request(VBLK_T_IN, 0);
	itab_set(0, 0, (uint32_t)&hdr, sizeof(hdr), VRING_F_NEXT, 1);
	itab_set(0, 1, (uint32_t)data, 512, VRING_F_NEXT | VRING_F_WRITE, 2);
	itab_set(0, 2, (uint32_t)data, 512, VRING_F_NEXT | VRING_F_WRITE, 1);
	desc(0, (uint32_t)itab[0], 48, VRING_F_INDIRECT, 0);
	return kick(0);
}

static enum outcome c_indirect_huge(void)
{
	/* a well-formed table of 160 entries: more segments than a request may have? */
	request(VBLK_T_IN, 0);
	itab_set(0, 0, (uint32_t)&hdr, sizeof(hdr), VRING_F_NEXT, 1);
	for (unsigned i = 1; i < 159; i++)
		itab_set(0, i, (uint32_t)data, 512, VRING_F_NEXT | VRING_F_WRITE, (uint16_t)(i + 1));
	itab_set(0, 159, (uint32_t)&status_byte, 1, VRING_F_WRITE, 0);
	desc(0, (uint32_t)itab[0], 160 * 16, VRING_F_INDIRECT, 0);
	return kick(0);
}

static enum outcome c_indirect_unnegotiated(void)
{
	/* a valid indirect table, but INDIRECT_DESC was not accepted */
	if (!fresh(0, QSIZE))
		return O_SETUP;
	return indirect_len(48);
}

static enum outcome c_read_after_write(void)
{
	request(VBLK_T_IN, 0);
	desc(0, (uint32_t)&hdr, sizeof(hdr), VRING_F_NEXT, 1);
	desc(1, (uint32_t)data, 512, VRING_F_NEXT | VRING_F_WRITE, 2);
	desc(2, (uint32_t)data + 512, 512, VRING_F_NEXT, 3); /* readable after writable */
	desc(3, (uint32_t)&status_byte, 1, VRING_F_WRITE, 0);
	return kick(0);
}

static enum outcome c_no_status(void)
{
	request(VBLK_T_IN, 0);
	desc(0, (uint32_t)&hdr, sizeof(hdr), 0, 0); /* the header alone: nowhere to answer */
	return kick(0);
}

static enum outcome c_status_len0(void)
{
	good_chain((uint32_t)data, 512);
	desc(2, (uint32_t)&status_byte, 0, VRING_F_WRITE, 0);
	return kick(0);
}

static enum outcome c_short_header(void)
{
	good_chain((uint32_t)data, 512);
	desc(0, (uint32_t)&hdr, 8, VRING_F_NEXT, 1); /* no sector field */
	return kick(0);
}

static enum outcome c_past_end(void)
{
	good_chain((uint32_t)data, 512);
	hdr.sector = capacity;
	return kick(0);
}

static enum outcome c_sector_wrap(void)
{
	/* sector + count wraps 64 bits: a checked add must refuse it */
	good_chain((uint32_t)data, 1024);
	hdr.sector = 0xffffffffffffffffull;
	return kick(0);
}

static enum outcome c_partial_sector(void)
{
	/* data not a multiple of 512 (§5.2.6.1 the driver MUST NOT) */
	good_chain((uint32_t)data, 100);
	return kick(0);
}

static enum outcome c_ro_write(void)
{
	good_chain((uint32_t)data, 512);
	hdr.type = VBLK_T_OUT;
	desc(1, (uint32_t)data, 512, VRING_F_NEXT, 2);
	return kick(0);
}

static enum outcome c_unknown_type(void)
{
	good_chain((uint32_t)data, 512);
	hdr.type = 0x7777;
	return kick(0);
}

/* A storm of notifies on the queue as it is, on a queue that does not exist
 * and on a made-up index; then whether the queue still answers. */
static void storm(void)
{
	volatile uint16_t *n0 = (volatile uint16_t *)(dev.notify + (uint32_t)q.notify_off *
								   dev.notify_mult);
	uint64_t t0 = rdtsc();
	for (unsigned i = 0; i < storm_count; i++) {
		*n0 = (uint16_t)(i % 4 == 3 ? 0x7fff : i % 4 == 2 ? 3 : 0);
	}
	printf("vhostile: %u notifies in %llu Mcycles\n", storm_count,
	       (unsigned long long)((rdtsc() - t0) >> 20));
}

static enum outcome c_storm_empty(void)
{
	storm();
	/* nothing was available: the device must not have used anything */
	if (q.used->idx != 0 || (virtio_status(&dev) & VIRTIO_S_NEEDS_RESET))
		return q.used->idx ? O_EMPTY : O_NEEDS_RESET;
	good_chain((uint32_t)data, 512);
	return kick(0);
}

static enum outcome c_storm_broken(void)
{
	good_chain((uint32_t)data, 512);
	desc(1, (uint32_t)data, 512, VRING_F_NEXT | VRING_F_WRITE, 0); /* a loop */
	enum outcome o = kick(0);
	if (o != O_NEEDS_RESET)
		return o;
	storm();
	return (virtio_status(&dev) & VIRTIO_S_NEEDS_RESET) ? O_NEEDS_RESET : O_TIMEOUT;
}

/* queue_enable with a bad layout: the device must not serve it. */
static enum outcome bad_layout(uint16_t size, uint32_t desc_off)
{
	if (!virtio_begin(&dev, 0))
		return O_SETUP;
	vc_write16(&dev, VCOMMON_Q_SELECT, 0);
	uint16_t max = vc_read16(&dev, VCOMMON_Q_SIZE);
	if (size == 0)
		size = (uint16_t)(max * 2); /* past the maximum */
	memset(qmem, 0, sizeof(qmem));
	q.size = size;
	q.index = 0;
	q.avail_idx = q.last_used = 0;
	q.desc = (volatile struct vring_desc *)(qmem + desc_off);
	q.avail = (volatile struct vring_avail *)(qmem + VQ_AVAIL_OFF);
	q.used = (volatile struct vring_used *)(qmem + VQ_USED_OFF);
	vc_write16(&dev, VCOMMON_Q_SIZE, size);
	uint16_t took = vc_read16(&dev, VCOMMON_Q_SIZE);
	vc_write64(&dev, VCOMMON_Q_DESC, (uint32_t)q.desc);
	vc_write64(&dev, VCOMMON_Q_AVAIL, (uint32_t)q.avail);
	vc_write64(&dev, VCOMMON_Q_USED, (uint32_t)q.used);
	vc_write16(&dev, VCOMMON_Q_MSIX, VIRTIO_NO_VECTOR);
	q.notify_off = vc_read16(&dev, VCOMMON_Q_NOFF);
	vc_write16(&dev, VCOMMON_Q_ENABLE, 1);
	virtio_driver_ok(&dev);
	if (virtio_status(&dev) & VIRTIO_S_NEEDS_RESET)
		return O_NEEDS_RESET;
	if (took != size) {
		/* the size write did not stick: the queue runs at `took`, which is fine */
		q.size = took;
		printf("vhostile: queue size %u not taken (reads %u)\n", size, took);
		good_chain((uint32_t)data, 512);
		enum outcome o = kick(0);
		return o == O_OK ? O_IGNORED : o;
	}
	good_chain((uint32_t)data, 512);
	/* the ring as the driver wrote it; a device serving it anyway says ok */
	return kick(0);
}

static enum outcome c_size_not_pow2(void)
{
	return bad_layout(12, 0);
}

static enum outcome c_size_too_big(void)
{
	return bad_layout(0, 0);
}

static enum outcome c_desc_misaligned(void)
{
	return bad_layout(QSIZE, 8); /* the table must be 16-byte aligned (§2.7) */
}

static enum outcome c_ring_outside_ram(void)
{
	if (!virtio_begin(&dev, 0))
		return O_SETUP;
	vc_write16(&dev, VCOMMON_Q_SELECT, 0);
	vc_write16(&dev, VCOMMON_Q_SIZE, QSIZE);
	vc_write64(&dev, VCOMMON_Q_DESC, 0xfee00000u);
	vc_write64(&dev, VCOMMON_Q_AVAIL, 0xffffffff00000000ull);
	vc_write64(&dev, VCOMMON_Q_USED, (uint64_t)ram_end + 0x100000);
	vc_write16(&dev, VCOMMON_Q_MSIX, VIRTIO_NO_VECTOR);
	uint16_t noff = vc_read16(&dev, VCOMMON_Q_NOFF);
	vc_write16(&dev, VCOMMON_Q_ENABLE, 1);
	virtio_driver_ok(&dev);
	*(volatile uint16_t *)(dev.notify + (uint32_t)noff * dev.notify_mult) = 0;
	uint64_t t0 = rdtsc();
	while (rdtsc() - t0 < virtio_timeout_cycles)
		if (virtio_status(&dev) & VIRTIO_S_NEEDS_RESET)
			return O_NEEDS_RESET;
	return O_TIMEOUT;
}

static enum outcome c_regs_after_enable(void)
{
	/* queue registers of an enabled queue: the writes must not take */
	vc_write16(&dev, VCOMMON_Q_SELECT, 0);
	memset(spare_mem, 0, sizeof(spare_mem));
	vc_write16(&dev, VCOMMON_Q_SIZE, QSIZE / 2);
	vc_write64(&dev, VCOMMON_Q_DESC, (uint32_t)spare_mem);
	vc_write64(&dev, VCOMMON_Q_AVAIL, (uint32_t)spare_mem + VQ_AVAIL_OFF);
	vc_write64(&dev, VCOMMON_Q_USED, (uint32_t)spare_mem + VQ_USED_OFF);
	uint16_t size = vc_read16(&dev, VCOMMON_Q_SIZE);
	uint32_t d = vc_read32(&dev, VCOMMON_Q_DESC), u = vc_read32(&dev, VCOMMON_Q_USED);
	if (virtio_status(&dev) & VIRTIO_S_NEEDS_RESET)
		return O_NEEDS_RESET;
	bool stuck = size != q.size || d != (uint32_t)q.desc || u != (uint32_t)q.used;
	if (stuck)
		printf("vhostile: after enable: size %u desc 0x%x used 0x%x (were %u 0x%x 0x%x)\n",
		       size, d, u, q.size, (uint32_t)q.desc, (uint32_t)q.used);
	good_chain((uint32_t)data, 512);
	enum outcome o = kick(0);
	return (o == O_OK && !stuck) ? O_IGNORED : o;
}

static enum outcome features_case(uint64_t f)
{
	if (!virtio_reset(&dev))
		return O_SETUP;
	virtio_set_status(&dev, VIRTIO_S_ACKNOWLEDGE);
	virtio_set_status(&dev, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
	virtio_driver_features(&dev, f);
	virtio_set_status(&dev, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
	uint8_t s = virtio_status(&dev);
	printf("vhostile: features 0x%llx -> status 0x%x\n", (unsigned long long)f, s);
	return (s & VIRTIO_S_FEATURES_OK) ? O_OK : O_IGNORED;
}

static enum outcome c_features_unoffered(void)
{
	uint64_t offered = virtio_device_features(&dev);
	uint64_t extra = 0;
	for (int b = 63; b >= 0 && !extra; b--)
		if (!(offered >> b & 1))
			extra = 1ull << b;
	return features_case(offered | extra);
}

static enum outcome c_features_no_version1(void)
{
	return features_case(virtio_device_features(&dev) & ~(1ull << VIRTIO_F_VERSION_1));
}

static enum outcome c_features_after_ok(void)
{
	/* features written after FEATURES_OK must not change what was agreed */
	uint64_t offered = virtio_device_features(&dev);
	virtio_driver_features(&dev, offered | (1ull << 63));
	vc_write32(&dev, VCOMMON_GFSELECT, 1);
	uint32_t hi = vc_read32(&dev, VCOMMON_GF);
	good_chain((uint32_t)data, 512);
	enum outcome o = kick(0);
	bool stuck = hi != (uint32_t)(dev.features >> 32);
	if (stuck)
		printf("vhostile: driver features high dword reads 0x%x after the late write, "
		       "agreed 0x%x\n", hi, (uint32_t)(dev.features >> 32));
	return (o == O_OK && !stuck) ? O_IGNORED : o;
}

struct hcase {
	const char *name;
	enum outcome (*run)(void);
	unsigned want;
	bool needs_indirect, needs_ro, fresh; /* fresh: set up a working device first */
};

#define NR W(O_NEEDS_RESET)
static const struct hcase cases[] = {
    {"loop", c_loop, NR, false, false, true},
    {"long-chain", c_long_chain, NR, false, false, true},
    {"head-oob", c_head_oob, NR, false, false, true},
    {"head-ffff", c_head_ffff, NR, false, false, true},
    {"next-oob", c_next_oob, NR, false, false, true},
    {"avail-jump", c_avail_jump, NR, false, false, true},
    {"len-overflow", c_len_overflow, NR, false, false, true},
    {"buf-lapic", c_bad_buffer, NR, false, false, true},
    {"buf-ioapic", c_bad_buffer, NR, false, false, true},
    {"buf-ecam", c_bad_buffer, NR, false, false, true},
    {"buf-own-bar", c_bad_buffer, NR, false, false, true},
    {"buf-past-ram", c_bad_buffer, NR, false, false, true},
    {"buf-far-64bit", c_bad_buffer, NR, false, false, true},
    {"hdr-far-64bit", c_bad_header, NR, false, false, true},
    {"buf-straddles-ram-end", c_straddle_ram_end, NR, false, false, true},
    {"indirect-nested", c_indirect_nested, NR, true, false, true},
    {"indirect-len40", c_indirect_len40, NR, true, false, true},
    {"indirect-len0", c_indirect_len0, NR, true, false, true},
    {"indirect-with-next", c_indirect_next, NR, true, false, true},
    {"indirect-loop", c_indirect_loop, NR, true, false, true},
    {"indirect-160", c_indirect_huge, NR | W(O_OK), true, false, true},
    {"indirect-unnegotiated", c_indirect_unnegotiated, NR, false, false, false},
    {"read-after-write", c_read_after_write, NR, false, false, true},
    {"no-status", c_no_status, NR | W(O_EMPTY), false, false, true},
    {"status-len0", c_status_len0, NR | W(O_EMPTY), false, false, true},
    {"short-header", c_short_header, NR | W(O_IOERR) | W(O_EMPTY), false, false, true},
    {"past-end", c_past_end, W(O_IOERR), false, false, true},
    {"sector-wrap", c_sector_wrap, W(O_IOERR), false, false, true},
    {"partial-sector", c_partial_sector, W(O_IOERR) | NR, false, false, true},
    {"unknown-type", c_unknown_type, W(O_IOERR), false, false, true},
    {"ro-write", c_ro_write, W(O_IOERR), false, true, true},
    {"storm-empty", c_storm_empty, W(O_OK), false, false, true},
    {"storm-broken", c_storm_broken, NR, false, false, true},
    {"size-not-pow2", c_size_not_pow2, NR | W(O_IGNORED), false, false, false},
    {"size-too-big", c_size_too_big, NR | W(O_IGNORED), false, false, false},
    {"desc-misaligned", c_desc_misaligned, NR, false, false, false},
    {"ring-outside-ram", c_ring_outside_ram, NR, false, false, false},
    {"regs-after-enable", c_regs_after_enable, W(O_IGNORED) | NR, false, false, true},
    {"features-unoffered", c_features_unoffered, W(O_IGNORED), false, false, false},
    {"features-no-version1", c_features_no_version1, W(O_IGNORED), false, false, false},
    {"features-after-ok", c_features_after_ok, W(O_IGNORED) | NR, false, false, true},
};

static const char *want_names(unsigned want, char *buf, size_t size)
{
	size_t n = 0;
	buf[0] = 0;
	for (int o = 0; o < O_COUNT; o++)
		if (want & W(o))
			n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? "|" : "", outcome_name[o]);
	return buf;
}

static bool str_same(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* The address each buf-* case points its data buffer at. */
static uint64_t bad_address_for(const char *name)
{
	if (str_same(name, "buf-lapic"))
		return 0xfee00000u;
	if (str_same(name, "buf-ioapic"))
		return 0xfec00000u;
	if (str_same(name, "buf-ecam"))
		return 0xc0000000u;
	if (str_same(name, "buf-own-bar"))
		return (uint32_t)dev.common;
	if (str_same(name, "buf-past-ram"))
		return ram_end + 0x100000u;
	return 0xffffffff00000000ull;
}

static bool normal_read(uint8_t *out)
{
	uint8_t st;
	enum vq_wait_result r = vblk_rw(&q, VBLK_T_IN, 0, out, sizeof(data), &st);
	return r == VQ_USED && st == VBLK_S_OK;
}

void guest_main(void)
{
	unsigned idx = (unsigned)opt_u64("disk", 0);
	char only[48];
	bool one = opt_str("only", only, sizeof(only));
	storm_count = (unsigned)opt_u64("storm", 100000);

	for (int i = 0; i < boot.mmap_count; i++)
		if (boot.mmap[i].type == 1 && boot.mmap[i].base < 0x100000000ull) {
			uint64_t end = boot.mmap[i].base + boot.mmap[i].len;
			if (end > ram_end)
				ram_end = end > 0xffffffffull ? 0xfffff000u : (uint32_t)end;
		}
	if (!ram_end && (boot.info_flags & 1))
		ram_end = 0x100000u + boot.mem_upper * 1024u; /* no map: the upper memory size */
	if (!check(ram_end > 0x100000u, "no memory map and no memory size"))
		return;
	if (!check(virtio_find(VIRTIO_TYPE_BLOCK, idx, opt_present("movebar"), &dev),
		   "no virtio-blk #%u", idx)) {
		pci_dump();
		return;
	}
	if (!check(dev.devcfg != NULL, "no device configuration"))
		return;
	if (!check(virtio_begin(&dev, 0), "a plain setup fails"))
		return;
	indirect_ok = dev.offered >> VIRTIO_F_INDIRECT_DESC & 1;
	bool ro = dev.offered >> VIRTIO_BLK_F_RO & 1;
	if (!check(fresh_default(), "a plain setup fails"))
		return;
	capacity = vblk_capacity(&dev);
	if (!check(normal_read(first_read), "the first plain read fails"))
		return;
	printf("vhostile: offered 0x%llx, capacity %llu, RAM ends at 0x%x\n",
	       (unsigned long long)dev.offered, (unsigned long long)capacity, ram_end);

	unsigned ran = 0, bad = 0;
	char wbuf[80];
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hcase *c = &cases[i];
		if (one && !str_same(only, c->name))
			continue;
		if (c->needs_ro && !ro) {
			printf("vhostile: %s -> skipped (the disk is not read-only)\n", c->name);
			continue;
		}
		bad_addr = bad_address_for(c->name);
		enum outcome o = O_SETUP;
		unsigned want = c->want;
		/* without INDIRECT_DESC any indirect descriptor is itself the fault */
		if (c->needs_indirect && !indirect_ok)
			want = NR;
		if (!c->fresh || fresh_default())
			o = c->run();
		ran++;
		uint8_t isr = *dev.isr; /* a read clears it (§4.1.4.5) */
		if (want & W(o)) {
			printf("vhostile: %s -> %s ok (isr 0x%x)\n", c->name, outcome_name[o], isr);
		} else {
			bad++;
			printf("vhostile: %s -> %s BAD, want %s\n", c->name, outcome_name[o],
			       want_names(want, wbuf, sizeof(wbuf)));
			check(false, "%s -> %s", c->name, outcome_name[o]);
		}
	}

	/* after all that, the device recovers with a reset */
	static uint8_t again[sizeof(data)];
	bool ok = fresh_default() && normal_read(again);
	bool same = ok;
	for (unsigned i = 0; ok && i < sizeof(again); i++)
		same = same && again[i] == first_read[i];
	ran++;
	if (ok && same) {
		printf("vhostile: recover -> ok ok\n");
	} else {
		bad++;
		printf("vhostile: recover -> %s BAD\n", ok ? "different data" : "failed");
		check(false, "no recovery after reset");
	}
	virtio_reset(&dev);
	if (bad)
		printf("vhostile: %u of %u cases BAD\n", bad, ran);
	else
		printf("vhostile: %u cases ok\n", ran);
}
