// SOURCES: kernel/config/xlcfg.c kernel/lib/string.c kernel/lib/format.c
/*
 * The xl.cfg parser, driven the way an operator's files drive it: good files parse into the
 * expected entries, and each broken one gives exactly the message a user would read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/config/xlcfg.h"

static struct xlcfg cfg;
static struct xlcfg_errors errs;

/*
 * The parser gets an exact-size heap copy of the text, with no NUL after it, so that
 * AddressSanitizer catches any read past `len`.
 */
static bool parse(const char *text, size_t len)
{
	char *copy = malloc(len ? len : 1);
	bool ok;

	assert_non_null(copy);
	memcpy(copy, text, len);
	xlcfg_errors_init(&errs, "vm.cfg");
	ok = xlcfg_parse(&cfg, copy, len, &errs);
	free(copy);
	return ok;
}

#define PARSE(lit) parse(lit, sizeof(lit) - 1)

static const char *error_text(unsigned i)
{
	static char buf[400];

	xlcfg_error_format(&errs, i, buf, sizeof(buf));
	return buf;
}

static void expect_one_error(const char *text, size_t len, const char *message)
{
	bool ok = parse(text, len);

	if (errs.count != 1) {
		for (unsigned i = 0; i < errs.count; i++)
			fprintf(stderr, "  got: %s\n", error_text(i));
		fprintf(stderr, "  wanted only: %s\n", message);
	}
	assert_false(ok);
	assert_int_equal(errs.count, 1);
	assert_string_equal(error_text(0), message);
}

#define EXPECT_ERROR(lit, message) expect_one_error(lit, sizeof(lit) - 1, message)

static const struct xlcfg_entry *entry(const char *key)
{
	const struct xlcfg_entry *e = xlcfg_find(&cfg, key);

	if (!e)
		fail_msg("no entry '%s'", key);
	return e;
}

static void assert_string_value(const char *key, const char *want)
{
	const struct xlcfg_entry *e = entry(key);

	assert_int_equal(e->value.type, XLCFG_STRING);
	assert_string_equal(xlcfg_string(&cfg, &e->value), want);
	assert_int_equal(e->value.len, strlen(want));
}

static void assert_number_value(const char *key, uint64_t want)
{
	const struct xlcfg_entry *e = entry(key);

	assert_int_equal(e->value.type, XLCFG_NUMBER);
	assert_int_equal(e->value.number, want);
}

static void test_realistic_file(void **state)
{
	(void)state;
	static const char text[] =
		"# web server, pinned to the second socket\n"
		"name = \"web-1\"\n"
		"memory = 2048          # MiB\n"
		"vcpus = 0x4;\n"
		"kernel = '/boot/vmlinuz-6.1'\n"
		"extra = \"console=ttyS0 root=/dev/vda1 quiet\"\n"
		"\n"
		"vif = [ 'mac=00:16:3e:00:00:01,bridge=br0',\n"
		"        # the storage network\n"
		"        'bridge=br1', ]\n"
		"pci = []\n"
		"on_crash = \"restart\"; autostart = 0\n";

	assert_true(PARSE(text));
	assert_int_equal(errs.count, 0);
	assert_int_equal(cfg.entry_count, 9);
	assert_string_value("name", "web-1");
	assert_number_value("memory", 2048);
	assert_number_value("vcpus", 4);
	assert_string_value("kernel", "/boot/vmlinuz-6.1");
	assert_string_value("extra", "console=ttyS0 root=/dev/vda1 quiet");
	assert_string_value("on_crash", "restart");
	assert_number_value("autostart", 0);

	const struct xlcfg_value *vif = &entry("vif")->value;
	assert_int_equal(vif->type, XLCFG_LIST);
	assert_int_equal(vif->count, 2);
	assert_string_equal(xlcfg_string(&cfg, xlcfg_item(&cfg, vif, 0)),
			    "mac=00:16:3e:00:00:01,bridge=br0");
	assert_string_equal(xlcfg_string(&cfg, xlcfg_item(&cfg, vif, 1)), "bridge=br1");
	assert_null(xlcfg_item(&cfg, vif, 2));

	const struct xlcfg_value *pci = &entry("pci")->value;
	assert_int_equal(pci->type, XLCFG_LIST);
	assert_int_equal(pci->count, 0);

	/* Entries keep file order and their places. */
	assert_string_equal(cfg.entries[0].key, "name");
	assert_string_equal(cfg.entries[8].key, "autostart");
	assert_int_equal(entry("autostart")->key_pos.line, 12);
	assert_int_equal(entry("autostart")->key_pos.column, 23);
	assert_int_equal(entry("memory")->value.pos.column, 10);
	assert_int_equal(xlcfg_item(&cfg, vif, 1)->pos.line, 10);
	assert_int_equal(xlcfg_item(&cfg, vif, 1)->pos.column, 9);
	assert_null(xlcfg_find(&cfg, "ramdisk"));
}

