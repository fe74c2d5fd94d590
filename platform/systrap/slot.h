/* A systrap thread slot: STUB_SLOT_SIZE bytes at a fixed address in the
 * stub (STUB_SLOTS + n * STUB_SLOT_SIZE), one per stub thread, all slots of
 * an address space in one memfd mapped whole in the stub and anywhere in
 * the sentry. The first page is the message area below; the rest is the
 * stub thread's signal stack, so a handler finds its slot by rounding its
 * stack pointer down to STUB_SLOT_SIZE.
 *
 * The application can write this memory too (it is mapped in its address
 * space), from any of its threads into any slot: the sentry treats
 * everything it reads here as untrusted input.
 *
 * Included by the stub assembly: offsets only, no C outside the guard. */
#ifndef RC_PLATFORM_SYSTRAP_SLOT_H
#define RC_PLATFORM_SYSTRAP_SLOT_H

/* state: the futex word that passes the turn between stub and sentry. */
#define SLOT_RUNNING 0 /* the stub thread runs application code */
#define SLOT_STOPPED 1 /* the stub reported a stop or a result: the sentry's turn */
#define SLOT_CMD 2     /* the sentry posted a command: the stub's turn */

/* Commands (cmd). */
#define CMD_RESUME 1   /* apply gregs (and fs/gs base) and return to the application */
#define CMD_SYSCALL 2  /* run syscall nr(args) from the stub code; result */
#define CMD_MMAP_FD 3  /* receive one fd on the channel, mmap(args[0..3], fd,
			* args[5]), close it; result */
#define CMD_EXIT 4     /* acknowledge (state STOPPED), then exit this thread
			* without touching the slot again */
#define CMD_RECV_FDS 5 /* receive two fds on the channel (their numbers are
			* left in the SM_CMSG scratch); result */
#define CMD_THREAD 6   /* clone(args[0], args[1]): a new thread whose stack is
			* args[1], in its own slot at the offset of ours; the
			* parent's result is its tid, the thread reports 0 in
			* its slot */
#define CMD_CONVERT 8  /* a thread stopped on the fast path (SYSTRAP_STOP_FAST)
			* takes a real signal (int3 at systrap_fast_convert):
			* its handler puts the registers of the slot into the
			* frame and reports a SIGTRAP stop from there, with
			* the FPU state in the frame; result 0 */
#define CMD_CMPXCHG 9  /* lock cmpxchg of the u32 at args[0]: expected
			* args[1], new args[2]; result: the previous value */
#define CMD_FORK 7     /* clone(args[0], 0): a new process that maps fd
			* args[3] over the slots and takes fd args[2] as its
			* channel; the parent closes both; results as above */

/* flags, written by the sentry. */
#define SLOT_F_FSGSBASE 1 /* rd/wrfsbase work: read and set the bases directly */
#define SLOT_F_SETFSGS 2  /* without them: set both bases with arch_prctl */

#define SM_STATE 0x00        /* u32 */
#define SM_SENTRY_SLEEPING 0x04 /* u32: the sentry may be in FUTEX_WAIT */
#define SM_STUB_SLEEPING 0x08   /* u32: the stub may be in FUTEX_WAIT */
#define SM_FLAGS 0x0c        /* u32 */
#define SM_PID 0x10          /* the stub's host pid (or -errno of its fork) */
#define SM_SPIN 0x18         /* how long the stub spins before sleeping */
#define SM_SIGNO 0x20        /* stop report: the signal */
#define SM_CODE 0x28         /* ... si_code */
#define SM_ADDR 0x30         /* ... si_addr */
#define SM_FPSTATE 0x38      /* ... uc_mcontext.fpregs: the frame's xsave area */
#define SM_FS_BASE 0x40
#define SM_GS_BASE 0x48
#define SM_CMD 0x50
#define SM_NR 0x58
#define SM_ARGS 0x60         /* 6 x u64 */
#define SM_RESULT 0x90
#define SM_UCONTEXT 0x98     /* ... the frame's ucontext */
#define SM_GREGS 0xa0        /* 23 x u64: uc_mcontext.gregs */
#define SM_NGREGS 23
#define SM_NGREGS_SET 18     /* R8 .. EFL: what a resume writes back */
#define SM_MSGHDR 0x180      /* recvmsg scratch: struct msghdr (56 bytes) */
#define SM_IOV 0x1b8         /* struct iovec */
#define SM_BYTE 0x1c8
#define SM_CMSG 0x1d0        /* room for CMSG_SPACE(2 * sizeof(int)) */
#define SM_SIGACT 0x200      /* birth scratch: kernel struct sigaction */
#define SM_ALTSTACK 0x220    /* birth scratch: stack_t */
#define SM_SELF 0x240        /* the slot's address in the stub (the fast path
			      * finds its slot through %gs) */
