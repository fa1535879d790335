// SOURCES: kernel/cmdline.c kernel/lib/format.c kernel/lib/string.c
/*
 * The hypervisor command line as GRUB passes it: "key=value" options and bare
 * flags, and the Xen-style serial console options (console=comN comN=...).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/cmdline.h"

/* cmdline_find's value is not terminated: compare it with its length. */
static void assert_value(const char *cmdline, const char *key, const char *want)
{
	const char *v = NULL;
	size_t len = 99;
	assert_true(cmdline_find(cmdline, key, &v, &len));
	assert_int_equal(len, strlen(want));
	assert_memory_equal(v, want, len);
}

static void test_find_key_value_and_bare_flags(void **state)
{
	(void)state;
	const char *cl = "loglevel=3 noapic console=com1 iommu=on";
	assert_value(cl, "loglevel", "3");
	assert_value(cl, "console", "com1");
	assert_value(cl, "iommu", "on");
	assert_value(cl, "noapic", ""); /* a bare flag: found, empty value */

	const char *v;
	size_t len;
	assert_false(cmdline_find(cl, "apic", &v, &len));   /* not a suffix match */
	assert_false(cmdline_find(cl, "log", &v, &len));    /* not a prefix match */
	assert_false(cmdline_find(cl, "com1", &v, &len));   /* not inside a value */
	assert_false(cmdline_find(cl, "missing", &v, &len));
	assert_false(cmdline_find("", "loglevel", &v, &len));
	assert_false(cmdline_find(NULL, "loglevel", &v, &len));
}

static void test_find_last_option_wins(void **state)
{
	(void)state;
	assert_value("loglevel=1 x loglevel=7", "loglevel", "7");
	/* a later bare flag also replaces an earlier value */
	assert_value("iommu=off iommu", "iommu", "");
	assert_value("iommu iommu=force", "iommu", "force");
}

static void test_find_separators_and_odd_values(void **state)
{
	(void)state;
	/* GRUB may leave tabs or a trailing newline; leading/trailing blanks */
	assert_value("  \ta=1\t\tb=2 \n", "b", "2");
	assert_value("a=1\nb=2\r\n", "a", "1");
	assert_value("path=/boot/vm1.cfg", "path", "/boot/vm1.cfg");
	assert_value("opt=a=b", "opt", "a=b"); /* only the first '=' splits */
	assert_value("empty=", "empty", "");
}

static void test_get_u64(void **state)
{
	(void)state;
	uint64_t v = 5;
	assert_true(cmdline_get_u64("dom0_mem=1024 x", "dom0_mem", &v));
	assert_int_equal(v, 1024);
	assert_true(cmdline_get_u64("base=0xfee00000", "base", &v));
	assert_int_equal(v, 0xfee00000u);
	assert_true(cmdline_get_u64("n=1 n=2", "n", &v));
	assert_int_equal(v, 2);

	v = 5;
	assert_false(cmdline_get_u64("mem=12k", "mem", &v)); /* trailing garbage */
	assert_false(cmdline_get_u64("mem=", "mem", &v));
	assert_false(cmdline_get_u64("mem", "mem", &v)); /* bare flag has no number */
	assert_false(cmdline_get_u64("mem=-1", "mem", &v));
	assert_false(cmdline_get_u64("mem=99999999999999999999", "mem", &v)); /* overflow */
	assert_false(cmdline_get_u64("other=1", "mem", &v));
	assert_int_equal(v, 5); /* untouched on failure */
}

static void test_get_str(void **state)
{
	(void)state;
	char out[8];

	assert_true(cmdline_get_str("name=alpha", "name", out, sizeof(out)));
	assert_string_equal(out, "alpha");
	assert_true(cmdline_get_str("name=1234567", "name", out, sizeof(out))); /* exactly fits */
	assert_string_equal(out, "1234567");
	assert_true(cmdline_get_str("flag", "flag", out, sizeof(out)));
	assert_string_equal(out, "");

	memset(out, 'Z', sizeof(out));
	assert_false(cmdline_get_str("name=12345678", "name", out, sizeof(out))); /* too long */
	assert_int_equal(out[0], 'Z');
	assert_false(cmdline_get_str("other=1", "name", out, sizeof(out)));
}

