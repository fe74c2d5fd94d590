/* New stub threads (thread_new) and processes (as_fork), made by the
 * parent's stub thread from its handler on our command, and handed to the
 * sentry threads that will run them (child_adopt).
 *
 * A thread takes a free slot of its address space. A fork gets a fresh
 * memfd of slots and a channel of its own, both passed through the
 * parent's channel (CMD_RECV_FDS) under fd_lock, which is held through
 * the fork so that no other fd is in flight in the stub when it is
 * copied; the child maps its slots over the ones it shares with the
 * parent before it touches memory, takes its channel as fd 0, closes
 * every other fd, and asks to die with the factory (slot.h, stub.S).
 *
 * Either way we first copy the parent's handler frame into the child's
 * slot, at the same offset (a fork keeps the parent's slot index): the
 * child starts inside the handler, on its own slot's stack, with the
 * parent's registers and FPU state (as Linux gives a child), reports
 * there, and runs application code only when its own sentry thread
 * resumes it. Nothing it runs before that reads the parent's slot.
 *
 * The clone runs under ptrace: the stub filter answers clone with
 * SECCOMP_RET_TRACE, which fails it unless a tracer asked for seccomp
 * stops (filter.c says why). We seize the parent's stub thread for the
 * one command, check its registers at the seccomp stop, take the child's
 * id from the kernel's clone event (never from the slot, which the
 * application can write), catch the child's first stop to open its
 * pidfds, and let both go. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fdpass.h"
#include "lib/log.h"
#include "platform/systrap/systrap_impl.h"

#define FX_SIZE 512

static struct systrap_ctx *to_ctx(struct platform_ctx *c) { return (struct systrap_ctx *)c; }
static struct systrap_as *as_of(struct systrap_ctx *c) { return (struct systrap_as *)c->pub.as; }

/* Where the handler's frame starts in c's slot (its stack pointer: the
 * return address just below the ucontext), or 0 if the last report is not
 * one the kernel could have written. */
static uint64_t frame_start(const struct systrap_ctx *c)
{
	uint64_t uc = c->ucontext, fpa = c->fpstate;
	uint64_t end = c->slot_addr + STUB_SLOT_SIZE;

	if (uc < c->slot_addr + SLOT_STACK + 8 || uc > end - UC_SIZE || (uc & 7))
		return 0;
	/* The kernel puts the xsave area above the frame. */
	if (fpa < uc + UC_SIZE || fpa > end - FX_SIZE || (fpa & 63))
		return 0;
	return uc - 8;
}

/* Readies slot dst (at dst_addr in the stub) for a thread that starts on
 * its stack and carries on from c's handler: a copy of c's frame at the
 * same offset, its xsave pointer moved along, a message area for the
 * report. Returns that thread's stack pointer, or 0. */
static uint64_t copy_handler(const struct systrap_ctx *c, struct systrap_slot *dst,
			     uint64_t dst_addr)
{
	uint64_t lo = frame_start(c), off, fpa;

	if (!lo)
		return 0;
	off = lo - c->slot_addr;
	systrap_slot_init(dst);
	memcpy((uint8_t *)dst + off, (const uint8_t *)c->slot + off, STUB_SLOT_SIZE - off);
	fpa = c->fpstate - c->slot_addr + dst_addr;
	memcpy((uint8_t *)dst + (c->ucontext - c->slot_addr) + UC_FPREGS, &fpa, sizeof(fpa));
	dst->ucontext = c->ucontext - c->slot_addr + dst_addr;
	dst->fpstate = fpa;
	/* Without FSGSBASE the report carries what we set: the parent's. */
	dst->fs_base = c->fs_base;
	dst->gs_base = c->gs_base;
	return lo - c->slot_addr + dst_addr;
}

