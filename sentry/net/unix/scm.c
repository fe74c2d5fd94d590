/* Control messages on unix sockets: SCM_RIGHTS (files in flight, one
 * reference each) and SCM_CREDENTIALS (checked when sent explicitly,
 * added by the kernel when either end has SO_PASSCRED), parsed as
 * Linux's __scm_send and delivered as its scm_recv and scm_detach_fds. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/net/unix/unix.h"
#include "sentry/syscalls/util.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/file.h"

#define CAP_SETGID 6
#define CAP_SETUID 7
#define CAP_SYS_ADMIN 21
#define CAP_SYS_RESOURCE 24
/* What the kernel reports for an id it cannot map (overflowuid/gid). */
#define OVERFLOW_ID 65534

#define HDR sizeof(struct cmsghdr)

struct k_ucred {
	int32_t pid;
	uint32_t uid, gid;
};

void unix_scm_destroy(struct unix_scm *scm)
{
	if (scm->fds) {
		for (int i = 0; i < scm->fds->count; i++)
			unix_fput(scm->fds->files[i]);
		free(scm->fds);
		scm->fds = NULL;
	}
}

static int add_rights(struct task *t, struct unix_scm *scm, const unsigned char *data,
		      size_t cmsg_len)
{
	size_t num = (cmsg_len - HDR) / sizeof(int);

	if (num == 0)
		return 0;
	if (num > UNIX_SCM_MAX_FD)
		return -EINVAL;
	if (!scm->fds) {
		scm->fds = calloc(1, sizeof(*scm->fds) + UNIX_SCM_MAX_FD * sizeof(struct file *));
		if (!scm->fds)
			return -ENOMEM;
	}
	if (scm->fds->count + num > UNIX_SCM_MAX_FD)
		return -EINVAL;
	for (size_t i = 0; i < num; i++) {
		int fd;
		struct file *f;

		memcpy(&fd, data + i * sizeof(int), sizeof(int));
		/* Any open file goes, O_PATH ones too (Linux's fget_raw). */
		f = fd >= 0 ? fdtable_get(t->fdt, fd) : NULL;
		if (!f)
			return -EBADF;
		scm->fds->files[scm->fds->count++] = f;
	}
	return 0;
}

static bool pid_exists(int pid)
{
	bool found;

	pthread_mutex_lock(&kernel.lock);
	found = kernel_find_task_locked(pid) || kernel_find_group_locked(pid);
	pthread_mutex_unlock(&kernel.lock);
	return found;
}

/* Linux's scm_check_creds, then the pid lookup of __scm_send: a sender
 * may claim only its own pid and ids unless privileged. */
static int check_creds(struct task *t, const struct k_ucred *u)
{
	const struct creds *c = &t->tg->creds;
	bool pid_ok, uid_ok, gid_ok;

	if (u->uid == (uint32_t)-1 || u->gid == (uint32_t)-1)
		return -EINVAL;
	pid_ok = u->pid == t->tg->pid || creds_capable(c, CAP_SYS_ADMIN);
	uid_ok = u->uid == c->ruid || u->uid == c->euid || u->uid == c->suid ||
		 creds_capable(c, CAP_SETUID);
	gid_ok = u->gid == c->rgid || u->gid == c->egid || u->gid == c->sgid ||
		 creds_capable(c, CAP_SETGID);
	if (!pid_ok || !uid_ok || !gid_ok)
		return -EPERM;
	if (u->pid != t->tg->pid && (u->pid <= 0 || !pid_exists(u->pid)))
		return -ESRCH;
	return 0;
}

int unix_scm_send(struct task *t, const struct sock_msg *m, struct unix_scm *scm)
{
	const unsigned char *ctl = m->control, *end = ctl + m->controllen, *p;
	int r = 0;

	memset(scm, 0, sizeof(*scm));
	/* The first header, if there is room for one; then each next one
	 * (Linux's __cmsg_nxthdr), the lengths checked as CMSG_OK does. */
	p = m->controllen >= HDR ? ctl : NULL;
	while (p) {
		struct cmsghdr h;
		size_t next;

		memcpy(&h, p, HDR);
		if (h.cmsg_len < HDR || h.cmsg_len > (size_t)(end - p)) {
			r = -EINVAL;
			break;
		}
		if (h.cmsg_level == SOL_SOCKET) {
			if (h.cmsg_type == SCM_RIGHTS) {
				r = add_rights(t, scm, p + HDR, h.cmsg_len);
			} else if (h.cmsg_type == SCM_CREDENTIALS) {
				struct k_ucred u;
				if (h.cmsg_len != CMSG_LEN(sizeof(u))) {
					r = -EINVAL;
				} else {
					memcpy(&u, p + HDR, sizeof(u));
					r = check_creds(t, &u);
					if (r == 0) {
						scm->has_creds = true;
						scm->creds.pid = u.pid;
						scm->creds.uid = u.uid;
						scm->creds.gid = u.gid;
					}
				}
			} else {
				r = -EINVAL;
			}
			if (r < 0)
				break;
		}
		next = CMSG_ALIGN(h.cmsg_len);
		p = next + HDR <= (size_t)(end - p) ? p + next : NULL;
	}
	if (r == 0 && scm->fds && !scm->fds->count) {
		free(scm->fds);
		scm->fds = NULL;
	}
	/* Linux 6.18's too_many_unix_fds: a sender may not have more files
	 * in flight than RLIMIT_NOFILE unless privileged (counted here for
	 * the whole sandbox). */
	if (r == 0 && scm->fds &&
	    (uint64_t)unix_inflight_count() > t->tg->rlimits[RLIMIT_NOFILE].cur &&
	    !creds_capable(&t->tg->creds, CAP_SYS_RESOURCE) &&
	    !creds_capable(&t->tg->creds, CAP_SYS_ADMIN))
		r = -ETOOMANYREFS;
	if (r < 0)
		unix_scm_destroy(scm);
	return r;
}

