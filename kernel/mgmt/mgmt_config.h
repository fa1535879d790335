/*
 * The management interface's command-line options (mgmt.h lists them),
 * parsed into a plain structure, and its address as `info` shows it. Pure
 * logic: tested on the host.
 */
#ifndef HV_MGMT_MGMT_CONFIG_H
#define HV_MGMT_MGMT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MGMT_DEFAULT_PORT 8080
#define MGMT_SYSLOG_DEFAULT_PORT 514
#define MGMT_TOKEN_MAX 128 /* characters */

enum mgmt_mode { MGMT_DHCP, MGMT_STATIC, MGMT_OFF };

/* Addresses are IPv4 in host order: 10.0.2.15 is 0x0a00020f. */
struct mgmt_config {
	enum mgmt_mode mode;
	uint32_t addr, gw; /* MGMT_STATIC; gw 0: none */
	unsigned prefix;   /* 1..32 */
	uint16_t port;
	char token[MGMT_TOKEN_MAX + 1]; /* "" when none was given */
	char token_file[128];		/* mgmt_token_file=: a boot module holding it; "" when none */
	bool syslog;
	uint32_t syslog_addr;
	uint16_t syslog_port;
};

/*
 * Reads mgmt=, mgmt_port=, mgmt_token=, mgmt_token_file= and syslog= from
 * the command line.
 * Returns the number of malformed options; err holds the first one's reason
 * ("mgmt=10.0.0.5: no /PREFIX"). What is malformed is left out: a bad mgmt=
 * turns the interface off (an address other than the one asked for would
 * surprise), a bad mgmt_port= keeps 8080, a bad token leaves the API off, a
 * bad syslog= sends nothing.
 */
int mgmt_config_parse(const char *cmdline, struct mgmt_config *cfg, char *err, size_t errlen);

/*
 * The token from a token file's bytes (mgmt_token_file=, a boot module):
 * its first line, without surrounding blanks, by the rules of mgmt_token=.
 * 0, or -1 (empty, too long, or not printable).
 */
int mgmt_token_from_text(const char *text, size_t len, char *out, size_t outlen);

/* "a.b.c.d" exactly (each part 0..255, no leading zeros beyond "0"); false otherwise. */
bool mgmt_parse_ipv4(const char *s, size_t len, uint32_t *out);

/* The netmask of a prefix length (0..32), host order. */
uint32_t mgmt_prefix_mask(unsigned prefix);
/* The prefix length of a contiguous netmask, or -1. */
int mgmt_mask_prefix(uint32_t mask);

/* "10.0.2.15/24 gw 10.0.2.2 (dhcp)"; without a gateway "10.0.2.15/24 (static)". */
void mgmt_format_addr(char *out, size_t size, uint32_t addr, unsigned prefix, uint32_t gw,
		      const char *how);

/* The command line with mgmt_token='s value as "***": for the boot report and the log. */
void mgmt_redact_cmdline(char *out, size_t size, const char *cmdline);

#endif
