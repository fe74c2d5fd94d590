/* The systrap platform's stub code. Copied to STUB_BASE; position
 * independent; the factory and a newborn stub have no stack (the one they
 * were forked with is unmapped), a signal handler runs on its slot's
 * signal stack (slot.h).
 *
 * systrap_factory_entry runs once, in the factory: it unmaps everything
 * but the stub region and the vDSO, then serves the sentry: for each
 * datagram carrying [channel, slot memfd] it maps the slot, forks, and
 * drops its copies. The child takes the channel as fd 0, installs its
 * signal stack and handlers and the stub filter, and stops at
 * systrap_birth, from where the sentry runs the application.
 *
 * systrap_handler catches every stop: SIGSYS (a trapped syscall), faults,
 * and SYSTRAP_SIG_INTR (the sentry's interrupt). It copies the frame's
 * registers to the slot, hands the turn to the sentry (SM_STATE), runs the
 * commands the sentry posts, and on CMD_RESUME writes the registers back
 * into the frame and returns through rt_sigreturn.
 *
 * systrap_fast_entry is the way in from a patched syscall site (see
 * sentry/mm/patch.c): the site jumps to a trampoline that loads the
 * syscall number and the address after the site and jumps here, with no
 * signal. %gs holds the thread's slot (the platform sets it while
 * patching is on). The registers go to the slot as the SIGSYS handler
 * would put them, and the same command loop runs, with %r13 = 0 (no
 * frame); CMD_RESUME then returns straight to the application
 * (.Lfast_leave), CMD_CONVERT turns the stop into a frame stop for what
 * needs one (FPU state, clone). Signals are not blocked on this path: the
 * handler recognises a signal that lands in the loop (see there).
 *
 * New threads and processes (CMD_THREAD, CMD_FORK) start inside the
 * handler of the thread that made them, with every signal blocked: the
 * sentry has copied that thread's frame into the new slot, so the child
 * carries on as the handler of its own slot, reports, and leaves through
 * the same rt_sigreturn, which gives it its registers, its FPU state (the
 * frame's), its signal mask and its signal stack. Registers the handler
 * keeps across commands: %rbx its slot, %r13 its ucontext. */
#include <asm/unistd_64.h>

#include "platform/stub.h"
#include "platform/systrap/slot.h"

#define EINTR 4
#define EINVAL 22
#define EPROTO 71
#define SIGKILL 9
#define SIGTRAP 5
#define SIGILL 4
#define SIGBUS 7
#define SIGFPE 8
#define SIGSEGV 11
#define SIGSYS 31
#define SA_SIGINFO 4
#define SA_ONSTACK 0x08000000
#define SA_RESTORER 0x04000000
#define PROT_RW 3
#define MAP_SHARED 1
#define MAP_FIXED 0x10
#define MSG_DONTWAIT 0x40
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define PR_SET_PDEATHSIG 1
#define SECCOMP_SET_MODE_FILTER 1
#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define SOL_SOCKET 1
#define SCM_RIGHTS 1

/* A fresh msghdr for one datagram with up to two fds, at SM_MSGHDR(%rbx).
 * recvmsg rewrites msg_controllen, so it is rebuilt for every call. */
.macro prepare_recv
	xor %eax, %eax
	mov %rax, SM_MSGHDR+0(%rbx)
	mov %rax, SM_MSGHDR+8(%rbx)
	lea SM_IOV(%rbx), %rcx
	mov %rcx, SM_MSGHDR+16(%rbx)
	movq $1, SM_MSGHDR+24(%rbx)
	lea SM_CMSG(%rbx), %rcx
	mov %rcx, SM_MSGHDR+32(%rbx)
	movq $24, SM_MSGHDR+40(%rbx)
	mov %rax, SM_MSGHDR+48(%rbx)
	lea SM_BYTE(%rbx), %rcx
	mov %rcx, SM_IOV(%rbx)
	movq $1, SM_IOV+8(%rbx)
	mov %rax, SM_CMSG(%rbx)
	mov %rax, SM_CMSG+8(%rbx)
	movq $-1, SM_CMSG+16(%rbx)
.endm

