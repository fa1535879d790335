/*
 * Local APIC model. Reference: Intel SDM Vol. 3A chapter 11 "Advanced
 * Programmable Interrupt Controller" (chapter 10 in editions before 2023;
 * the section numbers below are the newer ones): register map (Table 11-1), LVT and
 * divide configuration (Figures 11-8, 11-10), ESR (§11.5.3), timer modes
 * with TSC-deadline (§11.5.4), ICR (§11.6.1), logical destinations
 * (§11.6.2.2), priorities TPR/PPR (§11.8.3), EOI (§11.8.5), SVR and the
 * software-disabled state (§11.9, §11.4.7.2), x2APIC register MSRs and
 * their rules (§11.12.1-11.12.2, Table 11-6), APIC base state transitions
 * (§11.12.5, Figure 11-27).
 *
 * Nothing here is asynchronous: every interrupt the APIC raises itself (the
 * timer, errors) lands in IRR during a call, and the core reads the result
 * with vlapic_pending_vector().
 */
#include "guest/vlapic.h"

#include "kernel/lib/string.h"

#define NS_PER_SEC 1000000000ull
#define NS_PER_MS 1000000ull
#define NS_PER_BUS_CLOCK (NS_PER_SEC / VLAPIC_BUS_HZ)
_Static_assert(NS_PER_SEC % VLAPIC_BUS_HZ == 0, "the bus clock must divide 1 GHz");

#define LVT_DELIVERY(v) ((v) >> 8 & 7)
#define ICR_LO_WRITABLE 0x000ccfffu	/* all but delivery status and reserved bits */
#define ICR_X2APIC_RESERVED 0x00000000fff32000ull	/* bits 31:20, 17:16, 13 */
#define APIC_BASE_RESERVED 0x2ffull	/* bits 7:0 and 9; bits above MAXPHYADDR too */
#define DFR_FLAT 0xf

/* Writable bits of each LVT entry (SDM Vol. 3A Figure 11-8). */
static const uint32_t lvt_writable[VLAPIC_NR_LVT] = {
	[VLAPIC_LVT_IDX_TIMER] = 0x000700ff,	/* vector, mask, mode */
	[VLAPIC_LVT_IDX_THERMAL] = 0x000107ff,	/* vector, delivery mode, mask */
	[VLAPIC_LVT_IDX_PMC] = 0x000107ff,
	[VLAPIC_LVT_IDX_LINT0] = 0x0001a7ff,	/* + polarity, trigger mode */
	[VLAPIC_LVT_IDX_LINT1] = 0x0001a7ff,
	[VLAPIC_LVT_IDX_ERROR] = 0x000100ff,	/* vector, mask */
};

/* 256-bit registers (IRR, ISR, TMR) as eight 32-bit words. */
static bool vec_test(const uint32_t *r, unsigned v)
{
	return r[v >> 5] >> (v & 31) & 1;
}

static void vec_set(uint32_t *r, unsigned v)
{
	r[v >> 5] |= 1u << (v & 31);
}

static void vec_clear(uint32_t *r, unsigned v)
{
	r[v >> 5] &= ~(1u << (v & 31));
}

static int vec_highest(const uint32_t *r)
{
	for (int i = 7; i >= 0; i--)
		if (r[i])
			return i * 32 + 31 - __builtin_clz(r[i]);
	return -1;
}

bool vlapic_enabled(const struct vlapic *l)
{
	return l->apic_base & VLAPIC_BASE_EN;
}

bool vlapic_x2apic_mode(const struct vlapic *l)
{
	return (l->apic_base & (VLAPIC_BASE_EN | VLAPIC_BASE_EXTD)) ==
	       (VLAPIC_BASE_EN | VLAPIC_BASE_EXTD);
}

bool vlapic_sw_enabled(const struct vlapic *l)
{
	return l->svr & VLAPIC_SVR_ENABLE;
}

uint64_t vlapic_base_address(const struct vlapic *l)
{
	return l->apic_base & ~0xfffull;
}

/* The logical x2APIC ID: cluster in 31:16, one bit of 16 in 15:0 (§11.12.10.2). */
static uint32_t x2apic_ldr(uint32_t id)
{
	return (id >> 4) << 16 | 1u << (id & 0xf);
}

/* ---- Time ---- */

