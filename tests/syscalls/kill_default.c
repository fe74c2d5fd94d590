/* A signal sent to oneself with its default action in place ends the
 * process; the harness checks the status (128 + the signal):
 *   term      kill(getpid(), SIGTERM)          -> 143
 *   kill      kill(getpid(), SIGKILL)          -> 137
 *   usr1      tgkill(getpid(), gettid(), SIGUSR1) -> 138
 *   abrt      kill(getpid(), SIGABRT)  (core)  -> 134
 *   rt        kill(getpid(), 36)  (real-time)  -> 164
 *   restored  SIGTERM ignored, then back to SIG_DFL, then sent -> 143
 * Returning from the sending call is a failure (status 1). */
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	pid_t pid = getpid();

	if (!strcmp(mode, "term")) {
		kill(pid, SIGTERM);
	} else if (!strcmp(mode, "kill")) {
		kill(pid, SIGKILL);
	} else if (!strcmp(mode, "usr1")) {
		syscall(SYS_tgkill, pid, gettid(), SIGUSR1);
	} else if (!strcmp(mode, "abrt")) {
		kill(pid, SIGABRT);
	} else if (!strcmp(mode, "rt")) {
		/* The raw number: glibc's SIGRTMIN is 34 and the kernel's 32. */
		syscall(SYS_kill, pid, 36);
	} else if (!strcmp(mode, "restored")) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_IGN;
		CHECK_EQ(sigaction(SIGTERM, &sa, NULL), 0);
		CHECK_EQ(kill(pid, SIGTERM), 0);
		sa.sa_handler = SIG_DFL;
		CHECK_EQ(sigaction(SIGTERM, &sa, NULL), 0);
		if (check_failures)
			return 1;
		kill(pid, SIGTERM);
	} else {
		FAIL("unknown mode '%s'", mode);
		return 1;
	}
	FAIL("still alive after the signal (mode %s)", mode);
	return 1;
}
