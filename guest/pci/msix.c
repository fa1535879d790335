/*
 * MSI and MSI-X (PCI Local Bus 3.0 §6.8).
 *
 * MSI-X (§6.8.2): the capability is id, next, Message Control (table size
 * N-1 in 10:0, Function Mask 14, MSI-X Enable 15: only those two writable,
 * as ACRN's vmsix.c and Xen's vpci/msix.c keep it), Table offset/BIR and
 * PBA offset/BIR. The table lives in a memory BAR, 16 bytes per vector:
 * address low (1:0 read 0), address high, data, vector control (bit 0
 * masked; the rest reserved, read 0). Each vector starts masked (§6.8.2.9).
 * A message the function sends while its vector or the whole function is
 * masked sets the vector's Pending bit instead (the PBA, read-only), and
 * goes out, clearing it, once both are unmasked (§6.8.2.10). While MSI-X
 * Enable is clear the function may not use the table at all: a notify is
 * dropped (the device falls back to INTx, as QEMU's msix_notify does).
 *
 * MSI (§6.8.1): Message Control (Enable 0, Multiple Message Capable 3:1,
 * Multiple Message Enable 6:4, 64-bit capable 7, per-vector masking 8),
 * the address (low 1:0 read 0; the high dword if 64-bit), 16 bits of data,
 * and with per-vector masking the Mask and Pending dwords. Vector v of the
 * 2^MME enabled ones sends the data with its low MME bits replaced by v.
 */
#include "guest/pci/vpci.h"

#include "guest/pci/vpci_internal.h"
#include "kernel/lib/string.h"

#define MSIX_CTRL_FUNCTION_MASK (1u << 14)
#define MSIX_CTRL_ENABLE (1u << 15)
#define MSIX_ENTRY_SIZE 16
#define MSIX_VECTOR_MASKED 1u

#define MSI_CTRL_ENABLE (1u << 0)
#define MSI_CTRL_MMC_SHIFT 1
#define MSI_CTRL_MME_SHIFT 4
#define MSI_CTRL_64BIT (1u << 7)
#define MSI_CTRL_PVM (1u << 8)

void vpci_send_msi(struct vpci_func *f, uint64_t address, uint32_t data)
{
	f->msi_sent++;
	if (f->bus && f->bus->cfg.msi)
		f->bus->cfg.msi(f->bus->cfg.ctx, address, data);
}

/* ---- MSI-X ---- */

static uint16_t msix_control(const struct vpci_func *f)
{
	return f->msix.cap ? cfg_rd16(f, f->msix.cap + 2) : 0;
}

bool vpci_msix_enable_bit(const struct vpci_func *f)
{
	return msix_control(f) & MSIX_CTRL_ENABLE;
}

bool vpci_msix_enabled(const struct vpci_func *f)
{
	return (msix_control(f) & (MSIX_CTRL_ENABLE | MSIX_CTRL_FUNCTION_MASK)) == MSIX_CTRL_ENABLE;
}

static uint32_t pba_bytes(const struct vpci_func *f)
{
	return (f->msix.nvec + 63u) / 64 * 8; /* qwords (§6.8.2.6) */
}

