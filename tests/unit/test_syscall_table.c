/* The syscall name table (abi/), the dispatch table (sentry/syscalls/),
 * errno names and the strace flag formatters. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "abi/errno_names.h"
#include "abi/flags.h"
#include "abi/syscalls.h"
#include "lib/util.h"
#include "sentry/syscalls/syscalls.h"

struct nr_name {
	long nr;
	const char *name;
};

/* Every number <asm/unistd_64.h> (linux-libc-dev 6.1) defines. */
#define N(x) {__NR_##x, #x}
static const struct nr_name all_nrs[] = {
	N(read), N(write), N(open), N(close), N(stat), N(fstat), N(lstat),
	N(poll), N(lseek), N(mmap), N(mprotect), N(munmap), N(brk),
	N(rt_sigaction), N(rt_sigprocmask), N(rt_sigreturn), N(ioctl),
	N(pread64), N(pwrite64), N(readv), N(writev), N(access), N(pipe),
	N(select), N(sched_yield), N(mremap), N(msync), N(mincore),
	N(madvise), N(shmget), N(shmat), N(shmctl), N(dup), N(dup2), N(pause),
	N(nanosleep), N(getitimer), N(alarm), N(setitimer), N(getpid),
	N(sendfile), N(socket), N(connect), N(accept), N(sendto), N(recvfrom),
	N(sendmsg), N(recvmsg), N(shutdown), N(bind), N(listen),
	N(getsockname), N(getpeername), N(socketpair), N(setsockopt),
	N(getsockopt), N(clone), N(fork), N(vfork), N(execve), N(exit),
	N(wait4), N(kill), N(uname), N(semget), N(semop), N(semctl), N(shmdt),
	N(msgget), N(msgsnd), N(msgrcv), N(msgctl), N(fcntl), N(flock),
	N(fsync), N(fdatasync), N(truncate), N(ftruncate), N(getdents),
	N(getcwd), N(chdir), N(fchdir), N(rename), N(mkdir), N(rmdir),
	N(creat), N(link), N(unlink), N(symlink), N(readlink), N(chmod),
	N(fchmod), N(chown), N(fchown), N(lchown), N(umask), N(gettimeofday),
	N(getrlimit), N(getrusage), N(sysinfo), N(times), N(ptrace),
	N(getuid), N(syslog), N(getgid), N(setuid), N(setgid), N(geteuid),
	N(getegid), N(setpgid), N(getppid), N(getpgrp), N(setsid),
	N(setreuid), N(setregid), N(getgroups), N(setgroups), N(setresuid),
	N(getresuid), N(setresgid), N(getresgid), N(getpgid), N(setfsuid),
	N(setfsgid), N(getsid), N(capget), N(capset), N(rt_sigpending),
	N(rt_sigtimedwait), N(rt_sigqueueinfo), N(rt_sigsuspend),
	N(sigaltstack), N(utime), N(mknod), N(uselib), N(personality),
	N(ustat), N(statfs), N(fstatfs), N(sysfs), N(getpriority),
	N(setpriority), N(sched_setparam), N(sched_getparam),
	N(sched_setscheduler), N(sched_getscheduler),
	N(sched_get_priority_max), N(sched_get_priority_min),
	N(sched_rr_get_interval), N(mlock), N(munlock), N(mlockall),
	N(munlockall), N(vhangup), N(modify_ldt), N(pivot_root), N(_sysctl),
	N(prctl), N(arch_prctl), N(adjtimex), N(setrlimit), N(chroot),
	N(sync), N(acct), N(settimeofday), N(mount), N(umount2), N(swapon),
	N(swapoff), N(reboot), N(sethostname), N(setdomainname), N(iopl),
	N(ioperm), N(create_module), N(init_module), N(delete_module),
	N(get_kernel_syms), N(query_module), N(quotactl), N(nfsservctl),
	N(getpmsg), N(putpmsg), N(afs_syscall), N(tuxcall), N(security),
	N(gettid), N(readahead), N(setxattr), N(lsetxattr), N(fsetxattr),
	N(getxattr), N(lgetxattr), N(fgetxattr), N(listxattr), N(llistxattr),
	N(flistxattr), N(removexattr), N(lremovexattr), N(fremovexattr),
	N(tkill), N(time), N(futex), N(sched_setaffinity),
	N(sched_getaffinity), N(set_thread_area), N(io_setup), N(io_destroy),
	N(io_getevents), N(io_submit), N(io_cancel), N(get_thread_area),
	N(lookup_dcookie), N(epoll_create), N(epoll_ctl_old),
	N(epoll_wait_old), N(remap_file_pages), N(getdents64),
	N(set_tid_address), N(restart_syscall), N(semtimedop), N(fadvise64),
	N(timer_create), N(timer_settime), N(timer_gettime),
	N(timer_getoverrun), N(timer_delete), N(clock_settime),
	N(clock_gettime), N(clock_getres), N(clock_nanosleep), N(exit_group),
	N(epoll_wait), N(epoll_ctl), N(tgkill), N(utimes), N(vserver),
	N(mbind), N(set_mempolicy), N(get_mempolicy), N(mq_open),
	N(mq_unlink), N(mq_timedsend), N(mq_timedreceive), N(mq_notify),
	N(mq_getsetattr), N(kexec_load), N(waitid), N(add_key),
	N(request_key), N(keyctl), N(ioprio_set), N(ioprio_get),
	N(inotify_init), N(inotify_add_watch), N(inotify_rm_watch),
	N(migrate_pages), N(openat), N(mkdirat), N(mknodat), N(fchownat),
	N(futimesat), N(newfstatat), N(unlinkat), N(renameat), N(linkat),
	N(symlinkat), N(readlinkat), N(fchmodat), N(faccessat), N(pselect6),
	N(ppoll), N(unshare), N(set_robust_list), N(get_robust_list),
	N(splice), N(tee), N(sync_file_range), N(vmsplice), N(move_pages),
	N(utimensat), N(epoll_pwait), N(signalfd), N(timerfd_create),
	N(eventfd), N(fallocate), N(timerfd_settime), N(timerfd_gettime),
	N(accept4), N(signalfd4), N(eventfd2), N(epoll_create1), N(dup3),
	N(pipe2), N(inotify_init1), N(preadv), N(pwritev),
	N(rt_tgsigqueueinfo), N(perf_event_open), N(recvmmsg),
	N(fanotify_init), N(fanotify_mark), N(prlimit64),
	N(name_to_handle_at), N(open_by_handle_at), N(clock_adjtime),
	N(syncfs), N(sendmmsg), N(setns), N(getcpu), N(process_vm_readv),
	N(process_vm_writev), N(kcmp), N(finit_module), N(sched_setattr),
	N(sched_getattr), N(renameat2), N(seccomp), N(getrandom),
	N(memfd_create), N(kexec_file_load), N(bpf), N(execveat),
	N(userfaultfd), N(membarrier), N(mlock2), N(copy_file_range),
	N(preadv2), N(pwritev2), N(pkey_mprotect), N(pkey_alloc),
	N(pkey_free), N(statx), N(io_pgetevents), N(rseq),
	N(pidfd_send_signal), N(io_uring_setup), N(io_uring_enter),
	N(io_uring_register), N(open_tree), N(move_mount), N(fsopen),
	N(fsconfig), N(fsmount), N(fspick), N(pidfd_open), N(clone3),
	N(close_range), N(openat2), N(pidfd_getfd), N(faccessat2),
	N(process_madvise), N(epoll_pwait2), N(mount_setattr), N(quotactl_fd),
	N(landlock_create_ruleset), N(landlock_add_rule),
	N(landlock_restrict_self), N(memfd_secret), N(process_mrelease),
	N(futex_waitv), N(set_mempolicy_home_node),
};
#undef N

