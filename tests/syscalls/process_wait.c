/* Processes and waiting for them: fork and the statuses wait4 and waitid
 * report (exits, deaths by signal, stops, continues), WNOHANG, WNOWAIT,
 * the P_PID/P_PGID/P_ALL selections, __WCLONE children, ECHILD, zombies,
 * SIGCHLD (its siginfo, SA_NOCLDSTOP, auto-reaping with SIG_IGN or
 * SA_NOCLDWAIT), a subreaper adopting orphans, PR_SET_PDEATHSIG,
 * sessions and process groups (orphaned ones too), CPU time, vfork, clone3 and RLIMIT_NPROC.
 *
 * Every test runs in children it forks, so nothing here depends on the
 * process group or session the harness started us in. Children report
 * through their exit status (0: all their checks held).
 *
 *   process_wait          everything
 *   process_wait pause    (how a child runs us after exec) waits for a
 *                         signal forever */
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define NO_SUCH_PID 0x3ffffff0
/* A user no other process on the host runs as, also not this test's
 * other builds running at the same time (natively RLIMIT_NPROC counts
 * the whole host's processes of the uid): one per test process. */
#define ODD_UID ((uid_t)(1000000 + main_pid))
static pid_t main_pid;

static const char *self;
/* Shared with every child: MAP_SHARED survives fork. */
static volatile int *shm;

static void ms_sleep(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Waits (up to ~20 s, generous for slow machines) until *p == v. */
static int wait_word(volatile int *p, int v)
{
	for (int i = 0; i < 20000; i++) {
		if (*p == v)
			return 1;
		ms_sleep(1);
	}
	return *p == v;
}

/* fork for a child that runs checks of its own: it counts from 0. */
static pid_t tfork(void)
{
	pid_t pid = fork();
	if (pid == 0)
		check_failures = 0;
	return pid;
}

/* A child's verdict: its checks, as an exit status. */
static __attribute__((noreturn)) void child_done(void)
{
	_exit(check_failures ? 100 : 0);
}

/* Reaps pid and returns its raw wait status, or -1. */
static int reap(pid_t pid)
{
	int st;
	pid_t r = waitpid(pid, &st, 0);

	if (r != pid) {
		FAIL("waitpid(%d) = %d: %s", pid, r, check_errname(errno));
		return -1;
	}
	return st;
}

/* Reaps pid, which must have exited with 0 (its own checks held). */
static void reap_ok(pid_t pid, const char *what)
{
	int st = reap(pid);
	if (st != 0)
		FAIL("%s: child status %#x (exit %d)", what, st,
		     WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static pid_t fork_pause(void)
{
	pid_t pid = tfork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	CHECK(pid > 0);
	return pid;
}

/* Takes every pending SIGCHLD (it is blocked by the caller). */
static void drain_sigchld(void)
{
	sigset_t s;
	struct timespec zero = {0, 0};

	sigemptyset(&s);
	sigaddset(&s, SIGCHLD);
	while (sigtimedwait(&s, NULL, &zero) == SIGCHLD)
		;
}

/* Waits for the next SIGCHLD (blocked by the caller). */
static int next_sigchld(siginfo_t *si)
{
	sigset_t s;
	struct timespec ts = {20, 0};

	sigemptyset(&s);
	sigaddset(&s, SIGCHLD);
	memset(si, 0, sizeof(*si));
	return sigtimedwait(&s, si, &ts);
}

/* ---- exits and deaths ---- */

static void test_exit_statuses(void)
{
	static const int codes[] = {0, 1, 42, 255, 256, 257};
	struct rusage ru;
	int st;

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		pid_t pid = tfork();
		if (pid == 0)
			_exit(codes[i]);
		CHECK(pid > 0);
		memset(&ru, 0xff, sizeof(ru));
		CHECK_EQ(wait4(pid, &st, 0, &ru), pid);
		CHECK(WIFEXITED(st));
		CHECK(!WIFSIGNALED(st) && !WIFSTOPPED(st));
		CHECK_EQ(WEXITSTATUS(st), codes[i] & 0xff);
		CHECK_EQ(st, (codes[i] & 0xff) << 8);
		CHECK(ru.ru_utime.tv_sec >= 0 && ru.ru_utime.tv_usec >= 0 &&
		      ru.ru_utime.tv_usec < 1000000);
	}
	/* exit(3) from main's return path too. */
	pid_t pid = tfork();
	if (pid == 0)
		exit(7);
	CHECK_EQ(reap(pid), 7 << 8);
}

static void test_signal_statuses(void)
{
	/* Signals by kill and by the child's own doing; without a core
	 * size limit no core is written, and the status says so. */
	static const int sigs[] = {SIGTERM, SIGKILL, SIGUSR1, SIGABRT, SIGQUIT, SIGSEGV, 40};
	int st;

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		pid_t pid = tfork();
		if (pid == 0) {
			struct rlimit rl = {0, 0};
			setrlimit(RLIMIT_CORE, &rl);
			syscall(SYS_kill, getpid(), sigs[i]);
			for (;;)
				pause();
		}
		CHECK(pid > 0);
		st = reap(pid);
		CHECK(WIFSIGNALED(st));
		CHECK(!WIFEXITED(st));
		CHECK_EQ(WTERMSIG(st), sigs[i]);
		CHECK(!WCOREDUMP(st));
		CHECK_EQ(st, sigs[i]);
	}
	/* A real fault. */
	pid_t pid = tfork();
	if (pid == 0) {
		struct rlimit rl = {0, 0};
		setrlimit(RLIMIT_CORE, &rl);
		volatile uintptr_t bad = 16;
		*(volatile int *)bad = 1;
		_exit(1);
	}
	CHECK_EQ(reap(pid), SIGSEGV);

	/* Killed by the parent while blocked. */
	pid = fork_pause();
	CHECK_EQ(kill(pid, SIGINT), 0);
	CHECK_EQ(reap(pid), SIGINT);

	/* waitid's view of the same. */
	siginfo_t si;
	pid = fork_pause();
	CHECK_EQ(kill(pid, SIGHUP), 0);
	memset(&si, 0, sizeof(si));
	CHECK_EQ(waitid(P_PID, pid, &si, WEXITED), 0);
	CHECK_EQ(si.si_signo, SIGCHLD);
	CHECK_EQ(si.si_code, CLD_KILLED);
	CHECK_EQ(si.si_status, SIGHUP);
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_uid, getuid());
}