int vpci_func_add_msix(struct vpci_func *f, unsigned nvec, unsigned bar, uint32_t table_off,
		       uint32_t pba_off)
{
	if (f->msix.cap || nvec == 0 || nvec > VPCI_MSIX_MAX || bar >= 6 ||
	    (f->bars[bar].type != VPCI_BAR_MEM32 && f->bars[bar].type != VPCI_BAR_MEM64) ||
	    (table_off & 7) || (pba_off & 7))
		return -1;
	uint64_t size = f->bars[bar].size, tend = (uint64_t)table_off + nvec * MSIX_ENTRY_SIZE;
	uint64_t pend = (uint64_t)pba_off + (nvec + 63u) / 64 * 8;
	if (tend > size || pend > size || (table_off < pend && pba_off < tend))
		return -1;

	uint8_t body[10];
	uint32_t table = table_off | bar, pba = pba_off | bar;
	body[0] = (uint8_t)(nvec - 1);
	body[1] = (uint8_t)((nvec - 1) >> 8);
	for (unsigned i = 0; i < 4; i++) {
		body[2 + i] = (uint8_t)(table >> (8 * i));
		body[6 + i] = (uint8_t)(pba >> (8 * i));
	}
	uint8_t cap = vpci_func_add_cap(f, PCI_CAP_ID_MSIX, body, sizeof(body) + 2);
	if (!cap)
		return -1;
	f->wmask[cap + 3] = (MSIX_CTRL_ENABLE | MSIX_CTRL_FUNCTION_MASK) >> 8;
	f->msix.cap = cap;
	f->msix.nvec = (uint16_t)nvec;
	f->msix.bar = (uint8_t)bar;
	f->msix.table_off = table_off;
	f->msix.pba_off = pba_off;
	vpci_msix_reset(f);
	vpci_func_snapshot(f);
	return 0;
}

void vpci_msix_reset(struct vpci_func *f)
{
	memset(f->msix.entries, 0, sizeof(f->msix.entries));
	for (unsigned i = 0; i < VPCI_MSIX_MAX; i++)
		f->msix.entries[i].ctrl = MSIX_VECTOR_MASKED;
	f->msix.pending = 0;
}

static void msix_send(struct vpci_func *f, unsigned vec)
{
	const struct vpci_msix_entry *e = &f->msix.entries[vec];
	vpci_send_msi(f, (uint64_t)e->addr_hi << 32 | e->addr_lo, e->data);
}

/* Sends what is pending and no longer masked (§6.8.2.10). */
static void msix_deliver_pending(struct vpci_func *f)
{
	if (!vpci_msix_enabled(f))
		return;
	for (unsigned v = 0; v < f->msix.nvec; v++) {
		if (!(f->msix.pending >> v & 1) || (f->msix.entries[v].ctrl & MSIX_VECTOR_MASKED))
			continue;
		f->msix.pending &= ~(1ull << v);
		msix_send(f, v);
	}
}

bool vpci_msix_notify(struct vpci_func *f, unsigned vec)
{
	if (!f->msix.cap || vec >= f->msix.nvec || !vpci_msix_enable_bit(f))
		return false;
	if (!vpci_msix_enabled(f) || (f->msix.entries[vec].ctrl & MSIX_VECTOR_MASKED)) {
		f->msix.pending |= 1ull << vec;
		f->msi_masked++;
		return false;
	}
	msix_send(f, vec);
	return true;
}

void vpci_msix_config_written(struct vpci_func *f, unsigned reg, uint32_t old)
{
	if (!f->msix.cap || reg != f->msix.cap)
		return;
	uint16_t was = (uint16_t)(old >> 16), now = msix_control(f);
	if (was == now)
		return;
	msix_deliver_pending(f);
	vpci_func_update_intx(f); /* Enable takes the function off its INTx pin */
	vpci_func_changed(f);
}

static bool in_region(uint64_t off, uint64_t start, uint64_t len)
{
	return off >= start && off - start < len;
}

/* One byte of the table as the guest reads it. */
static uint8_t table_byte(const struct vpci_func *f, uint64_t off)
{
	if (off >= (uint64_t)f->msix.nvec * MSIX_ENTRY_SIZE)
		return 0;
	const struct vpci_msix_entry *e = &f->msix.entries[off / MSIX_ENTRY_SIZE];
	uint32_t fields[4] = {e->addr_lo, e->addr_hi, e->data, e->ctrl};
	return (uint8_t)(fields[off % MSIX_ENTRY_SIZE / 4] >> (8 * (off % 4)));
}

