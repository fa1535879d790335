/*
 * The MC146818 real-time clock and CMOS RAM at ports 0x70 (index) and 0x71
 * (data), as a guest sees it: time and date registers counting from a guest
 * epoch, BCD or binary and 12- or 24-hour per register B, the update-in-
 * progress window, periodic / alarm / update-ended interrupts on IRQ 8, and
 * 114 bytes of battery-backed RAM (0x0e-0x7f, the century at 0x32).
 *
 * Time comes from the caller: every entry point takes `now`, nanoseconds of
 * guest time, never decreasing. The IRQ output is register C's IRQF bit
 * (high until the guest reads register C). vrtc_update() says when the next
 * interrupt is due so the core can arm a timer for it.
 */
#ifndef HV_GUEST_VRTC_H
#define HV_GUEST_VRTC_H

#include <stdbool.h>
#include <stdint.h>

#define VRTC_PORT 0x70
#define VRTC_NR_PORTS 2
#define VRTC_NO_DEADLINE UINT64_MAX

/* Register indices (MC146818A datasheet, Figure 4 "Address Map"). */
#define VRTC_SECONDS 0x00
#define VRTC_SECONDS_ALARM 0x01
#define VRTC_MINUTES 0x02
#define VRTC_MINUTES_ALARM 0x03
#define VRTC_HOURS 0x04
#define VRTC_HOURS_ALARM 0x05
#define VRTC_DAY_OF_WEEK 0x06
#define VRTC_DAY_OF_MONTH 0x07
#define VRTC_MONTH 0x08
#define VRTC_YEAR 0x09
#define VRTC_REG_A 0x0a
#define VRTC_REG_B 0x0b
#define VRTC_REG_C 0x0c
#define VRTC_REG_D 0x0d
#define VRTC_CENTURY 0x32	/* the PC/AT convention, named in the FADT */
#define VRTC_RAM_START 0x0e
#define VRTC_SIZE 0x80

#define VRTC_A_UIP 0x80
#define VRTC_B_SET 0x80
#define VRTC_B_PIE 0x40
#define VRTC_B_AIE 0x20
#define VRTC_B_UIE 0x10
#define VRTC_B_SQWE 0x08
#define VRTC_B_DM_BINARY 0x04
#define VRTC_B_24H 0x02
#define VRTC_B_DSE 0x01
#define VRTC_C_IRQF 0x80
#define VRTC_C_PF 0x40
#define VRTC_C_AF 0x20
#define VRTC_C_UF 0x10
#define VRTC_D_VRT 0x80

struct vrtc {
	uint8_t cmos[VRTC_SIZE];	/* registers and RAM; time registers kept in sync */
	uint8_t index;			/* bits 6:0 of the last index written */
	bool nmi_disabled;		/* bit 7 of the last index written */
	uint64_t origin;		/* divider phase: seconds end at origin + k s */
	int64_t sec_base;		/* the time (Unix seconds) during second k_base */
	uint64_t k_base;
	bool counting;			/* the time advances (divider on, SET clear) */
	uint64_t last;			/* events accounted up to this time */
	bool irq_level;
	void (*set_irq)(void *ctx, bool level);
	void *ctx;
};

/*
 * Starts the clock at `epoch` (Unix seconds, UTC or local as the guest
 * wants) at guest time `now`, in the state a BIOS leaves it: register A 0x26
 * (32.768 kHz, 1024 Hz periodic rate), register B 0x02 (24-hour BCD, no
 * interrupts), register D valid, RAM zero. set_irq may be NULL.
 */
void vrtc_init(struct vrtc *rtc, void (*set_irq)(void *ctx, bool level), void *ctx,
	       int64_t epoch, uint64_t now);

/* A guest IN/OUT at `offset` 0 (port 0x70) or 1 (port 0x71). */
uint8_t vrtc_read(struct vrtc *rtc, uint16_t offset, uint64_t now);
void vrtc_write(struct vrtc *rtc, uint16_t offset, uint8_t val, uint64_t now);

/*
 * Accounts for what happened up to `now` (flags, IRQ 8) and returns the guest
 * time in ns at which the IRQ output next rises, or VRTC_NO_DEADLINE (none
 * enabled, or IRQF already high until the guest reads register C).
 */
uint64_t vrtc_update(struct vrtc *rtc, uint64_t now);

/* Sets the clock to `epoch` at `now` (the host's wall clock, say). */
void vrtc_set_time(struct vrtc *rtc, int64_t epoch, uint64_t now);

/* The time the clock shows at `now`, in Unix seconds. */
int64_t vrtc_get_time(struct vrtc *rtc, uint64_t now);

/* The host's access to CMOS RAM (0x0e..0x7f), e.g. memory sizes for firmware. */
uint8_t vrtc_cmos_get(const struct vrtc *rtc, uint8_t index);
void vrtc_cmos_set(struct vrtc *rtc, uint8_t index, uint8_t val);

#endif
