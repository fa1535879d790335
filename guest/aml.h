/*
 * A small AML writer (ACPI 6.5 §20, "ACPI Machine Language Specification"): the
 * encodings the guest's DSDT needs, written into a caller's buffer. Packages whose
 * length is only known at their end (Scope, Device, Method, If, Package, Buffer) are
 * opened and closed; closing picks the shortest PkgLength encoding (§20.2.4: one byte
 * below 64, else 2-4 bytes) and slides the body up to make room for it.
 *
 * With buf NULL nothing is stored and only the length is counted, so a caller can size
 * its tables first. Writing past cap stops storing and sets `overflow`; len keeps
 * counting what was asked for. Pure logic.
 */
#ifndef HV_GUEST_AML_H
#define HV_GUEST_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Opcodes (ACPI 6.5 §20.2.5). */
#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_NAME 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_QWORD_PREFIX 0x0e
#define AML_SCOPE 0x10
#define AML_BUFFER 0x11
#define AML_PACKAGE 0x12
#define AML_METHOD 0x14
#define AML_DUAL_NAME_PREFIX 0x2e
#define AML_MULTI_NAME_PREFIX 0x2f
#define AML_EXT_PREFIX 0x5b
#define AML_EXT_DEVICE 0x82 /* after AML_EXT_PREFIX */
#define AML_ROOT_CHAR 0x5c
#define AML_LOCAL0 0x60
#define AML_ARG0 0x68
#define AML_STORE 0x70
#define AML_AND 0x7b
#define AML_OR 0x7d
#define AML_CREATE_DWORD_FIELD 0x8a
#define AML_LNOT 0x92
#define AML_LEQUAL 0x93
#define AML_IF 0xa0
#define AML_ELSE 0xa1
#define AML_RETURN 0xa4

struct aml {
	uint8_t *buf; /* NULL: count only */
	size_t cap;
	size_t len;
	bool overflow;
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);
void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);
/* The shortest integer: ZeroOp, OneOp, or Byte/Word/DWord/QWordPrefix and the value. */
void aml_integer(struct aml *a, uint64_t v);
/* A NameString (§20.2.2): "\\_SB.PCI0", "_HID", "\\_S5"; segments padded with '_'. */
void aml_name(struct aml *a, const char *path);
/* StringPrefix, the ASCII bytes, NUL. */
void aml_string(struct aml *a, const char *s);
/* EISAID("PNP0A08"): the compressed 32-bit EISA ID as a DWord (§6.1.5). */
void aml_eisaid(struct aml *a, const char *id);
uint32_t aml_eisaid_value(const char *id);

/* Reserves a PkgLength; returns the mark aml_pkg_close() takes. */
size_t aml_pkg_open(struct aml *a);
void aml_pkg_close(struct aml *a, size_t mark);

/* Name (name, integer) */
void aml_name_integer(struct aml *a, const char *name, uint64_t v);
/* Name (name, Buffer () { bytes }): a ResourceTemplate when bytes are descriptors. */
void aml_name_buffer(struct aml *a, const char *name, const uint8_t *bytes, size_t n);
/* Scope (name) { and Device (name) {: close with aml_pkg_close. */
size_t aml_scope_open(struct aml *a, const char *name);
size_t aml_device_open(struct aml *a, const char *name);

#endif