/* ---- waitid ---- */

static void test_waitid(void)
{
	siginfo_t si;
	pid_t pid;

	/* An exit, with WNOWAIT first: the zombie stays for the next wait. */
	shm[0] = 0;
	pid = tfork();
	if (pid == 0) {
		wait_word(&shm[0], 1);
		_exit(33);
	}
	/* Nothing to report yet: WNOHANG returns 0 with si_pid and si_signo
	 * cleared. */
	memset(&si, 0x5a, sizeof(si));
	CHECK_EQ(waitid(P_PID, pid, &si, WEXITED | WNOHANG), 0);
	CHECK_EQ(si.si_pid, 0);
	CHECK_EQ(si.si_signo, 0);
	shm[0] = 1;
	memset(&si, 0, sizeof(si));
	CHECK_EQ(waitid(P_PID, pid, &si, WEXITED | WNOWAIT), 0);
	CHECK_EQ(si.si_signo, SIGCHLD);
	CHECK_EQ(si.si_code, CLD_EXITED);
	CHECK_EQ(si.si_status, 33);
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_uid, getuid());
	/* Still a zombie: it exists for kill and getpgid. */
	CHECK_EQ(kill(pid, 0), 0);
	CHECK_EQ(kill(pid, SIGKILL), 0);
	CHECK_EQ(getpgid(pid), getpgid(0));
	CHECK_EQ(getsid(pid), getsid(0));
	memset(&si, 0, sizeof(si));
	CHECK_EQ(waitid(P_ALL, 0, &si, WEXITED | WNOWAIT), 0);
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_status, 33);
	memset(&si, 0, sizeof(si));
	CHECK_EQ(waitid(P_PID, pid, &si, WEXITED), 0);
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_code, CLD_EXITED);
	/* Reaped: gone for good. */
	CHECK_ERR(waitid(P_PID, pid, &si, WEXITED), ECHILD);
	CHECK_ERR(waitid(P_ALL, 0, &si, WEXITED | WNOHANG), ECHILD);
	CHECK_ERR(kill(pid, 0), ESRCH);
	CHECK_ERR(getpgid(pid), ESRCH);

	/* Bad arguments. */
	pid = fork_pause();
	CHECK_ERR(waitid(P_ALL, 0, &si, WNOHANG), EINVAL);        /* no event */
	CHECK_ERR(waitid(P_ALL, 0, &si, 0), EINVAL);
	CHECK_ERR(waitid((idtype_t)42, 0, &si, WEXITED), EINVAL);
	CHECK_ERR(waitid(P_PID, 0, &si, WEXITED | WNOHANG), EINVAL);
	CHECK_ERR(waitid(P_PGID, -1, &si, WEXITED | WNOHANG), EINVAL);
	CHECK_ERR(waitid(P_ALL, 0, &si, WEXITED | 0x100000), EINVAL);
	CHECK_ERR(wait4(-1, NULL, 0x100000, NULL), EINVAL);
	CHECK_ERR(wait4(-1, NULL, WNOWAIT, NULL), EINVAL);        /* waitid only */
	/* A status that cannot be stored: EFAULT, and the child is reaped
	 * all the same (Linux reaps before it copies out). */
	CHECK_EQ(kill(pid, SIGKILL), 0);
	CHECK_EQ(waitid(P_PID, pid, &si, WEXITED | WNOWAIT), 0);
	CHECK_ERR(wait4(pid, (int *)8, 0, NULL), EFAULT);
	CHECK_ERR(kill(pid, 0), ESRCH);
}

/* ---- ECHILD ---- */