uint64_t vlapic_guest_tsc(const struct vlapic *l, uint64_t now)
{
	uint64_t khz = l->cfg.tsc_khz;
	return now / NS_PER_MS * khz + now % NS_PER_MS * khz / NS_PER_MS + l->cfg.tsc_offset;
}

uint64_t vlapic_tsc_to_ns(const struct vlapic *l, uint64_t tsc)
{
	uint64_t khz = l->cfg.tsc_khz, ns;
	/*
	 * Modular: a guest that wrote a small value to its TSC has a guest TSC
	 * at guest time 0 that is "negative" (wrapped). A deadline more than
	 * 2^63 ticks (a century) ahead reads as past.
	 */
	if ((int64_t)(tsc - l->cfg.tsc_offset) <= 0)
		return 0;
	if (khz == 0)
		return VLAPIC_NO_DEADLINE;
	tsc -= l->cfg.tsc_offset;
	/* ceil(tsc * 10^6 / khz) without overflowing the product. */
	if (__builtin_mul_overflow(tsc / khz, NS_PER_MS, &ns) ||
	    __builtin_add_overflow(ns, (tsc % khz * NS_PER_MS + khz - 1) / khz, &ns))
		return VLAPIC_NO_DEADLINE;
	return ns;
}

static uint32_t timer_mode(const struct vlapic *l)
{
	return l->lvt[VLAPIC_LVT_IDX_TIMER] & VLAPIC_TIMER_MODE_MASK;
}

/* Divide configuration bits 3,1:0 -> divide by 2, 4, ... 128, or 1 (Figure 11-10). */
static uint64_t ns_per_count(const struct vlapic *l)
{
	unsigned code = (l->dcr & 3) | (l->dcr >> 1 & 4);
	return NS_PER_BUS_CLOCK * (code == 7 ? 1 : 2u << code);
}

static uint32_t timer_current(const struct vlapic *l, uint64_t now)
{
	if (!l->timer_running || timer_mode(l) == VLAPIC_TIMER_TSC_DEADLINE)
		return 0;
	uint64_t k = now > l->timer_start ? (now - l->timer_start) / ns_per_count(l) : 0;
	if (k < l->timer_count)
		return l->timer_count - (uint32_t)k;
	if (timer_mode(l) == VLAPIC_TIMER_PERIODIC && l->timer_initial)
		return l->timer_initial - (uint32_t)((k - l->timer_count) % l->timer_initial);
	return 0;
}

/* Count down from `count` starting at `now` (0 stops the counter). */
static void timer_count_from(struct vlapic *l, uint32_t count, uint64_t now)
{
	l->timer_count = count;
	l->timer_start = now;
	l->timer_running = count != 0;
	l->timer_next = count ? now + count * ns_per_count(l) : VLAPIC_NO_DEADLINE;
}

static void timer_stop(struct vlapic *l)
{
	l->timer_running = false;
	l->timer_initial = 0;
	l->tsc_deadline = 0;
	l->timer_next = VLAPIC_NO_DEADLINE;
}

/* ---- Interrupt sources ---- */

static void set_irr(struct vlapic *l, uint8_t vector, bool level_triggered)
{
	vec_set(l->irr, vector);
	if (level_triggered)
		vec_set(l->tmr, vector);
	else
		vec_clear(l->tmr, vector);
}

/*
 * An error the APIC detected: logged for the next ESR write, and signalled
 * through the error LVT. An illegal vector there is only logged (no loop).
 */
static void report_error(struct vlapic *l, uint32_t bits)
{
	uint32_t lvt = l->lvt[VLAPIC_LVT_IDX_ERROR];
	l->esr_pending |= bits;
	if (lvt & VLAPIC_LVT_MASKED || !vlapic_sw_enabled(l) || !vlapic_enabled(l))
		return;
	if ((lvt & 0xff) < 16)
		l->esr_pending |= VLAPIC_ESR_RECV_ILLEGAL;
	else
		set_irr(l, lvt & 0xff, false);
}

bool vlapic_accept(struct vlapic *l, uint8_t vector, bool level_triggered)
{
	if (!vlapic_enabled(l) || !vlapic_sw_enabled(l))
		return false;
	if (vector < 16) {
		report_error(l, VLAPIC_ESR_RECV_ILLEGAL);
		return false;
	}
	set_irr(l, vector, level_triggered);
	return true;
}

