/*
 * A passed-through function's virtual configuration space (see passthru.h).
 */
#include "guest/pci/passthru.h"

#include "guest/pci/vpci_internal.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"

#define CAP_PM 0x01
#define CAP_PCIE 0x10
#define PM_CSR 4
#define PM_CSR_NO_SOFT_RESET (1u << 3)
#define MSI_CTRL_ENABLE (1u << 0)
#define MSI_CTRL_MME (7u << 4)
#define MSI_CTRL_64BIT (1u << 7)
#define MSI_CTRL_PVM (1u << 8)
#define MSIX_ENTRY_SIZE 16
#define CAP_WALK_MAX 48

static int bars_build(struct vpci_func *f, const struct pci_dev *d, char *name, char *err,
		      size_t errlen)
{
	for (unsigned i = 0; i < PCI_MAX_BARS; i++) {
		const struct pci_bar *b = &d->bar[i];
		if (!b->size)
			continue;
		enum vpci_bar_type t = b->io ? VPCI_BAR_IO : b->is64 ? VPCI_BAR_MEM64 : VPCI_BAR_MEM32;
		if (!b->base) {
			format(err, errlen, "%s: BAR%u is not assigned by the firmware", name, i);
			return -1;
		}
		if (vpci_func_add_bar(f, i, t, b->size, b->prefetch) < 0) {
			format(err, errlen, "%s: BAR%u (%s, 0x%llx bytes) cannot be given to a VM",
			       name, i, b->io ? "I/O" : "memory", (unsigned long long)b->size);
			return -1;
		}
		if (t == VPCI_BAR_MEM64)
			i++;
	}
	return 0;
}

/* Copies the host capability at `at` (len bytes) read-only; 0 when it does not fit. */
static uint8_t copy_cap(struct vpci_func *f, const struct pci_dev *d, uint8_t at, uint8_t id,
			uint8_t len)
{
	uint8_t body[64];
	for (unsigned i = 2; i < len; i++)
		body[i - 2] = pci_read8(d, (uint16_t)(at + i));
	return vpci_func_add_cap(f, id, body, len);
}

static int caps_build(struct vpci_func *f, const struct pci_dev *d, char *name, char *err,
		      size_t errlen)
{
	if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	uint8_t at = pci_read8(d, PCI_CAP_PTR) & ~3u;
	for (unsigned n = 0; at >= 0x40 && n < CAP_WALK_MAX; n++) {
		uint8_t id = pci_read8(d, at);
		uint8_t got = 1;
		switch (id) {
		case CAP_PM: {
			got = copy_cap(f, d, at, CAP_PM, 8);
			/* the guest sees D0 and cannot change it (PMCSR read-only) */
			if (got)
				f->cfg[got + PM_CSR] &= PM_CSR_NO_SOFT_RESET;
			break;
		}
		case CAP_PCIE: {
			/* version 2 has the "2" registers up to 0x3c; version 1 ends at 0x24 */
			uint8_t len = (pci_read16(d, (uint16_t)(at + 2)) & 0xf) >= 2 ? 0x3c : 0x24;
			got = copy_cap(f, d, at, CAP_PCIE, len);
			break;
		}
		case PCI_CAP_ID_MSI: {
			uint16_t ctl = pci_read16(d, (uint16_t)(at + 2));
			got = vpci_func_add_msi(f, 1, ctl & MSI_CTRL_64BIT, ctl & MSI_CTRL_PVM) == 0;
			break;
		}
		case PCI_CAP_ID_MSIX: {
			uint16_t ctl = pci_read16(d, (uint16_t)(at + 2));
			uint32_t table = pci_read32(d, (uint16_t)(at + 4));
			uint32_t pba = pci_read32(d, (uint16_t)(at + 8));
			unsigned nvec = (ctl & 0x7ffu) + 1;
			if ((table & 7) != (pba & 7)) {
				format(err, errlen, "%s: its MSI-X table and PBA are in different "
				       "BARs, which is not supported", name);
				return -1;
			}
			if (nvec > VPCI_MSIX_MAX)
				nvec = VPCI_MSIX_MAX; /* the guest is told fewer: it uses fewer */
			got = vpci_func_add_msix(f, nvec, table & 7, table & ~7u, pba & ~7u) == 0;
			break;
		}
		default:
			break; /* not safe or not needed: hidden */
		}
		if (!got) {
			format(err, errlen, "%s: its capability 0x%02x (at 0x%02x) does not fit the "
			       "virtual config space", name, id, at);
			return -1;
		}
		at = pci_read8(d, (uint16_t)(at + 1)) & ~3u;
	}
	return 0;
}

