/* Process-wide calls the skeleton needs: exit, thread bookkeeping glibc
 * sets up at start, arch_prctl, prctl, resource limits, uname, getrandom,
 * scheduling queries. */
#include <asm/prctl.h>
#include <errno.h>
#include <linux/utsname.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include "abi/linux.h"
#include "lib/util.h"
#include "sentry/mm/patch.h"
#include "sentry/kernel/futex.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

#define NR_OPEN_MAX 1048576ULL
#define HOST_TASK_SIZE_MAX 0x7ffffffff000ULL

SYSCALL(set_tid_address)
{
	t->clear_child_tid = a[0];
	return t->tid;
}

#define ROBUST_LIST_HEAD_SIZE 24

SYSCALL(set_robust_list)
{
	if (a[1] != ROBUST_LIST_HEAD_SIZE)
		return -EINVAL;
	t->robust_list = a[0];
	t->robust_len = a[1];
	return 0;
}

SYSCALL(get_robust_list)
{
	uint64_t len = ROBUST_LIST_HEAD_SIZE;
	int pid = (int)a[0];
	if (pid != 0 && pid != t->tid)
		return -ESRCH;
	if (copy_to_user(t, a[1], &t->robust_list, 8) < 0 ||
	    copy_to_user(t, a[2], &len, 8) < 0)
		return -EFAULT;
	return 0;
}

/* Restartable sequences are not offered: the sandbox behaves as a kernel
 * built without CONFIG_RSEQ, and glibc carries on without them. A
 * registration we could not honour (aborting critical sections on
 * preemption) would break per-CPU data structures. */
SYSCALL(rseq)
{
	(void)t;
	(void)a;
	return -ENOSYS;
}

SYSCALL(arch_prctl)
{
	struct user_regs_struct *r = &t->ctx->regs;
	uint64_t v;

	switch ((int)a[0]) {
	case ARCH_SET_FS:
		if (a[1] >= HOST_TASK_SIZE_MAX)
			return -EPERM;
		r->fs_base = a[1];
		return 0;
	case ARCH_SET_GS:
		if (a[1] >= HOST_TASK_SIZE_MAX)
			return -EPERM;
		/* Patched sites find their way in through %gs (mm/patch.c). */
		if (a[1] && mm_patch_enabled())
			mm_patch_disable(t);
		r->gs_base = a[1];
		return 0;
	case ARCH_GET_FS:
		v = r->fs_base;
		return copy_to_user(t, a[1], &v, sizeof(v));
	case ARCH_GET_GS:
		v = r->gs_base;
		return copy_to_user(t, a[1], &v, sizeof(v));
	case ARCH_GET_CPUID:
		return 1; /* cpuid is not trapped */
	case ARCH_SET_CPUID:
		return -ENODEV;
	default:
		return -EINVAL;
	}
}

SYSCALL(prctl)
{
	int opt = (int)a[0];
	char name[16];

	switch (opt) {
	case PR_SET_NAME: {
		/* Linux reads at most 15 bytes and truncates there. */
		long n;

		memset(name, 0, sizeof(name));
		n = strncpy_from_user(t, name, a[1], sizeof(name) - 1);
		if (n < 0 && n != -ENAMETOOLONG)
			return n;
		memcpy(t->comm, name, sizeof(name));
		return 0;
	}
	case PR_GET_NAME:
		memcpy(name, t->comm, sizeof(name));
		name[15] = 0;
		return copy_to_user(t, a[1], name, sizeof(name));
	case PR_SET_PDEATHSIG:
		if (a[1] > KSIG_MAX)
			return -EINVAL;
		t->pdeathsig = (int)a[1];
		return 0;
	case PR_GET_PDEATHSIG: {
		int s = t->pdeathsig;
		return copy_to_user(t, a[1], &s, sizeof(s));
	}
	case PR_GET_DUMPABLE:
		return t->tg->dumpable;
	case PR_SET_DUMPABLE:
		if (a[1] > 1)
			return -EINVAL;
		t->tg->dumpable = (int)a[1];
		return 0;
	case PR_SET_NO_NEW_PRIVS:
		if (a[1] != 1 || a[2] || a[3] || a[4])
			return -EINVAL;
		t->no_new_privs = true;
		return 0;
	case PR_GET_NO_NEW_PRIVS:
		if (a[1] || a[2] || a[3] || a[4])
			return -EINVAL;
		return t->no_new_privs;
	case PR_GET_SECCOMP:
		return 0;
	case PR_CAPBSET_READ:
		if (a[1] > 40)
			return -EINVAL;
		return (t->tg->creds.cap_bounding >> a[1]) & 1;
	case PR_GET_KEEPCAPS:
		return t->tg->keepcaps;
	case PR_SET_KEEPCAPS:
		if (a[1] > 1)
			return -EINVAL;
		t->tg->keepcaps = (int)a[1];
		return 0;
	case PR_GET_CHILD_SUBREAPER: {
		int v = t->tg->subreaper;
		return copy_to_user(t, a[1], &v, sizeof(v));
	}
	case PR_SET_CHILD_SUBREAPER:
		t->tg->subreaper = a[1] != 0;
		return 0;
	case PR_GET_TIMERSLACK:
		return 50000;
	case PR_SET_TIMERSLACK:
		return 0;
	case PR_GET_THP_DISABLE:
		return 0;
	default:
		return -EINVAL;
	}
}

