#include "tests/gofer/gofer_client.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

unsigned gp_nofile;

const char *gp_runsc(void)
{
	const char *p = getenv("RUNSC_C");
	return p && *p ? p : "runsc-c";
}

int gp_start(struct gofer_proc *g, const char *const *args, int uid)
{
	int sv[2], ep[2];
	const char *argv[32];
	int n = 0;

	memset(g, 0, sizeof(*g));
	g->next_id = 1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	if (pipe2(ep, O_CLOEXEC) < 0)
		return -errno;
	argv[n++] = "runsc-c";
	argv[n++] = "gofer";
	argv[n++] = "--fd=3";
	for (; args && *args && n < 30; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	g->pid = fork();
	if (g->pid < 0)
		return -errno;
	if (g->pid == 0) {
		if (dup2(sv[1], 3) < 0 || dup2(ep[1], 2) < 0)
			_exit(126);
		/* A stray fd the gofer must close. */
		if (open("/dev/null", O_RDONLY) < 0)
			_exit(126);
		if (gp_nofile) {
			struct rlimit rl = {gp_nofile, gp_nofile};
			if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
				_exit(126);
		}
		if (uid >= 0 && (setresgid((gid_t)uid, (gid_t)uid, (gid_t)uid) < 0 ||
				 setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0))
			_exit(126);
		execv(gp_runsc(), (char **)argv);
		_exit(127);
	}
	close(sv[1]);
	close(ep[1]);
	g->sock = sv[0];
	g->err_fd = ep[0];
	fcntl(g->err_fd, F_SETFL, O_NONBLOCK);
	return 0;
}

int gp_send_raw(struct gofer_proc *g, const void *buf, size_t len)
{
	return send(g->sock, buf, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -errno;
}

int gp_call(struct gofer_proc *g, struct gofer_req *q, struct gofer_reply *r)
{
	uint8_t *buf;
	size_t len;
	ssize_t n;
	int e, fd;

	q->id = g->next_id++;
	e = gofer_encode_req(q, &buf, &len);
	if (e < 0)
		return e;
	e = gofer_send(g->sock, buf, len, -1);
	free(buf);
	if (e < 0)
		return e;
	buf = malloc(GOFER_MSG_MAX);
	n = gofer_recv(g->sock, buf, GOFER_MSG_MAX, &fd);
	if (n <= 0) {
		free(buf);
		return n == 0 ? -ECONNRESET : (int)n;
	}
	e = gofer_decode_reply(buf, (size_t)n, fd >= 0, r);
	free(buf);
	if (e < 0) {
		if (fd >= 0)
			close(fd);
		return e;
	}
	if (r->id != q->id || r->type != q->type) {
		gofer_reply_free(r);
		return -EPROTO;
	}
	r->fd = fd;
	return 0;
}

int gp_wait(struct gofer_proc *g)
{
	int st = -1;
	for (int i = 0; i < 500; i++) {
		pid_t p = waitpid(g->pid, &st, WNOHANG);
		if (p == g->pid) {
			g->pid = 0;
			return st;
		}
		usleep(10000);
	}
	kill(g->pid, SIGKILL);
	waitpid(g->pid, &st, 0);
	g->pid = 0;
	return -1;
}

int gp_stop(struct gofer_proc *g)
{
	int st;
	if (g->sock >= 0)
		close(g->sock);
	g->sock = -1;
	st = g->pid ? gp_wait(g) : 0;
	if (g->err_fd >= 0)
		close(g->err_fd);
	g->err_fd = -1;
	return st;
}

char *gp_stderr(struct gofer_proc *g)
{
	size_t cap = 4096, len = 0;
	char *s = malloc(cap);
	ssize_t n;

	while ((n = read(g->err_fd, s + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (len + 1 == cap)
			s = realloc(s, cap *= 2);
	}
	s[len] = 0;
	return s;
}

uint64_t gp_mount(struct gofer_proc *g, uint32_t index, struct gofer_attr *a)
{
	struct gofer_req q = {.type = GOFER_MOUNT, .index = index};
	struct gofer_reply r;
	if (gp_call(g, &q, &r) < 0 || r.err)
		return 0;
	if (a)
		*a = r.attr;
	return r.node;
}

uint64_t gp_walk1(struct gofer_proc *g, uint64_t dir, const char *name, struct gofer_attr *a)
{
	char *names[2] = {(char *)name, NULL};
	struct gofer_req q = {.type = GOFER_WALK, .dir = dir, .names = names, .nnames = 1};
	struct gofer_reply r;
	uint64_t node = 0;

	if (gp_call(g, &q, &r) < 0 || r.err)
		return 0;
	if (r.nwalk == 1) {
		node = r.walk_nodes[0];
		if (a)
			*a = r.walk_attrs[0];
	}
	gofer_reply_free(&r);
	return node;
}

void gp_close(struct gofer_proc *g, uint64_t node)
{
	struct gofer_req q = {.type = GOFER_CLOSE, .nodes = &node, .nnodes = 1};
	struct gofer_reply r;
	if (gp_call(g, &q, &r) == 0)
		gofer_reply_free(&r);
}

char *gp_tmpdir(void)
{
	char *p = strdup("/tmp/gofer-test-XXXXXX");
	if (!p || !mkdtemp(p)) {
		free(p);
		return NULL;
	}
	return p;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

void gp_rmtree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
