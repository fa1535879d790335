#include "kernel/console/lineedit.h"

#include "kernel/lib/format.h"
#include "kernel/lib/string.h"

#define CTRL(c) ((c) & 0x1f)
#define ESC 0x1b
#define DEL 0x7f

enum { ESC_NONE, ESC_START, ESC_CSI, ESC_SS3 };

static void put(struct line_editor *e, const char *s, size_t n)
{
	if (e->out && n)
		e->out(e->ctx, s, n);
}

static void puts_le(struct line_editor *e, const char *s)
{
	put(e, s, strlen(s));
}

/* Cursor left or right by n columns (ECMA-48 CUB/CUF). */
static void move(struct line_editor *e, size_t n, char dir)
{
	char seq[16];
	if (!n)
		return;
	int len = n == 1 ? format(seq, sizeof(seq), "\033[%c", dir)
			 : format(seq, sizeof(seq), "\033[%zu%c", n, dir);
	put(e, seq, (size_t)len);
}

void le_init(struct line_editor *e, const char *prompt, bool keep_history,
	     void (*out)(void *ctx, const char *s, size_t n), void *ctx)
{
	memset(e, 0, sizeof(*e));
	e->prompt = prompt;
	e->keep_history = keep_history;
	e->out = out;
	e->ctx = ctx;
}

void le_reset(struct line_editor *e)
{
	e->len = e->cursor = 0;
	e->buf[0] = 0;
	e->browse = 0;
	e->esc = ESC_NONE;
}

void le_redraw(struct line_editor *e)
{
	puts_le(e, "\r\033[K"); /* column 0, erase to end of line (EL) */
	puts_le(e, e->prompt);
	put(e, e->buf, e->len);
	move(e, e->len - e->cursor, 'D');
}

static void set_line(struct line_editor *e, const char *text)
{
	strlcpy_hv(e->buf, text, sizeof(e->buf));
	e->len = e->cursor = strlen(e->buf);
	le_redraw(e);
}

static void insert(struct line_editor *e, char c)
{
	if (e->len == LE_LINE_MAX)
		return; /* full: the character is dropped, as a terminal beeps */
	memmove(e->buf + e->cursor + 1, e->buf + e->cursor, e->len - e->cursor);
	e->buf[e->cursor] = c;
	e->len++;
	e->buf[e->len] = 0;
	/* write from the new character to the end, then come back */
	put(e, e->buf + e->cursor, e->len - e->cursor);
	e->cursor++;
	move(e, e->len - e->cursor, 'D');
}

/* Deletes the character at pos (pos < len) and redraws the tail. */
static void delete_at(struct line_editor *e, size_t pos)
{
	memmove(e->buf + pos, e->buf + pos + 1, e->len - pos - 1);
	e->len--;
	e->buf[e->len] = 0;
	if (pos < e->cursor) {
		e->cursor--;
		puts_le(e, "\b");
	}
	put(e, e->buf + e->cursor, e->len - e->cursor);
	puts_le(e, " ");
	move(e, e->len - e->cursor + 1, 'D');
}

static void left(struct line_editor *e)
{
	if (e->cursor) {
		e->cursor--;
		move(e, 1, 'D');
	}
}

static void right(struct line_editor *e)
{
	if (e->cursor < e->len) {
		e->cursor++;
		move(e, 1, 'C');
	}
}

static void home(struct line_editor *e)
{
	move(e, e->cursor, 'D');
	e->cursor = 0;
}

static void end(struct line_editor *e)
{
	move(e, e->len - e->cursor, 'C');
	e->cursor = e->len;
}

static const char *history_entry(const struct line_editor *e, unsigned k)
{
	return e->hist[(e->hist_next + LE_HISTORY - k) % LE_HISTORY];
}

static void history_up(struct line_editor *e)
{
	if (e->browse >= e->hist_count)
		return;
	if (e->browse == 0)
		strlcpy_hv(e->draft, e->buf, sizeof(e->draft));
	e->browse++;
	set_line(e, history_entry(e, e->browse));
}