static void test_empty_and_comment_only_files(void **state)
{
	(void)state;
	assert_true(parse("", 0));
	assert_int_equal(cfg.entry_count, 0);
	assert_true(PARSE("# nothing here\n\n   \t\n# at all"));
	assert_int_equal(cfg.entry_count, 0);
	assert_true(PARSE(";;\n;"));
	assert_int_equal(cfg.entry_count, 0);
}

static void test_whitespace_crlf_bom_and_no_final_newline(void **state)
{
	(void)state;
	assert_true(PARSE("\xef\xbb\xbfname='a'\r\n\tmemory\t=\t64\r\nvcpus=2"));
	assert_string_value("name", "a");
	assert_number_value("memory", 64);
	assert_number_value("vcpus", 2);
	assert_int_equal(entry("memory")->key_pos.column, 2);
	assert_int_equal(entry("vcpus")->key_pos.line, 3);
}

static void test_quotes_and_escapes(void **state)
{
	(void)state;
	assert_true(PARSE("a = \"say \\\"hi\\\" \\\\ it's\"\n"
			  "b = 'C:\\path \"quoted\"'\n"
			  "c = \"\"\n"
			  "d = '#not a comment'\n"));
	assert_string_value("a", "say \"hi\" \\ it's");
	assert_string_value("b", "C:\\path \"quoted\"");
	assert_string_value("c", "");
	assert_string_value("d", "#not a comment");
}

static void test_numbers(void **state)
{
	(void)state;
	assert_true(PARSE("a = 0\nb = 0x1F\nc = 18446744073709551615\nd = 0XfF\n"));
	assert_number_value("a", 0);
	assert_number_value("b", 31);
	assert_number_value("c", UINT64_MAX);
	assert_number_value("d", 255);
}

static void test_multiline_lists(void **state)
{
	(void)state;
	assert_true(PARSE("disk = [\n"
			  "  'phy:/dev/vg/a,xvda,w',   # root\n"
			  "\n"
			  "  2\n"
			  "  , 'x'\n"
			  "]\n"
			  "cpus = [ ]\n"
			  "n = [1,]\n"));
	const struct xlcfg_value *disk = &entry("disk")->value;
	assert_int_equal(disk->count, 3);
	assert_int_equal(xlcfg_item(&cfg, disk, 1)->type, XLCFG_NUMBER);
	assert_int_equal(xlcfg_item(&cfg, disk, 1)->number, 2);
	assert_string_equal(xlcfg_string(&cfg, xlcfg_item(&cfg, disk, 2)), "x");
	assert_int_equal(entry("cpus")->value.count, 0);
	assert_int_equal(entry("n")->value.count, 1);
	assert_int_equal(cfg.item_count, 4);
}

struct bad_case {
	const char *text;
	size_t len;
	const char *message;
};

#define BAD(lit, message) { lit, sizeof(lit) - 1, message }

