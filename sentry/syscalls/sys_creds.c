/* Credentials: set*uid/gid, setgroups/getgroups, capget/capset. The ids
 * are the sandbox's own; the host's never change. */
#include <errno.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

/* Runs a change on a copy and installs it only if it succeeded. */
#define CHANGE(expr)                                                           \
	do {                                                                   \
		struct creds *c = &t->tg->creds;                               \
		long r_;                                                       \
		pthread_mutex_lock(&t->tg->lock);                              \
		r_ = (expr);                                                   \
		pthread_mutex_unlock(&t->tg->lock);                            \
		return r_;                                                     \
	} while (0)

static bool keep(struct task *t) { return t->tg->keepcaps; }

SYSCALL(setuid) { CHANGE(creds_setuid(c, (uint32_t)a[0], keep(t))); }
SYSCALL(setgid) { CHANGE(creds_setgid(c, (uint32_t)a[0])); }
SYSCALL(setreuid) { CHANGE(creds_setreuid(c, (uint32_t)a[0], (uint32_t)a[1], keep(t))); }
SYSCALL(setregid) { CHANGE(creds_setregid(c, (uint32_t)a[0], (uint32_t)a[1])); }
SYSCALL(setresuid)
{
	CHANGE(creds_setresuid(c, (uint32_t)a[0], (uint32_t)a[1], (uint32_t)a[2], keep(t)));
}
SYSCALL(setresgid) { CHANGE(creds_setresgid(c, (uint32_t)a[0], (uint32_t)a[1], (uint32_t)a[2])); }
SYSCALL(setfsuid) { CHANGE((long)creds_setfsuid(c, (uint32_t)a[0])); }
SYSCALL(setfsgid) { CHANGE((long)creds_setfsgid(c, (uint32_t)a[0])); }

SYSCALL(getgroups)
{
	int size = (int)a[0];
	uint32_t n, *copy = NULL;
	long r;

	if (size < 0)
		return -EINVAL;
	pthread_mutex_lock(&t->tg->lock);
	n = t->tg->creds.ngroups;
	if (size && n && (copy = malloc(n * sizeof(*copy))))
		memcpy(copy, t->tg->creds.groups, n * sizeof(*copy));
	pthread_mutex_unlock(&t->tg->lock);
	if (size == 0)
		return n;
	if ((uint32_t)size < n)
		r = -EINVAL;
	else if (n && !copy)
		r = -ENOMEM;
	else
		r = n && copy_to_user(t, a[1], copy, n * sizeof(*copy)) < 0 ? -EFAULT : (long)n;
	free(copy);
	return r;
}

SYSCALL(setgroups)
{
	uint64_t n = a[0];
	uint32_t *g = NULL;
	long r;

	if (n > CREDS_MAX_GROUPS)
		return -EINVAL;
	if (n) {
		g = malloc(n * sizeof(*g));
		if (!g)
			return -ENOMEM;
		if (copy_from_user(t, g, a[1], n * sizeof(*g)) < 0) {
			free(g);
			return -EFAULT;
		}
	}
	pthread_mutex_lock(&t->tg->lock);
	r = creds_setgroups(&t->tg->creds, g, (uint32_t)n);
	pthread_mutex_unlock(&t->tg->lock);
	free(g);
	return r;
}

/* capget/capset: the v1 (32-bit) and v2/v3 (64-bit) layouts. */
static int cap_version(struct task *t, uint64_t uhdr, int *words, int *pid)
{
	struct __user_cap_header_struct h;

	if (copy_from_user(t, &h, uhdr, sizeof(h)) < 0)
		return -EFAULT;
	switch (h.version) {
	case _LINUX_CAPABILITY_VERSION_1:
		*words = 1;
		break;
	case _LINUX_CAPABILITY_VERSION_2:
	case _LINUX_CAPABILITY_VERSION_3:
		*words = 2;
		break;
	default:
		/* Tell the caller which version we speak. */
		h.version = _LINUX_CAPABILITY_VERSION_3;
		if (copy_to_user(t, uhdr, &h, sizeof(h)) < 0)
			return -EFAULT;
		return -EINVAL;
	}
	*pid = h.pid;
	return 0;
}

SYSCALL(capget)
{
	struct __user_cap_data_struct d[2];
	struct creds c;
	int words, pid, r = cap_version(t, a[0], &words, &pid);

	if (r < 0)
		return r;
	if (pid < 0)
		return -EINVAL;
	if (pid != 0 && pid != t->tid && pid != t->tg->pid)
		return -ESRCH; /* other processes' capabilities: not offered */
	if (!a[1])
		return 0; /* a version probe */
	pthread_mutex_lock(&t->tg->lock);
	c = t->tg->creds;
	pthread_mutex_unlock(&t->tg->lock);
	for (int i = 0; i < 2; i++) {
		d[i].effective = (uint32_t)(c.cap_effective >> (32 * i));
		d[i].permitted = (uint32_t)(c.cap_permitted >> (32 * i));
		d[i].inheritable = (uint32_t)(c.cap_inheritable >> (32 * i));
	}
	return copy_to_user(t, a[1], d, (size_t)words * sizeof(d[0]));
}

SYSCALL(capset)
{
	struct __user_cap_data_struct d[2] = {{0}};
	uint64_t e, p, i;
	int words, pid, r = cap_version(t, a[0], &words, &pid);
	struct creds *c = &t->tg->creds;

	if (r < 0)
		return r;
	if (pid != 0 && pid != t->tid && pid != t->tg->pid)
		return -EPERM;
	if (copy_from_user(t, d, a[1], (size_t)words * sizeof(d[0])) < 0)
		return -EFAULT;
	e = d[0].effective | ((uint64_t)d[1].effective << 32);
	p = d[0].permitted | ((uint64_t)d[1].permitted << 32);
	i = d[0].inheritable | ((uint64_t)d[1].inheritable << 32);
	pthread_mutex_lock(&t->tg->lock);
	/* No new permitted capabilities; inheritable within permitted and
	 * the old inheritable (CAP_SETPCAP would widen it to the bounding
	 * set); effective within the new permitted. */
	if ((p & ~c->cap_permitted) ||
	    (i & ~(c->cap_inheritable | c->cap_permitted)) || (e & ~p))
		r = -EPERM;
	else {
		c->cap_effective = e;
		c->cap_permitted = p;
		c->cap_inheritable = i;
	}
	pthread_mutex_unlock(&t->tg->lock);
	return r;
}
