#include "sentry/vfs/file.h"

#include <stdlib.h>

struct file *file_new(const struct file_ops *ops, int flags, void *priv)
{
	struct file *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	atomic_init(&f->refs, 1);
	f->ops = ops;
	f->flags = flags;
	f->priv = priv;
	pthread_mutex_init(&f->pos_lock, NULL);
	return f;
}

void file_get(struct file *f) { atomic_fetch_add(&f->refs, 1); }

void file_put(struct file *f)
{
	if (!f || atomic_fetch_sub(&f->refs, 1) != 1)
		return;
	if (f->ops->release)
		f->ops->release(f);
	pthread_mutex_destroy(&f->pos_lock);
	free(f);
}
