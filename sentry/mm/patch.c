/* Syscall-site patching (x86-64), for platforms that have a way in without
 * a signal (platform_info.patch_entry; systrap).
 *
 * A site is `mov $N,%eax; syscall` (b8 NN NN NN NN 0f 05) that has just
 * trapped with syscall N. Its first five bytes become `jmp rel32` to a
 * trampoline of its own; the `syscall` stays. The trampoline loads %eax
 * with N and %rcx with the address after the site (what the syscall
 * instruction would leave there) and jumps through a pointer to the
 * platform's entry, so nothing is pushed: the red zone below %rsp of a
 * leaf function is untouched, and the stop the sentry sees is the one the
 * syscall instruction would have made (rip after the site, rcx = rip,
 * r11 = rflags). Because the `syscall` instruction is still at rip - 2, a
 * restarted call (ERESTARTSYS and friends rewind rip by 2, %rax = N)
 * re-executes the original instruction, which traps the slow way with
 * the same arguments; a jump to it from elsewhere works the same.
 *
 * Trampolines live in regions of TRAMP_REGION bytes that the sentry maps
 * read-exec in the application's address space within 2 GiB of the sites
 * they serve (a rel32 jump must reach them), recorded as anonymous VMAs so
 * that no mmap is placed over them. The application can unmap or replace
 * them, as it can its own code; the trampoline is plain application code
 * and the entry it jumps to is stub code the application could jump to
 * anyway, so nothing there widens what it can do (security invariant 1:
 * the stub filter is unchanged but for membarrier SYNC_CORE).
 *
 * What is patched: sites in private, executable, non-writable mappings
 * (file or anonymous), whole inside one VMA, once they have trapped
 * PATCH_AFTER times. Writable code (JITs) is left
 * alone. The rewrite is made safe for threads running the site by the
 * platform's as_poke_text (int3 first, then the rest, then the first
 * byte); a thread that meets the int3 is sent back to the start of the
 * site (mm_patch_fixup).
 *
 * Self-checking code: patching is visible. A program that reads its own
 * text sees `e9 rel32` in place of `mov $N,%eax` at a site that has made
 * a syscall (the `0f 05` after it is unchanged), and /proc/self/maps
 * shows the trampoline regions. We do not hide it (the bytes cannot be
 * given back on reads without making the code unreadable); a program
 * that must not see it runs with --no-syscall-patching.
 *
 * %gs: the platform points it at the thread's slot while the application
 * has set none (x86-64 Linux programs do not use it). An application that
 * sets its own %gs base (arch_prctl ARCH_SET_GS) makes its address space
 * lose patching: every patched site is restored before that call returns
 * and none is patched again (mm_patch_disable). Writing %gs directly with
 * wrgsbase is not supported while patched sites exist: the fast path
 * kills the stub (a fault there), which harms only the application.
 *
 * fork copies the table with the address space (the child shares the
 * patched text copy-on-write); exec starts a fresh one. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "abi/linux.h"
#include "lib/log.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/mm/patch.h"

#define SITE_LEN 7
#define JMP_LEN 5
#define TRAMP_REGION 0x10000ULL
#define TRAMP_ENTRY 32ULL /* the first entry holds the pointer to the platform's entry */
#define REL32_REACH 0x7fff0000ULL
#define LOW_LIMIT 0x10000ULL /* the host's usual mmap_min_addr */
#define MAX_SITES 65536
#define MAX_REGIONS 64

/* A site is rewritten after it has trapped this many times: one-shot
 * sites (and short-lived processes: a fork child's exit, a shell's
 * commands) do not pay the rewrite, some 50-600 us of stub commands here. */
#define PATCH_AFTER 16

enum site_state {
	SITE_COUNTING = 1, /* trapped fewer than PATCH_AFTER times */
	SITE_NO,           /* not a site we patch (bytes, mapping, or a failure) */
	SITE_PATCHED,
	SITE_RESTORED,     /* patched, then given back (mm_patch_disable) */
};

struct patch_site {
	uint64_t addr; /* 0: empty slot of the table */
	uint8_t state;
	uint8_t orig[JMP_LEN];
	uint16_t traps;
};

struct patch_region {
	uint64_t start, next;
};

struct patch_table {
	struct patch_site *sites; /* open addressing, cap a power of two */
	size_t n, cap;
	struct patch_region regions[MAX_REGIONS];
	unsigned nregions;
	bool off; /* the application set its own %gs */
};

