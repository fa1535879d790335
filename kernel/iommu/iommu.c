/*
 * The IOMMU as the rest of the hypervisor sees it (iommu.h). First stage:
 * every entry point exists; DMA remapping is reported as not available yet.
 */
#include "kernel/iommu/iommu.h"

#include "kernel/acpi/acpi.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/pci/pci.h"

static const char *reason = "VT-d support is being built: no DMA remapping yet";

void iommu_init(const struct acpi_info *acpi)
{
	(void)acpi;
}

bool iommu_covers(const struct pci_dev *d, char *why, size_t whylen)
{
	(void)d;
	if (why && whylen)
		strlcpy_hv(why, reason, whylen);
	return false;
}

bool iommu_intremap(const struct pci_dev *d)
{
	(void)d;
	return false;
}

int iommu_attach_hv(struct pci_dev *d, char *err, size_t errlen)
{
	(void)d;
	(void)err;
	(void)errlen;
	return 0;
}

struct iommu_domain *iommu_domain_create(const struct gpa_map *map, const char *name, char *err,
					 size_t errlen)
{
	(void)map;
	(void)name;
	if (err && errlen)
		strlcpy_hv(err, reason, errlen);
	return NULL;
}

void iommu_domain_destroy(struct iommu_domain *dom)
{
	(void)dom;
}

int iommu_attach(struct iommu_domain *dom, struct pci_dev *d, char *err, size_t errlen)
{
	(void)dom;
	(void)d;
	if (err && errlen)
		strlcpy_hv(err, reason, errlen);
	return -1;
}

void iommu_block(struct pci_dev *d)
{
	(void)d;
}

int iommu_msi_remap(struct pci_dev *d, unsigned slot, uint8_t vector, uint32_t apic_id,
		    uint64_t *addr, uint32_t *data)
{
	(void)d;
	(void)slot;
	(void)vector;
	(void)apic_id;
	(void)addr;
	(void)data;
	return -1;
}

void iommu_msi_release(struct pci_dev *d)
{
	(void)d;
}

const char *iommu_owner(const struct pci_dev *d)
{
	(void)d;
	return NULL;
}

void iommu_report(void (*line)(void *ctx, const char *s), void *ctx)
{
	line(ctx, reason);
}
