/* Clocks and sleeps. No wall-clock bounds: clocks must be monotonic
 * where Linux says so and agree with each other; a sleep must last at
 * least what was asked. */
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define NSEC 1000000000LL
#define BAD_PTR ((void *)8)
/* A process CPU clock of pid (see clock_getcpuclockid(3)). */
#define CPUCLOCK_SCHED 2
#define PROCESS_CPUCLOCK(pid) ((clockid_t)((~(unsigned)(pid)) << 3) | CPUCLOCK_SCHED)
#define NO_SUCH_PID 0x3ffffff0

static long long ns(const struct timespec *ts)
{
	return ts->tv_sec * NSEC + ts->tv_nsec;
}

static long long raw_now(clockid_t c)
{
	struct timespec ts = {0, 0};
	if (syscall(SYS_clock_gettime, c, &ts) != 0)
		FAIL("clock_gettime(%d) (raw): %s", (int)c, check_errname(errno));
	return ns(&ts);
}

static long long now(clockid_t c)
{
	struct timespec ts = {0, 0};
	if (clock_gettime(c, &ts) != 0)
		FAIL("clock_gettime(%d): %s", (int)c, check_errname(errno));
	return ns(&ts);
}

static int valid(const struct timespec *ts)
{
	return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < NSEC;
}

/* vDSO and system call reads, interleaved, never go backwards. */
static void test_monotonic(clockid_t c, int n)
{
	long long prev = now(c), t;
	int backwards = 0;

	for (int i = 0; i < n; i++) {
		t = i & 1 ? raw_now(c) : now(c);
		if (t < prev && !backwards++)
			FAIL("clock %d went back from %lld to %lld at read %d", (int)c,
			     prev, t, i);
		prev = t;
	}
}

static void burn_cpu(void)
{
	volatile uint64_t x = 1;
	for (long i = 0; i < 20000000; i++)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
}

static void test_gettime(void)
{
	static const clockid_t clocks[] = {
		CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
		CLOCK_THREAD_CPUTIME_ID, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE,
		CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME, CLOCK_TAI};
	struct timespec ts;
	struct timeval tv;
	long long mono, boot;
	time_t t0, t1, t2;

	for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
		ts.tv_sec = -1;
		CHECK_EQ(syscall(SYS_clock_gettime, clocks[i], &ts), 0);
		CHECK(valid(&ts));
		ts.tv_sec = -1;
		CHECK_EQ(clock_gettime(clocks[i], &ts), 0);
		CHECK(valid(&ts));
	}
	test_monotonic(CLOCK_MONOTONIC, 2000);
	test_monotonic(CLOCK_MONOTONIC_RAW, 200);
	test_monotonic(CLOCK_MONOTONIC_COARSE, 200);
	test_monotonic(CLOCK_BOOTTIME, 200);

	/* Boot time is monotonic time plus time suspended. */
	mono = now(CLOCK_MONOTONIC);
	boot = now(CLOCK_BOOTTIME);
	CHECK(boot >= mono);

	/* The wall clock, four ways: they agree to within a few seconds
	 * (time() is the coarse clock and may lag a tick; and the clock may
	 * be set meanwhile, so no order is asserted). */
	t0 = time(NULL);
	CHECK_EQ(gettimeofday(&tv, NULL), 0);
	CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000);
	CHECK_EQ(clock_gettime(CLOCK_REALTIME, &ts), 0);
	t1 = (time_t)syscall(SYS_time, NULL);
	CHECK_EQ(syscall(SYS_time, &t2), t2);
	CHECK(t0 > 1500000000); /* after 2017: the clock is set */
	CHECK(tv.tv_sec >= t0 - 2 && tv.tv_sec <= t0 + 2);
	CHECK(ts.tv_sec >= tv.tv_sec - 2 && ts.tv_sec <= tv.tv_sec + 2);
	CHECK(t1 >= t0 - 2 && t1 <= t0 + 2);
	CHECK(t2 >= t1 - 2 && t2 <= t1 + 2);
	CHECK_EQ(syscall(SYS_gettimeofday, &tv, NULL), 0);
	CHECK(tv.tv_sec >= t1 - 2 && tv.tv_sec <= t1 + 2);
	CHECK_EQ(syscall(SYS_gettimeofday, NULL, NULL), 0);

	CHECK_ERR(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, BAD_PTR), EFAULT);
	CHECK_ERR(syscall(SYS_clock_gettime, CLOCK_REALTIME, NULL), EFAULT);
	CHECK_ERR(syscall(SYS_gettimeofday, BAD_PTR, NULL), EFAULT);
	CHECK_ERR(syscall(SYS_time, BAD_PTR), EFAULT);
}

