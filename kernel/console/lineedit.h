/*
 * A line editor for a serial terminal (VT100/ANSI): printable characters
 * insert at the cursor; Backspace (DEL or ^H) deletes before it, Delete
 * (ESC[3~ or ^D) under it; Left/Right (ESC[D/C, or ^B/^F) move it; Home/End
 * (ESC[H/F, ESC[1~/4~, ESC OH/OF, or ^A/^E) jump; Up/Down (ESC[A/B, ^P/^N)
 * walk the history; ^U clears the line, ^C abandons it; Enter (CR, LF or
 * CR LF) ends it.
 *
 * Pure logic: it echoes through an output callback and knows nothing of
 * the UART, so the same code runs in hosted unit tests.
 */
#ifndef HV_CONSOLE_LINEEDIT_H
#define HV_CONSOLE_LINEEDIT_H

#include <stdbool.h>
#include <stddef.h>

#define LE_LINE_MAX 200
#define LE_HISTORY 16

enum le_result {
	LE_MORE,   /* keep feeding */
	LE_LINE,   /* a line is ready in buf (terminated) */
	LE_CANCEL, /* ^C: the line was abandoned */
};

struct line_editor {
	const char *prompt;
	char buf[LE_LINE_MAX + 1];
	size_t len, cursor;

	/* history: the newest is hist[(hist_next - 1) % LE_HISTORY] */
	char hist[LE_HISTORY][LE_LINE_MAX + 1];
	unsigned hist_count, hist_next;
	unsigned browse;		  /* 0: editing a new line; k: showing the k-th newest */
	char draft[LE_LINE_MAX + 1]; /* the new line, kept while browsing */
	bool keep_history;

	int esc;	 /* escape-sequence state */
	char esc_arg;	 /* the digit of ESC [ n ~ */
	bool last_cr;	 /* CR just ended a line: a following LF is its pair */

	void (*out)(void *ctx, const char *s, size_t n);
	void *ctx;
};

void le_init(struct line_editor *e, const char *prompt, bool keep_history,
	     void (*out)(void *ctx, const char *s, size_t n), void *ctx);
/* Starts a new, empty line (the prompt is not drawn: call le_redraw). */
void le_reset(struct line_editor *e);
/* Draws the prompt and the line from column 0, and puts the cursor back. */
void le_redraw(struct line_editor *e);
enum le_result le_feed(struct line_editor *e, char c);

/*
 * Splits a command line into words at spaces and tabs, in place; "double
 * quotes" keep spaces in a word. Returns the number of words, at most max.
 */
int le_split(char *line, char **argv, int max);

#endif