/* A local source fires through its LVT entry. */
/*
 * An NMI for the core. The APIC forwards NMIs, it does not hold them: the
 * count is of messages not yet taken by the core (vlapic_take_nmi), which
 * applies the processor's own latch rules (one pending while blocked).
 * More than two in flight merge, as they would at the core anyway.
 */
static void note_nmi(struct vlapic *l)
{
	if (l->nmi_pending < 2)
		l->nmi_pending++;
}

static void lvt_fire(struct vlapic *l, enum vlapic_lvt idx)
{
	uint32_t lvt = l->lvt[idx];
	unsigned mode = VLAPIC_DM_FIXED;
	if (lvt & VLAPIC_LVT_MASKED || !vlapic_enabled(l))
		return;
	if (idx != VLAPIC_LVT_IDX_TIMER && idx != VLAPIC_LVT_IDX_ERROR)
		mode = LVT_DELIVERY(lvt);
	if (mode == VLAPIC_DM_FIXED)
		vlapic_accept(l, lvt & 0xff, false);
	else if (mode == VLAPIC_DM_NMI)
		note_nmi(l);
	/* SMI, INIT and ExtINT through an LVT are not modelled here. */
}

/* Fires the timer if its expiry is due at `now`; schedules the next one. */
static void timer_sync(struct vlapic *l, uint64_t now)
{
	if (l->timer_next > now)
		return;
	if (timer_mode(l) == VLAPIC_TIMER_TSC_DEADLINE) {
		l->tsc_deadline = 0; /* the MSR reads 0 once it has fired */
		l->timer_next = VLAPIC_NO_DEADLINE;
	} else if (timer_mode(l) == VLAPIC_TIMER_PERIODIC && l->timer_initial) {
		uint64_t period = l->timer_initial * ns_per_count(l);
		l->timer_next += ((now - l->timer_next) / period + 1) * period;
	} else {
		l->timer_next = VLAPIC_NO_DEADLINE;
		l->timer_running = false;
	}
	lvt_fire(l, VLAPIC_LVT_IDX_TIMER);
}

uint64_t vlapic_update(struct vlapic *l, uint64_t now)
{
	timer_sync(l, now);
	return l->timer_next;
}

/* ---- Reset and modes ---- */

/* The power-up / INIT state of everything but the ID and the base MSR (§11.4.7.1). */
static void reset_registers(struct vlapic *l)
{
	l->tpr = 0;
	l->ldr = vlapic_x2apic_mode(l) ? x2apic_ldr(l->cfg.apic_id) : 0;
	l->dfr = 0xffffffff;
	l->svr = 0xff;
	l->esr = l->esr_pending = 0;
	l->icr_lo = l->icr_hi = 0;
	for (unsigned i = 0; i < VLAPIC_NR_LVT; i++)
		l->lvt[i] = VLAPIC_LVT_MASKED;
	memset(l->isr, 0, sizeof(l->isr));
	memset(l->tmr, 0, sizeof(l->tmr));
	memset(l->irr, 0, sizeof(l->irr));
	l->dcr = 0;
	timer_stop(l);
	l->nmi_pending = 0;
}

void vlapic_init(struct vlapic *l, const struct vlapic_config *cfg,
		 const struct vlapic_ops *ops, uint64_t now)
{
	(void)now;
	memset(l, 0, sizeof(*l));
	l->cfg = *cfg;
	if (l->cfg.phys_bits == 0 || l->cfg.phys_bits > 52)
		l->cfg.phys_bits = 36;
	if (ops)
		l->ops = *ops;
	l->apic_base = VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN | (cfg->bsp ? VLAPIC_BASE_BSP : 0);
	l->id = cfg->apic_id << 24;
	reset_registers(l);
	/* An AP comes out of reset waiting for a start-up IPI (SDM Vol. 3A, MP initialization). */
	l->wait_for_sipi = !cfg->bsp;
}

void vlapic_setup_virtual_wire(struct vlapic *l)
{
	l->svr |= VLAPIC_SVR_ENABLE;
	l->lvt[VLAPIC_LVT_IDX_LINT0] = VLAPIC_DM_EXTINT << 8;
	l->lvt[VLAPIC_LVT_IDX_LINT1] = VLAPIC_DM_NMI << 8;
}

