/*
 * Host INTx routing (see pci_intx.h).
 */
#include "kernel/pci/pci_intx.h"

#include "kernel/acpi/acpi.h"
#include "kernel/acpi/acpi_prt.h"
#include "kernel/lib/format.h"
#include "kernel/lib/spinlock.h"
#include "kernel/lib/string.h"
#include "kernel/mm/mm.h"
#include "kernel/pci/pci.h"

#define ACPI_HEADER_LEN 36
#define FADT_DSDT 40
#define FADT_X_DSDT 140
#define MAX_AML 16
#define BRIDGE_DEPTH 16

static const struct acpi_info *tables;
static spinlock_t prt_lock = SPINLOCK_INIT;
static bool prt_read;
static int prt_rc;
static struct acpi_prt prt;
static char prt_why[160];

void pci_intx_init(const struct acpi_info *acpi)
{
	tables = acpi;
}

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* The AML of one table at phys, if it is `sig` with a sane length. */
static bool aml_of(uint64_t phys, const char *sig, struct acpi_aml *out)
{
	if (!phys)
		return false;
	const uint8_t *t = phys_to_virt(phys);
	uint32_t len = (uint32_t)le(t + 4, 4);
	if (memcmp(t, sig, 4) != 0 || len <= ACPI_HEADER_LEN || len > (16u << 20))
		return false;
	*out = (struct acpi_aml){t + ACPI_HEADER_LEN, len - ACPI_HEADER_LEN};
	return true;
}

/* Reads bus 0's _PRT once (prt_lock held). */
static void read_once(void)
{
	if (prt_read)
		return;
	prt_read = true;
	prt_rc = -1;
	struct acpi_aml aml[MAX_AML];
	unsigned n = 0;
	const struct acpi_table_ref *fadt = tables ? acpi_table(tables, "FACP") : NULL;
	if (!fadt || fadt->length < FADT_DSDT + 4) {
		format(prt_why, sizeof(prt_why), "no ACPI FADT, so no DSDT to read _PRT from");
		return;
	}
	const uint8_t *f = phys_to_virt(fadt->address);
	uint64_t dsdt = le(f + FADT_DSDT, 4);
	if (fadt->length >= FADT_X_DSDT + 8 && le(f + FADT_X_DSDT, 8))
		dsdt = le(f + FADT_X_DSDT, 8);
	if (aml_of(dsdt, "DSDT", &aml[n]))
		n++;
	for (size_t i = 0; i < tables->ntables && n < MAX_AML; i++)
		if (memcmp(tables->tables[i].signature, "SSDT", 4) == 0 &&
		    aml_of(tables->tables[i].address, "SSDT", &aml[n]))
			n++;
	if (!n) {
		format(prt_why, sizeof(prt_why), "the FADT names no readable DSDT");
		return;
	}
	prt_rc = acpi_prt_read(aml, n, &prt, prt_why, sizeof(prt_why));
}

static const struct pci_dev *bridge_above(const struct pci_dev *d)
{
	for (size_t i = 0; i < pci_device_count && i < PCI_MAX_DEVICES; i++) {
		const struct pci_dev *o = &pci_devices[i];
		if ((o->header_type & 0x7f) == 1 && o->secondary_bus == d->bus &&
		    o->segment == d->segment && o->bus != d->bus)
			return o;
	}
	return NULL;
}

int pci_intx_route(const struct pci_dev *d, uint32_t *gsi, uint8_t *ioapic_id,
		   uint64_t *ioapic_addr, unsigned *pin, char *why, size_t whylen)
{
	uint8_t ipin = pci_read8(d, PCI_INTERRUPT_PIN);
	if (ipin < 1 || ipin > 4) {
		format(why, whylen, "it has no INTx pin");
		return -1;
	}
	if (d->segment != 0) {
		format(why, whylen, "its INTx routing (segment %u) is not read", d->segment);
		return -1;
	}
	unsigned p = ipin - 1u, dev = d->dev;
	const struct pci_dev *at = d;
	for (unsigned depth = 0; at->bus != 0; depth++) {
		const struct pci_dev *br = bridge_above(at);
		if (!br || depth >= BRIDGE_DEPTH) {
			format(why, whylen, "no bridge path from bus %u to bus 0 for its INTx",
			       at->bus);
			return -1;
		}
		p = pci_swizzle(at->dev, p);
		at = br;
	}
	dev = at->dev;
	spin_lock(&prt_lock);
	read_once();
	int rc = prt_rc;
	bool found = rc == 0 && acpi_prt_lookup(&prt, dev, p, gsi);
	if (rc < 0)
		format(why, whylen, "%s", prt_why);
	else if (!found)
		format(why, whylen, "bus 0's _PRT (%s) has no entry for slot %u INT%c", prt.source,
		       dev, 'A' + p);
	spin_unlock(&prt_lock);
	if (!found)
		return -1;
	for (size_t i = 0; tables && i < tables->nioapics; i++) {
		const struct acpi_ioapic *io = &tables->ioapics[i];
		if (*gsi >= io->gsi_base && *gsi < io->gsi_base + 24) {
			*ioapic_id = (uint8_t)io->id;
			*ioapic_addr = io->address;
			*pin = *gsi - io->gsi_base;
			return 0;
		}
	}
	format(why, whylen, "no IOAPIC in the MADT serves its GSI %u", *gsi);
	return -1;
}