bool vpci_msix_mmio_read(struct vpci_func *f, unsigned bar, uint64_t offset, unsigned size,
			 uint64_t *value)
{
	if (!f->msix.cap || bar != f->msix.bar || size == 0 || size > 8)
		return false;
	uint64_t v = 0;
	if (in_region(offset, f->msix.table_off, (uint64_t)f->msix.nvec * MSIX_ENTRY_SIZE)) {
		for (unsigned i = 0; i < size; i++)
			v |= (uint64_t)table_byte(f, offset - f->msix.table_off + i) << (8 * i);
	} else if (in_region(offset, f->msix.pba_off, pba_bytes(f))) {
		uint64_t o = offset - f->msix.pba_off;
		for (unsigned i = 0; i < size; i++)
			if (o + i < 8)
				v |= (f->msix.pending >> (8 * (o + i)) & 0xff) << (8 * i);
	} else {
		return false;
	}
	*value = v;
	return true;
}

/* An aligned dword of the table. */
static void table_write_dword(struct vpci_func *f, uint64_t off, uint32_t v)
{
	unsigned vec = (unsigned)(off / MSIX_ENTRY_SIZE);
	if (vec >= f->msix.nvec)
		return;
	struct vpci_msix_entry *e = &f->msix.entries[vec];
	switch (off % MSIX_ENTRY_SIZE / 4) {
	case 0:
		e->addr_lo = v & ~3u; /* dword-aligned (§6.8.2.4) */
		break;
	case 1:
		e->addr_hi = v;
		break;
	case 2:
		e->data = v;
		break;
	default:
		e->ctrl = v & MSIX_VECTOR_MASKED; /* the rest reserved */
		if (!(e->ctrl & MSIX_VECTOR_MASKED))
			msix_deliver_pending(f);
		break;
	}
}

bool vpci_msix_mmio_write(struct vpci_func *f, unsigned bar, uint64_t offset, unsigned size,
			  uint64_t value)
{
	if (!f->msix.cap || bar != f->msix.bar)
		return false;
	if (in_region(offset, f->msix.table_off, (uint64_t)f->msix.nvec * MSIX_ENTRY_SIZE)) {
		uint64_t o = offset - f->msix.table_off;
		/* aligned dwords and qwords only (§6.8.2: other widths are undefined): dropped */
		if ((size == 4 || size == 8) && !(o % size)) {
			table_write_dword(f, o, (uint32_t)value);
			if (size == 8)
				table_write_dword(f, o + 4, (uint32_t)(value >> 32));
		}
		return true;
	}
	return in_region(offset, f->msix.pba_off, pba_bytes(f)); /* the PBA is read-only */
}

/* ---- MSI ---- */

static bool is_pow2_32(unsigned x)
{
	return x && !(x & (x - 1));
}

static uint16_t msi_control(const struct vpci_func *f)
{
	return f->msi_cap ? cfg_rd16(f, f->msi_cap + 2) : 0;
}

bool vpci_msi_enabled(const struct vpci_func *f)
{
	return msi_control(f) & MSI_CTRL_ENABLE;
}

/* Where the data, mask and pending registers are. */
static unsigned msi_data_reg(const struct vpci_func *f)
{
	return f->msi_cap + (msi_control(f) & MSI_CTRL_64BIT ? 0xc : 0x8);
}

static unsigned msi_mask_reg(const struct vpci_func *f)
{
	return msi_data_reg(f) + 4;
}

static unsigned msi_pending_reg(const struct vpci_func *f)
{
	return msi_data_reg(f) + 8;
}

/* Vectors enabled: 2^MME, no more than capable (MME above MMC is the guest's error). */
static unsigned msi_vectors(const struct vpci_func *f)
{
	uint16_t ctl = msi_control(f);
	unsigned mmc = ctl >> MSI_CTRL_MMC_SHIFT & 7, mme = ctl >> MSI_CTRL_MME_SHIFT & 7;
	return 1u << (mme < mmc ? mme : mmc);
}

