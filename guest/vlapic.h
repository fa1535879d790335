/*
 * A local APIC as one vCPU sees it: the xAPIC register page at 0xfee00000
 * (32-bit registers at 16-byte offsets), the x2APIC MSRs 0x800-0x8ff, the
 * IA32_APIC_BASE MSR with its mode transitions, and IA32_TSC_DEADLINE.
 *
 * The model is the APIC's state machine only. Interrupts reach it from the
 * core (vlapic_deliver for bus messages: IOAPIC redirections and IPIs routed
 * from other vCPUs; vlapic_set_lint for the LINT0/LINT1 pins); the core asks
 * it what to inject (vlapic_pending_vector, vlapic_take_nmi, vlapic_take_init,
 * vlapic_take_sipi) and tells it what it injected (vlapic_ack). What leaves
 * the APIC goes through callbacks: every IPI the guest sends (send_ipi; the
 * core routes it, back to this APIC too for the self shorthands, with
 * vlapic_matches saying which APICs a destination names) and every EOI of a
 * level-triggered vector (eoi; the core passes it to the IOAPIC).
 *
 * Time comes from the caller: `now` is guest time in ns, never decreasing.
 * The timer counts an APIC bus clock of VLAPIC_BUS_HZ; its TSC-deadline mode
 * compares against the guest TSC, taken to be
 *     guest TSC = now * tsc_khz / 10^6 + tsc_offset.
 * vlapic_update() fires what is due and returns the next deadline, so the
 * core can arm a host timer for it; register accesses fire what is due up to
 * their own `now` and may move the deadline, so call it after them too.
 */
#ifndef HV_GUEST_VLAPIC_H
#define HV_GUEST_VLAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define VLAPIC_DEFAULT_BASE 0xfee00000ull
#define VLAPIC_PAGE_SIZE 0x1000
#define VLAPIC_BUS_HZ 1000000000ull	/* 1 ns per bus clock, as KVM */
#define VLAPIC_NO_DEADLINE UINT64_MAX
#define VLAPIC_VERSION 0x00050014u	/* integrated APIC 0x14, max LVT entry 5 */

/* Return codes of the MSR accessors. */
#define VLAPIC_OK 0
#define VLAPIC_GP (-1)			/* the guest's RDMSR/WRMSR takes #GP(0) */

/* MSRs (SDM Vol. 3A §11.4.4, §11.5.4.1, §11.12.1.2). */
#define VLAPIC_MSR_APIC_BASE 0x1b
#define VLAPIC_MSR_TSC_DEADLINE 0x6e0
#define VLAPIC_MSR_X2APIC_FIRST 0x800
#define VLAPIC_MSR_X2APIC_LAST 0x8ff

#define VLAPIC_BASE_BSP (1ull << 8)
#define VLAPIC_BASE_EXTD (1ull << 10)	/* x2APIC mode */
#define VLAPIC_BASE_EN (1ull << 11)	/* global enable */

/* xAPIC register offsets (SDM Vol. 3A Table 11-1); x2APIC MSR = 0x800 + off/16. */
#define VLAPIC_ID 0x020
#define VLAPIC_VER 0x030
#define VLAPIC_TPR 0x080
#define VLAPIC_APR 0x090
#define VLAPIC_PPR 0x0a0
#define VLAPIC_EOI 0x0b0
#define VLAPIC_RRD 0x0c0
#define VLAPIC_LDR 0x0d0
#define VLAPIC_DFR 0x0e0
#define VLAPIC_SVR 0x0f0
#define VLAPIC_ISR 0x100		/* 8 registers, 16 bytes apart */
#define VLAPIC_TMR 0x180
#define VLAPIC_IRR 0x200
#define VLAPIC_ESR 0x280
#define VLAPIC_LVT_CMCI 0x2f0
#define VLAPIC_ICR_LO 0x300
#define VLAPIC_ICR_HI 0x310
#define VLAPIC_LVT_TIMER 0x320
#define VLAPIC_LVT_THERMAL 0x330
#define VLAPIC_LVT_PMC 0x340
#define VLAPIC_LVT_LINT0 0x350
#define VLAPIC_LVT_LINT1 0x360
#define VLAPIC_LVT_ERROR 0x370
#define VLAPIC_TIMER_ICR 0x380		/* initial count */
#define VLAPIC_TIMER_CCR 0x390		/* current count */
#define VLAPIC_TIMER_DCR 0x3e0		/* divide configuration */
#define VLAPIC_SELF_IPI 0x3f0		/* x2APIC only */

