/*
 * MSI messages as the local APICs take them (SDM Vol. 3A §11.11.1 message
 * address, §11.11.2 message data).
 */
#include "guest/pci/msi.h"

#define MSI_ADDR_BASE 0xfee00000ull
#define MSI_ADDR_BASE_MASK 0xfff00000ull
#define MSI_ADDR_DEST_SHIFT 12
#define MSI_ADDR_RH (1u << 3)
#define MSI_ADDR_DM_LOGICAL (1u << 2)
#define MSI_DATA_DM_SHIFT 8
#define MSI_DATA_LEVEL_ASSERT (1u << 14)
#define MSI_DATA_TRIGGER_LEVEL (1u << 15)

bool msi_decode(uint64_t address, uint32_t data, struct msi_message *m)
{
	/* 63:32 zero: no extended destination ID is offered to the guest */
	if ((address & ~0xffffffffull) || (address & MSI_ADDR_BASE_MASK) != MSI_ADDR_BASE)
		return false;
	unsigned mode = data >> MSI_DATA_DM_SHIFT & 7;
	if (mode == 3 || mode == 6) /* reserved (§11.11.2); 6 is SIPI on the APIC bus, not here */
		return false;
	m->dest = (uint32_t)(address >> MSI_ADDR_DEST_SHIFT) & 0xff;
	m->logical = address & MSI_ADDR_DM_LOGICAL;
	m->redirection_hint = address & MSI_ADDR_RH;
	m->vector = (uint8_t)data;
	m->delivery_mode = (uint8_t)mode;
	m->level_triggered = data & MSI_DATA_TRIGGER_LEVEL;
	m->assert = data & MSI_DATA_LEVEL_ASSERT;
	return true;
}
