/*
 * MC146818A RTC model. References: Motorola MC146818A datasheet (address map,
 * registers A-D, update cycle, interrupts) and the compatible Dallas DS12887
 * datasheet (UIP timing: set 244 us before the update; divider control).
 *
 * The divider chain has a phase, `origin`: each second ends (the update
 * cycle happens) at origin + k seconds, and the periodic interrupt divides
 * the same 32.768 kHz chain. While the clock counts, the time shown is
 * sec_base + (k - k_base); the time registers are regenerated from it on
 * each read. When updates stop (SET, divider reset) the registers hold what
 * they show and what the guest writes, and counting resumes from them.
 * The update itself is taken to be instantaneous at the end of the UIP window.
 */
#include "guest/vrtc.h"

#include "kernel/lib/calendar.h"
#include "kernel/lib/string.h"

#define NS_PER_SEC 1000000000ull
#define XTAL_HZ 32768ull
#define UIP_NS 244141ull /* 8 cycles of 32.768 kHz before the update */
#define HALF_SEC_NS 500000000ull

static uint8_t reg_a(const struct vrtc *rtc)
{
	return rtc->cmos[VRTC_REG_A];
}

static uint8_t reg_b(const struct vrtc *rtc)
{
	return rtc->cmos[VRTC_REG_B];
}

/* Register A bits 6:4: 010 (and the old 000, 001 time bases) run; 11x reset. */
static bool divider_running(const struct vrtc *rtc)
{
	return ((reg_a(rtc) >> 4) & 7) <= 2;
}

static bool updates_enabled(const struct vrtc *rtc)
{
	return divider_running(rtc) && !(reg_b(rtc) & VRTC_B_SET);
}

/* The index of the second in progress at `now` (ends at origin + (k+1) s). */
static uint64_t second_index(const struct vrtc *rtc, uint64_t now)
{
	return (now - rtc->origin) / NS_PER_SEC;
}

static uint64_t cycles_since_origin(const struct vrtc *rtc, uint64_t now)
{
	uint64_t d = now - rtc->origin;
	return d / NS_PER_SEC * XTAL_HZ + d % NS_PER_SEC * XTAL_HZ / NS_PER_SEC;
}

static uint64_t cycle_to_ns(const struct vrtc *rtc, uint64_t cycle)
{
	uint64_t rem = cycle % XTAL_HZ * NS_PER_SEC;
	return rtc->origin + cycle / XTAL_HZ * NS_PER_SEC + (rem + XTAL_HZ - 1) / XTAL_HZ;
}

/*
 * Register A bits 3:0 select the periodic rate: 0 off, 1 and 2 the same as
 * 8 and 9 with a 32.768 kHz base, else 32768 >> (rs - 1) Hz. Returns log2 of
 * the period in crystal cycles, or -1.
 */
static int periodic_shift(const struct vrtc *rtc)
{
	unsigned rs = reg_a(rtc) & 15;
	if (rs == 0)
		return -1;
	if (rs <= 2)
		rs += 7;
	return (int)rs - 1;
}

struct rtc_time {
	int64_t year;
	unsigned month, day, hour, min, sec, wday; /* wday 1 = Sunday */
};

static void time_from_secs(int64_t secs, struct rtc_time *t)
{
	unsigned sod;
	int64_t days = cal_split_secs(secs, &sod);
	struct cal_date date;
	cal_civil_from_days(days, &date);
	t->year = date.year;
	t->month = date.month;
	t->day = date.day;
	t->wday = cal_weekday(days) + 1;
	t->hour = sod / 3600;
	t->min = sod / 60 % 60;
	t->sec = sod % 60;
}

/* Register values in the data mode register B selects. */
static uint8_t encode(const struct vrtc *rtc, unsigned v)
{
	if (reg_b(rtc) & VRTC_B_DM_BINARY)
		return (uint8_t)v;
	return (uint8_t)((v / 10 % 10) << 4 | v % 10);
}

static unsigned decode(const struct vrtc *rtc, uint8_t v)
{
	if (reg_b(rtc) & VRTC_B_DM_BINARY)
		return v;
	return (v >> 4) * 10u + (v & 15);
}