static size_t hash(uint64_t a, size_t cap) { return (size_t)((a * 0x9e3779b97f4a7c15ULL) >> 20) & (cap - 1); }

static struct patch_site *lookup(struct patch_table *p, uint64_t addr)
{
	if (!p || !p->cap)
		return NULL;
	for (size_t i = hash(addr, p->cap);; i = (i + 1) & (p->cap - 1)) {
		if (p->sites[i].addr == addr)
			return &p->sites[i];
		if (!p->sites[i].addr)
			return NULL;
	}
}

static int grow(struct patch_table *p)
{
	size_t cap = p->cap ? p->cap * 2 : 256;
	struct patch_site *s = calloc(cap, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < p->cap; i++) {
		if (!p->sites[i].addr)
			continue;
		size_t j = hash(p->sites[i].addr, cap);
		while (s[j].addr)
			j = (j + 1) & (cap - 1);
		s[j] = p->sites[i];
	}
	free(p->sites);
	p->sites = s;
	p->cap = cap;
	return 0;
}

static struct patch_site *insert(struct patch_table *p, uint64_t addr)
{
	size_t i;

	if (p->n >= MAX_SITES)
		return NULL;
	if ((p->n + 1) * 2 > p->cap && grow(p) < 0)
		return NULL;
	for (i = hash(addr, p->cap); p->sites[i].addr; i = (i + 1) & (p->cap - 1))
		;
	p->sites[i] = (struct patch_site){.addr = addr, .state = SITE_COUNTING};
	p->n++;
	return &p->sites[i];
}

bool mm_patch_enabled(void) { return platform_info.patch_entry && platform->as_poke_text; }

int mm_patch_fork(struct mm *to, const struct mm *from)
{
	const struct patch_table *f = from->patch;
	struct patch_table *p;

	if (!f)
		return 0;
	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	*p = *f;
	p->sites = f->cap ? malloc(f->cap * sizeof(*p->sites)) : NULL;
	if (f->cap && !p->sites) {
		free(p);
		return -ENOMEM;
	}
	if (f->cap)
		memcpy(p->sites, f->sites, f->cap * sizeof(*p->sites));
	to->patch = p;
	return 0;
}

void mm_patch_free(struct mm *mm)
{
	if (!mm->patch)
		return;
	free(mm->patch->sites);
	free(mm->patch);
	mm->patch = NULL;
}

static bool reaches(uint64_t from, uint64_t to)
{
	return (from > to ? from - to : to - from) < REL32_REACH;
}

/* Whether the application left a region where we put it: not unmapped,
 * replaced or made writable (then it is not ours to write any more). */
static bool region_intact(struct mm *mm, struct patch_region *r)
{
	struct vma *v = vma_find(mm, r->start);

	if (v && v->kind == VMA_ANON && !(v->flags & VMA_SHARED) &&
	    v->end >= r->start + TRAMP_REGION &&
	    (v->prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) == (PROT_READ | PROT_EXEC))
		return true;
	r->next = r->start + TRAMP_REGION; /* full: never used again */
	return false;
}

/* A trampoline entry within reach of site, in an existing region or a new
 * one; 0 if there is no room. */
