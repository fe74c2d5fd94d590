/* execve and execveat: argv and envp as given (an empty argv too), #!
 * scripts (interpreter arguments, blanks, CR, long lines, nesting up to
 * Linux's limit), the errors (ENOEXEC, EACCES, ENOENT, ENOTDIR, ELOOP,
 * E2BIG, EFAULT, EINVAL), close-on-exec, what happens to signal
 * dispositions, the mask, pending signals and the alternate stack, the
 * name and ids of the new image, exec from a thread other than the main
 * one, and execveat with AT_EMPTY_PATH and a directory fd.
 *
 * The programs exec'd are this one: EXEC_MODE in the environment says
 * what the new image checks, and its exit status says whether it held.
 * Scripts are written at run time into a fresh directory under /tmp. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define SEP "\x1f"  /* separates the strings of EXPECT_ARGV */
#define ESEP "\x1e" /* and of EXPECT_ENV, which may hold an EXPECT_ARGV */

extern char **environ;

static char self[PATH_MAX];     /* this program, resolved */
static char tmpdir[64];
static char interp[128];        /* tmpdir/self: a symlink to self */

static pid_t tfork(void)
{
	pid_t pid = fork();
	if (pid == 0)
		check_failures = 0;
	return pid;
}

static int reap(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid) {
		FAIL("waitpid(%d): %s", pid, check_errname(errno));
		return -1;
	}
	return st;
}

/* ---- the exec'd side ---- */

/* Whether the NULL-terminated v equals the list of strings separated by
 * sep; an item "NAME=*" stands for NAME with any value. */
static bool vec_is(char **v, const char *list, const char *sep, const char *what)
{
	char *copy = strdup(list), *s = copy;
	int i = 0;
	bool ok = true;

	/* strtok would merge empty strings: split by hand. */
	while (*list) {
		char *end = strstr(s, sep);
		size_t sl;
		bool any;

		if (end)
			*end = 0;
		sl = strlen(s);
		any = sl >= 2 && !strcmp(s + sl - 2, "=*");
		if (!v[i]) {
			FAIL("%s has %d strings, expected more: '%s' next", what, i, s);
			ok = false;
			break;
		}
		if (any ? strncmp(v[i], s, sl - 1) : strcmp(v[i], s)) {
			FAIL("%s[%d] is '%s', expected '%s'", what, i, v[i], s);
			ok = false;
		}
		i++;
		if (!end)
			break;
		s = end + strlen(sep);
	}
	if (ok && v[i]) {
		FAIL("%s has more than %d strings: '%s'", what, i, v[i]);
		ok = false;
	}
	free(copy);
	return ok;
}

static int read_file(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = read(fd, buf, n - 1);
	close(fd);
	if (r < 0)
		return -1;
	buf[r] = 0;
	return (int)r;
}

