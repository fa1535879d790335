#include "kernel/vm/exit.h"
#include "kernel/vm/pvclock.h"
#include "kernel/vm/vm_virtio.h"

#include "guest/x86_emulate.h"
#include "include/x86.h"
#include "kernel/cpu/features.h"
#include "kernel/cpu/fpu.h"
#include "kernel/log.h"
#include "kernel/sched/sched.h"
#include "kernel/vm/cpuid_policy.h"
#include "kernel/vm/crash_report.h"
#include "kernel/vm/emulate.h"
#include "kernel/vm/hvm.h"
#include "kernel/vm/msr_policy.h"
#include "kernel/vm/vintr.h"
#include "kernel/vm/vplatform.h"

#define VECTOR_UD 6
#define VECTOR_GP 13

static void skip_instruction(struct vcpu *v, const struct vm_exit *e)
{
	v->regs.rip += e->insn_len;
	/* e.g. the HLT of "sti; hlt" sat in STI's shadow; the next one does not */
	hvm->clear_interrupt_shadow(v);
}

static void inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t code)
{
	hvm->inject_event(v, EVENT_EXCEPTION, vector, has_error, code);
}

static void crash(struct vcpu *v, const struct vm_exit *e, const char *why)
{
	vm_crash_report(v, e, why);
	vm_stop(v->vm, VM_STOP_CRASH, e->raw_reason);
}

static void query_host_cpuid(void *opaque, uint32_t leaf, uint32_t sub, struct cpuid_result *out)
{
	(void)opaque;
	struct cpuid_regs r;
	cpuid_count(leaf, sub, &r);
	*out = (struct cpuid_result){r.eax, r.ebx, r.ecx, r.edx};
}

/* The host as the CPUID policy asks it; its summary is filled on first use. */
static struct cpuid_host host_cpuid_source = {.query = query_host_cpuid};

#define CR4_OSXSAVE (1ull << 18)
#define CR4_PKE (1ull << 22)

/*
 * CPUID: the allow-list policy of cpuid_policy.c. While the vCPU's exit is
 * handled its XCR0 is in the core (fpu.c switches it with the vCPU), which
 * leaf 0xD's "size for XCR0" fields follow.
 */
static void handle_cpuid(struct vcpu *v, struct vm_exit *e)
{
	uint32_t leaf = (uint32_t)v->regs.gpr[X86_RAX], sub = (uint32_t)v->regs.gpr[X86_RCX];
	struct cpuid_ctx ctx = {
	    .vendor = host_cpu.amd ? CPUID_VENDOR_AMD : CPUID_VENDOR_INTEL,
	    .vcpu_id = v->id,
	    .nvcpus = v->vm->nvcpus,
	    .xcr0 = leaf == 0xd ? fpu_current_xcr0() : 1,
	};
	if (leaf == 1 || leaf == 7) { /* only these answer from the guest's CR4 (OSXSAVE, OSPKE) */
		struct vcpu_control_state cs;
		hvm->vcpu_get_control(v, &cs);
		ctx.cr4_osxsave = cs.cr4 & CR4_OSXSAVE;
		ctx.cr4_pke = cs.cr4 & CR4_PKE;
	}
	hvm->guest_caps(&ctx.caps);
	struct cpuid_result r;
	cpuid_policy_guest(&host_cpuid_source, &ctx, leaf, sub, &r);
	if (leaf == KVM_CPUID_BASE + 1 && !pvsched_offered)
		r.eax &= ~PVSCHED_FEATURES; /* offered with the hypervisor option pvsched=1 (pvsched.h) */
	v->regs.gpr[X86_RAX] = r.eax;
	v->regs.gpr[X86_RBX] = r.ebx;
	v->regs.gpr[X86_RCX] = r.ecx;
	v->regs.gpr[X86_RDX] = r.edx;
	if (fastpath_on) { /* the next time, the fast path answers */
		const uint32_t answer[4] = {r.eax, r.ebx, r.ecx, r.edx};
		fastpath_cpuid_learn(v, leaf, sub, answer);
	}
	skip_instruction(v, e);
}

static void handle_msr_read(struct vcpu *v, struct vm_exit *e)
{
	uint64_t value;
	if (msr_read(v, e->msr.index, &value) < 0) {
		inject_exception(v, VECTOR_GP, true, 0);
		return;
	}
	v->regs.gpr[X86_RAX] = (uint32_t)value;
	v->regs.gpr[X86_RDX] = value >> 32;
	skip_instruction(v, e);
}

static void handle_msr_write(struct vcpu *v, struct vm_exit *e)
{
	uint64_t value = (uint32_t)v->regs.gpr[X86_RAX] | (v->regs.gpr[X86_RDX] << 32);
	if (msr_write(v, e->msr.index, value) < 0) {
		inject_exception(v, VECTOR_GP, true, 0);
		return;
	}
	skip_instruction(v, e);
}