/* Runs cmdline_serial and checks every field. */
static void check_serial(const char *cl, int want_rc, uint16_t port, uint32_t baud, uint8_t data,
			 char parity, uint8_t stop)
{
	struct serial_params sp;
	char err[128];
	memset(&sp, 0xa5, sizeof(sp));
	memset(err, 'Z', sizeof(err));
	int rc = cmdline_serial(cl, &sp, err, sizeof(err));
	if (rc != want_rc)
		print_error("cmdline \"%s\": rc %d, err \"%s\"\n", cl, rc, err);
	assert_int_equal(rc, want_rc);
	if (want_rc == 0)
		assert_string_equal(err, "");
	else
		assert_true(strlen(err) > 0);
	assert_int_equal(sp.port, port);
	assert_int_equal(sp.baud, baud);
	assert_int_equal(sp.data_bits, data);
	assert_int_equal(sp.parity, parity);
	assert_int_equal(sp.stop_bits, stop);
}

static void test_serial_defaults(void **state)
{
	(void)state;
	check_serial(NULL, 0, 0x3f8, 115200, 8, 'n', 1);
	check_serial("", 0, 0x3f8, 115200, 8, 'n', 1);
	check_serial("loglevel=3 noapic", 0, 0x3f8, 115200, 8, 'n', 1);
	check_serial("console=com1", 0, 0x3f8, 115200, 8, 'n', 1);
}

static void test_serial_console_picks_port(void **state)
{
	(void)state;
	check_serial("console=com2", 0, 0x2f8, 115200, 8, 'n', 1);
	check_serial("console=com3", 0, 0x3e8, 115200, 8, 'n', 1);
	check_serial("console=com4", 0, 0x2e8, 115200, 8, 'n', 1);
	/* Xen's comma list: the first comN counts */
	check_serial("console=vga,com2", 0, 0x2f8, 115200, 8, 'n', 1);
	check_serial("console=com2,com1", 0, 0x2f8, 115200, 8, 'n', 1);
	/* not a COM port we know: COM1 stays */
	check_serial("console=com5", 0, 0x3f8, 115200, 8, 'n', 1);
	check_serial("console=vga", 0, 0x3f8, 115200, 8, 'n', 1);
	/* last console= wins */
	check_serial("console=com2 console=com1", 0, 0x3f8, 115200, 8, 'n', 1);
}

static void test_serial_com_options(void **state)
{
	(void)state;
	check_serial("com1=9600", 0, 0x3f8, 9600, 8, 'n', 1);
	check_serial("com1=9600,7e2", 0, 0x3f8, 9600, 7, 'e', 2);
	check_serial("com1=57600,5o1", 0, 0x3f8, 57600, 5, 'o', 1);
	check_serial("com1=115200,8m1", 0, 0x3f8, 115200, 8, 'm', 1);
	check_serial("com1=115200,8s1", 0, 0x3f8, 115200, 8, 's', 1);
	check_serial("com1=auto,7n1", 0, 0x3f8, 115200, 7, 'n', 1);
	check_serial("com1=115200,8n1,0x2f8", 0, 0x2f8, 115200, 8, 'n', 1);
	check_serial("com1=19200,8n1,760", 0, 760, 19200, 8, 'n', 1);
	/* the options of the console's port, not another's */
	check_serial("console=com2 com2=38400,8o1", 0, 0x2f8, 38400, 8, 'o', 1);
	check_serial("console=com2 com1=9600", 0, 0x2f8, 115200, 8, 'n', 1);
	check_serial("com2=9600", 0, 0x3f8, 115200, 8, 'n', 1);
	/* last option wins */
	check_serial("com1=9600 com1=38400", 0, 0x3f8, 38400, 8, 'n', 1);
	check_serial("com1=9600,7e1 com1=2400", 0, 0x3f8, 2400, 8, 'n', 1);
	/* every divisor of 115200 down to 50 baud is allowed */
	check_serial("com1=50", 0, 0x3f8, 50, 8, 'n', 1);
	check_serial("com1=300", 0, 0x3f8, 300, 8, 'n', 1);
}

static void test_serial_empty_fields_keep_defaults(void **state)
{
	(void)state;
	check_serial("com1", 0, 0x3f8, 115200, 8, 'n', 1);
	check_serial("com1=", 0, 0x3f8, 115200, 8, 'n', 1);
	check_serial("com1=,7e1", 0, 0x3f8, 115200, 7, 'e', 1);
	check_serial("com1=9600,,0x2f8", 0, 0x2f8, 9600, 8, 'n', 1);
	check_serial("com1=9600,8n1,", 0, 0x3f8, 9600, 8, 'n', 1);
}