#define VLAPIC_SVR_ENABLE 0x100
#define VLAPIC_SVR_FOCUS_OFF 0x200

#define VLAPIC_LVT_MASKED (1u << 16)
#define VLAPIC_LVT_LEVEL (1u << 15)	/* trigger mode (LINT0/1) */
#define VLAPIC_LVT_REMOTE_IRR (1u << 14)
#define VLAPIC_TIMER_ONESHOT (0u << 17)
#define VLAPIC_TIMER_PERIODIC (1u << 17)
#define VLAPIC_TIMER_TSC_DEADLINE (2u << 17)
#define VLAPIC_TIMER_MODE_MASK (3u << 17)

/* Delivery modes, in ICR, LVT and IOAPIC redirection entries (bits 10:8). */
#define VLAPIC_DM_FIXED 0
#define VLAPIC_DM_LOWEST 1
#define VLAPIC_DM_SMI 2
#define VLAPIC_DM_NMI 4
#define VLAPIC_DM_INIT 5
#define VLAPIC_DM_SIPI 6
#define VLAPIC_DM_EXTINT 7

#define VLAPIC_DEST_PHYSICAL 0
#define VLAPIC_DEST_LOGICAL 1

/* ICR destination shorthands (bits 19:18). */
#define VLAPIC_SH_NONE 0
#define VLAPIC_SH_SELF 1
#define VLAPIC_SH_ALL 2
#define VLAPIC_SH_OTHERS 3

/* ESR bits (SDM Vol. 3A Figure 11-9). */
#define VLAPIC_ESR_SEND_ILLEGAL 0x20
#define VLAPIC_ESR_RECV_ILLEGAL 0x40
#define VLAPIC_ESR_ILLEGAL_REG 0x80

/* The six LVT entries, in register order from 0x320. */
enum vlapic_lvt {
	VLAPIC_LVT_IDX_TIMER,
	VLAPIC_LVT_IDX_THERMAL,
	VLAPIC_LVT_IDX_PMC,
	VLAPIC_LVT_IDX_LINT0,
	VLAPIC_LVT_IDX_LINT1,
	VLAPIC_LVT_IDX_ERROR,
	VLAPIC_NR_LVT
};

struct vlapic_ops {
	/*
	 * An IPI the guest sent by writing the ICR (or x2APIC SELF_IPI, sent
	 * as shorthand self, fixed, edge). dest is 8 bits (ICR bits 63:56) in
	 * xAPIC mode, 32 bits in x2APIC mode; vlapic_matches() interprets it.
	 * Lowest priority should go to one matching vCPU. Never called for
	 * illegal vectors, reserved delivery modes or INIT level de-assert.
	 */
	void (*send_ipi)(void *ctx, unsigned dest_mode, uint32_t dest, unsigned shorthand,
			 unsigned delivery_mode, uint8_t vector, bool level, bool trigger_level);
	/* The guest EOI'd `vector`, which was accepted level-triggered. */
	void (*eoi)(void *ctx, uint8_t vector);
	void *ctx;
};

struct vlapic_config {
	uint32_t apic_id;	/* the vCPU's initial (x2)APIC ID */
	bool bsp;
	bool x2apic;		/* CPUID.1:ECX.x2APIC is offered to the guest */
	uint8_t phys_bits;	/* guest MAXPHYADDR, bounds the base address */
	uint32_t tsc_khz;	/* guest TSC frequency */
	uint64_t tsc_offset;	/* guest TSC at guest time 0 */
};

struct vlapic {
	struct vlapic_config cfg;
	struct vlapic_ops ops;
	uint64_t apic_base;	/* IA32_APIC_BASE as the guest reads it */

