/* Emulated credentials. Nothing here touches host credentials: the sentry
 * runs as its own host user, and these are what the application sees. */
#ifndef RC_SENTRY_KERNEL_CREDS_H
#define RC_SENTRY_KERNEL_CREDS_H

#include <stdbool.h>
#include <stdint.h>

#define CREDS_MAX_GROUPS 65536

struct creds {
	uint32_t ruid, euid, suid, fsuid;
	uint32_t rgid, egid, sgid, fsgid;
	uint64_t cap_effective, cap_permitted, cap_inheritable, cap_bounding;
	uint32_t ngroups;
	uint32_t *groups;    /* supplementary groups, sorted; malloc'd */
};

void creds_init_root(struct creds *c);
bool creds_in_group(const struct creds *c, uint32_t gid);

#endif
