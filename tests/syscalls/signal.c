/* Signal bookkeeping: dispositions, the mask, the alternate stack, and
 * sending signals whose action leaves the process running (signal 0,
 * ignored signals, default-ignore signals). No handler ever runs. */
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

#define BAD_PTR ((void *)8)
#define NO_SUCH_PID 0x3ffffff0
#define SIGBIT(s) (1ULL << ((s) - 1))

/* The kernel's struct sigaction on x86-64. */
struct k_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

static void never_called(int sig)
{
	(void)sig;
}

static long raw_sigaction(int sig, const struct k_sigaction *act, struct k_sigaction *old,
			  size_t size)
{
	return syscall(SYS_rt_sigaction, sig, act, old, size);
}

static long raw_sigprocmask(int how, const uint64_t *set, uint64_t *old, size_t size)
{
	return syscall(SYS_rt_sigprocmask, how, set, old, size);
}

static void test_sigaction(void)
{
	struct sigaction sa, old;
	struct k_sigaction k, kold;

	/* libc round trip: a handler with flags and a mask. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = never_called;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	CHECK_EQ(sigaction(SIGUSR1, &sa, &old), 0);
	CHECK(old.sa_handler == SIG_DFL);
	CHECK_EQ(sigaction(SIGUSR1, NULL, &old), 0);
	CHECK(old.sa_handler == never_called);
	CHECK(old.sa_flags & SA_RESTART);
	CHECK(sigismember(&old.sa_mask, SIGUSR2));
	CHECK(!sigismember(&old.sa_mask, SIGINT));

	/* Raw round trip; SIGKILL and SIGSTOP drop out of the mask. */
	memset(&k, 0, sizeof(k));
	k.handler = (uint64_t)(uintptr_t)SIG_IGN;
	k.flags = SA_NODEFER;
	k.mask = SIGBIT(SIGINT) | SIGBIT(SIGKILL) | SIGBIT(SIGSTOP) | SIGBIT(40);
	CHECK_EQ(raw_sigaction(SIGUSR1, &k, &kold, 8), 0);
	CHECK_EQ(kold.handler, (uint64_t)(uintptr_t)never_called);
	CHECK_EQ(raw_sigaction(SIGUSR1, NULL, &kold, 8), 0);
	CHECK_EQ(kold.handler, (uint64_t)(uintptr_t)SIG_IGN);
	CHECK_EQ(kold.flags, SA_NODEFER);
	CHECK_EQ(kold.mask, SIGBIT(SIGINT) | SIGBIT(40));
	k.handler = (uint64_t)(uintptr_t)SIG_DFL;
	k.flags = 0;
	k.mask = 0;
	CHECK_EQ(raw_sigaction(SIGUSR1, &k, NULL, 8), 0);
	CHECK_EQ(raw_sigaction(SIGUSR1, NULL, &kold, 8), 0);
	CHECK_EQ(kold.handler, (uint64_t)(uintptr_t)SIG_DFL);

	/* Real-time signals have dispositions too. */
	k.handler = (uint64_t)(uintptr_t)SIG_IGN;
	CHECK_EQ(raw_sigaction(64, &k, NULL, 8), 0);
	CHECK_EQ(raw_sigaction(64, NULL, &kold, 8), 0);
	CHECK_EQ(kold.handler, (uint64_t)(uintptr_t)SIG_IGN);
	k.handler = (uint64_t)(uintptr_t)SIG_DFL;
	CHECK_EQ(raw_sigaction(64, &k, NULL, 8), 0);

	/* SIGKILL and SIGSTOP: readable, not settable. */
	CHECK_EQ(raw_sigaction(SIGKILL, NULL, &kold, 8), 0);
	CHECK_EQ(kold.handler, (uint64_t)(uintptr_t)SIG_DFL);
	CHECK_ERR(raw_sigaction(SIGKILL, &k, NULL, 8), EINVAL);
	CHECK_ERR(raw_sigaction(SIGSTOP, &k, NULL, 8), EINVAL);
	CHECK_ERR(sigaction(SIGKILL, &sa, NULL), EINVAL);

	/* Bad numbers, sizes and pointers. */
	CHECK_ERR(raw_sigaction(0, NULL, &kold, 8), EINVAL);
	CHECK_ERR(raw_sigaction(65, NULL, &kold, 8), EINVAL);
	CHECK_ERR(raw_sigaction(-1, NULL, &kold, 8), EINVAL);
	CHECK_ERR(raw_sigaction(SIGUSR1, NULL, &kold, 4), EINVAL);
	CHECK_ERR(raw_sigaction(SIGUSR1, NULL, &kold, 16), EINVAL);
	CHECK_ERR(raw_sigaction(SIGUSR1, BAD_PTR, NULL, 8), EFAULT);
	CHECK_ERR(raw_sigaction(SIGUSR1, NULL, BAD_PTR, 8), EFAULT);
}

