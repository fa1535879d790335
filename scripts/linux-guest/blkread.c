/*
 * blkread: timed O_DIRECT reads from a block device, for the Linux test
 * guest's storage benchmark (scripts/build-linux-guest.sh, hv.blkbench=rand).
 * busybox dd reads sequentially only, and a shell loop of dd's would time
 * process start-up rather than the disk; this does N reads in one process.
 *
 *   blkread DEV seq|rand BS COUNT
 *
 * seq reads COUNT blocks of BS bytes from offset 0; rand reads COUNT blocks
 * at BS-aligned offsets drawn from a fixed xorshift sequence over the whole
 * device (the same offsets on every run). Prints one line:
 *   bytes=<B> ns=<elapsed, CLOCK_MONOTONIC> reads=<COUNT> bs=<BS>
 * and exits 0, or prints `blkread: <why>` and exits 1.
 *
 * No libc (the initramfs has none): raw x86-64 Linux system calls, built by
 * build-linux-guest.sh with gcc -static -nostdlib.
 */
#define SYS_read 0
#define SYS_write 1
#define SYS_open 2
#define SYS_lseek 8
#define SYS_pread64 17
#define SYS_clock_gettime 228
#define SYS_exit_group 231
#define O_RDONLY 0
#define O_DIRECT 040000
#define SEEK_END 2
#define CLOCK_MONOTONIC 1
#define MAX_BS (1 << 20)

typedef unsigned long u64;

static unsigned char buf[MAX_BS] __attribute__((aligned(4096)));

static long syscall3(long n, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}

static long syscall4(long n, long a, long b, long c, long d)
{
	long r;
	register long r10 __asm__("r10") = d;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return r;
}

static unsigned long len(const char *s)
{
	unsigned long n = 0;
	while (s[n])
		n++;
	return n;
}

static void put(const char *s)
{
	syscall3(SYS_write, 1, (long)s, (long)len(s));
}

static void put_u64(u64 v)
{
	char d[24];
	int i = 23;
	d[i] = 0;
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(d + i);
}

static __attribute__((noreturn)) void leave(int code)
{
	for (;;)
		syscall3(SYS_exit_group, code, 0, 0);
}

static __attribute__((noreturn)) void fail(const char *why)
{
	put("blkread: ");
	put(why);
	put("\n");
	leave(1);
}

static int parse(const char *s, u64 *out)
{
	u64 v = 0;
	if (!*s)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		v = v * 10 + (u64)(*s - '0');
	}
	*out = v;
	return 1;
}

static int same(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static u64 now_ns(void)
{
	long ts[2];
	if (syscall3(SYS_clock_gettime, CLOCK_MONOTONIC, (long)ts, 0) < 0)
		fail("clock_gettime failed");
	return (u64)ts[0] * 1000000000ul + (u64)ts[1];
}

__attribute__((used)) void start_c(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	u64 bs, count;
	if (argc != 5 || !parse(argv[3], &bs) || !parse(argv[4], &count))
		fail("usage: blkread DEV seq|rand BS COUNT");
	int random = same(argv[2], "rand");
	if (!random && !same(argv[2], "seq"))
		fail("mode is seq or rand");
	if (bs < 512 || bs > MAX_BS || bs % 512)
		fail("BS is a multiple of 512 up to 1 MiB");
	long fd = syscall3(SYS_open, (long)argv[1], O_RDONLY | O_DIRECT, 0);
	if (fd < 0)
		fail("cannot open the device O_DIRECT");
	long size = syscall3(SYS_lseek, fd, 0, SEEK_END);
	if (size < (long)bs)
		fail("the device is smaller than one block");
	u64 blocks = (u64)size / bs;
	if (!random && count > blocks)
		fail("COUNT blocks do not fit on the device");
	u64 x = 0x9e3779b97f4a7c15ul, bytes = 0;
	u64 t0 = now_ns();
	for (u64 i = 0; i < count; i++) {
		u64 block = i;
		if (random) {
			/* xorshift64 (Marsaglia 2003) */
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			block = x % blocks;
		}
		long n = syscall4(SYS_pread64, fd, (long)buf, (long)bs, (long)(block * bs));
		if (n != (long)bs)
			fail("a read failed or came back short");
		bytes += (u64)n;
	}
	u64 t1 = now_ns();
	put("bytes=");
	put_u64(bytes);
	put(" ns=");
	put_u64(t1 - t0);
	put(" reads=");
	put_u64(count);
	put(" bs=");
	put_u64(bs);
	put("\n");
	leave(0);
}

__asm__(".globl _start\n"
	"_start:\n"
	"	xor %rbp, %rbp\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call start_c\n"
	"	hlt\n");
