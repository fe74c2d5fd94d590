/* tmpfs: a filesystem in sentry memory. Regular file data lives in a
 * memfd per file, so files can be mapped into stubs and stay coherent
 * with read and write. It is the writable upper layer of the root overlay
 * and what --tmpfs mounts. */
#ifndef RC_SENTRY_FS_TMPFS_H
#define RC_SENTRY_FS_TMPFS_H

#include <stdbool.h>
#include <stdint.h>

struct superblock;
struct inode;
struct creds;

#define TMPFS_MAGIC 0x01021994

/* A new tmpfs; size_limit 0 means no limit beyond memory. The root
 * directory gets mode (with S_IFDIR) and owner c. */
struct superblock *tmpfs_new(uint64_t size_limit, uint32_t mode, const struct creds *c,
			     struct inode **root);

/* For the overlay: whether in is a whiteout (a 0:0 character device). */
bool tmpfs_is_whiteout(struct inode *in);

#endif
