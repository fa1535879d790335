// SOURCES: kernel/vm/cpuid_policy.c kernel/vm/cpuid_table.c kernel/vm/pvclock_calc.c kernel/lib/string.c
/*
 * The CPUID allow list, run against stored host CPUID dumps of several CPUs
 * (the .txt files in tests/data/cpuid/, made by scripts/cpuid-dump.py: this machine's
 * EPYC, QEMU TCG models, the Bochs models the integration tests use) and
 * against a made-up host that claims every bit. For each host, VM sizes of
 * 1, 2, 4 and 8 vCPUs and both CR4.OSXSAVE settings:
 *   - no bit outside the table's allow list reaches the guest, and a list
 *     of bits checked here by name (not through the table) never does;
 *   - every allowed bit appears exactly when the host has it;
 *   - leaves 1, 4, 0xB, 0x1F and AMD's 0x80000008 describe the VM's
 *     topology (APIC IDs 0..n-1, one thread per core);
 *   - OSXSAVE follows CR4; leaf 0xD's components and sizes agree;
 *   - unknown leaves read zero; the maxima are clamped.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/vm/cpuid_policy.h"
#include "kernel/vm/pvclock.h"

#define MAX_DUMPS 32
#define MAX_ENTRIES 1024

struct entry {
	uint32_t leaf, sub;
	struct cpuid_result r;
};

struct dump {
	char name[256];
	enum cpuid_vendor vendor;
	bool synthetic; /* the made-up host that claims every bit */
	unsigned count;
	struct entry e[MAX_ENTRIES];
};

static struct dump *dumps[MAX_DUMPS];
static unsigned ndumps;

/* ---- the stored dumps ---- */

static const char *data_dir(void)
{
	const char *d = getenv("HV_CPUID_DATA");
	return d ? d : "tests/data/cpuid";
}

static enum cpuid_vendor vendor_of(const struct dump *d)
{
	for (unsigned i = 0; i < d->count; i++)
		if (d->e[i].leaf == 0) {
			char v[13] = {0};
			memcpy(v, &d->e[i].r.ebx, 4);
			memcpy(v + 4, &d->e[i].r.edx, 4);
			memcpy(v + 8, &d->e[i].r.ecx, 4);
			return strcmp(v, "GenuineIntel") == 0 ? CPUID_VENDOR_INTEL : CPUID_VENDOR_AMD;
		}
	return CPUID_VENDOR_AMD;
}

static struct dump *load_dump(const char *path, const char *name)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	struct dump *d = calloc(1, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	char line[256];
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		struct entry *e = &d->e[d->count];
		assert_true(d->count < MAX_ENTRIES);
		int n = sscanf(line, "%x %x %x %x %x %x", &e->leaf, &e->sub, &e->r.eax, &e->r.ebx,
			       &e->r.ecx, &e->r.edx);
		assert_int_equal(n, 6);
		d->count++;
	}
	fclose(f);
	d->vendor = vendor_of(d);
	return d;
}

static void add_entry(struct dump *d, uint32_t leaf, uint32_t sub, uint32_t a, uint32_t b,
		      uint32_t c, uint32_t dx)
{
	d->e[d->count++] = (struct entry){leaf, sub, {a, b, c, dx}};
}

/*
 * A host that claims every feature bit of every leaf, with maxima past the
 * table's and a leaf 0xD that is at least self-consistent: what no CPU is,
 * to show the allow list holds whatever the host says.
 */
static struct dump *synthetic_dump(enum cpuid_vendor v)
{
	struct dump *d = calloc(1, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "synthetic-all-ones-%s",
		 v == CPUID_VENDOR_INTEL ? "intel" : "amd");
	d->vendor = v;
	d->synthetic = true;
	const char *s = v == CPUID_VENDOR_INTEL ? "GenuineIntel" : "AuthenticAMD";
	uint32_t b, dd, c;
	memcpy(&b, s, 4);
	memcpy(&dd, s + 4, 4);
	memcpy(&c, s + 8, 4);
	add_entry(d, 0, 0, 0x30, b, c, dd);
	for (uint32_t leaf = 1; leaf <= 0x30; leaf++)
		for (uint32_t sub = 0; sub < 8; sub++)
			if (leaf != 0xd)
				add_entry(d, leaf, sub, ~0u, ~0u, ~0u, ~0u);
	/*
	 * 0xD: every component, 40 bytes each (so 64-byte alignment shows),
	 * 64 bytes apart, every flag set (supervisor, aligned); sub-leaf 1 all ones
	 */
	add_entry(d, 0xd, 0, ~0u, 0x240, 0x4000, ~0u);
	add_entry(d, 0xd, 1, ~0u, 0x4000, ~0u, ~0u);
	for (uint32_t i = 2; i < 64; i++)
		add_entry(d, 0xd, i, 40, 512 + 64 * i, ~0u, ~0u);
	add_entry(d, 0x80000000, 0, 0x80000030, b, c, dd);
	for (uint32_t leaf = 0x80000001; leaf <= 0x80000030; leaf++)
		for (uint32_t sub = 0; sub < 8; sub++)
			add_entry(d, leaf, sub, ~0u, ~0u, ~0u, ~0u);
	return d;
}

