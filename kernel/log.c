#include "kernel/log.h"

#include "drivers/uart16550.h"
#include "kernel/console/lineq.h"
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

/*
 * VMs' lines wait here for the console (lineq.h): a vCPU never writes to the
 * UART itself. lineq_lock is taken after log_lock, never the other way round.
 */
#define VM_LINES_SIZE 65536
static spinlock_t lineq_lock = SPINLOCK_INIT;
static char vm_lines_buf[VM_LINES_SIZE];
static struct lineq vm_lines = {.buf = vm_lines_buf, .size = VM_LINES_SIZE};

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

/*
 * Takes the oldest waiting VM line (and, once the queue is empty, the count
 * of lines dropped); 0 when nothing waits. After a panic the queue's lock may
 * be held by a stopped core, so it is not taken.
 */
static size_t take_vm_line(char *line, uint64_t *dropped)
{
	uint64_t f = lock_broken ? 0 : spin_lock_irqsave(&lineq_lock);
	size_t n = lineq_get(&vm_lines, line);
	*dropped = n ? 0 : lineq_take_dropped(&vm_lines);
	if (!lock_broken)
		spin_unlock_irqrestore(&lineq_lock, f);
	return n;
}

/* Prints the VM lines that wait, at most max of them; log_lock is taken per line. */
static void drain_vm_lines(unsigned max)
{
	char line[LINEQ_LINE_MAX];
	for (unsigned i = 0; i < max; i++) {
		uint64_t dropped;
		uint64_t flags = lock();
		size_t n = take_vm_line(line, &dropped);
		if (n || dropped) {
			prompt_hide();
			if (n)
				console_write_unlocked(line, n);
			else {
				char note[160];
				size_t k = format(note, sizeof(note),
						  "hv: console: %llu VM lines not shown: they came faster "
						  "than the console prints (`console NAME` has them)\n",
						  (unsigned long long)dropped);
				console_write_unlocked(note, k);
			}
			prompt_show();
		}
		unlock(flags);
		if (!n)
			return;
	}
}

void console_drain(void)
{
	drain_vm_lines(64);
}

void vprintk(const char *fmt, va_list ap)
{
	char buf[512];
	int n = format_v(buf, sizeof(buf), fmt, ap);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;

	/* the VM lines that came before this line are printed before it */
	drain_vm_lines(~0u);
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
	drain_vm_lines(~0u);
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
	if (__atomic_load_n(&vm_lines_muted, __ATOMIC_RELAXED))
		return;
	uint64_t flags = spin_lock_irqsave(&lineq_lock);
	lineq_put(&vm_lines, vm_name, text);
	spin_unlock_irqrestore(&lineq_lock, flags);
}

void console_mute_vm_lines(bool mute)
{
	if (mute)
		drain_vm_lines(~0u); /* what came before the attach is shown before it */
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
