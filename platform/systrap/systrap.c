/* The systrap platform: stub threads run untraced under a seccomp filter
 * that traps every syscall the application makes (SECCOMP_RET_TRAP). The
 * stub's SIGSYS handler (and its fault and interrupt handlers) hands the
 * registers to the sentry thread through the thread's slot, shared memory
 * (slot.h), and runs what the sentry asks: memory calls, then the resume.
 *
 * A context is bound to the sentry thread that created it, as in ptrace:
 * only that thread switches into it or changes its address space. */
#include <errno.h>
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

#include "lib/log.h"
#include "platform/stub.h"
#include "platform/systrap/systrap_impl.h"

__thread struct systrap_ctx *systrap_current;
bool systrap_have_fsgsbase;

/* uc_mcontext.gregs indices (x86-64). */
enum { G_R8, G_R9, G_R10, G_R11, G_R12, G_R13, G_R14, G_R15, G_RDI, G_RSI,
       G_RBP, G_RBX, G_RDX, G_RAX, G_RCX, G_RSP, G_RIP, G_EFL, G_CSGSFS,
       G_ERR, G_TRAPNO, G_OLDMASK, G_CR2 };

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
	enum { ROUNDS = 1000, TRIES = 5 };
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
	return systrap_factory_start();
}

static int st_ctx_new(struct platform_ctx **out)
{
	struct systrap_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	atomic_init(&c->sig_pidfd, -1);
	c->spin = c->stub_spin = systrap_spin_max;
	systrap_current = c;
	*out = &c->pub;
	return 0;
}

static void as_put(struct platform_as *pas)
{
	struct systrap_as *as = to_as(pas);

	if (!as || atomic_fetch_sub(&as->refs, 1) != 1)
		return;
	syscall(SYS_pidfd_send_signal, as->pidfd, SIGKILL, NULL, 0);
	close(as->pidfd);
	close(as->sock);
	pthread_mutex_destroy(&as->fd_lock);
	free(as);
}

/* Drops the context's stub thread and address space. */
static void release(struct systrap_ctx *c)
{
	atomic_store(&c->sig_pidfd, -1);
	if (c->pub.as)
		as_put(c->pub.as);
	c->pub.as = NULL;
	if (c->slot)
		munmap(c->slot, STUB_SLOT_SIZE);
	c->slot = NULL;
	c->stopped = false;
}

static void st_ctx_free(struct platform_ctx *pc)
{
	struct systrap_ctx *c = to_ctx(pc);

	if (!c)
		return;
	release(c);
	if (systrap_current == c)
		systrap_current = NULL;
	free(c);
}

static struct systrap_slot *slot_new(int *memfd)
{
	struct systrap_slot *s;
	int fd = (int)syscall(SYS_memfd_create, "runsc-systrap-slot", MFD_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (ftruncate(fd, STUB_SLOT_SIZE) < 0)
		goto fail;
	s = mmap(NULL, STUB_SLOT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s == MAP_FAILED)
		goto fail;
	s->state = SLOT_RUNNING;
	s->flags = systrap_have_fsgsbase ? SLOT_F_FSGSBASE : 0;
	s->spin = systrap_spin_max;
	*memfd = fd;
	return s;
fail:
	close(fd);
	return NULL;
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
	r->gs_base = c->gs_base;
}

/* Copies the stop report out of the slot; returns the signal. */
struct stop {
	uint64_t signo, code, addr, fpstate, fs_base, gs_base;
	uint64_t g[SM_NGREGS];
};

static void read_stop(struct systrap_ctx *c, struct stop *st)
{
	volatile struct systrap_slot *s = c->slot;

	st->signo = s->signo;
	st->code = s->code;
	st->addr = s->addr;
	st->fpstate = s->fpstate;
	st->fs_base = s->fs_base;
	st->gs_base = s->gs_base;
	for (int i = 0; i < SM_NGREGS; i++)
		st->g[i] = s->gregs[i];
	c->fpstate = st->fpstate;
	if (systrap_have_fsgsbase) {
		c->fs_base = st->fs_base;
		c->gs_base = st->gs_base;
	}
	load_regs(c, st->g);
}

static int st_as_new(struct platform_ctx *pc)
{
	struct systrap_ctx *c = to_ctx(pc);
	struct platform_as *old_as = c->pub.as;
	struct systrap_slot *old_slot = c->slot;
	struct systrap_as *as;
	struct systrap_slot *s;
	struct stop st;
	int sv[2], memfd = -1, ret;
	int64_t pid;

	if (c != systrap_current)
		return -EINVAL;
	as = calloc(1, sizeof(*as));
	if (!as)
		return -ENOMEM;
	atomic_init(&as->refs, 1);
	as->sock = as->pidfd = -1;
	pthread_mutex_init(&as->fd_lock, NULL);
	s = slot_new(&memfd);
	if (!s) {
		ret = -ENOMEM;
		goto fail_as;
	}
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = -errno;
		close(memfd);
		goto fail_slot;
	}
	ret = systrap_factory_spawn(sv[1], memfd);
	close(sv[1]);
	close(memfd);
	as->sock = sv[0];
	if (ret < 0)
		goto fail_slot;

