/* Syscall sites of the `mov $N,%eax; syscall` form, which systrap rewrites
 * into jumps once they have trapped (sentry/mm/patch.c). Each check holds
 * natively too:
 *   - the code bytes of a site after 1000 calls are the same, or (in a
 *     sandbox that patches) exactly the documented rewrite: the mov
 *     became `jmp rel32`, the syscall instruction is unchanged;
 *   - threads running a site while it is rewritten get the right result;
 *   - a site leaves the registers as the syscall instruction does (rcx
 *     the next instruction, r11 the flags, the rest kept) and the red
 *     zone below %rsp untouched;
 *   - signals that interrupt a loop of calls through a site see the
 *     loop's code as the interrupted instruction;
 *   - rt_sigreturn through a site restores the interrupted state;
 *   - a blocking read through a site, interrupted by SA_RESTART signals,
 *     restarts and returns the right bytes;
 *   - a vfork child runs through a site its parent patched;
 *   - setting %gs with arch_prctl keeps every site working. */
#include <asm/prctl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>
#include <ucontext.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <pthread.h>
#include <unistd.h>

#include "check.h"

/* One site each, at a global label so the test can read its bytes. */
extern const unsigned char site_getpid[];

__attribute__((noinline)) static long raw_getpid(void)
{
	long r;
	__asm__ volatile(".globl site_getpid\nsite_getpid:\n\t"
			 "mov $39, %%eax\n\tsyscall"
			 : "=a"(r)
			 :
			 : "rcx", "r11", "memory");
	return r;
}

__attribute__((noinline)) static long raw_read(long fd, void *buf, long n)
{
	long r;
	__asm__ volatile("mov $0, %%eax\n\tsyscall"
			 : "=a"(r)
			 : "D"(fd), "S"(buf), "d"(n)
			 : "rcx", "r11", "memory");
	return r;
}

__attribute__((noinline)) static long raw_write(long fd, const void *buf, long n)
{
	long r;
	__asm__ volatile("mov $1, %%eax\n\tsyscall"
			 : "=a"(r)
			 : "D"(fd), "S"(buf), "d"(n)
			 : "rcx", "r11", "memory");
	return r;
}

/* getpid through a site, in a leaf that keeps data in its red zone and
 * checks what the syscall instruction promises. Returns 0 if all held. */
__attribute__((noinline)) static long regs_and_red_zone(void)
{
	long bad;
	__asm__ volatile(
		/* the red zone: 16 words of a pattern */
		"mov $-128, %%rax\n"
		"1: lea 0x5a5a(%%rax), %%rcx\n\t"
		"mov %%rcx, (%%rsp,%%rax)\n\t"
		"add $8, %%rax\n\t"
		"jnz 1b\n\t"
		"mov $0x1111, %%rdi\n\t"
		"mov $0x2222, %%rsi\n\t"
		"mov $0x3333, %%rdx\n\t"
		"mov $0x4444, %%r8\n\t"
		"mov $0x5555, %%r9\n\t"
		"mov $0x6666, %%r10\n\t"
		"lea 2f(%%rip), %%r12\n\t"
		"cmp %%r12, %%r12\n\t" /* ZF set: the flags r11 must show */
		"mov $39, %%eax\n\t"
		"syscall\n"
		"2: xor %%eax, %%eax\n\t"
		"cmp %%r12, %%rcx\n\t"
		"jne 3f\n\t"
		"test $0x40, %%r11\n\t"
		"jz 3f\n\t"
		"cmp $0x1111, %%rdi\n\t"
		"jne 3f\n\t"
		"cmp $0x2222, %%rsi\n\t"
		"jne 3f\n\t"
		"cmp $0x3333, %%rdx\n\t"
		"jne 3f\n\t"
		"cmp $0x4444, %%r8\n\t"
		"jne 3f\n\t"
		"cmp $0x5555, %%r9\n\t"
		"jne 3f\n\t"
		"cmp $0x6666, %%r10\n\t"
		"jne 3f\n\t"
		"mov $-128, %%rax\n"
		"4: lea 0x5a5a(%%rax), %%rcx\n\t"
		"cmp %%rcx, (%%rsp,%%rax)\n\t"
		"jne 3f\n\t"
		"add $8, %%rax\n\t"
		"jnz 4b\n\t"
		"xor %%eax, %%eax\n\t"
		"jmp 5f\n"
		"3: mov $1, %%eax\n"
		"5:"
		: "=a"(bad)
		:
		: "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "memory", "cc");
	return bad;
}

static void test_bytes(void)
{
	unsigned char before[7], after[7];
	long pid = getpid();

	memcpy(before, site_getpid, 7);
	CHECK(before[0] == 0xb8 && before[1] == 39 && before[5] == 0x0f && before[6] == 0x05);
	for (int i = 0; i < 1000; i++)
		if (raw_getpid() != pid) {
			FAIL("getpid through the site gave a wrong pid");
			break;
		}
	memcpy(after, site_getpid, 7);
	if (memcmp(before, after, 7)) {
		/* The documented rewrite (README, "Syscall patching"). */
		CHECK_EQ(after[0], 0xe9);
		CHECK(after[5] == 0x0f && after[6] == 0x05);
	}
}

static void test_regs(void)
{
	for (int i = 0; i < 100; i++)
		if (regs_and_red_zone()) {
			FAIL("a syscall site changed registers or the red zone");
			break;
		}
}

__attribute__((noinline)) static long raw_getppid(void)
{
	long r;
	__asm__ volatile("mov $110, %%eax\n\tsyscall" : "=a"(r) : : "rcx", "r11", "memory");
	return r;
}

/* Threads that all run one site for the first time at once: some meet it
 * while it is being rewritten. */
enum { RACERS = 8, RACE_CALLS = 2000 };
static pthread_barrier_t race_start;

static void *racer(void *arg)
{
	long ppid = (long)(intptr_t)arg, bad = 0;

	pthread_barrier_wait(&race_start);
	for (int i = 0; i < RACE_CALLS; i++)
		bad |= raw_getppid() != ppid;
	return (void *)bad;
}

static void test_race(void)
{
	pthread_t th[RACERS];
	long ppid = getppid();

	CHECK_EQ(pthread_barrier_init(&race_start, NULL, RACERS), 0);
	for (int i = 0; i < RACERS; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, racer, (void *)(intptr_t)ppid), 0);
	for (int i = 0; i < RACERS; i++) {
		void *bad = (void *)1;
		CHECK_EQ(pthread_join(th[i], &bad), 0);
		CHECK(bad == NULL);
	}
	pthread_barrier_destroy(&race_start);
}

