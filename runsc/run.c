/* runsc-c run: start a sandbox, run one program in it, relay signals,
 * and exit with the program's status (128+N for a fatal signal N). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platform/platform.h"
#include "runsc/commands.h"
#include "runsc/run_flags.h"
#include "runsc/sandbox.h"
#include "sentry/control_proto.h"

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
	unsigned char b = (unsigned char)sig;
	int saved = errno;
	if (write(sig_pipe[1], &b, 1) < 0)
		(void)0;
	errno = saved;
}

static int status_to_exit(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 255;
}


/* Whether a mount puts something else at the caller's directory: then
 * the sandbox starts in "/", as with any other root. A bind of a
 * directory onto its own path hides nothing. */
static bool cwd_hidden(const struct sandbox_config *cfg, const char *cwd)
{
	for (int i = 0; i < cfg->nmounts; i++) {
		const struct sandbox_mount *m = &cfg->mounts[i];
		size_t n = strlen(m->dst);
		bool under = !strcmp(m->dst, "/") ||
			     (!strncmp(cwd, m->dst, n) && (cwd[n] == '/' || !cwd[n]));
		if (under && (m->kind != SANDBOX_BIND || strcmp(m->src, m->dst)))
			return true;
	}
	return false;
}
int cmd_run(int argc, char **argv)
{
	struct run_options o;
	struct sandbox sb;
	struct ctl_reply rep;
	struct wbuf w;
	const char *exe = NULL;
	char cwdbuf[PATH_MAX];
	int fd = -1, ret = 126, fds[4], nfds = 3;
	uint32_t pid = 0;
	int start_seq, wait_seq = -1;

	ret = run_flags_parse(argc, argv, &o);
	if (ret) {
		run_options_free(&o);
		return ret == 1 ? 0 : ret;
	}
	ret = 126;
	/* The program is found and opened inside the sandbox, through its
	 * own filesystem ($PATH from the sandbox's environment). With the
	 * host's / as the root, it starts where the caller is, so relative
	 * paths mean what they mean outside. */
	if (!o.cwd && !strcmp(o.cfg.root, "/") && getcwd(cwdbuf, sizeof(cwdbuf)) &&
	    !cwd_hidden(&o.cfg, cwdbuf))
		o.cwd = cwdbuf;

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		perror("runsc-c: pipe");
		return 126;
	}
	if (sandbox_start(&sb, &o.cfg) < 0) {
		run_options_free(&o);
		return 126;
	}
	{
		static const int fwd[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
		struct sigaction sa, old;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sa.sa_flags = SA_RESTART;
		/* SIGHUP we were started with ignored stays ignored, not
		 * forwarded: `nohup runsc-c run ...` survives a hangup. The
		 * others are forwarded even then (as Go's signal.Notify does
		 * for docker and runsc): a script that starts us in the
		 * background, which ignores SIGINT, still stops us with it. */
		for (size_t i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++)
			if (fwd[i] != SIGHUP ||
			    (sigaction(fwd[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN))
				sigaction(fwd[i], &sa, NULL);
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, NULL);
	}

	wbuf_init(&w);
	wbuf_put_strv(&w, o.argv);
	wbuf_put_strv(&w, o.env);
	wbuf_put_str(&w, exe ? exe : o.argv[0]);
	wbuf_put_str(&w, o.cwd ? o.cwd : "");
	fds[0] = 0;
	fds[1] = 1;
	fds[2] = 2;
	fds[3] = fd;
	start_seq = sandbox_send(&sb, CTL_START, &w, fds, (unsigned)nfds);
	wbuf_free(&w);
	if (fd >= 0)
		close(fd);
	if (start_seq < 0) {
		fprintf(stderr, "runsc-c: the sentry did not start\n");
		goto out;
	}

	for (;;) {
		struct pollfd p[2] = {{sb.ctl, POLLIN, 0}, {sig_pipe[0], POLLIN, 0}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents & POLLIN) {
			unsigned char s;
			while (read(sig_pipe[0], &s, 1) == 1) {
				if (!pid)
					continue;
				wbuf_init(&w);
				/* ^C and ^\ go to the process group, as a
				 * terminal sends them; others to the process. */
				wbuf_put_u32(&w, s == SIGINT || s == SIGQUIT ? (uint32_t)-(int32_t)pid
									 : pid);
				wbuf_put_u32(&w, s);
				sandbox_send(&sb, CTL_SIGNAL, &w, NULL, 0);
				wbuf_free(&w);
			}
		}
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (sandbox_recv(&sb, &rep) < 0) {
			int st = sandbox_wait_sentry(&sb);
			/* A sentry that could not boot (a mount that
			 * fails, say) said why and exited non-zero. */
			if (!pid && WIFEXITED(st) && WEXITSTATUS(st)) {
				ret = 126;
				break;
			}
			fprintf(stderr, "runsc-c: the sandbox died unexpectedly\n");
			ret = 128 + SIGKILL;
			break;
		}
		if ((int)rep.seq == start_seq) {
			if (rep.err || !rbuf_get_u32(&rep.rd, &pid)) {
				fprintf(stderr, "runsc-c: cannot run %s: %s\n", exe ? exe : o.argv[0],
					*rep.msg ? rep.msg : strerror(rep.err));
				/* 127 is for a program not found, as in shells;
				 * a bad working directory is the caller's setup. */
				ret = rep.err == ENOENT && strncmp(rep.msg, "working directory", 17)
					      ? 127
					      : 126;
				ctl_reply_free(&rep);
				break;
			}
			wbuf_init(&w);
			wbuf_put_u32(&w, pid);
			wait_seq = sandbox_send(&sb, CTL_WAIT, &w, NULL, 0);
			wbuf_free(&w);
		} else if ((int)rep.seq == wait_seq) {
			uint32_t rpid, st;
			if (rep.err || !rbuf_get_u32(&rep.rd, &rpid) || !rbuf_get_u32(&rep.rd, &st)) {
				fprintf(stderr, "runsc-c: wait failed: %s\n", rep.msg);
				ret = 255;
			} else {
				ret = status_to_exit((int)st);
			}
			ctl_reply_free(&rep);
			break;
		}
		ctl_reply_free(&rep);
	}
	sandbox_send(&sb, CTL_SHUTDOWN, NULL, NULL, 0);
out:
	sandbox_close(&sb);
	run_options_free(&o);
	return ret;
}
