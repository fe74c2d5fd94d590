/* Invariant 2: once confined, the sentry cannot open a host path, exec,
 * create a socket, mount, fork, or make memory executable; it keeps what
 * it needs (socketpair for stub channels, threads, plain memory). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sentry/confine.h"

static int failures;

#define DENIED(expr)                                                           \
	do {                                                                   \
		errno = 0;                                                     \
		long r_ = (long)(expr);                                        \
		if (r_ != -1 || errno != EPERM) {                              \
			printf("FAIL: %s = %ld (%s), want EPERM\n", #expr, r_, \
			       strerror(errno));                               \
			failures++;                                            \
		}                                                              \
	} while (0)

#define ALLOWED(cond)                                                          \
	do {                                                                   \
		if (!(cond)) {                                                 \
			printf("FAIL: %s (%s)\n", #cond, strerror(errno));     \
			failures++;                                            \
		}                                                              \
	} while (0)

static void *thread_fn(void *arg) { return arg; }

static int child(void)
{
	int sv[2];
	pthread_t th;
	void *p;

	if (sentry_confine() < 0) {
		printf("FAIL: sentry_confine\n");
		return 1;
	}
	DENIED(syscall(SYS_open, "/etc/passwd", O_RDONLY));
	DENIED(syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY));
	DENIED(syscall(SYS_creat, "/tmp/runsc-c-confine-test", 0600));
	DENIED(syscall(SYS_newfstatat, AT_FDCWD, "/", &(struct stat){0}, 0));
	DENIED(syscall(SYS_mkdir, "/tmp/runsc-c-confine-dir", 0700));
	DENIED(syscall(SYS_unlink, "/tmp/x"));
	DENIED(syscall(SYS_execve, "/bin/true", (char *[]){"true", NULL}, environ));
	DENIED(syscall(SYS_socket, AF_INET, SOCK_STREAM, 0));
	DENIED(syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0));
	DENIED(syscall(SYS_mount, "none", "/mnt", "tmpfs", 0, NULL));
	DENIED(syscall(SYS_chdir, "/"));
	DENIED(syscall(SYS_fork));
	DENIED(syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
	DENIED(syscall(SYS_unshare, CLONE_NEWNS));
	DENIED(mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
	       MAP_FAILED ? -1 : 0);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ALLOWED(p != MAP_FAILED);
	DENIED(mprotect(p, 4096, PROT_READ | PROT_EXEC));
	ALLOWED(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	ALLOWED(pthread_create(&th, NULL, thread_fn, NULL) == 0 && pthread_join(th, NULL) == 0);
	ALLOWED(write(1, "", 0) == 0);
	return failures ? 1 : 0;
}

int main(void)
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		int r = child();
		fflush(stdout);
		_exit(r);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid) {
		perror("fork/wait");
		return 1;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		printf("confined child failed (status 0x%x)\n", st);
		return 1;
	}
	printf("sentry confinement holds\n");
	return 0;
}
