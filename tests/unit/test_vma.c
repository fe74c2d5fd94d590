/* The VMA set (sentry/mm/vma.c): insert, remove, protect, lookups, gap
 * search, merging and accounting, plus a randomized differential test
 * against a page-by-page model. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "abi/linux.h"
#include "lib/util.h"
#include "sentry/mm/mm.h"

#define P(n) ((uint64_t)(n) * PAGE_SIZE)
#define B 0x10000000ULL /* base of the test range */
#define A(n) (B + P(n))  /* page n of the test range */

static struct mm *mm;

static void setup(void)
{
	mm = mm_new(NULL);
	cr_assert_not_null(mm);
}

static void teardown(void)
{
	mm_put(mm);
	mm = NULL;
}

TestSuite(vma, .init = setup, .fini = teardown);

static struct vma anon(uint64_t start, uint64_t end, int prot)
{
	return (struct vma){.start = start, .end = end, .prot = prot, .kind = VMA_ANON};
}

static struct vma filev(uint64_t start, uint64_t end, int prot, uint64_t ino,
			uint64_t off, const char *name)
{
	return (struct vma){.start = start, .end = end, .prot = prot,
			    .kind = VMA_FILE, .off = off, .name = (char *)name,
			    .dev = 0x801, .ino = ino};
}

static void ins(struct vma v)
{
	cr_assert_eq(vma_insert(mm, &v), 0);
}

static bool can_merge(const struct vma *a, const struct vma *b)
{
	if (a->end != b->start || a->prot != b->prot || a->flags != b->flags ||
	    a->kind != b->kind)
		return false;
	if (a->kind == VMA_FILE)
		return a->dev == b->dev && a->ino == b->ino &&
		       a->off + (a->end - a->start) == b->off;
	return a->kind == VMA_ANON || a->kind == VMA_HEAP || a->kind == VMA_STACK;
}

/* Sorted, non-overlapping, non-empty, page-aligned, fully merged, and
 * mm->mapped is the sum of the lengths. */
static void check_set(void)
{
	uint64_t sum = 0;
	cr_assert_leq(mm->nvmas, mm->capvmas);
	for (size_t i = 0; i < mm->nvmas; i++) {
		const struct vma *v = &mm->vmas[i];
		cr_assert_lt(v->start, v->end, "vma %zu empty or inverted", i);
		cr_assert(IS_PAGE_ALIGNED(v->start) && IS_PAGE_ALIGNED(v->end));
		if (i > 0) {
			cr_assert_leq(mm->vmas[i - 1].end, v->start, "vma %zu overlaps", i);
			cr_assert_not(can_merge(&mm->vmas[i - 1], v),
				      "vmas %zu and %zu left unmerged", i - 1, i);
		}
		if (v->kind == VMA_FILE)
			cr_assert(IS_PAGE_ALIGNED(v->off));
		sum += v->end - v->start;
	}
	cr_assert_eq(mm->mapped, sum, "mapped %llu, vmas hold %llu",
		     (unsigned long long)mm->mapped, (unsigned long long)sum);
}

static void expect_vma(size_t i, uint64_t start, uint64_t end, int prot)
{
	cr_assert_lt(i, mm->nvmas, "no vma %zu (%zu vmas)", i, mm->nvmas);
	cr_assert_eq(mm->vmas[i].start, start, "vma %zu start 0x%llx", i,
		     (unsigned long long)mm->vmas[i].start);
	cr_assert_eq(mm->vmas[i].end, end, "vma %zu end 0x%llx", i,
		     (unsigned long long)mm->vmas[i].end);
	cr_assert_eq(mm->vmas[i].prot, prot, "vma %zu prot %d", i, mm->vmas[i].prot);
}

UTest(vma, empty)
{
	cr_assert_eq(mm->nvmas, 0);
	cr_assert_null(vma_find(mm, 0));
	cr_assert_null(vma_find(mm, A(0)));
	cr_assert(vma_range_free(mm, 0, ABI_TASK_SIZE));
	cr_assert_not(vma_range_mapped(mm, A(0), A(1)));
	cr_assert_eq(vma_remove(mm, A(0), A(10)), 0);
	cr_assert_eq(vma_protect(mm, A(0), A(10), PROT_READ), 0);
	cr_assert_eq(mm->nvmas, 0);
	cr_assert_eq(mm->mapped, 0);
}

