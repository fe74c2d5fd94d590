/* timerfd: create flags and clocks, one-shot and periodic timers read
 * as 8-byte expiration counts, timerfd_gettime, TFD_TIMER_ABSTIME (and
 * TFD_TIMER_CANCEL_ON_SET accepted), disarming and the old value, a
 * new setting resetting the count, readiness for poll and epoll, and
 * the argument checks. Times are only checked to be at least as long
 * as asked. */
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define BAD_PTR ((void *)8)

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0)
		;
}

/* What /proc/self/fd shows for fd. */
static int fd_link_is(int fd, const char *want)
{
	char path[64], link[64] = {0};
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return readlink(path, link, sizeof(link) - 1) > 0 && !strcmp(link, want);
}

static struct itimerspec spec(long value_ns, long interval_ns)
{
	return (struct itimerspec){{interval_ns / 1000000000, interval_ns % 1000000000},
				   {value_ns / 1000000000, value_ns % 1000000000}};
}

static long ns(const struct timespec *ts) { return ts->tv_sec * 1000000000L + ts->tv_nsec; }

static void test_create(void)
{
	int fd = CHECK_SYS(timerfd_create(CLOCK_MONOTONIC, 0));
	int nb = CHECK_SYS(timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC));
	int bt = CHECK_SYS(timerfd_create(CLOCK_BOOTTIME, 0));
	struct itimerspec cur;
	struct stat st;
	uint64_t v;

	CHECK_EQ(fcntl(fd, F_GETFL), O_RDWR);
	CHECK_EQ(fcntl(nb, F_GETFL), O_RDWR | O_NONBLOCK);
	CHECK_EQ(fcntl(nb, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fstat(fd, &st), 0);
	CHECK_EQ(st.st_mode, 0600);
	CHECK(fd_link_is(fd, "anon_inode:[timerfd]"));
	/* Disarmed: nothing to read. */
	CHECK_EQ(timerfd_gettime(fd, &cur), 0);
	CHECK_EQ(ns(&cur.it_value), 0);
	CHECK_EQ(ns(&cur.it_interval), 0);
	CHECK_ERR(read(nb, &v, sizeof(v)), EAGAIN);
	CHECK_ERR(read(nb, &v, 4), EINVAL);
	CHECK_ERR(timerfd_create(CLOCK_MONOTONIC, 0x1), EINVAL);
	CHECK_ERR(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL);
	CHECK_ERR(timerfd_create(99, 0), EINVAL);
	close(fd);
	close(nb);
	close(bt);
}

static void test_oneshot(void)
{
	int fd = CHECK_SYS(timerfd_create(CLOCK_MONOTONIC, 0));
	struct itimerspec s = spec(30000000, 0), cur, old;
	uint64_t v = 0, t0 = now_us();

	CHECK_EQ(timerfd_settime(fd, 0, &s, &old), 0);
	CHECK_EQ(ns(&old.it_value), 0);
	CHECK_EQ(timerfd_gettime(fd, &cur), 0);
	CHECK(ns(&cur.it_value) > 0 && ns(&cur.it_value) <= 30000000);
	CHECK_EQ(read(fd, &v, sizeof(v)), 8);
	CHECK_EQ(v, 1);
	CHECK(now_us() - t0 >= 30000);
	/* Expired: disarmed, nothing more to read. */
	CHECK_EQ(timerfd_gettime(fd, &cur), 0);
	CHECK_EQ(ns(&cur.it_value), 0);
	struct pollfd p = {fd, POLLIN, 0};
	CHECK_EQ(poll(&p, 1, 0), 0);
	close(fd);
}

