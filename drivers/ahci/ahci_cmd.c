/*
 * The AHCI driver's pure logic (see ahci_cmd.h): everything that can be
 * checked without an HBA.
 */
#include "drivers/ahci/ahci_cmd.h"

#include "kernel/lib/format.h"
#include "kernel/lib/string.h"

#define PAGE_BYTES 4096u

/* ---- command FISes (SATA 3.x §10.5.5: register host-to-device) ---- */

static void fis_init(uint8_t *fis, uint8_t command, uint8_t device)
{
	memset(fis, 0, FIS_H2D_DWORDS * 4);
	fis[0] = FIS_TYPE_REG_H2D;
	fis[1] = FIS_H2D_C;
	fis[2] = command;
	fis[7] = device;
}

static void fis_lba48(uint8_t *fis, uint64_t lba)
{
	fis[4] = (uint8_t)lba;
	fis[5] = (uint8_t)(lba >> 8);
	fis[6] = (uint8_t)(lba >> 16);
	fis[8] = (uint8_t)(lba >> 24);
	fis[9] = (uint8_t)(lba >> 32);
	fis[10] = (uint8_t)(lba >> 40);
}

/* 1..65536 sectors ending at or below the 48-bit limit. */
static bool range48(uint64_t lba, uint32_t count)
{
	return count >= 1 && count <= ATA_EXT_MAX_COUNT && lba < ATA_LBA48_MAX &&
	       count <= ATA_LBA48_MAX - lba;
}

bool ahci_fis_rw_dma_ext(uint8_t *fis, bool write, uint64_t lba, uint32_t count)
{
	if (!range48(lba, count))
		return false;
	fis_init(fis, write ? ATA_CMD_WRITE_DMA_EXT : ATA_CMD_READ_DMA_EXT, ATA_DEV_LBA);
	fis_lba48(fis, lba);
	/* 65536 is sent as 0 */
	fis[12] = (uint8_t)count;
	fis[13] = (uint8_t)(count >> 8);
	return true;
}

bool ahci_fis_fpdma(uint8_t *fis, bool write, uint64_t lba, uint32_t count, unsigned tag,
		    bool fua)
{
	if (!range48(lba, count) || tag >= AHCI_MAX_SLOTS)
		return false;
	fis_init(fis, write ? ATA_CMD_WRITE_FPDMA_QUEUED : ATA_CMD_READ_FPDMA_QUEUED,
		 (uint8_t)(ATA_DEV_LBA | (fua ? 0x80 : 0)));
	fis_lba48(fis, lba);
	/* the count goes in the features register, the tag in count bits 7:3 */
	fis[3] = (uint8_t)count;
	fis[11] = (uint8_t)(count >> 8);
	fis[12] = (uint8_t)(tag << 3);
	return true;
}

void ahci_fis_flush_ext(uint8_t *fis)
{
	fis_init(fis, ATA_CMD_FLUSH_CACHE_EXT, 0);
}

void ahci_fis_identify(uint8_t *fis)
{
	fis_init(fis, ATA_CMD_IDENTIFY, 0);
}

void ahci_cmd_header_set(struct ahci_cmd_header *h, uint64_t table_phys, bool write,
			 unsigned prdtl)
{
	h->dw0 = AHCI_CMDH_CFL(FIS_H2D_DWORDS) | (write ? AHCI_CMDH_W : 0) | AHCI_CMDH_PRDTL(prdtl);
	h->prdbc = 0;
	h->ctba = (uint32_t)table_phys;
	h->ctbau = (uint32_t)(table_phys >> 32);
	for (unsigned i = 0; i < 4; i++)
		h->reserved[i] = 0;
}

/* ---- PRDT ---- */

void ahci_prdt_init(struct ahci_prdt *t, struct ahci_prd *prd, unsigned max, bool addr64)
{
	t->prd = prd;
	t->max = max;
	t->n = 0;
	t->bytes = 0;
	t->addr64 = addr64;
}

static uint64_t prd_addr(const struct ahci_prd *p)
{
	return (uint64_t)p->dbau << 32 | p->dba;
}

static uint32_t prd_len(const struct ahci_prd *p)
{
	return (p->dbc & 0x3fffff) + 1;
}

static void prd_set(struct ahci_prd *p, uint64_t addr, uint32_t len)
{
	p->dba = (uint32_t)addr;
	p->dbau = (uint32_t)(addr >> 32);
	p->reserved = 0;
	p->dbc = len - 1;
}

