/* `runsc-c boot`: the sentry process. Started by the front end with a
 * control channel; boots the platform (whose stub factory is forked
 * before anything else happens), confines itself, then serves requests. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "lib/log.h"
#include "platform/platform.h"
#include "sentry/boot.h"
#include "sentry/confine.h"
#include "sentry/control.h"
#include "sentry/fs/mounts.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"

int sentry_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"control-fd", required_argument, NULL, 'c'},
		{"platform", required_argument, NULL, 'p'},
		{"strace", no_argument, NULL, 's'},
		{"syscall-patching", no_argument, NULL, 'P'},
		{"no-syscall-patching", no_argument, NULL, 'N'},
		{"debug", no_argument, NULL, 'd'},
		{"hostname", required_argument, NULL, 'h'},
		{"gofer-fd", required_argument, NULL, 'g'},
		{"overlay", required_argument, NULL, 'o'},
		{"mount", required_argument, NULL, 'm'},
		{NULL, 0, NULL, 0},
	};
	struct fs_config fsc = {.gofer_fd = -1, .overlay = true};
	struct sentry_config cfg = {.platform = PLATFORM_DEFAULT};
	enum log_level lvl = LOG_LVL_WARN;
	int ctl = -1, c, ret;

	snprintf(cfg.hostname, sizeof(cfg.hostname), "runsc-c");
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ctl = atoi(optarg);
			break;
		case 'p':
			cfg.platform = optarg;
			break;
		case 's':
			cfg.strace = true;
			break;
		case 'P':
			platform_syscall_patching = true;
			break;
		case 'N':
			platform_syscall_patching = false;
			break;
		case 'd':
			lvl = LOG_LVL_DEBUG;
			break;
		case 'h':
			snprintf(cfg.hostname, sizeof(cfg.hostname), "%s", optarg);
			break;
		case 'g':
			fsc.gofer_fd = atoi(optarg);
			break;
		case 'o':
			fsc.overlay = !strcmp(optarg, "memory");
			break;
		case 'm': {
			struct mount_spec *n = realloc(fsc.mounts,
						       (size_t)(fsc.nmounts + 1) * sizeof(*n));
			if (!n)
				return 1;
			fsc.mounts = n;
			if (mount_spec_parse(optarg, &fsc.mounts[fsc.nmounts]) < 0) {
				fprintf(stderr, "runsc-c boot: bad --mount '%s'\n", optarg);
				return 2;
			}
			fsc.nmounts++;
			break;
		}
		default:
			return 2;
		}
	}
	log_init("runsc-c", 2, lvl);
	if (ctl < 0) {
		log_err("boot: --control-fd is required");
		return 2;
	}
	/* Out of the front end's session: terminal signals go to it, and it
	 * forwards what the sandbox should see. */
	setsid();
	signal_init_sentry();
	kernel_init(&cfg);
	ret = platform_init(cfg.platform);
	if (ret < 0) {
		log_err("cannot start the %s platform: %s", cfg.platform, strerror(-ret));
		return 1;
	}
	ret = fs_setup(&fsc);
	/* The mount tree holds what it needs of the specs. */
	for (int i = 0; i < fsc.nmounts; i++)
		free(fsc.mounts[i].dst);
	free(fsc.mounts);
	if (ret < 0)
		return 1;
	ret = sentry_confine();
	if (ret < 0)
		return 1;
	control_serve(ctl);
	/* Task threads may still be unwinding; exit the whole process. */
	_exit(0);
}
