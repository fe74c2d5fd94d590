/* Flags of `runsc-c run`, parsed into a sandbox configuration and the
 * process to start. */
#ifndef RC_RUNSC_RUN_FLAGS_H
#define RC_RUNSC_RUN_FLAGS_H

#include "runsc/sandbox.h"

struct run_options {
	struct sandbox_config cfg;
	const char *cwd;      /* in the sandbox; NULL for "/" */
	char **env;           /* malloc'd vector, NULL-terminated */
	char **argv;          /* points into the caller's argv */
};

/* Parses argv (argv[0] is "run"). Returns 0, 1 if --help was printed,
 * or 2 with a one-line error printed. */
int run_flags_parse(int argc, char **argv, struct run_options *o);
void run_options_free(struct run_options *o);

#endif