static int wait_tid(pid_t tid, int *st)
{
	for (;;) {
		if (waitpid(tid, st, __WALL) == tid)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

/* What the parent's stub thread must look like at the clone's seccomp
 * stop: the handler that got our command, at the clone instruction of
 * that command, with our arguments. */
struct clone_want {
	uint64_t rip, flags, stack;
	uint64_t r12, r15; /* a fork's: the fds the child takes */
	bool fork;
};

static bool at_our_clone(const struct systrap_ctx *c, pid_t tid, const struct clone_want *w)
{
	struct user_regs_struct r;

	if (ptrace(PTRACE_GETREGS, tid, 0, &r) < 0)
		return false;
	return r.orig_rax == __NR_clone && r.rip == w->rip && r.rdi == w->flags &&
	       r.rsi == w->stack && r.rbx == c->slot_addr && r.r13 == c->ucontext &&
	       r.rsp == c->ucontext - 8 && (!w->fork || (r.r12 == w->r12 && r.r15 == w->r15));
}

/* A fork's child, attached to us by the clone event: catch its first stop,
 * open its pidfds, let it go. While it is traced its pid cannot name
 * another process, so the pidfd is surely the child's. */
static int take_fork_child(pid_t pid, const cpu_set_t *cpus, struct systrap_thread *out)
{
	int st, ret = wait_tid(pid, &st);

	if (ret == 0 && !WIFSTOPPED(st))
		return -ESRCH; /* it died, and is reaped */
	*out = (struct systrap_thread){.pid = pid, .tid = pid, .pidfd = -1, .tpidfd = -1};
	if (ret == 0) {
		out->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (out->pidfd < 0)
			ret = -errno;
	}
	if (ret == 0) {
		out->tpidfd = systrap_thread_pidfd(pid);
		if (out->tpidfd < -1)
			ret = out->tpidfd;
	}
	if (ret == 0 && cpus)
		sched_setaffinity(pid, sizeof(*cpus), cpus);
	if (ret == 0 && ptrace(PTRACE_DETACH, pid, 0, 0) < 0)
		ret = -errno;
	if (ret == 0)
		return 0;
	kill(pid, SIGKILL);
	while (wait_tid(pid, &st) == 0 && WIFSTOPPED(st))
		;
	if (out->pidfd >= 0)
		close(out->pidfd);
	if (out->tpidfd >= 0)
		close(out->tpidfd);
	out->pidfd = out->tpidfd = -1;
	return ret;
}

/* A new thread, whose tid the kernel gave at the clone's exit stop. It
 * runs already; its pidfd is its own if, once opened, the tid is a live
 * thread of our stub (tids are unique among live threads, and only we
 * make threads in a stub). */
static int take_thread(struct systrap_as *as, pid_t tid, const cpu_set_t *cpus,
		       struct systrap_thread *out)
{
	*out = (struct systrap_thread){.pid = as->pid, .tid = tid, .pidfd = as->pidfd,
				       .tpidfd = systrap_thread_pidfd(tid)};
	if (out->tpidfd < -1 || syscall(SYS_tgkill, as->pid, tid, 0) < 0 ||
	    systrap_thread_alive(out) < 0) {
		if (out->tpidfd >= 0)
			close(out->tpidfd);
		out->tpidfd = -1;
		return -ESRCH;
	}
	if (cpus)
		sched_setaffinity(tid, sizeof(*cpus), cpus);
	return 0;
}

/* Runs cmd (its arguments already in c's slot) with c's stub thread
 * traced, so that its clone runs; on success *child is the new thread or
 * process, running towards its first report. *posted says whether the
 * stub got the command. The parent's own report of the command's end is
 * waited for later (systrap_settle), while we get the child going.
 *
 * The stub thread and we take turns all along (a stop wakes us, a resume
 * wakes it): on this VM a wakeup across CPUs costs tens of microseconds,
 * so for the length of the command the stub thread runs on our CPU. */
static int gated_clone(struct systrap_ctx *c, uint64_t cmd, const struct clone_want *w,
		       struct systrap_thread *child, bool *posted)
{
	volatile struct systrap_slot *s = c->slot;
	struct systrap_as *as = as_of(c);
	pid_t tid = c->thr.tid, new = 0;
	cpu_set_t saved, one;
	const cpu_set_t *restore = NULL;
	int st, ret, cpu = sched_getcpu();
	bool gone = false;

	*posted = false;
	if (ptrace(PTRACE_SEIZE, tid, 0,
		   PTRACE_O_TRACESECCOMP | PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL |
			   (w->fork ? PTRACE_O_TRACEFORK : 0)) < 0) {
		ret = -errno;
		log_warn("systrap: cannot trace stub thread %d for a clone: %s", tid,
			 strerror(-ret));
		return ret;
	}
	if (cpu >= 0 && sched_getaffinity(tid, sizeof(saved), &saved) == 0) {
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(tid, sizeof(one), &one) == 0)
			restore = &saved;
	}
	s->cmd = cmd;
	s->result = (uint64_t)-ENOSYS;
	systrap_post(c->slot);
	*posted = true;
	for (;;) {
		ret = wait_tid(tid, &st);
		if (ret < 0)
			break;
		if (!WIFSTOPPED(st)) {
			gone = true;
			ret = -ESRCH;
			break;
		}
		if (st >> 16 == PTRACE_EVENT_SECCOMP) {
			if (at_our_clone(c, tid, w)) {
				/* On to the fork event, or the exit stop. */
				ptrace(PTRACE_SYSCALL, tid, 0, 0);
				continue;
			}
		} else if (w->fork && st >> 16 == PTRACE_EVENT_FORK) {
			unsigned long msg = 0;
			if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) < 0 || !msg || msg > INT32_MAX) {
				ret = -EPROTO;
				break;
			}
			new = (pid_t)msg;
			ret = take_fork_child(new, restore, child);
			break;
		} else if (st >> 16 == 0 && WSTOPSIG(st) == (SIGTRAP | 0x80)) {
			/* The clone's end: the kernel's result in rax. */
			struct user_regs_struct r;
			long rax;
			if (ptrace(PTRACE_GETREGS, tid, 0, &r) < 0) {
				ret = -errno;
				break;
			}
			rax = (long)r.rax;
			if (w->fork || rax == 0 || rax > INT32_MAX || rax < -4095)
				ret = rax < 0 && rax >= -4095 ? (int)rax : -EPROTO;
			else
				ret = take_thread(as, (pid_t)(new = (pid_t)rax), restore, child);
			break;
		}
		/* Anything else (a signal, the wrong event, the wrong
		 * registers) means the thread left the handler our command
		 * found it in: the application forged its slot words. */
		log_warn("systrap: stub thread %d is not where its clone command left it "
			 "(stop 0x%x); killing its stub",
			 tid, st);
		syscall(SYS_pidfd_send_signal, as->pidfd, SIGKILL, NULL, 0);
		ptrace(PTRACE_CONT, tid, 0, 0);
	}
	if (!gone) {
		if (restore)
			sched_setaffinity(tid, sizeof(saved), &saved);
		if (ptrace(PTRACE_DETACH, tid, 0, 0) < 0 && ret == 0)
			ret = -errno;
		c->report_pending = true;
	} else {
		c->stopped = false; /* dead: every later call fails */
	}
	if (ret < 0 && new && !w->fork) {
		/* A thread we could not take is one we do not know: it goes,
		 * with its process. */
		syscall(SYS_pidfd_send_signal, as->pidfd, SIGKILL, NULL, 0);
	}
	return ret;
}