/* Fresh sites, each met by one thread right after another thread's first
 * call there, at a varying delay: the second thread may arrive while the
 * site is being rewritten. */
/* A site function per (prefix, n): its own `mov $nr,%eax; syscall`. */
#define SITE_FN(pre, nr, n)                                                   \
	__attribute__((noinline)) static long pre##_##n(void)                 \
	{                                                                     \
		long r;                                                       \
		__asm__ volatile("mov $" #nr ", %%eax\n\tsyscall"             \
				 : "=a"(r) : : "rcx", "r11", "memory");       \
		return r;                                                     \
	}
#define SITE_FN4(pre, nr, n)                                                  \
	SITE_FN(pre, nr, n##0) SITE_FN(pre, nr, n##1) SITE_FN(pre, nr, n##2)  \
	SITE_FN(pre, nr, n##3)
#define SITE_REF4(pre, n) pre##_##n##0, pre##_##n##1, pre##_##n##2, pre##_##n##3
/* getppid (110) sites */
SITE_FN4(fresh, 110, 1) SITE_FN4(fresh, 110, 2) SITE_FN4(fresh, 110, 3) SITE_FN4(fresh, 110, 4)
SITE_FN4(fresh, 110, 5) SITE_FN4(fresh, 110, 6) SITE_FN4(fresh, 110, 7) SITE_FN4(fresh, 110, 8)
SITE_FN4(fresh, 110, 9) SITE_FN4(fresh, 110, a) SITE_FN4(fresh, 110, b) SITE_FN4(fresh, 110, c)
SITE_FN4(fresh, 110, d) SITE_FN4(fresh, 110, e) SITE_FN4(fresh, 110, f) SITE_FN4(fresh, 110, g)
static long (*const fresh[])(void) = {
	SITE_REF4(fresh, 1), SITE_REF4(fresh, 2), SITE_REF4(fresh, 3), SITE_REF4(fresh, 4),
	SITE_REF4(fresh, 5), SITE_REF4(fresh, 6), SITE_REF4(fresh, 7), SITE_REF4(fresh, 8),
	SITE_REF4(fresh, 9), SITE_REF4(fresh, a), SITE_REF4(fresh, b), SITE_REF4(fresh, c),
	SITE_REF4(fresh, d), SITE_REF4(fresh, e), SITE_REF4(fresh, f), SITE_REF4(fresh, g)};
enum { NFRESH = sizeof(fresh) / sizeof(fresh[0]) };
static atomic_int fresh_go = -1;

static void spin_us(long us)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000 < us);
}

static void *follower(void *arg)
{
	long ppid = (long)(intptr_t)arg, bad = 0;

	for (int i = 0; i < NFRESH; i++) {
		while (atomic_load(&fresh_go) < i)
			;
		spin_us(i * 37 % 700);
		for (int k = 0; k < 50; k++)
			bad |= fresh[i]() != ppid;
	}
	return (void *)bad;
}

