/*
 * The IOMMU as the rest of the hypervisor sees it (iommu.h), on Intel VT-d:
 * the DMAR table (dmar.c), the units (vtd_unit.c, vtd_fault.c), and here
 * the domains, which device is in which, and interrupt remapping.
 *
 * Domains and what they map:
 *   - blocking: no context entry at all. Every device starts there, and
 *     goes back there when its driver fails or a VM hands it back; its DMA
 *     faults (reason "context entry not present") and is logged.
 *   - hypervisor ("hv"): the devices the hypervisor drives (NVMe, AHCI,
 *     e1000e, virtio-net). Their descriptors and bounce buffers come from
 *     the frame allocator, and block requests of VMs are DMAed straight
 *     into the VMs' RAM, which also comes from the frame allocator. So the
 *     domain is an identity map of exactly the RAM the frame allocator may
 *     hand out (mm_for_each_frame_range): the hypervisor image (code, data,
 *     the host's own stacks and static tables), the loader's structures,
 *     boot modules, firmware memory and everything outside RAM (other
 *     devices' BARs, the LAPIC/MSI window) stay unmapped. Mapping only each
 *     buffer as it is handed to a device would need a map/unmap in every
 *     driver's hot path; the host drivers are trusted code, so the domain
 *     guards against their bugs and a confused device, not against malice.
 *     RMRR regions are added, identity-mapped, for the devices that name them.
 *   - VM domains: second-level tables written from the VM's gpa_map
 *     (ept/vtd_slpt.c), so a device given to a VM reaches that VM's RAM at
 *     its guest-physical addresses and nothing else.
 * Domain IDs are global across units (0 is never used: caching-mode units
 * treat it specially); the hypervisor domain is 1.
 *
 * Interrupt remapping is in iommu_intr.c.
 */
#include "kernel/iommu/iommu.h"

#include "ept/gpa_map.h"
#include "ept/vtd_slpt.h"
#include "kernel/acpi/acpi.h"
#include "kernel/cmdline.h"
#include "kernel/iommu/dmar.h"
#include "kernel/iommu/vtd.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/pci/pci.h"

#define MAX_DID 256
#define DID_HV 1

struct iommu_domain {
	uint16_t did;
	bool hv;
	char name[32];
	struct pagetable pt;
	uint64_t root3; /* the 3-level view, for units without 4-level tables; 0: none */
	unsigned ndevs;
};

struct devstate {
	struct iommu_domain *dom;
	const char *owner;
};

struct vtd_unit vtd_units[DMAR_MAX_UNITS];
unsigned vtd_nunits;
const struct acpi_info *vtd_acpi;

struct dmar_info vtd_dmar;
bool vtd_have_dmar;
static bool remapping_on;
static char host_why[128] = "the IOMMU has not been set up yet";
static spinlock_t iommu_lock = SPINLOCK_INIT; /* domains, devstate; taken before a unit's lock */
static struct devstate devs[PCI_MAX_DEVICES];
static uint64_t did_used[MAX_DID / 64];
static struct iommu_domain hv_dom;
static bool hv_dom_ok;
static bool booting; /* iommu_init between the units' setup and translation on */
static uint64_t hv_mapped_bytes;
static unsigned rmrr_devices;

/* ---- devices ---- */

static int dev_index(const struct pci_dev *d)
{
	if (!d || d < pci_devices || d >= pci_devices + pci_device_count)
		return -1;
	return (int)(d - pci_devices);
}

static uint8_t devfn(const struct pci_dev *d)
{
	return (uint8_t)(d->dev << 3 | d->fn);
}

static uint16_t sid_of(const struct pci_dev *d)
{
	return (uint16_t)(d->bus << 8 | devfn(d));
}

/* The bridge whose secondary bus d sits on, or NULL (a root bus). */
static const struct pci_dev *parent_bridge(const struct pci_dev *d)
{
	for (size_t i = 0; i < pci_device_count; i++) {
		const struct pci_dev *b = &pci_devices[i];
		if ((b->header_type & 0x7f) == 1 && b->segment == d->segment &&
		    b->secondary_bus == d->bus && b != d)
			return b;
	}
	return NULL;
}

