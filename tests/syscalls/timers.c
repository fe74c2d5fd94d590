/* Timers: alarm, setitimer/getitimer (ITIMER_REAL with a SIGALRM
 * handler, periodic, ITIMER_PROF and ITIMER_VIRTUAL on CPU time), and
 * POSIX timers: SIGEV_SIGNAL (the siginfo: SI_TIMER, the id, the value,
 * the overrun and timer_getoverrun), the default sigevent, SIGEV_NONE,
 * SIGEV_THREAD_ID to one thread, TIMER_ABSTIME, a CPU-time clock, the
 * argument checks, and their lifetime: not inherited by fork, POSIX
 * timers gone at exec while itimers stay. Times are only checked to be
 * at least as long as asked.
 *
 *   timers              everything
 *   timers exec ID      (the re-executed image) checks what survived */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define BAD_PTR ((void *)8)

static uint64_t clock_us(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t now_us(void) { return clock_us(CLOCK_MONOTONIC); }

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0)
		;
}

/* Raw calls: glibc's timer_t is its own for SIGEV_THREAD. */
static int t_create(clockid_t c, struct sigevent *ev, int *id)
{
	return (int)syscall(SYS_timer_create, c, ev, id);
}

static int t_set(int id, int flags, long value_ns, long interval_ns, struct itimerspec *old)
{
	struct itimerspec its = {{interval_ns / 1000000000, interval_ns % 1000000000},
				 {value_ns / 1000000000, value_ns % 1000000000}};
	return (int)syscall(SYS_timer_settime, id, flags, &its, old);
}

static int t_get(int id, struct itimerspec *cur)
{
	return (int)syscall(SYS_timer_gettime, id, cur);
}

static int t_delete(int id) { return (int)syscall(SYS_timer_delete, id); }

static long ts_ns(const struct timespec *ts) { return ts->tv_sec * 1000000000L + ts->tv_nsec; }

static volatile sig_atomic_t hits;
static volatile pid_t hit_tid;
static void on_signal(int sig)
{
	(void)sig;
	hit_tid = gettid(); /* before hits: another thread may be watching */
	hits++;
}

static void set_handler(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(sig, &sa, NULL);
}

static sigset_t only(int sig)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	return s;
}

/* Waits for hits to reach n, with sig unblocked only while waiting. */
static void wait_hits(int sig, int n)
{
	sigset_t block = only(sig), old;
	sigprocmask(SIG_BLOCK, &block, &old);
	sigdelset(&old, sig);
	while (hits < n)
		sigsuspend(&old);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
}

static void test_alarm(void)
{
	uint64_t t0;

	CHECK_EQ(alarm(0), 0);
	CHECK_EQ(alarm(10), 0);
	/* What was left, rounded to the nearest second. */
	CHECK_EQ(alarm(5), 10);
	CHECK_EQ(alarm(0), 5);
	CHECK_EQ(alarm(0), 0);
	set_handler(SIGALRM);
	hits = 0;
	t0 = now_us();
	alarm(1);
	wait_hits(SIGALRM, 1);
	CHECK(now_us() - t0 >= 1000000);
	CHECK_EQ(alarm(0), 0);
}

