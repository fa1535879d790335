/*
 * The AMD-V backend: SVM enabled per core, a VMCB per vCPU, exits decoded
 * into the common struct vm_exit. AMD APM Vol. 2 chapter 15.
 */
#include "svm/svm.h"

#include "drivers/lapic.h"
#include "include/x86.h"
#include "kernel/cpu/idt.h"
#include "kernel/cpu/features.h"
#include "kernel/cpu/percpu.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/vm/fastpath.h"
#include "kernel/vm/fastpath_inline.h"
#include "kernel/vm/hvm.h"
#include "kernel/vm/msr_policy.h"
#include "kernel/vm/vm.h"
#include "kernel/vm/vnmi.h"
#include "svm/vmcb.h"
#include "ept/npt.h"

#define EFER_SVME_BIT (1ull << 12)
#define RFLAGS_TF (1ull << 8)
#define EXC_DB_BIT (1u << 1) /* #DB in the exception intercepts */

struct svm_vcpu {
	uint8_t *vmcb;
	uint64_t vmcb_pa;
	uint32_t asid;
	int last_cpu;
	/*
	 * The guest's NMI blocking, which the VMCB does not show without vNMI:
	 * followed through the IRET intercept (kernel/vm/vnmi.h). To exit
	 * right after an instruction that ends blocking (the IRET, or one in
	 * an interrupt shadow), we single-step it: RFLAGS.TF with #DB
	 * intercepted, as KVM does; nmi_step_* undo what the guest must not see.
	 */
	struct vnmi_sw_mask nmi;
	bool nmi_step;		/* armed */
	bool nmi_step_guest_tf; /* the guest had TF set itself */
	bool nmi_step_at_iret;	/* armed on the IRET: it loads RFLAGS itself */
	uint64_t nmi_step_rip, nmi_step_dr6;
};

struct svm_cpu {
	uint64_t host_save_pa; /* VM_HSAVE_PA: where VMRUN keeps host state */
	uint64_t host_vmcb_pa; /* VMSAVE/VMLOAD of the rest of host state */
	bool host_saved;       /* VMSAVEd there: once per core, the state never changes */
	struct svm_vcpu *last_vcpu;
};

/*
 * Spin loops (APM Vol. 2 §15.14.4). With a pause filter (CPUID 8000_000A
 * EDX bit 10) the PAUSE intercept exits only after `count` PAUSEs, and with
 * the threshold (bit 12) only when they come less than `threshold` cycles
 * apart: a loop, not a PAUSE here and there. KVM's defaults (3000, 128).
 * Without a filter (QEMU TCG offers none) every PAUSE exits, but only while
 * the vCPU's core is shared (set_spin_exits, from the scheduler): alone on
 * its core a spinning vCPU keeps it. That is what lets a 16-vCPU Linux on 4
 * cores through stop_machine (MTRR setup, clocksource changes): every vCPU
 * must run to ack each step, and a spinner that kept its core for its slice
 * held the others off (16 s of boot; 2.4 s with the exits, README issue 18).
 * Opt-in (hypervisor option spinexit=1): the generic kernel's 4-vCPU boot
 * measured perhaps slower with it on a loaded machine (README, issue 18).
 */
#define PAUSE_FILTER_COUNT 3000
#define PAUSE_FILTER_THRESHOLD 128
static struct {
	bool probed, filter, threshold;
} pause_caps;
bool hvm_spin_exits_wanted; /* hypervisor option spinexit=1 (kernel/vm/hvm.h) */

static void pause_probe(void)
{
	struct cpuid_regs r;
	if (pause_caps.probed)
		return;
	cpuid(0x8000000a, &r);
	pause_caps.filter = r.edx & (1u << 10);
	pause_caps.threshold = pause_caps.filter && (r.edx & (1u << 12));
	pause_caps.probed = true;
	if (pause_caps.filter)
		printk("hv: svm: pause filter (%u PAUSEs%s): spinning vCPUs exit and give their "
		       "core away\n", PAUSE_FILTER_COUNT,
		       pause_caps.threshold ? " less than 128 cycles apart" : "");
	else if (hvm_spin_exits_wanted)
		printk("hv: svm: no pause filter, spinexit=1: every PAUSE exits while a vCPU shares "
		       "its core, none when it has the core alone\n");
	else
		printk("hv: svm: no pause filter: a spinning vCPU keeps its core until its slice "
		       "ends (spinexit=1: an exit on every PAUSE while the core is shared)\n");
}
static uint64_t iopm_pa, msrpm_pa;
static uint32_t next_asid = 1;
static spinlock_t svm_lock = SPINLOCK_INIT;

void svm_vmrun(struct x86_regs *regs, uint64_t vmcb_pa, uint64_t host_pa);
static void set_exception_intercept(uint8_t *vmcb, uint32_t bit, bool on);
static void update_iret_intercept(struct svm_vcpu *s);

/* MSR permission map: 2 bits (read, write) per MSR in three 8 K-MSR ranges. */
/* Reads of `msr` go straight to the guest's state; writes too unless `writes` is false. */
static void msrpm_pass_through(uint8_t *pm, uint32_t msr, bool writes)
{
	uint32_t base;
	if (msr < 0x2000)
		base = 0;
	else if (msr >= 0xc0000000 && msr < 0xc0002000)
		base = 0x800, msr -= 0xc0000000;
	else if (msr >= 0xc0010000 && msr < 0xc0012000)
		base = 0x1000, msr -= 0xc0010000;
	else
		return;
	pm[base + msr / 4] &= (uint8_t) ~((writes ? 3u : 1u) << (2 * (msr % 4)));
}

