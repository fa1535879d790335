/*
 * echo: an interactive guest for the console tests. It reads lines from
 * COM1 (polling LSR.DR, as the COM1 IRQ is not wired yet) and answers each
 * with "echo: " and the line upper-cased; the line "exit" ends it (PASS,
 * code 0). With "tick=N" on its command line it also prints "echo: tick K"
 * every N polls of the line status register, so that output arrives while
 * the operator types at the host prompt.
 */
#include "guest.h"

const char guest_name[] = "echo";

#define RBR 0
#define LSR 5
#define LSR_DR 0x01

static bool same(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

void guest_main(void)
{
	uint64_t tick_every = opt_u64("tick", 0);
	uint64_t polls = 0, ticks = 0;
	char line[128];
	unsigned len = 0;

	printf("echo: ready\n");
	for (;;) {
		if (!(inb(GUEST_COM1 + LSR) & LSR_DR)) {
			if (tick_every && ++polls % tick_every == 0)
				printf("echo: tick %u\n", (unsigned)++ticks);
			continue;
		}
		char c = (char)inb(GUEST_COM1 + RBR);
		if (c != '\r' && c != '\n') {
			if (len < sizeof(line) - 1)
				line[len++] = c;
			continue;
		}
		if (!len)
			continue;
		line[len] = 0;
		len = 0;
		if (same(line, "exit"))
			return;
		for (unsigned i = 0; line[i]; i++)
			if (line[i] >= 'a' && line[i] <= 'z')
				line[i] = (char)(line[i] - 'a' + 'A');
		printf("echo: %s\n", line);
	}
}