static int load_all(void **state)
{
	(void)state;
	DIR *dir = opendir(data_dir());
	if (!dir) {
		fprintf(stderr, "cannot open %s\n", data_dir());
		return -1;
	}
	struct dirent *de;
	while ((de = readdir(dir)) && ndumps < MAX_DUMPS - 2) {
		size_t n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 4, ".txt"))
			continue;
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", data_dir(), de->d_name);
		struct dump *d = load_dump(path, de->d_name);
		if (d)
			dumps[ndumps++] = d;
	}
	closedir(dir);
	dumps[ndumps++] = synthetic_dump(CPUID_VENDOR_INTEL);
	dumps[ndumps++] = synthetic_dump(CPUID_VENDOR_AMD);
	return 0;
}

static int free_all(void **state)
{
	(void)state;
	for (unsigned i = 0; i < ndumps; i++)
		free(dumps[i]);
	ndumps = 0;
	return 0;
}

/* ---- the host as a dump answers ---- */

static const struct entry *find(const struct dump *d, uint32_t leaf, uint32_t sub)
{
	for (unsigned i = 0; i < d->count; i++)
		if (d->e[i].leaf == leaf && d->e[i].sub == sub)
			return &d->e[i];
	return NULL;
}

static unsigned lines_of(const struct dump *d, uint32_t leaf)
{
	unsigned n = 0;
	for (unsigned i = 0; i < d->count; i++)
		n += d->e[i].leaf == leaf;
	return n;
}

static uint32_t dump_max(const struct dump *d, uint32_t base)
{
	const struct entry *e = find(d, base, 0);
	return e ? e->r.eax : 0;
}

static bool in_range(const struct dump *d, uint32_t leaf)
{
	uint32_t base = leaf >= 0x80000000u ? 0x80000000u : 0;
	if (leaf >= 0x40000000u && base == 0)
		return false;
	return leaf <= dump_max(d, base);
}

/*
 * CPUID on the dumped CPU: a leaf dumped once ignores ECX; an indexed leaf's
 * sub-leaves past the dumped ones are zero. Past the maxima an Intel CPU
 * answers with its highest basic leaf (SDM Vol. 2A CPUID, "If a value
 * entered for CPUID.EAX is higher than the maximum..."), AMD with zeros:
 * the policy must not pass either on.
 */
static void dump_query(void *opaque, uint32_t leaf, uint32_t sub, struct cpuid_result *out)
{
	const struct dump *d = opaque;
	*out = (struct cpuid_result){0, 0, 0, 0};
	if (!in_range(d, leaf)) {
		if (d->vendor != CPUID_VENDOR_INTEL)
			return;
		leaf = dump_max(d, 0);
	}
	const struct entry *e = find(d, leaf, sub);
	if (!e && lines_of(d, leaf) == 1)
		e = find(d, leaf, 0);
	if (e)
		*out = e->r;
}

/* The host's answer, without the out-of-range behaviour (zero there). */
static struct cpuid_result host(const struct dump *d, uint32_t leaf, uint32_t sub)
{
	struct cpuid_result r = {0, 0, 0, 0};
	if (in_range(d, leaf))
		dump_query((void *)d, leaf, sub, &r);
	return r;
}

static struct cpuid_host host_of(const struct dump *d)
{
	return (struct cpuid_host){.query = dump_query, .opaque = (void *)d};
}

/* ---- helpers ---- */

static uint32_t reg(const struct cpuid_result *r, enum cpuid_reg i)
{
	switch (i) {
	case CPUID_EAX:
		return r->eax;
	case CPUID_EBX:
		return r->ebx;
	case CPUID_ECX:
		return r->ecx;
	default:
		return r->edx;
	}
}

static const char *const reg_names[] = {"eax", "ebx", "ecx", "edx"};

static struct cpuid_ctx ctx_for(const struct dump *d, unsigned id, unsigned n, bool osxsave,
				bool caps)
{
	return (struct cpuid_ctx){
	    .vendor = d->vendor,
	    .vcpu_id = id,
	    .nvcpus = n,
	    .cr4_osxsave = osxsave,
	    .cr4_pke = true, /* PKU is not offered: OSPKE must stay clear regardless */
	    .xcr0 = 7,
	    .caps = {.rdtscp = caps, .invpcid = caps, .xsaves = caps},
	};
}

static struct cpuid_result guest(const struct dump *d, const struct cpuid_ctx *c, uint32_t leaf,
				 uint32_t sub)
{
	struct cpuid_host h = host_of(d);
	struct cpuid_result r;
	memset(&r, 0xa5, sizeof(r)); /* the policy must write every register */
	cpuid_policy_guest(&h, c, leaf, sub, &r);
	return r;
}

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			print_error(__VA_ARGS__);                                                  \
			fail_msg("%s", #cond);                                                     \
		}                                                                                  \
	} while (0)

/* The host claims the XSAVE state for AVX (and AVX-512): what the NEED_YMM/ZMM rows need. */
static unsigned expected_have(const struct dump *d, bool caps)
{
	unsigned have = caps ? CPUID_NEED_RDTSCP | CPUID_NEED_INVPCID | CPUID_NEED_XSAVES : 0;
	struct cpuid_result l1 = host(d, 1, 0), l7 = host(d, 7, 0), xd = host(d, 0xd, 0);
	bool xsave = (l1.ecx & (1u << 26)) && dump_max(d, 0) >= 0xd;
	if (xsave && (xd.eax & 6) == 6) {
		have |= CPUID_NEED_YMM;
		if ((l7.ebx & (1u << 16)) && (xd.eax & 0xe0) == 0xe0)
			have |= CPUID_NEED_ZMM;
	}
	return have;
}

