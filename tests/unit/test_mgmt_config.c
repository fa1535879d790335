// SOURCES: kernel/mgmt/mgmt_config.c kernel/cmdline.c kernel/lib/format.c kernel/lib/string.c
/*
 * The management interface's command-line options: mgmt=dhcp|off|ADDR/PREFIX[,gw=GW],
 * mgmt_port=, mgmt_token=, syslog=HOST[:PORT], and the address as `info` prints it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/mgmt/mgmt_config.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static int parse(const char *cl, struct mgmt_config *cfg, char *err)
{
	return mgmt_config_parse(cl, cfg, err, 128);
}

static void test_defaults(void **state)
{
	(void)state;
	struct mgmt_config cfg;
	char err[128];
	assert_int_equal(parse("console=com1 loglevel=3", &cfg, err), 0);
	assert_int_equal(cfg.mode, MGMT_DHCP);
	assert_int_equal(cfg.port, 8080);
	assert_string_equal(cfg.token, "");
	assert_false(cfg.syslog);
	assert_string_equal(err, "");
	assert_int_equal(parse(NULL, &cfg, err), 0);
	assert_int_equal(cfg.mode, MGMT_DHCP);
}

static void test_dhcp_off(void **state)
{
	(void)state;
	struct mgmt_config cfg;
	char err[128];
	assert_int_equal(parse("mgmt=off", &cfg, err), 0);
	assert_int_equal(cfg.mode, MGMT_OFF);
	assert_int_equal(parse("mgmt=off mgmt=dhcp", &cfg, err), 0); /* the last one wins */
	assert_int_equal(cfg.mode, MGMT_DHCP);
}

static void test_static(void **state)
{
	(void)state;
	struct mgmt_config cfg;
	char err[128];
	assert_int_equal(parse("mgmt=10.0.0.5/24,gw=10.0.0.1", &cfg, err), 0);
	assert_int_equal(cfg.mode, MGMT_STATIC);
	assert_int_equal(cfg.addr, IP(10, 0, 0, 5));
	assert_int_equal(cfg.prefix, 24);
	assert_int_equal(cfg.gw, IP(10, 0, 0, 1));

	assert_int_equal(parse("mgmt=192.168.1.200/16", &cfg, err), 0);
	assert_int_equal(cfg.mode, MGMT_STATIC);
	assert_int_equal(cfg.addr, IP(192, 168, 1, 200));
	assert_int_equal(cfg.prefix, 16);
	assert_int_equal(cfg.gw, 0);

	assert_int_equal(parse("mgmt=10.1.2.3/32", &cfg, err), 0);
	assert_int_equal(cfg.prefix, 32);
	assert_int_equal(parse("mgmt=10.1.2.0/31,gw=10.1.2.1", &cfg, err), 0); /* RFC 3021 */
	assert_int_equal(cfg.gw, IP(10, 1, 2, 1));
}

static void assert_bad_mgmt(const char *cl, const char *reason)
{
	struct mgmt_config cfg;
	char err[128];
	assert_int_equal(parse(cl, &cfg, err), 1);
	assert_int_equal(cfg.mode, MGMT_OFF); /* never an address that was not asked for */
	assert_non_null(strstr(err, reason));
	assert_memory_equal(err, "mgmt=", 5);
}

static void test_static_malformed(void **state)
{
	(void)state;
	assert_bad_mgmt("mgmt=10.0.0.5", "ADDR/PREFIX");
	assert_bad_mgmt("mgmt=", "ADDR/PREFIX");
	assert_bad_mgmt("mgmt", "ADDR/PREFIX");
	assert_bad_mgmt("mgmt=static", "ADDR/PREFIX");
	assert_bad_mgmt("mgmt=10.0.0/24", "not an IPv4");
	assert_bad_mgmt("mgmt=10.0.0.256/24", "not an IPv4");
	assert_bad_mgmt("mgmt=10.0.0.05/24", "not an IPv4");
	assert_bad_mgmt("mgmt=10.0.0.5.1/24", "not an IPv4");
	assert_bad_mgmt("mgmt=10.0.0.5/33", "prefix");
	assert_bad_mgmt("mgmt=10.0.0.5/0", "prefix");
	assert_bad_mgmt("mgmt=10.0.0.5/", "prefix");
	assert_bad_mgmt("mgmt=10.0.0.5/2x", "prefix");
	assert_bad_mgmt("mgmt=10.0.0.0/24", "host address");
	assert_bad_mgmt("mgmt=10.0.0.255/24", "host address");
	assert_bad_mgmt("mgmt=224.0.0.1/24", "host address");
	assert_bad_mgmt("mgmt=127.0.0.1/8", "host address");
	assert_bad_mgmt("mgmt=10.0.0.5/24,gw=10.0.1.1", "gateway");
	assert_bad_mgmt("mgmt=10.0.0.5/24,gw=10.0.0.5", "gateway");
	assert_bad_mgmt("mgmt=10.0.0.5/24,gw=10.0.0.255", "gateway");
	assert_bad_mgmt("mgmt=10.0.0.5/24,gw=", "gw=");
	assert_bad_mgmt("mgmt=10.0.0.5/24,via=10.0.0.1", "gw=");
	assert_bad_mgmt("mgmt=10.0.0.5/24,", "gw=");
}

