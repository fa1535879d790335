// SOURCES: kernel/config/vmconfig.c kernel/config/vifspec.c kernel/config/specparse.c kernel/config/diskspec.c kernel/config/xlcfg.c kernel/lib/string.c kernel/lib/format.c kernel/lib/cpuset.c
/*
 * `disk` entries in xl's DISKSPEC syntax (xl-disk-configuration(5)), as an operator writes
 * them: the forms xl accepts for a raw disk give the disk, and what we do not do (other
 * formats, CD-ROMs, host disks, xl's other keys) is refused with file, line and reason.
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

static const char *const modules[] = { "/boot/vmlinuz", "/boot/root.img", "/boot/data.img",
				       "/boot/a,b.img" };
static const struct vmconfig_context host = {
	.modules = modules,
	.module_count = 4,
	.host_cpus = 4,
	.max_memory_mib = 4096,
};

static struct xlcfg work;
static struct vm_config vm;
static struct xlcfg_errors errs;

#define BASE "name = 'web'\nmemory = 512\nkernel = '/boot/vmlinuz'\n"

static bool check(const char *disk_line)
{
	static char text[1024];
	size_t len = (size_t)snprintf(text, sizeof(text), BASE "disk = [ %s ]\n", disk_line);

	return vmconfig_parse("vm.cfg", text, len, &host, &work, &vm, &errs);
}

static const char *error_text(unsigned i)
{
	static char buf[400];

	xlcfg_error_format(&errs, i, buf, sizeof(buf));
	return buf;
}

/* One disk that must parse; returns it. */
static const struct vm_disk *one_disk(const char *disk_line)
{
	bool ok = check(disk_line);

	for (unsigned i = 0; i < errs.count; i++)
		fprintf(stderr, "  got: %s (for %s)\n", error_text(i), disk_line);
	assert_true(ok);
	assert_int_equal(vm.disk_count, 1);
	return &vm.disks[0];
}

/* The reason after "vm.cfg:4:10: disk: " for a file whose one fault is its disk. */
static void expect_refused(const char *disk_line, const char *reason)
{
	static char want[400];
	bool ok = check(disk_line);

	snprintf(want, sizeof(want), "vm.cfg:4:10: disk: %s", reason);
	if (errs.count != 1 || strcmp(error_text(0), want) != 0) {
		for (unsigned i = 0; i < errs.count; i++)
			fprintf(stderr, "  got: %s\n", error_text(i));
		fprintf(stderr, "  wanted: %s\n", want);
	}
	assert_false(ok);
	assert_int_equal(errs.count, 1);
	assert_string_equal(error_text(0), want);
	assert_int_equal(vm.disk_count, 0); /* no VM at all */
}

static void expect_disk(const char *line, const char *vdev, unsigned index, bool ro,
			const char *target)
{
	const struct vm_disk *d = one_disk(line);

	assert_string_equal(d->vdev, vdev);
	assert_int_equal(d->index, index);
	assert_int_equal(d->read_only, ro);
	assert_string_equal(d->target, target);
}

/* xl-disk-configuration(5)'s own "these strings are equivalent", for a raw disk. */
static void test_xl_equivalent_forms(void **state)
{
	(void)state;
	expect_disk("'/boot/root.img,,hda'", "hda", 0, false, "/boot/root.img");
	expect_disk("'/boot/root.img,raw,hda,rw'", "hda", 0, false, "/boot/root.img");
	expect_disk("'format=raw, vdev=hda, access=rw, target=/boot/root.img'", "hda", 0, false,
		    "/boot/root.img");
	expect_disk("'vdev=xvdb,access=ro,target=/boot/root.img'", "xvdb", 1, true,
		    "/boot/root.img");
	expect_disk("'/boot/data.img,,vdc,r'", "vdc", 2, true, "/boot/data.img");
	expect_disk("'/boot/data.img,,sdd,w'", "sdd", 3, false, "/boot/data.img");
	/* named parameters take their positional slot: the bare words fill the others */
	expect_disk("'vdev=xvda, /boot/root.img, raw, ro'", "xvda", 0, true, "/boot/root.img");
	expect_disk("'devtype=disk, /boot/root.img, , xvda'", "xvda", 0, false, "/boot/root.img");
	/* empty values are the defaults */
	expect_disk("'format=, access=, vdev=xvda, target=/boot/root.img'", "xvda", 0, false,
		    "/boot/root.img");
	/* target= is last and takes the rest, commas included */
	expect_disk("'vdev=xvda, target=/boot/a,b.img'", "xvda", 0, false, "/boot/a,b.img");
}