/* futex(&SM_STATE(%rbx), FUTEX_WAKE, 1) */
.macro wake_state
	lea SM_STATE(%rbx), %rdi
	mov $FUTEX_WAKE, %esi
	mov $1, %edx
	xor %r10d, %r10d
	mov $__NR_futex, %eax
	syscall
.endm

/* Die with the factory (our parent), and right away if it is gone
 * already: then the death signal would never come. */
.macro die_with_factory
	mov $__NR_prctl, %eax
	mov $PR_SET_PDEATHSIG, %edi
	mov $SIGKILL, %esi
	syscall
	mov $__NR_getppid, %eax
	syscall
	movabs $STUB_DATA_FACTORY_PID, %rcx
	cmp (%rcx), %rax
	jne .Ldie
.endm

.macro set_handler sig
	mov $\sig, %edi
	lea SM_SIGACT(%rbx), %rsi
	xor %edx, %edx
	mov $8, %r10d
	mov $__NR_rt_sigaction, %eax
	syscall
	test %rax, %rax
	jnz .Ldie
.endm

	.section .text.rc_systrap_stub, "ax", @progbits
	.balign 4096
	.globl systrap_blob_start
systrap_blob_start:
	/* Nothing ends at the page's first byte: the filter counts a syscall
	 * whose next instruction is STUB_BASE as application code. */
	ud2

	/* %rdi: struct stub_params * (in the stub data page) */
	.globl systrap_factory_entry
systrap_factory_entry:
	mov %rdi, %r15
	mov 0(%r15), %r14 /* n_unmap */
	lea 8(%r15), %r13 /* unmap[] */
1:	test %r14, %r14
	jz 2f
	mov $__NR_munmap, %eax
	mov 0(%r13), %rdi
	mov 8(%r13), %rsi
	syscall
	add $16, %r13
	dec %r14
	jmp 1b
	/* Our pid, for every stub to check its parent against. */
2:	mov $__NR_getpid, %eax
	syscall
	movabs $STUB_DATA_FACTORY_PID, %rcx
	mov %rax, (%rcx)

.Lfactory_loop:
	movabs $(STUB_DATA_SCRATCH - SM_MSGHDR), %rbx
	prepare_recv
	xor %edi, %edi /* STUB_CTRL_FD */
	lea SM_MSGHDR(%rbx), %rsi
	xor %edx, %edx
	mov $__NR_recvmsg, %eax
	syscall
	cmp $-EINTR, %rax
	je .Lfactory_loop
	test %rax, %rax
	jle .Ldie /* the sentry is gone */
	/* Only ever [channel, memfd] from the sentry. */
	cmpq $24, SM_CMSG(%rbx)
	jne .Lfactory_loop
	cmpl $SOL_SOCKET, SM_CMSG+8(%rbx)
	jne .Lfactory_loop
	cmpl $SCM_RIGHTS, SM_CMSG+12(%rbx)
	jne .Lfactory_loop
	movslq SM_CMSG+16(%rbx), %r12 /* the new stub's channel */
	movslq SM_CMSG+20(%rbx), %r13 /* its slot */
	mov $__NR_mmap, %eax
	movabs $STUB_SLOTS, %rdi
	mov $STUB_SLOTS_SIZE, %esi
	mov $PROT_RW, %edx
	mov $(MAP_SHARED | MAP_FIXED), %r10d
	mov %r13, %r8
	xor %r9d, %r9d
	syscall
	cmp $-4095, %rax
	jae .Lfactory_close /* the sentry's wait for the birth gives up */
	mov $__NR_fork, %eax
	syscall
	test %rax, %rax
	jz .Lchild
	jns 2f
	/* No child: tell the sentry, which waits on the slot. */
	movabs $STUB_SLOTS, %rbx
	mov %rax, SM_PID(%rbx)
	mov $SLOT_STOPPED, %eax
	xchg %eax, SM_STATE(%rbx)
	wake_state
2:	mov $__NR_munmap, %eax
	movabs $STUB_SLOTS, %rdi
	mov $STUB_SLOTS_SIZE, %esi
	syscall
.Lfactory_close:
	mov $__NR_close, %eax
	mov %r12, %rdi
	syscall
	mov $__NR_close, %eax
	mov %r13, %rdi
	syscall
	jmp .Lfactory_loop

	/* A new stub: %r12 its channel, %r13 its slots' memfd (mapped at
	 * STUB_SLOTS; it uses slot 0). */
