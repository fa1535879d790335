/*
 * Fuzz target for the split virtqueue (guest/virtio/virtqueue.c): the input
 * is a guest (RAM image with rings, descriptors, indirect tables) plus a
 * script of device actions (pop, push, interrupt decisions, notification
 * changes, element reads/writes, and the guest rewriting its RAM between
 * them). Afterwards the header's promises must hold: popped elements lie in
 * RAM with the right totals, a pop reads a bounded number of times, writes
 * go only to the used ring or the element's writable buffers, a broken
 * queue stays broken, and in_flight counts what was popped and not pushed.
 *
 * Input: [0] log2 queue size, [1] bit0 EVENT_IDX, bit1 INDIRECT_DESC,
 * [2..7] desc/avail/used offsets (u16 in units of 16/2/4 from RAM_BASE),
 * [8] script length n, [9..9+n) script, then the RAM image.
 */
#include "tests/fuzz/fuzz_guest.h"

#define HDR 9

static uint64_t write_lo, write_hi; /* where writes may land now (0, 0: nowhere checked) */

static int checked_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
	if (write_hi)
		CHECK(gpa >= write_lo && len <= write_hi - gpa && gpa <= write_hi);
	return ram_write(ctx, gpa, src, len);
}

static struct virtqueue q;
static struct vq_elem e, last;
static bool have_last;
static uint16_t held[VQ_MAX_SIZE];
static unsigned nheld;

static bool is_held(uint16_t head)
{
	for (unsigned i = 0; i < nheld; i++)
		if (held[i] == head)
			return true;
	return false;
}

static void unhold(uint16_t head)
{
	for (unsigned i = 0; i < nheld; i++)
		if (held[i] == head) {
			held[i] = held[--nheld];
			return;
		}
}

/* One pop, with its promises; returns vq_pop's result. */
static int pop_checked(const struct vq_mem *m, bool *broken)
{
	unsigned long before = mem_calls;
	int rc;

	write_lo = write_hi = 1; /* a pop writes nothing at all */
	rc = vq_pop(&q, m, &e);
	write_lo = write_hi = 0;
	/* avail.idx, the ring slot, at most size + one indirect table's worth of descriptors
	 * (each becomes a segment, so at most VQ_MAX_SEGS + 1 of them). */
	CHECK(mem_calls - before <= 2u + q.size + VQ_MAX_SEGS + 2u);
	if (*broken)
		CHECK(rc == -1);
	if (rc == -1) {
		CHECK(q.error != NULL);
		*broken = true;
	} else if (rc == 1) {
		check_elem(&q, &e);
		CHECK(!is_held(e.head));
		CHECK(nheld < q.size);
		held[nheld++] = e.head;
		last = e;
		have_last = true;
	}
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vq_mem m = guest_mem;
	const uint8_t *script;
	size_t nscript;
	bool broken = false;
	uint64_t used_end;

	if (size < HDR)
		return 0;
	nscript = data[8];
	if (size < HDR + nscript)
		nscript = size - HDR;
	script = data + HDR;
	ram_load(data + HDR + nscript, size - HDR - nscript);
	m.write = checked_write;
	nheld = 0;
	have_last = false;
	write_lo = write_hi = 0;

	vq_reset(&q);
	q.size = (uint16_t)(1u << (data[0] % 10)); /* up to 512: too big is refused */
	q.event_idx = data[1] & 1;
	q.indirect = data[1] & 2;
	q.desc_gpa = RAM_BASE + 16ull * (data[2] | data[3] << 8);
	q.avail_gpa = RAM_BASE + 2ull * (data[4] | data[5] << 8);
	q.used_gpa = RAM_BASE + 4ull * (data[6] | data[7] << 8);
	if (data[1] & 4)
		q.used_gpa++; /* misaligned */
	if (vq_enable(&q, &m)) {
		CHECK(q.error && !q.enabled);
		CHECK(vq_pop(&q, &m, &e) == -1);
		return 0;
	}
	CHECK(q.size <= VQ_MAX_SIZE && in_ram(q.used_gpa, 6 + 8ull * q.size));
	used_end = q.used_gpa + 6 + 8ull * q.size;

	for (size_t pc = 0; pc < nscript; pc++) {
		uint8_t op = script[pc] & 15, arg = script[pc] >> 4;
		uint8_t buf[64];
		int rc;

		switch (op) {
		case 0:
		case 1:
		case 2:
			pop_checked(&m, &broken);
			break;
		case 3: { /* pop until empty: bounded by the queue size */
			unsigned n = 0;

			while (pop_checked(&m, &broken) == 1)
				CHECK(++n <= q.size);
			break;
		}
		case 4:
		case 5: /* push one we hold */
			if (nheld) {
				uint16_t head = held[arg % nheld];

				write_lo = q.used_gpa;
				write_hi = used_end;
				rc = vq_push(&q, &m, head, arg * 100u);
				write_lo = write_hi = 0;
				CHECK(rc == (broken ? -1 : 0));
				if (rc == 0)
					unhold(head);
			}
			break;
		case 6: /* push a head we may not hold */
			write_lo = q.used_gpa;
			write_hi = used_end;
			rc = vq_push(&q, &m, (uint16_t)(arg * 17), 0);
			write_lo = write_hi = 0;
			if (!is_held((uint16_t)(arg * 17))) {
				CHECK(rc == -1 && q.error);
				broken = true;
			} else if (rc == 0) {
				unhold((uint16_t)(arg * 17));
			}
			break;
		case 7:
			write_lo = write_hi = 1;
			(void)vq_should_interrupt(&q, &m);
			write_lo = write_hi = 0;
			break;
		case 8:
			write_lo = q.used_gpa;
			write_hi = used_end;
			(void)vq_set_notification(&q, &m, arg & 1);
			write_lo = write_hi = 0;
			break;
		case 9: /* read from the last element */
			if (have_last) {
				uint32_t off = arg * 13u, len = (uint32_t)(pc + 1 < nscript ? script[pc + 1] % 65 : 8);

				rc = vq_elem_read(&last, &m, off, buf, len);
				if ((uint64_t)off + len > last.out_len)
					CHECK(rc == -1);
			}
			break;
		case 10: /* write into the last element: only its writable buffers change */
			if (have_last) {
				uint32_t off = arg * 13u, len = (uint32_t)(pc + 1 < nscript ? script[pc + 1] % 65 : 8);

				memset(buf, 0xab, sizeof(buf));
				rc = vq_elem_write(&last, &m, off, buf, len);
				if ((uint64_t)off + len > last.in_len)
					CHECK(rc == -1);
			}
			break;
		default: /* the guest changes its RAM meanwhile */
			if (pc + 2 < nscript) {
				uint32_t at = (uint32_t)(script[pc + 1] | arg << 8) * 16u + (op & 7);

				ram[at % RAM_SIZE] = script[pc + 2];
				pc += 2;
			}
			break;
		}
		if (!broken)
			CHECK(q.in_flight == nheld && !q.error);
		else
			CHECK(q.error && vq_pop(&q, &m, &e) == -1);
	}
	return 0;
}

