/* The shared anonymous inode's attributes. */
#include "sentry/fs/anon/anon.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"

/* Linux's anon_inodefs takes an anonymous device like any pseudo
 * filesystem, and its one inode is made at boot: its times are when the
 * first anonymous file was made here. */
#define ANON_INO 1

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct timespec born;
static uint64_t anon_dev;

static void init_anon(void)
{
	clock_gettime(CLOCK_REALTIME, &born);
	anon_dev = vfs_anon_dev();
}

int anon_stat(struct file *f, struct k_stat *st)
{
	(void)f;
	pthread_once(&once, init_anon);
	memset(st, 0, sizeof(*st));
	st->st_dev = anon_dev;
	st->st_ino = ANON_INO;
	st->st_nlink = 1;
	st->st_mode = 0600; /* no file type bits, as Linux shows */
	st->st_blksize = 4096;
	st->st_atime_sec = st->st_mtime_sec = st->st_ctime_sec = (uint64_t)born.tv_sec;
	st->st_atime_nsec = st->st_mtime_nsec = st->st_ctime_nsec = (uint64_t)born.tv_nsec;
	return 0;
}
