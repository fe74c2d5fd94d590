/* mmap, munmap, mprotect, mremap and madvise: checked against Linux's
 * rules here, then carried out by a host call the sentry constructs in
 * the stub (always at an address the sentry chose). */
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>

#include "abi/linux.h"
#include "lib/log.h"
#include "lib/util.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"
#include <stdlib.h>

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_UNINITIALIZED
#define MAP_UNINITIALIZED 0x4000000
#endif
#define MAP_TYPE_MASK 0x0f
#ifndef PROT_SEM
#define PROT_SEM 0x8
#endif
#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE 101
#endif
/* Flags Linux accepts with MAP_SHARED_VALIDATE. */
#define MAP_KNOWN (MAP_TYPE_MASK | MAP_FIXED | MAP_ANONYMOUS | MAP_32BIT |      \
		   MAP_GROWSDOWN | MAP_DENYWRITE | MAP_EXECUTABLE | MAP_LOCKED | \
		   MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK |     \
		   MAP_HUGETLB | MAP_SYNC | MAP_FIXED_NOREPLACE | MAP_UNINITIALIZED)
#define PROT_RWX (PROT_READ | PROT_WRITE | PROT_EXEC)

static uint64_t rlimit_as(struct task *t)
{
	return t->tg->rlimits[RLIMIT_AS].cur;
}

/* Picks an address for a mapping of len bytes the caller did not fix. */
static uint64_t choose_addr(struct mm *mm, uint64_t hint, uint64_t len, int flags)
{
	uint64_t a;

	if (flags & MAP_32BIT)
		return vma_find_gap(mm, len, 0x40000000ULL, 0x80000000ULL);
	hint = PAGE_ALIGN_DOWN(hint);
	if (hint >= ABI_MMAP_MIN_ADDR && hint + len > hint &&
	    hint + len <= ABI_TASK_SIZE && vma_range_free(mm, hint, hint + len))
		return hint;
	a = vma_find_gap(mm, len, ABI_MMAP_MIN_ADDR, mm->mmap_base);
	if (!a)
		a = vma_find_gap(mm, len, mm->mmap_base, ABI_TASK_SIZE);
	return a;
}

/* After a failed host call on a range the host may have changed, make the
 * bookkeeping and the host agree that nothing is mapped there. */
static void forget_range(struct mm *mm, uint64_t start, uint64_t len)
{
	platform->as_munmap(mm->as, start, len);
	vma_remove(mm, start, start + len);
}

long mm_map_fixed(struct mm *mm, uint64_t addr, uint64_t len, int prot,
		  int vflags, enum vma_kind kind, int hostfd, uint64_t off,
		  const char *name, uint64_t dev, uint64_t ino)
{
	return mm_map_fixed_shared(mm, addr, len, prot, vflags, kind, hostfd, off, name, dev,
				   ino, 0);
}

long mm_map_fixed_shared(struct mm *mm, uint64_t addr, uint64_t len, int prot,
			 int vflags, enum vma_kind kind, int hostfd, uint64_t off,
			 const char *name, uint64_t dev, uint64_t ino, uint64_t shared_id)
{
	int hflags = MAP_FIXED | (vflags & VMA_SHARED ? MAP_SHARED : MAP_PRIVATE);
	struct vma v = {.start = addr, .end = addr + len, .prot = prot,
			.flags = vflags, .kind = kind, .off = off,
			.name = (char *)name, .dev = dev, .ino = ino,
			.shared_id = shared_id};
	long r;

	if (hostfd < 0)
		hflags |= MAP_ANONYMOUS;
	if (vflags & VMA_NORESERVE)
		hflags |= MAP_NORESERVE;
	r = platform->as_mmap(mm->as, addr, len, prot & PROT_RWX, hflags, hostfd,
			      hostfd < 0 ? 0 : off);
	if (r != (long)addr) {
		if (r >= 0) { /* the host ignored MAP_FIXED: never happens */
			platform->as_munmap(mm->as, (uint64_t)r, len);
			r = -ENOMEM;
		}
		forget_range(mm, addr, len);
		return r;
	}
	r = vma_insert(mm, &v);
	if (r < 0) {
		forget_range(mm, addr, len);
		return r;
	}
	return (long)addr;
}

