/*
 * A VM's configuration: one xl.cfg file, checked against what the host has, into a
 * `struct vm_config`. The keys are a documented subset of xl's (xl.cfg(5)):
 *
 *   name      "web-1"          required; A-Z a-z 0-9 _ . -, 1..31 chars, unique on the host
 *   memory    512              required; MiB, 1..host limit
 *   kernel    "/boot/vmlinuz"  required; path of another boot module
 *   ramdisk   "/boot/initrd"   path of another boot module
 *   extra     "console=ttyS0"  kernel command line, at most 1023 chars
 *   vcpus     2                1..64, default 1
 *   cpus      "0-3" | ["2", "3"]  host cores: one list for all vCPUs ("2", "0-3", "0,2-3",
 *                              "all,^0"; xl's CPU-LIST, kernel/lib/cpuset.h), or one per vCPU
 *                              (vCPUs past the list's end run anywhere)
 *   weight    256              credit scheduler weight, 1..65535, default 256
 *   cap       0                percent of one core, 0..100*vcpus, 0 = no cap
 *   on_poweroff / on_reboot / on_crash   "destroy" | "restart"; xl's other actions
 *                              (preserve, coredump-*, rename-restart) are refused by name
 *   autostart 1                0 or 1 (ours, not xl's), default 1
 *   hpet      0                0 or 1: the VM has an HPET (xl's key; our default is 0, xl's 1)
 *   exclusive 0                0 or 1 (ours; xl uses cpupools): each vCPU owns a core of its
 *                              `cpus` that no other vCPU is on; nothing else runs there
 *   pci       ["03:00.0"]      devices to pass through, "BB:DD.F" (optional "0000:")
 *   vif       ["bridge=br0"]   virtio-net NICs in xl's VIFSPEC syntax (vifspec.h), kept as
 *                              written and parsed into vifs[] (a missing MAC derived from
 *                              the name); two NICs of a VM never share a MAC
 *   disk      ["format=raw, vdev=xvda, access=rw, target=/boot/vms/root.img"]
 *                              virtio-blk disks in xl's DISKSPEC syntax (diskspec.h): the
 *                              target is a boot module, its bytes the disk (a RAM disk);
 *                              each vdev once; a target written by one vdev is not another's
 *   virtio_console 0           0 or 1 (ours): a virtio console beside COM1, default 0
 *   virtio_rng 1               0 or 1 (ours): a virtio entropy device, default 1 (given only
 *                              where the host has RDRAND or RDSEED)
 *
 * Keys xl knows but we do not implement are "unsupported key"; anything else "unknown key".
 * Every error found is reported; a file with any error yields no VM.
 */
#ifndef HV_CONFIG_VMCONFIG_H
#define HV_CONFIG_VMCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/config/diskspec.h"
#include "kernel/config/vifspec.h"
#include "kernel/config/xlcfg.h"
#include "kernel/lib/cpuset.h"

#define VM_NAME_MAX 31
#define VM_PATH_MAX 255
#define VM_EXTRA_MAX 1023
#define VM_MAX_VCPUS 512 /* VCPU_MAX (kernel/vm/vm.h) */
#define VM_MAX_PCI 8
#define VM_MAX_VIFS 8
#define VM_MAX_DISKS 8
#define VM_DEVSPEC_MAX 255 /* one vif or disk string */
#define VM_DEFAULT_WEIGHT 256

enum vm_action {
	VM_ACTION_DESTROY,
	VM_ACTION_RESTART,
};

struct vm_pci_addr {
	uint8_t bus, dev, fn;
};

/*
 * About 70 KiB, 64 of them the vCPUs' host-core sets. Filled only by a
 * successful check; zeroed (vcpus == 0) after a failed one.
 */
struct vm_config {
	char name[VM_NAME_MAX + 1];
	unsigned vcpus;
	bool pinned; /* `cpus` was given */
	uint64_t memory_mib;
	char kernel[VM_PATH_MAX + 1];
	char ramdisk[VM_PATH_MAX + 1]; /* "" when none */
	char extra[VM_EXTRA_MAX + 1];
	unsigned weight;
	unsigned cap; /* percent of one core; 0 = none */
	enum vm_action on_poweroff, on_reboot, on_crash;
	bool autostart;
	bool exclusive;
	bool hpet;
	unsigned pci_count;
	struct vm_pci_addr pci[VM_MAX_PCI];
	unsigned vif_count;
	char vif[VM_MAX_VIFS][VM_DEVSPEC_MAX + 1];
	struct vm_vif vifs[VM_MAX_VIFS]; /* vif[] parsed; mac is set (given or derived) */
	unsigned disk_count;
	struct vm_disk disks[VM_MAX_DISKS]; /* in file order; see diskspec.h */
	bool virtio_console;
	bool virtio_rng;
	/*
	 * For each vCPU < vcpus, the host cores it may run on (every core when
	 * not pinned). Last: a VM's own copy (vm->config) ends after its vCPUs'
	 * entries (VMCONFIG_SIZE), about 6 KiB for a small VM, not 70.
	 */
	struct cpuset affinity[VM_MAX_VCPUS];
};

/* The bytes of a vm_config that a VM with `vcpus` vCPUs uses: all but the unused affinities. */
#define VMCONFIG_SIZE(vcpus) \
	(__builtin_offsetof(struct vm_config, affinity) + (size_t)(vcpus) * sizeof(struct cpuset))

/* What the host has, as the checks need it; the caller owns every array. */
struct vmconfig_context {
	const char *const *modules; /* paths of the boot modules (GRUB's module2 paths) */
	size_t module_count;
	unsigned host_cpus;	  /* cores 0..host_cpus-1 exist */
	uint64_t max_memory_mib;  /* the most one VM may have */
	const char *const *vm_names; /* VMs already defined, for "duplicate name" */
	size_t vm_count;
};

/*
 * Parses and checks one VM file. `work` is scratch space for the parse (about 12 KiB, so the
 * caller chooses where it lives). errs is reset and names file_name in its messages; they
 * come out sorted by line. Returns true, with *out filled, only when there was no error;
 * otherwise *out is zeroed.
 */
bool vmconfig_parse(const char *file_name, const char *text, size_t len,
		    const struct vmconfig_context *ctx, struct xlcfg *work, struct vm_config *out,
		    struct xlcfg_errors *errs);

/* The check alone, for an already parsed file; adds its errors to errs (unsorted). */
bool vmconfig_from_xlcfg(const struct xlcfg *cfg, const struct vmconfig_context *ctx,
			 struct vm_config *out, struct xlcfg_errors *errs);

const char *vm_action_name(enum vm_action action);

#endif
