#include "kernel/vm/vmca.h"

#include "kernel/lib/string.h"

enum { BANK_CTL, BANK_STATUS, BANK_ADDR, BANK_MISC };

void vmca_reset(struct vmca *m)
{
	memset(m, 0, sizeof(*m));
}

/*
 * IA32_MCi_CTL/STATUS/ADDR/MISC of bank i sit at 0x400 + 4i + 0..3 (SDM
 * Vol. 3B §16.3.2). True for one of our banks' MSRs, with its bank and
 * register.
 */
static bool bank_msr(uint32_t msr, unsigned *bank, unsigned *reg)
{
	if (msr < MSR_MC0_CTL || msr >= MSR_MC0_CTL + 4 * VMCA_BANKS)
		return false;
	*bank = (msr - MSR_MC0_CTL) / 4;
	*reg = (msr - MSR_MC0_CTL) % 4;
	return true;
}

bool vmca_owns(uint32_t msr)
{
	unsigned bank, reg;
	return msr == MSR_MCG_CAP || msr == MSR_MCG_STATUS || msr == MSR_MCG_CTL ||
	       bank_msr(msr, &bank, &reg);
}

int vmca_read(const struct vmca *m, uint32_t msr, uint64_t *value)
{
	unsigned bank, reg;
	if (bank_msr(msr, &bank, &reg)) {
		*value = m->bank[bank][reg];
		return 0;
	}
	switch (msr) {
	case MSR_MCG_CAP:
		*value = MCG_CTL_P | VMCA_BANKS;
		return 0;
	case MSR_MCG_STATUS:
		*value = m->mcg_status;
		return 0;
	case MSR_MCG_CTL:
		*value = m->mcg_ctl;
		return 0;
	default:
		return -1;
	}
}

int vmca_write(struct vmca *m, uint32_t msr, uint64_t value, bool status_writable)
{
	unsigned bank, reg;
	if (bank_msr(msr, &bank, &reg)) {
		if (reg == BANK_STATUS && value != 0 && !status_writable)
			return -1;
		m->bank[bank][reg] = value;
		return 0;
	}
	switch (msr) {
	case MSR_MCG_CAP:
		return -1;
	case MSR_MCG_STATUS:
		if (value & ~MCG_STATUS_WRITABLE)
			return -1;
		m->mcg_status = value;
		return 0;
	case MSR_MCG_CTL:
		if (value != 0 && value != ~0ull)
			return -1;
		m->mcg_ctl = value;
		return 0;
	default:
		return -1;
	}
}