static void handle_io(struct vcpu *v, struct vm_exit *e)
{
	if (e->io.string) {
		/* INS/OUTS: decoded and emulated like an MMIO instruction (emulate.c) */
		const char *why = vm_emulate_string_io(v, e);
		if (why)
			crash(v, e, why);
		return;
	}
	if (v->vm->io_counts && e->io.port < 0x1000)
		v->vm->io_counts[e->io.port]++;
	unsigned size = e->io.size;
	uint64_t mask = size == 4 ? 0xffffffffull : (1ull << (8 * size)) - 1;
	if (e->io.in) {
		uint64_t val = iobus_read(&v->vm->pio, e->io.port, size);
		uint64_t *rax = &v->regs.gpr[X86_RAX];
		/* a 32-bit IN zero-extends into RAX; 8/16-bit ones merge */
		*rax = size == 4 ? (val & mask) : ((*rax & ~mask) | (val & mask));
	} else {
		iobus_write(&v->vm->pio, e->io.port, size, v->regs.gpr[X86_RAX] & mask);
	}
	if (v->vm->state == VM_STOPPED)
		return; /* the write stopped the VM (exit port) */
	skip_instruction(v, e);
}

/* The nested tables' builder, limited by gpa_map_fault to the chunk just touched. */
static int map_touched_chunk(void *ctx)
{
	struct vm *vm = ctx;
	return hvm->build_nested(&vm->map, &vm->npt);
}

static void handle_mmio(struct vcpu *v, struct vm_exit *e)
{
	/* RAM's first touch (lazy zeroing, gpa_map.h): zeroed, mapped, and the guest retries */
	int r = gpa_map_fault(&v->vm->map, e->mmio.gpa, map_touched_chunk, v->vm);
	if (r > 0)
		return;
	/* mapped by another vCPU since this one's walk; else not RAM the tables may lack */
	if (r == 0 && pt_lookup(&v->vm->npt, e->mmio.gpa & ~0xfffull, NULL, NULL, NULL))
		return;
	/* decoded and emulated in emulate.c; a fault on the way is the guest's */
	const char *why = vm_emulate_mmio(v, e);
	if (why)
		crash(v, e, why);
}

static void handle_hlt(struct vcpu *v, struct vm_exit *e)
{
	skip_instruction(v, e);
	/* a paravirtual spinlock's kick (KVM_HC_KICK_CPU) that came first: this HLT ends at once */
	if (__atomic_exchange_n(&v->pv_kicked, false, __ATOMIC_ACQ_REL))
		return;
	if (!(v->regs.rflags & (1ull << 9))) { /* RFLAGS.IF */
		/*
		 * Only INIT or an NMI wakes it (SDM Vol. 2A, HLT: an enabled
		 * interrupt, NMI, SMI, INIT or RESET resumes it): the vCPU is out,
		 * like an AP before its SIPI, and the scheduler also looks for an
		 * NMI. When every vCPU is out and
		 * no chip can raise an NMI, nothing will: the VM is dead.
		 */
		v->hlt_nmi_only = true;
		v->waiting_sipi = true;
		unsigned out = 0;
		for (unsigned i = 0; i < v->vm->nvcpus; i++) /* (a kicked one wakes: pvsched.h) */
			out += v->vm->vcpus[i]->waiting_sipi && !v->vm->vcpus[i]->pv_kicked;
		if (out == v->vm->nvcpus && !vplatform_nmi_possible(v->vm))
			vm_stop(v->vm, VM_STOP_HALTED, 0);
		return;
	}
	v->halted = true; /* the scheduler blocks it unless an interrupt is pending */
}

static void handle_hypercall(struct vcpu *v, struct vm_exit *e)
{
	uint64_t nr = v->regs.gpr[X86_RAX];
	uint64_t a0 = v->regs.gpr[X86_RBX], a1 = v->regs.gpr[X86_RCX];
	uint64_t ret = HC_ERR_NOSYS;

	switch (nr) {
	case HC_VERSION:
		ret = HV_ABI_VERSION;
		break;
	case HC_RAISE_IRQ:
	case HC_TIMER_IRQ:
		/* vectors below 32 are exceptions, not interrupts */
		if (a0 < 32 || a0 > 255 || (nr == HC_TIMER_IRQ && a1 > 10000000)) {
			ret = HC_ERR_INVAL;
			break;
		}
		if (nr == HC_RAISE_IRQ)
			vintr_raise(v, (uint8_t)a0);
		else
			vintr_arm_timer(v, (uint8_t)a0, a1);
		ret = 0;
		break;
	default:
		/* KVM's paravirtual scheduling hypercalls (pvsched.h), Linux's numbers */
		pvsched_hypercall(v, nr, &ret);
		break;
	}
	v->regs.gpr[X86_RAX] = ret;
	skip_instruction(v, e);
}

/*
 * RDPMC reads the virtual PMU that the MSR policy keeps: AMD's four legacy
 * counters (ECX 0-3 = PERF_CTR0-3), which never count. Anything else, and
 * every counter on Intel (CPUID leaf 0xA reports none), is #GP as on a CPU
 * without that counter.
 */