static void test_echild(void)
{
	int st;
	siginfo_t si;
	pid_t pid;

	shm[1] = shm[2] = 0;
	pid = tfork();
	if (pid == 0) {
		/* No children at all. */
		CHECK_ERR(wait(&st), ECHILD);
		CHECK_ERR(waitpid(-1, &st, WNOHANG), ECHILD);
		CHECK_ERR(waitid(P_ALL, 0, &si, WEXITED), ECHILD);
		/* Our parent and ourselves are no children of ours. */
		CHECK_ERR(waitpid(getppid(), &st, 0), ECHILD);
		CHECK_ERR(waitpid(getpid(), &st, 0), ECHILD);
		CHECK_ERR(waitpid(NO_SUCH_PID, &st, 0), ECHILD);
		CHECK_ERR(waitpid(-NO_SUCH_PID, &st, 0), ECHILD);
		CHECK_ERR(waitpid(INT32_MIN, &st, 0), ESRCH);
		/* A grandchild is not ours to wait for. */
		pid_t c = tfork();
		if (c == 0) {
			pid_t g = tfork();
			if (g == 0)
				_exit(0);
			/* Tell our parent who the grandchild is, then wait
			 * until it has been looked for. */
			shm[1] = g;
			wait_word(&shm[2], 1);
			_exit(reap(g) == 0 ? 0 : 1);
		}
		CHECK(c > 0);
		for (int i = 0; i < 20000 && !shm[1]; i++)
			ms_sleep(1);
		CHECK_ERR(waitpid(shm[1], &st, WNOHANG), ECHILD);
		shm[2] = 1;
		CHECK_EQ(reap(c), 0);
		child_done();
	}
	reap_ok(pid, "echild");
}

/* ---- stops and continues ---- */

static void test_stop_continue(void)
{
	sigset_t chld, old;
	siginfo_t si;
	int st;
	pid_t pid;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	CHECK_EQ(sigprocmask(SIG_BLOCK, &chld, &old), 0);
	drain_sigchld();

	pid = fork_pause();
	/* Its own process group, with us (same session, another group) as
	 * its parent: not orphaned, so SIGTSTP below stops it however the
	 * harness started us (a session leader's own group is orphaned). */
	CHECK_EQ(setpgid(pid, pid), 0);
	CHECK_EQ(kill(pid, SIGSTOP), 0);
	/* Without WUNTRACED wait4 does not see stops. */
	CHECK_EQ(next_sigchld(&si), SIGCHLD);
	CHECK_EQ(si.si_code, CLD_STOPPED);
	CHECK_EQ(si.si_status, SIGSTOP);
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(waitpid(pid, &st, WNOHANG), 0);
	/* WNOWAIT leaves the report in place. */
	memset(&si, 0, sizeof(si));
	CHECK_EQ(waitid(P_PID, pid, &si, WSTOPPED | WNOWAIT), 0);
	CHECK_EQ(si.si_code, CLD_STOPPED);
	CHECK_EQ(si.si_status, SIGSTOP);
	CHECK_EQ(si.si_pid, pid);
	st = 0;
	CHECK_EQ(waitpid(pid, &st, WUNTRACED), pid);
	CHECK(WIFSTOPPED(st));
	CHECK_EQ(WSTOPSIG(st), SIGSTOP);
	CHECK_EQ(st, 0x137f);
	/* Reported once. */
	CHECK_EQ(waitpid(pid, &st, WUNTRACED | WNOHANG), 0);
	memset(&si, 0x5a, sizeof(si));
	CHECK_EQ(waitid(P_PID, pid, &si, WSTOPPED | WNOHANG), 0);
	CHECK_EQ(si.si_pid, 0);
	/* Stopping a stopped process changes nothing. */
	CHECK_EQ(kill(pid, SIGSTOP), 0);
	CHECK_EQ(waitpid(pid, &st, WUNTRACED | WNOHANG), 0);

	CHECK_EQ(kill(pid, SIGCONT), 0);
	CHECK_EQ(next_sigchld(&si), SIGCHLD);
	CHECK_EQ(si.si_code, CLD_CONTINUED);
	CHECK_EQ(si.si_status, SIGCONT);
	CHECK_EQ(si.si_pid, pid);
	memset(&si, 0, sizeof(si));
	CHECK_EQ(waitid(P_PID, pid, &si, WCONTINUED | WNOWAIT), 0);
	CHECK_EQ(si.si_code, CLD_CONTINUED);
	CHECK_EQ(si.si_status, SIGCONT);
	st = 0;
	CHECK_EQ(waitpid(pid, &st, WCONTINUED), pid);
	CHECK(WIFCONTINUED(st));
	CHECK_EQ(st, 0xffff);
	CHECK_EQ(waitpid(pid, &st, WCONTINUED | WNOHANG), 0);

	/* SIGTSTP stops too (default action), reported through waitid. */
	CHECK_EQ(kill(pid, SIGTSTP), 0);
	memset(&si, 0, sizeof(si));
	CHECK_EQ(waitid(P_PID, pid, &si, WSTOPPED), 0);
	CHECK_EQ(si.si_code, CLD_STOPPED);
	CHECK_EQ(si.si_status, SIGTSTP);
	CHECK_EQ(next_sigchld(&si), SIGCHLD);
	CHECK_EQ(si.si_code, CLD_STOPPED);

	/* A terminating signal waits while the process is stopped, and
	 * takes effect once it continues. */
	CHECK_EQ(kill(pid, SIGTERM), 0);
	ms_sleep(50);
	CHECK_EQ(waitpid(pid, &st, WNOHANG), 0);
	CHECK_EQ(kill(pid, SIGCONT), 0);
	CHECK_EQ(reap(pid), SIGTERM);
	drain_sigchld();

	/* SIGKILL ends a stopped process at once. */
	pid = fork_pause();
	CHECK_EQ(kill(pid, SIGSTOP), 0);
	CHECK_EQ(waitpid(pid, &st, WUNTRACED), pid);
	CHECK_EQ(kill(pid, SIGKILL), 0);
	CHECK_EQ(reap(pid), SIGKILL);

	/* A continue that comes before the stop was collected replaces it. */
	pid = fork_pause();
	CHECK_EQ(kill(pid, SIGSTOP), 0);
	memset(&si, 0, sizeof(si));
	CHECK_EQ(waitid(P_PID, pid, &si, WSTOPPED | WNOWAIT), 0);
	CHECK_EQ(kill(pid, SIGCONT), 0);
	CHECK_EQ(waitpid(pid, &st, WCONTINUED), pid);
	CHECK_EQ(st, 0xffff);
	CHECK_EQ(waitpid(pid, &st, WUNTRACED | WNOHANG), 0);
	CHECK_EQ(kill(pid, SIGKILL), 0);
	CHECK_EQ(reap(pid), SIGKILL);

	/* With SA_NOCLDSTOP, stops and continues send no SIGCHLD; exits do. */
	struct sigaction sa, osa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = SA_NOCLDSTOP;
	CHECK_EQ(sigaction(SIGCHLD, &sa, &osa), 0);
	drain_sigchld();
	pid = fork_pause();
	CHECK_EQ(kill(pid, SIGSTOP), 0);
	CHECK_EQ(waitpid(pid, &st, WUNTRACED), pid);
	CHECK_EQ(kill(pid, SIGCONT), 0);
	CHECK_EQ(waitpid(pid, &st, WCONTINUED), pid);
	sigset_t pend;
	CHECK_EQ(sigpending(&pend), 0);
	CHECK(!sigismember(&pend, SIGCHLD));
	CHECK_EQ(kill(pid, SIGKILL), 0);
	CHECK_EQ(next_sigchld(&si), SIGCHLD);
	CHECK_EQ(si.si_code, CLD_KILLED);
	CHECK_EQ(si.si_status, SIGKILL);
	CHECK_EQ(reap(pid), SIGKILL);
	CHECK_EQ(sigaction(SIGCHLD, &osa, NULL), 0);
	drain_sigchld();
	CHECK_EQ(sigprocmask(SIG_SETMASK, &old, NULL), 0);
}

