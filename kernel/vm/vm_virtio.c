#include "kernel/vm/vm_virtio.h"

#include "guest/virtio/virtio_blk.h"
#include "guest/virtio/virtio_console.h"
#include "guest/virtio/virtio_net.h"
#include "guest/virtio/virtio_pci.h"
#include "guest/virtio/virtio_rng.h"
#include "kernel/blk/disk_claim.h"
#include "kernel/blk/hostblk.h"
#include "kernel/blk/hostdisk_ram.h"
#include "kernel/blk/part_dev.h"
#include "kernel/blk/ramdisk_module.h"
#include "kernel/config/vmconfig.h"
#include "kernel/console/shell.h"
#include "kernel/cpu/deferred.h"
#include "kernel/cpu/entropy.h"
#include "kernel/cpu/percpu.h"
#include "kernel/lib/format.h"
#include "kernel/lib/spinlock.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/net/switch.h"
#include "kernel/time/tsc.h"
#include "include/x86.h"
#include "kernel/vm/vm_pci.h"
#include "kernel/vm/vmm.h"

/*
 * One device as the VM has it: the model (first member of each type's
 * struct is its virtio_dev), its PCI face, and the lock every entry into it
 * holds.
 */
struct vdev {
	spinlock_t lock;
	int owner; /* the CPU holding lock, or -1: async disk completions ask */
	struct vm *vm;
	struct virtio_blk *blk; /* a disk's model (polled); NULL for the others */
	struct virtio_net *net; /* a NIC's model (polled, sends after the lock); NULL for the others */
	uint64_t net_busy_tsc;	/* a NIC's transmit last found frames (kick or poll) */
	struct virtio_pci pci;
	struct virtio_pci_host host;
	bool plugged;
};

struct vdisk {
	struct vdev v;
	struct ramdisk rd;     /* a boot module's bytes ... */
	struct part_dev part;  /* ... or a window on a host disk (host) */
	int host_claim;        /* the window's claim (disk_claim.h), -1 */
	bool host;
	bool attached;
	char vdev[8];
	struct virtio_blk blk; /* large: the request slots */
};

struct vnic {
	struct vdev v;
	unsigned index;	       /* its place in the VM file's vif list */
	bool attached;	       /* its port is on the switch */
	char bridge[VIF_BRIDGE_MAX + 1];
	struct virtio_net net; /* large: the transmit buffer and the backlog */
};

struct vconsole {
	struct vdev v;
	struct virtio_console con;
};

struct vrng {
	struct vdev v;
	struct virtio_rng rng;
};

struct vm_virtio {
	struct vm *vm;
	struct vq_mem mem;
	unsigned ndisks;
	struct vdisk *disks[VM_MAX_DISKS];
	unsigned nnics;
	struct vnic *nics[VM_MAX_VIFS];
	struct vconsole *console;
	struct vrng *rng;
	bool reported; /* the disks' figures were printed (vm_virtio_report) */
};

/* ---- the host side of every device ---- */

static int ram_read(void *ctx, uint64_t gpa, void *dst, size_t len)
{
	struct vm *vm = ctx;
	return gpa_read(&vm->map, gpa, dst, len);
}

static int ram_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
	struct vm *vm = ctx;
	return gpa_write(&vm->map, gpa, src, len);
}

/* One check for a whole buffer, instead of reading it through to find out. */
static bool ram_has(void *ctx, uint64_t gpa, uint64_t len)
{
	struct vm *vm = ctx;
	return gpa_is_ram(&vm->map, gpa, len);
}

static void vdev_lock(struct vdev *d)
{
	spin_lock(&d->lock);
	d->owner = (int)this_cpu()->index;
}

static void vdev_unlock(struct vdev *d)
{
	d->owner = -1;
	spin_unlock(&d->lock);
}

static void vdev_enter(void *ctx)
{
	vdev_lock(ctx);
}

/* A disk's completion from deferred work (blkdev.h) takes the device's lock. */
static void vblk_lock(void *ctx)
{
	vdev_lock(ctx);
}

static void vdev_leave(void *ctx);

static void vblk_unlock(void *ctx)
{
	vdev_leave(ctx); /* a completion may have let the drain go on: polling too */
}

static bool vblk_held(void *ctx)
{
	struct vdev *d = ctx;
	return __atomic_load_n(&d->owner, __ATOMIC_RELAXED) == (int)this_cpu()->index;
}

