/* Processes and threads together: fork (copy-on-write memory, exit
 * status, fork from a thread and from a forked child), vfork and
 * posix_spawn (CLONE_VM without CLONE_THREAD), threads (TLS, tids, join
 * through CLONE_CHILD_CLEARTID, many created and ended one after the
 * other, a hundred alive at once), eight threads hammering getpid and
 * write while another thread forks, and signal handlers that use the FPU: the interrupted code's
 * SSE/AVX registers and MXCSR survive, the frame shows them, a change to
 * the frame's fpstate takes effect at sigreturn, and a handler starts
 * with clean FPU state.
 *
 *   fork_threads            everything above but the two below
 *   fork_threads spawn      vfork, then posix_spawn of ourselves: the
 *                           CLONE_VM child execs while we wait
 *   fork_threads leader     the main thread exits (pthread_exit) while
 *                           another goes on, forks, and ends the process
 *   fork_threads spawned N  (how posix_spawn runs us) exits with N */
#include <cpuid.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "check.h"

extern char **environ;
static const char *self;

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

/* Waits for pid and returns its exit status, or -1 if it did not exit. */
static int wait_exit(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid) {
		FAIL("waitpid(%d): %s", pid, check_errname(errno));
		return -1;
	}
	if (!WIFEXITED(st)) {
		FAIL("child %d did not exit (status %#x)", pid, st);
		return -1;
	}
	return WEXITSTATUS(st);
}

/* ---- fork ---- */

static int cow_value = 1;

static void test_fork_cow(void)
{
	size_t len = 16 << 20;
	unsigned char *big = mmap(NULL, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pid_t parent = getpid(), pid;

	CHECK(big != MAP_FAILED);
	if (big == MAP_FAILED)
		return;
	for (size_t i = 0; i < len; i += 4096)
		big[i] = (unsigned char)(i >> 12);
	cow_value = 2;
	pid = fork();
	if (pid == 0) {
		int bad = getpid() == parent || getppid() != parent || cow_value != 2;
		for (size_t i = 0; i < len; i += 4096) {
			bad |= big[i] != (unsigned char)(i >> 12);
			big[i] = 0xee; /* copy on write: the parent keeps its own */
		}
		cow_value = 3;
		_exit(bad ? 1 : 42);
	}
	CHECK(pid > 0);
	CHECK_EQ(wait_exit(pid), 42);
	CHECK_EQ(cow_value, 2);
	for (size_t i = 0; i < len; i += 4096)
		if (big[i] != (unsigned char)(i >> 12)) {
			FAIL("page %zu changed in the parent after the child wrote it", i >> 12);
			break;
		}
	munmap(big, len);
}

/* A forked child forks again, and creates threads of its own. */
static void *count_getpid(void *arg)
{
	pid_t want = (pid_t)(intptr_t)arg;
	for (int i = 0; i < 200; i++)
		if (getpid() != want)
			return (void *)1;
	return NULL;
}

static int child_threads_and_fork(void)
{
	pthread_t t[4];
	void *r;
	int bad = 0, st;
	pid_t pid;

	for (int i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, count_getpid, (void *)(intptr_t)getpid()))
			return 1;
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], &r);
		bad |= r != NULL;
	}
	pid = fork();
	if (pid == 0)
		_exit(getppid() > 0 ? 9 : 1);
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 9)
		bad = 1;
	return bad ? 1 : 33;
}

static void test_fork_nested(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(child_threads_and_fork());
	CHECK(pid > 0);
	CHECK_EQ(wait_exit(pid), 33);
}

/* fork from a thread other than the main one: the child is a copy of
 * that thread alone. */
static void *fork_in_thread(void *arg)
{
	pid_t pid;

	(void)arg;
	pid = fork();
	if (pid == 0)
		_exit(child_threads_and_fork());
	return (void *)(intptr_t)(pid > 0 ? wait_exit(pid) : -1);
}

static void test_fork_from_thread(void)
{
	pthread_t t;
	void *r = NULL;

	CHECK_EQ(pthread_create(&t, NULL, fork_in_thread, NULL), 0);
	CHECK_EQ(pthread_join(t, &r), 0);
	CHECK_EQ((intptr_t)r, 33);
}

