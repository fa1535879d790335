/*
 * The MMIO emulator's test fixture, shared by test_x86_emulate*.c: a fake
 * device that records every access, guest registers at a RIP, and one call
 * that decodes, checks the length and emulates. Include after <cmocka.h>.
 */
#ifndef TESTS_UNIT_X86_EMULATE_FIXTURE_H
#define TESTS_UNIT_X86_EMULATE_FIXTURE_H

#include "guest/x86_emulate.h"
#include "kernel/lib/string.h"

#define MAX_LOG 64

struct access {
	char dir;		/* 'r'/'w' at a gpa, 'R'/'W' virtual, 'P' probe, 'i'/'o' port */
	uint64_t addr;
	unsigned int size;
	uint64_t val;
	int seg;		/* -1 for gpa accesses */
};

/* A device that answers reads with read_val and logs everything. */
struct fake_dev {
	uint64_t read_val;
	int read_rc;
	int write_rc;
	struct access log[MAX_LOG];
	int n;
	uint8_t vmem[256];	/* guest virtual memory for strings, at offsets 0..255 */
	/* a virtual access (or probe) touching [fault_off, fault_off + 1) faults */
	bool fault_armed;
	uint64_t fault_off;
	/* ports: reads return port_val + the number of reads so far */
	uint64_t port_val;
	unsigned int port_reads;
	int port_stop_after;	/* the Nth port access returns X86_PORT_STOP (0: never) */
	unsigned int port_accesses;
};

static void log_access(struct fake_dev *d, char dir, uint64_t addr, unsigned int size,
		       uint64_t val, int seg)
{
	assert_true(d->n < MAX_LOG);
	d->log[d->n++] = (struct access){ dir, addr, size, val, seg };
}

static int dev_read(void *ctx, uint64_t gpa, unsigned int size, uint64_t *val)
{
	struct fake_dev *d = ctx;

	log_access(d, 'r', gpa, size, 0, -1);
	*val = d->read_val;
	return d->read_rc;
}

static int dev_write(void *ctx, uint64_t gpa, unsigned int size, uint64_t val)
{
	struct fake_dev *d = ctx;

	log_access(d, 'w', gpa, size, val, -1);
	return d->write_rc;
}

static bool virt_faults(const struct fake_dev *d, uint64_t off, unsigned int size)
{
	return d->fault_armed && off <= d->fault_off && d->fault_off < off + size;
}

static int virt_read(void *ctx, enum x86_seg seg, uint64_t off, unsigned int size, uint64_t *val)
{
	struct fake_dev *d = ctx;

	if (virt_faults(d, off, size))
		return X86_EMUL_FAULT;
	assert_true(off + size <= sizeof(d->vmem));
	*val = 0;
	memcpy(val, d->vmem + off, size);
	log_access(d, 'R', off, size, *val, seg);
	return 0;
}

static int virt_write(void *ctx, enum x86_seg seg, uint64_t off, unsigned int size, uint64_t val)
{
	struct fake_dev *d = ctx;

	if (virt_faults(d, off, size))
		return X86_EMUL_FAULT;
	assert_true(off + size <= sizeof(d->vmem));
	memcpy(d->vmem + off, &val, size);
	log_access(d, 'W', off, size, val, seg);
	return 0;
}

static int virt_probe(void *ctx, enum x86_seg seg, uint64_t off, unsigned int size, bool write)
{
	struct fake_dev *d = ctx;

	log_access(d, 'P', off, size, write, seg);
	return virt_faults(d, off, size) ? X86_EMUL_FAULT : 0;
}

static int port_result(struct fake_dev *d)
{
	d->port_accesses++;
	return d->port_stop_after && d->port_accesses == (unsigned int)d->port_stop_after
		       ? X86_PORT_STOP
		       : 0;
}

static int port_in(void *ctx, uint16_t port, unsigned int size, uint64_t *val)
{
	struct fake_dev *d = ctx;

	*val = d->port_val + d->port_reads++;
	log_access(d, 'i', port, size, *val, -1);
	return port_result(d);
}

static int port_out(void *ctx, uint16_t port, unsigned int size, uint64_t val)
{
	struct fake_dev *d = ctx;

	log_access(d, 'o', port, size, val, -1);
	return port_result(d);
}

static const struct x86_mmio_ops ops = { .read = dev_read, .write = dev_write };
static const struct x86_mmio_ops ops_virt = {
	.read = dev_read,
	.write = dev_write,
	.read_virt = virt_read,
	.write_virt = virt_write,
};
/* Everything: virtual memory with probes, and ports. */
static const struct x86_mmio_ops ops_all = {
	.read = dev_read,
	.write = dev_write,
	.read_virt = virt_read,
	.write_virt = virt_write,
	.probe_virt = virt_probe,
	.port_in = port_in,
	.port_out = port_out,
};

#define BYTES(...) ((const uint8_t[]){ __VA_ARGS__ }), sizeof((const uint8_t[]){ __VA_ARGS__ })

static struct x86_regs regs_at(uint64_t rip)
{
	struct x86_regs r;
	unsigned int i;

	/* Distinct, recognisable register values. */
	for (i = 0; i < X86_NR_GPRS; i++)
		r.gpr[i] = 0x1111111111111111ull * (i + 1);
	r.rip = rip;
	r.rflags = 0x2;
	return r;
}

/* Decodes, checks the length, and emulates one instruction. */
static int emulate(struct x86_regs *r, enum x86_cpu_mode mode, const uint8_t *b, size_t n,
		   int want_len, uint64_t gpa, const struct x86_mmio_ops *o, struct fake_dev *d)
{
	struct x86_insn insn;

	assert_int_equal(x86_decode(b, n, mode, &insn), want_len);
	assert_int_equal(insn.len, want_len);
	return x86_emulate_mmio(r, &insn, gpa, o, d);
}

static void assert_access(const struct fake_dev *d, int i, char dir, uint64_t addr,
			  unsigned int size, uint64_t val)
{
	assert_true(i < d->n);
	assert_int_equal(d->log[i].dir, dir);
	assert_int_equal(d->log[i].addr, addr);
	assert_int_equal(d->log[i].size, size);
	if (dir == 'w' || dir == 'W' || dir == 'i' || dir == 'o')
		assert_int_equal(d->log[i].val, val);
}

#endif