static void count_usr1(int sig)
{
	(void)sig;
	shm[3]++;
}

static void test_handler_while_stopped(void)
{
	struct sigaction sa;
	int st;
	pid_t pid;

	shm[3] = 0;
	shm[4] = 0;
	pid = tfork();
	if (pid == 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = count_usr1;
		sigaction(SIGUSR1, &sa, NULL);
		shm[4] = 1;
		for (;;)
			pause();
	}
	CHECK(wait_word(&shm[4], 1));
	CHECK_EQ(kill(pid, SIGSTOP), 0);
	CHECK_EQ(waitpid(pid, &st, WUNTRACED), pid);
	CHECK_EQ(kill(pid, SIGUSR1), 0);
	ms_sleep(50);
	CHECK_EQ(shm[3], 0);
	CHECK_EQ(kill(pid, SIGCONT), 0);
	CHECK(wait_word(&shm[3], 1));
	CHECK_EQ(kill(pid, SIGKILL), 0);
	CHECK_EQ(reap(pid), SIGKILL);
}

/* ---- selections ---- */

static void test_selection(void)
{
	pid_t p = tfork();

	if (p == 0) {
		/* In a process group of our own, so pgid 0 means ours alone. */
		int st;
		siginfo_t si;
		CHECK_EQ(setpgid(0, 0), 0);
		pid_t a = tfork(), b;
		if (a == 0)
			_exit(1);
		b = tfork();
		if (b == 0) {
			setpgid(0, 0); /* a group of its own */
			_exit(2);
		}
		CHECK_EQ(setpgid(b, b), 0);
		/* Wait for both to end first. */
		CHECK_EQ(waitid(P_PID, a, &si, WEXITED | WNOWAIT), 0);
		CHECK_EQ(waitid(P_PID, b, &si, WEXITED | WNOWAIT), 0);
		/* P_PGID picks by group. */
		memset(&si, 0, sizeof(si));
		CHECK_EQ(waitid(P_PGID, b, &si, WEXITED | WNOWAIT), 0);
		CHECK_EQ(si.si_pid, b);
		CHECK_EQ(si.si_status, 2);
		/* wait4(0): our group only, which holds a. */
		CHECK_EQ(wait4(0, &st, 0, NULL), a);
		CHECK_EQ(st, 1 << 8);
		CHECK_ERR(wait4(0, &st, WNOHANG, NULL), ECHILD);
		CHECK_ERR(waitid(P_PGID, 0, &si, WEXITED | WNOHANG), ECHILD);
		/* wait4(-pgid) for b's. */
		CHECK_EQ(wait4(-b, &st, 0, NULL), b);
		CHECK_EQ(st, 2 << 8);
		/* P_ALL: several, each once. */
		int seen = 0;
		for (int i = 0; i < 4; i++) {
			pid_t c = tfork();
			if (c == 0)
				_exit(10 + i);
		}
		for (int i = 0; i < 4; i++) {
			memset(&si, 0, sizeof(si));
			CHECK_EQ(waitid(P_ALL, 0, &si, WEXITED), 0);
			CHECK(si.si_status >= 10 && si.si_status < 14);
			seen |= 1 << (si.si_status - 10);
		}
		CHECK_EQ(seen, 15);
		CHECK_ERR(waitid(P_ALL, 0, &si, WEXITED), ECHILD);
		child_done();
	}
	reap_ok(p, "selection");
}

/* __WCLONE: children that send their parent something else than
 * SIGCHLD at exit are only seen with __WCLONE or __WALL. */
