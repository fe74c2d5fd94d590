/* Puts the stub blob at STUB_BASE in the sentry before the factory is
 * forked, so every stub inherits it at the same address. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/log.h"
#include "platform/platform.h"
#include "platform/stub.h"

int stub_image_install(const char *blob_start, const char *blob_end)
{
	size_t blob = (size_t)(blob_end - blob_start);
	struct stub_params *p;
	void *m;

	if (blob > STUB_CODE_SIZE) {
		log_err("stub code is %zu bytes, more than its page", blob);
		return -E2BIG;
	}
	m = mmap((void *)STUB_BASE, STUB_REGION_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (m == MAP_FAILED) {
		int err = errno;
		log_err("cannot map the stub at 0x%llx: %s",
			(unsigned long long)STUB_BASE, strerror(err));
		return -err;
	}
	if (m != (void *)STUB_BASE) { /* kernels before 4.17 ignore NOREPLACE */
		munmap(m, STUB_REGION_SIZE);
		return -EEXIST;
	}
	memcpy(m, blob_start, blob);
	if (mprotect(m, STUB_CODE_SIZE, PROT_READ | PROT_EXEC) < 0)
		return -errno;

	/* A stub keeps only the stub region and the vDSO: everything else a
	 * forked copy of the sentry holds is unmapped by stub_entry. */
	p = (struct stub_params *)STUB_DATA;
	p->n_unmap = 3;
	p->unmap[0].addr = 0;
	p->unmap[0].len = STUB_BASE;
	p->unmap[1].addr = STUB_BASE + STUB_REGION_SIZE;
	p->unmap[1].len = platform_info.vdso_start - p->unmap[1].addr;
	p->unmap[2].addr = platform_info.vdso_end;
	p->unmap[2].len = HOST_TASK_SIZE - platform_info.vdso_end;
	return 0;
}
