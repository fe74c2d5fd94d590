/* The synthetic filesystems (sentry/fs/synth, proc, dev, sys): the text
 * buffer, name parsing, and procfs/devfs/sysfs files read through their
 * inode and file operations, with a fake process in the kernel's table. */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "sentry/fs/dev/devfs.h"
#include "sentry/fs/proc/procfs.h"
#include "sentry/fs/synth/host_info.h"
#include "sentry/fs/synth/synth.h"
#include "sentry/fs/sys/sysfs.h"
#include "sentry/fs/tmpfs/tmpfs.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"

#define PID 7

static struct thread_group *tg;
static struct task *task;

static void fake_process(void)
{
	struct vma v = {.start = 0x400000, .end = 0x402000, .prot = PROT_READ | PROT_EXEC,
			.kind = VMA_FILE, .name = "/bin/prog", .dev = 0x801, .ino = 42};

	tg = calloc(1, sizeof(*tg));
	task = calloc(1, sizeof(*task));
	cr_assert(tg && task);
	pthread_mutex_init(&tg->lock, NULL);
	atomic_init(&tg->refs, 1);
	tg->pid = PID;
	tg->ppid = 0;
	creds_init_root(&tg->creds);
	for (int i = 0; i < RLIM_NLIMITS; i++)
		tg->rlimits[i].cur = tg->rlimits[i].max = K_RLIM_INFINITY;
	tg->rlimits[RLIMIT_NOFILE].cur = 1024;
	tg->nr_tasks = 1;
	tg->tasks = task;
	task->tid = PID;
	task->tg = tg;
	strcpy(task->comm, "prog");
	task->mm = mm_new(NULL);
	cr_assert_not_null(task->mm);
	task->mm->exe_path = strdup("/bin/prog");
	cr_assert_eq(vma_insert(task->mm, &v), 0);
	v = (struct vma){.start = 0x7ff000, .end = 0x800000, .prot = PROT_READ | PROT_WRITE,
			 .kind = VMA_STACK};
	cr_assert_eq(vma_insert(task->mm, &v), 0);
	task->fdt = fdtable_new();
	cr_assert_not_null(task->fdt);
	cr_assert_eq(kernel_add_group(tg), 0);
	current = task;
}

static void end_process(void)
{
	current = NULL;
	kernel_remove_group(tg);
	fdtable_put(task->fdt);
	mm_put(task->mm);
	free(task);
	thread_group_put(tg);
}

TestSuite(synthfs, .init = fake_process, .fini = end_process);

/* Looks a slash-separated relative path up from dir, referenced. */
static int walk(struct inode *dir, const char *path, struct inode **out)
{
	char *copy = strdup(path), *save = NULL;
	struct inode *cur = dir;
	int r = 0;

	inode_get(cur);
	for (char *n = strtok_r(copy, "/", &save); n; n = strtok_r(NULL, "/", &save)) {
		struct inode *next;
		r = cur->ops->lookup ? cur->ops->lookup(cur, n, &next) : -ENOTDIR;
		inode_put(cur);
		if (r < 0) {
			cur = NULL;
			break;
		}
		cur = next;
	}
	free(copy);
	if (r == 0)
		*out = cur;
	return r;
}

/* The whole text of a file under root, NUL-terminated, malloc'd. */
static char *read_all(struct inode *root, const char *path, ssize_t *len)
{
	struct inode *in;
	struct file *f;
	char *buf = calloc(1, 1 << 16);
	int64_t pos = 0;
	ssize_t n, got = 0;

	cr_assert_eq(walk(root, path, &in), 0, "lookup %s", path);
	f = file_new(NULL, O_RDONLY, NULL);
	f->inode = in;
	cr_assert_eq(in->ops->open(in, f), 0);
	/* Small reads: the text must come out whole across them. */
	while ((n = f->ops->read(f, buf + got, 7, &pos)) > 0)
		got += n;
	cr_assert_geq(n, 0);
	file_put(f);
	if (len)
		*len = got;
	return buf;
}

