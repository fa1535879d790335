/*
 * Checks a parsed xl.cfg file key by key, from a table, into a struct vm_config. Every key is
 * checked even after an error, so the operator sees the whole list at once; see vmconfig.h
 * for the keys and their ranges.
 */
#include "kernel/config/vmconfig.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"

struct checker {
	const struct xlcfg *cfg;
	const struct vmconfig_context *ctx;
	struct vm_config *out;
	struct xlcfg_errors *errs;
	const char *key; /* being checked, to prefix messages */
	unsigned vcpus;	 /* the VM's vCPU count, or 0 when `vcpus` is itself wrong */
	unsigned errors;
	struct xlcfg_pos vif_pos[VM_MAX_VIFS]; /* where each vif stands, for the MAC check */
};

static void cerr(struct checker *c, struct xlcfg_pos pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void cerr(struct checker *c, struct xlcfg_pos pos, const char *fmt, ...)
{
	char reason[XLCFG_REASON_LEN];
	va_list ap;

	va_start(ap, fmt);
	format_v(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	xlcfg_error_add(c->errs, pos, "%s: %s", c->key, reason);
	c->errors++;
}

static bool want_type(struct checker *c, const struct xlcfg_value *v, enum xlcfg_type type)
{
	if (v->type == type)
		return true;
	cerr(c, v->pos, "expected %s, got %s", xlcfg_type_name(type), xlcfg_type_name(v->type));
	return false;
}

static bool want_number(struct checker *c, const struct xlcfg_value *v, uint64_t min, uint64_t max,
			const char *unit, uint64_t *out)
{
	if (!want_type(c, v, XLCFG_NUMBER))
		return false;
	if (v->number < min || v->number > max) {
		cerr(c, v->pos, "%llu is out of range %llu..%llu%s", (unsigned long long)v->number,
		     (unsigned long long)min, (unsigned long long)max, unit);
		return false;
	}
	*out = v->number;
	return true;
}

/* A string of 1..max characters, copied to dst (max + 1 bytes). */
static bool want_string(struct checker *c, const struct xlcfg_value *v, size_t max, char *dst)
{
	const char *s;

	if (!want_type(c, v, XLCFG_STRING))
		return false;
	s = xlcfg_string(c->cfg, v);
	if (v->len == 0) {
		cerr(c, v->pos, "must not be empty");
		return false;
	}
	if (v->len > max) {
		cerr(c, v->pos, "\"%.20s...\" is %u characters, more than %zu", s, (unsigned)v->len,
		     max);
		return false;
	}
	memcpy(dst, s, v->len);
	dst[v->len] = 0;
	return true;
}

/* ---- one function per key ---- */

static bool name_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '.' || ch == '-';
}

static void check_name(struct checker *c, const struct xlcfg_value *v)
{
	const struct vmconfig_context *ctx = c->ctx;
	char name[VM_NAME_MAX + 1];

	if (!want_string(c, v, VM_NAME_MAX, name))
		return;
	/* Names are typed at the console (xl's verbs take them) and appear in logs. */
	for (const char *s = name; *s; s++) {
		if (!name_char_ok(*s)) {
			cerr(c, v->pos, "character '%c' is not allowed (use A-Z a-z 0-9 _ . -)",
			     *s);
			return;
		}
	}
	for (size_t i = 0; i < ctx->vm_count; i++) {
		if (ctx->vm_names[i] && strcmp(ctx->vm_names[i], name) == 0) {
			cerr(c, v->pos, "a VM named \"%s\" is already defined", name);
			return;
		}
	}
	memcpy(c->out->name, name, sizeof(name));
}

static void check_vcpus(struct checker *c, const struct xlcfg_value *v)
{
	uint64_t n;

	if (want_number(c, v, 1, VM_MAX_VCPUS, "", &n))
		c->out->vcpus = (unsigned)n;
}

static void check_memory(struct checker *c, const struct xlcfg_value *v)
{
	uint64_t n;

	if (want_number(c, v, 1, c->ctx->max_memory_mib, " MiB", &n))
		c->out->memory_mib = n;
}

static bool module_exists(const struct vmconfig_context *ctx, const char *path)
{
	for (size_t i = 0; i < ctx->module_count; i++)
		if (ctx->modules[i] && strcmp(ctx->modules[i], path) == 0)
			return true;
	return false;
}

/* A path naming another boot module: the image is loaded from it, so it must be there. */
static void check_module(struct checker *c, const struct xlcfg_value *v, char *dst)
{
	char path[VM_PATH_MAX + 1];

	if (!want_string(c, v, VM_PATH_MAX, path))
		return;
	if (module_exists(c->ctx, path))
		memcpy(dst, path, sizeof(path));
	else
		cerr(c, v->pos, "boot module \"%s\" not found", path);
}

static void check_kernel(struct checker *c, const struct xlcfg_value *v)
{
	check_module(c, v, c->out->kernel);
}

static void check_ramdisk(struct checker *c, const struct xlcfg_value *v)
{
	check_module(c, v, c->out->ramdisk);
}

static void check_extra(struct checker *c, const struct xlcfg_value *v)
{
	if (!want_type(c, v, XLCFG_STRING))
		return;
	/* An empty command line is a fine command line. */
	if (v->len > VM_EXTRA_MAX) {
		cerr(c, v->pos, "command line is %u characters, more than %d", (unsigned)v->len,
		     VM_EXTRA_MAX);
		return;
	}
	memcpy(c->out->extra, xlcfg_string(c->cfg, v), v->len + 1u);
}

static void check_weight(struct checker *c, const struct xlcfg_value *v)
{
	uint64_t n;

	if (want_number(c, v, 1, 65535, "", &n))
		c->out->weight = (unsigned)n;
}

static void check_cap(struct checker *c, const struct xlcfg_value *v)
{
	uint64_t n;

	if (!want_type(c, v, XLCFG_NUMBER))
		return;
	if (!c->vcpus)
		return; /* its range depends on a `vcpus` already reported wrong */
	/* xl's cap is in percent of one core, so N vCPUs can use at most 100 * N. */
	if (v->number > 100ull * c->vcpus) {
		cerr(c, v->pos, "%llu is out of range 0..%u (100 per vCPU)",
		     (unsigned long long)v->number, 100 * c->vcpus);
		return;
	}
	n = v->number;
	c->out->cap = (unsigned)n;
}

static bool check_flag(struct checker *c, const struct xlcfg_value *v, bool *out)
{
	if (!want_type(c, v, XLCFG_NUMBER))
		return false;
	if (v->number > 1) {
		cerr(c, v->pos, "expected 0 or 1, got %llu", (unsigned long long)v->number);
		return false;
	}
	*out = v->number == 1;
	return true;
}

static void check_autostart(struct checker *c, const struct xlcfg_value *v)
{
	check_flag(c, v, &c->out->autostart);
}

static void check_exclusive(struct checker *c, const struct xlcfg_value *v)
{
	check_flag(c, v, &c->out->exclusive);
}

static void check_hpet(struct checker *c, const struct xlcfg_value *v)
{
	check_flag(c, v, &c->out->hpet);
}

/* xl's actions (xl.cfg(5), "Event Actions Configuration"); we do the first two. */
static const char *const unsupported_actions[] = {
	"preserve", "coredump-destroy", "coredump-restart", "rename-restart",
};

static void check_action(struct checker *c, const struct xlcfg_value *v, enum vm_action *dst)
{
	const char *s;

	if (!want_type(c, v, XLCFG_STRING))
		return;
	s = xlcfg_string(c->cfg, v);
	if (strcmp(s, "destroy") == 0) {
		*dst = VM_ACTION_DESTROY;
		return;
	}
	if (strcmp(s, "restart") == 0) {
		*dst = VM_ACTION_RESTART;
		return;
	}
	for (size_t i = 0; i < sizeof(unsupported_actions) / sizeof(unsupported_actions[0]); i++) {
		if (strcmp(s, unsupported_actions[i]) == 0) {
			cerr(c, v->pos,
			     "action \"%s\" is not supported (use destroy or restart)", s);
			return;
		}
	}
	cerr(c, v->pos, "unknown action \"%.40s\" (use destroy or restart)", s);
}

static void check_on_poweroff(struct checker *c, const struct xlcfg_value *v)
{
	check_action(c, v, &c->out->on_poweroff);
}

static void check_on_reboot(struct checker *c, const struct xlcfg_value *v)
{
	check_action(c, v, &c->out->on_reboot);
}

static void check_on_crash(struct checker *c, const struct xlcfg_value *v)
{
	check_action(c, v, &c->out->on_crash);
}

/* ---- cpus ---- */

/* A CPU-LIST string (kernel/lib/cpuset.h); the host's cores bound it. */
static bool parse_cpulist(struct checker *c, const struct xlcfg_value *v, struct cpuset *set)
{
	const char *s = xlcfg_string(c->cfg, v);
	char err[160];

	if (cpuset_parse(s, strlen(s), c->ctx->host_cpus, set, err, sizeof(err)) < 0) {
		cerr(c, v->pos, "%s", err);
		return false;
	}
	return true;
}

/* One item of `cpus`: a core list, or a bare number for one core. */
static bool parse_cpus_item(struct checker *c, const struct xlcfg_value *v, struct cpuset *set)
{
	if (v->type == XLCFG_NUMBER) {
		/* a number is the one-core list of its decimal text */
		char text[24], err[160];
		format(text, sizeof(text), "%llu", (unsigned long long)v->number);
		if (cpuset_parse(text, strlen(text), c->ctx->host_cpus, set, err, sizeof(err)) < 0) {
			cerr(c, v->pos, "%s", err);
			return false;
		}
		return true;
	}
	if (v->type == XLCFG_STRING)
		return parse_cpulist(c, v, set);
	cerr(c, v->pos, "expected a string, got %s", xlcfg_type_name(v->type));
	return false;
}

static void check_cpus(struct checker *c, const struct xlcfg_value *v)
{
	struct vm_config *out = c->out;
	struct cpuset set;

	if (v->type != XLCFG_LIST) {
		/* One set for every vCPU. */
		if (!parse_cpus_item(c, v, &set))
			return;
		for (unsigned i = 0; i < VM_MAX_VCPUS; i++)
			out->affinity[i] = set;
		out->pinned = true;
		return;
	}
	/* xl: cpus = ["2", "3"] pins vCPU 0 to core 2 and vCPU 1 to core 3. */
	if (v->count == 0) {
		cerr(c, v->pos, "empty list");
		return;
	}
	if (c->vcpus && v->count > c->vcpus) {
		cerr(c, v->pos, "%u entries for %u vCPU%s", (unsigned)v->count, c->vcpus,
		     c->vcpus == 1 ? "" : "s");
		return;
	}
	for (unsigned i = 0; i < v->count && i < VM_MAX_VCPUS; i++) {
		if (parse_cpus_item(c, xlcfg_item(c->cfg, v, i), &set))
			out->affinity[i] = set;
	}
	out->pinned = true;
}

/* ---- device lists ---- */

static bool parse_hex_field(const char *s, unsigned digits, unsigned *out)
{
	unsigned v = 0;

	for (unsigned i = 0; i < digits; i++) {
		char ch = s[i];
		unsigned d;

		if (ch >= '0' && ch <= '9')
			d = (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			d = (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			d = (unsigned)(ch - 'A' + 10);
		else
			return false;
		v = v * 16 + d;
	}
	*out = v;
	return true;
}

/* "BB:DD.F" or "0000:BB:DD.F", as xl writes a PCI address (its BDF notation). */
static bool parse_pci(struct checker *c, const struct xlcfg_value *v, struct vm_pci_addr *addr)
{
	const char *s = xlcfg_string(c->cfg, v);
	const char *p = s;
	unsigned seg = 0, bus, dev, fn;

	if (strchr(s, ',') || strchr(s, '@')) {
		cerr(c, v->pos, "\"%.40s\": options after the address are not supported", s);
		return false;
	}
	if (v->len == 12) {
		if (!parse_hex_field(p, 4, &seg) || p[4] != ':')
			goto syntax;
		p += 5;
	}
	if (strlen(p) != 7 || !parse_hex_field(p, 2, &bus) || p[2] != ':' ||
	    !parse_hex_field(p + 3, 2, &dev) || p[5] != '.' || !parse_hex_field(p + 6, 1, &fn))
		goto syntax;
	if (seg != 0) {
		cerr(c, v->pos, "\"%s\": only PCI segment 0000 is supported", s);
		return false;
	}
	/* PCI Local Bus spec: 32 devices per bus, 8 functions per device. */
	if (dev > 0x1f || fn > 7) {
		cerr(c, v->pos, "\"%s\": device must be 00..1f and function 0..7", s);
		return false;
	}
	addr->bus = (uint8_t)bus;
	addr->dev = (uint8_t)dev;
	addr->fn = (uint8_t)fn;
	return true;
syntax:
	cerr(c, v->pos, "\"%.40s\" is not a PCI address (expected \"BB:DD.F\" in hex)", s);
	return false;
}

static bool want_list(struct checker *c, const struct xlcfg_value *v, unsigned max,
		      const char *what)
{
	if (!want_type(c, v, XLCFG_LIST))
		return false;
	if (v->count > max) {
		cerr(c, v->pos, "%u %s, more than %u", (unsigned)v->count, what, max);
		return false;
	}
	return true;
}

static void check_pci(struct checker *c, const struct xlcfg_value *v)
{
	struct vm_config *out = c->out;

	if (!want_list(c, v, VM_MAX_PCI, "devices"))
		return;
	for (unsigned i = 0; i < v->count; i++) {
		const struct xlcfg_value *item = xlcfg_item(c->cfg, v, i);
		struct vm_pci_addr addr;
		bool seen = false;

		if (!want_type(c, item, XLCFG_STRING) || !parse_pci(c, item, &addr))
			continue;
		for (unsigned j = 0; j < out->pci_count; j++)
			seen = seen || memcmp(&out->pci[j], &addr, sizeof(addr)) == 0;
		if (seen) {
			cerr(c, item->pos, "%02x:%02x.%x is listed twice", addr.bus, addr.dev,
			     addr.fn);
			continue;
		}
		out->pci[out->pci_count++] = addr;
	}
}

/* vif: xl's VIFSPEC strings (vifspec.h), kept as written and parsed into vifs[]. */
static void check_vif(struct checker *c, const struct xlcfg_value *v)
{
	struct vm_config *out = c->out;

	if (!want_list(c, v, VM_MAX_VIFS, "entries"))
		return;
	for (unsigned i = 0; i < v->count; i++) {
		const struct xlcfg_value *item = xlcfg_item(c->cfg, v, i);
		char spec[VM_DEVSPEC_MAX + 1], why[XLCFG_REASON_LEN];
		struct vm_vif vif;

		/* '' is a vif with every default (xl's too) */
		if (item->type == XLCFG_STRING && item->len == 0)
			spec[0] = 0;
		else if (!want_string(c, item, VM_DEVSPEC_MAX, spec))
			continue;
		if (!vifspec_parse(spec, &vif, why, sizeof(why))) {
			cerr(c, item->pos, "%s", why);
			continue;
		}
		memcpy(out->vif[out->vif_count], spec, sizeof(spec));
		c->vif_pos[out->vif_count] = item->pos;
		out->vifs[out->vif_count++] = vif;
	}
}

/*
 * Once the name is known (it may stand after `vif`): the derived MACs, and
 * no MAC twice in one VM (the switch would refuse the second port anyway,
 * but the file is where to say so). A vif's index is its place in the list.
 */
static void finish_vifs(struct checker *c)
{
	struct vm_config *out = c->out;

	for (unsigned i = 0; i < out->vif_count; i++) {
		struct vm_vif *a = &out->vifs[i];

		if (!a->mac_given)
			vifspec_derive_mac(out->name, i, a->mac);
		for (unsigned j = 0; j < i; j++) {
			const uint8_t *m = out->vifs[j].mac;

			if (memcmp(out->vifs[j].mac, a->mac, 6) != 0)
				continue;
			c->key = "vif";
			cerr(c, c->vif_pos[i], "MAC %02x:%02x:%02x:%02x:%02x:%02x is already vif %u's%s",
			     m[0], m[1], m[2], m[3], m[4], m[5], j,
			     a->mac_given && out->vifs[j].mac_given ? "" : " (derived from the name)");
			break;
		}
	}
}

/* One DISKSPEC, judged against the host's modules and the VM's disks so far. */
static void check_one_disk(struct checker *c, const struct xlcfg_value *item)
{
	struct vm_config *out = c->out;
	char spec[VM_DEVSPEC_MAX + 1], why[XLCFG_REASON_LEN];
	struct vm_disk d;

	if (!want_string(c, item, VM_DEVSPEC_MAX, spec))
		return;
	if (!diskspec_parse(spec, &d, why, sizeof(why))) {
		cerr(c, item->pos, "%s", why);
		return;
	}
	/* a host disk is looked for when the VM is created (the disks are the host's then) */
	if (!diskspec_is_host_disk(d.target) && !module_exists(c->ctx, d.target)) {
		cerr(c, item->pos, "boot module \"%.60s\" not found", d.target);
		return;
	}
	for (unsigned j = 0; j < out->disk_count; j++) {
		const struct vm_disk *o = &out->disks[j];

		if (o->index == d.index) {
			if (strcmp(o->vdev, d.vdev) == 0)
				cerr(c, item->pos, "vdev %s is listed twice", d.vdev);
			else
				cerr(c, item->pos, "vdev %s is the same disk as vdev %s", d.vdev,
				     o->vdev);
			return;
		}
		/* one disk's bytes under two names, one of them writable, corrupt each other */
		if (strcmp(o->target, d.target) == 0 && (!o->read_only || !d.read_only)) {
			cerr(c, item->pos, "target %.60s is already vdev %s's, and one of them is "
			     "writable", d.target, o->vdev);
			return;
		}
	}
	out->disks[out->disk_count++] = d;
}

static void check_disk(struct checker *c, const struct xlcfg_value *v)
{
	if (!want_list(c, v, VM_MAX_DISKS, "entries"))
		return;
	for (unsigned i = 0; i < v->count; i++)
		check_one_disk(c, xlcfg_item(c->cfg, v, i));
}

static void check_virtio_console(struct checker *c, const struct xlcfg_value *v)
{
	check_flag(c, v, &c->out->virtio_console);
}

static void check_virtio_rng(struct checker *c, const struct xlcfg_value *v)
{
	check_flag(c, v, &c->out->virtio_rng);
}

/* ---- the tables ---- */

struct key_rule {
	const char *key;
	void (*check)(struct checker *c, const struct xlcfg_value *v);
	bool required;
};

static const struct key_rule key_rules[] = {
	{ "name", check_name, true },
	{ "memory", check_memory, true },
	{ "kernel", check_kernel, true },
	{ "ramdisk", check_ramdisk, false },
	{ "extra", check_extra, false },
	{ "vcpus", check_vcpus, false },
	{ "cpus", check_cpus, false },
	{ "weight", check_weight, false },
	{ "cap", check_cap, false },
	{ "on_poweroff", check_on_poweroff, false },
	{ "on_reboot", check_on_reboot, false },
	{ "on_crash", check_on_crash, false },
	{ "autostart", check_autostart, false },
	{ "exclusive", check_exclusive, false },
	{ "hpet", check_hpet, false },
	{ "pci", check_pci, false },
	{ "vif", check_vif, false },
	{ "disk", check_disk, false },
	{ "virtio_console", check_virtio_console, false },
	{ "virtio_rng", check_virtio_rng, false },
};

/*
 * Keys of xl.cfg(5) that we do not implement (yet): a file written for xl that uses one is
 * told so plainly, rather than that the key is unknown (a typo) or, worse, it is ignored.
 */
static const char *const unsupported_keys[] = {
	"acpi", "acpi_s3", "acpi_s4", "apic", "bios", "boot", "bootloader", "bootloader_args",
	"builder", "channel", "cmdline", "cpu_weight", "cpupool", "cpus_soft", "device_model_args",
	"device_model_override", "device_model_version", "device_tree", "dtdev", "e820_host",
	"firmware", "gfx_passthru", "hap", "iomem", "ioports", "irqs", "keymap",
	"localtime", "max_grant_frames", "max_maptrack_frames", "maxmem", "maxvcpus",
	"nestedhvm", "nographic", "nomigrate", "on_soft_reset", "on_watchdog", "pae",
	"pci_msitranslate", "pci_permissive", "pvh", "root", "rtc_timeoffset", "sdl",
	"seclabel", "serial", "shadow_memory", "soundhw", "spice", "stdvga", "timer_mode",
	"tsc_mode", "type", "usb", "usbctrl", "usbdev", "usbdevice", "uuid", "vfb", "videoram",
	"viridian", "vkb", "vnc", "vncdisplay", "vnclisten", "vncpasswd", "vncunused", "vnuma",
	"vpt_align", "vtpm", "xen_platform_pci",
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const struct key_rule *find_rule(const char *key)
{
	for (size_t i = 0; i < ARRAY_LEN(key_rules); i++)
		if (strcmp(key_rules[i].key, key) == 0)
			return &key_rules[i];
	return NULL;
}

static bool is_unsupported(const char *key)
{
	for (size_t i = 0; i < ARRAY_LEN(unsupported_keys); i++)
		if (strcmp(unsupported_keys[i], key) == 0)
			return true;
	return false;
}

static void set_defaults(struct vm_config *out, const struct vmconfig_context *ctx)
{
	memset(out, 0, sizeof(*out));
	out->vcpus = 1;
	for (unsigned i = 0; i < VM_MAX_VCPUS; i++)
		cpuset_fill(&out->affinity[i], ctx->host_cpus < CPUSET_MAX ? ctx->host_cpus : CPUSET_MAX);
	out->weight = VM_DEFAULT_WEIGHT;
	/* xl's defaults (xl.cfg(5)). */
	out->on_poweroff = VM_ACTION_DESTROY;
	out->on_reboot = VM_ACTION_RESTART;
	out->on_crash = VM_ACTION_DESTROY;
	out->autostart = true;
	/*
	 * Ours, unlike xl's default of 1: no HPET unless the file asks for one. Linux runs on
	 * the KVM clock and the TSC-deadline timer and uses an HPET only for early IRQ 0, while
	 * its /dev/hpet driver spins on the HPET for 2 ms at every boot (hpet_alloc() calibrating
	 * its free timer): about 500 exits under icount, more on faster exits.
	 */
	out->hpet = false;
	out->virtio_rng = true; /* ours: entropy is cheap where the host has RDRAND/RDSEED */
}

/*
 * `cpus` and `cap` are judged against the vCPU count wherever `vcpus` stands in the file, so
 * read it first. A wrong `vcpus` gives 0: its own check reports it, and the checks that
 * depend on it are skipped rather than piling on.
 */
static unsigned vcpus_for_checks(const struct xlcfg *cfg)
{
	const struct xlcfg_entry *e = xlcfg_find(cfg, "vcpus");

	if (!e)
		return 1;
	if (e->value.type != XLCFG_NUMBER || e->value.number < 1 ||
	    e->value.number > VM_MAX_VCPUS)
		return 0;
	return (unsigned)e->value.number;
}

bool vmconfig_from_xlcfg(const struct xlcfg *cfg, const struct vmconfig_context *ctx,
			 struct vm_config *out, struct xlcfg_errors *errs)
{
	struct checker c = { .cfg = cfg, .ctx = ctx, .out = out, .errs = errs };
	bool syntax_ok = true;

	set_defaults(out, ctx);
	c.vcpus = vcpus_for_checks(cfg);

	for (unsigned i = 0; i < cfg->entry_count; i++) {
		const struct xlcfg_entry *e = &cfg->entries[i];
		const struct key_rule *rule = find_rule(e->key);

		c.key = e->key;
		if (e->value.type == XLCFG_INVALID)
			syntax_ok = false; /* reported by the parser */
		else if (rule)
			rule->check(&c, &e->value);
		else if (is_unsupported(e->key))
			cerr(&c, e->key_pos, "unsupported key");
		else
			cerr(&c, e->key_pos, "unknown key");
	}
	if (out->name[0])
		finish_vifs(&c);
	for (size_t i = 0; i < ARRAY_LEN(key_rules); i++) {
		if (key_rules[i].required && !xlcfg_find(cfg, key_rules[i].key)) {
			c.key = key_rules[i].key;
			cerr(&c, (struct xlcfg_pos){ 0, 0 }, "required key is missing");
		}
	}

	if (!syntax_ok || c.errors) {
		/* No half-checked VM leaks out: a caller that ignores the result gets nothing. */
		memset(out, 0, sizeof(*out));
		return false;
	}
	return true;
}

bool vmconfig_parse(const char *file_name, const char *text, size_t len,
		    const struct vmconfig_context *ctx, struct xlcfg *work, struct vm_config *out,
		    struct xlcfg_errors *errs)
{
	bool parsed, checked = false;

	xlcfg_errors_init(errs, file_name);
	parsed = xlcfg_parse(work, text, len, errs);
	/* A file that yielded no key at all is unreadable: "missing key" would be noise. */
	if (parsed || work->entry_count)
		checked = vmconfig_from_xlcfg(work, ctx, out, errs);
	if (!parsed || !checked) {
		memset(out, 0, sizeof(*out));
		xlcfg_errors_sort(errs);
		return false;
	}
	return true;
}

const char *vm_action_name(enum vm_action action)
{
	switch (action) {
	case VM_ACTION_DESTROY:
		return "destroy";
	case VM_ACTION_RESTART:
		return "restart";
	}
	return "?";
}