/* Bits the policy sets on its own (the VM's), by leaf and register. */
static uint32_t forced_bits(const struct dump *d, const struct cpuid_ctx *c, uint32_t leaf,
			    enum cpuid_reg r, const struct cpuid_result *g)
{
	if (leaf == 1 && r == CPUID_ECX)
		return (1u << 21) | (1u << 24) | (1u << 31) | (c->cr4_osxsave ? 1u << 27 : 0);
	if (leaf == 1 && r == CPUID_EDX)
		return (1u << 9) | (c->nvcpus > 1 ? 1u << 28 : 0);
	if (leaf == 6 && r == CPUID_EAX)
		return 1u << 2;
	if (leaf == 0x80000001 && d->vendor == CPUID_VENDOR_AMD && r == CPUID_ECX)
		return c->nvcpus > 1 ? 1u << 1 : 0;
	if (leaf == 0x80000001 && d->vendor == CPUID_VENDOR_AMD && r == CPUID_EDX)
		return g->edx & 0x0183f3ffu; /* leaf 1's mirror, checked separately */
	return 0;
}

/* ---- the tests ---- */

/*
 * Every feature word: a bit the guest sees is allowed by the table (with
 * this guest's conditions) and had by the host, or one the policy sets for
 * the VM; and every allowed bit the host has is seen.
 */
static void test_feature_bits_are_the_allow_list_and_the_host(void **state)
{
	(void)state;
	static const unsigned sizes[] = {1, 2, 4, 8};
	for (unsigned di = 0; di < ndumps; di++) {
		const struct dump *d = dumps[di];
		for (unsigned caps = 0; caps < 2; caps++)
			for (unsigned si = 0; si < 4; si++)
				for (unsigned os = 0; os < 2; os++) {
					unsigned n = sizes[si];
					struct cpuid_ctx c = ctx_for(d, n - 1, n, os, caps);
					unsigned have = expected_have(d, caps);
					for (unsigned w = 0; w < cpuid_feature_word_count; w++) {
						const struct cpuid_feature_word *fw =
						    &cpuid_feature_words[w];
						if (!(fw->vendors & (1u << d->vendor)))
							continue;
						if (!in_range(d, fw->leaf) ||
						    fw->leaf > (fw->leaf >= 0x80000000u ? 0x80000021u
											: 0x1fu))
							continue;
						struct cpuid_result g = guest(d, &c, fw->leaf, fw->sub);
						struct cpuid_result hr = host(d, fw->leaf, fw->sub);
						if (fw->leaf == 7 && fw->sub == 1 && host(d, 7, 0).eax < 1)
							hr = (struct cpuid_result){0, 0, 0, 0};
						uint32_t allow = cpuid_table_allowed(
						    fw->leaf, fw->sub, fw->reg, d->vendor, have);
						uint32_t forced =
						    forced_bits(d, &c, fw->leaf, fw->reg, &g);
						uint32_t want = (reg(&hr, fw->reg) & allow) | forced;
						uint32_t got = reg(&g, fw->reg);
						CHECK(got == want,
						      "%s: leaf %#x.%u %s: got %#x want %#x (host %#x, "
						      "allowed %#x, n=%u osxsave=%u caps=%u)\n",
						      d->name, fw->leaf, fw->sub, reg_names[fw->reg], got,
						      want, reg(&hr, fw->reg), allow, n, os, caps);
					}
				}
	}
}

/* Bits named in the design as never shown, checked by number, not through the table. */
struct never {
	uint32_t leaf, sub;
	enum cpuid_reg reg;
	uint32_t bits;
	const char *what;
};

static const struct never never_bits[] = {
    {1, 0, CPUID_ECX,
     (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8) |
	 (1u << 10) | (1u << 11) | (1u << 14) | (1u << 15) | (1u << 18),
     "DTES64 MONITOR DS-CPL VMX SMX EIST TM2 CNXT-ID SDBG xTPR PDCM DCA"},
    {1, 0, CPUID_EDX, (1u << 18) | (1u << 21) | (1u << 22) | (1u << 29) | (1u << 31),
     "PSN DS ACPI TM PBE"},
    {6, 0, CPUID_EAX, ~(1u << 2), "leaf 6 beyond ARAT"},
    {6, 0, CPUID_ECX, ~0u, "leaf 6 ECX (APERF/MPERF...)"},
    {7, 0, CPUID_EBX, (1u << 2) | (1u << 12) | (1u << 14) | (1u << 15) | (1u << 25),
     "SGX PQM MPX PQE PT"},
    {7, 0, CPUID_ECX,
     (1u << 3) | (1u << 4) | (1u << 5) | (1u << 7) | (1u << 13) | (0x1fu << 17) | (1u << 23) |
	 (1u << 29) | (1u << 30) | (1u << 31),
     "PKU OSPKE WAITPKG CET_SS TME MAWAU KL ENQCMD SGX_LC PKS"},
    {7, 0, CPUID_EDX,
     (1u << 5) | (1u << 13) | (1u << 15) | (1u << 18) | (1u << 19) | (1u << 20) | (1u << 22) |
	 (1u << 24) | (1u << 25) | (1u << 28) | (1u << 30),
     "UINTR TSX_FORCE_ABORT HYBRID PCONFIG ARCH_LBR CET_IBT AMX_BF16 AMX_TILE AMX_INT8 "
     "L1D_FLUSH CORE_CAPABILITIES"},
    {7, 1, CPUID_EAX, (1u << 17) | (1u << 21) | (1u << 22) | (1u << 26),
     "FRED AMX_FP16 HRESET LAM"},
    {0xd, 1, CPUID_EAX, (1u << 3) | (1u << 4), "XSAVES XFD"},
    {0xd, 1, CPUID_ECX, ~0u, "IA32_XSS components"},
    {0x80000001, 0, CPUID_ECX,
     (1u << 2) | (1u << 3) | (1u << 9) | (1u << 10) | (1u << 12) | (1u << 13) | (1u << 15) |
	 (1u << 19) | (1u << 22) | (1u << 23) | (1u << 24) | (1u << 26) | (1u << 27) |
	 (1u << 28) | (1u << 29),
     "SVM ExtApicSpace OSVW IBS SKINIT WDT LWP NodeId TopoExt PerfCtrExt* DataBkptExt PerfTsc "
     "MONITORX"},
    {0x80000007, 0, CPUID_EDX, ~(1u << 8), "power management beyond invariant TSC"},
    {0x80000007, 0, CPUID_EBX, ~0u, "RAS capabilities (SMCA)"},
    {0x80000008, 0, CPUID_EBX, (1u << 1) | (1u << 3) | (1u << 4) | (1u << 25),
     "IRPerf INVLPGB RDPRU VirtSsbd"},
    {0x80000021, 0, CPUID_EAX, (1u << 8), "AutomaticIBRS"},
};

