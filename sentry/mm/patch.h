/* Syscall-site patching (patch.c). */
#ifndef RC_SENTRY_MM_PATCH_H
#define RC_SENTRY_MM_PATCH_H

#include <stdbool.h>

#include "platform/platform.h"

struct task;
struct mm;

/* Whether the platform patches (and was not told not to). */
bool mm_patch_enabled(void);
/* At a syscall stop of t: patch the site that made it, if it is one. */
void mm_patch_syscall(struct task *t);
/* At a fault stop of t: true if it met the int3 of a site being rewritten
 * (t then goes back to the site's start), false if the fault is real. */
bool mm_patch_fixup(struct task *t, const struct ctx_stop_info *info);
/* At an interrupt stop of t: if it stopped inside a trampoline, put it
 * back at the start of the site (what a signal handler should see). */
void mm_patch_unwind(struct task *t);
/* The application set its own %gs base: restore every patched site of
 * t's address space and patch no more there. */
void mm_patch_disable(struct task *t);
/* For mm_fork and mm_put (callers hold from->lock). */
int mm_patch_fork(struct mm *to, const struct mm *from);
void mm_patch_free(struct mm *mm);

#endif
