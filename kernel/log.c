#include "kernel/log.h"

#include "drivers/uart16550.h"
#include "kernel/lib/format.h"
#include "kernel/lib/spinlock.h"
#include "kernel/lib/string.h"

#define LOG_RING_SIZE 16384

static spinlock_t log_lock = SPINLOCK_INIT;
static char ring[LOG_RING_SIZE];
static size_t ring_head; /* total bytes ever written */
static volatile int lock_broken;

void log_init(void)
{
	ring_head = 0;
}

void console_write_unlocked(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
}

void vprintk(const char *fmt, va_list ap)
{
	char buf[512];
	int n = format_v(buf, sizeof(buf), fmt, ap);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;

	uint64_t flags = 0;
	if (!lock_broken)
		flags = spin_lock_irqsave(&log_lock);
	for (int i = 0; i < n; i++)
		ring[(ring_head + (size_t)i) % LOG_RING_SIZE] = buf[i];
	ring_head += (size_t)n;
	console_write_unlocked(buf, (size_t)n);
	if (!lock_broken)
		spin_unlock_irqrestore(&log_lock, flags);
}

void printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

size_t log_read_ring(char *buf, size_t size)
{
	uint64_t flags = spin_lock_irqsave(&log_lock);
	size_t avail = ring_head < LOG_RING_SIZE ? ring_head : LOG_RING_SIZE;
	size_t n = avail < size ? avail : size;
	size_t start = ring_head - n;
	for (size_t i = 0; i < n; i++)
		buf[i] = ring[(start + i) % LOG_RING_SIZE];
	spin_unlock_irqrestore(&log_lock, flags);
	return n;
}

void log_break_lock(void)
{
	lock_broken = 1;
}
