#include "kernel/vm/vplatform.h"
#include "kernel/vm/fastpath.h"

#include "kernel/sched/sched.h"

#include "drivers/lapic.h"
#include "guest/apic_bus.h"
#include "guest/pci/msi.h"
#include "guest/vhpet.h"
#include "guest/vioapic.h"
#include "guest/vlapic.h"
#include "guest/vpic.h"
#include "guest/vpit.h"
#include "guest/vrtc.h"
#include "include/x86.h"
#include "kernel/config/vmconfig.h"
#include "kernel/cpu/idt.h"
#include "kernel/cpu/percpu.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/time/tsc.h"
#include "kernel/time/wallclock.h"

/* What a local APIC's callbacks get: its platform and which vCPU's it is. */
struct lapic_ctx {
	struct vplatform *p;
	unsigned index;
};

/* What the platform keeps for each vCPU besides its local APIC. */
struct vp_cpu {
	struct lapic_ctx lapic_ctx; /* the VM's own: never shared with another VM */
	struct {
		uint64_t generation;
		uint64_t due_tsc; /* the earliest chip deadline, as host TSC */
	} quiet;
	volatile bool startup_sent; /* an INIT or SIPI reached that vCPU's local APIC */
	volatile bool nmi_sent;	    /* an NMI reached it: vplatform_take_nmis looks */
};

/*
 * The per-vCPU parts (cpu, lapic, targets) are allocated for the VM's
 * vCPUs, behind the struct: a 1-vCPU VM pays for one, a 64-vCPU VM for 64.
 */
struct vplatform {
	struct vm *vm;
	unsigned ncpus;
	size_t bytes;		/* of the one allocation holding all this */
	struct vp_cpu *cpu;	/* [ncpus] */
	struct vlapic *lapic;	/* [ncpus], contiguous: the APIC bus walks them */
	uint64_t *targets;	/* APIC_BUS_WORDS(ncpus): one message's destination set */
	spinlock_t lock; /* one lock for the VM's chips: vCPUs share them */
	uint64_t t0;	 /* host TSC at guest time 0 */
	/*
	 * Bumped by everything that may change what is pending: device accesses,
	 * interrupt lines, IPIs. With it unchanged and no timer due, a vCPU's
	 * entry skips the chips altogether (the VM-exit path's common case).
	 */
	volatile uint64_t generation;
	unsigned lowest_rotor;		      /* lowest-priority arbitration's tie-break */
	struct vpic pic;
	struct vpit pit;
	struct vrtc rtc;
	struct vhpet hpet;
	bool has_hpet;
	/*
	 * ISA IRQ 0 and 8 each have two sources: the PIT or HPET timer 0, the
	 * RTC or HPET timer 1; the HPET's legacy replacement mode picks (IA-PC
	 * HPET 1.0a §2.4.3). Each source's output, and what the lines carry.
	 */
	bool pit_out, rtc_out, hpet_irq0, hpet_irq8;
	bool irq0_level, irq8_level;
	struct vioapic ioapic;
	uint32_t bus_gsis; /* IOAPIC pins the VM's PCI bus drives (vplatform_set_gsi) */
	uint32_t pt_gsis;  /* pins passed-through INTx drives until the guest's EOI */
	uint8_t rst_cnt;       /* 0xcf9 */
	uint64_t msi_dropped; /* MSI messages no APIC would take */
	uint16_t pm1_status, pm1_enable, pm1_control;
	uint8_t kbd_status;
};

static struct vplatform *vp_of(const struct vm *vm)
{
	return vm->platform;
}

uint64_t vplatform_now(const struct vm *vm)
{
	const struct vplatform *p = vp_of(vm);
	uint64_t d = rdtsc() - p->t0, khz = tsc_khz();
	/* in two parts: d * 10^6 alone overflows after 2^64 / 10^6 cycles (about 2 h at 2.5 GHz) */
	return d / khz * 1000000 + d % khz * 1000000 / khz;
}

uint64_t vplatform_t0(const struct vm *vm)
{
	return vp_of(vm)->t0;
}

uint64_t vplatform_ns_to_tsc(const struct vm *vm, uint64_t ns)
{
	return vp_of(vm)->t0 + ns / 1000 * tsc_khz() / 1000 + 1;
}

/* ---- interrupt routing ---- */