/*
 * The source-id d's DMA arrives with: its own, unless a PCIe-to-PCI bridge
 * above it takes ownership of its transactions (PCIe-to-PCI Bridge 1.0
 * §2.3: they carry the bridge's secondary bus and devfn 0).
 */
uint16_t vtd_dma_alias(const struct pci_dev *d)
{
	uint16_t sid = sid_of(d);
	for (const struct pci_dev *b = parent_bridge(d); b; b = parent_bridge(b)) {
		if (b->cap_pcie && ((pci_read16(b, b->cap_pcie + 2) >> 4) & 0xf) == 7)
			sid = (uint16_t)(b->secondary_bus << 8);
	}
	return sid;
}

struct vtd_unit *vtd_unit_of(const struct pci_dev *d)
{
	if (!vtd_have_dmar || !d)
		return NULL;
	int i = dmar_unit_for(&vtd_dmar, d->segment, d->bus, devfn(d));
	return i >= 0 && (unsigned)i < vtd_nunits ? &vtd_units[i] : NULL;
}

static bool has_rmrr(const struct pci_dev *d)
{
	for (unsigned i = 0; i < vtd_dmar.nrmrr; i++)
		if (dmar_rmrr_names(&vtd_dmar, &vtd_dmar.rmrr[i], d->segment, d->bus, devfn(d)))
			return true;
	return false;
}

const char *vtd_sid_owner(uint16_t segment, uint16_t sid)
{
	for (size_t i = 0; i < pci_device_count; i++) {
		const struct pci_dev *d = &pci_devices[i];
		if (d->segment == segment && (sid_of(d) == sid || vtd_dma_alias(d) == sid))
			return devs[i].owner;
	}
	return NULL;
}

static bool bridge_buses(void *ctx, uint16_t segment, uint8_t bus, uint8_t df, uint8_t *sec,
			 uint8_t *sub)
{
	(void)ctx;
	for (size_t i = 0; i < pci_device_count; i++) {
		const struct pci_dev *d = &pci_devices[i];
		if (d->segment == segment && d->bus == bus && devfn(d) == df &&
		    (d->header_type & 0x7f) == 1) {
			*sec = d->secondary_bus;
			*sub = d->subordinate_bus;
			return true;
		}
	}
	return false;
}

/* ---- domains ---- */

static uint64_t alloc_table(void *arg)
{
	(void)arg;
	return frame_alloc_zeroed(1);
}

static void *pt_virt(uint64_t pa)
{
	return phys_to_virt(pa);
}

static void free_table(void *ctx, uint64_t pa)
{
	(void)ctx;
	frame_free(&host_frames, pa);
}

static void flush_table(void *ctx, uint64_t pa)
{
	vtd_flush(ctx, phys_to_virt(pa), 4096);
}

/* What every enabled unit can walk: the smallest largest page, and whether any needs 3 levels. */
static enum page_level common_largest(bool *need3)
{
	enum page_level l = PAGE_1G;
	*need3 = false;
	for (unsigned i = 0; i < vtd_nunits; i++) {
		if (!vtd_units[i].te && !vtd_units[i].regs)
			continue;
		if (vtd_units[i].largest < l)
			l = vtd_units[i].largest;
		*need3 |= vtd_units[i].levels == 3;
	}
	return l;
}

static unsigned max_domains(void)
{
	unsigned n = MAX_DID;
	for (unsigned i = 0; i < vtd_nunits; i++)
		if (vtd_units[i].te && vtd_domains(vtd_units[i].cap) < n)
			n = vtd_domains(vtd_units[i].cap);
	return n;
}

static int did_alloc(void)
{
	unsigned n = max_domains();
	for (unsigned d = 1; d < n; d++)
		if (!(did_used[d / 64] & (1ull << (d % 64)))) {
			did_used[d / 64] |= 1ull << (d % 64);
			return (int)d;
		}
	return -1;
}

static void did_free(uint16_t d)
{
	did_used[d / 64] &= ~(1ull << (d % 64));
}

static int domain_tables_init(struct iommu_domain *dom)
{
	dom->pt = (struct pagetable){.alloc_table = alloc_table, .phys_to_virt = pt_virt};
	return pt_init(&dom->pt);
}

