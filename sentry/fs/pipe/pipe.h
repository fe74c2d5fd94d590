/* Pipes and named fifos (Linux's fs/pipe.c, fs/fifo semantics) and the
 * splice family that moves data in and out of them. */
#ifndef RC_SENTRY_FS_PIPE_H
#define RC_SENTRY_FS_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct file;
struct task;
struct uiovec;

#define PIPEFS_MAGIC 0x50495045
/* /proc/sys/fs/pipe-max-size: the most F_SETPIPE_SZ grants without
 * CAP_SYS_RESOURCE. */
#define PIPE_MAX_SIZE (1024 * 1024)

#ifndef SPLICE_F_MOVE
#define SPLICE_F_MOVE 0x01
#define SPLICE_F_NONBLOCK 0x02
#define SPLICE_F_MORE 0x04
#define SPLICE_F_GIFT 0x08
#endif
#define SPLICE_F_ALL (SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_GIFT)

/* A new anonymous pipe: rd and wr are its two ends, with the status
 * flags O_NONBLOCK and O_DIRECT (packet mode) from flags. */
int pipe_create(int flags, struct file **rd, struct file **wr);
/* Whether f is an end of a pipe or fifo. */
bool file_is_pipe(struct file *f);

/* splice(2) once the offsets are copied in: off_in/off_out NULL mean the
 * files' own positions. */
long splice_files(struct file *in, int64_t *off_in, struct file *out, int64_t *off_out,
		  size_t len, unsigned flags);
/* tee(2): copies up to len bytes from pipe in to pipe out. */
long tee_pipes(struct file *in, struct file *out, size_t len, unsigned flags);
/* vmsplice(2): from application memory into a pipe's write end, or out
 * of a pipe's read end into application memory. */
long vmsplice_file(struct task *t, struct file *f, const struct uiovec *iov, size_t cnt,
		   size_t total, unsigned flags);

#endif