.Lchild:
	movabs $STUB_SLOTS, %rbx
	mov $__NR_dup2, %eax
	mov %r12, %rdi
	xor %esi, %esi
	syscall
	test %rax, %rax
	jnz .Ldie
	mov $__NR_close, %eax
	mov %r12, %rdi
	syscall
	mov $__NR_close, %eax
	mov %r13, %rdi
	syscall
	mov $__NR_getpid, %eax
	syscall
	mov %rax, SM_PID(%rbx)
	/* Before any handler: if the factory is gone, the ud2 kills. */
	die_with_factory
	/* The signal stack: the slot past its message page. */
	lea SLOT_STACK(%rbx), %rax
	mov %rax, SM_ALTSTACK(%rbx)
	movq $0, SM_ALTSTACK+8(%rbx)
	movq $(STUB_SLOT_SIZE - SLOT_STACK), SM_ALTSTACK+16(%rbx)
	lea SM_ALTSTACK(%rbx), %rdi
	xor %esi, %esi
	mov $__NR_sigaltstack, %eax
	syscall
	test %rax, %rax
	jnz .Ldie
	/* One handler for every stop, every signal blocked while it runs:
	 * a fault inside it kills the stub (a blocked forced signal takes
	 * its default action). */
	lea systrap_handler(%rip), %rax
	mov %rax, SM_SIGACT+0(%rbx)
	movq $(SA_SIGINFO | SA_ONSTACK | SA_RESTORER), SM_SIGACT+8(%rbx)
	lea systrap_restorer(%rip), %rax
	mov %rax, SM_SIGACT+16(%rbx)
	movq $-1, SM_SIGACT+24(%rbx)
	set_handler SIGSYS
	set_handler SIGSEGV
	set_handler SIGBUS
	set_handler SIGFPE
	set_handler SIGILL
	set_handler SIGTRAP
	set_handler SYSTRAP_SIG_INTR
	/* From here the stub filter holds too (on top of the factory's). */
	mov $__NR_seccomp, %eax
	mov $SECCOMP_SET_MODE_FILTER, %edi
	xor %esi, %esi
	movabs $STUB_DATA_FPROG, %rdx
	syscall
	test %rax, %rax
	jnz .Ldie
	/* The birth stop: the SIGTRAP handler reports it and waits. */
	.globl systrap_birth
systrap_birth:
	int3
.Ldie:
	/* With every signal blocked (or no handler yet), the SIGILL kills. */
	ud2

	/* %edi: signal, %rsi: siginfo, %rdx: ucontext */
	.globl systrap_handler
systrap_handler:
	/* Only ever on a slot's signal stack: anywhere else the application
	 * has moved it (by a sigreturn through our code), so die. */
	mov %rsp, %rax
	movabs $STUB_SLOTS, %rcx
	sub %rcx, %rax
	jb .Ldie
	cmp $(STUB_SLOTS_END - STUB_SLOTS), %rax
	jae .Ldie
	mov %rsp, %rbx
	and $-STUB_SLOT_SIZE, %rbx
	mov %rsi, %r12
	mov %rdx, %r13
	movslq %edi, %r14
	/* Interrupted inside the stub code: only a thread on the fast path
	 * (in the handler every signal is blocked). */
	mov UC_GREGS+8*G_RIP(%r13), %rax
	lea systrap_handler(%rip), %rcx
	sub %rcx, %rax
	cmp $(systrap_blob_end - systrap_handler), %rax
	jae .Lframe_stop
	cmp $(systrap_fast_convert + 1 - systrap_handler), %rax
	jne 1f
	cmp $SIGTRAP, %r14
	jne .Ldie
	/* CMD_CONVERT: the application's registers are in the slot; the
	 * frame has its FPU state (the fast path uses none). */
	lea SM_GREGS(%rbx), %rsi
	lea UC_GREGS(%r13), %rdi
	mov $SM_NGREGS_SET, %ecx
	rep movsq
	jmp .Lframe_stop
	/* Any other signal but an interrupt here is a fault on the fast
	 * path: %gs or the slot words were forged. */
