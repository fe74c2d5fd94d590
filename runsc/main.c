/* The runsc-c command: subcommands for users (run) and the hidden ones
 * the command runs itself as (boot: the sentry). */
#include <stdio.h>
#include <string.h>

#include "gofer/gofer.h"
#include "platform/platform.h"
#include "runsc/commands.h"
#include "sentry/boot.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: runsc-c COMMAND [FLAGS] [ARGS]\n"
		"\n"
		"commands:\n"
		"  run [FLAGS] -- PROGRAM [ARGS...]   run a program in a new sandbox\n"
		"  version                            print the version\n"
		"  help                               this text\n"
		"\n"
		"run flags:\n"
		"  --platform=NAME   how application code is run (%s; default %s)\n"
		"  --strace          log every system call of the sandbox to stderr\n"
		"  --hostname=NAME   the sandbox's host name (default runsc-c)\n"
		"  --debug           verbose logs from the sentry\n",
		platform_names(), PLATFORM_DEFAULT);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "boot"))
		return sentry_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "gofer"))
		return gofer_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("runsc-c version %s\n", RUNSC_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "runsc-c: unknown command '%s' (try 'runsc-c help')\n", argv[1]);
	return 2;
}
