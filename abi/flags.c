#include "abi/flags.h"

#include <asm/prctl.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/random.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

#define N(x) {(uint64_t)(x), #x}
#define END {0, NULL}

const struct abi_name abi_mmap_prot[] = {
	N(PROT_READ), N(PROT_WRITE), N(PROT_EXEC), N(PROT_GROWSDOWN),
	N(PROT_GROWSUP), END};

const struct abi_name abi_mmap_flags[] = {
	{0x3, "MAP_SHARED_VALIDATE"}, N(MAP_SHARED), N(MAP_PRIVATE),
	N(MAP_FIXED), N(MAP_ANONYMOUS), N(MAP_32BIT), N(MAP_GROWSDOWN),
	N(MAP_DENYWRITE), N(MAP_EXECUTABLE), N(MAP_LOCKED), N(MAP_NORESERVE),
	N(MAP_POPULATE), N(MAP_NONBLOCK), N(MAP_STACK), N(MAP_HUGETLB),
	N(MAP_SYNC), N(MAP_FIXED_NOREPLACE), END};

const struct abi_name abi_open_flags[] = {
	N(O_WRONLY), N(O_RDWR), N(O_CREAT), N(O_EXCL), N(O_NOCTTY),
	N(O_TRUNC), N(O_APPEND), N(O_NONBLOCK), N(O_DSYNC), N(O_ASYNC),
	N(O_DIRECT), {0100000, "O_LARGEFILE"}, N(O_DIRECTORY), N(O_NOFOLLOW),
	N(O_NOATIME), N(O_CLOEXEC), {04000000, "__O_SYNC"}, N(O_PATH),
	{020000000, "__O_TMPFILE"}, END};

const struct abi_name abi_at_flags[] = {
	N(AT_SYMLINK_NOFOLLOW), N(AT_REMOVEDIR), N(AT_SYMLINK_FOLLOW),
	N(AT_NO_AUTOMOUNT), N(AT_EMPTY_PATH), N(AT_EACCESS), END};

const struct abi_name abi_mremap_flags[] = {
	N(MREMAP_MAYMOVE), N(MREMAP_FIXED), {4, "MREMAP_DONTUNMAP"}, END};

const struct abi_name abi_getrandom_flags[] = {
	N(GRND_NONBLOCK), N(GRND_RANDOM), {4, "GRND_INSECURE"}, END};

const struct abi_name abi_sa_flags[] = {
	N(SA_NOCLDSTOP), N(SA_NOCLDWAIT), N(SA_SIGINFO), {0x04000000, "SA_RESTORER"},
	N(SA_ONSTACK), N(SA_RESTART), N(SA_NODEFER), N(SA_RESETHAND), END};

const struct abi_name abi_clone_flags[] = {
	N(CLONE_VM), N(CLONE_FS), N(CLONE_FILES), N(CLONE_SIGHAND),
	N(CLONE_PIDFD), N(CLONE_PTRACE), N(CLONE_VFORK), N(CLONE_PARENT),
	N(CLONE_THREAD), N(CLONE_NEWNS), N(CLONE_SYSVSEM), N(CLONE_SETTLS),
	N(CLONE_PARENT_SETTID), N(CLONE_CHILD_CLEARTID), N(CLONE_DETACHED),
	N(CLONE_UNTRACED), N(CLONE_CHILD_SETTID), N(CLONE_NEWCGROUP),
	N(CLONE_NEWUTS), N(CLONE_NEWIPC), N(CLONE_NEWUSER), N(CLONE_NEWPID),
	N(CLONE_NEWNET), N(CLONE_IO), END};

const struct abi_name abi_clock_ids[] = {
	N(CLOCK_REALTIME), N(CLOCK_MONOTONIC), N(CLOCK_PROCESS_CPUTIME_ID),
	N(CLOCK_THREAD_CPUTIME_ID), N(CLOCK_MONOTONIC_RAW),
	N(CLOCK_REALTIME_COARSE), N(CLOCK_MONOTONIC_COARSE), N(CLOCK_BOOTTIME),
	N(CLOCK_REALTIME_ALARM), N(CLOCK_BOOTTIME_ALARM), N(CLOCK_TAI), END};