static int setup_permission_maps(void)
{
	if (iopm_pa)
		return 0;
	iopm_pa = frame_alloc_zeroed(3);
	msrpm_pa = frame_alloc_zeroed(2);
	if (!iopm_pa || !msrpm_pa)
		return -1;
	/* every port and MSR traps unless listed here */
	memset(phys_to_virt(iopm_pa), 0xff, 3 * FRAME_SIZE);
	uint8_t *pm = phys_to_virt(msrpm_pa);
	memset(pm, 0xff, 2 * FRAME_SIZE);
	for (unsigned i = 0; i < msr_guest_owned_count; i++)
		msrpm_pass_through(pm, msr_guest_owned[i], !msr_write_checked(msr_guest_owned[i]));
	return 0;
}

static int svm_cpu_enable(char *err, size_t errlen)
{
	const struct cpu_features *f = &host_cpu;
	struct cpu *c = this_cpu();

	if (!f->svm) {
		format(err, errlen, "this CPU has no AMD-V (SVM)");
		return -1;
	}
	if (rdmsr(MSR_AMD_VM_CR) & (1u << 4)) {
		format(err, errlen, "SVM is disabled by firmware (VM_CR.SVMDIS): enable "
				    "virtualization (SVM mode) in the BIOS/UEFI setup");
		return -1;
	}
	if (!f->npt) {
		format(err, errlen, "this CPU has SVM but no nested paging (NPT)");
		return -1;
	}
	spin_lock(&svm_lock);
	int maps = setup_permission_maps();
	pause_probe();
	spin_unlock(&svm_lock);
	if (maps < 0)
		goto oom;
	/* this core's state, allocated for the cores present */
	if (!c->hvm)
		c->hvm = kzalloc(sizeof(struct svm_cpu));
	struct svm_cpu *sc = c->hvm;
	if (!sc)
		goto oom;
	if (!sc->host_save_pa) {
		sc->host_save_pa = frame_alloc_zeroed(1);
		sc->host_vmcb_pa = frame_alloc_zeroed(1);
		if (!sc->host_save_pa || !sc->host_vmcb_pa)
			goto oom;
	}
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, sc->host_save_pa);
	return 0;
oom:
	format(err, errlen, "out of memory for SVM state");
	return -1;
}

static struct svm_vcpu *sv(struct vcpu *v)
{
	return v->backend;
}

static int svm_vcpu_create(struct vcpu *v, char *err, size_t errlen)
{
	struct svm_vcpu *s = kzalloc(sizeof(*s));
	if (!s || !(s->vmcb_pa = frame_alloc_zeroed(1))) {
		kfree(s);
		format(err, errlen, "out of memory for a VMCB");
		return -1;
	}
	s->vmcb = phys_to_virt(s->vmcb_pa);
	s->last_cpu = -1;
	uint32_t nasids = host_cpu.asids > 1 ? host_cpu.asids : 2;
	spin_lock(&svm_lock);
	s->asid = next_asid;
	next_asid = next_asid + 1 < nasids ? next_asid + 1 : 1;
	spin_unlock(&svm_lock);

	uint8_t *vmcb = s->vmcb;
	vmcb_write32(vmcb, VMCB_INTERCEPT_MISC1,
		     INTERCEPT_INTR | INTERCEPT_NMI | INTERCEPT_SMI | INTERCEPT_CPUID | INTERCEPT_RDPMC |
			 INTERCEPT_HLT | INTERCEPT_INVLPGA | INTERCEPT_IOIO | INTERCEPT_MSR |
			 INTERCEPT_SHUTDOWN | (pause_caps.filter ? INTERCEPT_PAUSE : 0));
	if (pause_caps.filter)
		vmcb_write32(vmcb, VMCB_PAUSE_FILTER,
			     (uint32_t)PAUSE_FILTER_COUNT << 16 |
				 (pause_caps.threshold ? PAUSE_FILTER_THRESHOLD : 0));
	/*
	 * XSETBV is intercepted so the guest's XCR0 stays within what its CPUID
	 * offers (cpuid_policy_xcr0_allowed): a component it enabled behind the
	 * policy's back (MPX, AMX) would not be switched between vCPUs.
	 */
	vmcb_write32(vmcb, VMCB_INTERCEPT_MISC2,
		     INTERCEPT_VMRUN | INTERCEPT_VMMCALL | INTERCEPT_VMLOAD | INTERCEPT_VMSAVE |
			 INTERCEPT_STGI | INTERCEPT_CLGI | INTERCEPT_SKINIT | INTERCEPT_XSETBV);
	vmcb_write64(vmcb, VMCB_IOPM_BASE, iopm_pa);
	vmcb_write64(vmcb, VMCB_MSRPM_BASE, msrpm_pa);
	vmcb_write32(vmcb, VMCB_ASID, s->asid);
	/* virtual interrupt masking: the guest's IF masks only virtual interrupts */
	vmcb_write64(vmcb, VMCB_VINTR, 1ull << 24);
	vmcb_write64(vmcb, VMCB_NP_CONTROL, 1); /* nested paging on */
	vmcb_write64(vmcb, VMCB_G_PAT, 0x0007040600070406ull); /* the reset PAT */
	vmcb_write64(vmcb, VMCB_DR6, 0xffff0ff0);
	vmcb_write64(vmcb, VMCB_DR7, 0x400);
	v->backend = s;
	return 0;
}

