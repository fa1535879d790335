/*
 * The screen console's text: a grid of characters fed the same bytes as
 * the serial port, with the few terminal controls the log and the shell's
 * line editor send (CR, LF, BS, TAB, ESC [ K / C / D / A / B / J, SGR
 * ignored). It scrolls when a line feed leaves the last row and wraps when a
 * character follows a full line. Rows changed since the last draw are
 * marked dirty; the screen (screen.c) draws them. Pure: hosted-tested.
 */
#ifndef HV_CONSOLE_TEXTGRID_H
#define HV_CONSOLE_TEXTGRID_H

#include <stdbool.h>
#include <stdint.h>

#define TG_MAX_COLS 240
#define TG_MAX_ROWS 96

struct textgrid {
	unsigned cols, rows;
	unsigned x, y; /* the cursor; x == cols: the line is full, wrap before the next */
	char cells[TG_MAX_ROWS][TG_MAX_COLS];
	bool dirty[TG_MAX_ROWS];
	unsigned scrolls; /* lines scrolled (statistics, tests) */
	/* escape sequence parser */
	uint8_t esc;	  /* 0 none, 1 after ESC, 2 inside CSI */
	unsigned param;	  /* the first numeric parameter */
	bool have_param;
};

/* cols and rows are clamped to 1..TG_MAX_*. */
void tg_init(struct textgrid *g, unsigned cols, unsigned rows);
void tg_putc(struct textgrid *g, char c);
void tg_write(struct textgrid *g, const char *s, unsigned long n);
/* Row y as a terminated string without trailing blanks (tests, dumps). */
void tg_row_text(const struct textgrid *g, unsigned y, char *out, unsigned size);

#endif
