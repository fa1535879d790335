/*
 * Remote syslog's pure parts: the queue of log lines waiting for the
 * network, and RFC 5424 framing of one line. Tested on the host; the
 * sending is kernel/mgmt/syslog.c.
 *
 * A message (RFC 5424 §6):
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG
 *   <30>1 2026-01-01T12:00:00Z 10.0.2.15 hv - mgmt - mgmt: 10.0.2.15/24 gw 10.0.2.2 (dhcp)
 * PRI is facility daemon (3) with a severity read off the line: "panic"
 * crit, "error"/"failed" err, "warning" warning, else info. MSGID is the
 * line's "subsystem:" prefix (or "-"), MSG the whole line as printed.
 * TIMESTAMP is "-" when the host's clock is unknown.
 */
#ifndef HV_MGMT_SYSLOG_FORMAT_H
#define HV_MGMT_SYSLOG_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYSLOG_FACILITY_DAEMON 3
#define SYSLOG_LINE_MAX 480	    /* longer lines are cut into pieces */
#define SYSLOG_QUEUE_BYTES 32768 /* lines waiting to be sent; more are dropped and counted */
#define SYSLOG_MSG_MAX 1024	    /* one datagram: well inside the 1480 of an unfragmented one */

enum syslog_severity { SYSLOG_CRIT = 2, SYSLOG_ERR = 3, SYSLOG_WARNING = 4, SYSLOG_INFO = 6 };

struct syslog_queue {
	uint8_t ring[SYSLOG_QUEUE_BYTES]; /* records: length (2 bytes), time (8), text */
	size_t head, tail;		   /* bytes ever written and read */
	char partial[SYSLOG_LINE_MAX];	   /* the line being printed */
	size_t partial_len;
	int64_t partial_time;
	uint64_t dropped; /* lines that found the queue full */
};

void syslog_queue_init(struct syslog_queue *q);
/* Text as printk wrote it (any number of lines, maybe parts of one); now: Unix seconds or -1. */
void syslog_queue_text(struct syslog_queue *q, const char *s, size_t n, int64_t now);
/* The oldest complete line (without its newline) into line[size]; false when none. */
bool syslog_queue_pop(struct syslog_queue *q, char *line, size_t size, size_t *len, int64_t *time);
bool syslog_queue_empty(const struct syslog_queue *q);

enum syslog_severity syslog_severity_of(const char *line, size_t len);

/*
 * One RFC 5424 message for a line logged at `time` (Unix seconds, or < 0:
 * unknown) by host `hostname`. Bytes outside printable ASCII in the line
 * become '?'. Returns the length written (at most size - 1, terminated).
 */
size_t syslog_format(char *out, size_t size, int64_t time, const char *hostname, const char *line,
		     size_t len);

#endif
