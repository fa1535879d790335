#include "kernel/mgmt/syslog.h"

#include "lwip/etharp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/udp.h"

#include "include/x86.h"
#include "kernel/lib/format.h"
#include "kernel/lib/spinlock.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mgmt/syslog_format.h"
#include "kernel/mm/mm.h"
#include "kernel/panic.h"
#include "kernel/time/wallclock.h"

#define SEND_BUDGET 32	  /* datagrams per mgmt_poll */
#define ARP_PROBE_MS 500 /* while the next hop is unresolved: one datagram (it asks ARP) this often */

static spinlock_t queue_lock = SPINLOCK_INIT;
static struct syslog_queue *queue;
static struct udp_pcb *pcb;
static ip4_addr_t dest;
static uint16_t dest_port;
static uint64_t drops_reported;
static uint32_t last_probe_ms;
static bool probed;

static int64_t now_unix(void)
{
	return wallclock_known() ? wallclock_unix_at(rdtsc()) : -1;
}

/* printk's copy of every line: under the log lock, interrupts off, any core. */
static void sink(const char *s, size_t n)
{
	if (panic_in_progress())
		return; /* the panicking core may hold queue_lock; nothing is sent any more anyway */
	int64_t now = now_unix();
	uint64_t f = spin_lock_irqsave(&queue_lock);
	syslog_queue_text(queue, s, n, now);
	spin_unlock_irqrestore(&queue_lock, f);
}

void syslog_start(uint32_t addr, uint16_t port)
{
	queue = kmalloc(sizeof(*queue));
	pcb = udp_new();
	if (!queue || !pcb) {
		printk("syslog: off: no memory\n");
		if (pcb)
			udp_remove(pcb);
		kfree(queue);
		queue = NULL;
		pcb = NULL;
		return;
	}
	syslog_queue_init(queue);
	ip4_addr_set_u32(&dest, lwip_htonl(addr));
	dest_port = port;

	/* the boot log so far, from its first whole line (the ring may have cut one) */
	size_t size = SYSLOG_QUEUE_BYTES / 2;
	char *boot = kmalloc(size);
	if (boot) {
		size_t n = log_read_ring(boot, size);
		size_t start = 0;
		if (n == size)
			while (start < n && boot[start++] != '\n')
				;
		/* when those lines were printed is not kept: their TIMESTAMP is "-" */
		syslog_queue_text(queue, boot + start, n - start, -1);
		kfree(boot);
	}
	log_set_sink(sink);
	printk("syslog: sending the log to %u.%u.%u.%u:%u (RFC 5424 over UDP)\n", addr >> 24,
	       (addr >> 16) & 0xff, (addr >> 8) & 0xff, addr & 0xff, port);
}

/* Whether the hop toward dest has an ARP entry: sending is bounded by ARP's queue until it does. */
static bool next_hop_known(struct netif *netif)
{
	const ip4_addr_t *hop = &dest;
	if (!ip4_addr_netcmp(&dest, netif_ip4_addr(netif), netif_ip4_netmask(netif)))
		hop = netif_ip4_gw(netif);
	struct eth_addr *eth;
	const ip4_addr_t *ip;
	return etharp_find_addr(netif, hop, &eth, &ip) >= 0;
}

/* One datagram: the next queued line, or the count of lines dropped. False when nothing was sent. */
static bool send_one(struct netif *netif)
{
	char host[16];
	char line[SYSLOG_LINE_MAX + 1];
	size_t len;
	int64_t when;

	struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, SYSLOG_MSG_MAX, PBUF_RAM);
	if (!p)
		return false; /* lwIP's heap is busy: the lines wait */

	uint64_t f = spin_lock_irqsave(&queue_lock);
	uint64_t dropped = queue->dropped;
	bool got = dropped == drops_reported &&
		   syslog_queue_pop(queue, line, sizeof(line), &len, &when);
	spin_unlock_irqrestore(&queue_lock, f);
	if (dropped != drops_reported) {
		len = (size_t)format(line, sizeof(line), "syslog: %llu lines dropped (the queue was full)",
				     (unsigned long long)(dropped - drops_reported));
		when = now_unix();
		drops_reported = dropped;
	} else if (!got) {
		pbuf_free(p);
		return false;
	}

	uint32_t a = lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(netif)));
	format(host, sizeof(host), "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
	size_t n = syslog_format(p->payload, SYSLOG_MSG_MAX, when, host, line, len);
	pbuf_realloc(p, (u16_t)n);
	udp_sendto_if(pcb, p, &dest, dest_port, netif); /* a datagram lost is lost: UDP syslog's nature */
	pbuf_free(p);
	return true;
}

void syslog_poll(struct netif *netif)
{
	if (!pcb || ip4_addr_isany_val(*netif_ip4_addr(netif)) || !netif_is_link_up(netif))
		return;
	uint64_t f = spin_lock_irqsave(&queue_lock);
	bool idle = syslog_queue_empty(queue) && queue->dropped == drops_reported;
	spin_unlock_irqrestore(&queue_lock, f);
	if (idle)
		return;

	if (!next_hop_known(netif)) {
		uint32_t now = sys_now();
		if (probed && now - last_probe_ms < ARP_PROBE_MS)
			return;
		probed = true;
		last_probe_ms = now;
		send_one(netif); /* waits in ARP's queue and asks for the address */
		return;
	}
	for (unsigned i = 0; i < SEND_BUDGET && send_one(netif); i++)
		;
}
