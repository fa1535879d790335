/*
 * QEMU's `edu` device passed through to this guest (device assignment
 * behind VT-d). The guest finds it on its bus as any OS would, programs
 * its MSI, and drives its DMA engine (BAR0: source 0x80, destination 0x88,
 * count 0x90, command 0x98 with start 1, device-to-RAM 2, interrupt 4; the
 * device's buffer at 0x40000, 4 KiB; transfers of 2 KiB here):
 *   - a page of RAM copied into the device and back to another page must
 *     arrive intact, and the completion MSI must come in on the vector this
 *     guest programmed;
 *   - with `rogue=A,B,...` on its command line, it then aims device-to-RAM
 *     DMA at each of those addresses (outside its RAM: the hypervisor's
 *     memory, another VM's, past its own end). The IOMMU must block each;
 *     the guest only reports that the device finished ("edu: rogue DMA to
 *     A done"), the test reads the hypervisor's fault lines.
 * With `intx`, it then turns MSI off and uses the device's INTx instead:
 * its slot's INTA reaches the VM's IOAPIC pin 16 + slot % 4 (what the
 * VM's _PRT says), programmed level-triggered, active low, to INTX_VECTOR.
 * The handler acks the device (0x64) and EOIs; the guest raises (0x60) and
 * must receive one interrupt, then a second (the host line is unmasked
 * only after the first's EOI), then none while COMMAND.INTX_DISABLE is set
 * (raised meanwhile), and that one once INTX_DISABLE is cleared again.
 * With `stay`, it says whether its checks passed and then waits (halted)
 * for the host to reboot or destroy it.
 * With `bench=N` (scripts/bench_passthru.py), after its checks it times N
 * MSIs (the raise register written -> the handler's RDTSC) and N DMA round
 * trips (2 KiB RAM -> device -> RAM, each half waited for in HLT until its
 * completion MSI, less the device's own time: see dma_hlt) and the 2N
 * completions' latency (DMA done -> handler), and prints
 * "edu bench: msi|dma|dmairq N ops, T tsc, T/N per op".
 * The same guest runs on bare QEMU as the baseline (edu on bus 0 there).
 * With `victim`, it is the other VM instead: it fills its RAM above its
 * image with a pattern and checks it again and again ("victim: intact N"),
 * failing at the first byte that changed.
 *
 * The device-side range always stays inside edu's buffer: QEMU 7.2 treats
 * a range outside it as a fatal error of its own.
 */
#include "apic.h"
#include "guest.h"
#include "pci.h"

const char guest_name[] = "edu";

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_ID 0x00
#define EDU_LIVE 0x04
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_CMD_START 1
#define EDU_CMD_TO_RAM 2
#define EDU_CMD_IRQ 4
#define EDU_BUF 0x40000
#define EDU_DMA_IRQ 0x100

/*
 * QEMU 7.2's range check wants the transfer's end strictly inside the
 * buffer: a whole 4 KiB transfer is "out of bounds" there (and fatal).
 */
#define XFER 2048u

#define MSI_VECTOR 0x51
/* two pages past the image (the rogue VM has 2 MiB of RAM: all of it is below 2 MiB) */
#define PAGE_A ((((uint32_t)(uintptr_t)__image_end + 0xfff) & ~0xfffu) + 0x10000u)
#define PAGE_B (PAGE_A + 0x1000u)

volatile uint32_t msi_count;
/* the TSC at the handler's entry: the end of an MSI's latency in bench mode */
volatile uint32_t msi_tsc[2];
void msi_stub(void);
__asm__(".text\n"
	".align 8\n"
	".globl msi_stub\n"
	"msi_stub:\n\t"
	"pushl %eax\n\t"
	"pushl %edx\n\t"
	"rdtsc\n\t"
	"movl %eax, msi_tsc\n\t"
	"movl %edx, msi_tsc+4\n\t"
	"lock incl msi_count\n\t"
	"movl $0, 0xfee000b0\n\t" /* EOI */
	"popl %edx\n\t"
	"popl %eax\n\t"
	"iretl\n");

static volatile uint8_t *bar;

#define INTX_VECTOR 0x52
volatile uint32_t intx_count;
volatile uint32_t intx_bar;
void intx_stub(void);
__asm__(".text\n"
	".align 8\n"
	".globl intx_stub\n"
	"intx_stub:\n\t"
	"pushl %eax\n\t"
	"pushl %edx\n\t"
	"lock incl intx_count\n\t"
	"movl intx_bar, %edx\n\t"
	"movl 0x24(%edx), %eax\n\t" /* interrupt status */
	"movl %eax, 0x64(%edx)\n\t" /* ack: the device drops its line */
	"movl $0, 0xfee000b0\n\t"   /* EOI: reaches the IOAPIC (level) */
	"popl %edx\n\t"
	"popl %eax\n\t"
	"iretl\n");