int systrap_thread_new(struct platform_ctx *pc, struct platform_child **out)
{
	struct systrap_ctx *c = to_ctx(pc);
	volatile struct systrap_slot *s = c->slot;
	struct systrap_as *as = as_of(c);
	struct platform_child *ch;
	struct clone_want w = {.rip = SYSTRAP_ADDR(systrap_clone_thread) + 2,
			       .flags = SYSTRAP_THREAD_FLAGS};
	bool posted;
	int idx, ret;

	if (c != systrap_current || !c->slot || systrap_settle(c) < 0 || !c->stopped)
		return -EINVAL;
	/* The child starts as a copy of our handler: we need a frame. */
	if (c->fast && systrap_unfast(c) < 0)
		return -ESRCH;
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	idx = systrap_slot_take(as);
	if (idx < 0) {
		/* STUB_MAX_SLOTS threads per address space at most: the
		 * application sees EAGAIN, as at a host thread limit. */
		static atomic_bool said;
		if (!atomic_exchange(&said, true))
			log_warn("systrap: an address space has %d threads, its most; "
				 "more fail with EAGAIN", (int)STUB_MAX_SLOTS);
		free(ch);
		return idx;
	}
	w.stack = copy_handler(c, systrap_slot(as, (unsigned)idx),
			       STUB_SLOTS + (uint64_t)idx * STUB_SLOT_SIZE);
	if (!w.stack) {
		ret = -EFAULT;
		goto fail;
	}
	s->args[0] = w.flags;
	s->args[1] = w.stack;
	ret = gated_clone(c, CMD_THREAD, &w, &ch->thr, &posted);
	if (ret < 0)
		goto fail;
	atomic_fetch_add(&as->refs, 1);
	ch->as = as;
	ch->slot_idx = (unsigned)idx;
	ch->fs_base = c->fs_base;
	ch->gs_base = c->gs_base;
	*out = ch;
	return 0;
fail:
	systrap_slot_give(as, (unsigned)idx);
	free(ch);
	return ret;
}

