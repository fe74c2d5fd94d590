/* CPU time as getrusage, times, wait4 and SIGCHLD report it. User time
 * is the host's CPU clock of the stub process that runs the application's
 * code; system time is the CPU clocks of the sentry threads that serve
 * the application's tasks (the work a kernel would do for it). */
#ifndef RC_SENTRY_KERNEL_CPUTIME_H
#define RC_SENTRY_KERNEL_CPUTIME_H

#include <stdint.h>

struct mm;
struct task;

/* On the task's own sentry thread, when it starts running. */
void cputime_task_start(struct task *t);
/* On the task's own thread as it exits, before its stub thread goes:
 * its time joins its group's (the stub's with the group's last task). */
void cputime_task_exit(struct task *t, int last);
/* exec is about to replace old (NULL for the first program): the time
 * its stub ran joins the group's. */
void cputime_exec(struct task *t, struct mm *old);
/* The group's time so far, live threads and stub included. */
void cputime_group(struct task *t, uint64_t *user_ns, uint64_t *sys_ns);
/* The calling task's thread alone (RUSAGE_THREAD). */
void cputime_thread(struct task *t, uint64_t *user_ns, uint64_t *sys_ns);

#endif
