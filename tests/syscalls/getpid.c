/* Process identity and per-process settings: the getpid family,
 * credentials, set_tid_address and the robust list, prctl names and
 * flags, arch_prctl, resource limits. Only what Linux guarantees is
 * asserted: the values themselves differ natively and in a sandbox. */
#include <asm/prctl.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#define PS 4096UL
#define BAD_PTR ((void *)8)
#define NO_SUCH_PID 0x3ffffff0 /* above PID_MAX_LIMIT */

static void test_ids(void)
{
	pid_t pid = getpid();
	uid_t r, e, s;
	gid_t rg, eg, sg;
	gid_t groups[256];
	int n;

	CHECK(pid > 0);
	CHECK_EQ(syscall(SYS_getpid), pid);
	CHECK_EQ(gettid(), pid); /* one thread: it leads the group */
	CHECK_EQ(syscall(SYS_gettid), pid);
	CHECK(getppid() >= 0);
	CHECK_EQ(syscall(SYS_getppid), getppid());
	CHECK(getppid() != pid);

	CHECK_EQ(syscall(SYS_getuid), getuid());
	CHECK_EQ(syscall(SYS_geteuid), geteuid());
	CHECK_EQ(syscall(SYS_getgid), getgid());
	CHECK_EQ(syscall(SYS_getegid), getegid());
	CHECK_EQ(getresuid(&r, &e, &s), 0);
	CHECK_EQ(r, getuid());
	CHECK_EQ(e, geteuid());
	CHECK_EQ(getresgid(&rg, &eg, &sg), 0);
	CHECK_EQ(rg, getgid());
	CHECK_EQ(eg, getegid());
	CHECK_ERR(syscall(SYS_getresuid, BAD_PTR, &e, &s), EFAULT);
	CHECK_ERR(syscall(SYS_getresgid, &rg, &eg, BAD_PTR), EFAULT);

	n = (int)CHECK_SYS(getgroups(0, NULL));
	CHECK(n >= 0 && n <= 256);
	if (n >= 0 && n <= 256) {
		CHECK_EQ(getgroups(256, groups), n);
		CHECK_EQ(syscall(SYS_getgroups, n, groups), n);
		if (n > 0)
			CHECK_ERR(syscall(SYS_getgroups, n - 1, groups), EINVAL);
	}
	CHECK_ERR(syscall(SYS_getgroups, -1, groups), EINVAL);
}

struct robust_head {
	void *list;
	long futex_offset;
	void *pending;
};

static void test_tid_robust(void)
{
	static int tid_word;
	static struct robust_head head = {&head, 0, NULL};
	void *orig = NULL, *got = NULL;
	size_t len = 0;

	CHECK_EQ(syscall(SYS_set_tid_address, &tid_word), gettid());

	/* glibc registered its own list at start; swap ours in and back. */
	CHECK_EQ(syscall(SYS_get_robust_list, 0, &orig, &len), 0);
	CHECK_EQ(len, sizeof(struct robust_head));
	CHECK_EQ(syscall(SYS_set_robust_list, &head, sizeof(head)), 0);
	CHECK_EQ(syscall(SYS_get_robust_list, 0, &got, &len), 0);
	CHECK(got == &head);
	CHECK_EQ(syscall(SYS_get_robust_list, gettid(), &got, &len), 0);
	CHECK(got == &head);
	CHECK_ERR(syscall(SYS_set_robust_list, &head, sizeof(head) - 1), EINVAL);
	CHECK_ERR(syscall(SYS_set_robust_list, &head, sizeof(head) + 8), EINVAL);
	CHECK_ERR(syscall(SYS_get_robust_list, NO_SUCH_PID, &got, &len), ESRCH);
	CHECK_ERR(syscall(SYS_get_robust_list, 0, BAD_PTR, &len), EFAULT);
	CHECK_EQ(syscall(SYS_set_robust_list, orig, sizeof(head)), 0);
	CHECK_EQ(syscall(SYS_get_robust_list, 0, &got, &len), 0);
	CHECK(got == orig);
}

