/* Shared by the synthetic filesystem helper's files. */
#ifndef RC_SENTRY_FS_SYNTH_SYNTH_INTERNAL_H
#define RC_SENTRY_FS_SYNTH_SYNTH_INTERNAL_H

#include "sentry/fs/synth/synth.h"
#include "sentry/vfs/file.h"

extern const struct inode_ops synth_dir_iops, synth_file_iops, synth_link_iops,
	synth_magic_link_iops;

uint64_t synth_child_ino(uint64_t parent, const char *name);
int synth_getattr(struct inode *in, struct vfs_attr *a);
void synth_release(struct inode *in);
/* lseek of synthetic files and directories: SEEK_SET and SEEK_CUR to
 * a non-negative offset, as Linux's seq_lseek. */
int64_t synth_llseek(struct file *f, int64_t off, int whence);

#endif
