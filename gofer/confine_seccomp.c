/* The gofer's seccomp filter: an allowlist of the file calls it serves
 * with, on fds it holds. Anything else kills it (the sentry then sees the
 * channel close): no exec, no sockets, no process creation, no ptrace,
 * no mounts, no executable memory, and no open but openat2 relative to a
 * held fd. What a filter cannot see is the path and the resolve flags
 * that openat2 and the *at calls read from memory; those are why every
 * name is one checked component and every open goes through open_beneath
 * (reopen.c), and why the gofer's mount namespace holds nothing else. */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "gofer/gofer.h"
#include "lib/log.h"

static const int allowed[] = {
	/* the channel and the log */
	SCMP_SYS(recvmsg), SCMP_SYS(sendmsg), SCMP_SYS(close),
	/* files, on held fds */
	SCMP_SYS(statx), SCMP_SYS(fstatfs), SCMP_SYS(getdents64), SCMP_SYS(lseek),
	SCMP_SYS(mkdirat), SCMP_SYS(mknodat), SCMP_SYS(symlinkat), SCMP_SYS(linkat),
	SCMP_SYS(unlinkat), SCMP_SYS(renameat2), SCMP_SYS(readlinkat),
	SCMP_SYS(fchownat), SCMP_SYS(fchmodat), SCMP_SYS(fchmod), SCMP_SYS(utimensat),
	SCMP_SYS(ftruncate), SCMP_SYS(fsync), SCMP_SYS(fdatasync),
	/* memory (executable mappings are refused below) and the process */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	SCMP_SYS(futex), SCMP_SYS(clock_gettime), SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(restart_syscall),
	SCMP_SYS(sigaltstack), /* the sanitizers' runtime, at exit */
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

static const int fcntl_cmds[] = {F_GETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC};

int confine_seccomp(const struct gofer_state *g)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int r = 0;

	(void)g;
	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	/* fchmodat2 (Linux 6.6) is not known to every libseccomp. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, 452, 0);
	/* Logs go to stderr only. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1, SCMP_A0_32(SCMP_CMP_EQ, 2));
	/* Opens are relative to a held directory, never the cwd. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat2), 1,
				     SCMP_A0_32(SCMP_CMP_NE, (uint32_t)AT_FDCWD));
	for (size_t i = 0; i < sizeof(fcntl_cmds) / sizeof(fcntl_cmds[0]) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
				     SCMP_A1_32(SCMP_CMP_EQ, (uint32_t)fcntl_cmds[i]));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				     SCMP_A2_64(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				     SCMP_A2_64(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (r == 0)
		r = seccomp_load(ctx);
	if (r < 0)
		log_err("cannot install its seccomp filter: %s", strerror(-r));
	seccomp_release(ctx);
	return r;
}
