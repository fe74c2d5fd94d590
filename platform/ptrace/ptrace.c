/* The ptrace platform: each sentry task thread traces its own stub thread
 * and runs it with PTRACE_SYSEMU, so every system call the application
 * makes stops before the host runs it. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <elf.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fdpass.h"
#include "lib/log.h"
#include "platform/ptrace/ptrace_impl.h"
#include "platform/stub.h"

__thread struct ptrace_ctx *ptrace_current;

static struct ptrace_as *to_as(struct platform_as *as) { return (struct ptrace_as *)as; }
static struct ptrace_ctx *to_ctx(struct platform_ctx *c) { return (struct ptrace_ctx *)c; }

static int pt_init(void) { return ptrace_factory_start(); }

static int pt_ctx_new(struct platform_ctx **out)
{
	struct ptrace_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->bound_cpu = -1;
	ptrace_current = c;
	*out = &c->pub;
	return 0;
}

/* Ends the stub thread we trace, if any: the whole stub when it is the
 * last thread, else just this thread (SIGKILL would take the process). */
static void release_tid(struct ptrace_ctx *c)
{
	struct ptrace_as *as = to_as(c->pub.as);
	int st;

	if (!c->tid)
		return;
	if (atomic_fetch_sub(&as->nthreads, 1) > 1) {
		/* Other threads live on: only this one may go. SIGKILL would
		 * take the whole process, so it exits by itself. The register
		 * file the injection starts from must be the thread's own
		 * (SETREGS checks the segment selectors). */
		long r = ptrace(PTRACE_GETREGS, c->tid, 0, &c->pub.regs) < 0 ? -errno : 0;
		if (r == 0 && c->tid == as->pid) {
			/* The leader: once it exits, the process's memory is
			 * out of process_vm_readv's reach (it goes through the
			 * leader). It waits in stub_park, untraced, until the
			 * process ends with its last thread. */
			c->pub.regs.rip = STUB_ADDR(stub_park);
			c->pub.regs.orig_rax = (unsigned long)-1;
			if (ptrace(PTRACE_SETREGS, c->tid, 0, &c->pub.regs) == 0 &&
			    ptrace(PTRACE_DETACH, c->tid, 0, 0) == 0) {
				c->tid = 0;
				return;
			}
			r = -errno;
		} else if (r == 0) {
			r = ptrace_inject(c, __NR_exit, 0, 0, 0, 0, 0, 0);
		}
		if (r != -ESRCH)
			log_err("ptrace: stub thread %d did not exit (%s); left stopped",
				(int)c->tid, strerror((int)-r));
		c->tid = 0;
		return;
	}
	syscall(SYS_tgkill, as->pid, c->tid, SIGKILL);
	while (waitpid(c->tid, &st, __WALL) == c->tid && !WIFEXITED(st) && !WIFSIGNALED(st))
		;
	c->tid = 0;
}

static void pt_as_put(struct platform_as *pas)
{
	struct ptrace_as *as = to_as(pas);

	if (!as || atomic_fetch_sub(&as->refs, 1) != 1)
		return;
	kill(as->pid, SIGKILL);
	close(as->sock);
	pthread_mutex_destroy(&as->fd_lock);
	free(as);
}

static void pt_ctx_free(struct platform_ctx *pc)
{
	struct ptrace_ctx *c = to_ctx(pc);

	if (!c)
		return;
	if (c->pub.as) {
		release_tid(c);
		pt_as_put(c->pub.as);
	}
	if (ptrace_current == c)
		ptrace_current = NULL;
	free(c);
}

static int send_fd(int sock, int fd)
{
	return fdpass_send(sock, &fd, 1);
}

/* Gives a new stub a control channel of its own in place of the one it
 * inherited: the factory's (parent NULL), or its parent stub's after a
 * fork. The fd travels on the inherited channel, one at a time. */