/* 12-hour mode: 1..12 with bit 7 for PM (00:xx is 12 AM, 12:xx is 12 PM). */
static uint8_t encode_hour(const struct vrtc *rtc, unsigned h)
{
	if (reg_b(rtc) & VRTC_B_24H)
		return encode(rtc, h);
	unsigned h12 = h % 12 ? h % 12 : 12;
	return (uint8_t)(encode(rtc, h12) | (h >= 12 ? 0x80 : 0));
}

static unsigned decode_hour(const struct vrtc *rtc, uint8_t v)
{
	if (reg_b(rtc) & VRTC_B_24H)
		return decode(rtc, v);
	return decode(rtc, v & 0x7f) % 12 + ((v & 0x80) ? 12 : 0);
}

static void write_time_regs(struct vrtc *rtc, int64_t secs)
{
	struct rtc_time t;
	time_from_secs(secs, &t);
	int64_t y = t.year < 0 ? 0 : t.year;
	rtc->cmos[VRTC_SECONDS] = encode(rtc, t.sec);
	rtc->cmos[VRTC_MINUTES] = encode(rtc, t.min);
	rtc->cmos[VRTC_HOURS] = encode_hour(rtc, t.hour);
	rtc->cmos[VRTC_DAY_OF_WEEK] = encode(rtc, t.wday);
	rtc->cmos[VRTC_DAY_OF_MONTH] = encode(rtc, t.day);
	rtc->cmos[VRTC_MONTH] = encode(rtc, t.month);
	rtc->cmos[VRTC_YEAR] = encode(rtc, (unsigned)(y % 100));
	rtc->cmos[VRTC_CENTURY] = encode(rtc, (unsigned)(y / 100 % 100));
}

/* The time the registers show (day of week is not used). */
static int64_t read_time_regs(const struct vrtc *rtc)
{
	unsigned month = decode(rtc, rtc->cmos[VRTC_MONTH]);
	unsigned century = decode(rtc, rtc->cmos[VRTC_CENTURY]);
	unsigned yy = decode(rtc, rtc->cmos[VRTC_YEAR]) % 100;

	if (month < 1 || month > 12)
		month = 1;
	if (century == 0)
		century = yy < 70 ? 20 : 19; /* no century kept: the usual window */
	int64_t days = cal_days_from_civil(century * 100 + yy, month,
				      decode(rtc, rtc->cmos[VRTC_DAY_OF_MONTH]));
	return days * CAL_SECS_PER_DAY + decode_hour(rtc, rtc->cmos[VRTC_HOURS]) * 3600 +
	       decode(rtc, rtc->cmos[VRTC_MINUTES]) * 60 + decode(rtc, rtc->cmos[VRTC_SECONDS]);
}

static int64_t secs_at(const struct vrtc *rtc, uint64_t k)
{
	return rtc->sec_base + (int64_t)(k - rtc->k_base);
}

/* Brings the time registers up to `now` while the clock counts. */
static void sync_regs(struct vrtc *rtc, uint64_t now)
{
	if (rtc->counting)
		write_time_regs(rtc, secs_at(rtc, second_index(rtc, now)));
}

/* Counting (re)starts from what the registers show, in the current second. */
static void rebase(struct vrtc *rtc, uint64_t now)
{
	rtc->sec_base = read_time_regs(rtc);
	rtc->k_base = second_index(rtc, now);
}

/* An alarm register: 0xc0-0xff is "don't care" (datasheet, "Alarm"). */
static bool alarm_field_matches(const struct vrtc *rtc, uint8_t reg, unsigned v, bool hour)
{
	if ((reg & 0xc0) == 0xc0)
		return true;
	return (hour ? decode_hour(rtc, reg) : decode(rtc, reg)) == v;
}

static bool alarm_matches(const struct vrtc *rtc, int64_t secs)
{
	unsigned sod;
	cal_split_secs(secs, &sod);
	return alarm_field_matches(rtc, rtc->cmos[VRTC_SECONDS_ALARM], sod % 60, false) &&
	       alarm_field_matches(rtc, rtc->cmos[VRTC_MINUTES_ALARM], sod / 60 % 60, false) &&
	       alarm_field_matches(rtc, rtc->cmos[VRTC_HOURS_ALARM], sod / 3600, true);
}

/*
 * The first second index after `k` whose new time matches the alarm, within
 * `limit` seconds (the alarm repeats daily, so a day covers every case), or 0.
 */
