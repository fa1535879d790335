/*
 * `test_net` on the command line: before any VM starts, each host NIC
 * sends an ARP request for the gateway of QEMU's user network (10.0.2.2,
 * from 10.0.2.15) and waits for the answer, so a driver's TX and RX paths
 * are checked end to end without the switch or lwIP:
 *   "net-test: eth0: ARP reply from 10.0.2.2 at 52:55:0a:00:02:02 after N us"
 *   "net-test: eth0: FAILED: ..."
 * `test_net=N` sends N requests (default 1) one after another, each waiting
 * for its reply, so ring wrap-around is exercised too.
 */
#ifndef HV_NET_NET_SELFTEST_H
#define HV_NET_NET_SELFTEST_H

void net_selftest(const char *cmdline);

#endif