static void svm_vcpu_destroy(struct vcpu *v)
{
	struct svm_vcpu *s = sv(v);
	if (!s)
		return;
	frame_free(&host_frames, s->vmcb_pa);
	kfree(s);
	v->backend = NULL;
}

static void write_seg(uint8_t *vmcb, unsigned off, const struct seg_state *s)
{
	*(volatile uint16_t *)(vmcb + off + VMCB_SEG_SELECTOR) = s->selector;
	*(volatile uint16_t *)(vmcb + off + VMCB_SEG_ATTRIB) = s->attrib;
	vmcb_write32(vmcb, off + VMCB_SEG_LIMIT, s->limit);
	vmcb_write64(vmcb, off + VMCB_SEG_BASE, s->base);
}

static void svm_set_entry_state(struct vcpu *v, const struct vcpu_entry_state *st)
{
	uint8_t *vmcb = sv(v)->vmcb;

	write_seg(vmcb, VMCB_CS, &st->cs);
	write_seg(vmcb, VMCB_DS, &st->ds);
	write_seg(vmcb, VMCB_ES, &st->es);
	write_seg(vmcb, VMCB_FS, &st->fs);
	write_seg(vmcb, VMCB_GS, &st->gs);
	write_seg(vmcb, VMCB_SS, &st->ss);
	write_seg(vmcb, VMCB_TR, &st->tr);
	write_seg(vmcb, VMCB_LDTR, &st->ldtr);
	vmcb_write32(vmcb, VMCB_GDTR + VMCB_SEG_LIMIT, st->gdtr_limit);
	vmcb_write64(vmcb, VMCB_GDTR + VMCB_SEG_BASE, st->gdtr_base);
	vmcb_write32(vmcb, VMCB_IDTR + VMCB_SEG_LIMIT, st->idtr_limit);
	vmcb_write64(vmcb, VMCB_IDTR + VMCB_SEG_BASE, st->idtr_base);
	/* CPL follows SS.DPL (APM Vol. 2 §15.5.1) */
	vmcb[VMCB_CPL] = (uint8_t)((st->ss.attrib >> 5) & 3);
	/* VMRUN refuses a guest whose EFER lacks SVME; the guest never sees it */
	vmcb_write64(vmcb, VMCB_EFER, st->efer | EFER_SVME_BIT);
	vmcb_write64(vmcb, VMCB_CR0, st->cr0);
	vmcb_write64(vmcb, VMCB_CR3, st->cr3);
	vmcb_write64(vmcb, VMCB_CR4, st->cr4);
	v->regs.rip = st->rip;
	v->regs.rflags = st->rflags;
	v->regs.gpr[X86_RSP] = st->rsp;
	/* a fresh start (boot, INIT-SIPI, reboot): NMIs unmasked, nothing stepped */
	struct svm_vcpu *s = sv(v);
	vnmi_sw_reset(&s->nmi);
	s->nmi_step = false;
	set_exception_intercept(vmcb, EXC_DB_BIT, false);
	update_iret_intercept(s);
	vmcb_write64(vmcb, VMCB_EVENTINJ, 0);
}

static void svm_get_control(struct vcpu *v, struct vcpu_control_state *c)
{
	const uint8_t *vmcb = sv(v)->vmcb;
	uint16_t cs_attrib = *(const volatile uint16_t *)(vmcb + VMCB_CS + VMCB_SEG_ATTRIB);

	c->cr0 = vmcb_read64(vmcb, VMCB_CR0);
	c->cr3 = vmcb_read64(vmcb, VMCB_CR3);
	c->cr4 = vmcb_read64(vmcb, VMCB_CR4);
	c->efer = vmcb_read64(vmcb, VMCB_EFER) & ~EFER_SVME_BIT;
	c->cpl = vmcb[VMCB_CPL];
	c->cs_long = (cs_attrib >> 9) & 1;
	c->cs_db = (cs_attrib >> 10) & 1;
	c->cs_base = vmcb_read64(vmcb, VMCB_CS + VMCB_SEG_BASE);
}

/* The save area keeps ES, CS, SS, DS, FS, GS in Sreg order, 16 bytes apart (APM Vol. 2 Table B-2). */
static void svm_get_segment(struct vcpu *v, unsigned sreg, struct seg_state *s)
{
	const uint8_t *vmcb = sv(v)->vmcb;
	unsigned off = VMCB_ES + 0x10 * (sreg < 6 ? sreg : 0);

	s->selector = *(const volatile uint16_t *)(vmcb + off + VMCB_SEG_SELECTOR);
	s->attrib = *(const volatile uint16_t *)(vmcb + off + VMCB_SEG_ATTRIB);
	s->limit = vmcb_read32(vmcb, off + VMCB_SEG_LIMIT);
	s->base = vmcb_read64(vmcb, off + VMCB_SEG_BASE);
}

