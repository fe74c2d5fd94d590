/* signalfd: reading dequeues the reader's pending signals that are in
 * the file's mask, as struct signalfd_siginfo; it is readable while one
 * is pending (fs/signalfd.c). Whose signals is decided by the caller, as
 * in Linux: the same file read by another process reads that one's.
 *
 * Wake-ups: a thread group's signal_wq is woken on every queued signal,
 * but it lives only as long as the group, while a poller (epoll) may
 * keep its entry on the file for longer. So waiters queue on the file's
 * own wait queue, and the file keeps one forwarding entry, holding a
 * reference, on the signal_wq of each group that used it.
 *
 * Lock order: signalfd.lock -> thread_group.lock -> waitq.lock. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>

#include "abi/errno_names.h"
#include "sentry/fs/anon/anon.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/wait.h"
#include "sentry/vfs/file.h"

struct signalfd;

struct forwarder {
	struct wq_entry w;              /* on tg->signal_wq */
	struct thread_group *tg;        /* referenced */
	struct signalfd *sfd;
	struct forwarder *next;
};

struct signalfd {
	pthread_mutex_t lock;           /* the forwarders */
	_Atomic uint64_t mask;
	struct waitq wq;                /* readers and pollers */
	struct forwarder *fwds;
};

static const struct file_ops signalfd_ops;

/* Under the group's signal_wq lock: the queued signal's number. */
static void forward(struct wq_entry *w, uint32_t sig)
{
	struct forwarder *fw = w->priv;

	if (sig == 0 || sig > KSIG_MAX || (atomic_load(&fw->sfd->mask) & KSIG_BIT(sig)))
		waitq_wake(&fw->sfd->wq, POLLIN);
}

/* Makes sure signals queued to t's group wake the file's waiters, and
 * lets go of groups that have exited. */
static void watch_group(struct signalfd *sfd, struct task *t)
{
	struct forwarder *fw, **pp, *dead = NULL;
	bool have = false;

	pthread_mutex_lock(&sfd->lock);
	for (pp = &sfd->fwds; (fw = *pp);) {
		if (fw->tg == t->tg) {
			have = true;
		} else if (fw->tg->state != TG_RUNNING) {
			*pp = fw->next;
			fw->next = dead;
			dead = fw;
			continue;
		}
		pp = &fw->next;
	}
	if (!have && (fw = calloc(1, sizeof(*fw)))) {
		wq_entry_init(&fw->w, NULL);
		fw->w.fn = forward;
		fw->w.priv = fw;
		fw->sfd = sfd;
		fw->tg = t->tg;
		thread_group_get(t->tg);
		waitq_add(&t->tg->signal_wq, &fw->w);
		fw->next = sfd->fwds;
		sfd->fwds = fw;
	}
	pthread_mutex_unlock(&sfd->lock);
	while (dead) {
		fw = dead;
		dead = fw->next;
		waitq_remove(&fw->w);
		thread_group_put(fw->tg);
		free(fw);
	}
}

/* siginfo as signalfd shows it, by the layout Linux's siginfo_layout
 * picks for the signal and code (the NSIG* limits of asm/siginfo.h). */
static void to_ssi(const struct k_siginfo *k, struct signalfd_siginfo *s)
{
	static const struct { int limit; char kind; } codes[] = {
		[SIGILL] = {11, 'F'}, [SIGFPE] = {15, 'F'}, [SIGSEGV] = {9, 'F'},
		[SIGBUS] = {5, 'F'}, [SIGTRAP] = {6, 'F'}, [SIGCHLD] = {6, 'C'},
		[SIGPOLL] = {6, 'P'}, [SIGSYS] = {2, 'S'},
	};
	int sig = k->si_signo, code = k->si_code;
	char kind = 'K';

	memset(s, 0, sizeof(*s));
	s->ssi_signo = (uint32_t)sig;
	s->ssi_errno = k->si_errno;
	s->ssi_code = code;
	if (code > 0 && code < K_SI_KERNEL) {
		if (sig > 0 && (size_t)sig < sizeof(codes) / sizeof(codes[0]) && codes[sig].kind &&
		    code <= codes[sig].limit)
			kind = codes[sig].kind;
		else if (code <= 6)
			kind = 'P';
	} else if (code == K_SI_TIMER) {
		kind = 'T';
	} else if (code == -5 /* SI_SIGIO */) {
		kind = 'P';
	} else if (code < 0) {
		kind = 'R';
	}
	switch (kind) {
	case 'K':
		s->ssi_pid = (uint32_t)k->kill.pid;
		s->ssi_uid = k->kill.uid;
		break;
	case 'R':
		s->ssi_pid = (uint32_t)k->kill.pid;
		s->ssi_uid = k->kill.uid;
		s->ssi_ptr = k->kill.value;
		s->ssi_int = (int32_t)k->kill.value;
		break;
	case 'T':
		s->ssi_tid = (uint32_t)k->timer.tid;
		s->ssi_overrun = (uint32_t)k->timer.overrun;
		s->ssi_ptr = k->timer.value;
		s->ssi_int = (int32_t)k->timer.value;
		break;
	case 'P':
		s->ssi_band = (uint32_t)k->poll.band;
		s->ssi_fd = k->poll.fd;
		break;
	case 'F':
		s->ssi_addr = k->fault.addr;
		if (sig == SIGBUS && (code == 4 || code == 5)) /* BUS_MCEERR_A[RO] */
			s->ssi_addr_lsb = k->fault.addr_lsb;
		break;
	case 'C':
		s->ssi_pid = (uint32_t)k->chld.pid;
		s->ssi_uid = k->chld.uid;
		s->ssi_status = k->chld.status;
		s->ssi_utime = (uint64_t)k->chld.utime;
		s->ssi_stime = (uint64_t)k->chld.stime;
		break;
	case 'S':
		s->ssi_call_addr = k->sys.call_addr;
		s->ssi_syscall = k->sys.syscall;
		s->ssi_arch = k->sys.arch;
		break;
	}
}

