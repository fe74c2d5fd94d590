/* Shared by the unit tests. UTest is criterion's Test, and in a sanitizer
 * build it also fails the test if the test leaked memory: criterion runs
 * each test in a worker process whose exit-time leak report it ignores, so
 * the check runs at the end of the test body instead. */
#ifndef RC_TESTS_UNIT_UNIT_H
#define RC_TESTS_UNIT_UNIT_H

#include <criterion/criterion.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNIT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNIT_ASAN 1
#endif
#endif

#ifdef UNIT_ASAN
#include <sanitizer/lsan_interface.h>
static inline void unit_leak_check(void)
{
	cr_assert_eq(__lsan_do_recoverable_leak_check(), 0,
		     "memory leaked: see the LeakSanitizer report above");
}
#else
static inline void unit_leak_check(void) {}
#endif

#define UTest(suite, name, ...)                                                \
	static void suite##_##name##_body(void);                               \
	Test(suite, name, ##__VA_ARGS__)                                       \
	{                                                                      \
		suite##_##name##_body();                                       \
		unit_leak_check();                                             \
	}                                                                      \
	static void suite##_##name##_body(void)

#endif
