/* The node table: handles the sentry holds, each an O_PATH fd, and the
 * tree of names that links them (for reopening by name, see gofer.h).
 * The gofer is single-threaded, so nothing here locks. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcntl.h>
#include <sys/stat.h>

#include "gofer/gofer.h"

static struct node **table;
static size_t cap, count;
static uint64_t next_id = 1;

/* Directory fds on the LRU (mount roots are never on it). */
static struct node *lru_head, *lru_tail;
static size_t nlru, lru_max = 1024;

void node_set_fd_budget(size_t n) { lru_max = n < 16 ? 16 : n; }

static void lru_remove(struct node *n)
{
	if (!n->on_lru)
		return;
	if (n->lru_prev)
		n->lru_prev->lru_next = n->lru_next;
	else
		lru_head = n->lru_next;
	if (n->lru_next)
		n->lru_next->lru_prev = n->lru_prev;
	else
		lru_tail = n->lru_prev;
	n->lru_prev = n->lru_next = NULL;
	n->on_lru = false;
	nlru--;
}

static void lru_add(struct node *n)
{
	n->lru_prev = lru_tail;
	n->lru_next = NULL;
	if (lru_tail)
		lru_tail->lru_next = n;
	else
		lru_head = n;
	lru_tail = n;
	n->on_lru = true;
	nlru++;
	/* Evict the least recently used fds nobody is using now. */
	for (struct node *v = lru_head, *next; v && nlru > lru_max; v = next) {
		next = v->lru_next;
		if (v->pins)
			continue;
		lru_remove(v);
		close(v->fd);
		v->fd = -1;
	}
}

static size_t slot(uint64_t id)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ULL) >> 20) & (cap - 1);
}

static int grow(void)
{
	size_t ncap = cap ? cap * 2 : 256;
	struct node **t = calloc(ncap, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < cap; i++) {
		for (struct node *n = table[i], *next; n; n = next) {
			size_t k = (size_t)((n->id * 0x9e3779b97f4a7c15ULL) >> 20) & (ncap - 1);
			next = n->hnext;
			n->hnext = t[k];
			t[k] = n;
		}
	}
	free(table);
	table = t;
	cap = ncap;
	return 0;
}

static void link_child(struct node *dir, struct node *n)
{
	n->parent = dir;
	dir->refs++;
	n->sib_prev = NULL;
	n->sib_next = dir->child;
	if (dir->child)
		dir->child->sib_prev = n;
	dir->child = n;
}

static void node_put(struct node *n);

/* Takes n out of its parent's names (dropping the parent reference). */
static void unlink_child(struct node *n)
{
	struct node *dir = n->parent;

	if (!dir)
		return;
	if (n->sib_prev)
		n->sib_prev->sib_next = n->sib_next;
	else
		dir->child = n->sib_next;
	if (n->sib_next)
		n->sib_next->sib_prev = n->sib_prev;
	n->sib_next = n->sib_prev = NULL;
	n->parent = NULL;
	node_put(dir);
}

static void node_put(struct node *n)
{
	/* Iterative: dropping the last child of a deep chain must not
	 * recurse once per level. */
	while (n && --n->refs == 0) {
		struct node *dir = n->parent;
		if (dir) {
			if (n->sib_prev)
				n->sib_prev->sib_next = n->sib_next;
			else
				dir->child = n->sib_next;
			if (n->sib_next)
				n->sib_next->sib_prev = n->sib_prev;
		}
		lru_remove(n);
		if (n->fd >= 0)
			close(n->fd);
		free(n->name);
		free(n);
		n = dir;
	}
}

struct node *node_new(int fd, int mount, struct node *parent, const char *name,
		      uint32_t mode, dev_t dev, ino_t ino, bool pseudo)
{
	struct node *n;

	if (count + 1 > cap / 2 && grow() < 0)
		goto fail;
	n = calloc(1, sizeof(*n));
	if (!n)
		goto fail;
	if (name && !(n->name = strdup(name))) {
		free(n);
		goto fail;
	}
	n->id = next_id++;
	n->fd = fd;
	n->mode = mode;
	n->dev = dev;
	n->ino = ino;
	n->mount = mount;
	n->pseudo = pseudo;
	n->refs = 1;
	if (parent)
		link_child(parent, n);
	if (parent && fd >= 0)
		lru_add(n);
	n->hnext = table[slot(n->id)];
	table[slot(n->id)] = n;
	count++;
	return n;
fail:
	close(fd);
	return NULL;
}

