#include "kernel/vm/fastpath.h"

#include "include/x86.h"
#include "kernel/cmdline.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/vm/fastpath_inline.h"
#include "kernel/vm/vm.h"

bool fastpath_on = true;

void fastpath_init(const char *cmdline)
{
	char v[8];
	if (cmdline_get_str(cmdline, "fastpath", v, sizeof(v)) && strcmp(v, "off") == 0) {
		fastpath_on = false;
		printk("hv: fastpath=off: every exit takes the general dispatch\n");
	}
}

int iobus_set_fast(struct io_bus *b, uint64_t base)
{
	for (size_t i = 0; i < b->n; i++) {
		struct io_range *r = &b->ranges[i];
		if (r->base != base)
			continue;
		if (!b->fast_map)
			b->fast_map = kzalloc(0x10000 / 8);
		if (!b->fast_map)
			return -1;
		r->fast = true;
		for (uint64_t a = r->base; a < r->base + r->len && a < 0x10000; a++)
			b->fast_map[a >> 3] |= (uint8_t)(1u << (a & 7));
		return 0;
	}
	return -1;
}

/*
 * Leaf 1 and 7 answer from the guest's CR4 (OSXSAVE, OSPKE), leaf 0xD from
 * its XCR0 (exit.c, handle_cpuid); every other answer is a function of the
 * leaf, the sub-leaf and the vCPU alone (cpuid_policy.h).
 */
static bool cpuid_cacheable(uint32_t leaf)
{
	return leaf != 1 && leaf != 7 && leaf != 0xd;
}

void fastpath_cpuid_learn(struct vcpu *v, uint32_t leaf, uint32_t sub, const uint32_t r[4])
{
	if (!cpuid_cacheable(leaf))
		return;
	struct fastpath_cpuid *c = &v->fast.cpuid[fastpath_cpuid_slot(leaf, sub)];
	c->leaf = leaf;
	c->sub = sub;
	memcpy(c->r, r, sizeof(c->r));
	c->valid = true;
}

bool fastpath_io(struct vcpu *v, const struct vm_exit *e)
{
	static const uint32_t masks[5] = {0, 0xff, 0xffff, 0, 0xffffffffu};
	struct vm *vm = v->vm;
	uint16_t port = e->io.port;
	/* the range used last (a driver polls one device), else the bus's map of fast ports */
	const struct io_range *r = v->fast.io_last;
	if (!r || (uint16_t)(port - r->base) >= r->len) {
		if (!iobus_fast(&vm->pio, port) || !(r = iobus_find(&vm->pio, port)) || !r->fast)
			return false;
		v->fast.io_last = r;
	}
	if (e->io.string)
		return false;
	if (vm->io_counts && port < 0x1000)
		vm->io_counts[port]++;
	unsigned size = e->io.size;
	uint64_t mask = masks[size];
	uint64_t *rax = &v->regs.gpr[X86_RAX];
	if (e->io.in) {
		uint64_t val = r->read ? r->read(r->opaque, port - r->base, size) & mask : mask;
		/* a 32-bit IN zero-extends into RAX; 8/16-bit ones merge */
		*rax = size == 4 ? val : ((*rax & ~mask) | val);
	} else if (r->write) {
		r->write(r->opaque, port - r->base, size, *rax & mask);
	}
	v->regs.rip += e->insn_len; /* a fast range never stops the VM (iobus.h) */
	return true;
}
