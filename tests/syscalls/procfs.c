/* /proc: the files programs parse, checked against the system calls that
 * report the same facts (getpid, getppid, getuid, getrlimit, uname, ...)
 * and against Linux's formats. Only absolute /proc paths are used. */
#include <ctype.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "check.h"

extern char **environ;

static char big[1 << 20];

/* The whole file (NUL-terminated); its length, or -1. */
static long slurp(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0) {
		FAIL("open %s: %s", path, check_errname(errno));
		return -1;
	}
	for (;;) {
		ssize_t n = read(fd, buf + got, cap - 1 - got);
		if (n < 0) {
			FAIL("read %s: %s", path, check_errname(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == cap - 1)
			break;
	}
	buf[got] = 0;
	close(fd);
	return (long)got;
}

/* The value after "Key:\t" in a status-style file, or NULL. */
static const char *field(const char *text, const char *key)
{
	size_t n = strlen(key);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, n) && l[n] == ':' && l[n + 1] == '\t')
			return l + n + 2;
	return NULL;
}

static long field_num(const char *text, const char *key)
{
	const char *v = field(text, key);
	if (!v) {
		FAIL("no %s field", key);
		return -1;
	}
	return strtol(v, NULL, 10);
}

static char self_name[16];

static void check_status(void)
{
	char buf[8192];
	static const char *order[] = {"Name", "Umask", "State", "Tgid", "Ngid", "Pid", "PPid",
				       "TracerPid", "Uid", "Gid", "FDSize", "Groups", "VmSize",
				       "VmRSS", "Threads", "SigQ", "SigPnd", "ShdPnd", "SigBlk",
				       "SigIgn", "SigCgt", "CapInh", "CapPrm", "CapEff", "CapBnd",
				       "NoNewPrivs", "Cpus_allowed", "Cpus_allowed_list"};
	const char *prev = buf, *v;
	unsigned u[4];

	if (slurp("/proc/self/status", buf, sizeof(buf)) <= 0)
		return;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		v = field(buf, order[i]);
		if (!v) {
			FAIL("status has no %s", order[i]);
			continue;
		}
		if (v < prev)
			FAIL("status: %s out of order", order[i]);
		prev = v;
	}
	v = field(buf, "Name");
	if (v) {
		size_t n = strcspn(v, "\n");
		CHECK(n < sizeof(self_name));
		memcpy(self_name, v, n < 15 ? n : 15);
	}
	CHECK_EQ(field_num(buf, "Pid"), getpid());
	CHECK_EQ(field_num(buf, "Tgid"), getpid());
	CHECK_EQ(field_num(buf, "PPid"), getppid());
	CHECK_EQ(field_num(buf, "Threads"), 1);
	v = field(buf, "Uid");
	CHECK(v && sscanf(v, "%u\t%u\t%u\t%u", &u[0], &u[1], &u[2], &u[3]) == 4);
	if (v) {
		CHECK_EQ(u[0], getuid());
		CHECK_EQ(u[1], geteuid());
	}
	v = field(buf, "Gid");
	CHECK(v && sscanf(v, "%u\t%u\t%u\t%u", &u[0], &u[1], &u[2], &u[3]) == 4);
	if (v)
		CHECK_EQ(u[0], getgid());
	v = field(buf, "Umask");
	CHECK(v && !strncmp(v, "0022\n", 5)); /* run_test.sh does not change it */
	v = field(buf, "State");
	CHECK(v && !strncmp(v, "R (running)\n", 12));
	v = field(buf, "VmSize");
	CHECK(v && strstr(v, " kB\n") && strtol(v, NULL, 10) > 0);
	v = field(buf, "SigBlk");
	CHECK(v && strspn(v, "0123456789abcdef") == 16);
}

