/*
 * The MSI message for a fixed, edge-triggered interrupt in physical
 * destination mode (SDM Vol. 3A §11.11.1, §11.11.2):
 *   address 0xFEExxxxx: bits 19:12 destination APIC ID, bit 3 redirection
 *   hint 0, bit 2 destination mode 0 (physical);
 *   data: bits 7:0 vector, 10:8 delivery mode 000 (fixed), bit 14 level
 *   (don't care for edge), bit 15 trigger mode 0 (edge).
 * APIC IDs above 255 fit only with interrupt remapping, or with the
 * extended destination ID that QEMU and KVM accept (Linux's
 * KVM_FEATURE_MSI_EXT_DEST_ID): ID bits 14:8 in address bits 11:5.
 */
#include "kernel/pci/pci.h"

#define MSI_ADDR_BASE 0xfee00000u
#define MSI_ADDR_DEST_SHIFT 12
#define MSI_ADDR_EXT_DEST_SHIFT 5
#define MSI_EXT_DEST_MAX 0x7fffu /* 8 + 7 bits */

bool pci_msi_message(uint32_t apic_id, uint8_t vector, uint64_t *addr, uint32_t *data)
{
	/* vectors 0-15 are reserved: a fixed interrupt there is an illegal-vector error */
	if (vector < 16 || apic_id > MSI_EXT_DEST_MAX)
		return false;
	uint32_t a = MSI_ADDR_BASE | ((apic_id & 0xff) << MSI_ADDR_DEST_SHIFT);
	a |= ((apic_id >> 8) & 0x7f) << MSI_ADDR_EXT_DEST_SHIFT;
	*addr = a;
	*data = vector;
	return true;
}