static void test_port(void **state)
{
	(void)state;
	struct mgmt_config cfg;
	char err[128];
	assert_int_equal(parse("mgmt_port=9000", &cfg, err), 0);
	assert_int_equal(cfg.port, 9000);
	assert_int_equal(parse("mgmt_port=65535", &cfg, err), 0);
	assert_int_equal(cfg.port, 65535);
	const char *bad[] = {"mgmt_port=0", "mgmt_port=65536", "mgmt_port=", "mgmt_port=80a",
			     "mgmt_port=-1", "mgmt_port=123456"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &cfg, err), 1);
		assert_int_equal(cfg.port, 8080);
		assert_int_equal(cfg.mode, MGMT_DHCP); /* the rest stands */
		assert_non_null(strstr(err, "mgmt_port="));
	}
}

static void test_token(void **state)
{
	(void)state;
	struct mgmt_config cfg;
	char err[128], cl[300];
	assert_int_equal(parse("mgmt_token=s3cr3t-T0ken_x", &cfg, err), 0);
	assert_string_equal(cfg.token, "s3cr3t-T0ken_x");

	memset(cl, 0, sizeof(cl));
	strcpy(cl, "mgmt_token=");
	memset(cl + 11, 'a', 128);
	assert_int_equal(parse(cl, &cfg, err), 0);
	assert_int_equal(strlen(cfg.token), 128);
	cl[11 + 128] = 'a';
	assert_int_equal(parse(cl, &cfg, err), 1);
	assert_string_equal(cfg.token, "");
	assert_null(strstr(err, "aaaa")); /* a token is never printed */

	assert_int_equal(parse("mgmt_token=", &cfg, err), 1);
	assert_string_equal(cfg.token, "");
	assert_int_equal(parse("mgmt_token=ab\x01" "cd", &cfg, err), 1);
	assert_string_equal(cfg.token, "");
}

static void test_syslog(void **state)
{
	(void)state;
	struct mgmt_config cfg;
	char err[128];
	assert_int_equal(parse("syslog=10.0.2.2", &cfg, err), 0);
	assert_true(cfg.syslog);
	assert_int_equal(cfg.syslog_addr, IP(10, 0, 2, 2));
	assert_int_equal(cfg.syslog_port, 514);
	assert_int_equal(parse("syslog=192.168.0.9:5514", &cfg, err), 0);
	assert_int_equal(cfg.syslog_addr, IP(192, 168, 0, 9));
	assert_int_equal(cfg.syslog_port, 5514);
	const char *bad[] = {"syslog=", "syslog", "syslog=loghost", "syslog=10.0.2.2:",
			     "syslog=10.0.2.2:0", "syslog=10.0.2.2:70000", "syslog=0.0.0.0",
			     "syslog=255.255.255.255:514", "syslog=10.0.2.2:51x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &cfg, err), 1);
		assert_false(cfg.syslog);
		assert_non_null(strstr(err, "syslog="));
	}
}

static void test_first_error_kept(void **state)
{
	(void)state;
	struct mgmt_config cfg;
	char err[128];
	assert_int_equal(parse("mgmt_port=0 syslog=x mgmt=10.0.0.5/24 mgmt_token=ok", &cfg, err), 2);
	assert_non_null(strstr(err, "mgmt_port="));
	assert_int_equal(cfg.mode, MGMT_STATIC);
	assert_string_equal(cfg.token, "ok");
	/* a small error buffer is fine */
	char small[8];
	assert_int_equal(mgmt_config_parse("mgmt=bad", &cfg, small, sizeof(small)), 1);
	assert_int_equal(strlen(small), 7);
	assert_int_equal(mgmt_config_parse("mgmt=bad", &cfg, NULL, 0), 1);
}

