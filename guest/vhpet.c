/*
 * HPET model. Reference: IA-PC HPET (High Precision Event Timers)
 * Specification 1.0a, §2.3 (the registers; the timer modes, one-shot and
 * periodic with its accumulator and Tn_VAL_SET_CNF, with the comparator
 * register; interrupt routing and legacy replacement with Tn_INT_ROUTE_CNF
 * and LEG_RT_CNF), and Intel's ICH9 datasheet (HPET chapter) for the
 * shape of a real block (one 64-bit periodic timer, two 32-bit one-shots,
 * routes to IOAPIC pins 20-23, the comparator's automatic clearing of
 * VAL_SET after one write, as Linux's hpet.c relies on).
 *
 * The main counter is arithmetic on guest time: while enabled it reads
 * counter + ticks(now) - ticks(run_start). Comparator matches are found
 * lazily: `checked` is the counter value up to which they have been
 * processed, and each access or update processes (checked, count(now)].
 * A timer that is not 64 bits wide (or is in 32-bit mode) compares with
 * the low 32 bits of the counter, so it matches again at each wrap.
 */
#include "guest/vhpet.h"

#include "kernel/lib/string.h"

#define NS_PER_SEC 1000000000ull
#define VENDOR_INTEL 0x8086ull
#define LOW32 0xffffffffull
#define HIGH32 0xffffffff00000000ull
#define TIMER_BITS ((1ull << VHPET_TIMERS) - 1)
/* The furthest ahead a deadline is reported: a later one is recomputed then. */
#define MAX_DEADLINE_TICKS (1ull << 36)

uint64_t vhpet_ns_to_ticks(uint64_t ns)
{
	return ns / NS_PER_SEC * VHPET_HZ + ns % NS_PER_SEC * VHPET_HZ / NS_PER_SEC;
}

uint64_t vhpet_ticks_to_ns(uint64_t tick)
{
	uint64_t rem = tick % VHPET_HZ * NS_PER_SEC;
	return tick / VHPET_HZ * NS_PER_SEC + (rem + VHPET_HZ - 1) / VHPET_HZ;
}

uint64_t vhpet_capabilities(void)
{
	return VHPET_PERIOD_FS << VHPET_CAP_PERIOD_SHIFT | VENDOR_INTEL << VHPET_CAP_VENDOR_SHIFT |
	       VHPET_CAP_LEG_RT | VHPET_CAP_COUNT_SIZE |
	       (uint64_t)(VHPET_TIMERS - 1) << VHPET_CAP_NUM_TIM_SHIFT | VHPET_CAP_REV_ID;
}

/* What each timer can do (read-only bits of its configuration register), as ICH9. */
static uint64_t timer_caps(unsigned i)
{
	uint64_t caps = (uint64_t)VHPET_ROUTE_CAP << VHPET_TN_ROUTE_CAP_SHIFT;
	if (i == 0)
		caps |= VHPET_TN_PER_INT_CAP | VHPET_TN_SIZE_CAP;
	return caps;
}

static uint64_t timer_writable(unsigned i)
{
	uint64_t caps = timer_caps(i);
	uint64_t w = VHPET_TN_INT_TYPE_LEVEL | VHPET_TN_INT_ENB | VHPET_TN_ROUTE_MASK;
	if (caps & VHPET_TN_PER_INT_CAP)
		w |= VHPET_TN_TYPE_PERIODIC | VHPET_TN_VAL_SET;
	if (caps & VHPET_TN_SIZE_CAP)
		w |= VHPET_TN_32MODE;
	return w;
}

static bool enabled(const struct vhpet *h)
{
	return h->config & VHPET_CFG_ENABLE;
}

bool vhpet_legacy_replacement(const struct vhpet *h)
{
	return h->config & VHPET_CFG_LEGACY;
}

/* The comparator's width: 64 bits, or 32 (a 32-bit timer, or one in 32-bit mode). */
static uint64_t width_mask(const struct vhpet *h, unsigned i)
{
	bool wide = timer_caps(i) & VHPET_TN_SIZE_CAP && !(h->timer[i].config & VHPET_TN_32MODE);
	return wide ? ~0ull : LOW32;
}

static bool periodic(const struct vhpet *h, unsigned i)
{
	return h->timer[i].config & VHPET_TN_TYPE_PERIODIC;
}

