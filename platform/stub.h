/* The stub: the code and data pages every application address space holds
 * at STUB_BASE, above the application's range. The code is position
 * independent assembly (a platform's stub.S) copied there from the sentry
 * binary; it runs with no stack and no libc.
 *
 * Layout above ABI_TASK_SIZE (every platform):
 *   STUB_BASE        code page (read, exec): the platform's blob
 *   STUB_DATA        data page (read, write, private): stub_params, then
 *                    platform scratch (see STUB_DATA_* below)
 *   STUB_SLOTS       systrap only: per-thread slots shared with the sentry
 *                    (platform/systrap/slot.h), STUB_SLOT_SIZE each, one
 *                    memfd for all of them
 * then nothing up to the host vDSO. */
#ifndef RC_PLATFORM_STUB_H
#define RC_PLATFORM_STUB_H

/* Constants are shared with the stub assembly: no C suffixes there. */
#ifdef __ASSEMBLER__
#define STUB_UL(x) x
#else
#define STUB_UL(x) x##ULL
#endif

#define STUB_BASE STUB_UL(0x7e0000000000) /* ABI_TASK_SIZE */
#define STUB_CODE_SIZE STUB_UL(0x1000)
#define STUB_DATA (STUB_BASE + STUB_CODE_SIZE) /* one read-write page */
#define STUB_DATA_SIZE STUB_UL(0x1000)
#define STUB_REGION_SIZE (STUB_CODE_SIZE + STUB_DATA_SIZE)
/* Where, in the data page, a platform keeps what its stubs read. */
#define STUB_DATA_FPROG (STUB_DATA + 0x100)   /* systrap: struct sock_fprog */
#define STUB_DATA_FILTER (STUB_DATA + 0x110)  /* ... and its instructions */
#define STUB_DATA_FILTER_MAX ((0x800 - 0x110) / 8)
#define STUB_DATA_SCRATCH (STUB_DATA + 0x800) /* ptrace recvmsg, systrap factory */
#define STUB_DATA_FACTORY_PID (STUB_DATA + 0xff8) /* systrap: the factory's pid */
/* systrap: thread slots, shared memory (memfd) mapped in stub and sentry. */
#define STUB_SLOTS (STUB_BASE + STUB_UL(0x10000))
#define STUB_SLOT_SIZE STUB_UL(0x8000)
#define STUB_MAX_SLOTS STUB_UL(512) /* threads per address space */
/* One memfd holds every slot of an address space (a stub's threads use
 * one slot each): mapped whole, once, in the stub and in the sentry. */
#define STUB_SLOTS_SIZE (STUB_MAX_SLOTS * STUB_SLOT_SIZE)
#define STUB_SLOTS_END (STUB_SLOTS + STUB_SLOTS_SIZE)
/* The only fd a stub holds: its end of the channel to the sentry. */
#define STUB_CTRL_FD 0
/* Highest user address the host gives a 4-level-paging process. */
#define HOST_TASK_SIZE STUB_UL(0x7ffffffff000)

#ifndef __ASSEMBLER__
#include <stdint.h>

#include "abi/linux.h"

_Static_assert(STUB_BASE == ABI_TASK_SIZE, "the stub lies just above the application");

/* Written by the sentry into the data page before the factory starts. */
struct stub_params {
	uint64_t n_unmap;
	struct {
		uint64_t addr, len;
	} unmap[4];
};

/* Symbols of the ptrace blob in the sentry's own image (ptrace/stub.S). */
extern const char stub_blob_start[], stub_blob_end[];
extern const char stub_entry[], stub_syscall[];
/* ptrace stub: adopt a channel of its own (see ptrace/stub.S). */
extern const char stub_adopt[], stub_adopt_end[];
extern const char stub_park[];
/* ptrace stub: the sentry's compare-and-swap in application memory. */
extern const char stub_cmpxchg[], stub_cmpxchg_end[];

/* Where a symbol of a blob lands once the blob is copied to STUB_BASE. */
#define STUB_ADDR_IN(blob, sym)                                                \
	(STUB_BASE + (uint64_t)((const char *)(sym) - (const char *)(blob)))
#define STUB_ADDR(sym) STUB_ADDR_IN(stub_blob_start, sym)

/* Maps a blob at STUB_BASE in the sentry (inherited by the factory) and
 * fills the parameters that strip a forked copy down to the stub. */
int stub_image_install(const char *blob_start, const char *blob_end);
/* Finds the host vDSO (with its vvar pages) of this process. */
int vdso_discover(uint64_t *start, uint64_t *end, uint64_t *text_start,
		  uint64_t *ehdr);

/* Builds the seccomp program for stubs: syscalls from the stub code whose
 * numbers are in allowed[] run; others from the stub kill it; syscalls
 * from anywhere else get other_action (SECCOMP_RET_*). Returns 0 and a
 * malloc'd program in *prog, or -errno. The stub code is the code page
 * less its first byte: a syscall instruction ending exactly at STUB_BASE
 * lies in application memory. */
struct sock_fprog;
struct sock_filter;
int stub_filter_build(const int *allowed, unsigned n, uint32_t other_action,
		      struct sock_fprog *prog);
/* Writes the common head of a stub filter into f (room for
 * STUB_FILTER_PROLOGUE_LEN): kill any other architecture, give
 * other_action to calls from outside the stub code, fall through for calls
 * from it. Returns the number of instructions written. */
#define STUB_FILTER_PROLOGUE_LEN 11
unsigned stub_filter_prologue(struct sock_filter *f, uint32_t other_action);

#endif /* __ASSEMBLER__ */
#endif
