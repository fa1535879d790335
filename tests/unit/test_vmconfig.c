// SOURCES: kernel/config/vmconfig.c kernel/config/vifspec.c kernel/config/specparse.c kernel/config/diskspec.c kernel/config/xlcfg.c kernel/lib/string.c kernel/lib/format.c kernel/lib/cpuset.c
/*
 * VM files checked against a host, as an operator writes them: a good file gives the VM it
 * describes, and every mistake gives the message (file:line:col: reason) the operator reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/config/vmconfig.h"

/* A host with 8 cores, 4 GiB for one VM, four boot modules and a VM "db" already there. */
static const char *const modules[] = { "/boot/vmlinuz", "/boot/initrd.img", "/boot/web.cfg",
				       "/boot/web.img" };
static const char *const vm_names[] = { "db" };
static const struct vmconfig_context host = {
	.modules = modules,
	.module_count = 4,
	.host_cpus = 8,
	.max_memory_mib = 4096,
	.vm_names = vm_names,
	.vm_count = 1,
};

static struct xlcfg work;
static struct vm_config vm;
static struct xlcfg_errors errs;

static bool check_file(const char *text, size_t len)
{
	char *copy = malloc(len ? len : 1); /* exact size: ASan sees any over-read */
	bool ok;

	assert_non_null(copy);
	memcpy(copy, text, len);
	ok = vmconfig_parse("vm.cfg", copy, len, &host, &work, &vm, &errs);
	free(copy);
	return ok;
}

#define CHECK(lit) check_file(lit, sizeof(lit) - 1)

static const char *error_text(unsigned i)
{
	static char buf[400];

	xlcfg_error_format(&errs, i, buf, sizeof(buf));
	return buf;
}

static void dump_errors(void)
{
	for (unsigned i = 0; i < errs.count; i++)
		fprintf(stderr, "  got: %s\n", error_text(i));
}

static bool vm_is_zeroed(void)
{
	static const struct vm_config zero;

	return memcmp(&vm, &zero, sizeof(vm)) == 0;
}

/* The three required keys, then `rest`: a file whose only fault is in `rest`. */
#define BASE "name = 'web'\nmemory = 512\nkernel = '/boot/vmlinuz'\n"

static void expect_error(const char *text, const char *message)
{
	bool ok = check_file(text, strlen(text));

	if (errs.count != 1) {
		dump_errors();
		fprintf(stderr, "  wanted only: %s\n", message);
	}
	assert_false(ok);
	assert_int_equal(errs.count, 1);
	assert_string_equal(error_text(0), message);
	assert_true(vm_is_zeroed());
}

static void expect_ok(const char *text)
{
	bool ok = check_file(text, strlen(text));

	if (!ok) {
		dump_errors();
		fprintf(stderr, "  for: %s\n", text);
	}
	assert_true(ok);
	assert_int_equal(errs.count, 0);
}

