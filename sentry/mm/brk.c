/* brk(2): the heap is an anonymous mapping after the program's data that
 * grows and shrinks in whole pages. As in Linux, failure is reported by
 * returning the unchanged break, never an error code. */
#include <errno.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "lib/util.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"

long mm_brk(struct task *t, uint64_t want)
{
	struct mm *mm = t->mm;
	uint64_t oldend, newend, ret;

	pthread_mutex_lock(&mm->lock);
	ret = mm->brk;
	if (want < mm->brk_start || want > ABI_TASK_SIZE)
		goto out;
	if (want - mm->brk_start > t->tg->rlimits[RLIMIT_DATA].cur)
		goto out;
	oldend = PAGE_ALIGN_UP(mm->brk);
	newend = PAGE_ALIGN_UP(want);
	if (newend < oldend) {
		if (platform->as_munmap(mm->as, newend, oldend - newend) < 0 ||
		    vma_remove(mm, newend, oldend) < 0)
			goto out;
	} else if (newend > oldend) {
		/* Linux keeps at least a page between the heap and the next
		 * mapping. */
		if (!vma_range_free(mm, oldend, newend + PAGE_SIZE) ||
		    mm->mapped + (newend - oldend) > t->tg->rlimits[RLIMIT_AS].cur)
			goto out;
		if (mm_map_fixed(mm, oldend, newend - oldend, PROT_READ | PROT_WRITE, 0,
				 VMA_HEAP, -1, 0, NULL, 0, 0) < 0)
			goto out;
	}
	mm->brk = want;
	ret = want;
out:
	pthread_mutex_unlock(&mm->lock);
	return (long)ret;
}
