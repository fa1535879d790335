// SOURCES: loader/hvcfg.c
/*
 * hv.cfg, hvboot.efi's configuration: entries, defaults, module names, and
 * every kind of bad line reported with its line number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loader/hvcfg.h"

static struct hvcfg cfg;

static bool parse(const char *text)
{
	/* an exact-size copy, not terminated: the parser must honour len */
	size_t n = strlen(text);
	char *copy = malloc(n ? n : 1);
	memcpy(copy, text, n);
	bool ok = hvcfg_parse(&cfg, copy, n);
	free(copy);
	return ok;
}

static const char *err(unsigned i)
{
	static char line[256];
	hvcfg_error_format(&cfg, i, "hv.cfg", line, sizeof(line));
	return line;
}

static void the_issue_example(void **state)
{
	(void)state;
	assert_true(parse("[global]\n"
			  "default=hv\n"
			  "[hv]\n"
			  "options=console=com1 loglevel=info\n"
			  "kernel=hv.elf\n"
			  "module=vms/web.cfg /boot/vms/web.cfg\n"
			  "module=vms/guest.elf /boot/vms/guest.elf\n"));
	assert_int_equal(cfg.nsections, 1);
	assert_int_equal(cfg.default_index, 0);
	const struct hvcfg_section *s = &cfg.sections[0];
	assert_string_equal(s->name, "hv");
	assert_string_equal(s->options, "console=com1 loglevel=info");
	assert_string_equal(s->kernel, "hv.elf");
	assert_int_equal(s->nmodules, 2);
	assert_string_equal(s->modules[0].path, "vms/web.cfg");
	assert_string_equal(s->modules[0].cmdline, "/boot/vms/web.cfg");
	assert_string_equal(s->modules[1].path, "vms/guest.elf");
	assert_string_equal(s->modules[1].cmdline, "/boot/vms/guest.elf");
}

static void defaults_comments_crlf_and_spaces(void **state)
{
	(void)state;
	assert_true(parse("\xef\xbb\xbf# a comment\r\n"
			  "; another\r\n"
			  "\r\n"
			  "  [ one ]  \r\n"
			  "  options = a=b  c \r\n"
			  "module=  m.bin   name with  args \r\n"
			  "module=plain.bin\r\n"
			  "[two]\r\n"
			  "kernel=sub/dir/hv2.elf"));
	assert_int_equal(cfg.nsections, 2);
	assert_int_equal(cfg.default_index, -1); /* the loader asks */
	assert_string_equal(cfg.sections[0].name, "one");
	assert_string_equal(cfg.sections[0].options, "a=b  c");
	assert_string_equal(cfg.sections[0].kernel, "hv.elf"); /* the default */
	assert_string_equal(cfg.sections[0].modules[0].path, "m.bin");
	assert_string_equal(cfg.sections[0].modules[0].cmdline, "name with  args");
	assert_string_equal(cfg.sections[0].modules[1].cmdline, "plain.bin");
	assert_string_equal(cfg.sections[1].kernel, "sub/dir/hv2.elf");
	assert_int_equal(cfg.sections[1].line, 8);
}

static void default_picks_the_named_section(void **state)
{
	(void)state;
	assert_true(parse("[a]\n[b]\n[global]\ndefault=b\n"));
	assert_int_equal(cfg.default_index, 1);
}