static void test_realistic_file(void **state)
{
	(void)state;
	bool ok = CHECK("# /boot/web.cfg: the web front end\n"
			"name = \"web-1.prod\"\n"
			"memory = 2048\n"
			"vcpus = 4\n"
			"cpus = \"0,2-3,6\"\n"
			"kernel = \"/boot/vmlinuz\"\n"
			"ramdisk = \"/boot/initrd.img\"\n"
			"extra = \"console=ttyS0 root=/dev/vda1\"\n"
			"weight = 512\n"
			"cap = 250\n"
			"on_poweroff = 'destroy'\n"
			"on_reboot = 'restart'\n"
			"on_crash = 'restart'\n"
			"autostart = 0\n"
			"hpet = 1\n"
			"pci = [ '03:00.0', '0000:81:1f.7' ]\n"
			"vif = [ 'mac=00:16:3e:00:00:01,bridge=br0',\n"
			"        'bridge=br1' ]\n"
			"disk = [ 'format=raw, vdev=xvda, target=/boot/web.img' ]\n"
			"virtio_console = 1\n"
			"virtio_rng = 0\n");
	if (!ok)
		dump_errors();
	assert_true(ok);
	assert_string_equal(vm.name, "web-1.prod");
	assert_int_equal(vm.memory_mib, 2048);
	assert_int_equal(vm.vcpus, 4);
	assert_true(vm.pinned);
	for (unsigned v = 0; v < 4; v++) {
		for (unsigned cpu = 0; cpu < 8; cpu++)
			assert_int_equal(cpuset_has(&vm.affinity[v], cpu),
					 cpu == 0 || cpu == 2 || cpu == 3 || cpu == 6);
	}
	assert_string_equal(vm.kernel, "/boot/vmlinuz");
	assert_string_equal(vm.ramdisk, "/boot/initrd.img");
	assert_string_equal(vm.extra, "console=ttyS0 root=/dev/vda1");
	assert_int_equal(vm.weight, 512);
	assert_int_equal(vm.cap, 250);
	assert_int_equal(vm.on_poweroff, VM_ACTION_DESTROY);
	assert_int_equal(vm.on_reboot, VM_ACTION_RESTART);
	assert_int_equal(vm.on_crash, VM_ACTION_RESTART);
	assert_false(vm.autostart);
	assert_true(vm.hpet);
	assert_int_equal(vm.pci_count, 2);
	assert_int_equal(vm.pci[0].bus, 0x03);
	assert_int_equal(vm.pci[0].dev, 0);
	assert_int_equal(vm.pci[0].fn, 0);
	assert_int_equal(vm.pci[1].bus, 0x81);
	assert_int_equal(vm.pci[1].dev, 0x1f);
	assert_int_equal(vm.pci[1].fn, 7);
	assert_int_equal(vm.vif_count, 2);
	assert_string_equal(vm.vif[0], "mac=00:16:3e:00:00:01,bridge=br0");
	assert_string_equal(vm.vif[1], "bridge=br1");
	assert_int_equal(vm.disk_count, 1);
	assert_string_equal(vm.disks[0].vdev, "xvda");
	assert_int_equal(vm.disks[0].index, 0);
	assert_false(vm.disks[0].read_only);
	assert_string_equal(vm.disks[0].target, "/boot/web.img");
	assert_true(vm.virtio_console);
	assert_false(vm.virtio_rng);
	assert_string_equal(vm_action_name(vm.on_crash), "restart");
}

static void test_defaults(void **state)
{
	(void)state;
	expect_ok(BASE);
	assert_string_equal(vm.name, "web");
	assert_int_equal(vm.vcpus, 1);
	assert_false(vm.pinned);
	/* Unpinned vCPUs may run on every host core, and only those. */
	assert_true(cpuset_has(&vm.affinity[0], 0));
	assert_true(cpuset_has(&vm.affinity[0], 7));
	assert_false(cpuset_has(&vm.affinity[0], 8));
	assert_string_equal(vm.ramdisk, "");
	assert_string_equal(vm.extra, "");
	assert_int_equal(vm.weight, 256);
	assert_int_equal(vm.cap, 0);
	assert_int_equal(vm.on_poweroff, VM_ACTION_DESTROY);
	assert_int_equal(vm.on_reboot, VM_ACTION_RESTART);
	assert_int_equal(vm.on_crash, VM_ACTION_DESTROY);
	assert_true(vm.autostart);
	/* no HPET unless asked for: /dev/hpet's calibration cost Linux 2 ms and ~500 exits */
	assert_false(vm.hpet);
	assert_int_equal(vm.pci_count, 0);
	assert_int_equal(vm.vif_count, 0);
	assert_int_equal(vm.disk_count, 0);
	assert_false(vm.virtio_console);
	assert_true(vm.virtio_rng);
}

struct range_case {
	const char *line; /* appended to BASE, so it is line 4 */
	const char *message; /* NULL: the file is good */
};

