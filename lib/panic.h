/* Fatal internal errors: print the message and a backtrace, then abort.
 * Only for broken invariants of our own; bad input never panics. */
#ifndef RC_LIB_PANIC_H
#define RC_LIB_PANIC_H

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);
void print_backtrace(int fd);

#define BUG_ON(cond)                                                           \
	do {                                                                   \
		if (__builtin_expect(!!(cond), 0))                             \
			panic("BUG at %s:%d: %s", __FILE__, __LINE__, #cond);  \
	} while (0)

#endif
