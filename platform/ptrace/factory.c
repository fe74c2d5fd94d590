/* The stub factory (gVisor's "master stub"): a process forked at boot,
 * before the sentry has read any application data or installed its own
 * filter, and stripped down to the stub. Every address space is a fork of
 * it, made by injecting fork() under ptrace. One sentry thread traces the
 * factory (a tracer is a thread) and serves fork requests; each new stub
 * is detached stopped and seized by the thread that asked for it. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/rseq.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fdpass.h"
#include "lib/log.h"
#include "platform/ptrace/ptrace_impl.h"
#include "platform/stub.h"

/* What a ptrace stub may do from its own code: strip itself at birth,
 * stop itself, and the calls the sentry injects. */
static const int stub_allowed[] = {
	__NR_munmap, __NR_getpid, __NR_kill, __NR_mmap, __NR_mprotect,
	__NR_mremap, __NR_madvise, __NR_msync, __NR_fork, __NR_recvmsg,
	__NR_dup2, __NR_close, __NR_prctl, __NR_exit_group,
	/* fork and new threads of an address space, and their parking */
	__NR_clone, __NR_exit, __NR_pause,
};

static pid_t factory_pid;
static int factory_sock = -1; /* our end of the channel the factory holds */
pthread_mutex_t factory_pass_lock = PTHREAD_MUTEX_INITIALIZER;

static pthread_mutex_t req_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t req_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static bool req_pending, req_done, factory_ready;
static long req_result;
static int start_error;

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
	/* Die with the sentry thread that traces us. */
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
	if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0)
		_exit(124);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(125);
	/* From here only the stub code may make system calls. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) < 0)
		_exit(126);
	((void (*)(void *))STUB_ADDR(stub_entry))((void *)STUB_DATA);
	__builtin_unreachable();
}

static long factory_fork_locked(struct user_regs_struct *tmpl)
{
	struct user_regs_struct r = *tmpl;
	unsigned long msg = 0;
	pid_t child = 0;
	int st, ret;

	r.rax = __NR_fork;
	r.orig_rax = (unsigned long)-1;
	r.rip = STUB_ADDR(stub_syscall);
	if (ptrace(PTRACE_SETREGS, factory_pid, 0, &r) < 0 ||
	    ptrace(PTRACE_CONT, factory_pid, 0, 0) < 0)
		return -errno;
	for (;;) {
		ret = ptrace_wait(factory_pid, &st);
		if (ret < 0)
			return ret;
		if (!WIFSTOPPED(st)) {
			log_err("stub factory died (status 0x%x)", st);
			return -ECHILD;
		}
		if (st >> 8 == (SIGTRAP | (PTRACE_EVENT_FORK << 8))) {
			if (ptrace(PTRACE_GETEVENTMSG, factory_pid, 0, &msg) < 0)
				return -errno;
			child = (pid_t)msg;
		} else if (WSTOPSIG(st) == SIGTRAP) {
			break; /* the int3 after the syscall */
		} else if (WSTOPSIG(st) != SIGSTOP) {
			siginfo_t si;
			struct user_regs_struct cur;
			ptrace(PTRACE_GETSIGINFO, factory_pid, 0, &si);
			ptrace(PTRACE_GETREGS, factory_pid, 0, &cur);
			log_err("stub factory: signal %d (code %d, addr %p) at rip 0x%llx cs %llx ss %llx fl %llx rax %llx orig %llx tmpl-rip %llx",
				WSTOPSIG(st), si.si_code, si.si_addr, cur.rip, cur.cs, cur.ss, cur.eflags, cur.rax, cur.orig_rax, tmpl->rip);
			return -EFAULT;
		}
		if (ptrace(PTRACE_CONT, factory_pid, 0, 0) < 0)
			return -errno;
	}
	if (ptrace(PTRACE_GETREGS, factory_pid, 0, &r) < 0)
		return -errno;
	if ((long)r.rax < 0)
		return (long)r.rax;
	if (!child || (pid_t)r.rax != child)
		return -EPROTO;
	/* The new child starts traced by us, in a SIGSTOP stop. Leave it
	 * stopped and untraced for the thread that will run it. */
	ret = ptrace_wait(child, &st);
	if (ret < 0)
		return ret;
	if (!WIFSTOPPED(st))
		return -ECHILD;
	if (ptrace(PTRACE_DETACH, child, 0, SIGSTOP) < 0)
		return -errno;
	return child;
}

static void *factory_thread(void *arg)
{
	const struct sock_fprog *prog = arg;
	struct user_regs_struct tmpl;
	int sv[2], st;
	pid_t pid, sentry;

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0) {
		start_error = -errno;
		goto fail;
	}
	sentry = getpid();
	pid = fork();
	if (pid < 0) {
		start_error = -errno;
		goto fail;
	}
	if (pid == 0)
		factory_child(sv[1], prog, sentry);
	close(sv[1]);
	factory_sock = sv[0];
	factory_pid = pid;
	/* The factory stops itself once stripped. */
	if ((start_error = ptrace_wait(pid, &st)) < 0)
		goto fail;
	if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTOP) {
		log_err("stub factory failed to start (status 0x%x)", st);
		start_error = -ECHILD;
		goto fail;
	}
	if (ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_STUB_OPTIONS) < 0 ||
	    ptrace(PTRACE_GETREGS, pid, 0, &tmpl) < 0) {
		start_error = -errno;
		goto fail;
	}
	pthread_mutex_lock(&req_lock);
	factory_ready = true;
	pthread_cond_broadcast(&done_cond);
	for (;;) {
		while (!req_pending)
			pthread_cond_wait(&req_cond, &req_lock);
		req_pending = false;
		pthread_mutex_unlock(&req_lock);
		long r = factory_fork_locked(&tmpl);
		pthread_mutex_lock(&req_lock);
		req_result = r;
		req_done = true;
		pthread_cond_broadcast(&done_cond);
	}
fail:
	pthread_mutex_lock(&req_lock);
	factory_ready = true;
	pthread_cond_broadcast(&done_cond);
	pthread_mutex_unlock(&req_lock);
	return NULL;
}

int ptrace_factory_start(void)
{
	static struct sock_fprog prog;
	pthread_t thr;
	int ret;

	ret = stub_filter_build(stub_allowed, sizeof(stub_allowed) / sizeof(stub_allowed[0]),
				SECCOMP_RET_KILL_PROCESS, &prog);
	if (ret < 0)
		return ret;
	ret = stub_image_install(stub_blob_start, stub_blob_end);
	if (ret < 0)
		return ret;
	ret = pthread_create(&thr, NULL, factory_thread, &prog);
	if (ret)
		return -ret;
	pthread_detach(thr);
	pthread_mutex_lock(&req_lock);
	while (!factory_ready)
		pthread_cond_wait(&done_cond, &req_lock);
	pthread_mutex_unlock(&req_lock);
	return start_error;
}

/* One fork at a time: the factory is a single traced thread. */
static pthread_mutex_t fork_lock = PTHREAD_MUTEX_INITIALIZER;

pid_t ptrace_factory_fork(void)
{
	long r;

	pthread_mutex_lock(&fork_lock);
	pthread_mutex_lock(&req_lock);
	req_pending = true;
	req_done = false;
	pthread_cond_signal(&req_cond);
	while (!req_done)
		pthread_cond_wait(&done_cond, &req_lock);
	r = req_result;
	pthread_mutex_unlock(&req_lock);
	pthread_mutex_unlock(&fork_lock);
	return (pid_t)r;
}

int ptrace_factory_send_fd(int fd)
{
	return fdpass_send(factory_sock, &fd, 1);
}
