/*
 * hostile: what a broken or malicious kernel throws at the hypervisor, each
 * answered architecturally while the host and the other VMs carry on:
 *  - a CPUID sweep over the basic, hypervisor and extended ranges and
 *    beyond (leaves past the maxima and the hypervisor's own range read 0);
 *  - an MSR sweep over the architectural, AMD and bogus ranges: every
 *    RDMSR either reads or raises #GP(0), and an MSR that cannot be read
 *    cannot be written either;
 *  - reads and writes to every hole of the 32-bit address space (no RAM, no
 *    device): reads are all ones (an open bus), writes vanish;
 *  - IN from every port and OUT to every port but the few that end or reset
 *    the VM (the exit port, the reset and power controls, pvpanic);
 *  - INS/OUTS to every port, with and without REP.
 * Options: "quick" samples the sweeps (for Bochs, whose exits are slow).
 */
#include "guest.h"

const char guest_name[] = "hostile";

static unsigned stride;

static void cpuid_sweep(void)
{
	static const uint32_t bases[] = {0, 0x40000000u, 0x80000000u, 0xc0000000u, 0x8fffff00u,
					 0x7fffffffu};
	struct cpuid_regs max_basic = cpuid(0, 0), max_ext = cpuid(0x80000000u, 0);
	struct cpuid_regs hv = cpuid(0x40000000u, 0);
	unsigned n = 0;

	for (unsigned b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
		for (uint32_t leaf = bases[b]; leaf < bases[b] + 0x40; leaf++)
			for (uint32_t sub = 0; sub < 4; sub++, n++)
				cpuid(leaf, sub);
	/* the hypervisor range ends at its maximum: past it, nothing */
	struct cpuid_regs past = cpuid(hv.eax + 1, 0);
	check(hv.eax >= 0x40000000u && hv.eax < 0x40000100u, "hypervisor max leaf 0x%x", hv.eax);
	check(!past.eax && !past.ebx && !past.ecx && !past.edx,
	      "leaf 0x%x past the hypervisor's maximum reads %x %x %x %x", hv.eax + 1, past.eax,
	      past.ebx, past.ecx, past.edx);
	/* same answer twice: CPUID is a function of its inputs (and the vCPU) */
	struct cpuid_regs a = cpuid(1, 0), b2 = cpuid(1, 0);
	check(a.eax == b2.eax && a.ecx == b2.ecx && a.edx == b2.edx, "CPUID.1 changed between reads");
	printf("hostile: %u CPUID queries (max basic 0x%x, max extended 0x%x)\n", n, max_basic.eax,
	       max_ext.eax);
}

static void msr_sweep(void)
{
	static const uint32_t ranges[][2] = {
	    {0x0, 0x2000},	       {0xc0000000u, 0xc0000200u}, {0xc0010000u, 0xc0010300u},
	    {0xc0011000u, 0xc0011100u}, {0x40000000u, 0x40000100u}, {0x4b564d00u, 0x4b564d10u},
	    {0xfffffff0u, 0xffffffffu},
	};
	unsigned read = 0, faulted = 0;
	for (unsigned r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
		printf("hostile: MSRs 0x%x-0x%x\n", ranges[r][0], ranges[r][1] - 1);
		for (uint64_t m = ranges[r][0]; m < ranges[r][1]; m += stride) {
			uint32_t msr = (uint32_t)m;
			uint64_t v;
			if (opt_present("verbose"))
				printf("hostile: msr 0x%x\n", msr);
			uint32_t err = 0;
			int f = rdmsr_safe(msr, &v, &err);
			if (!f) {
				read++;
				continue;
			}
			faulted++;
			if (!check(f == VEC_GP + 1 && err == 0, "rdmsr 0x%x: vector %d error 0x%x, want #GP(0)",
				   msr, f - 1, err))
				continue;
			f = wrmsr_safe(msr, 0x5a5a5a5a5a5a5a5aull, &err);
			check(f == VEC_GP + 1 && err == 0,
			      "wrmsr 0x%x (which cannot be read): vector %d, want #GP(0)", msr, f - 1);
		}
	}
	printf("hostile: MSR sweep: %u readable, %u #GP\n", read, faulted);
}

static bool in_ram(uint32_t a)
{
	for (int i = 0; i < boot.mmap_count; i++)
		if (a >= boot.mmap[i].base && a - boot.mmap[i].base < boot.mmap[i].len)
			return true;
	return false;
}

/*
 * The devices a VM has in the 32-bit space (PCI ECAM, IOAPIC, HPET, local
 * APIC), and RAM. The PCI memory window without BARs is a hole like any other.
 */
static bool claimed(uint32_t a)
{
	return in_ram(a) || (a >= 0xc0000000u && a < 0xc0100000u) ||
	       (a >= 0xfec00000u && a < 0xfec01000u) ||
	       (a >= 0xfed00000u && a < 0xfed01000u) || (a >= 0xfee00000u && a < 0xfee01000u) ||
	       a < 0x100000u; /* low memory and the BIOS area: ROM and reserved */
}

static void mmio_holes(void)
{
	unsigned n = 0;
	uint32_t step = stride > 1 ? 0x1000000u : 0x100000u;
	for (uint64_t a = 0x100000u; a < 0x100000000ull; a += step) {
		uint32_t addr = (uint32_t)a + 0x7f0; /* inside the page, 16-byte aligned */
		if (claimed(addr))
			continue;
		volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)addr;
		uint32_t before = *p;
		*p = 0x12345678u;
		uint32_t after = *p;
		volatile uint8_t *b = (volatile uint8_t *)(uintptr_t)(addr + 3);
		uint8_t byte = *b;
		n++;
		if (!check(before == 0xffffffffu && after == 0xffffffffu && byte == 0xff,
			   "hole at 0x%x reads 0x%x, then 0x%x after a write, byte 0x%x", addr, before,
			   after, byte))
			return;
	}
	printf("hostile: %u holes read as open bus\n", n);
}

