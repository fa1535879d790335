/*
 * A VM's virtio devices, served by the hypervisor (no dom0, no service VM):
 * one virtio-blk per `disk` of its VM file, one virtio-net per `vif`, a
 * virtio-console when it says `virtio_console = 1`, a virtio-rng fed by
 * RDSEED/RDRAND when the host has either (and `virtio_rng` is not 0). Each
 * is a modern virtio-pci function on the VM's PCI bus at a fixed slot, so a
 * guest finds the same device at the same address on every boot:
 *   00:03.0 virtio-console   00:04.0 virtio-rng
 *   00:08.0 + n  disk n (n: the vdev's index, xvda = 0 ... xvdp = 15)
 *   00:18.0 + n  NIC n  (n: the vif's place in the list, 0 ... 7)
 *
 * A NIC is a port of the switch its vif names (kernel/net/switch.h): named
 * by the vif's vifname, or NAME.n; with the vif's MAC (given, or derived
 * from the VM's name); anti-spoofing on. A vif whose port the switch
 * refuses (full, its MAC already on it) refuses the VM. The port leaves the
 * switch when the VM is quiesced (stop, destroy), before its RAM goes; a
 * reboot only resets the device.
 *
 * Every entry into a device (a BAR access from a vCPU, bytes typed at the
 * console, a disk's completion) holds the VM's PCI lock (vm_pci.h), so a
 * device model never runs twice at once.
 */
#ifndef HV_VM_VM_VIRTIO_H
#define HV_VM_VM_VIRTIO_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/vm/vm.h"

#define VM_VIRTIO_SLOT_CONSOLE 3
#define VM_VIRTIO_SLOT_RNG 4
#define VM_VIRTIO_SLOT_DISK0 8
#define VM_VIRTIO_SLOT_NIC0 24

/*
 * Polling (guest/virtio/virtio_blk.h, poll mode): after a kick has been
 * served, a disk leaves kicks off and the VM's next exit looks at its ring
 * instead, so requests the guest adds meanwhile cost no exit of their own
 * (with EVENT_IDX the driver kicks once until the device re-arms). A look
 * that finds nothing turns kicks back on. vm->io_poll_due is when a vCPU
 * must come out to look at the latest, should no exit come first (its entry
 * arms the host timer by it, kernel/vm/vintr.c).
 */
#define VM_VIRTIO_POLL_US 20
/*
 * A NIC's transmit may poll on for this long after it last found frames
 * before an empty look turns kicks back on (0: at once, as a disk does).
 * Measured with test_vm_net's 16 MiB TCP stream under QEMU TCG: 200 us gave
 * 1.2 frames per transmit notify instead of 0.9-1.0, but 1.2 MiB/s instead
 * of 2.2 (a TSO guest sends one frame per ACK; frames polled late wait for
 * the next exit), so it is off.
 */
#ifndef VM_VIRTIO_NET_POLL_US
#define VM_VIRTIO_NET_POLL_US 0
#endif

/* Called after every exit of a VM whose io_poll_due is set. */
void vm_virtio_poll(struct vcpu *v);

/* Creates the VM's virtio devices; -1 with err set (a disk that cannot be opened). */
int vm_virtio_init(struct vm *vm, char *err, size_t errlen);
/* Back to power-on (a reboot): the guest's drivers find fresh devices. */
void vm_virtio_reset(struct vm *vm);
/*
 * Prints each disk's figures once ("vm NAME disk xvdb: N requests (...), N
 * notifies, N interrupts, N isr reads") and each NIC's ("vm NAME nic PORT:
 * tx N frames ... (N dropped, N spoofed), rx ..., N notifies (N transmit:
 * F frames each), ..."): when the VM's accounting is printed, or else when it is
 * released.
 */
void vm_virtio_report(const struct vm *vm);
/* Gives the devices and their disks back (reporting first); the VM's vCPUs have left. */
void vm_virtio_free(struct vm *vm);
/*
 * Resets the devices and waits until the host disks have completed every
 * request the VM gave them (they DMA into its RAM): true, or false after
 * VM_VIRTIO_QUIESCE_MS, when the VM's RAM must not be freed.
 */
#define VM_VIRTIO_QUIESCE_MS 60000u
bool vm_virtio_quiesce(struct vm *vm);
/* Bytes typed at `console NAME` for hvc0; returns how many the guest had room for. */
size_t vm_virtio_console_input(struct vm *vm, const uint8_t *bytes, size_t n);
/* A disk's name and counters, for the management API's metrics. */
struct vm_disk_stats {
	char vdev[8];
	uint64_t requests, reads, writes, flushes, bytes_read, bytes_written, errors;
};
/* Fills out[] with up to max of the VM's disks (read without the lock: counters may lag); how many. */
unsigned vm_virtio_disk_stats(const struct vm *vm, struct vm_disk_stats *out, unsigned max);
/* `block-list NAME`: the VM's disks, one line each. */
void vm_virtio_block_list(struct vm *vm);
/* `nic-list NAME`: the VM's NICs, one line each (MAC, switch, port, counters). */
void vm_virtio_nic_list(struct vm *vm);

#endif