/* Sends the two fds in one datagram: the stub takes them with one
 * recvmsg. */
static int send_fds(int sock, int a, int b)
{
	int fds[2] = {a, b};
	return fdpass_send(sock, fds, 2);
}

int systrap_as_fork(struct platform_ctx *pc, struct platform_child **out)
{
	struct systrap_ctx *c = to_ctx(pc);
	volatile struct systrap_slot *s = c->slot;
	struct systrap_as *as = as_of(c), *nas;
	struct platform_child *ch;
	struct clone_want w = {.rip = SYSTRAP_ADDR(systrap_clone_fork) + 2,
			       .flags = SYSTRAP_FORK_FLAGS, .fork = true};
	int sv[2] = {-1, -1}, memfd, fds[2], ret;
	bool posted = false;

	if (c != systrap_current || !c->slot || systrap_settle(c) < 0 || !c->stopped)
		return -EINVAL;
	/* The child starts as a copy of our handler: we need a frame. */
	if (c->fast && systrap_unfast(c) < 0)
		return -ESRCH;
	ch = calloc(1, sizeof(*ch));
	nas = systrap_as_alloc();
	if (!ch || !nas) {
		ret = -ENOMEM;
		goto fail;
	}
	memfd = systrap_as_slots(nas);
	if (memfd < 0) {
		ret = memfd;
		goto fail;
	}
	/* The child keeps the parent's slot index: its frame, registers
	 * and signal stack stay where they are. */
	memset(nas->slots_used, 0, sizeof(nas->slots_used));
	nas->slots_used[c->slot_idx / 64] = 1ULL << (c->slot_idx % 64);
	nas->nthreads = 1;
	if (!copy_handler(c, systrap_slot(nas, c->slot_idx), c->slot_addr)) {
		ret = -EFAULT;
		close(memfd);
		goto fail;
	}
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = -errno;
		close(memfd);
		goto fail;
	}
	nas->sock = sv[0];

	pthread_mutex_lock(&as->fd_lock);
	ret = send_fds(as->sock, sv[1], memfd);
	if (ret == 0)
		ret = (int)systrap_run_cmd(c, CMD_RECV_FDS, 0, 0, 0, 0, 0, 0, 0);
	if (ret == 0) {
		/* Their numbers in the stub, from the slot: only the child's
		 * stub code uses them, and the seccomp stop checks that it is
		 * these it gets. */
		memcpy(fds, (const uint8_t *)c->slot + SM_CMSG + CMSG_FD0, sizeof(fds));
		if (fds[0] <= STUB_CTRL_FD || fds[1] <= STUB_CTRL_FD)
			ret = -EPROTO;
	}
	if (ret == 0) {
		w.r12 = (uint64_t)fds[0];
		w.r15 = (uint64_t)fds[1];
		s->args[0] = w.flags;
		s->args[1] = 0;
		s->args[2] = w.r12;
		s->args[3] = w.r15;
		ret = gated_clone(c, CMD_FORK, &w, &ch->thr, &posted);
		/* Without the command the stub still holds both fds. */
		if (!posted) {
			systrap_run_cmd(c, CMD_SYSCALL, __NR_close, w.r12, 0, 0, 0, 0, 0);
			systrap_run_cmd(c, CMD_SYSCALL, __NR_close, w.r15, 0, 0, 0, 0, 0);
		}
	}
	pthread_mutex_unlock(&as->fd_lock);
	close(sv[1]);
	close(memfd);
	if (ret < 0)
		goto fail;
	nas->pid = ch->thr.pid;
	nas->pidfd = ch->thr.pidfd; /* the address space owns it from here */
	ch->as = nas;
	ch->slot_idx = c->slot_idx;
	ch->fs_base = c->fs_base;
	ch->gs_base = c->gs_base;
	*out = ch;
	return 0;
