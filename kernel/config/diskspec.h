/*
 * One `disk` entry of a VM file in xl's DISKSPEC syntax (xl-disk-configuration(5)):
 * comma-separated `key=value` items, flags and positional parameters, e.g.
 *
 *   'format=raw, vdev=xvda, access=rw, target=/boot/vms/root.img'
 *   '/boot/vms/root.img,raw,xvda,rw'          (positional: target, format, vdev, access)
 *   '/boot/vms/data.img,,xvdb,ro'             (an empty item takes the default)
 *
 * As in xl: each parameter at most once, named or positional; an empty value is the
 * default; `target=` must come last and takes the rest of the string, commas included.
 * Supported:
 *   vdev     xvdX | hdX | sdX | vdX (X: a..z, aa..zz): required, names the disk; its
 *            index (a = 0, z = 25, aa = 26, ...) orders the guest's disks. The prefix
 *            does not matter (xvda, hda, sda and vda are all disk 0): every disk is a
 *            virtio-blk device
 *   format   raw (the default); qcow, qcow2, vhd, qed are refused
 *   access   rw | w (the default), ro | r
 *   devtype  disk (the default); cdrom (and the `cdrom` flag) is refused
 *   target   required: a boot module's path (its bytes are the disk), or a host disk:
 *              partlabel:NAME   the GPT partition labelled NAME (on any host disk)
 *              partuuid:UUID    the GPT partition with that unique GUID
 *              nvme0n1p3, sda2  a partition by its host name (ram0p1: a hostdisk= module)
 *              nvme0n1, sda     a whole host disk
 *            each also as /dev/NAME, /dev/disk/by-partlabel/NAME, /dev/disk/by-partuuid/UUID.
 *            Only the form is judged here; kernel/blk/hostblk.h resolves it when the VM
 *            is created. xl's deprecated "raw:/path" prefix forms are refused
 * xl's other keys and flags (backendtype, script, discard, ...) are refused by name.
 *
 * Pure logic: whether the target names an existing boot module is the caller's check.
 */
#ifndef HV_CONFIG_DISKSPEC_H
#define HV_CONFIG_DISKSPEC_H

#include <stdbool.h>
#include <stddef.h>

#define DISK_VDEV_MAX 7	    /* "xvdzz" */
#define DISK_TARGET_MAX 255 /* VM_PATH_MAX */
#define DISK_INDEX_MAX 701  /* zz */
#define DISK_LABEL_MAX 36   /* a GPT partition name: 36 UTF-16 code units */

struct vm_disk {
	char vdev[DISK_VDEV_MAX + 1];	  /* as written: "xvda" */
	unsigned index;			  /* from the letters: a = 0 ... zz = 701 */
	bool read_only;			  /* access=ro */
	char target[DISK_TARGET_MAX + 1]; /* a boot module's path, or a host disk target */
};

/*
 * Parses spec into *out. Returns true, or false with the reason (for "file:line:col:
 * disk: REASON") in why; *out is then undefined.
 */
bool diskspec_parse(const char *spec, struct vm_disk *out, char *why, size_t whylen);

/* The disk index of a whole-disk vdev name ("xvdb" -> 1), or -1 when it is not one. */
int diskspec_vdev_index(const char *vdev);

/* Whether target names a host disk (partlabel:, partuuid:, /dev/..., nvme0n1p3, sda2, ram0p1). */
bool diskspec_is_host_disk(const char *target);

#endif
