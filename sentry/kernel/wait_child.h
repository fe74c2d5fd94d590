#ifndef RC_SENTRY_KERNEL_WAIT_CHILD_H
#define RC_SENTRY_KERNEL_WAIT_CHILD_H

#include <stdint.h>

#include "abi/errno_names.h"

struct task;

struct wait_sel {
	int idtype;     /* P_ALL, P_PID, P_PGID */
	int id;
	int options;    /* WEXITED, WSTOPPED (= WUNTRACED), WCONTINUED, WNOHANG, WNOWAIT */
};

struct wait_result {
	int pid;
	uint32_t uid;
	int code;       /* CLD_* */
	int status;     /* exit code or signal, for waitid */
	int wstatus;    /* the wait4 status word */
	uint64_t utime_ns, stime_ns;
};

/* 1 with res filled, 0 (WNOHANG, nothing yet), or -errno. */
int do_wait(struct task *t, const struct wait_sel *w, struct wait_result *res);

#endif