/* Counts the threads of this process in /proc/self/task. */
static int count_tasks(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int exec_side(const char *mode, int argc, char **argv)
{
	const char *want;
	struct sigaction sa;
	sigset_t set;
	stack_t ss;
	char buf[256];

	(void)argc;
	/* The environment check comes first: nothing may be added. */
	if ((want = getenv("EXPECT_ENV")))
		vec_is(environ, want, ESEP, "envp");
	if ((want = getenv("EXPECT_ARGV")))
		vec_is(argv, want, SEP, "argv");
	if ((want = getenv("EXPECT_PID")))
		CHECK_EQ(getpid(), atoi(want));
	if ((want = getenv("EXPECT_PPID")))
		CHECK_EQ(getppid(), atoi(want));
	if ((want = getenv("EXPECT_COMM"))) {
		memset(buf, 0, sizeof(buf));
		CHECK_EQ(prctl(PR_GET_NAME, buf), 0);
		if (strcmp(buf, want))
			FAIL("comm is '%s', expected '%s'", buf, want);
	}
	if ((want = getenv("EXPECT_EXECFN"))) {
		const char *fn = (const char *)getauxval(AT_EXECFN);
		if (!fn || strcmp(fn, want))
			FAIL("AT_EXECFN is '%s', expected '%s'", fn ? fn : "(null)", want);
	}
	if ((want = getenv("EXPECT_EXE"))) {
		ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		if (strcmp(buf, want))
			FAIL("/proc/self/exe is '%s', expected '%s'", buf, want);
	}

	if (!strcmp(mode, "args")) {
		/* Nothing more. */
	} else if (!strcmp(mode, "fds")) {
		/* 10 was kept, 11 was close-on-exec, 12 kept with its
		 * offset (it is the same open file). */
		CHECK(fcntl(10, F_GETFD) == 0);
		CHECK_ERR(fcntl(11, F_GETFD), EBADF);
		CHECK_EQ(fcntl(12, F_GETFD), 0);
		CHECK_EQ(lseek(12, 0, SEEK_CUR), 3);
		CHECK_ERR(fcntl(13, F_GETFD), EBADF);
		CHECK_EQ(fcntl(0, F_GETFD), 0);
	} else if (!strcmp(mode, "signals")) {
		/* A caught signal is back to SIG_DFL; ignored ones stay so;
		 * the mask and the pending signals are kept; no alternate
		 * stack. */
		CHECK_EQ(sigaction(SIGUSR1, NULL, &sa), 0);
		CHECK(sa.sa_handler == SIG_DFL);
		CHECK_EQ(sa.sa_flags & SA_SIGINFO, 0);
		CHECK_EQ(sigaction(SIGUSR2, NULL, &sa), 0);
		CHECK(sa.sa_handler == SIG_IGN);
		CHECK_EQ(sigaction(SIGRTMIN + 2, NULL, &sa), 0);
		CHECK(sa.sa_handler == SIG_DFL);
		CHECK_EQ(sigaction(SIGHUP, NULL, &sa), 0);
		CHECK(sa.sa_handler == SIG_IGN);
		CHECK_EQ(sigprocmask(SIG_BLOCK, NULL, &set), 0);
		CHECK(sigismember(&set, SIGINT));
		CHECK(sigismember(&set, SIGRTMIN + 3));
		CHECK(!sigismember(&set, SIGTERM));
		CHECK_EQ(sigpending(&set), 0);
		CHECK(sigismember(&set, SIGINT));
		CHECK(sigismember(&set, SIGRTMIN + 3));
		CHECK(!sigismember(&set, SIGUSR2));
		{
			/* The queued real-time signal kept its value. */
			siginfo_t si;
			struct timespec zero = {0, 0};
			sigset_t rt;
			sigemptyset(&rt);
			sigaddset(&rt, SIGRTMIN + 3);
			CHECK_EQ(sigtimedwait(&rt, &si, &zero), SIGRTMIN + 3);
			CHECK_EQ(si.si_code, SI_QUEUE);
			CHECK_EQ(si.si_value.sival_int, 1234);
		}
		CHECK_EQ(sigaltstack(NULL, &ss), 0);
		CHECK_EQ(ss.ss_flags, SS_DISABLE);
	} else if (!strcmp(mode, "thread")) {
		/* A thread other than the main one exec'd: we are alone, with
		 * the process's pid as our tid. */
		CHECK_EQ(gettid(), getpid());
		CHECK_EQ(count_tasks(), 1);
		if (read_file("/proc/self/status", buf, sizeof(buf)) > 0) {
			char big[4096];
			if (read_file("/proc/self/status", big, sizeof(big)) > 0) {
				char *th = strstr(big, "\nThreads:");
				CHECK(th != NULL);
				if (th)
					CHECK_EQ(atoi(th + 9), 1);
			}
		}
	} else if (!strcmp(mode, "empty-argv")) {
		/* Linux gives an empty argv one empty string (5.18 on). */
		CHECK_EQ(argc, 1);
		CHECK(argv[0] && !strcmp(argv[0], ""));
		CHECK(argv[1] == NULL);
	} else if (!strcmp(mode, "exit")) {
		_exit(atoi(getenv("EXIT_CODE") ? getenv("EXIT_CODE") : "0"));
	} else {
		FAIL("unknown EXEC_MODE '%s'", mode);
	}
	return check_exit() ? 100 : 0;
}

/* ---- the exec'ing side ---- */

/* Runs fn in a child, which must exec; returns the child's status. */
static int in_child(void (*fn)(void *), void *arg)
{
	pid_t pid = tfork();

	if (pid == 0) {
		fn(arg);
		FAIL("still here after exec: %s", check_errname(errno));
		_exit(99);
	}
	CHECK(pid > 0);
	return reap(pid);
}

struct execv_args {
	const char *path;
	char **argv;
	char **envp;
};

static void do_execve(void *arg)
{
	struct execv_args *a = arg;
	execve(a->path, a->argv, a->envp);
}

/* execve(path, argv, envp) in a child, whose new image must exit 0. */
static void run_ok(const char *what, const char *path, char **argv, char **envp)
{
	struct execv_args a = {path, argv, envp};
	int st = in_child(do_execve, &a);
	if (st != 0)
		FAIL("%s: status %#x", what, st);
}

static void write_script(const char *name, const char *text, size_t len, mode_t mode)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
	if (fd < 0) {
		FAIL("create %s: %s", path, check_errname(errno));
		return;
	}
	if (write(fd, text, len) != (ssize_t)len)
		FAIL("write %s: %s", path, check_errname(errno));
	close(fd);
	CHECK_EQ(chmod(path, mode), 0);
}