static void test_never_shown_bits_whatever_the_host(void **state)
{
	(void)state;
	for (unsigned di = 0; di < ndumps; di++) {
		const struct dump *d = dumps[di];
		for (unsigned caps = 0; caps < 2; caps++) {
			struct cpuid_ctx c = ctx_for(d, 0, 4, true, caps);
			for (unsigned i = 0; i < sizeof(never_bits) / sizeof(never_bits[0]); i++) {
				const struct never *nb = &never_bits[i];
				struct cpuid_result g = guest(d, &c, nb->leaf, nb->sub);
				CHECK(!(reg(&g, nb->reg) & nb->bits),
				      "%s: leaf %#x.%u %s shows %#x of %s\n", d->name, nb->leaf,
				      nb->sub, reg_names[nb->reg], reg(&g, nb->reg) & nb->bits,
				      nb->what);
			}
			/* whole leaves that must read zero whatever the host has */
			static const uint32_t zero_leaves[] = {3,	   5,	       9,	   0xa,
							       0xf,	   0x10,       0x12,	   0x14,
							       0x19,	   0x1b,       0x1c,	   0x1d,
							       0x1e,	   0x8000000a, 0x8000001d, 0x8000001e,
							       0x8000001f, 0x80000020};
			for (unsigned i = 0; i < sizeof(zero_leaves) / sizeof(zero_leaves[0]); i++)
				for (uint32_t sub = 0; sub < 3; sub++) {
					struct cpuid_result g = guest(d, &c, zero_leaves[i], sub);
					CHECK(!(g.eax | g.ebx | g.ecx | g.edx),
					      "%s: leaf %#x.%u not zero\n", d->name, zero_leaves[i],
					      sub);
				}
		}
	}
}

static void test_rdtscp_rdpid_invpcid_follow_the_backend(void **state)
{
	(void)state;
	for (unsigned di = 0; di < ndumps; di++) {
		const struct dump *d = dumps[di];
		struct cpuid_ctx off = ctx_for(d, 0, 1, false, false);
		struct cpuid_ctx on = ctx_for(d, 0, 1, false, true);
		struct cpuid_result e_off = guest(d, &off, 0x80000001, 0);
		struct cpuid_result e_on = guest(d, &on, 0x80000001, 0);
		struct cpuid_result s_off = guest(d, &off, 7, 0), s_on = guest(d, &on, 7, 0);
		CHECK(!(e_off.edx & (1u << 27)), "%s: RDTSCP shown without the control\n", d->name);
		CHECK(!(s_off.ecx & (1u << 22)), "%s: RDPID shown without the control\n", d->name);
		CHECK(!(s_off.ebx & (1u << 10)), "%s: INVPCID shown without the control\n", d->name);
		CHECK(!!(e_on.edx & (1u << 27)) == !!(host(d, 0x80000001, 0).edx & (1u << 27)),
		      "%s: RDTSCP not as the host\n", d->name);
		CHECK(!!(s_on.ebx & (1u << 10)) == !!(host(d, 7, 0).ebx & (1u << 10)),
		      "%s: INVPCID not as the host\n", d->name);
		struct cpuid_result x = guest(d, &on, 0xd, 1);
		CHECK(!(x.eax & (1u << 3)), "%s: XSAVES shown though IA32_XSS is not emulated\n",
		      d->name);
	}
}

static unsigned log2_ceil(unsigned n)
{
	unsigned s = 0;
	while ((1u << s) < n)
		s++;
	return s;
}

