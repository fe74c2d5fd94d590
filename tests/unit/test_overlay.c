/* The overlay filesystem over two tmpfs layers: lookups through both,
 * copy-up on write leaving the lower layer untouched, whiteouts, opaque
 * directories, merged readdir, and the rename rules. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sentry/fs/overlay/overlay.h"
#include "sentry/fs/tmpfs/tmpfs.h"
#include "sentry/kernel/creds.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"
#include "tests/unit/unit.h"

struct fixture {
	struct superblock *lsb, *usb, *osb;
	struct inode *lroot, *uroot, *root;
	struct creds c;
};

static struct inode *mk(struct inode *dir, const char *name, uint32_t mode, struct creds *c)
{
	struct inode *in = NULL;
	int r = S_ISDIR(mode) ? dir->ops->mkdir(dir, name, mode & 07777, c, &in)
			      : dir->ops->create(dir, name, mode & 07777, c, &in);
	cr_assert_eq(r, 0, "create %s: %d", name, r);
	return in;
}

static void write_all(struct inode *in, const char *data)
{
	struct file *f = file_new(NULL, O_WRONLY, NULL);
	int64_t pos = 0;
	inode_get(in);
	f->inode = in;
	cr_assert_eq(in->ops->open(in, f), 0);
	cr_assert_eq(f->ops->write(f, data, strlen(data), &pos), (ssize_t)strlen(data));
	file_put(f);
}

static char *read_all(struct inode *in, int flags)
{
	static char buf[256];
	struct file *f = file_new(NULL, flags, NULL);
	int64_t pos = 0;
	ssize_t n;
	inode_get(in);
	f->inode = in;
	cr_assert_eq(in->ops->open(in, f), 0);
	n = f->ops->read(f, buf, sizeof(buf) - 1, &pos);
	cr_assert_geq(n, 0);
	buf[n] = 0;
	file_put(f);
	return buf;
}

static struct inode *lookup(struct inode *dir, const char *name)
{
	struct inode *in = NULL;
	int r = dir->ops->lookup(dir, name, &in);
	return r == 0 ? in : NULL;
}

/* lower: /a (file "lower-a"), /d/x (file), /d/y (file), /e/ (dir) */
static void setup(struct fixture *fx)
{
	struct inode *a, *d, *x, *y, *e;

	creds_init_root(&fx->c);
	fx->lsb = tmpfs_new(0, 0755, &fx->c, &fx->lroot);
	fx->usb = tmpfs_new(0, 0755, &fx->c, &fx->uroot);
	a = mk(fx->lroot, "a", S_IFREG | 0644, &fx->c);
	write_all(a, "lower-a");
	d = mk(fx->lroot, "d", S_IFDIR | 0755, &fx->c);
	x = mk(d, "x", S_IFREG | 0644, &fx->c);
	y = mk(d, "y", S_IFREG | 0644, &fx->c);
	e = mk(fx->lroot, "e", S_IFDIR | 0700, &fx->c);
	inode_put(a);
	inode_put(d);
	inode_put(x);
	inode_put(y);
	inode_put(e);
	fx->osb = overlay_new(fx->lroot, fx->uroot, &fx->root);
	cr_assert_not_null(fx->osb);
}

static void teardown(struct fixture *fx)
{
	inode_put(fx->root);
	inode_put(fx->lroot);
	inode_put(fx->uroot);
	sb_put(fx->osb);
	sb_put(fx->lsb);
	sb_put(fx->usb);
}

static int count_entries(void *arg, const char *name, size_t len, uint64_t ino, unsigned type,
			 int64_t next)
{
	(void)ino;
	(void)type;
	(void)next;
	char **names = arg;
	for (int i = 0; names[i]; i++)
		if (strlen(names[i]) == len && !memcmp(names[i], name, len))
			names[i] = "";
	return 0;
}

/* Lists dir and checks it holds exactly want (plus . and ..). */
static void expect_entries(struct inode *dir, const char **want, int n)
{
	const char *names[16] = {0};
	struct file *f = file_new(NULL, O_RDONLY | O_DIRECTORY, NULL);
	int64_t pos = 0;
	int seen = 0;

	for (int i = 0; i < n; i++)
		names[i] = want[i];
	names[n] = ".";
	names[n + 1] = "..";
	inode_get(dir);
	f->inode = dir;
	cr_assert_eq(dir->ops->open(dir, f), 0);
	cr_assert_eq(f->ops->iterate(f, &pos, count_entries, names), 0);
	file_put(f);
	for (int i = 0; i < n + 2; i++) {
		cr_expect_str_empty(names[i], "entry %s missing", names[i]);
		seen += !*names[i];
	}
	cr_assert_eq(seen, n + 2);
}

