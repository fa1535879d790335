#include "kernel/acpi/acpi.h"

#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/lib/unaligned.h"

#define ACPI_HEADER_LEN 36
#define ACPI_TABLE_MAX_LEN (1u << 20)

static uint8_t sum_bytes(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

bool acpi_rsdp_valid(const uint8_t *rsdp, size_t len)
{
	if (len < 20 || memcmp(rsdp, "RSD PTR ", 8) != 0 || sum_bytes(rsdp, 20) != 0)
		return false;
	/* revision 2+ with only the 20-byte 1.0 part at hand: check that part alone */
	if (rsdp[15] >= 2 && len >= 24) {
		uint32_t full = rd32(rsdp + 20);
		if (full < 36 || full > len || sum_bytes(rsdp, full) != 0)
			return false;
	}
	return true;
}

static uint64_t scan_rsdp(acpi_phys_fn phys, uint64_t start, uint64_t len)
{
	for (uint64_t a = start; a + 20 <= start + len; a += 16) {
		const uint8_t *p = phys(a);
		if (memcmp(p, "RSD PTR ", 8) == 0 && acpi_rsdp_valid(p, p[15] >= 2 ? 36 : 20))
			return a;
	}
	return 0;
}

uint64_t acpi_find_rsdp_bios(acpi_phys_fn phys)
{
	/* ACPI 6.5 §5.2.5.1: EBDA segment at 0x40E, then the BIOS ROM area */
	uint64_t ebda = (uint64_t)rd16(phys(0x40e)) << 4;
	uint64_t found = 0;
	if (ebda >= 0x80000 && ebda < 0xa0000)
		found = scan_rsdp(phys, ebda, 1024);
	if (!found)
		found = scan_rsdp(phys, 0xe0000, 0x20000);
	return found;
}

static void parse_gas(const uint8_t *p, struct acpi_gas *g)
{
	g->space = p[0];
	g->bit_width = p[1];
	g->bit_offset = p[2];
	g->access_size = p[3];
	g->address = rd64(p + 4);
}

static void parse_madt(struct acpi_info *ai, const uint8_t *t, uint32_t len)
{
	if (len < 44)
		return; /* too short for the local APIC address and flags */
	ai->have_madt = true;
	ai->lapic_address = rd32(t + 36);
	ai->pcat_compat = rd32(t + 40) & 1;

	for (uint32_t off = 44; off + 2 <= len;) {
		uint8_t type = t[off], elen = t[off + 1];
		const uint8_t *e = t + off;
		if (elen < 2 || off + elen > len)
			break; /* malformed: stop rather than read past the table */
		switch (type) {
		case 0: /* Processor Local APIC */
		case 9: /* Processor Local x2APIC */
			if ((type == 0 && elen < 8) || (type == 9 && elen < 16))
				break;
			if (ai->ncpus == ACPI_MAX_CPUS) {
				ai->cpus_truncated = true;
				break;
			} else {
				struct acpi_cpu *c = &ai->cpus[ai->ncpus];
				uint32_t flags = type == 0 ? rd32(e + 4) : rd32(e + 8);
				c->apic_id = type == 0 ? e[3] : rd32(e + 4);
				/* the broadcast IDs name no CPU (placeholders some firmware lists) */
				if (c->apic_id == (type == 0 ? 0xffu : 0xffffffffu))
					break;
				c->uid = type == 0 ? e[2] : rd32(e + 12);
				c->enabled = flags & 1;
				c->online_capable = (flags >> 1) & 1;
				c->x2apic_entry = type == 9;
				/* firmware may list a CPU in both forms; keep one */
				bool dup = false;
				for (size_t i = 0; i < ai->ncpus; i++)
					if (ai->cpus[i].apic_id == c->apic_id)
						dup = true;
				if (!dup && (c->enabled || c->online_capable))
					ai->ncpus++;
			}
			break;
		case 1: /* I/O APIC */
			if (elen >= 12 && ai->nioapics < ACPI_MAX_IOAPICS)
				ai->ioapics[ai->nioapics++] =
				    (struct acpi_ioapic){e[2], rd32(e + 4), rd32(e + 8)};
			break;
		case 2: /* Interrupt Source Override */
			if (elen >= 10 && ai->noverrides < ACPI_MAX_OVERRIDES)
				ai->overrides[ai->noverrides++] =
				    (struct acpi_override){e[3], rd32(e + 4), rd16(e + 8)};
			break;
		case 4:    /* Local APIC NMI */
		case 0x0a: /* Local x2APIC NMI */
			ai->lapic_nmi_entries++;
			break;
		case 5: /* Local APIC Address Override */
			if (elen >= 12)
				ai->lapic_address = rd64(e + 4);
			break;
		default:
			break;
		}
		off += elen;
	}
}

static void parse_fadt(struct acpi_info *ai, const uint8_t *t, uint32_t len)
{
	ai->have_fadt = true;
	if (len >= 48)
		ai->sci_irq = rd16(t + 46);
	if (len >= 68)
		ai->pm1a_control_port = rd32(t + 64);
	if (len >= 92 && t[91] == 4)
		ai->pm_timer_port = rd32(t + 76);
	if (len >= 109)
		ai->century_index = t[108];
	if (len >= 111)
		ai->boot_arch = rd16(t + 109);
	if (len >= 116) {
		uint32_t flags = rd32(t + 112);
		ai->pm_timer_32bit = (flags >> 8) & 1; /* TMR_VAL_EXT */
		ai->reset_supported = (flags >> 10) & 1; /* RESET_REG_SUP */
	}
	if (len >= 129) {
		parse_gas(t + 116, &ai->reset_register);
		ai->reset_value = t[128];
	}
	/* ACPI 2.0+: the X_PM_TMR_BLK generic address wins when it is I/O */
	if (len >= 220) {
		struct acpi_gas x;
		parse_gas(t + 208, &x);
		if (x.space == ACPI_SPACE_IO && x.address && x.address < 0x10000)
			ai->pm_timer_port = (uint32_t)x.address;
	}
}

static void parse_mcfg(struct acpi_info *ai, const uint8_t *t, uint32_t len)
{
	for (uint32_t off = 44; off + 16 <= len && ai->nmcfg < ACPI_MAX_MCFG; off += 16)
		ai->mcfg[ai->nmcfg++] = (struct acpi_mcfg){rd64(t + off), rd16(t + off + 8),
							   t[off + 10], t[off + 11]};
}

static void parse_dmar(struct acpi_info *ai, const uint8_t *t, uint32_t len)
{
	if (len < 48)
		return;
	ai->dmar_host_address_width = (uint8_t)(t[36] + 1);
	for (uint32_t off = 48; off + 4 <= len;) {
		uint16_t type = rd16(t + off), elen = rd16(t + off + 2);
		if (elen < 4 || off + elen > len)
			break;
		if (type == 0) /* DMA Remapping Hardware Unit Definition */
			ai->dmar_units++;
		off += elen;
	}
}

static void parse_hpet(struct acpi_info *ai, const uint8_t *t, uint32_t len)
{
	if (len >= 52) {
		struct acpi_gas g;
		parse_gas(t + 40, &g);
		ai->hpet_base = g.address;
	}
}

static void add_table(struct acpi_info *ai, acpi_phys_fn phys, uint64_t addr)
{
	if (!addr || ai->ntables == ACPI_MAX_TABLES)
		return;
	const uint8_t *t = phys(addr);
	uint32_t len = rd32(t + 4);
	struct acpi_table_ref *ref = &ai->tables[ai->ntables++];
	memcpy(ref->signature, t, 4);
	ref->signature[4] = 0;
	ref->address = addr;
	ref->length = len;
	ref->checksum_ok = len >= ACPI_HEADER_LEN && len <= ACPI_TABLE_MAX_LEN && sum_bytes(t, len) == 0;
	if (!ref->checksum_ok)
		return;
	if (memcmp(t, "APIC", 4) == 0 && !ai->have_madt)
		parse_madt(ai, t, len);
	else if (memcmp(t, "FACP", 4) == 0 && !ai->have_fadt)
		parse_fadt(ai, t, len);
	else if (memcmp(t, "MCFG", 4) == 0)
		parse_mcfg(ai, t, len);
	else if (memcmp(t, "DMAR", 4) == 0 && !ai->dmar_address) {
		ai->dmar_address = addr;
		parse_dmar(ai, t, len);
	} else if (memcmp(t, "HPET", 4) == 0 && !ai->hpet_address) {
		ai->hpet_address = addr;
		parse_hpet(ai, t, len);
	}
}

int acpi_parse(struct acpi_info *ai, const uint8_t *rsdp, size_t rsdp_len, acpi_phys_fn phys,
	       char *err, size_t errlen)
{
	memset(ai, 0, sizeof(*ai));
	if (!acpi_rsdp_valid(rsdp, rsdp_len)) {
		format(err, errlen, "RSDP signature or checksum is wrong");
		return -1;
	}
	ai->rsdp_revision = rsdp[15];
	memcpy(ai->oem_id, rsdp + 9, 6);
	ai->oem_id[6] = 0;

	uint64_t xsdt = ai->rsdp_revision >= 2 && rsdp_len >= 32 ? rd64(rsdp + 24) : 0;
	uint64_t root = xsdt ? xsdt : rd32(rsdp + 16);
	if (!root) {
		format(err, errlen, "RSDP names no RSDT or XSDT");
		return -1;
	}
	const uint8_t *t = phys(root);
	uint32_t len = rd32(t + 4);
	const char *want = xsdt ? "XSDT" : "RSDT";
	if (memcmp(t, want, 4) != 0 || len < ACPI_HEADER_LEN || len > ACPI_TABLE_MAX_LEN ||
	    sum_bytes(t, len) != 0) {
		format(err, errlen, "%s at 0x%llx is damaged (signature, length or checksum)", want,
		       (unsigned long long)root);
		return -1;
	}
	ai->root_address = root;
	ai->root_is_xsdt = xsdt != 0;

	size_t entry = xsdt ? 8 : 4;
	for (uint32_t off = ACPI_HEADER_LEN; off + entry <= len; off += (uint32_t)entry)
		add_table(ai, phys, xsdt ? rd64(t + off) : rd32(t + off));
	return 0;
}

const struct acpi_table_ref *acpi_table(const struct acpi_info *ai, const char *sig)
{
	for (size_t i = 0; i < ai->ntables; i++)
		if (ai->tables[i].checksum_ok && memcmp(ai->tables[i].signature, sig, 4) == 0)
			return &ai->tables[i];
	return NULL;
}
