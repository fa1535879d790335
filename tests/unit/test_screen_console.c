// SOURCES: kernel/console/textgrid.c kernel/console/font.c drivers/i8042.c kernel/lib/string.c
/*
 * The screen console's pure parts: the text grid (wrapping, scrolling, the
 * controls the log and the line editor send), the font (complete, no two
 * glyphs alike, so screenshots can be read back) and the keyboard's scan
 * code translation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/i8042.h"
#include "kernel/console/font.h"
#include "kernel/console/textgrid.h"

static struct textgrid g;

static const char *row(unsigned y)
{
	static char buf[TG_MAX_COLS + 1];
	tg_row_text(&g, y, buf, sizeof(buf));
	return buf;
}

static void put(const char *s)
{
	tg_write(&g, s, strlen(s));
}

static void lines_wrap_and_scroll(void **state)
{
	(void)state;
	tg_init(&g, 10, 3);
	put("hello\r\nworld\r\n");
	assert_string_equal(row(0), "hello");
	assert_string_equal(row(1), "world");
	assert_int_equal(g.y, 2);
	assert_int_equal(g.scrolls, 0);
	/* exactly a full line, then CR LF: no blank line in between */
	put("0123456789\r\nnext");
	assert_int_equal(g.scrolls, 1);
	assert_string_equal(row(0), "world");
	assert_string_equal(row(1), "0123456789");
	assert_string_equal(row(2), "next");
	/* a longer line wraps */
	put("\r\nabcdefghijKLM");
	assert_string_equal(row(1), "abcdefghij");
	assert_string_equal(row(2), "KLM");
	assert_int_equal(g.scrolls, 3);
	for (unsigned y = 0; y < 3; y++)
		assert_true(g.dirty[y]);
}

static void line_editor_controls(void **state)
{
	(void)state;
	tg_init(&g, 30, 2);
	put("hv> hlep");
	put("\033[3D"); /* back 3: on the 'l' */
	put("el\033[C");
	assert_string_equal(row(0), "hv> help");
	assert_int_equal(g.x, 8);
	put("\r\033[Khv> help\b\b");
	assert_string_equal(row(0), "hv> help");
	assert_int_equal(g.x, 6);
	put("\033[K");
	assert_string_equal(row(0), "hv> he");
	put("\033[1;31mred\033[0m\tx");
	assert_string_equal(row(0), "hv> hered       x"); /* the tab to column 16 */
	put("\x01\x7f\033]junk");
	assert_string_equal(row(0), "hv> hered       xjunk");
	put("\033[2J");
	assert_string_equal(row(0), "");
	/* cursor moves stay on the screen */
	put("\033[99A\033[99D\033[99B\033[99C");
	assert_int_equal(g.y, 1);
	assert_int_equal(g.x, 29);
}

static void sizes_are_clamped(void **state)
{
	(void)state;
	tg_init(&g, 10000, 0);
	assert_int_equal(g.cols, TG_MAX_COLS);
	assert_int_equal(g.rows, 1);
	put("a\r\nb\r\nc");
	assert_string_equal(row(0), "c");
	assert_string_equal(row(5), "");
}

static void font_is_complete_and_unambiguous(void **state)
{
	(void)state;
	for (int i = 0; i < FONT_GLYPHS; i++) {
		for (int r = 0; r < FONT_ROWS; r++)
			assert_true(font5x7[i][r] < (1 << FONT_COLS));
		for (int j = 0; j < i; j++)
			assert_memory_not_equal(font5x7[i], font5x7[j], FONT_ROWS);
	}
	assert_ptr_equal(font_glyph('A'), font5x7['A' - FONT_FIRST]);
	assert_ptr_equal(font_glyph('\x80'), font_glyph('?'));
	assert_ptr_equal(font_glyph('\n'), font_glyph('?'));
}

static unsigned keys(struct kbd_state *s, const uint8_t *codes, size_t n, char *out)
{
	unsigned len = 0;
	for (size_t i = 0; i < n; i++)
		len += kbd_scancode(s, codes[i], out + len);
	out[len] = 0;
	return len;
}

static void scan_codes(void **state)
{
	(void)state;
	struct kbd_state s = {0};
	char out[64];
	/* "hv" press/release, shift+1, Enter */
	static const uint8_t a[] = {0x23, 0xa3, 0x2f, 0xaf, 0x2a, 0x02, 0x82, 0xaa, 0x02, 0x1c};
	assert_int_equal(keys(&s, a, sizeof(a), out), 5);
	assert_string_equal(out, "hv!1\r");
	/* caps lock, then shift under it */
	static const uint8_t b[] = {0x3a, 0xba, 0x1e, 0x36, 0x1e, 0xb6, 0x3a};
	keys(&s, b, sizeof(b), out);
	assert_string_equal(out, "Aa");
	/* the arrows as ANSI sequences; keypad Enter; an unknown E0 key and a fake shift */
	static const uint8_t c[] = {0xe0, 0x48, 0xe0, 0xc8, 0xe0, 0x4b, 0xe0, 0x1c, 0xe0, 0x53,
				    0xe0, 0x2a, 0x10};
	keys(&s, c, sizeof(c), out);
	assert_string_equal(out, "\033[A\033[D\rq");
	/* Ctrl-C, backspace, releases of nothing */
	static const uint8_t d[] = {0x1d, 0x2e, 0x9d, 0x0e, 0xff, 0x80, 0x58};
	keys(&s, d, sizeof(d), out);
	assert_string_equal(out, "\003\b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lines_wrap_and_scroll),
		cmocka_unit_test(line_editor_controls),
		cmocka_unit_test(sizes_are_clamped),
		cmocka_unit_test(font_is_complete_and_unambiguous),
		cmocka_unit_test(scan_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
