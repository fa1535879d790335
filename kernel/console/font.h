/* The screen console's built-in 5x7 bitmap font (printable ASCII). */
#ifndef HV_CONSOLE_FONT_H
#define HV_CONSOLE_FONT_H

#include <stdint.h>

#define FONT_FIRST 0x20
#define FONT_GLYPHS 95
#define FONT_ROWS 7
#define FONT_COLS 5

extern const uint8_t font5x7[FONT_GLYPHS][FONT_ROWS];
/* The glyph for c; '?' for anything outside printable ASCII. */
const uint8_t *font_glyph(char c);

#endif
