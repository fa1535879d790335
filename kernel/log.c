#include "kernel/log.h"

#include "drivers/uart16550.h"
#include "kernel/console/screen.h"
#include "kernel/lib/format.h"
#include "kernel/lib/spinlock.h"
#include "kernel/lib/string.h"

#define LOG_RING_SIZE 16384

static spinlock_t log_lock = SPINLOCK_INIT;
static char ring[LOG_RING_SIZE];
static size_t ring_head; /* total bytes ever written */
static volatile int lock_broken;
static void (*log_sink)(const char *s, size_t n);

/* The console screen as the shell left it (all under log_lock). */
static void (*prompt_redraw)(void *ctx);
static void *prompt_ctx;
static bool prompt_shown;      /* the prompt line is what the cursor sits on */
static bool at_line_start = 1; /* the last byte written ended a line */
static bool vm_lines_muted;
static bool serial_on = true; /* console= without a serial port, or none found: screen only */

void console_serial_enable(bool on)
{
	serial_on = on;
}

bool console_serial_enabled(void)
{
	return serial_on;
}

void log_init(void)
{
	ring_head = 0;
}

void console_write_unlocked(const char *s, size_t n)
{
	for (size_t i = 0; serial_on && i < n; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
	screen_write_locked(s, n, true);
	if (n)
		at_line_start = s[n - 1] == '\n';
}

static uint64_t lock(void)
{
	return lock_broken ? 0 : spin_lock_irqsave(&log_lock);
}

static void unlock(uint64_t flags)
{
	if (!lock_broken)
		spin_unlock_irqrestore(&log_lock, flags);
}

/* Clears the prompt line so that output starts at column 0 (ANSI EL, ECMA-48 §8.3.41). */
static void prompt_hide(void)
{
	if (prompt_shown) {
		console_write_unlocked("\r\033[K", 4);
		prompt_shown = false;
		at_line_start = true;
	}
}

/* Draws the prompt again once the output has finished its line. */
static void prompt_show(void)
{
	if (prompt_redraw && !prompt_shown && at_line_start) {
		prompt_redraw(prompt_ctx);
		prompt_shown = true;
	}
}

void console_prompt_restore_locked(void)
{
	if (!prompt_redraw || prompt_shown)
		return;
	if (!at_line_start)
		console_write_unlocked("\n", 1);
	prompt_show();
}

void vprintk(const char *fmt, va_list ap)
{
	char buf[512];
	int n = format_v(buf, sizeof(buf), fmt, ap);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;

	uint64_t flags = lock();
	for (int i = 0; i < n; i++)
		ring[(ring_head + (size_t)i) % LOG_RING_SIZE] = buf[i];
	ring_head += (size_t)n;
	if (log_sink)
		log_sink(buf, (size_t)n);
	prompt_hide();
	console_write_unlocked(buf, (size_t)n);
	prompt_show();
	unlock(flags);
}

void log_set_sink(void (*sink)(const char *s, size_t n))
{
	uint64_t flags = lock();
	log_sink = sink;
	unlock(flags);
}

void printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

void console_write(const char *s, size_t n)
{
	uint64_t flags = lock();
	prompt_hide();
	console_write_unlocked(s, n);
	prompt_show();
	unlock(flags);
}

void console_print(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = format_v(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	console_write(buf, (size_t)n);
}

void console_write_raw_locked(const char *s, size_t n)
{
	for (size_t i = 0; serial_on && i < n; i++)
		uart_putc(s[i]);
	screen_write_locked(s, n, false);
	if (n)
		at_line_start = s[n - 1] == '\n';
}

void console_write_raw(const char *s, size_t n)
{
	uint64_t flags = lock();
	console_write_raw_locked(s, n);
	unlock(flags);
}

void console_vm_line(const char *vm_name, const char *text)
{
	uint64_t flags = lock();
	if (!vm_lines_muted) {
		prompt_hide();
		console_write_unlocked("[", 1);
		console_write_unlocked(vm_name, strlen(vm_name));
		console_write_unlocked("] ", 2);
		console_write_unlocked(text, strlen(text));
		console_write_unlocked("\n", 1);
		prompt_show();
	}
	unlock(flags);
}

void console_mute_vm_lines(bool mute)
{
	uint64_t flags = lock();
	vm_lines_muted = mute;
	unlock(flags);
}

void console_set_prompt(void (*redraw)(void *ctx), void *ctx)
{
	uint64_t flags = lock();
	prompt_redraw = redraw;
	prompt_ctx = ctx;
	prompt_shown = false;
	unlock(flags);
}

uint64_t console_lock(void)
{
	return lock();
}

void console_unlock(uint64_t flags)
{
	unlock(flags);
}

void console_write_locked(const char *s, size_t n)
{
	console_write_unlocked(s, n);
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