/* CR2 is a save-area field that VMRUN loads and #VMEXIT stores (APM Vol. 2 §15.5.1). */
static void svm_set_cr2(struct vcpu *v, uint64_t cr2)
{
	vmcb_write64(sv(v)->vmcb, VMCB_CR2, cr2);
}

static uint64_t svm_get_efer(struct vcpu *v)
{
	return vmcb_read64(sv(v)->vmcb, VMCB_EFER) & ~EFER_SVME_BIT;
}

static void svm_set_efer(struct vcpu *v, uint64_t efer)
{
	uint8_t *vmcb = sv(v)->vmcb;
	uint64_t old = vmcb_read64(vmcb, VMCB_EFER);
	/* LMA is the CPU's to set: keep it, and keep SVME for VMRUN */
	efer = (efer & ~(uint64_t)EFER_LMA) | (old & EFER_LMA) | EFER_SVME_BIT;
	vmcb_write64(vmcb, VMCB_EFER, efer);
}

static uint64_t svm_get_pat(struct vcpu *v)
{
	return vmcb_read64(sv(v)->vmcb, VMCB_G_PAT);
}

static void svm_set_pat(struct vcpu *v, uint64_t pat)
{
	vmcb_write64(sv(v)->vmcb, VMCB_G_PAT, pat);
}

/* APM Vol. 2 Table B-2: where the save area keeps each guest-owned MSR. */
static void svm_set_owned_msr(struct vcpu *v, uint32_t msr, uint64_t value)
{
	unsigned off;
	switch (msr) {
	case 0xc0000100: off = VMCB_FS + 8; break;
	case 0xc0000101: off = VMCB_GS + 8; break;
	case 0xc0000081: off = 0x600; break; /* STAR */
	case 0xc0000082: off = 0x608; break; /* LSTAR */
	case 0xc0000083: off = 0x610; break; /* CSTAR */
	case 0xc0000084: off = 0x618; break; /* SFMASK */
	case 0xc0000102: off = 0x620; break; /* KernelGsBase */
	case 0x174: off = 0x628; break;	     /* SYSENTER_CS */
	case 0x175: off = 0x630; break;	     /* SYSENTER_ESP */
	case 0x176: off = 0x638; break;	     /* SYSENTER_EIP */
	default: return;
	}
	vmcb_write64(sv(v)->vmcb, off, value);
}

static void svm_set_tsc_offset(struct vcpu *v, uint64_t offset)
{
	vmcb_write64(sv(v)->vmcb, VMCB_TSC_OFFSET, offset);
}

static void svm_inject_event(struct vcpu *v, enum event_type type, uint8_t vector, bool has_error,
			     uint32_t error_code)
{
	uint64_t e = vector | EVENTINJ_VALID;
	if (type == EVENT_NMI)
		e |= EVENTINJ_TYPE_NMI;
	else if (type == EVENT_EXCEPTION)
		e |= EVENTINJ_TYPE_EXCEPTION;
	if (has_error)
		e |= EVENTINJ_ERROR_VALID | ((uint64_t)error_code << 32);
	vmcb_write64(sv(v)->vmcb, VMCB_EVENTINJ, e);
	if (type == EVENT_NMI) {
		vnmi_sw_injected(&sv(v)->nmi); /* its delivery masks NMIs until IRET */
		update_iret_intercept(sv(v));
	}
}

static void svm_clear_interrupt_shadow(struct vcpu *v)
{
	vmcb_write64(sv(v)->vmcb, VMCB_INT_SHADOW, 0);
}

static bool svm_interrupt_ready(struct vcpu *v)
{
	const uint8_t *vmcb = sv(v)->vmcb;
	return (v->regs.rflags & (1u << 9)) && !(vmcb_read64(vmcb, VMCB_INT_SHADOW) & 1) &&
	       !(vmcb_read64(vmcb, VMCB_EVENTINJ) & EVENTINJ_VALID);
}

/*
 * A virtual interrupt request (V_IRQ) with the VINTR intercept: the CPU exits
 * when the guest could take it (APM Vol. 2 §15.21.4); we then inject the
 * real event ourselves.
 */
static void svm_set_interrupt_window(struct vcpu *v, bool on)
{
	uint8_t *vmcb = sv(v)->vmcb;
	uint64_t vintr = vmcb_read64(vmcb, VMCB_VINTR);
	uint32_t misc1 = vmcb_read32(vmcb, VMCB_INTERCEPT_MISC1);
	const uint64_t request = (1ull << 8) | (0xfull << 16) | (1ull << 20); /* V_IRQ, prio, ign TPR */
	if (on) {
		vintr |= request;
		misc1 |= INTERCEPT_VINTR;
	} else {
		vintr &= ~request;
		misc1 &= ~INTERCEPT_VINTR;
	}
	vmcb_write64(vmcb, VMCB_VINTR, vintr);
	vmcb_write32(vmcb, VMCB_INTERCEPT_MISC1, misc1);
}

static bool svm_nmi_blocked(struct vcpu *v)
{
	return sv(v)->nmi.masked;
}

