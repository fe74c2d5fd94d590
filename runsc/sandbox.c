#include "runsc/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/frame.h"
#include "sentry/control_proto.h"

/* An argument vector built before forking (no allocation in a child). */
struct args {
	char **v;
	int n, cap;
	bool oom;
};

static void add(struct args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct args *a, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (a->oom)
		return;
	if (a->n + 2 > a->cap) {
		int cap = a->cap ? a->cap * 2 : 16;
		char **v = realloc(a->v, (size_t)cap * sizeof(*v));
		if (!v) {
			a->oom = true;
			return;
		}
		a->v = v;
		a->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		a->oom = true;
		s = NULL;
	}
	va_end(ap);
	if (s) {
		a->v[a->n++] = s;
		a->v[a->n] = NULL;
	}
}

static void args_free(struct args *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
}

/* `runsc-c gofer`: the root read-only always (it is under the in-memory
 * overlay, or read-only with --overlay=none), binds as asked. */
static int gofer_args(const struct sandbox_config *cfg, struct args *a)
{
	int idx = 1;

	add(a, "runsc-c");
	add(a, "gofer");
	add(a, "--fd=3");
	add(a, "--root=%s", cfg->root ? cfg->root : "/");
	add(a, "--root-readonly");
	for (int i = 0; i < cfg->nmounts; i++) {
		const struct sandbox_mount *m = &cfg->mounts[i];
		if (m->kind == SANDBOX_BIND)
			add(a, "--bind=%d:%s%s", idx++, m->src, m->readonly ? ":ro" : "");
	}
	if (cfg->debug)
		add(a, "--debug");
	return a->oom ? -ENOMEM : 0;
}

static int sentry_args(const struct sandbox_config *cfg, struct args *a)
{
	int idx = 1;

	add(a, "runsc-c");
	add(a, "boot");
	add(a, "--control-fd=3");
	add(a, "--gofer-fd=4");
	add(a, "--platform=%s", cfg->platform);
	add(a, cfg->syscall_patching ? "--syscall-patching" : "--no-syscall-patching");
	add(a, "--overlay=%s", cfg->overlay ? "memory" : "none");
	for (int i = 0; i < cfg->nmounts; i++) {
		const struct sandbox_mount *m = &cfg->mounts[i];
		if (m->kind == SANDBOX_BIND)
			add(a, "--mount=bind:%d:%s%s", idx++, m->dst, m->readonly ? ":ro" : "");
		else if (m->size)
			add(a, "--mount=tmpfs:%s:%llu", m->dst, (unsigned long long)m->size);
		else
			add(a, "--mount=tmpfs:%s", m->dst);
	}
	if (cfg->strace)
		add(a, "--strace");
	if (cfg->debug)
		add(a, "--debug");
	if (cfg->hostname)
		add(a, "--hostname=%s", cfg->hostname);
	return a->oom ? -ENOMEM : 0;
}

/* Forks a child that gets fds[i] as fd 3 + i, /dev/null as stdin and
 * stdout, our stderr for its logs, nothing else; and execs argv. */
static pid_t spawn(char **argv, const int *fds, int nfds, const char *what)
{
	pid_t pid = fork();

	if (pid < 0) {
		fprintf(stderr, "runsc-c: fork: %s\n", strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		int tmp[4];

		/* Out of the front end's session, so terminal signals reach
		 * only the front end, which forwards what the sandbox sees. */
		setsid();
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0)
			_exit(127);
		/* Above every target first, so no dup2 clobbers a source. */
		for (int i = 0; i < nfds; i++)
			if ((tmp[i] = fcntl(fds[i], F_DUPFD, 10)) < 0)
				_exit(127);
		for (int i = 0; i < nfds; i++)
			if (dup2(tmp[i], 3 + i) < 0)
				_exit(127);
		syscall(SYS_close_range, 3 + nfds, ~0U, 0);
		execv("/proc/self/exe", argv);
		fprintf(stderr, "runsc-c: cannot start the %s: %s\n", what, strerror(errno));
		_exit(127);
	}
	return pid;
}