/* After the tables are written: the 3-level view, and cache flushes for units that need them. */
static int domain_tables_finish(struct iommu_domain *dom)
{
	bool need3;
	common_largest(&need3);
	if (need3 && !(dom->root3 = vtd_slpt_root(&dom->pt, 3)))
		return -1;
	for (unsigned i = 0; i < vtd_nunits; i++)
		if (vtd_units[i].regs && !vtd_units[i].coherent) {
			vtd_slpt_for_each_table(&dom->pt, flush_table, &vtd_units[i]);
			break;
		}
	return 0;
}

static void domain_tables_free(struct iommu_domain *dom)
{
	if (dom->pt.root)
		vtd_slpt_for_each_table(&dom->pt, free_table, NULL);
	dom->pt.root = 0;
}

static uint64_t slpt_for(const struct iommu_domain *dom, const struct vtd_unit *u)
{
	return u->levels == 4 ? dom->pt.root : dom->root3;
}

/* ---- context entries for a device (and its alias) ---- */

static int context_point(struct vtd_unit *u, struct iommu_domain *dom, uint16_t sid)
{
	uint8_t bus = sid >> 8, df = sid & 0xff;
	uint64_t flags = spin_lock_irqsave(&u->lock);
	int old = vtd_context_clear(u, bus, df);
	if (old >= 0) {
		vtd_inv_context_device(u, (uint16_t)old, sid);
		vtd_inv_iotlb_domain(u, (uint16_t)old);
	}
	int r = vtd_context_set(u, bus, df, slpt_for(dom, u), dom->did);
	if (r == 0)
		/* caching-mode units may cache not-present entries: invalidate the new one too */
		vtd_inv_context_device(u, dom->did, sid);
	spin_unlock_irqrestore(&u->lock, flags);
	return r;
}

static void context_block(struct vtd_unit *u, uint16_t sid)
{
	uint64_t flags = spin_lock_irqsave(&u->lock);
	int old = vtd_context_clear(u, sid >> 8, sid & 0xff);
	if (old >= 0) {
		vtd_inv_context_device(u, (uint16_t)old, sid);
		vtd_inv_iotlb_domain(u, (uint16_t)old);
	}
	spin_unlock_irqrestore(&u->lock, flags);
}

/* With iommu_lock held. */
static int attach_locked(struct iommu_domain *dom, struct pci_dev *d, const char *owner, char *err,
			 size_t errlen)
{
	char name[16];
	pci_dev_name(d, name, sizeof(name));
	int idx = dev_index(d);
	struct vtd_unit *u = vtd_unit_of(d);
	/* while booting, RMRR devices get their entries before translation is on */
	if (idx < 0 || !u || !(u->te || (booting && u->regs))) {
		format(err, errlen, "%s is not behind an active remapping unit", name);
		return -1;
	}
	if (!dom->hv && has_rmrr(d)) {
		format(err, errlen,
		       "%s: the firmware keeps DMA to reserved memory for it (RMRR); it cannot be "
		       "given to a VM",
		       name);
		return -1;
	}
	if (!dom->hv && d->driver) {
		format(err, errlen, "%s is driven by the hypervisor (%s)", name, d->driver->name);
		return -1;
	}
	uint16_t sid = sid_of(d), alias = vtd_dma_alias(d);
	if (alias != sid) {
		/* every device behind the same PCIe-to-PCI bridge shares the alias's domain */
		for (size_t i = 0; i < pci_device_count; i++) {
			struct pci_dev *o = &pci_devices[i];
			if (o != d && devs[i].dom && devs[i].dom != dom && vtd_dma_alias(o) == alias) {
				char oname[16];
				pci_dev_name(o, oname, sizeof(oname));
				format(err, errlen,
				       "%s shares its DMA source-id %02x:%02x.%u with %s, which is "
				       "used elsewhere",
				       name, alias >> 8, (alias >> 3) & 31, alias & 7, oname);
				return -1;
			}
		}
	}
	struct devstate *s = &devs[idx];
	if (s->dom == dom) {
		s->owner = owner;
		return 0;
	}
	if (context_point(u, dom, sid) < 0 || (alias != sid && context_point(u, dom, alias) < 0)) {
		format(err, errlen, "no memory for %s's context table", name);
		return -1;
	}
	if (s->dom)
		s->dom->ndevs--;
	s->dom = dom;
	s->owner = owner;
	dom->ndevs++;
	return 0;
}

