/*
 * The hypervisor command line: space-separated "key=value" options and bare
 * flags, spelled as Xen spells them where Xen has the option.
 */
#ifndef HV_CMDLINE_H
#define HV_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Finds the last "key=value" (or bare "key") option; value is not terminated. */
bool cmdline_find(const char *cmdline, const char *key, const char **value, size_t *len);
bool cmdline_get_u64(const char *cmdline, const char *key, uint64_t *out);
/* Copies the option's value into out (terminated); false if absent or too long. */
bool cmdline_get_str(const char *cmdline, const char *key, char *out, size_t size);

/*
 * Where the console goes, from "console=" (a comma list, as Xen spells it:
 * com1..com4, vga). Without console=: the serial port alone.
 */
void cmdline_console(const char *cmdline, bool *serial, bool *vga);

struct serial_params {
	uint16_t port;
	uint32_t baud;
	uint8_t data_bits; /* 5..8 */
	char parity;       /* 'n', 'o', 'e', 'm', 's' */
	uint8_t stop_bits; /* 1 or 2 */
};

/*
 * Resolves "console=comN" and "comN=<baud>[,DPS[,<io-base>]]" into serial
 * parameters. Defaults: COM1, 115200, 8n1. Returns 0, or -1 with a reason in
 * err when an option is malformed (the defaults are kept for that part).
 */
int cmdline_serial(const char *cmdline, struct serial_params *out, char *err, size_t errlen);

#endif
