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

static void set_bit(uint64_t *set, unsigned i)
{
	set[i / 64] |= 1ull << (i % 64);
}

/*
 * Lowest priority: one of the matching set (non-empty), SDM Vol. 3A
 * §11.6.2.4; returns its index.
 */
static unsigned arbitrate(const struct vlapic *lapics, unsigned n, const uint64_t *matching,
			  uint8_t vector, unsigned *rotor)
{
	unsigned first = n, focus = n, lowest = 0x100, best = n;
	bool any_enabled = false;
	for (unsigned i = 0; i < n; i++) {
		if (!apic_bus_has(matching, i))
			continue;
		if (first == n)
			first = i;
		if (!vlapic_sw_enabled(&lapics[i]))
			continue;
		any_enabled = true;
		if (focus == n && is_focus(&lapics[i], vector))
			focus = i;
		unsigned class = vlapic_ppr(&lapics[i]) & 0xf0;
		if (class < lowest)
			lowest = class;
	}
	if (!any_enabled)
		return first; /* nobody will accept it: any one drops it */
	if (focus < n)
		return focus;
	/* among equals, the first at or after the rotor; the rotor moves past it */
	for (unsigned k = 0; k < n; k++) {
		unsigned i = (*rotor + k) % n;
		if (apic_bus_has(matching, i) && vlapic_sw_enabled(&lapics[i]) &&
		    (vlapic_ppr(&lapics[i]) & 0xf0) == lowest) {
			best = i;
			break;
		}
	}
	*rotor = (best + 1) % n;
	return best; /* found: the lowest class has a member */
}

unsigned apic_bus_targets(const struct vlapic *lapics, unsigned n, const struct vlapic *source,
			  unsigned dest_mode, uint32_t dest, unsigned shorthand,
			  unsigned delivery_mode, uint8_t vector, unsigned *rotor,
			  uint64_t *targets)
{
	unsigned count = 0;
	for (unsigned w = 0; w < APIC_BUS_WORDS(n); w++)
		targets[w] = 0;
	for (unsigned i = 0; i < n; i++) {
		if (vlapic_matches(&lapics[i], source, dest_mode, dest, shorthand)) {
			set_bit(targets, i);
			count++;
		}
	}
	if (delivery_mode == VLAPIC_DM_LOWEST && count) {
		unsigned one = arbitrate(lapics, n, targets, vector, rotor);
		for (unsigned w = 0; w < APIC_BUS_WORDS(n); w++)
			targets[w] = 0;
		set_bit(targets, one);
		count = 1;
	}
	return count;
}
