/* Copy-in/out between sentry memory and the application's, through the
 * platform. Every application pointer is checked against the
 * application's range first (invariant 4): the stub pages above it are
 * never a valid source or destination. */
#include <errno.h>
#include <string.h>

#include "abi/linux.h"
#include "lib/util.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"

bool user_range_ok(uint64_t addr, uint64_t len)
{
	return addr + len >= addr && addr + len <= ABI_TASK_SIZE;
}

int copy_from_user(struct task *t, void *dst, uint64_t src, size_t len)
{
	long n;
	if (!user_range_ok(src, len))
		return -EFAULT;
	n = platform->as_read(t->mm->as, src, dst, len);
	return n == (long)len ? 0 : -EFAULT;
}

long copy_from_user_partial(struct task *t, void *dst, uint64_t src, size_t len)
{
	if (!user_range_ok(src, len))
		return -EFAULT;
	return platform->as_read(t->mm->as, src, dst, len);
}

int copy_to_user(struct task *t, uint64_t dst, const void *src, size_t len)
{
	long n;
	if (!user_range_ok(dst, len))
		return -EFAULT;
	n = platform->as_write(t->mm->as, dst, src, len);
	return n == (long)len ? 0 : -EFAULT;
}

long strncpy_from_user(struct task *t, char *dst, uint64_t src, size_t max)
{
	size_t got = 0;

	while (got < max) {
		/* Never read across a page we have not reached: the string may
		 * end just before an unmapped page. */
		uint64_t at = src + got;
		size_t chunk = PAGE_SIZE - (at & (PAGE_SIZE - 1));
		long n;
		char *nul;

		if (chunk > max - got)
			chunk = max - got;
		if (!user_range_ok(at, chunk))
			return -EFAULT;
		n = platform->as_read(t->mm->as, at, dst + got, chunk);
		if (n <= 0)
			return -EFAULT;
		nul = memchr(dst + got, 0, (size_t)n);
		if (nul)
			return nul - dst;
		got += (size_t)n;
		if ((size_t)n < chunk)
			return -EFAULT;
	}
	return -ENAMETOOLONG;
}