const struct abi_name abi_arch_prctl_codes[] = {
	N(ARCH_SET_GS), N(ARCH_SET_FS), N(ARCH_GET_FS), N(ARCH_GET_GS),
	N(ARCH_GET_CPUID), N(ARCH_SET_CPUID), {0x3001, "ARCH_CET_STATUS"},
	{0x1021, "ARCH_GET_XCOMP_SUPP"}, {0x1022, "ARCH_GET_XCOMP_PERM"},
	{0x1023, "ARCH_REQ_XCOMP_PERM"}, END};

const struct abi_name abi_rlimit_resources[] = {
	N(RLIMIT_CPU), N(RLIMIT_FSIZE), N(RLIMIT_DATA), N(RLIMIT_STACK),
	N(RLIMIT_CORE), N(RLIMIT_RSS), N(RLIMIT_NPROC), N(RLIMIT_NOFILE),
	N(RLIMIT_MEMLOCK), N(RLIMIT_AS), N(RLIMIT_LOCKS), N(RLIMIT_SIGPENDING),
	N(RLIMIT_MSGQUEUE), N(RLIMIT_NICE), N(RLIMIT_RTPRIO), N(RLIMIT_RTTIME),
	END};

const struct abi_name abi_madvise_advice[] = {
	N(MADV_NORMAL), N(MADV_RANDOM), N(MADV_SEQUENTIAL), N(MADV_WILLNEED),
	N(MADV_DONTNEED), N(MADV_FREE), N(MADV_REMOVE), N(MADV_DONTFORK),
	N(MADV_DOFORK), N(MADV_MERGEABLE), N(MADV_UNMERGEABLE),
	N(MADV_HUGEPAGE), N(MADV_NOHUGEPAGE), N(MADV_DONTDUMP), N(MADV_DODUMP),
	N(MADV_WIPEONFORK), N(MADV_KEEPONFORK), N(MADV_COLD), N(MADV_PAGEOUT),
	N(MADV_HWPOISON), END};

const struct abi_name abi_sigprocmask_how[] = {
	N(SIG_BLOCK), N(SIG_UNBLOCK), N(SIG_SETMASK), END};

const struct abi_name abi_prctl_options[] = {
	N(PR_SET_PDEATHSIG), N(PR_GET_PDEATHSIG), N(PR_GET_DUMPABLE),
	N(PR_SET_DUMPABLE), N(PR_SET_NAME), N(PR_GET_NAME), N(PR_GET_SECCOMP),
	N(PR_SET_SECCOMP), N(PR_CAPBSET_READ), N(PR_CAPBSET_DROP),
	N(PR_SET_NO_NEW_PRIVS), N(PR_GET_NO_NEW_PRIVS), N(PR_SET_CHILD_SUBREAPER),
	N(PR_GET_CHILD_SUBREAPER), N(PR_SET_KEEPCAPS), N(PR_GET_KEEPCAPS),
	N(PR_SET_MM), N(PR_SET_VMA), N(PR_CAP_AMBIENT), N(PR_GET_TID_ADDRESS),
	N(PR_SET_TIMERSLACK), N(PR_GET_TIMERSLACK), N(PR_SET_THP_DISABLE),
	N(PR_GET_THP_DISABLE), END};

const struct abi_name abi_ioctl_requests[] = {
	N(TCGETS), N(TCSETS), N(TCSETSW), N(TCSETSF), N(TIOCGWINSZ),
	N(TIOCSWINSZ), N(TIOCGPGRP), N(TIOCSPGRP), N(TIOCSCTTY), N(TIOCNOTTY),
	N(FIONREAD), N(FIONBIO), N(FIOCLEX), N(FIONCLEX), N(TIOCGPTN),
	N(TIOCSPTLCK), N(TIOCGSID), N(TCFLSH), N(TCXONC), N(TCSBRK),
	END};