enum ahci_prdt_result ahci_prdt_add(struct ahci_prdt *t, uint64_t addr, uint64_t len)
{
	if (!len)
		return AHCI_PRDT_OK;
	if ((addr | len) & 1)
		return AHCI_PRDT_BOUNCE; /* DBA bit 0 is reserved, DBC must be odd (an even count) */
	if (addr + len < addr || (!t->addr64 && addr + len > (1ull << 32)))
		return AHCI_PRDT_BOUNCE;

	/* how much the last entry can take when the piece continues it */
	uint64_t into_last = 0;
	if (t->n) {
		struct ahci_prd *last = &t->prd[t->n - 1];
		uint32_t l = prd_len(last);
		if (prd_addr(last) + l == addr) {
			into_last = AHCI_PRD_MAX_BYTES - l;
			if (into_last > len)
				into_last = len;
		}
	}
	uint64_t rest = len - into_last;
	uint64_t need = (rest + AHCI_PRD_MAX_BYTES - 1) / AHCI_PRD_MAX_BYTES;
	if (need > t->max - t->n)
		return AHCI_PRDT_FULL;

	if (into_last) {
		struct ahci_prd *last = &t->prd[t->n - 1];
		last->dbc = prd_len(last) + (uint32_t)into_last - 1;
	}
	addr += into_last;
	while (rest) {
		uint32_t piece = rest > AHCI_PRD_MAX_BYTES ? AHCI_PRD_MAX_BYTES : (uint32_t)rest;
		prd_set(&t->prd[t->n++], addr, piece);
		addr += piece;
		rest -= piece;
	}
	t->bytes += len;
	return AHCI_PRDT_OK;
}

void ahci_prdt_trim(struct ahci_prdt *t, uint64_t bytes)
{
	if (bytes > t->bytes)
		bytes = t->bytes;
	t->bytes -= bytes;
	while (bytes && t->n) {
		struct ahci_prd *last = &t->prd[t->n - 1];
		uint32_t l = prd_len(last);
		if (l > bytes) {
			last->dbc = l - (uint32_t)bytes - 1;
			return;
		}
		bytes -= l;
		t->n--;
	}
}

/* ---- a block request cut into commands ---- */

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

struct ahci_chunk ahci_map_chunk(const struct blk_request *r, const struct ahci_pos *pos,
				 uint32_t block, uint64_t max_bytes, uint64_t bounce_bytes,
				 struct ahci_prdt *t)
{
	struct ahci_chunk c = {0, false};
	uint64_t total = r->nsectors * BLK_SECTOR_SIZE;
	if (pos->done >= total || !block)
		return c;
	uint64_t limit = min64(total - pos->done, max_bytes);
	limit -= limit % block;
	if (!limit)
		return c;

	uint64_t bytes = 0;
	unsigned seg = pos->seg;
	uint64_t off = pos->off;
	const struct blk_guest_mem *mem = r->mem;
	while (bytes < limit && seg < r->nseg) {
		const struct blk_seg *s = &r->segs[seg];
		if (off >= s->len) {
			seg++;
			off = 0;
			continue;
		}
		uint64_t gpa = s->gpa + off;
		uint64_t piece = min64(s->len - off, PAGE_BYTES - (gpa & (PAGE_BYTES - 1)));
		piece = min64(piece, limit - bytes);
		uint64_t hpa = mem->dma_addr ? mem->dma_addr(mem->ctx, gpa, piece) : 0;
		if (!hpa || ahci_prdt_add(t, hpa, piece) != AHCI_PRDT_OK)
			break;
		bytes += piece;
		off += piece;
	}
	/* a command carries whole blocks: what went in past the last one comes off again */
	ahci_prdt_trim(t, bytes % block);
	if (bytes >= block) {
		c.bytes = bytes - bytes % block;
		return c;
	}
	/* not one block in place: the whole chunk goes through the bounce buffer */
	t->n = 0;
	t->bytes = 0;
	c.bounce = true;
	c.bytes = min64(limit, bounce_bytes - bounce_bytes % block);
	return c;
}

void ahci_pos_advance(const struct blk_request *r, struct ahci_pos *pos, uint64_t bytes)
{
	pos->done += bytes;
	while (bytes && pos->seg < r->nseg) {
		uint64_t left = r->segs[pos->seg].len - pos->off;
		if (bytes < left) {
			pos->off += (uint32_t)bytes;
			return;
		}
		bytes -= left;
		pos->seg++;
		pos->off = 0;
	}
}

