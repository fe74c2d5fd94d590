/* memfd_create(2): anonymous tmpfs files, with file seals. */
#ifndef RC_SENTRY_FS_MEMFD_H
#define RC_SENTRY_FS_MEMFD_H

struct task;
struct file;

/* Linux's MFD_NAME_MAX_LEN: NAME_MAX less "memfd:". */
#define MEMFD_NAME_MAX 249

/* A new memfd named name (shown as "/memfd:NAME (deleted)"), readable
 * and writable, owned by t's fs ids. flags: MFD_ALLOW_SEALING (without
 * it the file starts sealed with F_SEAL_SEAL); the caller has checked
 * the rest. */
int memfd_new(struct task *t, const char *name, unsigned flags, struct file **out);

#endif
