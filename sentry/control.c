/* The sentry's side of the control channel. Requests are served in order
 * on the calling thread; WAIT replies are sent later, from the thread on
 * which the process exits. */
#include "sentry/control.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/frame.h"
#include "lib/log.h"
#include "lib/wire.h"
#include "sentry/control_proto.h"
#include "sentry/fs/dev/devfs.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

struct waiter {
	int pid;
	uint32_t seq;
	struct waiter *next;
};

struct exited {
	int pid, status;
	struct exited *next;
};

static pthread_mutex_t ctl_lock = PTHREAD_MUTEX_INITIALIZER;
static int ctl_fd = -1;
static struct waiter *waiters;
static struct exited *exits;

/* Called with ctl_lock held. */
static void send_reply(uint32_t type, uint32_t seq, int err, const char *msg,
		       const struct wbuf *payload)
{
	struct wbuf w;
	int r;

	wbuf_init(&w);
	wbuf_put_u32(&w, (uint32_t)err);
	wbuf_put_str(&w, msg ? msg : "");
	if (payload && payload->len)
		wbuf_put_bytes(&w, payload->data, (uint32_t)payload->len);
	if (w.oom) {
		wbuf_free(&w);
		return;
	}
	r = frame_send(ctl_fd, type | CTL_REPLY, seq, w.data, w.len, NULL, 0);
	if (r < 0)
		log_debug("control: reply failed: %s", strerror(-r));
	wbuf_free(&w);
}

static void reply_wait(uint32_t seq, int pid, int status)
{
	struct wbuf p;
	wbuf_init(&p);
	wbuf_put_u32(&p, (uint32_t)pid);
	wbuf_put_u32(&p, (uint32_t)status);
	send_reply(CTL_WAIT, seq, 0, NULL, &p);
	wbuf_free(&p);
}

static void on_exit_cb(int pid, int status, void *arg)
{
	struct exited *e;
	(void)arg;

	pthread_mutex_lock(&ctl_lock);
	for (struct waiter **w = &waiters; *w;) {
		if ((*w)->pid == pid) {
			struct waiter *d = *w;
			reply_wait(d->seq, pid, status);
			*w = d->next;
			free(d);
		} else {
			w = &(*w)->next;
		}
	}
	e = malloc(sizeof(*e));
	if (e) {
		e->pid = pid;
		e->status = status;
		e->next = exits;
		exits = e;
	}
	pthread_mutex_unlock(&ctl_lock);
}

static void handle_start(struct frame *f, struct rbuf *r)
{
	struct start_request req = {0};
	struct wbuf p;
	char err[512] = "";
	int pid;

	req.argv = rbuf_get_strv(r, CTL_MAX_ARGS, CTL_MAX_ARG_BYTES);
	req.envp = rbuf_get_strv(r, CTL_MAX_ARGS, CTL_MAX_ARG_BYTES);
	req.filename = rbuf_get_str(r, CTL_MAX_PATH);
	req.cwd = rbuf_get_str(r, CTL_MAX_PATH);
	if (!rbuf_done(r) || (f->nfds != 3 && f->nfds != 4) || !req.argv || !req.envp ||
	    !req.filename || !req.cwd || !req.filename[0] || !req.argv[0]) {
		pthread_mutex_lock(&ctl_lock);
		send_reply(CTL_START, f->seq, EINVAL, "malformed start request", NULL);
		pthread_mutex_unlock(&ctl_lock);
		goto out;
	}
	/* The program's fd, when the front end opened it, comes last. */
	for (int i = 0; i < 3; i++)
		req.stdio[i] = f->fds[i];
	req.exe_fd = f->nfds == 4 ? f->fds[3] : -1;
	/* /dev/tty is the terminal the front end runs in, if any. */
	devfs_set_console(req.stdio[0]);
	pid = task_start_process(&req, err, sizeof(err));
	pthread_mutex_lock(&ctl_lock);
	if (pid < 0) {
		send_reply(CTL_START, f->seq, -pid, err, NULL);
	} else {
		wbuf_init(&p);
		wbuf_put_u32(&p, (uint32_t)pid);
		send_reply(CTL_START, f->seq, 0, NULL, &p);
		wbuf_free(&p);
	}
	pthread_mutex_unlock(&ctl_lock);
out:
	strv_free(req.argv);
	strv_free(req.envp);
	free(req.filename);
	free(req.cwd);
}

static void handle_wait(struct frame *f, struct rbuf *r)
{
	struct thread_group *tg = NULL;
	uint32_t pid;
	bool ok = rbuf_get_u32(r, &pid) && rbuf_done(r);

	/* Look the group up before taking ctl_lock: task_exit calls
	 * on_exit_cb (ctl_lock) under kernel.lock, so the other order
	 * deadlocks. A group seen here that exits before we take ctl_lock
	 * has recorded its exit by then; one not seen has already exited
	 * or never existed. */
	if (ok) {
		tg = kernel_find_group((int)pid);
		if (tg)
			thread_group_put(tg);
	}
	pthread_mutex_lock(&ctl_lock);
	if (!ok) {
		send_reply(CTL_WAIT, f->seq, EINVAL, "malformed wait request", NULL);
		goto out;
	}
	for (struct exited *e = exits; e; e = e->next) {
		if (e->pid == (int)pid) {
			reply_wait(f->seq, (int)pid, e->status);
			goto out;
		}
	}
	if (!tg) {
		send_reply(CTL_WAIT, f->seq, ESRCH, "no such process", NULL);
		goto out;
	}
	struct waiter *w = malloc(sizeof(*w));
	if (!w) {
		send_reply(CTL_WAIT, f->seq, ENOMEM, "out of memory", NULL);
		goto out;
	}
	w->pid = (int)pid;
	w->seq = f->seq;
	w->next = waiters;
	waiters = w;
out:
	pthread_mutex_unlock(&ctl_lock);
}