/* IA32_APIC_BASE: the transitions of SDM Vol. 3A Figure 11-27. */
static int write_apic_base(struct vlapic *l, uint64_t val)
{
	uint64_t reserved = APIC_BASE_RESERVED | ~((1ull << l->cfg.phys_bits) - 1);
	if (!l->cfg.x2apic)
		reserved |= VLAPIC_BASE_EXTD;
	if (val & reserved)
		return VLAPIC_GP;

	bool old_en = vlapic_enabled(l), old_x2 = vlapic_x2apic_mode(l);
	bool new_en = val & VLAPIC_BASE_EN, new_x2 = val & VLAPIC_BASE_EXTD;
	if (new_x2 && !new_en)
		return VLAPIC_GP; /* the invalid state */
	if (old_x2 && new_en && !new_x2)
		return VLAPIC_GP; /* x2APIC -> xAPIC must pass through disabled */
	if (!old_en && new_x2)
		return VLAPIC_GP; /* disabled -> x2APIC must pass through xAPIC */

	/* The BSP flag is the hardware's, not the guest's. */
	l->apic_base = (val & ~VLAPIC_BASE_BSP) | (l->apic_base & VLAPIC_BASE_BSP);
	if (old_en && !new_en) {
		/* Disabling may lose the APIC's state (§11.4.3): we reset it. */
		reset_registers(l);
		l->id = l->cfg.apic_id << 24;
	}
	if (!old_x2 && new_x2)
		l->ldr = x2apic_ldr(l->cfg.apic_id); /* initialised by the switch */
	return VLAPIC_OK;
}

/* ---- Priorities, acceptance, EOI ---- */