static void test_sigprocmask(void)
{
	uint64_t set, old, orig;

	CHECK_EQ(raw_sigprocmask(SIG_SETMASK, NULL, &orig, 8), 0);
	CHECK_EQ(orig & (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP)), 0);

	set = SIGBIT(SIGUSR1);
	CHECK_EQ(raw_sigprocmask(SIG_BLOCK, &set, &old, 8), 0);
	CHECK_EQ(old, orig);
	CHECK_EQ(raw_sigprocmask(SIG_BLOCK, NULL, &old, 8), 0);
	CHECK_EQ(old, orig | SIGBIT(SIGUSR1));

	/* SIGKILL and SIGSTOP cannot be blocked; the rest can. */
	set = SIGBIT(SIGKILL) | SIGBIT(SIGSTOP) | SIGBIT(SIGUSR2) | SIGBIT(64);
	CHECK_EQ(raw_sigprocmask(SIG_BLOCK, &set, NULL, 8), 0);
	CHECK_EQ(raw_sigprocmask(SIG_BLOCK, NULL, &old, 8), 0);
	CHECK_EQ(old, orig | SIGBIT(SIGUSR1) | SIGBIT(SIGUSR2) | SIGBIT(64));

	set = SIGBIT(SIGUSR1);
	CHECK_EQ(raw_sigprocmask(SIG_UNBLOCK, &set, NULL, 8), 0);
	CHECK_EQ(raw_sigprocmask(SIG_BLOCK, NULL, &old, 8), 0);
	CHECK_EQ(old, orig | SIGBIT(SIGUSR2) | SIGBIT(64));

	set = ~0ULL;
	CHECK_EQ(raw_sigprocmask(SIG_SETMASK, &set, NULL, 8), 0);
	CHECK_EQ(raw_sigprocmask(SIG_BLOCK, NULL, &old, 8), 0);
	CHECK_EQ(old, ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP)));

	/* libc agrees. */
	{
		sigset_t s;
		CHECK_EQ(sigprocmask(SIG_SETMASK, NULL, &s), 0);
		CHECK(sigismember(&s, SIGUSR1));
		CHECK(!sigismember(&s, SIGKILL));
	}

	/* Errors change nothing. */
	set = 0;
	CHECK_ERR(raw_sigprocmask(3, &set, NULL, 8), EINVAL);
	CHECK_ERR(raw_sigprocmask(-1, &set, NULL, 8), EINVAL);
	CHECK_ERR(raw_sigprocmask(SIG_SETMASK, &set, NULL, 4), EINVAL);
	CHECK_ERR(raw_sigprocmask(SIG_SETMASK, BAD_PTR, NULL, 8), EFAULT);
	CHECK_ERR(raw_sigprocmask(SIG_SETMASK, NULL, BAD_PTR, 8), EFAULT);
	CHECK_EQ(raw_sigprocmask(SIG_BLOCK, NULL, &old, 8), 0);
	CHECK_EQ(old, ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP)));
	/* Without a new set, how is not looked at. */
	CHECK_EQ(raw_sigprocmask(12345, NULL, &old, 8), 0);

	CHECK_EQ(raw_sigprocmask(SIG_SETMASK, &orig, NULL, 8), 0);
	CHECK_EQ(raw_sigprocmask(SIG_BLOCK, NULL, &old, 8), 0);
	CHECK_EQ(old, orig);
}

