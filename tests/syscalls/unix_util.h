/* Helpers for the unix socket test programs: addresses, readiness,
 * children, and signal handlers that record what arrived. */
#ifndef RC_TESTS_SYSCALLS_UNIX_UTIL_H
#define RC_TESTS_SYSCALLS_UNIX_UTIL_H

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define SUN_OFF offsetof(struct sockaddr_un, sun_path)
#define BAD_PTR ((void *)8)

/* An abstract name unique to this process: "\0<tag>-<pid>". */
static __attribute__((unused)) socklen_t abstract_addr(struct sockaddr_un *a, const char *tag)
{
	int n;

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "%s-%d", tag, (int)getpid());
	return (socklen_t)(SUN_OFF + 1 + (size_t)n);
}

static __attribute__((unused)) socklen_t path_addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	strncpy(a->sun_path, path, sizeof(a->sun_path) - 1);
	return (socklen_t)(SUN_OFF + strlen(a->sun_path) + 1);
}

/* The events poll reports now. */
static __attribute__((unused)) short poll_now(int fd, short events)
{
	struct pollfd p = {fd, events, 0};
	return poll(&p, 1, 0) < 0 ? -1 : p.revents;
}

#define POLL_ALL (POLLIN | POLLOUT | POLLRDHUP | POLLPRI)

static __attribute__((unused)) void set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);
	CHECK_SYS(fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK));
}

/* Waits for child pid and checks it exited with 0. */
static __attribute__((unused)) void reap(pid_t pid)
{
	int st = -1;
	pid_t r;

	while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	CHECK_EQ(r, pid);
	CHECK(WIFEXITED(st));
	if (WIFEXITED(st))
		CHECK_EQ(WEXITSTATUS(st), 0);
}

static volatile sig_atomic_t got_sig, sig_code, sig_pid, sig_count;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_sig = sig;
	sig_code = si->si_code;
	sig_pid = si->si_pid;
	sig_count++;
}

/* Catches sig, recording it; restart: SA_RESTART. */
static __attribute__((unused)) void catch_signal(int sig, bool restart)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | (restart ? SA_RESTART : 0);
	sigemptyset(&sa.sa_mask);
	CHECK_SYS(sigaction(sig, &sa, NULL));
	got_sig = sig_code = sig_pid = sig_count = 0;
}

/* Number of open fds below 64, to see that nothing leaked in. */
static __attribute__((unused)) int count_fds(void)
{
	int n = 0;
	for (int fd = 0; fd < 64; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

#endif
