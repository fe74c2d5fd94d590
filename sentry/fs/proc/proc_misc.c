/* Small per-process files: limits, comm, cgroup, oom_score_adj. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "abi/linux.h"
#include "sentry/fs/proc/proc_internal.h"
#include "sentry/kernel/task.h"

static const struct {
	const char *name, *unit;
} limit_names[RLIM_NLIMITS] = {
	{"Max cpu time", "seconds"},     {"Max file size", "bytes"},
	{"Max data size", "bytes"},      {"Max stack size", "bytes"},
	{"Max core file size", "bytes"}, {"Max resident set", "bytes"},
	{"Max processes", "processes"},  {"Max open files", "files"},
	{"Max locked memory", "bytes"},  {"Max address space", "bytes"},
	{"Max file locks", "locks"},     {"Max pending signals", "signals"},
	{"Max msgqueue size", "bytes"},  {"Max nice priority", NULL},
	{"Max realtime priority", NULL}, {"Max realtime timeout", "us"},
};

static void limit_value(struct synth_buf *b, uint64_t v)
{
	if (v == K_RLIM_INFINITY)
		synth_printf(b, "%-20s ", "unlimited");
	else
		synth_printf(b, "%-20" PRIu64 " ", v);
}

int proc_pid_limits(struct inode *in, struct synth_buf *b)
{
	struct k_rlimit64 lim[RLIM_NLIMITS];
	struct thread_group *tg;

	if (!proc_lock(in, &tg))
		return -ESRCH;
	memcpy(lim, tg->rlimits, sizeof(lim));
	proc_unlock(tg);
	synth_printf(b, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units");
	for (int i = 0; i < RLIM_NLIMITS; i++) {
		synth_printf(b, "%-25s ", limit_names[i].name);
		limit_value(b, lim[i].cur);
		limit_value(b, lim[i].max);
		if (limit_names[i].unit)
			synth_printf(b, "%-10s", limit_names[i].unit);
		synth_putc(b, '\n');
	}
	return 0;
}

int proc_pid_comm(struct inode *in, struct synth_buf *b)
{
	struct thread_group *tg;
	struct task *t = proc_lock(in, &tg);
	char comm[17];

	if (!t)
		return -ESRCH;
	memcpy(comm, t->comm, 16);
	comm[16] = 0;
	proc_unlock(tg);
	synth_printf(b, "%s\n", comm);
	return 0;
}

/* As Linux: the first 15 bytes become the name (a newline included),
 * and only a thread of the same process may rename. */
ssize_t proc_pid_comm_store(struct inode *in, const char *buf, size_t len)
{
	struct thread_group *tg;
	struct task *t = proc_lock(in, &tg);
	ssize_t r = (ssize_t)len;

	if (!t)
		return -ESRCH;
	if (!current || current->tg != tg) {
		r = -EINVAL;
	} else {
		memset(t->comm, 0, sizeof(t->comm));
		memcpy(t->comm, buf, len < sizeof(t->comm) - 1 ? len : sizeof(t->comm) - 1);
	}
	proc_unlock(tg);
	return r;
}

int proc_pid_cgroup(struct inode *in, struct synth_buf *b)
{
	(void)in;
	synth_printf(b, "0::/\n"); /* one cgroup v2 hierarchy, at its root */
	return 0;
}

int proc_pid_oom_score_adj(struct inode *in, struct synth_buf *b)
{
	(void)in;
	synth_printf(b, "0\n");
	return 0;
}