static void block_locked(struct pci_dev *d)
{
	int idx = dev_index(d);
	struct vtd_unit *u = vtd_unit_of(d);
	if (idx < 0 || !u || !u->te)
		return;
	uint16_t sid = sid_of(d), alias = vtd_dma_alias(d);
	context_block(u, sid);
	if (alias != sid) {
		/* the alias stays while another device behind the bridge is still in the domain */
		bool shared = false;
		for (size_t i = 0; i < pci_device_count; i++)
			shared |= &pci_devices[i] != d && devs[i].dom && devs[i].dom == devs[idx].dom &&
				  vtd_dma_alias(&pci_devices[i]) == alias;
		if (!shared)
			context_block(u, alias);
	}
	if (devs[idx].dom)
		devs[idx].dom->ndevs--;
	devs[idx].dom = NULL;
	devs[idx].owner = NULL;
}

/* ---- boot ---- */

static bool opt_off, opt_no_qi, opt_no_ir;

static bool opt_has(const char *v, size_t len, const char *word)
{
	size_t wl = strlen(word);
	for (size_t i = 0; i < len;) {
		size_t j = i;
		while (j < len && v[j] != ',')
			j++;
		if (j - i == wl && memcmp(v + i, word, wl) == 0)
			return true;
		i = j + 1;
	}
	return false;
}

void iommu_options(const char *cmdline)
{
	const char *v;
	size_t len;
	if (!cmdline || !cmdline_find(cmdline, "iommu", &v, &len))
		return;
	opt_off = opt_has(v, len, "off") || opt_has(v, len, "0") || opt_has(v, len, "no") ||
		  opt_has(v, len, "false");
	opt_no_qi = opt_has(v, len, "no-qinval");
	opt_no_ir = opt_has(v, len, "no-intremap");
	static const char *const known[] = {"off", "0", "no", "false", "no-qinval", "no-intremap",
					    "on", "1", "yes", "true"};
	for (size_t i = 0; i < len;) {
		size_t j = i;
		while (j < len && v[j] != ',')
			j++;
		bool ok = false;
		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			ok |= strlen(known[k]) == j - i && memcmp(v + i, known[k], j - i) == 0;
		if (!ok)
			printk("vt-d: iommu=: '%.*s' is not an option this build knows (off, "
			       "no-qinval, no-intremap); ignored\n",
			       (int)(j - i), v + i);
		i = j + 1;
	}
}

struct hv_map_ctx {
	int err;
	bool need3;
	enum page_level largest;
	uint64_t skipped;
};

static void hv_map_range(void *arg, uint64_t start, uint64_t end)
{
	struct hv_map_ctx *c = arg;
	if (c->need3 && end > VTD_SLPT_3LEVEL_LIMIT) {
		uint64_t cut = start > VTD_SLPT_3LEVEL_LIMIT ? start : VTD_SLPT_3LEVEL_LIMIT;
		c->skipped += end - cut;
		end = cut;
	}
	if (start >= end)
		return;
	if (vtd_slpt_map(&hv_dom.pt, start, start, end - start, true, c->largest) < 0)
		c->err = -1;
	else
		hv_mapped_bytes += end - start;
}

static bool build_hv_domain(void)
{
	struct hv_map_ctx c = {0};
	c.largest = common_largest(&c.need3);
	hv_dom.did = DID_HV;
	hv_dom.hv = true;
	strlcpy_hv(hv_dom.name, "hv", sizeof(hv_dom.name));
	did_used[0] |= 1ull << DID_HV;
	if (domain_tables_init(&hv_dom) < 0)
		return false;
	mm_for_each_frame_range(hv_map_range, &c);
	for (unsigned i = 0; i < vtd_dmar.nrmrr && !c.err; i++) {
		const struct dmar_rmrr *r = &vtd_dmar.rmrr[i];
		if (vtd_slpt_map(&hv_dom.pt, r->base, r->base, r->limit + 1 - r->base, true,
				 c.largest) < 0)
			c.err = -1;
	}
	if (c.skipped)
		printk("vt-d: %llu MiB of RAM above 512 GiB is outside the hypervisor domain (a "
		       "unit walks only 3 levels)\n",
		       (unsigned long long)(c.skipped >> 20));
	if (c.err || domain_tables_finish(&hv_dom) < 0) {
		domain_tables_free(&hv_dom);
		return false;
	}
	return true;
}