int sandbox_start(struct sandbox *sb, const struct sandbox_config *cfg)
{
	struct args ga = {0}, sa = {0};
	int sv[2] = {-1, -1}, gv[2] = {-1, -1}, fds[2], r;
	pid_t pid;

	memset(sb, 0, sizeof(*sb));
	sb->ctl = -1;
	r = gofer_args(cfg, &ga);
	if (r == 0)
		r = sentry_args(cfg, &sa);
	if (r < 0) {
		fprintf(stderr, "runsc-c: %s\n", strerror(-r));
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, gv) < 0) {
		r = -errno;
		fprintf(stderr, "runsc-c: socketpair: %s\n", strerror(errno));
		goto out;
	}
	/* The gofer first: the sentry mounts its files as it boots. */
	pid = spawn(ga.v, &gv[1], 1, "gofer");
	if (pid < 0) {
		r = pid;
		goto out;
	}
	sb->gofer = pid;
	fds[0] = sv[1];
	fds[1] = gv[0];
	pid = spawn(sa.v, fds, 2, "sentry");
	if (pid < 0) {
		r = pid;
		goto out;
	}
	sb->sentry = pid;
	sb->ctl = sv[0];
	sv[0] = -1;
	r = 0;
out:
	/* The channel's ends live only in the gofer and the sentry: each
	 * sees the other go. */
	for (int i = 0; i < 2; i++) {
		if (sv[i] >= 0)
			close(sv[i]);
		if (gv[i] >= 0)
			close(gv[i]);
	}
	args_free(&ga);
	args_free(&sa);
	if (r < 0)
		sandbox_close(sb);
	return r;
}

int sandbox_send(struct sandbox *sb, uint32_t type, const struct wbuf *body,
		 const int *fds, unsigned nfds)
{
	uint32_t seq = ++sb->seq;
	int r;

	if (body && body->oom)
		return -ENOMEM;
	r = frame_send(sb->ctl, type, seq, body ? body->data : NULL,
		       body ? body->len : 0, fds, nfds);
	return r < 0 ? r : (int)seq;
}

int sandbox_recv(struct sandbox *sb, struct ctl_reply *r)
{
	struct frame f;
	uint32_t err;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = frame_recv(sb->ctl, &f);
	if (ret < 0)
		return ret;
	r->type = f.type & ~CTL_REPLY;
	r->seq = f.seq;
	r->payload = f.body;
	f.body = NULL;
	rbuf_init(&r->rd, r->payload, f.len);
	frame_release(&f);
	if (!rbuf_get_u32(&r->rd, &err) || !(r->msg = rbuf_get_str(&r->rd, 4096))) {
		ctl_reply_free(r);
		return -EPROTO;
	}
	r->err = (int)err;
	/* The payload, when present, is one length-prefixed field. */
	if (r->rd.pos < r->rd.len) {
		const void *p;
		uint32_t n;
		if (!rbuf_get_bytes(&r->rd, &p, &n)) {
			ctl_reply_free(r);
			return -EPROTO;
		}
		rbuf_init(&r->rd, p, n);
	} else {
		rbuf_init(&r->rd, NULL, 0);
	}
	return 0;
}

void ctl_reply_free(struct ctl_reply *r)
{
	free(r->msg);
	free(r->payload);
	r->msg = NULL;
	r->payload = NULL;
}

static int reap(pid_t *pid)
{
	int st = 0;

	if (*pid > 0)
		while (waitpid(*pid, &st, 0) < 0 && errno == EINTR)
			;
	*pid = 0;
	return st;
}

int sandbox_wait_sentry(struct sandbox *sb)
{
	return reap(&sb->sentry);
}

void sandbox_close(struct sandbox *sb)
{
	if (sb->ctl >= 0)
		close(sb->ctl);
	sb->ctl = -1;
	reap(&sb->sentry);
	/* With the sentry gone its channel end is closed: the gofer ends. */
	reap(&sb->gofer);
}
