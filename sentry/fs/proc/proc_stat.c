/* /proc/PID/{stat,statm,status}: a task's identity, state, memory and
 * signal summary in Linux 6.1's formats (fs/proc/array.c). What the
 * sentry does not track (CPU times, faults, context switches, start
 * time) reads as 0. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "lib/util.h"
#include "sentry/fs/proc/proc_internal.h"
#include "sentry/fs/synth/host_info.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/vfs.h"

/* Everything a report needs, copied under the group's lock. */
struct snap {
	int pid, tid, ppid, nthreads;
	char comm[17];
	bool running;
	uint64_t sigpnd, shdpnd, sigblk, sigign, sigcgt;
	struct creds creds;      /* groups: a private copy */
	uint64_t rlim_sigpending, rlim_rss;
	bool no_new_privs;
	struct mm *mm;
	struct fdtable *fdt;
	struct fs_context *fs;
};

static int snap_take(struct inode *in, struct snap *s)
{
	struct thread_group *tg;
	struct task *t;

	memset(s, 0, sizeof(*s));
	t = proc_lock(in, &tg);
	if (!t)
		return -ESRCH;
	s->pid = tg->pid;
	s->tid = proc_shown_tid(in, t);
	s->ppid = tg->ppid;
	s->nthreads = tg->nr_tasks;
	memcpy(s->comm, t->comm, sizeof(t->comm));
	s->comm[16] = 0;
	s->running = t == current;
	s->sigpnd = t->pending.mask;
	s->shdpnd = tg->shared_pending.mask;
	s->sigblk = t->sigmask;
	for (int sig = 1; sig <= KSIG_MAX && tg->sighand; sig++) {
		uint64_t h = tg->sighand->actions[sig].handler;
		if (h == (uint64_t)(uintptr_t)SIG_IGN)
			s->sigign |= 1ULL << (sig - 1);
		else if (h != (uint64_t)(uintptr_t)SIG_DFL)
			s->sigcgt |= 1ULL << (sig - 1);
	}
	s->creds = tg->creds;
	s->creds.groups = NULL;
	if (tg->creds.ngroups) {
		s->creds.groups = malloc(tg->creds.ngroups * sizeof(uint32_t));
		if (s->creds.groups)
			memcpy(s->creds.groups, tg->creds.groups,
			       tg->creds.ngroups * sizeof(uint32_t));
		else
			s->creds.ngroups = 0;
	}
	s->rlim_sigpending = tg->rlimits[RLIMIT_SIGPENDING].cur;
	s->rlim_rss = tg->rlimits[RLIMIT_RSS].cur;
	s->no_new_privs = t->no_new_privs;
	if ((s->mm = t->mm))
		mm_get(s->mm);
	if ((s->fdt = t->fdt))
		atomic_fetch_add(&s->fdt->refs, 1);
	if ((s->fs = t->fs))
		atomic_fetch_add(&s->fs->refs, 1);
	proc_unlock(tg);
	return 0;
}

static void snap_drop(struct snap *s)
{
	free(s->creds.groups);
	mm_put(s->mm);
	if (s->fdt)
		fdtable_put(s->fdt);
	fs_context_put(s->fs);
}

/* Linux's per-mm counters, from the VMA list (bytes). */
struct mstats {
	uint64_t total, data, stack, exec, file, resident;
	uint64_t start_code, end_code, start_data, end_data;
	uint64_t start_brk, brk, start_stack, arg_start, arg_end, env_start, env_end;
};

