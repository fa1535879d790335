// SOURCES: kernel/config/vifspec.c kernel/config/specparse.c kernel/lib/string.c kernel/lib/format.c
/*
 * xl's VIFSPEC (xl-network-configuration(5)) as an operator writes it: the
 * keys we take (mac, bridge, model, vifname) with their defaults, and every
 * refusal with its reason: bad MACs (form, multicast, zero), bad names,
 * other models, xl's keys we do not do, unknown keys, a key twice. Also the
 * derived MAC: Xen's OUI, stable, distinct per VM and per index.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/config/vifspec.h"

static struct vm_vif vif;
static char why[200];

static void ok(const char *spec)
{
	bool r = vifspec_parse(spec, &vif, why, sizeof(why));

	if (!r)
		fprintf(stderr, "  refused \"%s\": %s\n", spec, why);
	assert_true(r);
}

static void refused(const char *spec, const char *reason)
{
	bool r = vifspec_parse(spec, &vif, why, sizeof(why));

	if (r || strcmp(why, reason) != 0)
		fprintf(stderr, "  \"%s\": got %s \"%s\", want \"%s\"\n", spec, r ? "ok" : "error",
			why, reason);
	assert_false(r);
	assert_string_equal(why, reason);
}

static void test_defaults(void **state)
{
	(void)state;
	ok("");
	assert_false(vif.mac_given);
	assert_string_equal(vif.bridge, "uplink");
	assert_string_equal(vif.vifname, "");
	ok("  ,  ");
	assert_string_equal(vif.bridge, "uplink");
}

static void test_full(void **state)
{
	static const uint8_t want[6] = { 0x00, 0x16, 0x3e, 0x01, 0x02, 0xab };

	(void)state;
	ok("mac=00:16:3e:01:02:AB, bridge=lab, model=virtio-net, vifname=web-eth0");
	assert_true(vif.mac_given);
	assert_memory_equal(vif.mac, want, 6);
	assert_string_equal(vif.bridge, "lab");
	assert_string_equal(vif.vifname, "web-eth0");
	ok("bridge = uplink ,mac = 00-16-3e-01-02-ab,");
	assert_memory_equal(vif.mac, want, 6);
	assert_string_equal(vif.bridge, "uplink");
	ok("model=virtio");
	ok("bridge=a.b_c-1");
	ok("bridge=abcdefghijklmno"); /* 15 */
	ok("mac=02:00:00:00:00:01"); /* locally administered is fine */
}

static void test_bad_mac(void **state)
{
	(void)state;
	refused("mac=00:16:3e:01:02", "mac=00:16:3e:01:02: expected six hex octets like 00:16:3e:01:02:03");
	refused("mac=00:16:3e:01:02:03:04",
		"mac=00:16:3e:01:02:03:04: expected six hex octets like 00:16:3e:01:02:03");
	refused("mac=00:16:3e:01-02-03",
		"mac=00:16:3e:01-02-03: expected six hex octets like 00:16:3e:01:02:03");
	refused("mac=0:16:3e:1:2:3", "mac=0:16:3e:1:2:3: expected six hex octets like 00:16:3e:01:02:03");
	refused("mac=00:16:3g:01:02:03",
		"mac=00:16:3g:01:02:03: expected six hex octets like 00:16:3e:01:02:03");
	refused("mac=", "mac=: expected six hex octets like 00:16:3e:01:02:03");
	refused("mac=01:00:5e:00:00:01",
		"mac=01:00:5e:00:00:01 is a multicast address (bit 0 of the first octet is set)");
	refused("mac=ff:ff:ff:ff:ff:ff",
		"mac=ff:ff:ff:ff:ff:ff is a multicast address (bit 0 of the first octet is set)");
	refused("mac=00:00:00:00:00:00", "mac=00:00:00:00:00:00 is all zero");
}

static void test_bad_names(void **state)
{
	(void)state;
	refused("bridge=", "bridge=: a switch name is 1 to 15 letters, digits, '-', '_' or '.'");
	refused("bridge=abcdefghijklmnop",
		"bridge=abcdefghijklmnop: a switch name is 1 to 15 letters, digits, '-', '_' or '.'");
	refused("bridge=br 0", "bridge=br 0: a switch name is 1 to 15 letters, digits, '-', '_' or '.'");
	refused("bridge=br/0", "bridge=br/0: a switch name is 1 to 15 letters, digits, '-', '_' or '.'");
	refused("vifname=this-is-too-long-1", "vifname=this-is-too-long-1: 1 to 15 letters, digits, "
					      "'-', '_' or '.'");
	refused("vifname=a:b", "vifname=a:b: 1 to 15 letters, digits, '-', '_' or '.'");
}

static void test_refused_keys(void **state)
{
	(void)state;
	refused("model=e1000", "model=e1000 is not supported: every vif is a virtio-net device "
			       "(model=virtio-net)");
	refused("model=rtl8139", "model=rtl8139 is not supported: every vif is a virtio-net device "
				 "(model=virtio-net)");
	refused("model=foo", "unknown model=foo (only virtio-net)");
	refused("bridge=br0, ip=10.0.0.2", "ip= is not supported");
	refused("script=vif-bridge", "script= is not supported");
	refused("rate=10Mb/s", "rate= is not supported");
	refused("type=ioemu", "type= is not supported");
	refused("backend=dom0", "backend= is not supported");
	refused("gatewaydev=eth0", "gatewaydev= is not supported");
	refused("colour=blue", "unknown key \"colour\"");
	refused("trusted", "the trusted flag is not supported");
	refused("bridge", "\"bridge\": expected key=value");
	refused("bridge=a,bridge=b", "bridge is given twice");
	refused("mac=00:16:3e:00:00:01,mac=00:16:3e:00:00:02", "mac is given twice");
}

static void test_derive_mac(void **state)
{
	uint8_t a[6], b[6], c[6], d[6];

	(void)state;
	vifspec_derive_mac("web", 0, a);
	vifspec_derive_mac("web", 0, b);
	assert_memory_equal(a, b, 6); /* stable */
	assert_int_equal(a[0], 0x00);
	assert_int_equal(a[1], 0x16);
	assert_int_equal(a[2], 0x3e);
	vifspec_derive_mac("web", 1, c);
	assert_memory_not_equal(a, c, 3 + 3);
	vifspec_derive_mac("db", 0, d);
	assert_memory_not_equal(a, d, 6);
	/* many names and indexes: always unicast, Xen's OUI, and rarely the same */
	unsigned same = 0;
	uint8_t prev[6] = { 0 };
	for (unsigned i = 0; i < 1000; i++) {
		char name[16];
		snprintf(name, sizeof(name), "vm%u", i);
		vifspec_derive_mac(name, i % 8, a);
		assert_int_equal(a[0] & 1, 0);
		assert_memory_equal(a, "\x00\x16\x3e", 3);
		same += memcmp(a, prev, 6) == 0;
		memcpy(prev, a, 6);
	}
	assert_int_equal(same, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),	cmocka_unit_test(test_full),
		cmocka_unit_test(test_bad_mac),		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_refused_keys),	cmocka_unit_test(test_derive_mac),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
