/*
 * RTC register decoding and calendar arithmetic (see rtc_time.h). Register
 * formats: Motorola MC146818A datasheet, "Time, Calendar and Alarm
 * Locations" (BCD or binary per register B bit 2; 12-hour mode per bit 1,
 * hours 1-12 with bit 7 for PM). The day counts use the era arithmetic of
 * H. Hinnant's "chrono-Compatible Low-Level Date Algorithms".
 */
#include "kernel/time/rtc_time.h"

#define SECS_PER_DAY 86400

int64_t rtc_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	/* Years from March, so that the leap day ends the year. */
	if (m <= 2)
		y--;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	unsigned mp = m > 2 ? m - 3 : m + 9;
	int64_t doy = (153 * mp + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void rtc_civil_from_days(int64_t days, struct rtc_date *out)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	out->day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	out->month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	out->year = yoe + era * 400 + (out->month <= 2);
	out->hour = out->min = out->sec = 0;
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(int64_t y, unsigned m)
{
	static const unsigned days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* One register in the data mode of register B; false for a bad BCD digit. */
static bool field(uint8_t reg_b, uint8_t v, unsigned *out)
{
	if (reg_b & RTC_REG_B_BINARY) {
		*out = v;
		return true;
	}
	if ((v & 15) > 9 || (v >> 4) > 9)
		return false;
	*out = (v >> 4) * 10u + (v & 15);
	return true;
}

bool rtc_regs_decode(const struct rtc_regs *r, struct rtc_date *out)
{
	unsigned sec, min, hour, mday, month, yy, century;
	uint8_t b = r->reg_b;
	bool pm = false;
	uint8_t hour_reg = r->hour;

	if (!(b & RTC_REG_B_24H)) {
		pm = hour_reg & RTC_HOUR_PM;
		hour_reg &= (uint8_t)~RTC_HOUR_PM;
	}
	if (!field(b, r->sec, &sec) || !field(b, r->min, &min) || !field(b, hour_reg, &hour) ||
	    !field(b, r->mday, &mday) || !field(b, r->month, &month) || !field(b, r->year, &yy))
		return false;
	if (!(b & RTC_REG_B_24H)) {
		/* 12 AM is midnight, 12 PM noon */
		if (hour < 1 || hour > 12)
			return false;
		hour = hour % 12 + (pm ? 12 : 0);
	}
	if (r->has_century) {
		if (!field(b, r->century, &century) || century < 19 || century > 99)
			return false;
	} else {
		century = yy < 70 ? 20 : 19;
	}
	int64_t year = century * 100 + yy;
	if (sec > 59 || min > 59 || hour > 23 || yy > 99 || month < 1 || month > 12 || mday < 1 ||
	    mday > month_days(year, month))
		return false;
	*out = (struct rtc_date){ year, month, mday, hour, min, sec };
	return true;
}

int64_t rtc_date_to_unix(const struct rtc_date *d)
{
	return rtc_days_from_civil(d->year, d->month, d->day) * SECS_PER_DAY + d->hour * 3600 +
	       d->min * 60 + d->sec;
}

void rtc_unix_to_date(int64_t secs, struct rtc_date *out)
{
	int64_t days = secs / SECS_PER_DAY, sod = secs % SECS_PER_DAY;
	if (sod < 0) {
		sod += SECS_PER_DAY;
		days--;
	}
	rtc_civil_from_days(days, out);
	out->hour = (unsigned)(sod / 3600);
	out->min = (unsigned)(sod / 60 % 60);
	out->sec = (unsigned)(sod % 60);
}