static const struct vblk_lock_ops vblk_locking = {vblk_lock, vblk_unlock, vblk_held};

/* Host-physical address of guest RAM for a disk's DMA: within one 2 MiB chunk. */
static uint64_t ram_dma_addr(void *ctx, uint64_t gpa, uint64_t len)
{
	struct vm *vm = ctx;
	uint64_t hpa;
	if (!len || !ram_has(ctx, gpa, len) ||
	    (gpa >> GPA_CHUNK_SHIFT) != ((gpa + len - 1) >> GPA_CHUNK_SHIFT) ||
	    !gpa_to_hpa(&vm->map, gpa, &hpa))
		return 0;
	return hpa;
}

static uint64_t poll_ticks(void)
{
	return tsc_khz() * VM_VIRTIO_POLL_US / 1000 + 1;
}

static uint64_t net_window_ticks(void)
{
	return tsc_khz() * VM_VIRTIO_NET_POLL_US / 1000;
}

/* A disk left its kicks off: the VM's exits look at it until it turns them on again. */
static void poll_arm(struct vm *vm)
{
	uint64_t want = rdtsc() + poll_ticks();
	/* the disk's `polling` store is seen before this load (vm_virtio_poll's re-check) */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint64_t due = __atomic_load_n(&vm->io_poll_due, __ATOMIC_SEQ_CST);
	if (!due || due > want)
		__atomic_store_n(&vm->io_poll_due, want, __ATOMIC_SEQ_CST);
}

static void vdev_leave(void *ctx)
{
	struct vdev *d = ctx;
	bool polling = d->blk && d->blk->polling;
	bool send = d->net && d->net->tx_kicked;
	vdev_unlock(d);
	/* a transmit kick: the frames go to the switch with the device's lock dropped */
	if (send) {
		if (virtio_net_tx_run(d->net))
			__atomic_store_n(&d->net_busy_tsc, rdtsc(), __ATOMIC_RELAXED);
		polling = __atomic_load_n(&d->net->polling, __ATOMIC_SEQ_CST);
	}
	if (polling)
		poll_arm(d->vm);
}

/* A NIC takes its lock itself around what it does outside the transport (switch.h). */
static void vnet_lock(void *ctx)
{
	vdev_lock(ctx);
}

static void vnet_unlock(void *ctx)
{
	vdev_unlock(ctx);
}

static const struct vnet_lock_ops vnet_locking = {vnet_lock, vnet_unlock};

void vm_virtio_poll(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct vm_virtio *vv = vm->virtio;
	if (!vv || !__atomic_load_n(&vm->io_poll_due, __ATOMIC_RELAXED))
		return;
	/*
	 * A look that finds nothing turns kicks back on at once: polling lasts
	 * only while every look finds work (the driver adding requests faster
	 * than exits come), so a lone request never waits for a look. (A window
	 * that kept kicks off for a while after an empty look was tried: under
	 * -icount with an idle=poll guest it made the benchmark crawl.)
	 */
	bool polling = false;
	for (unsigned i = 0; i < vv->ndisks; i++) {
		struct vdisk *d = vv->disks[i];
		if (!d->v.plugged || !d->blk.polling)
			continue;
		vdev_lock(&d->v);
		virtio_blk_poll(&d->blk, true);
		polling |= d->blk.polling;
		vdev_unlock(&d->v);
	}
	for (unsigned i = 0; i < vv->nnics; i++) {
		struct vnic *n = vv->nics[i];
		if (!n->v.plugged || !__atomic_load_n(&n->net.polling, __ATOMIC_RELAXED))
			continue;
		/* kicks stay off while frames came within the window (see vm_virtio.h) */
		uint64_t now = rdtsc();
		uint64_t busy = __atomic_load_n(&n->v.net_busy_tsc, __ATOMIC_RELAXED);
		if (virtio_net_poll(&n->net, now - busy >= net_window_ticks())) /* takes the lock */
			__atomic_store_n(&n->v.net_busy_tsc, now, __ATOMIC_RELAXED);
		polling |= __atomic_load_n(&n->net.polling, __ATOMIC_SEQ_CST);
	}
	if (polling) {
		__atomic_store_n(&vm->io_poll_due, rdtsc() + poll_ticks(), __ATOMIC_SEQ_CST);
		return;
	}
	__atomic_store_n(&vm->io_poll_due, 0, __ATOMIC_SEQ_CST);
	/*
	 * A disk's completion on another core (deferred work) may have turned
	 * its polling on and armed the due time just before that store wiped
	 * it: look again, or its kicks stay off with no one polling.
	 */
	for (unsigned i = 0; i < vv->ndisks; i++)
		if (vv->disks[i]->v.plugged &&
		    __atomic_load_n(&vv->disks[i]->blk.polling, __ATOMIC_SEQ_CST)) {
			poll_arm(vm);
			return;
		}
	for (unsigned i = 0; i < vv->nnics; i++)
		if (vv->nics[i]->v.plugged &&
		    __atomic_load_n(&vv->nics[i]->net.polling, __ATOMIC_SEQ_CST)) {
			poll_arm(vm);
			return;
		}
}

