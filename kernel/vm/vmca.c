#include "kernel/vm/vmca.h"

#include "kernel/lib/string.h"

enum { BANK_CTL, BANK_STATUS, BANK_ADDR, BANK_MISC };

void vmca_reset(struct vmca *m)
{
	memset(m, 0, sizeof(*m));
}

bool vmca_owns(uint32_t msr)
{
	return msr == MSR_MCG_CAP || msr == MSR_MCG_STATUS || msr == MSR_MCG_CTL ||
	       (msr >= MSR_MC0_CTL && msr < MSR_MC0_CTL + 4 * VMCA_BANKS);
}

int vmca_read(const struct vmca *m, uint32_t msr, uint64_t *value)
{
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
		break;
	}
	if (msr < MSR_MC0_CTL || msr >= MSR_MC0_CTL + 4 * VMCA_BANKS)
		return -1;
	unsigned i = msr - MSR_MC0_CTL;
	*value = m->bank[i / 4][i % 4];
	return 0;
}

int vmca_write(struct vmca *m, uint32_t msr, uint64_t value, bool status_writable)
{
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
		break;
	}
	if (msr < MSR_MC0_CTL || msr >= MSR_MC0_CTL + 4 * VMCA_BANKS)
		return -1;
	unsigned i = msr - MSR_MC0_CTL;
	if (i % 4 == BANK_STATUS && value != 0 && !status_writable)
		return -1;
	m->bank[i / 4][i % 4] = value;
	return 0;
}