int vpt_func_build(struct vpci_func *f, const char *name, const struct pci_dev *d, bool intx,
		   const struct vpci_func_ops *ops, void *opaque, char *err, size_t errlen)
{
	char dn[16];
	pci_dev_name(d, dn, sizeof(dn));
	if ((d->header_type & 0x7f) != 0) {
		format(err, errlen, "%s is a bridge: only endpoints can be passed through", dn);
		return -1;
	}
	if (!d->cap_msi && !d->cap_msix && !intx) {
		format(err, errlen, "%s has neither MSI nor MSI-X, and no INTx the host can route",
		       dn);
		return -1;
	}
	uint32_t class_code = (uint32_t)d->class_base << 16 | (uint32_t)d->class_sub << 8 |
			      d->prog_if;
	vpci_func_init(f, name, d->vendor, d->device, class_code, d->revision,
		       pci_read16(d, 0x2c), pci_read16(d, 0x2e), ops, opaque);
	if (bars_build(f, d, dn, err, errlen) < 0 || caps_build(f, d, dn, err, errlen) < 0)
		return -1;
	if (intx)
		vpci_func_set_intx_pin(f, 1); /* INTA of its own virtual slot, whatever the host pin */
	vpci_func_snapshot(f);
	return 0;
}

void vpt_host_msi_program(const struct pci_dev *h, uint64_t addr, uint32_t data)
{
	uint16_t cap = h->cap_msi, ctl = pci_read16(h, cap + 2);
	pci_write16(h, cap + 2, ctl & ~(MSI_CTRL_ENABLE | MSI_CTRL_MME));
	pci_write32(h, cap + 4, (uint32_t)addr);
	uint16_t data_reg = cap + 8;
	if (ctl & MSI_CTRL_64BIT) {
		pci_write32(h, cap + 8, (uint32_t)(addr >> 32));
		data_reg = cap + 0xc;
	}
	pci_write16(h, data_reg, (uint16_t)data);
	if (ctl & MSI_CTRL_PVM)
		pci_write32(h, data_reg + 4, 0); /* the guest's masks are the model's */
	pci_write16(h, cap + 2, (ctl & ~MSI_CTRL_MME) | MSI_CTRL_ENABLE);
}

void vpt_host_msi_off(const struct pci_dev *h)
{
	uint16_t ctl = pci_read16(h, h->cap_msi + 2);
	pci_write16(h, h->cap_msi + 2, ctl & ~(MSI_CTRL_ENABLE | MSI_CTRL_MME));
}

/* The host's table [t0, t1) and PBA [p0, p1) in the MSI-X BAR. */
static void host_msix_ranges(const struct vpci_func *f, unsigned host_nvec, uint64_t *t0,
			     uint64_t *t1, uint64_t *p0, uint64_t *p1)
{
	unsigned n = host_nvec > f->msix.nvec ? host_nvec : f->msix.nvec;
	*t0 = f->msix.table_off, *t1 = *t0 + (uint64_t)n * MSIX_ENTRY_SIZE;
	*p0 = f->msix.pba_off, *p1 = *p0 + (n + 63u) / 64 * 8;
}

bool vpt_msix_host_range(const struct vpci_func *f, unsigned bar, unsigned host_nvec,
			 uint64_t offset, unsigned size)
{
	uint64_t t0, t1, p0, p1;
	if (!f->msix.cap || f->msix.bar != bar)
		return false;
	host_msix_ranges(f, host_nvec, &t0, &t1, &p0, &p1);
	uint64_t end = offset + size;
	return (offset < t1 && end > t0) || (offset < p1 && end > p0);
}

void vpt_trap_window(const struct vpci_func *f, unsigned bar, unsigned host_nvec, uint64_t *lo,
		     uint64_t *hi)
{
	const struct vpci_bar *b = &f->bars[bar];
	*lo = *hi = 0;
	if (b->type != VPCI_BAR_MEM32 && b->type != VPCI_BAR_MEM64)
		return;
	if (b->size < VPT_PAGE) {
		*hi = b->size; /* smaller than a page: all of it traps */
		return;
	}
	if (!f->msix.cap || f->msix.bar != bar)
		return;
	uint64_t t0, t1, p0, p1;
	host_msix_ranges(f, host_nvec, &t0, &t1, &p0, &p1);
	uint64_t a = t0 < p0 ? t0 : p0, z = t1 > p1 ? t1 : p1;
	*lo = a & ~(VPT_PAGE - 1);
	*hi = (z + VPT_PAGE - 1) & ~(VPT_PAGE - 1);
	if (*hi > b->size)
		*hi = b->size;
}

unsigned vpt_direct_ranges(const struct vpci_func *f, unsigned bar, unsigned host_nvec,
			   uint64_t off[2], uint64_t len[2])
{
	const struct vpci_bar *b = &f->bars[bar];
	uint64_t lo, hi;
	unsigned n = 0;
	if (b->type != VPCI_BAR_MEM32 && b->type != VPCI_BAR_MEM64)
		return 0;
	vpt_trap_window(f, bar, host_nvec, &lo, &hi);
	if (lo == hi) {
		off[0] = 0, len[0] = b->size;
		return 1;
	}
	if (lo > 0)
		off[n] = 0, len[n++] = lo;
	if (hi < b->size)
		off[n] = hi, len[n++] = b->size - hi;
	return n;
}