static uint32_t rd32(uint32_t off)
{
	return *(volatile uint32_t *)(bar + off);
}

static void wr32(uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(bar + off) = v;
}

static void wr64(uint32_t off, uint64_t v)
{
	*(volatile uint64_t *)(bar + off) = v;
}

/* Runs one DMA and waits for the engine to finish (about 100 ms of QEMU's clock). */
static bool dma(uint64_t src, uint64_t dst, uint32_t cnt, uint32_t cmd)
{
	wr64(EDU_DMA_SRC, src);
	wr64(EDU_DMA_DST, dst);
	wr64(EDU_DMA_CNT, cnt);
	wr64(EDU_DMA_CMD, cmd | EDU_CMD_START);
	for (uint64_t i = 0; i < 2000000000ull; i++) {
		if (!(rd32(EDU_DMA_CMD) & EDU_CMD_START))
			return true;
		__asm__ volatile("pause");
	}
	return false;
}

static bool wait_msi(uint32_t want)
{
	for (uint64_t i = 0; i < 500000000ull && msi_count < want; i++) {
		__asm__ volatile("sti; nop; cli" ::: "memory");
	}
	return msi_count >= want;
}

static const char *arg(const char *key)
{
	const char *s = boot.cmdline;
	size_t n = 0;
	while (key[n])
		n++;
	for (; *s; s++) {
		size_t i = 0;
		while (i < n && s[i] == key[i])
			i++;
		if ((s == boot.cmdline || s[-1] == ' ') && i == n)
			return s + n;
	}
	return NULL;
}

static bool hex(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	if (s[0] == '0' && s[1] == 'x')
		s += 2;
	const char *start = s;
	for (;; s++) {
		char c = *s;
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			break;
		v = v << 4 | (uint64_t)d;
	}
	*p = s;
	*out = v;
	return s != start;
}

/*
 * edu's DMA engine finishes on a timer of QEMU's virtual clock set to a whole
 * millisecond, 100 ms after the one the command came in; under -icount the
 * TSC is that clock in ns (the hypervisor gives the guest the host's TSC), so
 * the completion instant is the handler's TSC rounded down to a millisecond.
 */
#define MS 1000000u

/*
 * Starts one DMA with its completion MSI and sleeps until that MSI comes.
 * *wait: the device's part (start -> completion), *late: completion -> handler.
 */
static bool dma_hlt(uint64_t src, uint64_t dst, uint32_t cmd, uint64_t *wait, uint64_t *late)
{
	uint32_t want = msi_count + 1;
	wr64(EDU_DMA_SRC, src);
	wr64(EDU_DMA_DST, dst);
	wr64(EDU_DMA_CNT, XFER);
	uint64_t t0 = rdtsc_ordered();
	wr64(EDU_DMA_CMD, cmd | EDU_CMD_IRQ | EDU_CMD_START);
	/* bounded: a lost MSI must end the run with a message, not hang it */
	for (unsigned i = 0; i < 100000 && msi_count < want; i++)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	if (msi_count < want || (rd32(EDU_DMA_CMD) & EDU_CMD_START))
		return false;
	uint64_t h = (uint64_t)msi_tsc[1] << 32 | msi_tsc[0], rem;
	udiv64(h, MS, &rem);
	*wait = h - rem - t0;
	*late = rem;
	wr32(EDU_IRQ_ACK, EDU_DMA_IRQ);
	/* not 99-100 ms: the TSC is not QEMU's clock (no -icount?), the figures would lie */
	return check(*wait > 99u * MS && *wait <= 100u * MS,
		     "edu bench: DMA took %llu ns, not 99-100 ms of edu's timer: no -icount?",
		     (unsigned long long)*wait);
}

static void report(const char *what, uint32_t n, uint64_t ticks)
{
	printf("edu bench: %s %u ops, %llu tsc, %llu per op\n", what, n,
	       (unsigned long long)ticks, (unsigned long long)udiv64(ticks, n, NULL));
}