UTest(vma, insert_and_find)
{
	ins(anon(A(10), A(12), PROT_READ));
	ins(anon(A(2), A(4), PROT_READ | PROT_WRITE));
	ins(anon(A(6), A(7), PROT_NONE));
	check_set();
	cr_assert_eq(mm->nvmas, 3);
	expect_vma(0, A(2), A(4), PROT_READ | PROT_WRITE);
	expect_vma(1, A(6), A(7), PROT_NONE);
	expect_vma(2, A(10), A(12), PROT_READ);
	cr_assert_eq(mm->mapped, P(5));

	cr_assert_null(vma_find(mm, A(2) - 1));
	cr_assert_eq(vma_find(mm, A(2)), &mm->vmas[0]);
	cr_assert_eq(vma_find(mm, A(4) - 1), &mm->vmas[0]);
	cr_assert_null(vma_find(mm, A(4)), "end is exclusive");
	cr_assert_null(vma_find(mm, A(5)));
	cr_assert_eq(vma_find(mm, A(6) + 123), &mm->vmas[1]);
	cr_assert_eq(vma_find(mm, A(11)), &mm->vmas[2]);
	cr_assert_null(vma_find(mm, A(12)));
	cr_assert_null(vma_find(mm, UINT64_MAX));
	cr_assert_null(vma_find(mm, 0));
}

UTest(vma, insert_replaces_and_splits)
{
	ins(anon(A(0), A(10), PROT_READ));
	ins(anon(A(3), A(5), PROT_READ | PROT_WRITE));
	check_set();
	cr_assert_eq(mm->nvmas, 3);
	expect_vma(0, A(0), A(3), PROT_READ);
	expect_vma(1, A(3), A(5), PROT_READ | PROT_WRITE);
	expect_vma(2, A(5), A(10), PROT_READ);
	cr_assert_eq(mm->mapped, P(10));

	/* Over several VMAs and a hole, sticking out at both ends. */
	ins(anon(A(20), A(22), PROT_EXEC));
	ins(anon(A(1), A(21), PROT_NONE));
	check_set();
	cr_assert_eq(mm->nvmas, 3);
	expect_vma(0, A(0), A(1), PROT_READ);
	expect_vma(1, A(1), A(21), PROT_NONE);
	expect_vma(2, A(21), A(22), PROT_EXEC);
	cr_assert_eq(mm->mapped, P(22));

	/* Exactly over one VMA. */
	ins(anon(A(21), A(22), PROT_READ));
	check_set();
	expect_vma(2, A(21), A(22), PROT_READ);
	cr_assert_eq(mm->mapped, P(22));

	/* Covering everything. */
	ins(anon(A(0), A(30), PROT_WRITE));
	check_set();
	cr_assert_eq(mm->nvmas, 1);
	expect_vma(0, A(0), A(30), PROT_WRITE);
	cr_assert_eq(mm->mapped, P(30));
}

UTest(vma, insert_replaces_file_with_offsets)
{
	ins(filev(A(0), A(8), PROT_READ, 7, P(100), "/lib/x.so"));
	ins(anon(A(2), A(3), PROT_READ | PROT_WRITE));
	check_set();
	cr_assert_eq(mm->nvmas, 3);
	cr_assert_eq(mm->vmas[0].off, P(100));
	cr_assert_eq(mm->vmas[2].start, A(3));
	cr_assert_eq(mm->vmas[2].kind, VMA_FILE);
	cr_assert_eq(mm->vmas[2].off, P(103), "the tail's offset advances");
	cr_assert_str_eq(mm->vmas[2].name, "/lib/x.so");
	cr_assert_neq(mm->vmas[0].name, mm->vmas[2].name, "names are copies");
	cr_assert_eq(mm->vmas[1].kind, VMA_ANON);
	cr_assert_null(mm->vmas[1].name);
}

UTest(vma, insert_copies_the_name)
{
	char name[] = "/tmp/file";
	struct vma v = filev(A(0), A(1), PROT_READ, 1, 0, name);
	ins(v);
	name[1] = 'X';
	cr_assert_str_eq(mm->vmas[0].name, "/tmp/file");
	cr_assert_neq(mm->vmas[0].name, name);
}

