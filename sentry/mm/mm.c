#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sentry/mm/mm.h"
#include "sentry/mm/patch.h"

struct mm *mm_new(struct platform_as *as)
{
	struct mm *mm = calloc(1, sizeof(*mm));
	if (!mm)
		return NULL;
	pthread_mutex_init(&mm->lock, NULL);
	atomic_init(&mm->refs, 1);
	mm->as = as;
	return mm;
}

void mm_get(struct mm *mm) { atomic_fetch_add(&mm->refs, 1); }

int mm_fork(struct mm *from, struct platform_ctx *ctx, struct platform_child **child,
	    struct mm **out)
{
	struct mm *mm = mm_new(NULL);
	int r;

	*child = NULL;
	if (!mm)
		return -ENOMEM;
	/* The host copy and ours are made under the lock, as Linux's
	 * dup_mmap holds mmap_lock: another thread's mmap, munmap or site
	 * patch (whose int3 the copy would keep) lands in both or neither. */
	pthread_mutex_lock(&from->lock);
	r = platform->as_fork(ctx, child);
	if (r < 0)
		goto fail;
	r = -ENOMEM;
	mm->brk_start = from->brk_start;
	mm->brk = from->brk;
	mm->mmap_base = from->mmap_base;
	mm->stack_top = from->stack_top;
	mm->arg_start = from->arg_start;
	mm->arg_end = from->arg_end;
	mm->env_start = from->env_start;
	mm->env_end = from->env_end;
	memcpy(mm->auxv, from->auxv, sizeof(mm->auxv));
	mm->auxv_len = from->auxv_len;
	if (from->exe_path && !(mm->exe_path = strdup(from->exe_path)))
		goto fail;
	/* Every mapping the host copies: not the MADV_DONTFORK ones. */
	for (size_t i = 0; i < from->nvmas; i++) {
		const struct vma *v = &from->vmas[i];
		if (v->flags & VMA_DONTFORK)
			continue;
		if (vma_insert(mm, v) < 0)
			goto fail;
	}
	mm->mapped = from->mapped;
	/* The child's text is the parent's, patched sites and all. */
	if (mm_patch_fork(mm, from) < 0)
		goto fail;
	pthread_mutex_unlock(&from->lock);
	*out = mm;
	return 0;
fail:
	pthread_mutex_unlock(&from->lock);
	mm_put(mm);
	return r;
}

void mm_put(struct mm *mm)
{
	if (!mm || atomic_fetch_sub(&mm->refs, 1) != 1)
		return;
	for (size_t i = 0; i < mm->nvmas; i++)
		free(mm->vmas[i].name);
	free(mm->vmas);
	free(mm->exe_path);
	mm_patch_free(mm);
	pthread_mutex_destroy(&mm->lock);
	free(mm);
}

static const char *vma_label(const struct vma *v)
{
	switch (v->kind) {
	case VMA_HEAP: return "[heap]";
	case VMA_STACK: return "[stack]";
	case VMA_VDSO: return "[vdso]";
	case VMA_VVAR: return "[vvar]";
	case VMA_FILE: return v->name ? v->name : "";
	default: return "";
	}
}

char *mm_maps_text(struct mm *mm)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	pthread_mutex_lock(&mm->lock);
	for (size_t i = 0; i < mm->nvmas; i++) {
		const struct vma *v = &mm->vmas[i];
		const char *label = vma_label(v);
		int n = fprintf(f, "%08" PRIx64 "-%08" PRIx64 " %c%c%c%c %08" PRIx64
				" %02x:%02x %" PRIu64 " ",
				v->start, v->end, v->prot & PROT_READ ? 'r' : '-',
				v->prot & PROT_WRITE ? 'w' : '-',
				v->prot & PROT_EXEC ? 'x' : '-',
				v->flags & VMA_SHARED ? 's' : 'p',
				v->kind == VMA_FILE ? v->off : 0,
				(unsigned)((v->dev >> 8) & 0xfff), (unsigned)(v->dev & 0xff),
				v->kind == VMA_FILE ? v->ino : 0);
		if (*label)
			fprintf(f, "%*s%s", n < 73 ? 73 - n : 1, "", label);
		fputc('\n', f);
	}
	pthread_mutex_unlock(&mm->lock);
	fclose(f);
	return buf;
}