static char *tpath(const char *name)
{
	static char bufs[8][256];
	static int next;
	char *b = bufs[next++ % 8];
	snprintf(b, 256, "%s/%s", tmpdir, name);
	return b;
}

/* An environment: EXEC_MODE=mode, then the extra strings. */
#define ENV(...) ((char *[]){__VA_ARGS__, NULL})

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

static void test_argv_envp(void)
{
	char *argv[] = {"name-of-our-choice", "a b", "", "\xc3\xbc", "-x", NULL};
	char *ea = fmt("EXPECT_ARGV=name-of-our-choice" SEP "a b" SEP "" SEP "\xc3\xbc" SEP "-x");
	char *pp = fmt("EXPECT_PPID=%d", getpid());
	/* The environment exactly as given, duplicates and a string without
	 * '=' included; EXPECT_ENV describes it, itself by its prefix. */
	char *ee = fmt("EXPECT_ENV=EXEC_MODE=args" ESEP "%s" ESEP "EMPTY=" ESEP "NOEQUALS" ESEP
		       "DUP=1" ESEP "DUP=2" ESEP "%s" ESEP "EXPECT_ENV=*", ea, pp);
	char *envp[] = {"EXEC_MODE=args", ea, "EMPTY=", "NOEQUALS", "DUP=1", "DUP=2", pp, ee, NULL};

	run_ok("argv and envp", self, argv, envp);
	free(ea);
	free(pp);
	free(ee);
}

static void test_empty_argv(void)
{
	char *argv[] = {NULL};
	struct execv_args a = {self, NULL, ENV("EXEC_MODE=empty-argv")};

	run_ok("empty argv", self, argv, ENV("EXEC_MODE=empty-argv"));
	/* A NULL argv is an empty one. */
	CHECK_EQ(in_child(do_execve, &a), 0);
}

