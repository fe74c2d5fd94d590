/* `runsc-c gofer --fd=N --root=DIR [--bind=INDEX:HOSTDIR[:ro]]...
 * [--root-readonly] [--debug]`: the gofer process of one sandbox. It opens
 * its mounts, drops every other fd, confines itself (mount namespace,
 * capabilities, seccomp) and serves the channel until the sentry closes
 * it. Exit status: 0 when the channel closed, 1 on a protocol error or a
 * failure to start, 2 for bad arguments. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gofer/gofer.h"
#include "lib/log.h"

/* "INDEX:HOSTDIR[:ro]" into mounts[INDEX]. */
static int parse_bind(const char *arg, struct gofer_state *g)
{
	char *end, *dir;
	unsigned long idx = strtoul(arg, &end, 10);
	size_t n;

	if (end == arg || *end != ':' || idx == 0 || idx >= GOFER_MOUNTS_MAX)
		return -EINVAL;
	if ((int)idx >= g->nmounts) {
		struct gofer_mount *m = realloc(g->mounts, (idx + 1) * sizeof(*m));
		if (!m)
			return -ENOMEM;
		for (int i = g->nmounts; i <= (int)idx; i++)
			m[i] = (struct gofer_mount){.fd = -1};
		g->mounts = m;
		g->nmounts = (int)idx + 1;
	}
	if (g->mounts[idx].host)
		return -EINVAL; /* given twice */
	dir = strdup(end + 1);
	if (!dir)
		return -ENOMEM;
	n = strlen(dir);
	if (n > 3 && !strcmp(dir + n - 3, ":ro")) {
		dir[n - 3] = 0;
		g->mounts[idx].readonly = true;
	}
	if (!dir[0]) {
		free(dir);
		return -EINVAL;
	}
	g->mounts[idx].host = dir;
	return 0;
}

static int parse_args(int argc, char **argv, struct gofer_state *g, enum log_level *lvl)
{
	static const struct option opts[] = {
		{"fd", required_argument, NULL, 'f'},
		{"root", required_argument, NULL, 'r'},
		{"bind", required_argument, NULL, 'b'},
		{"root-readonly", no_argument, NULL, 'R'},
		{"debug", no_argument, NULL, 'd'},
		{NULL, 0, NULL, 0},
	};
	bool root_ro = false;
	char *root = NULL, *end;
	int c;

	g->chan = -1;
	g->mounts = calloc(1, sizeof(*g->mounts));
	if (!g->mounts)
		return -ENOMEM;
	g->mounts[0].fd = -1;
	g->nmounts = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			g->chan = (int)strtol(optarg, &end, 10);
			if (*end || g->chan < 0)
				return -EINVAL;
			break;
		case 'r':
			root = optarg;
			break;
		case 'b':
			if (parse_bind(optarg, g) < 0) {
				fprintf(stderr, "runsc-c gofer: bad --bind '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'R':
			root_ro = true;
			break;
		case 'd':
			*lvl = LOG_LVL_DEBUG;
			break;
		default:
			return -EINVAL;
		}
	}
	if (g->chan < 0 || !root || optind != argc) {
		fprintf(stderr, "usage: runsc-c gofer --fd=N --root=DIR "
				"[--bind=INDEX:HOSTDIR[:ro]]... [--root-readonly] [--debug]\n");
		return -EINVAL;
	}
	for (int i = 1; i < g->nmounts; i++) {
		if (!g->mounts[i].host) {
			fprintf(stderr, "runsc-c gofer: --bind indexes must be 1..n\n");
			return -EINVAL;
		}
	}
	g->mounts[0].host = strdup(root);
	g->mounts[0].readonly = root_ro;
	return g->mounts[0].host ? 0 : -ENOMEM;
}

static int open_mounts(struct gofer_state *g)
{
	for (int i = 0; i < g->nmounts; i++) {
		g->mounts[i].fd = open(g->mounts[i].host, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (g->mounts[i].fd < 0) {
			log_err("cannot open %s: %s", g->mounts[i].host, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Closes every fd but stderr (the log), the channel and the mounts. */
static int close_others(const struct gofer_state *g)
{
	int keep[GOFER_MOUNTS_MAX + 2], n = 0, from = 0;

	keep[n++] = 2;
	keep[n++] = g->chan;
	for (int i = 0; i < g->nmounts; i++)
		keep[n++] = g->mounts[i].fd;
	qsort(keep, (size_t)n, sizeof(int), cmp_int);
	for (int i = 0; i < n; i++) {
		if (keep[i] > from && syscall(SYS_close_range, from, keep[i] - 1, 0) < 0)
			return -errno;
		from = keep[i] + 1;
	}
	return syscall(SYS_close_range, from, ~0U, 0) < 0 ? -errno : 0;
}

static int check_channel(int fd)
{
	int type;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return -errno;
	return type == SOCK_SEQPACKET ? 0 : -EPROTOTYPE;
}

static void free_state(struct gofer_state *g)
{
	for (int i = 0; i < g->nmounts; i++) {
		if (g->mounts[i].fd >= 0)
			close(g->mounts[i].fd);
		free(g->mounts[i].host);
	}
	free(g->mounts);
}

int gofer_main(int argc, char **argv)
{
	struct gofer_state g = {0};
	enum log_level lvl = LOG_LVL_WARN;
	struct rlimit rl;
	int e;

	e = parse_args(argc, argv, &g, &lvl);
	if (e < 0) {
		free_state(&g);
		return 2;
	}
	log_init("runsc-c gofer", 2, lvl);
	/* Dies with the front end that started it, and with the channel. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	e = check_channel(g.chan);
	if (e < 0) {
		log_err("--fd=%d is not a seqpacket socket: %s", g.chan, strerror(-e));
		goto fail;
	}
	/* Modes are the sentry's, exact; umask is its business. */
	umask(0);
	/* Directory nodes cache fds: take all the host allows. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
			getrlimit(RLIMIT_NOFILE, &rl);
		}
		/* Half for directory fds; the rest for requests in flight. */
		node_set_fd_budget(rl.rlim_cur == RLIM_INFINITY ? 65536 : rl.rlim_cur / 2);
	}
	e = open_mounts(&g);
	if (e == 0)
		e = close_others(&g);
	if (e == 0)
		e = confine_mount_ns(&g);
	if (e == 0)
		e = confine_caps();
	if (e == 0)
		e = confine_seccomp(&g);
	if (e < 0) {
		log_err("cannot start: %s", strerror(-e));
		goto fail;
	}
	log_debug("serving %d mount(s) on fd %d", g.nmounts, g.chan);
	e = gofer_serve(&g);
	node_table_free();
	free_state(&g);
	/* _exit: nothing at exit may run a call the filter refuses. */
	_exit(e == 0 ? 0 : 1);
fail:
	free_state(&g);
	return 1;
}
