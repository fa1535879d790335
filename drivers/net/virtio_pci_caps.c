/* See virtio_pci_caps.h: a modern virtio device's register blocks. */
#include "drivers/net/virtio_pci_caps.h"

#define CAP_WALK_MAX 48 /* the list cannot hold more in 192 bytes: ends loops */

/* The BAR holds offset..offset+length (and the BAR is a memory BAR that was assigned). */
static bool region_fits(const struct pci_dev *d, const struct virtio_pci_region *r)
{
	if (r->bar >= PCI_MAX_BARS)
		return false;
	const struct pci_bar *b = &d->bar[r->bar];
	if (b->io || !b->base || !b->size || r->length == 0)
		return false;
	return (uint64_t)r->offset + r->length <= b->size;
}

bool virtio_pci_find_caps(const struct pci_dev *d, struct virtio_pci_caps *caps, const char **why)
{
	*caps = (struct virtio_pci_caps){0};
	*why = NULL;
	if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST)) {
		*why = "no capability list";
		return false;
	}
	uint8_t off = pci_read8(d, PCI_CAP_PTR) & 0xfc;
	for (unsigned n = 0; off >= 0x40 && n < CAP_WALK_MAX; n++) {
		uint8_t id = pci_read8(d, off), next = pci_read8(d, (uint16_t)(off + 1)) & 0xfc;
		uint8_t len = pci_read8(d, (uint16_t)(off + 2));
		if (id == PCI_CAP_ID_VNDR && len >= 16 && off + 16u <= 0x100) {
			uint8_t type = pci_read8(d, (uint16_t)(off + 3));
			struct virtio_pci_region r = {
			    .present = true,
			    .bar = pci_read8(d, (uint16_t)(off + 4)),
			    .offset = pci_read32(d, (uint16_t)(off + 8)),
			    .length = pci_read32(d, (uint16_t)(off + 12)),
			};
			struct virtio_pci_region *slot = NULL;
			switch (type) {
			case VIRTIO_PCI_CAP_COMMON: slot = &caps->common; break;
			case VIRTIO_PCI_CAP_NOTIFY:
				if (len >= 20 && off + 20u <= 0x100)
					slot = &caps->notify;
				break;
			case VIRTIO_PCI_CAP_ISR: slot = &caps->isr; break;
			case VIRTIO_PCI_CAP_DEVICE: slot = &caps->device; break;
			default: break; /* PCI config access, shared memory, vendor data */
			}
			if (slot && !slot->present && region_fits(d, &r)) {
				*slot = r;
				if (type == VIRTIO_PCI_CAP_NOTIFY)
					caps->notify_off_multiplier =
					    pci_read32(d, (uint16_t)(off + 16));
			}
		}
		off = next;
	}
	if (!caps->common.present)
		*why = "no virtio 1.x common configuration capability";
	else if (caps->common.length < VIRTIO_COMMON_LEN)
		*why = "virtio common configuration block too short";
	else if (!caps->notify.present)
		*why = "no virtio 1.x notification capability";
	else if (!caps->device.present)
		*why = "no virtio 1.x device configuration capability";
	return *why == NULL;
}
