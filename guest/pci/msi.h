/*
 * MSI messages as the local APICs read them (SDM Vol. 3A §11.11): the
 * address 0xFEEx_xxxx names the destination, the data the vector and how
 * it is delivered. Both MSI and MSI-X write such a pair. Pure logic.
 *
 *   address 31:20 0xfee, 19:12 destination ID, 3 redirection hint,
 *           2 destination mode (1 logical); 63:32 must be 0 (no x2APIC
 *           extended destination: nothing offers it to the guest)
 *   data    7:0 vector, 10:8 delivery mode, 14 level (assert), 15 trigger
 *           mode (1 level)
 */
#ifndef HV_GUEST_PCI_MSI_H
#define HV_GUEST_PCI_MSI_H

#include <stdbool.h>
#include <stdint.h>

struct msi_message {
	uint32_t dest;
	bool logical;
	bool redirection_hint; /* with it, the message goes to the lowest-priority APIC */
	uint8_t vector;
	uint8_t delivery_mode; /* VLAPIC_DM_*: fixed 0, lowest 1, SMI 2, NMI 4, INIT 5, ExtINT 7 */
	bool level_triggered;
	bool assert;
};

/*
 * Decodes (address, data). Returns false for a message the APICs would not
 * take: an address outside 0xfee00000-0xfeefffff, or a reserved delivery
 * mode (3, 6); the caller drops it and counts it.
 */
bool msi_decode(uint64_t address, uint32_t data, struct msi_message *m);

#endif
