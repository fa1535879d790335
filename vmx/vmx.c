/*
 * The Intel VT-x backend: VMXON on every core, a VMCS per vCPU, EPT, exits
 * decoded into the common struct vm_exit. Intel SDM Vol. 3C chapters 24-29.
 *
 * A VMCS can only be read and written on the core where it is current, so
 * state handed over before the vCPU first runs (entry state, EPT root,
 * events) is kept here and written into the VMCS on that core.
 */
#include "vmx/vmx.h"

#include "include/x86.h"
#include "kernel/cpu/features.h"
#include "kernel/cpu/idt.h"
#include "kernel/cpu/percpu.h"
#include "kernel/cpu/smp.h"
#include "drivers/lapic.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/time/tsc.h"
#include "kernel/vm/fastpath.h"
#include "kernel/vm/fastpath_inline.h"
#include "kernel/vm/hvm.h"
#include "kernel/vm/msr_policy.h"
#include "kernel/vm/vm.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_caps.h"
#include "vmx/vmx_insn.h"
#include "ept/ept.h"

#define MSR_VMX_PINBASED 0x481
#define MSR_VMX_PROCBASED 0x482
#define MSR_VMX_EXIT 0x483
#define MSR_VMX_ENTRY 0x484
#define MSR_VMX_CR0_FIXED0 0x486
#define MSR_VMX_CR0_FIXED1 0x487
#define MSR_VMX_CR4_FIXED0 0x488
#define MSR_VMX_CR4_FIXED1 0x489
#define MSR_VMX_TRUE_PINBASED 0x48d
#define MSR_VMX_TRUE_PROCBASED 0x48e
#define MSR_VMX_TRUE_EXIT 0x48f
#define MSR_VMX_TRUE_ENTRY 0x490
#define MSR_PAT_NUM 0x277

#define CR0_NE (1ull << 5)
#define CR0_PG_BIT (1ull << 31)
#define CR0_PE_BIT (1ull << 0)

struct vmx_controls {
	uint32_t pin, proc, proc2, exit, entry;
};

struct vmx_vcpu {
	uint64_t vmcs_pa;
	bool initialised; /* fields written on its core */
	bool launched;
	/*
	 * The core the VMCS is active on (VMPTRLDed there and not VMCLEARed
	 * since), -1: none. It stays active there across switches and idle, so
	 * a vCPU that comes back needs no VMCLEAR, VMLAUNCH nor field reloads;
	 * another core that runs it first asks this one for a VMCLEAR
	 * (release_active). A VMCS active on two cores is corrupted silently.
	 */
	int active_cpu;
	bool want_clear;		 /* another core waits for this core's VMCLEAR of it */
	struct vmx_vcpu *next_active;	 /* in its active core's list */
	int loaded_cpu; /* the core whose SYSCALL MSRs hold its values; -1: none (unloaded) */
	/*
	 * The core whose host state the VMCS holds and whose TLB entries for this
	 * EPT and VPID are current; it survives an unload, so a vCPU that comes
	 * back to the same core skips the host-state writes and invalidations.
	 */
	int host_cpu;
	uint16_t vpid;
	struct vcpu_entry_state entry;
	uint64_t ept_root;
	uint32_t pending_event; /* VM-entry interruption info to write, or 0 */
	bool want_window;	/* interrupt-window exiting on the next entry */
	bool want_nmi_window;	/* NMI-window exiting on the next entry */
	uint32_t intr_state;	/* guest interruptibility state at the last exit */
	uint32_t pending_error;
	/*
	 * Not in the VMCS: in the core's MSRs while it is loaded. STAR, LSTAR,
	 * CSTAR and SFMASK are always current here (their writes exit:
	 * vmx_set_owned_msr); KernelGSbase, which SWAPGS changes without an
	 * exit, only once vmx_vcpu_unload has read it back.
	 */
	uint64_t syscall_msrs[5];
	/*
	 * CR2 is not in the VMCS: the guest's value lives in the real register
	 * while it runs, and the core's CR2 is whatever ran last there (another
	 * vCPU, another VM). Kept here between runs (SDM Vol. 3C §27.3, §28.3).
	 */
	uint64_t cr2;
};

/* What SYSCALL and SWAPGS use: the VMCS neither saves nor loads them (SVM's VMSAVE does). */
static const uint32_t syscall_msr_index[5] = {0xc0000102, 0xc0000081, 0xc0000082, 0xc0000083,
					      0xc0000084};
enum { SYSCALL_KGS, SYSCALL_STAR, SYSCALL_LSTAR, SYSCALL_CSTAR, SYSCALL_SFMASK };

struct vmx_cpu {
	uint64_t vmxon_pa;
	bool on;
	struct vmx_vcpu *current; /* whose VMCS is current here */
	/* the VMCSs active here; changed only on this core, with interrupts off */
	struct vmx_vcpu *active;
	bool clear_asked; /* some of them have want_clear set */
	/*
	 * What this core's SYSCALL MSRs hold (KernelGSbase: as of the last
	 * unload or write; a guest's SWAPGS changes it meanwhile). The host
	 * never uses SYSCALL or SWAPGS, so a vCPU loaded here writes only the
	 * values that differ from its own.
	 */
	uint64_t syscall_msrs[5];
};

static struct vmx_controls ctl;
static uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
static uint32_t revision_id;
static uint64_t io_bitmaps_pa, msr_bitmap_pa;
static bool caps_ready, have_vpid, invept_single, invvpid_single;
/*
 * Virtual NMIs with NMI-window exiting (Vol. 3C §25.6.1-25.6.2, §26.7): the CPU
 * keeps the guest's NMI blocking apart from the host's and exits when it
 * ends. Without them an injected NMI blocks real NMIs until the guest's
 * IRET, which nothing reports: the core polls (hvm set_nmi_window false).
 */
static bool have_vnmi;
/*
 * Spin loops (SDM Vol. 3C §25.6.13): PAUSE-loop exiting exits once PAUSEs
 * no more than PLE_GAP TSC ticks apart have gone on for PLE_WINDOW ticks
 * (KVM's defaults, 128 and 4096). Without it PAUSE does not exit: PAUSE
 * exiting would make every PAUSE exit (see svm/svm.c: it cost more).
 */
#define PLE_GAP 128
#define PLE_WINDOW 4096
static bool have_ple;
static uint16_t next_vpid = 1;
static spinlock_t vmx_lock = SPINLOCK_INIT;

int vmx_enter(struct x86_regs *regs, int launched);

