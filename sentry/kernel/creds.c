#include "sentry/kernel/creds.h"

#include <string.h>

/* The first process runs as root inside the sandbox, as in a container:
 * every capability, none of which reaches the host. */
void creds_init_root(struct creds *c)
{
	memset(c, 0, sizeof(*c));
	c->cap_effective = c->cap_permitted = c->cap_bounding = (1ULL << 41) - 1;
}

bool creds_in_group(const struct creds *c, uint32_t gid)
{
	for (uint32_t i = 0; i < c->ngroups; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}
