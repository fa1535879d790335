/*
 * rtc: the VM's CMOS clock shows the host's wall-clock time. Reads the
 * MC146818 time registers as Linux does (wait for update-in-progress to
 * clear, read, read again until equal), in the format register B says,
 * with the century at 0x32 (the FADT's CENTURY index), and compares the
 * result with the Unix time the test put on the command line.
 *
 * Options: epoch=N  the host's Unix time when the test started
 *          slack=S  how far the clock may be from it, seconds (default 3600:
 *                   booting under an emulator takes minutes, not hours)
 */
#include "guest.h"

const char guest_name[] = "rtc";

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71

static uint8_t cmos(uint8_t reg)
{
	outb(CMOS_INDEX, reg);
	return inb(CMOS_DATA);
}

static unsigned bcd(uint8_t v, bool binary)
{
	return binary ? v : (v >> 4) * 10u + (v & 15);
}

struct clock {
	uint8_t r[7]; /* seconds, minutes, hours, day, month, year, century */
};

static void read_clock(struct clock *c)
{
	static const uint8_t regs[7] = { 0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32 };
	for (uint32_t spin = 0; spin < 10000000u && (cmos(0x0a) & 0x80); spin++)
		;
	for (int i = 0; i < 7; i++)
		c->r[i] = cmos(regs[i]);
}

static bool same(const struct clock *a, const struct clock *b)
{
	for (int i = 0; i < 7; i++)
		if (a->r[i] != b->r[i])
			return false;
	return true;
}

/* Days since 1970-01-01 (proleptic Gregorian, years from March; years 1900-2399). */
static int32_t days_from_civil(int32_t y, uint32_t m, uint32_t d)
{
	if (m <= 2)
		y--;
	int32_t era = y / 400;
	int32_t yoe = y - era * 400;
	int32_t mp = m > 2 ? (int32_t)m - 3 : (int32_t)m + 9;
	int32_t doy = (153 * mp + 2) / 5 + (int32_t)d - 1;
	int32_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void guest_main(void)
{
	struct clock a, b;
	int tries = 0;
	do {
		read_clock(&a);
		read_clock(&b);
	} while (++tries < 10 && !same(&a, &b));

	uint8_t reg_b = cmos(0x0b);
	bool binary = reg_b & 0x04, h24 = reg_b & 0x02;
	unsigned sec = bcd(a.r[0], binary), min = bcd(a.r[1], binary);
	unsigned hour = bcd(a.r[2] & 0x7f, binary), day = bcd(a.r[3], binary);
	unsigned month = bcd(a.r[4], binary), year = bcd(a.r[5], binary);
	unsigned century = bcd(a.r[6], binary);
	if (!h24)
		hour = hour % 12 + ((a.r[2] & 0x80) ? 12 : 0);
	unsigned full_year = century * 100 + year;
	printf("rtc: %04u-%02u-%02u %02u:%02u:%02u (register B 0x%02x)\n", full_year, month, day,
	       hour, min, sec, reg_b);

	check(month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour < 24 && min < 60 &&
		      sec < 60,
	      "not a valid time: %u-%u-%u %u:%u:%u", full_year, month, day, hour, min, sec);
	check(century == 19 || century == 20, "century register %u", century);
	uint64_t epoch = opt_u64("epoch", 0);
	if (!check(epoch != 0, "no epoch= on the command line"))
		return;
	int64_t t = (int64_t)days_from_civil((int32_t)full_year, month, day) * 86400 +
		    hour * 3600 + min * 60 + sec;
	int64_t slack = (int64_t)opt_u64("slack", 3600);
	int64_t diff = t - (int64_t)epoch;
	printf("rtc: %lld s after the test's epoch %llu\n", (long long)diff,
	       (unsigned long long)epoch);
	check(diff > -60 && diff < slack, "the clock is %lld s from the host's time",
	      (long long)diff);
}
