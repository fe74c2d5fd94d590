/* The sentry's seccomp filter. A deny list: the sentry keeps every call
 * it needs to run (memory, threads, futex, ptrace of its stubs, I/O on
 * fds it already holds) and loses every way to reach something new on
 * the host by name. Denied calls fail with EPERM rather than killing the
 * sentry, so a stray library call degrades instead of taking the sandbox
 * down; either way the call never runs. */
#include "sentry/confine.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "lib/log.h"

static const int denied[] = {
	/* naming host paths */
	SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(openat2), SCMP_SYS(creat),
	SCMP_SYS(stat), SCMP_SYS(lstat), SCMP_SYS(newfstatat), SCMP_SYS(statx),
	SCMP_SYS(access), SCMP_SYS(faccessat), SCMP_SYS(faccessat2),
	SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(chdir),
	SCMP_SYS(chroot), SCMP_SYS(mkdir), SCMP_SYS(mkdirat), SCMP_SYS(rmdir),
	SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(rename),
	SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(link),
	SCMP_SYS(linkat), SCMP_SYS(symlink), SCMP_SYS(symlinkat),
	SCMP_SYS(chmod), SCMP_SYS(fchmodat), SCMP_SYS(chown), SCMP_SYS(lchown),
	SCMP_SYS(fchownat), SCMP_SYS(utime), SCMP_SYS(utimes),
	SCMP_SYS(utimensat), SCMP_SYS(futimesat), SCMP_SYS(truncate),
	SCMP_SYS(mknod), SCMP_SYS(mknodat), SCMP_SYS(statfs),
	SCMP_SYS(getxattr), SCMP_SYS(lgetxattr), SCMP_SYS(setxattr),
	SCMP_SYS(lsetxattr), SCMP_SYS(listxattr), SCMP_SYS(llistxattr),
	SCMP_SYS(removexattr), SCMP_SYS(lremovexattr),
	SCMP_SYS(inotify_add_watch), SCMP_SYS(fanotify_mark),
	SCMP_SYS(name_to_handle_at), SCMP_SYS(open_by_handle_at),
	SCMP_SYS(uselib), SCMP_SYS(acct), SCMP_SYS(swapon), SCMP_SYS(swapoff),
	SCMP_SYS(quotactl),
	/* exec */
	SCMP_SYS(execve), SCMP_SYS(execveat),
	/* sockets: only socketpair stays, for stub channels */
	SCMP_SYS(socket), SCMP_SYS(connect), SCMP_SYS(bind), SCMP_SYS(listen),
	/* mounts and namespaces */
	SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root),
	SCMP_SYS(open_tree), SCMP_SYS(move_mount), SCMP_SYS(fsopen),
	SCMP_SYS(fsconfig), SCMP_SYS(fsmount), SCMP_SYS(fspick),
	SCMP_SYS(mount_setattr), SCMP_SYS(setns), SCMP_SYS(unshare),
	/* processes: stubs come from the factory, never from us (clone
	 * without CLONE_THREAD is refused below) */
	SCMP_SYS(fork), SCMP_SYS(vfork),
	/* kernel surface we never need */
	SCMP_SYS(init_module), SCMP_SYS(finit_module), SCMP_SYS(delete_module),
	SCMP_SYS(kexec_load), SCMP_SYS(kexec_file_load), SCMP_SYS(bpf),
	SCMP_SYS(perf_event_open), SCMP_SYS(userfaultfd), SCMP_SYS(keyctl),
	SCMP_SYS(add_key), SCMP_SYS(request_key), SCMP_SYS(reboot),
	SCMP_SYS(syslog), SCMP_SYS(iopl), SCMP_SYS(ioperm),
	SCMP_SYS(personality), SCMP_SYS(lookup_dcookie),
};

int sentry_confine(void)
{
	scmp_filter_ctx ctx;
	int ret = -ENOMEM;

	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		if (denied[i] < 0)
			continue; /* not on this architecture */
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), denied[i], 0);
		if (ret < 0)
			goto out;
	}
	/* No executable memory of our own (mmap, mprotect, pkey_mprotect). */
	ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mmap), 1,
			       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
	if (ret == 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mprotect), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
	if (ret == 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(pkey_mprotect), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
	/* Threads only: clone without CLONE_THREAD would copy the sentry. clone3
	 * hides its flags in memory, so it reports ENOSYS and glibc falls back
	 * to clone. */
	if (ret == 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				       SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
	if (ret == 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (ret < 0)
		goto out;
	/* A task's filter applies to all its threads (TSYNC): the factory
	 * thread and any other thread started before this point. */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (ret == 0)
		ret = seccomp_load(ctx);
out:
	if (ret < 0)
		log_err("cannot install the sentry's seccomp filter: %d", ret);
	seccomp_release(ctx);
	return ret;
}