static bool vdev_msix_notify(void *ctx, struct vpci_func *f, unsigned vec)
{
	struct vdev *d = ctx;
	return vm_pci_msix_notify(d->vm, f, vec);
}

static void vdev_set_intx(void *ctx, struct vpci_func *f, bool level)
{
	struct vdev *d = ctx;
	vm_pci_set_intx(d->vm, f, level);
}

/* The transport over `dev`, plugged at `slot`. */
static int vdev_plug(struct vdev *d, struct vm *vm, struct virtio_dev *dev, unsigned slot)
{
	d->lock = (spinlock_t)SPINLOCK_INIT;
	d->owner = -1;
	d->vm = vm;
	d->host = (struct virtio_pci_host){.enter = vdev_enter,
					   .leave = vdev_leave,
					   .msix_notify = vdev_msix_notify,
					   .set_intx = vdev_set_intx,
					   .ctx = d};
	virtio_pci_init(&d->pci, dev, &d->host);
	if (vm_pci_add(vm, &d->pci.func, slot) < 0)
		return -1;
	d->plugged = true;
	return 0;
}

static void vdev_reset(struct vdev *d)
{
	vdev_lock(d);
	virtio_pci_reset(&d->pci);
	vdev_unlock(d);
}

/* ---- devices ---- */

static struct blkdev *vdisk_dev(struct vdisk *d)
{
	return d->host ? &d->part.dev : &d->rd.dev;
}

/*
 * A host disk target: resolved to a partition or whole disk, claimed by
 * its sector range (one writer), and opened as a window on it, read-only
 * when the VM file says access=ro.
 */
static int attach_host(struct vdisk *d, const struct vm_disk *disk, const char *vm_name, char *err,
		       size_t errlen)
{
	struct hostblk_target t;
	char why[200];
	if (hostblk_resolve(disk->target, &t, why, sizeof(why)) < 0) {
		format(err, errlen, "disk %s: %s", disk->vdev, why);
		return -1;
	}
	if (!t.sectors) {
		format(err, errlen, "disk %s: %s has no sectors", disk->vdev, t.canonical);
		return -1;
	}
	int claim = disk_claim_take_range(&disk_claims_host, t.canonical, t.hb->name,
					  t.first_sector, t.sectors, vm_name, !disk->read_only, why,
					  sizeof(why));
	if (claim < 0) {
		format(err, errlen, "disk %s: %s", disk->vdev, why);
		return -1;
	}
	d->host_claim = claim;
	d->host = true;
	part_dev_init(&d->part, t.hb->dev, t.first_sector, t.sectors, disk->read_only, t.canonical);
	return 0;
}

static int attach_module(struct vdisk *d, const struct vm_disk *disk, const char *vm_name,
			 char *err, size_t errlen)
{
	const struct boot_module *m = vmm_find_module(disk->target);
	if (!m) {
		format(err, errlen, "disk %s: boot module %s not found", disk->vdev, disk->target);
		return -1;
	}
	/* its bytes are a host disk's: only through it, under its partitions' claims */
	const char *host = hostdisk_ram_of_module(disk->target);
	if (host) {
		format(err, errlen, "disk %s: boot module %s is host disk %s: name %s or one of its "
		       "partitions instead", disk->vdev, disk->target, host, host);
		return -1;
	}
	return ramdisk_attach(&d->rd, disk, m, vm_name, err, errlen);
}