static void test_scripts(void)
{
	char buf[512];
	size_t n;
	char *argv[] = {"ignored-argv0", "x1", "x 2", NULL};

	/* No argument: [interp, script, args...]; argv[0] is replaced by the
	 * script's path as given to execve. */
	n = (size_t)snprintf(buf, sizeof(buf), "#!%s\n# a comment\n", interp);
	write_script("plain", buf, n, 0755);
	run_ok("plain script", tpath("plain"), argv,
	       ENV("EXEC_MODE=args",
		   fmt("EXPECT_ARGV=%s" SEP "%s" SEP "x1" SEP "x 2", interp, tpath("plain")),
		   fmt("EXPECT_COMM=plain"), fmt("EXPECT_EXE=%s", self)));

	/* One argument, blanks around and inside it kept as one string,
	 * trailing blanks dropped... */
	n = (size_t)snprintf(buf, sizeof(buf), "#! \t%s  one  two \t \nmore\n", interp);
	write_script("witharg", buf, n, 0755);
	run_ok("script with an argument", tpath("witharg"), argv,
	       ENV("EXEC_MODE=args", fmt("EXPECT_ARGV=%s" SEP "one  two" SEP "%s" SEP "x1" SEP
					 "x 2", interp, tpath("witharg"))));
	/* ... but kept when the file ends without a newline (Linux trims
	 * back from the end of its 256-byte buffer, where it finds NULs). */
	n = (size_t)snprintf(buf, sizeof(buf), "#!%s  one two \t ", interp);
	write_script("nonewline", buf, n, 0755);
	run_ok("script without a newline", tpath("nonewline"), argv,
	       ENV("EXEC_MODE=args", fmt("EXPECT_ARGV=%s" SEP "one two \t " SEP "%s" SEP "x1" SEP
					 "x 2", interp, tpath("nonewline"))));
	n = (size_t)snprintf(buf, sizeof(buf), "#!%s", interp);
	write_script("bare", buf, n, 0755);
	run_ok("script of one line without a newline", tpath("bare"), argv,
	       ENV("EXEC_MODE=args", fmt("EXPECT_ARGV=%s" SEP "%s" SEP "x1" SEP "x 2", interp,
					 tpath("bare"))));

	/* A carriage return is no blank: it stays in the argument... */
	n = (size_t)snprintf(buf, sizeof(buf), "#!%s arg\r\n", interp);
	write_script("cr", buf, n, 0755);
	run_ok("CR in the argument", tpath("cr"), argv,
	       ENV("EXEC_MODE=args",
		   fmt("EXPECT_ARGV=%s" SEP "arg\r" SEP "%s" SEP "x1" SEP "x 2", interp, tpath("cr"))));
	/* ... and in the interpreter's name, which then does not exist. */
	n = (size_t)snprintf(buf, sizeof(buf), "#!%s\r\n", interp);
	write_script("cr2", buf, n, 0755);
	CHECK_ERR(execve(tpath("cr2"), argv, environ), ENOENT);

	/* A NUL ends the line's argument. */
	n = (size_t)snprintf(buf, sizeof(buf), "#!%s ab", interp);
	memcpy(buf + n, "\0cd\n", 4);
	write_script("nul", buf, n + 4, 0755);
	run_ok("NUL in the line", tpath("nul"), argv,
	       ENV("EXEC_MODE=args",
		   fmt("EXPECT_ARGV=%s" SEP "ab" SEP "%s" SEP "x1" SEP "x 2", interp, tpath("nul"))));

	/* The kernel reads 256 bytes, the last a NUL: a long argument is cut
	 * to fit 255, a long interpreter name is an error. */
	n = (size_t)snprintf(buf, sizeof(buf), "#!%s ", interp);
	size_t keep = 255 - n;
	memset(buf + n, 'a', 300);
	buf[n + 300] = '\n';
	write_script("longarg", buf, n + 301, 0755);
	{
		char a[300];
		memset(a, 'a', keep);
		a[keep] = 0;
		run_ok("long argument", tpath("longarg"), argv,
		       ENV("EXEC_MODE=args", fmt("EXPECT_ARGV=%s" SEP "%s" SEP "%s" SEP "x1" SEP "x 2",
						 interp, a, tpath("longarg"))));
	}
	strcpy(buf, "#!/");
	memset(buf + 3, 'b', 300);
	buf[303] = '\n';
	write_script("longinterp", buf, 304, 0755);
	CHECK_ERR(execve(tpath("longinterp"), argv, environ), ENOEXEC);

	/* Nested: a script whose interpreter is a script. Linux follows five
	 * of them to a binary; a sixth is ELOOP. */
	char prev[256];
	snprintf(prev, sizeof(prev), "%s", interp);
	char *expect = fmt("%s", interp);
	for (int depth = 1; depth <= 6; depth++) {
		char name[16], *e;
		snprintf(name, sizeof(name), "nest%d", depth);
		n = (size_t)snprintf(buf, sizeof(buf), "#!%s\n", prev);
		write_script(name, buf, n, 0755);
		e = fmt("%s" SEP "%s", expect, tpath(name));
		free(expect);
		expect = e;
		snprintf(prev, sizeof(prev), "%s", tpath(name));
		if (depth <= 5) {
			char what[32];
			snprintf(what, sizeof(what), "%d nested scripts", depth);
			run_ok(what, tpath(name), argv,
			       ENV("EXEC_MODE=args",
				   fmt("EXPECT_ARGV=%s" SEP "x1" SEP "x 2", expect)));
		} else {
			CHECK_ERR(execve(tpath(name), argv, environ), ELOOP);
		}
	}
	free(expect);
	/* Nested with arguments: each level adds its own. */
	n = (size_t)snprintf(buf, sizeof(buf), "#!%s inner\n", interp);
	write_script("in", buf, n, 0755);
	n = (size_t)snprintf(buf, sizeof(buf), "#!%s outer\n", tpath("in"));
	write_script("out", buf, n, 0755);
	run_ok("nested with arguments", tpath("out"), argv,
	       ENV("EXEC_MODE=args", fmt("EXPECT_ARGV=%s" SEP "inner" SEP "%s" SEP "outer" SEP "%s"
					 SEP "x1" SEP "x 2", interp, tpath("in"), tpath("out"))));

	/* What is no program. */
	write_script("garbage", "garbage\n", 8, 0755);
	CHECK_ERR(execve(tpath("garbage"), argv, environ), ENOEXEC);
	write_script("empty", "", 0, 0755);
	CHECK_ERR(execve(tpath("empty"), argv, environ), ENOEXEC);
	write_script("short", "\177EL", 3, 0755);
	CHECK_ERR(execve(tpath("short"), argv, environ), ENOEXEC);
	write_script("badelf", "\177ELF\2\1\1garbage-garbage-garbage-garbage-gar", 40, 0755);
	CHECK_ERR(execve(tpath("badelf"), argv, environ), ENOEXEC);
	write_script("blank", "#!   \n", 6, 0755);
	CHECK_ERR(execve(tpath("blank"), argv, environ), ENOEXEC);
	n = (size_t)snprintf(buf, sizeof(buf), "#!%s\n", tpath("garbage"));
	write_script("viagarbage", buf, n, 0755);
	CHECK_ERR(execve(tpath("viagarbage"), argv, environ), ENOEXEC);
	/* Permissions: no execute bit (root too), a directory. */
	n = (size_t)snprintf(buf, sizeof(buf), "#!%s\n", interp);
	write_script("noexec", buf, n, 0644);
	CHECK_ERR(execve(tpath("noexec"), argv, environ), EACCES);
	CHECK_ERR(execve(tmpdir, argv, environ), EACCES);
	n = (size_t)snprintf(buf, sizeof(buf), "#!%s\n", tpath("noexec"));
	write_script("vianoexec", buf, n, 0755);
	CHECK_ERR(execve(tpath("vianoexec"), argv, environ), EACCES);
	n = (size_t)snprintf(buf, sizeof(buf), "#!%s\n", tmpdir);
	write_script("viadir", buf, n, 0755);
	CHECK_ERR(execve(tpath("viadir"), argv, environ), EACCES);
	/* Names that lead nowhere. */
	CHECK_ERR(execve(tpath("missing"), argv, environ), ENOENT);
	CHECK_ERR(execve(fmt("%s/x", tpath("garbage")), argv, environ), ENOTDIR);
	CHECK_ERR(execve("", argv, environ), ENOENT);
	write_script("nointerp", "#!/nonexistent/interpreter\n", 27, 0755);
	CHECK_ERR(execve(tpath("nointerp"), argv, environ), ENOENT);
}

