#include "runsc/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/frame.h"
#include "sentry/control_proto.h"

int sandbox_start(struct sandbox *sb, const struct sandbox_config *cfg)
{
	int sv[2];
	pid_t pid;

	memset(sb, 0, sizeof(*sb));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		fprintf(stderr, "runsc-c: socketpair: %s\n", strerror(errno));
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "runsc-c: fork: %s\n", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (pid == 0) {
		char platform[64], host[128];
		const char *argv[12];
		int n = 0, null = open("/dev/null", O_RDWR);

		/* The sentry gets the channel as fd 3, /dev/null as stdin and
		 * stdout, and our stderr for its logs; nothing else. */
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
		    dup2(sv[1], 3) < 0)
			_exit(127);
		syscall(SYS_close_range, 4, ~0U, 0);
		snprintf(platform, sizeof(platform), "--platform=%s", cfg->platform);
		argv[n++] = "runsc-c";
		argv[n++] = "boot";
		argv[n++] = "--control-fd=3";
		argv[n++] = platform;
		if (cfg->strace)
			argv[n++] = "--strace";
		if (cfg->debug)
			argv[n++] = "--debug";
		if (cfg->hostname) {
			snprintf(host, sizeof(host), "--hostname=%s", cfg->hostname);
			argv[n++] = host;
		}
		argv[n] = NULL;
		execv("/proc/self/exe", (char **)argv);
		fprintf(stderr, "runsc-c: cannot start the sentry: %s\n", strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	sb->sentry = pid;
	sb->ctl = sv[0];
	return 0;
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

void sandbox_close(struct sandbox *sb)
{
	int st;

	if (sb->ctl >= 0)
		close(sb->ctl);
	sb->ctl = -1;
	if (sb->sentry > 0)
		while (waitpid(sb->sentry, &st, 0) < 0 && errno == EINTR)
			;
	sb->sentry = 0;
}