static void test_itimer_real(void)
{
	struct itimerval it = {{0, 0}, {0, 50000}}, old, cur;
	uint64_t t0;

	set_handler(SIGALRM);
	hits = 0;
	t0 = now_us();
	CHECK_EQ(setitimer(ITIMER_REAL, &it, &old), 0);
	CHECK_EQ(old.it_value.tv_sec, 0);
	CHECK_EQ(old.it_value.tv_usec, 0);
	CHECK_EQ(getitimer(ITIMER_REAL, &cur), 0);
	CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_usec > 0 &&
	      cur.it_value.tv_usec <= 50000);
	CHECK_EQ(cur.it_interval.tv_usec, 0);
	wait_hits(SIGALRM, 1);
	CHECK(now_us() - t0 >= 50000);
	CHECK_EQ(getitimer(ITIMER_REAL, &cur), 0);
	CHECK_EQ(cur.it_value.tv_usec, 0);

	/* Periodic: every 20 ms. */
	hits = 0;
	it = (struct itimerval){{0, 20000}, {0, 20000}};
	t0 = now_us();
	CHECK_EQ(setitimer(ITIMER_REAL, &it, NULL), 0);
	wait_hits(SIGALRM, 3);
	CHECK(now_us() - t0 >= 60000);
	CHECK_EQ(getitimer(ITIMER_REAL, &cur), 0);
	CHECK_EQ(cur.it_interval.tv_usec, 20000);
	/* The old setting comes back; a NULL new value disarms. */
	it = (struct itimerval){{0, 0}, {100, 0}};
	CHECK_EQ(setitimer(ITIMER_REAL, &it, &old), 0);
	CHECK_EQ(old.it_interval.tv_usec, 20000);
	CHECK_EQ(syscall(SYS_setitimer, ITIMER_REAL, NULL, &old), 0);
	CHECK(old.it_value.tv_sec >= 98 && old.it_value.tv_sec <= 100);
	CHECK_EQ(getitimer(ITIMER_REAL, &cur), 0);
	CHECK_EQ(cur.it_value.tv_sec, 0);
	CHECK_EQ(cur.it_value.tv_usec, 0);

	it = (struct itimerval){{0, 0}, {0, 1000000}};
	CHECK_ERR(setitimer(ITIMER_REAL, &it, NULL), EINVAL);
	it = (struct itimerval){{0, -1}, {1, 0}};
	CHECK_ERR(setitimer(ITIMER_REAL, &it, NULL), EINVAL);
	it = (struct itimerval){{0, 0}, {1, 0}};
	CHECK_ERR(setitimer(7, &it, NULL), EINVAL);
	CHECK_ERR(getitimer(7, &cur), EINVAL);
	CHECK_ERR(syscall(SYS_setitimer, ITIMER_REAL, BAD_PTR, NULL), EFAULT);
	CHECK_ERR(syscall(SYS_getitimer, ITIMER_REAL, BAD_PTR), EFAULT);
	signal(SIGALRM, SIG_DFL);
}

/* ITIMER_PROF and ITIMER_VIRTUAL count the process's CPU time. */
static void test_itimer_cpu(int which, int sig)
{
	struct itimerval it = {{0, 0}, {0, 30000}}, cur;
	uint64_t cpu0 = clock_us(CLOCK_PROCESS_CPUTIME_ID);
	volatile uint64_t spin = 0;

	set_handler(sig);
	hits = 0;
	CHECK_EQ(setitimer(which, &it, NULL), 0);
	CHECK_EQ(getitimer(which, &cur), 0);
	CHECK(cur.it_value.tv_sec > 0 || cur.it_value.tv_usec > 0); /* Linux rounds to ticks */
	while (!hits)
		spin++;
	/* Linux samples these timers' clocks at ticks (up to 10 ms apart),
	 * CLOCK_PROCESS_CPUTIME_ID is exact: at least 30 ms less a tick. */
	CHECK(clock_us(CLOCK_PROCESS_CPUTIME_ID) - cpu0 >= 20000);
	CHECK_EQ(getitimer(which, &cur), 0);
	CHECK_EQ(cur.it_value.tv_usec, 0);
	signal(sig, SIG_DFL);
}