static const struct bad_case bad_syntax[] = {
	BAD("memory 512\n", "vm.cfg:1:8: memory: expected '=' after the key, found a number"),
	BAD("memory\n", "vm.cfg:1:7: memory: expected '=' after the key, found end of line"),
	BAD("memory =\n", "vm.cfg:1:9: memory: missing value after '='"),
	BAD("memory = ;", "vm.cfg:1:10: memory: missing value after '='"),
	BAD("memory = 512 1024\n",
	    "vm.cfg:1:14: memory: expected end of line after the value, found a number"),
	BAD("memory = 512 = 3\n",
	    "vm.cfg:1:14: memory: expected end of line after the value, found '='"),
	BAD("on_crash = destroy\n", "vm.cfg:1:12: on_crash: bare word 'destroy' must be quoted"),
	BAD("name = \"web\nmemory = 1\n",
	    "vm.cfg:1:8: name: unterminated string (missing closing \")"),
	BAD("name = 'web", "vm.cfg:1:8: name: unterminated string (missing closing ')"),
	BAD("name = \"web\\", "vm.cfg:1:8: name: unterminated string (missing closing \")"),
	BAD("memory = 012\n",
	    "vm.cfg:1:10: memory: number '012' has a leading zero (xl reads that as octal)"),
	BAD("memory = 12ab\n", "vm.cfg:1:10: memory: '12ab' is not a number"),
	BAD("memory = 1.5\n", "vm.cfg:1:10: memory: '1.5' is not a number"),
	BAD("memory = 0x\n", "vm.cfg:1:10: memory: '0x' is not a number"),
	BAD("memory = 18446744073709551616\n",
	    "vm.cfg:1:10: memory: number '18446744073709551616' is too large"),
	BAD("memory = 0x10000000000000000\n",
	    "vm.cfg:1:10: memory: number '0x10000000000000000' is too large"),
	BAD("memory = 0xfg\n", "vm.cfg:1:10: memory: '0xfg' is not a number"),
	BAD("memory = -1\n", "vm.cfg:1:10: memory: negative numbers are not allowed"),
	BAD("vif += ['a']\n", "vm.cfg:1:5: vif: '+=' is not supported; use '='"),
	BAD("= 5\n", "vm.cfg:1:1: expected a key at the start of a statement, found '='"),
	BAD("'name' = 5\n",
	    "vm.cfg:1:1: expected a key at the start of a statement, found a string"),
	BAD("[ 1,\n 2 ]\nname = 'a'\n",
	    "vm.cfg:1:1: expected a key at the start of a statement, found '['"),
	BAD("on-crash = 'x'\n", "vm.cfg:1:3: on: unexpected '-'"),
	BAD("x = [ [1] ]\n", "vm.cfg:1:7: x: lists inside lists are not supported"),
	BAD("x = [ 1 2 ]\n", "vm.cfg:1:9: x: expected ',' or ']' after a list item, found a number"),
	BAD("x = [ , ]\n", "vm.cfg:1:7: x: expected a list item or ']', found ','"),
	BAD("x = [ 1,, ]\n", "vm.cfg:1:9: x: expected a list item or ']', found ','"),
	BAD("x = [ a ]\n", "vm.cfg:1:7: x: bare word 'a' must be quoted"),
	BAD("x = [ 1; 2 ]\nname = 'a'\n",
	    "vm.cfg:1:8: x: expected ',' or ']' after a list item, found ';'"),
	BAD("x = [ 1,", "vm.cfg:1:9: x: missing ']' to close the list opened at line 1, column 5"),
	BAD("x = ]\n", "vm.cfg:1:5: x: expected a value, found ']'"),
	BAD("x = 1 ]\n", "vm.cfg:1:7: x: expected end of line after the value, found ']'"),
	BAD("vcpus = 1\nvcpus = 2\n", "vm.cfg:2:1: vcpus: duplicate key (first set at line 1)"),
	BAD("vcpus = 1; vcpus = [1]\n", "vm.cfg:1:12: vcpus: duplicate key (first set at line 1)"),
	BAD("@\n", "vm.cfg:1:1: unexpected '@'"),
	BAD("memory = 5 $\n", "vm.cfg:1:12: memory: unexpected '$'"),
	BAD("a_key_that_is_much_longer_than_31 = 1\n",
	    "vm.cfg:1:1: key 'a_key_that_is_much_longer_than_...' is longer than 31 characters"),
	BAD("name = \"a\\qb\"\n",
	    "vm.cfg:1:10: name: unknown escape sequence '\\' followed by 'q'"),
	BAD("name = 'tab\there'\n", "vm.cfg:1:12: name: control character 0x09 in a string"),
	BAD("name = \"caf\xc3\xa9\"\n", "vm.cfg:1:12: name: non-ASCII byte 0xc3 in a string"),
	BAD("extra = \"a\x1b[31mred\"\n",
	    "vm.cfg:1:11: extra: control character 0x1b in a string"),
};

