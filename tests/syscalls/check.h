/* Assertions for the syscall test programs. Each failed check prints
 * file:line, what was checked and the errno name to stderr and counts a
 * failure; the program carries on, and check_exit() turns the count into
 * the exit status (0: all passed, 1: something failed). No assert() or
 * abort(): a test must never depend on signal delivery. */
#ifndef RC_TESTS_SYSCALLS_CHECK_H
#define RC_TESTS_SYSCALLS_CHECK_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int check_failures;

static inline const char *check_errname(int e)
{
	const char *n = e ? strerrorname_np(e) : "0";
	return n ? n : "unknown errno";
}

#define FAIL(...)                                                         \
	do {                                                              \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);           \
		fprintf(stderr, __VA_ARGS__);                             \
		fputc('\n', stderr);                                      \
		check_failures++;                                         \
	} while (0)

/* A plain condition; errno is shown in case the condition involved a
 * call that set it. */
#define CHECK(cond)                                                       \
	do {                                                              \
		if (!(cond))                                              \
			FAIL("CHECK(%s) failed (errno %s)", #cond,        \
			     check_errname(errno));                       \
	} while (0)

/* Two integer values are equal; both are printed on failure. */
#define CHECK_EQ(a, b)                                                    \
	do {                                                              \
		long long _a = (long long)(a), _b = (long long)(b);       \
		if (_a != _b)                                             \
			FAIL("CHECK_EQ(%s, %s) failed: %lld (%#llx) != "  \
			     "%lld (%#llx)", #a, #b, _a,                  \
			     (unsigned long long)_a, _b,                  \
			     (unsigned long long)_b);                     \
	} while (0)

/* A call that must succeed (not return -1 / MAP_FAILED); evaluates to
 * its result. */
#define CHECK_SYS(expr)                                                   \
	__extension__({                                                   \
		errno = 0;                                                \
		long _r = (long)(intptr_t)(expr);                         \
		if (_r == -1)                                             \
			FAIL("%s failed: %s", #expr,                      \
			     check_errname(errno));                       \
		_r;                                                       \
	})

/* A call that must fail with -1 and errno e. */
#define CHECK_ERR(expr, e)                                                \
	do {                                                              \
		errno = 0;                                                \
		long _r = (long)(intptr_t)(expr);                         \
		int _e = errno;                                           \
		if (_r != -1 || _e != (e))                                \
			FAIL("%s: expected -1 (%s), got %ld (errno %s)",  \
			     #expr, check_errname(e), _r,                 \
			     check_errname(_e));                          \
	} while (0)

static inline int check_exit(void)
{
	if (check_failures)
		fprintf(stderr, "%d check(s) failed\n", check_failures);
	return check_failures ? 1 : 0;
}

#endif
