// SOURCES: kernel/console/lineedit.c kernel/console/acpi_s5.c kernel/lib/string.c kernel/lib/format.c
/*
 * The console shell's pure parts: the line editor (keys in, line and echo
 * out), the command-line splitter, and the \_S5 finder for host-poweroff.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/console/acpi_s5.h"
#include "kernel/console/lineedit.h"

static char screen[8192];
static size_t screen_len;

static void capture(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	if (screen_len + n < sizeof(screen)) {
		memcpy(screen + screen_len, s, n);
		screen_len += n;
		screen[screen_len] = 0;
	}
}

static struct line_editor ed;

static void start(void)
{
	le_init(&ed, "hv> ", true, capture, NULL);
	screen_len = 0;
	screen[0] = 0;
}

/* Feeds every byte; returns the result of the last. */
static enum le_result type(const char *keys)
{
	enum le_result r = LE_MORE;
	for (const char *p = keys; *p; p++)
		r = le_feed(&ed, *p);
	return r;
}

static void test_typing_and_enter(void **state)
{
	(void)state;
	start();
	assert_int_equal(type("list"), LE_MORE);
	assert_string_equal(screen, "list"); /* plain echo */
	assert_int_equal(type("\r"), LE_LINE);
	assert_string_equal(ed.buf, "list");
	assert_string_equal(screen, "list\r\n");
	/* CR LF from a terminal is one Enter, not an empty second line */
	le_reset(&ed);
	assert_int_equal(type("\n"), LE_MORE);
	assert_int_equal(type("\n"), LE_LINE);
	assert_string_equal(ed.buf, "");
}

static void test_backspace_and_cursor_movement(void **state)
{
	(void)state;
	start();
	type("lsx\x7f"); /* DEL erases the x */
	assert_string_equal(ed.buf, "ls");
	type("t\x1b[D\x1b[Di"); /* "lst", two steps left, insert i */
	assert_string_equal(ed.buf, "list");
	assert_int_equal(ed.cursor, 2);
	type("\x1b[C\x1b[C\x1b[C"); /* right past the end stays at the end */
	assert_int_equal(ed.cursor, 4);
	type("\x01X\x05Y"); /* ^A home, ^E end */
	assert_string_equal(ed.buf, "XlistY");
	type("\x1b[H\x1b[3~"); /* Home, Delete */
	assert_string_equal(ed.buf, "listY");
	type("\x1bOF\b"); /* End (SS3 form), ^H */
	assert_string_equal(ed.buf, "list");
	assert_int_equal(type("\r"), LE_LINE);
	assert_string_equal(ed.buf, "list");
}

static void test_insert_in_the_middle_redraws_the_tail(void **state)
{
	(void)state;
	start();
	type("ac\x1b[D");
	screen_len = 0;
	type("b");
	/* b, then the rest of the line, then the cursor back over it */
	assert_string_equal(screen, "bc\x1b[D");
}

static void test_ctrl_c_abandons_the_line(void **state)
{
	(void)state;
	start();
	type("destroy web");
	assert_int_equal(type("\x03"), LE_CANCEL);
	assert_string_equal(ed.buf, "");
	assert_non_null(strstr(screen, "^C\r\n"));
	type("\x1b[A"); /* not in the history either */
	assert_string_equal(ed.buf, "");
}

static void test_history_up_and_down(void **state)
{
	(void)state;
	start();
	type("list\r");
	le_reset(&ed);
	type("info\r");
	le_reset(&ed);
	type("info\r"); /* the same again: one entry */
	le_reset(&ed);
	type("dm");
	type("\x1b[A");
	assert_string_equal(ed.buf, "info");
	type("\x1b[A");
	assert_string_equal(ed.buf, "list");
	type("\x1b[A"); /* the oldest stays */
	assert_string_equal(ed.buf, "list");
	type("\x1b[B");
	assert_string_equal(ed.buf, "info");
	type("\x1b[B"); /* back to what was being typed */
	assert_string_equal(ed.buf, "dm");
	/* a recalled line is drawn from column 0 with the prompt */
	screen_len = 0;
	type("\x10"); /* ^P */
	assert_string_equal(screen, "\r\x1b[Khv> info");
}

static void test_history_keeps_the_newest(void **state)
{
	(void)state;
	char cmd[16];
	start();
	for (int i = 0; i < LE_HISTORY + 5; i++) {
		snprintf(cmd, sizeof(cmd), "c%d\r", i);
		type(cmd);
		le_reset(&ed);
	}
	for (int i = 0; i < LE_HISTORY + 5; i++)
		type("\x1b[A");
	snprintf(cmd, sizeof(cmd), "c%d", 5); /* the 16 newest: c5 .. c20 */
	assert_string_equal(ed.buf, cmd);
}

