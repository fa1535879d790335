/*
 * RTC register decoding and Unix time (see rtc_time.h). Register
 * formats: Motorola MC146818A datasheet, "Time, Calendar and Alarm
 * Locations" (BCD or binary per register B bit 2; 12-hour mode per bit 1,
 * hours 1-12 with bit 7 for PM). The calendar arithmetic is kernel/lib/calendar.c.
 */
#include "kernel/time/rtc_time.h"

#include "kernel/lib/calendar.h"

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
	    mday > cal_month_days(year, month))
		return false;
	*out = (struct rtc_date){ year, month, mday, hour, min, sec };
	return true;
}

int64_t rtc_date_to_unix(const struct rtc_date *d)
{
	return cal_days_from_civil(d->year, d->month, d->day) * CAL_SECS_PER_DAY +
	       d->hour * 3600 + d->min * 60 + d->sec;
}

void rtc_unix_to_date(int64_t secs, struct rtc_date *out)
{
	unsigned sod;
	struct cal_date date;
	cal_civil_from_days(cal_split_secs(secs, &sod), &date);
	out->year = date.year;
	out->month = date.month;
	out->day = date.day;
	out->hour = sod / 3600;
	out->min = sod / 60 % 60;
	out->sec = sod % 60;
}
