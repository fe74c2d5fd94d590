/* The system-wide files at the top of /proc: the sandbox's own clock
 * and process counts, the host's CPUs (CPUID) and memory (sysinfo). */
#include <errno.h>
#include <inttypes.h>
#include <sys/sysinfo.h>
#include <time.h>

#include "sentry/fs/proc/proc_internal.h"
#include "sentry/fs/synth/host_info.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

uint64_t proc_uptime_ns(void)
{
	struct timespec now;
	int64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (int64_t)(now.tv_sec - kernel.boot_time.tv_sec) * 1000000000 +
	     (now.tv_nsec - kernel.boot_time.tv_nsec);
	return ns > 0 ? (uint64_t)ns : 0;
}

int64_t proc_boot_wall_sec(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t)now.tv_sec - (int64_t)(proc_uptime_ns() / 1000000000);
}

int proc_cpuinfo(struct inode *in, struct synth_buf *b)
{
	(void)in;
	host_cpuinfo(b);
	return 0;
}

static void mem_line(struct synth_buf *b, const char *name, uint64_t kb)
{
	synth_printf(b, "%-16s%8" PRIu64 " kB\n", name, kb);
}

int proc_meminfo(struct inode *in, struct synth_buf *b)
{
	struct sysinfo si;
	uint64_t unit, total, freeram, shared, buffers, swap, swapfree;

	(void)in;
	if (sysinfo(&si) < 0)
		return -EIO;
	unit = si.mem_unit ? si.mem_unit : 1;
	total = si.totalram * unit / 1024;
	freeram = si.freeram * unit / 1024;
	shared = si.sharedram * unit / 1024;
	buffers = si.bufferram * unit / 1024;
	swap = si.totalswap * unit / 1024;
	swapfree = si.freeswap * unit / 1024;
	/* Linux 6.1's fields in order; what the sandbox cannot know is 0. */
	mem_line(b, "MemTotal:", total);
	mem_line(b, "MemFree:", freeram);
	mem_line(b, "MemAvailable:", freeram + buffers);
	mem_line(b, "Buffers:", buffers);
	mem_line(b, "Cached:", shared);
	mem_line(b, "SwapCached:", 0);
	mem_line(b, "Active:", 0);
	mem_line(b, "Inactive:", 0);
	mem_line(b, "Active(anon):", 0);
	mem_line(b, "Inactive(anon):", 0);
	mem_line(b, "Active(file):", 0);
	mem_line(b, "Inactive(file):", 0);
	mem_line(b, "Unevictable:", 0);
	mem_line(b, "Mlocked:", 0);
	mem_line(b, "SwapTotal:", swap);
	mem_line(b, "SwapFree:", swapfree);
	mem_line(b, "Zswap:", 0);
	mem_line(b, "Zswapped:", 0);
	mem_line(b, "Dirty:", 0);
	mem_line(b, "Writeback:", 0);
	mem_line(b, "AnonPages:", 0);
	mem_line(b, "Mapped:", 0);
	mem_line(b, "Shmem:", shared);
	mem_line(b, "KReclaimable:", 0);
	mem_line(b, "Slab:", 0);
	mem_line(b, "SReclaimable:", 0);
	mem_line(b, "SUnreclaim:", 0);
	mem_line(b, "KernelStack:", 0);
	mem_line(b, "PageTables:", 0);
	mem_line(b, "SecPageTables:", 0);
	mem_line(b, "NFS_Unstable:", 0);
	mem_line(b, "Bounce:", 0);
	mem_line(b, "WritebackTmp:", 0);
	mem_line(b, "CommitLimit:", total / 2 + swap);
	mem_line(b, "Committed_AS:", 0);
	mem_line(b, "VmallocTotal:", 34359738367ULL);
	mem_line(b, "VmallocUsed:", 0);
	mem_line(b, "VmallocChunk:", 0);
	mem_line(b, "Percpu:", 0);
	mem_line(b, "HardwareCorrupted:", 0);
	mem_line(b, "AnonHugePages:", 0);
	mem_line(b, "ShmemHugePages:", 0);
	mem_line(b, "ShmemPmdMapped:", 0);
	mem_line(b, "FileHugePages:", 0);
	mem_line(b, "FilePmdMapped:", 0);
	synth_printf(b, "HugePages_Total:       0\nHugePages_Free:        0\n"
			"HugePages_Rsvd:        0\nHugePages_Surp:        0\n");
	mem_line(b, "Hugepagesize:", 2048);
	mem_line(b, "Hugetlb:", 0);
	mem_line(b, "DirectMap4k:", 0);
	mem_line(b, "DirectMap2M:", 0);
	mem_line(b, "DirectMap1G:", 0);
	return 0;
}

/* Tasks and the last pid handed out, for stat and loadavg. */
static void counts(int *tasks, int *groups, int *last_pid)
{
	*tasks = 0;
	pthread_mutex_lock(&kernel.lock);
	*groups = kernel.ngroups;
	*last_pid = kernel.next_pid > 1 ? kernel.next_pid - 1 : 0;
	for (int i = 0; i < kernel.ngroups; i++) {
		struct thread_group *tg = kernel.groups[i];
		pthread_mutex_lock(&tg->lock);
		*tasks += tg->nr_tasks;
		pthread_mutex_unlock(&tg->lock);
	}
	pthread_mutex_unlock(&kernel.lock);
}

int proc_stat(struct inode *in, struct synth_buf *b)
{
	const struct host_info *h = host_info();
	uint64_t idle = proc_uptime_ns() / (1000000000 / PROC_HZ);
	int tasks, groups, last;

	(void)in;
	counts(&tasks, &groups, &last);
	/* No CPU accounting yet: every CPU idle since boot, so that tools
	 * computing shares never divide by zero. */
	synth_printf(b, "cpu  0 0 0 %" PRIu64 " 0 0 0 0 0 0\n", idle * (uint64_t)h->ncpus);
	for (int i = 0; i < HOST_MAX_CPUS; i++)
		if ((h->cpu_online[i / 8] >> (i % 8)) & 1)
			synth_printf(b, "cpu%d 0 0 0 %" PRIu64 " 0 0 0 0 0 0\n", i, idle);
	synth_printf(b, "intr 0\nctxt 0\nbtime %" PRId64 "\nprocesses %d\n"
			"procs_running 1\nprocs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n",
		     proc_boot_wall_sec(), last);
	return 0;
}

int proc_uptime(struct inode *in, struct synth_buf *b)
{
	uint64_t cs = proc_uptime_ns() / 10000000, idle = cs * (uint64_t)host_info()->ncpus;

	(void)in;
	synth_printf(b, "%" PRIu64 ".%02" PRIu64 " %" PRIu64 ".%02" PRIu64 "\n", cs / 100, cs % 100,
		     idle / 100, idle % 100);
	return 0;
}

int proc_loadavg(struct inode *in, struct synth_buf *b)
{
	int tasks, groups, last;

	(void)in;
	counts(&tasks, &groups, &last);
	(void)groups;
	synth_printf(b, "0.00 0.00 0.00 1/%d %d\n", tasks ? tasks : 1, last);
	return 0;
}

int proc_version(struct inode *in, struct synth_buf *b)
{
	(void)in;
	synth_printf(b, "Linux version " PROC_OSRELEASE " (runsc-c@runsc-c) (gcc, GNU ld) "
			PROC_OSVERSION "\n");
	return 0;
}

int proc_filesystems(struct inode *in, struct synth_buf *b)
{
	(void)in;
	synth_printf(b, "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\n");
	return 0;
}
