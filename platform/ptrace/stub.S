/* The ptrace platform's stub code. Copied to STUB_BASE; position
 * independent; uses no stack (the stack it was forked with is unmapped).
 *
 * stub_entry runs once, in the factory: it unmaps everything the factory
 * inherited from the sentry but the stub region and the vDSO, then stops
 * itself so the sentry can trace it. Every stub is forked from the
 * factory after that, so every stub is born clean.
 *
 * stub_syscall is where the sentry injects system calls: it sets the
 * registers, points rip here and lets the thread run to the int3. */
#include <asm/unistd_64.h>

#define SIGSTOP 19
#define SIGKILL 9
#define PR_SET_PDEATHSIG 1

	.section .text.rc_stub, "ax", @progbits
	.balign 4096
	.globl stub_blob_start
stub_blob_start:

	.globl stub_entry
	/* %rdi: struct stub_params * (in the stub data page) */
stub_entry:
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
2:	mov $__NR_getpid, %eax
	syscall
	mov %rax, %rdi
	mov $SIGSTOP, %esi
	mov $__NR_kill, %eax
	syscall

	.globl stub_syscall
stub_syscall:
	syscall
	int3
	jmp stub_syscall

	/* stub_cmpxchg: the sentry's atomic compare-and-swap in application
	 * memory (PI futexes): %rdi the word, %eax expected, %edx new; the
	 * previous value comes back in %eax. */
	.globl stub_cmpxchg
stub_cmpxchg:
	lock cmpxchg %edx, (%rdi)
	.globl stub_cmpxchg_end
stub_cmpxchg_end:
	int3
	jmp stub_cmpxchg

	/* stub_park: where a new stub thread waits, untraced, between its
	 * birth (traced by the sentry thread that made it) and its adoption
	 * by the sentry thread that will run it, which seizes and interrupts
	 * it. pause() only returns to a signal; loop anyway. */
	.globl stub_park
stub_park:
	mov $__NR_pause, %eax
	syscall
	jmp stub_park

	/* stub_adopt: once in each new stub, from its birth stop. Takes the
	 * channel the sentry sends on the inherited factory channel (fd 0)
	 * as its own fd 0, and asks to die with its parent. One resume for
	 * what would be four injected calls.
	 * %rdi, %rsi, %rdx: recvmsg(0, msghdr, flags); %r12: where the
	 * received fd number lands. %rax at the int3: 0 or -errno. */
	.globl stub_adopt
stub_adopt:
	mov $__NR_recvmsg, %eax
	syscall
	test %rax, %rax
	js 9f
	mov (%r12), %r13d
	mov %r13, %rdi
	xor %esi, %esi
	mov $__NR_dup2, %eax
	syscall
	test %rax, %rax
	js 9f
	mov %r13, %rdi
	mov $__NR_close, %eax
	syscall
	mov $PR_SET_PDEATHSIG, %edi
	mov $SIGKILL, %esi
	mov $__NR_prctl, %eax
	syscall
9:	int3
	.globl stub_adopt_end
stub_adopt_end:

	.globl stub_blob_end
stub_blob_end:
	.section .note.GNU-stack, "", @progbits