static bool svm_nmi_ready(struct vcpu *v)
{
	const uint8_t *vmcb = sv(v)->vmcb;
	return !sv(v)->nmi.masked && !(vmcb_read64(vmcb, VMCB_INT_SHADOW) & 1) &&
	       !(vmcb_read64(vmcb, VMCB_EVENTINJ) & EVENTINJ_VALID);
}

static void set_exception_intercept(uint8_t *vmcb, uint32_t bit, bool on)
{
	uint32_t x = vmcb_read32(vmcb, VMCB_INTERCEPT_EXC);
	vmcb_write32(vmcb, VMCB_INTERCEPT_EXC, on ? x | bit : x & ~bit);
}

/* Intercept IRET while an NMI handler runs and its IRET has not been seen. */
static void update_iret_intercept(struct svm_vcpu *s)
{
	uint32_t misc1 = vmcb_read32(s->vmcb, VMCB_INTERCEPT_MISC1);
	if (vnmi_sw_wants_iret_intercept(&s->nmi))
		misc1 |= INTERCEPT_IRET;
	else
		misc1 &= ~INTERCEPT_IRET;
	vmcb_write32(s->vmcb, VMCB_INTERCEPT_MISC1, misc1);
}

/* Single-step the next guest instruction (APM Vol. 2 §13.1.4: TF traps after it). */
static void nmi_step_arm(struct vcpu *v)
{
	struct svm_vcpu *s = sv(v);
	if (s->nmi_step)
		return;
	s->nmi_step = true;
	s->nmi_step_guest_tf = v->regs.rflags & RFLAGS_TF;
	s->nmi_step_at_iret = s->nmi.awaiting_iret && v->regs.rip == s->nmi.iret_rip;
	s->nmi_step_rip = v->regs.rip;
	s->nmi_step_dr6 = vmcb_read64(s->vmcb, VMCB_DR6);
	v->regs.rflags |= RFLAGS_TF;
	set_exception_intercept(s->vmcb, EXC_DB_BIT, true);
}

/*
 * The #DB of our single step (or another one while it was armed): put back
 * what the guest had. True if the #DB was ours alone and is not the guest's.
 */
static bool nmi_step_done(struct vcpu *v)
{
	struct svm_vcpu *s = sv(v);
	s->nmi_step = false;
	set_exception_intercept(s->vmcb, EXC_DB_BIT, false);
	/* an IRET loaded the guest's own RFLAGS; anything else still has our TF */
	bool iret_ran = s->nmi_step_at_iret && v->regs.rip != s->nmi_step_rip;
	if (!iret_ran && !s->nmi_step_guest_tf)
		v->regs.rflags &= ~RFLAGS_TF;
	if (s->nmi_step_guest_tf)
		return false; /* the guest single-steps too: the trap is its own */
	vmcb_write64(s->vmcb, VMCB_DR6, s->nmi_step_dr6); /* no trace of our step in DR6.BS */
	return true;
}

/*
 * Exit as soon as an NMI can go in. Masked with the IRET not yet reached:
 * the IRET intercept does it. At the IRET, or in an interrupt shadow: single
 * step past it. Another event queued for this entry: it is delivered, then a
 * self-IPI pending at VMRUN exits at once (KVM's immediate exit); not used
 * at the IRET, where the exit would come before it ran, again and again.
 */
static bool svm_set_nmi_window(struct vcpu *v, bool on)
{
	struct svm_vcpu *s = sv(v);
	if (!on || vnmi_sw_wants_iret_intercept(&s->nmi))
		return true;
	if (vmcb_read64(s->vmcb, VMCB_EVENTINJ) & EVENTINJ_VALID) {
		lapic_send_ipi(this_cpu()->apic_id, ICR_FIXED | VECTOR_IPI_CALL);
		return true;
	}
	if (s->nmi.awaiting_iret || (vmcb_read64(s->vmcb, VMCB_INT_SHADOW) & 1))
		nmi_step_arm(v);
	return true;
}

static int svm_build_nested(const struct gpa_map *m, struct pagetable *pt)
{
	return npt_build(m, pt, host_cpu.gbpages);
}

static int svm_map_mmio(struct pagetable *pt, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	return npt_map_mmio(pt, gpa, hpa, size);
}

static void svm_set_nested_root(struct vcpu *v, uint64_t root)
{
	vmcb_write64(sv(v)->vmcb, VMCB_N_CR3, root);
}

/* Instruction lengths for the exits without next-RIP save (no prefixes assumed). */
static unsigned fixed_length(uint64_t code)
{
	switch (code) {
	case SVM_EXIT_CPUID:
	case SVM_EXIT_MSR:
	case SVM_EXIT_RDPMC:
		return 2;
	case SVM_EXIT_HLT:
		return 1;
	case SVM_EXIT_PAUSE: /* F3 90 */
		return 2;
	case SVM_EXIT_VMMCALL:
	case SVM_EXIT_XSETBV: /* 0F 01 D1 */
		return 3;
	default:
		return 0;
	}
}