static int add_disk(struct vm_virtio *vv, const struct vm_disk *disk, char *err, size_t errlen)
{
	struct vm *vm = vv->vm;
	if (disk->index >= VM_VIRTIO_SLOT_NIC0 - VM_VIRTIO_SLOT_DISK0) {
		format(err, errlen, "disk %s: only %u disks per VM (xvda-xvd%c)", disk->vdev,
		       VM_VIRTIO_SLOT_NIC0 - VM_VIRTIO_SLOT_DISK0,
		       'a' + VM_VIRTIO_SLOT_NIC0 - VM_VIRTIO_SLOT_DISK0 - 1);
		return -1;
	}
	struct vdisk *d = kzalloc(sizeof(*d));
	if (!d) {
		format(err, errlen, "disk %s: out of memory", disk->vdev);
		return -1;
	}
	d->host_claim = -1;
	vv->disks[vv->ndisks++] = d;
	strlcpy_hv(d->vdev, disk->vdev, sizeof(d->vdev));
	int rc = diskspec_is_host_disk(disk->target) ? attach_host(d, disk, vm->name, err, errlen)
						     : attach_module(d, disk, vm->name, err, errlen);
	if (rc < 0)
		return -1;
	d->attached = true;
	virtio_blk_init(&d->blk, vdisk_dev(d), NULL, &vv->mem);
	d->blk.poll_mode = true;
	d->blk.lock_ops = &vblk_locking;
	d->blk.lock_ctx = &d->v;
	d->v.blk = &d->blk;
	if (vdev_plug(&d->v, vm, &d->blk.dev, VM_VIRTIO_SLOT_DISK0 + disk->index) < 0) {
		format(err, errlen, "disk %s: no room on the VM's PCI bus", disk->vdev);
		return -1;
	}
	return 0;
}

/*
 * vif n: a virtio-net at slot VM_VIRTIO_SLOT_NIC0 + n, its port (vifname, or
 * NAME.n) on the switch the vif names, with the vif's MAC (given or derived
 * by vmconfig). A switch that refuses the port refuses the VM.
 */
static int add_nic(struct vm_virtio *vv, unsigned index, const struct vm_vif *vif, char *err,
		   size_t errlen)
{
	struct vm *vm = vv->vm;
	char port[sizeof(((struct net_port *)0)->name)], why[160];
	struct vnic *n = kzalloc(sizeof(*n));
	if (!n) {
		format(err, errlen, "vif %u: out of memory", index);
		return -1;
	}
	vv->nics[vv->nnics++] = n;
	n->index = index;
	strlcpy_hv(n->bridge, vif->bridge, sizeof(n->bridge));
	if (vif->vifname[0])
		strlcpy_hv(port, vif->vifname, sizeof(port));
	else
		format(port, sizeof(port), "%s.%u", vm->name, index);
	virtio_net_init(&n->net, port, vif->mac, &vv->mem);
	n->net.poll_mode = true;
	n->net.lock_ops = &vnet_locking;
	n->net.lock_ctx = &n->v;
	n->v.net = &n->net;
	if (vdev_plug(&n->v, vm, &n->net.dev, VM_VIRTIO_SLOT_NIC0 + index) < 0) {
		format(err, errlen, "vif %u: no room on the VM's PCI bus", index);
		return -1;
	}
	struct net_switch *sw = net_switch_get(vif->bridge, why, sizeof(why));
	if (!sw || net_switch_attach(sw, &n->net.port, why, sizeof(why)) < 0) {
		format(err, errlen, "vif %u (bridge=%s): %s", index, vif->bridge, why);
		return -1;
	}
	n->attached = true;
	return 0;
}

/* Takes the VM's NICs off their switches: no frame reaches its RAM after this. */
static void detach_nics(struct vm_virtio *vv)
{
	for (unsigned i = 0; i < vv->nnics; i++) {
		struct vnic *n = vv->nics[i];
		if (!n->attached)
			continue;
		net_switch_detach(&n->net.port);
		n->attached = false;
	}
}

static void console_output(void *ctx, const uint8_t *buf, size_t n)
{
	struct vm *vm = ctx;
	for (size_t i = 0; i < n; i++)
		vm_hvc_putc(vm, (char)buf[i]);
}

static int add_console(struct vm_virtio *vv, char *err, size_t errlen)
{
	struct vconsole *c = kzalloc(sizeof(*c));
	if (!c) {
		format(err, errlen, "virtio console: out of memory");
		return -1;
	}
	vv->console = c;
	struct virtio_console_ops ops = {.output = console_output, .ctx = vv->vm};
	virtio_console_init(&c->con, "virtio-console", &ops, &vv->mem);
	if (vdev_plug(&c->v, vv->vm, &c->con.dev, VM_VIRTIO_SLOT_CONSOLE) < 0) {
		format(err, errlen, "virtio console: no room on the VM's PCI bus");
		return -1;
	}
	vv->vm->has_hvc = true;
	return 0;
}

