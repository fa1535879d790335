/* KVM's PV EOI (pveoi.h): the MSR, arming and disarming around entries. */
#include "kernel/vm/pveoi.h"

#include "kernel/vm/vm.h"
#include "kernel/vm/vplatform.h"

int pveoi_msr_read(struct vcpu *v, uint32_t msr, uint64_t *value)
{
	if (msr != MSR_KVM_PV_EOI_EN)
		return 0;
	*value = v->msrs.pv_eoi.msr;
	return 1;
}

int pveoi_msr_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
	if (msr != MSR_KVM_PV_EOI_EN)
		return 0;
	struct pveoi *p = &v->msrs.pv_eoi;
	uint64_t gpa = value & ~PVEOI_ENABLED;
	if (gpa & 3)
		return -1; /* bit 1 is reserved: the word is 4-byte aligned (KVM: #GP) */
	volatile uint32_t *word = NULL;
	if (value & PVEOI_ENABLED) {
		uint64_t hpa;
		if (!gpa_to_hpa(&v->vm->map, gpa, &hpa))
			return -1; /* not RAM (KVM: #GP); aligned, it is within one chunk */
		word = v->vm->map.phys_to_virt(hpa);
	}
	pveoi_reset(v); /* the loop disarmed at this exit already: nothing of ours is set */
	p->msr = value;
	p->word = word;
	return 1;
}

void pveoi_reset(struct vcpu *v)
{
	struct pveoi *p = &v->msrs.pv_eoi;
	if (p->armed && p->word)
		*p->word &= ~PVEOI_BIT;
	*p = (struct pveoi){0};
}

void pveoi_after_exit(struct vcpu *v)
{
	struct pveoi *p = &v->msrs.pv_eoi;
	if (!p->armed)
		return;
	p->armed = false;
	uint32_t w = *p->word;
	if (w & PVEOI_BIT)
		*p->word = w & ~PVEOI_BIT; /* not used: the guest writes its EOI */
	else
		vplatform_pv_eoi(v); /* the guest's EOI, done now */
}

void pveoi_before_entry(struct vcpu *v)
{
	struct pveoi *p = &v->msrs.pv_eoi;
	if (!p->word || p->armed || !vplatform_pv_eoi_ok(v))
		return;
	*p->word |= PVEOI_BIT;
	p->armed = true;
}
