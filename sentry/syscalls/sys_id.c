/* Process and credential identity. Everything is the sandbox's view:
 * pids from the sentry's pid namespace, credentials emulated. */
#include <errno.h>

#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

SYSCALL(getpid) { (void)a; return t->tg->pid; }
SYSCALL(gettid) { (void)a; return t->tid; }
SYSCALL(getuid) { (void)a; return t->tg->creds.ruid; }
SYSCALL(geteuid) { (void)a; return t->tg->creds.euid; }
SYSCALL(getgid) { (void)a; return t->tg->creds.rgid; }
SYSCALL(getegid) { (void)a; return t->tg->creds.egid; }

static long put_three(struct task *t, const uint64_t *a, uint32_t x, uint32_t y, uint32_t z)
{
	if (copy_to_user(t, a[0], &x, 4) || copy_to_user(t, a[1], &y, 4) ||
	    copy_to_user(t, a[2], &z, 4))
		return -EFAULT;
	return 0;
}

SYSCALL(getresuid)
{
	const struct creds *c = &t->tg->creds;
	return put_three(t, a, c->ruid, c->euid, c->suid);
}

SYSCALL(getresgid)
{
	const struct creds *c = &t->tg->creds;
	return put_three(t, a, c->rgid, c->egid, c->sgid);
}