static void test_prctl_name(void)
{
	char name[16], saved[16];
	char *p;

	CHECK_EQ(prctl(PR_GET_NAME, saved), 0);
	CHECK(memchr(saved, 0, sizeof(saved)) != NULL);

	CHECK_EQ(prctl(PR_SET_NAME, "short"), 0);
	memset(name, 'x', sizeof(name));
	CHECK_EQ(prctl(PR_GET_NAME, name), 0);
	CHECK(!strcmp(name, "short"));

	/* Longer names are cut to 15 bytes. */
	CHECK_EQ(prctl(PR_SET_NAME, "abcdefghijklmnopqrstuvwxyz"), 0);
	memset(name, 'x', sizeof(name));
	CHECK_EQ(prctl(PR_GET_NAME, name), 0);
	CHECK(!strcmp(name, "abcdefghijklmno"));
	CHECK_EQ(prctl(PR_SET_NAME, ""), 0);
	CHECK_EQ(prctl(PR_GET_NAME, name), 0);
	CHECK_EQ(name[0], 0);

	/* Only 15 bytes are read: a name ending at an unmapped page
	 * without a terminator is fine. */
	p = mmap(NULL, 2 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	CHECK(p != MAP_FAILED);
	if (p != MAP_FAILED) {
		CHECK_EQ(munmap(p + PS, PS), 0);
		memcpy(p + PS - 15, "123456789012345", 15);
		CHECK_EQ(prctl(PR_SET_NAME, p + PS - 15), 0);
		CHECK_EQ(prctl(PR_GET_NAME, name), 0);
		CHECK(!strcmp(name, "123456789012345"));
		CHECK_ERR(prctl(PR_SET_NAME, p + PS - 14), EFAULT);
		CHECK_ERR(prctl(PR_SET_NAME, p + PS), EFAULT);
		CHECK_EQ(munmap(p, PS), 0);
	}
	CHECK_ERR(prctl(PR_SET_NAME, BAD_PTR), EFAULT);
	CHECK_ERR(prctl(PR_GET_NAME, BAD_PTR), EFAULT);
	CHECK_EQ(prctl(PR_SET_NAME, saved), 0);
}

static void test_prctl_other(void)
{
	int sig = -1, dumpable;

	CHECK_EQ(prctl(PR_SET_PDEATHSIG, SIGUSR1), 0);
	CHECK_EQ(prctl(PR_GET_PDEATHSIG, &sig), 0);
	CHECK_EQ(sig, SIGUSR1);
	CHECK_EQ(prctl(PR_SET_PDEATHSIG, 0), 0);
	CHECK_EQ(prctl(PR_GET_PDEATHSIG, &sig), 0);
	CHECK_EQ(sig, 0);
	CHECK_ERR(prctl(PR_SET_PDEATHSIG, 65), EINVAL);
	CHECK_ERR(prctl(PR_GET_PDEATHSIG, BAD_PTR), EFAULT);

	dumpable = (int)CHECK_SYS(prctl(PR_GET_DUMPABLE));
	CHECK(dumpable == 0 || dumpable == 1);
	CHECK_EQ(prctl(PR_SET_DUMPABLE, 0), 0);
	CHECK_EQ(prctl(PR_GET_DUMPABLE), 0);
	CHECK_EQ(prctl(PR_SET_DUMPABLE, 1), 0);
	CHECK_EQ(prctl(PR_GET_DUMPABLE), 1);
	CHECK_ERR(prctl(PR_SET_DUMPABLE, 2), EINVAL);
	CHECK_EQ(prctl(PR_SET_DUMPABLE, dumpable), 0);

	CHECK_EQ(prctl(PR_SET_KEEPCAPS, 1), 0);
	CHECK_EQ(prctl(PR_GET_KEEPCAPS), 1);
	CHECK_EQ(prctl(PR_SET_KEEPCAPS, 0), 0);
	CHECK_EQ(prctl(PR_GET_KEEPCAPS), 0);
	CHECK_ERR(prctl(PR_SET_KEEPCAPS, 2), EINVAL);

	{
		int v = CHECK_SYS(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
		CHECK(v == 0 || v == 1);
	}
	CHECK_ERR(prctl(PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0), EINVAL);
	CHECK_ERR(prctl(PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0), EINVAL);
	CHECK_ERR(prctl(0x7fff0000), EINVAL);
}

static uint64_t read_fs0(void)
{
	uint64_t v;
	__asm__ volatile("movq %%fs:0, %0" : "=r"(v));
	return v;
}

static void test_arch_prctl(void)
{
	uint64_t fs = 0, gs = 1, v = 0;

	/* glibc's thread control block starts with a pointer to itself. */
	CHECK_EQ(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs), 0);
	CHECK(fs != 0);
	CHECK_EQ(fs, read_fs0());
	CHECK_EQ(syscall(SYS_arch_prctl, ARCH_SET_FS, fs), 0);
	CHECK_EQ(syscall(SYS_arch_prctl, ARCH_GET_FS, &v), 0);
	CHECK_EQ(v, fs);

	CHECK_EQ(syscall(SYS_arch_prctl, ARCH_GET_GS, &gs), 0);
	CHECK_EQ(syscall(SYS_arch_prctl, ARCH_SET_GS, 0x12345000UL), 0);
	CHECK_EQ(syscall(SYS_arch_prctl, ARCH_GET_GS, &v), 0);
	CHECK_EQ(v, 0x12345000UL);
	CHECK_EQ(syscall(SYS_arch_prctl, ARCH_SET_GS, gs), 0);
	CHECK_EQ(syscall(SYS_arch_prctl, ARCH_GET_GS, &v), 0);
	CHECK_EQ(v, gs);

	CHECK_ERR(syscall(SYS_arch_prctl, ARCH_GET_FS, BAD_PTR), EFAULT);
	CHECK_ERR(syscall(SYS_arch_prctl, ARCH_SET_GS, 0xffff800000000000UL), EPERM);
	CHECK_ERR(syscall(SYS_arch_prctl, ARCH_SET_FS, 0xffff800000000000UL), EPERM);
	CHECK_ERR(syscall(SYS_arch_prctl, 0x1fff, &v), EINVAL);
	CHECK_EQ(fs, read_fs0());
}

static void test_rlimits(void)
{
	struct rlimit rl, got, bad;
	struct rlimit64 old64, new64;

	/* The libc calls and the raw ones agree. */
	CHECK_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
	CHECK(rl.rlim_cur <= rl.rlim_max);
	CHECK_EQ(syscall(SYS_getrlimit, RLIMIT_NOFILE, &got), 0);
	CHECK_EQ(got.rlim_cur, rl.rlim_cur);
	CHECK_EQ(got.rlim_max, rl.rlim_max);
	CHECK_EQ(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &old64), 0);
	CHECK_EQ(old64.rlim_cur, rl.rlim_cur);
	CHECK_EQ(old64.rlim_max, rl.rlim_max);
	CHECK_EQ(syscall(SYS_prlimit64, getpid(), RLIMIT_NOFILE, NULL, &old64), 0);
	CHECK_EQ(old64.rlim_cur, rl.rlim_cur);

	/* Lower the soft limit and read it back. */
	CHECK(rl.rlim_cur > 64);
	got = rl;
	got.rlim_cur = 64;
	CHECK_EQ(setrlimit(RLIMIT_NOFILE, &got), 0);
	CHECK_EQ(getrlimit(RLIMIT_NOFILE, &got), 0);
	CHECK_EQ(got.rlim_cur, 64);
	CHECK_EQ(got.rlim_max, rl.rlim_max);
	/* It applies: no descriptor at or above it. */
	CHECK_ERR(fcntl(1, F_DUPFD, 64), EINVAL);
	{
		int fd = (int)CHECK_SYS(fcntl(1, F_DUPFD, 63));
		CHECK_EQ(fd, 63);
		if (fd >= 0)
			CHECK_EQ(close(fd), 0);
	}
	/* prlimit64 sets and returns the old value in one call. */
	new64.rlim_cur = 100;
	new64.rlim_max = rl.rlim_max;
	CHECK_EQ(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &new64, &old64), 0);
	CHECK_EQ(old64.rlim_cur, 64);
	CHECK_EQ(old64.rlim_max, rl.rlim_max);
	CHECK_EQ(getrlimit(RLIMIT_NOFILE, &got), 0);
	CHECK_EQ(got.rlim_cur, 100);

	/* Soft above hard is refused, and changes nothing. */
	bad.rlim_cur = rl.rlim_max == RLIM_INFINITY ? RLIM_INFINITY : rl.rlim_max + 1;
	bad.rlim_max = 32;
	CHECK_ERR(setrlimit(RLIMIT_NOFILE, &bad), EINVAL);
	CHECK_ERR(syscall(SYS_setrlimit, RLIMIT_NOFILE, &bad), EINVAL);
	CHECK_EQ(getrlimit(RLIMIT_NOFILE, &got), 0);
	CHECK_EQ(got.rlim_cur, 100);
	CHECK_EQ(got.rlim_max, rl.rlim_max);

	/* Bad resources, pointers and processes. */
	CHECK_ERR(syscall(SYS_getrlimit, RLIM_NLIMITS, &got), EINVAL);
	CHECK_ERR(syscall(SYS_getrlimit, 1000, &got), EINVAL);
	CHECK_ERR(syscall(SYS_prlimit64, 0, RLIM_NLIMITS, NULL, &old64), EINVAL);
	CHECK_ERR(syscall(SYS_getrlimit, RLIMIT_NOFILE, BAD_PTR), EFAULT);
	CHECK_ERR(syscall(SYS_setrlimit, RLIMIT_NOFILE, BAD_PTR), EFAULT);
	CHECK_ERR(syscall(SYS_prlimit64, NO_SUCH_PID, RLIMIT_NOFILE, NULL, &old64), ESRCH);

	CHECK_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
	CHECK_EQ(getrlimit(RLIMIT_NOFILE, &got), 0);
	CHECK_EQ(got.rlim_cur, rl.rlim_cur);

	/* Another resource, through the 64-bit interface only. */
	CHECK_EQ(syscall(SYS_prlimit64, 0, RLIMIT_CORE, NULL, &old64), 0);
	new64 = old64;
	new64.rlim_cur = 0;
	CHECK_EQ(syscall(SYS_prlimit64, 0, RLIMIT_CORE, &new64, NULL), 0);
	CHECK_EQ(getrlimit(RLIMIT_CORE, &got), 0);
	CHECK_EQ(got.rlim_cur, 0);
	CHECK_EQ(got.rlim_max, old64.rlim_max);
	CHECK_EQ(syscall(SYS_prlimit64, 0, RLIMIT_CORE, &old64, NULL), 0);
}

