/* Tasks and thread groups. A task is one application thread; it runs on a
 * sentry thread of its own (DESIGN.md, "Threads, blocking and signals").
 * A thread group is a process: its threads share the pid, the signal
 * handlers and the shared pending signals.
 *
 * Lock order: kernel.lock (the process tree, pids, process groups) ->
 * thread_group.lock (signal state, membership) -> sighand.lock ->
 * mm.lock -> task.block_lock. */
#ifndef RC_SENTRY_KERNEL_TASK_H
#define RC_SENTRY_KERNEL_TASK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <sys/resource.h>
#include <time.h>

#include "abi/linux.h"
#include "platform/platform.h"
#include "sentry/kernel/creds.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/wait.h"

struct mm;
struct fdtable;
struct fs_context;

/* Signal handlers, shared by CLONE_SIGHAND. */
struct sighand {
	atomic_int refs;
	pthread_mutex_t lock;
	struct k_sigaction actions[KSIG_MAX + 1];
};

enum tg_state { TG_RUNNING, TG_ZOMBIE, TG_DEAD };

struct itimer {
	uint64_t value_ns;     /* next expiry (CLOCK_MONOTONIC), 0 = off */
	uint64_t interval_ns;
};

struct proc_timers;

/* nice, policy and affinity as the application set them. */
struct task_sched {
	int nice;                       /* -20..19 */
	int policy;                     /* SCHED_OTHER... */
	int rt_priority;                /* 1..99 under SCHED_FIFO/RR */
	bool reset_on_fork;
	bool affinity_set;              /* else every CPU the sandbox has */
	uint64_t affinity[16];          /* up to 1024 CPUs */
};

struct thread_group {
	pthread_mutex_t lock;
	atomic_int refs;
	int pid;                        /* thread group id, in the sandbox */
	/* The process tree, under kernel.lock. parent is NULL for a process
	 * the control channel started (its waiter is outside). */
	struct thread_group *parent;
	struct thread_group *children, *sibling;
	int ppid;                       /* parent's pid, 0 for none */
	int pgid, sid;
	int exit_signal;                /* sent to the parent at exit (SIGCHLD) */
	enum tg_state state;
	struct sighand *sighand;
	struct sigpending shared_pending;
	struct k_rlimit64 rlimits[RLIM_NLIMITS];
	struct creds creds;
	int nr_tasks;
	struct task *tasks;             /* list through task.tg_next */
	bool exiting;                   /* exit_group or fatal signal begun */
	int exit_status;                /* wait(2) status once exiting */
	/* Job control. */
	bool stopped;                   /* in group stop */
	int stop_sig;
	int stop_pending;               /* threads still to park for the stop */
	bool report_stop, report_cont;  /* wait(2) reports not yet collected */
	/* Woken when a child changes state (wait4) and when a vfork child
	 * lets go of its parent. */
	struct waitq child_wq;
	/* Woken (mask: the signal's bit) whenever a signal is queued to the
	 * group or one of its threads: for signalfd. */
	struct waitq signal_wq;
	/* Time, for getrusage and times: the group's own and its reaped
	 * children's. */
	uint64_t utime_ns, stime_ns, cutime_ns, cstime_ns;
	int dumpable, keepcaps;
	bool subreaper;
	bool did_exec;                  /* execve since fork (setpgid's EACCES); kernel.lock */
	struct itimer itimer_real;
	bool is_init;                   /* the sandbox's pid 1 */
	/* itimers and POSIX timers (timers.c), under the ktimer lock. */
	struct proc_timers *timers;
};

struct task {
	int tid;
	struct thread_group *tg;
	struct mm *mm;
	struct fdtable *fdt;
	struct fs_context *fs;
	struct platform_ctx *ctx;
	pthread_t thread;
	uint64_t clear_child_tid;
	uint64_t robust_list, robust_len;
	/* Signals (under tg->lock). */
	uint64_t sigmask;
	struct sigpending pending;      /* sent to this thread */
	uint64_t saved_mask;            /* sigsuspend/ppoll: restored after a handler */
	bool restore_mask;
	uint64_t sigwait_set;           /* rt_sigtimedwait: these wake us though blocked */
	uint64_t sigaltstack_sp, sigaltstack_size;
	int sigaltstack_flags;
	char comm[16];
	int pdeathsig;
	bool no_new_privs;
	struct task *tg_next;
	atomic_bool exiting;            /* leave the run loop */
	int exit_code;                  /* for exit(2) of this thread */
	/* vfork: the parent waits until this child execs or exits. */
	struct vfork_done *vfork;
	/* Syscall restart: what the last call returned, for signal delivery. */
	long sc_ret;
	bool regs_set;                  /* the call set rax itself (sigreturn, exec) */
	struct k_timespec restart_deadline; /* for restart_syscall (nanosleep) */
	long (*restart_fn)(struct task *t);
	/* Blocking (wait.c): woken is set by task_wake, under block_lock. */
	pthread_mutex_t block_lock;
	pthread_cond_t block_cond;   /* on CLOCK_MONOTONIC */
	bool woken;
	bool host_waiting;           /* in task_block_host_fd: kick via kick_fd */
	int kick_fd;                 /* an eventfd, or -1 */
	/* This task's sentry thread's CPU clock (cputime.c), once set. */
	clockid_t cpu_clock;
	atomic_bool cpu_clock_set;
	/* The system call being handled, for strace. */
	long sc_nr;
	uint64_t sc_args[6];
	/* Scheduling attributes (sys_sched.c): recorded for the queries,
	 * inherited by fork; the host schedules the stub threads. */
	struct task_sched sched;
};

/* The calling sentry thread's task (NULL on non-task threads). */
extern __thread struct task *current;

/* A process started from the control channel. */
struct start_request {
	char **argv;
	char **envp;
	char *filename;   /* the program: a path, or a name looked up on $PATH */
	char *cwd;        /* NULL for "/" */
	int exe_fd;       /* a host fd of the program, or -1 to find it in the sandbox */
	int stdio[3];     /* host fds for fds 0-2 */
};

/* Creates a process (a thread group with one task) and runs it on a new
 * thread. Returns its pid, or -errno with a message in err (size errlen)
 * if it could not start. */
int task_start_process(struct start_request *req, char *err, size_t errlen);

/* The run loop of a task's thread; returns when the task has exited. */
void task_run(struct task *t);
/* Starts t on a sentry thread of its own (clone.c); fn runs first on it. */
int task_spawn_thread(struct task *t, void *(*fn)(void *), void *arg);

/* Ends the whole thread group with a wait(2) status (the first caller's
 * status wins). */
void thread_group_exit(struct thread_group *tg, int wait_status);
/* Makes a task's thread notice new work: leaves the application or a
 * blocking wait. */
void task_kick(struct task *t);
/* The thread's exit path (exit.c): releases the task. */
void task_exit(struct task *t);

void thread_group_get(struct thread_group *tg);
struct sighand *sighand_new(void);
void sighand_put(struct sighand *sh);

/* A vfork child execs or exits: its parent may run again (clone.c). */
void vfork_release(struct task *t);

/* Initialises the blocking fields of a new task. */
int task_init_blocking(struct task *t);

#endif