/* Seeds: a size-8 queue with a direct chain, an indirect one, and a script using them. */
static size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	static const uint8_t script[] = { 0, 0, 0, 4, 0x14, 7, 0x18, 9, 40, 10, 20, 3, 0x8, 7 };
	uint8_t *img;
	size_t len = HDR + sizeof(script) + 0x600;

	if (i >= 3 || cap < len)
		return 0;
	memset(buf, 0, len);
	buf[0] = 3;				  /* size 8 */
	buf[1] = i == 0 ? 3 : i == 1 ? 2 : 1;	  /* event idx and/or indirect */
	put_le(buf + 2, 0, 2);			  /* desc at RAM_BASE */
	put_le(buf + 4, 0x80 / 2, 2);		  /* avail */
	put_le(buf + 6, 0x100 / 4, 2);		  /* used */
	buf[8] = sizeof(script);
	memcpy(buf + HDR, script, sizeof(script));
	img = buf + HDR + sizeof(script);
	/* head 0: readable 16 + writable 256 */
	seed_desc(img, 0, 0, RAM_BASE + 0x200, 16, VRING_DESC_F_NEXT, 1);
	seed_desc(img, 0, 1, RAM_BASE + 0x300, 256, VRING_DESC_F_WRITE, 0);
	/* head 2: indirect table of 3 at 0x180 */
	seed_desc(img, 0, 2, RAM_BASE + 0x180, 48, VRING_DESC_F_INDIRECT, 0);
	seed_desc(img, 0x180, 0, RAM_BASE + 0x400, 16, VRING_DESC_F_NEXT, 1);
	seed_desc(img, 0x180, 1, RAM_BASE + 0x480, 100, VRING_DESC_F_NEXT, 2);
	seed_desc(img, 0x180, 2, RAM_BASE + 0x500, 1, VRING_DESC_F_WRITE, 0);
	/* head 3: a loop (seed 2 only makes it available) */
	seed_desc(img, 0, 3, RAM_BASE + 0x200, 16, VRING_DESC_F_NEXT, 4);
	seed_desc(img, 0, 4, RAM_BASE + 0x200, 16, VRING_DESC_F_NEXT, 3);
	put_le(img + 0x80 + 4, 0, 2);
	put_le(img + 0x80 + 6, 2, 2);
	put_le(img + 0x80 + 8, 3, 2);
	put_le(img + 0x80 + 2, i == 2 ? 3 : 2, 2); /* avail.idx */
	return len;
}