static int give_channel(struct ptrace_ctx *c, struct ptrace_as *as, struct ptrace_as *parent)
{
	int sv[2], ret;

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pthread_mutex_lock(parent ? &parent->fd_lock : &factory_pass_lock);
	ret = parent ? send_fd(parent->sock, sv[1]) : ptrace_factory_send_fd(sv[1]);
	if (ret == 0)
		ret = (int)ptrace_inject_adopt(c);
	pthread_mutex_unlock(parent ? &parent->fd_lock : &factory_pass_lock);
	close(sv[1]);
	if (ret < 0) {
		close(sv[0]);
		return ret;
	}
	as->sock = sv[0];
	return 0;
}

static int pt_as_new(struct platform_ctx *pc)
{
	struct ptrace_ctx *c = to_ctx(pc);
	struct ptrace_as *as, *old = to_as(c->pub.as);
	pid_t old_tid = c->tid;
	pid_t pid;
	int ret;

	if (c != ptrace_current)
		return -EINVAL;
	as = calloc(1, sizeof(*as));
	if (!as)
		return -ENOMEM;
	atomic_init(&as->refs, 1);
	atomic_init(&as->nthreads, 1);
	as->sock = -1;
	pthread_mutex_init(&as->fd_lock, NULL);
	pid = ptrace_factory_fork();
	if (pid < 0) {
		ret = pid;
		goto fail;
	}
	as->pid = pid;
	ret = ptrace_seize_stopped(pid);
	if (ret < 0) {
		kill(pid, SIGKILL);
		goto fail;
	}
	c->tid = pid;
	c->bound_cpu = -1;
	c->pub.as = (struct platform_as *)as;
	if (ptrace(PTRACE_GETREGS, pid, 0, &c->pub.regs) < 0) {
		ret = -errno;
		goto fail_new;
	}
	ret = give_channel(c, as, NULL);
	if (ret < 0)
		goto fail_new;
	if (old) {
		/* Exec: the old stub thread goes away with the old space. */
		struct ptrace_ctx tmp = {.pub.as = (struct platform_as *)old, .tid = old_tid};
		release_tid(&tmp);
		pt_as_put((struct platform_as *)old);
	}
	/* A clean register file; keep the segment selectors and flags the
	 * host gave the stub, which SETREGS checks. */
	{
		struct user_regs_struct r = c->pub.regs;
		memset(&c->pub.regs, 0, sizeof(c->pub.regs));
		c->pub.regs.cs = r.cs;
		c->pub.regs.ss = r.ss;
		c->pub.regs.ds = r.ds;
		c->pub.regs.es = r.es;
		c->pub.regs.fs = r.fs;
		c->pub.regs.gs = r.gs;
		c->pub.regs.eflags = 0x202; /* IF, and the reserved bit 1 */
	}
	c->upload = true;
	return 0;
fail_new:
	{
		struct ptrace_ctx tmp = {.pub.as = (struct platform_as *)as, .tid = pid};
		release_tid(&tmp);
	}
	c->tid = old_tid;
	c->pub.as = (struct platform_as *)old;
fail:
	if (as->sock >= 0)
		close(as->sock);
	pthread_mutex_destroy(&as->fd_lock);
	free(as);
	return ret;
}

static pid_t pt_as_host_pid(struct platform_as *as) { return to_as(as)->pid; }

/* The context that may run calls in as: the calling thread's own. */
static struct ptrace_ctx *injector(struct platform_as *as)
{
	struct ptrace_ctx *c = ptrace_current;
	if (!c || c->pub.as != as || !c->tid) {
		log_err("ptrace: address-space call from a thread with no stub in it");
		return NULL;
	}
	return c;
}

static long pt_as_mmap(struct platform_as *pas, uint64_t addr, uint64_t len,
		       int prot, int flags, int fd, uint64_t off)
{
	struct ptrace_ctx *c = injector(pas);
	struct ptrace_as *as = to_as(pas);
	long sfd, r;

	if (!c)
		return -EINVAL;
	if (fd < 0)
		return ptrace_inject(c, __NR_mmap, addr, len, (uint64_t)prot,
				     (uint64_t)flags, (uint64_t)-1, off);
	pthread_mutex_lock(&as->fd_lock);
	sfd = send_fd(as->sock, fd);
	if (sfd == 0)
		sfd = ptrace_inject_recv_fd(c);
	pthread_mutex_unlock(&as->fd_lock);
	if (sfd < 0)
		return sfd;
	r = ptrace_inject(c, __NR_mmap, addr, len, (uint64_t)prot, (uint64_t)flags,
			  (uint64_t)sfd, off);
	ptrace_inject(c, __NR_close, (uint64_t)sfd, 0, 0, 0, 0, 0);
	return r;
}

