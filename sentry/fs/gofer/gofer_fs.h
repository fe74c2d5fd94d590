/* The gofer client filesystem: host files reached through the gofer
 * process (gofer/protocol.h). Attributes, symlink targets and directory
 * listings are cached in the inodes: the host tree is assumed not to
 * change under a running sandbox (DESIGN.md, "exclusive" access), so a
 * name walked once costs no further round trip, and a name listed costs
 * none at all (ReaddirPlus, listing.c). */
#ifndef RC_SENTRY_FS_GOFER_GOFER_FS_H
#define RC_SENTRY_FS_GOFER_GOFER_FS_H

#include <stdbool.h>
#include <stdint.h>

struct superblock;
struct inode;

#define GOFERFS_MAGIC 0x01021997 /* V9FS_MAGIC, as gVisor reports its gofer mounts */

/* Takes the channel to the gofer (a SOCK_SEQPACKET socket), once at boot.
 * Returns 0 or -errno. */
int goferfs_attach(int chan_fd);

/* Mounts the gofer's mount number index (0: the root, 1..n: the binds):
 * a new superblock and its referenced root inode. readonly makes the
 * superblock read-only (it is also when the gofer exports it so). */
int goferfs_mount(uint32_t index, bool readonly, struct superblock **sb,
		  struct inode **root);

/* How many requests of a type (enum gofer_type) were sent so far: for
 * tests and debugging. */
uint64_t goferfs_rpc_count(uint32_t type);

#endif