	/* Registers. */
	uint32_t id;		/* xAPIC ID register (ID in bits 31:24) */
	uint32_t tpr, ldr, dfr, svr;
	uint32_t esr;		/* as last latched by an ESR write */
	uint32_t esr_pending;	/* errors seen since that write */
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[VLAPIC_NR_LVT];
	uint32_t isr[8], tmr[8], irr[8];
	uint32_t dcr;
	uint32_t timer_initial;
	uint64_t tsc_deadline;	/* armed deadline in guest TSC units, 0: none */

	/* Timer: counting down from timer_count began at timer_start (ns). */
	bool timer_running;
	uint32_t timer_count;
	uint64_t timer_start;
	uint64_t timer_next;	/* ns of the next expiry, or VLAPIC_NO_DEADLINE */

	/* What the core takes out. */
	uint8_t nmi_pending;	/* NMIs not yet taken by the core (0..2) */
	bool init_pending;
	bool wait_for_sipi;	/* an AP after INIT: the next SIPI starts it */
	bool sipi_pending;
	uint8_t sipi_vector;
	bool lint[2];		/* LINT0/LINT1 input levels */
};

/*
 * Power-up state (SDM Vol. 3A §11.4.7.1): enabled in xAPIC mode at
 * VLAPIC_DEFAULT_BASE, software-disabled (SVR 0xff), every LVT masked.
 * ops may be NULL (no callbacks).
 */
void vlapic_init(struct vlapic *l, const struct vlapic_config *cfg,
		 const struct vlapic_ops *ops, uint64_t now);

/*
 * A guest access to the xAPIC page at `offset` (0..0xfff); only aligned
 * 32-bit accesses are meaningful. Reserved registers read 0 and set
 * ESR.illegal-register; read-only registers ignore writes. While the APIC is
 * globally disabled or in x2APIC mode the page is not decoded: reads return
 * all ones and writes are dropped.
 */
uint32_t vlapic_mmio_read(struct vlapic *l, uint32_t offset, uint64_t now);
void vlapic_mmio_write(struct vlapic *l, uint32_t offset, uint32_t val, uint64_t now);

/*
 * RDMSR/WRMSR of IA32_APIC_BASE, IA32_TSC_DEADLINE or an x2APIC register.
 * Returns VLAPIC_OK, or VLAPIC_GP where the guest must take #GP(0): x2APIC
 * MSRs outside x2APIC mode, reserved or absent registers, writes to
 * read-only ones, reads of write-only ones, non-zero writes to EOI/ESR,
 * reserved bits, illegal APIC base transitions (SDM Vol. 3A §11.12.5).
 */
bool vlapic_handles_msr(uint32_t msr);
int vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t *val, uint64_t now);
int vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t val, uint64_t now);

/* Globally enabled / in x2APIC mode / software-enabled (SVR bit 8). */
bool vlapic_enabled(const struct vlapic *l);
bool vlapic_x2apic_mode(const struct vlapic *l);
bool vlapic_sw_enabled(const struct vlapic *l);
/* The guest-physical base of the register page (APIC base MSR bits 12+). */
uint64_t vlapic_base_address(const struct vlapic *l);

/*
 * Whether this APIC is a destination of a message. source is the sending
 * APIC for an IPI (the shorthands need it; its mode fixes the format of
 * dest: 32 bits from an x2APIC, 8 bits otherwise) or NULL for an IOAPIC
 * message (8-bit dest, shorthand VLAPIC_SH_NONE). Physical: the ID or the
 * broadcast ID; logical: flat or cluster model per DFR in xAPIC mode, the
 * cluster/bitmap LDR in x2APIC mode (SDM Vol. 3A §11.6.2).
 */
bool vlapic_matches(const struct vlapic *l, const struct vlapic *source, unsigned dest_mode,
		    uint32_t dest, unsigned shorthand);

/*
 * A fixed interrupt arrives: sets IRR, and TMR for level-triggered (cleared
 * for edge). Returns false if dropped: APIC globally or software disabled,
 * or an illegal vector (0..15, which sets ESR.receive-illegal).
 */