/* MSR bitmap (Vol. 3C §25.6.9): read-low, read-high, write-low, write-high, 1 KiB each */
/* Reads of `msr` go straight to the guest's state; writes too unless `writes` is false. */
static void msr_pass_through(uint8_t *bm, uint32_t msr, bool writes)
{
	unsigned base;
	if (msr < 0x2000)
		base = 0;
	else if (msr >= 0xc0000000 && msr < 0xc0002000)
		base = 0x400, msr -= 0xc0000000;
	else
		return;
	bm[base + msr / 8] &= (uint8_t) ~(1u << (msr % 8));
	if (writes)
		bm[base + 0x800 + msr / 8] &= (uint8_t) ~(1u << (msr % 8));
}

static int compute_caps(char *err, size_t errlen)
{
	uint64_t basic = rdmsr(MSR_IA32_VMX_BASIC);
	bool true_msrs = (basic >> 55) & 1;
	uint32_t missing;

	revision_id = (uint32_t)basic & 0x7fffffff;
	/* NMI exiting stays on: the host's own NMIs (panic stops, kernel/cpu/trap.c) exit */
	if (!vmx_adjust_controls(rdmsr(true_msrs ? MSR_VMX_TRUE_PINBASED : MSR_VMX_PINBASED),
				 PIN_EXTERNAL_INTERRUPT | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS,
				 PIN_EXTERNAL_INTERRUPT | PIN_NMI_EXITING, &ctl.pin, &missing) ||
	    !vmx_adjust_controls(rdmsr(true_msrs ? MSR_VMX_TRUE_PROCBASED : MSR_VMX_PROCBASED),
				 PROC_HLT_EXITING | PROC_RDPMC_EXITING | PROC_USE_IO_BITMAPS |
				     PROC_USE_MSR_BITMAPS | PROC_SECONDARY | PROC_USE_TSC_OFFSETTING |
				     PROC_NMI_WINDOW,
				 PROC_HLT_EXITING | PROC_RDPMC_EXITING | PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS |
				     PROC_SECONDARY | PROC_USE_TSC_OFFSETTING,
				 &ctl.proc, &missing)) {
		format(err, errlen, "VMX lacks required execution controls (missing %#x)", missing);
		return -1;
	}
	/* NMI-window exiting needs virtual NMIs (Vol. 3C §27.2.1.1): both or neither */
	have_vnmi = (ctl.pin & PIN_VIRTUAL_NMIS) && (ctl.proc & PROC_NMI_WINDOW);
	if (!have_vnmi) {
		ctl.pin &= ~PIN_VIRTUAL_NMIS;
		printk("hv: vmx: no virtual NMIs with NMI-window exiting: guest NMIs are "
		       "delivered when an exit finds them unblocked (polled)\n");
	}
	ctl.proc &= ~PROC_NMI_WINDOW; /* set per entry, on demand */
	/* secondary controls have no TRUE MSR and no must-be-one bits */
	uint32_t want2 = PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST | PROC2_ENABLE_VPID |
			 PROC2_ENABLE_RDTSCP | PROC2_ENABLE_INVPCID | PROC2_ENABLE_XSAVES |
			 PROC2_PAUSE_LOOP_EXITING;
	if (!vmx_adjust_controls(rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) & 0xffffffff00000000ull,
				 want2, PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST, &ctl.proc2,
				 &missing)) {
		format(err, errlen, "VMX lacks %s%s", (missing & PROC2_ENABLE_EPT) ? "EPT " : "",
		       (missing & PROC2_UNRESTRICTED_GUEST) ? "unrestricted guest" : "");
		return -1;
	}
	uint32_t exit_need = EXIT_HOST_64BIT | EXIT_LOAD_EFER | EXIT_SAVE_EFER;
	uint32_t entry_need = ENTRY_LOAD_EFER;
	if (!vmx_adjust_controls(rdmsr(true_msrs ? MSR_VMX_TRUE_EXIT : MSR_VMX_EXIT),
				 exit_need | EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_DEBUG,
				 exit_need, &ctl.exit, &missing) ||
	    !vmx_adjust_controls(rdmsr(true_msrs ? MSR_VMX_TRUE_ENTRY : MSR_VMX_ENTRY),
				 entry_need | ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG, entry_need,
				 &ctl.entry, &missing)) {
		format(err, errlen, "VMX cannot switch EFER on entry and exit (missing %#x)",
		       missing);
		return -1;
	}
	/* the guest starts outside long mode; the IA-32e bit is set per vCPU */
	ctl.entry &= ~ENTRY_IA32E_GUEST;

	uint64_t ept_cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	if (!(ept_cap & (1u << 6)) || !(ept_cap & (1u << 14))) {
		format(err, errlen, "EPT lacks 4-level walks or write-back tables");
		return -1;
	}
	invept_single = ept_cap & (1ull << 25);
	have_vpid = (ctl.proc2 & PROC2_ENABLE_VPID) && (ept_cap & (1ull << 32));
	invvpid_single = ept_cap & (1ull << 41);
	if (!have_vpid)
		ctl.proc2 &= ~PROC2_ENABLE_VPID;
	have_ple = ctl.proc2 & PROC2_PAUSE_LOOP_EXITING;
	if (have_ple)
		printk("hv: vmx: PAUSE-loop exiting (gap %u, window %u): spinning vCPUs exit and "
		       "give their core away\n", PLE_GAP, PLE_WINDOW);
	else
		printk("hv: vmx: no PAUSE-loop exiting: a spinning vCPU keeps its core until its "
		       "slice ends\n");

	cr0_fixed0 = rdmsr(MSR_VMX_CR0_FIXED0);
	cr0_fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
	cr4_fixed0 = rdmsr(MSR_VMX_CR4_FIXED0);
	cr4_fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);

	io_bitmaps_pa = frame_alloc_zeroed(2);
	msr_bitmap_pa = frame_alloc_zeroed(1);
	if (!io_bitmaps_pa || !msr_bitmap_pa) {
		format(err, errlen, "out of memory for VMX bitmaps");
		return -1;
	}
	memset(phys_to_virt(io_bitmaps_pa), 0xff, 2 * FRAME_SIZE); /* every port traps */
	uint8_t *bm = phys_to_virt(msr_bitmap_pa);
	memset(bm, 0xff, FRAME_SIZE);
	/*
	 * Writes to STAR and SFMASK exit too (msr_write checks them): a guest
	 * writes them once a boot, and an unload then need not read them back.
	 */
	for (unsigned i = 0; i < msr_guest_owned_count; i++) {
		uint32_t m = msr_guest_owned[i];
		bool writes = !msr_write_checked(m) && m != syscall_msr_index[SYSCALL_STAR] &&
			      m != syscall_msr_index[SYSCALL_SFMASK];
		msr_pass_through(bm, m, writes);
	}
	caps_ready = true;
	return 0;
}

