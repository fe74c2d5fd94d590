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
#define JUMP(op, k, jt, jf) ((struct sock_filter)BPF_JUMP(BPF_JMP | (op) | BPF_K, (k), (jt), (jf)))

unsigned stub_filter_prologue(struct sock_filter *f, uint32_t other_action)
{
	const uint32_t ip_lo = offsetof(struct seccomp_data, instruction_pointer);
	const uint32_t ip_hi = ip_lo + 4;
	/* The stub code page lies within one 4 GiB window. */
	const uint32_t hi = (uint32_t)(STUB_BASE >> 32);
	const uint32_t lo_start = (uint32_t)STUB_BASE;
	const uint32_t lo_end = (uint32_t)(STUB_BASE + STUB_CODE_SIZE);
	unsigned i = 0;

	_Static_assert(((STUB_BASE + STUB_CODE_SIZE - 1) >> 32) == (STUB_BASE >> 32),
		       "stub code must not straddle a 4 GiB boundary");
	f[i++] = LD(offsetof(struct seccomp_data, arch));
	f[i++] = JUMP(BPF_JEQ, AUDIT_ARCH_X86_64, 1, 0);
	f[i++] = RET(SECCOMP_RET_KILL_PROCESS);
	/* From outside the stub code: other_action. The instruction pointer
	 * is the one after the syscall instruction, so STUB_BASE itself
	 * belongs to code below the stub. */
	f[i++] = LD(ip_hi);
	f[i++] = JUMP(BPF_JEQ, hi, 1, 0);
	f[i++] = RET(other_action);
	f[i++] = LD(ip_lo);
	f[i++] = JUMP(BPF_JGT, lo_start, 1, 0);
	f[i++] = RET(other_action);
	f[i++] = JUMP(BPF_JGE, lo_end, 0, 1);
	f[i++] = RET(other_action);
	return i;
}

int stub_filter_build(const int *allowed, unsigned n, uint32_t other_action,
		      struct sock_fprog *prog)
{
	struct sock_filter *f;
	unsigned i, cap = STUB_FILTER_PROLOGUE_LEN + 3 + n;

	if (n > 200)
		return -E2BIG; /* keeps every jump within BPF's 8-bit offsets */
	f = calloc(cap, sizeof(*f));
	if (!f)
		return -ENOMEM;
	i = stub_filter_prologue(f, other_action);
	/* From the stub code: only the calls the stub is built to make. */
	f[i++] = LD(offsetof(struct seccomp_data, nr));
	for (unsigned k = 0; k < n; k++) {
		/* jump to the ALLOW at the end: past the remaining compares and the KILL */
		unsigned to_allow = (n - 1 - k) + 1;
		f[i++] = JUMP(BPF_JEQ, (uint32_t)allowed[k], (uint8_t)to_allow, 0);
	}
	f[i++] = RET(SECCOMP_RET_KILL_PROCESS);
	f[i++] = RET(SECCOMP_RET_ALLOW);
	prog->len = (unsigned short)i;
	prog->filter = f;
	return 0;
}
