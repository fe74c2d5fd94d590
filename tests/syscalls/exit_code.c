/* How a process's exit status is formed. The mode argument picks the
 * way out; the harness checks the status:
 *   (none)      exit_group(42)           -> 42
 *   exit        exit(256 + 3) via libc   -> 3
 *   sys_exit    exit(5), the last thread -> 5
 *   return      return 300 from main     -> 44
 *   negative    exit_group(-1)           -> 255
 * Reaching the end of a mode is a failure (status 1). */
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (!strcmp(mode, "")) {
		syscall(SYS_exit_group, 42);
		FAIL("exit_group returned");
	} else if (!strcmp(mode, "exit")) {
		exit(256 + 3);
	} else if (!strcmp(mode, "sys_exit")) {
		syscall(SYS_exit, 5);
		FAIL("exit returned");
	} else if (!strcmp(mode, "return")) {
		return 300;
	} else if (!strcmp(mode, "negative")) {
		syscall(SYS_exit_group, -1);
		FAIL("exit_group returned");
	} else {
		FAIL("unknown mode '%s'", mode);
	}
	return 1;
}
