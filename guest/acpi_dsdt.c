/* The guest's DSDT, written with the AML writer (see acpi_dsdt.h for the ASL). */
#include "guest/acpi_dsdt.h"

#include "guest/aml.h"
#include "guest/pci/vpci.h"
#include "kernel/lib/unaligned.h"

/* Resource descriptors (ACPI 6.5 §6.4). */
#define RES_IO 0x47		/* small, I/O port, 7 bytes of body */
#define RES_END 0x79		/* small, end tag */
#define RES_MEM32_FIXED 0x86	/* large, 9 bytes */
#define RES_DWORD_SPACE 0x87	/* large, 23 bytes */
#define RES_WORD_SPACE 0x88	/* large, 13 bytes */
#define RES_QWORD_SPACE 0x8a	/* large, 43 bytes */
#define SPACE_MEM 0
#define SPACE_IO 1
#define SPACE_BUS 2
#define ADDR_PRODUCER_FIXED 0x0c /* _MAF, _MIF fixed; positive decode; producer */
#define IO_ENTIRE_RANGE 0x03	 /* _RNG: ISA and non-ISA ports */
#define MEM_RW 0x01
#define MEM_CACHEABLE 0x02
#define MEM_NON_CACHEABLE 0x00

struct res {
	uint8_t b[160];
	size_t n;
};

static uint8_t *res_put(struct res *r, size_t n)
{
	uint8_t *p = r->b + r->n;
	r->n += n;
	return p;
}

static void res_io(struct res *r, uint16_t port, uint8_t len)
{
	uint8_t *p = res_put(r, 8);
	p[0] = RES_IO;
	p[1] = 0x01; /* 16-bit decode */
	wr16(p + 2, port);
	wr16(p + 4, port);
	p[6] = 1; /* alignment */
	p[7] = len;
}

/* Word address space (§6.4.3.5.3): bus numbers or I/O ports. */
static void res_word(struct res *r, uint8_t type, uint8_t tflags, uint16_t min, uint16_t max)
{
	uint8_t *p = res_put(r, 16);
	p[0] = RES_WORD_SPACE;
	wr16(p + 1, 13);
	p[3] = type;
	p[4] = ADDR_PRODUCER_FIXED;
	p[5] = tflags;
	wr16(p + 6, 0); /* granularity */
	wr16(p + 8, min);
	wr16(p + 10, max);
	wr16(p + 12, 0); /* translation */
	wr16(p + 14, (uint16_t)(max - min + 1));
}

/* DWord memory (§6.4.3.5.2). */
static void res_dword_mem(struct res *r, uint8_t tflags, uint32_t min, uint32_t len)
{
	uint8_t *p = res_put(r, 26);
	p[0] = RES_DWORD_SPACE;
	wr16(p + 1, 23);
	p[3] = SPACE_MEM;
	p[4] = ADDR_PRODUCER_FIXED;
	p[5] = tflags;
	wr32(p + 6, 0);
	wr32(p + 10, min);
	wr32(p + 14, min + len - 1);
	wr32(p + 18, 0);
	wr32(p + 22, len);
}

/* QWord memory (§6.4.3.5.1). */
static void res_qword_mem(struct res *r, uint8_t tflags, uint64_t min, uint64_t len)
{
	uint8_t *p = res_put(r, 46);
	p[0] = RES_QWORD_SPACE;
	wr16(p + 1, 43);
	p[3] = SPACE_MEM;
	p[4] = ADDR_PRODUCER_FIXED;
	p[5] = tflags;
	wr64(p + 6, 0);
	wr64(p + 14, min);
	wr64(p + 22, min + len - 1);
	wr64(p + 30, 0);
	wr64(p + 38, len);
}

static void res_mem32_fixed(struct res *r, uint32_t base, uint32_t len)
{
	uint8_t *p = res_put(r, 12);
	p[0] = RES_MEM32_FIXED;
	wr16(p + 1, 9);
	p[3] = 1; /* read-write */
	wr32(p + 4, base);
	wr32(p + 8, len);
}

static void res_end(struct res *r)
{
	uint8_t *p = res_put(r, 2);
	p[0] = RES_END;
	p[1] = 0; /* checksum 0: "treated as if the checksum succeeded" (§6.4.2.9) */
}