static size_t rng_entropy(void *ctx, void *buf, size_t n)
{
	(void)ctx;
	return entropy_fill(buf, n);
}

static int add_rng(struct vm_virtio *vv, char *err, size_t errlen)
{
	struct vrng *r = kzalloc(sizeof(*r));
	if (!r) {
		format(err, errlen, "virtio rng: out of memory");
		return -1;
	}
	vv->rng = r;
	virtio_rng_init(&r->rng, "virtio-rng", rng_entropy, NULL, &vv->mem);
	if (vdev_plug(&r->v, vv->vm, &r->rng.dev, VM_VIRTIO_SLOT_RNG) < 0) {
		format(err, errlen, "virtio rng: no room on the VM's PCI bus");
		return -1;
	}
	return 0;
}

int vm_virtio_init(struct vm *vm, char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->config;
	struct vm_virtio *vv = kzalloc(sizeof(*vv));
	if (!vv) {
		format(err, errlen, "out of memory");
		return -1;
	}
	vm->virtio = vv;
	vv->vm = vm;
	vv->mem = (struct vq_mem){.read = ram_read,
				  .write = ram_write,
				  .is_ram = ram_has,
				  .dma_addr = ram_dma_addr,
				  .ctx = vm};
	for (unsigned i = 0; i < cfg->disk_count; i++)
		if (add_disk(vv, &cfg->disks[i], err, errlen) < 0)
			return -1;
	for (unsigned i = 0; i < cfg->vif_count; i++)
		if (add_nic(vv, i, &cfg->vifs[i], err, errlen) < 0)
			return -1;
	if (cfg->virtio_console && add_console(vv, err, errlen) < 0)
		return -1;
	/* entropy only when the host has a generator: no device beats a device that gives nothing */
	if (cfg->virtio_rng && entropy_available() && add_rng(vv, err, errlen) < 0)
		return -1;
	return 0;
}

void vm_virtio_reset(struct vm *vm)
{
	struct vm_virtio *vv = vm->virtio;
	if (!vv)
		return;
	for (unsigned i = 0; i < vv->ndisks; i++)
		if (vv->disks[i]->v.plugged)
			vdev_reset(&vv->disks[i]->v);
	for (unsigned i = 0; i < vv->nnics; i++)
		if (vv->nics[i]->v.plugged)
			vdev_reset(&vv->nics[i]->v);
	if (vv->console && vv->console->v.plugged)
		vdev_reset(&vv->console->v);
	if (vv->rng && vv->rng->v.plugged)
		vdev_reset(&vv->rng->v);
}

bool vm_virtio_quiesce(struct vm *vm)
{
	struct vm_virtio *vv = vm->virtio;
	if (!vv)
		return true;
	detach_nics(vv);
	vm_virtio_reset(vm);
	/* the host drivers fail a request back within their own timeouts; wait a while longer */
	uint64_t deadline = rdtsc() + tsc_khz() * VM_VIRTIO_QUIESCE_MS;
	bool left = false;
	for (;;) {
		left = false;
		for (unsigned i = 0; i < vv->ndisks; i++) {
			struct vdisk *d = vv->disks[i];
			if (!d->v.plugged)
				continue;
			vdev_lock(&d->v);
			left |= virtio_blk_in_flight(&d->blk) != 0;
			vdev_unlock(&d->v);
		}
		if (!left || rdtsc() > deadline)
			break;
		deferred_run();
		cpu_relax();
	}
	if (left)
		printk("vm %s: disk requests still in flight after %u s; its memory is kept\n",
		       vm->name, VM_VIRTIO_QUIESCE_MS / 1000);
	return !left;
}

/* What a disk served, when its VM goes: the figures the I/O benchmark reads. */
static void report_disk(const struct vm *vm, const struct vdisk *d)
{
	const struct virtio_blk_stats *s = &d->blk.stats;
	const struct virtio_pci *t = &d->v.pci;
	printk("vm %s disk %s: %llu requests (%llu reads, %llu writes, %llu errors), %llu notifies, "
	       "%llu interrupts, %llu isr reads, %llu found by %llu polls\n",
	       vm->name, d->vdev, (unsigned long long)s->requests, (unsigned long long)s->reads,
	       (unsigned long long)s->writes, (unsigned long long)(s->errors + s->unsupported),
	       (unsigned long long)t->notifies, (unsigned long long)t->interrupts,
	       (unsigned long long)t->isr_reads, (unsigned long long)d->blk.polled,
	       (unsigned long long)d->blk.polls);
}

