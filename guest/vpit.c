/*
 * 8254 PIT model. Reference: Intel 8254 datasheet (order 231164): control
 * word, counter latch and read-back commands, the six modes and their GATE
 * behaviour (Figure "Gate Pin Operations Summary"), and the rule that the
 * first byte of a two-byte count stops a mode-0 counter. Port 0x61 as in the
 * IBM PC/AT technical reference (bit 0 gate 2, bit 1 speaker, bit 4 refresh
 * detect, bit 5 OUT2).
 *
 * A counter is described by (n, start): counting from n began at PIT tick
 * `start`, so after k = tick - start clocks the count and the output follow
 * from the mode by arithmetic. The load clock is not modelled: the count
 * starts at the tick in which it is written (the guest cannot tell 838 ns).
 */
#include "guest/vpit.h"

#include "kernel/lib/string.h"

#define NS_PER_SEC 1000000000ull
#define NO_TICK UINT64_MAX
#define REFRESH_NS 15085ull /* DRAM refresh request period (15.085 us) */

uint64_t vpit_ns_to_ticks(uint64_t ns)
{
	return ns / NS_PER_SEC * VPIT_HZ + ns % NS_PER_SEC * VPIT_HZ / NS_PER_SEC;
}

uint64_t vpit_ticks_to_ns(uint64_t tick)
{
	uint64_t rem = tick % VPIT_HZ * NS_PER_SEC;
	return tick / VPIT_HZ * NS_PER_SEC + (rem + VPIT_HZ - 1) / VPIT_HZ;
}

/* The counter's modulus: 2^16 binary or 10^4 BCD (a count of 0 means this). */
static uint32_t modulus(const struct vpit_channel *c)
{
	return c->bcd ? 10000 : 65536;
}

static uint32_t bcd_to_bin(uint16_t v)
{
	return (v >> 12 & 15) * 1000u + (v >> 8 & 15) * 100u + (v >> 4 & 15) * 10u + (v & 15);
}

static uint16_t bin_to_bcd(uint32_t v)
{
	return (uint16_t)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 |
			  v % 10);
}

static bool gate_level_counts(uint8_t mode)
{
	return mode == 0 || mode == 2 || mode == 3 || mode == 4;
}

static bool periodic(uint8_t mode)
{
	return mode == 2 || mode == 3;
}

/* Modes 2 and 3 need a count of at least 2 (a count of 1 is illegal). */
static uint32_t period_of(uint32_t n)
{
	return n < 2 ? 2 : n;
}

/* The (n, start) pair in force at `tick`, with a pending mode 2/3 reload. */
static void regime_at(const struct vpit_channel *c, uint64_t tick, uint32_t *n, uint64_t *start)
{
	if (c->next_pending && tick >= c->next_start) {
		*n = c->next_n;
		*start = c->next_start;
	} else {
		*n = c->n;
		*start = c->start;
	}
}

/* Clocks counted at `tick`, and the count they started from. */
static uint64_t elapsed_at(const struct vpit_channel *c, uint64_t tick, uint32_t *n)
{
	uint64_t start;
	regime_at(c, tick, n, &start);
	return c->running ? tick - start : c->frozen;
}

/* A pending reload whose time has come becomes the current count. */
static void settle(struct vpit_channel *c, uint64_t tick)
{
	if (c->next_pending && tick >= c->next_start) {
		c->n = c->next_n;
		c->start = c->next_start;
		c->next_pending = false;
		c->null_count = false;
	}
}

static bool out_at(const struct vpit_channel *c, uint64_t tick)
{
	if (!c->armed)
		return c->mode != 0; /* the state the control word sets */
	if (!c->running && c->mode != 0 && c->mode != 4)
		return true; /* 1, 5 untriggered; 2, 3 with GATE low */

	uint32_t n;
	uint64_t k = elapsed_at(c, tick, &n);
	switch (c->mode) {
	case 0:
	case 1:
		return k >= n;
	case 2:
		return k % period_of(n) != period_of(n) - 1;
	case 3:
		return k % period_of(n) < (period_of(n) + 1) / 2;
	default: /* 4, 5: one clock low when the count expires */
		return k != n;
	}
}

/* The counting element's value at `tick`, as the guest reads it. */
static uint16_t count_at(const struct vpit_channel *c, uint64_t tick)
{
	uint32_t m = modulus(c), n, v;

	if (!c->armed || (!c->running && (c->mode == 1 || c->mode == 5))) {
		v = c->n % m;
	} else {
		uint64_t k = elapsed_at(c, tick, &n);
		if (c->mode == 2) {
			v = n - (uint32_t)(k % period_of(n));
		} else if (c->mode == 3) {
			/* Decrements by two through each half of the period. */
			uint32_t p = period_of(n), phase = (uint32_t)(k % p);
			uint32_t high = (p + 1) / 2;
			uint32_t in_half = phase < high ? phase : phase - high;
			uint32_t even = p & ~1u;
			v = even > 2 * in_half ? even - 2 * in_half : 2;
		} else {
			v = (uint32_t)((n + m - k % m) % m);
		}
		v %= m;
	}
	return c->bcd ? bin_to_bcd(v) : (uint16_t)v;
}

