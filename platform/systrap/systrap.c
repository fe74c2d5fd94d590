/* The systrap platform: stub threads run untraced under a seccomp filter
 * that traps every syscall the application makes (SECCOMP_RET_TRAP). The
 * stub's SIGSYS handler (and its fault and interrupt handlers) hands the
 * registers to the sentry thread through the thread's slot, shared memory
 * (slot.h), and runs what the sentry asks: memory calls, then the resume.
 *
 * A context is bound to the sentry thread that created it, as in ptrace:
 * only that thread switches into it or changes its address space.
 *
 * An address space is one stub process with up to STUB_MAX_SLOTS threads,
 * one slot each, all slots in one memfd (stub.h). Its first thread comes
 * from the factory (as_new) and uses slot 0; more come from clone.c. A
 * thread whose task ends while others go on leaves (CMD_EXIT) and frees
 * its slot, except the leader: the host keeps a process whose leader has
 * exited as a zombie that process_vm_readv (addressed by the leader's pid)
 * cannot read, so the leader stays parked in its handler, holding its
 * slot, until the last thread goes and the stub is killed.
 *
 * Syscall patching (sentry/mm/patch.c, stub.S systrap_fast_entry): a
 * patched site enters the stub without a signal, and the thread then
 * waits in the same command loop with no frame (ctx.fast). A resume
 * returns straight to the application while its %gs is still its slot;
 * anything that needs the frame (FPU state, clone, another %gs) first
 * converts the stop (systrap_unfast). While patching is on, a thread's %gs
 * base is its slot unless the application set one (host_gs). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "lib/fdpass.h"
#include "lib/log.h"
#include "platform/stub.h"
#include "platform/systrap/systrap_impl.h"

__thread struct systrap_ctx *systrap_current;
bool systrap_have_fsgsbase;

/* uc_mcontext.gregs indices past those of slot.h (x86-64). */
enum { G_CSGSFS = 18, G_ERR, G_TRAPNO, G_OLDMASK, G_CR2 };

#define SYS_SECCOMP_CODE 1 /* si_code of a seccomp trap */
#define PF_WRITE 0x2
#define PF_INSTR 0x10
#define TRAP_PF 14
#define USER_CS 0x33
#define USER_SS 0x2b

static struct systrap_as *to_as(struct platform_as *as) { return (struct systrap_as *)as; }
static struct systrap_ctx *to_ctx(struct platform_ctx *c) { return (struct systrap_ctx *)c; }

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* How many pause rounds make spin_us microseconds on this CPU (a pause is
 * 10 ns on some, 140 on others). The fastest of a few tries: a try that
 * was preempted only looks slower. */
static unsigned calibrate_spin(unsigned spin_us)
{
	enum { ROUNDS = 500, TRIES = 3 };
	uint64_t best = UINT64_MAX;

	for (int t = 0; t < TRIES; t++) {
		uint64_t t0 = now_ns(), ns;
		for (volatile unsigned i = 0; i < ROUNDS; i++)
			__builtin_ia32_pause();
		ns = now_ns() - t0;
		if (ns < best)
			best = ns;
	}
	if (best == 0)
		best = 1;
	return (unsigned)((uint64_t)spin_us * 1000 * ROUNDS / best);
}

static int st_init(void)
{
	/* HWCAP2_FSGSBASE: the kernel lets user space use rd/wrfsbase. */
	systrap_have_fsgsbase = getauxval(AT_HWCAP2) & 2;
	/* Spinning cannot help with one CPU: the other side needs it. */
	systrap_spin_max = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? calibrate_spin(SPIN_US) : 0;
	systrap_fpstate_init();
	if (platform_syscall_patching)
		platform_info.patch_entry = SYSTRAP_ADDR(systrap_fast_entry);
	return systrap_factory_start();
}

int systrap_ctx_alloc(struct systrap_ctx **out)
{
	struct systrap_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	atomic_init(&c->interrupt, false);
	atomic_init(&c->running, false);
	pthread_mutex_init(&c->sig_lock, NULL);
	c->thr.pidfd = c->thr.tpidfd = -1;
	c->spin = c->stub_spin = systrap_spin_max;
	systrap_current = c;
	*out = c;
	return 0;
}