static void test_each_syntax_error_message(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_syntax) / sizeof(bad_syntax[0]); i++)
		expect_one_error(bad_syntax[i].text, bad_syntax[i].len, bad_syntax[i].message);
}

static void test_nul_bytes_are_errors(void **state)
{
	(void)state;
	EXPECT_ERROR("name = \"a\0b\"\n", "vm.cfg:1:10: name: NUL byte in a string");
	EXPECT_ERROR("\0", "vm.cfg:1:1: unexpected NUL byte");
	EXPECT_ERROR("name = 'a'\0", "vm.cfg:1:11: name: unexpected NUL byte");
	EXPECT_ERROR("# a comment\0with a NUL\nvcpus = 1\n", "vm.cfg:1:12: NUL byte in a comment");
	EXPECT_ERROR("vcpus = 1\n\0\0\0\0\0\0\nmemory = 5\n", "vm.cfg:2:1: unexpected NUL byte");
	/* The statements around the bad bytes still parse. */
	assert_number_value("vcpus", 1);
	assert_number_value("memory", 5);
}

static void test_binary_junk_is_rejected_without_crashing(void **state)
{
	static char junk[8192];
	uint32_t seed = 12345;

	(void)state;
	for (int round = 0; round < 200; round++) {
		size_t len = (size_t)(round * 41) % sizeof(junk);

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			junk[i] = (char)(seed >> 16);
		}
		/* Every round holds at least one NUL, which no good file does. */
		if (len)
			junk[len / 2] = 0;
		bool ok = parse(junk, len);
		assert_true(errs.count <= XLCFG_MAX_ERRORS);
		assert_true(cfg.entry_count <= XLCFG_MAX_ENTRIES);
		assert_true(cfg.pool_used <= XLCFG_POOL_SIZE);
		if (len)
			assert_false(ok);
		else
			assert_true(ok);
	}
}

static void test_line_length_limit(void **state)
{
	static char text[XLCFG_MAX_LINE_LEN + 64];
	size_t len;

	(void)state;
	/* A comment line of exactly the limit is fine. */
	memset(text, '#', XLCFG_MAX_LINE_LEN);
	len = XLCFG_MAX_LINE_LEN;
	len += (size_t)sprintf(text + len, "\nvcpus = 1\n");
	assert_true(parse(text, len));

	/* One byte more is an error at the first byte past it; the next line still parses. */
	memset(text, '#', XLCFG_MAX_LINE_LEN + 1);
	len = XLCFG_MAX_LINE_LEN + 1;
	len += (size_t)sprintf(text + len, "\nvcpus = 1\n");
	expect_one_error(text, len, "vm.cfg:1:4097: line is longer than 4096 bytes");
	assert_number_value("vcpus", 1);

	/* A long line inside a statement: the statement does not survive it. */
	len = (size_t)sprintf(text, "extra = \"");
	memset(text + len, 'x', XLCFG_MAX_LINE_LEN);
	len += XLCFG_MAX_LINE_LEN;
	assert_false(parse(text, len));
	assert_string_equal(error_text(0), "vm.cfg:1:4097: line is longer than 4096 bytes");
}