static long raw_clone3(struct clone_args *ca, size_t size)
{
	return syscall(SYS_clone3, ca, size);
}

static void test_clone3_wclone(void)
{
	struct clone_args ca;
	sigset_t usr1, old;
	siginfo_t si;
	int st;
	long pid;

	/* clone3 as fork. */
	memset(&ca, 0, sizeof(ca));
	ca.exit_signal = SIGCHLD;
	pid = raw_clone3(&ca, sizeof(ca));
	if (pid == 0)
		_exit(getppid() > 0 ? 21 : 1);
	CHECK(pid > 0);
	CHECK_EQ(reap((pid_t)pid), 21 << 8);
	/* Arguments Linux rejects. */
	CHECK_ERR(raw_clone3(&ca, 32), EINVAL);
	ca.flags = SIGCHLD; /* the signal goes in exit_signal, not the flags */
	CHECK_ERR(raw_clone3(&ca, sizeof(ca)), EINVAL);
	ca.flags = CLONE_THREAD; /* needs CLONE_SIGHAND */
	CHECK_ERR(raw_clone3(&ca, sizeof(ca)), EINVAL);
	ca.flags = CLONE_SIGHAND; /* needs CLONE_VM */
	CHECK_ERR(raw_clone3(&ca, sizeof(ca)), EINVAL);
	/* A thread (or a CLONE_PARENT sibling) has no exit signal. */
	ca.flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM;
	CHECK_ERR(raw_clone3(&ca, sizeof(ca)), EINVAL);
	ca.flags = CLONE_PARENT;
	CHECK_ERR(raw_clone3(&ca, sizeof(ca)), EINVAL);
	ca.flags = 0;
	ca.exit_signal = 65;
	CHECK_ERR(raw_clone3(&ca, sizeof(ca)), EINVAL);

	/* A child with SIGUSR1 as its exit signal. */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	CHECK_EQ(sigprocmask(SIG_BLOCK, &usr1, &old), 0);
	memset(&ca, 0, sizeof(ca));
	ca.exit_signal = SIGUSR1;
	pid = raw_clone3(&ca, sizeof(ca));
	if (pid == 0)
		_exit(5);
	CHECK(pid > 0);
	{
		struct timespec ts = {20, 0};
		memset(&si, 0, sizeof(si));
		CHECK_EQ(sigtimedwait(&usr1, &si, &ts), SIGUSR1);
		CHECK_EQ(si.si_code, CLD_EXITED);
		CHECK_EQ(si.si_pid, pid);
		CHECK_EQ(si.si_status, 5);
	}
	/* Not a SIGCHLD child: plain waits do not see it. */
	CHECK_ERR(waitpid((pid_t)pid, &st, WNOHANG), ECHILD);
	CHECK_ERR(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG), ECHILD);
	CHECK_EQ(waitpid((pid_t)pid, &st, __WCLONE | WNOHANG), pid);
	CHECK_EQ(st, 5 << 8);

	/* __WALL sees both kinds; __WCLONE only the other kind. */
	ca.exit_signal = 0; /* no signal at all */
	pid = raw_clone3(&ca, sizeof(ca));
	if (pid == 0)
		_exit(6);
	pid_t f = tfork();
	if (f == 0)
		_exit(7);
	CHECK_ERR(waitpid(f, &st, __WCLONE | WNOHANG), ECHILD);
	CHECK_EQ(waitpid((pid_t)pid, &st, __WALL), pid);
	CHECK_EQ(st, 6 << 8);
	CHECK_EQ(waitpid(f, &st, __WALL), f);
	CHECK_EQ(st, 7 << 8);
	CHECK_EQ(sigprocmask(SIG_SETMASK, &old, NULL), 0);
}

/* ---- SIGCHLD and auto-reaping ---- */

static void test_autoreap(void)
{
	pid_t p = tfork();

	if (p == 0) {
		struct sigaction sa;
		sigset_t chld;
		siginfo_t si;
		int st;

		/* SIG_IGN: children vanish at exit, no SIGCHLD, and wait
		 * blocks until all are gone, then fails with ECHILD. */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_IGN;
		CHECK_EQ(sigaction(SIGCHLD, &sa, NULL), 0);
		shm[5] = 0;
		pid_t a = tfork();
		if (a == 0) {
			wait_word(&shm[5], 1);
			_exit(3);
		}
		pid_t b = tfork();
		if (b == 0)
			_exit(4);
		shm[5] = 1;
		CHECK_ERR(waitpid(-1, &st, 0), ECHILD);
		CHECK_ERR(waitpid(a, &st, 0), ECHILD);
		CHECK_ERR(kill(a, 0), ESRCH);
		CHECK_ERR(kill(b, 0), ESRCH);

		/* SA_NOCLDWAIT with a handler: the signal still comes, but
		 * nothing is left to wait for. */
		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		CHECK_EQ(sigprocmask(SIG_BLOCK, &chld, NULL), 0);
		sa.sa_handler = count_usr1;
		sa.sa_flags = SA_NOCLDWAIT;
		CHECK_EQ(sigaction(SIGCHLD, &sa, NULL), 0);
		a = tfork();
		if (a == 0)
			_exit(9);
		CHECK_EQ(next_sigchld(&si), SIGCHLD);
		CHECK_EQ(si.si_code, CLD_EXITED);
		CHECK_EQ(si.si_status, 9);
		CHECK_EQ(si.si_pid, a);
		CHECK_ERR(waitpid(-1, &st, 0), ECHILD);

		/* Back to SIG_DFL: zombies stay again. */
		sa.sa_handler = SIG_DFL;
		sa.sa_flags = 0;
		CHECK_EQ(sigaction(SIGCHLD, &sa, NULL), 0);
		a = tfork();
		if (a == 0)
			_exit(11);
		CHECK_EQ(next_sigchld(&si), SIGCHLD);
		CHECK_EQ(si.si_pid, a);
		CHECK_EQ(kill(a, 0), 0);
		CHECK_EQ(reap(a), 11 << 8);
		child_done();
	}
	reap_ok(p, "autoreap");
}