static void test_errors(void)
{
	char *argv[] = {"x", NULL};

	/* Raw calls: the compiler knows 8 is no pointer to pass to libc. */
	CHECK_ERR(syscall(SYS_execve, 8, argv, environ), EFAULT);
	CHECK_ERR(syscall(SYS_execve, self, 8, environ), EFAULT);
	CHECK_ERR(syscall(SYS_execve, self, argv, 8), EFAULT);
	{
		char *bad[] = {"x", (char *)8, NULL};
		CHECK_ERR(execve(self, bad, environ), EFAULT);
	}
	/* One string longer than MAX_ARG_STRLEN (32 pages). */
	size_t big = 32 * 4096 + 10;
	char *s = malloc(big);
	if (s) {
		memset(s, 'z', big - 1);
		s[big - 1] = 0;
		char *bv[] = {"x", s, NULL};
		CHECK_ERR(execve(self, bv, environ), E2BIG);
		free(s);
	}
	/* More than a quarter of the stack limit in all. */
	size_t count = 3 * 1024 * 1024 / 100000 + 30;
	char **many = calloc(count + 1, sizeof(char *));
	char *piece = malloc(100000);
	if (many && piece) {
		memset(piece, 'y', 99999);
		piece[99999] = 0;
		for (size_t i = 0; i < count; i++)
			many[i] = piece;
		CHECK_ERR(execve(self, many, environ), E2BIG);
	}
	free(many);
	free(piece);
}

