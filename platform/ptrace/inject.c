/* System calls the sentry constructs and runs inside a stub: point the
 * stopped thread at stub_syscall with the call in its registers and let
 * it run to the int3 that follows. The application's registers are kept
 * in the context and uploaded again before it next runs. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "lib/log.h"
#include "platform/ptrace/ptrace_impl.h"
#include "platform/stub.h"

int ptrace_wait(pid_t tid, int *status)
{
	for (;;) {
		pid_t r = waitpid(tid, status, __WALL);
		if (r == tid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

int ptrace_seize_stopped(pid_t tid)
{
	int st, ret;

	if (ptrace(PTRACE_SEIZE, tid, 0, PTRACE_STUB_OPTIONS) < 0)
		return -errno;
	/* The stub is stopped by SIGSTOP, or about to be: either way the
	 * interrupt makes it report a stop to us. A SIGSTOP still in flight
	 * shows up later and is dropped by ctx_switch. */
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0)
		return -errno;
	ret = ptrace_wait(tid, &st);
	if (ret < 0)
		return ret;
	if (!WIFSTOPPED(st))
		return -ECHILD;
	return 0;
}

/* Runs stub code from entry with registers r until its int3, which must
 * be the one just before end_rip. Returns the stub's %rax. */
static long run_stub(struct ptrace_ctx *c, struct user_regs_struct *r, uint64_t end_rip)
{
	int st, ret;

	r->orig_rax = (unsigned long)-1;
	c->upload = true;
	if (ptrace(PTRACE_SETREGS, c->tid, 0, r) < 0)
		return -errno;
	for (;;) {
		if (ptrace(PTRACE_CONT, c->tid, 0, 0) < 0)
			return -errno;
		ret = ptrace_wait(c->tid, &st);
		if (ret < 0)
			return ret;
		if (!WIFSTOPPED(st)) {
			c->tid = 0;
			return -ESRCH; /* the stub died */
		}
		if (WSTOPSIG(st) == SIGTRAP && (st >> 16) == 0)
			break;
		if ((WSTOPSIG(st) == SIGSEGV || WSTOPSIG(st) == SIGBUS) && (st >> 16) == 0) {
			/* The stub code faulted on an address it was given
			 * (the signal is dropped at the next resume). */
			return -EFAULT;
		}
		/* An interrupt or a stray signal: drop it, carry on. */
	}
	if (ptrace(PTRACE_GETREGS, c->tid, 0, r) < 0)
		return -errno;
	if (r->rip != end_rip) {
		log_err("stub call stopped at 0x%llx, not 0x%llx", r->rip,
			(unsigned long long)end_rip);
		return -EFAULT;
	}
	return (long)r->rax;
}

long ptrace_inject(struct ptrace_ctx *c, long nr, uint64_t a0, uint64_t a1,
		   uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	struct user_regs_struct r = c->pub.regs;

	r.rax = (unsigned long)nr;
	r.rdi = a0;
	r.rsi = a1;
	r.rdx = a2;
	r.r10 = a3;
	r.r8 = a4;
	r.r9 = a5;
	r.rip = STUB_ADDR(stub_syscall);
	/* syscall (2 bytes), then the int3 (1 byte). */
	return run_stub(c, &r, STUB_ADDR(stub_syscall) + 3);
}

long ptrace_inject_cmpxchg(struct ptrace_ctx *c, uint64_t addr, uint32_t old, uint32_t nv)
{
	struct user_regs_struct r = c->pub.regs;
	long ret;

	r.rdi = addr;
	r.rax = old;
	r.rdx = nv;
	r.rip = STUB_ADDR(stub_cmpxchg);
	/* The int3 at stub_cmpxchg_end stops us just past it. */
	ret = run_stub(c, &r, STUB_ADDR(stub_cmpxchg_end) + 1);
	return ret < 0 ? ret : (long)(uint32_t)ret;
}

/* Scratch in the stub data page for the injected recvmsg. */
struct recv_scratch {
	struct msghdr mh;
	struct iovec iov;
	char byte;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
};
#define SCRATCH_ADDR STUB_DATA_SCRATCH