static void pvpanic(struct aml *a)
{
	struct res r = { .n = 0 };
	size_t dev = aml_device_open(a, "PEVT");
	aml_byte(a, AML_NAME);
	aml_name(a, "_HID");
	aml_string(a, "QEMU0001");
	res_io(&r, ACPI_BUILD_PVPANIC_PORT, 1);
	res_end(&r);
	aml_name_buffer(a, "_CRS", r.b, r.n);
	aml_pkg_close(a, dev);
}

static void pci_crs(struct aml *a)
{
	struct res r = { .n = 0 };
	res_word(&r, SPACE_BUS, 0, 0, 0); /* bus 0 only: the ECAM covers one bus */
	res_io(&r, 0xcf8, 8);
	res_word(&r, SPACE_IO, IO_ENTIRE_RANGE, 0x0000, 0x0cf7);
	res_word(&r, SPACE_IO, IO_ENTIRE_RANGE, VPCI_IO_BASE,
		 (uint16_t)(VPCI_IO_BASE + VPCI_IO_SIZE - 1));
	res_dword_mem(&r, MEM_NON_CACHEABLE | MEM_RW, (uint32_t)VPCI_MEM32_BASE,
		      (uint32_t)VPCI_MEM32_SIZE);
	res_qword_mem(&r, MEM_CACHEABLE | MEM_RW, VPCI_MEM64_BASE, VPCI_MEM64_SIZE);
	res_end(&r);
	aml_name_buffer(a, "_CRS", r.b, r.n);
}

/* Package () { Package () { 0xSSSSFFFF, pin, Zero, GSI }, ... } for every slot and pin */
static void pci_prt(struct aml *a)
{
	aml_byte(a, AML_NAME);
	aml_name(a, "_PRT");
	aml_byte(a, AML_PACKAGE);
	size_t outer = aml_pkg_open(a);
	aml_byte(a, ACPI_DSDT_PRT_ENTRIES);
	for (unsigned slot = 1; slot < VPCI_SLOTS; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			aml_byte(a, AML_PACKAGE);
			size_t entry = aml_pkg_open(a);
			aml_byte(a, 4);
			aml_integer(a, (uint64_t)slot << 16 | 0xffff); /* any function */
			aml_integer(a, pin);			     /* 0-3: INTA-INTD */
			aml_integer(a, 0);			     /* Source: none, a GSI */
			aml_integer(a, vpci_intx_gsi(slot, pin + 1));
			aml_pkg_close(a, entry);
		}
	}
	aml_pkg_close(a, outer);
}

/* Or (CDW1, bit, CDW1) */
static void or_cdw1(struct aml *a, uint8_t bit)
{
	aml_byte(a, AML_OR);
	aml_name(a, "CDW1");
	aml_integer(a, bit);
	aml_name(a, "CDW1");
}

static void create_dword_field(struct aml *a, unsigned offset, const char *name)
{
	aml_byte(a, AML_CREATE_DWORD_FIELD);
	aml_byte(a, AML_ARG0 + 3);
	aml_integer(a, offset);
	aml_name(a, name);
}

/*
 * Method (_OSC, 4) {                       PCI Firmware 3.3 §4.5
 *   CreateDWordField (Arg3, 0, CDW1)
 *   If (Arg0 == ToUUID (PCI host bridge)) {
 *     CreateDWordField (Arg3, 8, CDW3)     the control field
 *     And (CDW3, 0x1f, Local0)
 *     If (Arg1 != 1) { CDW1 |= 8 }         unrecognized revision
 *     If (CDW3 != Local0) { CDW1 |= 0x10 } capabilities masked
 *     CDW3 = Local0
 *   } Else { CDW1 |= 4 }                   unrecognized UUID
 *   Return (Arg3)
 * }
 */