static void test_topology_is_the_vms(void **state)
{
	(void)state;
	/* past 255 the APIC IDs are x2APIC only; the 8-bit and 6-bit fields saturate */
	static const unsigned sizes[] = {1, 2, 4, 8, 64, 255, 256, 300, 512};
	for (unsigned di = 0; di < ndumps; di++) {
		const struct dump *d = dumps[di];
		for (unsigned si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
			unsigned n = sizes[si];
			for (unsigned id = 0; id < n; id++) {
				struct cpuid_ctx c = ctx_for(d, id, n, false, true);
				struct cpuid_result l1 = guest(d, &c, 1, 0);
				CHECK(l1.ebx >> 24 == (id & 0xff), "%s: APIC ID %u want %u\n",
				      d->name, l1.ebx >> 24, id);
				CHECK(((l1.ebx >> 16) & 0xff) == (n > 255 ? 255 : n),
				      "%s: count %u want %u\n", d->name, (l1.ebx >> 16) & 0xff, n);
				CHECK((l1.ebx & 0xffff) == (host(d, 1, 0).ebx & 0xffff),
				      "%s: CLFLUSH size/brand not passed\n", d->name);
				CHECK(!!(l1.edx & (1u << 28)) == (n > 1), "%s: HTT with n=%u\n",
				      d->name, n);

				/* 0xB always, 0x1F where the host has it */
				for (uint32_t leaf = 0xb; leaf <= 0x1f; leaf += 0x14) {
					if (!in_range(d, leaf))
						continue;
					if (leaf == 0x1f && !(host(d, 0x1f, 0).ebx & 0xffff)) {
						struct cpuid_result z = guest(d, &c, leaf, 0);
						CHECK(!(z.eax | z.ebx | z.ecx | z.edx),
						      "%s: 0x1F without the host's\n", d->name);
						continue;
					}
					struct cpuid_result t0 = guest(d, &c, leaf, 0);
					struct cpuid_result t1 = guest(d, &c, leaf, 1);
					struct cpuid_result t2 = guest(d, &c, leaf, 2);
					struct cpuid_result t5 = guest(d, &c, leaf, 5);
					CHECK(t0.eax == 0 && t0.ebx == 1 && t0.ecx == 0x100 &&
						  t0.edx == id,
					      "%s: leaf %#x.0 = %x %x %x %x\n", d->name, leaf, t0.eax,
					      t0.ebx, t0.ecx, t0.edx);
					CHECK(t1.eax == log2_ceil(n) && t1.ebx == n &&
						  t1.ecx == 0x201 && t1.edx == id,
					      "%s: leaf %#x.1 = %x %x %x %x (n=%u)\n", d->name, leaf,
					      t1.eax, t1.ebx, t1.ecx, t1.edx, n);
					CHECK(t2.eax == 0 && t2.ebx == 0 && t2.ecx == 2 && t2.edx == id,
					      "%s: leaf %#x.2 = %x %x %x %x\n", d->name, leaf, t2.eax,
					      t2.ebx, t2.ecx, t2.edx);
					CHECK(t5.ecx == 5 && t5.edx == id, "%s: leaf %#x.5\n", d->name,
					      leaf);
					/* every APIC ID fits in the bits the levels claim */
					CHECK((id >> t1.eax) == 0, "%s: id %u beyond shift %u\n", d->name,
					      id, t1.eax);
				}

				/* Intel leaf 4: cores per package, sharing from the VM's topology */
				for (uint32_t sub = 0; d->vendor == CPUID_VENDOR_INTEL && sub < 8;
				     sub++) {
					struct cpuid_result h4 = host(d, 4, sub), g4 = guest(d, &c, 4, sub);
					if (!in_range(d, 4) || !(h4.eax & 0x1f)) {
						CHECK(!(g4.eax | g4.ebx | g4.ecx | g4.edx),
						      "%s: leaf 4.%u past the caches\n", d->name, sub);
						break;
					}
					unsigned level = (h4.eax >> 5) & 7;
					CHECK(g4.eax >> 26 == (n > 64 ? 64 : n) - 1, "%s: 4.%u cores %u\n",
					      d->name, sub, g4.eax >> 26);
					unsigned sharing = ((g4.eax >> 14) & 0xfff) + 1;
					CHECK(level <= 2 ? sharing == 1 : sharing >= n,
					      "%s: 4.%u (L%u) shared by %u of %u\n", d->name, sub, level,
					      sharing, n);
					CHECK((g4.eax & 0x3fff) == (h4.eax & 0x3fff) &&
						  g4.ebx == h4.ebx && g4.ecx == h4.ecx,
					      "%s: 4.%u cache geometry changed\n", d->name, sub);
				}

				if (d->vendor == CPUID_VENDOR_AMD && in_range(d, 0x80000008)) {
					struct cpuid_result x8 = guest(d, &c, 0x80000008, 0);
					CHECK((x8.ecx & 0xff) == (n > 256 ? 256 : n) - 1, "%s: NC %u\n",
					      d->name, x8.ecx & 0xff);
					CHECK(((x8.ecx >> 12) & 0xf) == log2_ceil(n),
					      "%s: ApicIdCoreIdSize %u\n", d->name, (x8.ecx >> 12) & 0xf);
					CHECK((x8.eax & 0xffff) == (host(d, 0x80000008, 0).eax & 0xffff) &&
						  !(x8.eax >> 16),
					      "%s: address sizes\n", d->name);
				}
				if (d->vendor == CPUID_VENDOR_AMD && in_range(d, 0x80000001)) {
					struct cpuid_result x1 = guest(d, &c, 0x80000001, 0);
					CHECK(!!(x1.ecx & 2) == (n > 1), "%s: CmpLegacy with n=%u\n",
					      d->name, n);
					CHECK(!(x1.ecx & (1u << 22)), "%s: TopoExt shown\n", d->name);
				}
				/* TopoExt is hidden: 0x8000001E says nothing the MADT could contradict */
				if (d->vendor == CPUID_VENDOR_AMD && in_range(d, 0x8000001e)) {
					struct cpuid_result x1e = guest(d, &c, 0x8000001e, 0);
					CHECK(!(x1e.eax | x1e.ebx | x1e.ecx | x1e.edx),
					      "%s: 0x8000001E not zero\n", d->name);
				}
			}
		}
	}
}