static long pt_as_munmap(struct platform_as *as, uint64_t addr, uint64_t len)
{
	struct ptrace_ctx *c = injector(as);
	return c ? ptrace_inject(c, __NR_munmap, addr, len, 0, 0, 0, 0) : -EINVAL;
}

static long pt_as_mprotect(struct platform_as *as, uint64_t addr, uint64_t len, int prot)
{
	struct ptrace_ctx *c = injector(as);
	return c ? ptrace_inject(c, __NR_mprotect, addr, len, (uint64_t)prot, 0, 0, 0)
		 : -EINVAL;
}

static long pt_as_mremap(struct platform_as *as, uint64_t old, uint64_t oldlen,
			 uint64_t newlen, int flags, uint64_t newaddr)
{
	struct ptrace_ctx *c = injector(as);
	return c ? ptrace_inject(c, __NR_mremap, old, oldlen, newlen, (uint64_t)flags,
				 newaddr, 0)
		 : -EINVAL;
}

static long pt_as_madvise(struct platform_as *as, uint64_t addr, uint64_t len, int advice)
{
	struct ptrace_ctx *c = injector(as);
	return c ? ptrace_inject(c, __NR_madvise, addr, len, (uint64_t)advice, 0, 0, 0)
		 : -EINVAL;
}

static long pt_as_read(struct platform_as *as, uint64_t addr, void *buf, size_t len)
{
	struct iovec l = {buf, len}, r = {(void *)addr, len};
	ssize_t n;

	if (len == 0)
		return 0;
	n = process_vm_readv(to_as(as)->pid, &l, 1, &r, 1, 0);
	if (n < 0)
		return errno == ENOMEM || errno == EFAULT ? -EFAULT : -errno;
	return n;
}

static long pt_as_write(struct platform_as *as, uint64_t addr, const void *buf, size_t len)
{
	struct iovec l = {(void *)buf, len}, r = {(void *)addr, len};
	ssize_t n;

	if (len == 0)
		return 0;
	n = process_vm_writev(to_as(as)->pid, &l, 1, &r, 1, 0);
	if (n < 0)
		return errno == ENOMEM || errno == EFAULT ? -EFAULT : -errno;
	return n;
}

static long pt_as_cmpxchg32(struct platform_as *as, uint64_t addr, uint32_t old, uint32_t nv)
{
	struct ptrace_ctx *c = injector(as);

	if (addr & 3)
		return -EINVAL;
	return c ? ptrace_inject_cmpxchg(c, addr, old, nv) : -EINVAL;
}

static bool is_fault_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL ||
	       sig == SIGTRAP;
}

/* Keeps the stub thread on the CPU this sentry thread runs on. The two
 * run strictly in turn, and a wakeup across CPUs costs an IPI (in a VM, an
 * exit): measured here, 10 us per trapped call pinned against 10-50 us
 * free. */
static void bind_cpu(struct ptrace_ctx *c)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	if (cpu < 0 || cpu == c->bound_cpu)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(c->tid, sizeof(set), &set) == 0)
		c->bound_cpu = cpu;
}

static enum ctx_stop pt_ctx_switch(struct platform_ctx *pc, struct ctx_stop_info *info)
{
	struct ptrace_ctx *c = to_ctx(pc);
	int st;