static void vmx_serve_clears(void);
static void clear_interrupt(struct trap_frame *f);

static int vmx_cpu_enable(char *err, size_t errlen)
{
	const struct cpu_features *f = &host_cpu;
	struct cpu *c = this_cpu();

	if (!f->vmx) {
		format(err, errlen, "this CPU has no Intel VT-x (VMX)");
		return -1;
	}
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if ((fc & 1) && !(fc & 4)) {
		format(err, errlen, "VMX is disabled by firmware (IA32_FEATURE_CONTROL locked "
				    "without VMX): enable Intel Virtualization Technology in the "
				    "BIOS/UEFI setup");
		return -1;
	}
	if (!(fc & 1))
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc | 1 | 4); /* enable VMX, then lock */

	spin_lock(&vmx_lock);
	int r = caps_ready ? 0 : compute_caps(err, errlen);
	spin_unlock(&vmx_lock);
	if (r < 0)
		return -1;
	/* this core's state, allocated for the cores present */
	if (!c->hvm)
		c->hvm = kzalloc(sizeof(struct vmx_cpu));
	struct vmx_cpu *vc = c->hvm;
	if (!vc) {
		format(err, errlen, "out of memory for this core's VMX state");
		return -1;
	}
	if (vc->on)
		return 0;
	if (!vc->vmxon_pa && !(vc->vmxon_pa = frame_alloc_zeroed(1))) {
		format(err, errlen, "out of memory for the VMXON region");
		return -1;
	}
	*(uint32_t *)phys_to_virt(vc->vmxon_pa) = revision_id;
	for (unsigned i = 0; i < 5; i++)
		vc->syscall_msrs[i] = rdmsr(syscall_msr_index[i]);
	write_cr0(vmx_fix_cr(read_cr0(), cr0_fixed0, cr0_fixed1));
	write_cr4(vmx_fix_cr(read_cr4() | CR4_VMXE, cr4_fixed0, cr4_fixed1));
	if (!do_vmxon(vc->vmxon_pa)) {
		format(err, errlen, "VMXON failed");
		return -1;
	}
	vc->on = true;
	smp_set_answer_hook(vmx_serve_clears);
	irq_register(VECTOR_VMX_CLEAR, clear_interrupt);
	return 0;
}

static struct vmx_vcpu *vx(struct vcpu *v)
{
	return v->backend;
}

static int vmx_vcpu_create(struct vcpu *v, char *err, size_t errlen)
{
	struct vmx_vcpu *x = kzalloc(sizeof(*x));
	if (!x || !(x->vmcs_pa = frame_alloc_zeroed(1))) {
		kfree(x);
		format(err, errlen, "out of memory for a VMCS");
		return -1;
	}
	*(uint32_t *)phys_to_virt(x->vmcs_pa) = revision_id;
	x->active_cpu = -1;
	x->loaded_cpu = -1;
	x->host_cpu = -1;
	if (have_vpid) {
		spin_lock(&vmx_lock);
		x->vpid = next_vpid;
		next_vpid = next_vpid == 0xffff ? 1 : next_vpid + 1;
		spin_unlock(&vmx_lock);
	}
	v->backend = x;
	return 0;
}

/*
 * VMCLEAR on the core the VMCS is active on writes its cached state back,
 * after which another core may VMPTRLD it (SDM Vol. 3C §25.11.1, §25.11.3);
 * the next entry is a VMLAUNCH again. On this core, interrupts off.
 */
static void clear_here(struct vmx_cpu *vc, struct vmx_vcpu *x)
{
	for (struct vmx_vcpu **p = &vc->active; *p; p = &(*p)->next_active)
		if (*p == x) {
			*p = x->next_active;
			break;
		}
	do_vmclear(x->vmcs_pa);
	if (vc->current == x)
		vc->current = NULL; /* VMCLEAR of the current VMCS leaves none current */
	x->launched = false;
	x->next_active = NULL;
	__atomic_store_n(&x->want_clear, false, __ATOMIC_RELAXED);
	__atomic_store_n(&x->active_cpu, -1, __ATOMIC_RELEASE); /* after the VMCLEAR */
}

/*
 * The VMCLEARs other cores asked of this one: from their IPI, or from a
 * core's own wait with interrupts off (smp_answer_calls). None of these
 * VMCSs is in use here: their vCPUs were unloaded from this core first.
 */
static void vmx_serve_clears(void)
{
	struct vmx_cpu *vc = this_cpu()->hvm;
	if (!vc || !__atomic_exchange_n(&vc->clear_asked, false, __ATOMIC_ACQ_REL))
		return;
	uint64_t flags;
	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags)::"memory");
	for (struct vmx_vcpu *x = vc->active, *next; x; x = next) {
		next = x->next_active;
		if (__atomic_load_n(&x->want_clear, __ATOMIC_ACQUIRE))
			clear_here(vc, x);
	}
	if (flags & (1u << 9))
		irq_enable();
}

static void clear_interrupt(struct trap_frame *f)
{
	(void)f;
	vmx_serve_clears();
}

/*
 * Leaves x's VMCS clear and active nowhere, so that this core may VMPTRLD
 * it: a VMCLEAR here, or asked of the core it is active on (an IPI) and
 * waited for. Any interrupt state; the wait answers other cores' calls, so
 * two cores waiting on each other both go on. False if that core did not
 * answer in time: the VMCS cannot be used (or freed) safely.
 */
static bool release_active(struct vmx_vcpu *x)
{
	uint64_t flags;
	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags)::"memory");
	struct cpu *c = this_cpu();
	int cpu = __atomic_load_n(&x->active_cpu, __ATOMIC_ACQUIRE);
	bool ok = true;
	if (cpu == (int)c->index) {
		clear_here(c->hvm, x);
	} else if (cpu >= 0) {
		struct vmx_cpu *o = cpus[cpu]->hvm;
		__atomic_store_n(&x->want_clear, true, __ATOMIC_RELEASE);
		__atomic_store_n(&o->clear_asked, true, __ATOMIC_RELEASE);
		lapic_send_ipi(cpus[cpu]->apic_id, ICR_FIXED | VECTOR_VMX_CLEAR);
		uint64_t give_up = rdtsc() + 5000 * tsc_khz();
		while (__atomic_load_n(&x->active_cpu, __ATOMIC_ACQUIRE) >= 0) {
			if ((int64_t)(rdtsc() - give_up) >= 0) {
				printk("hv: vmx: CPU %d did not VMCLEAR a VMCS for CPU %u in 5 s\n",
				       cpu, c->index);
				ok = false;
				break;
			}
			smp_answer_calls();
			__asm__ volatile("pause");
		}
	}
	if (flags & (1u << 9))
		irq_enable();
	return ok;
}