1:	cmp $SYSTRAP_SIG_INTR, %r14
	jne .Ldie
	/* An interrupt in the last leg of a resume, where the registers the
	 * sentry gave are all in the slot: stop as if it came at the
	 * application's first instruction. */
	cmp $(.Lfast_leave - systrap_handler), %rax
	jb 2f
	cmp $(systrap_fast_convert - systrap_handler), %rax
	jae 2f
	lea SM_GREGS(%rbx), %rsi
	lea UC_GREGS(%r13), %rdi
	mov $SM_NGREGS_SET, %ecx
	rep movsq
	jmp .Lframe_stop
	/* Elsewhere the thread reports or waits (the stop the sentry asks
	 * for is made anyway) or sets its bases for a resume (the sentry
	 * sends again if it still waits). */
2:	ret /* to systrap_restorer */

.Lframe_stop:
	mov %r14, SM_SIGNO(%rbx)
	movslq SI_CODE(%r12), %rax
	mov %rax, SM_CODE(%rbx)
	mov SI_ADDR(%r12), %rax
	mov %rax, SM_ADDR(%rbx)
	mov UC_FPREGS(%r13), %rax
	mov %rax, SM_FPSTATE(%rbx)
	mov %r13, SM_UCONTEXT(%rbx)
	lea UC_GREGS(%r13), %rsi
	lea SM_GREGS(%rbx), %rdi
	mov $SM_NGREGS, %ecx
	rep movsq
.Lbases:
	testl $SLOT_F_FSGSBASE, SM_FLAGS(%rbx)
	jz .Lreport
	rdfsbase %rax
	mov %rax, SM_FS_BASE(%rbx)
	rdgsbase %rax
	mov %rax, SM_GS_BASE(%rbx)

	/* The sentry's turn; wake it only if it sleeps. The xchg is a full
	 * barrier between our store of the state and the load of the flag
	 * (the sentry sets the flag, then rereads the state). */
.Lreport:
	mov $SLOT_STOPPED, %eax
	xchg %eax, SM_STATE(%rbx)
	cmpl $0, SM_SENTRY_SLEEPING(%rbx)
	je .Lwait
	wake_state

	/* Spin SM_SPIN rounds for the sentry's command, then sleep. */
.Lwait:
	mov SM_SPIN(%rbx), %r14
3:	cmpl $SLOT_CMD, SM_STATE(%rbx)
	je .Lcommand
	test %r14, %r14
	jz 4f
	dec %r14
	pause
	jmp 3b
4:	movl $1, SM_STUB_SLEEPING(%rbx)
	mfence
	cmpl $SLOT_CMD, SM_STATE(%rbx)
	je 5f
	lea SM_STATE(%rbx), %rdi
	mov $FUTEX_WAIT, %esi
	mov $SLOT_STOPPED, %edx
	xor %r10d, %r10d
	mov $__NR_futex, %eax
	syscall
5:	movl $0, SM_STUB_SLEEPING(%rbx)
	jmp 3b

.Lcommand:
	mov SM_CMD(%rbx), %rax
	cmp $CMD_RESUME, %rax
	je .Lresume
	cmp $CMD_SYSCALL, %rax
	je .Lsyscall
	cmp $CMD_MMAP_FD, %rax
	je .Lmmap_fd
	cmp $CMD_EXIT, %rax
	je .Lexit
	cmp $CMD_RECV_FDS, %rax
	je .Lrecv_fds
	cmp $CMD_THREAD, %rax
	je .Lthread
	cmp $CMD_FORK, %rax
	je .Lfork
	cmp $CMD_CONVERT, %rax
	je .Lconvert
	cmp $CMD_CMPXCHG, %rax
	je .Lcmpxchg
	movq $-EINVAL, SM_RESULT(%rbx)
	jmp .Lreport

	/* An atomic compare-and-swap in application memory, for the
	 * sentry's PI futexes: this thread's locked instruction is atomic
	 * against the application's own. The sentry checked the address. */
.Lcmpxchg:
	mov SM_ARGS+0(%rbx), %rdi
	mov SM_ARGS+8(%rbx), %eax
	mov SM_ARGS+16(%rbx), %edx
	lock cmpxchg %edx, (%rdi)
	mov %eax, %eax /* the previous value, zero-extended */
	mov %rax, SM_RESULT(%rbx)
	jmp .Lreport