/* ---- vfork and posix_spawn: the child borrows our memory ---- */

static volatile int vfork_word;

static void test_vfork(void)
{
	pid_t pid, cpid;
	posix_spawnattr_t attr;
	char *argv[] = {(char *)self, "spawned", "17", NULL};

	vfork_word = 0;
	pid = vfork();
	if (pid == 0) {
		vfork_word = 5; /* the same memory as the parent's */
		_exit(6);
	}
	CHECK(pid > 0);
	CHECK_EQ(vfork_word, 5);
	CHECK_EQ(wait_exit(pid), 6);

	/* glibc's posix_spawn: clone(CLONE_VM | CLONE_VFORK), then exec. */
	CHECK_EQ(posix_spawnattr_init(&attr), 0);
	CHECK_EQ(posix_spawn(&cpid, self, NULL, &attr, argv, environ), 0);
	CHECK_EQ(wait_exit(cpid), 17);
	posix_spawnattr_destroy(&attr);
}

/* ---- threads ---- */

static __thread int tls_word = 11;

struct tinfo {
	int n;
	pid_t tid;
	int tls_seen;
};

static void *thread_ids(void *arg)
{
	struct tinfo *ti = arg;

	ti->tid = gettid_();
	ti->tls_seen = tls_word; /* a fresh TLS block: the initial value */
	tls_word = 100 + ti->n;
	return (void *)(intptr_t)(tls_word == 100 + ti->n ? ti->n : -1);
}

static void test_threads(void)
{
	enum { N = 6 };
	pthread_t t[N];
	struct tinfo ti[N];
	void *r;

	tls_word = 12;
	for (int i = 0; i < N; i++) {
		ti[i] = (struct tinfo){.n = i};
		CHECK_EQ(pthread_create(&t[i], NULL, thread_ids, &ti[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		CHECK_EQ(pthread_join(t[i], &r), 0);
		CHECK_EQ((intptr_t)r, i);
		CHECK_EQ(ti[i].tls_seen, 11);
		CHECK(ti[i].tid > 0 && ti[i].tid != getpid());
		for (int j = 0; j < i; j++)
			CHECK(ti[i].tid != ti[j].tid);
	}
	CHECK_EQ(tls_word, 12);
	/* More threads, one after the other, than a stub has slots at once:
	 * each that ends gives its place back. */
	for (int i = 0; i < 48; i++) {
		struct tinfo one = {.n = i};
		if (pthread_create(&t[0], NULL, thread_ids, &one)) {
			FAIL("thread %d of 48 one after the other: %s", i, check_errname(errno));
			break;
		}
		CHECK_EQ(pthread_join(t[0], &r), 0);
		CHECK_EQ((intptr_t)r, i);
	}
}

/* ---- eight threads hammering while another forks ---- */

/* More threads than a small fixed table would hold, all alive at once. */
#define MANY_THREADS 100
static pthread_barrier_t many_barrier;

static void *many_body(void *arg)
{
	pthread_barrier_wait(&many_barrier);
	return arg;
}

static void test_many_threads(void)
{
	pthread_t t[MANY_THREADS];
	pthread_attr_t attr;
	int made = 0;
	void *r;

	CHECK_EQ(pthread_attr_init(&attr), 0);
	CHECK_EQ(pthread_attr_setstacksize(&attr, 64 * 1024), 0);
	CHECK_EQ(pthread_barrier_init(&many_barrier, NULL, MANY_THREADS + 1), 0);
	for (; made < MANY_THREADS; made++) {
		int e = pthread_create(&t[made], &attr, many_body, (void *)(intptr_t)made);
		if (e) {
			FAIL("pthread_create #%d: %s", made, check_errname(e));
			break;
		}
	}
	if (made == MANY_THREADS)
		pthread_barrier_wait(&many_barrier);
	for (int i = 0; i < made; i++) {
		if (made < MANY_THREADS)
			pthread_cancel(t[i]);
		CHECK_EQ(pthread_join(t[i], &r), 0);
	}
	pthread_barrier_destroy(&many_barrier);
	pthread_attr_destroy(&attr);
}

static atomic_int stop_hammer;

static void *hammer(void *arg)
{
	int fd = (int)(intptr_t)arg;
	pid_t me = getpid();
	long bad = 0, rounds = 0;
	char buf[64];

	memset(buf, 'x', sizeof(buf));
	while (!atomic_load(&stop_hammer) || rounds < 1000) {
		bad += getpid() != me;
		bad += write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf);
		rounds++;
	}
	return (void *)bad;
}

static void *forker(void *arg)
{
	long bad = 0;

	(void)arg;
	for (int i = 0; i < 20; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			/* Only the forking thread was copied; getpid is ours. */
			_exit(getppid() > 0 && getpid() != getppid() ? i : 255);
		}
		if (pid < 0) {
			bad++;
			continue;
		}
		int st;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != i)
			bad++;
	}
	return (void *)bad;
}

