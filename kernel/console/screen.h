/*
 * The console on the screen: what COM1 shows (boot report, log, the shell,
 * panics), drawn on the loader's framebuffer (multiboot2 tag 8: GRUB's or
 * hvboot.efi's GOP mode) with the built-in font, or in VGA text mode on a
 * BIOS machine without one.
 *
 * Writing only updates a text grid in memory (console lock held); the grid
 * is drawn at most every SCREEN_FLUSH_MS (longer when drawing is slow: at
 * most a fifth of the time) from the write path and from the shell's loop,
 * and at once on a panic, so the serial console never waits on the screen.
 */
#ifndef HV_CONSOLE_SCREEN_H
#define HV_CONSOLE_SCREEN_H

#include <stdbool.h>
#include <stddef.h>

#include "kernel/boot/bootinfo.h"

#define SCREEN_FLUSH_MS 40

/*
 * Starts the screen console (after mm_init: it maps the framebuffer) and
 * shows the log so far. Returns false, with the reason printed, when there
 * is nothing to draw on.
 */
bool screen_init(const struct boot_info *bi);
bool screen_active(void);
/* Under the console lock: the bytes the serial port got ('\n' as CR LF when crlf). */
void screen_write_locked(const char *s, size_t n, bool crlf);
/* Draws what changed if the last draw is old enough (takes the console lock). */
void screen_poll(void);
/* Draws now, lock or not (panic). */
void screen_flush_now(void);
/* "framebuffer 1024x768x32, 128x48 text" or "vga text 80x25" (the boot report). */
void screen_describe(char *out, size_t size);

#endif
