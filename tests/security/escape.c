/* Run inside the sandbox: tries to reach the host. Nothing it attempts may
 * have a host-visible effect; the harness (stub_isolation.sh) checks the
 * host afterwards.
 * usage: escape paths|stubjump|stubmmap|stubmask|stubclone DIR */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "platform/stub.h"
#include "platform/systrap/slot.h"

static int failures;
#define MUST_FAIL(expr)                                                        \
	do {                                                                   \
		long r_ = (long)(expr);                                        \
		if (r_ >= 0) {                                                 \
			printf("FAIL: %s succeeded (%ld)\n", #expr, r_);       \
			failures++;                                            \
		}                                                              \
	} while (0)

static int try_paths(const char *dir)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/created-by-sandbox", dir);
	/* These may succeed: the root is an in-memory overlay, so they
	 * create names in the sandbox only. The harness checks that nothing
	 * appeared on the host (invariant 5). */
	long fd = syscall(SYS_open, p, O_CREAT | O_WRONLY, 0644);
	if (fd >= 0) {
		if (syscall(SYS_write, fd, "escape", 6) != 6)
			printf("note: write to the overlay copy failed\n");
		syscall(SYS_close, fd);
	}
	syscall(SYS_unlink, p);
	syscall(SYS_mkdir, p, 0755);
	syscall(SYS_rmdir, p);
	syscall(SYS_symlink, "/etc/shadow", p);
	MUST_FAIL(syscall(SYS_socket, AF_INET, SOCK_STREAM, 0));
	MUST_FAIL(syscall(SYS_execve, "/bin/sh", (char *[]){"sh", NULL}, (char *[]){NULL}));
	MUST_FAIL(syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0));
	/* Our pid is the sandbox's, not the host's. */
	if (syscall(SYS_getpid) != 1) {
		printf("FAIL: getpid is %ld, want 1 (the sandbox's first process)\n",
		       syscall(SYS_getpid));
		failures++;
	}
	/* The stub region is out of the application's reach. */
	MUST_FAIL(syscall(SYS_munmap, STUB_BASE, 4096));
	MUST_FAIL(syscall(SYS_mprotect, STUB_BASE, 4096, PROT_READ | PROT_WRITE | PROT_EXEC));
	MUST_FAIL(syscall(SYS_mmap, STUB_BASE, 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == (long)STUB_BASE ? 0 : -1);
	MUST_FAIL(syscall(SYS_mremap, 0x10000, 0, 4096, 3, STUB_BASE) == (long)STUB_BASE ? 0 : -1);
	MUST_FAIL(syscall(SYS_write, 1, STUB_BASE, 16) == 16 ? -1 : -1); /* reading it is harmless */
	return failures ? 1 : 0;
}

/* Returns the offset of the first n bytes equal to pat in the stub code,
 * or -1. */
static int find_in_stub(const unsigned char *pat, int n)
{
	const unsigned char *code = (const unsigned char *)STUB_BASE;

	for (int i = 0; i + n <= 4096; i++)
		if (!memcmp(code + i, pat, (size_t)n))
			return i;
	return -1;
}

/* Makes the call nr(a0, a1, a2, a3, a4, a5) with the syscall instruction at
 * the stub's offset off. What follows it in the stub then runs with our
 * registers, so we may never come back. */