	if (atomic_exchange(&c->interrupt, false))
		return CTX_INTERRUPT;
	if (!c->tid)
		return CTX_DEAD;
	/* orig_rax = -1: the host must never apply its own syscall-restart
	 * logic to application registers. */
	c->pub.regs.orig_rax = (unsigned long)-1;
	if (ptrace(PTRACE_SETREGS, c->tid, 0, &c->pub.regs) < 0)
		goto dead;
	c->upload = false;
	for (;;) {
		bind_cpu(c);
		if (ptrace(PTRACE_SYSEMU, c->tid, 0, 0) < 0)
			goto dead;
		if (ptrace_wait(c->tid, &st) < 0 || !WIFSTOPPED(st))
			goto dead;
		int sig = WSTOPSIG(st);
		if (sig == (SIGTRAP | 0x80)) {
			if (ptrace(PTRACE_GETREGS, c->tid, 0, &c->pub.regs) < 0)
				goto dead;
			return CTX_SYSCALL;
		}
		if ((st >> 16) == 0 && is_fault_signal(sig)) {
			siginfo_t si;
			if (ptrace(PTRACE_GETSIGINFO, c->tid, 0, &si) < 0)
				goto dead;
			if (si.si_code > 0) { /* raised by the kernel: a real fault */
				if (ptrace(PTRACE_GETREGS, c->tid, 0, &c->pub.regs) < 0)
					goto dead;
				memset(info, 0, sizeof(*info));
				info->signo = sig;
				info->code = si.si_code;
				info->addr = (uint64_t)si.si_addr;
				info->access = ACCESS_UNKNOWN;
				return CTX_FAULT;
			}
		}
		/* Anything else (our interrupt, a stray host signal) stops the
		 * thread without reaching the application. */
		if (atomic_exchange(&c->interrupt, false)) {
			if (ptrace(PTRACE_GETREGS, c->tid, 0, &c->pub.regs) < 0)
				goto dead;
			return CTX_INTERRUPT;
		}
	}
dead:
	c->tid = 0;
	return CTX_DEAD;
}

static void pt_ctx_interrupt(struct platform_ctx *pc)
{
	struct ptrace_ctx *c = to_ctx(pc);
	pid_t tid = c->tid;

	atomic_store(&c->interrupt, true);
	if (tid && c->pub.as)
		syscall(SYS_tgkill, to_as(c->pub.as)->pid, tid, SIGSTOP);
}

static int pt_ctx_reset_fpstate(struct platform_ctx *pc)
{
	struct ptrace_ctx *c = to_ctx(pc);
	struct user_fpregs_struct fp;

	memset(&fp, 0, sizeof(fp));
	fp.cwd = 0x37f;
	fp.mxcsr = 0x1f80;
	fp.mxcr_mask = 0xffff;
	if (ptrace(PTRACE_SETFPREGS, c->tid, 0, &fp) < 0)
		return -errno;
	return 0;
}

static pid_t pt_ctx_host_tid(struct platform_ctx *pc) { return to_ctx(pc)->tid; }

static int pt_as_fork(struct platform_ctx *pc, struct platform_child **out)
{
	struct ptrace_ctx *c = to_ctx(pc);
	struct platform_child *ch;
	long tid;

	if (c != ptrace_current || !c->tid)
		return -EINVAL;
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	/* CLONE_PARENT: the child is the factory's child like every stub,
	 * so it does not die with the parent stub (its PR_SET_PDEATHSIG
	 * ties it to the factory) and is reaped by the kernel. */
	tid = ptrace_inject_clone(c, CLONE_PARENT | SIGCHLD);
	if (tid < 0) {
		free(ch);
		return (int)tid;
	}
	ch->tid = (pid_t)tid;
	ch->parent = to_as(c->pub.as);
	atomic_fetch_add(&ch->parent->refs, 1);
	*out = ch;
	return 0;
}

static int pt_thread_new(struct platform_ctx *pc, struct platform_child **out)
{
	struct ptrace_ctx *c = to_ctx(pc);
	struct platform_child *ch;
	long tid;

	if (c != ptrace_current || !c->tid)
		return -EINVAL;
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	tid = ptrace_inject_clone(c, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
					     CLONE_THREAD | CLONE_SYSVSEM);
	if (tid < 0) {
		free(ch);
		return (int)tid;
	}
	ch->tid = (pid_t)tid;
	ch->as = to_as(c->pub.as);
	atomic_fetch_add(&ch->as->refs, 1);
	atomic_fetch_add(&ch->as->nthreads, 1);
	*out = ch;
	return 0;
}