/*
 * The vCPU leaves this core: its KernelGSbase read back (the other SYSCALL
 * MSRs are current in its copy). Its VMCS stays active here, and current
 * until another is loaded.
 */
static void vmx_vcpu_unload(struct vcpu *v)
{
	struct vmx_vcpu *x = vx(v);
	struct cpu *c = this_cpu();
	if (x->loaded_cpu != (int)c->index)
		return;
	struct vmx_cpu *vc = c->hvm;
	/* the only SYSCALL MSR the guest changes without an exit */
	x->syscall_msrs[SYSCALL_KGS] = vc->syscall_msrs[SYSCALL_KGS] =
	    rdmsr(syscall_msr_index[SYSCALL_KGS]);
	x->loaded_cpu = -1;
}

static void vmx_vcpu_destroy(struct vcpu *v)
{
	struct vmx_vcpu *x = vx(v);
	if (!x)
		return;
	/* active on a core, the CPU may still write it back: leaked rather than reused */
	if (release_active(x))
		frame_free(&host_frames, x->vmcs_pa);
	kfree(x);
	v->backend = NULL;
}

static void vmx_set_entry_state(struct vcpu *v, const struct vcpu_entry_state *s)
{
	vx(v)->entry = *s;
	vx(v)->initialised = false; /* written into the VMCS on the vCPU's core */
	vx(v)->intr_state = 0;	    /* init_vmcs writes it so: nothing blocked */
	vx(v)->pending_event = 0;
	vx(v)->want_nmi_window = false;
	v->regs.rip = s->rip;
	v->regs.rflags = s->rflags;
	v->regs.gpr[X86_RSP] = s->rsp;
}

static void vmx_set_nested_root(struct vcpu *v, uint64_t root)
{
	vx(v)->ept_root = root;
}

/* Access rights: the SVM-style compressed attributes, spread out (Vol. 3C §25.4.1). */
static uint32_t access_rights(uint16_t attrib)
{
	if (!(attrib & 0x80))
		return 1u << 16; /* not present: unusable */
	return (attrib & 0xffu) | ((uint32_t)(attrib & 0xf00u) << 4);
}

static void write_seg(unsigned sel, unsigned limit, unsigned ar, unsigned base,
		      const struct seg_state *s)
{
	vmwrite(sel, s->selector);
	vmwrite(limit, s->limit);
	vmwrite(ar, access_rights(s->attrib));
	vmwrite(base, s->base);
}

static void write_guest_cr0(uint64_t cr0)
{
	/* the guest sees its own value; the CPU runs with the bits VMX fixes (NE) */
	uint64_t fixed0 = cr0_fixed0 & ~(CR0_PE_BIT | CR0_PG_BIT); /* unrestricted guest */
	vmwrite(VMCS_CR0_SHADOW, cr0);
	vmwrite(VMCS_GUEST_CR0, vmx_fix_cr(cr0, fixed0, cr0_fixed1));
}

static void write_guest_cr4(uint64_t cr4)
{
	vmwrite(VMCS_CR4_SHADOW, cr4);
	vmwrite(VMCS_GUEST_CR4, vmx_fix_cr(cr4, cr4_fixed0, cr4_fixed1));
}

/*
 * What the guest reads from CR0/CR4 (Vol. 3C §25.6.6): the bits the
 * guest/host mask gives the hypervisor come from the read shadow, the rest
 * from the guest field, which the guest changes without an exit (an AP that
 * sets CR4.PAE and CR0.PG on its way to long mode never exits for them).
 */
static uint64_t live_cr(unsigned guest_field, unsigned mask_field, unsigned shadow_field)
{
	uint64_t mask = vmread(mask_field);
	return (vmread(guest_field) & ~mask) | (vmread(shadow_field) & mask);
}

static uint64_t live_cr0(void)
{
	return live_cr(VMCS_GUEST_CR0, VMCS_CR0_MASK, VMCS_CR0_SHADOW);
}

static uint64_t live_cr4(void)
{
	return live_cr(VMCS_GUEST_CR4, VMCS_CR4_MASK, VMCS_CR4_SHADOW);
}

/* IA-32e mode follows EFER.LME and CR0.PG (Vol. 3C §26.3.1.1) */
static void update_long_mode(void)
{
	uint64_t efer = vmread(VMCS_GUEST_EFER);
	uint32_t entry = (uint32_t)vmread(VMCS_ENTRY_CONTROLS);
	bool lma = (efer & EFER_LME) && (live_cr0() & CR0_PG_BIT);
	efer = lma ? efer | EFER_LMA : efer & ~(uint64_t)EFER_LMA;
	entry = lma ? entry | ENTRY_IA32E_GUEST : entry & ~ENTRY_IA32E_GUEST;
	vmwrite(VMCS_GUEST_EFER, efer);
	vmwrite(VMCS_ENTRY_CONTROLS, entry);
}

