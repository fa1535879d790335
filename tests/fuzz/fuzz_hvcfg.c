/*
 * Fuzz target for hv.cfg, hvboot.efi's configuration parser (loader/hvcfg.c): any bytes in,
 * and afterwards the promises of hvcfg.h must hold: every string terminated and within its
 * field, counts within their limits, a good verdict only with no error and at least one entry,
 * the default inside the entries, and the same bytes giving the same verdict.
 *
 * libFuzzer by default; -DFUZZ_STANDALONE: `fuzz_hvcfg [runs]`, a mutation loop over the seeds;
 * -DFUZZ_SEEDS: `fuzz_hvcfg DIR` writes the seeds into DIR.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/hvcfg.h"

#define CHECK(cond)                                                                       \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "fuzz_hvcfg: broken promise: %s (line %d)\n", #cond, \
				__LINE__);                                                \
			__builtin_trap();                                                 \
		}                                                                         \
	} while (0)

static bool terminated(const char *s, size_t size)
{
	return memchr(s, 0, size) != NULL;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hvcfg cfg, again;
	char *text = malloc(size ? size : 1); /* exact size: reads past the end are reported */
	char line[256];

	if (!text)
		return 0;
	memcpy(text, data, size);
	bool ok = hvcfg_parse(&cfg, text, size);

	CHECK(cfg.nsections <= HVCFG_MAX_SECTIONS);
	CHECK(cfg.nerrors <= HVCFG_MAX_ERRORS);
	CHECK(!cfg.errors_dropped || cfg.nerrors == HVCFG_MAX_ERRORS);
	CHECK(ok == (cfg.nerrors == 0));
	CHECK(!ok || cfg.nsections >= 1);
	CHECK(cfg.default_index >= -1 && cfg.default_index < (int)cfg.nsections);
	for (unsigned i = 0; i < cfg.nerrors; i++) {
		CHECK(terminated(cfg.errors[i].reason, sizeof(cfg.errors[i].reason)));
		CHECK(cfg.errors[i].reason[0] && printable(cfg.errors[i].reason));
		size_t n = hvcfg_error_format(&cfg, i, "hv.cfg", line, sizeof(line));
		CHECK(n == strlen(line) && strncmp(line, "hv.cfg", 6) == 0);
	}
	for (unsigned i = 0; i < cfg.nsections; i++) {
		const struct hvcfg_section *s = &cfg.sections[i];
		CHECK(terminated(s->name, sizeof(s->name)) && s->name[0]);
		CHECK(strcmp(s->name, "global") != 0);
		for (unsigned k = 0; k < i; k++)
			CHECK(strcmp(cfg.sections[k].name, s->name) != 0);
		CHECK(terminated(s->options, sizeof(s->options)));
		CHECK(terminated(s->kernel, sizeof(s->kernel)) && s->kernel[0]);
		CHECK(s->nmodules <= HVCFG_MAX_MODULES);
		for (unsigned m = 0; m < s->nmodules; m++) {
			const struct hvcfg_module *mod = &s->modules[m];
			CHECK(terminated(mod->path, sizeof(mod->path)) && mod->path[0]);
			CHECK(printable(mod->path) && !strchr(mod->path, ' '));
			CHECK(!strstr(mod->path, "\\") && !strchr(mod->path, ':'));
			CHECK(terminated(mod->cmdline, sizeof(mod->cmdline)) && mod->cmdline[0]);
		}
	}
	CHECK(hvcfg_parse(&again, text, size) == ok);
	CHECK(memcmp(&again, &cfg, sizeof(cfg)) == 0);
	free(text);
	return 0;
}

static const char *const seeds[] = {
	"[global]\ndefault=hv\n[hv]\noptions=console=com1 loglevel=info\nkernel=hv.elf\n"
	"module=vms/web.cfg /boot/vms/web.cfg\nmodule=vms/guest.elf /boot/vms/guest.elf\n",
	"# two entries, no default\r\n[a]\r\noptions = x=1\r\n[b]\r\nkernel=sub/hv.elf\r\n"
	"module=m\r\n",
	"options=x\n[hv\n[hv]\nramdisk=y\n=3\n[global]\ntimeout=1\ndefault=zz\nmodule=../a b\n",
	"\xef\xbb\xbf[ s.1 ]\n; c\nmodule=a  b  c\nkernel=\n[s.1]\n",
};
#define NSEEDS (sizeof(seeds) / sizeof(seeds[0]))

#ifdef FUZZ_SEEDS
int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	for (size_t i = 0; i < NSEEDS; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/seed%zu", argv[1], i);
		FILE *f = fopen(path, "wb");
		if (!f)
			return 1;
		fwrite(seeds[i], 1, strlen(seeds[i]), f);
		fclose(f);
		LLVMFuzzerTestOneInput((const uint8_t *)seeds[i], strlen(seeds[i]));
	}
	return 0;
}
#endif

#ifdef FUZZ_STANDALONE
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

int main(int argc, char **argv)
{
	static const char tokens[] = "[]=#;\r\n \t./\\:abc\0\xff";
	static uint8_t buf[8192];
	long runs = argc > 1 ? atol(argv[1]) : 100000;

	for (long run = 0; run < runs; run++) {
		const char *seed = seeds[rng() % NSEEDS];
		size_t len = strlen(seed);
		unsigned edits = 1 + (unsigned)(rng() % 8);

		memcpy(buf, seed, len);
		for (unsigned e = 0; e < edits; e++) {
			size_t at = len ? (size_t)(rng() % len) : 0;
			switch (rng() % 4) {
			case 0:
				if (len)
					buf[at] = (uint8_t)rng();
				break;
			case 1:
				if (len)
					buf[at] = (uint8_t)tokens[rng() % (sizeof(tokens) - 1)];
				break;
			case 2:
				if (len) {
					size_t n = (size_t)(rng() % (len - at + 1));
					memmove(buf + at, buf + at + n, len - at - n);
					len -= n;
				}
				break;
			default: {
				size_t n = len ? (size_t)(rng() % (len - at + 1)) : 0;
				if (len + n <= sizeof(buf)) {
					memmove(buf + at + n, buf + at, len - at);
					len += n;
				}
				break;
			}
			}
		}
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("fuzz_hvcfg: %ld runs, no failure\n", runs);
	return 0;
}
#endif
