#include "vmx/vmx_caps.h"

bool vmx_adjust_controls(uint64_t cap, uint32_t want, uint32_t need, uint32_t *out,
			 uint32_t *missing)
{
	uint32_t must_be_one = (uint32_t)cap;
	uint32_t may_be_one = (uint32_t)(cap >> 32);

	*missing = need & ~may_be_one;
	if (*missing)
		return false;
	*out = (want | must_be_one) & may_be_one;
	return true;
}

uint64_t vmx_fix_cr(uint64_t value, uint64_t fixed0, uint64_t fixed1)
{
	return (value | fixed0) & fixed1;
}

uint64_t vmx_eptp(uint64_t root)
{
	/* memory type WB (6) in 2:0, page-walk length minus one (3) in 5:3 */
	return (root & ~0xfffull) | 6 | (3 << 3);
}