static void test_hammer_and_fork(void)
{
	pthread_t h[8], f;
	void *r;
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	CHECK(fd >= 0);
	atomic_store(&stop_hammer, 0);
	for (int i = 0; i < 8; i++)
		CHECK_EQ(pthread_create(&h[i], NULL, hammer, (void *)(intptr_t)fd), 0);
	CHECK_EQ(pthread_create(&f, NULL, forker, NULL), 0);
	CHECK_EQ(pthread_join(f, &r), 0);
	CHECK_EQ((intptr_t)r, 0);
	atomic_store(&stop_hammer, 1);
	for (int i = 0; i < 8; i++) {
		CHECK_EQ(pthread_join(h[i], &r), 0);
		CHECK_EQ((intptr_t)r, 0);
	}
	close(fd);
}

/* ---- signal handlers and the FPU ---- */

static uint64_t pattern[32], seen[32], modified[2] = {0x1111222233334444ULL,
						       0x5555666677778888ULL};
static volatile int in_spin, handled, handler_mxcsr, frame_ok, handler_tid;
static double handler_result;

static inline uint32_t get_mxcsr(void)
{
	uint32_t m;
	__asm__ volatile("stmxcsr %0" : "=m"(m));
	return m;
}

/* Loads pattern into xmm0-15 and MXCSR (round toward zero), says so,
 * spins until a handler has run, and stores what the registers hold. */
static void hold_sse(uint32_t mxcsr, uint32_t *mxcsr_after)
{
	__asm__ volatile(
		"ldmxcsr %[mx]\n"
		"movdqu 0(%[p]), %%xmm0\n movdqu 16(%[p]), %%xmm1\n"
		"movdqu 32(%[p]), %%xmm2\n movdqu 48(%[p]), %%xmm3\n"
		"movdqu 64(%[p]), %%xmm4\n movdqu 80(%[p]), %%xmm5\n"
		"movdqu 96(%[p]), %%xmm6\n movdqu 112(%[p]), %%xmm7\n"
		"movdqu 128(%[p]), %%xmm8\n movdqu 144(%[p]), %%xmm9\n"
		"movdqu 160(%[p]), %%xmm10\n movdqu 176(%[p]), %%xmm11\n"
		"movdqu 192(%[p]), %%xmm12\n movdqu 208(%[p]), %%xmm13\n"
		"movdqu 224(%[p]), %%xmm14\n movdqu 240(%[p]), %%xmm15\n"
		"movl $1, %[spin]\n"
		"1: pause\n cmpl $0, %[done]\n je 1b\n"
		"movdqu %%xmm0, 0(%[o])\n movdqu %%xmm1, 16(%[o])\n"
		"movdqu %%xmm2, 32(%[o])\n movdqu %%xmm3, 48(%[o])\n"
		"movdqu %%xmm4, 64(%[o])\n movdqu %%xmm5, 80(%[o])\n"
		"movdqu %%xmm6, 96(%[o])\n movdqu %%xmm7, 112(%[o])\n"
		"movdqu %%xmm8, 128(%[o])\n movdqu %%xmm9, 144(%[o])\n"
		"movdqu %%xmm10, 160(%[o])\n movdqu %%xmm11, 176(%[o])\n"
		"movdqu %%xmm12, 192(%[o])\n movdqu %%xmm13, 208(%[o])\n"
		"movdqu %%xmm14, 224(%[o])\n movdqu %%xmm15, 240(%[o])\n"
		"stmxcsr %[mxa]\n"
		: [spin] "=m"(in_spin), [mxa] "=m"(*mxcsr_after)
		: [p] "r"(pattern), [o] "r"(seen), [done] "m"(handled), [mx] "m"(mxcsr)
		: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
		  "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory");
}

