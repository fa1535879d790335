/*
 * The exit side of instruction emulation (see emulate.h): the guest state a
 * backend reports, turned into what guest/x86_emulate.c and guest/guest_vmem.c
 * need, and their answers turned into register updates, device accesses or
 * an injected exception.
 */
#include "kernel/vm/emulate.h"

#include "guest/guest_paging.h"
#include "guest/guest_vmem.h"
#include "guest/x86_emulate.h"
#include "include/x86.h"
#include "kernel/log.h"
#include "kernel/vm/hvm.h"

#define VECTOR_UD 6
#define VECTOR_GP 13
#define VECTOR_PF 14

#define RFLAGS_VM (1ull << 17)

/* One instruction's emulation: the guest's view of memory, its mode, its vCPU. */
struct emul {
	struct vcpu *v;
	struct vcpu_control_state cs;
	struct guest_vmem mem;
	enum x86_cpu_mode mode;
};

/* ---- guest memory: RAM from the map, the rest to the MMIO bus ---- */

static int ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct vcpu *v = ctx;
	return gpa_read(&v->vm->map, gpa, buf, len);
}

static int ram_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	struct vcpu *v = ctx;
	return gpa_write(&v->vm->map, gpa, buf, len);
}

/* A piece within one page: RAM if the map has it, else whatever device decodes it. */
static int phys_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
	struct vcpu *v = ctx;
	uint64_t x = 0;
	if (gpa_read(&v->vm->map, gpa, &x, size) < 0)
		x = iobus_read(&v->vm->mmio, gpa, size);
	*val = x;
	return 0;
}

static int phys_write(void *ctx, uint64_t gpa, unsigned size, uint64_t val)
{
	struct vcpu *v = ctx;
	if (gpa_write(&v->vm->map, gpa, &val, size) < 0)
		iobus_write(&v->vm->mmio, gpa, size, val);
	return 0;
}

static void emul_setup(struct emul *m, struct vcpu *v)
{
	struct vcpu_control_state *cs = &m->cs;

	m->v = v;
	hvm->vcpu_get_control(v, cs);
	bool vm86 = (v->regs.rflags & RFLAGS_VM) != 0;
	bool pe = (cs->cr0 & CR0_PE) != 0;
	bool lma = (cs->efer & EFER_LMA) != 0;

	/* The default sizes come from the mode and CS (SDM Vol. 1 §3.6). */
	m->mode = lma && cs->cs_long ? X86_MODE_64
		  : !pe || vm86	     ? X86_MODE_16
		  : cs->cs_db	     ? X86_MODE_32
				     : X86_MODE_16;

	struct guest_vmem *mem = &m->mem;
	*mem = (struct guest_vmem){
	    .paging = {.cr0 = cs->cr0, .cr3 = cs->cr3, .cr4 = cs->cr4, .efer = cs->efer,
		       .rflags = v->regs.rflags, .cpl = (uint8_t)cs->cpl, .maxphyaddr = 0},
	    .protected_mode = pe && !vm86,
	    .long64 = m->mode == X86_MODE_64,
	    .walk_mem = {.read_phys = ram_read, .write_phys = ram_write},
	    .phys_read = phys_read,
	    .phys_write = phys_write,
	    .ctx = v,
	};
}

/*
 * The segment registers, for instructions that address memory through them
 * (the string instructions); a plain MOV to MMIO does not need them, and it
 * is the common exit (Linux's LAPIC EOI), so they are read only here.
 */
static void emul_load_segments(struct emul *m)
{
	for (unsigned i = 0; i < 6; i++) {
		struct seg_state s;
		hvm->get_segment(m->v, i, &s);
		m->mem.seg[i] = (struct guest_segment){.base = s.base, .limit = s.limit, .attrib = s.attrib};
	}
}

/*
 * Injects an exception the emulation met. Real mode pushes no error code
 * (SDM Vol. 3A §20.1.4), and neither VMX nor SVM accepts one there.
 */