int vpci_func_add_msi(struct vpci_func *f, unsigned nvec, bool addr64, bool per_vector_mask)
{
	if (f->msi_cap || !is_pow2_32(nvec) || nvec > 32)
		return -1;
	unsigned mmc = 0;
	while ((1u << mmc) < nvec)
		mmc++;
	uint8_t len = (uint8_t)((addr64 ? 0xe : 0xa) + (per_vector_mask ? 0xa : 0));
	uint8_t cap = vpci_func_add_cap(f, PCI_CAP_ID_MSI, NULL, len);
	if (!cap)
		return -1;
	uint16_t ctl = (uint16_t)(mmc << MSI_CTRL_MMC_SHIFT | (addr64 ? MSI_CTRL_64BIT : 0) |
				  (per_vector_mask ? MSI_CTRL_PVM : 0));
	cfg_wr16(f, cap + 2, ctl);
	f->msi_cap = cap;
	f->wmask[cap + 2] = MSI_CTRL_ENABLE | 7u << MSI_CTRL_MME_SHIFT;
	memset(&f->wmask[cap + 4], 0xff, addr64 ? 8 : 4);
	f->wmask[cap + 4] = 0xfc; /* the address is dword-aligned */
	unsigned data = msi_data_reg(f);
	f->wmask[data] = f->wmask[data + 1] = 0xff;
	if (per_vector_mask)
		for (unsigned i = 0; i < 4; i++)
			f->wmask[msi_mask_reg(f) + i] =
				(uint8_t)((nvec == 32 ? ~0u : (1u << nvec) - 1) >> (8 * i));
	vpci_func_snapshot(f);
	return 0;
}

static void msi_send(struct vpci_func *f, unsigned vec)
{
	uint64_t addr = cfg_rd32(f, f->msi_cap + 4);
	if (msi_control(f) & MSI_CTRL_64BIT)
		addr |= (uint64_t)cfg_rd32(f, f->msi_cap + 8) << 32;
	unsigned n = msi_vectors(f);
	uint32_t data = (cfg_rd16(f, msi_data_reg(f)) & ~(n - 1)) | vec;
	vpci_send_msi(f, addr, data);
}

static void msi_deliver_pending(struct vpci_func *f)
{
	if (!vpci_msi_enabled(f) || !(msi_control(f) & MSI_CTRL_PVM))
		return;
	uint32_t ready = cfg_rd32(f, msi_pending_reg(f)) & ~cfg_rd32(f, msi_mask_reg(f));
	for (unsigned v = 0; v < msi_vectors(f); v++) {
		if (!(ready >> v & 1))
			continue;
		cfg_wr32(f, msi_pending_reg(f), cfg_rd32(f, msi_pending_reg(f)) & ~(1u << v));
		msi_send(f, v);
	}
}

bool vpci_msi_notify(struct vpci_func *f, unsigned vec)
{
	if (!vpci_msi_enabled(f) || vec >= msi_vectors(f))
		return false;
	if ((msi_control(f) & MSI_CTRL_PVM) && (cfg_rd32(f, msi_mask_reg(f)) >> vec & 1)) {
		cfg_wr32(f, msi_pending_reg(f), cfg_rd32(f, msi_pending_reg(f)) | 1u << vec);
		f->msi_masked++;
		return false;
	}
	msi_send(f, vec);
	return true;
}

void vpci_msi_config_written(struct vpci_func *f, unsigned reg, uint32_t old)
{
	if (!f->msi_cap)
		return;
	if (reg == f->msi_cap && ((old >> 16) & MSI_CTRL_ENABLE) != (msi_control(f) & MSI_CTRL_ENABLE)) {
		msi_deliver_pending(f);
		vpci_func_update_intx(f); /* MSI takes the function off its INTx pin */
		vpci_func_changed(f);
	} else if ((msi_control(f) & MSI_CTRL_PVM) && reg == msi_mask_reg(f)) {
		msi_deliver_pending(f);
	}
}