void unix_scm_to_msg(struct unix_scm *scm, struct unix_msg *msg, bool with_fds)
{
	msg->has_creds = scm->has_creds;
	msg->creds = scm->creds;
	if (with_fds && scm->fds) {
		msg->fds = scm->fds;
		scm->fds = NULL;
		for (int i = 0; i < msg->fds->count; i++)
			unix_inflight(msg->fds->files[i]);
	}
}

void unix_maybe_add_creds(struct unix_msg *msg, struct unix_sock *u,
			  struct unix_sock *other, struct task *t)
{
	if (msg->has_creds)
		return;
	/* An embryo has no socket yet: Linux adds them for its acceptor. */
	if (u->passcred || other->passcred || other->embryo) {
		unix_creds_of(t, &msg->creds);
		msg->has_creds = true;
	}
}

void unix_rscm_set_creds(struct unix_rscm *r, const struct unix_msg *msg)
{
	r->has_creds = msg->has_creds;
	r->creds = msg->creds;
}

void unix_rscm_take_fds(struct unix_rscm *r, struct unix_msg *msg, bool peek)
{
	struct unix_fds *fds = msg->fds;
	size_t size;

	if (!fds || r->fds)
		return;
	if (!peek) {
		for (int i = 0; i < fds->count; i++)
			unix_notinflight(fds->files[i]);
		r->fds = fds;
		msg->fds = NULL;
		return;
	}
	/* A peek installs new references (Linux's unix_peek_fds). */
	size = sizeof(*fds) + (size_t)fds->count * sizeof(struct file *);
	r->fds = malloc(size);
	if (!r->fds)
		return;
	memcpy(r->fds, fds, size);
	for (int i = 0; i < fds->count; i++)
		file_get(fds->files[i]);
}

static void rscm_destroy(struct unix_rscm *r)
{
	struct unix_scm s = {.fds = r->fds};
	unix_scm_destroy(&s);
	r->fds = NULL;
}

/* Linux's put_cmsg: a truncated message says MSG_CTRUNC. */
static void put_cmsg(struct sock_msg *m, int level, int type, const void *data, size_t len)
{
	struct cmsghdr h;
	size_t cmlen = CMSG_LEN(len), space;

	if (m->ucontrollen < HDR) {
		m->flags |= MSG_CTRUNC;
		return;
	}
	if (m->ucontrollen < cmlen) {
		m->flags |= MSG_CTRUNC;
		cmlen = m->ucontrollen;
	}
	h.cmsg_len = cmlen;
	h.cmsg_level = level;
	h.cmsg_type = type;
	if (copy_to_user(m->t, m->ucontrol, &h, HDR) < 0 ||
	    copy_to_user(m->t, m->ucontrol + HDR, data, cmlen - HDR) < 0)
		return;
	space = CMSG_SPACE(len) < m->ucontrollen ? CMSG_SPACE(len) : m->ucontrollen;
	m->ucontrol += space;
	m->ucontrollen -= space;
}

/* Linux's scm_detach_fds: as many files as fit become fds. */
static void detach_fds(struct sock_msg *m, struct unix_rscm *r)
{
	bool cloexec = m->flags & MSG_CMSG_CLOEXEC;
	int count = r->fds->count, fdmax, i;

	fdmax = m->ucontrollen <= HDR ? 0 : (int)((m->ucontrollen - HDR) / sizeof(int));
	if (fdmax > count)
		fdmax = count;
	for (i = 0; i < fdmax; i++) {
		int fd = install_fd(m->t, r->fds->files[i], cloexec);
		if (fd < 0)
			break;
		if (copy_to_user(m->t, m->ucontrol + HDR + (uint64_t)i * sizeof(int), &fd,
				 sizeof(fd)) < 0) {
			fdtable_close(m->t->fdt, fd);
			break;
		}
	}
	if (i > 0) {
		struct cmsghdr h = {CMSG_LEN((size_t)i * sizeof(int)), SOL_SOCKET, SCM_RIGHTS};
		if (copy_to_user(m->t, m->ucontrol, &h, HDR) == 0) {
			size_t space = CMSG_SPACE((size_t)i * sizeof(int));
			if (space > m->ucontrollen)
				space = m->ucontrollen;
			m->ucontrol += space;
			m->ucontrollen -= space;
		}
	}
	if (i < count || (count && fdmax <= 0))
		m->flags |= MSG_CTRUNC;
}

void unix_scm_recv(struct unix_sock *u, struct sock_msg *m, struct unix_rscm *r)
{
	bool passcred = u->passcred;

	if (!m->t || !m->ucontrol) {
		if (passcred || r->fds)
			m->flags |= MSG_CTRUNC;
		rscm_destroy(r);
		return;
	}
	if (passcred) {
		/* Credentials never attached read as unmapped ids. */
		struct k_ucred c = {0, OVERFLOW_ID, OVERFLOW_ID};
		if (r->has_creds) {
			c.pid = r->creds.pid;
			c.uid = r->creds.uid;
			c.gid = r->creds.gid;
		}
		put_cmsg(m, SOL_SOCKET, SCM_CREDENTIALS, &c, sizeof(c));
	}
	if (r->fds)
		detach_fds(m, r);
	rscm_destroy(r);
}
