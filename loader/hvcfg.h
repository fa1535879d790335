/*
 * hv.cfg, hvboot.efi's configuration, in the spirit of Xen's xen.cfg:
 *
 *	# comment
 *	[global]
 *	default=hv
 *	[hv]
 *	options=console=com1 loglevel=info
 *	kernel=hv.elf
 *	module=vms/web.cfg /boot/vms/web.cfg
 *
 * A section per boot entry; [global] holds only default=. In an entry,
 * options= is the hypervisor's command line, kernel= its image (default
 * hv.elf), and each module= a file and the name the hypervisor sees (the
 * rest of the line, as GRUB's module2 gives it; the path itself when
 * absent). Paths are relative to the loader's directory.
 *
 * Pure: no firmware, no libc; the loader and the hosted tests share it.
 */
#ifndef HV_LOADER_HVCFG_H
#define HV_LOADER_HVCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HVCFG_MAX_SECTIONS 8
#define HVCFG_MAX_MODULES 32
#define HVCFG_NAME_MAX 32
#define HVCFG_PATH_MAX 256
#define HVCFG_OPTIONS_MAX 1024
#define HVCFG_MAX_ERRORS 8
#define HVCFG_REASON_MAX 96

struct hvcfg_module {
	char path[HVCFG_PATH_MAX];    /* relative to the loader's directory, '/' separated */
	char cmdline[HVCFG_PATH_MAX]; /* what the hypervisor sees */
};

struct hvcfg_section {
	char name[HVCFG_NAME_MAX];
	char options[HVCFG_OPTIONS_MAX];
	char kernel[HVCFG_PATH_MAX];
	struct hvcfg_module modules[HVCFG_MAX_MODULES];
	unsigned nmodules;
	unsigned line; /* where its header is */
};

struct hvcfg_error {
	unsigned line; /* 0: the file as a whole */
	char reason[HVCFG_REASON_MAX];
};

struct hvcfg {
	struct hvcfg_section sections[HVCFG_MAX_SECTIONS];
	unsigned nsections;
	int default_index; /* -1: no default=, the loader asks */
	struct hvcfg_error errors[HVCFG_MAX_ERRORS];
	unsigned nerrors;
	bool errors_dropped; /* more than HVCFG_MAX_ERRORS */
};

/*
 * Parses text[0..len). Returns true when the file is good: at least one
 * entry, every line understood, default= naming an entry. Otherwise false,
 * with up to HVCFG_MAX_ERRORS reasons (by line) in cfg->errors.
 */
bool hvcfg_parse(struct hvcfg *cfg, const char *text, size_t len);

/* "hv.cfg:LINE: reason" (or "hv.cfg: reason") into out, terminated; returns its length. */
size_t hvcfg_error_format(const struct hvcfg *cfg, unsigned i, const char *file, char *out,
			  size_t size);

#endif
