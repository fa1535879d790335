/*
 * Calendar arithmetic on the proleptic Gregorian calendar: days since
 * 1970-01-01 to a civil date and back, weekdays, leap years, and Unix
 * seconds split into a day and the second of that day. Pure logic shared by
 * the host's RTC decoding (kernel/time/rtc_time.c) and the guest's RTC model
 * (guest/vrtc.c).
 */
#ifndef HV_LIB_CALENDAR_H
#define HV_LIB_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

#define CAL_SECS_PER_DAY 86400

struct cal_date {
	int64_t year;
	unsigned month, day; /* 1-12, 1-31 */
};

/* Days since 1970-01-01 of a date (negative before it). */
int64_t cal_days_from_civil(int64_t year, unsigned month, unsigned day);

/* The date of a day since 1970-01-01. */
void cal_civil_from_days(int64_t days, struct cal_date *out);

/* The weekday of a day since 1970-01-01: 0 Sunday .. 6 Saturday. */
unsigned cal_weekday(int64_t days);

bool cal_is_leap(int64_t year);

/* Days in a month (1-12) of a year. */
unsigned cal_month_days(int64_t year, unsigned month);

/* The day (since 1970-01-01) Unix seconds fall in, rounding down; its second in *sec_of_day. */
int64_t cal_split_secs(int64_t secs, unsigned *sec_of_day);

#endif