static void test_invalid(void)
{
	/* 10 (CLOCK_SGI_CYCLE) is gone; 12..15 were never used; MAX_CLOCKS
	 * and beyond; negative ids are CPU clocks of a pid or a clock
	 * descriptor, and these name neither. */
	static const int bad[] = {10, 12, 13, 14, 15, 16, 100, 0x7fffffff, -1,
				  PROCESS_CPUCLOCK(NO_SUCH_PID)};
	struct timespec ts;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_ERR(syscall(SYS_clock_gettime, bad[i], &ts), EINVAL);
		CHECK_ERR(syscall(SYS_clock_getres, bad[i], &ts), EINVAL);
	}
	/* Our own process's CPU clock by pid is valid. */
	CHECK_EQ(syscall(SYS_clock_gettime, PROCESS_CPUCLOCK(getpid()), &ts), 0);
	CHECK_EQ(syscall(SYS_clock_gettime, PROCESS_CPUCLOCK(0), &ts), 0);
	{
		clockid_t cid;
		CHECK_EQ(clock_getcpuclockid(0, &cid), 0);
		CHECK_EQ(clock_gettime(cid, &ts), 0);
		CHECK(valid(&ts));
	}
}

static void test_getres(void)
{
	static const clockid_t clocks[] = {
		CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
		CLOCK_THREAD_CPUTIME_ID, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE,
		CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME, CLOCK_TAI};
	struct timespec ts, raw;

	for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
		ts.tv_sec = -1;
		CHECK_EQ(clock_getres(clocks[i], &ts), 0);
		CHECK(ts.tv_sec == 0 && ts.tv_nsec > 0);
		CHECK_EQ(syscall(SYS_clock_getres, clocks[i], &raw), 0);
		CHECK_EQ(raw.tv_sec, ts.tv_sec);
		CHECK_EQ(raw.tv_nsec, ts.tv_nsec);
		CHECK_EQ(syscall(SYS_clock_getres, clocks[i], NULL), 0);
	}
	CHECK_ERR(syscall(SYS_clock_getres, CLOCK_MONOTONIC, BAD_PTR), EFAULT);
}

static void test_cputime(void)
{
	long long p0, t0, p1, t1;

	t0 = now(CLOCK_THREAD_CPUTIME_ID);
	p0 = now(CLOCK_PROCESS_CPUTIME_ID);
	CHECK(p0 >= t0); /* one thread: the process has run at least as long */
	burn_cpu();
	t1 = raw_now(CLOCK_THREAD_CPUTIME_ID);
	p1 = raw_now(CLOCK_PROCESS_CPUTIME_ID);
	CHECK(t1 > t0);
	CHECK(p1 > p0);
	CHECK(p1 >= t1);
	burn_cpu();
	CHECK(now(CLOCK_THREAD_CPUTIME_ID) > t1);
	CHECK(now(CLOCK_PROCESS_CPUTIME_ID) > p1);
	test_monotonic(CLOCK_PROCESS_CPUTIME_ID, 200);
	test_monotonic(CLOCK_THREAD_CPUTIME_ID, 200);
}

