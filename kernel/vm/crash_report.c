/*
 * A guest's crash report (see crash_report.h): the state every backend
 * reports through hvm_ops, printed the same way for both.
 */
#include "kernel/vm/crash_report.h"

#include "guest/guest_paging.h"
#include "include/x86.h"
#include "kernel/lib/format.h"
#include "kernel/log.h"
#include "kernel/vm/hvm.h"

#define RFLAGS_AC (1ull << 18)
#define STACK_QWORDS 8

static const char *const exception_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "", "#TS",
    "#NP", "#SS", "#GP", "#PF", "",    "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

/* "exception 14 (#PF) error 0x2", "external interrupt 0xec", "NMI", or "none". */
static void event_text(char *buf, size_t size, uint32_t info, uint32_t error)
{
	size_t n = 0;
	unsigned vector = VM_EVENT_VECTOR(info);

	buf[0] = '\0';
	if (!(info & VM_EVENT_VALID)) {
		format_append(buf, size, &n, "none");
		return;
	}
	switch (VM_EVENT_TYPE(info)) {
	case 0:
		format_append(buf, size, &n, "external interrupt %#x", vector);
		break;
	case 2:
		format_append(buf, size, &n, "NMI");
		break;
	case 3:
		format_append(buf, size, &n, "exception %u (%s)", vector,
			      vector < 32 && exception_names[vector][0] ? exception_names[vector] : "?");
		break;
	case 4:
		format_append(buf, size, &n, "software interrupt %#x", vector);
		break;
	default:
		format_append(buf, size, &n, "software exception %u (type %u)", vector,
			      VM_EVENT_TYPE(info));
		break;
	}
	if (info & VM_EVENT_ERROR_VALID)
		format_append(buf, size, &n, " error %#x", error);
}

/* ---- guest memory, read through its page tables without touching A/D bits ---- */

struct peek {
	struct vcpu *v;
	struct guest_paging_state paging;
};

static int ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct vcpu *v = ctx;
	return gpa_read(&v->vm->map, gpa, buf, len);
}

static const struct guest_mem_ops read_only = {.read_phys = ram_read};

/* Bytes read from the linear address (at most len; fewer where a page cannot be read). */
static size_t peek(struct peek *p, uint64_t linear, void *buf, size_t len)
{
	uint8_t *out = buf;
	size_t got = 0;

	while (got < len) {
		uint64_t gva = linear + got, gpa;
		uint32_t pf;
		size_t chunk = 4096 - (gva & 4095);
		if (chunk > len - got)
			chunk = len - got;
		if (guest_walk(&p->paging, gva, GUEST_ACCESS_READ, &gpa, &pf, &read_only, p->v) !=
			GUEST_WALK_OK ||
		    gpa_read(&p->v->vm->map, gpa, out + got, chunk) < 0)
			break;
		got += chunk;
	}
	return got;
}

static void hex_bytes(char *buf, size_t size, const uint8_t *b, size_t n)
{
	size_t k = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		format_append(buf, size, &k, i ? " %02x" : "%02x", b[i]);
}

/* The gate of `vector` in the guest's IDT: where that event went. */
static void print_gate(struct vcpu *v, struct peek *p, const struct vcpu_debug_state *d,
		       bool long_mode, unsigned vector)
{
	unsigned size = long_mode ? 16 : 8;
	uint8_t g[16];

	if ((uint32_t)vector * size + size - 1 > d->idtr_limit) {
		printk("vm %s vcpu %u: idt[%u]: beyond the IDT's limit %#x\n", v->vm->name, v->id,
		       vector, d->idtr_limit);
		return;
	}
	if (peek(p, d->idtr_base + vector * size, g, size) != size) {
		printk("vm %s vcpu %u: idt[%u]: unreadable\n", v->vm->name, v->id, vector);
		return;
	}
	uint64_t target = g[0] | (uint64_t)g[1] << 8 | (uint64_t)g[6] << 16 | (uint64_t)g[7] << 24;
	if (long_mode)
		target |= (uint64_t)(g[8] | g[9] << 8 | g[10] << 16 | (uint32_t)g[11] << 24) << 32;
	printk("vm %s vcpu %u: idt[%u]: selector %#x handler %#llx type %#x dpl %u%s ist %u\n",
	       v->vm->name, v->id, vector, g[2] | g[3] << 8, (unsigned long long)target, g[5] & 15,
	       (g[5] >> 5) & 3, (g[5] & 0x80) ? " present" : " NOT present", g[4] & 7);
}