static long do_prlimit(struct task *t, int pid, unsigned res, uint64_t unew, uint64_t uold)
{
	struct thread_group *tg = t->tg;
	struct k_rlimit64 nl, old;

	if (pid < 0)
		return -EINVAL;
	if (pid != 0 && pid != tg->pid)
		return -ESRCH; /* other processes arrive with fork */
	if (res >= RLIM_NLIMITS)
		return -EINVAL;
	if (unew && copy_from_user(t, &nl, unew, sizeof(nl)) < 0)
		return -EFAULT;
	if (unew && nl.cur > nl.max)
		return -EINVAL;
	if (unew && res == RLIMIT_NOFILE && nl.max > NR_OPEN_MAX)
		return -EPERM;
	pthread_mutex_lock(&tg->lock);
	old = tg->rlimits[res];
	if (unew) {
		/* Raising a hard limit needs CAP_SYS_RESOURCE. */
		if (nl.max > old.max && !(tg->creds.cap_effective & (1ULL << 24))) {
			pthread_mutex_unlock(&tg->lock);
			return -EPERM;
		}
		tg->rlimits[res] = nl;
	}
	pthread_mutex_unlock(&tg->lock);
	if (uold && copy_to_user(t, uold, &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

SYSCALL(prlimit64) { return do_prlimit(t, (int)a[0], (unsigned)a[1], a[2], a[3]); }
SYSCALL(getrlimit) { return do_prlimit(t, 0, (unsigned)a[0], 0, a[1]); }
SYSCALL(setrlimit) { return do_prlimit(t, 0, (unsigned)a[0], a[1], 0); }

SYSCALL(uname)
{
	struct new_utsname u;

	memset(&u, 0, sizeof(u));
	strcpy(u.sysname, "Linux");
	snprintf(u.nodename, sizeof(u.nodename), "%s", kernel.cfg.hostname);
	strcpy(u.release, "6.1.0");
	strcpy(u.version, "#1 SMP PREEMPT_DYNAMIC runsc-c");
	strcpy(u.machine, "x86_64");
	strcpy(u.domainname, "(none)");
	return copy_to_user(t, a[0], &u, sizeof(u));
}

SYSCALL(getrandom)
{
	const unsigned int known = GRND_NONBLOCK | GRND_RANDOM | 0x4 /* GRND_INSECURE */;
	size_t len = a[1] > 0x7fffffff ? 0x7fffffff : a[1], done = 0;
	unsigned int flags = (unsigned int)a[2];
	char buf[4096];

	if (flags & ~known)
		return -EINVAL;
	if ((flags & GRND_RANDOM) && (flags & 0x4))
		return -EINVAL;
	while (done < len) {
		/* Never past a page end: a fault then stops the copy at a page
		 * boundary, and the bytes before it count, as in Linux. */
		size_t n = PAGE_SIZE - ((a[0] + done) & (PAGE_SIZE - 1));
		ssize_t got;

		if (n > len - done)
			n = len - done;
		got = getrandom(buf, n, 0);
		if (got <= 0)
			break;
		if (copy_to_user(t, a[0] + done, buf, (size_t)got) < 0)
			return done ? (long)done : -EFAULT;
		done += (size_t)got;
	}
	return (long)done;
}

SYSCALL(sched_yield)
{
	(void)t;
	(void)a;
	sched_yield();
	return 0;
}

SYSCALL(getcpu)
{
	unsigned cpu = (unsigned)sched_getcpu(), node = 0;
	if (a[0] && copy_to_user(t, a[0], &cpu, sizeof(cpu)) < 0)
		return -EFAULT;
	if (a[1] && copy_to_user(t, a[1], &node, sizeof(node)) < 0)
		return -EFAULT;
	return 0;
}

SYSCALL(futex)
{
	return do_futex(t, a[0], (int)a[1], (uint32_t)a[2], a[3], a[4], (uint32_t)a[5]);
}
