/* /proc/sys: the sysctls programs read. Read-only: the sandbox's
 * kernel settings are fixed by its configuration. */
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sentry/fs/proc/proc_internal.h"
#include "sentry/fs/synth/host_info.h"
#include "sentry/kernel/kernel.h"

static int hostname_show(struct inode *in, struct synth_buf *b)
{
	char name[sizeof(kernel.cfg.hostname)];

	(void)in;
	pthread_mutex_lock(&kernel.lock);
	snprintf(name, sizeof(name), "%s", kernel.cfg.hostname);
	pthread_mutex_unlock(&kernel.lock);
	synth_printf(b, "%s\n", name);
	return 0;
}

static int boot_id_show(struct inode *in, struct synth_buf *b)
{
	(void)in;
	synth_printf(b, "%s\n", host_info()->boot_id);
	return 0;
}

static int uuid_show(struct inode *in, struct synth_buf *b)
{
	char u[37];

	(void)in;
	host_random_uuid(u);
	synth_printf(b, "%s\n", u);
	return 0;
}

/* A file whose text never changes: the entry's name says which. */
static int fixed_show(struct inode *in, struct synth_buf *b)
{
	static const struct {
		const char *name, *text;
	} fixed[] = {
		{"osrelease", PROC_OSRELEASE "\n"},
		{"ostype", "Linux\n"},
		{"version", PROC_OSVERSION "\n"},
		{"pid_max", "4194304\n"},
		{"cap_last_cap", "40\n"},
		{"ngroups_max", "65536\n"},
		{"overflowuid", "65534\n"},
		{"overflowgid", "65534\n"},
		{"entropy_avail", "256\n"},
		{"poolsize", "256\n"},
		{"overcommit_memory", "0\n"},
		{"max_map_count", "65530\n"},
		{"file-max", "9223372036854775807\n"},
		{"nr_open", "1048576\n"},
		{"pipe-max-size", "1048576\n"}, /* PIPE_MAX_SIZE, sentry/fs/pipe/pipe.h */
	};
	const char *name = synth_node(in)->e->name;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (!strcmp(fixed[i].name, name)) {
			synth_printf(b, "%s", fixed[i].text);
			return 0;
		}
	}
	return -EIO;
}

#define FIXED(n) {.name = n, .mode = S_IFREG | 0444, .show = fixed_show}

static const struct synth_entry random_children[] = {
	{.name = "boot_id", .mode = S_IFREG | 0444, .show = boot_id_show},
	FIXED("entropy_avail"),
	FIXED("poolsize"),
	{.name = "uuid", .mode = S_IFREG | 0444, .show = uuid_show},
	{0},
};

static const struct synth_entry kernel_children[] = {
	FIXED("cap_last_cap"),
	{.name = "hostname", .mode = S_IFREG | 0444, .show = hostname_show},
	FIXED("ngroups_max"),
	FIXED("osrelease"),
	FIXED("ostype"),
	FIXED("overflowgid"),
	FIXED("overflowuid"),
	FIXED("pid_max"),
	{.name = "random", .mode = S_IFDIR | 0555, .children = random_children},
	FIXED("version"),
	{0},
};

static const struct synth_entry vm_children[] = {
	FIXED("max_map_count"),
	FIXED("overcommit_memory"),
	{0},
};

static const struct synth_entry fs_children[] = {
	FIXED("file-max"),
	FIXED("nr_open"),
	FIXED("pipe-max-size"),
	{0},
};

const struct synth_entry proc_sys_children[] = {
	{.name = "fs", .mode = S_IFDIR | 0555, .children = fs_children},
	{.name = "kernel", .mode = S_IFDIR | 0555, .children = kernel_children},
	{.name = "vm", .mode = S_IFDIR | 0555, .children = vm_children},
	{0},
};