UTest(synthfs, buffer)
{
	struct synth_buf b = {0};

	synth_printf(&b, "%d-%s", 42, "x");
	synth_write_escaped(&b, " a\tb\\\n");
	cr_assert_str_eq(b.data, "42-x\\040a\\011b\\134\\012");
	synth_write(&b, "y", (size_t)1 << 40);
	cr_assert_eq(b.err, -EFBIG);
	synth_printf(&b, "more");
	cr_assert_str_eq(b.data, "42-x\\040a\\011b\\134\\012", "errors stick");
	synth_buf_free(&b);
}

UTest(synthfs, parse_num)
{
	cr_assert_eq(synth_parse_num("0", 10), 0);
	cr_assert_eq(synth_parse_num("123", 1000), 123);
	cr_assert_eq(synth_parse_num("007", 1000), -1);
	cr_assert_eq(synth_parse_num("", 1000), -1);
	cr_assert_eq(synth_parse_num("12a", 1000), -1);
	cr_assert_eq(synth_parse_num("1000", 1000), -1);
	cr_assert_eq(synth_parse_num("99999999999999999999999", INT64_MAX), -1);
}

UTest(synthfs, proc_status_stat_statm)
{
	struct inode *root;
	struct superblock *sb = procfs_new(&root);
	char *s;
	int fields = 0;

	cr_assert_not_null(sb);
	s = read_all(root, "7/status", NULL);
	cr_assert(!strncmp(s, "Name:\tprog\nUmask:\t0022\nState:\tR (running)\nTgid:\t7\n"
			      "Ngid:\t0\nPid:\t7\nPPid:\t0\n", 66), "%s", s);
	cr_assert_not_null(strstr(s, "\nThreads:\t1\n"));
	cr_assert_not_null(strstr(s, "\nVmSize:\t      12 kB\n"), "%s", s);
	cr_assert_not_null(strstr(s, "\nVmExe:\t       8 kB\n"), "%s", s);
	cr_assert_not_null(strstr(s, "\nGroups:\t \n"));
	free(s);

	s = read_all(root, "7/stat", NULL);
	cr_assert(!strncmp(s, "7 (prog) R 0 1 1 0 -1 ", 22), "%s", s);
	for (char *p = s; *p; p++)
		fields += *p == ' ';
	cr_assert_eq(fields + 1, 52, "%s", s);
	cr_assert_eq(s[strlen(s) - 1], '\n');
	free(s);

	s = read_all(root, "7/task/7/statm", NULL);
	cr_assert_str_eq(s, "3 3 2 2 0 1 0\n");
	free(s);
	inode_put(root);
	sb_put(sb);
}

UTest(synthfs, proc_maps_limits_comm)
{
	struct inode *root;
	struct superblock *sb = procfs_new(&root);
	char *s;

	s = read_all(root, "7/maps", NULL);
	cr_assert(!strncmp(s, "00400000-00402000 r-xp 00000000 08:01 42", 40), "%s", s);
	cr_assert_not_null(strstr(s, "/bin/prog\n"));
	cr_assert_eq(strstr(s, "/bin/prog") - s, 73, "the name column");
	cr_assert_not_null(strstr(s, "[stack]\n"));
	free(s);

	s = read_all(root, "7/limits", NULL);
	cr_assert(!strncmp(s, "Limit                     Soft Limit           Hard Limit           "
			      "Units     \nMax cpu time              unlimited            unlimited"
			      "            seconds   \n", 158), "%s", s);
	cr_assert_not_null(strstr(s, "\nMax open files            1024                 unlimited"
				     "            files     \n"));
	cr_assert_not_null(strstr(s, "\nMax nice priority         unlimited            unlimited"
				     "            \n"));
	free(s);

	s = read_all(root, "7/task/7/comm", NULL);
	cr_assert_str_eq(s, "prog\n");
	free(s);
	inode_put(root);
	sb_put(sb);
}