static void test_osxsave_follows_cr4(void **state)
{
	(void)state;
	for (unsigned di = 0; di < ndumps; di++) {
		const struct dump *d = dumps[di];
		struct cpuid_ctx off = ctx_for(d, 0, 1, false, true);
		struct cpuid_ctx on = ctx_for(d, 0, 1, true, true);
		CHECK(!(guest(d, &off, 1, 0).ecx & (1u << 27)), "%s: OSXSAVE with CR4 clear\n",
		      d->name);
		CHECK(guest(d, &on, 1, 0).ecx & (1u << 27), "%s: no OSXSAVE with CR4 set\n",
		      d->name);
		CHECK(guest(d, &on, 1, 0).ecx & (1u << 31), "%s: hypervisor bit\n", d->name);
		CHECK(!(guest(d, &on, 7, 0).ecx & (1u << 4)), "%s: OSPKE without PKU\n", d->name);
	}
}

static void test_xsave_leaf_is_consistent(void **state)
{
	(void)state;
	for (unsigned di = 0; di < ndumps; di++) {
		const struct dump *d = dumps[di];
		struct cpuid_ctx c = ctx_for(d, 0, 1, true, true);
		struct cpuid_host h = host_of(d);
		uint64_t allowed = cpuid_policy_xcr0_allowed(&h);
		struct cpuid_result hd = host(d, 0xd, 0);
		uint64_t host_sup = hd.eax | ((uint64_t)hd.edx << 32);
		bool xsave = (host(d, 1, 0).ecx & (1u << 26)) && in_range(d, 0xd);
		if (!xsave) {
			CHECK(allowed == 0, "%s: XCR0 without XSAVE\n", d->name);
			continue;
		}
		CHECK((allowed & ~0xe7ull) == 0, "%s: XCR0 allowed %#llx beyond x87/SSE/AVX/AVX-512\n",
		      d->name, (unsigned long long)allowed);
		CHECK((allowed & ~host_sup) == 0, "%s: XCR0 beyond the host\n", d->name);
		CHECK(allowed & 1, "%s: no x87\n", d->name);
		CHECK((allowed & 0xe0) == 0 || (allowed & 0xe0) == 0xe0, "%s: partial AVX-512\n",
		      d->name);
		CHECK(((allowed & 0xe0) != 0) == !!(guest(d, &c, 7, 0).ebx & (1u << 16)),
		      "%s: AVX512F shown %d, ZMM state allowed %d\n", d->name,
		      !!(guest(d, &c, 7, 0).ebx & (1u << 16)), (allowed & 0xe0) != 0);
		CHECK(((allowed & 4) != 0) == !!(guest(d, &c, 1, 0).ecx & (1u << 28)) ||
			  !(host(d, 1, 0).ecx & (1u << 28)),
		      "%s: AVX shown against YMM allowed\n", d->name);

		static const uint64_t xcr0s[] = {1, 3, 7, 0xe7};
		for (unsigned xi = 0; xi < 4; xi++) {
			uint64_t xcr0 = xcr0s[xi];
			if ((xcr0 & allowed) != xcr0)
				continue;
			c.xcr0 = xcr0;
			struct cpuid_result s0 = guest(d, &c, 0xd, 0);
			CHECK(s0.eax == (uint32_t)allowed && s0.edx == (uint32_t)(allowed >> 32),
			      "%s: 0xD.0 components %#x:%#x\n", d->name, s0.edx, s0.eax);
			/* ECX: the end of the last allowed component; EBX: of XCR0's */
			uint32_t max_end = 576, cur_end = 576, compact = 576;
			for (unsigned i = 2; i < 63; i++) {
				struct cpuid_result si = guest(d, &c, 0xd, i);
				if (!(allowed & (1ull << i))) {
					CHECK(!(si.eax | si.ebx | si.ecx | si.edx),
					      "%s: 0xD.%u of a component not offered\n", d->name, i);
					continue;
				}
				struct cpuid_result hi = host(d, 0xd, i);
				CHECK(si.eax == hi.eax && si.ebx == hi.ebx && !(si.ecx & 1),
				      "%s: 0xD.%u\n", d->name, i);
				if (si.eax + si.ebx > max_end)
					max_end = si.eax + si.ebx;
				if ((xcr0 & (1ull << i)) && si.eax + si.ebx > cur_end)
					cur_end = si.eax + si.ebx;
				if (xcr0 & (1ull << i))
					compact = ((si.ecx & 2) ? (compact + 63) & ~63u : compact) + si.eax;
			}
			CHECK(s0.ecx == max_end, "%s: 0xD.0 ECX %u want %u\n", d->name, s0.ecx, max_end);
			CHECK(s0.ebx == cur_end, "%s: 0xD.0 EBX %u want %u for XCR0 %#llx\n", d->name,
			      s0.ebx, cur_end, (unsigned long long)xcr0);
			CHECK(s0.ebx <= s0.ecx, "%s: EBX beyond ECX\n", d->name);
			struct cpuid_result s1 = guest(d, &c, 0xd, 1);
			CHECK(s1.eax == (host(d, 0xd, 1).eax & 7), "%s: 0xD.1 EAX %#x\n", d->name,
			      s1.eax);
			CHECK(s1.ebx == ((s1.eax & 2) ? compact : 0), "%s: 0xD.1 EBX %u want %u\n",
			      d->name, s1.ebx, compact);
			CHECK(!(s1.ecx | s1.edx), "%s: IA32_XSS components\n", d->name);
		}
		/* where the dump's own XCR0 was x87 only (the dumper guests), EBX agrees with it */
		if (hd.ebx == 576) {
			c.xcr0 = 1;
			CHECK(guest(d, &c, 0xd, 0).ebx == 576, "%s: EBX for XCR0=1\n", d->name);
		}
		for (uint32_t sub = 63; sub < 70; sub++) {
			struct cpuid_result z = guest(d, &c, 0xd, sub);
			CHECK(!(z.eax | z.ebx | z.ecx | z.edx), "%s: 0xD.%u\n", d->name, sub);
		}
	}
}