static void write_host_state(void)
{
	struct cpu *c = this_cpu();
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr;
	__asm__ volatile("sidt %0" : "=m"(idtr));

	vmwrite(VMCS_HOST_CR0, read_cr0());
	vmwrite(VMCS_HOST_CR3, read_cr3());
	vmwrite(VMCS_HOST_CR4, read_cr4());
	vmwrite(VMCS_HOST_CS_SEL, KERNEL_CS);
	vmwrite(VMCS_HOST_SS_SEL, KERNEL_DS);
	vmwrite(VMCS_HOST_DS_SEL, KERNEL_DS);
	vmwrite(VMCS_HOST_ES_SEL, KERNEL_DS);
	vmwrite(VMCS_HOST_FS_SEL, 0);
	vmwrite(VMCS_HOST_GS_SEL, 0);
	vmwrite(VMCS_HOST_TR_SEL, KERNEL_TSS);
	vmwrite(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmwrite(VMCS_HOST_GS_BASE, (uint64_t)c);
	vmwrite(VMCS_HOST_TR_BASE, (uint64_t)&c->tss);
	vmwrite(VMCS_HOST_GDTR_BASE, (uint64_t)c->gdt);
	vmwrite(VMCS_HOST_IDTR_BASE, idtr.base);
	vmwrite(VMCS_HOST_SYSENTER_CS, 0);
	vmwrite(VMCS_HOST_SYSENTER_ESP, 0);
	vmwrite(VMCS_HOST_SYSENTER_EIP, 0);
	vmwrite(VMCS_HOST_EFER, rdmsr(MSR_EFER));
	vmwrite(VMCS_HOST_PAT, rdmsr(MSR_PAT_NUM));
}

/* Writes every field of a fresh VMCS; runs on the vCPU's core with it current. */
static void init_vmcs(struct vcpu *v)
{
	struct vmx_vcpu *x = vx(v);
	const struct vcpu_entry_state *s = &x->entry;

	vmwrite(VMCS_PIN_CONTROLS, ctl.pin);
	vmwrite(VMCS_PROC_CONTROLS, ctl.proc);
	vmwrite(VMCS_TSC_OFFSET, 0); /* the guest starts on the host's TSC */
	vmwrite(VMCS_PROC_CONTROLS2, ctl.proc2);
	if (have_ple) {
		vmwrite(VMCS_PLE_GAP, PLE_GAP);
		vmwrite(VMCS_PLE_WINDOW, PLE_WINDOW);
	}
	vmwrite(VMCS_EXIT_CONTROLS, ctl.exit);
	vmwrite(VMCS_ENTRY_CONTROLS, ctl.entry);
	vmwrite(VMCS_EXCEPTION_BITMAP, 0);
	vmwrite(VMCS_CR3_TARGET_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
	vmwrite(VMCS_IO_BITMAP_A, io_bitmaps_pa);
	vmwrite(VMCS_IO_BITMAP_B, io_bitmaps_pa + FRAME_SIZE);
	vmwrite(VMCS_MSR_BITMAP, msr_bitmap_pa);
	vmwrite(VMCS_EPT_POINTER, vmx_eptp(x->ept_root));
	if (have_vpid)
		vmwrite(VMCS_VPID, x->vpid);
	vmwrite(VMCS_LINK_POINTER, ~0ull);
	/* CR0.NE and CR4.VMXE are VMX's: guest writes to them exit, reads see the shadow */
	vmwrite(VMCS_CR0_MASK, cr0_fixed0 & ~(CR0_PE_BIT | CR0_PG_BIT));
	vmwrite(VMCS_CR4_MASK, cr4_fixed0);

	write_seg(VMCS_GUEST_CS_SEL, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_AR, VMCS_GUEST_CS_BASE,
		  &s->cs);
	write_seg(VMCS_GUEST_DS_SEL, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_AR, VMCS_GUEST_DS_BASE,
		  &s->ds);
	write_seg(VMCS_GUEST_ES_SEL, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR, VMCS_GUEST_ES_BASE,
		  &s->es);
	write_seg(VMCS_GUEST_FS_SEL, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_FS_AR, VMCS_GUEST_FS_BASE,
		  &s->fs);
	write_seg(VMCS_GUEST_GS_SEL, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_GS_AR, VMCS_GUEST_GS_BASE,
		  &s->gs);
	write_seg(VMCS_GUEST_SS_SEL, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR, VMCS_GUEST_SS_BASE,
		  &s->ss);
	write_seg(VMCS_GUEST_TR_SEL, VMCS_GUEST_TR_LIMIT, VMCS_GUEST_TR_AR, VMCS_GUEST_TR_BASE,
		  &s->tr);
	write_seg(VMCS_GUEST_LDTR_SEL, VMCS_GUEST_LDTR_LIMIT, VMCS_GUEST_LDTR_AR,
		  VMCS_GUEST_LDTR_BASE, &s->ldtr);
	vmwrite(VMCS_GUEST_GDTR_BASE, s->gdtr_base);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, s->gdtr_limit);
	vmwrite(VMCS_GUEST_IDTR_BASE, s->idtr_base);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, s->idtr_limit);
	vmwrite(VMCS_GUEST_CR3, s->cr3);
	vmwrite(VMCS_GUEST_EFER, s->efer);
	write_guest_cr0(s->cr0);
	write_guest_cr4(s->cr4);
	update_long_mode();
	vmwrite(VMCS_GUEST_DR7, 0x400);
	vmwrite(VMCS_GUEST_DEBUGCTL, 0);
	vmwrite(VMCS_GUEST_PAT, 0x0007040600070406ull);
	vmwrite(VMCS_GUEST_SYSENTER_CS, 0);
	vmwrite(VMCS_GUEST_SYSENTER_ESP, 0);
	vmwrite(VMCS_GUEST_SYSENTER_EIP, 0);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmwrite(VMCS_GUEST_ACTIVITY, 0);
	vmwrite(VMCS_GUEST_PENDING_DBG, 0);
	x->initialised = true;
}

static void vmx_get_control(struct vcpu *v, struct vcpu_control_state *c)
{
	(void)v; /* its VMCS is the current one: this runs in its exit */
	uint32_t cs_ar = (uint32_t)vmread(VMCS_GUEST_CS_AR);

	c->cr0 = live_cr0();
	c->cr3 = vmread(VMCS_GUEST_CR3);
	c->cr4 = live_cr4();
	c->efer = vmread(VMCS_GUEST_EFER);
	c->cpl = (vmread(VMCS_GUEST_SS_AR) >> 5) & 3;
	c->cs_long = (cs_ar >> 13) & 1;
	c->cs_db = (cs_ar >> 14) & 1;
	c->cs_base = vmread(VMCS_GUEST_CS_BASE);
}

/* Guest segment fields go in Sreg order, two encodings apart (SDM Vol. 3C App. B). */
static void vmx_get_segment(struct vcpu *v, unsigned sreg, struct seg_state *s)
{
	(void)v; /* runs in an exit handler, on the vCPU's core */
	unsigned i = 2 * (sreg < 6 ? sreg : 0);
	uint32_t ar = (uint32_t)vmread(VMCS_GUEST_ES_AR + i);

	s->selector = (uint16_t)vmread(VMCS_GUEST_ES_SEL + i);
	s->limit = (uint32_t)vmread(VMCS_GUEST_ES_LIMIT + i);
	s->base = vmread(VMCS_GUEST_ES_BASE + i);
	/* back to the compressed layout; "unusable" (bit 16) reads as not present */
	s->attrib = (uint16_t)((ar & 0xff) | ((ar >> 4) & 0xf00));
	if (ar & (1u << 16))
		s->attrib &= (uint16_t)~0x80u;
}

static void vmx_set_cr2(struct vcpu *v, uint64_t cr2)
{
	vx(v)->cr2 = cr2;
}