struct nr_arity {
	long nr;
	const char *name;
	unsigned nargs;
};

/* The real arity (SYSCALL_DEFINEn in the kernel) of common calls; an
 * implemented entry listed here must declare exactly this many. */
#define A(x, n) {__NR_##x, #x, n}
static const struct nr_arity arities[] = {
	A(read, 3), A(write, 3), A(open, 3), A(close, 1), A(stat, 2),
	A(fstat, 2), A(lstat, 2), A(poll, 3), A(lseek, 3), A(mmap, 6),
	A(mprotect, 3), A(munmap, 2), A(brk, 1), A(rt_sigaction, 4),
	A(rt_sigprocmask, 4), A(rt_sigreturn, 0), A(ioctl, 3), A(pread64, 4),
	A(pwrite64, 4), A(readv, 3), A(writev, 3), A(access, 2), A(pipe, 1),
	A(select, 5), A(sched_yield, 0), A(mremap, 5), A(msync, 3),
	A(mincore, 3), A(madvise, 3), A(dup, 1), A(dup2, 2), A(pause, 0),
	A(nanosleep, 2), A(getitimer, 2), A(alarm, 1), A(setitimer, 3),
	A(getpid, 0), A(sendfile, 4), A(socket, 3), A(connect, 3),
	A(accept, 3), A(sendto, 6), A(recvfrom, 6), A(sendmsg, 3),
	A(recvmsg, 3), A(shutdown, 2), A(bind, 3), A(listen, 2),
	A(getsockname, 3), A(getpeername, 3), A(socketpair, 4),
	A(setsockopt, 5), A(getsockopt, 5), A(clone, 5), A(fork, 0),
	A(vfork, 0), A(execve, 3), A(exit, 1), A(wait4, 4), A(kill, 2),
	A(uname, 1), A(fcntl, 3), A(flock, 2), A(fsync, 1), A(fdatasync, 1),
	A(truncate, 2), A(ftruncate, 2), A(getdents, 3), A(getcwd, 2),
	A(chdir, 1), A(fchdir, 1), A(rename, 2), A(mkdir, 2), A(rmdir, 1),
	A(creat, 2), A(link, 2), A(unlink, 1), A(symlink, 2), A(readlink, 3),
	A(chmod, 2), A(fchmod, 2), A(chown, 3), A(fchown, 3), A(lchown, 3),
	A(umask, 1), A(gettimeofday, 2), A(getrlimit, 2), A(getrusage, 2),
	A(sysinfo, 1), A(times, 1), A(ptrace, 4), A(getuid, 0), A(syslog, 3),
	A(getgid, 0), A(setuid, 1), A(setgid, 1), A(geteuid, 0),
	A(getegid, 0), A(setpgid, 2), A(getppid, 0), A(getpgrp, 0),
	A(setsid, 0), A(setreuid, 2), A(setregid, 2), A(getgroups, 2),
	A(setgroups, 2), A(setresuid, 3), A(getresuid, 3), A(setresgid, 3),
	A(getresgid, 3), A(getpgid, 1), A(setfsuid, 1), A(setfsgid, 1),
	A(getsid, 1), A(capget, 2), A(capset, 2), A(rt_sigpending, 2),
	A(rt_sigtimedwait, 4), A(rt_sigqueueinfo, 3), A(rt_tgsigqueueinfo, 4), A(rt_sigsuspend, 2),
	A(sigaltstack, 2), A(utime, 2), A(mknod, 3), A(personality, 1),
	A(statfs, 2), A(fstatfs, 2), A(getpriority, 2), A(setpriority, 3),
	A(sched_setparam, 2), A(sched_getparam, 2), A(sched_setscheduler, 3),
	A(sched_getscheduler, 1), A(sched_get_priority_max, 1),
	A(sched_get_priority_min, 1), A(sched_rr_get_interval, 2),
	A(mlock, 2), A(munlock, 2), A(mlockall, 1), A(munlockall, 0),
	A(prctl, 5), A(arch_prctl, 2), A(setrlimit, 2), A(chroot, 1),
	A(sync, 0), A(mount, 5), A(umount2, 2), A(sethostname, 2),
	A(setdomainname, 2), A(gettid, 0), A(readahead, 3), A(setxattr, 5),
	A(getxattr, 4), A(lgetxattr, 4), A(lsetxattr, 5), A(llistxattr, 3),
	A(flistxattr, 3), A(lremovexattr, 2), A(fremovexattr, 2), A(listxattr, 3), A(removexattr, 2), A(fsetxattr, 5),
	A(fgetxattr, 4), A(tkill, 2), A(time, 1), A(futex, 6),
	A(sched_setaffinity, 3), A(sched_getaffinity, 3), A(epoll_create, 1),
	A(getdents64, 3), A(set_tid_address, 1), A(restart_syscall, 0),
	A(fadvise64, 4), A(timer_create, 3), A(timer_settime, 4),
	A(timer_gettime, 2), A(timer_getoverrun, 1), A(timer_delete, 1),
	A(clock_settime, 2), A(clock_gettime, 2), A(clock_getres, 2),
	A(clock_nanosleep, 4), A(exit_group, 1), A(epoll_wait, 4),
	A(epoll_ctl, 4), A(tgkill, 3), A(utimes, 2), A(waitid, 5),
	A(openat, 4), A(mkdirat, 3), A(mknodat, 4), A(fchownat, 5),
	A(futimesat, 3), A(newfstatat, 4), A(unlinkat, 3), A(renameat, 4),
	A(linkat, 5), A(symlinkat, 3), A(readlinkat, 4), A(fchmodat, 3),
	A(faccessat, 3), A(pselect6, 6), A(ppoll, 5), A(unshare, 1),
	A(set_robust_list, 2), A(get_robust_list, 3), A(splice, 6), A(tee, 4),
	A(sync_file_range, 4), A(vmsplice, 4), A(utimensat, 4),
	A(epoll_pwait, 6), A(signalfd, 3), A(timerfd_create, 2),
	A(eventfd, 1), A(fallocate, 4), A(timerfd_settime, 4),
	A(timerfd_gettime, 2), A(accept4, 4), A(signalfd4, 4), A(eventfd2, 2),
	A(epoll_create1, 1), A(dup3, 3), A(pipe2, 2), A(inotify_init, 0),
	A(inotify_init1, 1), A(inotify_add_watch, 3), A(inotify_rm_watch, 2),
	A(preadv, 5), A(pwritev, 5), A(prlimit64, 4), A(syncfs, 1),
	A(sendmmsg, 4), A(recvmmsg, 5), A(setns, 2), A(getcpu, 3),
	A(process_vm_readv, 6), A(process_vm_writev, 6), A(renameat2, 5),
	A(seccomp, 3), A(getrandom, 3), A(memfd_create, 2), A(execveat, 5),
	A(membarrier, 3), A(mlock2, 3), A(copy_file_range, 6), A(preadv2, 6),
	A(pwritev2, 6), A(statx, 5), A(rseq, 4), A(pidfd_open, 2),
	A(pidfd_send_signal, 4), A(pidfd_getfd, 3), A(clone3, 2),
	A(close_range, 3), A(openat2, 4), A(faccessat2, 4),
	A(epoll_pwait2, 6), A(io_uring_setup, 2), A(io_uring_enter, 6),
	A(io_uring_register, 4),
};
#undef A

