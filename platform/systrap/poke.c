/* Rewriting application code under running threads, for syscall patching
 * (sentry/mm/patch.c). The bytes go in through process_vm_writev, which
 * needs the page writable: the stub makes it writable (and executable:
 * other threads may be running there) for the length of the write, then
 * gives it back its protection. On a private mapping the first write
 * gives the stub its own copy of the page; the file is never written.
 *
 * Several bytes cannot change at once for a CPU that is executing them,
 * so we follow Linux's text_poke_bp: the first byte becomes an int3, then
 * the rest change, then the first byte; after each step every thread of
 * the stub is made to serialise its instruction stream (membarrier
 * SYNC_CORE, from the stub's code: the filter allows just that). A thread
 * that meets the int3 meanwhile stops with SIGTRAP; the sentry sends it
 * back to the start of the site (patch.c), where it finds the old or the
 * new code. */
#include <errno.h>
#include <linux/membarrier.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "platform/systrap/systrap_impl.h"

#define PAGE 4096ULL

static long cmd(struct systrap_ctx *c, long nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	return systrap_run_cmd(c, CMD_SYSCALL, nr, a0, a1, a2, 0, 0, 0);
}

static int sync_cores(struct systrap_ctx *c)
{
	long r = cmd(c, __NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0);

	if (r == -EPERM) {
		/* Not registered yet in this process (each stub, each fork). */
		r = cmd(c, __NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
			0, 0);
		if (r == 0)
			r = cmd(c, __NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0);
	}
	return r < 0 ? (int)r : 0;
}

static int put(struct systrap_ctx *c, uint64_t addr, const uint8_t *b, size_t len)
{
	return platform->as_write(c->pub.as, addr, b, len) == (long)len ? 0 : -EFAULT;
}

long systrap_poke_text(struct platform_ctx *pc, uint64_t addr, const void *buf, size_t len,
		       int prot, bool live)
{
	struct systrap_ctx *c = (struct systrap_ctx *)pc;
	const uint8_t *b = buf, int3 = 0xcc;
	uint64_t lo = addr & ~(PAGE - 1), hi = (addr + len + PAGE - 1) & ~(PAGE - 1);
	long r, r2;

	if (c != systrap_current || !c->stopped || !c->slot || len == 0 ||
	    len > (live ? 8 : PAGE) || addr + len < addr || hi > STUB_BASE || hi - lo > PAGE)
		return -EINVAL;
	r = cmd(c, __NR_mprotect, lo, hi - lo, (uint64_t)(prot | PROT_WRITE | PROT_EXEC));
	if (r < 0)
		return r;
	if (!live) {
		r = put(c, addr, b, len);
		goto out;
	}
	if (len > 1) {
		r = put(c, addr, &int3, 1);
		if (r == 0)
			r = sync_cores(c);
		if (r == 0)
			r = put(c, addr + 1, b + 1, len - 1);
		if (r == 0)
			r = sync_cores(c);
	}
	if (r == 0)
		r = put(c, addr, b, 1);
	if (r == 0)
		r = sync_cores(c);
out:
	r2 = cmd(c, __NR_mprotect, lo, hi - lo, (uint64_t)prot);
	return r < 0 ? r : r2;
}