/* ---- orphans: a subreaper adopts them; PR_SET_PDEATHSIG ---- */

static void test_subreaper(void)
{
	pid_t p = tfork();

	if (p == 0) {
		int v = -1, st;
		pid_t me = getpid();

		CHECK_EQ(prctl(PR_GET_CHILD_SUBREAPER, &v), 0);
		CHECK_EQ(v, 0);
		CHECK_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
		CHECK_EQ(prctl(PR_GET_CHILD_SUBREAPER, &v), 0);
		CHECK_EQ(v, 1);
		shm[6] = shm[7] = shm[8] = 0;
		pid_t mid = tfork();
		if (mid == 0) {
			pid_t mine = getpid();
			pid_t g = tfork();
			if (g == 0) {
				sigset_t usr2;
				siginfo_t si;
				struct timespec ts = {20, 0};
				int bad = 0;

				sigemptyset(&usr2);
				sigaddset(&usr2, SIGUSR2);
				sigprocmask(SIG_BLOCK, &usr2, NULL);
				prctl(PR_SET_PDEATHSIG, SIGUSR2);
				bad |= getppid() != mine;
				shm[7] = getpid();
				/* Our parent dies: the death signal comes,
				 * from it, and the subreaper adopts us. */
				memset(&si, 0, sizeof(si));
				bad |= sigtimedwait(&usr2, &si, &ts) != SIGUSR2;
				bad |= si.si_code != SI_USER;
				bad |= si.si_pid != mine;
				for (int i = 0; i < 20000 && getppid() != me; i++)
					ms_sleep(1);
				bad |= getppid() != me;
				wait_word(&shm[8], 1);
				_exit(bad ? 1 : 77);
			}
			wait_word(&shm[7], g);
			_exit(12);
		}
		/* mid ended only after the grandchild said who it is. */
		CHECK_EQ(reap(mid), 12 << 8);
		pid_t g = shm[7];
		CHECK(g > 0);
		/* The grandchild is our child now: we wait for it. */
		shm[8] = 1;
		st = reap(g);
		CHECK_EQ(st, 77 << 8);
		CHECK_ERR(waitpid(-1, &st, WNOHANG), ECHILD);
		child_done();
	}
	reap_ok(p, "subreaper");
}

/* ---- CPU time ---- */

static volatile uint64_t sink;

/* Burns CPU until this process has used at least ms of it. */
static void burn(int ms)
{
	struct timespec ts;
	uint64_t goal = (uint64_t)ms * 1000000ULL, used = 0;

	while (used < goal) {
		for (int i = 0; i < 1000000; i++)
			sink += (uint64_t)i * 7;
		if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) < 0)
			break;
		used = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	}
}

static uint64_t tv_ms(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000 + (uint64_t)tv->tv_usec / 1000;
}

/* A child's CPU time reaches its parent through wait4's rusage, SIGCHLD's
 * si_utime, getrusage(RUSAGE_CHILDREN) and times(); our own through
 * getrusage(RUSAGE_SELF). CPU time, not wall time: a loaded machine
 * changes nothing here. */
static void test_cpu_time(void)
{
	pid_t p = tfork();

	if (p == 0) {
		struct rusage ru, before;
		struct tms tb;
		int st;

		CHECK_EQ(getrusage(RUSAGE_CHILDREN, &before), 0);
		pid_t c = tfork();
		if (c == 0) {
			burn(300);
			_exit(0);
		}
		memset(&ru, 0, sizeof(ru));
		CHECK_EQ(wait4(c, &st, 0, &ru), c);
		CHECK_EQ(st, 0);
		/* The child used >= 300 ms; user time is most of it. */
		CHECK(tv_ms(&ru.ru_utime) + tv_ms(&ru.ru_stime) >= 250);
		CHECK(tv_ms(&ru.ru_utime) >= 150);
		CHECK_EQ(getrusage(RUSAGE_CHILDREN, &ru), 0);
		CHECK(tv_ms(&ru.ru_utime) + tv_ms(&ru.ru_stime) >=
		      tv_ms(&before.ru_utime) + tv_ms(&before.ru_stime) + 250);
		memset(&tb, 0, sizeof(tb));
		CHECK(times(&tb) != (clock_t)-1);
		CHECK(tb.tms_cutime + tb.tms_cstime >= 25); /* 100 Hz ticks */

		/* Our own: at least what we burn. */
		burn(200);
		CHECK_EQ(getrusage(RUSAGE_SELF, &ru), 0);
		CHECK(tv_ms(&ru.ru_utime) + tv_ms(&ru.ru_stime) >= 180);
		CHECK_ERR(getrusage(12345, &ru), EINVAL);
		child_done();
	}
	reap_ok(p, "cpu time");
}