static void handle_rdpmc(struct vcpu *v, struct vm_exit *e)
{
	uint32_t index = (uint32_t)v->regs.gpr[X86_RCX];
	uint64_t value;
	if (index > 3 || msr_read(v, 0xc0010004 + index, &value) < 0) {
		inject_exception(v, VECTOR_GP, true, 0);
		return;
	}
	value &= (1ull << 48) - 1; /* the counters are 48 bits wide */
	v->regs.gpr[X86_RAX] = (uint32_t)value;
	v->regs.gpr[X86_RDX] = value >> 32;
	skip_instruction(v, e);
}

/*
 * XSETBV: the guest's XCR0 goes into the real register while its vCPU owns
 * the core (the host keeps no extended state). Only XCR0, only the
 * components the guest's CPUID offers (cpuid_policy_xcr0_allowed), x87
 * always on, AVX only with SSE, AVX-512's three together (SDM Vol. 1 §13.3).
 * Both backends exit on it.
 */
static void handle_xsetbv(struct vcpu *v, struct vm_exit *e)
{
	uint32_t index = (uint32_t)v->regs.gpr[X86_RCX];
	uint64_t value = (uint32_t)v->regs.gpr[X86_RAX] | (v->regs.gpr[X86_RDX] << 32);
	if (!cpuid_policy_xcr0_valid(index, value, cpuid_policy_xcr0_allowed(&host_cpuid_source))) {
		inject_exception(v, VECTOR_GP, true, 0);
		return;
	}
	__asm__ volatile("xsetbv" ::"c"(0), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
	skip_instruction(v, e);
}

/*
 * The guest spins (kernel/sched/sched.h, sched_vcpu_spins): its core goes
 * to another vCPU when one is runnable there, else the guest goes on at
 * once. The PAUSE itself is done: a spin loop's PAUSE only slows it down.
 */
static void handle_pause(struct vcpu *v, struct vm_exit *e)
{
	skip_instruction(v, e);
	sched_vcpu_spins(v);
}

/* What the operator needs to find a guest's triple fault: crash_report.h. */
static void handle_shutdown(struct vcpu *v, struct vm_exit *e)
{
	vm_crash_report(v, e, "triple fault");
	vm_stop(v->vm, VM_STOP_TRIPLE_FAULT, 0);
}

static void handle_nothing(struct vcpu *v, struct vm_exit *e)
{
	(void)v;
	(void)e; /* the host took its interrupt when the backend re-enabled them */
}

static void handle_virt_insn(struct vcpu *v, struct vm_exit *e)
{
	(void)e;
	inject_exception(v, VECTOR_UD, false, 0); /* the guest sees no SVM/VMX */
}

static void handle_invalid(struct vcpu *v, struct vm_exit *e)
{
	crash(v, e, "the CPU refused the guest state");
}

static void handle_unknown(struct vcpu *v, struct vm_exit *e)
{
	crash(v, e, "unexpected exit");
}

typedef void (*exit_handler)(struct vcpu *v, struct vm_exit *e);

static const exit_handler handlers[EXIT_REASON_COUNT] = {
    [EXIT_CPUID] = handle_cpuid,
    [EXIT_MSR_READ] = handle_msr_read,
    [EXIT_MSR_WRITE] = handle_msr_write,
    [EXIT_IO] = handle_io,
    [EXIT_MMIO] = handle_mmio,
    [EXIT_HLT] = handle_hlt,
    [EXIT_HYPERCALL] = handle_hypercall,
    [EXIT_SHUTDOWN] = handle_shutdown,
    [EXIT_EXT_INTR] = handle_nothing,
    [EXIT_NMI] = handle_nothing,
    [EXIT_INTR_WINDOW] = handle_nothing,
    [EXIT_NMI_WINDOW] = handle_nothing, /* the next entry injects the NMI */
    [EXIT_VIRT_INSN] = handle_virt_insn,
    [EXIT_RDPMC] = handle_rdpmc,
    [EXIT_XSETBV] = handle_xsetbv,
    [EXIT_PAUSE] = handle_pause,
    [EXIT_INVALID_STATE] = handle_invalid,
    [EXIT_EXCEPTION] = handle_unknown,
    [EXIT_UNKNOWN] = handle_unknown,
};

void vm_exit_dispatch(struct vcpu *v, struct vm_exit *e)
{
	/* EXIT_NONE: the fast path handled (and counted) it, and the loop goes round */
	if (e->reason != EXIT_NONE) {
		v->exits[e->reason]++;
		v->exits_total++;
		vm_exit_trail_note(v, e);
		exit_handler h = e->reason < EXIT_REASON_COUNT ? handlers[e->reason] : NULL;
		(h ? h : handle_unknown)(v, e);
	}
	/* any exit serves as a look at disks whose kicks are off (vm_virtio.h) */
	if (__atomic_load_n(&v->vm->io_poll_due, __ATOMIC_RELAXED))
		vm_virtio_poll(v);
}