static void check_stat(void)
{
	char buf[4096], comm[64], state;
	const char *close_paren, *p;
	int pid, ppid, n = 0;
	unsigned long long f[64];

	if (slurp("/proc/self/stat", buf, sizeof(buf)) <= 0)
		return;
	CHECK(sscanf(buf, "%d (", &pid) == 1);
	CHECK_EQ(pid, getpid());
	close_paren = strrchr(buf, ')');
	CHECK(close_paren != NULL);
	if (!close_paren)
		return;
	snprintf(comm, sizeof(comm), "%.*s", (int)(close_paren - strchr(buf, '(') - 1),
		 strchr(buf, '(') + 1);
	CHECK(!strcmp(comm, self_name));
	CHECK(sscanf(close_paren + 2, "%c %d", &state, &ppid) == 2);
	CHECK_EQ(state, 'R');
	CHECK_EQ(ppid, getppid());
	/* Fields 4 to 52, all numbers (some signed). */
	p = strchr(close_paren + 2, ' ');
	for (n = 4; p && *p == ' ' && n <= 52; n++) {
		char *end;
		f[n] = p[1] == '-' ? (unsigned long long)strtoll(p + 1, &end, 10)
				   : strtoull(p + 1, &end, 10);
		if (end == p + 1)
			break;
		p = end;
	}
	CHECK_EQ(n, 53);
	CHECK(p && *p == '\n');
	CHECK_EQ(f[20], 1);                  /* num_threads */
	CHECK(f[23] > 0);                    /* vsize */
	CHECK(f[48] > 0 && f[48] < f[49]);   /* arg_start < arg_end */
	CHECK(f[50] <= f[51]);               /* env_start <= env_end */
	CHECK(f[49] <= f[50]);               /* arguments before the environment */
}

static void check_statm(void)
{
	char buf[256];
	unsigned long v[7];

	if (slurp("/proc/self/statm", buf, sizeof(buf)) <= 0)
		return;
	CHECK_EQ(sscanf(buf, "%lu %lu %lu %lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3], &v[4],
			&v[5], &v[6]),
		 7);
	CHECK(v[0] > 0);
	CHECK(v[1] <= v[0]);
}

static void check_maps(void)
{
	int local = 0, lines = 0, stack_ok = 0, code_ok = 0;
	uintptr_t sp = (uintptr_t)&local, code = (uintptr_t)&check_maps;
	char *line, *save = NULL;

	if (slurp("/proc/self/maps", big, sizeof(big)) <= 0)
		return;
	for (line = strtok_r(big, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long start, end, off, ino;
		unsigned maj, min;
		char perms[8];
		int name_at = 0;
		lines++;
		if (sscanf(line, "%lx-%lx %4s %lx %x:%x %lu %n", &start, &end, perms, &off, &maj,
			   &min, &ino, &name_at) < 7) {
			FAIL("bad maps line: %s", line);
			continue;
		}
		CHECK(start < end);
		CHECK(strlen(perms) == 4 && strchr("p", perms[3]) != NULL);
		if (sp >= start && sp < end)
			stack_ok = !strcmp(line + name_at, "[stack]") && perms[0] == 'r' &&
				   perms[1] == 'w';
		if (code >= start && code < end)
			code_ok = perms[0] == 'r' && perms[2] == 'x' && line[name_at] == '/';
		/* The name column starts at 74 when there is one. */
		if (line[name_at])
			CHECK(name_at >= 73);
	}
	CHECK(lines > 3);
	CHECK(stack_ok);
	CHECK(code_ok);
}

static void check_cmdline(int argc, char **argv)
{
	char want[4096];
	size_t n = 0;
	long got;

	for (int i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]) + 1;
		if (n + l > sizeof(want))
			return;
		memcpy(want + n, argv[i], l);
		n += l;
	}
	got = slurp("/proc/self/cmdline", big, sizeof(big));
	CHECK_EQ(got, (long)n);
	CHECK(got == (long)n && !memcmp(big, want, n));
}

static void check_environ(void)
{
	long got = slurp("/proc/self/environ", big, sizeof(big));
	size_t at = 0;

	CHECK(got >= 0);
	for (char **e = environ; *e && got >= 0; e++) {
		size_t l = strlen(*e) + 1;
		if (at + l > (size_t)got || memcmp(big + at, *e, l)) {
			FAIL("environ does not match at %s", *e);
			return;
		}
		at += l;
	}
	CHECK_EQ((long)at, got);
}