static int st_ctx_new(struct platform_ctx **out)
{
	struct systrap_ctx *c;
	int ret = systrap_ctx_alloc(&c);

	if (ret == 0)
		*out = &c->pub;
	return ret;
}

void systrap_arm(struct systrap_ctx *c)
{
	pthread_mutex_lock(&c->sig_lock);
	c->armed = true;
	pthread_mutex_unlock(&c->sig_lock);
}

void systrap_disarm(struct systrap_ctx *c)
{
	pthread_mutex_lock(&c->sig_lock);
	c->armed = false;
	pthread_mutex_unlock(&c->sig_lock);
}

int systrap_thread_pidfd(pid_t tid)
{
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
	int fd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);

	if (fd >= 0)
		return fd;
	return errno == EINVAL ? -1 : -errno;
}

struct systrap_as *systrap_as_alloc(void)
{
	struct systrap_as *as = calloc(1, sizeof(*as));

	if (!as)
		return NULL;
	atomic_init(&as->refs, 1);
	as->sock = as->pidfd = -1;
	pthread_mutex_init(&as->fd_lock, NULL);
	pthread_mutex_init(&as->lock, NULL);
	return as;
}

void systrap_as_put(struct systrap_as *as)
{
	if (!as || atomic_fetch_sub(&as->refs, 1) != 1)
		return;
	if (as->pidfd >= 0) {
		syscall(SYS_pidfd_send_signal, as->pidfd, SIGKILL, NULL, 0);
		close(as->pidfd);
	}
	if (as->sock >= 0)
		close(as->sock);
	if (as->slots)
		munmap(as->slots, STUB_SLOTS_SIZE);
	pthread_mutex_destroy(&as->fd_lock);
	pthread_mutex_destroy(&as->lock);
	free(as);
}