long mm_mmap(struct task *t, uint64_t addr, uint64_t len, int prot, int flags,
	     int fd, uint64_t off)
{
	struct mm *mm = t->mm;
	int type = flags & MAP_TYPE_MASK;
	bool anon = flags & MAP_ANONYMOUS;
	bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
	struct file *f = NULL;
	char *name = NULL;
	uint64_t shared_id = 0;
	int hostfd = -1, vflags = 0;
	struct k_stat st = {0};
	long r;

	/* The offset must be aligned even where it is unused (x86 sys_mmap). */
	if (off & (PAGE_SIZE - 1))
		return -EINVAL;
	if (type != MAP_SHARED && type != MAP_PRIVATE && type != MAP_SHARED_VALIDATE)
		return -EINVAL;
	/* Anonymous mappings know only the legacy types: MAP_SHARED_VALIDATE
	 * is EINVAL there, and shared memory cannot grow down. */
	if (anon && (type == MAP_SHARED_VALIDATE ||
		     (type == MAP_SHARED && (flags & MAP_GROWSDOWN))))
		return -EINVAL;
	if (type == MAP_SHARED_VALIDATE && (flags & ~MAP_KNOWN))
		return -EOPNOTSUPP;
	if (len == 0)
		return -EINVAL;
	len = PAGE_ALIGN_UP(len);
	if (len == 0 || len > ABI_TASK_SIZE)
		return -ENOMEM;
	if (!anon && off + len < off)
		return -EOVERFLOW;
	if (flags & MAP_HUGETLB)
		return -ENOMEM; /* no huge page pool in the sandbox */
	if (fixed) {
		if (addr & (PAGE_SIZE - 1))
			return -EINVAL;
		if (addr + len < addr || addr + len > ABI_TASK_SIZE)
			return -ENOMEM;
		if (addr < ABI_MMAP_MIN_ADDR)
			return -EPERM;
	}
	if (!anon) {
		f = fdtable_get(t->fdt, fd);
		if (!f || (f->flags & O_PATH)) {
			r = -EBADF;
			goto out_file;
		}
		if ((f->flags & O_ACCMODE) == O_WRONLY) {
			r = -EACCES;
			goto out_file;
		}
		if (type != MAP_PRIVATE && (prot & PROT_WRITE) &&
		    ((f->flags & O_ACCMODE) != O_RDWR || (f->flags & O_APPEND))) {
			r = -EACCES;
			goto out_file;
		}
		if ((prot & PROT_EXEC) && f->path.mnt && (f->path.mnt->flags & MNT_NOEXEC)) {
			r = -EPERM;
			goto out_file;
		}
		hostfd = f->ops->mmap_fd ? f->ops->mmap_fd(f) : -ENODEV;
		if (hostfd < 0) {
			r = hostfd;
			goto out_file;
		}
		vfs_fstat(f, &st);
		/* /proc/PID/maps names the file. */
		if (f->path.dentry && (name = malloc(VFS_PATH_MAX))) {
			struct path root;
			pthread_mutex_lock(&t->fs->lock);
			path_copy(&root, &t->fs->root);
			pthread_mutex_unlock(&t->fs->lock);
			if (vfs_path_string(&root, &f->path, name, VFS_PATH_MAX) < 0) {
				free(name);
				name = NULL;
			}
			path_put(&root);
		}
	}
	if (type != MAP_PRIVATE)
		vflags |= VMA_SHARED;
	if (flags & MAP_GROWSDOWN)
		vflags |= VMA_GROWSDOWN;
	if (flags & MAP_NORESERVE)
		vflags |= VMA_NORESERVE;

	pthread_mutex_lock(&mm->lock);
	if (mm->mapped + len > rlimit_as(t) || mm->mapped + len < mm->mapped) {
		r = -ENOMEM;
		goto out;
	}
	if (fixed) {
		if ((flags & MAP_FIXED_NOREPLACE) && !vma_range_free(mm, addr, addr + len)) {
			r = -EEXIST;
			goto out;
		}
	} else {
		addr = choose_addr(mm, addr, len, flags);
		if (!addr) {
			r = -ENOMEM;
			goto out;
		}
	}
	if (vflags & VMA_SHARED) {
		/* Identify what is shared, for futex keys across processes. */
		static _Atomic uint64_t next_anon = 1;
		shared_id = anon ? (1ULL << 62) | atomic_fetch_add(&next_anon, 1)
				 : (1ULL << 63) | ((st.st_dev * 1000003ULL) ^ st.st_ino);
	}
	r = mm_map_fixed_shared(mm, addr, len, prot, vflags, anon ? VMA_ANON : VMA_FILE,
				hostfd, anon ? 0 : off, name, st.st_dev, st.st_ino, shared_id);
out:
	pthread_mutex_unlock(&mm->lock);
out_file:
	free(name);
	file_put(f);
	return r;
}

