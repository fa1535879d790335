/*
 * vblk: a well-behaved virtio-blk driver (virtio 1.2 §5.2 over the modern
 * PCI transport, tests/guests/lib/virtio.h), the neighbour that shows a disk
 * is served whole and unchanged while another VM misbehaves.
 *
 * It finds the disk, negotiates (VERSION_1 only, plus RO when offered),
 * reads the capacity from the device configuration and checksums the first
 * N MiB (FNV-1a, 32 bits; the whole disk when it is smaller) in 64 KiB
 * requests, printing
 *   vblk: disk <slot> capacity=<sectors> sum=<hex> over <bytes>
 * for each pass. Options:
 *   disk=I     the I-th virtio-blk function (default 0)
 *   sum=N      MiB to checksum (default 1)
 *   passes=K   checksum K times (default 1; 0: for ever), each pass must match
 *              the first
 *   gap=M      wait M million TSC cycles between passes (default 0)
 *   movebar    move the BAR into the guest's window even if it is below 4 GiB
 *   write      write a pattern to 8 sectors at wsector=S (default 8), read it
 *              back, then write back what was there and check it again
 *   ro         the disk must be read-only: the device offers VIRTIO_BLK_F_RO,
 *              a write completes with IOERR and changes nothing
 *   tail       a read past the end must complete with IOERR
 *   tailwrite  writes past the end must complete with IOERR and change
 *              nothing: one sector at the capacity, two straddling it (its
 *              in-bounds half must not land either), eight far beyond it,
 *              and two at a sector whose end wraps 64 bits; the last sector
 *              reads back as before (the disk of a partition view: what
 *              lies past its end is the neighbouring partition)
 * Exit code 0 when every step behaved.
 */
#include "guest.h"
#include "virtio.h"

const char guest_name[] = "vblk";

#define CHUNK (64 * 1024)
static uint8_t buf[CHUNK] __attribute__((aligned(4096)));
static uint8_t save[8 * VBLK_SECTOR] __attribute__((aligned(512)));
static uint8_t pattern[8 * VBLK_SECTOR] __attribute__((aligned(512)));
static uint8_t back[8 * VBLK_SECTOR] __attribute__((aligned(512)));
static uint8_t qmem[VQ_MEM_SIZE] __attribute__((aligned(4096)));

static bool rw(struct vq *q, uint32_t type, uint64_t sector, void *p, uint32_t len, uint8_t want)
{
	uint8_t st;
	enum vq_wait_result r = vblk_rw(q, type, sector, p, len, &st);
	return check(r == VQ_USED && st == want, "%s sector %llu (%u bytes): %s, status %u, want %u",
		     type == VBLK_T_IN ? "read" : "write", (unsigned long long)sector, len,
		     vq_result_name(r), st, want);
}