UTest(syscall_names, every_defined_number_has_its_name)
{
	for (size_t i = 0; i < ARRAY_SIZE(all_nrs); i++) {
		const char *n = abi_syscall_name(all_nrs[i].nr);
		cr_assert_lt(all_nrs[i].nr, ABI_NR_SYSCALLS, "%s", all_nrs[i].name);
		cr_assert_not_null(n, "no name for %ld (%s)", all_nrs[i].nr,
				   all_nrs[i].name);
		cr_assert_str_eq(n, all_nrs[i].name, "name of %ld", all_nrs[i].nr);
	}
}

UTest(syscall_names, spot_checks)
{
	static const struct nr_name spot[] = {
		{0, "read"}, {1, "write"}, {39, "getpid"}, {60, "exit"},
		{231, "exit_group"}, {334, "rseq"}, {435, "clone3"},
		{450, "set_mempolicy_home_node"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(spot); i++) {
		cr_assert_not_null(abi_syscall_name(spot[i].nr), "%ld", spot[i].nr);
		cr_assert_str_eq(abi_syscall_name(spot[i].nr), spot[i].name);
	}
	cr_assert_geq(ABI_NR_SYSCALLS, 451);
}

UTest(syscall_names, out_of_range_and_holes)
{
	cr_assert_null(abi_syscall_name(-1));
	cr_assert_null(abi_syscall_name(-4096));
	cr_assert_null(abi_syscall_name(ABI_NR_SYSCALLS));
	cr_assert_null(abi_syscall_name(ABI_NR_SYSCALLS + 1));
	cr_assert_null(abi_syscall_name(1L << 30));
	cr_assert_null(abi_syscall_name(0x40000000L | 1)); /* x32 bit */
	cr_assert_null(abi_syscall_name(1L << 62));
	cr_assert_null(abi_syscall_name((long)((~0UL) >> 1)));
	/* x86-64 leaves 335..423 unassigned. */
	for (long nr = 335; nr < 424; nr++)
		cr_assert_null(abi_syscall_name(nr), "%ld is not a syscall", nr);
}

UTest(syscall_names, table_is_exactly_the_header)
{
	/* Every non-NULL name is one the header defines, at its number. */
	size_t named = 0;
	for (long nr = 0; nr < ABI_NR_SYSCALLS; nr++) {
		const char *n = abi_syscall_name(nr);
		if (!n)
			continue;
		named++;
		bool found = false;
		for (size_t i = 0; i < ARRAY_SIZE(all_nrs); i++)
			if (all_nrs[i].nr == nr)
				found = !strcmp(all_nrs[i].name, n);
		cr_assert(found, "%ld named %s, which the header does not define", nr, n);
	}
	cr_assert_eq(named, ARRAY_SIZE(all_nrs));
}

UTest(syscall_names, unique)
{
	for (long a = 0; a < ABI_NR_SYSCALLS; a++) {
		const char *na = abi_syscall_name(a);
		if (!na)
			continue;
		cr_assert_neq(na[0], 0, "%ld has an empty name", a);
		for (long b = a + 1; b < ABI_NR_SYSCALLS; b++) {
			const char *nb = abi_syscall_name(b);
			cr_assert(!nb || strcmp(na, nb), "%ld and %ld are both %s", a, b, na);
		}
	}
}

/* ---- the dispatch table ---- */

UTest(syscall_table, entries_are_well_formed)
{
	unsigned implemented = 0;
	for (long nr = 0; nr < ABI_NR_SYSCALLS; nr++) {
		const struct syscall_desc *d = &syscall_table[nr];
		const char *name = abi_syscall_name(nr);
		cr_assert_leq(d->nargs, 6, "%s: nargs %u", name, d->nargs);
		cr_assert_leq(d->ret, SR_NORETURN, "%s: ret %u", name, d->ret);
		if (!d->fn) {
			cr_assert_eq(d->nargs, 0, "%ld: no handler but nargs %u", nr, d->nargs);
			cr_assert_eq(d->ret, SR_INT, "%ld: no handler but a ret kind", nr);
		} else {
			implemented++;
			cr_assert_not_null(name, "handler for %ld, a number with no name", nr);
		}
		for (unsigned i = 0; i < 6; i++) {
			cr_assert_lt(d->args[i], SA_KINDS, "%s: arg %u kind %u", name, i,
				     d->args[i]);
			if (i >= d->nargs)
				cr_assert_eq(d->args[i], SA_NONE, "%s: arg %u beyond nargs %u",
					     name, i, d->nargs);
			else
				cr_assert_neq(d->args[i], SA_NONE, "%s: arg %u has no kind",
					      name, i);
			/* A string shown from the buffer needs its length argument. */
			if (d->args[i] == SA_STR_IN)
				cr_assert_lt(i + 1, d->nargs, "%s: SA_STR_IN is last", name);
		}
	}
	cr_assert_gt(implemented, 10);
}

UTest(syscall_table, arities)
{
	/* Hand-checked: these must be implemented with these arities. */
	static const struct nr_arity must[] = {
		{__NR_read, "read", 3}, {__NR_mmap, "mmap", 6},
		{__NR_exit_group, "exit_group", 1}, {__NR_rt_sigaction, "rt_sigaction", 4},
		{__NR_prlimit64, "prlimit64", 4}, {__NR_clock_nanosleep, "clock_nanosleep", 4},
	};
	for (size_t i = 0; i < ARRAY_SIZE(must); i++) {
		const struct syscall_desc *d = &syscall_table[must[i].nr];
		cr_assert_not_null(d->fn, "%s not implemented", must[i].name);
		cr_assert_eq(d->nargs, must[i].nargs, "%s: nargs %u, real %u",
			     must[i].name, d->nargs, must[i].nargs);
	}
	for (size_t i = 0; i < ARRAY_SIZE(arities); i++) {
		const struct syscall_desc *d = &syscall_table[arities[i].nr];
		if (d->fn)
			cr_assert_eq(d->nargs, arities[i].nargs, "%s: nargs %u, real %u",
				     arities[i].name, d->nargs, arities[i].nargs);
	}
	/* Every implemented call has a hand-checked arity above. */
	for (long nr = 0; nr < ABI_NR_SYSCALLS; nr++) {
		bool listed = false;
		if (!syscall_table[nr].fn)
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(arities); i++)
			listed |= arities[i].nr == nr;
		cr_assert(listed, "%s is implemented: add its arity to arities[]",
			  abi_syscall_name(nr));
	}
}