long mm_munmap(struct task *t, uint64_t addr, uint64_t len)
{
	struct mm *mm = t->mm;
	long r;

	if ((addr & (PAGE_SIZE - 1)) || len == 0)
		return -EINVAL;
	len = PAGE_ALIGN_UP(len);
	if (len == 0 || addr + len < addr || addr + len > ABI_TASK_SIZE)
		return -EINVAL;
	pthread_mutex_lock(&mm->lock);
	r = platform->as_munmap(mm->as, addr, len);
	if (r == 0)
		r = vma_remove(mm, addr, addr + len);
	pthread_mutex_unlock(&mm->lock);
	return r;
}

long mm_mprotect(struct task *t, uint64_t addr, uint64_t len, int prot)
{
	struct mm *mm = t->mm;
	uint64_t end;
	long r;

	if (addr & (PAGE_SIZE - 1))
		return -EINVAL;
	if (prot & ~(PROT_RWX | PROT_SEM | PROT_GROWSDOWN | PROT_GROWSUP))
		return -EINVAL;
	if (prot & PROT_GROWSUP)
		return -EINVAL; /* x86 stacks grow down only */
	prot &= ~PROT_SEM; /* accepted, and meaningless on x86 */
	len = PAGE_ALIGN_UP(len);
	end = addr + len;
	if (end < addr)
		return -ENOMEM;
	if (end == addr)
		return 0;
	if (end > ABI_TASK_SIZE)
		return -ENOMEM;
	pthread_mutex_lock(&mm->lock);
	if (prot & PROT_GROWSDOWN) {
		struct vma *v = vma_find(mm, addr);
		if (!v) {
			r = -ENOMEM;
			goto out;
		}
		if (!(v->flags & VMA_GROWSDOWN)) {
			r = -EINVAL;
			goto out;
		}
		addr = v->start;
		prot &= ~PROT_GROWSDOWN;
	}
	if (!vma_range_mapped(mm, addr, end)) {
		r = -ENOMEM;
		goto out;
	}
	r = platform->as_mprotect(mm->as, addr, end - addr, prot);
	if (r == 0)
		r = vma_protect(mm, addr, end, prot);
out:
	pthread_mutex_unlock(&mm->lock);
	return r;
}