UTest(vma, insert_from_inside_the_set)
{
	/* v may point at a VMA the insert replaces. */
	ins(filev(A(0), A(4), PROT_READ, 3, 0, "/a"));
	ins(anon(A(4), A(6), PROT_READ | PROT_WRITE));
	cr_assert_eq(vma_insert(mm, &mm->vmas[0]), 0);
	check_set();
	cr_assert_eq(mm->nvmas, 2);
	cr_assert_str_eq(mm->vmas[0].name, "/a");
	cr_assert_eq(mm->mapped, P(6));

	struct vma *v = vma_find(mm, A(5));
	cr_assert_not_null(v);
	cr_assert_eq(vma_insert(mm, v), 0);
	check_set();
	cr_assert_eq(mm->nvmas, 2);
	cr_assert_eq(mm->mapped, P(6));
}

UTest(vma, remove_splits)
{
	ins(filev(A(0), A(10), PROT_READ | PROT_EXEC, 9, P(4), "/bin/x"));
	cr_assert_eq(vma_remove(mm, A(3), A(5)), 0);
	check_set();
	cr_assert_eq(mm->nvmas, 2);
	expect_vma(0, A(0), A(3), PROT_READ | PROT_EXEC);
	expect_vma(1, A(5), A(10), PROT_READ | PROT_EXEC);
	cr_assert_eq(mm->vmas[0].off, P(4));
	cr_assert_eq(mm->vmas[1].off, P(4 + 5), "file offset of the tail");
	cr_assert_eq(mm->vmas[1].ino, 9);
	cr_assert_str_eq(mm->vmas[1].name, "/bin/x");
	cr_assert_eq(mm->mapped, P(8));

	/* Split again: the offsets keep advancing. */
	cr_assert_eq(vma_remove(mm, A(7), A(8)), 0);
	check_set();
	cr_assert_eq(mm->nvmas, 3);
	cr_assert_eq(mm->vmas[2].start, A(8));
	cr_assert_eq(mm->vmas[2].off, P(4 + 8));
	cr_assert_eq(mm->mapped, P(7));

	/* Filling the holes with the right offsets merges back into one. */
	ins(filev(A(3), A(5), PROT_READ | PROT_EXEC, 9, P(7), "/bin/x"));
	ins(filev(A(7), A(8), PROT_READ | PROT_EXEC, 9, P(11), "/bin/x"));
	check_set();
	cr_assert_eq(mm->nvmas, 1);
	cr_assert_eq(mm->vmas[0].off, P(4));
	cr_assert_eq(mm->mapped, P(10));
}

UTest(vma, remove_anon_keeps_offset)
{
	ins(anon(A(0), A(4), PROT_READ));
	cr_assert_eq(vma_remove(mm, A(1), A(2)), 0);
	check_set();
	cr_assert_eq(mm->vmas[1].start, A(2));
	cr_assert_eq(mm->vmas[1].off, 0, "anonymous memory has no offset");
}

UTest(vma, remove_edges_and_holes)
{
	ins(anon(A(0), A(2), PROT_READ));
	ins(anon(A(4), A(6), PROT_WRITE));
	ins(anon(A(8), A(10), PROT_EXEC));

	/* Nothing there. */
	cr_assert_eq(vma_remove(mm, A(2), A(4)), 0);
	cr_assert_eq(mm->nvmas, 3);
	cr_assert_eq(mm->mapped, P(6));
	/* Head of one VMA, tail of another, across a hole. */
	cr_assert_eq(vma_remove(mm, A(5), A(9)), 0);
	check_set();
	cr_assert_eq(mm->nvmas, 3);
	expect_vma(1, A(4), A(5), PROT_WRITE);
	expect_vma(2, A(9), A(10), PROT_EXEC);
	cr_assert_eq(mm->mapped, P(4));
	/* Exactly one VMA. */
	cr_assert_eq(vma_remove(mm, A(4), A(5)), 0);
	check_set();
	cr_assert_eq(mm->nvmas, 2);
	/* Everything, and more. */
	cr_assert_eq(vma_remove(mm, 0, UINT64_MAX & PAGE_MASK), 0);
	check_set();
	cr_assert_eq(mm->nvmas, 0);
	cr_assert_eq(mm->mapped, 0);
}

