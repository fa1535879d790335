#include "kernel/console/textgrid.h"

#include "kernel/lib/string.h"

void tg_init(struct textgrid *g, unsigned cols, unsigned rows)
{
	memset(g, 0, sizeof(*g));
	g->cols = cols < 1 ? 1 : cols > TG_MAX_COLS ? TG_MAX_COLS : cols;
	g->rows = rows < 1 ? 1 : rows > TG_MAX_ROWS ? TG_MAX_ROWS : rows;
	for (unsigned y = 0; y < g->rows; y++) {
		memset(g->cells[y], ' ', g->cols);
		g->dirty[y] = true;
	}
}

static void line_feed(struct textgrid *g)
{
	if (g->y + 1 < g->rows) {
		g->dirty[g->y] = true; /* the cursor leaves it */
		g->y++;
		g->dirty[g->y] = true;
		return;
	}
	/* scroll: every row now shows the one below it */
	memmove(g->cells[0], g->cells[1], (g->rows - 1) * (unsigned long)TG_MAX_COLS);
	memset(g->cells[g->rows - 1], ' ', g->cols);
	for (unsigned y = 0; y < g->rows; y++)
		g->dirty[y] = true;
	g->scrolls++;
}

static void erase(struct textgrid *g, unsigned y, unsigned from, unsigned to)
{
	if (from < to) {
		memset(g->cells[y] + from, ' ', to - from);
		g->dirty[y] = true;
	}
}

/* ESC [ n final: the controls the log and the line editor use (ECMA-48). */
static void csi(struct textgrid *g, char final)
{
	unsigned n = g->have_param && g->param ? g->param : 1;
	unsigned x = g->x < g->cols ? g->x : g->cols - 1;
	g->dirty[g->y] = true;
	switch (final) {
	case 'K': /* EL: 0 to the end, 1 from the start, 2 the whole line */
		if (!g->have_param || g->param == 0)
			erase(g, g->y, x, g->cols);
		else if (g->param == 1)
			erase(g, g->y, 0, x + 1);
		else if (g->param == 2)
			erase(g, g->y, 0, g->cols);
		break;
	case 'J': /* ED 2: clear the screen */
		if (g->have_param && g->param == 2) {
			for (unsigned y = 0; y < g->rows; y++)
				erase(g, y, 0, g->cols);
		}
		break;
	case 'C': /* CUF */
		g->x = x + n < g->cols ? x + n : g->cols - 1;
		break;
	case 'D': /* CUB */
		g->x = x > n ? x - n : 0;
		break;
	case 'A': /* CUU */
		g->y = g->y > n ? g->y - n : 0;
		break;
	case 'B': /* CUD */
		g->y = g->y + n < g->rows ? g->y + n : g->rows - 1;
		break;
	default: /* SGR (m) and the rest: no colours here */
		break;
	}
	g->dirty[g->y] = true;
}

void tg_putc(struct textgrid *g, char c)
{
	if (g->esc == 1) {
		g->esc = c == '[' ? 2 : 0;
		g->param = 0;
		g->have_param = false;
		return;
	}
	if (g->esc == 2) {
		if (c >= '0' && c <= '9') {
			if (g->param < 10000)
				g->param = g->param * 10 + (unsigned)(c - '0');
			g->have_param = true;
		} else if ((c >= '@' && c <= '~')) {
			csi(g, c);
			g->esc = 0;
		} else if (c != ';' && c != '?') {
			g->esc = 0; /* not a sequence we know: drop it */
		}
		return;
	}
	switch (c) {
	case '\033':
		g->esc = 1;
		return;
	case '\r':
		g->x = 0;
		g->dirty[g->y] = true;
		return;
	case '\n':
		line_feed(g);
		return;
	case '\b':
		if (g->x > 0)
			g->x = (g->x < g->cols ? g->x : g->cols) - 1;
		g->dirty[g->y] = true;
		return;
	case '\t':
		do
			tg_putc(g, ' ');
		while (g->x % 8 && g->x < g->cols);
		return;
	default:
		break;
	}
	if ((unsigned char)c < 0x20 || c == 0x7f)
		return; /* other controls draw nothing */
	if (g->x >= g->cols) {
		g->x = 0;
		line_feed(g);
	}
	g->cells[g->y][g->x++] = c;
	g->dirty[g->y] = true;
}

void tg_write(struct textgrid *g, const char *s, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		tg_putc(g, s[i]);
}

void tg_row_text(const struct textgrid *g, unsigned y, char *out, unsigned size)
{
	unsigned n = 0;
	if (!size)
		return;
	if (y < g->rows) {
		n = g->cols < size - 1 ? g->cols : size - 1;
		memcpy(out, g->cells[y], n);
		while (n && out[n - 1] == ' ')
			n--;
	}
	out[n] = 0;
}