	/* The birth stop (or the factory's report of a failed fork). */
	ret = systrap_wait(c, s, -1, false);
	pid = ((volatile struct systrap_slot *)s)->pid;
	if (pid > 0 && pid <= INT32_MAX) {
		/* No application code has run in it: its word is good. */
		as->pid = (pid_t)pid;
		as->pidfd = (int)syscall(SYS_pidfd_open, as->pid, 0);
		if (as->pidfd < 0 && ret == 0)
			ret = -errno;
	} else if (ret == 0) {
		ret = pid < 0 && pid >= -4095 ? (int)pid : -EPROTO;
	}
	if (ret < 0) {
		log_err("systrap: no stub was born: %s", strerror(-ret));
		goto fail_slot; /* kills a child that came too late */
	}

	/* The new stub replaces the old one (exec). */
	c->pub.as = old_as;
	c->slot = old_slot;
	release(c);
	c->pub.as = (struct platform_as *)as;
	c->slot = s;
	c->slot_addr = STUB_SLOTS;
	c->stopped = true;
	c->fs_base = c->gs_base = 0;
	read_stop(c, &st);
	if (st.signo != SIGTRAP || st.g[G_RIP] != SYSTRAP_ADDR(systrap_birth) + 1) {
		log_err("systrap: unexpected birth stop (signal %llu at 0x%llx)",
			(unsigned long long)st.signo, (unsigned long long)st.g[G_RIP]);
		release(c);
		return -EPROTO;
	}
	atomic_store(&c->sig_pidfd, as->pidfd);
	/* A clean register file, as for ptrace; the bases are set on resume. */
	memset(&c->pub.regs, 0, sizeof(c->pub.regs));
	c->pub.regs.cs = USER_CS;
	c->pub.regs.ss = USER_SS;
	c->pub.regs.eflags = 0x202; /* IF, and the reserved bit 1 */
	if (!systrap_have_fsgsbase)
		s->flags |= SLOT_F_SETFSGS;
	return 0;

fail_slot:
	if (as->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, as->pidfd, SIGKILL, NULL, 0);
	munmap(s, STUB_SLOT_SIZE);
fail_as:
	if (as->pidfd >= 0)
		close(as->pidfd);
	if (as->sock >= 0)
		close(as->sock);
	pthread_mutex_destroy(&as->fd_lock);
	free(as);
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

/* Runs one command in the stopped stub thread; returns its result. */
static long run_cmd(struct systrap_ctx *c, uint64_t cmd, long nr, uint64_t a0,
		    uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	volatile struct systrap_slot *s = c->slot;
	int ret;

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
	ret = systrap_wait(c, c->slot, to_as(c->pub.as)->pidfd, false);
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
		return run_cmd(c, CMD_SYSCALL, __NR_mmap, addr, len, (uint64_t)prot,
			       (uint64_t)flags, (uint64_t)-1, off);
	pthread_mutex_lock(&as->fd_lock);
	{
		char byte = 0;
		struct iovec iov = {&byte, 1};
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} cm;
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf)};
		struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
		memset(&cm, 0, sizeof(cm));
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(h), &fd, sizeof(int));
		r = sendmsg(as->sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
	}
	if (r == 0)
		r = run_cmd(c, CMD_MMAP_FD, __NR_mmap, addr, len, (uint64_t)prot,
			    (uint64_t)flags, 0, off);
	pthread_mutex_unlock(&as->fd_lock);
	return r;
}

static long st_as_munmap(struct platform_as *as, uint64_t addr, uint64_t len)
{
	struct systrap_ctx *c = caller(as);
	return c ? run_cmd(c, CMD_SYSCALL, __NR_munmap, addr, len, 0, 0, 0, 0) : -EINVAL;
}

static long st_as_mprotect(struct platform_as *as, uint64_t addr, uint64_t len, int prot)
{
	struct systrap_ctx *c = caller(as);
	return c ? run_cmd(c, CMD_SYSCALL, __NR_mprotect, addr, len, (uint64_t)prot, 0, 0, 0)
		 : -EINVAL;
}

static long st_as_mremap(struct platform_as *as, uint64_t old, uint64_t oldlen,
			 uint64_t newlen, int flags, uint64_t newaddr)
{
	struct systrap_ctx *c = caller(as);
	return c ? run_cmd(c, CMD_SYSCALL, __NR_mremap, old, oldlen, newlen,
			   (uint64_t)flags, newaddr, 0)
		 : -EINVAL;
}