static void deliver_to_lapics(struct vplatform *p, const struct vlapic *source, unsigned dest_mode,
			      uint32_t dest, unsigned shorthand, unsigned delivery_mode,
			      uint8_t vector, bool level_triggered, bool level)
{
	/* p->targets is the lock holder's scratch: every sender holds p->lock */
	unsigned left = apic_bus_targets(p->lapic, p->ncpus, source, dest_mode, dest, shorthand,
					 delivery_mode, vector, &p->lowest_rotor, p->targets);
	for (unsigned w = 0; left && w < APIC_BUS_WORDS(p->ncpus); w++) {
		for (uint64_t bits = p->targets[w]; bits; bits &= bits - 1) {
			unsigned i = w * 64 + (unsigned)__builtin_ctzll(bits);
			left--;
			if (!vlapic_deliver(&p->lapic[i], delivery_mode, vector, level_triggered,
					    level))
				continue;
			if (delivery_mode == VLAPIC_DM_INIT || delivery_mode == VLAPIC_DM_SIPI)
				__atomic_store_n(&p->cpu[i].startup_sent, true, __ATOMIC_RELEASE);
			if (delivery_mode == VLAPIC_DM_NMI)
				__atomic_store_n(&p->cpu[i].nmi_sent, true, __ATOMIC_RELEASE);
			sched_kick(p->vm->vcpus[i]);
		}
	}
}

static void ioapic_deliver(void *ctx, unsigned dest_mode, uint32_t dest, unsigned delivery_mode,
			   uint8_t vector, bool level_triggered)
{
	deliver_to_lapics(ctx, NULL, dest_mode, dest, VLAPIC_SH_NONE, delivery_mode, vector,
			  level_triggered, true);
}


static void lapic_send_ipi_cb(void *ctx, unsigned dest_mode, uint32_t dest, unsigned shorthand,
			      unsigned delivery_mode, uint8_t vector, bool level, bool trigger_level)
{
	struct lapic_ctx *c = ctx;
	deliver_to_lapics(c->p, &c->p->lapic[c->index], dest_mode, dest, shorthand, delivery_mode,
			  vector, trigger_level, level);
}

static void (*pt_eoi_hook)(struct vm *vm, unsigned gsi);

void vplatform_set_pt_eoi(void (*fn)(struct vm *vm, unsigned gsi))
{
	pt_eoi_hook = fn;
}

/*
 * The guest's EOI of a level-triggered vector (platform lock held). A
 * passed-through INTx on a pin with that vector drops first, so the
 * IOAPIC does not deliver it again for an interrupt the guest has handled;
 * the owner is told and raises it again if the device still asserts.
 */
static void lapic_eoi_cb(void *ctx, uint8_t vector)
{
	struct lapic_ctx *c = ctx;
	struct vplatform *p = c->p;
	uint32_t dropped = 0;
	for (unsigned gsi = 0; gsi < VIOAPIC_NR_PINS; gsi++) {
		uint64_t e = vioapic_entry(&p->ioapic, gsi);
		if (!(p->pt_gsis >> gsi & 1) || (e & VIOAPIC_RTE_VECTOR) != vector ||
		    !(e & VIOAPIC_RTE_LEVEL))
			continue;
		p->pt_gsis &= ~(1u << gsi);
		dropped |= 1u << gsi;
		vioapic_set_irq(&p->ioapic, gsi, p->bus_gsis >> gsi & 1);
	}
	vioapic_eoi(&p->ioapic, vector);
	for (unsigned gsi = 0; dropped && gsi < VIOAPIC_NR_PINS; gsi++)
		if ((dropped >> gsi & 1) && pt_eoi_hook)
			pt_eoi_hook(p->vm, gsi);
}

static void pic_output(void *ctx, bool level)
{
	struct vplatform *p = ctx;
	/* the 8259's INTR reaches vCPU 0's LINT0 (virtual wire, as a BIOS leaves it) */
	vlapic_set_lint(&p->lapic[0], 0, level);
	sched_kick(p->vm->vcpus[0]);
}

void vplatform_set_isa_irq(struct vm *vm, unsigned irq, bool level)
{
	struct vplatform *p = vp_of(vm);
	p->generation++;
	vpic_set_irq(&p->pic, irq, level);
	/* ISA IRQ 0 is wired to IOAPIC pin 2 (the MADT's override); the rest 1:1 */
	vioapic_set_irq(&p->ioapic, irq == 0 ? 2 : irq, level);
}

