/* Capabilities: a gofer started by root keeps only what serving files as
 * the sandbox's root needs (owners, permission overrides), and loses the
 * rest from every set, the bounding set included. It is also made
 * non-dumpable, so no process of the same user can ptrace it. */
#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gofer/gofer.h"
#include "lib/log.h"

static const int keep[] = {
	CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID,
};

int confine_caps(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	uint64_t mask = 0;

	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		mask |= 1ULL << keep[i];
	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	for (int cap = 0; cap <= 63; cap++) {
		if (mask & (1ULL << cap))
			continue;
		/* EINVAL past the last capability this kernel knows; EPERM
		 * without CAP_SETPCAP, when there is nothing to drop. */
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL &&
		    errno != EPERM)
			return -errno;
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	d[0].effective &= (uint32_t)mask;
	d[0].permitted &= (uint32_t)mask;
	d[0].inheritable = 0;
	d[1].effective = d[1].permitted = d[1].inheritable = 0;
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -errno;
	return 0;
}