int systrap_as_slots(struct systrap_as *as)
{
	int fd = (int)syscall(SYS_memfd_create, "runsc-systrap-slots", MFD_CLOEXEC);
	void *m;

	if (fd < 0)
		return -errno;
	/* A sparse file: a slot costs the pages its thread touches. */
	if (ftruncate(fd, STUB_SLOTS_SIZE) < 0)
		goto fail;
	m = mmap(NULL, STUB_SLOTS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		goto fail;
	as->slots = m;
	return fd;
fail:
	{
		int err = -errno;
		close(fd);
		return err;
	}
}

int systrap_slot_take(struct systrap_as *as)
{
	int idx = -EAGAIN;

	pthread_mutex_lock(&as->lock);
	for (unsigned w = 0; w < STUB_MAX_SLOTS / 64; w++) {
		if (!~as->slots_used[w])
			continue;
		unsigned b = (unsigned)__builtin_ctzll(~as->slots_used[w]);
		as->slots_used[w] |= 1ULL << b;
		as->nthreads++;
		idx = (int)(w * 64 + b);
		break;
	}
	pthread_mutex_unlock(&as->lock);
	return idx;
}

void systrap_slot_give(struct systrap_as *as, unsigned idx)
{
	pthread_mutex_lock(&as->lock);
	as->slots_used[idx / 64] &= ~(1ULL << (idx % 64));
	as->nthreads--;
	pthread_mutex_unlock(&as->lock);
}

void systrap_slot_init(struct systrap_slot *s)
{
	memset(s, 0, SM_END);
	s->state = SLOT_RUNNING;
	s->flags = systrap_have_fsgsbase ? SLOT_F_FSGSBASE : 0;
	s->spin = systrap_spin_max;
}

static void as_put(struct platform_as *pas) { systrap_as_put((struct systrap_as *)pas); }

/* Ends the context's stub thread if other threads of its address space go
 * on (the last goes with the stub, which as_put kills). */
static void end_thread(struct systrap_ctx *c, struct systrap_as *as)
{
	bool last;

	pthread_mutex_lock(&as->lock);
	last = as->nthreads == 1;
	if (c->thr.tid == as->pid && !last)
		as->nthreads--; /* the leader parks: its slot stays taken */
	pthread_mutex_unlock(&as->lock);
	if (last || c->thr.tid == as->pid)
		return;
	if (c->stopped) {
		/* Acknowledged (or dead): the thread touches the slot no more. */
		systrap_run_cmd(c, CMD_EXIT, 0, 0, 0, 0, 0, 0, 0);
		systrap_slot_give(as, c->slot_idx);
		return;
	}
	if (systrap_thread_alive(&c->thr) < 0) {
		systrap_slot_give(as, c->slot_idx);
		return;
	}
	/* Neither stopped nor dead: it runs application code we cannot
	 * stop (forged slot words). It takes the whole stub with it. */
	log_warn("systrap: stub thread %d does not answer; killing its stub", c->thr.tid);
	syscall(SYS_pidfd_send_signal, as->pidfd, SIGKILL, NULL, 0);
	systrap_slot_give(as, c->slot_idx);
}

/* Drops the context's stub thread and address space. */
static void release(struct systrap_ctx *c)
{
	struct systrap_as *as = to_as(c->pub.as);

	systrap_disarm(c);
	if (as && c->slot)
		end_thread(c, as);
	if (c->thr.tpidfd >= 0)
		close(c->thr.tpidfd);
	c->thr = (struct systrap_thread){.pidfd = -1, .tpidfd = -1};
	systrap_as_put(as);
	c->pub.as = NULL;
	c->slot = NULL;
	c->stopped = false;
	c->fast = false;
}

static void st_ctx_free(struct platform_ctx *pc)
{
	struct systrap_ctx *c = to_ctx(pc);

	if (!c)
		return;
	release(c);
	if (systrap_current == c)
		systrap_current = NULL;
	pthread_mutex_destroy(&c->sig_lock);
	free(c);
}

/* The registers the stub reported at its last stop, into pub.regs. The
 * slot is application-writable: read each word once. */
static void load_regs(struct systrap_ctx *c, const uint64_t *g)
{
	struct user_regs_struct *r = &c->pub.regs;

	r->r8 = g[G_R8];
	r->r9 = g[G_R9];
	r->r10 = g[G_R10];
	r->r11 = g[G_R11];
	r->r12 = g[G_R12];
	r->r13 = g[G_R13];
	r->r14 = g[G_R14];
	r->r15 = g[G_R15];
	r->rdi = g[G_RDI];
	r->rsi = g[G_RSI];
	r->rbp = g[G_RBP];
	r->rbx = g[G_RBX];
	r->rdx = g[G_RDX];
	r->rax = g[G_RAX];
	r->rcx = g[G_RCX];
	r->rsp = g[G_RSP];
	r->rip = g[G_RIP];
	r->eflags = g[G_EFL];
	r->cs = USER_CS;
	r->ss = USER_SS;
	r->orig_rax = (unsigned long)-1;
	r->fs_base = c->fs_base;
	/* While patching, %gs holds the thread's slot (stub.S,
	 * systrap_fast_entry; a new thread starts with its parent's): the
	 * application sees the 0 it started with. */
	r->gs_base = platform_syscall_patching && c->gs_base >= STUB_SLOTS &&
			     c->gs_base < STUB_SLOTS_END
			     ? 0
			     : c->gs_base;
}

void systrap_read_stop(struct systrap_ctx *c, struct systrap_stop *st)
{
	volatile struct systrap_slot *s = c->slot;

	st->signo = s->signo;
	st->code = s->code;
	st->addr = s->addr;
	st->fpstate = s->fpstate;
	st->ucontext = s->ucontext;
	st->fs_base = s->fs_base;
	st->gs_base = s->gs_base;
	for (int i = 0; i < SM_NGREGS; i++)
		st->g[i] = s->gregs[i];
	c->fpstate = st->fpstate;
	c->ucontext = st->ucontext;
	if (systrap_have_fsgsbase) {
		c->fs_base = st->fs_base;
		c->gs_base = st->gs_base;
	}
	load_regs(c, st->g);
}

static int st_as_new(struct platform_ctx *pc)
{
	struct systrap_ctx *c = to_ctx(pc);
	struct systrap_as *as;
	struct systrap_slot *s;
	struct systrap_stop st;
	int sv[2], memfd, tpidfd = -1, ret;
	int64_t pid;

	if (c != systrap_current)
		return -EINVAL;
	as = systrap_as_alloc();
	if (!as)
		return -ENOMEM;
	memfd = systrap_as_slots(as);
	if (memfd < 0) {
		ret = memfd;
		goto fail;
	}
	s = systrap_slot(as, 0);
	systrap_slot_init(s);
	as->slots_used[0] = 1;
	as->nthreads = 1;
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = -errno;
		close(memfd);
		goto fail;
	}
	ret = systrap_factory_spawn(sv[1], memfd);
	close(sv[1]);
	close(memfd);
	as->sock = sv[0];
	if (ret < 0)
		goto fail;

	/* The birth stop (or the factory's report of a failed fork). */
	ret = systrap_wait(c, s, NULL, false);
	pid = ((volatile struct systrap_slot *)s)->pid;
	if (pid > 0 && pid <= INT32_MAX) {
		/* No application code has run in it: its word is good. */
		as->pid = (pid_t)pid;
		as->pidfd = (int)syscall(SYS_pidfd_open, as->pid, 0);
		if (as->pidfd < 0 && ret == 0)
			ret = -errno;
		if (ret == 0) {
			tpidfd = systrap_thread_pidfd(as->pid);
			if (tpidfd < -1)
				ret = tpidfd;
		}
	} else if (ret == 0) {
		ret = pid < 0 && pid >= -4095 ? (int)pid : -EPROTO;
	}
	if (ret < 0) {
		log_err("systrap: no stub was born: %s", strerror(-ret));
		goto fail; /* kills a child that came too late */
	}

	/* The new stub replaces the old one (exec). */
	release(c);
	c->pub.as = (struct platform_as *)as;
	c->slot = s;
	c->slot_idx = 0;
	c->slot_addr = STUB_SLOTS;
	c->thr = (struct systrap_thread){.pid = as->pid, .tid = as->pid,
					 .pidfd = as->pidfd, .tpidfd = tpidfd};
	c->stopped = true;
	c->fs_base = c->gs_base = 0;
	systrap_read_stop(c, &st);
	if (st.signo != SIGTRAP || st.g[G_RIP] != SYSTRAP_ADDR(systrap_birth) + 1) {
		log_err("systrap: unexpected birth stop (signal %llu at 0x%llx)",
			(unsigned long long)st.signo, (unsigned long long)st.g[G_RIP]);
		release(c);
		return -EPROTO;
	}
	systrap_arm(c);
	/* A clean register file, as for ptrace; the bases are set on resume. */
	memset(&c->pub.regs, 0, sizeof(c->pub.regs));
	c->pub.regs.cs = USER_CS;
	c->pub.regs.ss = USER_SS;
	c->pub.regs.eflags = 0x202; /* IF, and the reserved bit 1 */
	if (!systrap_have_fsgsbase)
		s->flags |= SLOT_F_SETFSGS;
	return 0;

fail:
	if (tpidfd >= 0)
		close(tpidfd);
	systrap_as_put(as); /* kills a stub that was born */
	return ret;
}