static int signal_all(int sig)
{
	int n = 0;
	pthread_mutex_lock(&kernel.lock);
	for (int i = 0; i < kernel.ngroups; i++) {
		signal_send_group(kernel.groups[i], sig);
		n++;
	}
	pthread_mutex_unlock(&kernel.lock);
	return n;
}

static int signal_pgrp(pid_t pgid, int sig)
{
	int n = 0;
	pthread_mutex_lock(&kernel.lock);
	for (int i = 0; i < kernel.ngroups; i++) {
		if (kernel.groups[i]->pgid != pgid)
			continue;
		signal_send_group(kernel.groups[i], sig);
		n++;
	}
	pthread_mutex_unlock(&kernel.lock);
	return n;
}

static void handle_signal(struct frame *f, struct rbuf *r)
{
	uint32_t pid, sig;
	int err = 0;

	if (!rbuf_get_u32(r, &pid) || !rbuf_get_u32(r, &sig) || !rbuf_done(r) ||
	    sig > KSIG_MAX) {
		err = EINVAL;
	} else if (pid == 0) {
		signal_all((int)sig);
	} else if ((int32_t)pid < 0) {
		/* A process group, as kill(2) with a negative pid: what a
		 * terminal's ^C reaches. */
		if (!signal_pgrp(-(int32_t)pid, (int)sig))
			err = ESRCH;
	} else {
		struct thread_group *tg = kernel_find_group((int)pid);
		if (!tg) {
			err = ESRCH;
		} else {
			err = -signal_send_group(tg, (int)sig);
			thread_group_put(tg);
		}
	}
	pthread_mutex_lock(&ctl_lock);
	send_reply(CTL_SIGNAL, f->seq, err, err ? strerror(err) : NULL, NULL);
	pthread_mutex_unlock(&ctl_lock);
}

static void handle_state(struct frame *f)
{
	struct wbuf p;

	wbuf_init(&p);
	pthread_mutex_lock(&kernel.lock);
	wbuf_put_u32(&p, (uint32_t)kernel.ngroups);
	for (int i = 0; i < kernel.ngroups; i++) {
		struct thread_group *tg = kernel.groups[i];
		pid_t host = 0;
		char comm[16] = "";
		pthread_mutex_lock(&tg->lock);
		if (tg->tasks) {
			struct task *t = tg->tasks;
			if (t->ctx && t->ctx->as)
				host = platform->as_host_pid(t->ctx->as);
			memcpy(comm, t->comm, sizeof(comm));
			comm[15] = 0;
		}
		pthread_mutex_unlock(&tg->lock);
		wbuf_put_u32(&p, (uint32_t)tg->pid);
		wbuf_put_u32(&p, (uint32_t)host);
		wbuf_put_str(&p, comm);
	}
	pthread_mutex_unlock(&kernel.lock);
	pthread_mutex_lock(&ctl_lock);
	send_reply(CTL_STATE, f->seq, p.oom ? ENOMEM : 0, NULL, &p);
	pthread_mutex_unlock(&ctl_lock);
	wbuf_free(&p);
}

/* Kills everything and waits for every process to be gone. */
static void kill_all(void)
{
	signal_all(SIGKILL);
	kernel_wait_no_groups();
}

int control_serve(int fd)
{
	ctl_fd = fd;
	kernel.on_exit = on_exit_cb;
	for (;;) {
		struct frame f;
		struct rbuf r;
		int ret = frame_recv(fd, &f);

		if (ret == -ECONNRESET)
			break; /* the front end went away */
		if (ret < 0) {
			log_err("control channel: %s; shutting down", strerror(-ret));
			break;
		}
		rbuf_init(&r, f.body, f.len);
		switch (f.type) {
		case CTL_START:
			handle_start(&f, &r);
			break;
		case CTL_WAIT:
			handle_wait(&f, &r);
			break;
		case CTL_SIGNAL:
			handle_signal(&f, &r);
			break;
		case CTL_STATE:
			handle_state(&f);
			break;
		case CTL_SHUTDOWN:
			kill_all();
			pthread_mutex_lock(&ctl_lock);
			send_reply(CTL_SHUTDOWN, f.seq, 0, NULL, NULL);
			pthread_mutex_unlock(&ctl_lock);
			frame_release(&f);
			return 0;
		default:
			pthread_mutex_lock(&ctl_lock);
			send_reply(f.type, f.seq, EINVAL, "unknown request", NULL);
			pthread_mutex_unlock(&ctl_lock);
		}
		frame_release(&f);
	}
	kill_all();
	return 0;
}