/* The first tick after `after` at which OUT rises, or NO_TICK. */
static uint64_t next_rising(const struct vpit_channel *c, uint64_t after)
{
	if (!c->armed || !c->running)
		return NO_TICK;

	uint32_t n;
	uint64_t start;
	regime_at(c, after + 1, &n, &start);
	if (c->next_pending && after < c->next_start) {
		/* The old count's period runs out at next_start, an edge itself. */
		n = c->n;
		start = c->start;
	}
	uint64_t k = after >= start ? after - start : 0;
	uint64_t edge;

	switch (c->mode) {
	case 0:
	case 1:
		edge = start + n;
		break;
	case 4:
	case 5:
		edge = start + n + 1;
		break;
	default: /* 2, 3: every period, from the end of the first */
		edge = start + (k / period_of(n) + 1) * period_of(n);
		break;
	}
	return edge > after ? edge : NO_TICK;
}

static void emit(struct vpit *pit, bool level)
{
	pit->irq_level = level;
	if (pit->set_irq0)
		pit->set_irq0(pit->ctx, level);
}

/* Reports channel 0 up to `tick`: a rising edge, then the level now. */
static void report_irq0(struct vpit *pit, uint64_t tick)
{
	struct vpit_channel *c = &pit->ch[0];
	uint64_t edge = next_rising(c, pit->irq_tick);

	if (tick < pit->irq_tick)
		tick = pit->irq_tick;
	if (edge != NO_TICK && edge <= tick) {
		if (pit->irq_level)
			emit(pit, false);
		emit(pit, true);
	}
	bool level = out_at(c, tick);
	if (level != pit->irq_level)
		emit(pit, level);
	pit->irq_tick = tick;
	for (unsigned i = 0; i < 3; i++)
		settle(&pit->ch[i], tick);
}

static uint64_t now_tick(struct vpit *pit, uint64_t now)
{
	uint64_t tick = vpit_ns_to_ticks(now);
	report_irq0(pit, tick);
	return pit->irq_tick;
}

void vpit_init(struct vpit *pit, void (*set_irq0)(void *ctx, bool level), void *ctx,
	       uint64_t now)
{
	memset(pit, 0, sizeof(*pit));
	pit->set_irq0 = set_irq0;
	pit->ctx = ctx;
	pit->irq_tick = vpit_ns_to_ticks(now);
	for (unsigned i = 0; i < 3; i++) {
		pit->ch[i].access = 3;
		pit->ch[i].n = 65536;
		pit->ch[i].count_reg = 65536;
		pit->ch[i].gate = i != 2; /* gates 0 and 1 are tied high on a PC */
	}
}

static void latch_count(struct vpit_channel *c, uint64_t tick)
{
	if (c->count_latched)
		return; /* a latched count is kept until read */
	c->latch = count_at(c, tick);
	c->count_latched = true;
	c->read_msb_next = false;
}

static void latch_status(struct vpit_channel *c, uint64_t tick)
{
	if (c->status_latched)
		return;
	c->status = (uint8_t)((out_at(c, tick) ? 0x80 : 0) | (c->null_count ? 0x40 : 0) |
			      c->access << 4 | c->mode << 1 | (c->bcd ? 1 : 0));
	c->status_latched = true;
}

/* Read-back command (8254 only): bits 5/4 clear = latch count/status. */
static void read_back(struct vpit *pit, uint8_t val, uint64_t tick)
{
	for (unsigned i = 0; i < 3; i++) {
		if (!(val & (2u << i)))
			continue;
		if (!(val & 0x20))
			latch_count(&pit->ch[i], tick);
		if (!(val & 0x10))
			latch_status(&pit->ch[i], tick);
	}
}

static void write_control(struct vpit *pit, uint8_t val, uint64_t tick)
{
	unsigned sel = val >> 6;
	if (sel == 3) {
		read_back(pit, val, tick);
		return;
	}
	struct vpit_channel *c = &pit->ch[sel];
	unsigned access = val >> 4 & 3;
	if (access == 0) {
		latch_count(c, tick);
		return;
	}
	uint8_t mode = val >> 1 & 7;
	c->mode = mode >= 6 ? mode - 4 : mode; /* 6, 7 are 2, 3 */
	c->access = (uint8_t)access;
	c->bcd = val & 1;
	c->armed = false;
	c->running = false;
	c->next_pending = false;
	c->write_msb_next = false;
	c->read_msb_next = false;
	c->count_latched = false;
	c->status_latched = false;
	c->null_count = true;
}