static void st_as_put(struct platform_as *as) { as_put(as); }

static pid_t st_as_host_pid(struct platform_as *as) { return to_as(as)->pid; }

/* The context that may run calls in as: the calling thread's own, stopped. */
static struct systrap_ctx *caller(struct platform_as *as)
{
	struct systrap_ctx *c = systrap_current;

	if (!c || c->pub.as != as || !c->stopped || !c->slot) {
		log_err("systrap: address-space call from a thread with no stopped stub in it");
		return NULL;
	}
	return c;
}

int systrap_settle(struct systrap_ctx *c)
{
	if (!c->report_pending)
		return 0;
	c->report_pending = false;
	if (systrap_wait(c, c->slot, &c->thr, false) < 0) {
		c->stopped = false;
		return -ESRCH;
	}
	return 0;
}

long systrap_run_cmd(struct systrap_ctx *c, uint64_t cmd, long nr, uint64_t a0,
		     uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	volatile struct systrap_slot *s = c->slot;
	int ret = systrap_settle(c);

	if (ret < 0)
		return ret;

	s->cmd = cmd;
	s->nr = (uint64_t)nr;
	s->args[0] = a0;
	s->args[1] = a1;
	s->args[2] = a2;
	s->args[3] = a3;
	s->args[4] = a4;
	s->args[5] = a5;
	s->result = (uint64_t)-ENOSYS;
	systrap_post(c->slot);
	ret = systrap_wait(c, c->slot, &c->thr, false);
	if (ret < 0) {
		c->stopped = false; /* dead: every later call fails */
		return ret;
	}
	return (long)s->result;
}

