#include "kernel/console/screen.h"

#include "include/x86.h"
#include "kernel/console/font.h"
#include "kernel/console/textgrid.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/time/tsc.h"

#define CELL_W 8
#define CELL_H 16
#define VGA_TEXT_PHYS 0xb8000ull
#define VGA_ATTR 0x07 /* light grey on black */

enum screen_kind { SCREEN_OFF, SCREEN_FB, SCREEN_TEXT };

static enum screen_kind kind;
static struct textgrid grid;
static char drawn[TG_MAX_ROWS][TG_MAX_COLS]; /* what the screen shows now */
static unsigned drawn_cx = ~0u, drawn_cy = ~0u; /* where the cursor was drawn */
static bool pending;			       /* the grid has changes not drawn */
static uint64_t next_draw;		       /* TSC: no draw before */

/* the framebuffer */
static uint8_t *fb;
static uint32_t pitch, bytes_pp;
static unsigned scale = 1; /* each font pixel as scale x scale (very large screens) */
static uint32_t fg_pixel, bg_pixel;
static struct boot_framebuffer fbinfo;

static uint32_t channel(uint8_t pos, uint8_t size, uint8_t value)
{
	if (!size)
		return 0;
	return ((uint32_t)value >> (8 - (size > 8 ? 8 : size))) << pos;
}

static void put_pixel(uint8_t *p, uint32_t v)
{
	switch (bytes_pp) {
	case 4:
		*(volatile uint32_t *)p = v;
		break;
	case 3:
		((volatile uint8_t *)p)[0] = (uint8_t)v;
		((volatile uint8_t *)p)[1] = (uint8_t)(v >> 8);
		((volatile uint8_t *)p)[2] = (uint8_t)(v >> 16);
		break;
	default:
		*(volatile uint16_t *)p = (uint16_t)v;
		break;
	}
}

/*
 * One 8x16 cell: the 5x7 glyph from column 1, every row drawn twice from
 * pixel row 1; the cursor is an underline on the last two pixel rows.
 */
static void fb_cell(unsigned cx, unsigned cy, char c, bool cursor)
{
	const uint8_t *g = font_glyph(c);
	unsigned w = CELL_W * scale, h = CELL_H * scale;
	uint8_t *base = fb + (uint64_t)cy * h * pitch + (uint64_t)cx * w * bytes_pp;
	for (unsigned sy = 0; sy < h; sy++) {
		unsigned py = sy / scale;
		uint8_t bits = 0;
		if (py >= 1 && py < 1 + 2 * FONT_ROWS)
			bits = g[(py - 1) / 2];
		bool underline = cursor && py >= CELL_H - 2;
		uint8_t *row = base + (uint64_t)sy * pitch;
		for (unsigned sx = 0; sx < w; sx++) {
			unsigned px = sx / scale;
			bool on = underline ? px < CELL_W - 1
					    : (px >= 1 && px <= FONT_COLS &&
					       (bits & (1u << (FONT_COLS - px))));
			put_pixel(row + sx * bytes_pp, on ? fg_pixel : bg_pixel);
		}
	}
}

/* The whole framebuffer to the background: the margins the cells leave, too. */
static void fb_clear(void)
{
	for (uint32_t y = 0; y < fbinfo.height; y++)
		for (uint32_t x = 0; x < fbinfo.width; x++)
			put_pixel(fb + (uint64_t)y * pitch + (uint64_t)x * bytes_pp, bg_pixel);
}

static void text_cell(unsigned cx, unsigned cy, char c)
{
	volatile uint16_t *cell = (volatile uint16_t *)(fb + (uint64_t)cy * pitch) + cx;
	*cell = (uint16_t)((uint8_t)c | (VGA_ATTR << 8));
}

/* The VGA hardware cursor (CRTC registers 0x0e/0x0f: its cell index). */
static void text_cursor(unsigned cx, unsigned cy)
{
	if (fbinfo.addr != VGA_TEXT_PHYS)
		return; /* a text mode elsewhere: not the legacy CRTC's */
	uint16_t pos = (uint16_t)(cy * grid.cols + cx);
	outb(0x3d4, 0x0f);
	outb(0x3d5, (uint8_t)pos);
	outb(0x3d4, 0x0e);
	outb(0x3d5, (uint8_t)(pos >> 8));
}

static void draw(void)
{
	unsigned cx = grid.x < grid.cols ? grid.x : grid.cols - 1, cy = grid.y;
	for (unsigned y = 0; y < grid.rows; y++) {
		bool old_cursor_row = y == drawn_cy, cursor_row = y == cy;
		if (!grid.dirty[y] && !old_cursor_row && !cursor_row)
			continue;
		grid.dirty[y] = false;
		for (unsigned x = 0; x < grid.cols; x++) {
			char c = grid.cells[y][x];
			bool cur = cursor_row && x == cx;
			bool was = old_cursor_row && x == drawn_cx;
			if (c == drawn[y][x] && !cur && !was)
				continue;
			drawn[y][x] = c;
			if (kind == SCREEN_FB)
				fb_cell(x, y, c, cur);
			else
				text_cell(x, y, c);
		}
	}
	if (kind == SCREEN_TEXT)
		text_cursor(cx, cy);
	drawn_cx = cx;
	drawn_cy = cy;
	pending = false;
}

