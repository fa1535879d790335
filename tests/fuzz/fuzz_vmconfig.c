/*
 * Fuzz target for the VM file parser and checker: any bytes in, and afterwards the promises of
 * xlcfg.h and vmconfig.h must hold. A broken promise traps, so the fuzzer reports it like a
 * crash; AddressSanitizer and UBSan catch the rest.
 *
 * Built with clang -fsanitize=fuzzer (libFuzzer) by tests/fuzz/run-fuzz.sh. Built with
 * -DFUZZ_STANDALONE instead, it has its own small mutation loop, for a host without
 * libFuzzer: `fuzz_vmconfig [runs]`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/config/vmconfig.h"

#define CHECK(cond)                                                                       \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "fuzz_vmconfig: broken promise: %s (line %d)\n", #cond, \
				__LINE__);                                                \
			__builtin_trap();                                                 \
		}                                                                         \
	} while (0)

static const char *const modules[] = { "/boot/vmlinuz", "/boot/initrd.img", "/boot/root.img" };
static const char *const vm_names[] = { "db", "web" };
static const struct vmconfig_context host = {
	.modules = modules,
	.module_count = 3,
	.host_cpus = 12,
	.max_memory_mib = 4096,
	.vm_names = vm_names,
	.vm_count = 2,
};

static bool nul_within(const char *s, size_t size)
{
	return memchr(s, 0, size) != NULL;
}

static void check_errors(const struct xlcfg_errors *errs)
{
	char line[512];

	CHECK(errs->count <= XLCFG_MAX_ERRORS);
	for (unsigned i = 0; i < errs->count; i++) {
		const struct xlcfg_error *e = &errs->err[i];
		int n;

		CHECK(nul_within(e->reason, sizeof(e->reason)));
		CHECK(e->reason[0] != 0);
		CHECK(e->pos.line == 0 || e->pos.column >= 1);
		CHECK(e->pos.column <= XLCFG_MAX_LINE_LEN + 1);
		n = xlcfg_error_format(errs, i, line, sizeof(line));
		CHECK(n > 0 && strncmp(line, "fuzz.cfg:", 9) == 0);
		/* Sorted: placed errors by line, then file-wide ones. */
		if (i > 0 && e->pos.line != 0)
			CHECK(errs->err[i - 1].pos.line != 0 &&
			      errs->err[i - 1].pos.line <= e->pos.line);
	}
}

static void check_parse(const struct xlcfg *cfg)
{
	CHECK(cfg->entry_count <= XLCFG_MAX_ENTRIES);
	CHECK(cfg->item_count <= XLCFG_MAX_ITEMS);
	CHECK(cfg->pool_used <= XLCFG_POOL_SIZE);
	for (unsigned i = 0; i < cfg->entry_count; i++) {
		const struct xlcfg_entry *e = &cfg->entries[i];
		const struct xlcfg_value *v = &e->value;

		CHECK(nul_within(e->key, sizeof(e->key)) && e->key[0] != 0);
		CHECK(xlcfg_find(cfg, e->key) == e); /* no duplicates */
		if (v->type == XLCFG_STRING) {
			CHECK(v->str + (size_t)v->len < cfg->pool_used);
			CHECK(strlen(xlcfg_string(cfg, v)) == v->len);
		} else if (v->type == XLCFG_LIST) {
			CHECK((size_t)v->first + v->count <= cfg->item_count);
			for (unsigned k = 0; k < v->count; k++) {
				const struct xlcfg_value *item = xlcfg_item(cfg, v, k);

				CHECK(item);
				CHECK(item->type == XLCFG_NUMBER || item->type == XLCFG_STRING);
				if (item->type == XLCFG_STRING)
					CHECK(strlen(xlcfg_string(cfg, item)) == item->len);
			}
		}
	}
}