static void check_links(const char *argv0)
{
	char buf[4096], want[64];
	ssize_t n;
	const char *base = strrchr(argv0, '/');

	base = base ? base + 1 : argv0;
	n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	CHECK(n > 0);
	if (n > 0) {
		buf[n] = 0;
		CHECK(buf[0] == '/');
		CHECK(!strcmp(strrchr(buf, '/') + 1, base));
	}
	n = readlink("/proc/self", buf, sizeof(buf) - 1);
	snprintf(want, sizeof(want), "%d", getpid());
	CHECK(n > 0 && (size_t)n == strlen(want) && !memcmp(buf, want, (size_t)n));
	n = readlink("/proc/thread-self", buf, sizeof(buf) - 1);
	snprintf(want, sizeof(want), "%d/task/%ld", getpid(), (long)syscall(SYS_gettid));
	CHECK(n > 0 && (size_t)n == strlen(want) && !memcmp(buf, want, (size_t)n));
	/* readlink truncates silently. */
	CHECK_EQ(readlink("/proc/self", buf, 1), 1);
	n = readlink("/proc/self/cwd", buf, sizeof(buf) - 1);
	CHECK(n > 0 && buf[0] == '/');
	n = readlink("/proc/self/root", buf, sizeof(buf) - 1);
	CHECK(n == 1 && buf[0] == '/');
}

static void check_fd_links(void)
{
	char path[64], buf[4096], want[64];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC), fd2;
	ssize_t n;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, buf, sizeof(buf) - 1);
	snprintf(want, sizeof(want), "/proc/%d/status", getpid());
	CHECK(n == (ssize_t)strlen(want) && !memcmp(buf, want, strlen(want)));
	CHECK_EQ(read(fd, buf, 5), 5);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	slurp(path, buf, sizeof(buf));
	CHECK(!strncmp(buf, "pos:\t5\nflags:\t0", 15));
	if (!strncmp(buf, "pos:\t5\nflags:\t", 14)) {
		long flags = strtol(buf + 14, NULL, 8);
		CHECK_EQ(flags & O_ACCMODE, O_RDONLY);
		CHECK(flags & O_CLOEXEC);
	}
	CHECK(strstr(buf, "\nmnt_id:\t") != NULL);
	/* Opening the magic link opens the same file anew. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fd2 = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd2 >= 0);
	if (fd2 >= 0) {
		CHECK_EQ(read(fd2, buf, 5), 5);
		CHECK(!memcmp(buf, "Name:", 5));
		close(fd2);
	}
	close(fd);
	CHECK_ERR(readlink(path, buf, sizeof(buf)), ENOENT);

	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, buf, sizeof(buf) - 1);
	CHECK(n == 9 && !memcmp(buf, "/dev/null", 9));
	close(fd);
}

#define LIMITS_HEADER                                                                      \
	"Limit                     Soft Limit           Hard Limit           Units     \n"

static void check_limits(void)
{
	char buf[4096];
	struct rlimit rl;
	const char *l;
	char soft[32], hard[32];

	if (slurp("/proc/self/limits", buf, sizeof(buf)) <= 0)
		return;
	CHECK(!strncmp(buf, LIMITS_HEADER, strlen(LIMITS_HEADER)));
	l = strstr(buf, "\nMax open files            ");
	CHECK(l != NULL);
	CHECK_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (l && sscanf(l + 27, "%31s %31s", soft, hard) == 2) {
		CHECK_EQ(strtoull(soft, NULL, 10), rl.rlim_cur);
		CHECK_EQ(strtoull(hard, NULL, 10), rl.rlim_max);
	}
	l = strstr(buf, "\nMax stack size            ");
	CHECK_EQ(getrlimit(RLIMIT_STACK, &rl), 0);
	if (l && sscanf(l + 27, "%31s %31s", soft, hard) == 2) {
		if (rl.rlim_cur == RLIM_INFINITY)
			CHECK(!strcmp(soft, "unlimited"));
		else
			CHECK_EQ(strtoull(soft, NULL, 10), rl.rlim_cur);
	}
	CHECK(strstr(buf, "\nMax realtime timeout      ") != NULL);
}

static void check_comm(void)
{
	char buf[64], want[32];
	int fd;

	snprintf(want, sizeof(want), "%s\n", self_name);
	slurp("/proc/self/comm", buf, sizeof(buf));
	CHECK(!strcmp(buf, want));
	fd = open("/proc/self/comm", O_WRONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK_EQ(write(fd, "renamed-task-name-longer", 24), 24);
		close(fd);
	}
	slurp("/proc/self/comm", buf, sizeof(buf));
	CHECK(!strcmp(buf, "renamed-task-na\n"));
	fd = open("/proc/self/comm", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		CHECK_EQ(write(fd, self_name, strlen(self_name)), (long)strlen(self_name));
		close(fd);
	}
}

static void check_task_dir(void)
{
	char path[64], buf[4096];
	long tid = syscall(SYS_gettid);

	snprintf(path, sizeof(path), "/proc/%d/task/%ld/stat", getpid(), tid);
	if (slurp(path, buf, sizeof(buf)) > 0)
		CHECK_EQ(strtol(buf, NULL, 10), tid);
	snprintf(path, sizeof(path), "/proc/%d/status", getpid());
	if (slurp(path, buf, sizeof(buf)) > 0)
		CHECK_EQ(field_num(buf, "Pid"), getpid());
	CHECK_ERR(open("/proc/999999999/status", O_RDONLY), ENOENT);
}

static void check_reread(void)
{
	char a[4096], b[4096];
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	ssize_t n1, n2;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	n1 = read(fd, a, sizeof(a));
	CHECK(n1 > 0);
	CHECK_EQ(read(fd, b, sizeof(b)), 0);
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	n2 = read(fd, b, sizeof(b));
	CHECK(n2 > 0);
	CHECK(n1 > 0 && n2 > 0 && strtol(a, NULL, 10) == strtol(b, NULL, 10));
	CHECK_ERR(lseek(fd, -1, SEEK_SET), EINVAL);
	/* Reads past the end are empty, not errors. */
	CHECK_EQ(pread(fd, b, sizeof(b), 1 << 20), 0);
	close(fd);
}

