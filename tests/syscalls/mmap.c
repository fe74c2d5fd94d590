/* Anonymous mmap, munmap, mremap, mprotect and madvise: the layout they
 * produce and the errors Linux gives for bad arguments. Whether a range
 * is mapped is probed without touching it: mprotect fails with ENOMEM on
 * a hole, and MAP_FIXED_NOREPLACE with EEXIST on a mapping. */
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif

#ifndef PROT_SEM
#define PROT_SEM 0x8
#endif

#define PS 4096UL
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define RW (PROT_READ | PROT_WRITE)

static long sys_mmap(void *addr, size_t len, int prot, int flags, int fd, long off)
{
	return syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static long sys_mremap(void *old, size_t oldlen, size_t newlen, int flags, void *new)
{
	return syscall(SYS_mremap, old, oldlen, newlen, flags, new);
}

static char *map(size_t len)
{
	char *p = mmap(NULL, len, RW, ANON, -1, 0);
	if (p == MAP_FAILED) {
		FAIL("mmap(%zu): %s", len, check_errname(errno));
		return NULL;
	}
	return p;
}

/* Every byte of [p, p+len) is c. */
static int all(const volatile char *p, size_t len, char c)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != c)
			return 0;
	return 1;
}

static int is_mapped(void *p, size_t len, int prot)
{
	return mprotect(p, len, prot) == 0;
}

/* Whether [p, p+len) is free: a no-replace mapping there succeeds (and
 * is removed again). */
static int is_free(void *p, size_t len)
{
	void *r = mmap(p, len, PROT_NONE, ANON | MAP_FIXED_NOREPLACE, -1, 0);
	if (r == MAP_FAILED)
		return 0;
	munmap(r, len);
	return r == p;
}

/* Finds a free range of len bytes by mapping and unmapping it. */
static char *free_range(size_t len)
{
	char *p = map(len);
	if (p)
		munmap(p, len);
	return p;
}

static void test_basic(void)
{
	char *p = map(3 * PS), *q;

	if (!p)
		return;
	CHECK_EQ((uintptr_t)p % PS, 0);
	CHECK(all(p, 3 * PS, 0));
	memset(p, 'a', 3 * PS);
	CHECK(all(p, 3 * PS, 'a'));

	/* MAP_FIXED replaces what was there with fresh zero pages. */
	q = mmap(p + PS, PS, RW, ANON | MAP_FIXED, -1, 0);
	CHECK(q == p + PS);
	CHECK(all(p, PS, 'a'));
	CHECK(all(p + PS, PS, 0));
	CHECK(all(p + 2 * PS, PS, 'a'));

	/* MAP_FIXED_NOREPLACE refuses a mapped range, even in part. */
	CHECK_ERR(sys_mmap(p, PS, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0), EEXIST);
	CHECK_ERR(sys_mmap(p - PS, 2 * PS, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0),
		  EEXIST);

	/* A length that is not a page multiple maps whole pages. */
	CHECK_EQ(munmap(p, 3 * PS), 0);
	q = mmap(p, PS + 1, RW, ANON | MAP_FIXED, -1, 0);
	CHECK(q == p);
	if (q == p) {
		q[2 * PS - 1] = 'z';
		CHECK(is_mapped(p, 2 * PS, RW));
		CHECK(is_free(p + 2 * PS, PS));
		/* munmap rounds the length up too. */
		CHECK_EQ(munmap(p, PS + 1), 0);
		CHECK(is_free(p, 2 * PS));
	}
}

