/* Pipe internals shared by pipe.c (the ring and read/write), fifo.c
 * (opening named fifos and reopened pipes) and splice.c.
 *
 * A pipe is Linux's ring of page-sized buffers: max_usage slots (16 by
 * default), each holding up to a page. Writes of at most PIPE_BUF bytes
 * fit one slot, so they are atomic; small writes merge into the last
 * slot while it has room; packet-mode (O_DIRECT) writes never merge and
 * a read takes one packet.
 *
 * Lock order: two pipes (tee, splice) in address order -> pipe.lock ->
 * waitq.lock. fifo_lock (fifo.c) -> pipe.lock. Wait queues are woken
 * after pipe.lock is dropped, so a waker never holds it while a poll
 * callback runs. */
#ifndef RC_SENTRY_FS_PIPE_INTERNAL_H
#define RC_SENTRY_FS_PIPE_INTERNAL_H

#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "abi/linux.h"
#include "sentry/fs/pipe/pipe.h"
#include "sentry/kernel/wait.h"

struct inode;
struct file;
struct task;

#define PIPE_PAGE 4096u
#define PIPE_DEF_SLOTS 16u

/* Slot flags. */
#define PB_MERGE 0x1   /* later small writes may append here */
#define PB_PACKET 0x2  /* a packet: a read takes it whole (O_DIRECT) */

struct pipe_buf {
	char *page;        /* PIPE_PAGE bytes, malloc'd */
	uint32_t off, len;
	uint32_t flags;
};

struct pipe {
	pthread_mutex_t lock;
	/* Readers, writers and pollers; woken with the poll events that
	 * changed (POLLIN when data arrives, POLLOUT when room appears,
	 * everything when a side closes). */
	struct waitq wq;
	/* Fifo opens waiting for the other side (fifo.c). */
	struct waitq open_wq;
	struct pipe_buf *bufs;   /* ring of max_usage slots */
	unsigned head, tail;     /* free-running; head - tail slots are full */
	unsigned max_usage;      /* the size in pages: a power of two */
	/* Slots promised to splices that are reading their source outside
	 * the lock: they count as full, so the data always fits. */
	unsigned reserved;
	/* A splice is writing out data it has not consumed yet; other
	 * readers wait, so the bytes it consumes are the ones it wrote. */
	bool rd_busy;
	unsigned readers, writers;
	/* Opens so far: a fifo open waits for the other count to move. */
	unsigned r_counter, w_counter;
	/* Anonymous pipes: the pipefs inode's attributes. */
	uint64_t ino;
	uint32_t mode, uid, gid;
	struct k_timespec atime, mtime, ctime;
	/* Named fifos: the inode this pipe serves and its open files
	 * (fifo.c's table, under fifo_lock). */
	struct inode *fifo_inode;
	unsigned fifo_files;
	struct pipe *fifo_next;
};

/* Per open file: Linux's f_version for pipes, which holds POLLHUP back
 * on a fifo opened O_NONBLOCK before any writer came. */
struct pipe_file {
	struct pipe *p;
	unsigned version;
};

static inline unsigned pipe_occupancy(const struct pipe *p) { return p->head - p->tail; }
static inline bool pipe_empty(const struct pipe *p) { return p->head == p->tail; }
static inline bool pipe_full(const struct pipe *p)
{
	return pipe_occupancy(p) + p->reserved >= p->max_usage;
}
static inline struct pipe_buf *pipe_slot(struct pipe *p, unsigned i)
{
	return &p->bufs[i & (p->max_usage - 1)];
}

extern const struct file_ops pipe_fops;

struct pipe *pipe_alloc(void);
void pipe_free(struct pipe *p);
/* Wakes p's waiters for events, outside p->lock. */
void pipe_wake(struct pipe *p, uint32_t events);
/* SIGPIPE to the calling thread, as Linux's send_sig(SIGPIPE, current, 0). */
void pipe_sigpipe(void);
void pipe_now(struct k_timespec *ts);

/* Under p->lock: appends a slot with an empty page; NULL if no memory.
 * The caller has checked that the pipe is not full. */
struct pipe_buf *pipe_push_slot(struct pipe *p, uint32_t flags);
/* Under p->lock: drops the front slot. */
void pipe_pop_slot(struct pipe *p);
/* Under p->lock: copies up to len bytes from the front (packets are not
 * special) into dst, without consuming them. */
size_t pipe_peek(struct pipe *p, char *dst, size_t len);
/* Under p->lock: consumes len bytes from the front. */
void pipe_consume(struct pipe *p, size_t len);
/* Under p->lock: appends len bytes as new unmergeable slots; the caller
 * has made sure they fit (reservation). */
void pipe_append(struct pipe *p, const char *src, size_t len);

/* Sleeps (p->lock held, dropped while asleep) until p's queue is woken
 * with one of events: 0, or -ERESTARTSYS for a signal. The caller
 * checks its condition again. */
int pipe_wait(struct pipe *p, uint32_t events);

/* The two halves of a read and a write, shared with vmsplice. nonblock
 * says whether an empty/full pipe is EAGAIN; packets whether packet
 * slots end a read (pipe_read) or not (vmsplice). */
ssize_t pipe_read_buf(struct pipe *p, char *buf, size_t len, bool nonblock, bool packets);
ssize_t pipe_write_buf(struct pipe *p, const char *buf, size_t len, bool nonblock,
		       bool packet);

/* The pipe behind a pipe or fifo file, or NULL. */
struct pipe *pipe_of_file(struct file *f);
/* tee.c: splice between two pipes. */
long splice_pipes(struct pipe *ip, struct pipe *op, size_t len, bool nonblock);

/* fifo.c: opening an end of p (a named fifo, or a pipe reopened through
 * /proc/PID/fd). is_pipe: never wait for a partner. */
int pipe_open_end(struct pipe *p, struct file *f, bool is_pipe);
/* Drops what an open end counted (release). */
void pipe_close_end(struct pipe *p, int acc);
/* The fifo table's side of a release: frees p with its last file. */
void fifo_put(struct pipe *p);

#endif