/* /proc/self/exe names this program: an absolute path ending in the
 * name it was started by. */
static void test_exe(const char *argv0)
{
	char buf[4096], small[4], by_pid[64];
	const char *base = strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
	long n;

	n = CHECK_SYS(readlink("/proc/self/exe", buf, sizeof(buf) - 1));
	if (n <= 0)
		return;
	buf[n] = 0;
	CHECK_EQ(buf[0], '/');
	CHECK((size_t)n >= strlen(base) && !strcmp(buf + n - strlen(base), base));
	/* The same through the raw call, through the pid, and cut short
	 * (no terminator is added). */
	CHECK_EQ(syscall(SYS_readlink, "/proc/self/exe", buf, sizeof(buf)), n);
	snprintf(by_pid, sizeof(by_pid), "/proc/%d/exe", getpid());
	CHECK_EQ(readlink(by_pid, buf, sizeof(buf)), n);
	memset(small, 'x', sizeof(small));
	CHECK_EQ(syscall(SYS_readlink, "/proc/self/exe", small, 3), 3);
	CHECK(!memcmp(small, buf, 3) && small[3] == 'x');
	CHECK_ERR(syscall(SYS_readlink, "/proc/self/exe", buf, 0), EINVAL);
	CHECK_ERR(syscall(SYS_readlink, "/proc/self/exe", BAD_PTR, 16), EFAULT);
	CHECK_ERR(syscall(SYS_readlink, BAD_PTR, buf, 16), EFAULT);
}

int main(int argc, char **argv)
{
	CHECK(argc >= 1);
	if (argc >= 1)
		test_exe(argv[0]);
	test_ids();
	test_tid_robust();
	test_prctl_name();
	test_prctl_other();
	test_arch_prctl();
	test_rlimits();
	return check_exit();
}
