/* Internals shared by the systrap platform's files. */
#ifndef RC_PLATFORM_SYSTRAP_IMPL_H
#define RC_PLATFORM_SYSTRAP_IMPL_H

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "platform/platform.h"
#include "platform/stub.h"
#include "platform/systrap/slot.h"

struct sock_filter;
struct sock_fprog;

/* The clones the stub makes (and its filter lets through): a thread of
 * the address space, and a fork that is the factory's child like every
 * stub, so it outlives its parent stub, dies with the factory and is
 * reaped by the kernel (the factory ignores SIGCHLD). */
#define SYSTRAP_THREAD_FLAGS                                                   \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |    \
	 CLONE_SYSVSEM)
#define SYSTRAP_FORK_FLAGS (CLONE_PARENT | SIGCHLD)

/* A stub thread as the host knows it: where signals and life checks go. */
struct systrap_thread {
	pid_t pid;  /* its process, the stub */
	pid_t tid;
	int pidfd;  /* the process's (owned by the address space) */
	int tpidfd; /* the thread's own (PIDFD_THREAD), or -1 on kernels
		     * before 6.9: then tgkill after a look at pidfd */
};

struct systrap_as {
	atomic_int refs; /* contexts, and children not adopted yet */
	pid_t pid;   /* the stub process (its leader thread's tid) */
	int pidfd;   /* signals go through it: the pid may be reused */
	int sock;    /* our end of the stub's channel */
	/* Serialises fd passing on sock, and forks (a fork must not copy
	 * an fd in flight into the child). */
	pthread_mutex_t fd_lock;
	/* Every slot of the stub (STUB_SLOTS_SIZE bytes), mapped here. */
	uint8_t *slots;
	pthread_mutex_t lock; /* the two below */
	/* bit n: slot n belongs to a thread (live, being adopted, or a
	 * parked leader) */
	uint64_t slots_used[STUB_MAX_SLOTS / 64];
	unsigned nthreads;    /* stub threads the sentry runs or will */
};

_Static_assert(STUB_MAX_SLOTS % 64 == 0, "slots_used is whole words");

struct systrap_ctx {
	struct platform_ctx pub;
	/* The stub thread's slot, in pub.as's mapping; NULL with no stub. */
	struct systrap_slot *slot;
	uint64_t slot_addr; /* where the stub sees it */
	unsigned slot_idx;
	/* The stub thread. Other threads read it (ctx_interrupt) only while
	 * armed, under sig_lock; we change it only while disarmed. */
	struct systrap_thread thr;
	pthread_mutex_t sig_lock;
	bool armed;
	/* The stub thread waits in its handler for our commands. */
	bool stopped;
	/* ... on the fast path (a patched site), with no signal frame. */
	bool fast;
	/* ... once it has reported the end of the last one (clone.c does
	 * not wait for that): see systrap_settle. */
	bool report_pending;
	/* The frame's ucontext and xsave area, as the stub reported them at
	 * the last stop (validated where used). */
	uint64_t ucontext, fpstate;
	/* The bases the stub thread has (without FSGSBASE: what we last set). */
	uint64_t fs_base, gs_base;
	atomic_bool interrupt;
	/* ctx_switch waits for the application to stop: interrupts signal
	 * the stub thread. */
	atomic_bool running;
	/* The spin policy (handoff.c), in pause rounds: our budget while the
	 * application runs, the stub's while we handle its stop, and the
	 * ones this round uses; probing back from sleeping mode. */
	unsigned spin, stub_spin, round_spin, round_stub_spin;
	unsigned rounds, probe_every;
	bool probing;
};

/* A new stub thread (of the caller's address space, or of a fork), made
 * by the sentry thread of its parent and waiting in its slot's handler
 * for the sentry thread that will run it. */
struct platform_child {
	struct systrap_as *as; /* referenced; its nthreads counts the child */
	unsigned slot_idx;
	struct systrap_thread thr; /* tpidfd is the child's */
	uint64_t fs_base, gs_base; /* what the parent had */
};

/* systrap.c */
struct systrap_as *systrap_as_alloc(void);
void systrap_as_put(struct systrap_as *as);
/* Creates the slots' memfd and maps it in as->slots; returns the memfd. */
int systrap_as_slots(struct systrap_as *as);
/* Takes a free slot of as for a new thread (and counts the thread);
 * returns its index, or -EAGAIN when all STUB_MAX_SLOTS are taken. */
