/* /sys/devices/system/cpu: the CPU lists parse as Linux's "0-3,5"
 * format and agree with what glibc derives from them. */
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

/* CPUs in a list like "0-3,5\n", or -1 if it does not parse. */
static int count_list(const char *s)
{
	int n = 0;

	for (;;) {
		char *end;
		long a = strtol(s, &end, 10), b;
		if (end == s || a < 0)
			return -1;
		b = a;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a)
				return -1;
		}
		n += (int)(b - a + 1);
		if (*end == '\n' && !end[1])
			return n;
		if (*end != ',')
			return -1;
		s = end + 1;
	}
}

static int read_list(const char *path)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		FAIL("open %s: %s", path, check_errname(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		FAIL("read %s", path);
		return -1;
	}
	buf[n] = 0;
	return count_list(buf);
}

int main(void)
{
	int online = read_list("/sys/devices/system/cpu/online");
	int possible = read_list("/sys/devices/system/cpu/possible");
	int present = read_list("/sys/devices/system/cpu/present");
	struct stat st;

	CHECK(online >= 1);
	CHECK(possible >= online);
	CHECK(present >= online);
	/* glibc reads the same file. */
	CHECK_EQ(sysconf(_SC_NPROCESSORS_ONLN), online);
	CHECK_EQ(stat("/sys/devices/system/cpu/cpu0", &st), 0);
	CHECK(S_ISDIR(st.st_mode));
	/* Read-only files refuse writers, root included (EROFS where /sys is
	 * mounted read-only, as container runtimes do). */
	errno = 0;
	CHECK_EQ(open("/sys/devices/system/cpu/online", O_WRONLY), -1);
	CHECK(errno == EACCES || errno == EROFS);
	return check_exit();
}