static void inject_fault(struct emul *m, uint8_t vector, uint32_t error, uint64_t cr2)
{
	bool has_error = (m->cs.cr0 & CR0_PE) && vector != VECTOR_UD;
	if (vector == VECTOR_PF)
		hvm->set_cr2(m->v, cr2);
	hvm->inject_event(m->v, EVENT_EXCEPTION, vector, has_error, error);
}

/* ---- the emulator's callbacks ---- */

static int bus_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
	struct emul *m = ctx;
	*val = iobus_read(&m->v->vm->mmio, gpa, size);
	return 0;
}

static int bus_write(void *ctx, uint64_t gpa, unsigned size, uint64_t val)
{
	struct emul *m = ctx;
	iobus_write(&m->v->vm->mmio, gpa, size, val);
	return 0;
}

static int vmem_result(int rc)
{
	if (rc == GUEST_VMEM_FAULT)
		return X86_EMUL_FAULT;
	return rc ? X86_EMUL_DEVICE_ERROR : 0;
}

static int virt_read(void *ctx, enum x86_seg seg, uint64_t off, unsigned size, uint64_t *val)
{
	struct emul *m = ctx;
	return vmem_result(guest_vmem_read(&m->mem, seg, off, size, val));
}

static int virt_write(void *ctx, enum x86_seg seg, uint64_t off, unsigned size, uint64_t val)
{
	struct emul *m = ctx;
	return vmem_result(guest_vmem_write(&m->mem, seg, off, size, val));
}

static int virt_probe(void *ctx, enum x86_seg seg, uint64_t off, unsigned size, bool write)
{
	struct emul *m = ctx;
	return vmem_result(guest_vmem_probe(&m->mem, seg, off, size, write));
}

static void count_port(struct vm *vm, uint16_t port)
{
	if (vm->io_counts && port < 0x1000)
		vm->io_counts[port]++;
}

/* A port access; once it has stopped the VM (the exit port), no further element. */
static int port_in(void *ctx, uint16_t port, unsigned size, uint64_t *val)
{
	struct emul *m = ctx;
	count_port(m->v->vm, port);
	*val = iobus_read(&m->v->vm->pio, port, size);
	return m->v->vm->state == VM_STOPPED ? X86_PORT_STOP : 0;
}

static int port_out(void *ctx, uint16_t port, unsigned size, uint64_t val)
{
	struct emul *m = ctx;
	count_port(m->v->vm, port);
	iobus_write(&m->v->vm->pio, port, size, val);
	return m->v->vm->state == VM_STOPPED ? X86_PORT_STOP : 0;
}

static const struct x86_mmio_ops emul_ops = {
    .read = bus_read,
    .write = bus_write,
    .read_virt = virt_read,
    .write_virt = virt_write,
    .probe_virt = virt_probe,
    .port_in = port_in,
    .port_out = port_out,
};

/* ---- fetch and decode ---- */

static void log_bytes(const struct emul *m, const char *what, const uint8_t *b, size_t n)
{
	char hex[3 * GUEST_INSN_MAX + 1];
	size_t k = 0;
	for (size_t i = 0; i < n && i < GUEST_INSN_MAX; i++) {
		hex[k++] = "0123456789abcdef"[b[i] >> 4];
		hex[k++] = "0123456789abcdef"[b[i] & 15];
		hex[k++] = ' ';
	}
	hex[k ? k - 1 : 0] = '\0';
	printk("vm %s: vCPU %u: %s: %s\n", m->v->vm->name, m->v->id, what, hex);
}

/* A walk that stopped: the fault to inject, or the reason to stop the VM. */
static const char *walk_failed(struct emul *m, int stop, uint32_t pf_error, uint64_t addr)
{
	switch (stop) {
	case GUEST_WALK_PAGE_FAULT:
		inject_fault(m, VECTOR_PF, pf_error, addr);
		return NULL;
	case GUEST_WALK_NONCANONICAL:
		inject_fault(m, VECTOR_GP, 0, 0);
		return NULL;
	default:
		return "the instruction's page tables or bytes lie outside guest RAM";
	}
}