static void report_dmar(void)
{
	printk("vt-d: DMAR: %u unit%s, %u reserved region%s (RMRR), %u ATS root-port set%s, "
	       "%u-bit host addresses%s%s\n",
	       vtd_dmar.ndrhd, vtd_dmar.ndrhd == 1 ? "" : "s", vtd_dmar.nrmrr, vtd_dmar.nrmrr == 1 ? "" : "s",
	       vtd_dmar.natsr, vtd_dmar.natsr == 1 ? "" : "s", vtd_dmar.haw,
	       vtd_dmar.flags & DMAR_FLAG_INTR_REMAP ? ", interrupt remapping offered" : "",
	       vtd_dmar.flags & DMAR_FLAG_X2APIC_OPT_OUT ? ", firmware asks for no x2APIC remapping"
						     : "");
	for (unsigned i = 0; i < vtd_dmar.nwarn && i < DMAR_MAX_WARN; i++)
		printk("vt-d: DMAR: %s\n", vtd_dmar.warn[i]);
	if (vtd_dmar.nwarn > DMAR_MAX_WARN)
		printk("vt-d: DMAR: %u more problems not shown\n", vtd_dmar.nwarn - DMAR_MAX_WARN);
}

void iommu_init(const struct acpi_info *acpi)
{
	char err[96];
	vtd_acpi = acpi;
	const struct acpi_table_ref *t = acpi ? acpi_table(acpi, "DMAR") : NULL;
	if (t && opt_off) {
		strlcpy_hv(host_why, "VT-d is turned off on the command line (iommu=off)",
			   sizeof(host_why));
		printk("vt-d: %s; device DMA is not checked and no device can be given to a VM\n",
		       host_why);
		return;
	}
	if (!t) {
		strlcpy_hv(host_why,
			   acpi && acpi->dmar_address
			       ? "the DMAR table's checksum is wrong: VT-d is not used"
			       : "no DMAR table: the firmware has VT-d off or the machine has none",
			   sizeof(host_why));
		printk("vt-d: %s; device DMA is not checked and no device can be given to a VM\n",
		       host_why);
		return;
	}
	if (dmar_parse(&vtd_dmar, phys_to_virt(t->address), t->length, err, sizeof(err)) < 0) {
		format(host_why, sizeof(host_why), "VT-d not used: %s", err);
		printk("vt-d: %s\n", host_why);
		return;
	}
	vtd_have_dmar = true;
	dmar_resolve(&vtd_dmar, bridge_buses, NULL);
	report_dmar();

	vtd_nunits = vtd_dmar.ndrhd;
	unsigned up = 0;
	for (unsigned i = 0; i < vtd_nunits; i++) {
		struct vtd_unit *u = &vtd_units[i];
		u->index = (int)i;
		u->base = vtd_dmar.drhd[i].base;
		u->segment = vtd_dmar.drhd[i].segment;
		u->no_qi = opt_no_qi;
		u->no_ir = opt_no_ir;
		u->no_x2apic = vtd_dmar.flags & DMAR_FLAG_X2APIC_OPT_OUT;
		if (vtd_unit_setup(u) < 0) {
			printk("vt-d: unit %u at %#llx: left off: %s\n", i, (unsigned long long)u->base,
			       u->why);
			u->regs = NULL;
			continue;
		}
		char desc[200];
		vtd_describe(u->cap, u->ecap, desc, sizeof(desc));
		printk("vt-d: unit %u at %#llx (version %u.%u, cap %#llx, ecap %#llx)%s: %s\n", i,
		       (unsigned long long)u->base, (u->ver >> 4) & 0xf, u->ver & 0xf,
		       (unsigned long long)u->cap, (unsigned long long)u->ecap,
		       vtd_dmar.drhd[i].include_all ? ", all other devices" : "", desc);
		up++;
	}
	if (!up) {
		strlcpy_hv(host_why, "no remapping unit could be set up (see the vt-d lines)",
			   sizeof(host_why));
		return;
	}
	if (!build_hv_domain()) {
		strlcpy_hv(host_why, "no memory for the hypervisor domain's tables",
			   sizeof(host_why));
		printk("vt-d: %s; remapping left off\n", host_why);
		return;
	}
	hv_dom_ok = true;

	/*
	 * Devices with reserved regions (USB legacy buffers, graphics stolen
	 * memory) keep reaching them without a gap: their context entries
	 * (hypervisor domain, identity) are in place before translation starts.
	 */
	booting = true;
	uint64_t flags = spin_lock_irqsave(&iommu_lock);
	for (size_t i = 0; i < pci_device_count; i++) {
		struct pci_dev *d = &pci_devices[i];
		if (!has_rmrr(d))
			continue;
		if (attach_locked(&hv_dom, d, "hv", err, sizeof(err)) == 0)
			rmrr_devices++;
		else
			printk("vt-d: %s\n", err);
	}
	spin_unlock_irqrestore(&iommu_lock, flags);
	booting = false;

	for (unsigned i = 0; i < vtd_nunits; i++) {
		struct vtd_unit *u = &vtd_units[i];
		if (!u->regs)
			continue;
		if (vtd_unit_enable(u) < 0) {
			printk("vt-d: unit %u: left off: %s\n", i, u->why);
			continue;
		}
		remapping_on = true;
	}
	if (!remapping_on) {
		strlcpy_hv(host_why, "no remapping unit could be turned on (see the vt-d lines)",
			   sizeof(host_why));
		return;
	}

	for (unsigned i = 0; i < vtd_nunits; i++) {
		struct vtd_unit *u = &vtd_units[i];
		if (!u->te)
			continue;
		printk("vt-d: unit %u: DMA remapping on; %s\n", i,
		       u->ir	  ? (u->x2apic ? "interrupt remapping on (x2APIC format)"
					       : "interrupt remapping on (xAPIC format)")
		       : u->irt ? "interrupt remapping off"
		       : !(u->ecap & VTD_ECAP_IR) ? "no interrupt remapping (the unit has none)"
		       : u->no_ir ? "interrupt remapping off (iommu=no-intremap)"
		       : !u->qi   ? "no interrupt remapping (it needs queued invalidation)"
				  : "interrupt remapping off");
		if (!u->qi)
			printk("vt-d: unit %u: invalidation through the registers%s\n", i,
			       u->no_qi ? " (iommu=no-qinval)" : " (the unit has no queue)");
	}
	printk("vt-d: hypervisor domain: identity over %llu MiB of RAM%s; other devices blocked\n",
	       (unsigned long long)(hv_mapped_bytes >> 20),
	       rmrr_devices ? " and the RMRR regions" : "");
	host_why[0] = 0;
}

