#include "guest/apic_bus.h"

static bool vec_in(const uint32_t *r, uint8_t v)
{
	return r[v >> 5] >> (v & 31) & 1;
}

/* Already servicing or holding the vector, and focus checking on (SVR bit 9 clear). */
static bool is_focus(const struct vlapic *l, uint8_t vector)
{
	return !(l->svr & VLAPIC_SVR_FOCUS_OFF) &&
	       (vec_in(l->irr, vector) || vec_in(l->isr, vector));
}

/* Lowest priority: one of `matching` (non-empty), SDM Vol. 3A §11.6.2.4. */
static uint32_t arbitrate(const struct vlapic *lapics, unsigned n, uint32_t matching,
			  uint8_t vector, unsigned *rotor)
{
	uint32_t enabled = 0;
	for (unsigned i = 0; i < n; i++)
		if (matching >> i & 1 && vlapic_sw_enabled(&lapics[i]))
			enabled |= 1u << i;
	if (!enabled)
		return matching & -matching; /* nobody will accept it: any one drops it */
	for (unsigned i = 0; i < n; i++)
		if (enabled >> i & 1 && is_focus(&lapics[i], vector))
			return 1u << i;

	uint32_t lowest = 0xff, best = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!(enabled >> i & 1))
			continue;
		uint32_t class = vlapic_ppr(&lapics[i]) & 0xf0;
		if (class < lowest) {
			lowest = class;
			best = 0;
		}
		if (class == lowest)
			best |= 1u << i;
	}
	/* among equals, the first at or after the rotor; the rotor moves past it */
	for (unsigned k = 0; k < n; k++) {
		unsigned i = (*rotor + k) % n;
		if (best >> i & 1) {
			*rotor = (i + 1) % n;
			return 1u << i;
		}
	}
	return 0; /* not reached: best is non-empty */
}

uint32_t apic_bus_targets(const struct vlapic *lapics, unsigned n, const struct vlapic *source,
			  unsigned dest_mode, uint32_t dest, unsigned shorthand,
			  unsigned delivery_mode, uint8_t vector, unsigned *rotor)
{
	uint32_t matching = 0;
	if (n > APIC_BUS_MAX)
		n = APIC_BUS_MAX;
	for (unsigned i = 0; i < n; i++)
		if (vlapic_matches(&lapics[i], source, dest_mode, dest, shorthand))
			matching |= 1u << i;
	if (delivery_mode == VLAPIC_DM_LOWEST && matching)
		return arbitrate(lapics, n, matching, vector, rotor);
	return matching;
}
