/* Run inside the sandbox: tries to reach the host. Nothing it attempts may
 * have a host-visible effect; the harness (stub_isolation.sh) checks the
 * host afterwards. usage: escape paths DIR | escape stubjump DIR */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define STUB_BASE 0x7e0000000000UL

static int failures;
#define MUST_FAIL(expr)                                                        \
	do {                                                                   \
		long r_ = (long)(expr);                                        \
		if (r_ >= 0) {                                                 \
			printf("FAIL: %s succeeded (%ld)\n", #expr, r_);       \
			failures++;                                            \
		}                                                              \
	} while (0)

static int try_paths(const char *dir)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/created-by-sandbox", dir);
	MUST_FAIL(syscall(SYS_open, p, O_CREAT | O_WRONLY, 0644));
	MUST_FAIL(syscall(SYS_openat, AT_FDCWD, p, O_CREAT | O_WRONLY, 0644));
	MUST_FAIL(syscall(SYS_creat, p, 0644));
	MUST_FAIL(syscall(SYS_mkdir, p, 0755));
	MUST_FAIL(syscall(SYS_symlink, "/etc/shadow", p));
	MUST_FAIL(syscall(SYS_socket, AF_INET, SOCK_STREAM, 0));
	MUST_FAIL(syscall(SYS_execve, "/bin/sh", (char *[]){"sh", NULL}, (char *[]){NULL}));
	MUST_FAIL(syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0));
	/* Our pid is the sandbox's, not the host's. */
	if (syscall(SYS_getpid) != 1) {
		printf("FAIL: getpid is %ld, want 1 (the sandbox's first process)\n",
		       syscall(SYS_getpid));
		failures++;
	}
	/* The stub region is out of the application's reach. */
	MUST_FAIL(syscall(SYS_munmap, STUB_BASE, 4096));
	MUST_FAIL(syscall(SYS_mprotect, STUB_BASE, 4096, PROT_READ | PROT_WRITE | PROT_EXEC));
	MUST_FAIL(syscall(SYS_mmap, STUB_BASE, 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == (long)STUB_BASE ? 0 : -1);
	MUST_FAIL(syscall(SYS_mremap, 0x10000, 0, 4096, 3, STUB_BASE) == (long)STUB_BASE ? 0 : -1);
	MUST_FAIL(syscall(SYS_write, 1, STUB_BASE, 16) == 16 ? -1 : -1); /* reading it is harmless */
	return failures ? 1 : 0;
}

/* Finds `syscall; int3` in the stub code and calls mkdir through it. The
 * platform intercepts it like any other system call: the host never runs
 * it, and the int3 after it ends the program with SIGTRAP. */
static int stub_jump(const char *dir)
{
	static char p[4096];
	const unsigned char *code = (const unsigned char *)STUB_BASE;
	long r;

	snprintf(p, sizeof(p), "%s/created-through-stub", dir);
	for (int i = 0; i + 2 < 4096; i++) {
		if (code[i] == 0x0f && code[i + 1] == 0x05 && code[i + 2] == 0xcc) {
			uintptr_t target = STUB_BASE + (uintptr_t)i;
			fflush(stdout);
			__asm__ volatile("call *%[t]"
					 : "=a"(r)
					 : [t] "r"(target), "a"((long)SYS_mkdir), "D"(p), "S"(0755L)
					 : "rcx", "r11", "memory");
			printf("returned from the stub: %ld\n", r);
			return 1;
		}
	}
	printf("FAIL: no syscall site found in the stub page\n");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	if (!strcmp(argv[1], "paths"))
		return try_paths(argv[2]);
	if (!strcmp(argv[1], "stubjump"))
		return stub_jump(argv[2]);
	return 2;
}