/* The same with the upper halves of ymm0-15 (AVX). */
__attribute__((target("avx"))) static void hold_avx(void)
{
	__asm__ volatile(
		"vmovdqu 0(%[p]), %%ymm0\n vmovdqu 32(%[p]), %%ymm1\n"
		"vmovdqu 64(%[p]), %%ymm2\n vmovdqu 96(%[p]), %%ymm3\n"
		"vmovdqu 128(%[p]), %%ymm8\n vmovdqu 160(%[p]), %%ymm9\n"
		"vmovdqu 192(%[p]), %%ymm14\n vmovdqu 224(%[p]), %%ymm15\n"
		"movl $1, %[spin]\n"
		"1: pause\n cmpl $0, %[done]\n je 1b\n"
		"vmovdqu %%ymm0, 0(%[o])\n vmovdqu %%ymm1, 32(%[o])\n"
		"vmovdqu %%ymm2, 64(%[o])\n vmovdqu %%ymm3, 96(%[o])\n"
		"vmovdqu %%ymm8, 128(%[o])\n vmovdqu %%ymm9, 160(%[o])\n"
		"vmovdqu %%ymm14, 192(%[o])\n vmovdqu %%ymm15, 224(%[o])\n"
		"vzeroupper\n"
		: [spin] "=m"(in_spin)
		: [p] "r"(pattern), [o] "r"(seen), [done] "m"(handled)
		: "xmm0", "xmm1", "xmm2", "xmm3", "xmm8", "xmm9", "xmm14", "xmm15", "memory");
}

/* Garbage in every vector register and a different MXCSR, then real
 * floating point work, as any handler may do. */
static void clobber_fpu(void)
{
	static const uint64_t junk[4] = {0xdeadbeefdeadbeefULL, 0xfeedfacefeedfaceULL,
					 0x0123456789abcdefULL, 0xfedcba9876543210ULL};
	uint32_t mx = 0x1f80 | 0x2000; /* round down, all masked */
	volatile double x = 1.0;

	__asm__ volatile("ldmxcsr %0\n"
			 "movdqu (%1), %%xmm0\n movdqu (%1), %%xmm1\n movdqu (%1), %%xmm2\n"
			 "movdqu (%1), %%xmm3\n movdqu (%1), %%xmm8\n movdqu (%1), %%xmm9\n"
			 "movdqu (%1), %%xmm14\n movdqu (%1), %%xmm15\n"
			 :
			 : "m"(mx), "r"(junk)
			 : "xmm0", "xmm1", "xmm2", "xmm3", "xmm8", "xmm9", "xmm14", "xmm15");
	for (int i = 1; i < 200; i++)
		x = x * 1.0001 + 1.0 / i;
	handler_result = x;
}

static void fpu_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	fpregset_t fp = uc->uc_mcontext.fpregs;

	(void)sig;
	(void)si;
	handler_mxcsr = (int)get_mxcsr(); /* before any FPU work of ours */
	handler_tid = gettid_();
	/* The frame holds the interrupted registers: xmm8 as loaded. */
	frame_ok = fp && !memcmp(&fp->_xmm[8], &pattern[16], 16) &&
		   (fp->mxcsr & 0x6000) == 0x6000;
	clobber_fpu();
	/* A handler may change the state it returns to. */
	if (fp)
		memcpy(&fp->_xmm[15], modified, 16);
	handled = 1;
}

struct kicker {
	pthread_t target;
};

