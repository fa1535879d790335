#include "drivers/i8259.h"

#include "include/x86.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define PIC_REMAP_BASE 0x20 /* vectors 0x20-0x2f: unused by the host */

void i8259_disable(void)
{
	/* ICW1-ICW4 (8259A datasheet): edge, cascade, 8086 mode */
	outb(PIC1_CMD, 0x11);
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, PIC_REMAP_BASE);
	outb(PIC2_DATA, PIC_REMAP_BASE + 8);
	outb(PIC1_DATA, 0x04); /* slave on IR2 */
	outb(PIC2_DATA, 0x02);
	outb(PIC1_DATA, 0x01);
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xff); /* mask everything */
	outb(PIC2_DATA, 0xff);
}