/* Starts counting from the latest count at `tick`. */
static void restart(struct vpit_channel *c, uint64_t tick, bool running)
{
	c->n = c->count_reg;
	c->start = tick;
	c->frozen = 0;
	c->running = running;
	c->next_pending = false;
	c->null_count = false;
}

/* A complete count has been written: what happens depends on the mode. */
static void load_count(struct vpit_channel *c, uint16_t raw, uint64_t tick)
{
	uint32_t v = c->bcd ? bcd_to_bin(raw) : raw;
	c->count_reg = v ? v : modulus(c);
	c->null_count = true; /* until the count reaches the counting element */

	switch (c->mode) {
	case 0:
	case 4:
		restart(c, tick, c->gate);
		break;
	case 1:
	case 5:
		/* Used at the next trigger; a running count is not disturbed. */
		if (!c->armed)
			c->running = false;
		break;
	default:
		if (!c->armed || !c->running) {
			restart(c, tick, c->gate);
		} else if (c->next_pending) {
			c->next_n = c->count_reg; /* the period end stays */
		} else {
			c->next_n = c->count_reg;
			c->next_start = next_rising(c, tick);
			c->next_pending = true;
		}
		break;
	}
	c->armed = true;
}

static void write_counter(struct vpit_channel *c, uint8_t val, uint64_t tick)
{
	switch (c->access) {
	case 1:
		load_count(c, val, tick);
		break;
	case 2:
		load_count(c, (uint16_t)(val << 8), tick);
		break;
	default:
		if (!c->write_msb_next) {
			c->write_lsb = val;
			c->write_msb_next = true;
			if (c->mode == 0) {
				/* The first byte stops the count; OUT goes low. */
				c->armed = false;
				c->running = false;
			}
		} else {
			c->write_msb_next = false;
			load_count(c, (uint16_t)(val << 8 | c->write_lsb), tick);
		}
		break;
	}
}

static uint8_t read_counter(struct vpit_channel *c, uint64_t tick)
{
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	uint16_t v = c->count_latched ? c->latch : count_at(c, tick);
	bool msb;

	switch (c->access) {
	case 1:
		msb = false;
		c->count_latched = false;
		break;
	case 2:
		msb = true;
		c->count_latched = false;
		break;
	default:
		msb = c->read_msb_next;
		c->read_msb_next = !msb;
		if (msb)
			c->count_latched = false;
		break;
	}
	return msb ? (uint8_t)(v >> 8) : (uint8_t)v;
}

uint8_t vpit_read(struct vpit *pit, uint16_t offset, uint64_t now)
{
	uint64_t tick = now_tick(pit, now);
	if (offset > 2)
		return 0xff; /* the control word register cannot be read */
	uint8_t v = read_counter(&pit->ch[offset], tick);
	report_irq0(pit, tick);
	return v;
}

void vpit_write(struct vpit *pit, uint16_t offset, uint8_t val, uint64_t now)
{
	uint64_t tick = now_tick(pit, now);
	if (offset == 3)
		write_control(pit, val, tick);
	else if (offset < 3)
		write_counter(&pit->ch[offset], val, tick);
	report_irq0(pit, tick);
}

static void set_gate(struct vpit_channel *c, bool gate, uint64_t tick)
{
	if (gate == c->gate)
		return;
	c->gate = gate;
	if (!c->armed)
		return;
	uint32_t n;
	if (gate) {
		if (gate_level_counts(c->mode) && !periodic(c->mode)) {
			/* Modes 0 and 4 resume where they stopped. */
			c->start = tick - c->frozen;
			c->running = true;
		} else {
			/* A trigger: modes 1, 5 start, 2, 3 reload, from the count. */
			restart(c, tick, true);
		}
	} else if (gate_level_counts(c->mode) && c->running) {
		c->frozen = elapsed_at(c, tick, &n);
		settle(c, tick);
		c->running = false;
	}
}

uint8_t vpit_port61_read(struct vpit *pit, uint64_t now)
{
	uint64_t tick = now_tick(pit, now);
	uint8_t v = pit->port61 & 0x0f;

	if ((now / REFRESH_NS) & 1)
		v |= VPIT_PORT61_REFRESH;
	if (out_at(&pit->ch[2], tick))
		v |= VPIT_PORT61_OUT2;
	return v;
}

void vpit_port61_write(struct vpit *pit, uint8_t val, uint64_t now)
{
	uint64_t tick = now_tick(pit, now);
	pit->port61 = val & 0x0f;
	set_gate(&pit->ch[2], val & VPIT_PORT61_GATE2, tick);
}

uint64_t vpit_update(struct vpit *pit, uint64_t now)
{
	uint64_t tick = now_tick(pit, now);
	uint64_t edge = next_rising(&pit->ch[0], tick);
	return edge == NO_TICK ? VPIT_NO_DEADLINE : vpit_ticks_to_ns(edge);
}