static void test_long_lines_and_control_bytes(void **state)
{
	(void)state;
	start();
	for (int i = 0; i < LE_LINE_MAX + 20; i++)
		le_feed(&ed, 'a');
	assert_int_equal(ed.len, LE_LINE_MAX);
	le_reset(&ed);
	type("\x07\x1b[99Zok\x80"); /* BEL, an unknown sequence, an 8-bit byte */
	assert_string_equal(ed.buf, "ok");
}

static void test_redraw_puts_the_cursor_back(void **state)
{
	(void)state;
	start();
	type("vcpu-list\x1b[D\x1b[D\x1b[D");
	screen_len = 0;
	le_redraw(&ed);
	assert_string_equal(screen, "\r\x1b[Khv> vcpu-list\x1b[3D");
}

static void test_split_words(void **state)
{
	(void)state;
	char line[] = "  vcpu-pin\tweb  0 \"a b\"  ";
	char *argv[8];
	int n = le_split(line, argv, 8);
	assert_int_equal(n, 4);
	assert_string_equal(argv[0], "vcpu-pin");
	assert_string_equal(argv[1], "web");
	assert_string_equal(argv[2], "0");
	assert_string_equal(argv[3], "a b");
	char empty[] = "   ";
	assert_int_equal(le_split(empty, argv, 8), 0);
	char many[] = "a b c d";
	assert_int_equal(le_split(many, argv, 2), 2);
}

static void test_s5_found(void **state)
{
	(void)state;
	uint8_t a, b;
	/* Name (_S5_, Package (0x04) { 0x05, 0x05, Zero, Zero }) as iasl writes it (QEMU) */
	static const uint8_t qemu[] = {0x10, 0x05, 0x5c, 0x08, '_',  'S',  '5',	 '_', 0x12,
				       0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00};
	assert_true(acpi_find_s5(qemu, sizeof(qemu), &a, &b));
	assert_int_equal(a, 5);
	assert_int_equal(b, 5);
	/* rooted name, ZeroOp elements */
	static const uint8_t rooted[] = {0x08, 0x5c, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x00, 0x01};
	assert_true(acpi_find_s5(rooted, sizeof(rooted), &a, &b));
	assert_int_equal(a, 0);
	assert_int_equal(b, 1);
	/* a two-byte PkgLength */
	static const uint8_t longpkg[] = {0x08, '_', 'S', '5', '_', 0x12, 0x40, 0x01, 0x01, 0x0a, 0x07};
	assert_true(acpi_find_s5(longpkg, sizeof(longpkg), &a, &b));
	assert_int_equal(a, 7);
	assert_int_equal(b, 7);
}

static void test_s5_absent_or_not_plain(void **state)
{
	(void)state;
	uint8_t a, b;
	/* a method named _S5_ (MethodOp 0x14) is not a package we can read */
	static const uint8_t method[] = {0x14, 0x08, '_', 'S', '5', '_', 0x00, 0xa4, 0x00};
	assert_false(acpi_find_s5(method, sizeof(method), &a, &b));
	/* only _S3_ */
	static const uint8_t s3[] = {0x08, '_', 'S', '3', '_', 0x12, 0x06, 0x01, 0x0a, 0x01};
	assert_false(acpi_find_s5(s3, sizeof(s3), &a, &b));
	/* cut short inside the package */
	static const uint8_t cut[] = {0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a};
	assert_false(acpi_find_s5(cut, sizeof(cut), &a, &b));
	assert_false(acpi_find_s5(cut, 0, &a, &b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_typing_and_enter),
	    cmocka_unit_test(test_backspace_and_cursor_movement),
	    cmocka_unit_test(test_insert_in_the_middle_redraws_the_tail),
	    cmocka_unit_test(test_ctrl_c_abandons_the_line),
	    cmocka_unit_test(test_history_up_and_down),
	    cmocka_unit_test(test_history_keeps_the_newest),
	    cmocka_unit_test(test_long_lines_and_control_bytes),
	    cmocka_unit_test(test_redraw_puts_the_cursor_back),
	    cmocka_unit_test(test_split_words),
	    cmocka_unit_test(test_s5_found),
	    cmocka_unit_test(test_s5_absent_or_not_plain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
