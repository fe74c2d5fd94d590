/* sysfs: /sys/devices/system/cpu ({online,possible,present} as "0-N"
 * lists and a cpuN directory per CPU, which glibc counts for
 * get_nprocs_conf) and /sys/kernel/mm/transparent_hugepage, which
 * allocators read. Everything else is empty directories. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sentry/fs/synth/host_info.h"
#include "sentry/fs/synth/synth.h"
#include "sentry/fs/sys/sysfs.h"

static int cpu_list_show(struct inode *in, struct synth_buf *b)
{
	(void)in;
	host_cpu_list(b);
	return 0;
}

static int thp_enabled_show(struct inode *in, struct synth_buf *b)
{
	(void)in;
	synth_printf(b, "always [madvise] never\n");
	return 0;
}

static int thp_defrag_show(struct inode *in, struct synth_buf *b)
{
	(void)in;
	synth_printf(b, "always defer defer+madvise [madvise] never\n");
	return 0;
}

static int thp_pmd_size_show(struct inode *in, struct synth_buf *b)
{
	(void)in;
	synth_printf(b, "2097152\n");
	return 0;
}

static const struct synth_entry cpu_n_entry = {.name = "cpu", .mode = S_IFDIR | 0755};

static bool cpu_online(int i)
{
	const struct host_info *h = host_info();
	return i >= 0 && i < HOST_MAX_CPUS && ((h->cpu_online[i / 8] >> (i % 8)) & 1);
}

static int cpus_next(struct inode *dir, uint64_t *key, char *name, size_t cap, unsigned *type)
{
	(void)dir;
	for (uint64_t i = *key; i < HOST_MAX_CPUS; i++) {
		if (cpu_online((int)i)) {
			*key = i;
			snprintf(name, cap, "cpu%d", (int)i);
			*type = DT_DIR;
			return 1;
		}
	}
	return 0;
}

static int cpus_lookup(struct inode *dir, const char *name, struct inode **out)
{
	int64_t n;

	if (strncmp(name, "cpu", 3))
		return -ENOENT;
	n = synth_parse_num(name + 3, HOST_MAX_CPUS);
	if (!cpu_online((int)n))
		return -ENOENT;
	*out = synth_new_child(dir, name, &cpu_n_entry, NULL);
	return *out ? 0 : -ENOMEM;
}

static const struct synth_dyn cpus_dyn = {.next = cpus_next, .lookup = cpus_lookup};

#define REG(n, fn) {.name = n, .mode = S_IFREG | 0444, .show = fn}
#define DIR(n, c) {.name = n, .mode = S_IFDIR | 0755, .children = c}

static const struct synth_entry cpu_children[] = {
	REG("online", cpu_list_show),
	REG("possible", cpu_list_show),
	REG("present", cpu_list_show),
	{0},
};

static const struct synth_entry system_children[] = {
	{.name = "cpu", .mode = S_IFDIR | 0755, .children = cpu_children, .dyn = &cpus_dyn},
	{0},
};

static const struct synth_entry devices_children[] = {
	DIR("system", system_children),
	{0},
};

static const struct synth_entry thp_children[] = {
	REG("defrag", thp_defrag_show),
	REG("enabled", thp_enabled_show),
	REG("hpage_pmd_size", thp_pmd_size_show),
	{0},
};

static const struct synth_entry mm_children[] = {
	DIR("transparent_hugepage", thp_children),
	{0},
};

static const struct synth_entry kernel_children[] = {
	DIR("mm", mm_children),
	{0},
};

static const struct synth_entry empty[] = {{0}};

static const struct synth_entry root_children[] = {
	DIR("block", empty),
	DIR("bus", empty),
	DIR("class", empty),
	DIR("dev", empty),
	DIR("devices", devices_children),
	DIR("firmware", empty),
	DIR("fs", empty),
	DIR("kernel", kernel_children),
	DIR("module", empty),
	{0},
};

static const struct synth_entry root_entry = {
	.name = "/", .mode = S_IFDIR | 0555, .children = root_children, .strict_write = true};

struct superblock *sysfs_new(struct inode **root)
{
	host_info();
	/* Fixed names: the dentry cache may keep them. */
	return synth_sb_new("sysfs", SYSFS_MAGIC, 0, &root_entry, root);
}
