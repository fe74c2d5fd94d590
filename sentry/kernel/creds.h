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

/* creds_change.c: the set*id system calls' rules. -1 leaves an id as it
 * is. Return 0 or -EPERM/-EINVAL. keepcaps: PR_SET_KEEPCAPS. */
int creds_setuid(struct creds *c, uint32_t uid, bool keepcaps);
int creds_setgid(struct creds *c, uint32_t gid);
int creds_setreuid(struct creds *c, uint32_t r, uint32_t e, bool keepcaps);
int creds_setregid(struct creds *c, uint32_t r, uint32_t e);
int creds_setresuid(struct creds *c, uint32_t r, uint32_t e, uint32_t s, bool keepcaps);
int creds_setresgid(struct creds *c, uint32_t r, uint32_t e, uint32_t s);
/* Return the old fs id (the call never fails). */
uint32_t creds_setfsuid(struct creds *c, uint32_t uid);
uint32_t creds_setfsgid(struct creds *c, uint32_t gid);
int creds_setgroups(struct creds *c, const uint32_t *groups, uint32_t n);
bool creds_in_group(const struct creds *c, uint32_t gid);

#endif
