#include "drivers/i8042.h"

#ifndef HV_HOSTED
#include "include/x86.h"
#endif

#define I8042_DATA 0x60
#define I8042_STATUS 0x64
#define STATUS_OUTPUT_FULL 0x01
#define STATUS_AUX 0x20 /* the byte is the mouse's */

/* Scan code set 1, make codes 0x00-0x39: unshifted and shifted, US layout. */
static const char plain[0x3a] = {
	0,   27,  '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '-', '=', '\b', '\t',
	'q', 'w', 'e', 'r', 't', 'y', 'u', 'i', 'o', 'p', '[', ']', '\r', 0,   'a', 's',
	'd', 'f', 'g', 'h', 'j', 'k', 'l', ';', '\'', '`', 0,  '\\', 'z', 'x', 'c', 'v',
	'b', 'n', 'm', ',', '.', '/', 0,   '*', 0,   ' ',
};
static const char shifted[0x3a] = {
	0,   27,  '!', '@', '#', '$', '%', '^', '&', '*', '(', ')', '_', '+', '\b', '\t',
	'Q', 'W', 'E', 'R', 'T', 'Y', 'U', 'I', 'O', 'P', '{', '}', '\r', 0,   'A', 'S',
	'D', 'F', 'G', 'H', 'J', 'K', 'L', ':', '"', '~', 0,   '|', 'Z', 'X', 'C', 'V',
	'B', 'N', 'M', '<', '>', '?', 0,   '*', 0,   ' ',
};

unsigned kbd_scancode(struct kbd_state *s, uint8_t code, char out[3])
{
	if (code == 0xe0) {
		s->e0 = true;
		return 0;
	}
	bool e0 = s->e0, release = code & 0x80;
	s->e0 = false;
	code &= 0x7f;
	switch (code) {
	case 0x2a: /* left shift */
	case 0x36: /* right shift */
		if (!e0)
			s->shift = !release;
		return 0;
	case 0x1d: /* ctrl, left or right */
		s->ctrl = !release;
		return 0;
	case 0x3a:
		if (!release)
			s->caps = !s->caps;
		return 0;
	default:
		break;
	}
	if (release)
		return 0;
	if (e0) {
		/* the cursor keys, as a terminal sends them */
		char dir = code == 0x48 ? 'A' : code == 0x50 ? 'B' : code == 0x4d ? 'C'
			 : code == 0x4b ? 'D' : 0;
		if (dir) {
			out[0] = 27;
			out[1] = '[';
			out[2] = dir;
			return 3;
		}
		if (code == 0x1c) { /* keypad Enter */
			out[0] = '\r';
			return 1;
		}
		return 0;
	}
	if (code >= sizeof(plain) || !plain[code])
		return 0;
	char c = s->shift ? shifted[code] : plain[code];
	if (s->caps && c >= 'a' && c <= 'z')
		c = (char)(c - 'a' + 'A');
	else if (s->caps && c >= 'A' && c <= 'Z' && s->shift)
		c = (char)(c - 'A' + 'a');
	if (s->ctrl && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
		c = (char)((c & 0x1f)); /* Ctrl-A .. Ctrl-Z */
	out[0] = c;
	return 1;
}

#ifndef HV_HOSTED
static bool present;
static struct kbd_state state;
static char queue[4];
static unsigned queued, next;

bool i8042_init(void)
{
	present = inb(I8042_STATUS) != 0xff;
	/* drop what the firmware left behind */
	for (int i = 0; present && i < 32 && (inb(I8042_STATUS) & STATUS_OUTPUT_FULL); i++)
		(void)inb(I8042_DATA);
	return present;
}

bool i8042_present(void)
{
	return present;
}

int i8042_getc(void)
{
	if (!present)
		return -1;
	for (int spins = 0; next == queued && spins < 16; spins++) {
		uint8_t st = inb(I8042_STATUS);
		if (!(st & STATUS_OUTPUT_FULL))
			return -1;
		uint8_t code = inb(I8042_DATA);
		if (st & STATUS_AUX)
			continue; /* a mouse byte */
		queued = kbd_scancode(&state, code, queue);
		next = 0;
	}
	if (next == queued)
		return -1;
	return (uint8_t)queue[next++];
}
#endif