static const char *trail_detail_name(uint8_t reason)
{
	switch (reason) {
	case EXIT_IO:
		return "port";
	case EXIT_MSR_READ:
	case EXIT_MSR_WRITE:
		return "msr";
	case EXIT_MMIO:
		return "gpa";
	case EXIT_EXCEPTION:
		return "vector";
	default:
		return NULL;
	}
}

void vm_exit_trail_note(struct vcpu *v, const struct vm_exit *e)
{
	struct vcpu_exit_note *n = &v->exit_trail[v->exit_trail_next++ % VCPU_EXIT_TRAIL];
	uint64_t detail = 0;

	switch (e->reason) {
	case EXIT_IO:
		detail = e->io.port;
		break;
	case EXIT_MSR_READ:
	case EXIT_MSR_WRITE:
		detail = e->msr.index;
		break;
	case EXIT_MMIO:
		detail = e->mmio.gpa;
		break;
	case EXIT_EXCEPTION:
		detail = e->exception.vector;
		break;
	default:
		break;
	}
	*n = (struct vcpu_exit_note){.rip = v->regs.rip,
				     .detail = detail,
				     .raw_reason = (uint32_t)e->raw_reason,
				     .reason = (uint8_t)e->reason};
}

static void print_trail(struct vcpu *v)
{
	char line[512];
	size_t n = 0;
	unsigned count = v->exit_trail_next < VCPU_EXIT_TRAIL ? v->exit_trail_next : VCPU_EXIT_TRAIL;

	line[0] = '\0';
	for (unsigned i = 0; i < count; i++) {
		const struct vcpu_exit_note *t =
		    &v->exit_trail[(v->exit_trail_next - 1 - i) % VCPU_EXIT_TRAIL];
		const char *what = trail_detail_name(t->reason);
		format_append(line, sizeof(line), &n, "%s%s", i ? ", " : "",
			      vm_exit_reason_name((enum vm_exit_reason)t->reason));
		if (what)
			format_append(line, sizeof(line), &n, " %s %#llx", what,
				      (unsigned long long)t->detail);
		format_append(line, sizeof(line), &n, " (raw %#x) @%#llx", t->raw_reason,
			      (unsigned long long)t->rip);
	}
	printk("vm %s vcpu %u: last exits past the fast path, newest first (of %llu): %s\n",
	       v->vm->name, v->id,
	       (unsigned long long)v->exits_total, count ? line : "none");
}

