#include "runsc/run_flags.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "platform/platform.h"

extern char **environ;

static const char usage[] =
	"usage: runsc-c run [FLAGS] -- PROGRAM [ARGS...]\n"
	"  --platform=NAME       how application code runs\n"
	"  --strace              log every system call to stderr\n"
	"  --syscall-patching    (systrap) rewrite hot syscall sites into jumps\n"
	"  --no-syscall-patching (systrap) every syscall traps (the default)\n"
	"  --hostname=NAME       the sandbox's host name\n"
	"  --root=DIR            host directory the sandbox sees as / (default /)\n"
	"  --overlay=memory|none writes to / stay in memory (default), or / is read-only\n"
	"  --mount=type=bind,src=HOST,dst=PATH[,ro]\n"
	"                        a host directory at PATH (read-write binds write through)\n"
	"  --tmpfs=PATH[:size=N] an in-memory filesystem at PATH (N in bytes, or k/m/g)\n"
	"  --cwd=DIR             working directory in the sandbox (default: the\n"
	"                        caller's with the host's / as root, else /)\n"
	"  --env=K=V             set an environment variable (repeatable)\n"
	"  --clear-env           start from an empty environment\n"
	"  --debug               verbose sentry logs\n";

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "runsc-c: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

static bool abs_path(const char *p) { return p[0] == '/'; }

/* A mount point: absolute, not the root itself (that is --root), and
 * without "." or ".." components, which the sandbox would resolve
 * differently from what the user wrote. Returns 0 or 2 with the error
 * printed. */
static int check_dst(const char *flag, const char *dst)
{
	const char *p = dst;

	if (!abs_path(dst))
		return fail("%s: '%s' must be an absolute path", flag, dst);
	while (*p) {
		size_t n;
		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return fail("%s: '%s' must not contain . or .. components", flag, dst);
		p += n;
	}
	if (dst[strspn(dst, "/")] == 0)
		return fail("%s: cannot mount over / (use --root)", flag);
	return 0;
}

static int add_mount(struct run_options *o, const struct sandbox_mount *m)
{
	struct sandbox_mount *n = realloc(o->cfg.mounts,
					  (size_t)(o->cfg.nmounts + 1) * sizeof(*n));
	if (!n)
		return fail("%s", "out of memory");
	o->cfg.mounts = n;
	n[o->cfg.nmounts++] = *m;
	return 0;
}