static bool same(const uint8_t *a, const uint8_t *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

static bool checksum(struct vq *q, uint64_t bytes, uint32_t *out)
{
	uint32_t h = FNV1A_INIT;
	for (uint64_t off = 0; off < bytes; off += CHUNK) {
		uint32_t n = bytes - off < CHUNK ? (uint32_t)(bytes - off) : CHUNK;
		if (!rw(q, VBLK_T_IN, off / VBLK_SECTOR, buf, n, VBLK_S_OK))
			return false;
		h = fnv1a(h, buf, n);
	}
	*out = h;
	return true;
}

static void write_test(struct vdev *d, struct vq *q, uint64_t cap, bool ro)
{
	uint64_t s = opt_u64("wsector", 8);
	if (!check(s + 8 <= cap, "wsector %llu + 8 past the capacity %llu",
		   (unsigned long long)s, (unsigned long long)cap))
		return;
	if (!rw(q, VBLK_T_IN, s, save, sizeof(save), VBLK_S_OK))
		return;
	for (uint32_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + 0x5a) ^ save[i];
	if (ro) {
		check(d->offered >> VIRTIO_BLK_F_RO & 1, "read-only disk without VIRTIO_BLK_F_RO");
		rw(q, VBLK_T_OUT, s, pattern, sizeof(pattern), VBLK_S_IOERR);
		rw(q, VBLK_T_IN, s, back, sizeof(back), VBLK_S_OK);
		check(same(back, save, sizeof(save)), "a refused write changed the disk");
		printf("vblk: write to the read-only disk refused, sectors unchanged\n");
		return;
	}
	if (!rw(q, VBLK_T_OUT, s, pattern, sizeof(pattern), VBLK_S_OK))
		return;
	rw(q, VBLK_T_IN, s, back, sizeof(back), VBLK_S_OK);
	check(same(back, pattern, sizeof(pattern)), "sectors %llu-%llu do not read back as written",
	      (unsigned long long)s, (unsigned long long)s + 7);
	rw(q, VBLK_T_OUT, s, save, sizeof(save), VBLK_S_OK);
	rw(q, VBLK_T_IN, s, back, sizeof(back), VBLK_S_OK);
	check(same(back, save, sizeof(save)), "sectors %llu-%llu not restored",
	      (unsigned long long)s, (unsigned long long)s + 7);
	printf("vblk: wrote, read back and restored sectors %llu-%llu\n", (unsigned long long)s,
	       (unsigned long long)s + 7);
}

static void tail_write_test(struct vq *q, uint64_t cap)
{
	/* save is the last sector as it was; pattern is what must not land */
	if (!rw(q, VBLK_T_IN, cap - 1, save, VBLK_SECTOR, VBLK_S_OK))
		return;
	for (uint32_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 13 + 0xa5) ^ save[i % VBLK_SECTOR];
	rw(q, VBLK_T_OUT, cap, pattern, VBLK_SECTOR, VBLK_S_IOERR);
	rw(q, VBLK_T_OUT, cap - 1, pattern, 2 * VBLK_SECTOR, VBLK_S_IOERR);
	rw(q, VBLK_T_OUT, cap + 2048, pattern, 8 * VBLK_SECTOR, VBLK_S_IOERR);
	rw(q, VBLK_T_OUT, 0xffffffffffffffffull, pattern, 2 * VBLK_SECTOR, VBLK_S_IOERR);
	rw(q, VBLK_T_IN, cap - 1, back, VBLK_SECTOR, VBLK_S_OK);
	check(same(back, save, VBLK_SECTOR), "a refused write past the end changed the last sector");
	check(!(virtio_status(q->d) & VIRTIO_S_NEEDS_RESET),
	      "a well-formed write past the end broke the device");
	printf("vblk: writes past the end refused, the last sector unchanged\n");
}

void guest_main(void)
{
	struct vdev d;
	struct vq q;
	unsigned idx = (unsigned)opt_u64("disk", 0);
	bool ro = opt_present("ro");

	if (!check(virtio_find(VIRTIO_TYPE_BLOCK, idx, opt_present("movebar"), &d),
		   "no virtio-blk #%u", idx)) {
		pci_dump();
		return;
	}
	if (!check(d.devcfg != NULL, "virtio-blk without a device configuration"))
		return;
	if (!check(virtio_begin(&d, 1ull << VIRTIO_BLK_F_RO), "feature negotiation failed"))
		return;
	if (!check(vq_setup(&d, &q, 0, 0, qmem, true), "request queue setup failed"))
		return;
	virtio_driver_ok(&d);
	check(!(virtio_status(&d) & VIRTIO_S_NEEDS_RESET), "NEEDS_RESET right after DRIVER_OK");

	uint64_t cap = vblk_capacity(&d);
	printf("vblk: features 0x%llx (offered 0x%llx), queue size %u\n",
	       (unsigned long long)d.features, (unsigned long long)d.offered, q.size);
	uint64_t bytes = opt_u64("sum", 1) << 20;
	if (bytes > cap * VBLK_SECTOR)
		bytes = cap * VBLK_SECTOR;
	unsigned passes = (unsigned)opt_u64("passes", 1);
	uint64_t gap = opt_u64("gap", 0) * 1000000ull;
	uint32_t first = 0;
	for (unsigned p = 0; passes == 0 || p < passes; p++) {
		uint32_t h;
		if (p) {
			uint64_t t0 = rdtsc();
			while (rdtsc() - t0 < gap)
				__asm__ volatile("pause");
		}
		if (!checksum(&q, bytes, &h))
			return;
		printf("vblk: disk %u capacity=%llu sum=%08x over %llu\n", d.pci.dev,
		       (unsigned long long)cap, h, (unsigned long long)bytes);
		if (p == 0)
			first = h;
		if (!check(h == first, "pass %u: sum %08x, the first pass read %08x", p, h, first))
			return;
	}
	if (opt_present("tail")) {
		/* a well-formed request the device must refuse: past the end (§5.2.6) */
		rw(&q, VBLK_T_IN, cap, buf, VBLK_SECTOR, VBLK_S_IOERR);
		rw(&q, VBLK_T_IN, cap - 1, buf, 2 * VBLK_SECTOR, VBLK_S_IOERR);
		check(!(virtio_status(&d) & VIRTIO_S_NEEDS_RESET),
		      "a well-formed request past the end broke the device");
		printf("vblk: reads past the end refused\n");
	}
	if (opt_present("tailwrite"))
		tail_write_test(&q, cap);
	if (opt_present("write") || ro)
		write_test(&d, &q, cap, ro);
	check(!(virtio_status(&d) & VIRTIO_S_NEEDS_RESET), "NEEDS_RESET at the end");
	virtio_reset(&d);
}