/*
 * A GSI has two sources, the VM's emulated PCI devices (bus_gsis) and
 * passed-through INTx (pt_gsis): the IOAPIC pin is their OR.
 */
static void set_gsi_source(struct vm *vm, unsigned gsi, bool level, bool passthrough)
{
	struct vplatform *p = vp_of(vm);
	if (!p || gsi >= VIOAPIC_NR_PINS)
		return;
	spin_lock(&p->lock);
	p->generation++;
	uint32_t *mine = passthrough ? &p->pt_gsis : &p->bus_gsis;
	if (level)
		*mine |= 1u << gsi;
	else
		*mine &= ~(1u << gsi);
	vioapic_set_irq(&p->ioapic, gsi, ((p->bus_gsis | p->pt_gsis) >> gsi) & 1);
	spin_unlock(&p->lock);
}

void vplatform_set_gsi(struct vm *vm, unsigned gsi, bool level)
{
	set_gsi_source(vm, gsi, level, false);
}

void vplatform_pt_intx(struct vm *vm, unsigned gsi, bool level)
{
	set_gsi_source(vm, gsi, level, true);
}

/*
 * An MSI or MSI-X write reaches the APIC bus (SDM Vol. 3A §11.11): fixed,
 * lowest priority, NMI and INIT are delivered as the IOAPIC's messages are;
 * with the redirection hint a fixed message goes to the lowest-priority
 * destination, as KVM reads it. SMI and ExtINT (nothing here takes them)
 * and messages outside 0xfeexxxxx are dropped and counted.
 */
void vplatform_deliver_msi(struct vm *vm, uint64_t address, uint32_t data)
{
	struct vplatform *p = vp_of(vm);
	struct msi_message m;
	if (!p)
		return;
	spin_lock(&p->lock);
	p->generation++;
	bool ok = msi_decode(address, data, &m);
	unsigned mode = ok ? m.delivery_mode : 0;
	if (!ok || (mode != VLAPIC_DM_FIXED && mode != VLAPIC_DM_LOWEST && mode != VLAPIC_DM_NMI &&
		    mode != VLAPIC_DM_INIT)) {
		p->msi_dropped++;
		spin_unlock(&p->lock);
		return;
	}
	if (m.redirection_hint && mode == VLAPIC_DM_FIXED)
		mode = VLAPIC_DM_LOWEST;
	deliver_to_lapics(p, NULL, m.logical ? VLAPIC_DEST_LOGICAL : VLAPIC_DEST_PHYSICAL, m.dest,
			  VLAPIC_SH_NONE, mode, m.vector, m.level_triggered, true);
	spin_unlock(&p->lock);
}

uint64_t vplatform_msi_dropped(const struct vm *vm)
{
	const struct vplatform *p = vp_of(vm);
	return p ? p->msi_dropped : 0;
}

/* Drives ISA IRQ 0 and 8 from whichever source legacy replacement selects. */
static void drive_timer_irqs(struct vplatform *p)
{
	bool legacy = p->has_hpet && vhpet_legacy_replacement(&p->hpet);
	bool irq0 = legacy ? p->hpet_irq0 : p->pit_out;
	bool irq8 = legacy ? p->hpet_irq8 : p->rtc_out;
	if (irq0 != p->irq0_level) {
		p->irq0_level = irq0;
		vplatform_set_isa_irq(p->vm, 0, irq0);
	}
	if (irq8 != p->irq8_level) {
		p->irq8_level = irq8;
		vplatform_set_isa_irq(p->vm, 8, irq8);
	}
}

static void pit_irq0(void *ctx, bool level)
{
	struct vplatform *p = ctx;
	p->pit_out = level;
	drive_timer_irqs(p);
}

static void rtc_irq8(void *ctx, bool level)
{
	struct vplatform *p = ctx;
	p->rtc_out = level;
	drive_timer_irqs(p);
}

/* An HPET output: an IOAPIC pin of its route, or (legacy replacement) ISA IRQ 0 or 8. */
static void hpet_irq(void *ctx, bool isa, unsigned line, bool level)
{
	struct vplatform *p = ctx;
	if (isa) {
		if (line == 0)
			p->hpet_irq0 = level;
		else
			p->hpet_irq8 = level;
		drive_timer_irqs(p);
		return;
	}
	p->generation++;
	vioapic_set_irq(&p->ioapic, line, level);
}

