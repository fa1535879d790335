/*
 * The hypervisor's log, and the host console it shares with the shell: log
 * lines go to the console and to a ring for dmesg; VM lines and the shell's
 * own output go to the console only. While the shell shows its prompt, any
 * output is printed above it and the prompt line is drawn again after it.
 */
#ifndef HV_LOG_H
#define HV_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void log_init(void);
/* Whether console output goes to the serial port (off: the screen alone). */
void console_serial_enable(bool on);
bool console_serial_enabled(void);
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vprintk(const char *fmt, va_list ap);
/* Writes raw text to the console, bypassing the lock (panic paths only). */
void console_write_unlocked(const char *s, size_t n);
/* Copies the newest log text into buf; returns its length. */
size_t log_read_ring(char *buf, size_t size);
/* Makes printk take no lock: called once every other CPU has stopped. */
void log_break_lock(void);
/*
 * A copy of the text of every log line (remote syslog): sink() runs inside
 * printk with the log lock held and interrupts off, on any core; it must
 * only copy (never print, never wait). NULL: none.
 */
void log_set_sink(void (*sink)(const char *s, size_t n));

/* Text for the console only (not the log ring), '\n' sent as CR LF. */
void console_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void console_write(const char *s, size_t n);
/* Bytes exactly as given (an attached VM's serial output). */
void console_write_raw(const char *s, size_t n);
/*
 * One line of a VM's serial output, as "[name] text"; dropped while muted.
 * It is queued (console/lineq.h), never written to the UART by the caller:
 * console_drain (the console loop), the next log line or shell output print it.
 */
void console_vm_line(const char *vm_name, const char *text);
/* Prints some of the VM lines that wait (the console loop calls it every turn). */
void console_drain(void);
/* While a VM's console is attached, other VMs' lines are not printed. */
void console_mute_vm_lines(bool mute);

/*
 * The prompt line. While redraw is set, output first clears the prompt line,
 * then calls redraw (with the console lock held) to draw it again. NULL: no
 * prompt (a command is running).
 */
void console_set_prompt(void (*redraw)(void *ctx), void *ctx);
/* The console lock, for the shell's line editing; writes under it use _locked. */
uint64_t console_lock(void);
void console_unlock(uint64_t flags);
void console_write_locked(const char *s, size_t n);
void console_write_raw_locked(const char *s, size_t n);
/* Under the lock: draws the prompt again if output has hidden it. */
void console_prompt_restore_locked(void);

#endif