/* Writes a fresh msghdr for one fd into the stub's scratch. */
static int prepare_scratch(pid_t pid)
{
	struct recv_scratch s;
	struct iovec local = {&s, sizeof(s)};
	struct iovec remote = {(void *)SCRATCH_ADDR, sizeof(s)};

	memset(&s, 0, sizeof(s));
	s.iov.iov_base = (void *)(SCRATCH_ADDR + offsetof(struct recv_scratch, byte));
	s.iov.iov_len = 1;
	s.mh.msg_iov = (void *)(SCRATCH_ADDR + offsetof(struct recv_scratch, iov));
	s.mh.msg_iovlen = 1;
	s.mh.msg_control = (void *)(SCRATCH_ADDR + offsetof(struct recv_scratch, cm));
	s.mh.msg_controllen = sizeof(s.cm.buf);
	if (process_vm_writev(pid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof(s))
		return -EFAULT;
	return 0;
}

long ptrace_inject_adopt(struct ptrace_ctx *c)
{
	struct user_regs_struct r = c->pub.regs;
	int ret = prepare_scratch(((struct ptrace_as *)c->pub.as)->pid);

	if (ret < 0)
		return ret;
	r.rdi = STUB_CTRL_FD;
	r.rsi = SCRATCH_ADDR;
	r.rdx = MSG_DONTWAIT;
	r.r12 = SCRATCH_ADDR + offsetof(struct recv_scratch, cm) + CMSG_LEN(0);
	r.rip = STUB_ADDR(stub_adopt);
	return run_stub(c, &r, STUB_ADDR(stub_adopt_end));
}

long ptrace_inject_recv_fd(struct ptrace_ctx *c)
{
	struct recv_scratch s;
	struct cmsghdr *cm;
	pid_t pid = ((struct ptrace_as *)c->pub.as)->pid;
	struct iovec local = {&s, sizeof(s)};
	struct iovec remote = {(void *)SCRATCH_ADDR, sizeof(s)};
	int fd;
	long r;

	r = prepare_scratch(pid);
	if (r < 0)
		return r;
	r = ptrace_inject(c, __NR_recvmsg, STUB_CTRL_FD, SCRATCH_ADDR,
			  MSG_DONTWAIT, 0, 0, 0);
	if (r < 0)
		return r;
	if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof(s))
		return -EFAULT;
	/* Rebase the control pointer to our copy before parsing. */
	s.mh.msg_control = s.cm.buf;
	cm = CMSG_FIRSTHDR(&s.mh);
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EPROTO;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

long ptrace_inject_clone(struct ptrace_ctx *c, unsigned long flags)
{
	struct user_regs_struct r;
	long child;
	int st, ret;

	/* The fork/clone event stop on the way is continued by run_stub. */
	child = ptrace_inject(c, __NR_clone, flags, 0, 0, 0, 0, 0);
	if (child <= 0)
		return child < 0 ? child : -EPROTO;
	/* The new thread was attached to us and stops at birth. Park it and
	 * let go: its sentry thread seizes it. */
	ret = ptrace_wait((pid_t)child, &st);
	if (ret < 0)
		return ret;
	if (!WIFSTOPPED(st))
		return -ECHILD;
	if (ptrace(PTRACE_GETREGS, (pid_t)child, 0, &r) < 0)
		goto kill;
	r.rip = STUB_ADDR(stub_park);
	r.orig_rax = (unsigned long)-1;
	if (ptrace(PTRACE_SETREGS, (pid_t)child, 0, &r) < 0 ||
	    ptrace(PTRACE_DETACH, (pid_t)child, 0, 0) < 0)
		goto kill;
	return child;
kill:
	ret = -errno;
	/* A forked process goes; a lost thread stays parked in pause(), where
	 * it can run nothing, until its process ends. */
	if (!(flags & CLONE_THREAD))
		kill((pid_t)child, SIGKILL);
	return ret;
}