static void *kick(void *arg)
{
	struct kicker *k = arg;

	while (!in_spin)
		sched_yield();
	pthread_kill(k->target, SIGUSR1);
	return NULL;
}

static void run_held(void (*hold)(void), pthread_t *kt, struct kicker *k)
{
	in_spin = handled = 0;
	k->target = pthread_self();
	if (pthread_create(kt, NULL, kick, k)) {
		FAIL("pthread_create: %s", check_errname(errno));
		return;
	}
	hold();
	pthread_join(*kt, NULL);
}

static uint32_t mx_after;
static void hold_sse_rz(void) { hold_sse(0x1f80 | 0x6000, &mx_after); }

static void test_fpu_signals(void)
{
	struct sigaction sa;
	struct kicker k;
	pthread_t kt;
	unsigned a, b, c, d;

	for (int i = 0; i < 32; i++)
		pattern[i] = 0x0101010101010101ULL * (uint64_t)(i + 1) ^ 0xa5a5a5a5a5a5a5a5ULL;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fpu_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);

	memset(seen, 0, sizeof(seen));
	run_held(hold_sse_rz, &kt, &k);
	CHECK_EQ(handled, 1);
	CHECK_EQ(handler_mxcsr, 0x1f80); /* handlers start clean */
	CHECK_EQ(handler_tid, gettid_());
	CHECK_EQ(frame_ok, 1);
	CHECK_EQ(mx_after, 0x1f80 | 0x6000);
	for (int r = 0; r < 15; r++)
		if (memcmp(&seen[2 * r], &pattern[2 * r], 16))
			FAIL("xmm%d changed across the handler: %#llx %#llx", r,
			     (unsigned long long)seen[2 * r], (unsigned long long)seen[2 * r + 1]);
	if (memcmp(&seen[30], modified, 16))
		FAIL("xmm15 is not what the handler put in the frame: %#llx %#llx",
		     (unsigned long long)seen[30], (unsigned long long)seen[31]);
	CHECK(handler_result > 1.0);

	__cpuid(1, a, b, c, d);
	if ((c & bit_AVX) && (c & bit_OSXSAVE)) {
		memset(seen, 0, sizeof(seen));
		run_held(hold_avx, &kt, &k);
		CHECK_EQ(handled, 1);
		static const int regs[8] = {0, 1, 2, 3, 8, 9, 14, 15};
		for (int i = 0; i < 8; i++) {
			/* ymm15's low half is the one the handler replaced. */
			int from = regs[i] == 15 ? 2 : 0;
			if (memcmp(&seen[4 * i + from], &pattern[4 * i + from], 32 - 8 * from))
				FAIL("ymm%d changed across the handler", regs[i]);
		}
	}
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = 0;
	sigaction(SIGUSR1, &sa, NULL);
}

/* ---- the main thread leaves first ---- */

static pthread_t main_thread;

static void *outlive_main(void *arg)
{
	pid_t pid;

	(void)arg;
	/* The main thread has gone (pthread_exit): wait for it to be. */
	pthread_join(main_thread, NULL);
	for (int i = 0; i < 100; i++)
		if (getpid() <= 0)
			exit(1);
	/* Memory of the process is still reachable: fork copies it, and the
	 * child's exit status comes back through it. */
	pid = fork();
	if (pid == 0)
		_exit(child_threads_and_fork());
	exit(pid > 0 && wait_exit(pid) == 33 && !check_failures ? 0 : 1);
}

static int leader_exits(void)
{
	pthread_t t;

	main_thread = pthread_self();
	if (pthread_create(&t, NULL, outlive_main, NULL))
		return 1;
	pthread_exit(NULL);
}

int main(int argc, char **argv)
{
	self = argv[0];
	if (argc == 3 && !strcmp(argv[1], "spawned"))
		return atoi(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "leader"))
		return leader_exits();
	if (argc == 2 && !strcmp(argv[1], "spawn")) {
		test_vfork();
		return check_exit();
	}
	test_fork_cow();
	test_fork_nested();
	test_fork_from_thread();
	test_threads();
	test_many_threads();
	test_hammer_and_fork();
	test_fpu_signals();
	return check_exit();
}
