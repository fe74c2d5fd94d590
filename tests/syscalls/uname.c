/* uname(2): what every field must look like on Linux x86-64. */
#include <ctype.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "check.h"

/* NUL-terminated within its field. */
#define TERMINATED(f) (memchr((f), 0, sizeof(f)) != NULL)

int main(void)
{
	struct utsname u, raw;
	const char *r;
	int digits = 0, dots = 0;

	memset(&u, 'x', sizeof(u));
	CHECK_EQ(uname(&u), 0);
	CHECK(TERMINATED(u.sysname));
	CHECK(TERMINATED(u.nodename));
	CHECK(TERMINATED(u.release));
	CHECK(TERMINATED(u.version));
	CHECK(TERMINATED(u.machine));
	CHECK(TERMINATED(u.domainname));

	CHECK(!strcmp(u.sysname, "Linux"));
	CHECK(!strcmp(u.machine, "x86_64"));
	CHECK(u.nodename[0] != 0);
	CHECK(u.version[0] != 0);

	/* The release is "MAJOR.MINOR[.PATCH][anything]". */
	for (r = u.release; isdigit((unsigned char)*r) || *r == '.'; r++) {
		digits += isdigit((unsigned char)*r) != 0;
		dots += *r == '.';
	}
	CHECK(isdigit((unsigned char)u.release[0]));
	CHECK(digits >= 2);
	CHECK(dots >= 1);
	CHECK(u.release[0] != '0');

	/* The raw call fills the same structure. */
	memset(&raw, 0, sizeof(raw));
	CHECK_EQ(syscall(SYS_uname, &raw), 0);
	CHECK(!memcmp(&raw, &u, sizeof(u)));
	CHECK_ERR(syscall(SYS_uname, (void *)8), EFAULT);
	CHECK_ERR(syscall(SYS_uname, (void *)0xffff800000000000UL), EFAULT);
	fprintf(stdout, "%s %s %s %s\n", u.sysname, u.nodename, u.release, u.machine);
	return check_exit();
}