UTest(synthfs, proc_names)
{
	struct inode *root, *in;
	struct superblock *sb = procfs_new(&root);
	char buf[64];
	ssize_t n;

	cr_assert_eq(walk(root, "8", &in), -ENOENT);
	cr_assert_eq(walk(root, "07", &in), -ENOENT);
	cr_assert_eq(walk(root, "7/task/8", &in), -ENOENT);
	cr_assert_eq(walk(root, "7/fd/0", &in), -ENOENT);
	cr_assert_eq(walk(root, "7/nonesuch", &in), -ENOENT);
	cr_assert_eq(walk(root, "self", &in), 0);
	n = in->ops->readlink(in, buf, sizeof(buf));
	cr_assert_eq(n, 1);
	cr_assert_eq(buf[0], '7');
	inode_put(in);
	cr_assert_eq(walk(root, "thread-self", &in), 0);
	n = in->ops->readlink(in, buf, 3);
	cr_assert_eq(n, 3, "readlink truncates");
	inode_put(in);
	cr_assert_eq(walk(root, "7/exe", &in), 0);
	n = in->ops->readlink(in, buf, sizeof(buf));
	cr_assert_eq(n, 9);
	cr_assert(!memcmp(buf, "/bin/prog", 9));
	inode_put(in);
	/* Inode numbers are stable across lookups. */
	{
		struct inode *a, *b;
		cr_assert_eq(walk(root, "7/status", &a), 0);
		cr_assert_eq(walk(root, "7/status", &b), 0);
		cr_assert_eq(a->ino, b->ino);
		inode_put(a);
		inode_put(b);
	}
	inode_put(root);
	sb_put(sb);
}

struct listing {
	char names[64][32];
	int n;
};

static int collect(void *ctx, const char *name, size_t len, uint64_t ino, unsigned type,
		   int64_t next)
{
	struct listing *l = ctx;
	(void)ino, (void)type, (void)next;
	if (l->n == 64 || len >= 32)
		return 1;
	memcpy(l->names[l->n], name, len);
	l->names[l->n++][len] = 0;
	return 0;
}

static bool listed(const struct listing *l, const char *name)
{
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->names[i], name))
			return true;
	return false;
}

UTest(synthfs, proc_readdir)
{
	struct inode *root;
	struct superblock *sb = procfs_new(&root);
	struct listing l = {0};
	struct file *f = file_new(NULL, O_RDONLY | O_DIRECTORY, NULL);
	int64_t pos = 0;

	f->inode = root;
	inode_get(root);
	cr_assert_eq(root->ops->open(root, f), 0);
	cr_assert_eq(f->ops->iterate(f, &pos, collect, &l), 0);
	cr_assert(listed(&l, ".") && listed(&l, "..") && listed(&l, "self") &&
		  listed(&l, "cpuinfo") && listed(&l, "sys") && listed(&l, "7"));
	/* Resuming at the end lists nothing more. */
	l.n = 0;
	cr_assert_eq(f->ops->iterate(f, &pos, collect, &l), 0);
	cr_assert_eq(l.n, 0);
	/* A position far past the end is harmless. */
	pos = INT64_MAX - 1;
	cr_assert_eq(f->ops->iterate(f, &pos, collect, &l), 0);
	cr_assert_eq(l.n, 0);
	file_put(f);
	inode_put(root);
	sb_put(sb);
}

UTest(synthfs, proc_reads_at_odd_offsets)
{
	struct inode *root, *in;
	struct superblock *sb = procfs_new(&root);
	struct file *f = file_new(NULL, O_RDONLY, NULL);
	char buf[16];
	int64_t pos = INT64_MAX;

	cr_assert_eq(walk(root, "version", &in), 0);
	f->inode = in;
	cr_assert_eq(in->ops->open(in, f), 0);
	cr_assert_eq(f->ops->read(f, buf, sizeof(buf), &pos), 0);
	pos = -1;
	cr_assert_eq(f->ops->read(f, buf, sizeof(buf), &pos), -EINVAL);
	cr_assert_eq(f->ops->llseek(f, -1, SEEK_SET), -EINVAL);
	cr_assert_eq(f->ops->llseek(f, 0, SEEK_END), -EINVAL);
	f->pos = INT64_MAX;
	cr_assert_eq(f->ops->llseek(f, 1, SEEK_CUR), -EINVAL);
	cr_assert_eq(f->ops->write(f, "x", 1, &pos), -EINVAL);
	/* cmdline without memory reads empty. */
	file_put(f);
	free(read_all(root, "7/cmdline", NULL));
	inode_put(root);
	sb_put(sb);
}