/* ---- close-on-exec ---- */

static void fds_then_exec(void *arg)
{
	int a = open("/dev/null", O_RDONLY);
	int b = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int c = open(self, O_RDONLY);
	int d = open("/dev/null", O_RDONLY);

	(void)arg;
	CHECK(a >= 0 && b >= 0 && c >= 0 && d >= 0);
	CHECK_EQ(dup2(a, 10), 10);
	CHECK_EQ(dup3(b, 11, O_CLOEXEC), 11);
	CHECK_EQ(dup2(c, 12), 12);
	CHECK_EQ(lseek(12, 3, SEEK_SET), 3);
	CHECK_EQ(dup2(d, 13), 13);
	CHECK_EQ(fcntl(13, F_SETFD, FD_CLOEXEC), 0);
	/* dup2 clears close-on-exec on the new fd. */
	CHECK_EQ(fcntl(11, F_GETFD), FD_CLOEXEC);
	if (check_failures)
		_exit(98);
	execve(self, (char *[]){"fds", NULL}, ENV("EXEC_MODE=fds"));
}

static void test_cloexec(void)
{
	CHECK_EQ(in_child(fds_then_exec, NULL), 0);
}

/* ---- signals across exec ---- */

static void handler(int sig)
{
	(void)sig;
}

static void signals_then_exec(void *arg)
{
	struct sigaction sa;
	sigset_t set;
	static char alt[65536];
	stack_t ss = {.ss_sp = alt, .ss_size = sizeof(alt)};
	union sigval v = {.sival_int = 1234};

	(void)arg;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sa.sa_flags = SA_ONSTACK;
	CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
	sa.sa_flags = SA_SIGINFO;
	CHECK_EQ(sigaction(SIGRTMIN + 2, &sa, NULL), 0);
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	CHECK_EQ(sigaction(SIGUSR2, &sa, NULL), 0);
	CHECK_EQ(sigaction(SIGHUP, &sa, NULL), 0);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGRTMIN + 3);
	sigaddset(&set, SIGUSR2);
	CHECK_EQ(sigprocmask(SIG_BLOCK, &set, NULL), 0);
	CHECK_EQ(kill(getpid(), SIGINT), 0);
	CHECK_EQ(sigqueue(getpid(), SIGRTMIN + 3, v), 0);
	/* Ignored: discarded even though blocked? No, a blocked ignored
	 * signal stays pending; but SIG_IGN set after it was sent drops
	 * it. */
	CHECK_EQ(kill(getpid(), SIGUSR2), 0);
	sa.sa_handler = SIG_IGN;
	CHECK_EQ(sigaction(SIGUSR2, &sa, NULL), 0);
	CHECK_EQ(sigaltstack(&ss, NULL), 0);
	sigdelset(&set, SIGUSR2);
	CHECK_EQ(sigprocmask(SIG_SETMASK, &set, NULL), 0);
	if (check_failures)
		_exit(98);
	execve(self, (char *[]){"signals", NULL}, ENV("EXEC_MODE=signals"));
}

static void test_signals(void)
{
	CHECK_EQ(in_child(signals_then_exec, NULL), 0);
}

/* ---- exec from a thread that is not the main one ---- */

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void *execer(void *arg)
{
	char **envp = arg;
	/* Give the other threads time to be blocked somewhere. */
	struct timespec ts = {0, 20 * 1000000};
	nanosleep(&ts, NULL);
	execve(self, (char *[]){"from-thread", NULL}, envp);
	_exit(97);
}

static void thread_exec(void *arg)
{
	pthread_t t1, t2, t3;
	char *envp[] = {"EXEC_MODE=thread", fmt("EXPECT_PID=%d", getpid()),
			fmt("EXPECT_PPID=%d", getppid()), NULL};

	(void)arg;
	if (pthread_create(&t1, NULL, sleeper, NULL) || pthread_create(&t2, NULL, sleeper, NULL) ||
	    pthread_create(&t3, NULL, execer, envp))
		_exit(96);
	/* The main thread waits for the one that will exec, forever. */
	pthread_join(t3, NULL);
	_exit(95);
}

static void test_thread_exec(void)
{
	CHECK_EQ(in_child(thread_exec, NULL), 0);
}

