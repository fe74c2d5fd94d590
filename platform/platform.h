/* The one interface between the sentry and the mechanism that runs
 * application code (DESIGN.md, "The platform interface").
 *
 * An address space (platform_as) is a stub process: empty but for the stub
 * pages and the host vDSO. A context (platform_ctx) is one application
 * thread running in an address space; it is bound to the sentry thread that
 * created it, and only that thread may switch into it or use it to change
 * its address space. All calls return 0 (or a count) or -errno. */
#ifndef RC_PLATFORM_H
#define RC_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

struct platform_as;
struct platform_child;

/* The part of a context every platform shares; platforms embed it first. */
struct platform_ctx {
	/* The application thread's registers while it is stopped. The sentry
	 * reads and changes them; the platform uploads them on the next switch. */
	struct user_regs_struct regs;
	struct platform_as *as;
};

/* Why ctx_switch returned. */
enum ctx_stop {
	CTX_SYSCALL,   /* regs.orig_rax holds the number; set regs.rax */
	CTX_FAULT,     /* a synchronous fault: see ctx_stop_info */
	CTX_INTERRUPT, /* ctx_interrupt() was called, or a host signal arrived */
	CTX_DEAD,      /* the stub died from outside (killed by the host) */
};

enum { ACCESS_UNKNOWN = 0, ACCESS_READ = 1, ACCESS_WRITE = 2, ACCESS_EXEC = 4 };

struct ctx_stop_info {
	int signo;     /* SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP */
	int code;      /* si_code as the host kernel gave it */
	uint64_t addr; /* si_addr */
	int access;    /* ACCESS_*, or ACCESS_UNKNOWN where the platform cannot tell */
	int trapno;
};

struct platform_info {
	uint64_t vdso_ehdr;   /* AT_SYSINFO_EHDR in every stub */
	uint64_t vdso_start;  /* [vvar..vdso] range kept in every stub */
	uint64_t vdso_end;
	uint64_t vdso_text_start; /* the [vdso] part, for /proc/PID/maps */
	/* Bytes of FPU state ctx_get_fpstate gives: the XSAVE area in the
	 * standard (non-compacted) layout, as in a signal frame. */
	size_t fpstate_size;
	/* Syscall patching (sentry/mm/patch.c): where a trampoline jumps
	 * with %eax the number and %rcx the address after the site; 0 where
	 * the platform does not patch. */
	uint64_t patch_entry;
};

struct platform_ops {
	const char *name;
	/* Once, at sentry boot, before any thread or application data. */
	int (*init)(void);
	int (*ctx_new)(struct platform_ctx **out);
	void (*ctx_free)(struct platform_ctx *ctx);
	/* A fresh, empty address space; ctx (of the calling thread) now runs
	 * in it. The context's previous address space, if any, is released. */
	int (*as_new)(struct platform_ctx *ctx);
	/* Drops a reference; the stub dies with the last. */
	void (*as_put)(struct platform_as *as);
	pid_t (*as_host_pid)(struct platform_as *as);

	/* Memory calls made inside the stub, constructed by the sentry. fd is
	 * a sentry host fd (or -1), passed into the stub for the call. */
	long (*as_mmap)(struct platform_as *as, uint64_t addr, uint64_t len,
			int prot, int flags, int fd, uint64_t off);
	long (*as_munmap)(struct platform_as *as, uint64_t addr, uint64_t len);
	long (*as_mprotect)(struct platform_as *as, uint64_t addr, uint64_t len,
			    int prot);
	long (*as_mremap)(struct platform_as *as, uint64_t old, uint64_t oldlen,
			  uint64_t newlen, int flags, uint64_t newaddr);
	long (*as_madvise)(struct platform_as *as, uint64_t addr, uint64_t len,
			   int advice);
	/* Copy-in/out. Return the bytes copied (short at an unmapped or
	 * protected page) or -EFAULT if none could be. */
	long (*as_read)(struct platform_as *as, uint64_t addr, void *buf, size_t len);
	long (*as_write)(struct platform_as *as, uint64_t addr, const void *buf,
			 size_t len);
	/* A compare-and-swap of the aligned 32-bit word at addr, made by the
	 * calling task's own stub thread with a locked instruction, so it is
	 * atomic against the application's threads (PI futexes). Returns the
	 * word's previous value (the swap happened if it was old), or
	 * -errno. The caller has checked that addr is mapped writable; the
	 * platform must still survive a fault there (-EFAULT). */
	long (*as_cmpxchg32)(struct platform_as *as, uint64_t addr, uint32_t old, uint32_t nv);

	/* Runs the thread with ctx->regs until it stops. */
	enum ctx_stop (*ctx_switch)(struct platform_ctx *ctx, struct ctx_stop_info *info);
	/* From any thread: make a running (or the next) ctx_switch return
	 * CTX_INTERRUPT promptly. */
	void (*ctx_interrupt)(struct platform_ctx *ctx);
	/* Resets the FPU/SSE/AVX state to the exec defaults. */
	int (*ctx_reset_fpstate)(struct platform_ctx *ctx);
	pid_t (*ctx_host_tid)(struct platform_ctx *ctx);

	/* fork(): a copy of ctx's address space (the host copies it on write)
	 * with one thread, left stopped. ctx is the calling thread's. */
	int (*as_fork)(struct platform_ctx *ctx, struct platform_child **out);
	/* A new thread in ctx's address space (CLONE_VM), left stopped. */
	int (*thread_new)(struct platform_ctx *ctx, struct platform_child **out);
	/* On the sentry thread that will run the child: its context (the
	 * registers are the parent's at the call; the sentry sets them). */
	int (*child_adopt)(struct platform_child *c, struct platform_ctx **out);
	/* The child will never run: kill it. */
	void (*child_abandon)(struct platform_child *c);
	/* FPU/SSE/AVX state of a stopped thread (platform_info.fpstate_size
	 * bytes), for signal frames. */
	int (*ctx_get_fpstate)(struct platform_ctx *ctx, void *buf, size_t len);
	int (*ctx_set_fpstate)(struct platform_ctx *ctx, const void *buf, size_t len);
	/* Syscall patching (NULL where the platform does not patch): writes
	 * len bytes of code at addr, in a mapping whose protection is prot,
	 * within one page. live: threads may be running there (at most 8
	 * bytes): each executes the old bytes, an int3 at addr, or the new
	 * bytes (Linux's text_poke_bp order). Not live: no thread runs there
	 * before a later live write makes it. ctx is the calling thread's,
	 * stopped. */
	long (*as_poke_text)(struct platform_ctx *ctx, uint64_t addr, const void *buf,
			     size_t len, int prot, bool live);
};

extern const struct platform_ops *platform;
extern struct platform_info platform_info;

/* The platform used when none is named. */
#define PLATFORM_DEFAULT "systrap"
/* Whether systrap patches syscall sites unless told (run
 * --[no-]syscall-patching); set before platform_init. */
#define PLATFORM_PATCHING_DEFAULT true
extern bool platform_syscall_patching;

/* Selects and initialises a platform by name ("ptrace", "systrap"). */
int platform_init(const char *name);
/* Whether this build has a platform of that name. */
bool platform_exists(const char *name);
/* Names of the platforms this build has ("a, b"), for help and errors. */
const char *platform_names(void);

#endif
