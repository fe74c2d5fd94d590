/* The host's floor under a trapped system call: one getppid turned into
 * SIGSYS and answered by a handler that only sets rax, with no sentry at
 * all. Run natively, never in the sandbox. Any platform that traps with a
 * signal pays at least this per call, so it bounds what an unpatched
 * getpid can cost.
 *
 *   sigsys_floor seccomp [ITERATIONS]   seccomp RET_TRAP (systrap's way)
 *   sigsys_floor sud [ITERATIONS]       Syscall User Dispatch
 *
 * Prints the median ns per call over several batches. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "bench_util.h"

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_ON 1
#endif
#define SUD_ALLOW 0
#define SUD_BLOCK 1
#define K_SA_RESTORER 0x04000000

/* rt_sigreturn in a page of its own: Syscall User Dispatch lets calls
 * from there through (the handler's return must not trap). */
extern char floor_exempt[];
void floor_restorer(void);
__asm__(".text\n\t.balign 4096\n"
	".globl floor_exempt\nfloor_exempt:\n"
	".globl floor_restorer\nfloor_restorer:\n\t"
	"mov $15, %eax\n\tsyscall\n\t"
	".balign 4096\n");

static volatile char selector = SUD_ALLOW;

static void on_sigsys(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	(void)sig;
	(void)si;
	uc->uc_mcontext.gregs[REG_RAX] = 42;
}

static long trapped_getppid(void)
{
	long r;
	__asm__ volatile("mov $110, %%eax\n\tsyscall" : "=a"(r) : : "rcx", "r11", "memory");
	return r;
}

struct k_sigaction {
	void (*handler)(int, siginfo_t *, void *);
	unsigned long flags;
	void (*restorer)(void);
	unsigned long mask;
};

static int arm(const char *mode)
{
	struct k_sigaction sa = {on_sigsys, SA_SIGINFO | K_SA_RESTORER, floor_restorer, 0};

	if (syscall(SYS_rt_sigaction, SIGSYS, &sa, NULL, sizeof(sa.mask)) < 0)
		return -errno;
	if (!strcmp(mode, "sud")) {
		if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON,
			  (unsigned long)floor_exempt, 4096UL, &selector) < 0)
			return -errno;
		selector = SUD_BLOCK;
		return 0;
	}
	if (!strcmp(mode, "seccomp")) {
		struct sock_filter f[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getppid, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog p = {sizeof(f) / sizeof(f[0]), f};
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p) < 0)
			return -errno;
		return 0;
	}
	return -EINVAL;
}

int main(int argc, char **argv)
{
	enum { BATCHES = 7 };
	long iters = argc > 2 ? atol(argv[2]) : 20000;
	double per[BATCHES];
	int bad = 0, r;

	if (argc < 2 || (r = arm(argv[1])) == -EINVAL) {
		fprintf(stderr, "usage: sigsys_floor seccomp|sud [ITERATIONS]\n");
		return 2;
	}
	if (r < 0) {
		fprintf(stderr, "sigsys_floor: %s: %s\n", argv[1], strerror(-r));
		return 1;
	}
	if (iters <= 0)
		iters = 20000;
	for (int b = 0; b < BATCHES; b++) {
		uint64_t t0 = now_ns();
		for (long i = 0; i < iters; i++)
			bad |= trapped_getppid() != 42;
		per[b] = (double)(now_ns() - t0) / (double)iters;
	}
	selector = SUD_ALLOW; /* stdio may make calls from here on */
	if (bad) {
		fprintf(stderr, "sigsys_floor: a call was not trapped\n");
		return 1;
	}
	printf("%.1f\n", bench_median(per, BATCHES));
	return 0;
}
