#include <errno.h>
#include <stdatomic.h>
#include <time.h>

#include "abi/errno_names.h"
#include "lib/log.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/syscalls.h"

/* One bit per number: each unimplemented call is logged once. */
static atomic_ulong reported[(ABI_NR_SYSCALLS + 63) / 64];

static long unimplemented(long nr)
{
	if (nr >= 0 && nr < ABI_NR_SYSCALLS) {
		unsigned long bit = 1UL << (nr % 64);
		if (!(atomic_fetch_or(&reported[nr / 64], bit) & bit)) {
			const char *name = abi_syscall_name(nr);
			log_info("unimplemented syscall %s (%ld): ENOSYS",
				 name ? name : "?", nr);
		}
	} else {
		log_debug("syscall number %ld out of range: ENOSYS", nr);
	}
	return -ENOSYS;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void syscall_dispatch(struct task *t)
{
	struct user_regs_struct *r = &t->ctx->regs;
	/* The kernel reads the number as a 32-bit int (do_syscall_64). */
	long nr = (int)(uint32_t)r->orig_rax;
	const struct syscall_desc *d =
		nr >= 0 && nr < ABI_NR_SYSCALLS ? &syscall_table[nr] : NULL;
	uint64_t a[6] = {r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9};
	char entry[1024];
	uint64_t t0 = 0;
	long ret;

	t->sc_nr = nr;
	if (kernel.cfg.strace) {
		strace_enter(t, nr, a, entry, sizeof(entry));
		t0 = now_ns();
	}
	ret = d && d->fn ? d->fn(t, a) : unimplemented(nr);
	/* A restart code stays in sc_ret for signal delivery to resolve
	 * (restart, or EINTR) before the application runs again. */
	t->sc_ret = ret;
	if (kernel.cfg.strace)
		strace_exit(t, nr, a, ret, entry, now_ns() - t0);
	/* rt_sigreturn and execve set every register themselves. */
	if (!t->regs_set)
		r->rax = (uint64_t)ret;
	t->regs_set = false;
}