UTest(vma, merge_adjacent_anon)
{
	ins(anon(A(0), A(2), PROT_READ));
	ins(anon(A(2), A(4), PROT_READ));
	check_set();
	cr_assert_eq(mm->nvmas, 1);
	expect_vma(0, A(0), A(4), PROT_READ);
	/* Filling a hole joins three into one. */
	ins(anon(A(6), A(8), PROT_READ));
	cr_assert_eq(mm->nvmas, 2);
	ins(anon(A(4), A(6), PROT_READ));
	check_set();
	cr_assert_eq(mm->nvmas, 1);
	expect_vma(0, A(0), A(8), PROT_READ);
	cr_assert_eq(mm->mapped, P(8));
	/* Heap merges with heap. */
	ins((struct vma){.start = A(20), .end = A(21), .prot = PROT_READ, .kind = VMA_HEAP});
	ins((struct vma){.start = A(21), .end = A(23), .prot = PROT_READ, .kind = VMA_HEAP});
	check_set();
	cr_assert_eq(mm->nvmas, 2);
	cr_assert_eq(mm->vmas[1].kind, VMA_HEAP);
	cr_assert_eq(mm->vmas[1].end, A(23));
}

UTest(vma, no_merge_across_differences)
{
	ins(anon(A(0), A(1), PROT_READ));
	ins(anon(A(1), A(2), PROT_READ | PROT_WRITE));                 /* prot */
	ins((struct vma){.start = A(2), .end = A(3), .prot = PROT_READ | PROT_WRITE,
			 .kind = VMA_HEAP});                           /* kind */
	ins((struct vma){.start = A(3), .end = A(4), .prot = PROT_READ | PROT_WRITE,
			 .kind = VMA_ANON, .flags = VMA_SHARED});      /* flags */
	ins(filev(A(4), A(5), PROT_READ | PROT_WRITE, 1, 0, "/f"));    /* kind */
	ins(filev(A(5), A(6), PROT_READ | PROT_WRITE, 2, P(1), "/g")); /* file */
	ins(filev(A(6), A(7), PROT_READ | PROT_WRITE, 2, P(5), "/g")); /* offset */
	struct vma d = filev(A(7), A(8), PROT_READ | PROT_WRITE, 2, P(6), "/g");
	d.dev = 0x802;                                                 /* dev */
	ins(d);
	ins((struct vma){.start = A(8), .end = A(9), .prot = PROT_READ | PROT_WRITE,
			 .kind = VMA_VDSO});
	ins((struct vma){.start = A(9), .end = A(10), .prot = PROT_READ | PROT_WRITE,
			 .kind = VMA_VDSO});                           /* vdso never */
	check_set();
	cr_assert_eq(mm->nvmas, 10);
	cr_assert_eq(mm->mapped, P(10));
}

UTest(vma, file_merge_needs_contiguous_offsets)
{
	ins(filev(A(0), A(2), PROT_READ, 5, P(10), "/f"));
	ins(filev(A(2), A(3), PROT_READ, 5, P(12), "/f"));
	check_set();
	cr_assert_eq(mm->nvmas, 1);
	cr_assert_eq(mm->vmas[0].off, P(10));
	cr_assert_eq(mm->vmas[0].end, A(3));
	/* Inserted before: merges with the one after it too. */
	ins(filev(A(5), A(6), PROT_READ, 5, P(15), "/f"));
	ins(filev(A(3), A(5), PROT_READ, 5, P(13), "/f"));
	check_set();
	cr_assert_eq(mm->nvmas, 1);
	cr_assert_eq(mm->vmas[0].end, A(6));
	cr_assert_eq(mm->mapped, P(6));
}