static void test_munmap_hole(void)
{
	char *p = map(3 * PS), *q;

	if (!p)
		return;
	memset(p, 'b', 3 * PS);
	CHECK_EQ(munmap(p + PS, PS), 0);
	CHECK(all(p, PS, 'b'));
	CHECK(all(p + 2 * PS, PS, 'b'));
	CHECK_ERR(mprotect(p + PS, PS, PROT_READ), ENOMEM);
	CHECK_ERR(mprotect(p, 3 * PS, PROT_READ), ENOMEM);
	/* The hole takes a no-replace mapping; its neighbours do not. */
	CHECK_ERR(sys_mmap(p, PS, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0), EEXIST);
	CHECK_ERR(sys_mmap(p + 2 * PS, PS, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0),
		  EEXIST);
	CHECK_ERR(sys_mmap(p + PS, 2 * PS, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0),
		  EEXIST);
	q = mmap(p + PS, PS, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(q == p + PS);
	if (q == p + PS)
		CHECK(all(q, PS, 0));
	/* Unmapping a hole, or a range holes and mappings, succeeds. */
	CHECK_EQ(munmap(p + PS, PS), 0);
	CHECK_EQ(munmap(p + PS, PS), 0);
	CHECK_EQ(munmap(p, 3 * PS), 0);
	CHECK(is_free(p, 3 * PS));
}

static void test_mremap(void)
{
	char *p = map(2 * PS), *q, *dst;

	if (!p)
		return;
	/* Grow in place into the free page after the mapping. */
	memset(p, 'c', 2 * PS);
	CHECK_EQ(munmap(p + PS, PS), 0);
	q = mremap(p, PS, 2 * PS, 0);
	CHECK(q == p);
	if (q == p) {
		CHECK(all(p, PS, 'c'));
		CHECK(all(p + PS, PS, 0));
		p[2 * PS - 1] = 'd';
	}

	/* Shrink in place: the tail is unmapped. */
	q = mremap(p, 2 * PS, PS, 0);
	CHECK(q == p);
	CHECK(all(p, PS, 'c'));
	CHECK(is_free(p + PS, PS));

	/* Growing where the next page is taken needs MREMAP_MAYMOVE. */
	CHECK_EQ(munmap(p, PS), 0);
	p = map(2 * PS);
	if (!p)
		return;
	memset(p, 'e', PS);
	memset(p + PS, 'f', PS);
	CHECK_ERR(mremap(p, PS, 3 * PS, 0), ENOMEM);
	CHECK(all(p, PS, 'e'));
	q = mremap(p, PS, 3 * PS, MREMAP_MAYMOVE);
	CHECK(q != MAP_FAILED && q != p);
	if (q != MAP_FAILED && q != p) {
		CHECK(all(q, PS, 'e'));
		CHECK(all(q + PS, 2 * PS, 0));
		/* The old first page is gone; the page after it stayed. */
		CHECK(is_free(p, PS));
		CHECK(all(p + PS, PS, 'f'));
		CHECK(is_mapped(q, 3 * PS, RW));
		CHECK_EQ(munmap(q, 3 * PS), 0);
	}
	CHECK_EQ(munmap(p + PS, PS), 0);

	/* MREMAP_FIXED moves to the given address, replacing what is there,
	 * and keeps the contents. */
	p = map(2 * PS);
	dst = map(4 * PS);
	if (!p || !dst)
		return;
	memset(p, 'g', 2 * PS);
	memset(dst, 'h', 4 * PS);
	q = mremap(p, 2 * PS, 2 * PS, MREMAP_MAYMOVE | MREMAP_FIXED, dst + PS);
	CHECK(q == dst + PS);
	if (q == dst + PS) {
		CHECK(all(dst, PS, 'h'));
		CHECK(all(dst + PS, 2 * PS, 'g'));
		CHECK(all(dst + 3 * PS, PS, 'h'));
		CHECK(is_free(p, 2 * PS));
	}
	/* A move may also grow. */
	p = free_range(8 * PS);
	q = mremap(dst + PS, 2 * PS, 3 * PS, MREMAP_MAYMOVE | MREMAP_FIXED, p);
	CHECK(q == p);
	if (q == p) {
		CHECK(all(p, 2 * PS, 'g'));
		CHECK(all(p + 2 * PS, PS, 0));
		CHECK(is_free(dst + PS, 2 * PS));
		CHECK_EQ(munmap(p, 3 * PS), 0);
	}
	CHECK_EQ(munmap(dst, 4 * PS), 0);

	/* Same size, no flags: nothing changes. */
	p = map(PS);
	if (!p)
		return;
	p[0] = 'i';
	CHECK(mremap(p, PS, PS, 0) == p);
	CHECK_EQ(p[0], 'i');

	/* Errors. */
	CHECK_ERR(sys_mremap(p + 1, PS, PS, 0, NULL), EINVAL);
	CHECK_ERR(sys_mremap(p, PS, 0, MREMAP_MAYMOVE, NULL), EINVAL);
	CHECK_ERR(sys_mremap(p, PS, PS, 0x80, NULL), EINVAL);
	CHECK_ERR(sys_mremap(p, PS, PS, MREMAP_FIXED, p + 16 * PS), EINVAL);
	CHECK_ERR(sys_mremap(p, PS, 2 * PS, MREMAP_MAYMOVE | MREMAP_FIXED, p - PS),
		  EINVAL); /* overlapping */
	CHECK_ERR(sys_mremap(p, PS, PS, MREMAP_MAYMOVE | MREMAP_FIXED, p + 1),
		  EINVAL);
	CHECK_EQ(munmap(p, PS), 0);
	CHECK_ERR(sys_mremap(p, PS, 2 * PS, MREMAP_MAYMOVE, NULL), EFAULT);
	CHECK_ERR(sys_mremap(p, PS, PS, 0, NULL), EFAULT);
	/* An old range running past the end of its mapping. */
	p = map(2 * PS);
	if (!p)
		return;
	CHECK_EQ(munmap(p + PS, PS), 0);
	CHECK_ERR(sys_mremap(p, 2 * PS, 3 * PS, MREMAP_MAYMOVE, NULL), EFAULT);
	CHECK_EQ(munmap(p, PS), 0);
}

static void test_mprotect(void)
{
	volatile char *p = map(2 * PS);

	if (!p)
		return;
	p[0] = 'j';
	p[PS] = 'k';
	CHECK_EQ(mprotect((void *)p, PS, PROT_READ), 0);
	CHECK_EQ(p[0], 'j');
	p[PS] = 'l'; /* the second page is still writable */
	CHECK_EQ(p[PS], 'l');
	CHECK_EQ(mprotect((void *)p, PS, RW), 0);
	p[0] = 'm';
	CHECK_EQ(p[0], 'm');
	CHECK_EQ(mprotect((void *)p, 2 * PS, PROT_NONE), 0);
	CHECK_EQ(mprotect((void *)p, 2 * PS, PROT_READ), 0);
	CHECK_EQ(p[PS], 'l');
	/* A length rounds up to whole pages; zero length is a no-op. */
	CHECK_EQ(mprotect((void *)p, 1, RW), 0);
	p[PS - 1] = 'n';
	CHECK_EQ(mprotect((void *)p, 0, PROT_NONE), 0);
	CHECK_EQ(p[PS - 1], 'n');

	CHECK_ERR(mprotect((void *)(p + 1), PS, PROT_READ), EINVAL);
	CHECK_ERR(mprotect((void *)p, PS, 0x100 | PROT_READ), EINVAL);
	/* PROT_SEM is accepted (and means nothing on x86). */
	CHECK_EQ(mprotect((void *)p, PS, PROT_SEM | PROT_READ), 0);
	CHECK_EQ(p[0], 'm');
	CHECK_EQ(munmap((void *)(p + PS), PS), 0);
	CHECK_ERR(mprotect((void *)(p + PS), PS, PROT_READ), ENOMEM);
	CHECK_ERR(mprotect((void *)p, 2 * PS, PROT_READ), ENOMEM);
	CHECK_ERR(syscall(SYS_mprotect, 0xffff800000000000UL, PS, PROT_READ), ENOMEM);
	CHECK_EQ(munmap((void *)p, PS), 0);
}

static void test_madvise(void)
{
	char *p = map(2 * PS), *s;

	if (!p)
		return;
	memset(p, 'o', 2 * PS);
	CHECK_EQ(madvise(p, PS, MADV_DONTNEED), 0);
	CHECK(all(p, PS, 0));
	CHECK(all(p + PS, PS, 'o'));
	CHECK_EQ(madvise(p, 2 * PS, MADV_WILLNEED), 0);
	CHECK_EQ(madvise(p, 2 * PS, MADV_NORMAL), 0);
	CHECK_EQ(madvise(p, 0, MADV_DONTNEED), 0);
	CHECK(all(p + PS, PS, 'o'));
	CHECK_ERR(madvise(p + 1, PS, MADV_DONTNEED), EINVAL);
	CHECK_ERR(madvise(p, PS, 12345), EINVAL);
	CHECK_EQ(munmap(p + PS, PS), 0);
	CHECK_ERR(madvise(p + PS, PS, MADV_DONTNEED), ENOMEM);
	CHECK_ERR(madvise(p, 2 * PS, MADV_NORMAL), ENOMEM);
	CHECK_EQ(munmap(p, PS), 0);

	/* A shared anonymous page keeps its contents: they live in the
	 * shared object, not the page table. */
	s = mmap(NULL, PS, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(s != MAP_FAILED);
	if (s != MAP_FAILED) {
		memset(s, 'p', PS);
		CHECK_EQ(madvise(s, PS, MADV_DONTNEED), 0);
		CHECK(all(s, PS, 'p'));
		CHECK_EQ(munmap(s, PS), 0);
	}
}

static void test_shared(void)
{
	char *s = mmap(NULL, 3 * PS, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	CHECK(s != MAP_FAILED);
	if (s == MAP_FAILED)
		return;
	CHECK(all(s, 3 * PS, 0));
	memset(s, 'q', 3 * PS);
	CHECK(all(s, 3 * PS, 'q'));
	/* Part of it can be unmapped, the rest stays. */
	CHECK_EQ(munmap(s + PS, PS), 0);
	CHECK(all(s + 2 * PS, PS, 'q'));
	CHECK_EQ(munmap(s, 3 * PS), 0);
}

static void test_einval(void)
{
	char *p = free_range(4 * PS);
	struct rlimit rl, none;

	/* Length zero. */
	CHECK_ERR(sys_mmap(NULL, 0, RW, ANON, -1, 0), EINVAL);
	CHECK_ERR(sys_mmap(p, 0, RW, ANON | MAP_FIXED, -1, 0), EINVAL);
	/* A length that overflows when rounded, or exceeds the space. */
	CHECK_ERR(sys_mmap(NULL, (size_t)-1, RW, ANON, -1, 0), ENOMEM);
	CHECK_ERR(sys_mmap(NULL, 1UL << 62, RW, ANON, -1, 0), ENOMEM);
	/* Unaligned fixed addresses. */
	CHECK_ERR(sys_mmap(p + 1, PS, RW, ANON | MAP_FIXED, -1, 0), EINVAL);
	CHECK_ERR(sys_mmap(p + 1, PS, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0), EINVAL);
	/* A fixed range running out of the address space. */
	CHECK_ERR(sys_mmap((void *)0x7ffffffff000UL, 2 * PS, RW, ANON | MAP_FIXED, -1, 0),
		  ENOMEM);
	/* Neither shared nor private, or both, in an anonymous mapping. */
	CHECK_ERR(sys_mmap(NULL, PS, RW, MAP_ANONYMOUS, -1, 0), EINVAL);
	CHECK_ERR(sys_mmap(NULL, PS, RW, MAP_ANONYMOUS | 0x0f, -1, 0), EINVAL);
	CHECK_ERR(sys_mmap(NULL, PS, RW, MAP_ANONYMOUS | MAP_SHARED_VALIDATE, -1, 0),
		  EINVAL);
	/* A shared mapping cannot grow down. */
	CHECK_ERR(sys_mmap(NULL, PS, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN,
			   -1, 0), EINVAL);
	/* The offset must be page aligned, even where it is unused. */
	CHECK_ERR(sys_mmap(NULL, PS, RW, ANON, -1, 1), EINVAL);
	CHECK_ERR(sys_mmap(NULL, PS, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 100), EINVAL);
	/* Without a file the descriptor is ignored. */
	{
		long r = CHECK_SYS(sys_mmap(NULL, PS, RW, ANON, 12345, 0));
		if (r != -1)
			CHECK_EQ(munmap((void *)r, PS), 0);
	}
	/* And a file mapping needs an open descriptor. */
	CHECK_ERR(sys_mmap(NULL, PS, PROT_READ, MAP_PRIVATE, -1, 0), EBADF);
	CHECK_ERR(sys_mmap(NULL, PS, PROT_READ, MAP_PRIVATE, 4000, 0), EBADF);

	/* munmap. */
	CHECK_ERR(munmap(p + 1, PS), EINVAL);
	CHECK_ERR(munmap(p, 0), EINVAL);
	CHECK_ERR(syscall(SYS_munmap, 0xffff800000000000UL, PS), EINVAL);
	CHECK_ERR(syscall(SYS_munmap, 0x7ffffffff000UL, 2 * PS), EINVAL);

	/* RLIMIT_AS bounds new mappings and growth. */
	CHECK_EQ(getrlimit(RLIMIT_AS, &rl), 0);
	{
		char *q = map(PS);
		none = rl;
		none.rlim_cur = 0;
		CHECK_EQ(setrlimit(RLIMIT_AS, &none), 0);
		CHECK_ERR(sys_mmap(NULL, PS, RW, ANON, -1, 0), ENOMEM);
		if (q)
			CHECK_ERR(sys_mremap(q, PS, 2 * PS, MREMAP_MAYMOVE, NULL), ENOMEM);
		CHECK_EQ(setrlimit(RLIMIT_AS, &rl), 0);
		if (q)
			CHECK_EQ(munmap(q, PS), 0);
	}
}

int main(void)
{
	CHECK_EQ(sysconf(_SC_PAGESIZE), PS);
	test_basic();
	test_munmap_hole();
	test_mremap();
	test_mprotect();
	test_madvise();
	test_shared();
	test_einval();
	return check_exit();
}
