/* Internals shared by the systrap platform's files. */
#ifndef RC_PLATFORM_SYSTRAP_IMPL_H
#define RC_PLATFORM_SYSTRAP_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "platform/platform.h"
#include "platform/systrap/slot.h"

struct sock_filter;
struct sock_fprog;

struct systrap_as {
	atomic_int refs;
	pid_t pid;   /* the stub process */
	int pidfd;   /* signals go through it: the pid may be reused */
	int sock;    /* our end of the stub's channel */
	/* Serialises fd passing on sock. */
	pthread_mutex_t fd_lock;
};

struct systrap_ctx {
	struct platform_ctx pub;
	/* The stub thread's slot, mapped here; NULL with no stub. */
	struct systrap_slot *slot;
	uint64_t slot_addr; /* where the stub sees it */
	/* The stub thread waits in its handler for our commands. */
	bool stopped;
	/* The frame's xsave area, as the stub reported it at the last stop
	 * (validated when used). */
	uint64_t fpstate;
	/* The bases the stub thread has (without FSGSBASE: what we last set). */
	uint64_t fs_base, gs_base;
	atomic_bool interrupt;
	/* ctx_switch waits for the application to stop: interrupts signal
	 * the stub through sig_pidfd. */
	atomic_bool running;
	atomic_int sig_pidfd;
	/* The spin policy (handoff.c), in pause rounds: our budget while the
	 * application runs, the stub's while we handle its stop, and the
	 * ones this round uses; probing back from sleeping mode. */
	unsigned spin, stub_spin, round_spin, round_stub_spin;
	unsigned rounds, probe_every;
	bool probing;
};

/* factory.c */
int systrap_factory_start(void);
/* Asks the factory for a new stub owning chan (its channel end) and the
 * slot memfd. */
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
/* Waits until the stub hands the turn back. pidfd (or -1 for the
 * factory) is checked for life while waiting; with app_running, pending
 * interrupts are re-sent and a stub that ignores them is killed. Returns
 * 0, or -ESRCH if the stub died (or was killed), -ETIMEDOUT for a birth
 * that never came. */
int systrap_wait(struct systrap_ctx *c, struct systrap_slot *s, int pidfd,
		 bool app_running);
/* The longest spin, in pause rounds (calibrated at init from SPIN_US). */
#define SPIN_US 20
extern unsigned systrap_spin_max;

/* The calling thread's context. */
extern __thread struct systrap_ctx *systrap_current;
extern bool systrap_have_fsgsbase;

/* Blob symbols (stub.S). */
extern const char systrap_blob_start[], systrap_blob_end[];
extern const char systrap_factory_entry[], systrap_birth[];
#define SYSTRAP_ADDR(sym) STUB_ADDR_IN(systrap_blob_start, sym)

#endif