UTest(syscall_table, noreturn_only_for_exits)
{
	for (long nr = 0; nr < ABI_NR_SYSCALLS; nr++) {
		if (syscall_table[nr].ret != SR_NORETURN)
			continue;
		cr_assert(nr == __NR_exit || nr == __NR_exit_group ||
			  nr == __NR_rt_sigreturn || nr == __NR_execve ||
			  nr == __NR_execveat,
			  "%s marked no-return", abi_syscall_name(nr));
	}
	cr_assert_eq(syscall_table[__NR_exit].ret, SR_NORETURN);
	cr_assert_eq(syscall_table[__NR_exit_group].ret, SR_NORETURN);
	cr_assert_eq(syscall_table[__NR_mmap].ret, SR_HEX);
}

/* ---- errno names ---- */

UTest(errno_names, known)
{
	cr_assert_str_eq(abi_errno_name(EPERM), "EPERM");
	cr_assert_str_eq(abi_errno_name(ENOENT), "ENOENT");
	cr_assert_str_eq(abi_errno_name(EAGAIN), "EAGAIN", "not EWOULDBLOCK");
	cr_assert_str_eq(abi_errno_name(EOPNOTSUPP), "EOPNOTSUPP", "not ENOTSUP");
	cr_assert_str_eq(abi_errno_name(EDEADLK), "EDEADLK", "not EDEADLOCK");
	cr_assert_str_eq(abi_errno_name(ENOSYS), "ENOSYS");
	cr_assert_str_eq(abi_errno_name(EINTR), "EINTR");
	cr_assert_str_eq(abi_errno_name(ENAMETOOLONG), "ENAMETOOLONG");
	cr_assert_str_eq(abi_errno_name(EHWPOISON), "EHWPOISON");
	cr_assert_str_eq(abi_errno_name(ERESTARTSYS), "ERESTARTSYS");
	cr_assert_str_eq(abi_errno_name(ERESTART_RESTARTBLOCK), "ERESTART_RESTARTBLOCK");
}