static void test_string_length_limit(void **state)
{
	static char text[XLCFG_MAX_STRING_LEN + 64];
	size_t len;

	(void)state;
	len = (size_t)sprintf(text, "extra = '");
	memset(text + len, 'a', XLCFG_MAX_STRING_LEN);
	len += XLCFG_MAX_STRING_LEN;
	text[len++] = '\'';
	assert_true(parse(text, len));
	assert_int_equal(entry("extra")->value.len, XLCFG_MAX_STRING_LEN);

	len = (size_t)sprintf(text, "extra = '");
	memset(text + len, 'a', XLCFG_MAX_STRING_LEN + 1);
	len += XLCFG_MAX_STRING_LEN + 1;
	text[len++] = '\'';
	expect_one_error(text, len, "vm.cfg:1:9: extra: string is longer than 2047 bytes");
}

static void test_string_pool_limit(void **state)
{
	static char text[16384];
	size_t len = 0;

	(void)state;
	/* Five strings of 2000 bytes cannot all fit in 8192. */
	for (int i = 0; i < 5; i++) {
		len += (size_t)sprintf(text + len, "s%d = '", i);
		memset(text + len, 'a', 2000);
		len += 2000;
		len += (size_t)sprintf(text + len, "'\n");
	}
	expect_one_error(text, len, "vm.cfg:5:6: s4: strings of this file exceed 8192 bytes in all");
	assert_int_equal(cfg.entry_count, 5);
	assert_int_equal(entry("s4")->value.type, XLCFG_INVALID);
	assert_int_equal(entry("s3")->value.len, 2000);
}

static void test_entry_and_item_limits(void **state)
{
	static char text[8192];
	size_t len = 0;

	(void)state;
	for (int i = 0; i < XLCFG_MAX_ENTRIES; i++)
		len += (size_t)sprintf(text + len, "k%d = %d\n", i, i);
	assert_true(parse(text, len));
	assert_int_equal(cfg.entry_count, XLCFG_MAX_ENTRIES);

	len += (size_t)sprintf(text + len, "k%d = 1\nk%d = 2\n", XLCFG_MAX_ENTRIES,
			       XLCFG_MAX_ENTRIES + 1);
	/* Reported once, not once per extra key. */
	expect_one_error(text, len, "vm.cfg:49:1: k48: too many keys in one file (limit 48)");

	len = (size_t)sprintf(text, "a = [");
	for (int i = 0; i < XLCFG_MAX_ITEMS; i++)
		len += (size_t)sprintf(text + len, "%d,", i);
	len += (size_t)sprintf(text + len, "]\n");
	assert_true(parse(text, len));
	assert_int_equal(entry("a")->value.count, XLCFG_MAX_ITEMS);

	len = (size_t)sprintf(text, "a = [1, 2]\nb = [");
	for (int i = 0; i < XLCFG_MAX_ITEMS; i++)
		len += (size_t)sprintf(text + len, "%d,\n", i);
	len += (size_t)sprintf(text + len, "]\nc = 3\n");
	expect_one_error(text, len, "vm.cfg:64:1: b: too many list items in one file (limit 64)");
	assert_int_equal(entry("b")->value.type, XLCFG_INVALID);
	assert_number_value("c", 3);
	assert_int_equal(cfg.item_count, 2); /* b's items were given back */
}

static void test_file_size_limit(void **state)
{
	static char text[XLCFG_MAX_FILE_SIZE + 1];

	(void)state;
	memset(text, '\n', sizeof(text));
	assert_true(parse(text, XLCFG_MAX_FILE_SIZE));
	expect_one_error(text, sizeof(text), "vm.cfg: file is 65537 bytes, more than the 65536 allowed");
}