static uint64_t vmx_get_efer(struct vcpu *v)
{
	(void)v;
	return vmread(VMCS_GUEST_EFER);
}

static void vmx_set_efer(struct vcpu *v, uint64_t efer)
{
	uint64_t old = vmread(VMCS_GUEST_EFER);
	(void)v;
	vmwrite(VMCS_GUEST_EFER, (efer & ~(uint64_t)EFER_LMA) | (old & EFER_LMA));
	update_long_mode();
}

static uint64_t vmx_get_pat(struct vcpu *v)
{
	(void)v;
	return vmread(VMCS_GUEST_PAT);
}

static void vmx_set_pat(struct vcpu *v, uint64_t pat)
{
	(void)v;
	vmwrite(VMCS_GUEST_PAT, pat);
}

/*
 * FS/GS bases and the SYSENTER MSRs live in the VMCS guest area; the SYSCALL
 * MSRs and KernelGSbase in the core's own MSRs while the vCPU is loaded (it
 * is: this runs in its exit), and in the vCPU's copy, which an unload need
 * then not read back (KernelGSbase excepted: SWAPGS changes it).
 */
static void vmx_set_owned_msr(struct vcpu *v, uint32_t msr, uint64_t value)
{
	struct vmx_vcpu *x = vx(v);
	struct vmx_cpu *vc = this_cpu()->hvm;
	switch (msr) {
	case 0xc0000100: vmwrite(VMCS_GUEST_FS_BASE, value); break;
	case 0xc0000101: vmwrite(VMCS_GUEST_GS_BASE, value); break;
	case 0x174: vmwrite(VMCS_GUEST_SYSENTER_CS, value); break;
	case 0x175: vmwrite(VMCS_GUEST_SYSENTER_ESP, value); break;
	case 0x176: vmwrite(VMCS_GUEST_SYSENTER_EIP, value); break;
	default:
		for (unsigned i = 0; i < 5; i++)
			if (syscall_msr_index[i] == msr) {
				wrmsr(msr, value);
				x->syscall_msrs[i] = vc->syscall_msrs[i] = value;
			}
		break;
	}
}

static void vmx_set_tsc_offset(struct vcpu *v, uint64_t offset)
{
	(void)v;
	vmwrite(VMCS_TSC_OFFSET, offset);
}

static void vmx_inject_event(struct vcpu *v, enum event_type type, uint8_t vector, bool has_error,
			     uint32_t error_code)
{
	struct vmx_vcpu *x = vx(v);
	uint32_t info = vector | INTR_INFO_VALID;
	if (type == EVENT_NMI)
		info |= INTR_TYPE_NMI;
	else if (type == EVENT_EXCEPTION)
		info |= INTR_TYPE_EXCEPTION;
	if (has_error)
		info |= INTR_INFO_DELIVER_ERROR;
	x->pending_event = info;
	x->pending_error = error_code;
}

static void vmx_clear_interrupt_shadow(struct vcpu *v)
{
	struct vmx_vcpu *x = vx(v); /* runs in an exit handler, on the vCPU's core */
	if (x->intr_state & (GUEST_INTR_STI | GUEST_INTR_MOV_SS)) {
		x->intr_state &= ~(GUEST_INTR_STI | GUEST_INTR_MOV_SS);
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY, x->intr_state);
	}
}

/*
 * These read the interruptibility state kept at the last exit, not the VMCS:
 * between runs the vCPU's VMCS need not be current on this core (another
 * vCPU's may be, or none after VMCLEAR), and before its first entry nothing
 * blocks.
 */
static bool vmx_interrupt_ready(struct vcpu *v)
{
	struct vmx_vcpu *x = vx(v);
	if (!(v->regs.rflags & (1u << 9)) || x->pending_event)
		return false;
	return !(x->intr_state & (GUEST_INTR_STI | GUEST_INTR_MOV_SS));
}

static bool vmx_nmi_blocked(struct vcpu *v)
{
	return vx(v)->intr_state & GUEST_INTR_NMI;
}

/*
 * Not with NMI blocking, nor in a MOV SS shadow (VM entry refuses to inject
 * an NMI there, Vol. 3C §27.3.1.5); STI blocking may or may not hold NMIs
 * off, model-specific: it holds them here, as in KVM.
 */
static bool vmx_nmi_ready(struct vcpu *v)
{
	struct vmx_vcpu *x = vx(v);
	return !x->pending_event &&
	       !(x->intr_state & (GUEST_INTR_STI | GUEST_INTR_MOV_SS | GUEST_INTR_NMI));
}

static bool vmx_set_nmi_window(struct vcpu *v, bool on)
{
	vx(v)->want_nmi_window = on && have_vnmi;
	return have_vnmi || !on;
}

static void vmx_set_interrupt_window(struct vcpu *v, bool on)
{
	vx(v)->want_window = on; /* applied on the vCPU's core before entry */
}

/*
 * MOV to CR0/CR4 that touched a bit VMX owns (Vol. 3C §27.2.1 Table 28-3):
 * handled here, the guest never sees it. Returns false if not emulated.
 */
static bool handle_cr_access(struct vcpu *v, uint64_t qual)
{
	unsigned cr = qual & 15, type = (qual >> 4) & 3, reg = (qual >> 8) & 15;
	uint64_t value = v->regs.gpr[reg];

	if (type == 0 && cr == 0) {
		write_guest_cr0(value);
		update_long_mode();
	} else if (type == 0 && cr == 4) {
		write_guest_cr4(value);
	} else if (type == 3 && cr == 0) { /* LMSW: the low four bits, PE cannot be cleared */
		uint64_t src = (qual >> 16) & 0xffff;
		uint64_t old = live_cr0();
		uint64_t cr0 = (old & ~0xeull) | (src & 0xf) | (old & 1);
		write_guest_cr0(cr0);
	} else if (type == 2) { /* CLTS */
		write_guest_cr0(live_cr0() & ~8ull);
	} else {
		return false;
	}
	v->regs.rip += vmread(VMCS_EXIT_INSN_LEN);
	return true;
}