static long st_as_mmap(struct platform_as *pas, uint64_t addr, uint64_t len,
		       int prot, int flags, int fd, uint64_t off)
{
	struct systrap_ctx *c = caller(pas);
	struct systrap_as *as = to_as(pas);
	long r;

	if (!c)
		return -EINVAL;
	if (fd < 0)
		return systrap_run_cmd(c, CMD_SYSCALL, __NR_mmap, addr, len, (uint64_t)prot,
			       (uint64_t)flags, (uint64_t)-1, off);
	pthread_mutex_lock(&as->fd_lock);
	r = fdpass_send(as->sock, &fd, 1);
	if (r == 0)
		r = systrap_run_cmd(c, CMD_MMAP_FD, __NR_mmap, addr, len, (uint64_t)prot,
			    (uint64_t)flags, 0, off);
	pthread_mutex_unlock(&as->fd_lock);
	return r;
}

static long st_as_munmap(struct platform_as *as, uint64_t addr, uint64_t len)
{
	struct systrap_ctx *c = caller(as);
	return c ? systrap_run_cmd(c, CMD_SYSCALL, __NR_munmap, addr, len, 0, 0, 0, 0) : -EINVAL;
}

static long st_as_mprotect(struct platform_as *as, uint64_t addr, uint64_t len, int prot)
{
	struct systrap_ctx *c = caller(as);
	return c ? systrap_run_cmd(c, CMD_SYSCALL, __NR_mprotect, addr, len, (uint64_t)prot, 0, 0, 0)
		 : -EINVAL;
}

static long st_as_mremap(struct platform_as *as, uint64_t old, uint64_t oldlen,
			 uint64_t newlen, int flags, uint64_t newaddr)
{
	struct systrap_ctx *c = caller(as);
	return c ? systrap_run_cmd(c, CMD_SYSCALL, __NR_mremap, old, oldlen, newlen,
			   (uint64_t)flags, newaddr, 0)
		 : -EINVAL;
}

static long st_as_madvise(struct platform_as *as, uint64_t addr, uint64_t len, int advice)
{
	struct systrap_ctx *c = caller(as);
	return c ? systrap_run_cmd(c, CMD_SYSCALL, __NR_madvise, addr, len, (uint64_t)advice, 0, 0, 0)
		 : -EINVAL;
}

static long st_as_read(struct platform_as *as, uint64_t addr, void *buf, size_t len)
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

static long st_as_write(struct platform_as *as, uint64_t addr, const void *buf, size_t len)
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

static long st_as_cmpxchg32(struct platform_as *as, uint64_t addr, uint32_t old, uint32_t nv)
{
	struct systrap_ctx *c = caller(as);

	if (addr & 3)
		return -EINVAL;
	return c ? systrap_run_cmd(c, CMD_CMPXCHG, 0, addr, old, nv, 0, 0, 0) : -EINVAL;
}

/* The %gs base the stub thread gets for the application's r->gs_base. */
static uint64_t host_gs(const struct systrap_ctx *c)
{
	uint64_t gs = c->pub.regs.gs_base;
	return platform_syscall_patching && gs == 0 ? c->slot_addr : gs;
}