static const struct range_case ranges[] = {
	{ "vcpus = 1\n", NULL },
	{ "vcpus = 512\n", NULL },
	{ "vcpus = 0\n", "vm.cfg:4:9: vcpus: 0 is out of range 1..512" },
	{ "vcpus = 513\n", "vm.cfg:4:9: vcpus: 513 is out of range 1..512" },
	{ "weight = 1\n", NULL },
	{ "weight = 65535\n", NULL },
	{ "weight = 0\n", "vm.cfg:4:10: weight: 0 is out of range 1..65535" },
	{ "weight = 65536\n", "vm.cfg:4:10: weight: 65536 is out of range 1..65535" },
	{ "cap = 0\n", NULL },
	{ "cap = 100\n", NULL },
	{ "cap = 101\n", "vm.cfg:4:7: cap: 101 is out of range 0..100 (100 per vCPU)" },
	{ "cap = 400\nvcpus = 4\n", NULL },
	{ "cap = 401\nvcpus = 4\n", "vm.cfg:4:7: cap: 401 is out of range 0..400 (100 per vCPU)" },
	{ "autostart = 1\n", NULL },
	{ "autostart = 2\n", "vm.cfg:4:13: autostart: expected 0 or 1, got 2" },
	{ "hpet = 1\n", NULL },
	{ "hpet = 3\n", "vm.cfg:4:8: hpet: expected 0 or 1, got 3" },
	{ "virtio_console = 2\n", "vm.cfg:4:18: virtio_console: expected 0 or 1, got 2" },
	{ "virtio_rng = 'yes'\n", "vm.cfg:4:14: virtio_rng: expected a number, got a string" },
	{ "vcpus = 0xffffffffffffffff\n",
	  "vm.cfg:4:9: vcpus: 18446744073709551615 is out of range 1..512" },
};

static void test_every_range_check(void **state)
{
	char text[512];

	(void)state;
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		snprintf(text, sizeof(text), BASE "%s", ranges[i].line);
		if (ranges[i].message)
			expect_error(text, ranges[i].message);
		else
			expect_ok(text);
	}
}

static void test_memory_range_follows_the_host(void **state)
{
	(void)state;
	expect_ok("name = 'a'\nkernel = '/boot/vmlinuz'\nmemory = 1\n");
	expect_ok("name = 'a'\nkernel = '/boot/vmlinuz'\nmemory = 4096\n");
	expect_error("name = 'a'\nkernel = '/boot/vmlinuz'\nmemory = 0\n",
		     "vm.cfg:3:10: memory: 0 is out of range 1..4096 MiB");
	expect_error("name = 'a'\nkernel = '/boot/vmlinuz'\nmemory = 4097\n",
		     "vm.cfg:3:10: memory: 4097 is out of range 1..4096 MiB");
	expect_error("name = 'a'\nkernel = '/boot/vmlinuz'\nmemory = '512'\n",
		     "vm.cfg:3:10: memory: expected a number, got a string");
	expect_error("name = 'a'\nkernel = '/boot/vmlinuz'\nmemory = [512]\n",
		     "vm.cfg:3:10: memory: expected a number, got a list");
}

static void test_names(void **state)
{
	(void)state;
	expect_ok("name = 'A.z_0-9'\nmemory = 1\nkernel = '/boot/vmlinuz'\n");
	expect_ok("name = 'abcdefghijklmnopqrstuvwxyz01234'\nmemory = 1\nkernel = '/boot/vmlinuz'\n");
	expect_error("name = 'abcdefghijklmnopqrstuvwxyz012345'\nmemory = 1\nkernel = '/boot/vmlinuz'\n",
		     "vm.cfg:1:8: name: \"abcdefghijklmnopqrst...\" is 32 characters, more than 31");
	expect_error("name = ''\nmemory = 1\nkernel = '/boot/vmlinuz'\n",
		     "vm.cfg:1:8: name: must not be empty");
	expect_error("name = 'web server'\nmemory = 1\nkernel = '/boot/vmlinuz'\n",
		     "vm.cfg:1:8: name: character ' ' is not allowed (use A-Z a-z 0-9 _ . -)");
	expect_error("name = 'a/b'\nmemory = 1\nkernel = '/boot/vmlinuz'\n",
		     "vm.cfg:1:8: name: character '/' is not allowed (use A-Z a-z 0-9 _ . -)");
	expect_error("name = 'db'\nmemory = 1\nkernel = '/boot/vmlinuz'\n",
		     "vm.cfg:1:8: name: a VM named \"db\" is already defined");
	expect_error("name = 7\nmemory = 1\nkernel = '/boot/vmlinuz'\n",
		     "vm.cfg:1:8: name: expected a string, got a number");
}