static void bench(uint32_t n)
{
	uint64_t total = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t want = msi_count + 1;
		uint64_t t0 = rdtsc_ordered();
		wr32(EDU_IRQ_RAISE, 1);
		for (unsigned k = 0; k < 10000000 && msi_count < want; k++)
			__asm__ volatile("sti; nop; cli" ::: "memory");
		if (!check(msi_count >= want, "edu bench: MSI %u never came", i))
			return;
		total += ((uint64_t)msi_tsc[1] << 32 | msi_tsc[0]) - t0;
		wr32(EDU_IRQ_ACK, 1);
	}
	report("msi", n, total);

	for (uint32_t i = 0; i < XFER; i += 4)
		*(volatile uint32_t *)(PAGE_A + i) = 0xbe0c0000u + i;
	uint64_t t0 = rdtsc_ordered(), device = 0, late = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t w1, l1, w2, l2;
		if (!check(dma_hlt(PAGE_A, EDU_BUF, 0, &w1, &l1), "edu bench: DMA %u in failed", i) ||
		    !check(dma_hlt(EDU_BUF, PAGE_B, EDU_CMD_TO_RAM, &w2, &l2),
			   "edu bench: DMA %u out failed", i))
			return;
		device += w1 + w2;
		late += l1 + l2;
	}
	uint64_t t1 = rdtsc_ordered();
	unsigned bad = 0;
	for (uint32_t i = 0; i < XFER; i += 4)
		bad += *(volatile uint32_t *)(PAGE_B + i) != 0xbe0c0000u + i;
	if (check(bad == 0, "edu bench: %u words wrong after the round trips", bad))
		report("dma", n, t1 - t0 - device);
	report("dmairq", 2 * n, late);
}

static void victim(void)
{
	uint32_t from = ((uint32_t)(uintptr_t)__image_end + 0xfffff) & ~0xfffffu;
	uint32_t to = boot.mem_upper * 1024u + 0x100000u;
	printf("victim: RAM 0x%x-0x%x filled\n", from, to);
	for (uint32_t a = from; a < to; a += 4)
		*(volatile uint32_t *)a = a ^ 0x5a5aa5a5u;
	for (unsigned pass = 1;; pass++) {
		for (uint32_t a = from; a < to; a += 4) {
			if (*(volatile uint32_t *)a != (a ^ 0x5a5aa5a5u)) {
				check(false, "victim: RAM changed at 0x%x", a);
				return;
			}
		}
		printf("victim: intact %u\n", pass);
	}
}

static bool wait_intx(uint32_t want)
{
	for (uint64_t i = 0; i < 500000000ull && intx_count < want; i++)
		__asm__ volatile("sti; nop; cli" ::: "memory");
	return intx_count >= want;
}

static void intx_checks(struct pci_fn f, uint8_t msi)
{
	uint8_t pin = pci_read8(f, 0x3d);
	if (!check(pin == 1, "edu: interrupt pin %u, not INTA", pin))
		return;
	unsigned gsi = 16 + (f.dev + pin - 1u) % 4;
	pci_write16(f, msi + 2, (uint16_t)(pci_read16(f, msi + 2) & ~1u)); /* MSI off */
	pci_write16(f, PCI_CMD, (uint16_t)(pci_read16(f, PCI_CMD) & ~0x400u));
	intx_bar = (uint32_t)(uintptr_t)bar;
	idt_set_gate(INTX_VECTOR, intx_stub);
	ioapic_set_pin(gsi, INTX_VECTOR | IOAPIC_REDIR_LEVEL | 1u << 13, lapic_id());
	wr32(EDU_IRQ_RAISE, 1);
	check(wait_intx(1), "edu: no INTx after raising an interrupt");
	wr32(EDU_IRQ_RAISE, 2);
	check(wait_intx(2), "edu: no second INTx (was the first's EOI lost?)");
	/* masked by INTX_DISABLE: raised, but nothing arrives until it is cleared */
	pci_write16(f, PCI_CMD, (uint16_t)(pci_read16(f, PCI_CMD) | 0x400u));
	wr32(EDU_IRQ_RAISE, 4);
	for (unsigned i = 0; i < 2000000; i++)
		__asm__ volatile("sti; nop; cli" ::: "memory");
	check(intx_count == 2, "edu: %u INTx with INTX_DISABLE set", intx_count);
	check(pci_read16(f, 0x06) & 0x08, "edu: STATUS.INTERRUPT clear while it asserts");
	pci_write16(f, PCI_CMD, (uint16_t)(pci_read16(f, PCI_CMD) & ~0x400u));
	check(wait_intx(3), "edu: no INTx once INTX_DISABLE was cleared");
	for (unsigned i = 0; i < 2000000; i++)
		__asm__ volatile("sti; nop; cli" ::: "memory");
	check(intx_count == 3, "edu: %u INTx for 3 raised (one was delivered twice)", intx_count);
	ioapic_set_pin(gsi, IOAPIC_REDIR_MASKED, lapic_id());
	printf("edu: INTx on GSI %u vector 0x%x: %u of 3\n", gsi, INTX_VECTOR, intx_count);
}