static void test_ipv4_and_masks(void **state)
{
	(void)state;
	uint32_t a;
	assert_true(mgmt_parse_ipv4("0.0.0.0", 7, &a));
	assert_int_equal(a, 0);
	assert_true(mgmt_parse_ipv4("255.255.255.255", 15, &a));
	assert_int_equal(a, 0xffffffffu);
	assert_true(mgmt_parse_ipv4("10.0.2.15xyz", 9, &a)); /* only len counts */
	assert_int_equal(a, IP(10, 0, 2, 15));
	assert_false(mgmt_parse_ipv4("1.2.3", 5, &a));
	assert_false(mgmt_parse_ipv4("1.2.3.4.", 8, &a));
	assert_false(mgmt_parse_ipv4("1..3.4", 6, &a));
	assert_false(mgmt_parse_ipv4("1.2.3.1000", 10, &a));
	assert_false(mgmt_parse_ipv4("", 0, &a));

	assert_int_equal(mgmt_prefix_mask(0), 0);
	assert_int_equal(mgmt_prefix_mask(24), 0xffffff00u);
	assert_int_equal(mgmt_prefix_mask(32), 0xffffffffu);
	assert_int_equal(mgmt_mask_prefix(0xffffff00u), 24);
	assert_int_equal(mgmt_mask_prefix(0), 0);
	assert_int_equal(mgmt_mask_prefix(0xffffffffu), 32);
	assert_int_equal(mgmt_mask_prefix(0xff00ff00u), -1);
}

static void test_format_addr(void **state)
{
	(void)state;
	char out[64];
	mgmt_format_addr(out, sizeof(out), IP(10, 0, 2, 15), 24, IP(10, 0, 2, 2), "dhcp");
	assert_string_equal(out, "10.0.2.15/24 gw 10.0.2.2 (dhcp)");
	mgmt_format_addr(out, sizeof(out), IP(192, 168, 100, 250), 16, 0, "static");
	assert_string_equal(out, "192.168.100.250/16 (static)");
	mgmt_format_addr(out, 10, IP(192, 168, 100, 250), 16, 0, "static");
	assert_string_equal(out, "192.168.1");
}

static void test_redact(void **state)
{
	(void)state;
	char out[128];
	mgmt_redact_cmdline(out, sizeof(out), "console=com1 mgmt_token=s3cret mgmt=dhcp");
	assert_string_equal(out, "console=com1 mgmt_token=*** mgmt=dhcp");
	mgmt_redact_cmdline(out, sizeof(out), "mgmt_token=a\tmgmt_token= xmgmt_token=keep");
	assert_string_equal(out, "mgmt_token=***\tmgmt_token=*** xmgmt_token=keep");
	mgmt_redact_cmdline(out, sizeof(out), "");
	assert_string_equal(out, "");
	mgmt_redact_cmdline(out, sizeof(out), NULL);
	assert_string_equal(out, "");
	mgmt_redact_cmdline(out, 16, "mgmt_token=s3cret");
	assert_string_equal(out, "mgmt_token=***");
	mgmt_redact_cmdline(out, 13, "mgmt_token=s3cret");
	assert_string_equal(out, "mgmt_token=*");
}

static void test_token_file(void **state)
{
	(void)state;
	char out[MGMT_TOKEN_MAX + 1], err[128];
	struct mgmt_config cfg;
	assert_int_equal(parse("mgmt_token_file=/boot/vms/mgmt.token", &cfg, err), 0);
	assert_string_equal(cfg.token_file, "/boot/vms/mgmt.token");
	assert_string_equal(cfg.token, "");
	assert_int_equal(mgmt_token_from_text("  s3cret-42 \nsecond line\n", 25, out, sizeof(out)), 0);
	assert_string_equal(out, "s3cret-42");
	assert_int_equal(mgmt_token_from_text("abc\r\n", 5, out, sizeof(out)), 0);
	assert_string_equal(out, "abc");
	assert_int_equal(mgmt_token_from_text("abc", 3, out, sizeof(out)), 0); /* no newline */
	assert_string_equal(out, "abc");
	assert_int_equal(mgmt_token_from_text("\nabc\n", 5, out, sizeof(out)), -1); /* empty first line */
	assert_int_equal(mgmt_token_from_text("a b\n", 4, out, sizeof(out)), -1);
	assert_int_equal(mgmt_token_from_text("a\x01b\n", 4, out, sizeof(out)), -1);
	assert_int_equal(mgmt_token_from_text("", 0, out, sizeof(out)), -1);
	char big[MGMT_TOKEN_MAX + 2];
	memset(big, 'x', sizeof(big));
	assert_int_equal(mgmt_token_from_text(big, sizeof(big), out, sizeof(out)), -1);
	assert_int_equal(mgmt_token_from_text(big, MGMT_TOKEN_MAX, out, sizeof(out)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_dhcp_off),
		cmocka_unit_test(test_static),
		cmocka_unit_test(test_static_malformed),
		cmocka_unit_test(test_port),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_syslog),
		cmocka_unit_test(test_first_error_kept),
		cmocka_unit_test(test_ipv4_and_masks),
		cmocka_unit_test(test_format_addr),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_token_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
