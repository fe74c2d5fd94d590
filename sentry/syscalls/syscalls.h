/* The system call table and its handlers. A handler decodes arguments,
 * copies them in, calls the subsystem and copies results out; the
 * behaviour lives in the subsystem (DESIGN.md, layout). */
#ifndef RC_SENTRY_SYSCALLS_SYSCALLS_H
#define RC_SENTRY_SYSCALLS_SYSCALLS_H

#include <stddef.h>
#include <stdint.h>

#include "abi/syscalls.h"

struct task;

typedef long (*syscall_fn)(struct task *t, const uint64_t *a);

/* How --strace shows an argument. */
enum sarg {
	SA_NONE,
	SA_INT,        /* signed decimal */
	SA_UINT,       /* unsigned decimal */
	SA_HEX,
	SA_PTR,        /* NULL or hex */
	SA_FD,         /* AT_FDCWD by name */
	SA_PATH,       /* NUL-terminated string, read before the call */
	SA_STR_IN,     /* buffer of the next argument's length, read before */
	SA_BUF_OUT,    /* buffer filled by the call, the result's length */
	SA_OCTAL,
	SA_MMAP_PROT, SA_MMAP_FLAGS, SA_OPEN_FLAGS, SA_AT_FLAGS, SA_CLOCK,
	SA_ARCH_PRCTL, SA_RLIMIT, SA_MADVISE, SA_MREMAP, SA_SIGHOW, SA_SIGNAL,
	SA_PRCTL, SA_IOCTL, SA_GRND, SA_FCNTL, SA_WHENCE, SA_CLONE, SA_FUTEX_OP,
	SA_KINDS /* the number of kinds */
};

enum sret { SR_INT, SR_HEX, SR_NORETURN };

struct syscall_desc {
	syscall_fn fn;
	uint8_t nargs;
	uint8_t ret;
	uint8_t args[6];
};

extern const struct syscall_desc syscall_table[ABI_NR_SYSCALLS];

/* Handles the system call that stopped t (its registers hold it). */
void syscall_dispatch(struct task *t);

/* strace.c: formats and prints one line per call. */
void strace_enter(struct task *t, long nr, const uint64_t *a, char *buf, size_t cap);
void strace_exit(struct task *t, long nr, const uint64_t *a, long ret,
		 const char *entry, uint64_t ns);

#define SYSCALL(name)                                                          \
	long sys_##name(struct task *t __attribute__((unused)),                 \
			const uint64_t *a __attribute__((unused)))