static void history_down(struct line_editor *e)
{
	if (e->browse == 0)
		return;
	e->browse--;
	set_line(e, e->browse ? history_entry(e, e->browse) : e->draft);
}

static void remember(struct line_editor *e)
{
	if (!e->keep_history || e->len == 0)
		return;
	if (e->hist_count && strcmp(history_entry(e, 1), e->buf) == 0)
		return; /* the same command again is one entry */
	strlcpy_hv(e->hist[e->hist_next], e->buf, sizeof(e->hist[0]));
	e->hist_next = (e->hist_next + 1) % LE_HISTORY;
	if (e->hist_count < LE_HISTORY)
		e->hist_count++;
}

/* The final byte of ESC [ ... or ESC O ... */
static void escape_final(struct line_editor *e, char c)
{
	switch (c) {
	case 'A':
		history_up(e);
		break;
	case 'B':
		history_down(e);
		break;
	case 'C':
		right(e);
		break;
	case 'D':
		left(e);
		break;
	case 'H':
		home(e);
		break;
	case 'F':
		end(e);
		break;
	case '~': /* ESC [ n ~: 1 or 7 Home, 4 or 8 End, 3 Delete */
		if (e->esc_arg == '1' || e->esc_arg == '7')
			home(e);
		else if (e->esc_arg == '4' || e->esc_arg == '8')
			end(e);
		else if (e->esc_arg == '3' && e->cursor < e->len)
			delete_at(e, e->cursor);
		break;
	default:
		break; /* a key we do not edit with */
	}
}

enum le_result le_feed(struct line_editor *e, char c)
{
	bool after_cr = e->last_cr;
	e->last_cr = false;

	if (e->esc == ESC_START) {
		e->esc = c == '[' ? ESC_CSI : c == 'O' ? ESC_SS3 : ESC_NONE;
		e->esc_arg = 0;
		return LE_MORE;
	}
	if (e->esc == ESC_CSI || e->esc == ESC_SS3) {
		if (e->esc == ESC_CSI && ((c >= '0' && c <= '9') || c == ';')) {
			if (!e->esc_arg)
				e->esc_arg = c;
			return LE_MORE;
		}
		e->esc = ESC_NONE;
		escape_final(e, c);
		return LE_MORE;
	}

	switch (c) {
	case '\r':
	case '\n':
		if (c == '\n' && after_cr)
			return LE_MORE;
		e->last_cr = c == '\r';
		puts_le(e, "\r\n");
		remember(e);
		e->browse = 0;
		return LE_LINE;
	case CTRL('C'):
		puts_le(e, "^C\r\n");
		le_reset(e);
		return LE_CANCEL;
	case ESC:
		e->esc = ESC_START;
		return LE_MORE;
	case DEL:
	case CTRL('H'):
		if (e->cursor)
			delete_at(e, e->cursor - 1);
		return LE_MORE;
	case CTRL('D'):
		if (e->cursor < e->len)
			delete_at(e, e->cursor);
		return LE_MORE;
	case CTRL('A'):
		home(e);
		return LE_MORE;
	case CTRL('E'):
		end(e);
		return LE_MORE;
	case CTRL('B'):
		left(e);
		return LE_MORE;
	case CTRL('F'):
		right(e);
		return LE_MORE;
	case CTRL('P'):
		history_up(e);
		return LE_MORE;
	case CTRL('N'):
		history_down(e);
		return LE_MORE;
	case CTRL('U'):
		set_line(e, "");
		return LE_MORE;
	case CTRL('L'):
		le_redraw(e);
		return LE_MORE;
	default:
		if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
			insert(e, c);
		return LE_MORE; /* other control and 8-bit bytes are ignored */
	}
}

int le_split(char *line, char **argv, int max)
{
	int n = 0;
	char *p = line;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || n == max)
			break;
		char *w = p, *o = p;
		bool quoted = false;
		for (; *p && (quoted || (*p != ' ' && *p != '\t')); p++) {
			if (*p == '"')
				quoted = !quoted;
			else
				*o++ = *p;
		}
		if (*p)
			p++;
		*o = 0;
		argv[n++] = w;
	}
	return n;
}