static uint64_t tramp_alloc(struct task *t, struct patch_table *p, uint64_t site)
{
	struct mm *mm = t->mm;
	uint64_t lo, hi, at, ptr = platform_info.patch_entry;
	struct patch_region *r;
	long e;

	for (unsigned i = 0; i < p->nregions; i++) {
		r = &p->regions[i];
		if (r->next + TRAMP_ENTRY <= r->start + TRAMP_REGION && reaches(site, r->start) &&
		    reaches(site, r->start + TRAMP_REGION) && region_intact(mm, r)) {
			at = r->next;
			r->next += TRAMP_ENTRY;
			return at;
		}
	}
	if (p->nregions == MAX_REGIONS)
		return 0;
	lo = site > REL32_REACH + LOW_LIMIT ? site - REL32_REACH + TRAMP_REGION : LOW_LIMIT;
	hi = site + REL32_REACH - TRAMP_REGION;
	if (hi > ABI_TASK_SIZE)
		hi = ABI_TASK_SIZE;
	lo = (lo + TRAMP_REGION - 1) & ~(TRAMP_REGION - 1);
	hi &= ~(TRAMP_REGION - 1);
	at = vma_find_gap(mm, TRAMP_REGION, lo, hi);
	if (!at)
		return 0;
	e = mm_map_fixed(mm, at, TRAMP_REGION, PROT_READ | PROT_EXEC, 0, VMA_ANON, -1, 0, NULL, 0,
			 0);
	if (e != (long)at) {
		log_debug("patch: map 0x%llx: %ld", (unsigned long long)at, e);
		return 0;
	}
	/* The region's first word: where every trampoline in it jumps. */
	e = platform->as_poke_text(t->ctx, at, &ptr, sizeof(ptr), PROT_READ | PROT_EXEC, false);
	r = &p->regions[p->nregions++];
	r->start = at;
	r->next = at + 2 * TRAMP_ENTRY;
	if (e < 0) {
		/* Kept (it is mapped and ours) but never used. */
		log_debug("patch: poke 0x%llx: %ld", (unsigned long long)at, e);
		r->next = at + TRAMP_REGION;
		return 0;
	}
	return at + TRAMP_ENTRY;
}

static void put32(uint8_t *b, uint64_t v) { memcpy(b, &(uint32_t){(uint32_t)v}, 4); }

/* The trampoline for a site: mov $nr,%eax; lea site+7(%rip),%rcx;
 * jmp *region(%rip). */
static void tramp_code(uint8_t c[24], uint64_t at, uint64_t region, uint64_t site, uint32_t nr)
{
	memset(c, 0xcc, 24);
	c[0] = 0xb8;
	put32(c + 1, nr);
	c[5] = 0x48;
	c[6] = 0x8d;
	c[7] = 0x0d;
	put32(c + 8, site + SITE_LEN - (at + 12));
	c[12] = 0xff;
	c[13] = 0x25;
	put32(c + 14, region - (at + 18));
}

static struct patch_region *region_of(struct patch_table *p, uint64_t at)
{
	for (unsigned i = 0; i < p->nregions; i++)
		if (at >= p->regions[i].start && at < p->regions[i].start + TRAMP_REGION)
			return &p->regions[i];
	return NULL;
}

static int patch_site(struct task *t, struct patch_table *p, struct patch_site *s,
		      uint32_t nr)
{
	struct mm *mm = t->mm;
	uint64_t site = s->addr, at;
	uint8_t code[SITE_LEN], tr[24], jmp[JMP_LEN];
	struct vma *v = vma_find(mm, site);
	struct patch_region *r;
	int prot;
	long e;

	if (!v || site + SITE_LEN > v->end || !(v->prot & PROT_EXEC) || (v->prot & PROT_WRITE) ||
	    (v->flags & VMA_SHARED) || (v->kind != VMA_FILE && v->kind != VMA_ANON))
		return -EPERM;
	prot = v->prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
	if (platform->as_read(mm->as, site, code, SITE_LEN) != SITE_LEN)
		return -EFAULT;
	if (code[0] != 0xb8 || memcmp(code + 1, &nr, 4) || code[5] != 0x0f || code[6] != 0x05)
		return -EINVAL;
	at = tramp_alloc(t, p, site);
	r = at ? region_of(p, at) : NULL;
	if (!r)
		return -ENOMEM;
	tramp_code(tr, at, r->start, site, nr);
	/* No thread runs a new entry before the site jumps to it, which the
	 * rewrite below makes every CPU see after this write. */
	e = platform->as_poke_text(t->ctx, at, tr, sizeof(tr), PROT_READ | PROT_EXEC, false);
	if (e < 0)
		return (int)e;
	jmp[0] = 0xe9;
	put32(jmp + 1, at - (site + JMP_LEN));
	memcpy(s->orig, code, JMP_LEN);
	e = platform->as_poke_text(t->ctx, site, jmp, JMP_LEN, prot, true);
	if (e < 0) {
		/* Put back what was there if the int3 went in. */
		platform->as_poke_text(t->ctx, site, code, JMP_LEN, prot, true);
		return (int)e;
	}
	s->state = SITE_PATCHED;
	return 0;
}