/* ---- port handlers ---- */

#define LOCKED(p, expr)                                                                            \
	({                                                                                         \
		spin_lock(&(p)->lock);                                                             \
		(p)->generation++;                                                             \
		__typeof__(expr) _r = (expr);                                                      \
		spin_unlock(&(p)->lock);                                                           \
		_r;                                                                                \
	})

static uint64_t pic_read(void *o, uint64_t off, unsigned size)
{
	(void)size;
	struct vplatform *p = o;
	return LOCKED(p, vpic_read(&p->pic, off >= 0x80 ? VPIC_SLAVE : VPIC_MASTER, off & 1));
}

static void pic_write(void *o, uint64_t off, unsigned size, uint64_t v)
{
	(void)size;
	struct vplatform *p = o;
	spin_lock(&p->lock);
	p->generation++;
	vpic_write(&p->pic, off >= 0x80 ? VPIC_SLAVE : VPIC_MASTER, off & 1, (uint8_t)v);
	spin_unlock(&p->lock);
}

static uint64_t elcr_read(void *o, uint64_t off, unsigned size)
{
	(void)size;
	struct vplatform *p = o;
	return LOCKED(p, vpic_elcr_read(&p->pic, (uint16_t)off));
}

static void elcr_write(void *o, uint64_t off, unsigned size, uint64_t v)
{
	(void)size;
	struct vplatform *p = o;
	spin_lock(&p->lock);
	p->generation++;
	vpic_elcr_write(&p->pic, (uint16_t)off, (uint8_t)v);
	spin_unlock(&p->lock);
}

static uint64_t pit_read(void *o, uint64_t off, unsigned size)
{
	(void)size;
	struct vplatform *p = o;
	return LOCKED(p, vpit_read(&p->pit, (uint16_t)off, vplatform_now(p->vm)));
}

static void pit_write(void *o, uint64_t off, unsigned size, uint64_t v)
{
	(void)size;
	struct vplatform *p = o;
	spin_lock(&p->lock);
	p->generation++;
	vpit_write(&p->pit, (uint16_t)off, (uint8_t)v, vplatform_now(p->vm));
	spin_unlock(&p->lock);
}

static uint64_t port61_read(void *o, uint64_t off, unsigned size)
{
	(void)off;
	(void)size;
	struct vplatform *p = o;
	return LOCKED(p, vpit_port61_read(&p->pit, vplatform_now(p->vm)));
}

static void port61_write(void *o, uint64_t off, unsigned size, uint64_t v)
{
	(void)off;
	(void)size;
	struct vplatform *p = o;
	spin_lock(&p->lock);
	p->generation++;
	vpit_port61_write(&p->pit, (uint8_t)v, vplatform_now(p->vm));
	spin_unlock(&p->lock);
}

static uint64_t rtc_read(void *o, uint64_t off, unsigned size)
{
	(void)size;
	struct vplatform *p = o;
	return LOCKED(p, vrtc_read(&p->rtc, (uint16_t)off, vplatform_now(p->vm)));
}

static void rtc_write(void *o, uint64_t off, unsigned size, uint64_t v)
{
	(void)size;
	struct vplatform *p = o;
	spin_lock(&p->lock);
	p->generation++;
	vrtc_write(&p->rtc, (uint16_t)off, (uint8_t)v, vplatform_now(p->vm));
	spin_unlock(&p->lock);
}

#define PM1_PWRBTN (1u << 8) /* PM1 status/enable: power button (ACPI 6.5 §4.8.3.1) */

/* The SCI (ISA IRQ 9, level) is asserted while an enabled PM1 event is pending. */
static void update_sci(struct vplatform *p)
{
	vplatform_set_isa_irq(p->vm, VPLATFORM_SCI_IRQ, (p->pm1_status & p->pm1_enable) != 0);
}

bool vplatform_power_button(struct vm *vm)
{
	struct vplatform *p = vp_of(vm);
	if (!p)
		return false;
	spin_lock(&p->lock);
	p->generation++;
	bool listening = p->pm1_enable & PM1_PWRBTN;
	p->pm1_status |= PM1_PWRBTN;
	update_sci(p);
	spin_unlock(&p->lock);
	return listening;
}