static void test_modules_and_command_line(void **state)
{
	static char text[2400];

	(void)state;
	expect_error("name = 'a'\nmemory = 1\nkernel = '/boot/bzImage'\n",
		     "vm.cfg:3:10: kernel: boot module \"/boot/bzImage\" not found");
	expect_error(BASE "ramdisk = '/boot/initrd'\n",
		     "vm.cfg:4:11: ramdisk: boot module \"/boot/initrd\" not found");
	expect_error(BASE "ramdisk = ''\n", "vm.cfg:4:11: ramdisk: must not be empty");
	expect_ok(BASE "extra = ''\n");

	int n = snprintf(text, sizeof(text), BASE "extra = '");
	memset(text + n, 'x', VM_EXTRA_MAX);
	strcpy(text + n + VM_EXTRA_MAX, "'\n");
	expect_ok(text);
	assert_int_equal(strlen(vm.extra), VM_EXTRA_MAX);

	memset(text + n, 'x', VM_EXTRA_MAX + 1);
	strcpy(text + n + VM_EXTRA_MAX + 1, "'\n");
	expect_error(text, "vm.cfg:4:9: extra: command line is 1024 characters, more than 1023");
}

static void test_actions(void **state)
{
	(void)state;
	expect_ok(BASE "on_poweroff = 'restart'\non_reboot = 'destroy'\non_crash = \"destroy\"\n");
	assert_int_equal(vm.on_poweroff, VM_ACTION_RESTART);
	assert_int_equal(vm.on_reboot, VM_ACTION_DESTROY);
	expect_error(BASE "on_crash = 'preserve'\n",
		     "vm.cfg:4:12: on_crash: action \"preserve\" is not supported (use destroy or restart)");
	expect_error(BASE "on_reboot = 'coredump-restart'\n",
		     "vm.cfg:4:13: on_reboot: action \"coredump-restart\" is not supported (use destroy or restart)");
	expect_error(BASE "on_poweroff = 'rename-restart'\n",
		     "vm.cfg:4:15: on_poweroff: action \"rename-restart\" is not supported (use destroy or restart)");
	expect_error(BASE "on_crash = 'coredump-destroy'\n",
		     "vm.cfg:4:12: on_crash: action \"coredump-destroy\" is not supported (use destroy or restart)");
	expect_error(BASE "on_crash = 'explode'\n",
		     "vm.cfg:4:12: on_crash: unknown action \"explode\" (use destroy or restart)");
	expect_error(BASE "on_crash = 1\n", "vm.cfg:4:12: on_crash: expected a string, got a number");
}