/* ---- the contract ---- */

bool iommu_covers(const struct pci_dev *d, char *why, size_t whylen)
{
	if (!remapping_on) {
		if (why && whylen)
			strlcpy_hv(why, host_why, whylen);
		return false;
	}
	if (!d)
		return true;
	struct vtd_unit *u = vtd_unit_of(d);
	if (u && u->te)
		return true;
	if (why && whylen) {
		char name[16];
		pci_dev_name(d, name, sizeof(name));
		if (!u)
			format(why, whylen, "no remapping unit in the DMAR table covers %s", name);
		else
			format(why, whylen, "the remapping unit of %s is off: %s", name, u->why);
	}
	return false;
}

int iommu_attach_hv(struct pci_dev *d, char *err, size_t errlen)
{
	if (!remapping_on || !hv_dom_ok)
		return 0;
	struct vtd_unit *u = vtd_unit_of(d);
	if (!u || !u->te)
		return 0; /* not covered: its DMA is unchecked, as without VT-d */
	uint64_t flags = spin_lock_irqsave(&iommu_lock);
	int r = attach_locked(&hv_dom, d, "hv", err, errlen);
	spin_unlock_irqrestore(&iommu_lock, flags);
	return r;
}

struct iommu_domain *iommu_domain_create(const struct gpa_map *map, const char *name, char *err,
					 size_t errlen)
{
	if (!remapping_on) {
		strlcpy_hv(err, host_why, errlen);
		return NULL;
	}
	struct iommu_domain *dom = kzalloc(sizeof(*dom));
	if (!dom) {
		format(err, errlen, "no memory for a DMA domain");
		return NULL;
	}
	strlcpy_hv(dom->name, name ? name : "?", sizeof(dom->name));
	uint64_t flags = spin_lock_irqsave(&iommu_lock);
	int did = did_alloc();
	spin_unlock_irqrestore(&iommu_lock, flags);
	if (did < 0) {
		format(err, errlen, "no free DMA domain ID (the unit supports %u)", max_domains());
		kfree(dom);
		return NULL;
	}
	dom->did = (uint16_t)did;
	bool need3;
	enum page_level largest = common_largest(&need3);
	if (domain_tables_init(dom) < 0 || vtd_slpt_build(map, &dom->pt, largest) < 0 ||
	    domain_tables_finish(dom) < 0) {
		format(err, errlen, "no memory for the DMA domain's page tables");
		domain_tables_free(dom);
		flags = spin_lock_irqsave(&iommu_lock);
		did_free(dom->did);
		spin_unlock_irqrestore(&iommu_lock, flags);
		kfree(dom);
		return NULL;
	}
	return dom;
}