UTest(errno_names, every_errno_named)
{
	for (long e = 1; e <= EHWPOISON; e++) {
		const char *n = abi_errno_name(e);
		if (e == 41 || e == 58) /* unassigned on Linux */
			continue;
		cr_assert_not_null(n, "errno %ld has no name", e);
		cr_assert_eq(n[0], 'E', "errno %ld named %s", e, n);
		cr_assert_neq(strcmp(n, "EWOULDBLOCK"), 0);
	}
	cr_assert_null(abi_errno_name(41));
	cr_assert_null(abi_errno_name(58));
}

UTest(errno_names, out_of_range)
{
	const char *z = abi_errno_name(0);
	cr_assert(z == NULL || z[0] == 0, "0 named %s", z);
	cr_assert_null(abi_errno_name(-1));
	cr_assert_null(abi_errno_name(-ENOENT));
	cr_assert_null(abi_errno_name(ABI_MAX_ERRNO + 1));
	cr_assert_null(abi_errno_name(4096));
	cr_assert_null(abi_errno_name(1L << 40));
	cr_assert_null(abi_errno_name(1000));
}

/* ---- flag and enum formatting ---- */

static const char *flags(const struct abi_name *tbl, uint64_t v)
{
	static char buf[512];
	size_t n = abi_format_flags(buf, sizeof(buf), tbl, v);
	cr_assert_eq(n, strlen(buf));
	return buf;
}