long mm_madvise(struct task *t, uint64_t addr, uint64_t len, int advice)
{
	struct mm *mm = t->mm;
	uint64_t end;
	long r = 0;

	switch (advice) {
	case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL:
	case MADV_WILLNEED: case MADV_DONTNEED: case MADV_FREE:
	case MADV_REMOVE: case MADV_DONTFORK: case MADV_DOFORK:
	case MADV_MERGEABLE: case MADV_UNMERGEABLE: case MADV_HUGEPAGE:
	case MADV_NOHUGEPAGE: case MADV_DONTDUMP: case MADV_DODUMP:
	case MADV_WIPEONFORK: case MADV_KEEPONFORK: case MADV_COLD:
	case MADV_PAGEOUT:
		break;
	case MADV_HWPOISON: case MADV_SOFT_OFFLINE:
		return -EPERM;
	default:
		return -EINVAL;
	}
	if (addr & (PAGE_SIZE - 1))
		return -EINVAL;
	end = addr + PAGE_ALIGN_UP(len);
	if (end < addr || (len && PAGE_ALIGN_UP(len) == 0))
		return -EINVAL;
	if (end == addr)
		return 0;
	if (end > ABI_TASK_SIZE)
		return -ENOMEM;
	pthread_mutex_lock(&mm->lock);
	if (!vma_range_mapped(mm, addr, end)) {
		r = -ENOMEM;
		goto out;
	}
	/* Advice with an effect the application can see (zeroing, fork
	 * inheritance) is applied by the host; the rest are hints. */
	switch (advice) {
	case MADV_DONTNEED: case MADV_FREE: case MADV_REMOVE:
	case MADV_DONTFORK: case MADV_DOFORK: case MADV_WIPEONFORK:
	case MADV_KEEPONFORK:
		r = platform->as_madvise(mm->as, addr, end - addr, advice);
		break;
	}
	if (r == 0 && (advice == MADV_DONTFORK || advice == MADV_DOFORK)) {
		for (uint64_t a = addr; a < end;) {
			struct vma *v = vma_find(mm, a);
			if (!v)
				break;
			if (advice == MADV_DONTFORK)
				v->flags |= VMA_DONTFORK;
			else
				v->flags &= ~VMA_DONTFORK;
			a = v->end;
		}
	}
out:
	pthread_mutex_unlock(&mm->lock);
	return r;
}

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

long mm_mremap(struct task *t, uint64_t old, uint64_t oldlen, uint64_t newlen,
	       int flags, uint64_t newaddr)
{
	struct mm *mm = t->mm;
	struct vma *v, moved;
	long r;

	if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP))
		return -EINVAL;
	if ((flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) && !(flags & MREMAP_MAYMOVE))
		return -EINVAL;
	if (old & (PAGE_SIZE - 1))
		return -EINVAL;
	oldlen = PAGE_ALIGN_UP(oldlen);
	newlen = PAGE_ALIGN_UP(newlen);
	if (newlen == 0)
		return -EINVAL;
	if ((flags & MREMAP_DONTUNMAP) && oldlen != newlen)
		return -EINVAL;
	if (old + oldlen < old || old + oldlen > ABI_TASK_SIZE || newlen > ABI_TASK_SIZE)
		return -EINVAL;
	if (flags & MREMAP_FIXED) {
		if (newaddr & (PAGE_SIZE - 1))
			return -EINVAL;
		if (newaddr + newlen < newaddr || newaddr + newlen > ABI_TASK_SIZE)
			return -EINVAL;
		if (newaddr < old + oldlen && old < newaddr + newlen)
			return -EINVAL; /* overlapping ranges */
		if (newaddr < ABI_MMAP_MIN_ADDR)
			return -EPERM;
	}
	pthread_mutex_lock(&mm->lock);
	v = vma_find(mm, old);
	if (!v || (oldlen && old + oldlen > v->end)) {
		r = -EFAULT;
		goto out;
	}
	if (oldlen == 0) {
		/* Duplicating a shared mapping is not supported yet; for
		 * private ones Linux refuses too. */
		r = -EINVAL;
		goto out;
	}
	if ((flags & MREMAP_DONTUNMAP) && (v->flags & VMA_SHARED || v->kind == VMA_FILE)) {
		r = -EINVAL;
		goto out;
	}
	if (!(flags & MREMAP_FIXED) && newlen <= oldlen && !(flags & MREMAP_DONTUNMAP)) {
		/* Shrink in place. */
		if (newlen < oldlen) {
			r = platform->as_munmap(mm->as, old + newlen, oldlen - newlen);
			if (r == 0)
				r = vma_remove(mm, old + newlen, old + oldlen);
			if (r < 0)
				goto out;
		}
		r = (long)old;
		goto out;
	}
	if (mm->mapped + (newlen - (newlen > oldlen ? oldlen : newlen)) > t->tg->rlimits[RLIMIT_AS].cur) {
		r = -ENOMEM;
		goto out;
	}
	if (!(flags & MREMAP_FIXED) && !(flags & MREMAP_DONTUNMAP) &&
	    old + oldlen == v->end && old + newlen <= ABI_TASK_SIZE &&
	    vma_range_free(mm, old + oldlen, old + newlen)) {
		/* Grow in place. */
		r = platform->as_mremap(mm->as, old, oldlen, newlen, 0, 0);
		if (r != (long)old) {
			r = r < 0 ? r : -ENOMEM;
			goto out;
		}
		moved = *v;
		moved.start = old;
		moved.end = old + newlen;
		if (moved.kind == VMA_FILE)
			moved.off += old - v->start;
		r = vma_insert(mm, &moved);
		r = r < 0 ? r : (long)old;
		goto out;
	}
	if (!(flags & MREMAP_MAYMOVE)) {
		r = -ENOMEM;
		goto out;
	}
	if (!(flags & MREMAP_FIXED)) {
		newaddr = vma_find_gap(mm, newlen, ABI_MMAP_MIN_ADDR, mm->mmap_base);
		if (!newaddr)
			newaddr = vma_find_gap(mm, newlen, mm->mmap_base, ABI_TASK_SIZE);
		if (!newaddr) {
			r = -ENOMEM;
			goto out;
		}
	}
	moved = *v;
	if (moved.kind == VMA_FILE)
		moved.off += old - v->start;
	moved.start = newaddr;
	moved.end = newaddr + newlen;
	if (moved.kind == VMA_HEAP || moved.kind == VMA_STACK)
		moved.kind = VMA_ANON;
	r = platform->as_mremap(mm->as, old, oldlen, newlen,
				MREMAP_MAYMOVE | MREMAP_FIXED | (flags & MREMAP_DONTUNMAP),
				newaddr);
	if (r != (long)newaddr) {
		r = r < 0 ? r : -ENOMEM;
		goto out;
	}
	/* Insert first: it copies the name, which removing the old range frees. */
	r = vma_insert(mm, &moved);
	if (r == 0 && !(flags & MREMAP_DONTUNMAP))
		r = vma_remove(mm, old, old + oldlen);
	r = r < 0 ? r : (long)newaddr;