static void test_cpu_pinning(void **state)
{
	(void)state;
	/* One list for all vCPUs. */
	expect_ok(BASE "vcpus = 2\ncpus = \"2\"\n");
	assert_true(vm.pinned);
	assert_true(cpuset_has(&vm.affinity[1], 2));
	assert_false(cpuset_has(&vm.affinity[1], 3));
	expect_ok(BASE "cpus = \"0-7\"\n");
	assert_true(cpuset_has(&vm.affinity[0], 7));
	expect_ok(BASE "cpus = 5\n");
	assert_true(cpuset_has(&vm.affinity[0], 5));
	assert_false(cpuset_has(&vm.affinity[0], 0));

	/* One entry per vCPU, as xl reads a list; vCPUs past its end run anywhere. */
	expect_ok(BASE "vcpus = 3\ncpus = [\"2\", \"4-5\"]\n");
	assert_true(cpuset_has(&vm.affinity[0], 2));
	assert_false(cpuset_has(&vm.affinity[0], 4));
	assert_true(cpuset_has(&vm.affinity[1], 4));
	assert_true(cpuset_has(&vm.affinity[1], 5));
	assert_false(cpuset_has(&vm.affinity[1], 2));
	for (unsigned cpu = 0; cpu < 8; cpu++)
		assert_true(cpuset_has(&vm.affinity[2], cpu));

	expect_error(BASE "cpus = \"8\"\n",
		     "vm.cfg:4:8: cpus: host core 8 does not exist (the host has cores 0-7)");
	expect_error(BASE "cpus = \"0,6-9\"\n",
		     "vm.cfg:4:8: cpus: host core 9 does not exist (the host has cores 0-7)");
	expect_error(BASE "cpus = \"3-1\"\n", "vm.cfg:4:8: cpus: range 3-1 goes backwards");
	/* xl's exclusions and "all" */
	expect_ok(BASE "cpus = \"0-3,^1\"\n");
	assert_true(cpuset_has(&vm.affinity[0], 0));
	assert_false(cpuset_has(&vm.affinity[0], 1));
	assert_true(cpuset_has(&vm.affinity[0], 3));
	assert_false(cpuset_has(&vm.affinity[0], 4));
	expect_ok(BASE "cpus = \"all,^0\"\n");
	assert_false(cpuset_has(&vm.affinity[0], 0));
	assert_true(cpuset_has(&vm.affinity[0], 7));
	assert_int_equal(cpuset_count(&vm.affinity[0]), 7);
	expect_error(BASE "cpus = \"^1\"\n", "vm.cfg:4:8: cpus: \"^1\" leaves no host core");
	expect_error(BASE "cpus = \"1,\"\n",
		     "vm.cfg:4:8: cpus: \"1,\" is not a list of host cores (expected N, N-M or all, each may start with ^ to leave those out, comma-separated)");
	expect_error(BASE "cpus = \"\"\n",
		     "vm.cfg:4:8: cpus: \"\" is not a list of host cores (expected N, N-M or all, each may start with ^ to leave those out, comma-separated)");
	expect_error(BASE "cpus = []\n", "vm.cfg:4:8: cpus: empty list");
	expect_error(BASE "vcpus = 2\ncpus = ['1', '2', '3']\n",
		     "vm.cfg:5:8: cpus: 3 entries for 2 vCPUs");
	expect_error(BASE "cpus = ['1', '2']\n", "vm.cfg:4:8: cpus: 2 entries for 1 vCPU");
	expect_error(BASE "vcpus = 2\ncpus = ['1', '12']\n",
		     "vm.cfg:5:14: cpus: host core 12 does not exist (the host has cores 0-7)");
}

static void test_pci_passthrough(void **state)
{
	(void)state;
	expect_ok(BASE "pci = ['00:00.0', 'ff:1f.7', '0000:0a:1B.3']\n");
	assert_int_equal(vm.pci_count, 3);
	assert_int_equal(vm.pci[2].bus, 0x0a);
	assert_int_equal(vm.pci[2].dev, 0x1b);
	assert_int_equal(vm.pci[2].fn, 3);

	expect_error(BASE "pci = ['3:00.0']\n",
		     "vm.cfg:4:8: pci: \"3:00.0\" is not a PCI address (expected \"BB:DD.F\" in hex)");
	expect_error(BASE "pci = ['03:00.0x']\n",
		     "vm.cfg:4:8: pci: \"03:00.0x\" is not a PCI address (expected \"BB:DD.F\" in hex)");
	expect_error(BASE "pci = ['gg:00.0']\n",
		     "vm.cfg:4:8: pci: \"gg:00.0\" is not a PCI address (expected \"BB:DD.F\" in hex)");
	expect_error(BASE "pci = ['00:20.0']\n",
		     "vm.cfg:4:8: pci: \"00:20.0\": device must be 00..1f and function 0..7");
	expect_error(BASE "pci = ['00:00.8']\n",
		     "vm.cfg:4:8: pci: \"00:00.8\": device must be 00..1f and function 0..7");
	expect_error(BASE "pci = ['0001:03:00.0']\n",
		     "vm.cfg:4:8: pci: \"0001:03:00.0\": only PCI segment 0000 is supported");
	expect_error(BASE "pci = ['03:00.0,permissive=1']\n",
		     "vm.cfg:4:8: pci: \"03:00.0,permissive=1\": options after the address are not supported");
	expect_error(BASE "pci = ['03:00.0',\n       '0000:03:00.0']\n",
		     "vm.cfg:5:8: pci: 03:00.0 is listed twice");
	expect_error(BASE "pci = '03:00.0'\n", "vm.cfg:4:7: pci: expected a list, got a string");
	expect_error(BASE "pci = [3]\n", "vm.cfg:4:8: pci: expected a string, got a number");
	expect_error(BASE "pci = ['00:00.0','00:01.0','00:02.0','00:03.0','00:04.0','00:05.0',"
			  "'00:06.0','00:07.0','00:08.0']\n",
		     "vm.cfg:4:7: pci: 9 devices, more than 8");
}