static int dequeue(struct signalfd *sfd, struct task *t, struct k_siginfo *info)
{
	int sig;

	pthread_mutex_lock(&t->tg->lock);
	sig = signal_dequeue(t, atomic_load(&sfd->mask), info);
	pthread_mutex_unlock(&t->tg->lock);
	return sig;
}

static ssize_t sfd_read(struct file *f, void *buf, size_t len, int64_t *pos)
{
	struct signalfd *sfd = f->priv;
	struct task *t = current;
	size_t n = len / sizeof(struct signalfd_siginfo), got = 0;
	struct k_siginfo info;
	struct wq_entry w;

	(void)pos;
	if (!n)
		return -EINVAL;
	if (!t)
		return -EAGAIN;
	/* The first one may block; more are taken only while pending. */
	while (got < n && dequeue(sfd, t, &info) > 0)
		to_ssi(&info, (struct signalfd_siginfo *)buf + got++);
	if (got || (f->flags & O_NONBLOCK))
		return got ? (ssize_t)(got * sizeof(struct signalfd_siginfo)) : -EAGAIN;
	watch_group(sfd, t);
	wq_entry_init(&w, t);
	for (;;) {
		int sig;
		task_prepare_block(t);
		waitq_add(&sfd->wq, &w);
		sig = dequeue(sfd, t, &info);
		if (sig > 0 || task_interrupted(t)) {
			waitq_remove(&w);
			if (sig <= 0)
				return -ERESTARTSYS;
			break;
		}
		task_block(t, 0);
		waitq_remove(&w);
	}
	to_ssi(&info, buf);
	return sizeof(struct signalfd_siginfo);
}

static uint32_t sfd_poll(struct file *f, struct wq_entry *w)
{
	struct signalfd *sfd = f->priv;
	struct task *t = current;
	uint64_t pending;

	if (!t)
		return 0;
	watch_group(sfd, t);
	if (w)
		waitq_add(&sfd->wq, w);
	pthread_mutex_lock(&t->tg->lock);
	pending = (t->pending.mask | t->tg->shared_pending.mask) & atomic_load(&sfd->mask);
	pthread_mutex_unlock(&t->tg->lock);
	return pending ? POLLIN : 0;
}

static void sfd_release(struct file *f)
{
	struct signalfd *sfd = f->priv;

	while (sfd->fwds) {
		struct forwarder *fw = sfd->fwds;
		sfd->fwds = fw->next;
		waitq_remove(&fw->w);
		thread_group_put(fw->tg);
		free(fw);
	}
	pthread_mutex_destroy(&sfd->lock);
	free(sfd);
}

static const struct file_ops signalfd_ops = {
	.read = sfd_read,
	.stat = anon_stat,
	.poll = sfd_poll,
	.release = sfd_release,
	.stream = 1,
	.anon_name = "[signalfd]",
};

static uint64_t clean_mask(uint64_t mask) { return mask & ~KSIG_UNBLOCKABLE; }

struct file *signalfd_new(uint64_t mask, int flags)
{
	struct signalfd *sfd = calloc(1, sizeof(*sfd));
	struct file *f;

	if (!sfd)
		return NULL;
	pthread_mutex_init(&sfd->lock, NULL);
	waitq_init(&sfd->wq);
	atomic_init(&sfd->mask, clean_mask(mask));
	f = file_new(&signalfd_ops, O_RDWR | (flags & O_NONBLOCK), sfd);
	if (!f) {
		pthread_mutex_destroy(&sfd->lock);
		free(sfd);
	}
	return f;
}

int signalfd_set_mask(struct file *f, uint64_t mask)
{
	struct signalfd *sfd = f->priv;

	if (f->ops != &signalfd_ops)
		return -EINVAL;
	atomic_store(&sfd->mask, clean_mask(mask));
	/* Pollers look again, as after Linux's wake of signalfd_wqh. */
	waitq_wake(&sfd->wq, 0);
	return 0;
}