static const char *enm(const struct abi_name *tbl, int64_t v)
{
	static char buf[128];
	size_t n = abi_format_enum(buf, sizeof(buf), tbl, v);
	cr_assert_eq(n, strlen(buf));
	return buf;
}

UTest(flags, format_flags)
{
	cr_assert_str_eq(flags(abi_mmap_prot, PROT_READ | PROT_WRITE), "PROT_READ|PROT_WRITE");
	cr_assert_str_eq(flags(abi_mmap_prot, PROT_READ), "PROT_READ");
	cr_assert_str_eq(flags(abi_mmap_prot, PROT_READ | PROT_WRITE | PROT_EXEC),
			 "PROT_READ|PROT_WRITE|PROT_EXEC");
	cr_assert_str_eq(flags(abi_mmap_prot, 0), "0");
	cr_assert_str_eq(flags(abi_mmap_flags, MAP_PRIVATE | MAP_ANONYMOUS),
			 "MAP_PRIVATE|MAP_ANONYMOUS");
	cr_assert_str_eq(flags(abi_mmap_flags, MAP_SHARED), "MAP_SHARED");
	cr_assert_str_eq(flags(abi_mmap_flags, MAP_SHARED_VALIDATE), "MAP_SHARED_VALIDATE");
	cr_assert_str_eq(flags(abi_mmap_flags, MAP_SHARED_VALIDATE | MAP_FIXED),
			 "MAP_SHARED_VALIDATE|MAP_FIXED");
	cr_assert_str_eq(flags(abi_mmap_flags, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS |
					       MAP_NORESERVE),
			 "MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS|MAP_NORESERVE");
	/* Unknown bits are shown in hex, after the names. */
	cr_assert_str_eq(flags(abi_mmap_prot, PROT_READ | 0x10), "PROT_READ|0x10");
	cr_assert_str_eq(flags(abi_mmap_prot, 0x80000000), "0x80000000");
	cr_assert_str_eq(flags(abi_mmap_prot, 0xffff0000000000f0ULL), "0xffff0000000000f0");
	cr_assert_str_eq(flags(abi_mmap_prot, UINT64_MAX),
			 "PROT_READ|PROT_WRITE|PROT_EXEC|PROT_GROWSDOWN|PROT_GROWSUP|"
			 "0xfffffffffcfffff8");
	cr_assert_str_eq(flags(abi_clone_flags, CLONE_VM | CLONE_FS | CLONE_FILES |
						CLONE_SIGHAND | CLONE_THREAD | SIGCHLD),
			 "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|0x11");
}