out:
	pthread_mutex_unlock(&mm->lock);
	return r;
}

long mm_msync(struct task *t, uint64_t addr, uint64_t len, int flags)
{
	struct mm *mm = t->mm;
	uint64_t end;
	long r = 0;

	if (addr & (PAGE_SIZE - 1))
		return -EINVAL;
	if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC))
		return -EINVAL;
	if ((flags & MS_ASYNC) && (flags & MS_SYNC))
		return -EINVAL;
	end = addr + PAGE_ALIGN_UP(len);
	if (end < addr)
		return -ENOMEM;
	if (end == addr)
		return 0;
	pthread_mutex_lock(&mm->lock);
	/* Mappings share the page cache with read and write (a memfd for
	 * tmpfs, the host file for gofer files): there is nothing to flush
	 * for coherence; the host writes dirty pages back itself. */
	if (!vma_range_mapped(mm, addr, end))
		r = -ENOMEM;
	pthread_mutex_unlock(&mm->lock);
	return r;
}

long mm_mincore(struct task *t, uint64_t addr, uint64_t len, uint64_t uvec)
{
	struct mm *mm = t->mm;
	uint64_t pages, end;
	unsigned char ones[256];
	long r = 0;

	if (addr & (PAGE_SIZE - 1))
		return -EINVAL;
	end = addr + PAGE_ALIGN_UP(len);
	if (end < addr || end > ABI_TASK_SIZE)
		return -ENOMEM;
	pages = (end - addr) / PAGE_SIZE;
	pthread_mutex_lock(&mm->lock);
	if (!vma_range_mapped(mm, addr, end))
		r = -ENOMEM;
	pthread_mutex_unlock(&mm->lock);
	if (r < 0)
		return r;
	/* The host pages in on touch; report every page resident. */
	memset(ones, 1, sizeof(ones));
	for (uint64_t done = 0; done < pages;) {
		size_t n = pages - done < sizeof(ones) ? (size_t)(pages - done) : sizeof(ones);
		if (copy_to_user(t, uvec + done, ones, n) < 0)
			return -EFAULT;
		done += n;
	}
	return 0;
}