static void pt_child_abandon(struct platform_child *ch)
{
	if (!ch)
		return;
	if (ch->parent) {
		kill(ch->tid, SIGKILL);
		pt_as_put((struct platform_as *)ch->parent);
	} else if (ch->as) {
		/* A parked thread can run nothing; it ends with its process. */
		atomic_fetch_sub(&ch->as->nthreads, 1);
		pt_as_put((struct platform_as *)ch->as);
	}
	free(ch);
}

static int pt_child_adopt(struct platform_child *ch, struct platform_ctx **out)
{
	struct ptrace_ctx *c;
	struct ptrace_as *as = NULL;
	int ret;

	ret = pt_ctx_new((struct platform_ctx **)&c);
	if (ret < 0)
		goto fail;
	ret = ptrace_seize_stopped(ch->tid);
	if (ret < 0)
		goto fail_ctx;
	c->tid = ch->tid;
	if (ptrace(PTRACE_GETREGS, c->tid, 0, &c->pub.regs) < 0) {
		ret = -errno;
		goto fail_ctx;
	}
	if (ch->as) {
		/* A thread: the same address space. */
		c->pub.as = (struct platform_as *)ch->as;
		ch->as = NULL;
	} else {
		as = calloc(1, sizeof(*as));
		if (!as) {
			ret = -ENOMEM;
			goto fail_ctx;
		}
		atomic_init(&as->refs, 1);
		atomic_init(&as->nthreads, 1);
		as->pid = ch->tid;
		as->sock = -1;
		pthread_mutex_init(&as->fd_lock, NULL);
		c->pub.as = (struct platform_as *)as;
		ret = give_channel(c, as, ch->parent);
		if (ret < 0)
			goto fail_ctx;
		pt_as_put((struct platform_as *)ch->parent);
		ch->parent = NULL;
	}
	c->upload = true;
	free(ch);
	*out = &c->pub;
	return 0;
fail_ctx:
	if (!c->pub.as)
		c->tid = 0;
	pt_ctx_free(&c->pub);
	ch->tid = 0;
fail:
	pt_child_abandon(ch);
	return ret;
}

static int pt_ctx_get_fpstate(struct platform_ctx *pc, void *buf, size_t len)
{
	struct ptrace_ctx *c = to_ctx(pc);
	struct iovec iov = {buf, len};

	if (ptrace(PTRACE_GETREGSET, c->tid, (void *)NT_X86_XSTATE, &iov) < 0)
		return -errno;
	return (int)iov.iov_len;
}

static int pt_ctx_set_fpstate(struct platform_ctx *pc, const void *buf, size_t len)
{
	struct ptrace_ctx *c = to_ctx(pc);
	struct iovec iov = {(void *)buf, len};

	if (ptrace(PTRACE_SETREGSET, c->tid, (void *)NT_X86_XSTATE, &iov) < 0)
		return -errno;
	return 0;
}

const struct platform_ops ptrace_platform_ops = {
	.name = "ptrace",
	.init = pt_init,
	.ctx_new = pt_ctx_new,
	.ctx_free = pt_ctx_free,
	.as_new = pt_as_new,
	.as_put = pt_as_put,
	.as_host_pid = pt_as_host_pid,
	.as_mmap = pt_as_mmap,
	.as_munmap = pt_as_munmap,
	.as_mprotect = pt_as_mprotect,
	.as_mremap = pt_as_mremap,
	.as_madvise = pt_as_madvise,
	.as_read = pt_as_read,
	.as_write = pt_as_write,
	.as_cmpxchg32 = pt_as_cmpxchg32,
	.ctx_switch = pt_ctx_switch,
	.ctx_interrupt = pt_ctx_interrupt,
	.ctx_reset_fpstate = pt_ctx_reset_fpstate,
	.ctx_host_tid = pt_ctx_host_tid,
	.as_fork = pt_as_fork,
	.thread_new = pt_thread_new,
	.child_adopt = pt_child_adopt,
	.child_abandon = pt_child_abandon,
	.ctx_get_fpstate = pt_ctx_get_fpstate,
	.ctx_set_fpstate = pt_ctx_set_fpstate,
};