static bool level_triggered(const struct vhpet *h, unsigned i)
{
	return h->timer[i].config & VHPET_TN_INT_TYPE_LEVEL;
}

/* Where timer i's interrupt goes; false when nowhere (a route its caps do not allow). */
static bool output_of(const struct vhpet *h, unsigned i, bool *isa, unsigned *line)
{
	if (vhpet_legacy_replacement(h) && i < 2) {
		/* LEG_RT_CNF: timer 0 is IRQ 0 (IOAPIC pin 2), timer 1 is IRQ 8 */
		*isa = true;
		*line = i == 0 ? 0 : 8;
		return true;
	}
	uint64_t config = h->timer[i].config;
	unsigned route = (unsigned)((config & VHPET_TN_ROUTE_MASK) >> VHPET_TN_ROUTE_SHIFT);
	*isa = false;
	*line = route;
	return (timer_caps(i) >> VHPET_TN_ROUTE_CAP_SHIFT) >> route & 1;
}

static uint64_t count_at(const struct vhpet *h, uint64_t now)
{
	if (!enabled(h))
		return h->counter;
	return h->counter + vhpet_ns_to_ticks(now) - vhpet_ns_to_ticks(h->run_start);
}

static bool line_high(const struct vhpet *h, bool isa, unsigned line)
{
	if (isa)
		return h->isa_level >> (line == 0 ? 0 : 1) & 1;
	return h->gsi_level >> line & 1;
}

static void drive(struct vhpet *h, bool isa, unsigned line, bool level)
{
	if (h->set_irq)
		h->set_irq(h->ctx, isa, line, level);
}

/* Level outputs: asserted while a level timer's status bit is set and it may interrupt. */
static void drive_lines(struct vhpet *h)
{
	uint32_t gsi = 0;
	uint8_t isa_bits = 0;

	for (unsigned i = 0; i < VHPET_TIMERS; i++) {
		bool isa;
		unsigned line;
		if (!enabled(h) || !level_triggered(h, i) || !(h->status >> i & 1) ||
		    !(h->timer[i].config & VHPET_TN_INT_ENB) || !output_of(h, i, &isa, &line))
			continue;
		if (isa)
			isa_bits |= line == 0 ? 1 : 2;
		else
			gsi |= 1u << line;
	}
	for (unsigned line = 0; line < 32; line++) {
		bool want = gsi >> line & 1;
		if (want != (bool)(h->gsi_level >> line & 1)) {
			h->gsi_level ^= 1u << line;
			drive(h, false, line, want);
		}
	}
	for (unsigned b = 0; b < 2; b++) {
		bool want = isa_bits >> b & 1;
		if (want != (bool)(h->isa_level >> b & 1)) {
			h->isa_level ^= (uint8_t)(1u << b);
			drive(h, true, b == 0 ? 0 : 8, want);
		}
	}
}

/* A comparator matched: a status bit (level) or an edge on the timer's line. */
static void fire(struct vhpet *h, unsigned i)
{
	if (level_triggered(h, i)) {
		/* Tn_INT_STS: set whether or not the interrupt is enabled */
		h->status |= 1ull << i;
		drive_lines(h); /* at once: a later edge on the same line is hidden by it */
		return;
	}
	bool isa;
	unsigned line;
	if (!(h->timer[i].config & VHPET_TN_INT_ENB) || !output_of(h, i, &isa, &line))
		return;
	if (line_high(h, isa, line))
		return; /* held high by a level timer: a wired OR shows no edge */
	drive(h, isa, line, true);
	drive(h, isa, line, false);
}

/* Matches of timer i at counter values in (from, to]. */
static void match_timer(struct vhpet *h, unsigned i, uint64_t from, uint64_t to)
{
	struct vhpet_timer *t = &h->timer[i];
	uint64_t mask = width_mask(h, i);
	uint64_t until = (t->cmp - from - 1) & mask; /* clocks after from + 1 to the match */

	if (to - from <= until)
		return;
	if (periodic(h, i) && (t->period & mask)) {
		/* periodic mode: each match adds the period to the comparator */
		uint64_t first = from + until + 1, p = t->period & mask;
		uint64_t k = (to - first) / p + 1;
		t->cmp = (t->cmp + k * p) & mask;
	}
	fire(h, i);
}