/*
 * Draws, then holds the next draw back by SCREEN_FLUSH_MS or four times
 * what this one took, whichever is longer: a slow (uncached) framebuffer
 * gets at most a fifth of the time, and the serial port the rest.
 */
static void draw_paced(void)
{
	uint64_t khz = tsc_khz();
	if (!khz)
		khz = 2000000; /* before calibration: assume 2 GHz */
	uint64_t start = rdtsc();
	draw();
	uint64_t end = rdtsc(), took = 4 * (end - start);
	uint64_t min = khz * SCREEN_FLUSH_MS;
	next_draw = end + (took > min ? took : min);
}

static bool draw_due(void)
{
	return (int64_t)(rdtsc() - next_draw) >= 0;
}

bool screen_active(void)
{
	return kind != SCREEN_OFF;
}

void screen_write_locked(const char *s, size_t n, bool crlf)
{
	if (kind == SCREEN_OFF)
		return;
	for (size_t i = 0; i < n; i++) {
		if (crlf && s[i] == '\n')
			tg_putc(&grid, '\r');
		tg_putc(&grid, s[i]);
	}
	pending = true;
	if (draw_due())
		draw_paced();
}

void screen_poll(void)
{
	if (kind == SCREEN_OFF || !pending || !draw_due())
		return;
	uint64_t f = console_lock();
	if (pending)
		draw_paced();
	console_unlock(f);
}

void screen_flush_now(void)
{
	if (kind != SCREEN_OFF && pending)
		draw();
}

/* A VGA answers at its miscellaneous output register; nothing there reads all ones. */
static bool vga_present(void)
{
	return inb(0x3cc) != 0xff;
}

static bool setup(const struct boot_info *bi)
{
	fbinfo = bi->fb;
	if (fbinfo.kind == FB_NONE) {
		if (bi->efi) {
			printk("hv: screen: the loader gave no framebuffer\n");
			return false;
		}
		if (!vga_present()) {
			printk("hv: screen: no framebuffer and no VGA\n");
			return false;
		}
		fbinfo = (struct boot_framebuffer){
			.kind = FB_TEXT, .addr = VGA_TEXT_PHYS, .pitch = 160, .width = 80, .height = 25,
		};
	}
	uint64_t size = (uint64_t)fbinfo.pitch * fbinfo.height;
	fb = mm_map_mmio(fbinfo.addr, size);
	if (!fb) {
		printk("hv: screen: cannot map the framebuffer at %#llx\n",
		       (unsigned long long)fbinfo.addr);
		return false;
	}
	pitch = fbinfo.pitch;
	if (fbinfo.kind == FB_TEXT) {
		tg_init(&grid, fbinfo.width, fbinfo.height);
		kind = SCREEN_TEXT;
		return true;
	}
	bytes_pp = (fbinfo.bpp + 7u) / 8;
	fg_pixel = channel(fbinfo.red_pos, fbinfo.red_size, 0xff) |
		   channel(fbinfo.green_pos, fbinfo.green_size, 0xff) |
		   channel(fbinfo.blue_pos, fbinfo.blue_size, 0xff);
	bg_pixel = 0;
	/* the font grows on screens too large for the grid (4K: 16x32 cells) */
	scale = 1;
	while (fbinfo.width / (CELL_W * scale) > TG_MAX_COLS ||
	       fbinfo.height / (CELL_H * scale) > TG_MAX_ROWS)
		scale++;
	tg_init(&grid, fbinfo.width / (CELL_W * scale), fbinfo.height / (CELL_H * scale));
	fb_clear();
	kind = SCREEN_FB;
	return true;
}

bool screen_init(const struct boot_info *bi)
{
	static char early[16384];
	if (!setup(bi))
		return false;
	/* every cell differs from what we pretend is drawn: the first draw clears the screen */
	memset(drawn, 0, sizeof(drawn));
	/* the log so far, as the serial port showed it (read before the lock: it takes it) */
	size_t n = log_read_ring(early, sizeof(early));
	uint64_t f = console_lock();
	for (size_t i = 0; i < n; i++) {
		if (early[i] == '\n')
			tg_putc(&grid, '\r');
		tg_putc(&grid, early[i]);
	}
	draw();
	console_unlock(f);
	return true;
}

void screen_describe(char *out, size_t size)
{
	if (kind == SCREEN_FB)
		format(out, size, "framebuffer %ux%ux%u at %#llx, %ux%u text%s", fbinfo.width,
		       fbinfo.height, fbinfo.bpp, (unsigned long long)fbinfo.addr, grid.cols,
		       grid.rows, scale > 1 ? " (font scaled)" : "");
	else if (kind == SCREEN_TEXT)
		format(out, size, "text mode %ux%u at %#llx", grid.cols, grid.rows,
		       (unsigned long long)fbinfo.addr);
	else
		format(out, size, "off");
}
