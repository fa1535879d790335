/*
 * Calendar arithmetic (see calendar.h). The day counts use the era
 * arithmetic of H. Hinnant's "chrono-Compatible Low-Level Date Algorithms":
 * 400-year eras of 146097 days, years counted from March so that the leap
 * day ends the year.
 */
#include "kernel/lib/calendar.h"

int64_t cal_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	if (m <= 2)
		y--;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	unsigned mp = m > 2 ? m - 3 : m + 9;
	int64_t doy = (153 * mp + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void cal_civil_from_days(int64_t days, struct cal_date *out)
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
}

unsigned cal_weekday(int64_t days)
{
	/* 1970-01-01 was a Thursday (4). */
	return (unsigned)(((days % 7) + 7 + 4) % 7);
}

bool cal_is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned cal_month_days(int64_t y, unsigned m)
{
	static const unsigned days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && cal_is_leap(y) ? 29 : days[m - 1];
}

int64_t cal_split_secs(int64_t secs, unsigned *sec_of_day)
{
	int64_t days = secs / CAL_SECS_PER_DAY, sod = secs % CAL_SECS_PER_DAY;
	if (sod < 0) {
		sod += CAL_SECS_PER_DAY;
		days--;
	}
	*sec_of_day = (unsigned)sod;
	return days;
}
