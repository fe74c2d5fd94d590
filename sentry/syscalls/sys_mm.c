#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

SYSCALL(brk) { return mm_brk(t, a[0]); }
SYSCALL(mmap) { return mm_mmap(t, a[0], a[1], (int)a[2], (int)a[3], (int)a[4], a[5]); }
SYSCALL(munmap) { return mm_munmap(t, a[0], a[1]); }
SYSCALL(mprotect) { return mm_mprotect(t, a[0], a[1], (int)a[2]); }
SYSCALL(mremap) { return mm_mremap(t, a[0], a[1], a[2], (int)a[3], a[4]); }
SYSCALL(madvise) { return mm_madvise(t, a[0], a[1], (int)a[2]); }
SYSCALL(msync) { return mm_msync(t, a[0], a[1], (int)a[2]); }
SYSCALL(mincore) { return mm_mincore(t, a[0], a[1], a[2]); }