void mm_patch_syscall(struct task *t)
{
	struct mm *mm = t->mm;
	uint64_t site = t->ctx->regs.rip - SITE_LEN, nr = t->ctx->regs.orig_rax;
	struct patch_table *p;
	struct patch_site *s;

	if (!mm || nr > UINT32_MAX || site >= ABI_TASK_SIZE || site < LOW_LIMIT)
		return;
	pthread_mutex_lock(&mm->lock);
	p = mm->patch;
	if (!p) {
		p = mm->patch = calloc(1, sizeof(*p));
		if (!p)
			goto out;
	}
	if (p->off)
		goto out;
	s = lookup(p, site);
	if (!s && !(s = insert(p, site)))
		goto out;
	if (s->state == SITE_COUNTING && ++s->traps >= PATCH_AFTER) {
		int e = patch_site(t, p, s, (uint32_t)nr);
		if (e < 0)
			s->state = SITE_NO;
		log_debug("patch: site 0x%llx nr %llu: %d", (unsigned long long)site,
			  (unsigned long long)nr, e);
	}
out:
	pthread_mutex_unlock(&mm->lock);
}

bool mm_patch_fixup(struct task *t, const struct ctx_stop_info *info)
{
	struct mm *mm = t->mm;
	uint64_t site = t->ctx->regs.rip - 1;
	struct patch_site *s;
	uint8_t b = 0xcc;
	bool ours = false;

	if (!mm || !mm->patch || info->signo != SIGTRAP || info->code != SI_KERNEL)
		return false;
	/* A patch in progress holds the lock: this waits for it. */
	pthread_mutex_lock(&mm->lock);
	s = lookup(mm->patch, site);
	/* Every state but counting: an int3 of ours may have been there. */
	if (s && s->state != SITE_COUNTING &&
	    platform->as_read(mm->as, site, &b, 1) == 1 && b != 0xcc)
		ours = true;
	pthread_mutex_unlock(&mm->lock);
	if (ours) {
		log_debug("patch: thread %d met the int3 at 0x%llx", t->tid,
			  (unsigned long long)site);
		t->ctx->regs.rip = site;
	}
	return ours;
}

void mm_patch_unwind(struct task *t)
{
	struct mm *mm = t->mm;
	uint64_t rip = t->ctx->regs.rip, e;
	int32_t rel;

	if (!mm || !mm->patch)
		return;
	pthread_mutex_lock(&mm->lock);
	for (unsigned i = 0; i < mm->patch->nregions; i++) {
		struct patch_region *r = &mm->patch->regions[i];
		if (rip < r->start + TRAMP_ENTRY || rip >= r->next)
			continue;
		/* Before the jump out of the entry, rax and rcx hold what the
		 * site would put there before its syscall: the site again is
		 * the same state. */
		e = rip & ~(TRAMP_ENTRY - 1);
		if (rip - e < 18 &&
		    platform->as_read(mm->as, e + 8, &rel, sizeof(rel)) == sizeof(rel))
			t->ctx->regs.rip = e + 12 + (uint64_t)(int64_t)rel - SITE_LEN;
		break;
	}
	pthread_mutex_unlock(&mm->lock);
}

void mm_patch_disable(struct task *t)
{
	struct mm *mm = t->mm;
	struct patch_table *p;

	if (!mm)
		return;
	pthread_mutex_lock(&mm->lock);
	p = mm->patch;
	if (!p) {
		p = mm->patch = calloc(1, sizeof(*p));
		if (!p)
			goto out;
	}
	if (p->off)
		goto out;
	p->off = true;
	for (size_t i = 0; i < p->cap; i++) {
		struct patch_site *s = &p->sites[i];
		struct vma *v;
		uint8_t cur[JMP_LEN];

		if (!s->addr || s->state != SITE_PATCHED)
			continue;
		s->state = SITE_RESTORED;
		/* Only where our jump still is (the mapping may have changed). */
		v = vma_find(mm, s->addr);
		if (!v || s->addr + SITE_LEN > v->end ||
		    platform->as_read(mm->as, s->addr, cur, JMP_LEN) != JMP_LEN || cur[0] != 0xe9)
			continue;
		if (platform->as_poke_text(t->ctx, s->addr, s->orig, JMP_LEN,
					   v->prot & (PROT_READ | PROT_WRITE | PROT_EXEC), true) < 0)
			log_warn("patch: cannot restore the syscall site at 0x%llx",
				 (unsigned long long)s->addr);
	}
out:
	pthread_mutex_unlock(&mm->lock);
}