UTest(flags, format_flags_small_buffers)
{
	const uint64_t v = PROT_READ | PROT_WRITE;
	const char *full = "PROT_READ|PROT_WRITE";
	char buf[32];

	/* cap 0: nothing written, the full length returned. */
	memset(buf, '#', sizeof(buf));
	cr_assert_eq(abi_format_flags(buf, 0, abi_mmap_prot, v), strlen(full));
	cr_assert_eq(buf[0], '#');
	cr_assert_eq(abi_format_flags(buf, 0, abi_mmap_prot, 0), 1);
	cr_assert_eq(buf[0], '#');
	/* A NULL buffer of cap 0 measures, as with snprintf. */
	cr_assert_eq(abi_format_flags(NULL, 0, abi_mmap_prot, v), strlen(full));
	cr_assert_eq(abi_format_flags(NULL, 0, abi_mmap_prot, v | 0x100), strlen(full) + 6);
	cr_assert_eq(abi_format_enum(NULL, 0, abi_clock_ids, CLOCK_TAI), strlen("CLOCK_TAI"));
	/* cap 1: only the terminator. */
	memset(buf, '#', sizeof(buf));
	cr_assert_eq(abi_format_flags(buf, 1, abi_mmap_prot, v), strlen(full));
	cr_assert_eq(buf[0], 0);
	cr_assert_eq(buf[1], '#');
	/* cap 5: four characters and the terminator, nothing past. */
	memset(buf, '#', sizeof(buf));
	cr_assert_eq(abi_format_flags(buf, 5, abi_mmap_prot, v), strlen(full));
	cr_assert_str_eq(buf, "PROT");
	for (size_t i = 5; i < sizeof(buf); i++)
		cr_assert_eq(buf[i], '#', "byte %zu written with cap 5", i);
	/* Every cap: a prefix of the full text, terminated, never past cap. */
	for (size_t cap = 1; cap < 28; cap++) {
		uint64_t w = PROT_READ | PROT_WRITE | 0x40;
		const char *want = "PROT_READ|PROT_WRITE|0x40";
		memset(buf, '#', sizeof(buf));
		cr_assert_eq(abi_format_flags(buf, cap, abi_mmap_prot, w), strlen(want));
		cr_assert_eq(strlen(buf), MIN(cap - 1, strlen(want)), "cap %zu", cap);
		cr_assert_eq(strncmp(buf, want, strlen(buf)), 0, "cap %zu: %s", cap, buf);
		for (size_t i = cap; i < sizeof(buf); i++)
			cr_assert_eq(buf[i], '#', "cap %zu: byte %zu written", cap, i);
	}
}