/* ACPI PM1 registers and the 3.579545 MHz PM timer (ACPI 6.5 §4.8.3) */
static uint64_t pm_read(void *o, uint64_t off, unsigned size)
{
	struct vplatform *p = o;
	switch (off) {
	case 0:
		return p->pm1_status;
	case 2:
		return p->pm1_enable;
	case 4:
		return p->pm1_control | 1; /* SCI_EN: ACPI mode */
	case 8:
		return (vplatform_now(p->vm) * 3579545 / 1000000000) & 0xffffff;
	default:
		(void)size;
		return ~0ull;
	}
}

static void pm_write(void *o, uint64_t off, unsigned size, uint64_t v)
{
	struct vplatform *p = o;
	(void)size;
	switch (off) {
	case 0:
		p->pm1_status &= (uint16_t)~v; /* write 1 to clear */
		update_sci(p);
		break;
	case 2:
		p->pm1_enable = (uint16_t)v;
		update_sci(p);
		break;
	case 4:
		p->pm1_control = (uint16_t)(v & ~(1u << 13));
		/* SLP_EN with SLP_TYP 5, the \_S5 package of our DSDT: power off */
		if ((v & (1u << 13)) && ((v >> 10) & 7) == 5)
			vm_stop(p->vm, VM_STOP_POWEROFF, 0);
		break;
	default:
		break;
	}
}


static uint64_t kbd_read(void *o, uint64_t off, unsigned size)
{
	(void)size;
	struct vplatform *p = o;
	/* no keyboard: output buffer never full, input buffer empty, self-test passed */
	return off == 4 ? p->kbd_status : 0;
}

static void kbd_write(void *o, uint64_t off, unsigned size, uint64_t v)
{
	(void)size;
	struct vplatform *p = o;
	if (off == 4 && v == 0xfe) /* pulse the reset line */
		vm_stop(p->vm, VM_STOP_REBOOT, 0);
}

/*
 * The reset control register at 0xcf9 (Intel ICH/PCH RST_CNT): SYS_RST
 * (bit 1) and FULL_RST (bit 3) are kept; writing RST_CPU (bit 2) resets the
 * machine, here a VM reboot. Ports 0xcf8 and 0xcfa-0xcff are the PCI bus's
 * (kernel/vm/vm_pci.c).
 */
#define RST_CNT_SYS_RST (1u << 1)
#define RST_CNT_RST_CPU (1u << 2)
#define RST_CNT_FULL_RST (1u << 3)

static uint64_t reset_control_read(void *o, uint64_t off, unsigned size)
{
	(void)off;
	(void)size;
	struct vplatform *p = o;
	return p->rst_cnt;
}

static void reset_control_write(void *o, uint64_t off, unsigned size, uint64_t v)
{
	(void)off;
	(void)size;
	struct vplatform *p = o;
	p->rst_cnt = (uint8_t)(v & (RST_CNT_SYS_RST | RST_CNT_FULL_RST));
	if (v & RST_CNT_RST_CPU)
		vm_stop(p->vm, VM_STOP_REBOOT, 0);
}

static uint64_t sink_read(void *o, uint64_t off, unsigned size)
{
	(void)o;
	(void)off;
	(void)size;
	return ~0ull;
}

static void sink_write(void *o, uint64_t off, unsigned size, uint64_t v)
{
	(void)o;
	(void)off;
	(void)size;
	(void)v; /* POST codes and I/O delays */
}

/* ---- MMIO ---- */

static uint64_t ioapic_read(void *o, uint64_t off, unsigned size)
{
	(void)size;
	struct vplatform *p = o;
	return LOCKED(p, vioapic_mmio_read(&p->ioapic, (uint32_t)off));
}

static void ioapic_write(void *o, uint64_t off, unsigned size, uint64_t v)
{
	(void)size;
	struct vplatform *p = o;
	spin_lock(&p->lock);
	p->generation++;
	vioapic_mmio_write(&p->ioapic, (uint32_t)off, (uint32_t)v);
	spin_unlock(&p->lock);
}

static uint64_t hpet_read(void *o, uint64_t off, unsigned size)
{
	struct vplatform *p = o;
	return LOCKED(p, vhpet_read(&p->hpet, (uint32_t)off, size, vplatform_now(p->vm)));
}

static void hpet_write(void *o, uint64_t off, unsigned size, uint64_t v)
{
	struct vplatform *p = o;
	spin_lock(&p->lock);
	p->generation++;
	vhpet_write(&p->hpet, (uint32_t)off, size, v, vplatform_now(p->vm));
	drive_timer_irqs(p); /* legacy replacement may have been switched */
	spin_unlock(&p->lock);
}