void systrap_put_gregs(struct systrap_ctx *c)
{
	const struct user_regs_struct *r = &c->pub.regs;
	volatile struct systrap_slot *s = c->slot;

	s->gregs[G_R8] = r->r8;
	s->gregs[G_R9] = r->r9;
	s->gregs[G_R10] = r->r10;
	s->gregs[G_R11] = r->r11;
	s->gregs[G_R12] = r->r12;
	s->gregs[G_R13] = r->r13;
	s->gregs[G_R14] = r->r14;
	s->gregs[G_R15] = r->r15;
	s->gregs[G_RDI] = r->rdi;
	s->gregs[G_RSI] = r->rsi;
	s->gregs[G_RBP] = r->rbp;
	s->gregs[G_RBX] = r->rbx;
	s->gregs[G_RDX] = r->rdx;
	s->gregs[G_RAX] = r->rax;
	s->gregs[G_RCX] = r->rcx;
	s->gregs[G_RSP] = r->rsp;
	s->gregs[G_RIP] = r->rip;
	s->gregs[G_EFL] = r->eflags;
}

/* Writes pub.regs into the slot for a resume. */
static int store_regs(struct systrap_ctx *c)
{
	const struct user_regs_struct *r = &c->pub.regs;
	volatile struct systrap_slot *s = c->slot;
	uint64_t gs = host_gs(c);

	/* What the host refuses (wrfsbase would fault, killing the stub). */
	if (r->fs_base >= HOST_TASK_SIZE || r->gs_base >= HOST_TASK_SIZE)
		return -EINVAL;
	systrap_put_gregs(c);
	*(volatile uint64_t *)((volatile uint8_t *)s + SM_SELF) = c->slot_addr;
	s->fs_base = r->fs_base;
	s->gs_base = gs;
	if (systrap_have_fsgsbase) {
		s->flags = SLOT_F_FSGSBASE;
	} else if (r->fs_base != c->fs_base || gs != c->gs_base) {
		s->flags = SLOT_F_SETFSGS;
		c->fs_base = r->fs_base;
		c->gs_base = gs;
	}
	s->cmd = CMD_RESUME;
	return 0;
}

int systrap_unfast(struct systrap_ctx *c)
{
	struct user_regs_struct keep = c->pub.regs;
	struct systrap_stop st;

	if (!c->fast)
		return 0;
	systrap_put_gregs(c);
	systrap_run_cmd(c, CMD_CONVERT, 0, 0, 0, 0, 0, 0, 0);
	if (!c->stopped) {
		log_debug("systrap: convert: thread died");
		return -ESRCH;
	}
	c->fast = false;
	systrap_read_stop(c, &st);
	c->pub.regs = keep;
	if (st.signo != SIGTRAP || st.g[G_RIP] != keep.rip) {
		/* Not the frame we asked for: the slot was forged. */
		log_warn("systrap: stub thread %d did not convert its stop (%llu at 0x%llx, want 0x%llx)", c->thr.tid, (unsigned long long)st.signo, (unsigned long long)st.g[G_RIP], (unsigned long long)keep.rip);
		return -EPROTO;
	}
	return 0;
}

/* Whether a thread stopped on the fast path can return without a frame:
 * the fast path ends with loads through %gs, and a trap flag would trap
 * inside the stub. */
static bool fast_resume_ok(const struct systrap_ctx *c)
{
	return host_gs(c) == c->slot_addr && !(c->pub.regs.eflags & 0x100);
}

static bool is_fault_signal(uint64_t sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL ||
	       sig == SIGTRAP;
}

static enum ctx_stop st_ctx_switch(struct platform_ctx *pc, struct ctx_stop_info *info)
{
	struct systrap_ctx *c = to_ctx(pc);
	struct systrap_stop st;
	int ret;