/* ---- sessions and process groups ---- */

static void hup_seen(int sig)
{
	(void)sig;
	shm[11] = 1;
}

/* Orphaned process groups (no member's parent in another group of the
 * same session): terminal stop signals are dropped there, and a group
 * left orphaned with a stopped member gets SIGHUP and SIGCONT. */
static void test_orphaned_pgrp(void)
{
	pid_t p = tfork();

	if (p == 0) {
		int st;

		/* We subreap, so the grandchild below comes back to us. */
		CHECK_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
		shm[9] = shm[10] = shm[11] = 0;
		pid_t m = tfork();
		if (m == 0) {
			/* A session of our own: our group is orphaned now,
			 * our parent being in another session. */
			CHECK(setsid() > 0);
			pid_t c = tfork();
			if (c == 0) {
				for (;;)
					pause();
			}
			/* c is in our group, its parent (us) too. */
			CHECK_EQ(kill(c, SIGTSTP), 0);
			CHECK_EQ(kill(c, SIGTTIN), 0);
			CHECK_EQ(kill(c, SIGTTOU), 0);
			ms_sleep(50);
			CHECK_EQ(waitpid(c, &st, WUNTRACED | WNOHANG), 0);
			/* SIGSTOP is not a terminal stop: it stops. */
			CHECK_EQ(kill(c, SIGSTOP), 0);
			CHECK_EQ(waitpid(c, &st, WUNTRACED), c);
			CHECK(WIFSTOPPED(st));
			CHECK_EQ(kill(c, SIGKILL), 0);
			CHECK_EQ(reap(c), SIGKILL);

			/* a: a group of its own, linked to the session by us.
			 * b in it stops; when a exits the group is orphaned
			 * with b stopped: b gets SIGHUP, then SIGCONT. */
			pid_t a = tfork();
			if (a == 0) {
				CHECK_EQ(setpgid(0, 0), 0);
				pid_t b = tfork();
				if (b == 0) {
					struct sigaction sa;
					memset(&sa, 0, sizeof(sa));
					sa.sa_handler = hup_seen;
					sigaction(SIGHUP, &sa, NULL);
					shm[9] = getpid();
					raise(SIGSTOP);
					/* Continued: SIGHUP came first. */
					_exit(shm[11] ? 43 : 44);
				}
				CHECK_EQ(waitpid(b, &st, WUNTRACED), b);
				CHECK(WIFSTOPPED(st));
				child_done();
			}
			reap_ok(a, "orphaned pgrp: middle");
			_exit(check_failures ? 100 : 0);
		}
		reap_ok(m, "orphaned pgrp: session");
		/* b was adopted by us; SIGHUP and SIGCONT let it finish. */
		pid_t b = shm[9];
		CHECK(b > 0);
		if (b > 0)
			CHECK_EQ(reap(b), 43 << 8);
		child_done();
	}
	reap_ok(p, "orphaned pgrp");
}

static void test_sessions(void)
{
	pid_t p = tfork();

	if (p == 0) {
		pid_t me = getpid();
		/* A forked child leads nothing: setsid works. */
		CHECK(getpgid(0) != me);
		CHECK_EQ(setsid(), me);
		CHECK_EQ(getsid(0), me);
		CHECK_EQ(getsid(me), me);
		CHECK_EQ(getpgid(0), me);
		CHECK_EQ(getpgrp(), me);
		/* A session (and group) leader cannot do it again, nor move
		 * to another group. */
		CHECK_ERR(setsid(), EPERM);
		CHECK_ERR(setpgid(0, 0), EPERM);
		CHECK_ERR(setpgid(me, me), EPERM);
		/* Unknown processes. */
		CHECK_ERR(getsid(NO_SUCH_PID), ESRCH);
		CHECK_ERR(getpgid(NO_SUCH_PID), ESRCH);
		CHECK_ERR(setpgid(NO_SUCH_PID, 0), ESRCH);
		CHECK_ERR(setpgid(0, -1), EINVAL);
		/* Our parent is not our child. */
		CHECK_ERR(setpgid(getppid(), 0), ESRCH);

		shm[9] = 0;
		pid_t c = tfork();
		if (c == 0) {
			pid_t cm = getpid();
			/* Our own group, in our parent's session, and back. */
			CHECK_EQ(getsid(0), me);
			CHECK_EQ(setpgid(0, 0), 0);
			CHECK_EQ(getpgid(0), cm);
			CHECK_EQ(setpgid(0, me), 0);
			CHECK_EQ(getpgid(0), me);
			/* A group that does not exist in the session. */
			CHECK_ERR(setpgid(0, NO_SUCH_PID), EPERM);
			CHECK_ERR(setpgid(0, 1), EPERM);
			/* Not a group leader: may start a session (and then
			 * cannot be moved by its parent). */
			CHECK_EQ(setsid(), cm);
			shm[9] = 1;
			wait_word(&shm[9], 2);
			child_done();
		}
		CHECK(wait_word(&shm[9], 1));
		/* Another session: EPERM. */
		CHECK_ERR(setpgid(c, c), EPERM);
		CHECK_ERR(setpgid(c, me), EPERM);
		CHECK_EQ(getsid(c), c);
		shm[9] = 2;
		reap_ok(c, "session child");

		/* A child still in our session: its parent moves it. */
		c = tfork();
		if (c == 0) {
			wait_word(&shm[9], 3);
			CHECK_EQ(getpgid(0), getpid());
			child_done();
		}
		CHECK_EQ(setpgid(c, 0), 0);
		CHECK_EQ(getpgid(c), c);
		CHECK_EQ(setpgid(c, me), 0);
		CHECK_EQ(getpgid(c), me);
		CHECK_EQ(setpgid(c, c), 0);
		shm[9] = 3;
		reap_ok(c, "moved child");
		/* Once a child has exec'd, its parent may not move it. The
		 * vfork parent runs on when the child's exec is done. */
		c = vfork();
		if (c == 0) {
			char *argv[] = {(char *)self, "pause", NULL};
			execv(self, argv);
			_exit(127);
		}
		CHECK(c > 0);
		CHECK_ERR(setpgid(c, c), EACCES);
		CHECK_ERR(setpgid(c, 0), EACCES);
		CHECK_EQ(getpgid(c), me);
		CHECK_EQ(kill(c, SIGKILL), 0);
		CHECK_EQ(reap(c), SIGKILL);
		child_done();
	}
	reap_ok(p, "sessions");
}

