/*
 * Resetting one function for device assignment (see pci_reset.h). The
 * waits are the specifications': 100 ms after an FLR or a bus reset before
 * the function must answer (PCIe 4.0 §6.6.2), 10 ms for D3hot<->D0
 * (PCI PM 1.2 §5.6.1), a secondary reset held at least 1 ms (PCI-PCI Bridge
 * 1.2 §3.2.5.17; Linux holds it 2 ms).
 */
#include "kernel/pci/pci_reset.h"

#include "kernel/lib/format.h"
#include "kernel/lib/string.h"

#define PCIE_DEVCAP 0x04
#define PCIE_DEVCAP_FLR (1u << 28)
#define PCIE_DEVCTL 0x08
#define PCIE_DEVCTL_FLR (1u << 15)
#define PCIE_DEVSTA 0x0a
#define PCIE_DEVSTA_TP (1u << 5)
#define AF_CAP 0x03
#define AF_CAP_TP (1u << 0)
#define AF_CAP_FLR (1u << 1)
#define AF_CTRL 0x04
#define AF_CTRL_FLR (1u << 0)
#define AF_STATUS 0x05
#define AF_STATUS_TP (1u << 0)
#define PM_CSR 0x04
#define PM_CSR_STATE 0x3u
#define PM_CSR_NO_SOFT_RESET (1u << 3)
#define BRIDGE_CONTROL 0x3e
#define BRIDGE_CTL_BUS_RESET (1u << 6)

enum pci_reset_method pci_reset_select(const struct pci_reset_facts *f)
{
	if (f->flr)
		return PCI_RESET_FLR;
	if (f->af_flr)
		return PCI_RESET_AF_FLR;
	if (f->pm && !f->pm_no_soft_reset)
		return PCI_RESET_PM;
	if (f->has_bridge && f->on_bus == 1)
		return PCI_RESET_BUS;
	return PCI_RESET_NONE;
}

const char *pci_reset_method_name(enum pci_reset_method m)
{
	switch (m) {
	case PCI_RESET_FLR:
		return "FLR";
	case PCI_RESET_AF_FLR:
		return "AF FLR";
	case PCI_RESET_PM:
		return "PM D3hot->D0";
	case PCI_RESET_BUS:
		return "secondary bus reset";
	default:
		return "none";
	}
}

void pci_reset_why_none(const struct pci_reset_facts *f, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = 0;
	format_append(buf, len, &n, "no reset method: no FLR, no AF FLR, ");
	if (!f->pm)
		format_append(buf, len, &n, "no PM capability, ");
	else
		format_append(buf, len, &n, "no PM reset (No_Soft_Reset set), ");
	if (!f->has_bridge)
		format_append(buf, len, &n, "on a root bus (no bridge to reset)");
	else
		format_append(buf, len, &n, "shares its bus with %u other device%s", f->on_bus - 1,
			      f->on_bus == 2 ? "" : "s");
}

void pci_reset_probe(const struct pci_dev *d, const struct pci_dev *devs, size_t n,
		     struct pci_reset_facts *out, const struct pci_dev **bridge)
{
	memset(out, 0, sizeof(*out));
	*bridge = NULL;
	if (d->cap_pcie)
		out->flr = pci_read32(d, d->cap_pcie + PCIE_DEVCAP) & PCIE_DEVCAP_FLR;
	uint8_t af = pci_find_cap(d, PCI_CAP_ID_AF);
	if (af) {
		uint8_t cap = pci_read8(d, af + AF_CAP);
		out->af_flr = (cap & (AF_CAP_TP | AF_CAP_FLR)) == (AF_CAP_TP | AF_CAP_FLR);
	}
	if (d->cap_pm) {
		out->pm = true;
		out->pm_no_soft_reset = pci_read16(d, d->cap_pm + PM_CSR) & PM_CSR_NO_SOFT_RESET;
	}
	for (size_t i = 0; i < n; i++) {
		const struct pci_dev *o = &devs[i];
		if ((o->header_type & 0x7f) == 1 && o->secondary_bus == d->bus &&
		    o->segment == d->segment && o->bus != d->bus)
			*bridge = o;
	}
	out->has_bridge = *bridge != NULL;
	/* devices, not functions: a multi-function device's functions are reset together */
	uint32_t seen = 0;
	for (size_t i = 0; i < n; i++)
		if (devs[i].segment == d->segment && devs[i].bus == d->bus)
			seen |= 1u << devs[i].dev;
	for (unsigned b = 0; b < 32; b++)
		out->on_bus += seen >> b & 1;
	/* a multi-function device's other functions would be reset too: count them as others */
	for (size_t i = 0; i < n; i++)
		if (devs[i].segment == d->segment && devs[i].bus == d->bus &&
		    devs[i].dev == d->dev && devs[i].fn != d->fn)
			out->on_bus++;
}

