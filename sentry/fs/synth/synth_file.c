/* Synthetic regular files: text generated into a buffer when read from
 * offset 0 and served from it until the next read from 0; or read in
 * place (pread); writes go to the entry's store. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sentry/fs/synth/synth_internal.h"

struct synth_file {
	pthread_mutex_t lock;
	struct synth_buf buf;
	bool have;
};

int64_t synth_llseek(struct file *f, int64_t off, int whence)
{
	switch (whence) {
	case SEEK_SET:
		return off >= 0 ? off : -EINVAL;
	case SEEK_CUR:
		if ((off > 0 && f->pos > INT64_MAX - off) || f->pos + off < 0)
			return -EINVAL;
		return f->pos + off;
	default:
		return -EINVAL;
	}
}

static ssize_t sf_read(struct file *f, void *buf, size_t len, int64_t *pos)
{
	const struct synth_entry *e = synth_node(f->inode)->e;
	struct synth_file *sf = f->priv;
	ssize_t r;

	if (*pos < 0)
		return -EINVAL;
	if (e->pread) {
		r = e->pread(f->inode, buf, len, *pos);
		if (r > 0)
			*pos += r;
		return r;
	}
	pthread_mutex_lock(&sf->lock);
	if (*pos == 0 || !sf->have) {
		synth_buf_free(&sf->buf);
		sf->have = false;
		r = e->show ? e->show(f->inode, &sf->buf) : 0;
		if (r == 0)
			r = sf->buf.err;
		if (r < 0) {
			synth_buf_free(&sf->buf);
			goto out;
		}
		sf->have = true;
	}
	if ((uint64_t)*pos >= sf->buf.len) {
		r = 0;
		goto out;
	}
	if (len > sf->buf.len - (size_t)*pos)
		len = sf->buf.len - (size_t)*pos;
	memcpy(buf, sf->buf.data + *pos, len);
	*pos += (int64_t)len;
	r = (ssize_t)len;
out:
	pthread_mutex_unlock(&sf->lock);
	return r;
}

static ssize_t sf_write(struct file *f, const void *buf, size_t len, int64_t *pos)
{
	const struct synth_entry *e = synth_node(f->inode)->e;
	ssize_t r;

	if (!e->store)
		return -EINVAL;
	r = e->store(f->inode, buf, len);
	if (r > 0)
		*pos += r;
	return r;
}

static void sf_release(struct file *f)
{
	struct synth_file *sf = f->priv;
	if (!sf)
		return;
	synth_buf_free(&sf->buf);
	pthread_mutex_destroy(&sf->lock);
	free(sf);
}

static const struct file_ops synth_file_fops = {
	.read = sf_read,
	.write = sf_write,
	.llseek = synth_llseek,
	.release = sf_release,
};

static int sf_open(struct inode *in, struct file *f)
{
	const struct synth_entry *e = synth_node(in)->e;
	struct synth_file *sf;

	if ((f->flags & O_ACCMODE) != O_RDONLY && synth_node(in)->strict_write &&
	    !(in->mode & 0222))
		return -EACCES;
	if (e->fops) {
		f->ops = e->fops;
		return 0;
	}
	sf = calloc(1, sizeof(*sf));
	if (!sf)
		return -ENOMEM;
	pthread_mutex_init(&sf->lock, NULL);
	f->priv = sf;
	f->ops = &synth_file_fops;
	return 0;
}

const struct inode_ops synth_file_iops = {
	.getattr = synth_getattr,
	.open = sf_open,
	.release = synth_release,
};
