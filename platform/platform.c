#include "platform/platform.h"

#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "platform/stub.h"

extern const struct platform_ops ptrace_platform_ops;
extern const struct platform_ops systrap_platform_ops;

static const struct platform_ops *const all[] = {&ptrace_platform_ops,
						 &systrap_platform_ops};

const struct platform_ops *platform;
struct platform_info platform_info;
bool platform_syscall_patching = PLATFORM_PATCHING_DEFAULT;

static const struct platform_ops *find(const char *name)
{
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}

bool platform_exists(const char *name) { return find(name) != NULL; }

const char *platform_names(void)
{
	static char names[128];
	size_t n = 0;

	if (names[0])
		return names;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", i ? ", " : "",
				      all[i]->name);
	return names;
}

int platform_init(const char *name)
{
	int ret;

	platform = find(name);
	if (!platform) {
		log_err("unknown platform '%s' (have: %s)", name, platform_names());
		return -EINVAL;
	}
	ret = vdso_discover(&platform_info.vdso_start, &platform_info.vdso_end,
			    &platform_info.vdso_text_start, &platform_info.vdso_ehdr);
	if (ret < 0) {
		log_err("cannot find the host vDSO");
		return ret;
	}
	if (platform_info.vdso_start < STUB_BASE + STUB_REGION_SIZE) {
		log_err("host vDSO at 0x%llx is below the stub region",
			(unsigned long long)platform_info.vdso_start);
		return -ENOMEM;
	}
	/* XSAVE area size for the features enabled in XCR0 (CPUID 0xD/0,
	 * EBX): the FPU state in a signal frame. */
	{
		unsigned a, b, c, d;
		__cpuid_count(0xd, 0, a, b, c, d);
		(void)a;
		(void)c;
		(void)d;
		platform_info.fpstate_size = b ? b : 512;
	}
	return platform->init();
}