/* ---- vfork ---- */

static void test_vfork(void)
{
	static volatile int word;
	pid_t parent = getpid(), pid;

	/* The parent sleeps until the child has exited: it cannot see the
	 * middle value. */
	word = 0;
	pid = vfork();
	if (pid == 0) {
		word = 1;
		ms_sleep(30);
		word = getppid() == parent ? 2 : -1;
		_exit(8);
	}
	CHECK(pid > 0);
	CHECK_EQ(word, 2);
	CHECK_EQ(reap(pid), 8 << 8);

	/* ... or has exec'd (here, something that fails to exec first). */
	word = 0;
	pid = vfork();
	if (pid == 0) {
		char *argv[] = {"nothing", NULL};
		execv("/nonexistent/program", argv);
		word = errno == ENOENT ? 3 : -1;
		ms_sleep(30);
		char *argv2[] = {(char *)self, "pause", NULL};
		word = 4;
		execv(self, argv2);
		_exit(127);
	}
	CHECK(pid > 0);
	CHECK_EQ(word, 4);
	CHECK_EQ(kill(pid, SIGTERM), 0);
	CHECK_EQ(reap(pid), SIGTERM);
}

/* ---- RLIMIT_NPROC ---- */

static void test_nproc(void)
{
	pid_t p;

	shm[10] = 0;
	p = tfork();

	if (p == 0) {
		struct rlimit rl = {1, 100};
		int st;
		pid_t c;

		/* Root is not limited. */
		CHECK_EQ(setrlimit(RLIMIT_NPROC, &rl), 0);
		c = tfork();
		if (c == 0)
			_exit(0);
		CHECK(c > 0);
		CHECK_EQ(reap(c), 0);
		/* Nor is a process whose real uid is another but that keeps
		 * its capabilities (effective uid 0). */
		CHECK_EQ(setresuid(ODD_UID, 0, 0), 0);
		c = tfork();
		if (c == 0)
			_exit(0);
		CHECK(c > 0);
		CHECK_EQ(reap(c), 0);
		/* Without them, the limit counts our user's processes (just
		 * us): one is too many. */
		CHECK_EQ(setresuid(ODD_UID, ODD_UID, ODD_UID), 0);
		CHECK_ERR(fork(), EAGAIN);
		rl.rlim_cur = 2;
		rl.rlim_max = 2;
		CHECK_EQ(setrlimit(RLIMIT_NPROC, &rl), 0);
		c = tfork();
		if (c == 0) {
			wait_word(&shm[10], 1);
			_exit(0);
		}
		CHECK(c > 0);
		/* Two of ours now. */
		CHECK_ERR(fork(), EAGAIN);
		shm[10] = 1;
		CHECK_EQ(waitpid(c, &st, 0), c);
		CHECK_EQ(st, 0);
		child_done();
	}
	reap_ok(p, "nproc");
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{"exit_statuses", test_exit_statuses},
	{"signal_statuses", test_signal_statuses},
	{"waitid", test_waitid},
	{"echild", test_echild},
	{"stop_continue", test_stop_continue},
	{"handler_while_stopped", test_handler_while_stopped},
	{"selection", test_selection},
	{"clone3_wclone", test_clone3_wclone},
	{"autoreap", test_autoreap},
	{"subreaper", test_subreaper},
	{"sessions", test_sessions},
	{"orphaned_pgrp", test_orphaned_pgrp},
	{"cpu_time", test_cpu_time},
	{"vfork", test_vfork},
	{"nproc", test_nproc},
};

int main(int argc, char **argv)
{
	self = argv[0];
	main_pid = getpid();
	/* A runner started as a background job of a shell passes SIGINT
	 * and SIGQUIT ignored, nohup SIGHUP; the statuses checked here are
	 * the default actions'. */
	for (int sig = 1; sig < SIGRTMIN; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	if (argc == 2 && !strcmp(argv[1], "pause")) {
		for (;;)
			pause();
	}
	shm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED) {
		FAIL("mmap: %s", check_errname(errno));
		return check_exit();
	}
	/* With arguments: just the tests named. */
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		bool want = argc < 2;
		for (int a = 1; a < argc; a++)
			want |= !strcmp(argv[a], tests[i].name);
		if (want)
			tests[i].fn();
	}
	return check_exit();
}