int ahci_bounce_copy(const struct blk_request *r, const struct ahci_pos *pos, void *buf,
		     uint64_t bytes, bool to_guest)
{
	const struct blk_guest_mem *mem = r->mem;
	uint8_t *b = buf;
	unsigned seg = pos->seg;
	uint64_t off = pos->off;
	while (bytes) {
		if (seg >= r->nseg)
			return -1;
		const struct blk_seg *s = &r->segs[seg];
		if (off >= s->len) {
			seg++;
			off = 0;
			continue;
		}
		size_t n = (size_t)min64(s->len - off, bytes);
		int rc = to_guest ? mem->write(mem->ctx, s->gpa + off, b, n)
				  : mem->read(mem->ctx, s->gpa + off, b, n);
		if (rc < 0)
			return -1;
		b += n;
		off += n;
		bytes -= n;
	}
	return 0;
}

/* ---- IDENTIFY DEVICE ---- */

static uint16_t word(const uint8_t *buf, unsigned i)
{
	return (uint16_t)(buf[2 * i] | buf[2 * i + 1] << 8);
}

/* ATA strings: two characters per word, the first in the high byte; padded with spaces. */
static void ata_string(const uint8_t *buf, unsigned first, unsigned words, char *out)
{
	unsigned n = 0;
	for (unsigned i = 0; i < words; i++) {
		uint16_t w = word(buf, first + i);
		out[n++] = (char)(w >> 8);
		out[n++] = (char)(w & 0xff);
	}
	out[n] = 0;
	for (unsigned i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] > 0x7e)
			out[i] = out[i] ? '?' : ' ';
	while (n && out[n - 1] == ' ')
		out[--n] = 0;
	unsigned lead = 0;
	while (lead < n && out[lead] == ' ')
		lead++;
	if (lead)
		memmove(out, out + lead, n - lead + 1);
}

/* A word some devices leave 0 or 0xFFFF when they do not implement it. */
static bool word_valid(uint16_t w)
{
	return w != 0 && w != 0xffff;
}

int ata_identify_parse(const uint8_t *buf, struct ata_identity *id, char *err, size_t errlen)
{
	memset(id, 0, sizeof(*id));
	bool zeros = true, ones = true;
	for (unsigned i = 0; i < 512; i++) {
		zeros &= buf[i] == 0;
		ones &= buf[i] == 0xff;
	}
	if (zeros || ones) {
		format(err, errlen, "IDENTIFY data is all %s", zeros ? "zeros" : "ones");
		return -1;
	}
	uint16_t w255 = word(buf, 255);
	if ((w255 & 0xff) == 0xa5) {
		uint8_t sum = 0;
		for (unsigned i = 0; i < 512; i++)
			sum = (uint8_t)(sum + buf[i]);
		if (sum) {
			format(err, errlen, "IDENTIFY data checksum is wrong (sum 0x%02x)", sum);
			return -1;
		}
		id->checksum = true;
	}

	uint16_t w0 = word(buf, 0);
	id->ata = !(w0 & 0x8000);
	ata_string(buf, 10, 10, id->serial);
	ata_string(buf, 23, 4, id->firmware);
	ata_string(buf, 27, 20, id->model);
	id->dma = word(buf, 49) & (1u << 8);

	/* words 82-84 are valid when word 83 reads 01b in bits 15:14; 85-87 likewise by word 87 */
	uint16_t w82 = word(buf, 82), w83 = word(buf, 83), w85 = word(buf, 85),
		 w87 = word(buf, 87);
	bool set1 = (w83 & 0xc000) == 0x4000;
	bool set2 = (w87 & 0xc000) == 0x4000;
	if (set1) {
		id->lba48 = w83 & (1u << 10);
		id->flush_ext = w83 & (1u << 13);
		id->write_cache = word_valid(w82) && (w82 & (1u << 5));
	}
	if (set2 && id->write_cache)
		id->write_cache_on = w85 & (1u << 5);

	uint64_t lba28 = (uint64_t)word(buf, 61) << 16 | word(buf, 60);
	uint64_t lba48 = 0;
	for (unsigned i = 0; i < 4; i++)
		lba48 |= (uint64_t)word(buf, 100 + i) << (16 * i);
	id->sectors = id->lba48 && lba48 ? lba48 : lba28;

	/* word 106 counts when bits 15:14 read 01b */
	uint16_t w106 = word(buf, 106);
	id->logical_size = 512;
	if ((w106 & 0xc000) == 0x4000) {
		if (w106 & (1u << 12)) {
			uint32_t words = (uint32_t)word(buf, 118) << 16 | word(buf, 117);
			id->logical_size = words * 2;
		}
		id->physical_size = id->logical_size;
		if (w106 & (1u << 13))
			id->physical_size = id->logical_size << (w106 & 0xf);
	} else {
		id->physical_size = id->logical_size;
	}

	uint16_t w75 = word(buf, 75), w76 = word(buf, 76);
	if (word_valid(w76) && (w76 & (1u << 8))) {
		id->ncq = true;
		id->queue_depth = (w75 & 0x1f) + 1u;
	}
	return 0;
}

