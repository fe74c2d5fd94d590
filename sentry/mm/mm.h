/* Address-space bookkeeping. The host kernel holds the pages (in the stub
 * process); the sentry decides every mapping, keeps the VMA list that
 * /proc/PID/maps, brk and mremap need, and constructs each host call.
 *
 * Lock order: mm.lock is taken after thread_group.lock; it is held across
 * calls into the platform. */
#ifndef RC_SENTRY_MM_MM_H
#define RC_SENTRY_MM_MM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform/platform.h"

struct task;

enum vma_kind { VMA_ANON, VMA_FILE, VMA_HEAP, VMA_STACK, VMA_VDSO, VMA_VVAR };

/* Flags we track beyond prot. */
#define VMA_SHARED 0x1
#define VMA_GROWSDOWN 0x2
#define VMA_DONTFORK 0x4
#define VMA_NORESERVE 0x8

struct vma {
	uint64_t start, end;
	int prot;
	int flags;         /* VMA_* */
	enum vma_kind kind;
	uint64_t off;      /* file offset of start */
	char *name;        /* path of a file mapping, or NULL */
	/* Nonzero for shared mappings: what is mapped (a file, or one shared
	 * anonymous region), for futex keys shared across processes. */
	uint64_t shared_id;
	uint64_t dev, ino; /* identity of the mapped file, for merging and maps */
};

struct mm {
	pthread_mutex_t lock;
	atomic_int refs;
	struct platform_as *as;
	struct vma *vmas;  /* sorted by start, non-overlapping */
	size_t nvmas, capvmas;
	uint64_t mapped;   /* bytes, for RLIMIT_AS */
	uint64_t brk_start, brk;
	uint64_t mmap_base;
	uint64_t stack_top;
	uint64_t arg_start, arg_end, env_start, env_end;
	uint64_t auxv[64];
	size_t auxv_len;   /* in uint64_t words */
	char *exe_path;
	struct patch_table *patch; /* syscall-site patching (patch.c), or NULL */
};

struct mm *mm_new(struct platform_as *as);
void mm_get(struct mm *mm);
/* fork(): the host copy of ctx's address space (platform as_fork; the
 * stopped child in *child) and the copy of from's bookkeeping (*out, its
 * as set later), made together under from->lock. On failure *child may
 * still need child_abandon. */
int mm_fork(struct mm *from, struct platform_ctx *ctx, struct platform_child **child,
	    struct mm **out);
void mm_put(struct mm *mm);

/* VMA set operations (vma.c); callers hold mm->lock. */
struct vma *vma_find(struct mm *mm, uint64_t addr); /* containing addr */
bool vma_range_free(struct mm *mm, uint64_t start, uint64_t end);
/* The whole of [start, end) is mapped. */
bool vma_range_mapped(struct mm *mm, uint64_t start, uint64_t end);
/* Inserts a mapping, replacing whatever overlaps it. */
int vma_insert(struct mm *mm, const struct vma *v);
/* Removes [start, end), splitting at the edges. */
int vma_remove(struct mm *mm, uint64_t start, uint64_t end);
int vma_protect(struct mm *mm, uint64_t start, uint64_t end, int prot);
/* A free range of len bytes, highest first below top and at or above
 * bottom; 0 if none. */
uint64_t vma_find_gap(struct mm *mm, uint64_t len, uint64_t bottom, uint64_t top);

/* Memory system calls (mmap.c, brk.c). Return a value or -errno. */
long mm_mmap(struct task *t, uint64_t addr, uint64_t len, int prot, int flags,
	     int fd, uint64_t off);
long mm_munmap(struct task *t, uint64_t addr, uint64_t len);
long mm_mprotect(struct task *t, uint64_t addr, uint64_t len, int prot);
long mm_mremap(struct task *t, uint64_t old, uint64_t oldlen, uint64_t newlen,
	       int flags, uint64_t newaddr);
long mm_madvise(struct task *t, uint64_t addr, uint64_t len, int advice);
long mm_brk(struct task *t, uint64_t addr);
long mm_msync(struct task *t, uint64_t addr, uint64_t len, int flags);
long mm_mincore(struct task *t, uint64_t addr, uint64_t len, uint64_t uvec);

/* Maps for the loader: a mapping at a fixed address (host fd or -1 for
 * anonymous), recorded with kind and name. */
long mm_map_fixed(struct mm *mm, uint64_t addr, uint64_t len, int prot,
		  int vflags, enum vma_kind kind, int hostfd, uint64_t off,
		  const char *name, uint64_t dev, uint64_t ino);
long mm_map_fixed_shared(struct mm *mm, uint64_t addr, uint64_t len, int prot,
			 int vflags, enum vma_kind kind, int hostfd, uint64_t off,
			 const char *name, uint64_t dev, uint64_t ino, uint64_t shared_id);

/* Copy-in/out (copy.c): 0 or -EFAULT for the whole range. */
int copy_from_user(struct task *t, void *dst, uint64_t src, size_t len);
int copy_to_user(struct task *t, uint64_t dst, const void *src, size_t len);
/* Copies a NUL-terminated string of at most max bytes (with the NUL);
 * returns its length, -EFAULT, or -ENAMETOOLONG. */
long strncpy_from_user(struct task *t, char *dst, uint64_t src, size_t max);
/* Like copy_from_user but may be short: bytes copied or -EFAULT. */
long copy_from_user_partial(struct task *t, void *dst, uint64_t src, size_t len);

/* Whether [addr, addr+len) is inside the application's range. */
bool user_range_ok(uint64_t addr, uint64_t len);

/* /proc/PID/maps text (for readers and tests); malloc'd. */
char *mm_maps_text(struct mm *mm);

#endif