void vm_crash_report(struct vcpu *v, const struct vm_exit *e, const char *what)
{
	const char *name = v->vm->name;
	unsigned id = v->id;
	const uint64_t *g = v->regs.gpr;
	struct vcpu_control_state c;
	struct vcpu_debug_state d;
	struct seg_state cs, ss;
	char cut[64], queued[64], hex[3 * GUEST_INSN_MAX + 1];

	hvm->vcpu_get_control(v, &c);
	hvm->get_debug_state(v, &d);
	hvm->get_segment(v, 1, &cs);
	hvm->get_segment(v, 2, &ss);
	printk("vm %s vcpu %u: %s at rip %#llx rsp %#llx rflags %#llx cr0 %#llx cr3 %#llx "
	       "cr4 %#llx efer %#llx cpl %u\n",
	       name, id, what, (unsigned long long)v->regs.rip, (unsigned long long)g[X86_RSP],
	       (unsigned long long)v->regs.rflags, (unsigned long long)c.cr0,
	       (unsigned long long)c.cr3, (unsigned long long)c.cr4, (unsigned long long)c.efer,
	       c.cpl);
	printk("vm %s vcpu %u: exit %s raw %#llx info %#llx %#llx\n", name, id,
	       vm_exit_reason_name(e->reason), (unsigned long long)e->raw_reason,
	       (unsigned long long)e->raw_info[0], (unsigned long long)e->raw_info[1]);
	printk("vm %s vcpu %u: rax %#llx rbx %#llx rcx %#llx rdx %#llx rsi %#llx rdi %#llx rbp %#llx\n",
	       name, id, (unsigned long long)g[X86_RAX], (unsigned long long)g[X86_RBX],
	       (unsigned long long)g[X86_RCX], (unsigned long long)g[X86_RDX],
	       (unsigned long long)g[X86_RSI], (unsigned long long)g[X86_RDI],
	       (unsigned long long)g[X86_RBP]);
	printk("vm %s vcpu %u: r8 %#llx r9 %#llx r10 %#llx r11 %#llx r12 %#llx r13 %#llx r14 %#llx "
	       "r15 %#llx\n",
	       name, id, (unsigned long long)g[8], (unsigned long long)g[9],
	       (unsigned long long)g[10], (unsigned long long)g[11], (unsigned long long)g[12],
	       (unsigned long long)g[13], (unsigned long long)g[14], (unsigned long long)g[15]);
	printk("vm %s vcpu %u: cr2 %#llx cs %#x base %#llx attr %#x ss %#x base %#llx attr %#x "
	       "idtr %#llx/%#x gdtr %#llx/%#x\n",
	       name, id, (unsigned long long)d.cr2, cs.selector, (unsigned long long)cs.base,
	       cs.attrib, ss.selector, (unsigned long long)ss.base, ss.attrib,
	       (unsigned long long)d.idtr_base, d.idtr_limit, (unsigned long long)d.gdtr_base,
	       d.gdtr_limit);
	event_text(cut, sizeof(cut), e->event_info, e->event_error);
	event_text(queued, sizeof(queued), d.inject_info, d.inject_error);
	printk("vm %s vcpu %u: event cut short by the exit: %s; queued for the next entry: %s%s%s\n",
	       name, id, cut, queued, d.intr_shadow ? "; in an interrupt shadow" : "",
	       d.nmi_blocked ? "; NMIs blocked" : "");

	bool long_mode = (c.efer & EFER_LMA) != 0;
	bool long64 = long_mode && c.cs_long;
	struct peek p = {
	    .v = v,
	    .paging = {.cr0 = c.cr0, .cr3 = c.cr3, .cr4 = c.cr4, .efer = c.efer,
		       .rflags = v->regs.rflags | RFLAGS_AC, .cpl = 0, .maxphyaddr = 0},
	};
	if (e->event_info & VM_EVENT_VALID)
		print_gate(v, &p, &d, long_mode, VM_EVENT_VECTOR(e->event_info));
	if (d.inject_info & VM_EVENT_VALID && d.inject_info != e->event_info)
		print_gate(v, &p, &d, long_mode, VM_EVENT_VECTOR(d.inject_info));

	uint8_t insn[GUEST_INSN_MAX];
	uint64_t rip = long64 ? v->regs.rip : (c.cs_base + v->regs.rip) & 0xffffffffull;
	size_t got = peek(&p, rip, insn, sizeof(insn));
	hex_bytes(hex, sizeof(hex), insn, got);
	printk("vm %s vcpu %u: bytes at rip: %s\n", name, id, got ? hex : "unreadable");

	/* the stack in the guest's word size */
	uint64_t stack[STACK_QWORDS];
	unsigned word = long64 ? 8 : 4;
	uint64_t rsp = long64 ? g[X86_RSP] : (ss.base + g[X86_RSP]) & 0xffffffffull;
	got = peek(&p, rsp, stack, sizeof(stack)) / word;
	char line[STACK_QWORDS * 2 * 17 + 1];
	size_t n = 0;
	line[0] = '\0';
	for (size_t i = 0; i < got; i++) {
		uint64_t val = word == 8 ? stack[i] : ((const uint32_t *)stack)[i];
		format_append(line, sizeof(line), &n, i ? " %llx" : "%llx", (unsigned long long)val);
	}
	printk("vm %s vcpu %u: stack at rsp: %s\n", name, id, got ? line : "unreadable");
	print_trail(v);
}