static long st_as_madvise(struct platform_as *as, uint64_t addr, uint64_t len, int advice)
{
	struct systrap_ctx *c = caller(as);
	return c ? run_cmd(c, CMD_SYSCALL, __NR_madvise, addr, len, (uint64_t)advice, 0, 0, 0)
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

/* Writes pub.regs into the slot for a resume. */
static int store_regs(struct systrap_ctx *c)
{
	const struct user_regs_struct *r = &c->pub.regs;
	volatile struct systrap_slot *s = c->slot;

	/* What the host refuses (wrfsbase would fault, killing the stub). */
	if (r->fs_base >= HOST_TASK_SIZE || r->gs_base >= HOST_TASK_SIZE)
		return -EINVAL;
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
	s->fs_base = r->fs_base;
	s->gs_base = r->gs_base;
	if (systrap_have_fsgsbase) {
		s->flags = SLOT_F_FSGSBASE;
	} else if (r->fs_base != c->fs_base || r->gs_base != c->gs_base) {
		s->flags = SLOT_F_SETFSGS;
		c->fs_base = r->fs_base;
		c->gs_base = r->gs_base;
	}
	s->cmd = CMD_RESUME;
	return 0;
}

static bool is_fault_signal(uint64_t sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL ||
	       sig == SIGTRAP;
}

static enum ctx_stop st_ctx_switch(struct platform_ctx *pc, struct ctx_stop_info *info)
{
	struct systrap_ctx *c = to_ctx(pc);
	struct stop st;
	int ret;

	if (atomic_exchange(&c->interrupt, false))
		return CTX_INTERRUPT;
	if (!c->slot || !c->stopped)
		return CTX_DEAD;
	if (store_regs(c) < 0)
		goto dead;
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
		ret = systrap_wait(c, c->slot, to_as(c->pub.as)->pidfd, true);
		atomic_store(&c->running, false);
		if (ret < 0)
			goto dead;
		c->stopped = true;
		read_stop(c, &st);
		if (st.signo == SIGSYS && st.code == SYS_SECCOMP_CODE) {
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
		if (store_regs(c) < 0)
			goto dead;
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
		int pidfd = atomic_load(&c->sig_pidfd);
		if (pidfd >= 0)
			syscall(SYS_pidfd_send_signal, pidfd, SYSTRAP_SIG_INTR, NULL, 0);
	}
}

/* Offsets in the xsave area (the fxsave layout, then the header). */
#define FX_CWD 0
#define FX_MXCSR 24
#define FX_MXCSR_MASK 28
#define FX_SW_MAGIC1 464
#define FP_XSTATE_MAGIC1 0x46505853U
#define XS_HEADER 512
#define XFEATURE_PKRU (1ULL << 9)
#define FX_SIZE 512
#define XS_MIN (512 + 64)

static int st_ctx_reset_fpstate(struct platform_ctx *pc)
{
	struct systrap_ctx *c = to_ctx(pc);
	uint64_t stack_lo = c->slot_addr + SLOT_STACK, stack_hi = c->slot_addr + STUB_SLOT_SIZE;
	uint64_t fp = c->fpstate;
	uint8_t *p;
	uint32_t magic, mxcsr_mask;

	if (!c->slot || !c->stopped)
		return -ESRCH;
	/* The frame's xsave area lies on the slot's stack, 64-byte aligned. */
	if (fp < stack_lo || fp > stack_hi - XS_MIN || (fp & 63))
		return -EFAULT;
	p = (uint8_t *)c->slot + (fp - c->slot_addr);
	memcpy(&mxcsr_mask, p + FX_MXCSR_MASK, 4);
	memcpy(&magic, p + FX_SW_MAGIC1, 4);
	memset(p, 0, 464); /* the fxsave registers, not the software bytes */
	*(uint16_t *)(p + FX_CWD) = 0x37f;
	*(uint32_t *)(p + FX_MXCSR) = 0x1f80;
	memcpy(p + FX_MXCSR_MASK, &mxcsr_mask, 4);
	if (magic == FP_XSTATE_MAGIC1) {
		/* x87 and SSE as set above; every other component in its init
		 * state but PKRU, which keeps its value. */
		uint64_t bv;
		memcpy(&bv, p + XS_HEADER, 8);
		bv = (bv & XFEATURE_PKRU) | 3;
		memcpy(p + XS_HEADER, &bv, 8);
	}
	return 0;
}

static pid_t st_ctx_host_tid(struct platform_ctx *pc)
{
	struct systrap_ctx *c = to_ctx(pc);
	return c->pub.as ? to_as(c->pub.as)->pid : 0;
}

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
	.ctx_switch = st_ctx_switch,
	.ctx_interrupt = st_ctx_interrupt,
	.ctx_reset_fpstate = st_ctx_reset_fpstate,
	.ctx_host_tid = st_ctx_host_tid,
};
