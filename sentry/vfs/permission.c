/* Permission checks against the emulated credentials, as Linux's
 * generic_permission with the capabilities a sandbox root has. */
#include <errno.h>
#include <sys/stat.h>

#include "sentry/kernel/creds.h"
#include "sentry/vfs/vfs.h"

#define CAP_CHOWN 0
#define CAP_DAC_OVERRIDE 1
#define CAP_DAC_READ_SEARCH 2
#define CAP_FOWNER 3

bool creds_capable(const struct creds *c, int cap)
{
	return (c->cap_effective >> cap) & 1;
}

int vfs_permission(struct inode *in, int mask, const struct creds *c)
{
	struct vfs_attr a;
	uint32_t mode;
	int r = inode_getattr(in, &a);

	if (r < 0)
		return r;
	mode = a.mode;
	if (c->fsuid == a.uid)
		mode >>= 6;
	else if (c->fsgid == a.gid || creds_in_group(c, a.gid))
		mode >>= 3;
	if ((mask & ~mode & 7) == 0)
		return 0;
	/* Capabilities: read and search override for everyone with
	 * CAP_DAC_READ_SEARCH; all but executing a file with no x bit for
	 * CAP_DAC_OVERRIDE. */
	if (creds_capable(c, CAP_DAC_OVERRIDE)) {
		if (!(mask & MAY_EXEC) || S_ISDIR(a.mode) || (a.mode & 0111))
			return 0;
	}
	if (creds_capable(c, CAP_DAC_READ_SEARCH)) {
		if (mask == MAY_READ || (S_ISDIR(a.mode) && !(mask & MAY_WRITE)))
			return 0;
	}
	return -EACCES;
}

bool vfs_owner_or_capable(struct inode *in, const struct creds *c)
{
	struct vfs_attr a;
	if (inode_getattr(in, &a) < 0)
		return false;
	return c->fsuid == a.uid || creds_capable(c, CAP_FOWNER);
}