void guest_main(void)
{
	if (arg("victim")) {
		victim();
		return;
	}
	struct pci_fn f;
	if (!check(pci_find(EDU_VENDOR, EDU_DEVICE, 0, &f), "edu: no edu device on the bus"))
		return;
	/* moved as an OS may move it: the hypervisor maps it again at the new place */
	struct pci_bar b = pci_bar_read(f, 0);
	if (!check(b.present && !b.io && b.size == 1 << 20, "edu: BAR0 is not 1 MiB of memory"))
		return;
	uint32_t base = 0xe0000000u;
	printf("edu: 00:%02x.0 BAR0 0x%llx -> 0x%x\n", f.dev, (unsigned long long)b.addr, base);
	pci_bar_move(f, 0, base);
	pci_write16(f, PCI_CMD, pci_read16(f, PCI_CMD) | PCI_CMD_MEM | PCI_CMD_MASTER);
	bar = (volatile uint8_t *)(uintptr_t)base;
	check(rd32(EDU_ID) == 0x010000ed, "edu: ID register 0x%x", rd32(EDU_ID));
	wr32(EDU_LIVE, 0x12345678);
	check(rd32(EDU_LIVE) == ~0x12345678u, "edu: liveness register 0x%x", rd32(EDU_LIVE));
	check(pci_read8(f, 0x30) == 0 && pci_read32(f, 0x30) == 0, "edu: a ROM BAR is visible");

	/* MSI to this CPU on MSI_VECTOR (the only capability edu has) */
	uint8_t msi = pci_cap_next(f, 0x05, 0);
	if (!check(msi != 0, "edu: no MSI capability"))
		return;
	idt_set_gate(MSI_VECTOR, msi_stub);
	/* on bare QEMU the PIT ticks through the 8259 onto vector 8: mask both PICs */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	lapic_enable(0xff);
	uint16_t ctl = pci_read16(f, msi + 2);
	pci_write32(f, msi + 4, LAPIC_BASE | lapic_id() << 12);
	if (ctl & 0x80) {
		pci_write32(f, msi + 8, 0);
		pci_write16(f, msi + 12, MSI_VECTOR);
	} else {
		pci_write16(f, msi + 8, MSI_VECTOR);
	}
	pci_write16(f, msi + 2, (uint16_t)(ctl | 1));
	wr32(EDU_IRQ_RAISE, 1);
	check(wait_msi(1), "edu: no MSI after raising an interrupt");
	wr32(EDU_IRQ_ACK, 1);
	printf("edu: MSI on vector 0x%x: %u\n", MSI_VECTOR, msi_count);
	uint32_t n = (uint32_t)opt_u64("bench", 0);
	if (n) {
		/* its own round trips check the data; the polled one below would cost 200 ms */
		bench(n);
		return;
	}

	/* RAM -> device -> other RAM, then compare */
	for (uint32_t i = 0; i < XFER; i += 4) {
		*(volatile uint32_t *)(PAGE_A + i) = 0xc0de0000u + i;
		*(volatile uint32_t *)(PAGE_B + i) = 0;
	}
	check(dma(PAGE_A, EDU_BUF, XFER, 0), "edu: DMA into the device never finished");
	uint32_t before = msi_count;
	check(dma(EDU_BUF, PAGE_B, XFER, EDU_CMD_TO_RAM | EDU_CMD_IRQ),
	      "edu: DMA out of the device never finished");
	check(wait_msi(before + 1), "edu: no MSI for the DMA's completion");
	check(rd32(EDU_IRQ_STATUS) & EDU_DMA_IRQ, "edu: DMA interrupt status 0x%x",
	      rd32(EDU_IRQ_STATUS));
	wr32(EDU_IRQ_ACK, EDU_DMA_IRQ);
	unsigned bad = 0;
	for (uint32_t i = 0; i < XFER; i += 4)
		bad += *(volatile uint32_t *)(PAGE_B + i) != 0xc0de0000u + i;
	if (check(bad == 0, "edu: %u of %u words wrong after the DMA round trip", bad, XFER / 4))
		printf("edu: DMA round trip of %u bytes intact, MSI on vector 0x%x\n", XFER,
		       MSI_VECTOR);

	if (arg("intx"))
		intx_checks(f, msi);

	/* rogue DMA: the device writes its buffer at each address; the IOMMU must stop it */
	const char *r = arg("rogue=");
	while (r && *r && *r != ' ') {
		uint64_t a;
		if (!hex(&r, &a))
			break;
		check(dma(EDU_BUF, a, XFER, EDU_CMD_TO_RAM), "edu: rogue DMA never finished");
		printf("edu: rogue DMA to 0x%llx done\n", (unsigned long long)a);
		if (*r == ',')
			r++;
	}
	if (arg("stay")) {
		/* for the reboot/destroy/create loop: the VM stays up until the host acts */
		printf("edu: %s, staying up\n", check_failures() ? "some checks failed" :
			"all checks passed");
		for (;;)
			__asm__ volatile("sti; hlt; cli" ::: "memory");
	}
}