static void test_posix_signal(void)
{
	sigset_t set = only(SIGRTMIN);
	struct sigevent ev;
	struct itimerspec cur, old;
	siginfo_t si;
	uint64_t t0;
	int id = -1, r;

	sigprocmask(SIG_BLOCK, &set, NULL);
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGRTMIN;
	ev.sigev_value.sival_int = 1234;
	CHECK_EQ(t_create(CLOCK_MONOTONIC, &ev, &id), 0);
	CHECK(id >= 0);
	/* Disarmed until set. */
	CHECK_EQ(t_get(id, &cur), 0);
	CHECK_EQ(ts_ns(&cur.it_value), 0);
	t0 = now_us();
	CHECK_EQ(t_set(id, 0, 30000000, 0, &old), 0);
	CHECK_EQ(ts_ns(&old.it_value), 0);
	CHECK_EQ(t_get(id, &cur), 0);
	CHECK(ts_ns(&cur.it_value) > 0 && ts_ns(&cur.it_value) <= 30000000);
	r = sigwaitinfo(&set, &si);
	CHECK_EQ(r, SIGRTMIN);
	CHECK(now_us() - t0 >= 30000);
	CHECK_EQ(si.si_code, SI_TIMER);
	CHECK_EQ(si.si_timerid, id);
	CHECK_EQ(si.si_value.sival_int, 1234);
	CHECK_EQ(si.si_overrun, 0);
	CHECK_EQ(syscall(SYS_timer_getoverrun, id), 0);
	CHECK_EQ(t_get(id, &cur), 0);
	CHECK_EQ(ts_ns(&cur.it_value), 0);

	/* Periodic, its signal held back: the expirations that found it
	 * still pending are its overrun. */
	CHECK_EQ(t_set(id, 0, 1000000, 1000000, NULL), 0);
	sleep_ms(50);
	CHECK_EQ(sigwaitinfo(&set, &si), SIGRTMIN);
	CHECK(si.si_overrun >= 10);
	CHECK_EQ(syscall(SYS_timer_getoverrun, id), si.si_overrun);
	CHECK_EQ(t_get(id, &cur), 0);
	CHECK_EQ(ts_ns(&cur.it_interval), 1000000);
	CHECK(ts_ns(&cur.it_value) > 0 && ts_ns(&cur.it_value) <= 1000000);
	CHECK_EQ(t_delete(id), 0);

	/* An absolute time on the wall clock. */
	CHECK_EQ(t_create(CLOCK_REALTIME, &ev, &id), 0);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	long abs_ns = ts_ns(&now) + 40000000;
	t0 = now_us();
	CHECK_EQ(t_set(id, TIMER_ABSTIME, abs_ns, 0, NULL), 0);
	CHECK_EQ(sigwaitinfo(&set, &si), SIGRTMIN);
	CHECK(now_us() - t0 >= 35000);
	CHECK_EQ(si.si_timerid, id);
	/* An absolute time already past fires at once. */
	CHECK_EQ(t_set(id, TIMER_ABSTIME, 1, 0, NULL), 0);
	CHECK_EQ(sigwaitinfo(&set, &si), SIGRTMIN);
	CHECK_EQ(t_delete(id), 0);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* No sigevent: SIGALRM, with the timer id as the value. */
static void test_posix_default(void)
{
	sigset_t set = only(SIGALRM);
	siginfo_t si;
	int id = -1;

	sigprocmask(SIG_BLOCK, &set, NULL);
	CHECK_EQ(t_create(CLOCK_BOOTTIME, NULL, &id), 0);
	CHECK_EQ(t_set(id, 0, 10000000, 0, NULL), 0);
	CHECK_EQ(sigwaitinfo(&set, &si), SIGALRM);
	CHECK_EQ(si.si_code, SI_TIMER);
	CHECK_EQ(si.si_value.sival_int, id);
	CHECK_EQ(si.si_timerid, id);
	CHECK_EQ(t_delete(id), 0);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void test_posix_none(void)
{
	struct sigevent ev = {.sigev_notify = SIGEV_NONE};
	struct itimerspec cur;
	int id = -1;

	CHECK_EQ(t_create(CLOCK_MONOTONIC, &ev, &id), 0);
	CHECK_EQ(t_set(id, 0, 20000000, 0, NULL), 0);
	CHECK_EQ(t_get(id, &cur), 0);
	CHECK(ts_ns(&cur.it_value) > 0);
	sleep_ms(30);
	/* Expired: a one-shot SIGEV_NONE timer shows 0. */
	CHECK_EQ(t_get(id, &cur), 0);
	CHECK_EQ(ts_ns(&cur.it_value), 0);
	/* Periodic: always the time to the next expiry. */
	CHECK_EQ(t_set(id, 0, 10000000, 10000000, NULL), 0);
	sleep_ms(35);
	CHECK_EQ(t_get(id, &cur), 0);
	CHECK(ts_ns(&cur.it_value) > 0 && ts_ns(&cur.it_value) <= 10000000);
	CHECK_EQ(t_delete(id), 0);
}

static volatile int thread_tid;
static volatile int thread_stop;

static void *spin_thread(void *arg)
{
	sigset_t set = only(SIGRTMIN + 1);

	(void)arg;
	/* It inherited the main thread's mask, which blocks the signal. */
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	thread_tid = gettid();
	while (!thread_stop)
		sleep_ms(1);
	return NULL;
}

/* SIGEV_THREAD_ID: the signal goes to that thread, not the process. */
static void test_posix_thread(void)
{
	sigset_t set = only(SIGRTMIN + 1);
	struct sigevent ev;
	pthread_t th;
	int id = -1;

	set_handler(SIGRTMIN + 1);
	hits = 0;
	hit_tid = 0;
	thread_tid = 0;
	thread_stop = 0;
	/* The main thread blocks it: only the target can take it. */
	sigprocmask(SIG_BLOCK, &set, NULL);
	CHECK_EQ(pthread_create(&th, NULL, spin_thread, NULL), 0);
	while (!thread_tid)
		sleep_ms(1);
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = SIGRTMIN + 1;
	ev._sigev_un._tid = thread_tid;
	CHECK_EQ(t_create(CLOCK_MONOTONIC, &ev, &id), 0);
	CHECK_EQ(t_set(id, 0, 20000000, 0, NULL), 0);
	while (!hits)
		sleep_ms(1);
	CHECK_EQ(hit_tid, thread_tid);
	thread_stop = 1;
	pthread_join(th, NULL);
	CHECK_EQ(t_delete(id), 0);
	/* Not a thread of ours. */
	ev._sigev_un._tid = 0x3ffffff0;
	CHECK_ERR(t_create(CLOCK_MONOTONIC, &ev, &id), EINVAL);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	signal(SIGRTMIN + 1, SIG_DFL);
}

static void test_posix_cpu(void)
{
	struct sigevent ev;
	uint64_t cpu0 = clock_us(CLOCK_PROCESS_CPUTIME_ID);
	volatile uint64_t spin = 0;
	int id = -1;

	set_handler(SIGRTMIN + 2);
	hits = 0;
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGRTMIN + 2;
	CHECK_EQ(t_create(CLOCK_PROCESS_CPUTIME_ID, &ev, &id), 0);
	CHECK_EQ(t_set(id, 0, 20000000, 0, NULL), 0);
	while (!hits)
		spin++;
	CHECK(clock_us(CLOCK_PROCESS_CPUTIME_ID) - cpu0 >= 20000);
	CHECK_EQ(t_delete(id), 0);
	signal(SIGRTMIN + 2, SIG_DFL);
}

static void test_posix_errors(void)
{
	struct sigevent ev;
	struct itimerspec its = {{0, 0}, {0, 1000000000}};
	int id = -1, bad;

	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGUSR1;
	CHECK_ERR(t_create(99, &ev, &id), EINVAL);
	CHECK_ERR(t_create(CLOCK_MONOTONIC_RAW, &ev, &id), EOPNOTSUPP);
	ev.sigev_signo = 0;
	CHECK_ERR(t_create(CLOCK_MONOTONIC, &ev, &id), EINVAL);
	ev.sigev_signo = 65;
	CHECK_ERR(t_create(CLOCK_MONOTONIC, &ev, &id), EINVAL);
	ev.sigev_signo = SIGUSR1;
	ev.sigev_notify = 3;
	CHECK_ERR(t_create(CLOCK_MONOTONIC, &ev, &id), EINVAL);
	ev.sigev_notify = SIGEV_NONE;
	CHECK_ERR(t_create(CLOCK_MONOTONIC, BAD_PTR, &id), EFAULT);
	CHECK_EQ(t_create(CLOCK_MONOTONIC, &ev, &id), 0);
	CHECK_ERR(syscall(SYS_timer_settime, id, 0, &its, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_timer_settime, id, 0, NULL, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_timer_settime, id, 0, BAD_PTR, NULL), EFAULT);
	CHECK_ERR(syscall(SYS_timer_gettime, id, BAD_PTR), EFAULT);
	bad = id + 1000;
	CHECK_ERR(t_set(bad, 0, 1000, 0, NULL), EINVAL);
	CHECK_ERR(t_get(bad, &its), EINVAL);
	CHECK_ERR(syscall(SYS_timer_getoverrun, bad), EINVAL);
	CHECK_EQ(t_delete(id), 0);
	CHECK_ERR(t_delete(id), EINVAL);
	CHECK_ERR(t_get(id, &its), EINVAL);
}

/* fork: the child has no timers; exec: POSIX timers go, itimers stay. */
static void test_lifetime(const char *self)
{
	struct sigevent ev = {.sigev_notify = SIGEV_NONE};
	struct itimerval it = {{0, 0}, {100, 0}}, cur;
	struct itimerspec its;
	int id = -1, status;
	pid_t pid;

	CHECK_EQ(t_create(CLOCK_MONOTONIC, &ev, &id), 0);
	CHECK_EQ(t_set(id, 0, 100000000000L, 0, NULL), 0);
	CHECK_EQ(setitimer(ITIMER_REAL, &it, NULL), 0);
	pid = fork();
	if (pid == 0) {
		int bad = t_get(id, &its) == -1 && errno == EINVAL;
		getitimer(ITIMER_REAL, &cur);
		_exit(bad && cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0 ? 0 : 1);
	}
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(status, 0);
	pid = fork();
	if (pid == 0) {
		/* Its own timers (fork gave it none) for the new image. */
		char arg[16];
		int cid = -1;
		if (t_create(CLOCK_MONOTONIC, &ev, &cid) < 0 || setitimer(ITIMER_REAL, &it, NULL) < 0)
			_exit(3);
		snprintf(arg, sizeof(arg), "%d", cid);
		execl(self, self, "exec", arg, (char *)NULL);
		_exit(2);
	}
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK_EQ(status, 0);
	CHECK_EQ(t_delete(id), 0);
	CHECK_EQ(syscall(SYS_setitimer, ITIMER_REAL, NULL, NULL), 0);
}

static int after_exec(int id)
{
	struct itimerspec its;
	struct itimerval cur, zero = {{0, 0}, {0, 0}};

	CHECK_ERR(t_get(id, &its), EINVAL);
	CHECK_EQ(getitimer(ITIMER_REAL, &cur), 0);
	CHECK(cur.it_value.tv_sec >= 90);
	CHECK_EQ(setitimer(ITIMER_REAL, &zero, NULL), 0);
	return check_exit();
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "exec"))
		return after_exec(atoi(argv[2]));
	test_alarm();
	test_itimer_real();
	test_itimer_cpu(ITIMER_PROF, SIGPROF);
	test_itimer_cpu(ITIMER_VIRTUAL, SIGVTALRM);
	test_posix_signal();
	test_posix_default();
	test_posix_none();
	test_posix_thread();
	test_posix_cpu();
	test_posix_errors();
	test_lifetime(argv[0]);
	return check_exit();
}
