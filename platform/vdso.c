/* Locates the host vDSO and its data pages in our own address space. A
 * stub is forked from us, so it has them at the same address; we keep
 * them in every stub so clock_gettime and friends never trap. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

#include "platform/stub.h"

int vdso_discover(uint64_t *start, uint64_t *end, uint64_t *text_start,
		  uint64_t *ehdr)
{
	char line[512];
	FILE *f;
	uint64_t lo = 0, hi = 0, text = 0;
	uint64_t e = getauxval(AT_SYSINFO_EHDR);

	if (!e)
		return -ENOENT;
	f = fopen("/proc/self/maps", "re");
	if (!f)
		return -errno;
	/* The [vvar*] and [vdso] mappings are adjacent; take the run of
	 * special mappings that contains the ELF header. */
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		char name[64] = "";
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %63s", &a, &b, name) < 2)
			continue;
		bool special = !strncmp(name, "[vvar", 5) || !strcmp(name, "[vdso]");
		if (!special) {
			if (hi && lo <= e && e < hi)
				break;
			lo = hi = 0;
			continue;
		}
		if (hi != a)
			lo = a;
		hi = b;
		if (!strcmp(name, "[vdso]"))
			text = a;
	}
	fclose(f);
	if (!(lo <= e && e < hi) || !text)
		return -ENOENT;
	*start = lo;
	*end = hi;
	*text_start = text;
	*ehdr = e;
	return 0;
}
