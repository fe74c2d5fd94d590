/* The names unix sockets are bound to: abstract names (one namespace
 * per socket type, as Linux hashes the type into them) and path names,
 * found by the inode bind made (the socket keeps that node referenced,
 * so its inode number is not reused while the entry exists). */
#include <errno.h>
#include <string.h>

#include "sentry/net/unix/unix.h"

#define NBUCKETS 256

pthread_mutex_t unix_table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct unix_sock *buckets[NBUCKETS];

static unsigned hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return (unsigned)(h ^ (h >> 32)) & (NBUCKETS - 1);
}

static unsigned abstract_hash(int type, const void *name, int len)
{
	return hash_bytes(0xcbf29ce484222325ULL ^ (uint64_t)type, name, (size_t)len);
}

static unsigned inode_hash(const struct superblock *sb, uint64_t ino)
{
	uintptr_t key[2] = {(uintptr_t)sb, (uintptr_t)ino};
	return hash_bytes(0xcbf29ce484222325ULL, key, sizeof(key));
}

static bool is_abstract(const struct unix_sock *u) { return !u->path.mnt; }

static unsigned bucket_of(const struct unix_sock *u)
{
	return is_abstract(u) ? abstract_hash(u->type, u->addr->data, u->addr->len)
			      : inode_hash(u->bsd_sb, u->bsd_ino);
}

static bool abstract_match(const struct unix_sock *s, int type, const void *name, int len)
{
	return is_abstract(s) && s->type == type && s->addr->len == len &&
	       !memcmp(s->addr->data, name, (size_t)len);
}

bool unix_table_has_abstract_locked(int type, const struct unix_addr *a)
{
	for (struct unix_sock *s = buckets[abstract_hash(type, a->data, a->len)]; s; s = s->tnext)
		if (abstract_match(s, type, a->data, a->len))
			return true;
	return false;
}

int unix_table_insert_locked(struct unix_sock *u)
{
	unsigned b;

	if (is_abstract(u) && unix_table_has_abstract_locked(u->type, u->addr))
		return -EADDRINUSE;
	b = bucket_of(u);
	u->tnext = buckets[b];
	buckets[b] = u;
	u->hashed = true;
	return 0;
}

void unix_table_remove(struct unix_sock *u)
{
	pthread_mutex_lock(&unix_table_lock);
	if (u->hashed) {
		for (struct unix_sock **pp = &buckets[bucket_of(u)]; *pp; pp = &(*pp)->tnext) {
			if (*pp == u) {
				*pp = u->tnext;
				break;
			}
		}
		u->hashed = false;
		u->tnext = NULL;
	}
	pthread_mutex_unlock(&unix_table_lock);
}

struct unix_sock *unix_table_find_abstract(int type, const void *name, int len)
{
	struct unix_sock *found = NULL;

	pthread_mutex_lock(&unix_table_lock);
	for (struct unix_sock *s = buckets[abstract_hash(type, name, len)]; s; s = s->tnext) {
		if (abstract_match(s, type, name, len)) {
			unix_sock_get(s);
			found = s;
			break;
		}
	}
	pthread_mutex_unlock(&unix_table_lock);
	return found;
}

struct unix_sock *unix_table_find_inode(struct inode *in)
{
	struct unix_sock *found = NULL;

	pthread_mutex_lock(&unix_table_lock);
	for (struct unix_sock *s = buckets[inode_hash(in->sb, in->ino)]; s; s = s->tnext) {
		if (!is_abstract(s) && s->bsd_sb == in->sb && s->bsd_ino == in->ino) {
			unix_sock_get(s);
			found = s;
			break;
		}
	}
	pthread_mutex_unlock(&unix_table_lock);
	return found;
}
