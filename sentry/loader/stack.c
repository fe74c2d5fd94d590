/* The initial stack, laid out as Linux lays it out for x86-64: from the
 * top, a NULL word, the exec file name, the environment and argument
 * strings, a random gap, the platform string and AT_RANDOM bytes, then
 * (16-byte aligned) argc, argv[], envp[] and the auxiliary vector. */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "lib/util.h"
#include "lib/wire.h"
#include "sentry/kernel/kernel.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/mm.h"

#define MAX_ARG_STRLEN (32 * PAGE_SIZE)
#define KERNEL_ARG_MAX 131072UL
#define STK_LIM (8UL << 20)
#define STACK_MAP_MIN (128UL << 10)
#define STACK_MAP_MAX (1UL << 30)
static const char platform_str[] = "x86_64";

/* The argument-size limit execve applies (fs/exec.c). */
static int check_args(const struct stack_args *a, size_t argc, size_t envc,
		      size_t *strbytes)
{
	uint64_t limit = STK_LIM / 4 * 3, ptrs, total = 0;

	if (a->stack_limit / 4 < limit)
		limit = a->stack_limit / 4;
	if (limit < KERNEL_ARG_MAX)
		limit = KERNEL_ARG_MAX;
	ptrs = ((argc ? argc : 1) + envc) * sizeof(void *);
	if (limit <= ptrs)
		return -E2BIG;
	limit -= ptrs;
	for (size_t i = 0; i < argc + envc; i++) {
		const char *s = i < argc ? a->argv[i] : a->envp[i - argc];
		size_t n = strlen(s) + 1;
		if (n > MAX_ARG_STRLEN)
			return -E2BIG;
		total += n;
		if (total > limit)
			return -E2BIG;
	}
	*strbytes = total;
	return 0;
}

long stack_setup(struct mm *mm, const struct stack_args *a)
{
	size_t argc = strv_len(a->argv), envc = strv_len(a->envp), strbytes = 0;
	size_t fnlen = strlen(a->execfn) + 1, nwords;
	uint64_t top = mm->stack_top, map_size, p, sp, random_at, platform_at, fn_at;
	uint64_t *w;
	uint8_t rnd[16];
	char *buf = NULL;
	long r;

	r = check_args(a, argc, envc, &strbytes);
	if (r < 0)
		return r;
	if (fnlen > MAX_ARG_STRLEN)
		return -E2BIG;
	map_size = PAGE_ALIGN_UP(a->stack_limit);
	if (map_size < STACK_MAP_MIN)
		map_size = STACK_MAP_MIN;
	if (map_size > STACK_MAP_MAX)
		map_size = STACK_MAP_MAX;
	r = mm_map_fixed(mm, top - map_size, map_size,
			 PROT_READ | PROT_WRITE | (a->exec_stack ? PROT_EXEC : 0),
			 VMA_GROWSDOWN | VMA_NORESERVE, VMA_STACK, -1, 0, NULL, 0, 0);
	if (r < 0)
		return r;

	p = top - sizeof(uint64_t);
	fn_at = p -= fnlen;
	p -= strbytes;
	mm->arg_start = p;
	p -= kernel_random_u64() % 8192;
	p &= ~15ULL;
	platform_at = p -= sizeof(platform_str);
	random_at = p -= sizeof(rnd);
	p &= ~15ULL;
	nwords = 1 + (argc + 1) + (envc + 1) + a->auxv_words;
	sp = (p - nwords * 8) & ~15ULL;
	if (top - sp > map_size)
		return -E2BIG;

	buf = calloc(1, top - sp);
	if (!buf)
		return -ENOMEM;
#define AT(addr) (buf + ((addr) - sp))
	w = (uint64_t *)AT(sp);
	*w++ = argc;
	{
		uint64_t s = mm->arg_start;
		for (size_t i = 0; i < argc + envc; i++) {
			const char *str = i < argc ? a->argv[i] : a->envp[i - argc];
			size_t n = strlen(str) + 1;
			if (i == argc) {
				*w++ = 0; /* end of argv */
				mm->arg_end = s;
				mm->env_start = s;
			}
			memcpy(AT(s), str, n);
			*w++ = s;
			s += n;
		}
		if (envc == 0) {
			*w++ = 0;
			mm->arg_end = mm->env_start = s;
		}
		*w++ = 0; /* end of envp */
		mm->env_end = s;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		uint64_t x = kernel_random_u64(), y = kernel_random_u64();
		memcpy(rnd, &x, 8);
		memcpy(rnd + 8, &y, 8);
	}
	memcpy(AT(random_at), rnd, sizeof(rnd));
	memcpy(AT(platform_at), platform_str, sizeof(platform_str));
	memcpy(AT(fn_at), a->execfn, fnlen);
	mm->auxv_len = 0;
	for (size_t i = 0; i + 1 < a->auxv_words; i += 2) {
		uint64_t type = a->auxv[i], val = a->auxv[i + 1];
		if (type == AT_RANDOM)
			val = random_at;
		else if (type == AT_EXECFN)
			val = fn_at;
		else if (type == AT_PLATFORM)
			val = platform_at;
		*w++ = type;
		*w++ = val;
		if (mm->auxv_len + 2 <= sizeof(mm->auxv) / sizeof(mm->auxv[0])) {
			mm->auxv[mm->auxv_len++] = type;
			mm->auxv[mm->auxv_len++] = val;
		}
	}
#undef AT
	r = platform->as_write(mm->as, sp, buf, top - sp) == (long)(top - sp) ? (long)sp : -EFAULT;
	free(buf);
	return r;
}