/* What a NIC moved, when its VM goes: the figures the network benchmark reads. */
static void report_nic(const struct vm *vm, const struct vnic *n)
{
	const struct virtio_net_stats *s = &n->net.stats;
	const struct net_port_stats *p = &n->net.port.stats;
	const struct virtio_pci *t = &n->v.pci;
	uint64_t per10 = s->tx_kicks ? s->tx_frames * 10 / s->tx_kicks : 0;
	printk("vm %s nic %s: tx %llu frames %llu bytes (%llu dropped, %llu spoofed), rx %llu frames "
	       "%llu bytes (%llu dropped), %llu notifies (%llu transmit: %llu.%llu frames each), %llu "
	       "interrupts, %llu found by %llu polls\n",
	       vm->name, n->net.port.name, (unsigned long long)s->tx_frames,
	       (unsigned long long)s->tx_bytes, (unsigned long long)(s->tx_dropped + p->in_errors),
	       (unsigned long long)p->spoofed, (unsigned long long)s->rx_frames,
	       (unsigned long long)s->rx_bytes, (unsigned long long)s->rx_dropped,
	       (unsigned long long)t->notifies, (unsigned long long)s->tx_kicks,
	       (unsigned long long)(per10 / 10),
	       (unsigned long long)(per10 % 10), (unsigned long long)t->interrupts,
	       (unsigned long long)n->net.polled, (unsigned long long)n->net.polls);
}

unsigned vm_virtio_disk_stats(const struct vm *vm, struct vm_disk_stats *out, unsigned max)
{
	const struct vm_virtio *vv = vm->virtio;
	unsigned n = 0;
	for (unsigned i = 0; vv && i < vv->ndisks && n < max; i++) {
		const struct vdisk *d = vv->disks[i];
		const struct virtio_blk_stats *s = &d->blk.stats;
		struct vm_disk_stats *o = &out[n++];
		memcpy(o->vdev, d->vdev, sizeof(o->vdev));
		o->vdev[sizeof(o->vdev) - 1] = 0;
		o->requests = s->requests;
		o->reads = s->reads;
		o->writes = s->writes;
		o->flushes = s->flushes;
		o->bytes_read = s->bytes_read;
		o->bytes_written = s->bytes_written;
		o->errors = s->errors + s->unsupported;
	}
	return n;
}

void vm_virtio_report(const struct vm *vm)
{
	struct vm_virtio *vv = vm->virtio;
	if (!vv || vv->reported)
		return;
	vv->reported = true;
	for (unsigned i = 0; i < vv->ndisks; i++)
		if (vv->disks[i]->v.plugged)
			report_disk(vm, vv->disks[i]);
	for (unsigned i = 0; i < vv->nnics; i++)
		if (vv->nics[i]->v.plugged)
			report_nic(vm, vv->nics[i]);
}

void vm_virtio_free(struct vm *vm)
{
	struct vm_virtio *vv = vm->virtio;
	if (!vv)
		return;
	vm_virtio_report(vm);
	for (unsigned i = 0; i < vv->ndisks; i++) {
		struct vdisk *d = vv->disks[i];
		if (d->attached && d->host)
			disk_claim_release(&disk_claims_host, d->host_claim);
		else if (d->attached)
			ramdisk_detach(&d->rd);
		kfree(vv->disks[i]);
	}
	detach_nics(vv); /* (quiesce did, unless the VM never got that far) */
	for (unsigned i = 0; i < vv->nnics; i++)
		kfree(vv->nics[i]);
	kfree(vv->console);
	kfree(vv->rng);
	kfree(vv);
	vm->virtio = NULL;
}

size_t vm_virtio_console_input(struct vm *vm, const uint8_t *bytes, size_t n)
{
	struct vm_virtio *vv = vm->virtio;
	if (!vv || !vv->console)
		return 0;
	struct vconsole *c = vv->console;
	vdev_lock(&c->v);
	size_t took = virtio_console_input(&c->con, bytes, n);
	vdev_unlock(&c->v);
	return took;
}

