/*
 * The VMs' console lines on their way to the host console. A vCPU that ends
 * a line only copies it in here (a short lock, no UART); the console loop on
 * the boot CPU, or the next log line, prints what waits. A serial line carries
 * about 11 KB/s at 115200 baud, so with many VMs writing at once the host
 * console cannot show everything: when the queue is full a line is dropped
 * and counted (it stays in its VM's own console ring, `console NAME`), and the
 * count is printed when there is room again.
 */
#ifndef HV_CONSOLE_LINEQ_H
#define HV_CONSOLE_LINEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One line as it is printed: "[tag] text\n"; longer ones are cut to this. */
#define LINEQ_LINE_MAX 256

struct lineq {
	char *buf;
	size_t size;	      /* bytes in buf */
	uint64_t head, tail;  /* bytes ever put in / taken out */
	uint64_t dropped;     /* lines dropped since the last lineq_take_dropped */
	uint64_t dropped_all; /* lines ever dropped */
};

void lineq_init(struct lineq *q, char *buf, size_t size);
/* Queues "[tag] text\n"; false (and counted) when it does not fit. */
bool lineq_put(struct lineq *q, const char *tag, const char *text);
/* The oldest line into out (LINEQ_LINE_MAX bytes): its length, 0 when empty. */
size_t lineq_get(struct lineq *q, char *out);
/* Lines dropped since the last call, and the count reset. */
uint64_t lineq_take_dropped(struct lineq *q);
bool lineq_empty(const struct lineq *q);

#endif