/* sys_mm.c */
SYSCALL(brk); SYSCALL(mmap); SYSCALL(munmap); SYSCALL(mprotect);
SYSCALL(mremap); SYSCALL(madvise); SYSCALL(msync); SYSCALL(mincore);
/* sys_rw.c */
SYSCALL(read); SYSCALL(write); SYSCALL(readv); SYSCALL(writev);
SYSCALL(pread64); SYSCALL(pwrite64); SYSCALL(preadv); SYSCALL(pwritev);
SYSCALL(preadv2); SYSCALL(pwritev2);
/* sys_open.c */
SYSCALL(open); SYSCALL(openat); SYSCALL(openat2); SYSCALL(creat); SYSCALL(close);
SYSCALL(close_range); SYSCALL(dup); SYSCALL(dup2); SYSCALL(dup3);
/* sys_stat.c */
SYSCALL(stat); SYSCALL(lstat); SYSCALL(fstat); SYSCALL(newfstatat); SYSCALL(statx);
SYSCALL(statfs); SYSCALL(fstatfs);
/* sys_names.c */
SYSCALL(mkdir); SYSCALL(mkdirat); SYSCALL(mknod); SYSCALL(mknodat); SYSCALL(unlink);
SYSCALL(unlinkat); SYSCALL(rmdir); SYSCALL(rename); SYSCALL(renameat);
SYSCALL(renameat2); SYSCALL(link); SYSCALL(linkat); SYSCALL(symlink);
SYSCALL(symlinkat); SYSCALL(readlink); SYSCALL(readlinkat);
/* sys_attr.c */
SYSCALL(chmod); SYSCALL(fchmod); SYSCALL(fchmodat); SYSCALL(chown); SYSCALL(lchown);
SYSCALL(fchown); SYSCALL(fchownat); SYSCALL(utimensat); SYSCALL(utimes);
SYSCALL(futimesat); SYSCALL(utime); SYSCALL(truncate); SYSCALL(ftruncate);
SYSCALL(access); SYSCALL(faccessat); SYSCALL(faccessat2); SYSCALL(umask);
/* sys_cwd.c */
SYSCALL(chdir); SYSCALL(fchdir); SYSCALL(chroot); SYSCALL(getcwd);
/* sys_dir.c */
SYSCALL(getdents64); SYSCALL(getdents);
/* sys_fd.c */
SYSCALL(ioctl); SYSCALL(fcntl); SYSCALL(lseek); SYSCALL(fsync); SYSCALL(fdatasync);
SYSCALL(sync); SYSCALL(syncfs); SYSCALL(fallocate); SYSCALL(flock);
/* sys_xattr.c */
SYSCALL(getxattr); SYSCALL(lgetxattr); SYSCALL(fgetxattr); SYSCALL(setxattr);
SYSCALL(lsetxattr); SYSCALL(fsetxattr); SYSCALL(listxattr); SYSCALL(llistxattr);
SYSCALL(flistxattr); SYSCALL(removexattr); SYSCALL(lremovexattr);
SYSCALL(fremovexattr);
/* sys_copy.c */
SYSCALL(sendfile); SYSCALL(copy_file_range);
/* sys_id.c */
SYSCALL(getpid); SYSCALL(gettid); SYSCALL(getppid); SYSCALL(getuid);
SYSCALL(geteuid); SYSCALL(getgid); SYSCALL(getegid); SYSCALL(getresuid);
SYSCALL(getresgid);
/* sys_process.c */
SYSCALL(fork); SYSCALL(vfork); SYSCALL(clone); SYSCALL(clone3); SYSCALL(execve);
SYSCALL(execveat); SYSCALL(exit); SYSCALL(exit_group); SYSCALL(wait4);
SYSCALL(waitid); SYSCALL(getppid); SYSCALL(getpgid); SYSCALL(getpgrp);
SYSCALL(getsid); SYSCALL(setsid); SYSCALL(setpgid); SYSCALL(getrusage); SYSCALL(times);
/* sys_time.c */
SYSCALL(clock_gettime); SYSCALL(clock_getres); SYSCALL(gettimeofday);
SYSCALL(time); SYSCALL(nanosleep); SYSCALL(clock_nanosleep);
/* sys_proc.c */
SYSCALL(set_tid_address);
SYSCALL(set_robust_list); SYSCALL(get_robust_list); SYSCALL(rseq);
SYSCALL(arch_prctl); SYSCALL(prctl); SYSCALL(prlimit64); SYSCALL(getrlimit);
SYSCALL(setrlimit); SYSCALL(uname); SYSCALL(getrandom); SYSCALL(sched_yield);
SYSCALL(sched_getaffinity); SYSCALL(getcpu); SYSCALL(futex);
/* sys_signal.c */
SYSCALL(rt_sigaction); SYSCALL(rt_sigprocmask); SYSCALL(sigaltstack);
SYSCALL(kill); SYSCALL(tkill); SYSCALL(tgkill); SYSCALL(rt_sigreturn);
SYSCALL(rt_sigpending); SYSCALL(rt_sigqueueinfo); SYSCALL(rt_tgsigqueueinfo);
SYSCALL(pause); SYSCALL(rt_sigsuspend); SYSCALL(rt_sigtimedwait);
SYSCALL(restart_syscall);
/* --- pipes, fifos, splice, memfd (sys_pipe.c) --- */
SYSCALL(pipe); SYSCALL(pipe2); SYSCALL(splice); SYSCALL(tee); SYSCALL(vmsplice);
SYSCALL(memfd_create);
/* --- poll, select, epoll, eventfd, signalfd (sys_poll.c) --- */
SYSCALL(poll); SYSCALL(ppoll); SYSCALL(select); SYSCALL(pselect6);
SYSCALL(eventfd); SYSCALL(eventfd2); SYSCALL(signalfd); SYSCALL(signalfd4);
/* sys_epoll.c */
SYSCALL(epoll_create); SYSCALL(epoll_create1); SYSCALL(epoll_ctl);
SYSCALL(epoll_wait); SYSCALL(epoll_pwait); SYSCALL(epoll_pwait2);
/* sys_sched.c (and sched_getaffinity, declared above) */
SYSCALL(sched_setaffinity); SYSCALL(sched_get_priority_max);
SYSCALL(sched_get_priority_min); SYSCALL(sched_getscheduler);
SYSCALL(sched_setscheduler); SYSCALL(sched_getparam); SYSCALL(sched_setparam);
SYSCALL(getpriority); SYSCALL(setpriority);
/* --- timers: alarm, itimers, POSIX timers, timerfd (sys_timer.c) --- */
SYSCALL(alarm); SYSCALL(setitimer); SYSCALL(getitimer); SYSCALL(timer_create);
SYSCALL(timer_settime); SYSCALL(timer_gettime); SYSCALL(timer_getoverrun);
SYSCALL(timer_delete); SYSCALL(timerfd_create); SYSCALL(timerfd_settime);
SYSCALL(timerfd_gettime);
/* --- unix sockets (sys_socket.c) --- */
SYSCALL(socket); SYSCALL(socketpair); SYSCALL(bind); SYSCALL(connect); SYSCALL(listen);
SYSCALL(accept); SYSCALL(accept4); SYSCALL(getsockname); SYSCALL(getpeername);
SYSCALL(sendto); SYSCALL(recvfrom); SYSCALL(sendmsg); SYSCALL(recvmsg);
SYSCALL(sendmmsg); SYSCALL(recvmmsg); SYSCALL(shutdown); SYSCALL(setsockopt);
SYSCALL(getsockopt);
/* --- credentials (sys_creds.c) --- */
SYSCALL(setuid); SYSCALL(setgid); SYSCALL(setreuid); SYSCALL(setregid);
SYSCALL(setresuid); SYSCALL(setresgid); SYSCALL(setfsuid); SYSCALL(setfsgid);
SYSCALL(getgroups); SYSCALL(setgroups); SYSCALL(capget); SYSCALL(capset);

#endif
