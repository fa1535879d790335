#include "kernel/vm/fastpath.h"

#include "include/x86.h"
#include "kernel/cmdline.h"
#include "kernel/cpu/deferred.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
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

static unsigned cpuid_slot(uint32_t leaf, uint32_t sub)
{
	/* basic, hypervisor and extended leaves apart, sub-leaves of one leaf apart */
	return (leaf + (leaf >> 28) * 5 + sub * 3) % FASTPATH_CPUID_SLOTS;
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
	struct fastpath_cpuid *c = &v->fast.cpuid[cpuid_slot(leaf, sub)];
	c->leaf = leaf;
	c->sub = sub;
	memcpy(c->r, r, sizeof(c->r));
	c->valid = true;
}

static bool fast_cpuid(struct vcpu *v, const struct vm_exit *e)
{
	uint32_t leaf = (uint32_t)v->regs.gpr[X86_RAX], sub = (uint32_t)v->regs.gpr[X86_RCX];
	const struct fastpath_cpuid *c = &v->fast.cpuid[cpuid_slot(leaf, sub)];
	if (!c->valid || c->leaf != leaf || c->sub != sub)
		return false;
	v->regs.gpr[X86_RAX] = c->r[0];
	v->regs.gpr[X86_RBX] = c->r[1];
	v->regs.gpr[X86_RCX] = c->r[2];
	v->regs.gpr[X86_RDX] = c->r[3];
	v->regs.rip += e->insn_len;
	return true;
}

/* IN or OUT (not a string) to a range marked fast: as handle_io in exit.c does it. */
static bool fast_io(struct vcpu *v, const struct vm_exit *e)
{
	if (e->io.string)
		return false;
	uint16_t port = e->io.port;
	if (!iobus_fast(&v->vm->pio, port))
		return false;
	const struct io_range *r = v->fast.io_last;
	if (!r || port - r->base >= r->len) {
		r = iobus_find(&v->vm->pio, port);
		if (!r || !r->fast)
			return false;
		v->fast.io_last = r;
	}
	if (v->vm->io_counts && port < 0x1000)
		v->vm->io_counts[port]++;
	unsigned size = e->io.size;
	uint64_t mask = size == 4 ? 0xffffffffull : (1ull << (8 * size)) - 1;
	if (e->io.in) {
		uint64_t val = r->read ? r->read(r->opaque, port - r->base, size) & mask : mask;
		uint64_t *rax = &v->regs.gpr[X86_RAX];
		*rax = size == 4 ? val : ((*rax & ~mask) | val);
	} else if (r->write) {
		r->write(r->opaque, port - r->base, size, v->regs.gpr[X86_RAX] & mask);
	}
	if (v->vm->state != VM_STOPPED)
		v->regs.rip += e->insn_len;
	return true;
}

bool fastpath_handle(struct vcpu *v, struct vm_exit *e)
{
	bool done;
	if (e->reason == EXIT_CPUID)
		done = fast_cpuid(v, e);
	else if (e->reason == EXIT_IO)
		done = fast_io(v, e);
	else
		done = false;
	if (done) {
		v->exits[e->reason]++;
		v->exits_total++;
	}
	return done;
}

bool fastpath_may_reenter(struct vcpu *v)
{
	const struct vcpu_fast *f = &v->fast;
	if (!f->quiet || *f->look || (f->gen && *f->gen != f->gen_seen))
		return false;
	if (__atomic_load_n(&v->vm->state, __ATOMIC_ACQUIRE) != VM_RUNNING || v->move_to >= 0)
		return false;
	if (__atomic_load_n(&v->pending_irq, __ATOMIC_ACQUIRE) >= 0 ||
	    __atomic_load_n(&v->vm->io_poll_due, __ATOMIC_RELAXED) || deferred_raised())
		return false;
	return rdtsc() < f->until; /* the host timer is armed for then */
}