/* False if the VMCS could not be had on this core (release_active). */
static bool make_current(struct vcpu *v)
{
	struct vmx_vcpu *x = vx(v);
	struct cpu *c = this_cpu();
	struct vmx_cpu *vc = c->hvm;
	int me = (int)c->index;

	if (x->loaded_cpu != me) {
		if (x->active_cpu != me) {
			/*
			 * New, or active on another core: VMCLEARed there, then here
			 * (a new VMCS needs the clear launch state before VMPTRLD,
			 * Vol. 3C §25.11.3), and active here from now on.
			 */
			if (!release_active(x))
				return false;
			do_vmclear(x->vmcs_pa);
			x->launched = false;
			x->next_active = vc->active;
			vc->active = x;
			__atomic_store_n(&x->active_cpu, me, __ATOMIC_RELEASE);
		}
		/* only what differs from what the core holds (another vCPU's, or its own) */
		for (unsigned i = 0; i < 5; i++)
			if (vc->syscall_msrs[i] != x->syscall_msrs[i]) {
				wrmsr(syscall_msr_index[i], x->syscall_msrs[i]);
				vc->syscall_msrs[i] = x->syscall_msrs[i];
			}
		x->loaded_cpu = me;
	}
	if (vc->current != x) {
		do_vmptrld(x->vmcs_pa);
		vc->current = x;
	}
	if (!x->initialised)
		init_vmcs(v);
	if (x->host_cpu != me) {
		write_host_state();
		/* translations cached for this EPT and VPID elsewhere, or stale: drop them */
		invept(invept_single ? 1 : 2, vmx_eptp(x->ept_root));
		if (have_vpid)
			invvpid(invvpid_single ? 1 : 2, x->vpid);
		x->host_cpu = me;
	}
	/* the EPT lost or changed a mapping since this vCPU last entered (vm->nested_gen) */
	uint32_t gen = __atomic_load_n(&v->vm->nested_gen, __ATOMIC_ACQUIRE);
	if (v->nested_seen != gen) {
		invept(invept_single ? 1 : 2, vmx_eptp(x->ept_root));
		v->nested_seen = gen;
	}
	return true;
}

/*
 * An IRET that unblocked virtual NMIs and then faulted (an exception or EPT
 * violation that exits) runs again on resumption; until it completes, NMIs
 * stay blocked (Vol. 3C §28.2.3, bit 12 of the exit information or
 * qualification).
 */
static void reblock_nmis_after_faulting_iret(struct vmx_vcpu *x, uint32_t reason)
{
	bool unblocked = false;
	if (!have_vnmi)
		return;
	if ((reason & 0xffff) == VMX_EXIT_EXCEPTION_NMI)
		unblocked = (uint32_t)vmread(VMCS_EXIT_INTR_INFO) & INTR_INFO_NMI_UNBLOCKED_BY_IRET;
	else if ((reason & 0xffff) == VMX_EXIT_EPT_VIOLATION)
		unblocked = vmread(VMCS_EXIT_QUALIFICATION) & INTR_INFO_NMI_UNBLOCKED_BY_IRET;
	if (unblocked) {
		x->intr_state |= GUEST_INTR_NMI;
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY, x->intr_state);
	}
}

/*
 * The exit fast path (kernel/vm/fastpath.h) on VT-x, with VMREADs only of
 * what CPUID, WRMSR and port I/O need: RSP and RFLAGS stay in the VMCS while the
 * fast loop goes round, as does CR2 in the register. No IDT-vectoring
 * information to look at: those exits come from an instruction, never from
 * an event's delivery (SDM Vol. 3C §28.2.4).
 */
enum { FAST_NO, FAST_AGAIN, FAST_OUT };

static int fast_exit(struct vcpu *v, struct vmx_vcpu *x, struct vm_exit *e)
{
	uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	if (reason == VMX_EXIT_CPUID) {
		e->reason = EXIT_CPUID;
	} else if (reason == VMX_EXIT_WRMSR) {
		e->reason = EXIT_MSR_WRITE;
		e->msr.index = (uint32_t)v->regs.gpr[X86_RCX];
	} else if (reason == VMX_EXIT_IO) {
		uint64_t qual = vmread(VMCS_EXIT_QUALIFICATION);
		if (qual & (1u << 4))
			return FAST_NO; /* INS/OUTS: the emulator's */
		e->reason = EXIT_IO;
		e->io.size = (uint8_t)((qual & 7) + 1);
		e->io.in = (qual >> 3) & 1;
		e->io.string = false;
		e->io.port = (uint16_t)(qual >> 16);
	} else {
		return FAST_NO;
	}
	x->launched = true;
	e->insn_len = (unsigned)vmread(VMCS_EXIT_INSN_LEN);
	v->regs.rip = vmread(VMCS_GUEST_RIP);
	exitprof_mark(v, XP_DECODED);
	/* the handler runs with host interrupts on, as the loop runs handlers */
	irq_enable();
	bool done = fastpath_handle(v, e);
	irq_disable();
	if (!done)
		return FAST_NO; /* the slow path reads it all again */
	x->intr_state = (uint32_t)vmread(VMCS_GUEST_INTERRUPTIBILITY);
	vmx_clear_interrupt_shadow(v); /* as skipping an instruction does */
	if (exitprof_on) {
		exitprof_reason(v, e->reason, true);
		exitprof_mark(v, XP_HANDLED);
	}
	if (fastpath_may_reenter(v)) {
		vmwrite(VMCS_GUEST_RIP, v->regs.rip);
		return FAST_AGAIN;
	}
	/* handled: the loop goes round without a dispatch, with the registers it expects */
	x->cr2 = read_cr2();
	v->regs.gpr[X86_RSP] = vmread(VMCS_GUEST_RSP);
	v->regs.rflags = vmread(VMCS_GUEST_RFLAGS);
	e->reason = EXIT_NONE;
	e->raw_reason = reason;
	return FAST_OUT;
}