/* --mount=type=bind,src=HOST,dst=PATH[,ro|rw|readonly] */
static int parse_mount(struct run_options *o, char *arg)
{
	struct sandbox_mount m = {.kind = SANDBOX_BIND};
	char *save = NULL, *kv;
	bool have_type = false;
	struct stat st;

	for (kv = strtok_r(arg, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (!strcmp(kv, "ro") || !strcmp(kv, "readonly")) {
			m.readonly = true;
		} else if (!strcmp(kv, "rw")) {
			m.readonly = false;
		} else if (!eq) {
			return fail("--mount: unknown option '%s'", kv);
		} else {
			*eq = 0;
			const char *v = eq + 1;
			if (!strcmp(kv, "type")) {
				if (strcmp(v, "bind"))
					return fail("--mount: type '%s' is not supported (bind; "
						    "use --tmpfs for tmpfs)", v);
				have_type = true;
			} else if (!strcmp(kv, "src") || !strcmp(kv, "source")) {
				m.src = v;
			} else if (!strcmp(kv, "dst") || !strcmp(kv, "destination") ||
				   !strcmp(kv, "target")) {
				m.dst = v;
			} else {
				return fail("--mount: unknown key '%s'", kv);
			}
		}
	}
	if (!have_type)
		return fail("--mount: %s", "type=bind is required");
	if (!m.src || !m.dst)
		return fail("--mount: %s", "src= and dst= are required");
	if (check_dst("--mount: dst", m.dst))
		return 2;
	if (stat(m.src, &st) < 0)
		return fail("--mount: src '%s': %s", m.src, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail("--mount: src '%s' is not a directory", m.src);
	return add_mount(o, &m);
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	/* strtoull takes leading blanks and a sign ("-1" is ULLONG_MAX). */
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

/* --tmpfs=PATH[:size=N] */
static int parse_tmpfs(struct run_options *o, char *arg)
{
	struct sandbox_mount m = {.kind = SANDBOX_TMPFS, .dst = arg};
	char *colon = strchr(arg, ':');

	if (colon) {
		*colon = 0;
		if (strncmp(colon + 1, "size=", 5) || parse_size(colon + 6, &m.size) < 0 ||
		    m.size == 0)
			return fail("--tmpfs: bad option '%s' (want size=N[k|m|g])", colon + 1);
	}
	if (check_dst("--tmpfs", m.dst))
		return 2;
	return add_mount(o, &m);
}

static int set_env(struct run_options *o, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen, n = 0;
	char **e;

	if (!eq || eq == kv)
		return fail("--env: '%s' is not K=V", kv);
	klen = (size_t)(eq - kv);
	for (n = 0; o->env[n]; n++) {
		if (!strncmp(o->env[n], kv, klen) && o->env[n][klen] == '=') {
			char *dup = strdup(kv);
			if (!dup)
				return fail("%s", "out of memory");
			free(o->env[n]);
			o->env[n] = dup;
			return 0;
		}
	}
	e = realloc(o->env, (n + 2) * sizeof(*e));
	if (!e || !(e[n] = strdup(kv)))
		return fail("%s", "out of memory");
	e[n + 1] = NULL;
	o->env = e;
	return 0;
}

int run_flags_parse(int argc, char **argv, struct run_options *o)
{
	static const struct option opts[] = {
		{"platform", required_argument, NULL, 'p'},
		{"strace", no_argument, NULL, 's'},
		{"syscall-patching", no_argument, NULL, 'P'},
		{"no-syscall-patching", no_argument, NULL, 'N'},
		{"hostname", required_argument, NULL, 'H'},
		{"debug", no_argument, NULL, 'd'},
		{"root", required_argument, NULL, 'r'},
		{"overlay", required_argument, NULL, 'o'},
		{"mount", required_argument, NULL, 'm'},
		{"tmpfs", required_argument, NULL, 't'},
		{"cwd", required_argument, NULL, 'c'},
		{"env", required_argument, NULL, 'e'},
		{"clear-env", no_argument, NULL, 'E'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool clear_env = false;
	char **sets = NULL;
	size_t nsets = 0;
	struct stat st;
	int c, r = 0;

	memset(o, 0, sizeof(*o));
	o->cfg.platform = PLATFORM_DEFAULT;
	o->cfg.syscall_patching = PLATFORM_PATCHING_DEFAULT;
	o->cfg.root = "/";
	o->cfg.overlay = true;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!platform_exists(optarg)) {
				fprintf(stderr, "runsc-c: unknown platform '%s' (have: %s)\n",
					optarg, platform_names());
				r = 2;
				goto out;
			}
			o->cfg.platform = optarg;
			break;
		case 's':
			o->cfg.strace = true;
			break;
		case 'P':
			o->cfg.syscall_patching = true;
			break;
		case 'N':
			o->cfg.syscall_patching = false;
			break;
		case 'H':
			if (strlen(optarg) > 64 || !*optarg) {
				r = fail("--hostname must be 1 to 64 bytes%s", "");
				goto out;
			}
			o->cfg.hostname = optarg;
			break;
		case 'd':
			o->cfg.debug = true;
			break;
		case 'r':
			if (stat(optarg, &st) < 0 || !S_ISDIR(st.st_mode)) {
				r = fail("--root: '%s' is not a directory", optarg);
				goto out;
			}
			o->cfg.root = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "memory") && strcmp(optarg, "none")) {
				r = fail("--overlay must be memory or none, not '%s'", optarg);
				goto out;
			}
			o->cfg.overlay = !strcmp(optarg, "memory");
			break;
		case 'm':
			if ((r = parse_mount(o, optarg)))
				goto out;
			break;
		case 't':
			if ((r = parse_tmpfs(o, optarg)))
				goto out;
			break;
		case 'c':
			if (!abs_path(optarg)) {
				r = fail("--cwd: '%s' must be an absolute path", optarg);
				goto out;
			}
			o->cwd = optarg;
			break;
		case 'e': {
			char **n = realloc(sets, (nsets + 1) * sizeof(*n));
			if (!n) {
				r = fail("%s", "out of memory");
				goto out;
			}
			sets = n;
			sets[nsets++] = optarg;
			break;
		}
		case 'E':
			clear_env = true;
			break;
		case 'h':
			fputs(usage, stdout);
			r = 1;
			goto out;
		default:
			if (optopt) {
				/* Name the flag as it was given, not getopt's
				 * letter for it. */
				const char *given = argv[optind - 1];
				if (given[0] == '-' && given[1] != '-')
					fprintf(stderr, "runsc-c: run: unknown flag '%s'\n", given);
				else
					fprintf(stderr, "runsc-c: run: flag '%s' %s\n", given,
						strchr(given, '=') ? "takes no value"
								   : "needs a value");
			} else
				fprintf(stderr, "runsc-c: run: unknown flag '%s'\n", argv[optind - 1]);
			r = 2;
			goto out;
		}
	}
	if (optind >= argc) {
		r = fail("run: no program given (usage: runsc-c run [FLAGS] -- PROGRAM [ARGS...])%s",
			 "");
		goto out;
	}
	o->argv = argv + optind;
	/* The environment: the caller's unless cleared, then each --env. */
	o->env = calloc(1, sizeof(*o->env));
	if (!o->env) {
		r = fail("%s", "out of memory");
		goto out;
	}
	for (char **e = clear_env ? NULL : environ; e && *e; e++)
		if (strchr(*e, '=') && (r = set_env(o, *e)))
			goto out;
	for (size_t i = 0; i < nsets; i++)
		if ((r = set_env(o, sets[i])))
			goto out;
out:
	free(sets);
	return r;
}

void run_options_free(struct run_options *o)
{
	if (o->env)
		for (size_t i = 0; o->env[i]; i++)
			free(o->env[i]);
	free(o->env);
	free(o->cfg.mounts);
}