bool vlapic_accept(struct vlapic *l, uint8_t vector, bool level_triggered);

/*
 * A bus message of any delivery mode: fixed and lowest priority are
 * accepted as fixed, NMI is latched for vlapic_take_nmi, INIT (assert)
 * resets the APIC's registers and latches for vlapic_take_init, SIPI starts
 * an AP waiting after INIT. SMI and ExtINT are not modelled (returns false).
 */
bool vlapic_deliver(struct vlapic *l, unsigned delivery_mode, uint8_t vector,
		    bool level_triggered, bool level);

/*
 * The LINT0/LINT1 pin (0 or 1) driven to `level`. A rising edge on an
 * unmasked pin delivers per its LVT: fixed (as edge) or NMI. ExtINT is the
 * 8259's path: see vlapic_accepts_pic_interrupt.
 */
void vlapic_set_lint(struct vlapic *l, unsigned pin, bool level);

/*
 * Whether the 8259's INTR reaches this vCPU: the APIC is globally disabled
 * (the pin goes straight to the core), or LINT0 is unmasked in ExtINT mode
 * (virtual wire mode, SDM Vol. 3A §11.5.1; MP spec §3.6.2.2).
 */
bool vlapic_accepts_pic_interrupt(const struct vlapic *l);

/*
 * What a PC BIOS leaves in the BSP's APIC for an OS booted without one:
 * software-enabled, LINT0 ExtINT and LINT1 NMI, both unmasked (virtual
 * wire mode), so the 8259 reaches the vCPU before the OS sets up its APIC.
 */
void vlapic_setup_virtual_wire(struct vlapic *l);

/* The highest IRR vector whose priority class exceeds PPR's, or -1. */
int vlapic_pending_vector(const struct vlapic *l);

/* The core injected `vector`: IRR -> ISR (raising PPR). */
void vlapic_ack(struct vlapic *l, uint8_t vector);

/*
 * A WRMSR of `val` to the x2APIC EOI register, as the exit fast path does it
 * with no lock held: true if done (it changed ISR alone, with the slow
 * path's result); false if the slow path must do it (#GP, a level-triggered
 * vector, or an interrupt that becomes deliverable), nothing changed.
 */
bool vlapic_fast_eoi(struct vlapic *l, uint64_t val);
/* An EOI (SDM Vol. 3A §11.8.5): the highest in-service vector retired, level ones broadcast. */
void vlapic_eoi(struct vlapic *l);

/*
 * Whether the guest's next EOI may be left to KVM's PV EOI flag (pveoi.h):
 * a vector is in service, edge-triggered (no IOAPIC to tell), and IRR is
 * empty (no EOI can let an interrupt through). Reads without the lock:
 * whoever sets IRR meanwhile makes the vCPU exit, and the exit path looks
 * at the flag before anything reads ISR.
 */
bool vlapic_pv_eoi_ok(const struct vlapic *l);

/* The processor-priority register (SDM Vol. 3A §11.8.3.1). */
uint32_t vlapic_ppr(const struct vlapic *l);

/*
 * What the core acts on: the NMIs that arrived since the last call (0..2:
 * more merge; the core's latch applies NMI blocking), and one-shot latches
 * for an INIT and a SIPI (with its vector).
 */
unsigned vlapic_take_nmi(struct vlapic *l);
bool vlapic_take_init(struct vlapic *l);
bool vlapic_take_sipi(struct vlapic *l, uint8_t *vector);

/*
 * Fires the timer into IRR if its expiry is due at `now` (periods elapsed
 * since the last call coalesce into one interrupt) and returns the guest
 * time in ns of the next expiry, or VLAPIC_NO_DEADLINE.
 */
uint64_t vlapic_update(struct vlapic *l, uint64_t now);

/* The guest TSC at `now`, and the first ns at which it reaches `tsc`. */
uint64_t vlapic_guest_tsc(const struct vlapic *l, uint64_t now);
uint64_t vlapic_tsc_to_ns(const struct vlapic *l, uint64_t tsc);

#endif