UTest(vma, protect_splits_and_remerges)
{
	ins(anon(A(0), A(10), PROT_READ));
	cr_assert_eq(vma_protect(mm, A(4), A(6), PROT_READ | PROT_WRITE), 0);
	check_set();
	cr_assert_eq(mm->nvmas, 3);
	expect_vma(0, A(0), A(4), PROT_READ);
	expect_vma(1, A(4), A(6), PROT_READ | PROT_WRITE);
	expect_vma(2, A(6), A(10), PROT_READ);
	cr_assert_eq(mm->mapped, P(10));

	/* Back again: one VMA. */
	cr_assert_eq(vma_protect(mm, A(4), A(6), PROT_READ), 0);
	check_set();
	cr_assert_eq(mm->nvmas, 1);
	expect_vma(0, A(0), A(10), PROT_READ);

	/* At the edges. */
	cr_assert_eq(vma_protect(mm, A(0), A(1), PROT_NONE), 0);
	cr_assert_eq(vma_protect(mm, A(9), A(10), PROT_NONE), 0);
	check_set();
	cr_assert_eq(mm->nvmas, 3);
	expect_vma(0, A(0), A(1), PROT_NONE);
	expect_vma(2, A(9), A(10), PROT_NONE);

	/* The whole range merges everything back. */
	cr_assert_eq(vma_protect(mm, A(0), A(10), PROT_EXEC), 0);
	check_set();
	cr_assert_eq(mm->nvmas, 1);
	expect_vma(0, A(0), A(10), PROT_EXEC);
	cr_assert_eq(mm->mapped, P(10));
}

UTest(vma, protect_across_holes_and_files)
{
	ins(filev(A(0), A(4), PROT_READ, 1, 0, "/f"));
	ins(anon(A(6), A(8), PROT_READ));
	cr_assert_eq(vma_protect(mm, A(2), A(7), PROT_READ | PROT_WRITE), 0);
	check_set();
	cr_assert_eq(mm->nvmas, 4);
	expect_vma(0, A(0), A(2), PROT_READ);
	expect_vma(1, A(2), A(4), PROT_READ | PROT_WRITE);
	cr_assert_eq(mm->vmas[1].off, P(2));
	expect_vma(2, A(6), A(7), PROT_READ | PROT_WRITE);
	expect_vma(3, A(7), A(8), PROT_READ);
	cr_assert_null(vma_find(mm, A(5)), "protect maps nothing");
	cr_assert_eq(mm->mapped, P(6));
	/* The file halves merge back with consistent offsets. */
	cr_assert_eq(vma_protect(mm, A(0), A(4), PROT_READ), 0);
	check_set();
	cr_assert_eq(mm->nvmas, 3);
	expect_vma(0, A(0), A(4), PROT_READ);
	cr_assert_eq(mm->vmas[0].off, 0);
}

UTest(vma, range_free_and_mapped)
{
	ins(anon(A(2), A(4), PROT_READ));
	ins(anon(A(4), A(6), PROT_WRITE)); /* touching, not merged */
	ins(anon(A(8), A(10), PROT_READ));

	cr_assert(vma_range_free(mm, A(0), A(2)), "touching from below");
	cr_assert_not(vma_range_free(mm, A(0), A(2) + 1));
	cr_assert(vma_range_free(mm, A(6), A(8)), "a hole exactly");
	cr_assert_not(vma_range_free(mm, A(6) - 1, A(8)));
	cr_assert_not(vma_range_free(mm, A(6), A(8) + 1));
	cr_assert(vma_range_free(mm, A(10), A(100)), "touching from above");
	cr_assert_not(vma_range_free(mm, A(0), A(100)));
	cr_assert_not(vma_range_free(mm, A(3), A(3) + 1), "inside");

	cr_assert(vma_range_mapped(mm, A(2), A(6)), "two touching VMAs");
	cr_assert(vma_range_mapped(mm, A(3), A(5)));
	cr_assert(vma_range_mapped(mm, A(2), A(3)));
	cr_assert_not(vma_range_mapped(mm, A(2), A(7)), "runs into a hole");
	cr_assert_not(vma_range_mapped(mm, A(1), A(3)), "starts in a hole");
	cr_assert_not(vma_range_mapped(mm, A(2), A(10)), "a hole inside");
	cr_assert(vma_range_mapped(mm, A(8), A(10)));
	cr_assert_not(vma_range_mapped(mm, A(8), A(11)));
	cr_assert_not(vma_range_mapped(mm, A(10), A(11)));
	cr_assert_not(vma_range_mapped(mm, A(6), A(8)));
}