static void test_xsetbv_checks(void **state)
{
	(void)state;
	const uint64_t all = 0xe7;
	assert_true(cpuid_policy_xcr0_valid(0, 1, all));
	assert_true(cpuid_policy_xcr0_valid(0, 3, all));
	assert_true(cpuid_policy_xcr0_valid(0, 7, all));
	assert_true(cpuid_policy_xcr0_valid(0, 0xe7, all));
	assert_false(cpuid_policy_xcr0_valid(1, 7, all));	/* only XCR0 */
	assert_false(cpuid_policy_xcr0_valid(0, 6, all));	/* x87 must stay */
	assert_false(cpuid_policy_xcr0_valid(0, 5, all));	/* AVX without SSE */
	assert_false(cpuid_policy_xcr0_valid(0, 0x27, all)); /* part of AVX-512 */
	assert_false(cpuid_policy_xcr0_valid(0, 0xe3, all)); /* AVX-512 without AVX */
	assert_false(cpuid_policy_xcr0_valid(0, 0x207, all));	     /* PKRU */
	assert_true(cpuid_policy_xcr0_valid(0, 0x207, 0x207));	     /* the mask decides */
	assert_false(cpuid_policy_xcr0_valid(0, 0x1f, all));	     /* MPX */
	assert_false(cpuid_policy_xcr0_valid(0, 7, 3));		     /* AVX not offered */
	assert_false(cpuid_policy_xcr0_valid(0, 0x60007, all));	     /* AMX */
}

static void test_unknown_leaves_zero_and_maxima_clamped(void **state)
{
	(void)state;
	uint32_t basic_max = 0, ext_max_intel = 0, ext_max_amd = 0;
	for (unsigned i = 0; i < cpuid_leaf_rule_count; i++) {
		const struct cpuid_leaf_rule *r = &cpuid_leaf_rules[i];
		if (r->leaf < 0x40000000u && r->leaf > basic_max)
			basic_max = r->leaf;
		if (r->leaf >= 0x80000000u && (r->vendors & CPUID_INTEL) && r->leaf > ext_max_intel)
			ext_max_intel = r->leaf;
		if (r->leaf >= 0x80000000u && (r->vendors & CPUID_AMD) && r->leaf > ext_max_amd)
			ext_max_amd = r->leaf;
	}
	for (unsigned di = 0; di < ndumps; di++) {
		const struct dump *d = dumps[di];
		struct cpuid_ctx c = ctx_for(d, 1, 2, true, true);
		struct cpuid_result l0 = guest(d, &c, 0, 0), h0 = host(d, 0, 0);
		uint32_t want0 = h0.eax < basic_max ? h0.eax : basic_max;
		CHECK(l0.eax == want0, "%s: max basic %#x want %#x\n", d->name, l0.eax, want0);
		CHECK(l0.ebx == h0.ebx && l0.ecx == h0.ecx && l0.edx == h0.edx, "%s: vendor\n",
		      d->name);
		struct cpuid_result x0 = guest(d, &c, 0x80000000, 0), hx = host(d, 0x80000000, 0);
		uint32_t tmax = d->vendor == CPUID_VENDOR_INTEL ? ext_max_intel : ext_max_amd;
		uint32_t wantx = hx.eax < tmax ? hx.eax : tmax;
		CHECK(x0.eax == wantx, "%s: max extended %#x want %#x\n", d->name, x0.eax, wantx);
		/* past the guest's maxima, and leaves nobody defines, read zero */
		uint32_t probes[] = {want0 + 1, 0x20,	    0x21,	0x24,	    0x3f,
				     0x40000002, 0x40000102, 0x40000200, 0x4fffffff, 0x7fffffff, wantx + 1,
				     0x80000022, 0x80000026, 0x8fffffff, 0xc0000000, 0xffffffff};
		for (unsigned i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
			struct cpuid_result z = guest(d, &c, probes[i], 0);
			CHECK(!(z.eax | z.ebx | z.ecx | z.edx), "%s: leaf %#x = %x %x %x %x\n",
			      d->name, probes[i], z.eax, z.ebx, z.ecx, z.edx);
		}
		/* leaves of the other vendor */
		uint32_t other[] = {0x2, 0x4, 0x15, 0x16};
		for (unsigned i = 0; d->vendor == CPUID_VENDOR_AMD && i < 4; i++) {
			struct cpuid_result z = guest(d, &c, other[i], 0);
			CHECK(!(z.eax | z.ebx | z.ecx | z.edx), "%s: Intel leaf %#x\n", d->name,
			      other[i]);
		}
		/* leaf 7: at most sub-leaf 1 */
		CHECK(guest(d, &c, 7, 0).eax <= 1, "%s: leaf 7 max sub-leaf\n", d->name);
		struct cpuid_result l72 = guest(d, &c, 7, 2);
		CHECK(!(l72.eax | l72.ebx | l72.ecx | l72.edx), "%s: leaf 7.2\n", d->name);
	}
}

