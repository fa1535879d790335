// SOURCES: kernel/net/uplink.c kernel/net/switch.c kernel/net/net_offload.c kernel/net/netdev.c kernel/lib/string.c kernel/lib/format.c
/*
 * The uplink: no NIC, a NIC named on the command line or the first one,
 * frames from the wire into the switch and from the switch out of the NIC
 * (what the NIC does not take counted), and promiscuous mode following the
 * VM ports on `uplink`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/net/switch.h"
#include "kernel/net/uplink.h"

static char logbuf[16384];

void printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t used = strlen(logbuf);
	vsnprintf(logbuf + used, sizeof(logbuf) - used, fmt, ap);
	va_end(ap);
}

void console_print(const char *fmt, ...)
{
	(void)fmt;
}

void *kmalloc(size_t size)
{
	return malloc(size);
}

void *kzalloc(size_t size)
{
	return calloc(1, size);
}

void kfree(void *p)
{
	free(p);
}

uint64_t uptime_us(void)
{
	return 5000000;
}

/* ---- a NIC ---- */

struct fake_nic {
	struct netdev nd;
	unsigned xmit_calls, sent, room;
	int promisc, allmulti, mode_calls;
};

static unsigned fake_xmit(struct netdev *nd, struct net_frame *const *frames, unsigned n)
{
	struct fake_nic *f = (struct fake_nic *)nd;
	unsigned take = n < f->room ? n : f->room;
	(void)frames;
	f->xmit_calls++;
	f->sent += take;
	f->room -= take;
	return take;
}

static void fake_mode(struct netdev *nd, bool promisc, bool allmulti)
{
	struct fake_nic *f = (struct fake_nic *)nd;
	f->promisc = promisc;
	f->allmulti = allmulti;
	f->mode_calls++;
}

static const struct netdev_ops fake_ops = {.xmit = fake_xmit, .set_rx_mode = fake_mode};

static struct fake_nic nics[2];

/* ---- a VM port ---- */

static unsigned vm_got;
static void vm_deliver(struct net_port *p, struct net_frame *const *frames, unsigned n)
{
	(void)p;
	(void)frames;
	vm_got += n;
}
static const struct net_port_ops vm_ops = {.deliver = vm_deliver};

static uint8_t fb[64];
static struct net_frame fr = {.data = fb, .len = 60};
static struct net_frame *fp = &fr;

static void frame(const uint8_t *dst, const uint8_t *src)
{
	memset(fb, 0, sizeof(fb));
	memcpy(fb, dst, 6);
	memcpy(fb + 6, src, 6);
	fb[12] = 0x08;
}

/*
 * In order: the registry and the uplink keep their state for the
 * life of the host, as they do in the hypervisor.
 */
static void test_uplink(void **state)
{
	(void)state;
	char err[128];

	/* no NIC */
	uplink_init(NULL);
	assert_non_null(strstr(logbuf, "net: no NIC: uplink has no wire"));
	assert_null(uplink_netdev());

	/* a VM joins `uplink` before the wire is there */
	struct net_switch *up = net_switch_get("uplink", err, sizeof(err));
	assert_non_null(up);
	struct net_port vm = {.name = "web.0", .kind = NET_PORT_VM, .spoof_check = true,
			      .mac = {0x00, 0x16, 0x3e, 1, 2, 3}, .ops = &vm_ops};
	assert_int_equal(net_switch_attach(up, &vm, err, sizeof(err)), 0);

	for (unsigned i = 0; i < 2; i++) {
		nics[i].nd.driver = "fake";
		nics[i].nd.ops = &fake_ops;
		nics[i].nd.mac[0] = 0x52;
		nics[i].nd.mac[5] = (uint8_t)i;
		nics[i].nd.caps = NET_CAP_CSUM;
		nics[i].room = 1000;
		nics[i].promisc = -1;
		netdev_register(&nics[i].nd);
	}
	logbuf[0] = 0;
	uplink_init("eth7");
	assert_non_null(strstr(logbuf, "uplink_nic=eth7: no such NIC (eth0..eth1)"));
	assert_null(uplink_netdev());
	logbuf[0] = 0;
	uplink_init("eth1");
	assert_ptr_equal(uplink_netdev(), &nics[1].nd);
	assert_non_null(strstr(logbuf, "net: uplink: eth1 (fake, link down)"));
	/* the VM already there: promiscuous at once */
	assert_int_equal(nics[1].promisc, 1);
	assert_non_null(strstr(logbuf, "eth1 promiscuous mode on (1 VM port)"));
	assert_int_equal(nics[0].mode_calls, 0);

	/* from the wire to the VM, and back out */
	static const uint8_t far[6] = {0x52, 0x54, 0, 9, 9, 9};
	frame(vm.mac, far);
	assert_non_null(nics[1].nd.rx);
	nics[1].nd.rx(&nics[1].nd, &fp, 1);
	assert_int_equal(vm_got, 1);
	frame(far, vm.mac);
	net_switch_input(&vm, &fp, 1);
	assert_int_equal(nics[1].sent, 1);
	/* what the NIC has no room for is counted */
	nics[1].room = 0;
	net_switch_input(&vm, &fp, 1);
	struct net_port *upl = nics[1].nd.rx_ctx;
	assert_string_equal(upl->name, "uplink:eth1");
	assert_int_equal(upl->kind, NET_PORT_UPLINK);
	assert_false(upl->spoof_check);
	assert_int_equal(upl->caps, NET_CAP_CSUM);
	assert_int_equal(upl->stats.out_frames, 2);
	assert_int_equal(upl->stats.out_drops, 1);
	assert_int_equal(upl->stats.in_frames, 1);

	/* the last VM leaves: own-MAC mode again; one joins: promiscuous */
	net_switch_detach(&vm);
	assert_int_equal(nics[1].promisc, 0);
	assert_non_null(strstr(logbuf, "promiscuous mode off (0 VM ports)"));
	assert_int_equal(net_switch_attach(up, &vm, err, sizeof(err)), 0);
	assert_int_equal(nics[1].promisc, 1);
	int calls = nics[1].mode_calls;
	struct net_port vm2 = {.name = "db.0", .kind = NET_PORT_VM, .spoof_check = true,
			       .mac = {0x00, 0x16, 0x3e, 1, 2, 4}, .ops = &vm_ops};
	assert_int_equal(net_switch_attach(up, &vm2, err, sizeof(err)), 0);
	assert_int_equal(nics[1].mode_calls, calls); /* already on */
	net_switch_detach(&vm2);
	net_switch_detach(&vm);
	/* once only */
	uplink_init(NULL);
	assert_non_null(strstr(logbuf, "net: uplink: already on eth1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uplink),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