.Lsyscall:
	mov SM_NR(%rbx), %rax
	mov SM_ARGS+0(%rbx), %rdi
	mov SM_ARGS+8(%rbx), %rsi
	mov SM_ARGS+16(%rbx), %rdx
	mov SM_ARGS+24(%rbx), %r10
	mov SM_ARGS+32(%rbx), %r8
	mov SM_ARGS+40(%rbx), %r9
	syscall
	mov %rax, SM_RESULT(%rbx)
	jmp .Lreport

	/* The sentry has sent one fd on our channel: take it, map it,
	 * close it. */
.Lmmap_fd:
	prepare_recv
	xor %edi, %edi /* STUB_CTRL_FD */
	lea SM_MSGHDR(%rbx), %rsi
	mov $MSG_DONTWAIT, %edx
	mov $__NR_recvmsg, %eax
	syscall
	test %rax, %rax
	js 7f
	cmpq $20, SM_CMSG(%rbx) /* CMSG_LEN(sizeof(int)): exactly one fd */
	jne 6f
	cmpl $SOL_SOCKET, SM_CMSG+8(%rbx)
	jne 6f
	cmpl $SCM_RIGHTS, SM_CMSG+12(%rbx)
	jne 6f
	movslq SM_CMSG+16(%rbx), %r15
	mov SM_ARGS+0(%rbx), %rdi
	mov SM_ARGS+8(%rbx), %rsi
	mov SM_ARGS+16(%rbx), %rdx
	mov SM_ARGS+24(%rbx), %r10
	mov %r15, %r8
	mov SM_ARGS+40(%rbx), %r9
	mov $__NR_mmap, %eax
	syscall
	mov %rax, SM_RESULT(%rbx)
	mov %r15, %rdi
	mov $__NR_close, %eax
	syscall
	jmp .Lreport
6:	movq $-EPROTO, SM_RESULT(%rbx)
	jmp .Lreport
7:	mov %rax, SM_RESULT(%rbx)
	jmp .Lreport

	/* The sentry has sent two fds on our channel (a forked child's
	 * channel and slots): take them; their numbers stay in SM_CMSG. */
.Lrecv_fds:
	prepare_recv
	xor %edi, %edi /* STUB_CTRL_FD */
	lea SM_MSGHDR(%rbx), %rsi
	mov $MSG_DONTWAIT, %edx
	mov $__NR_recvmsg, %eax
	syscall
	test %rax, %rax
	js 7b
	cmpq $24, SM_CMSG(%rbx) /* CMSG_LEN(2 * sizeof(int)): exactly two fds */
	jne 6b
	cmpl $SOL_SOCKET, SM_CMSG+8(%rbx)
	jne 6b
	cmpl $SCM_RIGHTS, SM_CMSG+12(%rbx)
	jne 6b
	movq $0, SM_RESULT(%rbx)
	jmp .Lreport

	/* Leave: acknowledge first, then touch the slot no more (the
	 * sentry may give it to a new thread as soon as it sees the
	 * acknowledgment; the kernel writes nothing there at exit: no
	 * clear_child_tid, no robust list). */
.Lexit:
	mov $SLOT_STOPPED, %eax
	xchg %eax, SM_STATE(%rbx)
	cmpl $0, SM_SENTRY_SLEEPING(%rbx)
	je 1f
	wake_state
1:	xor %edi, %edi
	mov $__NR_exit, %eax
	syscall
	ud2

	/* A new thread. The stub filter lets this clone through only here,
	 * with these flags and a stack in the slots, and only while the
	 * sentry traces us (SECCOMP_RET_TRACE): the sentry checks our
	 * registers at the stop. */
.Lthread:
	mov SM_ARGS+0(%rbx), %rdi
	mov SM_ARGS+8(%rbx), %rsi
	xor %edx, %edx
	xor %r10d, %r10d
	xor %r8d, %r8d
	mov $__NR_clone, %eax
	.globl systrap_clone_thread
systrap_clone_thread:
	syscall
	test %rax, %rax
	jz 1f
	mov %rax, SM_RESULT(%rbx)
	jmp .Lreport
	/* The new thread: on its slot's stack, at our offset in ours. */
