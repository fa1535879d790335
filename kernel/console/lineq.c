#include "kernel/console/lineq.h"

#include "kernel/lib/string.h"

/* Each record: a 2-byte little-endian length, then the line's bytes (it may wrap). */
#define REC_HEAD 2

void lineq_init(struct lineq *q, char *buf, size_t size)
{
	q->buf = buf;
	q->size = size;
	q->head = q->tail = 0;
	q->dropped = q->dropped_all = 0;
}

static void put_bytes(struct lineq *q, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		q->buf[(q->head + i) % q->size] = s[i];
	q->head += n;
}

static void get_bytes(struct lineq *q, char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s[i] = q->buf[(q->tail + i) % q->size];
	q->tail += n;
}

/* Appends up to what is left of a LINEQ_LINE_MAX line (the newline kept back). */
static size_t add(char *line, size_t len, const char *s)
{
	size_t n = strlen(s);
	if (n > LINEQ_LINE_MAX - 1 - len)
		n = LINEQ_LINE_MAX - 1 - len;
	memcpy(line + len, s, n);
	return len + n;
}

bool lineq_put(struct lineq *q, const char *tag, const char *text)
{
	char line[LINEQ_LINE_MAX];
	size_t len = add(line, 0, "[");
	len = add(line, len, tag);
	len = add(line, len, "] ");
	len = add(line, len, text);
	line[len++] = '\n';

	if (q->size - (size_t)(q->head - q->tail) < REC_HEAD + len) {
		q->dropped++;
		q->dropped_all++;
		return false;
	}
	char head[REC_HEAD] = {(char)(len & 0xff), (char)(len >> 8)};
	put_bytes(q, head, REC_HEAD);
	put_bytes(q, line, len);
	return true;
}

size_t lineq_get(struct lineq *q, char *out)
{
	if (q->head - q->tail < REC_HEAD)
		return 0;
	unsigned char head[REC_HEAD];
	get_bytes(q, (char *)head, REC_HEAD);
	size_t len = (size_t)head[0] | (size_t)head[1] << 8;
	get_bytes(q, out, len);
	return len;
}

uint64_t lineq_take_dropped(struct lineq *q)
{
	uint64_t n = q->dropped;
	q->dropped = 0;
	return n;
}

bool lineq_empty(const struct lineq *q)
{
	return q->head == q->tail;
}
