/* x86-64 syscall numbers and names as the application sees them. The
 * numbers come from the kernel UAPI header; the name table is generated
 * from it at build time (abi/gen_syscalls.sh). */
#ifndef RC_ABI_SYSCALLS_H
#define RC_ABI_SYSCALLS_H

#include <asm/unistd_64.h>

#include "abi/syscall_count.h" /* generated: ABI_NR_SYSCALLS */

extern const char *const abi_syscall_names[ABI_NR_SYSCALLS];

/* The syscall's name, or NULL for a number the ABI does not define. */
static inline const char *abi_syscall_name(long nr)
{
	if (nr < 0 || nr >= ABI_NR_SYSCALLS)
		return 0;
	return abi_syscall_names[nr];
}

#endif
