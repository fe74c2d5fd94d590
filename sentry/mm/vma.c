/* The VMA set: a sorted array of non-overlapping ranges. Address spaces
 * hold tens to a few thousand mappings; binary search and memmove keep
 * this simple and fast enough. Callers hold mm->lock. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "sentry/mm/mm.h"

/* Index of the first VMA whose end is above addr (n if none). */
static size_t first_above(struct mm *mm, uint64_t addr)
{
	size_t lo = 0, hi = mm->nvmas;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (mm->vmas[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct vma *vma_find(struct mm *mm, uint64_t addr)
{
	size_t i = first_above(mm, addr);
	if (i < mm->nvmas && mm->vmas[i].start <= addr)
		return &mm->vmas[i];
	return NULL;
}

bool vma_range_free(struct mm *mm, uint64_t start, uint64_t end)
{
	size_t i = first_above(mm, start);
	return i == mm->nvmas || mm->vmas[i].start >= end;
}

bool vma_range_mapped(struct mm *mm, uint64_t start, uint64_t end)
{
	size_t i = first_above(mm, start);
	uint64_t at = start;
	for (; i < mm->nvmas && at < end; i++) {
		if (mm->vmas[i].start > at)
			return false;
		at = mm->vmas[i].end;
	}
	return at >= end;
}

static int reserve(struct mm *mm, size_t extra)
{
	if (mm->nvmas + extra <= mm->capvmas)
		return 0;
	size_t cap = mm->capvmas ? mm->capvmas * 2 : 32;
	while (cap < mm->nvmas + extra)
		cap *= 2;
	struct vma *v = realloc(mm->vmas, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	mm->vmas = v;
	mm->capvmas = cap;
	return 0;
}

static void vma_free_fields(struct vma *v)
{
	free(v->name);
	v->name = NULL;
}

static int vma_dup_fields(struct vma *dst, const struct vma *src)
{
	*dst = *src;
	if (src->name && !(dst->name = strdup(src->name)))
		return -ENOMEM;
	return 0;
}

/* Splits the VMA at index i at address at (strictly inside it). */
static int split_at(struct mm *mm, size_t i, uint64_t at)
{
	struct vma tail;
	int ret = reserve(mm, 1);
	if (ret)
		return ret;
	ret = vma_dup_fields(&tail, &mm->vmas[i]);
	if (ret)
		return ret;
	tail.start = at;
	if (tail.kind == VMA_FILE)
		tail.off += at - mm->vmas[i].start;
	mm->vmas[i].end = at;
	memmove(&mm->vmas[i + 2], &mm->vmas[i + 1],
		(mm->nvmas - i - 1) * sizeof(struct vma));
	mm->vmas[i + 1] = tail;
	mm->nvmas++;
	return 0;
}

/* Splits so that start and end fall on VMA boundaries. */
static int split_range(struct mm *mm, uint64_t start, uint64_t end)
{
	size_t i = first_above(mm, start);
	int ret;
	if (i < mm->nvmas && mm->vmas[i].start < start) {
		ret = split_at(mm, i, start);
		if (ret)
			return ret;
	}
	i = first_above(mm, end);
	if (i < mm->nvmas && mm->vmas[i].start < end) {
		ret = split_at(mm, i, end);
		if (ret)
			return ret;
	}
	return 0;
}

int vma_remove(struct mm *mm, uint64_t start, uint64_t end)
{
	size_t i, j;
	int ret = split_range(mm, start, end);
	if (ret)
		return ret;
	i = first_above(mm, start);
	for (j = i; j < mm->nvmas && mm->vmas[j].start < end; j++) {
		mm->mapped -= mm->vmas[j].end - mm->vmas[j].start;
		vma_free_fields(&mm->vmas[j]);
	}
	if (j == i) /* nothing there (mm->vmas may still be NULL) */
		return 0;
	memmove(&mm->vmas[i], &mm->vmas[j], (mm->nvmas - j) * sizeof(struct vma));
	mm->nvmas -= j - i;
	return 0;
}

static bool mergeable(const struct vma *a, const struct vma *b)
{
	if (a->end != b->start || a->prot != b->prot || a->flags != b->flags ||
	    a->kind != b->kind || a->shared_id != b->shared_id)
		return false;
	if (a->kind == VMA_FILE)
		return a->dev == b->dev && a->ino == b->ino &&
		       a->off + (a->end - a->start) == b->off;
	return a->kind == VMA_ANON || a->kind == VMA_HEAP || a->kind == VMA_STACK;
}

/* Merges compatible neighbours among the VMAs touching [start, end]. */
static void merge_span(struct mm *mm, uint64_t start, uint64_t end)
{
	size_t i = first_above(mm, start);
	if (i > 0)
		i--;
	while (i + 1 < mm->nvmas && mm->vmas[i].start <= end) {
		if (!mergeable(&mm->vmas[i], &mm->vmas[i + 1])) {
			i++;
			continue;
		}
		mm->vmas[i].end = mm->vmas[i + 1].end;
		vma_free_fields(&mm->vmas[i + 1]);
		memmove(&mm->vmas[i + 1], &mm->vmas[i + 2],
			(mm->nvmas - i - 2) * sizeof(struct vma));
		mm->nvmas--;
	}
}

int vma_insert(struct mm *mm, const struct vma *v)
{
	struct vma nv;
	size_t i;
	/* Copy first: v may point into the range being replaced. */
	int ret = vma_dup_fields(&nv, v);
	if (ret)
		return ret;
	ret = vma_remove(mm, nv.start, nv.end);
	if (ret == 0)
		ret = reserve(mm, 1);
	if (ret) {
		vma_free_fields(&nv);
		return ret;
	}
	i = first_above(mm, nv.start);
	memmove(&mm->vmas[i + 1], &mm->vmas[i], (mm->nvmas - i) * sizeof(struct vma));
	mm->vmas[i] = nv;
	mm->nvmas++;
	mm->mapped += nv.end - nv.start;
	merge_span(mm, nv.start, nv.end);
	return 0;
}

int vma_protect(struct mm *mm, uint64_t start, uint64_t end, int prot)
{
	size_t i;
	int ret = split_range(mm, start, end);
	if (ret)
		return ret;
	for (i = first_above(mm, start); i < mm->nvmas && mm->vmas[i].start < end; i++)
		mm->vmas[i].prot = prot;
	merge_span(mm, start, end);
	return 0;
}

uint64_t vma_find_gap(struct mm *mm, uint64_t len, uint64_t bottom, uint64_t top)
{
	uint64_t hi = top;

	if (len == 0 || top <= bottom || top - bottom < len)
		return 0;
	for (ssize_t i = (ssize_t)mm->nvmas - 1; i >= -1; i--) {
		uint64_t lo = i >= 0 ? mm->vmas[i].end : bottom;
		if (lo < bottom)
			lo = bottom;
		if (hi > lo && hi - lo >= len)
			return hi - len;
		if (i >= 0 && mm->vmas[i].start < hi)
			hi = mm->vmas[i].start;
		if (hi <= bottom)
			return 0;
	}
	return 0;
}
