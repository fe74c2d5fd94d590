/* The sandbox's filesystem tree, built at boot from the configuration the
 * front end passes: the root (a gofer mount under an in-memory overlay,
 * or read-only), the standard mounts (/proc, /dev, /dev/shm, /sys), and
 * the user's bind and tmpfs mounts. */
#ifndef RC_SENTRY_FS_MOUNTS_H
#define RC_SENTRY_FS_MOUNTS_H

#include <stdbool.h>
#include <stdint.h>

enum mount_kind {
	MOUNT_BIND,   /* a host directory served by the gofer */
	MOUNT_TMPFS,
};

struct mount_spec {
	enum mount_kind kind;
	char *dst;             /* absolute path in the sandbox */
	uint32_t gofer_index;  /* MOUNT_BIND: the gofer's mount number */
	bool readonly;
	uint64_t size;         /* MOUNT_TMPFS: bytes, 0 for no limit */
};

struct fs_config {
	int gofer_fd;          /* channel to the gofer, or -1 for no host files */
	bool overlay;          /* root writes go to memory (else the root is read-only) */
	struct mount_spec *mounts;
	int nmounts;
};

/* Parses one --mount argument of `runsc-c boot`:
 * "bind:INDEX:DST[:ro]" or "tmpfs:DST[:SIZE]". */
int mount_spec_parse(const char *arg, struct mount_spec *out);

/* Builds the mount tree. Returns 0 or -errno with a message logged. */
int fs_setup(const struct fs_config *cfg);

#endif