1:	mov %rsp, %rcx
	and $-STUB_SLOT_SIZE, %rcx
	sub %rbx, %r13
	add %rcx, %r13
	mov %rcx, %rbx
	movq $0, SM_RESULT(%rbx)
	jmp .Lreport

	/* A new process (fork), gated like a thread. Until the child has
	 * mapped its own slots over ours it shares every slot with us, so it
	 * touches no memory before that. */
.Lfork:
	mov SM_ARGS+16(%rbx), %r12 /* the child's channel, in our fd table */
	mov SM_ARGS+24(%rbx), %r15 /* the child's slots */
	mov SM_ARGS+0(%rbx), %rdi
	xor %esi, %esi
	xor %edx, %edx
	xor %r10d, %r10d
	xor %r8d, %r8d
	mov $__NR_clone, %eax
	.globl systrap_clone_fork
systrap_clone_fork:
	syscall
	test %rax, %rax
	jz .Lfork_child
	mov %rax, SM_RESULT(%rbx)
	mov $__NR_close, %eax
	mov %r12, %rdi
	syscall
	mov $__NR_close, %eax
	mov %r15, %rdi
	syscall
	jmp .Lreport
.Lfork_child:
	mov $__NR_mmap, %eax
	movabs $STUB_SLOTS, %rdi
	mov $STUB_SLOTS_SIZE, %esi
	mov $PROT_RW, %edx
	mov $(MAP_SHARED | MAP_FIXED), %r10d
	mov %r15, %r8
	xor %r9d, %r9d
	syscall
	cmp %rdi, %rax
	jne .Ldie
	/* Our own channel as fd 0, and no other fd (ours, and any the
	 * parent held in flight when it forked). */
	mov $__NR_dup2, %eax
	mov %r12, %rdi
	xor %esi, %esi
	syscall
	test %rax, %rax
	jnz .Ldie
	mov $__NR_close_range, %eax
	mov $1, %edi
	mov $0xffffffff, %esi
	xor %edx, %edx
	syscall
	/* Die with the factory, as every stub: a fork does not inherit it. */
	die_with_factory
	movq $0, SM_RESULT(%rbx)
	jmp .Lreport

.Lconvert:
	test %r13, %r13
	jz systrap_fast_convert
	movq $0, SM_RESULT(%rbx) /* a frame stop already */
	jmp .Lreport

.Lresume:
	test %r13, %r13
	jz 1f
	lea SM_GREGS(%rbx), %rsi
	lea UC_GREGS(%r13), %rdi
	mov $SM_NGREGS_SET, %ecx
	rep movsq
1:	testl $SLOT_F_FSGSBASE, SM_FLAGS(%rbx)
	jz 8f
	mov SM_FS_BASE(%rbx), %rax
	wrfsbase %rax
	mov SM_GS_BASE(%rbx), %rax
	wrgsbase %rax
	jmp 9f
8:	testl $SLOT_F_SETFSGS, SM_FLAGS(%rbx)
	jz 9f
	andl $~SLOT_F_SETFSGS, SM_FLAGS(%rbx)
	mov $ARCH_SET_FS, %edi
	mov SM_FS_BASE(%rbx), %rsi
	mov $__NR_arch_prctl, %eax
	syscall
	mov $ARCH_SET_GS, %edi
	mov SM_GS_BASE(%rbx), %rsi
	mov $__NR_arch_prctl, %eax
	syscall
9:	test %r13, %r13
	jz .Lfast_leave
	/* Undo whatever a forged frame set before: nothing blocked, our own
	 * signal stack. */
	movq $0, UC_SIGMASK(%r13)
	lea SLOT_STACK(%rbx), %rax
	mov %rax, UC_STACK+0(%r13)
	movl $0, UC_STACK+8(%r13)
	movq $(STUB_SLOT_SIZE - SLOT_STACK), UC_STACK+16(%r13)
	movl $SLOT_RUNNING, SM_STATE(%rbx)
	ret /* to systrap_restorer */

	.globl systrap_restorer
systrap_restorer:
	mov $__NR_rt_sigreturn, %eax
	syscall
	ud2

	/* From a patched site's trampoline: %eax the syscall number, %rcx
	 * the address after the site, every other register the
	 * application's, the red zone below %rsp untouched. Like the syscall
	 * instruction, we give %rcx the return address and %r11 the flags. */
	.globl systrap_fast_entry