fail:
	systrap_as_put(nas);
	free(ch);
	return ret;
}

/* Lets a new thread of a live stub report, then ends it. */
static void end_new_thread(struct platform_child *ch)
{
	struct systrap_as *as = ch->as;
	struct systrap_ctx tmp;

	memset(&tmp, 0, sizeof(tmp));
	tmp.pub.as = (struct platform_as *)as;
	tmp.slot = systrap_slot(as, ch->slot_idx);
	tmp.thr = ch->thr;
	if (systrap_wait(&tmp, tmp.slot, &tmp.thr, false) == 0) {
		tmp.stopped = true;
		systrap_run_cmd(&tmp, CMD_EXIT, 0, 0, 0, 0, 0, 0, 0);
	}
	systrap_slot_give(as, ch->slot_idx);
}

void systrap_child_abandon(struct platform_child *ch)
{
	if (!ch)
		return;
	/* A fork goes with its address space (we hold its only reference). */
	if (ch->thr.tid != ch->as->pid)
		end_new_thread(ch);
	if (ch->thr.tpidfd >= 0)
		close(ch->thr.tpidfd);
	systrap_as_put(ch->as);
	free(ch);
}

int systrap_child_adopt(struct platform_child *ch, struct platform_ctx **out)
{
	struct systrap_ctx *c;
	struct systrap_stop st;
	int ret = systrap_ctx_alloc(&c);

	if (ret < 0) {
		systrap_child_abandon(ch);
		return ret;
	}
	c->pub.as = (struct platform_as *)ch->as;
	c->slot_idx = ch->slot_idx;
	c->slot = systrap_slot(ch->as, ch->slot_idx);
	c->slot_addr = STUB_SLOTS + (uint64_t)ch->slot_idx * STUB_SLOT_SIZE;
	c->thr = ch->thr;
	c->fs_base = ch->fs_base;
	c->gs_base = ch->gs_base;
	free(ch);
	/* Its first report: it has left the clone (a fork has its own slots
	 * and channel) and waits in its handler. */
	ret = systrap_wait(c, c->slot, &c->thr, false);
	if (ret < 0) {
		log_warn("systrap: new stub thread %d died before its first report", c->thr.tid);
		platform->ctx_free(&c->pub);
		return ret;
	}
	c->stopped = true;
	systrap_read_stop(c, &st);
	systrap_arm(c);
	*out = &c->pub;
	return 0;
}
