/*
 * Between the parts of the PCI model (vpci.c: a function's configuration
 * space; msix.c: its MSI and MSI-X; vpci_bus.c: the bus). Device models use
 * vpci.h only.
 */
#ifndef HV_GUEST_PCI_VPCI_INTERNAL_H
#define HV_GUEST_PCI_VPCI_INTERNAL_H

#include "guest/pci/vpci.h"

static inline uint16_t cfg_rd16(const struct vpci_func *f, unsigned reg)
{
	return (uint16_t)(f->cfg[reg] | f->cfg[reg + 1] << 8);
}

static inline uint32_t cfg_rd32(const struct vpci_func *f, unsigned reg)
{
	return (uint32_t)f->cfg[reg] | (uint32_t)f->cfg[reg + 1] << 8 |
	       (uint32_t)f->cfg[reg + 2] << 16 | (uint32_t)f->cfg[reg + 3] << 24;
}

static inline void cfg_wr16(struct vpci_func *f, unsigned reg, uint16_t v)
{
	f->cfg[reg] = (uint8_t)v;
	f->cfg[reg + 1] = (uint8_t)(v >> 8);
}

static inline void cfg_wr32(struct vpci_func *f, unsigned reg, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		f->cfg[reg + i] = (uint8_t)(v >> (8 * i));
}

/* vpci.c */
/* Recomputes the INTx output (level, INTX_DISABLE, MSI and MSI-X enables) and drives the bus. */
void vpci_func_update_intx(struct vpci_func *f);
/* The guest changed COMMAND, a BAR or an interrupt enable: config_changed, now or deferred. */
void vpci_func_changed(struct vpci_func *f);
/* The firmware puts BAR idx at addr (no config_changed: the device is being built). */
void vpci_func_place_bar(struct vpci_func *f, unsigned idx, uint64_t addr);
/* The power-on image vpci_func_reset goes back to is the configuration space now. */
void vpci_func_snapshot(struct vpci_func *f);

/* msix.c: a config dword at reg was written (old: its value before); each looks at its own. */
void vpci_msix_config_written(struct vpci_func *f, unsigned reg, uint32_t old);
void vpci_msi_config_written(struct vpci_func *f, unsigned reg, uint32_t old);
/* The MSI-X Enable bit (function mask aside) and MSI Enable: each stops INTx (PCI 3.0 §6.8). */
bool vpci_msix_enable_bit(const struct vpci_func *f);
/* Table back to reset (every vector masked, nothing pending). */
void vpci_msix_reset(struct vpci_func *f);
/* An (address, data) message out through the bus. */
void vpci_send_msi(struct vpci_func *f, uint64_t address, uint32_t data);

/* vpci_bus.c: one INTx line more or less on that GSI (16-19); the GSI follows the count. */
void vpci_bus_drive_intx(struct vpci_bus *b, unsigned gsi, bool level);

#endif
