/* /proc/PID/{maps,cmdline,environ,auxv}: views of a process's address
 * space. cmdline and environ are read from the process's own memory
 * (which may be another process than the reader's) in bounded pieces. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "platform/platform.h"
#include "sentry/fs/proc/proc_internal.h"
#include "sentry/mm/mm.h"

/* Never more than this from another address space in one call. */
#define PROC_MEM_CHUNK (64 * 1024)

int proc_pid_maps(struct inode *in, struct synth_buf *b)
{
	struct mm *mm = proc_get_mm(in);
	char *text;

	if (!mm)
		return 0; /* a process without memory shows nothing, as Linux */
	text = mm_maps_text(mm);
	mm_put(mm);
	if (!text)
		return -ENOMEM;
	synth_write(b, text, strlen(text));
	free(text);
	return 0;
}

static ssize_t mem_read(struct mm *mm, uint64_t addr, char *buf, size_t len)
{
	long n;

	if (!mm->as || !len)
		return 0;
	if (!user_range_ok(addr, len))
		return -EFAULT;
	n = platform->as_read(mm->as, addr, buf, len);
	return n < 0 ? n : (ssize_t)n;
}

/* Linux's get_mm_cmdline: the argument strings; if the process rewrote
 * them (setproctitle: the last byte is no longer NUL), its title runs
 * up to the first NUL, into the environment area if need be. */
ssize_t proc_pid_cmdline(struct inode *in, char *buf, size_t len, int64_t off)
{
	struct mm *mm = proc_get_mm(in);
	uint64_t as, ae, es, ee, total, pos = (uint64_t)off;
	ssize_t r = 0;
	char c = 0;

	if (!mm)
		return 0;
	pthread_mutex_lock(&mm->lock);
	as = mm->arg_start;
	ae = mm->arg_end;
	es = mm->env_start;
	ee = mm->env_end;
	pthread_mutex_unlock(&mm->lock);
	if (!as || ae <= as)
		goto out;
	if (es != ae || ee < es)
		es = ee = ae;
	total = ee - as;
	if (off < 0 || pos >= total)
		goto out;
	len = MIN(len, MIN(total - pos, (uint64_t)PROC_MEM_CHUNK));
	if (mem_read(mm, ae - 1, &c, 1) == 1 && c) {
		char *nul;
		r = mem_read(mm, as + pos, buf, len);
		if (r > 0 && (nul = memchr(buf, 0, (size_t)r)))
			r = nul - buf + 1;
		goto out;
	}
	if (as + pos >= ae)
		goto out;
	r = mem_read(mm, as + pos, buf, MIN(len, ae - (as + pos)));
out:
	mm_put(mm);
	return r;
}

ssize_t proc_pid_environ(struct inode *in, char *buf, size_t len, int64_t off)
{
	struct mm *mm = proc_get_mm(in);
	uint64_t es, ee;
	ssize_t r = 0;

	if (!mm)
		return 0;
	pthread_mutex_lock(&mm->lock);
	es = mm->env_start;
	ee = mm->env_end;
	pthread_mutex_unlock(&mm->lock);
	if (off >= 0 && es && ee > es && (uint64_t)off < ee - es)
		r = mem_read(mm, es + (uint64_t)off,
			     buf, MIN(len, MIN(ee - es - (uint64_t)off, (uint64_t)PROC_MEM_CHUNK)));
	mm_put(mm);
	return r;
}

int proc_pid_auxv(struct inode *in, struct synth_buf *b)
{
	struct mm *mm = proc_get_mm(in);
	uint64_t null[2] = {0, 0};
	size_t n;

	if (!mm)
		return 0;
	pthread_mutex_lock(&mm->lock);
	n = MIN(mm->auxv_len, ARRAY_SIZE(mm->auxv)) & ~(size_t)1;
	synth_write(b, mm->auxv, n * sizeof(uint64_t));
	/* Up to and including AT_NULL, as Linux shows it. */
	if (n < 2 || mm->auxv[n - 2] != 0)
		synth_write(b, null, sizeof(null));
	pthread_mutex_unlock(&mm->lock);
	mm_put(mm);
	return 0;
}
