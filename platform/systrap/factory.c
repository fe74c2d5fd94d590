/* The systrap stub factory: a process forked at boot, before the sentry
 * has read any application data or installed its own filter, and stripped
 * down to the stub. It is not traced: it waits on its channel for
 * [channel, slot memfd] datagrams and forks one stub for each
 * (systrap_factory_entry in stub.S). */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/fdpass.h"
#include "lib/log.h"
#include "platform/stub.h"
#include "platform/systrap/systrap_impl.h"

static int factory_sock = -1; /* our end of the factory's channel */
static int factory_pidfd = -1;

/* In the forked child: become the factory. Never returns. */
static void factory_child(int sock, const struct sock_fprog *prog, pid_t sentry)
{
	struct sigaction sa = {.sa_handler = SIG_DFL};
	struct rlimit no_core = {0, 0};
	sigset_t none;

	/* glibc registered rseq for the thread we were forked from; its area
	 * is about to be unmapped, and the kernel would fault writing it. */
	if (__rseq_size > 0) {
		char *tp;
		__asm__("mov %%fs:0, %0" : "=r"(tp));
		if (syscall(SYS_rseq, tp + __rseq_offset, __rseq_size, RSEQ_FLAG_UNREGISTER,
			    RSEQ_SIG) < 0 &&
		    syscall(SYS_rseq, tp + __rseq_offset, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) < 0)
			_exit(119);
	}
	/* Die with the sentry thread that forked us. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		_exit(120);
	/* The sentry may have died before the prctl: then nobody kills us. */
	if (getppid() != sentry)
		_exit(120);
	for (int s = 1; s < _NSIG; s++)
		sigaction(s, &sa, NULL);
	/* Children (stubs) are reaped by the kernel, never by us. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(sock, STUB_CTRL_FD) < 0)
		_exit(121);
	if (syscall(SYS_close_range, STUB_CTRL_FD + 1, ~0U, 0) < 0)
		_exit(122);
	setrlimit(RLIMIT_CORE, &no_core); /* a stub never writes a host core file */
	if (chdir("/") < 0)
		_exit(123);
	/* Fresh, empty namespaces where the host lets us have them. */
	if (unshare(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
		(void)0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(125);
	/* From here only the stub code may make system calls. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) < 0)
		_exit(126);
	((void (*)(void *))SYSTRAP_ADDR(systrap_factory_entry))((void *)STUB_DATA);
	__builtin_unreachable();
}

static struct sock_fprog factory_prog;
static int start_error;
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t start_cond = PTHREAD_COND_INITIALIZER;
static bool started;

/* The factory's parent thread: PR_SET_PDEATHSIG fires when the thread
 * that forked a process exits, so it lives as long as the sentry. */
static void *factory_thread(void *arg)
{
	int sv[2], err = 0;
	pid_t pid, sentry;

	(void)arg;
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0) {
		err = -errno;
		goto out;
	}
	sentry = getpid();
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(sv[0]);
		close(sv[1]);
		goto out;
	}
	if (pid == 0)
		factory_child(sv[1], &factory_prog, sentry);
	close(sv[1]);
	factory_sock = sv[0];
	factory_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (factory_pidfd < 0) {
		err = -errno;
		kill(pid, SIGKILL);
	}
out:
	pthread_mutex_lock(&start_lock);
	start_error = err;
	started = true;
	pthread_cond_broadcast(&start_cond);
	pthread_mutex_unlock(&start_lock);
	if (err)
		return NULL;
	for (;;)
		pause();
}

int systrap_factory_start(void)
{
	struct sock_fprog *stub_prog = (struct sock_fprog *)STUB_DATA_FPROG;
	struct sock_filter *stub_filter = (struct sock_filter *)STUB_DATA_FILTER;
	pthread_t thr;
	int ret;

	ret = systrap_factory_filter(&factory_prog);
	if (ret < 0)
		return ret;
	ret = stub_image_install(systrap_blob_start, systrap_blob_end);
	if (ret < 0)
		return ret;
	/* The stub filter waits in the data page, which every stub inherits. */
	ret = systrap_stub_filter(stub_filter, STUB_DATA_FILTER_MAX);
	if (ret < 0) {
		log_err("systrap: cannot build the stub filter: %s", strerror(-ret));
		return ret;
	}
	stub_prog->len = (unsigned short)ret;
	stub_prog->filter = stub_filter;
	ret = pthread_create(&thr, NULL, factory_thread, NULL);
	if (ret)
		return -ret;
	pthread_detach(thr);
	pthread_mutex_lock(&start_lock);
	while (!started)
		pthread_cond_wait(&start_cond, &start_lock);
	pthread_mutex_unlock(&start_lock);
	return start_error;
}

int systrap_factory_spawn(int chan, int memfd)
{
	int fds[2] = {chan, memfd};
	/* One datagram: the factory takes requests one at a time, in order. */
	return fdpass_send(factory_sock, fds, 2);
}

int systrap_factory_alive(void)
{
	if (syscall(SYS_pidfd_send_signal, factory_pidfd, 0, NULL, 0) < 0)
		return -ESRCH;
	return 0;
}
