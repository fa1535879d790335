#include "kernel/mgmt/syslog_format.h"

#include "kernel/lib/calendar.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"

#define REC_HDR 10 /* length (2) and time (8) */

void syslog_queue_init(struct syslog_queue *q)
{
	memset(q, 0, sizeof(*q));
}

bool syslog_queue_empty(const struct syslog_queue *q)
{
	return q->head == q->tail;
}

static void ring_put(struct syslog_queue *q, const void *src, size_t n)
{
	const uint8_t *s = src;
	for (size_t i = 0; i < n; i++)
		q->ring[(q->head + i) % SYSLOG_QUEUE_BYTES] = s[i];
	q->head += n;
}

static void ring_get(struct syslog_queue *q, void *dst, size_t n)
{
	uint8_t *d = dst;
	for (size_t i = 0; i < n; i++)
		d[i] = q->ring[(q->tail + i) % SYSLOG_QUEUE_BYTES];
	q->tail += n;
}

/* The partial line becomes a record, or is dropped when the queue is full. */
static void commit(struct syslog_queue *q)
{
	size_t n = q->partial_len;
	q->partial_len = 0;
	if (n == 0)
		return; /* empty lines carry nothing */
	if (SYSLOG_QUEUE_BYTES - (q->head - q->tail) < REC_HDR + n) {
		q->dropped++;
		return;
	}
	uint16_t len = (uint16_t)n;
	ring_put(q, &len, sizeof(len));
	ring_put(q, &q->partial_time, sizeof(q->partial_time));
	ring_put(q, q->partial, n);
}

void syslog_queue_text(struct syslog_queue *q, const char *s, size_t n, int64_t now)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\n') {
			commit(q);
			continue;
		}
		if (c == '\r')
			continue;
		if (q->partial_len == 0)
			q->partial_time = now; /* a line's time is when it began */
		q->partial[q->partial_len++] = c;
		if (q->partial_len == SYSLOG_LINE_MAX)
			commit(q);
	}
}

bool syslog_queue_pop(struct syslog_queue *q, char *line, size_t size, size_t *len, int64_t *time)
{
	uint16_t n;
	if (q->head == q->tail)
		return false;
	ring_get(q, &n, sizeof(n));
	ring_get(q, time, sizeof(*time));
	size_t keep = n < size ? n : size - 1;
	ring_get(q, line, keep);
	q->tail += n - keep;
	line[keep] = 0;
	*len = keep;
	return true;
}

/* Whether word occurs in s[0..len) in either case. */
static bool contains(const char *s, size_t len, const char *word)
{
	size_t w = strlen(word);
	for (size_t i = 0; i + w <= len; i++) {
		size_t k = 0;
		while (k < w && (s[i + k] | 0x20) == word[k])
			k++;
		if (k == w)
			return true;
	}
	return false;
}

enum syslog_severity syslog_severity_of(const char *line, size_t len)
{
	if (contains(line, len, "panic"))
		return SYSLOG_CRIT;
	if (contains(line, len, "error") || contains(line, len, "failed"))
		return SYSLOG_ERR;
	if (contains(line, len, "warning"))
		return SYSLOG_WARNING;
	return SYSLOG_INFO;
}

static bool printusascii(char c)
{
	return c >= 33 && c <= 126;
}

/* The "subsystem:" a line starts with: 1..32 PRINTUSASCII before ": " (RFC 5424 MSGID). */
static size_t msgid_len(const char *line, size_t len)
{
	size_t i = 0;
	while (i < len && i <= 32 && printusascii(line[i]) && line[i] != ':')
		i++;
	if (i == 0 || i > 32 || i + 1 >= len || line[i] != ':' || line[i + 1] != ' ')
		return 0;
	return i;
}

size_t syslog_format(char *out, size_t size, int64_t time, const char *hostname, const char *line,
		     size_t len)
{
	size_t n = 0;
	unsigned pri = SYSLOG_FACILITY_DAEMON * 8 + syslog_severity_of(line, len);

	if (size == 0)
		return 0;
	out[0] = 0;
	format_append(out, size, &n, "<%u>1 ", pri);
	if (time >= 0) {
		unsigned sec;
		struct cal_date d;
		cal_civil_from_days(cal_split_secs(time, &sec), &d);
		format_append(out, size, &n, "%04lld-%02u-%02uT%02u:%02u:%02uZ ", (long long)d.year,
			      d.month, d.day, sec / 3600, sec / 60 % 60, sec % 60);
	} else {
		format_append(out, size, &n, "- ");
	}
	/* HOSTNAME and the other header fields: PRINTUSASCII only, or the NILVALUE */
	size_t h = 0;
	while (hostname && hostname[h] && h < 255 && printusascii(hostname[h]))
		h++;
	if (h && hostname[h] == 0)
		format_append(out, size, &n, "%s ", hostname);
	else
		format_append(out, size, &n, "- ");
	size_t id = msgid_len(line, len);
	if (id)
		format_append(out, size, &n, "hv - %.*s - ", (int)id, line);
	else
		format_append(out, size, &n, "hv - - - ");
	for (size_t i = 0; i < len && n + 1 < size; i++)
		out[n++] = (line[i] >= 32 && line[i] <= 126) ? line[i] : '?';
	out[n] = 0;
	return n;
}