/* ---- execveat ---- */

/* Through an fd. (The new image's name here changed in Linux 6.14,
 * from the fd's number to the file's: not checked.) */
static void execveat_fd(void *arg)
{
	int fd = open(self, O_RDONLY);
	(void)arg;
	if (fd < 0)
		_exit(94);
	syscall(SYS_execveat, fd, "", (char *[]){"via-fd", NULL},
		ENV("EXEC_MODE=args", "EXPECT_ARGV=via-fd", fmt("EXPECT_PID=%d", getpid())),
		AT_EMPTY_PATH);
}

/* A script through an fd: its interpreter gets "/dev/fd/N" for it. */
static void execveat_script_fd(void *arg)
{
	int fd = open(tpath("plain"), O_RDONLY);
	(void)arg;
	if (fd < 0)
		_exit(94);
	syscall(SYS_execveat, fd, "", (char *[]){"x", "y", NULL},
		ENV("EXEC_MODE=args", fmt("EXPECT_ARGV=%s" SEP "/dev/fd/%d" SEP "y", interp, fd)),
		AT_EMPTY_PATH);
}

/* And relative to a directory fd: "/dev/fd/N/name". */
static void execveat_script_dir(void *arg)
{
	int dfd = open(tmpdir, O_RDONLY | O_DIRECTORY);
	(void)arg;
	if (dfd < 0)
		_exit(94);
	syscall(SYS_execveat, dfd, "plain", (char *[]){"x", "y", NULL},
		ENV("EXEC_MODE=args",
		    fmt("EXPECT_ARGV=%s" SEP "/dev/fd/%d/plain" SEP "y", interp, dfd),
		    "EXPECT_COMM=plain"),
		0);
}

static void execveat_opath(void *arg)
{
	int fd = open(self, O_PATH);
	(void)arg;
	if (fd < 0)
		_exit(94);
	syscall(SYS_execveat, fd, "", (char *[]){"via-opath", NULL},
		ENV("EXEC_MODE=args", "EXPECT_ARGV=via-opath"), AT_EMPTY_PATH);
}

static void execveat_dir(void *arg)
{
	int dfd = open(tmpdir, O_RDONLY | O_DIRECTORY);
	(void)arg;
	if (dfd < 0)
		_exit(94);
	/* Relative to the directory, through the symlink to us. */
	syscall(SYS_execveat, dfd, "self", (char *[]){"via-dir", NULL},
		ENV("EXEC_MODE=args", "EXPECT_ARGV=via-dir"), 0);
}

static void test_execveat(void)
{
	int fd, dfd;

	CHECK_EQ(in_child(execveat_fd, NULL), 0);
	CHECK_EQ(in_child(execveat_opath, NULL), 0);
	CHECK_EQ(in_child(execveat_dir, NULL), 0);
	{
		char buf[256];
		int n = snprintf(buf, sizeof(buf), "#!%s\n", interp);
		write_script("plain", buf, (size_t)n, 0755);
		write_script("noexec", buf, (size_t)n, 0644);
	}
	CHECK_EQ(in_child(execveat_script_fd, NULL), 0);
	CHECK_EQ(in_child(execveat_script_dir, NULL), 0);

	fd = open(self, O_RDONLY | O_CLOEXEC);
	dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(fd >= 0 && dfd >= 0);
	/* An empty path without AT_EMPTY_PATH; unknown flags; a symlink
	 * with AT_SYMLINK_NOFOLLOW; a bad fd; a directory fd with "". */
	CHECK_ERR(syscall(SYS_execveat, fd, "", (char *[]){"x", NULL}, environ, 0), ENOENT);
	CHECK_ERR(syscall(SYS_execveat, AT_FDCWD, self, (char *[]){"x", NULL}, environ, 0x8000000),
		  EINVAL);
	CHECK_ERR(syscall(SYS_execveat, dfd, "self", (char *[]){"x", NULL}, environ,
			  AT_SYMLINK_NOFOLLOW), ELOOP);
	CHECK_ERR(syscall(SYS_execveat, 999, "", (char *[]){"x", NULL}, environ, AT_EMPTY_PATH),
		  EBADF);
	CHECK_ERR(syscall(SYS_execveat, 999, "rel", (char *[]){"x", NULL}, environ, 0), EBADF);
	CHECK_ERR(syscall(SYS_execveat, dfd, "", (char *[]){"x", NULL}, environ, AT_EMPTY_PATH),
		  EACCES);
	CHECK_ERR(syscall(SYS_execveat, fd, "rel", (char *[]){"x", NULL}, environ, 0), ENOTDIR);
	/* A script behind a close-on-exec fd could not be read by its
	 * interpreter: ENOENT. A binary is fine (see execveat_fd). */
	CHECK_ERR(syscall(SYS_execveat, dfd, "plain", (char *[]){"x", NULL}, environ, 0), ENOENT);
	{
		int sfd = open(tpath("plain"), O_RDONLY | O_CLOEXEC);
		CHECK_ERR(syscall(SYS_execveat, sfd, "", (char *[]){"x", NULL}, environ,
				  AT_EMPTY_PATH), ENOENT);
		close(sfd);
	}
	/* Not executable through the fd either. */
	{
		int nfd = open(tpath("noexec"), O_RDONLY | O_CLOEXEC);
		if (nfd >= 0)
			CHECK_ERR(syscall(SYS_execveat, nfd, "", (char *[]){"x", NULL}, environ,
					  AT_EMPTY_PATH), EACCES);
		close(nfd);
	}
	close(fd);
	close(dfd);
}

