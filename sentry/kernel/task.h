/* Tasks and thread groups. A task is one application thread; it runs on a
 * sentry thread of its own (DESIGN.md, "Threads, blocking and signals").
 *
 * Lock order: kernel.lock (pid table) -> thread_group.lock -> mm.lock. */
#ifndef RC_SENTRY_KERNEL_TASK_H
#define RC_SENTRY_KERNEL_TASK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <signal.h>
#include <sys/resource.h>

#include "abi/linux.h"
#include "platform/platform.h"
#include "sentry/kernel/creds.h"

struct mm;
struct fdtable;
struct fs_context;

#define KSIG_MAX 64

struct thread_group {
	pthread_mutex_t lock;
	int pid;                        /* thread group id, in the sandbox */
	int ppid;                       /* 0 for the sandbox's first process */
	struct k_sigaction actions[KSIG_MAX + 1];
	struct k_rlimit64 rlimits[RLIM_NLIMITS];
	struct creds creds;
	int nr_tasks;
	bool exiting;                   /* exit_group or fatal signal begun */
	int exit_status;                /* wait(2) status once exiting */
	atomic_int refs;
	struct task *tasks;             /* list through task.tg_next */
	int dumpable, keepcaps;
	bool subreaper;
	uint64_t pending;               /* signals sent to the group */
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
	uint64_t sigmask;
	uint64_t pending;               /* signals sent to this task */
	char comm[16];
	int pdeathsig;
	bool no_new_privs;
	uint64_t sigaltstack_sp, sigaltstack_size;
	int sigaltstack_flags;
	struct task *tg_next;
	atomic_bool exiting;            /* leave the run loop */
	int exit_code;                  /* for exit(2) of this thread */
	/* Blocking (wait.c): woken is set by task_wake, under block_lock. */
	pthread_mutex_t block_lock;
	pthread_cond_t block_cond;   /* on CLOCK_MONOTONIC */
	bool woken;
	bool host_waiting;           /* in task_block_host_fd: kick via kick_fd */
	int kick_fd;                 /* an eventfd, or -1 */
	/* The system call being handled, for strace. */
	long sc_nr;
	uint64_t sc_args[6];
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

/* Ends the whole thread group with a wait(2) status (the first caller's
 * status wins). */
void thread_group_exit(struct thread_group *tg, int wait_status);
/* Makes a task's thread notice new work: leaves the application or a
 * blocking host call. Called with tg->lock held. */
void task_kick(struct task *t);

/* signal.c */
/* Sends sig to a thread group, as kill(2) does. */
int signal_send_group(struct thread_group *tg, int sig);
/* A synchronous fault in the application (SIGSEGV and friends). */
void signal_force_fault(struct task *t, const struct ctx_stop_info *info);
/* Whether t must stop waiting: a signal it will handle is pending, or it
 * (or its group) is exiting. */
bool task_interrupted(struct task *t);
/* Initialises the blocking fields of a new task. */
int task_init_blocking(struct task *t);
/* The host signal that interrupts blocking host calls in sentry threads. */
#define SIG_KICK SIGUSR2
void signal_init_sentry(void);

#endif