UTest(vma, find_gap)
{
	/* Empty: the top of the window. */
	cr_assert_eq(vma_find_gap(mm, P(1), A(0), A(100)), A(99));
	cr_assert_eq(vma_find_gap(mm, P(100), A(0), A(100)), A(0), "exact fit");
	cr_assert_eq(vma_find_gap(mm, P(101), A(0), A(100)), 0, "too big");
	cr_assert_eq(vma_find_gap(mm, 0, A(0), A(100)), 0, "zero length");
	cr_assert_eq(vma_find_gap(mm, P(1), A(100), A(100)), 0, "empty window");
	cr_assert_eq(vma_find_gap(mm, P(1), A(100), A(50)), 0, "inverted window");

	ins(anon(A(90), A(100), PROT_READ)); /* up to the top */
	ins(anon(A(50), A(60), PROT_READ));
	ins(anon(A(10), A(20), PROT_READ));
	/* Free: [0,10) [20,50) [60,90). */
	cr_assert_eq(vma_find_gap(mm, P(1), A(0), A(100)), A(89), "highest first");
	cr_assert_eq(vma_find_gap(mm, P(30), A(0), A(100)), A(60), "exact fit");
	cr_assert_eq(vma_find_gap(mm, P(31), A(0), A(100)), 0, "larger than any gap");
	cr_assert_eq(vma_find_gap(mm, P(29), A(0), A(100)), A(61));
	/* Top inside a VMA, or inside a gap. */
	cr_assert_eq(vma_find_gap(mm, P(5), A(0), A(55)), A(45));
	cr_assert_eq(vma_find_gap(mm, P(5), A(0), A(70)), A(65));
	cr_assert_eq(vma_find_gap(mm, P(20), A(0), A(70)), A(30), "skips a small gap");
	/* Bottom bounds the search. */
	cr_assert_eq(vma_find_gap(mm, P(10), A(0), A(50)), A(40));
	cr_assert_eq(vma_find_gap(mm, P(10), A(45), A(100)), A(80));
	cr_assert_eq(vma_find_gap(mm, P(10), A(85), A(100)), 0, "gap cut by bottom");
	cr_assert_eq(vma_find_gap(mm, P(5), A(85), A(100)), A(85), "exactly at bottom");
	cr_assert_eq(vma_find_gap(mm, P(10), A(5), A(30)), A(20), "between bottom and top");
	cr_assert_eq(vma_find_gap(mm, P(6), A(5), A(15)), 0, "only 5 pages free there");
	cr_assert_eq(vma_find_gap(mm, P(5), A(5), A(15)), A(5));
	/* A window entirely inside a VMA. */
	cr_assert_eq(vma_find_gap(mm, P(1), A(51), A(59)), 0);
	/* VMAs above the window are ignored. */
	cr_assert_eq(vma_find_gap(mm, P(1), A(0), A(10)), A(9));
	cr_assert_eq(vma_find_gap(mm, P(10), A(0), A(10)), A(0));
	/* Above everything. */
	cr_assert_eq(vma_find_gap(mm, P(1), A(0), A(200)), A(199));
	cr_assert_eq(vma_find_gap(mm, P(100), A(0), A(200)), A(100));
}

/* ---- randomized differential test against a page model ---- */

#define NPAGES 96

struct page {
	bool mapped;
	int prot;
	int flags;
	enum vma_kind kind;
	uint64_t ino;
	uint64_t off; /* file offset of this page */
};

static struct page model[NPAGES];
static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

static void check_model(unsigned step)
{
	uint64_t npages = 0;

	check_set();
	for (unsigned i = 0; i < NPAGES; i++) {
		const struct page *p = &model[i];
		const struct vma *v = vma_find(mm, A(i));
		if (!p->mapped) {
			cr_assert_null(v, "step %u: page %u should be free", step, i);
			cr_assert(vma_range_free(mm, A(i), A(i + 1)));
			continue;
		}
		npages++;
		cr_assert_not_null(v, "step %u: page %u should be mapped", step, i);
		cr_assert(vma_range_mapped(mm, A(i), A(i + 1)));
		cr_assert_eq(vma_find(mm, A(i + 1) - 1), v);
		cr_assert_eq(v->prot, p->prot, "step %u: page %u prot %d, want %d",
			     step, i, v->prot, p->prot);
		cr_assert_eq(v->kind, p->kind, "step %u: page %u kind", step, i);
		cr_assert_eq(v->flags, p->flags, "step %u: page %u flags", step, i);
		if (p->kind == VMA_FILE) {
			cr_assert_eq(v->ino, p->ino, "step %u: page %u file", step, i);
			cr_assert_eq(v->off + (A(i) - v->start), p->off,
				     "step %u: page %u offset 0x%llx, want 0x%llx", step, i,
				     (unsigned long long)(v->off + (A(i) - v->start)),
				     (unsigned long long)p->off);
			cr_assert_not_null(v->name);
			cr_assert_eq(v->name[0], 'f');
			cr_assert_eq((uint64_t)(v->name[1] - '0'), p->ino);
		} else {
			cr_assert_null(v->name);
		}
	}
	cr_assert_eq(mm->mapped, P(npages), "step %u: mapped accounting", step);
	cr_assert(vma_range_free(mm, 0, B));
	cr_assert(vma_range_free(mm, A(NPAGES), A(NPAGES) * 2));
}