static void mm_stats(struct mm *mm, struct mstats *m)
{
	memset(m, 0, sizeof(*m));
	if (!mm)
		return;
	pthread_mutex_lock(&mm->lock);
	for (size_t i = 0; i < mm->nvmas; i++) {
		const struct vma *v = &mm->vmas[i];
		uint64_t len = v->end - v->start;
		bool exe = v->kind == VMA_FILE && v->name && mm->exe_path &&
			   !strcmp(v->name, mm->exe_path);

		m->total += len;
		if (v->kind == VMA_STACK || (v->flags & VMA_GROWSDOWN))
			m->stack += len;
		else if ((v->prot & PROT_WRITE) && !(v->flags & VMA_SHARED))
			m->data += len;
		else if ((v->prot & (PROT_EXEC | PROT_WRITE)) == PROT_EXEC)
			m->exec += len;
		if (v->kind == VMA_FILE)
			m->file += len;
		/* Residency is the host's to know; what is not a bare
		 * reservation counts. */
		if (!(v->flags & VMA_NORESERVE) && v->kind != VMA_VVAR)
			m->resident += len;
		if (exe && (v->prot & PROT_EXEC) && !m->start_code) {
			m->start_code = v->start;
			m->end_code = v->end;
		}
		if (exe && (v->prot & PROT_WRITE) && !m->start_data) {
			m->start_data = v->start;
			m->end_data = v->end;
		}
	}
	m->start_brk = mm->brk_start;
	m->brk = mm->brk;
	m->arg_start = mm->arg_start;
	m->arg_end = mm->arg_end;
	m->env_start = mm->env_start;
	m->env_end = mm->env_end;
	/* Linux's start_stack is where argc sits, just below the argument
	 * strings; the sentry does not record it, so the strings' start. */
	m->start_stack = mm->arg_start;
	pthread_mutex_unlock(&mm->lock);
}

int proc_pid_stat(struct inode *in, struct synth_buf *b)
{
	struct snap s;
	struct mstats m;
	int r = snap_take(in, &s);

	if (r < 0)
		return r;
	mm_stats(s.mm, &m);
	/* Fields 1-52 of proc(5). */
	synth_printf(b, "%d (%s) %c %d %d %d %d %d %u ", s.tid, s.comm, s.running ? 'R' : 'S',
		     s.ppid, 1 /* pgrp */, 1 /* session */, 0 /* tty_nr */, -1 /* tpgid */,
		     0x400000u /* PF_RANDOMIZE */);
	synth_printf(b, "0 0 0 0 0 0 0 0 %d %d %d 0 %" PRIu64 " %" PRIu64 " %" PRIu64 " ",
		     20 /* priority */, 0 /* nice */, s.nthreads, (uint64_t)0 /* starttime */,
		     m.total, m.resident / PAGE_SIZE);
	synth_printf(b, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " 0 0 ",
		     s.rlim_rss, m.start_code, m.end_code, m.start_stack);
	/* signal, blocked, sigignore, sigcatch: decimal, 32 bits as Linux
	 * prints them for compatibility. */
	synth_printf(b, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " 0 0 0 17 0 0 0 0 0 0 ",
		     (s.sigpnd | s.shdpnd) & 0xffffffffu, s.sigblk & 0xffffffffu,
		     s.sigign & 0xffffffffu, s.sigcgt & 0xffffffffu);
	synth_printf(b, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
		     " %" PRIu64 " 0\n",
		     m.start_data, m.end_data, m.start_brk, m.arg_start, m.arg_end, m.env_start,
		     m.env_end);
	snap_drop(&s);
	return 0;
}

int proc_pid_statm(struct inode *in, struct synth_buf *b)
{
	struct snap s;
	struct mstats m;
	int r = snap_take(in, &s);
	uint64_t text;

	if (r < 0)
		return r;
	mm_stats(s.mm, &m);
	text = m.end_code > m.start_code ? PAGE_ALIGN_UP(m.end_code) - PAGE_ALIGN_DOWN(m.start_code)
					 : 0;
	synth_printf(b, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " 0 %" PRIu64 " 0\n",
		     m.total / PAGE_SIZE, m.resident / PAGE_SIZE,
		     MIN(m.file, m.resident) / PAGE_SIZE, text / PAGE_SIZE,
		     (m.data + m.stack) / PAGE_SIZE);
	snap_drop(&s);
	return 0;
}

static void kb(struct synth_buf *b, const char *name, uint64_t bytes)
{
	synth_printf(b, "%s:\t%8" PRIu64 " kB\n", name, bytes >> 10);
}