/* Processes comparator matches up to `now`. */
static void catch_up(struct vhpet *h, uint64_t now)
{
	if (now < h->last)
		now = h->last; /* a stale `now` is the last one seen */
	h->last = now;
	if (!enabled(h))
		return;
	uint64_t count = count_at(h, now);
	if (count == h->checked)
		return;
	for (unsigned i = 0; i < VHPET_TIMERS; i++)
		match_timer(h, i, h->checked, count);
	h->checked = count;
}

void vhpet_init(struct vhpet *h, void (*set_irq)(void *ctx, bool isa, unsigned line, bool level),
		void *ctx, uint64_t now)
{
	memset(h, 0, sizeof(*h));
	h->set_irq = set_irq;
	h->ctx = ctx;
	h->last = now;
	h->run_start = now;
	for (unsigned i = 0; i < VHPET_TIMERS; i++)
		h->timer[i].cmp = width_mask(h, i); /* all ones, as ICH9 */
}

static uint64_t read_reg(struct vhpet *h, uint32_t reg)
{
	if (reg >= VHPET_REG_TIMER(0) && reg < VHPET_REG_TIMER(VHPET_TIMERS)) {
		unsigned i = (reg - VHPET_REG_TIMER(0)) / 0x20;
		switch ((reg - VHPET_REG_TIMER(0)) % 0x20) {
		case 0x00:
			return h->timer[i].config | timer_caps(i);
		case 0x08:
			return h->timer[i].cmp;
		default:
			return 0; /* FSB route: not offered */
		}
	}
	switch (reg) {
	case VHPET_REG_CAP:
		return vhpet_capabilities();
	case VHPET_REG_CONFIG:
		return h->config;
	case VHPET_REG_STATUS:
		return h->status;
	case VHPET_REG_COUNTER:
		return count_at(h, h->last);
	default:
		return 0;
	}
}

static void write_config(struct vhpet *h, uint64_t val, uint64_t now)
{
	uint64_t next = val & (VHPET_CFG_ENABLE | VHPET_CFG_LEGACY);
	if ((next ^ h->config) & VHPET_CFG_ENABLE) {
		if (next & VHPET_CFG_ENABLE) {
			h->run_start = now; /* counting resumes from the value held */
			h->checked = h->counter;
		} else {
			h->counter = count_at(h, now);
		}
	}
	h->config = next;
}

static void write_timer_config(struct vhpet *h, unsigned i, uint64_t val)
{
	struct vhpet_timer *t = &h->timer[i];
	uint64_t w = timer_writable(i);
	uint64_t next = (t->config & ~w) | (val & w);
	uint64_t route_cap = timer_caps(i) >> VHPET_TN_ROUTE_CAP_SHIFT;

	/* Tn_INT_ROUTE_CNF: a route the caps do not allow is not taken (reads back unchanged) */
	if (!(route_cap >> ((next & VHPET_TN_ROUTE_MASK) >> VHPET_TN_ROUTE_SHIFT) & 1))
		next = (next & ~VHPET_TN_ROUTE_MASK) | (t->config & VHPET_TN_ROUTE_MASK);
	if ((t->config & VHPET_TN_INT_TYPE_LEVEL) && !(next & VHPET_TN_INT_TYPE_LEVEL))
		h->status &= ~(1ull << i); /* the status bit means nothing for an edge timer */
	t->config = next;
	if (next & VHPET_TN_32MODE) {
		t->cmp &= LOW32;
		t->period &= LOW32;
	}
}

/*
 * Timer N Comparator: in periodic mode a write sets the period ("the last value
 * written"), and the comparator itself only with VAL_SET, which clears after
 * the write (as QEMU and Bochs read the spec; some chipsets need a second
 * write for the period, which is why Linux and FreeBSD write twice, and that
 * works here too). In one-shot mode it sets the comparator. `hm` says which
 * bits were written (a 32-bit access writes one half).
 */
static void write_comparator(struct vhpet *h, unsigned i, uint64_t val, uint64_t hm)
{
	struct vhpet_timer *t = &h->timer[i];
	uint64_t mask = width_mask(h, i);

	hm &= mask; /* the high half of a 32-bit comparator is not there */
	if (!hm)
		return;
	if (!periodic(h, i) || (t->config & VHPET_TN_VAL_SET))
		t->cmp = ((t->cmp & ~hm) | (val & hm)) & mask;
	t->period = ((t->period & ~hm) | (val & hm)) & mask;
	t->config &= ~VHPET_TN_VAL_SET;
}