static void test_vdev_index(void **state)
{
	(void)state;
	assert_int_equal(diskspec_vdev_index("xvda"), 0);
	assert_int_equal(diskspec_vdev_index("xvdz"), 25);
	assert_int_equal(diskspec_vdev_index("xvdaa"), 26);
	assert_int_equal(diskspec_vdev_index("sdab"), 27);
	assert_int_equal(diskspec_vdev_index("vdzz"), DISK_INDEX_MAX);
	assert_int_equal(diskspec_vdev_index("hdb"), 1);
	assert_int_equal(diskspec_vdev_index("xvd"), -1);
	assert_int_equal(diskspec_vdev_index("xvdaaa"), -1);
	assert_int_equal(diskspec_vdev_index("xvda1"), -1);
	assert_int_equal(diskspec_vdev_index("xvdA"), -1);
	assert_int_equal(diskspec_vdev_index("nvme0"), -1);
	assert_int_equal(diskspec_vdev_index(""), -1);
	expect_disk("'/boot/root.img,,xvdaa'", "xvdaa", 26, false, "/boot/root.img");
}

static void test_refused_parameters(void **state)
{
	(void)state;
	expect_refused("'format=qcow2, vdev=xvda, target=/boot/root.img'",
		       "format=qcow2 is not supported: only raw");
	expect_refused("'/boot/root.img,vhd,xvda'", "format=vhd is not supported: only raw");
	expect_refused("'vdev=xvda, access=rx, target=/boot/root.img'",
		       "access=rx: expected rw, w, ro or r");
	expect_refused("'vdev=xvda, devtype=cdrom, target=/boot/root.img'",
		       "devtype=cdrom is not supported: only disk");
	expect_refused("'/boot/root.img,,hdc,cdrom'", "devtype=cdrom is not supported: only disk");
	expect_refused("'vdev=xvda, devtype=floppy, target=/boot/root.img'",
		       "unknown devtype=floppy (only disk)");
	expect_refused("'vdev=xvda, cache=none, target=/boot/root.img'", "unknown key \"cache\"");
	expect_refused("'vdev=xvda, script=block-iscsi, target=/boot/root.img'",
		       "script= is not supported");
	expect_refused("'vdev=xvda, backendtype=qdisk, target=/boot/root.img'",
		       "backendtype= is not supported");
	expect_refused("'/boot/root.img,,xvda,no-discard'", "the no-discard flag is not supported");
	expect_refused("'/boot/root.img,raw,xvda,rw,extra'",
		       "\"extra\": too many positional parameters (target, format, vdev, access)");
	expect_refused("'format=raw, format=raw, vdev=xvda, target=/boot/root.img'",
		       "format is given twice");
	expect_refused("'vdev=xvda, /boot/root.img, vdev=xvdb'", "vdev is given twice");
}

static void test_missing_and_wrong_vdev_and_target(void **state)
{
	(void)state;
	expect_refused("'format=raw, target=/boot/root.img'",
		       "missing vdev (the disk's name, e.g. vdev=xvda)");
	expect_refused("'/boot/root.img'", "missing vdev (the disk's name, e.g. vdev=xvda)");
	expect_refused("'vdev=xvda1, target=/boot/root.img'",
		       "vdev=xvda1: partitions are not supported (name a whole disk, e.g. xvda)");
	expect_refused("'vdev=disk0, target=/boot/root.img'",
		       "vdev=disk0 is not a disk name (xvdX, hdX, sdX or vdX)");
	expect_refused("'vdev=xvda'", "missing target (a boot module's path or a host disk)");
	expect_refused("'vdev=xvda, target='", "missing target (a boot module's path or a host disk)");
	expect_refused("',,xvda'", "missing target (a boot module's path or a host disk)");
	expect_refused("'vdev=xvda, target=/boot/nope.img'",
		       "boot module \"/boot/nope.img\" not found");
	/* spaces around an item are not part of it (xl's own examples put one after commas) */
	expect_disk("' /boot/root.img , , xvda '", "xvda", 0, false, "/boot/root.img");
}