static void test_serial_bad_baud(void **state)
{
	(void)state;
	const char *bad[] = {"com1=9601", "com1=abc", "com1=230400", "com1=0", "com1=-9600",
			     "com1=49", "com1=9600x", "com1=99999999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_serial(bad[i], -1, 0x3f8, 115200, 8, 'n', 1);

	struct serial_params sp;
	char err[128];
	assert_int_equal(cmdline_serial("console=com2 com2=9601,7e1", &sp, err, sizeof(err)), -1);
	assert_string_equal(err, "com2: baud rate '9601' is not a divisor of 115200");
	assert_int_equal(sp.port, 0x2f8); /* console= still honoured */
	assert_int_equal(sp.baud, 115200);
}

static void test_serial_bad_dps(void **state)
{
	(void)state;
	const char *bad[] = {"com1=9600,9n1", "com1=9600,4n1", "com1=9600,8x1", "com1=9600,8n3",
			     "com1=9600,8n", "com1=9600,8n12", "com1=9600,8N1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_serial(bad[i], -1, 0x3f8, 9600, 8, 'n', 1);

	struct serial_params sp;
	char err[128];
	assert_int_equal(cmdline_serial("com1=9600,8x1,0x2f8", &sp, err, sizeof(err)), -1);
	assert_string_equal(err, "com1: '8x1' is not a data/parity/stop setting such as 8n1");
}

static void test_serial_bad_port(void **state)
{
	(void)state;
	const char *bad[] = {"com1=9600,8n1,0x10000", "com1=9600,8n1,0", "com1=9600,8n1,zzz",
			     "com1=9600,8n1,0xfff9", "com1=9600,8n1,0x2f8junk"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_serial(bad[i], -1, 0x3f8, 9600, 8, 'n', 1);

	struct serial_params sp;
	char err[128];
	assert_int_equal(cmdline_serial("com1=9600,7e1,0x10000", &sp, err, sizeof(err)), -1);
	assert_string_equal(err, "com1: I/O base '0x10000' is not a port number");
	assert_int_equal(sp.data_bits, 7); /* the good parts before it still apply */
	assert_int_equal(sp.port, 0x3f8);
}

static void test_serial_small_or_no_error_buffer(void **state)
{
	(void)state;
	struct serial_params sp;
	char err[8];

	memset(err, 'Z', sizeof(err));
	assert_int_equal(cmdline_serial("com1=9601", &sp, err, sizeof(err)), -1);
	assert_string_equal(err, "com1: b"); /* truncated and terminated */

	assert_int_equal(cmdline_serial("com1=9601", &sp, NULL, 0), -1);
	assert_int_equal(sp.baud, 115200);
	assert_int_equal(cmdline_serial("com1=9600", &sp, NULL, 0), 0);
	assert_int_equal(sp.baud, 9600);
}

static void test_console_targets(void **state)
{
	(void)state;
	bool serial, vga;
	cmdline_console("loglevel=info", &serial, &vga);
	assert_true(serial && !vga); /* the default: the serial port */
	cmdline_console("console=vga", &serial, &vga);
	assert_true(!serial && vga);
	cmdline_console("console=com1,vga", &serial, &vga);
	assert_true(serial && vga);
	cmdline_console("console=vga,com2 x", &serial, &vga);
	assert_true(serial && vga);
	cmdline_console("console=com1", &serial, &vga);
	assert_true(serial && !vga);
	cmdline_console("console=vgax,com9", &serial, &vga);
	assert_true(serial && !vga); /* nothing known: never dark */
	cmdline_console("console=", &serial, &vga);
	assert_true(serial && !vga);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_key_value_and_bare_flags),
		cmocka_unit_test(test_find_last_option_wins),
		cmocka_unit_test(test_find_separators_and_odd_values),
		cmocka_unit_test(test_get_u64),
		cmocka_unit_test(test_get_str),
		cmocka_unit_test(test_serial_defaults),
		cmocka_unit_test(test_serial_console_picks_port),
		cmocka_unit_test(test_serial_com_options),
		cmocka_unit_test(test_serial_empty_fields_keep_defaults),
		cmocka_unit_test(test_serial_bad_baud),
		cmocka_unit_test(test_serial_bad_dps),
		cmocka_unit_test(test_serial_bad_port),
		cmocka_unit_test(test_serial_small_or_no_error_buffer),
		cmocka_unit_test(test_console_targets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
