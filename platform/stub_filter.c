/* The seccomp filter every stub carries (security invariant 1). Written as
 * raw BPF because libseccomp cannot test the instruction pointer. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>

#include "platform/stub.h"

#define LD(off) ((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off)))
#define RET(v) ((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, (v)))

int stub_filter_build(const int *allowed, unsigned n, uint32_t other_action,
		      struct sock_fprog *prog)
{
	const uint32_t ip_lo = offsetof(struct seccomp_data, instruction_pointer);
	const uint32_t ip_hi = ip_lo + 4;
	/* The stub code page lies within one 4 GiB window. */
	const uint32_t hi = (uint32_t)(STUB_BASE >> 32);
	const uint32_t lo_start = (uint32_t)STUB_BASE;
	const uint32_t lo_end = (uint32_t)(STUB_BASE + STUB_CODE_SIZE);
	struct sock_filter *f;
	unsigned i = 0, cap = 16 + n;

	_Static_assert(((STUB_BASE + STUB_CODE_SIZE - 1) >> 32) == (STUB_BASE >> 32),
		       "stub code must not straddle a 4 GiB boundary");
	if (n > 200)
		return -E2BIG; /* keeps every jump within BPF's 8-bit offsets */
	f = calloc(cap, sizeof(*f));
	if (!f)
		return -ENOMEM;

	f[i++] = LD(offsetof(struct seccomp_data, arch));
	f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[i++] = RET(SECCOMP_RET_KILL_PROCESS);
	/* From outside the stub code: other_action. */
	f[i++] = LD(ip_hi);
	f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi, 1, 0);
	f[i++] = RET(other_action);
	f[i++] = LD(ip_lo);
	f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, lo_start, 1, 0);
	f[i++] = RET(other_action);
	f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, lo_end, 0, 1);
	f[i++] = RET(other_action);
	/* From the stub code: only the calls the stub is built to make. */
	f[i++] = LD(offsetof(struct seccomp_data, nr));
	for (unsigned k = 0; k < n; k++) {
		/* jump to the ALLOW at the end: past the remaining compares and the KILL */
		unsigned to_allow = (n - 1 - k) + 1;
		f[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						      (uint32_t)allowed[k], (uint8_t)to_allow, 0);
	}
	f[i++] = RET(SECCOMP_RET_KILL_PROCESS);
	f[i++] = RET(SECCOMP_RET_ALLOW);
	prog->len = (unsigned short)i;
	prog->filter = f;
	return 0;
}