static void test_vif_and_disk(void **state)
{
	static char text[1024];

	(void)state;
	expect_ok(BASE "vif = []\ndisk = ['/boot/web.img,,xvda,ro','/boot/web.img,,xvdb,ro',"
		  "'/boot/web.img,,xvdc,ro','/boot/web.img,,xvdd,ro','/boot/web.img,,xvde,ro',"
		  "'/boot/web.img,,xvdf,ro','/boot/web.img,,xvdg,ro','/boot/web.img,,xvdh,ro']\n");
	assert_int_equal(vm.disk_count, 8);
	assert_string_equal(vm.disks[7].vdev, "xvdh");
	assert_int_equal(vm.disks[7].index, 7);
	expect_error(BASE "disk = ['a','b','c','d','e','f','g','h','i']\n",
		     "vm.cfg:4:8: disk: 9 entries, more than 8");
	expect_error(BASE "vif = ['a','b','c','d','e','f','g','h','i']\n",
		     "vm.cfg:4:7: vif: 9 entries, more than 8");
	expect_error(BASE "disk = ['/boot/web.img,raw,xvda', '']\n",
		     "vm.cfg:4:35: disk: must not be empty");
	expect_error(BASE "disk = 'phy:/dev/sda'\n", "vm.cfg:4:8: disk: expected a list, got a string");
	expect_error(BASE "vif = [1]\n", "vm.cfg:4:8: vif: expected a string, got a number");

	int n = snprintf(text, sizeof(text), BASE "vif = ['");
	memset(text + n, 'v', VM_DEVSPEC_MAX + 1);
	strcpy(text + n + VM_DEVSPEC_MAX + 1, "']\n");
	expect_error(text, "vm.cfg:4:8: vif: \"vvvvvvvvvvvvvvvvvvvv...\" is 256 characters, more than 255");
}