static void test_hypervisor_leaves(void **state)
{
	(void)state;
	const struct dump *d = dumps[0];
	struct cpuid_ctx c = ctx_for(d, 0, 1, false, true);
	struct cpuid_result r = guest(d, &c, HV_CPUID_BASE, 0);
	assert_int_equal(r.eax, HV_CPUID_BASE + 1);
	char sig[13] = {0};
	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	assert_string_equal(sig, "BareMetalHV ");
	r = guest(d, &c, HV_CPUID_BASE + 1, 0);
	assert_int_equal(r.eax, HV_ABI_VERSION);
	r = guest(d, &c, HV_CPUID_BASE + 0x42, 0);
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
	/*
	 * KVM's signature one range up, with only the clock features, PV EOI
	 * (pvclock.h) and the overcommit features (pvsched.h): steal time 5,
	 * PV unhalt 7, PV TLB flush 9, PV sched yield 13
	 */
	r = guest(d, &c, KVM_CPUID_BASE, 0);
	assert_int_equal(r.eax, KVM_CPUID_BASE + 1);
	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	assert_memory_equal(sig, "KVMKVMKVM\0\0\0", 12);
	r = guest(d, &c, KVM_CPUID_BASE + 1, 0);
	assert_int_equal(r.eax, (1u << 1) | (1u << 3) | (1u << 5) | (1u << 6) | (1u << 7) |
				    (1u << 9) | (1u << 13) | (1u << 24));
	assert_int_equal(r.ebx | r.ecx | r.edx, 0);
	r = guest(d, &c, KVM_CPUID_BASE + 2, 0);
	assert_int_equal(r.eax | r.ebx | r.ecx | r.edx, 0);
}

/* The table itself: one row per bit, each with a name and a reason; leaves in order. */
static void test_table_is_well_formed(void **state)
{
	(void)state;
	for (unsigned w = 0; w < cpuid_feature_word_count; w++) {
		const struct cpuid_feature_word *fw = &cpuid_feature_words[w];
		uint32_t seen = 0;
		for (unsigned b = 0; b < fw->count; b++) {
			const struct cpuid_bit *bit = &fw->bits[b];
			CHECK(bit->bit < 32 && !(seen & (1u << bit->bit)),
			      "leaf %#x.%u %s bit %u listed twice\n", fw->leaf, fw->sub,
			      reg_names[fw->reg], bit->bit);
			seen |= 1u << bit->bit;
			CHECK(bit->name && bit->name[0] && bit->why && bit->why[0],
			      "leaf %#x bit %u has no name or reason\n", fw->leaf, bit->bit);
		}
		const struct cpuid_leaf_rule *r = cpuid_table_leaf(fw->leaf);
		CHECK(r && r->kind != CPUID_LEAF_ZERO && r->kind != CPUID_LEAF_PASS,
		      "feature word of leaf %#x without a leaf that uses it\n", fw->leaf);
	}
	for (unsigned i = 0; i < cpuid_leaf_rule_count; i++) {
		CHECK(cpuid_leaf_rules[i].why && cpuid_leaf_rules[i].why[0], "leaf %#x: no reason\n",
		      cpuid_leaf_rules[i].leaf);
		CHECK(i == 0 || cpuid_leaf_rules[i].leaf > cpuid_leaf_rules[i - 1].leaf,
		      "leaf %#x out of order\n", cpuid_leaf_rules[i].leaf);
	}
}

static void test_dumps_were_found(void **state)
{
	(void)state;
	unsigned intel = 0, amd = 0;
	for (unsigned i = 0; i < ndumps; i++)
		if (!dumps[i]->synthetic && dumps[i]->vendor == CPUID_VENDOR_INTEL)
			intel++;
		else if (!dumps[i]->synthetic)
			amd++;
	CHECK(intel >= 2 && amd >= 2, "stored dumps: %u Intel, %u AMD in %s\n", intel, amd,
	      data_dir());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dumps_were_found),
	    cmocka_unit_test(test_table_is_well_formed),
	    cmocka_unit_test(test_feature_bits_are_the_allow_list_and_the_host),
	    cmocka_unit_test(test_never_shown_bits_whatever_the_host),
	    cmocka_unit_test(test_rdtscp_rdpid_invpcid_follow_the_backend),
	    cmocka_unit_test(test_topology_is_the_vms),
	    cmocka_unit_test(test_osxsave_follows_cr4),
	    cmocka_unit_test(test_xsave_leaf_is_consistent),
	    cmocka_unit_test(test_xsetbv_checks),
	    cmocka_unit_test(test_unknown_leaves_zero_and_maxima_clamped),
	    cmocka_unit_test(test_hypervisor_leaves),
	};
	return cmocka_run_group_tests(tests, load_all, free_all);
}