/*
 * The xAPIC page is per vCPU at one address: the bus cannot tell which, the
 * core can (the vCPU running on this CPU made the access: struct cpu's running).
 */
void vplatform_vcpu_entering(struct vcpu *v)
{
	this_cpu()->running = v;
}

static uint64_t vlapic_page_read(void *o, uint64_t off, unsigned size)
{
	(void)size;
	struct vplatform *p = o;
	struct vcpu *v = this_cpu()->running;
	return LOCKED(p, vlapic_mmio_read(&p->lapic[v->id], (uint32_t)off & ~3u,
					  vplatform_now(p->vm)));
}

static void vlapic_page_write(void *o, uint64_t off, unsigned size, uint64_t val)
{
	(void)size;
	struct vplatform *p = o;
	struct vcpu *v = this_cpu()->running;
	spin_lock(&p->lock);
	p->generation++;
	vlapic_mmio_write(&p->lapic[v->id], (uint32_t)off & ~3u, (uint32_t)val,
			  vplatform_now(p->vm));
	spin_unlock(&p->lock);
}

int vplatform_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	struct vplatform *p = vp_of(v->vm);
	if (!p || !vlapic_handles_msr(msr))
		return 0;
	int r = LOCKED(p, vlapic_msr_read(&p->lapic[v->id], msr, val, vplatform_now(p->vm)));
	return r == VLAPIC_OK ? 1 : -1;
}

int vplatform_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	struct vplatform *p = vp_of(v->vm);
	if (!p || !vlapic_handles_msr(msr))
		return 0;
	int r = LOCKED(p, vlapic_msr_write(&p->lapic[v->id], msr, val, vplatform_now(p->vm)));
	return r == VLAPIC_OK ? 1 : -1;
}

/*
 * The exit fast path's WRMSR (kernel/vm/fastpath.h): the x2APIC EOI when it
 * changes nothing but the vCPU's own ISR (vlapic_fast_eoi). No lock and no
 * generation bump: nothing any vCPU's loop looks at has changed, as nothing
 * became pending (lowest-priority arbitration reads PPR when it delivers,
 * under the lock, a word at a time). The slow path's timer_sync is the
 * loop's: the fast path enters again only before the chips' next deadline.
 */
bool vplatform_fast_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	struct vplatform *p = vp_of(v->vm);
	if (!p || msr != VLAPIC_MSR_X2APIC_FIRST + (VLAPIC_EOI >> 4))
		return false;
	return vlapic_fast_eoi(&p->lapic[v->id], val);
}