UTest(synthfs, proc_sys)
{
	struct inode *root;
	struct superblock *sb = procfs_new(&root);
	char *a = read_all(root, "sys/kernel/random/boot_id", NULL);
	char *b = read_all(root, "sys/kernel/random/boot_id", NULL);
	char *u = read_all(root, "sys/kernel/random/uuid", NULL);
	char *v = read_all(root, "sys/kernel/random/uuid", NULL);

	cr_assert_str_eq(a, b);
	cr_assert_str_neq(u, v);
	cr_assert_eq(strlen(u), 37);
	cr_assert_eq(u[14], '4');
	free(a), free(b), free(u), free(v);
	a = read_all(root, "sys/kernel/osrelease", NULL);
	cr_assert_str_eq(a, "6.1.0\n");
	free(a);
	inode_put(root);
	sb_put(sb);
}

UTest(synthfs, sysfs_cpus)
{
	struct inode *root;
	struct superblock *sb = sysfs_new(&root);
	struct synth_buf want = {0};
	char *s = read_all(root, "devices/system/cpu/online", NULL);

	host_cpu_list(&want);
	cr_assert_str_eq(s, want.data);
	free(s);
	synth_buf_free(&want);
	inode_put(root);
	sb_put(sb);
}

static struct file *open_dev(struct inode *dir, const char *name)
{
	struct inode *in;
	struct file *f = file_new(NULL, O_RDWR, NULL);

	cr_assert_eq(dir->ops->lookup(dir, name, &in), 0);
	f->inode = in;
	cr_assert_eq(in->ops->open(in, f), 0);
	return f;
}

UTest(synthfs, devfs)
{
	struct creds c;
	struct inode *rin;
	struct superblock *sb;
	struct dentry *d;
	struct file *f;
	char buf[64], buf2[64];
	int64_t pos = 0;

	creds_init_root(&c);
	sb = tmpfs_new(0, 0755, &c, &rin);
	d = dentry_new_root(rin);
	cr_assert_eq(devfs_populate(d, &c), 0);

	f = open_dev(rin, "null");
	cr_assert_eq(f->ops->read(f, buf, sizeof(buf), &pos), 0);
	cr_assert_eq(f->ops->write(f, buf, sizeof(buf), &pos), (ssize_t)sizeof(buf));
	file_put(f);

	f = open_dev(rin, "zero");
	memset(buf, 1, sizeof(buf));
	cr_assert_eq(f->ops->read(f, buf, sizeof(buf), &pos), (ssize_t)sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		cr_assert_eq(buf[i], 0);
	cr_assert_geq(f->ops->mmap_fd(f), 0);
	file_put(f);

	f = open_dev(rin, "full");
	cr_assert_eq(f->ops->write(f, buf, 1, &pos), -ENOSPC);
	file_put(f);

	f = open_dev(rin, "urandom");
	cr_assert_eq(f->ops->read(f, buf, sizeof(buf), &pos), (ssize_t)sizeof(buf));
	cr_assert_eq(f->ops->read(f, buf2, sizeof(buf2), &pos), (ssize_t)sizeof(buf2));
	cr_assert(memcmp(buf, buf2, sizeof(buf)));
	file_put(f);

	{
		struct inode *in;
		cr_assert_eq(rin->ops->lookup(rin, "stdin", &in), 0);
		cr_assert_eq(in->ops->readlink(in, buf, sizeof(buf)), 15);
		cr_assert(!memcmp(buf, "/proc/self/fd/0", 15));
		inode_put(in);
		cr_assert_eq(rin->ops->lookup(rin, "shm", &in), 0);
		cr_assert_eq(in->mode, S_IFDIR | 01777);
		inode_put(in);
		/* No console: /dev/tty has no terminal to open. */
		devfs_set_console(-1);
		cr_assert_eq(rin->ops->lookup(rin, "tty", &in), 0);
		f = file_new(NULL, O_RDWR, NULL);
		f->inode = in;
		cr_assert_eq(in->ops->open(in, f), -ENXIO);
		f->ops = NULL;
		file_put(f);
	}
	/* Cached children hold their parent: drop them so the tree goes. */
	for (const char **n = (const char *[]){"null", "zero", "full", "random", "urandom", "tty",
					       "fd", "stdin", "stdout", "stderr", "shm", "pts",
					       NULL};
	     *n; n++)
		dcache_remove(d, *n);
	dentry_put(d);
	sb_put(sb);
}