static void decode_exit(struct vcpu *v, const uint8_t *vmcb, struct vm_exit *e)
{
	uint64_t code = vmcb_read64(vmcb, VMCB_EXITCODE);
	uint64_t info1 = vmcb_read64(vmcb, VMCB_EXITINFO1);
	uint64_t info2 = vmcb_read64(vmcb, VMCB_EXITINFO2);

	memset(e, 0, sizeof(*e));
	e->raw_reason = code;
	e->raw_info[0] = info1;
	e->raw_info[1] = info2;
	uint64_t cut = vmcb_read64(vmcb, VMCB_EXITINTINFO);
	if (cut & EVENTINJ_VALID) {
		e->event_info = (uint32_t)cut;
		e->event_error = (uint32_t)(cut >> 32);
	}
	if (host_cpu.nrip_save && code != SVM_EXIT_NPF && code != SVM_EXIT_INVALID) {
		uint64_t next = vmcb_read64(vmcb, VMCB_NEXT_RIP);
		if (next > v->regs.rip && next - v->regs.rip <= 15)
			e->insn_len = (unsigned)(next - v->regs.rip);
	}
	if (!e->insn_len)
		e->insn_len = fixed_length(code);

	switch (code) {
	case SVM_EXIT_CPUID:
		e->reason = EXIT_CPUID;
		break;
	case SVM_EXIT_RDPMC:
		e->reason = EXIT_RDPMC;
		break;
	case SVM_EXIT_MSR:
		e->reason = info1 ? EXIT_MSR_WRITE : EXIT_MSR_READ;
		e->msr.index = (uint32_t)v->regs.gpr[X86_RCX];
		break;
	case SVM_EXIT_IOIO:
		/* EXITINFO1 (APM Vol. 2 §15.10.2): port, size, direction, string, rep */
		e->reason = EXIT_IO;
		e->io.port = (uint16_t)(info1 >> 16);
		e->io.in = info1 & 1;
		e->io.string = (info1 >> 2) & 1;
		e->io.rep = (info1 >> 3) & 1;
		e->io.size = (info1 & (1u << 4)) ? 1 : (info1 & (1u << 5)) ? 2 : 4;
		/* EXITINFO2 is the next RIP, with or without next-RIP save */
		e->insn_len = (unsigned)(info2 - v->regs.rip);
		break;
	case SVM_EXIT_NPF:
		/* EXITINFO1: #PF-style error code; EXITINFO2: the guest-physical address */
		e->reason = EXIT_MMIO;
		e->mmio.gpa = info2;
		e->mmio.write = (info1 >> 1) & 1;
		e->mmio.fetch = (info1 >> 4) & 1;
		break;
	case SVM_EXIT_HLT:
		e->reason = EXIT_HLT;
		break;
	case SVM_EXIT_PAUSE:
		e->reason = EXIT_PAUSE;
		break;
	case SVM_EXIT_VMMCALL:
		e->reason = EXIT_HYPERCALL;
		break;
	case SVM_EXIT_XSETBV:
		e->reason = EXIT_XSETBV;
		break;
	case SVM_EXIT_SHUTDOWN:
		e->reason = EXIT_SHUTDOWN;
		break;
	case SVM_EXIT_INTR:
	case SVM_EXIT_SMI:
		e->reason = EXIT_EXT_INTR;
		break;
	case SVM_EXIT_NMI:
		e->reason = EXIT_NMI;
		break;
	case SVM_EXIT_VINTR:
		e->reason = EXIT_INTR_WINDOW;
		break;
	case SVM_EXIT_IRET:
		e->reason = EXIT_NMI_WINDOW; /* the NMI handler's IRET is about to run */
		break;
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI:
	case SVM_EXIT_CLGI:
	case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA:
		e->reason = EXIT_VIRT_INSN;
		break;
	case SVM_EXIT_INVALID:
		e->reason = EXIT_INVALID_STATE;
		break;
	default:
		if (code >= SVM_EXIT_EXCP_BASE && code < SVM_EXIT_EXCP_BASE + 32) {
			e->reason = EXIT_EXCEPTION;
			e->exception.vector = (uint8_t)(code - SVM_EXIT_EXCP_BASE);
			e->exception.error_code = (uint32_t)info1;
		} else {
			e->reason = EXIT_UNKNOWN;
		}
		break;
	}
}

/* NMI blocking as this exit leaves it (kernel/vm/vnmi.h), and our own single step. */
static void note_nmi_exit(struct vcpu *v, struct vm_exit *exit)
{
	struct svm_vcpu *s = sv(v);
	vnmi_sw_exit(&s->nmi, v->regs.rip);
	if (exit->reason == EXIT_NMI_WINDOW && exit->raw_reason == SVM_EXIT_IRET)
		vnmi_sw_iret(&s->nmi, v->regs.rip);
	if (s->nmi_step && exit->raw_reason == SVM_EXIT_DB) {
		if (!nmi_step_done(v))
			svm_inject_event(v, EVENT_EXCEPTION, 1, false, 0); /* the guest's own #DB */
		exit->reason = EXIT_NMI_WINDOW; /* handled here, not an unexpected exception */
	}
	update_iret_intercept(s);
}

/*
 * The exit fast path (kernel/vm/fastpath.h) on AMD-V: CPUID, WRMSR and port
 * I/O decoded from the exit code and EXITINFO alone. Not while an NMI handler
 * runs under our software NMI masking or our single step is armed (both
 * follow every exit), nor with an event cut short by the exit.
 */
