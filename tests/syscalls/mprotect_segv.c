/* A write to a page made read-only must kill the process with SIGSEGV
 * (no handler is installed): the harness expects status 128 + 11. */
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

int main(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	volatile char *p = mmap(NULL, (size_t)ps, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		FAIL("mmap: %s", check_errname(errno));
		return 1;
	}
	p[0] = 'a';
	CHECK_EQ(mprotect((void *)p, (size_t)ps, PROT_READ), 0);
	CHECK_EQ(p[0], 'a');
	if (check_failures)
		return check_exit();
	p[1] = 'b'; /* must not return */
	FAIL("write to a read-only page succeeded");
	return 1;
}