static void test_sigaltstack(void)
{
	static char stack[65536];
	stack_t ss, old;

	CHECK_EQ(sigaltstack(NULL, &old), 0);
	CHECK_EQ(old.ss_flags, SS_DISABLE);

	ss.ss_sp = stack;
	ss.ss_size = sizeof(stack);
	ss.ss_flags = 0;
	CHECK_EQ(sigaltstack(&ss, NULL), 0);
	CHECK_EQ(sigaltstack(NULL, &old), 0);
	CHECK(old.ss_sp == stack);
	CHECK_EQ(old.ss_size, sizeof(stack));
	CHECK_EQ(old.ss_flags, 0);

	ss.ss_flags = SS_AUTODISARM;
	CHECK_EQ(sigaltstack(&ss, NULL), 0);
	CHECK_EQ(sigaltstack(NULL, &old), 0);
	CHECK_EQ((unsigned)old.ss_flags, SS_AUTODISARM);

	/* Too small, bad flags, bad pointers: nothing changes. */
	ss.ss_size = 1;
	ss.ss_flags = 0;
	CHECK_ERR(sigaltstack(&ss, NULL), ENOMEM);
	ss.ss_size = sizeof(stack);
	ss.ss_flags = 0x1234;
	CHECK_ERR(sigaltstack(&ss, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_sigaltstack, BAD_PTR, NULL), EFAULT);
	CHECK_ERR(syscall(SYS_sigaltstack, NULL, BAD_PTR), EFAULT);
	CHECK_EQ(sigaltstack(NULL, &old), 0);
	CHECK(old.ss_sp == stack);
	CHECK_EQ(old.ss_size, sizeof(stack));

	ss.ss_flags = SS_DISABLE;
	CHECK_EQ(sigaltstack(&ss, &old), 0);
	CHECK(old.ss_sp == stack);
	CHECK_EQ(sigaltstack(NULL, &old), 0);
	CHECK_EQ(old.ss_flags, SS_DISABLE);
}

static void test_send(void)
{
	pid_t pid = getpid(), tid = gettid();
	struct sigaction sa, old;

	/* Signal 0 checks the target exists. */
	CHECK_EQ(kill(pid, 0), 0);
	CHECK_EQ(syscall(SYS_tgkill, pid, tid, 0), 0);
	CHECK_ERR(kill(NO_SUCH_PID, 0), ESRCH);
	CHECK_ERR(syscall(SYS_tgkill, pid, NO_SUCH_PID, 0), ESRCH);
	CHECK_ERR(syscall(SYS_tgkill, NO_SUCH_PID, tid, 0), ESRCH);

	/* Bad signals and ids. */
	CHECK_ERR(kill(pid, 65), EINVAL);
	CHECK_ERR(kill(pid, -1), EINVAL);
	CHECK_ERR(syscall(SYS_tgkill, pid, tid, 65), EINVAL);
	CHECK_ERR(syscall(SYS_tgkill, 0, tid, 0), EINVAL);
	CHECK_ERR(syscall(SYS_tgkill, pid, 0, 0), EINVAL);
	CHECK_ERR(syscall(SYS_tgkill, -1, tid, 0), EINVAL);

	/* Signals whose default action is to ignore them. */
	CHECK_EQ(kill(pid, SIGCHLD), 0);
	CHECK_EQ(kill(pid, SIGWINCH), 0);
	CHECK_EQ(kill(pid, SIGURG), 0);
	CHECK_EQ(syscall(SYS_tgkill, pid, tid, SIGCHLD), 0);
	/* SIGCONT continues a running process: nothing to see. */
	CHECK_EQ(kill(pid, SIGCONT), 0);

	/* Ignored signals that would otherwise terminate. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	CHECK_EQ(sigaction(SIGTERM, &sa, &old), 0);
	CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
	CHECK_EQ(sigaction(SIGRTMIN + 1, &sa, NULL), 0);
	CHECK_EQ(kill(pid, SIGTERM), 0);
	CHECK_EQ(syscall(SYS_tgkill, pid, tid, SIGUSR1), 0);
	CHECK_EQ(kill(pid, SIGRTMIN + 1), 0);
	CHECK_EQ(sigaction(SIGTERM, &old, NULL), 0);
}

int main(void)
{
	test_sigaction();
	test_sigprocmask();
	test_sigaltstack();
	test_send();
	return check_exit();
}
