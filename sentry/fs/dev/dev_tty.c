/* /dev/tty (5,0): the controlling terminal. Until the sandbox has
 * terminals of its own (PTYs), the controlling terminal of every process
 * is the host terminal the sandbox's first process got as stdin, when it
 * got one (devfs_set_console); opening /dev/tty then opens that terminal
 * as an imported host file. Without one, the open fails with ENXIO, as
 * Linux's does for a process without a controlling terminal. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "sentry/fs/dev/dev_internal.h"
#include "sentry/fs/host_file.h"
#include "sentry/vfs/file.h"

static pthread_mutex_t console_lock = PTHREAD_MUTEX_INITIALIZER;
static int console_fd = -1;

void devfs_set_console(int hostfd)
{
	int fd = -1;

	if (hostfd >= 0 && isatty(hostfd))
		fd = fcntl(hostfd, F_DUPFD_CLOEXEC, 3);
	pthread_mutex_lock(&console_lock);
	if (console_fd >= 0)
		close(console_fd);
	console_fd = fd;
	pthread_mutex_unlock(&console_lock);
}

static int tty_open(struct inode *in, struct file *f)
{
	struct file *host;
	int fd;

	(void)in;
	pthread_mutex_lock(&console_lock);
	fd = console_fd >= 0 ? fcntl(console_fd, F_DUPFD_CLOEXEC, 3) : -1;
	pthread_mutex_unlock(&console_lock);
	if (fd < 0)
		return -ENXIO;
	host = host_file_new(fd);
	if (!host) {
		close(fd);
		return -ENOMEM;
	}
	/* Take over the host file's operations and state; the shell object
	 * is dropped without releasing them. */
	f->ops = host->ops;
	f->priv = host->priv;
	host->ops = NULL;
	host->priv = NULL;
	file_put(host);
	return 0;
}

int dev_tty_register(void)
{
	return vfs_register_chrdev(5, 0, tty_open);
}