void iommu_domain_destroy(struct iommu_domain *dom)
{
	if (!dom || dom == &hv_dom)
		return;
	uint64_t flags = spin_lock_irqsave(&iommu_lock);
	for (size_t i = 0; i < pci_device_count; i++)
		if (devs[i].dom == dom)
			block_locked(&pci_devices[i]);
	/* nothing may keep translations through the tables about to be freed */
	for (unsigned i = 0; i < vtd_nunits; i++) {
		struct vtd_unit *u = &vtd_units[i];
		if (!u->te)
			continue;
		uint64_t uf = spin_lock_irqsave(&u->lock);
		vtd_inv_iotlb_domain(u, dom->did);
		spin_unlock_irqrestore(&u->lock, uf);
	}
	did_free(dom->did);
	spin_unlock_irqrestore(&iommu_lock, flags);
	domain_tables_free(dom);
	kfree(dom);
}

int iommu_domain_unmap(struct iommu_domain *dom, uint64_t gpa, uint64_t size)
{
	if (!dom || dom == &hv_dom || ((gpa | size) & 0xfff))
		return -1;
	uint64_t flags = spin_lock_irqsave(&iommu_lock);
	int r = vtd_slpt_unmap(&dom->pt, gpa, size);
	for (unsigned i = 0; i < vtd_nunits; i++)
		if (vtd_units[i].regs && !vtd_units[i].coherent) {
			vtd_slpt_for_each_table(&dom->pt, flush_table, &vtd_units[i]);
			break;
		}
	/* even after a failed split part of the range may be gone: invalidate all of it */
	for (unsigned i = 0; i < vtd_nunits; i++) {
		struct vtd_unit *u = &vtd_units[i];
		if (!u->te)
			continue;
		uint64_t uf = spin_lock_irqsave(&u->lock);
		vtd_inv_iotlb_range(u, dom->did, gpa, size);
		spin_unlock_irqrestore(&u->lock, uf);
	}
	spin_unlock_irqrestore(&iommu_lock, flags);
	return r;
}

int iommu_attach(struct iommu_domain *dom, struct pci_dev *d, char *err, size_t errlen)
{
	if (!remapping_on) {
		strlcpy_hv(err, host_why, errlen);
		return -1;
	}
	if (!dom || !d) {
		format(err, errlen, "no domain or no device");
		return -1;
	}
	uint64_t flags = spin_lock_irqsave(&iommu_lock);
	int r = attach_locked(dom, d, dom->name, err, errlen);
	spin_unlock_irqrestore(&iommu_lock, flags);
	return r;
}