static void test_periodic(void)
{
	int fd = CHECK_SYS(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
	struct itimerspec s = spec(10000000, 10000000), cur, old;
	uint64_t v = 0;
	char buf[16];

	CHECK_EQ(timerfd_settime(fd, 0, &s, NULL), 0);
	sleep_ms(55);
	/* A longer buffer still reads 8 bytes: the count so far. */
	CHECK_EQ(read(fd, buf, sizeof(buf)), 8);
	memcpy(&v, buf, 8);
	CHECK(v >= 5);
	CHECK_EQ(timerfd_gettime(fd, &cur), 0);
	CHECK_EQ(ns(&cur.it_interval), 10000000);
	CHECK(ns(&cur.it_value) > 0 && ns(&cur.it_value) <= 10000000);
	/* A new setting restarts the count; the old one comes back. */
	sleep_ms(25);
	s = spec(5000000000L, 0);
	CHECK_EQ(timerfd_settime(fd, 0, &s, &old), 0);
	CHECK_EQ(ns(&old.it_interval), 10000000);
	CHECK_ERR(read(fd, &v, sizeof(v)), EAGAIN);
	/* Disarm. */
	s = spec(0, 0);
	CHECK_EQ(timerfd_settime(fd, 0, &s, &old), 0);
	CHECK(old.it_value.tv_sec >= 4 && old.it_value.tv_sec <= 5);
	CHECK_EQ(timerfd_gettime(fd, &cur), 0);
	CHECK_EQ(ns(&cur.it_value), 0);
	close(fd);
}

static void test_abstime(void)
{
	int fd = CHECK_SYS(timerfd_create(CLOCK_REALTIME, 0));
	struct itimerspec s;
	struct timespec now;
	uint64_t v = 0, t0 = now_us();

	clock_gettime(CLOCK_REALTIME, &now);
	s = spec(ns(&now) + 40000000, 0);
	CHECK_EQ(timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &s, NULL), 0);
	CHECK_EQ(read(fd, &v, sizeof(v)), 8);
	CHECK_EQ(v, 1);
	CHECK(now_us() - t0 >= 35000);
	/* In the past: expired at once. */
	s = spec(1000000000L, 0);
	CHECK_EQ(timerfd_settime(fd, TFD_TIMER_ABSTIME, &s, NULL), 0);
	CHECK_EQ(read(fd, &v, sizeof(v)), 8);
	CHECK_EQ(v, 1);
	close(fd);

	/* Monotonic, absolute and periodic: the periods since then count. */
	fd = CHECK_SYS(timerfd_create(CLOCK_MONOTONIC, 0));
	clock_gettime(CLOCK_MONOTONIC, &now);
	s = spec(ns(&now) - 95000000, 10000000);
	CHECK_EQ(timerfd_settime(fd, TFD_TIMER_ABSTIME, &s, NULL), 0);
	CHECK_EQ(read(fd, &v, sizeof(v)), 8);
	CHECK(v >= 10);
	close(fd);
}

static void test_ready(void)
{
	int fd = CHECK_SYS(timerfd_create(CLOCK_MONOTONIC, 0)), ep = CHECK_SYS(epoll_create1(0));
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 8}, out[2];
	struct itimerspec s = spec(30000000, 0);
	struct pollfd p = {fd, POLLIN, 0};
	uint64_t v, t0;

	CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	t0 = now_us();
	CHECK_EQ(timerfd_settime(fd, 0, &s, NULL), 0);
	CHECK_EQ(poll(&p, 1, -1), 1);
	CHECK_EQ(p.revents, POLLIN);
	CHECK(now_us() - t0 >= 30000);
	CHECK_EQ(epoll_wait(ep, out, 2, 0), 1);
	CHECK_EQ(out[0].data.u64, 8);
	CHECK_EQ(read(fd, &v, sizeof(v)), 8);
	CHECK_EQ(epoll_wait(ep, out, 2, 0), 0);
	/* epoll_wait sleeps until it expires. */
	s = spec(20000000, 0);
	t0 = now_us();
	CHECK_EQ(timerfd_settime(fd, 0, &s, NULL), 0);
	CHECK_EQ(epoll_wait(ep, out, 2, -1), 1);
	CHECK(now_us() - t0 >= 20000);
	close(ep);
	close(fd);
}

static void test_errors(void)
{
	int fd = CHECK_SYS(timerfd_create(CLOCK_MONOTONIC, 0)), efd = CHECK_SYS(eventfd(0, 0));
	struct itimerspec s = spec(1000, 0), cur;

	s.it_value.tv_nsec = 1000000000;
	CHECK_ERR(timerfd_settime(fd, 0, &s, NULL), EINVAL);
	s = spec(1000, 0);
	s.it_interval.tv_sec = -1;
	CHECK_ERR(timerfd_settime(fd, 0, &s, NULL), EINVAL);
	s = spec(1000, 0);
	CHECK_ERR(timerfd_settime(fd, 0x4, &s, NULL), EINVAL);
	CHECK_ERR(timerfd_settime(efd, 0, &s, NULL), EINVAL);
	CHECK_ERR(timerfd_settime(999, 0, &s, NULL), EBADF);
	CHECK_ERR(syscall(SYS_timerfd_settime, fd, 0, BAD_PTR, NULL), EFAULT);
	CHECK_ERR(timerfd_gettime(efd, &cur), EINVAL);
	CHECK_ERR(timerfd_gettime(999, &cur), EBADF);
	CHECK_ERR(syscall(SYS_timerfd_gettime, fd, BAD_PTR), EFAULT);
	close(fd);
	close(efd);
}

int main(void)
{
	test_create();
	test_oneshot();
	test_periodic();
	test_abstime();
	test_ready();
	test_errors();
	return check_exit();
}