/* Writing these ends or resets the VM: the exit port, the 8042 and 0x92 resets,
 * the reset control register and ACPI PM1 (sleep), pvpanic. */
static bool dangerous_out(uint16_t port)
{
	return (port >= 0xf4 && port <= 0xf7) || port == 0x64 || port == 0x92 ||
	       (port >= 0xcf8 && port <= 0xcff) || (port >= 0x600 && port < 0x640) ||
	       port == 0x505;
}

static void port_sweep(void)
{
	unsigned outs = 0;
	for (uint32_t port = 0; port < 0x10000; port += stride) {
		inb((uint16_t)port);
		if (dangerous_out((uint16_t)port) || (port >= 0x3f8 && port < 0x400))
			continue;
		outb((uint16_t)port, 0);
		outs++;
	}
	printf("hostile: IN from every port, OUT to %u\n", outs);
}

/* INS/OUTS (SDM Vol. 2B): one byte to every port, a REP of 4 to a sample. */
static void string_port_sweep(void)
{
	static uint8_t buf[16];
	unsigned n = 0;
	for (uint32_t port = 0; port < 0x10000; port += stride * 7) {
		if (dangerous_out((uint16_t)port) || (port >= 0x3f8 && port < 0x400))
			continue;
		void *d = buf, *s = buf;
		uint32_t c = 4;
		__asm__ volatile("insb" : "+D"(d) : "d"((uint16_t)port) : "memory");
		__asm__ volatile("outsb" : "+S"(s) : "d"((uint16_t)port) : "memory");
		__asm__ volatile("cld; rep insb" : "+D"(d), "+c"(c) : "d"((uint16_t)port) : "memory");
		c = 4;
		__asm__ volatile("cld; rep outsb" : "+S"(s), "+c"(c) : "d"((uint16_t)port) : "memory");
		n++;
		if (!check(c == 0 && d == buf + 5 && s == buf + 5,
			   "string I/O to port 0x%x left count %u, rdi +%d, rsi +%d", port, c,
			   (int)((uint8_t *)d - buf), (int)((uint8_t *)s - buf)))
			return;
	}
	printf("hostile: INS/OUTS to %u ports\n", n);
}

void guest_main(void)
{
	stride = opt_present("quick") ? 13 : 1;
	cpuid_sweep();
	msr_sweep();
	mmio_holes();
	port_sweep();
	if (!opt_present("no-string-io"))
		string_port_sweep();
}