#define SM_END 0x248
/* The signal stack: the rest of the slot. */
#define SLOT_STACK 0x1000

/* Offsets into the kernel's signal frame (x86-64). */
#define UC_STACK 16
#define UC_GREGS 40
#define UC_FPREGS 224
#define UC_SIGMASK 296
#define SI_CODE 8
#define SI_ADDR 16
#define CMSG_FD0 16          /* CMSG_DATA within the cmsghdr */

/* SM_SIGNO of a syscall that came through a patched site (stub.S,
 * systrap_fast_entry): no signal, no frame. */
#define SYSTRAP_STOP_FAST 0x100

/* uc_mcontext.gregs indices (x86-64). */
#define G_R8 0
#define G_R9 1
#define G_R10 2
#define G_R11 3
#define G_R12 4
#define G_R13 5
#define G_R14 6
#define G_R15 7
#define G_RDI 8
#define G_RSI 9
#define G_RBP 10
#define G_RBX 11
#define G_RDX 12
#define G_RAX 13
#define G_RCX 14
#define G_RSP 15
#define G_RIP 16
#define G_EFL 17

/* The signal that interrupts a running stub thread. */
#define SYSTRAP_SIG_INTR 10  /* SIGUSR1 */

#ifndef __ASSEMBLER__
#include <stdint.h>

/* The same layout as a C struct, for the sentry. */
struct systrap_slot {
	uint32_t state;
	uint32_t sentry_sleeping;
	uint32_t stub_sleeping;
	uint32_t flags;
	int64_t pid;
	uint64_t spin;
	uint64_t signo, code, addr, fpstate;
	uint64_t fs_base, gs_base;
	uint64_t cmd, nr, args[6];
	uint64_t result;
	uint64_t ucontext;
	uint64_t gregs[SM_NGREGS];
	uint8_t pad[SM_MSGHDR - SM_GREGS - 8 * SM_NGREGS];
	uint8_t recv[SM_SIGACT - SM_MSGHDR];
};

_Static_assert(__builtin_offsetof(struct systrap_slot, pid) == SM_PID, "slot layout");
_Static_assert(__builtin_offsetof(struct systrap_slot, signo) == SM_SIGNO, "slot layout");
_Static_assert(__builtin_offsetof(struct systrap_slot, fs_base) == SM_FS_BASE, "slot layout");
_Static_assert(__builtin_offsetof(struct systrap_slot, cmd) == SM_CMD, "slot layout");
_Static_assert(__builtin_offsetof(struct systrap_slot, args) == SM_ARGS, "slot layout");
_Static_assert(__builtin_offsetof(struct systrap_slot, result) == SM_RESULT, "slot layout");
_Static_assert(__builtin_offsetof(struct systrap_slot, ucontext) == SM_UCONTEXT, "slot layout");
_Static_assert(__builtin_offsetof(struct systrap_slot, gregs) == SM_GREGS, "slot layout");
_Static_assert(__builtin_offsetof(struct systrap_slot, recv) == SM_MSGHDR, "slot layout");
#endif

#endif