int ata_identity_usable(const struct ata_identity *id, char *err, size_t errlen)
{
	if (!id->ata) {
		format(err, errlen, "not an ATA device (IDENTIFY word 0 bit 15 set)");
		return -1;
	}
	if (!id->lba48) {
		format(err, errlen, "no 48-bit addressing (LBA48)");
		return -1;
	}
	if (!id->dma) {
		format(err, errlen, "no DMA");
		return -1;
	}
	if (id->logical_size != 512 && id->logical_size != 4096) {
		format(err, errlen, "%u-byte logical sectors (512 and 4096 are supported)",
		       id->logical_size);
		return -1;
	}
	if (!id->sectors) {
		format(err, errlen, "reports no capacity");
		return -1;
	}
	if (id->sectors >= ATA_LBA48_MAX) {
		format(err, errlen, "reports more sectors than 48-bit addressing reaches");
		return -1;
	}
	return 0;
}

uint64_t ata_identity_sectors512(const struct ata_identity *id)
{
	return id->sectors * (id->logical_size / BLK_SECTOR_SIZE);
}

/* ---- error handling ---- */

uint32_t ahci_error_suspects(uint32_t issued, uint32_t ci, bool timeout)
{
	return timeout ? issued & ci : issued;
}

void ata_error_names(uint8_t err, char *buf, size_t len)
{
	static const char *const names[8] = {"AMNF", "NM", "ABRT", "MCR", "IDNF", "MC", "UNC", "ICRC"};
	size_t n = 0;
	if (len)
		buf[0] = 0;
	for (unsigned b = 0; b < 8; b++) {
		if (!(err & (1u << b)))
			continue;
		int k = format(buf + n, n < len ? len - n : 0, "%s%s", n ? " " : "", names[b]);
		n += (size_t)k;
	}
	if (!err)
		format(buf, len, "-");
}

bool ahci_ratelimit_ok(struct ahci_ratelimit *rl, uint64_t now, uint64_t interval,
		       uint64_t *suppressed)
{
	*suppressed = 0;
	if (rl->primed && now - rl->last < interval) {
		rl->suppressed++;
		return false;
	}
	*suppressed = rl->suppressed;
	rl->suppressed = 0;
	rl->last = now;
	rl->primed = true;
	return true;
}

uint64_t ahci_ratelimit_flush(struct ahci_ratelimit *rl, uint64_t now, uint64_t interval)
{
	if (!rl->suppressed || now - rl->last < interval)
		return 0;
	uint64_t n = rl->suppressed;
	rl->suppressed = 0;
	rl->last = now;
	return n;
}

/* ---- text ---- */

void ahci_size_str(char *buf, size_t len, uint64_t bytes)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	unsigned u = 0;
	uint64_t whole = bytes, rem = 0, div = 1;
	while (whole >= 1024 && u < 6) {
		whole /= 1024;
		div *= 1024;
		u++;
	}
	if (!u) {
		format(buf, len, "%llu B", (unsigned long long)bytes);
		return;
	}
	rem = bytes - whole * div;
	/* rem < div <= 2^60: rem * 10 fits */
	unsigned tenth = (unsigned)(rem * 10 / div);
	format(buf, len, "%llu.%u %s", (unsigned long long)whole, tenth, units[u]);
}

void ahci_disk_line(char *buf, size_t len, const char *name, const struct ata_identity *id,
		    unsigned port, const char *ctrl, const char *irq_mode)
{
	char size[24], phys[32] = "";
	ahci_size_str(size, sizeof(size), ata_identity_sectors512(id) * BLK_SECTOR_SIZE);
	if (id->physical_size != id->logical_size)
		format(phys, sizeof(phys), " (%u-byte physical)", id->physical_size);
	format(buf, len,
	       "%s: %s (serial %s), %s, %u-byte sectors%s, write cache: %s, port %u of %s (%s)",
	       name, id->model[0] ? id->model : "unnamed disk", id->serial[0] ? id->serial : "none",
	       size, id->logical_size, phys,
	       id->write_cache_on ? "yes" : (id->write_cache ? "off" : "no"), port, ctrl,
	       irq_mode);
}
