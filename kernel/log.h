/* The hypervisor's log: to the console, and kept in a ring for dmesg. */
#ifndef HV_LOG_H
#define HV_LOG_H

#include <stdarg.h>
#include <stddef.h>

void log_init(void);
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vprintk(const char *fmt, va_list ap);
/* Writes raw text to the console, bypassing the lock (panic paths only). */
void console_write_unlocked(const char *s, size_t n);
/* Copies the newest log text into buf; returns its length. */
size_t log_read_ring(char *buf, size_t size);
/* Makes printk take no lock: called once every other CPU has stopped. */
void log_break_lock(void);

#endif