static uint64_t min_deadline(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Runs the chips' timers up to now; returns the earliest next deadline. */
static uint64_t run_timers(struct vplatform *p, unsigned vcpu_id, uint64_t now)
{
	uint64_t d = vpit_update(&p->pit, now);
	d = min_deadline(d, vrtc_update(&p->rtc, now));
	if (p->has_hpet)
		d = min_deadline(d, vhpet_update(&p->hpet, now));
	d = min_deadline(d, vlapic_update(&p->lapic[vcpu_id], now));
	return d;
}

int vplatform_next_interrupt(struct vcpu *v, bool can_inject, bool *pending, uint64_t *due_tsc)
{
	struct vplatform *p = vp_of(v->vm);
	int vector = -1;

	*pending = false;
	*due_tsc = UINT64_MAX;
	if (!p)
		return -1;
	/* nothing happened since the last look, and no chip timer is due: nothing to do */
	uint64_t gen = __atomic_load_n(&p->generation, __ATOMIC_ACQUIRE);
	uint64_t due = p->cpu[v->id].quiet.due_tsc;
	if (gen == p->cpu[v->id].quiet.generation &&
	    (due == UINT64_MAX || (int64_t)(rdtsc() - due) < 0)) {
		*due_tsc = due;
		return -1;
	}
	spin_lock(&p->lock);
	struct vlapic *l = &p->lapic[v->id];
	uint64_t deadline = run_timers(p, v->id, vplatform_now(p->vm));
	*due_tsc = deadline == UINT64_MAX ? UINT64_MAX : vplatform_ns_to_tsc(p->vm, deadline);
	int lv = vlapic_pending_vector(l);
	bool pic = v->id == 0 && vlapic_accepts_pic_interrupt(l) && vpic_has_interrupt(&p->pic);
	*pending = lv >= 0 || pic;
	if (can_inject && lv >= 0) {
		vlapic_ack(l, (uint8_t)lv);
		vector = lv;
	} else if (can_inject && pic) {
		vector = vpic_ack(&p->pic); /* the INTA cycle */
	}
	if (*pending || vector >= 0) {
		p->cpu[v->id].quiet.generation = ~0ull; /* look again next time */
	} else {
		p->cpu[v->id].quiet.generation = gen;
		p->cpu[v->id].quiet.due_tsc = *due_tsc;
	}
	spin_unlock(&p->lock);
	return vector;
}

void vplatform_fast_watch(struct vcpu *v)
{
	struct vplatform *p = vp_of(v->vm);
	if (!p) {
		v->fast.gen = NULL;
		return;
	}
	/* what vplatform_next_interrupt last found quiet (~0 when it did not) */
	v->fast.gen = &p->generation;
	v->fast.gen_seen = p->cpu[v->id].quiet.generation;
}

int vplatform_take_startup(struct vcpu *v, bool *init)
{
	struct vplatform *p = vp_of(v->vm);
	uint8_t vector;
	int r = -1;
	*init = false;
	if (!p)
		return -1;
	/* checked before every entry: no INIT or SIPI since the last look, nothing to take */
	if (!__atomic_exchange_n(&p->cpu[v->id].startup_sent, false, __ATOMIC_ACQ_REL))
		return -1;
	spin_lock(&p->lock);
	*init = vlapic_take_init(&p->lapic[v->id]);
	if (vlapic_take_sipi(&p->lapic[v->id], &vector))
		r = vector;
	spin_unlock(&p->lock);
	return r;
}

unsigned vplatform_take_nmis(struct vcpu *v)
{
	struct vplatform *p = vp_of(v->vm);
	if (!p || !__atomic_exchange_n(&p->cpu[v->id].nmi_sent, false, __ATOMIC_ACQ_REL))
		return 0; /* the entry path's common case: no lock */
	spin_lock(&p->lock);
	unsigned n = vlapic_take_nmi(&p->lapic[v->id]);
	spin_unlock(&p->lock);
	return n;
}

bool vplatform_nmi_possible(struct vm *vm)
{
	struct vplatform *p = vp_of(vm);
	if (!p)
		return false;
	spin_lock(&p->lock);
	bool armed = vioapic_routes_nmi(&p->ioapic);
	spin_unlock(&p->lock);
	return armed;
}

/* The chips as at power-on: guest time 0 is now. */
static void power_on(struct vplatform *p, struct vm *vm)
{
	struct vp_cpu *cpu = p->cpu;
	struct vlapic *lapic = p->lapic;
	uint64_t *targets = p->targets;
	unsigned ncpus = p->ncpus;
	size_t bytes = p->bytes;
	memset(p, 0, sizeof(*p));
	memset(cpu, 0, ncpus * sizeof(*cpu));
	memset(lapic, 0, ncpus * sizeof(*lapic));
	p->cpu = cpu;
	p->lapic = lapic;
	p->targets = targets;
	p->ncpus = ncpus;
	p->bytes = bytes;
	p->vm = vm;
	p->has_hpet = vm->config->hpet;
	p->t0 = rdtsc();
	p->kbd_status = 0x14; /* system flag, keyboard unlocked */
	uint64_t now = 0;

	vpic_init(&p->pic, pic_output, p);
	vpit_init(&p->pit, pit_irq0, p, now);
	/* the host's wall-clock time at guest time 0 (the host RTC read at boot, plus TSC time) */
	vrtc_init(&p->rtc, rtc_irq8, p, wallclock_unix_at(p->t0), now);
	vhpet_init(&p->hpet, hpet_irq, p, now);
	vioapic_init(&p->ioapic, vplatform_ioapic_id(vm->nvcpus), ioapic_deliver, p);
	p->bus_gsis = p->pt_gsis = 0;
	for (unsigned i = 0; i < p->ncpus; i++) {
		struct lapic_ctx *c = &p->cpu[i].lapic_ctx;
		*c = (struct lapic_ctx){p, i};
		struct vlapic_config cfg = {.apic_id = i, .bsp = i == 0, .x2apic = true,
					    .phys_bits = 39, .tsc_khz = (uint32_t)tsc_khz(),
					    /* the guest reads the host's TSC: at guest time 0 it was t0 */
					    .tsc_offset = p->t0};
		struct vlapic_ops ops = {lapic_send_ipi_cb, lapic_eoi_cb, c};
		vlapic_init(&p->lapic[i], &cfg, &ops, now);
	}
	vlapic_setup_virtual_wire(&p->lapic[0]);
}

/*
 * The vCPU's guest TSC moved (a write to IA32_TSC or TSC_ADJUST): its local
 * APIC's TSC-deadline timer counts in that guest's TSC from now on.
 */
void vplatform_set_tsc_offset(struct vcpu *v, uint64_t offset)
{
	struct vplatform *p = vp_of(v->vm);
	spin_lock(&p->lock);
	p->lapic[v->id].cfg.tsc_offset = p->t0 + offset;
	spin_unlock(&p->lock);
}

void vplatform_reset(struct vm *vm)
{
	power_on(vp_of(vm), vm); /* no vCPU runs: the VM is rebooting */
}

void vplatform_free(struct vm *vm)
{
	kfree(vm->platform);
	vm->platform = NULL;
}

size_t vplatform_bytes(const struct vm *vm)
{
	const struct vplatform *p = vp_of(vm);
	return p ? p->bytes : 0;
}

int vplatform_init(struct vm *vm)
{
	unsigned n = vm->nvcpus;
	/* one allocation: the struct, then its per-vCPU arrays (each 64-byte aligned) */
	size_t cpu_off = (sizeof(struct vplatform) + 63) & ~(size_t)63;
	size_t lapic_off = (cpu_off + n * sizeof(struct vp_cpu) + 63) & ~(size_t)63;
	size_t targets_off = (lapic_off + n * sizeof(struct vlapic) + 63) & ~(size_t)63;
	size_t size = targets_off + APIC_BUS_WORDS(n) * sizeof(uint64_t);
	char *mem = kzalloc(size);
	if (!mem)
		return -1;
	struct vplatform *p = (struct vplatform *)mem;
	p->bytes = size;
	p->ncpus = n;
	p->cpu = (struct vp_cpu *)(mem + cpu_off);
	p->lapic = (struct vlapic *)(mem + lapic_off);
	p->targets = (uint64_t *)(mem + targets_off);
	vm->platform = p;
	power_on(p, vm);

	struct io_bus *io = &vm->pio;
	int r = 0;
	r |= iobus_register(io, VPIC_MASTER_PORT, 2, pic_read, pic_write, p, "pic-master");
	r |= iobus_register(io, VPIC_SLAVE_PORT, 2, pic_read, pic_write, p, "pic-slave");
	r |= iobus_register(io, VPIC_ELCR_PORT, 2, elcr_read, elcr_write, p, "elcr");
	r |= iobus_register(io, VPIT_PORT, 4, pit_read, pit_write, p, "pit");
	r |= iobus_register(io, VPIT_PORT61, 1, port61_read, port61_write, p, "port61");
	r |= iobus_register(io, VRTC_PORT, 2, rtc_read, rtc_write, p, "rtc");
	r |= iobus_register(io, 0x60, 1, kbd_read, kbd_write, p, "i8042-data");
	r |= iobus_register(io, 0x64, 1, kbd_read, kbd_write, p, "i8042-cmd");
	r |= iobus_register(io, 0x80, 1, sink_read, sink_write, p, "post");
	iobus_set_fast(io, 0x80); /* no state at all: the exit fast path answers it */
	/* between the PCI bus's 0xcf8 and 0xcfa-0xcff (vm_pci.c) */
	r |= iobus_register(io, 0xcf9, 1, reset_control_read, reset_control_write, p, "reset-control");
	r |= iobus_register(io, VPLATFORM_PM_BASE, 12, pm_read, pm_write, p, "acpi-pm");
	r |= iobus_register(&vm->mmio, VIOAPIC_DEFAULT_BASE, 0x1000, ioapic_read, ioapic_write, p,
			    "ioapic");
	r |= iobus_register(&vm->mmio, VLAPIC_DEFAULT_BASE, 0x1000, vlapic_page_read, vlapic_page_write, p,
			    "lapic");
	if (p->has_hpet)
		r |= iobus_register(&vm->mmio, VHPET_BASE, VHPET_MMIO_SIZE, hpet_read, hpet_write,
				    p, "hpet");
	return r ? -1 : 0;
}