/* The function answers config reads again (vendor ID not all ones), within about ms. */
static bool wait_ready(const struct pci_dev *d, void (*delay_us)(uint64_t), unsigned ms)
{
	for (unsigned t = 0; t <= ms; t += 10) {
		if (pci_read16(d, PCI_VENDOR_ID) != 0xffff)
			return true;
		delay_us(10000);
	}
	return false;
}

static bool wait_clear16(const struct pci_dev *d, uint16_t off, uint16_t bit,
			 void (*delay_us)(uint64_t), unsigned ms)
{
	for (unsigned t = 0; t <= ms; t += 10) {
		if (!(pci_read16(d, off) & bit))
			return true;
		delay_us(10000);
	}
	return false;
}

int pci_reset_do(struct pci_dev *d, const struct pci_dev *bridge, enum pci_reset_method m,
		 void (*delay_us)(uint64_t us), char *err, size_t errlen)
{
	uint32_t bars[PCI_MAX_BARS];
	char name[16];
	pci_dev_name(d, name, sizeof(name));
	for (unsigned i = 0; i < PCI_MAX_BARS; i++)
		bars[i] = pci_read32(d, PCI_BAR0 + 4 * i);
	uint8_t line = pci_read8(d, PCI_INTERRUPT_LINE);
	/* quiet first: no DMA or interrupt while the reset is under way */
	pci_write16(d, PCI_COMMAND, PCI_CMD_INTX_DISABLE);

	switch (m) {
	case PCI_RESET_FLR:
		/* pending transactions are dropped by an FLR: give them 100 ms first (Linux too) */
		wait_clear16(d, d->cap_pcie + PCIE_DEVSTA, PCIE_DEVSTA_TP, delay_us, 100);
		pci_write16(d, d->cap_pcie + PCIE_DEVCTL,
			    pci_read16(d, d->cap_pcie + PCIE_DEVCTL) | PCIE_DEVCTL_FLR);
		delay_us(100000);
		break;
	case PCI_RESET_AF_FLR: {
		uint8_t af = pci_find_cap(d, PCI_CAP_ID_AF);
		wait_clear16(d, af + AF_STATUS - 1, AF_STATUS_TP << 8, delay_us, 100);
		pci_write8(d, af + AF_CTRL, AF_CTRL_FLR);
		delay_us(100000);
		break;
	}
	case PCI_RESET_PM: {
		uint16_t csr = pci_read16(d, d->cap_pm + PM_CSR) & ~PM_CSR_STATE;
		pci_write16(d, d->cap_pm + PM_CSR, csr | 3);
		delay_us(10000);
		pci_write16(d, d->cap_pm + PM_CSR, csr);
		delay_us(10000);
		break;
	}
	case PCI_RESET_BUS: {
		if (!bridge) {
			format(err, errlen, "%s: no bridge above for a secondary bus reset", name);
			return -1;
		}
		uint16_t ctl = pci_read16(bridge, BRIDGE_CONTROL);
		pci_write16(bridge, BRIDGE_CONTROL, ctl | BRIDGE_CTL_BUS_RESET);
		delay_us(2000);
		pci_write16(bridge, BRIDGE_CONTROL, ctl & ~BRIDGE_CTL_BUS_RESET);
		delay_us(100000);
		break;
	}
	default:
		format(err, errlen, "%s: no reset method", name);
		return -1;
	}
	if (!wait_ready(d, delay_us, 1000)) {
		format(err, errlen, "%s did not answer within 1 s of its %s", name,
		       pci_reset_method_name(m));
		return -1;
	}
	/* back where the firmware put it; decoding and mastering stay off until someone asks */
	for (unsigned i = 0; i < PCI_MAX_BARS; i++)
		pci_write32(d, PCI_BAR0 + 4 * i, bars[i]);
	pci_write8(d, PCI_INTERRUPT_LINE, line);
	pci_write16(d, PCI_COMMAND, PCI_CMD_INTX_DISABLE);
	return 0;
}
