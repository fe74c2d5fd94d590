/* The stub: the code and data pages every application address space holds
 * at STUB_BASE, above the application's range. The code is position
 * independent assembly (a platform's stub.S) copied there from the sentry
 * binary; it runs with no stack and no libc. */
#ifndef RC_PLATFORM_STUB_H
#define RC_PLATFORM_STUB_H

#include <stdint.h>

#include "abi/linux.h"

#define STUB_BASE ABI_TASK_SIZE
#define STUB_CODE_SIZE 0x1000ULL
#define STUB_DATA (STUB_BASE + STUB_CODE_SIZE) /* one read-write page */
#define STUB_DATA_SIZE 0x1000ULL
#define STUB_REGION_SIZE (STUB_CODE_SIZE + STUB_DATA_SIZE)
/* The only fd a stub holds: its end of the channel to the sentry. */
#define STUB_CTRL_FD 0
/* Highest user address the host gives a 4-level-paging process. */
#define HOST_TASK_SIZE 0x7ffffffff000ULL

/* Written by the sentry into the data page before the factory starts. */
struct stub_params {
	uint64_t n_unmap;
	struct {
		uint64_t addr, len;
	} unmap[4];
};

/* Symbols of the blob in the sentry's own image (stub.S). */
extern const char stub_blob_start[], stub_blob_end[];
extern const char stub_entry[], stub_syscall[];
/* ptrace stub: adopt a channel of its own (see ptrace/stub.S). */
extern const char stub_adopt[], stub_adopt_end[];

#define STUB_ADDR(sym) (STUB_BASE + (uint64_t)((const char *)(sym) - stub_blob_start))

/* Maps the blob at STUB_BASE in the sentry (inherited by the factory) and
 * fills the parameters that strip a forked copy down to the stub. */
int stub_image_install(void);
/* Finds the host vDSO (with its vvar pages) of this process. */
int vdso_discover(uint64_t *start, uint64_t *end, uint64_t *text_start,
		  uint64_t *ehdr);

/* Builds the seccomp program for stubs: syscalls from the stub code whose
 * numbers are in allowed[] run; others from the stub kill it; syscalls
 * from anywhere else get other_action (SECCOMP_RET_*). Returns 0 and a
 * malloc'd program in *prog, or -errno. */
struct sock_fprog;
int stub_filter_build(const int *allowed, unsigned n, uint32_t other_action,
		      struct sock_fprog *prog);

#endif