static uint64_t next_alarm(const struct vrtc *rtc, uint64_t k, uint64_t limit)
{
	if (limit > CAL_SECS_PER_DAY)
		limit = CAL_SECS_PER_DAY;
	for (uint64_t j = 1; j <= limit; j++)
		if (alarm_matches(rtc, secs_at(rtc, k + j)))
			return k + j;
	return 0;
}

static void update_irq(struct vrtc *rtc)
{
	uint8_t c = rtc->cmos[VRTC_REG_C] & (VRTC_C_PF | VRTC_C_AF | VRTC_C_UF);
	uint8_t enabled = reg_b(rtc) & (VRTC_B_PIE | VRTC_B_AIE | VRTC_B_UIE);

	/* The flag bits sit at the same positions as their enables. */
	if (c & enabled)
		c |= VRTC_C_IRQF;
	rtc->cmos[VRTC_REG_C] = c;
	bool level = c & VRTC_C_IRQF;
	if (level == rtc->irq_level)
		return;
	rtc->irq_level = level;
	if (rtc->set_irq)
		rtc->set_irq(rtc->ctx, level);
}

/* Sets the flags for the events between the last call and `now`. */
static void advance(struct vrtc *rtc, uint64_t now)
{
	if (now <= rtc->last) {
		update_irq(rtc);
		return;
	}
	uint64_t last = rtc->last;
	rtc->last = now;

	if (divider_running(rtc)) {
		int shift = periodic_shift(rtc);
		if (shift >= 0 && cycles_since_origin(rtc, last) >> shift !=
					  cycles_since_origin(rtc, now) >> shift)
			rtc->cmos[VRTC_REG_C] |= VRTC_C_PF;
	}
	if (rtc->counting) {
		uint64_t k0 = second_index(rtc, last), k1 = second_index(rtc, now);
		if (k1 > k0) {
			rtc->cmos[VRTC_REG_C] |= VRTC_C_UF;
			if (next_alarm(rtc, k0, k1 - k0))
				rtc->cmos[VRTC_REG_C] |= VRTC_C_AF;
		}
	}
	update_irq(rtc);
}

void vrtc_init(struct vrtc *rtc, void (*set_irq)(void *ctx, bool level), void *ctx,
	       int64_t epoch, uint64_t now)
{
	memset(rtc, 0, sizeof(*rtc));
	rtc->set_irq = set_irq;
	rtc->ctx = ctx;
	rtc->cmos[VRTC_REG_A] = 0x26;
	rtc->cmos[VRTC_REG_B] = VRTC_B_24H;
	rtc->cmos[VRTC_REG_D] = VRTC_D_VRT;
	rtc->origin = now;
	rtc->last = now;
	rtc->counting = true;
	rtc->sec_base = epoch;
	rtc->k_base = 0;
	sync_regs(rtc, now);
}

void vrtc_set_time(struct vrtc *rtc, int64_t epoch, uint64_t now)
{
	advance(rtc, now);
	if (rtc->counting) {
		rtc->sec_base = epoch;
		rtc->k_base = second_index(rtc, now);
		sync_regs(rtc, now);
	} else {
		write_time_regs(rtc, epoch);
	}
}

int64_t vrtc_get_time(struct vrtc *rtc, uint64_t now)
{
	sync_regs(rtc, now);
	return read_time_regs(rtc);
}

static bool is_time_reg(uint8_t index)
{
	return index <= VRTC_YEAR || index == VRTC_CENTURY;
}

static bool in_uip_window(const struct vrtc *rtc, uint64_t now)
{
	return rtc->counting && (now - rtc->origin) % NS_PER_SEC >= NS_PER_SEC - UIP_NS;
}

static uint8_t read_data(struct vrtc *rtc, uint64_t now)
{
	uint8_t i = rtc->index;

	advance(rtc, now);
	switch (i) {
	case VRTC_REG_A:
		return (uint8_t)((reg_a(rtc) & 0x7f) | (in_uip_window(rtc, now) ? VRTC_A_UIP : 0));
	case VRTC_REG_C: {
		uint8_t c = rtc->cmos[VRTC_REG_C];
		rtc->cmos[VRTC_REG_C] = 0; /* all flags clear on read */
		update_irq(rtc);
		return c;
	}
	case VRTC_REG_D:
		return VRTC_D_VRT;
	default:
		if (is_time_reg(i))
			sync_regs(rtc, now);
		return rtc->cmos[i];
	}
}