systrap_fast_entry:
	mov %rsp, %gs:SM_GREGS+8*G_RSP
	mov %gs:SM_SELF, %rsp
	lea STUB_SLOT_SIZE(%rsp), %rsp /* the top of the slot's signal stack */
	pushf
	pop %r11
	mov %r8, %gs:SM_GREGS+8*G_R8
	mov %r9, %gs:SM_GREGS+8*G_R9
	mov %r10, %gs:SM_GREGS+8*G_R10
	mov %r11, %gs:SM_GREGS+8*G_R11
	mov %r12, %gs:SM_GREGS+8*G_R12
	mov %r13, %gs:SM_GREGS+8*G_R13
	mov %r14, %gs:SM_GREGS+8*G_R14
	mov %r15, %gs:SM_GREGS+8*G_R15
	mov %rdi, %gs:SM_GREGS+8*G_RDI
	mov %rsi, %gs:SM_GREGS+8*G_RSI
	mov %rbp, %gs:SM_GREGS+8*G_RBP
	mov %rbx, %gs:SM_GREGS+8*G_RBX
	mov %rdx, %gs:SM_GREGS+8*G_RDX
	mov %rax, %gs:SM_GREGS+8*G_RAX
	mov %rcx, %gs:SM_GREGS+8*G_RCX
	mov %rcx, %gs:SM_GREGS+8*G_RIP
	mov %r11, %gs:SM_GREGS+8*G_EFL
	mov %gs:SM_SELF, %rbx
	xor %eax, %eax
	mov %rax, SM_GREGS+8*18(%rbx) /* csgsfs, err, trapno, oldmask, cr2 */
	mov %rax, SM_GREGS+8*19(%rbx)
	mov %rax, SM_GREGS+8*20(%rbx)
	mov %rax, SM_GREGS+8*21(%rbx)
	mov %rax, SM_GREGS+8*22(%rbx)
	mov %rax, SM_CODE(%rbx)
	mov %rax, SM_ADDR(%rbx)
	mov %rax, SM_FPSTATE(%rbx)
	mov %rax, SM_UCONTEXT(%rbx)
	movq $SYSTRAP_STOP_FAST, SM_SIGNO(%rbx)
	xor %r13d, %r13d /* no frame */
	jmp .Lbases

	/* CMD_RESUME without a frame. The platform resumes this way only
	 * with our slot still in %gs and no trap flag; the last loads go
	 * through %gs, when no register is left. */
.Lfast_leave:
	movl $SLOT_RUNNING, SM_STATE(%rbx)
	pushq SM_GREGS+8*G_EFL(%rbx)
	popf
	mov SM_GREGS+8*G_R8(%rbx), %r8
	mov SM_GREGS+8*G_R9(%rbx), %r9
	mov SM_GREGS+8*G_R10(%rbx), %r10
	mov SM_GREGS+8*G_R11(%rbx), %r11
	mov SM_GREGS+8*G_R12(%rbx), %r12
	mov SM_GREGS+8*G_R13(%rbx), %r13
	mov SM_GREGS+8*G_R14(%rbx), %r14
	mov SM_GREGS+8*G_R15(%rbx), %r15
	mov SM_GREGS+8*G_RDI(%rbx), %rdi
	mov SM_GREGS+8*G_RSI(%rbx), %rsi
	mov SM_GREGS+8*G_RBP(%rbx), %rbp
	mov SM_GREGS+8*G_RDX(%rbx), %rdx
	mov SM_GREGS+8*G_RAX(%rbx), %rax
	mov SM_GREGS+8*G_RCX(%rbx), %rcx
	mov SM_GREGS+8*G_RSP(%rbx), %rsp
	mov %gs:SM_GREGS+8*G_RBX, %rbx
	jmp *%gs:SM_GREGS+8*G_RIP

	/* CMD_CONVERT on the fast path: a real signal stop. */
	.globl systrap_fast_convert
systrap_fast_convert:
	int3
	ud2

	.globl systrap_blob_end
systrap_blob_end:
	.section .note.GNU-stack, "", @progbits
