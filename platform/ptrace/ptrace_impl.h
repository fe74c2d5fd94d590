/* Internals shared by the ptrace platform's files. */
#ifndef RC_PLATFORM_PTRACE_IMPL_H
#define RC_PLATFORM_PTRACE_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "platform/platform.h"

struct ptrace_as {
	atomic_int refs;
	pid_t pid;  /* the stub process */
	int sock;   /* our end of the stub's control channel */
	/* Serialises fd passing on sock with the injected recvmsg. */
	pthread_mutex_t fd_lock;
	atomic_int nthreads; /* stub threads alive */
};

/* A stub thread made by fork or clone, parked and untraced, waiting for
 * the sentry thread that will run it. */
struct platform_child {
	pid_t tid;
	struct ptrace_as *parent;  /* referenced: a forked child adopts a channel
				    * through its parent's; NULL for a thread */
	struct ptrace_as *as;      /* a thread's own address space, referenced */
};

struct ptrace_ctx {
	struct platform_ctx pub;
	pid_t tid;   /* the stub thread this sentry thread traces; 0 if none */
	atomic_bool interrupt;
	int bound_cpu; /* the CPU the stub thread is pinned to, or -1 */
	/* The registers in the stub thread differ from pub.regs (after an
	 * injection, or a change by the sentry) and must be uploaded. */
	bool upload;
};

#define PTRACE_STUB_OPTIONS                                                    \
	(PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK |     \
	 PTRACE_O_TRACECLONE)

/* factory.c: forks a fresh stub; it is left stopped and detached, ready
 * for PTRACE_SEIZE by the caller. Returns its pid or -errno. */
int ptrace_factory_start(void);
pid_t ptrace_factory_fork(void);
/* Hands a new socket end to the stub forked last: sends it on the
 * factory channel the stub inherited. Called with factory_pass_lock held. */
int ptrace_factory_send_fd(int fd);
extern pthread_mutex_t factory_pass_lock;

/* inject.c */
long ptrace_inject(struct ptrace_ctx *c, long nr, uint64_t a0, uint64_t a1,
		   uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5);
/* Receives one fd sent on the stub's fd STUB_CTRL_FD into the stub;
 * returns the stub's fd number or -errno. */
long ptrace_inject_recv_fd(struct ptrace_ctx *c);
/* lock cmpxchg of the u32 at addr, run in the stub: the previous value,
 * or -errno (-EFAULT if the address faulted). */
long ptrace_inject_cmpxchg(struct ptrace_ctx *c, uint64_t addr, uint32_t old, uint32_t nv);
/* In a newly forked stub: receives its own channel (sent on the factory
 * channel it inherited) as fd STUB_CTRL_FD, and sets PR_SET_PDEATHSIG. */
long ptrace_inject_adopt(struct ptrace_ctx *c);
/* Runs a clone in the stub and leaves the new thread parked and
 * detached; returns its tid or -errno. */
long ptrace_inject_clone(struct ptrace_ctx *c, unsigned long flags);
/* Waits for the next stop of tid; returns the wait status or -errno. */
int ptrace_wait(pid_t tid, int *status);
/* Attaches the calling thread to a stopped, detached stub thread. */
int ptrace_seize_stopped(pid_t tid);

/* The calling thread's context (a tracer is a thread). */
extern __thread struct ptrace_ctx *ptrace_current;

#endif