/* 1536 -> "1.5 KiB"-style sizes for the table. */
static void human_size(char *buf, size_t len, uint64_t bytes)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	unsigned u = 0;
	uint64_t whole = bytes, tenth = 0;
	while (whole >= 1024 && u < 4) {
		tenth = (whole % 1024) * 10 / 1024;
		whole /= 1024;
		u++;
	}
	if (u == 0 || tenth == 0)
		format(buf, len, "%llu %s", (unsigned long long)whole, units[u]);
	else
		format(buf, len, "%llu.%llu %s", (unsigned long long)whole,
		       (unsigned long long)tenth, units[u]);
}

void vm_virtio_block_list(struct vm *vm)
{
	struct vm_virtio *vv = vm->virtio;
	console_print("%-6s %-4s %-8s %10s %-3s %9s %9s %10s %10s %6s %9s  %s\n", "Vdev", "Slot",
		      "State", "Size", "RW", "Reads", "Writes", "Read", "Written", "Errors", "In-flight",
		      "Backend");
	if (!vv || !vv->ndisks)
		return;
	for (unsigned i = 0; i < vv->ndisks; i++) {
		struct vdisk *d = vv->disks[i];
		if (!d->attached)
			continue;
		vdev_lock(&d->v);
		struct virtio_blk_stats s = d->blk.stats;
		uint8_t status = d->blk.dev.status;
		const char *failure = d->blk.dev.failure;
		unsigned in_flight = virtio_blk_in_flight(&d->blk);
		vdev_unlock(&d->v);
		const struct blkdev *b = vdisk_dev(d);
		char size[16], rd[16], wr[16];
		human_size(size, sizeof(size), b->sectors * BLK_SECTOR_SIZE);
		human_size(rd, sizeof(rd), s.bytes_read);
		human_size(wr, sizeof(wr), s.bytes_written);
		const char *state = failure				  ? "broken"
				    : status & VIRTIO_STATUS_DRIVER_OK ? "active"
				    : status			  ? "setup"
								  : "idle";
		console_print("%-6s 00:%02x %-8s %10s %-3s %9llu %9llu %10s %10s %6llu %9u  %s\n",
			      d->vdev, d->v.pci.func.slot, state, size, b->read_only ? "ro" : "rw",
			      (unsigned long long)s.reads, (unsigned long long)s.writes, rd, wr,
			      (unsigned long long)(s.errors + s.unsupported), in_flight, b->name);
		if (failure)
			console_print("       needs reset: %s\n", failure);
	}
}

void vm_virtio_nic_list(struct vm *vm)
{
	struct vm_virtio *vv = vm->virtio;
	console_print("%-4s %-4s %-8s %-17s %-15s %-15s %10s %10s %8s %8s %8s %7s\n", "Vif", "Slot",
		      "State", "MAC", "Bridge", "Port", "TX", "RX", "TX-drop", "Spoofed", "RX-drop",
		      "Backlog");
	if (!vv)
		return;
	for (unsigned i = 0; i < vv->nnics; i++) {
		struct vnic *n = vv->nics[i];
		if (!n->v.plugged)
			continue;
		vdev_lock(&n->v);
		struct virtio_net_stats s = n->net.stats;
		struct net_port_stats ps = n->net.port.stats;
		uint8_t status = n->net.dev.status;
		const char *failure = n->net.dev.failure;
		unsigned backlog = virtio_net_backlog(&n->net);
		vdev_unlock(&n->v);
		const uint8_t *m = n->net.port.mac;
		const char *state = failure				  ? "broken"
				    : !n->attached			  ? "detached"
				    : status & VIRTIO_STATUS_DRIVER_OK ? "active"
				    : status			  ? "setup"
								  : "idle";
		console_print("%-4u 00:%02x %-8s %02x:%02x:%02x:%02x:%02x:%02x %-15s %-15s %10llu %10llu "
			      "%8llu %8llu %8llu %7u\n",
			      n->index, n->v.pci.func.slot, state, m[0], m[1], m[2], m[3], m[4], m[5],
			      n->bridge, n->net.port.name, (unsigned long long)s.tx_frames,
			      (unsigned long long)s.rx_frames,
			      (unsigned long long)(s.tx_dropped + ps.in_errors),
			      (unsigned long long)ps.spoofed, (unsigned long long)s.rx_dropped, backlog);
		if (failure)
			console_print("     needs reset: %s\n", failure);
	}
}