const struct abi_name abi_signals[] = {
	N(SIGHUP), N(SIGINT), N(SIGQUIT), N(SIGILL), N(SIGTRAP), N(SIGABRT),
	N(SIGBUS), N(SIGFPE), N(SIGKILL), N(SIGUSR1), N(SIGSEGV), N(SIGUSR2),
	N(SIGPIPE), N(SIGALRM), N(SIGTERM), N(SIGSTKFLT), N(SIGCHLD),
	N(SIGCONT), N(SIGSTOP), N(SIGTSTP), N(SIGTTIN), N(SIGTTOU), N(SIGURG),
	N(SIGXCPU), N(SIGXFSZ), N(SIGVTALRM), N(SIGPROF), N(SIGWINCH),
	N(SIGIO), N(SIGPWR), N(SIGSYS), END};

const struct abi_name abi_fcntl_cmds[] = {
	N(F_DUPFD), N(F_GETFD), N(F_SETFD), N(F_GETFL), N(F_SETFL), N(F_GETLK),
	N(F_SETLK), N(F_SETLKW), N(F_SETOWN), N(F_GETOWN), N(F_SETSIG),
	N(F_GETSIG), N(F_SETOWN_EX), N(F_GETOWN_EX), N(F_OFD_GETLK),
	N(F_OFD_SETLK), N(F_OFD_SETLKW), N(F_SETLEASE), N(F_GETLEASE),
	N(F_NOTIFY), N(F_DUPFD_CLOEXEC), N(F_SETPIPE_SZ), N(F_GETPIPE_SZ),
	N(F_ADD_SEALS), N(F_GET_SEALS), END};

const struct abi_name abi_futex_ops[] = {
	N(FUTEX_WAIT), N(FUTEX_WAKE), N(FUTEX_FD), N(FUTEX_REQUEUE),
	N(FUTEX_CMP_REQUEUE), N(FUTEX_WAKE_OP), N(FUTEX_LOCK_PI), N(FUTEX_UNLOCK_PI),
	N(FUTEX_TRYLOCK_PI), N(FUTEX_WAIT_BITSET), N(FUTEX_WAKE_BITSET),
	N(FUTEX_WAIT_REQUEUE_PI), N(FUTEX_CMP_REQUEUE_PI), {13, "FUTEX_LOCK_PI2"}, END};

const struct abi_name abi_whence[] = {
	N(SEEK_SET), N(SEEK_CUR), N(SEEK_END), N(SEEK_DATA), N(SEEK_HOLE), END};

const char *abi_lookup(const struct abi_name *tbl, uint64_t val)
{
	for (; tbl->name; tbl++)
		if (tbl->value == val)
			return tbl->name;
	return NULL;
}

const char *abi_signal_name(int sig)
{
	return sig > 0 ? abi_lookup(abi_signals, (uint64_t)sig) : NULL;
}

/* Appends with snprintf semantics, never past cap. */
static size_t append(char *buf, size_t cap, size_t pos, const char *s)
{
	/* No arithmetic on buf once it is full: it may be NULL with cap 0. */
	int n = pos < cap ? snprintf(buf + pos, cap - pos, "%s", s)
			  : snprintf(NULL, 0, "%s", s);
	return pos + (size_t)(n > 0 ? n : 0);
}

size_t abi_format_flags(char *buf, size_t cap, const struct abi_name *tbl,
			uint64_t val)
{
	size_t pos = 0;
	uint64_t rest = val;

	if (cap)
		buf[0] = 0;
	if (val == 0)
		return append(buf, cap, 0, "0");
	/* Tables list multi-bit values (MAP_SHARED_VALIDATE) before the
	 * single bits they contain, so the first exact subset wins. */
	for (const struct abi_name *t = tbl; t->name; t++) {
		if (t->value && (rest & t->value) == t->value) {
			if (pos)
				pos = append(buf, cap, pos, "|");
			pos = append(buf, cap, pos, t->name);
			rest &= ~t->value;
		}
	}
	if (rest) {
		char hex[24];
		snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)rest);
		if (pos)
			pos = append(buf, cap, pos, "|");
		pos = append(buf, cap, pos, hex);
	}
	return pos;
}

size_t abi_format_enum(char *buf, size_t cap, const struct abi_name *tbl,
		       int64_t val)
{
	const char *n = abi_lookup(tbl, (uint64_t)val);
	int r = n ? snprintf(buf, cap, "%s", n)
		  : snprintf(buf, cap, "%lld", (long long)val);
	return (size_t)(r > 0 ? r : 0);
}