/* Register A: the divider control and rate; UIP is read-only. */
static void write_reg_a(struct vrtc *rtc, uint8_t val, uint64_t now)
{
	bool was_running = divider_running(rtc);

	sync_regs(rtc, now);
	rtc->cmos[VRTC_REG_A] = val & 0x7f;
	bool running = divider_running(rtc);
	if (running && !was_running) {
		/* Out of reset, the first update comes 500 ms later. */
		rtc->origin = now - HALF_SEC_NS;
		rtc->last = now;
		rebase(rtc, now);
	}
	rtc->counting = updates_enabled(rtc);
}

static void write_reg_b(struct vrtc *rtc, uint8_t val, uint64_t now)
{
	bool was_counting = rtc->counting;

	sync_regs(rtc, now);
	/* SET stops updates and clears UIE (MC146818A, register B bit 7). */
	if (val & VRTC_B_SET)
		val &= (uint8_t)~VRTC_B_UIE;
	rtc->cmos[VRTC_REG_B] = val;
	rtc->counting = updates_enabled(rtc);
	if (rtc->counting && !was_counting)
		rebase(rtc, now); /* from the registers as written, phase kept */
	else
		sync_regs(rtc, now); /* the time in the new data mode */
	update_irq(rtc);
}

static void write_data(struct vrtc *rtc, uint8_t val, uint64_t now)
{
	uint8_t i = rtc->index;

	advance(rtc, now);
	switch (i) {
	case VRTC_REG_A:
		write_reg_a(rtc, val, now);
		break;
	case VRTC_REG_B:
		write_reg_b(rtc, val, now);
		break;
	case VRTC_REG_C:
	case VRTC_REG_D:
		break; /* read-only */
	default:
		if (is_time_reg(i) && rtc->counting) {
			/* The chip keeps counting from the written value. */
			sync_regs(rtc, now);
			rtc->cmos[i] = val;
			rebase(rtc, now);
			sync_regs(rtc, now);
		} else {
			rtc->cmos[i] = val;
		}
		break;
	}
}

uint8_t vrtc_read(struct vrtc *rtc, uint16_t offset, uint64_t now)
{
	if (offset == 1)
		return read_data(rtc, now);
	return 0xff; /* the index register is write-only */
}

void vrtc_write(struct vrtc *rtc, uint16_t offset, uint8_t val, uint64_t now)
{
	if (offset == 0) {
		/* Bit 7 is the PC's NMI mask, not part of the address. */
		rtc->index = val & 0x7f;
		rtc->nmi_disabled = val & 0x80;
	} else if (offset == 1) {
		write_data(rtc, val, now);
	}
}

uint64_t vrtc_update(struct vrtc *rtc, uint64_t now)
{
	advance(rtc, now);
	if (rtc->irq_level)
		return VRTC_NO_DEADLINE; /* nothing changes until register C is read */

	uint64_t best = VRTC_NO_DEADLINE;
	uint8_t b = reg_b(rtc);
	int shift = periodic_shift(rtc);

	if ((b & VRTC_B_PIE) && shift >= 0 && divider_running(rtc)) {
		uint64_t next = ((cycles_since_origin(rtc, now) >> shift) + 1) << shift;
		best = cycle_to_ns(rtc, next);
	}
	if (rtc->counting && (b & (VRTC_B_UIE | VRTC_B_AIE))) {
		uint64_t k = second_index(rtc, now), at = 0;
		if (b & VRTC_B_UIE)
			at = k + 1;
		else
			at = next_alarm(rtc, k, CAL_SECS_PER_DAY);
		if (at) {
			uint64_t ns = rtc->origin + at * NS_PER_SEC;
			if (ns < best)
				best = ns;
		}
	}
	return best;
}

uint8_t vrtc_cmos_get(const struct vrtc *rtc, uint8_t index)
{
	return index >= VRTC_RAM_START && index < VRTC_SIZE ? rtc->cmos[index] : 0xff;
}

void vrtc_cmos_set(struct vrtc *rtc, uint8_t index, uint8_t val)
{
	if (index >= VRTC_RAM_START && index < VRTC_SIZE)
		rtc->cmos[index] = val;
}