/* ---- the new image's identity ---- */

static void test_identity(void)
{
	char *base = strrchr(self, '/');
	char comm[16] = {0};

	base = base ? base + 1 : self;
	memcpy(comm, base, strnlen(base, sizeof(comm) - 1));
	/* comm is the file's base name, cut to 15 bytes; AT_EXECFN the path
	 * as given. */
	run_ok("identity", self, (char *[]){"other-name", NULL},
	       ENV("EXEC_MODE=args", fmt("EXPECT_COMM=%s", comm), fmt("EXPECT_EXECFN=%s", self),
		   fmt("EXPECT_EXE=%s", self), fmt("EXPECT_PPID=%d", getpid())));
	/* Through the symlink: the name is the link's, /proc/self/exe the
	 * file's. */
	run_ok("identity via a symlink", interp, (char *[]){"other-name", NULL},
	       ENV("EXEC_MODE=args", "EXPECT_COMM=self", fmt("EXPECT_EXE=%s", self)));
}

/* vfork + exec: the parent resumes at the exec and the exit status
 * comes back. */
static void test_vfork_exec(void)
{
	pid_t pid = vfork();

	if (pid == 0) {
		execve(self, (char *[]){"x", NULL}, ENV("EXEC_MODE=exit", "EXIT_CODE=23"));
		_exit(127);
	}
	CHECK(pid > 0);
	CHECK_EQ(reap(pid), 23 << 8);
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{"argv_envp", test_argv_envp},
	{"empty_argv", test_empty_argv},
	{"scripts", test_scripts},
	{"errors", test_errors},
	{"cloexec", test_cloexec},
	{"signals", test_signals},
	{"thread_exec", test_thread_exec},
	{"execveat", test_execveat},
	{"identity", test_identity},
	{"vfork_exec", test_vfork_exec},
};

int main(int argc, char **argv)
{
	const char *mode = getenv("EXEC_MODE");
	ssize_t n;

	if (mode)
		return exec_side(mode, argc, argv);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		FAIL("readlink /proc/self/exe: %s", check_errname(errno));
		return check_exit();
	}
	self[n] = 0;
	strcpy(tmpdir, "/tmp/exec-XXXXXX");
	if (mkdir("/tmp", 01777) < 0 && errno != EEXIST)
		FAIL("mkdir /tmp: %s", check_errname(errno));
	if (!mkdtemp(tmpdir)) {
		FAIL("mkdtemp: %s", check_errname(errno));
		return check_exit();
	}
	snprintf(interp, sizeof(interp), "%s/self", tmpdir);
	CHECK_EQ(symlink(self, interp), 0);

	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		bool want = argc < 2;
		for (int a = 1; a < argc; a++)
			want |= !strcmp(argv[a], tests[i].name);
		if (want)
			tests[i].fn();
	}

	/* Clean up the scripts. */
	DIR *d = opendir(tmpdir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)))
			if (e->d_name[0] != '.')
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	rmdir(tmpdir);
	return check_exit();
}
