/* The AMD-V (SVM) backend; it fills struct hvm_ops as svm_ops (kernel/vm/hvm.h). */
#ifndef HV_SVM_SVM_H
#define HV_SVM_SVM_H

#include "kernel/vm/hvm.h"

#endif
