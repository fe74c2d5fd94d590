/* brk(2) through the raw system call (glibc's brk() hides the result).
 * Nothing between the calls allocates: glibc's malloc uses brk too. */
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#define PS 4096UL
#define ALIGN_UP(x) (((x) + PS - 1) & ~(PS - 1))

static uintptr_t sbrk_raw(uintptr_t want)
{
	return (uintptr_t)syscall(SYS_brk, want);
}

/* Whether [a, a+len) is mapped: mprotect to the heap's protection
 * succeeds on mapped memory and fails with ENOMEM on a hole. */
static int mapped(uintptr_t a, size_t len)
{
	return mprotect((void *)a, len, PROT_READ | PROT_WRITE) == 0;
}

int main(void)
{
	uintptr_t cur, top, got, page;
	struct rlimit rl, low;
	volatile unsigned char *p;
	int zero = 1;

	cur = sbrk_raw(0);
	CHECK(cur != 0);
	CHECK_EQ(sbrk_raw(0), cur);
	CHECK_EQ(sbrk_raw(cur), cur);

	/* Grow by several pages (to an unaligned end): the call returns
	 * exactly what was asked and the new memory is usable; pages that
	 * were never part of the heap are zero. */
	top = cur + 5 * PS + 123;
	got = sbrk_raw(top);
	CHECK_EQ(got, top);
	CHECK_EQ(sbrk_raw(0), top);
	if (got == top) {
		for (p = (unsigned char *)ALIGN_UP(cur); p < (unsigned char *)top; p++)
			zero &= *p == 0;
		CHECK(zero);
		for (p = (unsigned char *)cur; p < (unsigned char *)top; p++)
			*p = (unsigned char)(uintptr_t)p;
		zero = 1;
		for (p = (unsigned char *)cur; p < (unsigned char *)top; p++)
			zero &= *p == (unsigned char)(uintptr_t)p;
		CHECK(zero); /* all as written */
		CHECK(mapped(ALIGN_UP(cur), ALIGN_UP(top) - ALIGN_UP(cur)));
	}

	/* Shrink: the pages above the new end are gone. */
	got = sbrk_raw(cur + PS);
	CHECK_EQ(got, cur + PS);
	CHECK_EQ(sbrk_raw(0), cur + PS);
	page = ALIGN_UP(cur + PS);
	CHECK(mapped(cur & ~(PS - 1), page - (cur & ~(PS - 1))));
	CHECK_ERR(mprotect((void *)page, PS, PROT_READ | PROT_WRITE), ENOMEM);
	CHECK_ERR(mprotect((void *)(ALIGN_UP(top) - PS), PS, PROT_READ), ENOMEM);
	/* The bytes still below the break kept their contents. */
	CHECK_EQ(*(volatile unsigned char *)cur, (unsigned char)cur);
	CHECK_EQ(*(volatile unsigned char *)(cur + PS - 1), (unsigned char)(cur + PS - 1));

	/* Growing again brings back fresh, zeroed pages. */
	got = sbrk_raw(top);
	CHECK_EQ(got, top);
	if (got == top) {
		zero = 1;
		for (p = (unsigned char *)page; p < (unsigned char *)top; p++)
			zero &= *p == 0;
		CHECK(zero);
	}

	/* Requests the kernel refuses leave the break where it was: below
	 * the start of the heap, and beyond the user address space. */
	CHECK_EQ(sbrk_raw(PS), top);
	CHECK_EQ(sbrk_raw(1), top);
	CHECK_EQ(sbrk_raw(0), top);
	CHECK_EQ(sbrk_raw(1UL << 47), top);
	CHECK_EQ(sbrk_raw(0xffff800000000000UL), top);
	CHECK_EQ(sbrk_raw(0), top);

	/* The heap must not grow over an existing mapping, nor right up to
	 * it: Linux keeps a page free between the break and the next one. */
	page = ALIGN_UP(top) + 4 * PS;
	if (mmap((void *)page, PS, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
		 MAP_FIXED_NOREPLACE, -1, 0) == (void *)page) {
		CHECK_EQ(sbrk_raw(page + 2 * PS), top);
		CHECK_EQ(sbrk_raw(page + PS), top);
		CHECK_EQ(sbrk_raw(page), top);
		CHECK_EQ(sbrk_raw(page - 1), top);
		CHECK_EQ(sbrk_raw(0), top);
		CHECK_EQ(sbrk_raw(page - PS), page - PS);
		CHECK_EQ(sbrk_raw(top), top);
		CHECK_EQ(munmap((void *)page, PS), 0);
	} else {
		FAIL("mmap above the break: %s", check_errname(errno));
	}

	/* RLIMIT_DATA bounds the heap. */
	CHECK_EQ(getrlimit(RLIMIT_DATA, &rl), 0);
	low = rl;
	low.rlim_cur = 0;
	CHECK_EQ(setrlimit(RLIMIT_DATA, &low), 0);
	CHECK_EQ(sbrk_raw(top + 2 * PS), top);
	CHECK_EQ(setrlimit(RLIMIT_DATA, &rl), 0);
	CHECK_EQ(sbrk_raw(top + 2 * PS), top + 2 * PS);

	/* Back to where we started. */
	CHECK_EQ(sbrk_raw(cur), cur);
	CHECK_EQ(sbrk_raw(0), cur);
	return check_exit();
}