UTest(overlay, lookup_reads_lower_and_copy_up_keeps_lower)
{
	struct fixture fx;
	setup(&fx);
	struct inode *a = lookup(fx.root, "a"), *la = lookup(fx.lroot, "a"), *ua;
	cr_assert_not_null(a);
	cr_assert_str_eq(read_all(a, O_RDONLY), "lower-a");
	cr_assert_null(lookup(fx.uroot, "a"), "reading must not copy up");
	/* Writing copies up; the lower file keeps its contents. */
	write_all(a, "UPPER");
	ua = lookup(fx.uroot, "a");
	cr_assert_not_null(ua, "write must copy up");
	cr_assert_str_eq(read_all(ua, O_RDONLY), "UPPER-a");
	cr_assert_str_eq(read_all(la, O_RDONLY), "lower-a");
	cr_assert_str_eq(read_all(a, O_RDONLY), "UPPER-a");
	inode_put(a);
	inode_put(la);
	inode_put(ua);
	teardown(&fx);
}

UTest(overlay, unlink_lower_leaves_whiteout)
{
	struct fixture fx;
	setup(&fx);
	struct inode *d = lookup(fx.root, "d"), *x = lookup(d, "x"), *lx, *ld;
	cr_assert_eq(d->ops->unlink(d, "x", x), 0);
	cr_assert_null(lookup(d, "x"), "x must be gone in the overlay");
	ld = lookup(fx.lroot, "d");
	lx = lookup(ld, "x");
	cr_assert_not_null(lx, "the lower layer is never changed");
	const char *want[] = {"y"};
	expect_entries(d, want, 1);
	/* Creating the name again replaces the whiteout. */
	struct inode *nx = NULL;
	cr_assert_eq(d->ops->create(d, "x", 0600, &fx.c, &nx), 0);
	const char *want2[] = {"x", "y"};
	expect_entries(d, want2, 2);
	inode_put(nx);
	inode_put(x);
	inode_put(lx);
	inode_put(ld);
	inode_put(d);
	teardown(&fx);
}

UTest(overlay, rmdir_and_mkdir_makes_opaque)
{
	struct fixture fx;
	setup(&fx);
	struct inode *d = lookup(fx.root, "d"), *x = lookup(d, "x"), *y = lookup(d, "y");
	cr_assert_eq(fx.root->ops->rmdir(fx.root, "d", d), -ENOTEMPTY);
	cr_assert_eq(d->ops->unlink(d, "x", x), 0);
	cr_assert_eq(d->ops->unlink(d, "y", y), 0);
	cr_assert_eq(fx.root->ops->rmdir(fx.root, "d", d), 0);
	cr_assert_null(lookup(fx.root, "d"));
	struct inode *nd = NULL;
	cr_assert_eq(fx.root->ops->mkdir(fx.root, "d", 0755, &fx.c, &nd), 0);
	expect_entries(nd, NULL, 0); /* the lower x and y stay hidden */
	inode_put(nd);
	inode_put(x);
	inode_put(y);
	inode_put(d);
	teardown(&fx);
}

UTest(overlay, merged_readdir_and_rename_rules)
{
	struct fixture fx;
	setup(&fx);
	struct inode *n = NULL, *d;
	cr_assert_eq(fx.root->ops->create(fx.root, "new", 0644, &fx.c, &n), 0);
	const char *want[] = {"a", "d", "e", "new"};
	expect_entries(fx.root, want, 4);
	/* A file moves; a directory with a lower part cannot (EXDEV). */
	cr_assert_eq(fx.root->ops->rename(fx.root, "a", fx.root, "b", 0), 0);
	cr_assert_null(lookup(fx.root, "a"));
	struct inode *b = lookup(fx.root, "b");
	cr_assert_not_null(b);
	cr_assert_str_eq(read_all(b, O_RDONLY), "lower-a");
	cr_assert_eq(fx.root->ops->rename(fx.root, "d", fx.root, "d2", 0), -EXDEV);
	d = lookup(fx.root, "d");
	cr_assert_not_null(d);
	const char *want2[] = {"b", "d", "e", "new"};
	expect_entries(fx.root, want2, 4);
	inode_put(b);
	inode_put(d);
	inode_put(n);
	teardown(&fx);
}

UTest(overlay, setattr_copies_up_metadata)
{
	struct fixture fx;
	setup(&fx);
	struct inode *e = lookup(fx.root, "e"), *le = lookup(fx.lroot, "e");
	struct vfs_setattr sa = {.mask = VFS_ATTR_MODE, .mode = 0751};
	struct vfs_attr a;
	cr_assert_eq(e->ops->setattr(e, &sa), 0);
	cr_assert_eq(inode_getattr(e, &a), 0);
	cr_assert_eq(a.mode & 07777, 0751);
	cr_assert_eq(inode_getattr(le, &a), 0);
	cr_assert_eq(a.mode & 07777, 0700, "the lower directory keeps its mode");
	inode_put(e);
	inode_put(le);
	teardown(&fx);
}