static void test_host_disk_targets(void **state)
{
	(void)state;
	/* the forms, accepted as written: whether the disk exists is judged at VM create */
	expect_disk("'vdev=xvda, target=partlabel:vm-alpha'", "xvda", 0, false,
		    "partlabel:vm-alpha");
	expect_disk("'vdev=xvda, access=ro, target=partuuid:0FC63DAF-8483-4772-8e79-3d69d8477de4'",
		    "xvda", 0, true, "partuuid:0FC63DAF-8483-4772-8e79-3d69d8477de4");
	expect_disk("'nvme0n1p3,raw,xvda'", "xvda", 0, false, "nvme0n1p3");
	expect_disk("'vdev=xvdb, target=/dev/sda2'", "xvdb", 1, false, "/dev/sda2");
	expect_disk("'vdev=xvda, target=sdb'", "xvda", 0, false, "sdb");
	expect_disk("'vdev=xvda, target=nvme0n1'", "xvda", 0, false, "nvme0n1");
	expect_disk("'vdev=xvda, target=ram0p1'", "xvda", 0, false, "ram0p1");
	expect_disk("'vdev=xvda, target=/dev/disk/by-partlabel/web'", "xvda", 0, false,
		    "/dev/disk/by-partlabel/web");
	expect_disk("'vdev=xvda, target=/dev/disk/by-partuuid/0fc63daf-8483-4772-8e79-3d69d8477de4'",
		    "xvda", 0, false, "/dev/disk/by-partuuid/0fc63daf-8483-4772-8e79-3d69d8477de4");
	/* a label may hold commas: target= takes the rest */
	expect_disk("'vdev=xvda, target=partlabel:a,b'", "xvda", 0, false, "partlabel:a,b");

	/* malformed host targets */
	expect_refused("'vdev=xvda, target=partlabel:'", "target partlabel: names no partition label");
	expect_refused("'vdev=xvda, target=partlabel:0123456789012345678901234567890123456'",
		       "target partlabel:0123456789012345678901234567890123456: a GPT partition "
		       "label has at most 36 characters");
	expect_refused("'vdev=xvda, target=partuuid:0b8e7e1c-01'",
		       "target partuuid:0b8e7e1c-01: not a GPT partition UUID (like "
		       "0fc63daf-8483-4772-8e79-3d69d8477de4; MBR partitions are not supported)");
	expect_refused("'vdev=xvda, target=partuuid:0fc63daf-8483-4772-8e79-3d69d8477de4x'",
		       "target partuuid:0fc63daf-8483-4772-8e79-3d69d8477de4x: not a GPT partition "
		       "UUID (like 0fc63daf-8483-4772-8e79-3d69d8477de4; MBR partitions are not "
		       "supported)");
	expect_refused("'vdev=xvda, target=/dev/mapper/vg-root'",
		       "target /dev/mapper/vg-root is not a host disk name (nvme0n1p2, sda2, "
		       "partlabel:NAME or partuuid:UUID)");
	/* xl's deprecated prefix forms stay refused */
	expect_refused("'raw:/boot/root.img,xvda,w'",
		       "target raw:/boot/root.img: the deprecated \"format:path\" form is not "
		       "supported (write format=raw, target=PATH)");
	expect_refused("'vdev=xvda, target=phy:/dev/sda2'",
		       "target phy:/dev/sda2: the deprecated \"format:path\" form is not "
		       "supported (write format=raw, target=PATH)");
	/* one host disk twice in a VM, one of them writable */
	assert_false(check("'partlabel:web,,xvda', 'partlabel:web,,xvdb,ro'"));
	assert_int_equal(errs.count, 1);
	assert_string_equal(error_text(0), "vm.cfg:4:33: disk: target partlabel:web is already "
					   "vdev xvda's, and one of them is writable");
	assert_true(check("'partlabel:web,,xvda,ro', 'partlabel:web,,xvdb,ro', '/boot/root.img,,xvdc'"));
	assert_int_equal(vm.disk_count, 3);
}

static void test_disks_of_one_vm(void **state)
{
	(void)state;
	assert_true(check("'/boot/root.img,,xvda', '/boot/data.img,,xvdb,ro', "
			  "'/boot/data.img,,xvdc,ro'"));
	assert_int_equal(vm.disk_count, 3);
	assert_string_equal(vm.disks[1].vdev, "xvdb");
	assert_true(vm.disks[1].read_only);
	assert_int_equal(vm.disks[2].index, 2);

	assert_false(check("'/boot/root.img,,xvda', '/boot/data.img,,xvda'"));
	assert_int_equal(errs.count, 1);
	assert_string_equal(error_text(0), "vm.cfg:4:34: disk: vdev xvda is listed twice");
	assert_false(check("'/boot/root.img,,xvda', '/boot/data.img,,vda'"));
	assert_int_equal(errs.count, 1);
	assert_string_equal(error_text(0),
			    "vm.cfg:4:34: disk: vdev vda is the same disk as vdev xvda");
	assert_false(check("'/boot/root.img,,xvda', '/boot/root.img,,xvdb,ro'"));
	assert_int_equal(errs.count, 1);
	assert_string_equal(error_text(0), "vm.cfg:4:34: disk: target /boot/root.img is already "
					   "vdev xvda's, and one of them is writable");
	/* every bad disk is reported, not only the first */
	assert_false(check("'vdev=xvda', 'format=qcow2,vdev=xvdb,target=/boot/root.img'"));
	assert_int_equal(errs.count, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xl_equivalent_forms),
		cmocka_unit_test(test_vdev_index),
		cmocka_unit_test(test_refused_parameters),
		cmocka_unit_test(test_missing_and_wrong_vdev_and_target),
		cmocka_unit_test(test_host_disk_targets),
		cmocka_unit_test(test_disks_of_one_vm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