void iommu_block(struct pci_dev *d)
{
	if (!remapping_on)
		return;
	uint64_t flags = spin_lock_irqsave(&iommu_lock);
	block_locked(d);
	spin_unlock_irqrestore(&iommu_lock, flags);
}

const char *iommu_owner(const struct pci_dev *d)
{
	int i = dev_index(d);
	return i < 0 ? NULL : devs[i].owner;
}

/* ---- report ---- */

void iommu_report(void (*line)(void *ctx, const char *s), void *ctx)
{
	char buf[256];
	if (!remapping_on) {
		format(buf, sizeof(buf), "iommu: off: %s", host_why);
		line(ctx, buf);
		return;
	}
	unsigned on = 0, ir = 0;
	for (unsigned i = 0; i < vtd_nunits; i++) {
		on += vtd_units[i].te;
		ir += vtd_units[i].ir;
	}
	unsigned hv = 0, vm = 0;
	for (size_t i = 0; i < pci_device_count; i++) {
		if (devs[i].dom == &hv_dom)
			hv++;
		else if (devs[i].dom)
			vm++;
	}
	format(buf, sizeof(buf),
	       "iommu: VT-d, DMA remapping on (%u of %u unit%s), interrupt remapping %s; %u "
	       "device%s in the hypervisor domain, %u in VMs, the rest blocked",
	       on, vtd_nunits, vtd_nunits == 1 ? "" : "s", ir ? (ir == on ? "on" : "partly on") : "off",
	       hv, hv == 1 ? "" : "s", vm);
	line(ctx, buf);
	for (unsigned i = 0; i < vtd_nunits; i++) {
		const struct vtd_unit *u = &vtd_units[i];
		char desc[200];
		if (!u->te) {
			format(buf, sizeof(buf), "iommu unit %u: at %#llx, off: %s", i,
			       (unsigned long long)u->base, u->why[0] ? u->why : "not set up");
		} else {
			vtd_describe(u->cap, u->ecap, desc, sizeof(desc));
			format(buf, sizeof(buf), "iommu unit %u: at %#llx, %s%s; %llu fault%s", i,
			       (unsigned long long)u->base, desc,
			       u->ir ? (u->x2apic ? "; IRTEs x2APIC" : "; IRTEs xAPIC") : "",
			       (unsigned long long)u->faults, u->faults == 1 ? "" : "s");
		}
		line(ctx, buf);
	}
}

void iommu_report_devices(void (*line)(void *ctx, const char *s), void *ctx)
{
	if (!remapping_on)
		return;
	for (size_t i = 0; i < pci_device_count; i++) {
		const struct pci_dev *d = &pci_devices[i];
		struct vtd_unit *u = vtd_unit_of(d);
		char name[16], buf[160];
		size_t n = 0;
		pci_dev_name(d, name, sizeof(name));
		format_append(buf, sizeof(buf), &n, "%s: ", name);
		if (!u || !u->te) {
			format_append(buf, sizeof(buf), &n, "not behind an active unit (DMA unchecked)");
			line(ctx, buf);
			continue;
		}
		const struct devstate *s = &devs[i];
		if (!s->dom)
			format_append(buf, sizeof(buf), &n, "unit %d, blocked", u->index);
		else if (s->dom == &hv_dom)
			format_append(buf, sizeof(buf), &n, "unit %d, hypervisor domain", u->index);
		else
			format_append(buf, sizeof(buf), &n, "unit %d, domain %u of VM %s", u->index,
				      s->dom->did, s->dom->name);
		uint16_t alias = vtd_dma_alias(d);
		if (alias != sid_of(d))
			format_append(buf, sizeof(buf), &n, ", DMA as %02x:%02x.%u", alias >> 8,
				      (alias >> 3) & 31, alias & 7);
		if (has_rmrr(d))
			format_append(buf, sizeof(buf), &n, ", RMRR");
		unsigned nirte = vtd_irtes_of(u, d);
		if (nirte)
			format_append(buf, sizeof(buf), &n, ", %u remapped interrupt%s", nirte,
				      nirte == 1 ? "" : "s");
		line(ctx, buf);
	}
}