static void test_sleep(void)
{
	struct timespec req = {0, 1000000}, rem = {-7, -7}, ts;
	long long t0, t1, deadline;

	/* Relative sleeps last at least what was asked. */
	t0 = now(CLOCK_MONOTONIC);
	CHECK_EQ(nanosleep(&req, NULL), 0);
	t1 = now(CLOCK_MONOTONIC);
	CHECK(t1 - t0 >= 1000000);
	t0 = now(CLOCK_MONOTONIC);
	CHECK_EQ(syscall(SYS_nanosleep, &req, &rem), 0);
	t1 = now(CLOCK_MONOTONIC);
	CHECK(t1 - t0 >= 1000000);
	t0 = now(CLOCK_MONOTONIC);
	CHECK_EQ(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, NULL), 0);
	t1 = now(CLOCK_MONOTONIC);
	CHECK(t1 - t0 >= 1000000);
	/* (The wall clock may be set meanwhile: no bound on it.) */
	CHECK_EQ(clock_nanosleep(CLOCK_REALTIME, 0, &req, NULL), 0);
	req.tv_nsec = 0;
	CHECK_EQ(syscall(SYS_nanosleep, &req, NULL), 0);

	/* Absolute sleeps end at or after the deadline; a past one ends at
	 * once. */
	deadline = now(CLOCK_MONOTONIC) + 2000000;
	ts.tv_sec = deadline / NSEC;
	ts.tv_nsec = deadline % NSEC;
	CHECK_EQ(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL), 0);
	CHECK(now(CLOCK_MONOTONIC) >= deadline);
	ts.tv_sec = 0;
	ts.tv_nsec = 1;
	CHECK_EQ(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL), 0);
	CHECK_EQ(syscall(SYS_clock_nanosleep, CLOCK_BOOTTIME, TIMER_ABSTIME, &ts, NULL), 0);
	CHECK_EQ(syscall(SYS_clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL), 0);
	CHECK_EQ(syscall(SYS_clock_nanosleep, CLOCK_TAI, TIMER_ABSTIME, &ts, NULL), 0);
	/* Flag bits other than TIMER_ABSTIME are ignored. */
	ts.tv_nsec = 1000;
	CHECK_EQ(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 2, &ts, NULL), 0);

	/* Invalid times. */
	req.tv_sec = 0;
	req.tv_nsec = NSEC;
	CHECK_ERR(nanosleep(&req, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_nanosleep, &req, NULL), EINVAL);
	CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, NULL), EINVAL);
	req.tv_nsec = -1;
	CHECK_ERR(syscall(SYS_nanosleep, &req, NULL), EINVAL);
	req.tv_sec = -1;
	req.tv_nsec = 0;
	CHECK_ERR(syscall(SYS_nanosleep, &req, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_nanosleep, BAD_PTR, NULL), EFAULT);
	CHECK_ERR(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, BAD_PTR, NULL), EFAULT);

	/* Clocks one cannot sleep on: invalid ones, and ones without a
	 * sleep operation (raw, coarse, a thread's CPU time). */
	req.tv_sec = 0;
	req.tv_nsec = 1000;
	CHECK_ERR(syscall(SYS_clock_nanosleep, 100, 0, &req, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_clock_nanosleep, 10, 0, &req, NULL), EINVAL);
	CHECK_ERR(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC_RAW, 0, &req, NULL),
		  EOPNOTSUPP);
	CHECK_ERR(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC_COARSE, 0, &req, NULL),
		  EOPNOTSUPP);
	CHECK_ERR(syscall(SYS_clock_nanosleep, CLOCK_REALTIME_COARSE, 0, &req, NULL),
		  EOPNOTSUPP);
	CHECK_ERR(syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL),
		  EOPNOTSUPP);
	CHECK_EQ(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL), EINVAL);
}

int main(void)
{
	test_gettime();
	test_invalid();
	test_getres();
	test_cputime();
	test_sleep();
	return check_exit();
}