	if (atomic_exchange(&c->interrupt, false))
		return CTX_INTERRUPT;
	if (!c->slot || systrap_settle(c) < 0 || !c->stopped)
		return CTX_DEAD;
	if (c->fast && !fast_resume_ok(c) && systrap_unfast(c) < 0)
		return CTX_DEAD;
	/* Registers the host refuses: the thread stays stopped (and can be
	 * ended cleanly), the task dies. */
	if (store_regs(c) < 0)
		return CTX_DEAD;
	for (;;) {
		atomic_store(&c->running, true);
		/* After announcing we run: an interrupt from here on signals. */
		if (atomic_load(&c->interrupt)) {
			atomic_store(&c->running, false);
			atomic_store(&c->interrupt, false);
			return CTX_INTERRUPT;
		}
		c->stopped = false;
		systrap_post_resume(c, c->slot);
		ret = systrap_wait(c, c->slot, &c->thr, true);
		atomic_store(&c->running, false);
		if (ret < 0)
			goto dead;
		c->stopped = true;
		systrap_read_stop(c, &st);
		c->fast = st.signo == SYSTRAP_STOP_FAST;
		if (c->fast || (st.signo == SIGSYS && st.code == SYS_SECCOMP_CODE)) {
			c->pub.regs.orig_rax = st.g[G_RAX];
			c->pub.regs.rax = (uint64_t)-ENOSYS;
			return CTX_SYSCALL;
		}
		if (is_fault_signal(st.signo) && (int64_t)st.code > 0) {
			memset(info, 0, sizeof(*info));
			info->signo = (int)st.signo;
			info->code = (int)st.code;
			info->addr = st.addr;
			info->trapno = (int)st.g[G_TRAPNO];
			info->access = ACCESS_UNKNOWN;
			if (st.signo == SIGSEGV && st.g[G_TRAPNO] == TRAP_PF) {
				uint64_t err = st.g[G_ERR];
				info->access = err & PF_INSTR ? ACCESS_EXEC
					     : err & PF_WRITE ? ACCESS_WRITE : ACCESS_READ;
			}
			return CTX_FAULT;
		}
		if (atomic_exchange(&c->interrupt, false))
			return CTX_INTERRUPT;
		/* A stale interrupt signal, or a report the application forged:
		 * resume as it stands. */
		if (c->fast && !fast_resume_ok(c) && systrap_unfast(c) < 0)
			return CTX_DEAD;
		if (store_regs(c) < 0)
			return CTX_DEAD;
	}
dead:
	/* Keep the address space: the sentry still refers to it until the
	 * task is gone. */
	c->stopped = false;
	return CTX_DEAD;
}

static void st_ctx_interrupt(struct platform_ctx *pc)
{
	struct systrap_ctx *c = to_ctx(pc);

	atomic_store(&c->interrupt, true);
	if (atomic_load(&c->running)) {
		/* To this thread only: a signal to the process could land in
		 * another of its threads. */
		pthread_mutex_lock(&c->sig_lock);
		if (c->armed)
			systrap_thread_signal(&c->thr, SYSTRAP_SIG_INTR);
		pthread_mutex_unlock(&c->sig_lock);
	}
}

static pid_t st_ctx_host_tid(struct platform_ctx *pc) { return to_ctx(pc)->thr.tid; }

const struct platform_ops systrap_platform_ops = {
	.name = "systrap",
	.init = st_init,
	.ctx_new = st_ctx_new,
	.ctx_free = st_ctx_free,
	.as_new = st_as_new,
	.as_put = st_as_put,
	.as_host_pid = st_as_host_pid,
	.as_mmap = st_as_mmap,
	.as_munmap = st_as_munmap,
	.as_mprotect = st_as_mprotect,
	.as_mremap = st_as_mremap,
	.as_madvise = st_as_madvise,
	.as_read = st_as_read,
	.as_write = st_as_write,
	.as_cmpxchg32 = st_as_cmpxchg32,
	.ctx_switch = st_ctx_switch,
	.ctx_interrupt = st_ctx_interrupt,
	.ctx_reset_fpstate = systrap_reset_fpstate,
	.ctx_host_tid = st_ctx_host_tid,
	.as_fork = systrap_as_fork,
	.thread_new = systrap_thread_new,
	.child_adopt = systrap_child_adopt,
	.child_abandon = systrap_child_abandon,
	.ctx_get_fpstate = systrap_get_fpstate,
	.ctx_set_fpstate = systrap_set_fpstate,
	.as_poke_text = systrap_poke_text,
};