struct node *node_find(uint64_t id)
{
	if (!id || !cap)
		return NULL;
	for (struct node *n = table[slot(id)]; n; n = n->hnext)
		if (n->id == id)
			return n;
	return NULL;
}

void node_close(struct node *n)
{
	struct node **pp = &table[slot(n->id)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == n) {
			*pp = n->hnext;
			break;
		}
	}
	n->hnext = NULL;
	n->id = 0;
	count--;
	node_put(n);
}

void node_forget_name(struct node *dir, const char *name)
{
	for (struct node *c = dir->child, *next; c; c = next) {
		next = c->sib_next;
		if (!strcmp(c->name, name))
			unlink_child(c);
	}
}

/* Moves the nodes in list (chained through sib_next, already out of any
 * directory) under dir as name. */
static int adopt(struct node *list, struct node *dir, const char *name)
{
	int r = 0;

	for (struct node *c = list, *next; c; c = next) {
		char *s = strdup(name);
		next = c->sib_next;
		if (!s) {
			/* Without a name the node can no longer be
			 * reopened, which is safe. */
			r = -ENOMEM;
			c->sib_next = NULL;
			node_put(c); /* the reference take() added */
			continue;
		}
		free(c->name);
		c->name = s;
		link_child(dir, c);
		node_put(c);
	}
	return r;
}

/* Takes the nodes named name out of dir into a private list; each keeps
 * one extra reference so it survives until adopted. */
static struct node *take(struct node *dir, const char *name)
{
	struct node *list = NULL;

	for (struct node *c = dir->child, *next; c; c = next) {
		next = c->sib_next;
		if (strcmp(c->name, name))
			continue;
		c->refs++;
		unlink_child(c);
		c->sib_next = list;
		list = c;
	}
	return list;
}

int node_rename(struct node *odir, const char *oname, struct node *ndir, const char *nname,
		bool exchange)
{
	struct node *a, *b = NULL;
	int r;

	/* Copies: the names may belong to nodes about to be renamed. */
	char *on = strdup(oname), *nn = strdup(nname);
	if (!on || !nn) {
		free(on);
		free(nn);
		/* Forget both names rather than keep a wrong one. */
		node_forget_name(odir, oname);
		node_forget_name(ndir, nname);
		return -ENOMEM;
	}
	a = take(odir, on);
	if (exchange)
		b = take(ndir, nn);
	else
		node_forget_name(ndir, nn);
	r = adopt(a, ndir, nn);
	if (adopt(b, odir, on) < 0)
		r = -ENOMEM;
	free(on);
	free(nn);
	return r;
}

void node_table_free(void)
{
	for (size_t i = 0; i < cap; i++) {
		while (table[i])
			node_close(table[i]);
	}
	free(table);
	table = NULL;
	cap = count = 0;
}

size_t node_count(void) { return count; }

int node_dirfd_get(struct node *dir)
{
	struct gofer_attr a;
	int pfd, fd;

	if (dir->fd >= 0) {
		if (dir->on_lru) {
			/* Most recently used. */
			lru_remove(dir);
			lru_add(dir);
		}
		dir->pins++;
		return dir->fd;
	}
	if (!dir->parent)
		return -ESTALE; /* removed while its fd was evicted */
	pfd = node_dirfd_get(dir->parent);
	if (pfd < 0)
		return pfd;
	fd = open_beneath(pfd, dir->name, O_PATH | O_DIRECTORY, 0);
	node_dirfd_put(dir->parent);
	if (fd < 0)
		return fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP ? -ESTALE : fd;
	if (attr_fd(fd, &a) < 0 || a.dev != dir->dev || a.ino != dir->ino) {
		close(fd);
		return -ESTALE;
	}
	dir->fd = fd;
	dir->pins++;
	lru_add(dir);
	return fd;
}

void node_dirfd_put(struct node *dir)
{
	if (dir && dir->pins)
		dir->pins--;
}