/* vif entries are VIFSPECs (vifspec.h): parsed, refused with file:line, MACs unique per VM. */
static void test_vif_specs(void **state)
{
	uint8_t mac[6];

	(void)state;
	expect_ok(BASE "vif = [ 'mac=00:16:3e:00:00:01, bridge=lab', '', 'bridge=lab' ]\n");
	assert_int_equal(vm.vif_count, 3);
	assert_string_equal(vm.vif[1], "");
	assert_true(vm.vifs[0].mac_given);
	assert_string_equal(vm.vifs[0].bridge, "lab");
	assert_string_equal(vm.vifs[1].bridge, "uplink");
	/* a missing MAC is derived from the name and the index, even with `name` after `vif` */
	vifspec_derive_mac("web", 2, mac);
	assert_false(vm.vifs[2].mac_given);
	assert_memory_equal(vm.vifs[2].mac, mac, 6);
	expect_ok("vif = [ 'bridge=lab' ]\nname = 'late'\nmemory = 512\nkernel = '/boot/vmlinuz'\n");
	vifspec_derive_mac("late", 0, mac);
	assert_memory_equal(vm.vifs[0].mac, mac, 6);

	expect_error(BASE "vif = [ 'bridge=lab', 'model=e1000' ]\n",
		     "vm.cfg:4:23: vif: model=e1000 is not supported: every vif is a virtio-net "
		     "device (model=virtio-net)");
	expect_error(BASE "vif = [ 'mac=01:16:3e:00:00:01' ]\n",
		     "vm.cfg:4:9: vif: mac=01:16:3e:00:00:01 is a multicast address (bit 0 of the "
		     "first octet is set)");
	expect_error(BASE "vif = [ 'ip=10.0.0.1' ]\n", "vm.cfg:4:9: vif: ip= is not supported");
	expect_error(BASE "vif = [ 'mac=00:16:3e:00:00:01', 'mac=00:16:3E:00:00:01, bridge=lab' ]\n",
		     "vm.cfg:4:34: vif: MAC 00:16:3e:00:00:01 is already vif 0's");
	char text[256];
	vifspec_derive_mac("web", 0, mac);
	snprintf(text, sizeof(text), BASE "vif = [ '', 'mac=%02x:%02x:%02x:%02x:%02x:%02x' ]\n",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	char want[200];
	snprintf(want, sizeof(want), "vm.cfg:4:13: vif: MAC %02x:%02x:%02x:%02x:%02x:%02x is already "
		 "vif 0's (derived from the name)", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	expect_error(text, want);
}

static void test_unsupported_and_unknown_keys(void **state)
{
	(void)state;
	expect_error(BASE "builder = 'hvm'\n", "vm.cfg:4:1: builder: unsupported key");
	expect_error(BASE "type = 'pvh'\n", "vm.cfg:4:1: type: unsupported key");
	expect_error(BASE "maxmem = 1024\n", "vm.cfg:4:1: maxmem: unsupported key");
	expect_error(BASE "vnc = 1\n", "vm.cfg:4:1: vnc: unsupported key");
	expect_error(BASE "viridian = 1\n", "vm.cfg:4:1: viridian: unsupported key");
	expect_error(BASE "memroy = 512\n", "vm.cfg:4:1: memroy: unknown key");
	expect_error(BASE "Name = 'x'\n", "vm.cfg:4:1: Name: unknown key");
}

static void test_required_keys(void **state)
{
	(void)state;
	assert_false(CHECK("vcpus = 2\n"));
	assert_int_equal(errs.count, 3);
	assert_string_equal(error_text(0), "vm.cfg: name: required key is missing");
	assert_string_equal(error_text(1), "vm.cfg: memory: required key is missing");
	assert_string_equal(error_text(2), "vm.cfg: kernel: required key is missing");
	assert_true(vm_is_zeroed());

	/* An empty file is a VM file with nothing in it. */
	assert_false(check_file("", 0));
	assert_int_equal(errs.count, 3);
}

static void test_duplicate_key(void **state)
{
	(void)state;
	expect_error(BASE "memory = 1024\n", "vm.cfg:4:1: memory: duplicate key (first set at line 2)");
}

static void test_all_errors_reported_in_line_order(void **state)
{
	(void)state;
	assert_false(CHECK("name = 'web 1'\n"
			   "memory = 0\n"
			   "vcpus = 2\n"
			   "cap = 300\n"
			   "cpus = ['1', '9']\n"
			   "kernel = '/boot/nope'\n"
			   "on_crash = 'preserve'\n"
			   "vnc = 1\n"
			   "colour = 'blue'\n"));
	/* name and memory are there, though wrong: they are not also called missing. */
	assert_int_equal(errs.count, 8);
	assert_string_equal(error_text(0),
			    "vm.cfg:1:8: name: character ' ' is not allowed (use A-Z a-z 0-9 _ . -)");
	assert_string_equal(error_text(1), "vm.cfg:2:10: memory: 0 is out of range 1..4096 MiB");
	assert_string_equal(error_text(2), "vm.cfg:4:7: cap: 300 is out of range 0..200 (100 per vCPU)");
	assert_string_equal(error_text(3),
			    "vm.cfg:5:14: cpus: host core 9 does not exist (the host has cores 0-7)");
	assert_string_equal(error_text(4), "vm.cfg:6:10: kernel: boot module \"/boot/nope\" not found");
	assert_string_equal(error_text(5),
			    "vm.cfg:7:12: on_crash: action \"preserve\" is not supported (use destroy or restart)");
	assert_string_equal(error_text(6), "vm.cfg:8:1: vnc: unsupported key");
	assert_string_equal(error_text(7), "vm.cfg:9:1: colour: unknown key");
	/* Not a VM half filled in: nothing at all. */
	assert_true(vm_is_zeroed());
}

static void test_syntax_and_check_errors_merge(void **state)
{
	(void)state;
	assert_false(CHECK("name = 'a'\n"
			   "vcpus = 999\n"
			   "memory = 12ab\n"
			   "kernel = '/boot/vmlinuz'\n"
			   "cap = 1000\n"
			   "junk junk\n"
			   "weight = 0\n"));
	if (errs.count != 4)
		dump_errors();
	assert_int_equal(errs.count, 4);
	/*
	 * Sorted by line; `memory` is not also called missing, and `cap` is not judged
	 * against a vcpus count that is itself wrong.
	 */
	assert_string_equal(error_text(0), "vm.cfg:2:9: vcpus: 999 is out of range 1..512");
	assert_string_equal(error_text(1), "vm.cfg:3:10: memory: '12ab' is not a number");
	assert_string_equal(error_text(2),
			    "vm.cfg:6:6: junk: expected '=' after the key, found 'junk'");
	assert_string_equal(error_text(3), "vm.cfg:7:10: weight: 0 is out of range 1..65535");
	assert_true(vm_is_zeroed());
}

static void test_nul_bytes_and_junk(void **state)
{
	static char junk[4096];
	uint32_t seed = 99;

	(void)state;
	assert_false(CHECK(BASE "extra = 'console=ttyS0\0'\n"));
	assert_int_equal(errs.count, 1);
	assert_string_equal(error_text(0), "vm.cfg:4:23: extra: NUL byte in a string");
	assert_true(vm_is_zeroed());

	/* Nothing readable at all: one error, not a pile of "missing key" noise. */
	assert_false(CHECK("\x7f" "ELF\2\1\1\0\0\0"));
	assert_int_equal(errs.count, 1);
	assert_string_equal(error_text(0), "vm.cfg:1:1: unexpected byte 0x7f");

	for (int round = 0; round < 100; round++) {
		size_t len = (size_t)round * 37 % sizeof(junk);

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1664525u + 1013904223u;
			junk[i] = (char)(seed >> 24);
		}
		if (len)
			junk[len / 3] = 0;
		assert_false(check_file(junk, len));
		assert_true(errs.count >= 1);
		assert_true(vm_is_zeroed());
	}
}

static void test_a_valid_file_twice_with_another_host(void **state)
{
	static const char *const no_modules[] = { "/boot/other" };
	struct vmconfig_context small = host;
	static const char text[] = BASE "vcpus = 2\ncpus = '0-1'\n";

	(void)state;
	assert_true(vmconfig_parse("a.cfg", text, sizeof(text) - 1, &host, &work, &vm, &errs));

	small.host_cpus = 1;
	small.max_memory_mib = 256;
	small.modules = no_modules;
	small.module_count = 1;
	small.vm_names = NULL;
	small.vm_count = 0;
	assert_false(vmconfig_parse("a.cfg", text, sizeof(text) - 1, &small, &work, &vm, &errs));
	assert_int_equal(errs.count, 3);
	assert_string_equal(error_text(0), "a.cfg:2:10: memory: 512 is out of range 1..256 MiB");
	assert_string_equal(error_text(1), "a.cfg:3:10: kernel: boot module \"/boot/vmlinuz\" not found");
	assert_string_equal(error_text(2),
			    "a.cfg:5:8: cpus: host core 1 does not exist (the host has only core 0)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_realistic_file),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_range_check),
		cmocka_unit_test(test_memory_range_follows_the_host),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_modules_and_command_line),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_cpu_pinning),
		cmocka_unit_test(test_pci_passthrough),
		cmocka_unit_test(test_vif_and_disk),
		cmocka_unit_test(test_vif_specs),
		cmocka_unit_test(test_unsupported_and_unknown_keys),
		cmocka_unit_test(test_required_keys),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_all_errors_reported_in_line_order),
		cmocka_unit_test(test_syntax_and_check_errors_merge),
		cmocka_unit_test(test_nul_bytes_and_junk),
		cmocka_unit_test(test_a_valid_file_twice_with_another_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