static void vmx_vcpu_run(struct vcpu *v, struct vm_exit *exit)
{
	struct vmx_vcpu *x = vx(v);

	if (!make_current(v)) {
		printk("vm %s: vCPU %u: its VMCS is still active on another core: not run\n",
		       v->vm->name, v->id);
		memset(exit, 0, sizeof(*exit));
		exit->reason = EXIT_INVALID_STATE;
		return;
	}
	for (;;) {
		vmwrite(VMCS_GUEST_RSP, v->regs.gpr[X86_RSP]);
		vmwrite(VMCS_GUEST_RIP, v->regs.rip);
		vmwrite(VMCS_GUEST_RFLAGS, v->regs.rflags);
		vmwrite(VMCS_PROC_CONTROLS, ctl.proc |
					    (x->want_window ? PROC_INTERRUPT_WINDOW : 0) |
					    (x->want_nmi_window ? PROC_NMI_WINDOW : 0));
		if (x->pending_event) {
			/*
			 * Injecting an NMI needs virtual-NMI blocking clear (Vol. 3C
			 * §27.3.1.5); it is set again as the NMI is delivered. One
			 * re-injected after an exit cut its delivery short may find
			 * it set (KVM clears it there too).
			 */
			if ((x->pending_event & INTR_TYPE_MASK) == INTR_TYPE_NMI &&
			    (x->intr_state & GUEST_INTR_NMI) && have_vnmi) {
				x->intr_state &= ~GUEST_INTR_NMI;
				vmwrite(VMCS_GUEST_INTERRUPTIBILITY, x->intr_state);
			}
			vmwrite(VMCS_ENTRY_INTR_INFO, x->pending_event);
			vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, x->pending_error);
			x->pending_event = 0;
		}
		/* the guest's CR2 back in the register (a write only when it differs) */
		if (read_cr2() != x->cr2)
			write_cr2(x->cr2);
		int failed, fast;
		do {
			exitprof_mark(v, XP_ENTER);
			failed = vmx_enter(&v->regs, x->launched);
			exitprof_mark(v, XP_EXITED);
			fast = failed || !fastpath_on ? FAST_NO : fast_exit(v, x, exit);
		} while (fast == FAST_AGAIN);
		if (fast == FAST_OUT)
			return;
		if (failed) {
			unsigned err = (unsigned)vmread(VMCS_INSN_ERROR);
			printk("vm %s: vCPU %u: VM entry failed: %s (VM-instruction error %u)\n",
			       v->vm->name, v->id, vmx_insn_error_text(err), err);
			memset(exit, 0, sizeof(*exit));
			exit->reason = EXIT_INVALID_STATE;
			exit->raw_reason = 0x80000000u | err;
			return;
		}
		x->launched = true;
		x->cr2 = read_cr2();
		v->regs.gpr[X86_RSP] = vmread(VMCS_GUEST_RSP);
		v->regs.rip = vmread(VMCS_GUEST_RIP);
		v->regs.rflags = vmread(VMCS_GUEST_RFLAGS);

		x->intr_state = (uint32_t)vmread(VMCS_GUEST_INTERRUPTIBILITY);

		/*
		 * An event cut short by this exit is delivered again (Vol. 3C §28.2.4);
		 * one an instruction raised is raised again by running it again
		 * (vm_event_is_soft).
		 */
		uint32_t idt = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);
		if ((idt & INTR_INFO_VALID) && !vm_event_is_soft(idt)) {
			x->pending_event = idt & ~(1u << 12);
			x->pending_error = (uint32_t)vmread(VMCS_IDT_VECTORING_ERROR);
		}

		uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
		if (!(idt & INTR_INFO_VALID))
			reblock_nmis_after_faulting_iret(x, reason);
		if ((reason & 0xffff) == VMX_EXIT_CR_ACCESS &&
		    handle_cr_access(v, vmread(VMCS_EXIT_QUALIFICATION)))
			continue; /* VMX's own business: the core never hears of it */
		vmx_decode_exit(v, reason, exit);
		if (exit->reason == EXIT_NMI)
			__asm__ volatile("int $2"); /* the NMI was the host's: run its handler */
		return;
	}
}

static void vmx_get_debug_state(struct vcpu *v, struct vcpu_debug_state *d)
{
	struct vmx_vcpu *x = vx(v);

	*d = (struct vcpu_debug_state){
	    .inject_info = x->pending_event,
	    .inject_error = x->pending_event ? x->pending_error : 0,
	    .intr_shadow = x->intr_state & (GUEST_INTR_STI | GUEST_INTR_MOV_SS),
	    .nmi_blocked = x->intr_state & GUEST_INTR_NMI,
	    .cr2 = x->cr2,
	    .idtr_base = vmread(VMCS_GUEST_IDTR_BASE),
	    .gdtr_base = vmread(VMCS_GUEST_GDTR_BASE),
	    .idtr_limit = (uint16_t)vmread(VMCS_GUEST_IDTR_LIMIT),
	    .gdtr_limit = (uint16_t)vmread(VMCS_GUEST_GDTR_LIMIT),
	};
}

static int vmx_build_nested(const struct gpa_map *m, struct pagetable *pt)
{
	return ept_build(m, pt, host_cpu.ept_1g && host_cpu.gbpages);
}

static int vmx_map_mmio(struct pagetable *pt, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	return ept_map_mmio(pt, gpa, hpa, size);
}

/*
 * Secondary controls this backend turned on (Vol. 3C §25.6.2): without
 * "enable RDTSCP" RDTSCP and RDPID are #UD, without "enable INVPCID" INVPCID
 * is #UD (and with INVLPG exiting, which the TRUE MSRs let us clear, it
 * would exit instead), without "enable XSAVES/XRSTORS" those are #UD.
 */
static void vmx_guest_caps(struct hvm_guest_caps *caps)
{
	caps->rdtscp = ctl.proc2 & PROC2_ENABLE_RDTSCP;
	caps->invpcid = (ctl.proc2 & PROC2_ENABLE_INVPCID) && !(ctl.proc & PROC_INVLPG_EXITING);
	caps->xsaves = ctl.proc2 & PROC2_ENABLE_XSAVES;
}

const struct hvm_ops vmx_ops = {
    .name = "vmx",
    .cpu_enable = vmx_cpu_enable,
    .vcpu_create = vmx_vcpu_create,
    .vcpu_destroy = vmx_vcpu_destroy,
    .vcpu_unload = vmx_vcpu_unload,
    .vcpu_set_entry_state = vmx_set_entry_state,
    .vcpu_run = vmx_vcpu_run,
    .vcpu_get_control = vmx_get_control,
    .get_segment = vmx_get_segment,
    .set_cr2 = vmx_set_cr2,
    .get_efer = vmx_get_efer,
    .set_efer = vmx_set_efer,
    .set_tsc_offset = vmx_set_tsc_offset,
    .set_owned_msr = vmx_set_owned_msr,
    .get_pat = vmx_get_pat,
    .set_pat = vmx_set_pat,
    .inject_event = vmx_inject_event,
    .clear_interrupt_shadow = vmx_clear_interrupt_shadow,
    .interrupt_ready = vmx_interrupt_ready,
    .set_interrupt_window = vmx_set_interrupt_window,
    .nmi_blocked = vmx_nmi_blocked,
    .nmi_ready = vmx_nmi_ready,
    .set_nmi_window = vmx_set_nmi_window,
    .build_nested = vmx_build_nested,
    .map_mmio = vmx_map_mmio,
    .set_nested_root = vmx_set_nested_root,
    .get_debug_state = vmx_get_debug_state,
    .guest_caps = vmx_guest_caps,
};