static void check_queries(unsigned step)
{
	for (int k = 0; k < 4; k++) {
		unsigned a = (unsigned)(rnd() % NPAGES), b = (unsigned)(rnd() % NPAGES);
		if (a > b) {
			unsigned t = a;
			a = b;
			b = t;
		}
		b++;
		bool all = true, none = true;
		for (unsigned i = a; i < b; i++) {
			all &= model[i].mapped;
			none &= !model[i].mapped;
		}
		cr_assert_eq(vma_range_mapped(mm, A(a), A(b)), all,
			     "step %u: range_mapped [%u,%u)", step, a, b);
		cr_assert_eq(vma_range_free(mm, A(a), A(b)), none,
			     "step %u: range_free [%u,%u)", step, a, b);

		/* The highest free run of len pages within [a, b). */
		unsigned len = 1 + (unsigned)(rnd() % 8);
		uint64_t want = 0;
		for (unsigned s = b >= len ? b - len + 1 : 0; s-- > a;) {
			bool free_run = true;
			for (unsigned i = s; i < s + len; i++)
				free_run &= !model[i].mapped;
			if (free_run) {
				want = A(s);
				break;
			}
		}
		cr_assert_eq(vma_find_gap(mm, P(len), A(a), A(b)), want,
			     "step %u: gap of %u pages in [%u,%u)", step, len, a, b);
	}
}

static const char *const fnames[] = {"f0", "f1", "f2"};

UTest(vma, differential, .timeout = 120)
{
	static const int prots[] = {PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE,
				    PROT_READ | PROT_EXEC};
	rng = 0x9e3779b97f4a7c15ULL;
	memset(model, 0, sizeof(model));

	for (unsigned step = 0; step < 4000; step++) {
		unsigned a = (unsigned)(rnd() % NPAGES);
		unsigned n = 1 + (unsigned)(rnd() % (rnd() % 4 ? 8 : NPAGES));
		unsigned b = a + n > NPAGES ? NPAGES : a + n;
		int prot = prots[rnd() % ARRAY_SIZE(prots)];
		unsigned op = (unsigned)(rnd() % 10);

		if (op < 5) {
			struct vma v = {.start = A(a), .end = A(b), .prot = prot};
			unsigned k = (unsigned)(rnd() % 6);
			/* Few distinct kinds and offsets, so merges happen. */
			v.kind = k < 3 ? VMA_ANON : k == 3 ? VMA_HEAP : VMA_FILE;
			v.flags = rnd() % 8 == 0 ? VMA_SHARED : 0;
			if (v.kind == VMA_FILE) {
				v.ino = 1 + rnd() % 2;
				v.dev = 0x801;
				v.name = (char *)fnames[v.ino];
				/* Offsets that line up with the page index, or not. */
				v.off = rnd() % 2 ? P(a) : P(rnd() % 4);
			}
			cr_assert_eq(vma_insert(mm, &v), 0);
			for (unsigned i = a; i < b; i++)
				model[i] = (struct page){true, v.prot, v.flags, v.kind, v.ino,
							 v.kind == VMA_FILE ? v.off + P(i - a) : 0};
		} else if (op < 7) {
			cr_assert_eq(vma_remove(mm, A(a), A(b)), 0);
			for (unsigned i = a; i < b; i++)
				model[i] = (struct page){0};
		} else {
			cr_assert_eq(vma_protect(mm, A(a), A(b), prot), 0);
			for (unsigned i = a; i < b; i++)
				if (model[i].mapped)
					model[i].prot = prot;
		}
		check_model(step);
		check_queries(step);
	}
}