static void write_reg(struct vhpet *h, uint32_t reg, uint64_t val, uint64_t hm, uint64_t now)
{
	if (reg >= VHPET_REG_TIMER(0) && reg < VHPET_REG_TIMER(VHPET_TIMERS)) {
		unsigned i = (reg - VHPET_REG_TIMER(0)) / 0x20;
		switch ((reg - VHPET_REG_TIMER(0)) % 0x20) {
		case 0x00:
			write_timer_config(h, i, (h->timer[i].config & ~hm) | (val & hm));
			break;
		case 0x08:
			write_comparator(h, i, val, hm);
			break;
		default:
			break; /* FSB route: not offered */
		}
		return;
	}
	switch (reg) {
	case VHPET_REG_CONFIG:
		write_config(h, (h->config & ~hm) | (val & hm), now);
		break;
	case VHPET_REG_STATUS:
		h->status &= ~(val & hm & TIMER_BITS); /* write 1 to clear */
		break;
	case VHPET_REG_COUNTER:
		/* Main Counter: written while halted; a write to a running counter is dropped */
		if (!enabled(h)) {
			h->counter = (h->counter & ~hm) | (val & hm);
			h->checked = h->counter;
		}
		break;
	default:
		break; /* capabilities are read-only; the rest is reserved */
	}
}

static bool aligned_access(uint32_t offset, unsigned size)
{
	return (size == 1 || size == 2 || size == 4 || size == 8) && offset % size == 0 &&
	       offset < VHPET_MMIO_SIZE;
}

uint64_t vhpet_read(struct vhpet *h, uint32_t offset, unsigned size, uint64_t now)
{
	catch_up(h, now);
	drive_lines(h);
	if (!aligned_access(offset, size))
		return 0;
	uint64_t v = read_reg(h, offset & ~7u) >> (8 * (offset & 7));
	return size == 8 ? v : v & ((1ull << (8 * size)) - 1);
}

void vhpet_write(struct vhpet *h, uint32_t offset, unsigned size, uint64_t val, uint64_t now)
{
	catch_up(h, now);
	if (aligned_access(offset, size) && size >= 4) {
		unsigned shift = 8 * (offset & 7);
		uint64_t hm = size == 8 ? ~0ull : LOW32 << shift;
		write_reg(h, offset & ~7u, size == 8 ? val : (val & LOW32) << shift, hm, h->last);
	}
	drive_lines(h);
}

/* The counter value at which timer i next interrupts, as clocks after `checked`; 0: never. */
static uint64_t clocks_to_interrupt(const struct vhpet *h, unsigned i)
{
	const struct vhpet_timer *t = &h->timer[i];
	bool isa;
	unsigned line;

	if (!(t->config & VHPET_TN_INT_ENB) || !output_of(h, i, &isa, &line))
		return 0;
	if (level_triggered(h, i) && (h->status >> i & 1))
		return 0; /* the line is held until the guest clears the status */
	uint64_t mask = width_mask(h, i);
	if (mask == ~0ull && t->cmp <= h->checked)
		return 0; /* behind the 64-bit counter: not before it wraps */
	return ((t->cmp - h->checked - 1) & mask) + 1;
}

uint64_t vhpet_update(struct vhpet *h, uint64_t now)
{
	catch_up(h, now);
	drive_lines(h);
	if (!enabled(h))
		return VHPET_NO_DEADLINE;

	uint64_t soonest = 0;
	for (unsigned i = 0; i < VHPET_TIMERS; i++) {
		uint64_t c = clocks_to_interrupt(h, i);
		if (c && (!soonest || c < soonest))
			soonest = c;
	}
	if (!soonest)
		return VHPET_NO_DEADLINE;
	if (soonest > MAX_DEADLINE_TICKS)
		soonest = MAX_DEADLINE_TICKS;
	/* count_at(ns) reaches checked + soonest when ticks(ns) reaches this */
	uint64_t tick = vhpet_ns_to_ticks(h->run_start) + (h->checked - h->counter) + soonest;
	uint64_t ns = vhpet_ticks_to_ns(tick);
	return ns > h->last ? ns : h->last + 1;
}