static void test_fresh(void)
{
	long ppid = getppid();
	pthread_t th;
	void *bad = (void *)1;

	CHECK_EQ(pthread_create(&th, NULL, follower, (void *)(intptr_t)ppid), 0);
	for (int i = 0; i < NFRESH; i++) {
		/* The sandbox rewrites a site on its 16th trap (mm/patch.c,
		 * PATCH_AFTER): the call after the go is that one. */
		for (int k = 0; k < 15; k++)
			if (fresh[i]() != ppid)
				FAIL("fresh site %d", i);
		spin_us(200);
		atomic_store(&fresh_go, i);
		if (fresh[i]() != ppid)
			FAIL("fresh site %d", i);
	}
	CHECK_EQ(pthread_join(th, &bad), 0);
	CHECK(bad == NULL);
}

/* Signals at any point of a loop of calls through a site: the handler
 * must see the loop's own code as the interrupted instruction (never the
 * sandbox's trampoline or stub), and every call its result. */
extern const char __executable_start[], etext[];
static atomic_int usr1_seen, usr1_bad;
static atomic_bool hammer_done, hammer_looping;

static void on_usr1(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	uint64_t rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];

	(void)sig;
	(void)si;
	atomic_fetch_add(&usr1_seen, 1);
	/* Outside the loop the thread may be in libc. */
	if (atomic_load(&hammer_looping) &&
	    (rip < (uint64_t)__executable_start || rip >= (uint64_t)etext))
		atomic_fetch_add(&usr1_bad, 1);
}

static void *hammer(void *arg)
{
	long pid = (long)(intptr_t)arg, bad = 0;

	atomic_store(&hammer_looping, true);
	while (!atomic_load(&hammer_done))
		bad |= raw_getpid() != pid;
	atomic_store(&hammer_looping, false);
	return (void *)bad;
}

static void test_signals(void)
{
	struct sigaction sa = {.sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO | SA_RESTART};
	long pid = getpid();
	void *bad = (void *)1;
	pthread_t th;

	CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
	CHECK_EQ(pthread_create(&th, NULL, hammer, (void *)(intptr_t)pid), 0);
	for (int i = 0; i < 500; i++) {
		pthread_kill(th, SIGUSR1);
		spin_us(i % 50);
	}
	atomic_store(&hammer_done, true);
	CHECK_EQ(pthread_join(th, &bad), 0);
	CHECK(bad == NULL);
	CHECK(atomic_load(&usr1_seen) > 0);
	CHECK_EQ(atomic_load(&usr1_bad), 0);
}

/* rt_sigreturn through a site: a handler whose restorer is
 * `mov $15,%eax; syscall` (glibc's uses a longer mov, which no sandbox
 * patches), run often enough to be patched, keeps the interrupted state. */
extern void site_restorer(void);
__asm__(".text\n.globl site_restorer\nsite_restorer:\n\tmov $15, %eax\n\tsyscall\n\tud2\n");

struct k_sigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};
#define K_SA_RESTORER 0x04000000UL

static volatile sig_atomic_t usr2_seen;
static void on_usr2(int sig)
{
	(void)sig;
	usr2_seen++;
}

static void test_sigreturn(void)
{
	struct k_sigaction ka = {.handler = on_usr2, .flags = K_SA_RESTORER,
				 .restorer = site_restorer};
	volatile double x = 1.0;

	CHECK_EQ(syscall(SYS_rt_sigaction, SIGUSR2, &ka, NULL, 8), 0);
	for (int i = 0; i < 40; i++) {
		x *= 1.5;
		CHECK_EQ(raise(SIGUSR2), 0);
		CHECK_EQ(regs_and_red_zone(), 0);
	}
	CHECK_EQ(usr2_seen, 40);
	CHECK(x > 11057332.0 && x < 11057333.0);
	signal(SIGUSR2, SIG_DFL);
}

static volatile sig_atomic_t alarms;
static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

struct writer {
	int fd;
	int n;
};

static void *slow_writer(void *arg)
{
	struct writer *w = arg;
	struct timespec ts = {0, 3000000};

	for (int i = 0; i < w->n; i++) {
		unsigned char b = (unsigned char)i;
		nanosleep(&ts, NULL);
		if (raw_write(w->fd, &b, 1) != 1)
			break;
	}
	return NULL;
}