static long call_in_stub(int off, long nr, long a0, long a1, long a2, long a3,
			 long a4, long a5)
{
	uintptr_t target = STUB_BASE + (uintptr_t)off;
	register long r10 __asm__("r10") = a3;
	register long r8 __asm__("r8") = a4;
	register long r9 __asm__("r9") = a5;
	long r;

	fflush(stdout);
	__asm__ volatile("call *%[t]"
			 : "=a"(r)
			 : [t] "r"(target), "a"(nr), "D"(a0), "S"(a1), "d"(a2),
			   "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return r;
}

/* Finds a syscall instruction in the stub code and calls mkdir through
 * it: `syscall; int3` (ptrace: the platform intercepts the call like any
 * other and the int3 after it ends the program with SIGTRAP), else any
 * syscall instruction (systrap: the stub filter kills the stub). */
static int stub_jump(const char *dir)
{
	static const unsigned char sys_int3[] = {0x0f, 0x05, 0xcc}, sys[] = {0x0f, 0x05};
	static char p[4096];
	int off = find_in_stub(sys_int3, 3);

	if (off < 0)
		off = find_in_stub(sys, 2);
	if (off < 0) {
		printf("FAIL: no syscall site found in the stub page\n");
		return 1;
	}
	snprintf(p, sizeof(p), "%s/created-through-stub", dir);
	printf("returned from the stub: %ld\n",
	       call_in_stub(off, SYS_mkdir, (long)p, 0755, 0, 0, 0, 0));
	return 1;
}

/* systrap: maps over the stub code through one of its syscall sites (the
 * stub filter allows mmap below the stub only, so this kills the stub). */
static int stub_mmap(void)
{
	static const unsigned char sys[] = {0x0f, 0x05};
	int off = find_in_stub(sys, 2);

	if (off < 0) {
		printf("FAIL: no syscall site found in the stub page\n");
		return 1;
	}
	printf("returned from the stub: %ld\n",
	       call_in_stub(off, SYS_mmap, (long)STUB_BASE, 4096, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	return 1;
}

/* systrap: a forged signal frame through the stub's rt_sigreturn that
 * blocks every signal it can, then a spin with no syscall. The sentry must
 * still be able to end the program (its interrupt goes unanswered, so it
 * kills the stub). */
static void spin_forever(void)
{
	for (volatile unsigned long i = 0;; i++)
		;
}

static int stub_mask(void)
{
	/* mov $__NR_rt_sigreturn, %eax; syscall */
	static const unsigned char sigret[] = {0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};
	static unsigned long stack[4096] __attribute__((aligned(64)));
	static unsigned long frame[128] __attribute__((aligned(64)));
	int off = find_in_stub(sigret, (int)sizeof(sigret));

	if (off < 0) {
		printf("FAIL: no rt_sigreturn found in the stub page\n");
		return 1;
	}
	memset(frame, 0, sizeof(frame));
	/* struct ucontext: uc_flags, uc_link, uc_stack (ss_sp, ss_flags,
	 * ss_size), uc_mcontext.gregs[23], fpregs, reserved[8], uc_sigmask */
	frame[3] = 2; /* uc_stack.ss_flags = SS_DISABLE */
	frame[5 + 15] = (unsigned long)&stack[4000];     /* rsp */
	frame[5 + 16] = (unsigned long)spin_forever;     /* rip */
	frame[5 + 17] = 0x202;                           /* eflags */
	frame[5 + 18] = 0x33 | (0x2bUL << 48);           /* cs, ss */
	frame[37] = ~((1UL << (SIGKILL - 1)) | (1UL << (SIGSTOP - 1))); /* uc_sigmask */
	printf("spinning with every signal blocked\n");
	fflush(stdout);
	__asm__ volatile("mov %0, %%rsp; jmp *%1"
			 :
			 : "r"(frame), "r"(STUB_BASE + (uintptr_t)off)
			 : "memory");
	return 1;
}

/* systrap: the stub's own clone instructions, with exactly the registers
 * the sentry uses. The filter traces clone, so without the sentry's ptrace
 * it fails with ENOSYS: no thread or process comes to be behind the
 * sentry's back. The stub code after the clone reports into a slot of
 * ours (rbx) and takes the resume a helper thread forges there, so it
 * comes back here, with the clone's result in that slot. */
static struct {
	_Alignas(64) unsigned char b[SM_END];
} fake_slot;
static unsigned long fake_uc[128];
static atomic_int forging;

static void *forge_resume(void *arg)
{
	volatile uint32_t *state = (volatile uint32_t *)(fake_slot.b + SM_STATE);

	(void)arg;
	while (atomic_load(&forging))
		*state = SLOT_CMD;
	return NULL;
}

static long clone_in_stub(int off, unsigned long flags, unsigned long stack)
{
	register unsigned long r13 __asm__("r13") = (unsigned long)fake_uc;
	register unsigned long r12 __asm__("r12") = (unsigned long)-1; /* fork: fds to close */
	register unsigned long r15 __asm__("r15") = (unsigned long)-1;
	uintptr_t target = STUB_BASE + (uintptr_t)off;
	pthread_t t;
	long r;

	memset(&fake_slot, 0, sizeof(fake_slot));
	*(uint64_t *)(fake_slot.b + SM_SPIN) = 1ULL << 40; /* spin, never sleep */
	*(uint64_t *)(fake_slot.b + SM_CMD) = CMD_RESUME;
	*(uint64_t *)(fake_slot.b + SM_RESULT) = 12345;
	atomic_store(&forging, 1);
	if (pthread_create(&t, NULL, forge_resume, NULL))
		return 12345;
	__asm__ volatile("call *%[t]"
			 : "+r"(r13), "+r"(r12), "+r"(r15), "=a"(r)
			 : [t] "r"(target), "a"(SYS_clone), "D"(flags), "S"(stack), "d"(0),
			   "b"(fake_slot.b)
			 : "rcx", "r8", "r10", "r11", "r14", "memory");
	atomic_store(&forging, 0);
	pthread_join(t, NULL);
	return *(volatile long *)(fake_slot.b + SM_RESULT);
}

static int stub_clone(void)
{
	/* mov $__NR_clone, %eax; syscall: the thread site, then the fork's. */
	static const unsigned char site[] = {0xb8, SYS_clone, 0, 0, 0, 0x0f, 0x05};
	const unsigned char *code = (const unsigned char *)STUB_BASE;
	int thread_off = find_in_stub(site, sizeof(site)), fork_off = -1;
	long r;

	if (thread_off >= 0)
		for (int i = thread_off + 1; i + (int)sizeof(site) <= 4096; i++)
			if (!memcmp(code + i, site, sizeof(site))) {
				fork_off = i;
				break;
			}
	if (thread_off < 0 || fork_off < 0) {
		printf("FAIL: no clone sites found in the stub page\n");
		return 1;
	}
	r = clone_in_stub(thread_off + 5,
			  CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
				  CLONE_SYSVSEM,
			  STUB_SLOTS + 2 * STUB_SLOT_SIZE);
	if (r != -ENOSYS) {
		printf("FAIL: a thread through the stub's clone: %ld\n", r);
		return 1; /* a rogue fork would corrupt our slots: stop here */
	}
	r = clone_in_stub(fork_off + 5, CLONE_PARENT | SIGCHLD, 0);
	if (r != -ENOSYS) {
		printf("FAIL: a fork through the stub's clone: %ld\n", r);
		failures++;
	}
	if (!failures)
		printf("both clones through the stub failed with ENOSYS\n");
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	if (!strcmp(argv[1], "paths"))
		return try_paths(argv[2]);
	if (!strcmp(argv[1], "stubjump"))
		return stub_jump(argv[2]);
	if (!strcmp(argv[1], "stubmmap"))
		return stub_mmap();
	if (!strcmp(argv[1], "stubmask"))
		return stub_mask();
	if (!strcmp(argv[1], "stubclone"))
		return stub_clone();
	return 2;
}