int systrap_slot_take(struct systrap_as *as);
/* Gives back a slot whose thread is gone or never was (and its count). */
void systrap_slot_give(struct systrap_as *as, unsigned idx);
/* The message area of an unused slot, ready for a stub thread's report. */
void systrap_slot_init(struct systrap_slot *s);
static inline struct systrap_slot *systrap_slot(struct systrap_as *as, unsigned idx)
{
	return (struct systrap_slot *)(as->slots + (uint64_t)idx * STUB_SLOT_SIZE);
}
/* A fresh context bound to the calling thread. */
int systrap_ctx_alloc(struct systrap_ctx **out);
/* Lets other threads interrupt the context's stub thread, or stops them. */
void systrap_arm(struct systrap_ctx *c);
void systrap_disarm(struct systrap_ctx *c);
/* Copies the stop report out of the slot into c (registers included). */
struct systrap_stop {
	uint64_t signo, code, addr, fpstate, ucontext, fs_base, gs_base;
	uint64_t g[SM_NGREGS];
};
void systrap_read_stop(struct systrap_ctx *c, struct systrap_stop *st);
/* Waits for the report of a command we did not wait for (a clone's),
 * which must come before we post another: 0, or -ESRCH (the thread died;
 * it is no longer stopped). */
int systrap_settle(struct systrap_ctx *c);
/* Runs one command in the stopped stub thread; returns its result. */
long systrap_run_cmd(struct systrap_ctx *c, uint64_t cmd, long nr, uint64_t a0,
		     uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5);
/* Turns a fast-path stop into a frame stop (CMD_CONVERT), for what needs
 * the frame: the FPU state, clone, a resume the fast path cannot make.
 * The sentry's view of the registers is kept. 0, or -errno. */
int systrap_unfast(struct systrap_ctx *c);
/* Writes pub.regs into the slot's gregs. */
void systrap_put_gregs(struct systrap_ctx *c);
/* The pidfd of one thread (PIDFD_THREAD): >= 0, -1 where the kernel has
 * none, or -errno. */
int systrap_thread_pidfd(pid_t tid);

/* clone.c */
int systrap_as_fork(struct platform_ctx *pc, struct platform_child **out);
int systrap_thread_new(struct platform_ctx *pc, struct platform_child **out);
int systrap_child_adopt(struct platform_child *ch, struct platform_ctx **out);
void systrap_child_abandon(struct platform_child *ch);

/* poke.c */
long systrap_poke_text(struct platform_ctx *pc, uint64_t addr, const void *buf,
		       size_t len, int prot, bool live);

/* fpstate.c */
void systrap_fpstate_init(void);
int systrap_reset_fpstate(struct platform_ctx *pc);
int systrap_get_fpstate(struct platform_ctx *pc, void *buf, size_t len);
int systrap_set_fpstate(struct platform_ctx *pc, const void *buf, size_t len);

/* factory.c */
int systrap_factory_start(void);
/* Asks the factory for a new stub owning chan (its channel end) and the
 * slots' memfd. */
int systrap_factory_spawn(int chan, int memfd);
/* Whether the factory is alive (0) or -ESRCH. */
int systrap_factory_alive(void);

/* filter.c: the stub filter into out (cap instructions), returns its
 * length or -errno; the factory filter as a malloc'd program. */
int systrap_stub_filter(struct sock_filter *out, unsigned cap);
int systrap_factory_filter(struct sock_fprog *prog);

/* handoff.c */
/* Posts cmd (already filled in the slot) and gives the stub the turn. */
void systrap_post(struct systrap_slot *s);
/* The same for a resume: plans this round's spins. */
void systrap_post_resume(struct systrap_ctx *c, struct systrap_slot *s);
/* Waits until the stub thread who hands the turn back in slot s. who
 * (NULL: the factory, for a birth) is checked for life while waiting;
 * with app_running, pending interrupts of c are re-sent to who and a stub
 * that ignores them is killed. Returns 0, or -ESRCH if the thread died
 * (or was killed), -ETIMEDOUT for a birth that never came. */
int systrap_wait(struct systrap_ctx *c, struct systrap_slot *s,
		 const struct systrap_thread *who, bool app_running);
/* 0 if the thread lives, else -ESRCH. */
int systrap_thread_alive(const struct systrap_thread *t);
/* Sends sig to that one thread. */
int systrap_thread_signal(const struct systrap_thread *t, int sig);
/* The longest spin, in pause rounds (calibrated at init from SPIN_US). */
#define SPIN_US 20
extern unsigned systrap_spin_max;

/* The calling thread's context. */
extern __thread struct systrap_ctx *systrap_current;
extern bool systrap_have_fsgsbase;

/* Blob symbols (stub.S). */
extern const char systrap_blob_start[], systrap_blob_end[];
extern const char systrap_factory_entry[], systrap_birth[];
extern const char systrap_clone_thread[], systrap_clone_fork[];
extern const char systrap_fast_entry[];
#define SYSTRAP_ADDR(sym) STUB_ADDR_IN(systrap_blob_start, sym)

/* Offsets in the kernel's struct ucontext past uc_sigmask: its size. */
#define UC_SIZE (UC_SIGMASK + 8)

#endif