/*
 * Sets up m for v and fetches and decodes the instruction at CS:RIP. Returns
 * 1 when insn is ready, 0 when an exception was injected instead (*why NULL),
 * -1 with *why to stop.
 */
static int emul_begin(struct emul *m, struct vcpu *v, struct x86_insn *insn, const char **why)
{
	*why = NULL;
	emul_setup(m, v);

	struct guest_insn_fetch f;
	uint64_t rip = m->v->regs.rip;
	uint64_t linear = m->mode == X86_MODE_64 ? rip : (m->cs.cs_base + rip) & 0xffffffffull;

	int rc = guest_fetch_insn(&m->mem.paging, linear, &f, &m->mem.walk_mem, m->v);
	if (rc != GUEST_WALK_OK) {
		*why = walk_failed(m, rc, f.pf_error, f.fault_addr);
		return *why ? -1 : 0;
	}
	switch (x86_decode(f.bytes, f.len, m->mode, insn)) {
	case X86_DECODE_TRUNCATED:
		/* the instruction runs onto a page the fetch could not read */
		*why = walk_failed(m, f.stop, f.pf_error, f.fault_addr);
		return *why ? -1 : 0;
	case X86_DECODE_TOO_LONG:
		inject_fault(m, VECTOR_GP, 0, 0); /* SDM Vol. 2A §2.3.11 */
		return 0;
	case X86_DECODE_INVALID:
		inject_fault(m, VECTOR_UD, 0, 0);
		return 0;
	case X86_DECODE_UNSUPPORTED:
		log_bytes(m, "instruction not emulated", f.bytes, f.len);
		*why = "instruction not emulated";
		return -1;
	default:
		return 1;
	}
}

/* What the emulator's result means for the guest. */
static const char *finish(struct emul *m, int r)
{
	switch (r) {
	case X86_EMUL_DONE:
		/* the instruction completed (or a REP batch did): its STI/MOV SS shadow is over */
		hvm->clear_interrupt_shadow(m->v);
		return NULL;
	case X86_EMUL_FAULT:
		inject_fault(m, m->mem.fault.vector, m->mem.fault.error_code, m->mem.fault.cr2);
		return NULL;
	case X86_EMUL_UNSUPPORTED:
		return "instruction not emulated";
	default:
		return "guest memory the instruction uses cannot be reached";
	}
}

const char *vm_emulate_mmio(struct vcpu *v, const struct vm_exit *e)
{
	/*
	 * Executing from a device is possible on hardware (it runs whatever the
	 * device returns) but nothing a guest of ours does on purpose: stop it.
	 */
	if (e->mmio.fetch)
		return "instruction fetch from outside RAM";

	struct emul m;
	struct x86_insn insn;
	const char *why;
	if (emul_begin(&m, v, &insn, &why) <= 0)
		return why;
	if (x86_insn_is_string(&insn))
		emul_load_segments(&m);
	return finish(&m, x86_emulate_mmio(&v->regs, &insn, e->mmio.gpa, &emul_ops, &m));
}

const char *vm_emulate_string_io(struct vcpu *v, const struct vm_exit *e)
{
	struct emul m;
	struct x86_insn insn;
	const char *why;
	if (emul_begin(&m, v, &insn, &why) <= 0)
		return why;
	/*
	 * The exit said INS or OUTS of this size; the bytes at RIP must agree
	 * (another vCPU may have rewritten them: then stop rather than guess).
	 */
	bool in = insn.op == X86_OP_INS;
	if ((!in && insn.op != X86_OP_OUTS) || in != e->io.in || insn.op_size != e->io.size)
		return "string I/O exit, but the instruction at RIP is not that INS/OUTS";
	emul_load_segments(&m);
	return finish(&m, x86_emulate_mmio(&v->regs, &insn, 0, &emul_ops, &m));
}