static void test_recovery_reports_every_broken_statement(void **state)
{
	(void)state;
	assert_false(PARSE("name = 'ok'\n"
			   "memory = 12ab\n"
			   "vif = [ 'a',\n"
			   "        'b' 'c',\n"
			   "        'd' ]\n"
			   "vcpus = 2\n"
			   "disk = [ 'x',\n"
			   "cap = 50\n"
			   "weight = = 3\n"
			   "on_reboot = 'restart'\n"));
	assert_int_equal(errs.count, 4);
	assert_string_equal(error_text(0), "vm.cfg:2:10: memory: '12ab' is not a number");
	assert_string_equal(error_text(1),
			    "vm.cfg:4:13: vif: expected ',' or ']' after a list item, found a string");
	assert_string_equal(error_text(2),
			    "vm.cfg:8:1: disk: missing ']' to close the list opened at line 7, column 8");
	assert_string_equal(error_text(3), "vm.cfg:9:10: weight: expected a value, found '='");
	/* The good statements between them are all there; the broken ones are marked. */
	assert_string_value("name", "ok");
	assert_number_value("vcpus", 2);
	assert_number_value("cap", 50);
	assert_string_value("on_reboot", "restart");
	assert_int_equal(entry("memory")->value.type, XLCFG_INVALID);
	assert_int_equal(entry("vif")->value.type, XLCFG_INVALID);
	assert_int_equal(entry("disk")->value.type, XLCFG_INVALID);
	assert_int_equal(entry("weight")->value.type, XLCFG_INVALID);
	assert_int_equal(cfg.entry_count, 8);
	assert_int_equal(cfg.item_count, 0);
}

static void test_error_list_is_bounded(void **state)
{
	static char text[4096];
	size_t len = 0;

	(void)state;
	for (int i = 0; i < 20; i++)
		len += (size_t)sprintf(text + len, "k%d = @\n", i);
	assert_false(parse(text, len));
	assert_int_equal(errs.count, XLCFG_MAX_ERRORS);
	assert_int_equal(errs.dropped, 4);
	assert_string_equal(error_text(15), "vm.cfg:16:7: k15: unexpected '@'");
}

static void test_error_sort_and_format(void **state)
{
	char small[12];

	(void)state;
	xlcfg_errors_init(&errs, "b.cfg");
	xlcfg_error_add(&errs, (struct xlcfg_pos){ 0, 0 }, "file-wide");
	xlcfg_error_add(&errs, (struct xlcfg_pos){ 7, 3 }, "second");
	xlcfg_error_add(&errs, (struct xlcfg_pos){ 2, 9 }, "first");
	xlcfg_error_add(&errs, (struct xlcfg_pos){ 7, 3 }, "third");
	xlcfg_errors_sort(&errs);
	assert_string_equal(error_text(0), "b.cfg:2:9: first");
	assert_string_equal(error_text(1), "b.cfg:7:3: second");
	assert_string_equal(error_text(2), "b.cfg:7:3: third");
	assert_string_equal(error_text(3), "b.cfg: file-wide");
	assert_string_equal(error_text(4), "");
	/* Like snprintf: the full length back, the buffer cut and terminated. */
	assert_int_equal(xlcfg_error_format(&errs, 0, small, sizeof(small)), 16);
	assert_string_equal(small, "b.cfg:2:9: ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_realistic_file),
		cmocka_unit_test(test_empty_and_comment_only_files),
		cmocka_unit_test(test_whitespace_crlf_bom_and_no_final_newline),
		cmocka_unit_test(test_quotes_and_escapes),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_multiline_lists),
		cmocka_unit_test(test_each_syntax_error_message),
		cmocka_unit_test(test_nul_bytes_are_errors),
		cmocka_unit_test(test_binary_junk_is_rejected_without_crashing),
		cmocka_unit_test(test_line_length_limit),
		cmocka_unit_test(test_string_length_limit),
		cmocka_unit_test(test_string_pool_limit),
		cmocka_unit_test(test_entry_and_item_limits),
		cmocka_unit_test(test_file_size_limit),
		cmocka_unit_test(test_recovery_reports_every_broken_statement),
		cmocka_unit_test(test_error_list_is_bounded),
		cmocka_unit_test(test_error_sort_and_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