static bool fast_decode(struct vcpu *v, struct svm_vcpu *s, uint64_t code, struct vm_exit *e)
{
	const uint8_t *vmcb = s->vmcb;
	if (s->nmi.masked || s->nmi_step)
		return false;
	if (code == SVM_EXIT_CPUID) {
		e->reason = EXIT_CPUID;
		e->insn_len = 2;
		if (host_cpu.nrip_save) {
			uint64_t next = vmcb_read64(vmcb, VMCB_NEXT_RIP);
			if (next > v->regs.rip && next - v->regs.rip <= 15)
				e->insn_len = (unsigned)(next - v->regs.rip);
		}
	} else if (code == SVM_EXIT_MSR) {
		if (vmcb_read64(vmcb, VMCB_EXITINFO1) != 1)
			return false; /* RDMSR */
		e->reason = EXIT_MSR_WRITE;
		e->msr.index = (uint32_t)v->regs.gpr[X86_RCX];
		e->insn_len = 2;
		if (host_cpu.nrip_save) {
			uint64_t next = vmcb_read64(vmcb, VMCB_NEXT_RIP);
			if (next > v->regs.rip && next - v->regs.rip <= 15)
				e->insn_len = (unsigned)(next - v->regs.rip);
		}
	} else if (code == SVM_EXIT_IOIO) {
		uint64_t info1 = vmcb_read64(vmcb, VMCB_EXITINFO1);
		if (info1 & (1u << 2))
			return false; /* INS/OUTS: the emulator's */
		e->reason = EXIT_IO;
		e->io.port = (uint16_t)(info1 >> 16);
		e->io.in = info1 & 1;
		e->io.string = false;
		e->io.size = (info1 & (1u << 4)) ? 1 : (info1 & (1u << 5)) ? 2 : 4;
		e->insn_len = (unsigned)(vmcb_read64(vmcb, VMCB_EXITINFO2) - v->regs.rip);
	} else {
		return false;
	}
	e->raw_reason = code;
	return true;
}

static void svm_vcpu_run(struct vcpu *v, struct vm_exit *exit)
{
	struct svm_vcpu *s = sv(v);
	struct cpu *c = this_cpu();
	struct svm_cpu *sc = c->hvm;
	uint8_t *vmcb = s->vmcb;

	/* a vCPU new to this core, or another vCPU here since: start with a clean TLB */
	/* or its nested tables lost or changed a mapping since its last entry (vm->nested_gen) */
	uint32_t gen = __atomic_load_n(&v->vm->nested_gen, __ATOMIC_ACQUIRE);
	if (s->last_cpu != (int)c->index || sc->last_vcpu != s || v->nested_seen != gen)
		vmcb[VMCB_TLB_CONTROL] = host_cpu.flush_by_asid ? 3 : 1; /* this ASID, or all */
	v->nested_seen = gen;
	s->last_cpu = (int)c->index;
	sc->last_vcpu = s;
	if (!sc->host_saved) {
		/* the host's FS, GS, TR, LDTR and SYSCALL MSRs, which svm_vmrun VMLOADs after each trip */
		__asm__ volatile("vmsave" : : "a"(sc->host_vmcb_pa) : "memory");
		sc->host_saved = true;
	}
	vmcb_write64(vmcb, VMCB_RAX, v->regs.gpr[X86_RAX]);
	vmcb_write64(vmcb, VMCB_RSP, v->regs.gpr[X86_RSP]);
	vmcb_write64(vmcb, VMCB_RIP, v->regs.rip);
	vmcb_write64(vmcb, VMCB_RFLAGS, v->regs.rflags);
	vmcb_write32(vmcb, VMCB_CLEAN_BITS, 0);

	for (;;) {
		exitprof_mark(v, XP_ENTER);
		svm_vmrun(&v->regs, s->vmcb_pa, sc->host_vmcb_pa);
		exitprof_mark(v, XP_EXITED);

		vmcb[VMCB_TLB_CONTROL] = 0;
		/* RSP and RFLAGS only once the exit leaves the fast path, which moves neither */
		v->regs.gpr[X86_RAX] = vmcb_read64(vmcb, VMCB_RAX);
		v->regs.rip = vmcb_read64(vmcb, VMCB_RIP);

		/*
		 * An event cut short by this exit is delivered again on the next entry
		 * (§15.7.2). An NMI among them still counts as delivered: it was
		 * masked when injected and stays so until its handler's IRET. One an
		 * instruction raised (INTn, INT3, INTO) is raised again by running it
		 * again (vm_event_is_soft).
		 */
		uint64_t pending = vmcb_read64(vmcb, VMCB_EXITINTINFO);
		bool redeliver = (pending & EVENTINJ_VALID) && !vm_event_is_soft((uint32_t)pending);
		vmcb_write64(vmcb, VMCB_EVENTINJ, redeliver ? pending : 0);

		uint64_t code = vmcb_read64(vmcb, VMCB_EXITCODE);
		bool fast = fastpath_on && !(pending & EVENTINJ_VALID) &&
			    fast_decode(v, s, code, exit);
		exitprof_mark(v, XP_DECODED);
		/* host interrupts are on (svm_vmrun's STGI), as the loop runs handlers */
		if (fast && fastpath_handle(v, exit)) {
			vmcb_write64(vmcb, VMCB_INT_SHADOW, 0); /* as skipping an instruction does */
			irq_disable(); /* from here to the entry, as the loop enters */
			if (exitprof_on) {
				exitprof_reason(v, exit->reason, true);
				exitprof_mark(v, XP_HANDLED);
			}
			if (fastpath_may_reenter(v)) {
				/* the handlers move RAX and RIP alone; RSP and RFLAGS are still there */
				vmcb_write64(vmcb, VMCB_RAX, v->regs.gpr[X86_RAX]);
				vmcb_write64(vmcb, VMCB_RIP, v->regs.rip);
				/* nothing the VMCB's clean bits cover has changed (APM Vol. 2 §15.15) */
				vmcb_write32(vmcb, VMCB_CLEAN_BITS, VMCB_CLEAN_ALL);
				continue;
			}
			v->regs.gpr[X86_RSP] = vmcb_read64(vmcb, VMCB_RSP);
			v->regs.rflags = vmcb_read64(vmcb, VMCB_RFLAGS);
			exit->reason = EXIT_NONE; /* handled: the loop goes round without a dispatch */
			return;
		}
		v->regs.gpr[X86_RSP] = vmcb_read64(vmcb, VMCB_RSP);
		v->regs.rflags = vmcb_read64(vmcb, VMCB_RFLAGS);
		decode_exit(v, vmcb, exit);
		note_nmi_exit(v, exit);
		return;
	}
}

