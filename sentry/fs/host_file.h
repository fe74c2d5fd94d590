/* Files backed by a host fd the sentry was handed (the first process's
 * stdio): reads and writes go to the host fd. */
#ifndef RC_SENTRY_FS_HOST_FILE_H
#define RC_SENTRY_FS_HOST_FILE_H

struct file;

/* Takes ownership of hostfd. */
struct file *host_file_new(int hostfd);

struct k_stat;
/* fstat of a host fd through the raw fstat syscall. */
int host_fstat(int fd, struct k_stat *st);

#endif
