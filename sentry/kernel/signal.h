/* Signals: pending queues, sending, delivery to handlers with a real
 * x86-64 signal frame, default actions and job control (signal.c,
 * sigframe.c). */
#ifndef RC_SENTRY_KERNEL_SIGNAL_H
#define RC_SENTRY_KERNEL_SIGNAL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "platform/platform.h"

struct task;
struct thread_group;

#define KSIG_MAX 64
#define KSIG_BIT(s) (1ULL << ((s) - 1))
#define KSIG_UNBLOCKABLE (KSIG_BIT(SIGKILL) | KSIG_BIT(SIGSTOP))
#define KSIG_RTMIN 32

/* The kernel's siginfo_t: 128 bytes, fields by signal kind. */
struct k_siginfo {
	int32_t si_signo;
	int32_t si_errno;
	int32_t si_code;
	int32_t pad0;
	union {
		uint8_t raw[112];
		struct { int32_t pid; uint32_t uid; uint64_t value; } kill; /* + rt */
		struct { int32_t tid; int32_t overrun; uint64_t value; } timer;
		struct {
			int32_t pid;
			uint32_t uid;
			int32_t status;
			int32_t pad;
			int64_t utime, stime;
		} chld;
		struct { uint64_t addr; uint16_t addr_lsb; } fault;
		struct { int64_t band; int32_t fd; } poll;
		struct { uint64_t call_addr; int32_t syscall; uint32_t arch; } sys;
	};
};
_Static_assert(sizeof(struct k_siginfo) == 128, "siginfo is 128 bytes");

struct sigqueue {
	struct k_siginfo info;
	struct sigqueue *next;
};

/* Pending signals: the set, and a siginfo per queued instance (standard
 * signals queue once; real-time ones queue up to RLIMIT_SIGPENDING). */
struct sigpending {
	uint64_t mask;
	struct sigqueue *head;
};

/* si_code values we produce. */
#define K_SI_USER 0
#define K_SI_KERNEL 0x80
#define K_SI_QUEUE (-1)
#define K_SI_TIMER (-2)
#define K_SI_TKILL (-6)

/* Sends sig with info (NULL: SI_KERNEL) to one thread or a whole group.
 * Returns 0 or -errno (EAGAIN when the real-time queue is full). */
int signal_send_task(struct task *t, int sig, const struct k_siginfo *info);
int signal_send_tg(struct thread_group *tg, int sig, const struct k_siginfo *info);
/* kill(2) from a process to a group: SI_USER with the sender's ids. */
int signal_send_group(struct thread_group *tg, int sig);
/* A synchronous fault in the application (SIGSEGV and friends). */
void signal_force_fault(struct task *t, const struct ctx_stop_info *info);
/* Forces sig on t even if blocked or ignored (bad frames, faults). */
void signal_force(struct task *t, int sig, const struct k_siginfo *info);

/* Run before returning to the application: applies the last system
 * call's restart rule, delivers deliverable signals (building frames),
 * takes default actions, and parks the task while its group is stopped.
 * Returns false if the task must exit instead. */
bool signal_deliver(struct task *t);

/* Whether t must stop waiting: a signal it will handle is pending, or it
 * (or its group) is exiting. */
bool task_interrupted(struct task *t);
/* Dequeues a pending signal in wanted (for sigtimedwait, signalfd):
 * returns its number and fills info, or 0. Called with tg->lock held. */
int signal_dequeue(struct task *t, uint64_t wanted, struct k_siginfo *info);
int signal_dequeue_from(struct sigpending *p, int sig, struct k_siginfo *info);

/* rt_sigreturn: restores the frame at the stack pointer. Returns the
 * value the interrupted code must see in rax, or -EFAULT (the caller
 * kills with SIGSEGV). */
long sigframe_restore(struct task *t);
/* Builds a frame for sig with info and action on t's stack and points
 * the registers at the handler. 0, or -EFAULT. */
struct k_sigaction;
int sigframe_setup(struct task *t, int sig, const struct k_siginfo *info,
		   const struct k_sigaction *act, uint64_t oldmask);

/* Resets handled signals to SIG_DFL (exec). */
void signal_reset_on_exec(struct task *t);
/* Frees the queued siginfos. */
void sigpending_clear(struct sigpending *p);

/* The host signal that interrupts blocking host calls in sentry threads. */
#define SIG_KICK SIGUSR2
void signal_init_sentry(void);

#endif