uint32_t vlapic_ppr(const struct vlapic *l)
{
	int isrv = vec_highest(l->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
	return (l->tpr & 0xf0) >= isr_class ? l->tpr & 0xff : isr_class;
}

int vlapic_pending_vector(const struct vlapic *l)
{
	int v = vec_highest(l->irr);
	if (v < 0 || !vlapic_enabled(l))
		return -1;
	return ((uint32_t)v & 0xf0) > (vlapic_ppr(l) & 0xf0) ? v : -1;
}

void vlapic_ack(struct vlapic *l, uint8_t vector)
{
	if (!vec_test(l->irr, vector))
		return;
	vec_clear(l->irr, vector);
	vec_set(l->isr, vector);
}

/* EOI: retire the highest in-service vector; broadcast it if level (§11.8.5). */
static void do_eoi(struct vlapic *l)
{
	int v = vec_highest(l->isr);
	if (v < 0)
		return;
	vec_clear(l->isr, (unsigned)v);
	if (vec_test(l->tmr, (unsigned)v) && l->ops.eoi)
		l->ops.eoi(l->ops.ctx, (uint8_t)v);
}

/*
 * The exit fast path's x2APIC EOI (kernel/vm/fastpath.h), without the
 * platform lock: done here only when it changes ISR and nothing else. Not
 * for a level-triggered vector (the IOAPIC hears of it), nor when retiring
 * the vector lets an IRR vector through PPR (an interrupt to inject now):
 * those, and a non-zero write (#GP), are the slow path's. ISR is written by
 * this vCPU alone but for an INIT from another one, under the lock: the bit
 * is cleared atomically, so a reset in between is never undone. Other
 * vCPUs' deliveries set IRR under the lock after bumping the platform's
 * generation word, which the fast path looks at before entering again.
 */
bool vlapic_fast_eoi(struct vlapic *l, uint64_t val)
{
	if (!vlapic_x2apic_mode(l) || val)
		return false;
	uint32_t isr[8];
	for (unsigned i = 0; i < 8; i++)
		isr[i] = __atomic_load_n(&l->isr[i], __ATOMIC_RELAXED);
	int v = vec_highest(isr);
	if (v < 0)
		return true; /* nothing in service: the EOI does nothing */
	if (vec_test(l->tmr, (unsigned)v))
		return false;
	vec_clear(isr, (unsigned)v);
	int irr = vec_highest(l->irr);
	if (irr >= 0) {
		int next = vec_highest(isr);
		uint32_t isr_class = next < 0 ? 0 : (uint32_t)next & 0xf0;
		uint32_t ppr_class = (l->tpr & 0xf0) >= isr_class ? l->tpr & 0xf0 : isr_class;
		if (((uint32_t)irr & 0xf0) > ppr_class)
			return false;
	}
	__atomic_fetch_and(&l->isr[v >> 5], ~(1u << (v & 31)), __ATOMIC_RELEASE);
	return true;
}

void vlapic_eoi(struct vlapic *l)
{
	do_eoi(l);
}

bool vlapic_pv_eoi_ok(const struct vlapic *l)
{
	uint32_t isr[8];
	for (unsigned i = 0; i < 8; i++) {
		if (__atomic_load_n(&l->irr[i], __ATOMIC_RELAXED))
			return false; /* something waits: the EOI that lets it through must exit */
		isr[i] = __atomic_load_n(&l->isr[i], __ATOMIC_RELAXED);
	}
	int v = vec_highest(isr);
	return v >= 0 && !vec_test(l->tmr, (unsigned)v);
}

/* INIT: registers to their INIT state, ID and mode kept (§11.4.7.3, §11.12.5.1). */
static void receive_init(struct vlapic *l)
{
	reset_registers(l);
	l->init_pending = true;
	l->sipi_pending = false;
	l->wait_for_sipi = !(l->apic_base & VLAPIC_BASE_BSP);
}

bool vlapic_deliver(struct vlapic *l, unsigned delivery_mode, uint8_t vector,
		    bool level_triggered, bool level)
{
	switch (delivery_mode) {
	case VLAPIC_DM_FIXED:
	case VLAPIC_DM_LOWEST:
		return vlapic_accept(l, vector, level_triggered);
	case VLAPIC_DM_NMI:
		note_nmi(l);
		return true;
	case VLAPIC_DM_INIT:
		if (level_triggered && !level)
			return false; /* de-assert: arbitration IDs only */
		receive_init(l);
		return true;
	case VLAPIC_DM_SIPI:
		/* Only a processor waiting after INIT starts; later SIPIs are ignored. */
		if (!l->wait_for_sipi)
			return false;
		l->wait_for_sipi = false;
		l->sipi_pending = true;
		l->sipi_vector = vector;
		return true;
	default:
		return false;
	}
}

void vlapic_set_lint(struct vlapic *l, unsigned pin, bool level)
{
	if (pin > 1)
		return;
	bool rising = level && !l->lint[pin];
	l->lint[pin] = level;
	if (rising)
		lvt_fire(l, VLAPIC_LVT_IDX_LINT0 + pin);
}

bool vlapic_accepts_pic_interrupt(const struct vlapic *l)
{
	uint32_t lint0 = l->lvt[VLAPIC_LVT_IDX_LINT0];
	if (!vlapic_enabled(l))
		return true;
	return !(lint0 & VLAPIC_LVT_MASKED) && LVT_DELIVERY(lint0) == VLAPIC_DM_EXTINT;
}

unsigned vlapic_take_nmi(struct vlapic *l)
{
	unsigned n = l->nmi_pending;
	l->nmi_pending = 0;
	return n;
}

bool vlapic_take_init(struct vlapic *l)
{
	bool was = l->init_pending;
	l->init_pending = false;
	return was;
}

bool vlapic_take_sipi(struct vlapic *l, uint8_t *vector)
{
	if (!l->sipi_pending)
		return false;
	l->sipi_pending = false;
	*vector = l->sipi_vector;
	return true;
}

/* ---- Destinations ---- */

static uint32_t physical_id(const struct vlapic *l)
{
	return vlapic_x2apic_mode(l) ? l->cfg.apic_id : l->id >> 24;
}

bool vlapic_matches(const struct vlapic *l, const struct vlapic *source, unsigned dest_mode,
		    uint32_t dest, unsigned shorthand)
{
	if (!vlapic_enabled(l))
		return false;
	switch (shorthand) {
	case VLAPIC_SH_SELF:
		return l == source;
	case VLAPIC_SH_ALL:
		return true;
	case VLAPIC_SH_OTHERS:
		return l != source;
	}

	bool x2_format = source && vlapic_x2apic_mode(source);
	if (dest == (x2_format ? 0xffffffffu : 0xffu))
		return true; /* broadcast, physical or logical */
	if (dest_mode == VLAPIC_DEST_PHYSICAL)
		return dest == physical_id(l);

	if (vlapic_x2apic_mode(l)) {
		/*
		 * Cluster in 31:16 must match, then any common bit in 15:0. An
		 * 8-bit message (from an xAPIC, or an IOAPIC without interrupt
		 * remapping) reads as cluster 0, members 7:0, as KVM takes it.
		 */
		if (!x2_format && source)
			return false;
		return dest >> 16 == l->ldr >> 16 && (dest & l->ldr & 0xffff);
	}
	if (x2_format)
		return false;
	uint32_t ldr = l->ldr >> 24;
	if (l->dfr >> 28 == DFR_FLAT)
		return (dest & ldr) != 0;
	/* Cluster model: cluster in 7:4, member bitmap in 3:0. */
	return dest >> 4 == ldr >> 4 && (dest & ldr & 0xf);
}

/* ---- Register writes with side effects ---- */

static void send_icr(struct vlapic *l)
{
	uint32_t lo = l->icr_lo;
	unsigned mode = LVT_DELIVERY(lo), shorthand = lo >> 18 & 3;
	uint8_t vector = lo & 0xff;
	bool level = lo >> 14 & 1, trigger_level = lo >> 15 & 1;
	uint32_t dest = vlapic_x2apic_mode(l) ? l->icr_hi : l->icr_hi >> 24;

	if (mode == 3 || mode == VLAPIC_DM_EXTINT)
		return; /* reserved in the ICR */
	if (mode == VLAPIC_DM_INIT && !level && trigger_level)
		return; /* INIT level de-assert: only resynchronises arbitration IDs */
	if ((mode == VLAPIC_DM_FIXED || mode == VLAPIC_DM_LOWEST) && vector < 16) {
		report_error(l, VLAPIC_ESR_SEND_ILLEGAL);
		return;
	}
	if (l->ops.send_ipi)
		l->ops.send_ipi(l->ops.ctx, lo >> 11 & 1, dest, shorthand, mode, vector, level,
				trigger_level);
}

static void write_svr(struct vlapic *l, uint32_t val)
{
	l->svr = val & 0x3ff; /* vector, APIC enable, focus checking */
	if (!vlapic_sw_enabled(l))
		for (unsigned i = 0; i < VLAPIC_NR_LVT; i++)
			l->lvt[i] |= VLAPIC_LVT_MASKED;
}

static void write_lvt(struct vlapic *l, enum vlapic_lvt idx, uint32_t val)
{
	uint32_t old = l->lvt[idx];
	val &= lvt_writable[idx];
	if (!vlapic_sw_enabled(l))
		val |= VLAPIC_LVT_MASKED; /* cannot be unmasked while disabled */
	l->lvt[idx] = val;
	/*
	 * "A write to the LVT Timer Register that changes the timer mode disarms
	 * the local APIC timer" (§11.5.4.1): any change, one-shot <-> periodic
	 * included; the guest writes a new initial count or deadline after it.
	 */
	if (idx == VLAPIC_LVT_IDX_TIMER && (old ^ val) & VLAPIC_TIMER_MODE_MASK)
		timer_stop(l);
}

static void write_initial_count(struct vlapic *l, uint32_t val, uint64_t now)
{
	if (timer_mode(l) == VLAPIC_TIMER_TSC_DEADLINE)
		return; /* ignored in TSC-deadline mode */
	l->timer_initial = val;
	timer_count_from(l, val, now);
}

static void write_dcr(struct vlapic *l, uint32_t val, uint64_t now)
{
	uint32_t count = timer_current(l, now);
	l->dcr = val & 0xb;
	/* The remaining count goes on at the new rate. */
	if (l->timer_running && timer_mode(l) != VLAPIC_TIMER_TSC_DEADLINE)
		timer_count_from(l, count, now);
}

static void write_tsc_deadline(struct vlapic *l, uint64_t val, uint64_t now)
{
	(void)now;
	if (timer_mode(l) != VLAPIC_TIMER_TSC_DEADLINE)
		return; /* ignored in the other modes */
	l->tsc_deadline = val;
	l->timer_next = val ? vlapic_tsc_to_ns(l, val) : VLAPIC_NO_DEADLINE;
}

/* ---- The register file, shared by the xAPIC page and the x2APIC MSRs ---- */

static bool in_bank(uint32_t off, uint32_t base)
{
	return off >= base && off < base + 0x80;
}

/* Reads register `off`; false if it does not exist (or is write-only) in this mode. */
static bool reg_read(struct vlapic *l, uint32_t off, bool x2, uint32_t *out, uint64_t now)
{
	*out = 0;
	if (in_bank(off, VLAPIC_ISR)) {
		*out = l->isr[(off - VLAPIC_ISR) >> 4];
		return true;
	}
	if (in_bank(off, VLAPIC_TMR)) {
		*out = l->tmr[(off - VLAPIC_TMR) >> 4];
		return true;
	}
	if (in_bank(off, VLAPIC_IRR)) {
		*out = l->irr[(off - VLAPIC_IRR) >> 4];
		return true;
	}
	if (off >= VLAPIC_LVT_TIMER && off <= VLAPIC_LVT_ERROR) {
		*out = l->lvt[(off - VLAPIC_LVT_TIMER) >> 4];
		return true;
	}
	switch (off) {
	case VLAPIC_ID:
		*out = x2 ? l->cfg.apic_id : l->id;
		return true;
	case VLAPIC_VER:
		*out = VLAPIC_VERSION;
		return true;
	case VLAPIC_TPR:
		*out = l->tpr;
		return true;
	case VLAPIC_PPR:
		*out = vlapic_ppr(l);
		return true;
	case VLAPIC_APR: /* P6-era registers: present, reading 0, in xAPIC mode only */
	case VLAPIC_RRD:
	case VLAPIC_EOI: /* write-only; an xAPIC read returns 0 */
		return !x2;
	case VLAPIC_LDR:
		*out = l->ldr;
		return true;
	case VLAPIC_DFR:
		*out = l->dfr;
		return !x2;
	case VLAPIC_SVR:
		*out = l->svr;
		return true;
	case VLAPIC_ESR:
		*out = l->esr;
		return true;
	case VLAPIC_ICR_LO:
		*out = l->icr_lo;
		return true;
	case VLAPIC_ICR_HI:
		*out = l->icr_hi;
		return !x2;
	case VLAPIC_TIMER_ICR:
		*out = l->timer_initial;
		return true;
	case VLAPIC_TIMER_CCR:
		*out = timer_current(l, now);
		return true;
	case VLAPIC_TIMER_DCR:
		*out = l->dcr;
		return true;
	default:
		return false; /* reserved, CMCI (max LVT 5), SELF_IPI (write-only) */
	}
}

static bool read_only(uint32_t off)
{
	return off == VLAPIC_VER || off == VLAPIC_APR || off == VLAPIC_PPR || off == VLAPIC_RRD ||
	       in_bank(off, VLAPIC_ISR) || in_bank(off, VLAPIC_TMR) || in_bank(off, VLAPIC_IRR) ||
	       off == VLAPIC_TIMER_CCR;
}

/*
 * Writes register `off`; false if the write must fault (x2APIC) or hits a
 * reserved register (xAPIC). `val` carries the whole 64-bit ICR in x2APIC.
 */
static bool reg_write(struct vlapic *l, uint32_t off, bool x2, uint64_t val, uint64_t now)
{
	uint32_t v = (uint32_t)val;
	if (off >= VLAPIC_LVT_TIMER && off <= VLAPIC_LVT_ERROR) {
		write_lvt(l, (enum vlapic_lvt)((off - VLAPIC_LVT_TIMER) >> 4), v);
		return true;
	}
	if (read_only(off))
		return !x2; /* ignored in xAPIC mode, #GP in x2APIC mode */
	switch (off) {
	case VLAPIC_ID:
		if (x2)
			return false;
		l->id = v & 0xff000000;
		return true;
	case VLAPIC_TPR:
		l->tpr = v & 0xff;
		return true;
	case VLAPIC_EOI:
		if (x2 && v)
			return false;
		do_eoi(l);
		return true;
	case VLAPIC_LDR:
		if (x2)
			return false;
		l->ldr = v & 0xff000000;
		return true;
	case VLAPIC_DFR:
		if (x2)
			return false;
		l->dfr = (v & 0xf0000000) | 0x0fffffff;
		return true;
	case VLAPIC_SVR:
		write_svr(l, v);
		return true;
	case VLAPIC_ESR:
		if (x2 && v)
			return false;
		/* The write latches the errors seen since the previous one (§11.5.3). */
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		return true;
	case VLAPIC_ICR_LO:
		if (x2) {
			if (val & ICR_X2APIC_RESERVED)
				return false;
			l->icr_hi = (uint32_t)(val >> 32);
		}
		l->icr_lo = v & ICR_LO_WRITABLE;
		send_icr(l);
		return true;
	case VLAPIC_ICR_HI:
		if (x2)
			return false;
		l->icr_hi = v & 0xff000000;
		return true;
	case VLAPIC_TIMER_ICR:
		write_initial_count(l, v, now);
		return true;
	case VLAPIC_TIMER_DCR:
		write_dcr(l, v, now);
		return true;
	case VLAPIC_SELF_IPI:
		if (!x2)
			return false;
		if (l->ops.send_ipi && (v & 0xff) >= 16)
			l->ops.send_ipi(l->ops.ctx, VLAPIC_DEST_PHYSICAL, 0, VLAPIC_SH_SELF,
					VLAPIC_DM_FIXED, v & 0xff, true, false);
		else if ((v & 0xff) < 16)
			report_error(l, VLAPIC_ESR_SEND_ILLEGAL);
		return true;
	default:
		return false;
	}
}

/* ---- The guest's two windows on the register file ---- */

uint32_t vlapic_mmio_read(struct vlapic *l, uint32_t offset, uint64_t now)
{
	uint32_t val;
	if (!vlapic_enabled(l) || vlapic_x2apic_mode(l) || offset >= VLAPIC_PAGE_SIZE)
		return 0xffffffff;
	timer_sync(l, now);
	if (offset & 0xf)
		return 0; /* the upper 12 bytes of each 16-byte slot */
	if (!reg_read(l, offset & 0xff0, false, &val, now))
		report_error(l, VLAPIC_ESR_ILLEGAL_REG);
	return val;
}

void vlapic_mmio_write(struct vlapic *l, uint32_t offset, uint32_t val, uint64_t now)
{
	if (!vlapic_enabled(l) || vlapic_x2apic_mode(l) || offset >= VLAPIC_PAGE_SIZE ||
	    offset & 0xf)
		return;
	timer_sync(l, now);
	if (!reg_write(l, offset & 0xff0, false, val, now))
		report_error(l, VLAPIC_ESR_ILLEGAL_REG);
	timer_sync(l, now);
}

bool vlapic_handles_msr(uint32_t msr)
{
	return msr == VLAPIC_MSR_APIC_BASE || msr == VLAPIC_MSR_TSC_DEADLINE ||
	       (msr >= VLAPIC_MSR_X2APIC_FIRST && msr <= VLAPIC_MSR_X2APIC_LAST);
}

int vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t *val, uint64_t now)
{
	uint32_t lo;
	*val = 0;
	timer_sync(l, now);
	if (msr == VLAPIC_MSR_APIC_BASE) {
		*val = l->apic_base;
		return VLAPIC_OK;
	}
	if (msr == VLAPIC_MSR_TSC_DEADLINE) {
		if (timer_mode(l) == VLAPIC_TIMER_TSC_DEADLINE)
			*val = l->tsc_deadline;
		return VLAPIC_OK;
	}
	if (msr < VLAPIC_MSR_X2APIC_FIRST || msr > VLAPIC_MSR_X2APIC_LAST ||
	    !vlapic_x2apic_mode(l))
		return VLAPIC_GP;
	uint32_t off = (msr - VLAPIC_MSR_X2APIC_FIRST) << 4;
	if (!reg_read(l, off, true, &lo, now))
		return VLAPIC_GP;
	*val = lo;
	if (off == VLAPIC_ICR_LO)
		*val |= (uint64_t)l->icr_hi << 32;
	return VLAPIC_OK;
}

int vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t val, uint64_t now)
{
	int ret = VLAPIC_OK;
	timer_sync(l, now);
	if (msr == VLAPIC_MSR_APIC_BASE) {
		ret = write_apic_base(l, val);
	} else if (msr == VLAPIC_MSR_TSC_DEADLINE) {
		write_tsc_deadline(l, val, now);
	} else if (msr < VLAPIC_MSR_X2APIC_FIRST || msr > VLAPIC_MSR_X2APIC_LAST ||
		   !vlapic_x2apic_mode(l)) {
		ret = VLAPIC_GP;
	} else {
		uint32_t off = (msr - VLAPIC_MSR_X2APIC_FIRST) << 4;
		/* Bits 63:32 are reserved in every register but the ICR. */
		if ((off != VLAPIC_ICR_LO && val >> 32) || !reg_write(l, off, true, val, now))
			ret = VLAPIC_GP;
	}
	timer_sync(l, now);
	return ret;
}
