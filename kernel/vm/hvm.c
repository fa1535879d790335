#include "kernel/vm/hvm.h"

#include "kernel/cpu/features.h"
#include "kernel/lib/format.h"

const struct hvm_ops *hvm;

bool hvm_select(char *why, size_t whylen)
{
	const struct cpu_features *f = &host_cpu;

	if (f->svm) {
		if (f->svm_firmware_disabled) {
			format(why, whylen, "SVM is disabled by firmware (VM_CR.SVMDIS): enable "
					    "virtualization in the BIOS/UEFI setup");
			return false;
		}
		if (!f->npt) {
			format(why, whylen, "this AMD CPU has no nested paging (NPT)");
			return false;
		}
		hvm = &svm_ops;
		return true;
	}
	if (f->vmx) {
		if (f->vmx_firmware_disabled) {
			format(why, whylen, "VMX is disabled by firmware (IA32_FEATURE_CONTROL locked "
					    "without VMX): enable Intel Virtualization Technology in "
					    "the BIOS/UEFI setup");
			return false;
		}
		if (!f->ept || !f->unrestricted_guest) {
			format(why, whylen, "this Intel CPU lacks %s", !f->ept ? "EPT" : "unrestricted guest");
			return false;
		}
		hvm = &vmx_ops;
		return true;
	}
	format(why, whylen, "this CPU has neither AMD-V nor Intel VT-x");
	return false;
}