static void bad_lines_are_reported_by_line(void **state)
{
	(void)state;
	assert_false(parse("options=x\n"	  /* 1: before a section */
			   "[hv]\n"		  /* 2 */
			   "ramdisk=initrd\n"	  /* 3: unknown key */
			   "this is no key\n"	  /* 4 */
			   "[broken\n"		  /* 5 */
			   "kernel=x\n"		  /* 6: skipped, in a broken section */
			   "[hv]\n"		  /* 7: twice */
			   "[ok]\n"		  /* 8 */
			   "module=../up.bin x\n" /* 9: leaves the directory */
			   "kernel=\n"		  /* 10: empty */
			   "=5\n"		  /* 11 */
			   "[global]\n"		  /* 12 */
			   "timeout=3\n"	  /* 13 */
			   "default=nope\n"));	  /* 14 */
	assert_int_equal(cfg.nerrors, 8);
	assert_true(cfg.errors_dropped); /* lines 13 and 14: shown below */
	assert_string_equal(err(0), "hv.cfg:1: a key before any [section]: 'options'");
	assert_string_equal(err(1), "hv.cfg:3: unknown key (options, kernel, module) 'ramdisk'");
	assert_string_equal(err(2), "hv.cfg:4: expected key=value or [section], got 'this is no key'");
	assert_string_equal(err(3), "hv.cfg:5: a section header ends with ']': '[broken'");
	assert_string_equal(err(4), "hv.cfg:7: section defined twice: 'hv'");
	assert_string_equal(err(5), "hv.cfg:9: module= needs a file name, got '../up.bin'");
	assert_string_equal(err(6), "hv.cfg:10: kernel= needs a file name, got ''");
	assert_string_equal(err(7), "hv.cfg:11: a key is missing before '='");
	assert_false(parse("[g]\nx=1\n[global]\ntimeout=3\ndefault=nope\n"));
	assert_int_equal(cfg.nerrors, 3);
	assert_string_equal(err(1), "hv.cfg:4: unknown key in [global] (default) 'timeout'");
	assert_string_equal(err(2), "hv.cfg:5: default= names no section: 'nope'");
}

static void empty_or_no_entry(void **state)
{
	(void)state;
	assert_false(parse(""));
	assert_int_equal(cfg.nerrors, 1);
	assert_string_equal(err(0),
			    "hv.cfg: no boot entry: add a section such as [hv] with kernel=hv.elf");
	assert_false(parse("[global]\ndefault=hv\n"));
	assert_int_equal(cfg.nerrors, 2);
}

static void limits(void **state)
{
	(void)state;
	char big[8192];
	size_t at = 0;
	at += (size_t)sprintf(big + at, "[hv]\n");
	for (int i = 0; i < 33; i++)
		at += (size_t)sprintf(big + at, "module=m%d\n", i);
	assert_false(parse(big));
	assert_int_equal(cfg.nerrors, 1);
	assert_string_equal(err(0), "hv.cfg:34: too many modules (at most 32)");
	assert_int_equal(cfg.sections[0].nmodules, 32);

	at = (size_t)sprintf(big, "[hv]\noptions=");
	memset(big + at, 'x', 1100);
	strcpy(big + at + 1100, "\n");
	assert_false(parse(big));
	assert_string_equal(err(0), "hv.cfg:2: options= is too long");

	at = 0;
	for (int i = 0; i < 9; i++)
		at += (size_t)sprintf(big + at, "[s%d]\n", i);
	assert_false(parse(big));
	assert_string_equal(err(0), "hv.cfg:9: too many sections (at most 8)");

	assert_false(parse("[a b]\n[0123456789012345678901234567890123]\n"));
	assert_string_equal(err(0), "hv.cfg:1: bad section name (letters, digits, - _ .): 'a b'");

	/* more errors than are kept */
	assert_false(parse("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"));
	assert_int_equal(cfg.nerrors, HVCFG_MAX_ERRORS);
	assert_true(cfg.errors_dropped);
}

static void odd_bytes_quoted_printably(void **state)
{
	(void)state;
	assert_false(parse("[hv]\nbad\x01\xff line\n"));
	assert_string_equal(err(0), "hv.cfg:2: a control character in the line: 'bad?? line'");
	assert_false(parse("[hv]\nbad\xff line\n"));
	assert_string_equal(err(0), "hv.cfg:2: expected key=value or [section], got 'bad? line'");
	/* a NUL inside the text is just a bad byte */
	static const char nul[] = "[hv]\nkernel=a\0b\n";
	assert_false(hvcfg_parse(&cfg, nul, sizeof(nul) - 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_issue_example),
		cmocka_unit_test(defaults_comments_crlf_and_spaces),
		cmocka_unit_test(default_picks_the_named_section),
		cmocka_unit_test(bad_lines_are_reported_by_line),
		cmocka_unit_test(empty_or_no_entry),
		cmocka_unit_test(limits),
		cmocka_unit_test(odd_bytes_quoted_printably),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
