/* procfs internals: the entry tables of each directory and the safe ways
 * to reach another task's state.
 *
 * A node's ids (synth.h) say what it describes: PROC_TGID the thread
 * group, PROC_TID one thread (0: the group as a whole, shown through its
 * leader or first live thread), PROC_FD an fd number. Generators look
 * the process up by id every time, so a node outliving its process just
 * reports ESRCH. */
#ifndef RC_SENTRY_FS_PROC_PROC_INTERNAL_H
#define RC_SENTRY_FS_PROC_PROC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "sentry/fs/synth/synth.h"

struct task;
struct thread_group;
struct mm;
struct fdtable;
struct fs_context;

#define PROC_TGID 0
#define PROC_TID 1
#define PROC_FD 2

/* Linux's USER_HZ: the unit of clock ticks in stat files. */
#define PROC_HZ 100

/* The uname(2) identity (sentry/syscalls/sys_proc.c says the same). */
#define PROC_OSRELEASE "6.1.0"
#define PROC_OSVERSION "#1 SMP PREEMPT_DYNAMIC runsc-c"

/* Directory tables (proc_pid.c, proc_sys.c, proc_root.c). */
extern const struct synth_entry proc_tgid_entry, proc_tid_entry;
extern const struct synth_entry proc_sys_children[];
extern const struct synth_dyn proc_pids_dyn;

/* --- reaching tasks (proc_task.c) ---
 * proc_lock finds the task in's ids name and returns it with its thread
 * group's lock held (*tgp referenced), or NULL (-ESRCH) when it is gone.
 * Release with proc_unlock. Everything read from the task or group must
 * be read before unlocking; mm, fdtable and fs context are taken as
 * references by the proc_get_* helpers. */
struct task *proc_lock(struct inode *in, struct thread_group **tgp);
void proc_unlock(struct thread_group *tg);
struct mm *proc_get_mm(struct inode *in);           /* mm_put */
struct fdtable *proc_get_fdt(struct inode *in);     /* fdtable_put */
struct fs_context *proc_get_fs(struct inode *in);   /* fs_context_put */
/* The pid shown for the node's task: its tid, or the group's pid. */
int proc_shown_tid(struct inode *in, struct task *t);
/* The owner of a process's files: its effective ids (for the owner hook
 * of per-process entries). */
bool proc_task_owner(struct inode *in, uint32_t *uid, uint32_t *gid);
/* The calling task's root, referenced: what paths are shown relative to
 * (the namespace root when called outside a task). */
void proc_reader_root(struct path *root);
/* Text of a path as the reader sees it (d_path), with Linux's mangling
 * of newlines left to the caller. */
int proc_path_text(const struct path *p, char *buf, size_t len);

/* --- generators --- */
/* proc_stat.c: stat, statm, status of a task */
int proc_pid_stat(struct inode *in, struct synth_buf *b);
int proc_pid_statm(struct inode *in, struct synth_buf *b);
int proc_pid_status(struct inode *in, struct synth_buf *b);
/* proc_mem.c: maps, cmdline, environ, auxv */
int proc_pid_maps(struct inode *in, struct synth_buf *b);
ssize_t proc_pid_cmdline(struct inode *in, char *buf, size_t len, int64_t off);
ssize_t proc_pid_environ(struct inode *in, char *buf, size_t len, int64_t off);
int proc_pid_auxv(struct inode *in, struct synth_buf *b);
/* proc_misc.c: limits, comm, cgroup, oom_score_adj */
int proc_pid_limits(struct inode *in, struct synth_buf *b);
int proc_pid_comm(struct inode *in, struct synth_buf *b);
ssize_t proc_pid_comm_store(struct inode *in, const char *buf, size_t len);
int proc_pid_cgroup(struct inode *in, struct synth_buf *b);
int proc_pid_oom_score_adj(struct inode *in, struct synth_buf *b);
/* proc_mounts.c */
int proc_pid_mounts(struct inode *in, struct synth_buf *b);
int proc_pid_mountinfo(struct inode *in, struct synth_buf *b);
/* proc_links.c: exe, cwd, root and the fd/ and fdinfo/ directories */
ssize_t proc_exe_readlink(struct inode *in, char *buf, size_t len);
int proc_exe_get_link(struct inode *in, struct task *t, struct path *out);
ssize_t proc_cwd_readlink(struct inode *in, char *buf, size_t len);
int proc_cwd_get_link(struct inode *in, struct task *t, struct path *out);
ssize_t proc_root_readlink(struct inode *in, char *buf, size_t len);
int proc_root_get_link(struct inode *in, struct task *t, struct path *out);
extern const struct synth_dyn proc_fd_dyn, proc_fdinfo_dyn;
/* proc_system.c: the top-level files */
int proc_cpuinfo(struct inode *in, struct synth_buf *b);
int proc_meminfo(struct inode *in, struct synth_buf *b);
int proc_stat(struct inode *in, struct synth_buf *b);
int proc_uptime(struct inode *in, struct synth_buf *b);
int proc_loadavg(struct inode *in, struct synth_buf *b);
int proc_version(struct inode *in, struct synth_buf *b);
int proc_filesystems(struct inode *in, struct synth_buf *b);
/* The sandbox's uptime in nanoseconds, and the boot time on the wall
 * clock in seconds. */
uint64_t proc_uptime_ns(void);
int64_t proc_boot_wall_sec(void);

#endif