static void check_vm(bool ok, const struct vm_config *vm, const struct xlcfg_errors *errs)
{
	static const struct vm_config zero;

	if (!ok) {
		/* A bad file: said why, and gave no VM at all. */
		CHECK(errs->count >= 1);
		CHECK(memcmp(vm, &zero, sizeof(*vm)) == 0);
		return;
	}
	CHECK(errs->count == 0 && errs->dropped == 0);
	CHECK(vm->vcpus >= 1 && vm->vcpus <= VM_MAX_VCPUS);
	CHECK(vm->memory_mib >= 1 && vm->memory_mib <= host.max_memory_mib);
	CHECK(nul_within(vm->name, sizeof(vm->name)) && vm->name[0]);
	CHECK(strcmp(vm->name, "db") != 0 && strcmp(vm->name, "web") != 0);
	CHECK(strcmp(vm->kernel, modules[0]) == 0 || strcmp(vm->kernel, modules[1]) == 0 ||
	      strcmp(vm->kernel, modules[2]) == 0);
	CHECK(nul_within(vm->ramdisk, sizeof(vm->ramdisk)));
	CHECK(nul_within(vm->extra, sizeof(vm->extra)));
	CHECK(vm->weight >= 1 && vm->weight <= 65535);
	CHECK(vm->cap <= 100 * vm->vcpus);
	CHECK(vm->pci_count <= VM_MAX_PCI && vm->vif_count <= VM_MAX_VIFS &&
	      vm->disk_count <= VM_MAX_DISKS);
	for (unsigned d = 0; d < vm->disk_count; d++) {
		const struct vm_disk *disk = &vm->disks[d];
		bool module = false;

		CHECK(nul_within(disk->vdev, sizeof(disk->vdev)));
		CHECK(diskspec_vdev_index(disk->vdev) == (int)disk->index);
		for (unsigned m = 0; m < host.module_count; m++)
			module = module || strcmp(disk->target, modules[m]) == 0;
		CHECK(module);
		for (unsigned e = 0; e < d; e++) {
			CHECK(vm->disks[e].index != disk->index);
			CHECK(strcmp(vm->disks[e].target, disk->target) != 0 ||
			      (disk->read_only && vm->disks[e].read_only));
		}
	}
	for (unsigned v = 0; v < vm->vcpus; v++) {
		bool any = false;

		for (unsigned cpu = 0; cpu < CPUSET_MAX; cpu++) {
			if (cpuset_has(&vm->affinity[v], cpu)) {
				CHECK(cpu < host.host_cpus);
				any = true;
			}
		}
		CHECK(any);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xlcfg work, again;
	static struct vm_config vm;
	static struct xlcfg_errors errs, errs_again;
	/* An exact-size copy: any read past the end is an ASan report. */
	char *text = malloc(size ? size : 1);
	bool ok;

	if (!text)
		return 0;
	memcpy(text, data, size);
	ok = vmconfig_parse("fuzz.cfg", text, size, &host, &work, &vm, &errs);
	check_errors(&errs);
	check_parse(&work);
	check_vm(ok, &vm, &errs);

	/* Same bytes, same verdict: no state survives between parses. */
	xlcfg_errors_init(&errs_again, "fuzz.cfg");
	CHECK(xlcfg_parse(&again, text, size, &errs_again) == (errs_again.count == 0));
	CHECK(again.entry_count == work.entry_count);
	free(text);
	return 0;
}

#ifdef FUZZ_STANDALONE
/* A plain mutation loop over a few seeds, for hosts without libFuzzer. */
static const char *const seeds[] = {
	"name = \"web-1\"\nmemory = 512\nvcpus = 2\ncpus = \"0-3\"\nkernel = \"/boot/vmlinuz\"\n"
	"ramdisk = '/boot/initrd.img'\nextra = \"console=ttyS0\"\n",
	"name='a'; memory=1; kernel='/boot/vmlinuz'\npci = [ '03:00.0', '0000:04:1f.7', ]\n"
	"vif = [ 'bridge=br0',\n  # c\n  'mac=00:16:3e:00:00:01' ]\ndisk=['x']\n",
	"cpus = [\"2\", \"3-8\"]\ncap = 150\nweight = 0x100\non_crash = 'preserve'\n"
	"builder='hvm'\n",
	"x = [ [1] ]\ny = \"\\q\"\nz = 012\n= 5\n@\n",
	"name='d'\nmemory=64\nkernel='/boot/vmlinuz'\nvirtio_rng=0\nvirtio_console=1\n"
	"disk=['format=raw, vdev=xvda, access=rw, target=/boot/root.img',\n"
	"      '/boot/initrd.img,,xvdb,ro', 'vdev=hdc,access=r,target=/boot/initrd.img']\n",
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	/* xorshift64 */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

int main(int argc, char **argv)
{
	static const char tokens[] = "=[],;#'\"\\\n \t0x1-_.:@\0\xff";
	static uint8_t buf[8192];
	long runs = argc > 1 ? atol(argv[1]) : 100000;

	for (long run = 0; run < runs; run++) {
		const char *seed = seeds[rng() % (sizeof(seeds) / sizeof(seeds[0]))];
		size_t len = strlen(seed);
		unsigned edits = 1 + (unsigned)(rng() % 8);

		memcpy(buf, seed, len);
		for (unsigned e = 0; e < edits; e++) {
			size_t at = len ? (size_t)(rng() % len) : 0;

			switch (rng() % 4) {
			case 0: /* replace a byte with anything */
				if (len)
					buf[at] = (uint8_t)rng();
				break;
			case 1: /* replace a byte with a token character */
				if (len)
					buf[at] = (uint8_t)tokens[rng() % (sizeof(tokens) - 1)];
				break;
			case 2: /* cut */
				if (len) {
					size_t n = (size_t)(rng() % (len - at + 1));

					memmove(buf + at, buf + at + n, len - at - n);
					len -= n;
				}
				break;
			default: { /* repeat a piece */
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
	printf("fuzz_vmconfig: %ld runs, no failure\n", runs);
	return 0;
}
#endif