int proc_pid_status(struct inode *in, struct synth_buf *b)
{
	struct snap s;
	struct mstats m;
	uint32_t umask = 022;
	int fdsize = 64, r = snap_take(in, &s);

	if (r < 0)
		return r;
	mm_stats(s.mm, &m);
	if (s.fs) {
		pthread_mutex_lock(&s.fs->lock);
		umask = s.fs->umask;
		pthread_mutex_unlock(&s.fs->lock);
	}
	if (s.fdt) {
		pthread_mutex_lock(&s.fdt->lock);
		while (fdsize < s.fdt->nslots && fdsize < (1 << 30))
			fdsize *= 2;
		pthread_mutex_unlock(&s.fdt->lock);
	}
	synth_printf(b, "Name:\t");
	for (const char *c = s.comm; *c; c++) {
		if (*c == '\n')
			synth_write(b, "\\n", 2);
		else if (*c == '\\')
			synth_write(b, "\\\\", 2);
		else
			synth_putc(b, *c);
	}
	synth_printf(b, "\nUmask:\t%#04o\n", umask);
	synth_printf(b, "State:\t%s\n", s.running ? "R (running)" : "S (sleeping)");
	synth_printf(b, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", s.pid, s.tid,
		     s.ppid);
	synth_printf(b, "Uid:\t%u\t%u\t%u\t%u\n", s.creds.ruid, s.creds.euid, s.creds.suid,
		     s.creds.fsuid);
	synth_printf(b, "Gid:\t%u\t%u\t%u\t%u\n", s.creds.rgid, s.creds.egid, s.creds.sgid,
		     s.creds.fsgid);
	synth_printf(b, "FDSize:\t%d\nGroups:\t", fdsize);
	for (uint32_t i = 0; i < s.creds.ngroups; i++)
		synth_printf(b, i ? " %u" : "%u", s.creds.groups[i]);
	synth_printf(b, " \nNStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n", s.pid, s.tid, 1,
		     1);
	if (s.mm) {
		kb(b, "VmPeak", m.total);
		kb(b, "VmSize", m.total);
		kb(b, "VmLck", 0);
		kb(b, "VmPin", 0);
		kb(b, "VmHWM", m.resident);
		kb(b, "VmRSS", m.resident);
		kb(b, "RssAnon", m.resident - MIN(m.file, m.resident));
		kb(b, "RssFile", MIN(m.file, m.resident));
		kb(b, "RssShmem", 0);
		kb(b, "VmData", m.data);
		kb(b, "VmStk", m.stack);
		kb(b, "VmExe", m.end_code - m.start_code);
		kb(b, "VmLib", m.exec > m.end_code - m.start_code ? m.exec - (m.end_code - m.start_code)
								   : 0);
		kb(b, "VmPTE", 0);
		kb(b, "VmSwap", 0);
		synth_printf(b, "HugetlbPages:\t%8d kB\n", 0);
	}
	synth_printf(b, "CoreDumping:\t0\nTHP_enabled:\t1\nThreads:\t%d\n", s.nthreads);
	synth_printf(b, "SigQ:\t0/%" PRIu64 "\n", s.rlim_sigpending);
	synth_printf(b, "SigPnd:\t%016" PRIx64 "\nShdPnd:\t%016" PRIx64 "\nSigBlk:\t%016" PRIx64
		     "\nSigIgn:\t%016" PRIx64 "\nSigCgt:\t%016" PRIx64 "\n",
		     s.sigpnd, s.shdpnd, s.sigblk, s.sigign, s.sigcgt);
	synth_printf(b, "CapInh:\t%016" PRIx64 "\nCapPrm:\t%016" PRIx64 "\nCapEff:\t%016" PRIx64
		     "\nCapBnd:\t%016" PRIx64 "\nCapAmb:\t%016x\n",
		     s.creds.cap_inheritable, s.creds.cap_permitted, s.creds.cap_effective,
		     s.creds.cap_bounding, 0);
	synth_printf(b, "NoNewPrivs:\t%d\nSeccomp:\t0\nSeccomp_filters:\t0\n", s.no_new_privs);
	synth_printf(b, "Speculation_Store_Bypass:\tthread vulnerable\n"
			"SpeculationIndirectBranch:\tconditional enabled\n");
	synth_printf(b, "Cpus_allowed:\t");
	host_cpu_mask(b);
	synth_printf(b, "\nCpus_allowed_list:\t");
	host_cpu_list(b);
	/* Linux's Debian build has 1024 NUMA nodes: 32 groups of 32 bits. */
	synth_printf(b, "Mems_allowed:\t");
	for (int i = 0; i < 31; i++)
		synth_printf(b, "00000000,");
	synth_printf(b, "00000001\nMems_allowed_list:\t0\n");
	synth_printf(b, "voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n");
	snap_drop(&s);
	return 0;
}
