#include "kernel/vm/exitprof.h"
#include "kernel/vm/vm_account.h"

#include "include/x86.h"
#include "kernel/cmdline.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/vm/vm.h"

bool exitprof_on;
static char exitmark[48]; /* hypervisor option exitmark=TEXT, or empty */

static const char *const point_names[XP_COUNT] = {
    [XP_EXITED] = "switch+guest", [XP_DECODED] = "backend-exit", [XP_SYNCED] = "sync",
    [XP_HANDLED] = "handler",	  [XP_LOOPED] = "loop",		 [XP_INJECTED] = "inject",
    [XP_ENTER] = "backend-entry",
};

void exitprof_init(const char *cmdline)
{
	const char *v;
	size_t len;
	exitprof_on = cmdline_find(cmdline, "exitprof", &v, &len);
	if (!cmdline_get_str(cmdline, "exitmark", exitmark, sizeof(exitmark)))
		exitmark[0] = 0;
	if (exitprof_on)
		printk("hv: exitprof: the exit path is profiled (slower)\n");
}

void exitprof_restart(struct vcpu *v)
{
	if (exitprof_on)
		v->xprof.last = 0;
}

void exitprof_reason(struct vcpu *v, unsigned reason, bool fast)
{
	v->xprof.reason = reason;
	v->xprof.fast = fast;
}

void exitprof_record(struct vcpu *v, enum exitprof_point p)
{
	struct exitprof *x = &v->xprof;
	uint64_t t = rdtsc();
	if (!x->last) {
		/* the first mark on this core: the segments start at the next entry */
		x->last = p == XP_ENTER ? t : 0;
		for (unsigned i = 0; i < XP_COUNT; i++)
			x->cur[i] = 0;
		return;
	}
	x->cur[p] += t - x->last;
	x->last = t;
	if (p != XP_ENTER)
		return;
	/* an entry closes the round trip that began at the previous entry */
	if (!x->sum) {
		x->sum = kzalloc(sizeof(uint64_t) * XP_COUNT * EXIT_REASON_COUNT * 2);
		x->count = kzalloc(sizeof(uint64_t) * EXIT_REASON_COUNT * 2);
	}
	unsigned slot = x->reason * 2 + x->fast;
	if (x->sum && x->count && x->reason < EXIT_REASON_COUNT && x->cur[XP_EXITED]) {
		for (unsigned i = 0; i < XP_COUNT; i++)
			x->sum[slot * XP_COUNT + i] += x->cur[i];
		x->count[slot]++;
	}
	for (unsigned i = 0; i < XP_COUNT; i++)
		x->cur[i] = 0;
}

void exitprof_print(const struct vm *vm)
{
	if (!exitprof_on)
		return;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		const struct exitprof *x = &vm->vcpus[i]->xprof;
		if (!x->count)
			continue;
		for (unsigned slot = 0; slot < EXIT_REASON_COUNT * 2; slot++) {
			uint64_t n = x->count[slot];
			if (!n)
				continue;
			char line[320];
			uint64_t total = 0;
			size_t len = (size_t)format(line, sizeof(line), "exitprof vm %s vcpu %u %s%s: %llu exits, per exit:",
						    vm->name, i, vm_exit_reason_name(slot / 2),
						    slot & 1 ? " (fast)" : "", (unsigned long long)n);
			for (unsigned p = 0; p < XP_COUNT && len < sizeof(line); p++) {
				uint64_t per = x->sum[slot * XP_COUNT + p] / n;
				total += per;
				len += (size_t)format(line + len, sizeof(line) - len, " %s %llu",
						      point_names[p], (unsigned long long)per);
			}
			if (len < sizeof(line))
				format(line + len, sizeof(line) - len, ", total %llu",
				       (unsigned long long)total);
			printk("%s\n", line);
		}
	}
}

static bool contains(const char *text, const char *word)
{
	size_t n = strlen(word);
	for (; *text; text++)
		if (strncmp(text, word, n) == 0)
			return true;
	return false;
}

void exitprof_console_line(struct vm *vm, const char *text)
{
	if (!exitmark[0] || vm->exitmark_seen || !contains(text, exitmark))
		return;
	vm->exitmark_seen = true;
	uint64_t by[EXIT_REASON_COUNT] = {0}, total = 0;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		const struct vcpu *v = vm->vcpus[i];
		total += v->exits_total;
		for (unsigned r = 0; r < EXIT_REASON_COUNT; r++)
			by[r] += v->exits[r];
	}
	char line[256];
	size_t n = (size_t)format(line, sizeof(line), "exitmark vm %s at \"%s\": %llu exits", vm->name,
				  exitmark, (unsigned long long)total);
	for (unsigned r = 1; r < EXIT_REASON_COUNT && n < sizeof(line); r++)
		if (by[r])
			n += (size_t)format(line + n, sizeof(line) - n, ", %s %llu",
					    vm_exit_reason_name(r), (unsigned long long)by[r]);
	printk("%s\n", line);
	vm_print_mmio_ranges(vm, "exitmark ");
	vm_print_busiest_ports(vm, "exitmark ", 16);
}
