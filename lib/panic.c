#define UNW_LOCAL_ONLY
#include "lib/panic.h"

#include <libunwind.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/log.h"

void print_backtrace(int fd)
{
	unw_context_t uc;
	unw_cursor_t cur;
	int depth = 0;

	if (unw_getcontext(&uc) < 0 || unw_init_local(&cur, &uc) < 0)
		return;
	while (unw_step(&cur) > 0 && depth < 64) {
		char name[256];
		unw_word_t ip = 0, off = 0;
		unw_get_reg(&cur, UNW_REG_IP, &ip);
		if (unw_get_proc_name(&cur, name, sizeof(name), &off) != 0)
			snprintf(name, sizeof(name), "?");
		dprintf(fd, "  #%-2d 0x%016lx %s+0x%lx\n", depth++,
			(unsigned long)ip, name, (unsigned long)off);
	}
}

void panic(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err("panic: %s", msg);
	print_backtrace(log_fd());
	abort();
}
