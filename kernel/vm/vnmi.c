#include "kernel/vm/vnmi.h"

void vnmi_reset(struct vnmi *n)
{
	n->pending = 0;
	n->blocked = false;
}

static unsigned limit(const struct vnmi *n)
{
	return n->blocked ? 1 : 2;
}

void vnmi_arrive(struct vnmi *n, unsigned count)
{
	unsigned p = n->pending + count;
	n->pending = (uint8_t)(p < limit(n) ? p : limit(n));
}

void vnmi_set_blocked(struct vnmi *n, bool blocked)
{
	n->blocked = blocked;
	if (n->pending > limit(n))
		n->pending = (uint8_t)limit(n);
}

enum vnmi_action vnmi_before_entry(struct vnmi *n, bool can_inject)
{
	if (!n->pending)
		return VNMI_NONE;
	if (!can_inject)
		return VNMI_WINDOW;
	n->pending--;
	n->blocked = true; /* delivering it blocks the next until IRET */
	return VNMI_INJECT;
}

bool vnmi_deliverable(const struct vnmi *n)
{
	return n->pending && !n->blocked;
}

void vnmi_sw_reset(struct vnmi_sw_mask *m)
{
	m->masked = false;
	m->awaiting_iret = false;
	m->iret_rip = 0;
}

void vnmi_sw_injected(struct vnmi_sw_mask *m)
{
	m->masked = true;
	m->awaiting_iret = false;
}

void vnmi_sw_iret(struct vnmi_sw_mask *m, uint64_t rip)
{
	if (!m->masked)
		return; /* an IRET outside an NMI handler changes nothing */
	m->awaiting_iret = true;
	m->iret_rip = rip;
}

void vnmi_sw_exit(struct vnmi_sw_mask *m, uint64_t rip)
{
	if (m->awaiting_iret && rip != m->iret_rip) {
		m->awaiting_iret = false;
		m->masked = false;
	}
}

bool vnmi_sw_wants_iret_intercept(const struct vnmi_sw_mask *m)
{
	return m->masked && !m->awaiting_iret;
}