static void check_mounts(void)
{
	char buf[16384];
	bool proc = false, info = false;

	if (slurp("/proc/self/mounts", buf, sizeof(buf)) > 0)
		proc = strstr(buf, " /proc proc rw") != NULL;
	CHECK(proc);
	if (slurp("/proc/self/mountinfo", buf, sizeof(buf)) > 0) {
		char *save = NULL;
		for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			int id, parent, n = 0;
			unsigned maj, min;
			char root[256], mp[256];
			if (sscanf(l, "%d %d %u:%u %255s %255s %n", &id, &parent, &maj, &min, root,
				   mp, &n) != 6 || !strstr(l, " - ")) {
				FAIL("bad mountinfo line: %s", l);
				continue;
			}
			if (!strcmp(mp, "/proc") && strstr(l, " - proc "))
				info = true;
		}
	}
	CHECK(info);
	if (slurp("/proc/mounts", buf, sizeof(buf)) > 0)
		CHECK(strstr(buf, " /proc proc ") != NULL);
}

static void check_system(void)
{
	char buf[65536], *l;
	struct utsname u;
	double up, idle, l1, l5, l15;
	int run, tot, last;
	long total, freek;
	int cpus = 0;
	cpu_set_t set;

	CHECK_EQ(uname(&u), 0);
	if (slurp("/proc/sys/kernel/osrelease", buf, sizeof(buf)) > 0)
		CHECK(!strncmp(buf, u.release, strlen(u.release)) && buf[strlen(u.release)] == '\n');
	if (slurp("/proc/sys/kernel/hostname", buf, sizeof(buf)) > 0)
		CHECK(!strncmp(buf, u.nodename, strlen(u.nodename)) &&
		      buf[strlen(u.nodename)] == '\n');
	if (slurp("/proc/sys/kernel/ostype", buf, sizeof(buf)) > 0)
		CHECK(!strcmp(buf, "Linux\n"));
	if (slurp("/proc/version", buf, sizeof(buf)) > 0) {
		char want[128];
		snprintf(want, sizeof(want), "Linux version %s ", u.release);
		CHECK(!strncmp(buf, want, strlen(want)));
	}
	if (slurp("/proc/sys/kernel/pid_max", buf, sizeof(buf)) > 0)
		CHECK(strtol(buf, NULL, 10) >= getpid());
	if (slurp("/proc/sys/vm/overcommit_memory", buf, sizeof(buf)) > 0)
		CHECK(buf[0] >= '0' && buf[0] <= '2' && buf[1] == '\n');
	if (slurp("/proc/sys/fs/file-max", buf, sizeof(buf)) > 0)
		CHECK(strtoll(buf, NULL, 10) > 0);
	{
		char a[64], b[64], c[64];
		slurp("/proc/sys/kernel/random/boot_id", a, sizeof(a));
		slurp("/proc/sys/kernel/random/boot_id", b, sizeof(b));
		slurp("/proc/sys/kernel/random/uuid", c, sizeof(c));
		CHECK(strlen(a) == 37 && a[8] == '-' && a[13] == '-' && a[36] == '\n');
		CHECK(!strcmp(a, b));
		CHECK(strlen(c) == 37 && c[14] == '4' && strcmp(a, c));
		slurp("/proc/sys/kernel/random/uuid", b, sizeof(b));
		CHECK(strcmp(b, c));
	}
	if (slurp("/proc/uptime", buf, sizeof(buf)) > 0)
		CHECK(sscanf(buf, "%lf %lf\n", &up, &idle) == 2 && up >= 0 && idle >= 0);
	if (slurp("/proc/loadavg", buf, sizeof(buf)) > 0) {
		CHECK_EQ(sscanf(buf, "%lf %lf %lf %d/%d %d", &l1, &l5, &l15, &run, &tot, &last), 6);
		CHECK(run >= 1 && tot >= run);
	}
	if (slurp("/proc/meminfo", buf, sizeof(buf)) > 0) {
		CHECK(sscanf(buf, "MemTotal: %ld kB\nMemFree: %ld kB\n", &total, &freek) == 2);
		CHECK(total > 0 && freek <= total);
		CHECK(strstr(buf, "\nMemAvailable:") && strstr(buf, "\nSwapTotal:"));
	}
	if (slurp("/proc/stat", buf, sizeof(buf)) > 0) {
		CHECK(!strncmp(buf, "cpu  ", 5));
		CHECK(strstr(buf, "\nbtime ") != NULL);
		CHECK(strstr(buf, "\ncpu0 ") != NULL);
	}
	if (slurp("/proc/cpuinfo", big, sizeof(big)) > 0) {
		for (l = big; (l = strstr(l, "processor\t: ")); l++)
			cpus++;
		CHECK(strstr(big, "\nflags\t\t: ") != NULL);
		CHECK(strstr(big, "\nmodel name\t: ") != NULL);
	}
	CHECK_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
	CHECK(cpus >= CPU_COUNT(&set));
	if (slurp("/proc/filesystems", buf, sizeof(buf)) > 0)
		CHECK(strstr(buf, "nodev\tproc\n") != NULL);
}

static void check_listing(void)
{
	char buf[64];
	int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool self = false, mine = false;
	char want[16];

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	snprintf(want, sizeof(want), "%d", getpid());
	for (;;) {
		long n = syscall(SYS_getdents64, fd, big, 65536);
		CHECK(n >= 0);
		if (n <= 0)
			break;
		for (long off = 0; off < n;) {
			unsigned short reclen;
			memcpy(&reclen, big + off + 16, sizeof(reclen));
			const char *name = big + off + 19;
			self |= !strcmp(name, "self");
			mine |= !strcmp(name, want);
			off += reclen;
		}
	}
	close(fd);
	CHECK(self);
	CHECK(mine);
	(void)buf;
}

int main(int argc, char **argv)
{
	check_status();
	check_stat();
	check_statm();
	check_maps();
	check_cmdline(argc, argv);
	check_environ();
	check_links(argv[0]);
	check_fd_links();
	check_limits();
	check_comm();
	check_task_dir();
	check_reread();
	check_mounts();
	check_system();
	check_listing();
	return check_exit();
}
