/* Helpers for the file syscall test programs: a private scratch
 * directory under /tmp (created, since the sandbox's root starts empty),
 * removed with everything in it at the end, and small file utilities. */
#ifndef RC_TESTS_SYSCALLS_FS_UTIL_H
#define RC_TESTS_SYSCALLS_FS_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

static char fs_tmpdir[32]; /* "/tmp/sc-XXXXXX" */

/* Creates /tmp if needed, then a fresh directory in it, and makes it the
 * working directory. Returns 0, or -1 after reporting a failure. */
static __attribute__((unused)) int fs_setup(void)
{
	strcpy(fs_tmpdir, "/tmp/sc-XXXXXX");
	if (mkdir("/tmp", 01777) < 0 && errno != EEXIST) {
		FAIL("mkdir /tmp: %s", check_errname(errno));
		return -1;
	}
	if (!mkdtemp(fs_tmpdir)) {
		FAIL("mkdtemp: %s", check_errname(errno));
		return -1;
	}
	if (chdir(fs_tmpdir) < 0) {
		FAIL("chdir %s: %s", fs_tmpdir, check_errname(errno));
		return -1;
	}
	return 0;
}

/* Removes name (in dirfd) and, for a directory, everything below it. */
static __attribute__((unused)) void fs_remove_at(int at, const char *name)
{
	struct stat st;
	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
		if (fd >= 0) {
			/* Searchable and writable whatever a test left. */
			fchmod(fd, 0700);
			DIR *d = fdopendir(fd);
			if (d) {
				struct dirent *e;
				while ((e = readdir(d))) {
					if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
						fs_remove_at(dirfd(d), e->d_name);
				}
				closedir(d);
			} else {
				close(fd);
			}
		}
		if (unlinkat(at, name, AT_REMOVEDIR) < 0)
			FAIL("cleanup: rmdir %s: %s", name, check_errname(errno));
	} else if (unlinkat(at, name, 0) < 0) {
		FAIL("cleanup: unlink %s: %s", name, check_errname(errno));
	}
}

/* Leaves the scratch directory and removes it. */
static __attribute__((unused)) void fs_cleanup(void)
{
	if (!fs_tmpdir[0])
		return;
	if (chdir("/") < 0)
		FAIL("chdir /: %s", check_errname(errno));
	fs_remove_at(AT_FDCWD, fs_tmpdir);
	struct stat st;
	CHECK_ERR(lstat(fs_tmpdir, &st), ENOENT);
}

/* Writes a whole string into a new file (mode 0644). */
static __attribute__((unused)) void fs_put(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		FAIL("create %s: %s", path, check_errname(errno));
		return;
	}
	size_t n = strlen(s);
	if (write(fd, s, n) != (ssize_t)n)
		FAIL("write %s: %s", path, check_errname(errno));
	close(fd);
}

/* The inode number behind path (following links), or 0. */
static __attribute__((unused)) ino_t fs_ino(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

/* Whether path exists (without following a final link). */
static __attribute__((unused)) int fs_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

#endif