UTest(flags, format_enum)
{
	char buf[8];

	cr_assert_str_eq(enm(abi_clock_ids, CLOCK_MONOTONIC), "CLOCK_MONOTONIC");
	cr_assert_str_eq(enm(abi_clock_ids, CLOCK_REALTIME), "CLOCK_REALTIME");
	cr_assert_str_eq(enm(abi_clock_ids, 99), "99");
	cr_assert_str_eq(enm(abi_clock_ids, -1), "-1");
	cr_assert_str_eq(enm(abi_whence, SEEK_END), "SEEK_END");
	cr_assert_str_eq(enm(abi_signals, SIGSEGV), "SIGSEGV");
	cr_assert_str_eq(enm(abi_sigprocmask_how, SIG_SETMASK), "SIG_SETMASK");
	cr_assert_str_eq(enm(abi_rlimit_resources, RLIMIT_NOFILE), "RLIMIT_NOFILE");
	cr_assert_str_eq(enm(abi_fcntl_cmds, F_DUPFD_CLOEXEC), "F_DUPFD_CLOEXEC");
	cr_assert_str_eq(enm(abi_whence, INT64_MIN), "-9223372036854775808");

	memset(buf, '#', sizeof(buf));
	cr_assert_eq(abi_format_enum(buf, 0, abi_clock_ids, CLOCK_MONOTONIC),
		     strlen("CLOCK_MONOTONIC"));
	cr_assert_eq(buf[0], '#');
	cr_assert_eq(abi_format_enum(buf, 1, abi_clock_ids, CLOCK_MONOTONIC),
		     strlen("CLOCK_MONOTONIC"));
	cr_assert_eq(buf[0], 0);
	cr_assert_eq(buf[1], '#');
	memset(buf, '#', sizeof(buf));
	cr_assert_eq(abi_format_enum(buf, 5, abi_clock_ids, CLOCK_MONOTONIC),
		     strlen("CLOCK_MONOTONIC"));
	cr_assert_str_eq(buf, "CLOC");
	cr_assert_eq(buf[5], '#');
	memset(buf, '#', sizeof(buf));
	cr_assert_eq(abi_format_enum(buf, 5, abi_clock_ids, 123456), 6);
	cr_assert_str_eq(buf, "1234");
	cr_assert_eq(buf[5], '#');
}

UTest(flags, lookup_and_signals)
{
	cr_assert_str_eq(abi_lookup(abi_mmap_prot, PROT_EXEC), "PROT_EXEC");
	cr_assert_null(abi_lookup(abi_mmap_prot, 0x1234));
	cr_assert_str_eq(abi_signal_name(SIGSEGV), "SIGSEGV");
	cr_assert_str_eq(abi_signal_name(SIGKILL), "SIGKILL");
	cr_assert_str_eq(abi_signal_name(SIGSYS), "SIGSYS");
	cr_assert_null(abi_signal_name(0));
	cr_assert_null(abi_signal_name(-SIGSEGV));
	cr_assert_null(abi_signal_name(65));
	for (int s = 1; s < 32; s++)
		cr_assert_not_null(abi_signal_name(s), "signal %d unnamed", s);
}

UTest(flags, tables_well_formed)
{
	const struct abi_name *const tbls[] = {
		abi_mmap_prot, abi_mmap_flags, abi_open_flags, abi_at_flags,
		abi_mremap_flags, abi_getrandom_flags, abi_sa_flags, abi_clone_flags,
		abi_clock_ids, abi_arch_prctl_codes, abi_rlimit_resources,
		abi_madvise_advice, abi_sigprocmask_how, abi_prctl_options,
		abi_ioctl_requests, abi_signals, abi_fcntl_cmds, abi_whence,
	};
	for (size_t t = 0; t < ARRAY_SIZE(tbls); t++) {
		size_t n = 0;
		for (const struct abi_name *e = tbls[t]; e->name; e++, n++) {
			cr_assert_neq(e->name[0], 0, "table %zu entry %zu", t, n);
			cr_assert_lt(n, 256, "table %zu unterminated?", t);
			/* Names are unique within a table. */
			for (const struct abi_name *f = e + 1; f->name; f++)
				cr_assert_neq(strcmp(e->name, f->name), 0, "%s twice", e->name);
		}
		cr_assert_gt(n, 0, "table %zu empty", t);
	}
}