static void svm_get_debug_state(struct vcpu *v, struct vcpu_debug_state *d)
{
	struct svm_vcpu *s = sv(v);
	const uint8_t *vmcb = s->vmcb;
	uint64_t inj = vmcb_read64(vmcb, VMCB_EVENTINJ);

	*d = (struct vcpu_debug_state){
	    .inject_info = (inj & EVENTINJ_VALID) ? (uint32_t)inj : 0,
	    .inject_error = (uint32_t)(inj >> 32),
	    .intr_shadow = vmcb_read64(vmcb, VMCB_INT_SHADOW) & 1,
	    .nmi_blocked = s->nmi.masked,
	    .cr2 = vmcb_read64(vmcb, VMCB_CR2),
	    .idtr_base = vmcb_read64(vmcb, VMCB_IDTR + VMCB_SEG_BASE),
	    .gdtr_base = vmcb_read64(vmcb, VMCB_GDTR + VMCB_SEG_BASE),
	    .idtr_limit = (uint16_t)vmcb_read32(vmcb, VMCB_IDTR + VMCB_SEG_LIMIT),
	    .gdtr_limit = (uint16_t)vmcb_read32(vmcb, VMCB_GDTR + VMCB_SEG_LIMIT),
	};
}

/*
 * AMD-V has no enable bits for these: RDTSCP, RDPID, INVPCID, XSAVES and
 * XRSTORS run in the guest unless intercepted, and this backend intercepts
 * none of them (APM Vol. 2 §15.9 and the VMCB intercept vectors, Appendix B).
 */
static void svm_set_spin_exits(struct vcpu *v, bool shared)
{
	if (pause_caps.filter || !hvm_spin_exits_wanted)
		return; /* the filter's count tells a spin loop from a PAUSE */
	uint8_t *vmcb = sv(v)->vmcb;
	uint32_t misc1 = vmcb_read32(vmcb, VMCB_INTERCEPT_MISC1);
	uint32_t want = shared ? misc1 | INTERCEPT_PAUSE : misc1 & ~INTERCEPT_PAUSE;
	if (want != misc1)
		vmcb_write32(vmcb, VMCB_INTERCEPT_MISC1, want); /* (clean bits are cleared each entry) */
}

static void svm_guest_caps(struct hvm_guest_caps *caps)
{
	caps->rdtscp = true;
	caps->invpcid = true;
	caps->xsaves = true;
}

const struct hvm_ops svm_ops = {
    .name = "svm",
    .cpu_enable = svm_cpu_enable,
    .vcpu_create = svm_vcpu_create,
    .vcpu_destroy = svm_vcpu_destroy,
    .vcpu_unload = NULL, /* a VMCB holds no per-core state (APM Vol. 2 §15.5) */
    .vcpu_set_entry_state = svm_set_entry_state,
    .vcpu_run = svm_vcpu_run,
    .vcpu_get_control = svm_get_control,
    .get_segment = svm_get_segment,
    .set_cr2 = svm_set_cr2,
    .get_efer = svm_get_efer,
    .set_efer = svm_set_efer,
    .set_tsc_offset = svm_set_tsc_offset,
    .set_owned_msr = svm_set_owned_msr,
    .get_pat = svm_get_pat,
    .set_pat = svm_set_pat,
    .inject_event = svm_inject_event,
    .clear_interrupt_shadow = svm_clear_interrupt_shadow,
    .interrupt_ready = svm_interrupt_ready,
    .set_interrupt_window = svm_set_interrupt_window,
    .nmi_blocked = svm_nmi_blocked,
    .nmi_ready = svm_nmi_ready,
    .set_nmi_window = svm_set_nmi_window,
    .build_nested = svm_build_nested,
    .map_mmio = svm_map_mmio,
    .set_nested_root = svm_set_nested_root,
    .get_debug_state = svm_get_debug_state,
    .guest_caps = svm_guest_caps,
    .set_spin_exits = svm_set_spin_exits,
};