static void test_restart(void)
{
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
	struct itimerval it = {{0, 1000}, {0, 1000}};
	struct writer w;
	pthread_t th;
	sigset_t block;
	int p[2];

	CHECK_EQ(pipe(p), 0);
	CHECK_EQ(sigaction(SIGALRM, &sa, NULL), 0);
	w.fd = p[1];
	w.n = 100;
	/* The alarms go to this thread: the writer blocks them. */
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	CHECK_EQ(pthread_create(&th, NULL, slow_writer, &w), 0);
	pthread_sigmask(SIG_UNBLOCK, &block, NULL);
	CHECK_EQ(setitimer(ITIMER_REAL, &it, NULL), 0);
	for (int i = 0; i < w.n; i++) {
		unsigned char b = 0xff;
		long r = raw_read(p[0], &b, 1);
		if (r != 1 || b != (unsigned char)i) {
			FAIL("read %d gave %ld, byte %u", i, r, b);
			break;
		}
	}
	it = (struct itimerval){{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &it, NULL);
	pthread_join(th, NULL);
	CHECK(alarms > 0);
	close(p[0]);
	close(p[1]);
}

static void test_vfork(void)
{
	long pid;
	int st;

	raw_getpid(); /* patched by now, in a sandbox that patches */
	pid = vfork();
	if (pid == 0)
		_exit(raw_getpid() == getpid() && regs_and_red_zone() == 0 ? 7 : 1);
	CHECK(pid > 0);
	CHECK_EQ(waitpid((pid_t)pid, &st, 0), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7);
}

/* fork while sites are being rewritten: a child must never inherit a
 * half-made rewrite (the int3 of one in progress). getuid sites, fresh:
 * none has trapped before this test. */
SITE_FN4(uidsite, 102, 1) SITE_FN4(uidsite, 102, 2) SITE_FN4(uidsite, 102, 3)
SITE_FN4(uidsite, 102, 4) SITE_FN4(uidsite, 102, 5) SITE_FN4(uidsite, 102, 6)
SITE_FN4(uidsite, 102, 7) SITE_FN4(uidsite, 102, 8)
static long (*const uidsites[])(void) = {
	SITE_REF4(uidsite, 1), SITE_REF4(uidsite, 2), SITE_REF4(uidsite, 3), SITE_REF4(uidsite, 4),
	SITE_REF4(uidsite, 5), SITE_REF4(uidsite, 6), SITE_REF4(uidsite, 7), SITE_REF4(uidsite, 8)};
enum { NUID = sizeof(uidsites) / sizeof(uidsites[0]) };
static atomic_int uid_sites_done;
static atomic_bool uid_forks_done;

static void *uid_forker(void *arg)
{
	long uid = (long)(intptr_t)arg, bad = 0, forks = 0;

	while (!atomic_load(&uid_forks_done) || forks < 8) {
		int upto = atomic_load(&uid_sites_done), st;
		pid_t pid = fork();
		if (pid == 0) {
			/* Every site, the one being rewritten too. */
			long r = 0;
			for (int i = 0; i < NUID; i++)
				r |= uidsites[i]() != uid;
			_exit(r ? 1 : 0);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid || st != 0) {
			if (bad++ < 3)
				fprintf(stderr, "fork child (sites done %d): status %#x\n", upto,
					pid < 0 ? -1 : st);
		}
		forks++;
	}
	return (void *)bad;
}

static void test_fork_while_patching(void)
{
	long uid = getuid();
	pthread_t th;
	void *bad = (void *)1;

	atomic_store(&uid_sites_done, 0);
	atomic_store(&uid_forks_done, false);
	CHECK_EQ(pthread_create(&th, NULL, uid_forker, (void *)(intptr_t)uid), 0);
	for (int i = 0; i < NUID; i++) {
		/* 16 traps each (PATCH_AFTER): the last one rewrites the
		 * site while the other thread forks. */
		for (int k = 0; k < 16; k++)
			if (uidsites[i]() != uid)
				FAIL("uid site %d", i);
		atomic_store(&uid_sites_done, i + 1);
		spin_us(300);
	}
	atomic_store(&uid_forks_done, true);
	CHECK_EQ(pthread_join(th, &bad), 0);
	CHECK(bad == NULL);
}

static void *gs_thread(void *arg)
{
	static unsigned char area[4096];
	long pid = (long)(intptr_t)arg, bad = 0;

	if (syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)area) != 0)
		return (void *)1;
	for (int i = 0; i < 1000; i++)
		bad |= raw_getpid() != pid;
	bad |= regs_and_red_zone();
	return (void *)bad;
}

static void test_gs(void)
{
	pthread_t th;
	void *bad = (void *)1;
	long pid = getpid();

	CHECK_EQ(pthread_create(&th, NULL, gs_thread, (void *)(intptr_t)pid), 0);
	CHECK_EQ(pthread_join(th, &bad), 0);
	CHECK(bad == NULL);
	/* Other threads keep their sites working too. */
	for (int i = 0; i < 1000; i++)
		if (raw_getpid() != pid) {
			FAIL("getpid after another thread set %%gs");
			break;
		}
}

int main(void)
{
	test_bytes();
	test_regs();
	test_race();
	test_fresh();
	test_signals();
	test_sigreturn();
	test_restart();
	test_vfork();
	test_fork_while_patching();
	test_gs();
	return check_exit();
}