static void pci_osc(struct aml *a)
{
	static const uint8_t uuid[16] = ACPI_PCI_OSC_UUID;

	aml_byte(a, AML_METHOD);
	size_t method = aml_pkg_open(a);
	aml_name(a, "_OSC");
	aml_byte(a, 4); /* 4 arguments, not serialized, sync level 0 */
	create_dword_field(a, 0, "CDW1");

	aml_byte(a, AML_IF);
	size_t if_uuid = aml_pkg_open(a);
	aml_byte(a, AML_LEQUAL);
	aml_byte(a, AML_ARG0);
	aml_byte(a, AML_BUFFER);
	size_t buf = aml_pkg_open(a);
	aml_integer(a, sizeof(uuid));
	aml_bytes(a, uuid, sizeof(uuid));
	aml_pkg_close(a, buf);

	create_dword_field(a, 8, "CDW3");
	aml_byte(a, AML_AND);
	aml_name(a, "CDW3");
	aml_integer(a, ACPI_PCI_OSC_GRANTED);
	aml_byte(a, AML_LOCAL0);

	aml_byte(a, AML_IF);
	size_t if_rev = aml_pkg_open(a);
	aml_byte(a, AML_LNOT);
	aml_byte(a, AML_LEQUAL);
	aml_byte(a, AML_ARG0 + 1);
	aml_integer(a, 1);
	or_cdw1(a, 0x08);
	aml_pkg_close(a, if_rev);

	aml_byte(a, AML_IF);
	size_t if_masked = aml_pkg_open(a);
	aml_byte(a, AML_LNOT);
	aml_byte(a, AML_LEQUAL);
	aml_name(a, "CDW3");
	aml_byte(a, AML_LOCAL0);
	or_cdw1(a, 0x10);
	aml_pkg_close(a, if_masked);

	aml_byte(a, AML_STORE);
	aml_byte(a, AML_LOCAL0);
	aml_name(a, "CDW3");
	aml_pkg_close(a, if_uuid);

	aml_byte(a, AML_ELSE);
	size_t else_uuid = aml_pkg_open(a);
	or_cdw1(a, 0x04);
	aml_pkg_close(a, else_uuid);

	aml_byte(a, AML_RETURN);
	aml_byte(a, AML_ARG0 + 3);
	aml_pkg_close(a, method);
}

static void pci_root_bridge(struct aml *a)
{
	size_t dev = aml_device_open(a, "PCI0");
	aml_byte(a, AML_NAME);
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A08"); /* PCI Express root bridge */
	aml_byte(a, AML_NAME);
	aml_name(a, "_CID");
	aml_eisaid(a, "PNP0A03"); /* compatible: PCI root bridge */
	aml_name_integer(a, "_ADR", 0);
	aml_name_integer(a, "_UID", 0);
	aml_name_integer(a, "_SEG", 0);
	aml_name_integer(a, "_BBN", 0);
	pci_crs(a);
	pci_prt(a);
	pci_osc(a);
	aml_pkg_close(a, dev);
}

static void ecam_reservation(struct aml *a)
{
	struct res r = { .n = 0 };
	size_t dev = aml_device_open(a, "ECAM");
	aml_byte(a, AML_NAME);
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0C02"); /* motherboard resources */
	aml_name_integer(a, "_UID", 1);
	res_mem32_fixed(&r, (uint32_t)VPCI_ECAM_BASE, (uint32_t)VPCI_ECAM_SIZE);
	res_end(&r);
	aml_name_buffer(a, "_CRS", r.b, r.n);
	aml_pkg_close(a, dev);
}

size_t acpi_dsdt_aml(const struct acpi_build_config *cfg, uint8_t *buf, size_t cap)
{
	struct aml a;

	aml_init(&a, buf, cap);
	/* Name (\_S5, Package (4) { SLP_TYPa, SLP_TYPb, 0, 0 }) */
	aml_byte(&a, AML_NAME);
	aml_name(&a, "\\_S5");
	aml_byte(&a, AML_PACKAGE);
	size_t s5 = aml_pkg_open(&a);
	aml_byte(&a, 4);
	aml_byte(&a, AML_BYTE_PREFIX); /* BytePrefix even for 0/1: what firmware writes */
	aml_byte(&a, ACPI_BUILD_S5_SLP_TYP);
	aml_byte(&a, AML_BYTE_PREFIX);
	aml_byte(&a, ACPI_BUILD_S5_SLP_TYP);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_pkg_close(&a, s5);

	size_t sb = aml_scope_open(&a, "\\_SB");
	pvpanic(&a);
	if (cfg->pci) {
		pci_root_bridge(&a);
		ecam_reservation(&a);
	}
	aml_pkg_close(&a, sb);
	return a.len;
}
