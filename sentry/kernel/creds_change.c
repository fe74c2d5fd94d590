/* Changing credentials: the set*id rules of credentials(7) and the
 * capability transitions of capabilities(7), on the emulated ids. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/kernel/creds.h"
#include "sentry/vfs/vfs.h"

#define CAP_SETGID 6
#define CAP_SETUID 7
#define NOCHANGE ((uint32_t)-1)
/* The capabilities that follow fsuid (CAP_FS_MASK). */
#define CAP_FS_MASK ((1ULL << 0) | (1ULL << 1) | (1ULL << 2) | (1ULL << 3) | \
		     (1ULL << 4) | (1ULL << 9) | (1ULL << 27) | (1ULL << 32))

static bool is_one_of(uint32_t v, const struct creds *c, bool uid)
{
	if (uid)
		return v == c->ruid || v == c->euid || v == c->suid;
	return v == c->rgid || v == c->egid || v == c->sgid;
}

/* capabilities(7), "Effect of user ID changes on capabilities". */
static void fix_caps(const struct creds *old, struct creds *n, bool keepcaps)
{
	bool was_root = old->ruid == 0 || old->euid == 0 || old->suid == 0;
	bool now_root = n->ruid == 0 || n->euid == 0 || n->suid == 0;

	if (was_root && !now_root) {
		if (!keepcaps)
			n->cap_permitted = 0;
		n->cap_effective = 0;
	}
	if (old->euid == 0 && n->euid != 0)
		n->cap_effective = 0;
	if (old->euid != 0 && n->euid == 0)
		n->cap_effective = n->cap_permitted;
	if (old->fsuid == 0 && n->fsuid != 0)
		n->cap_effective &= ~CAP_FS_MASK;
	if (old->fsuid != 0 && n->fsuid == 0)
		n->cap_effective |= n->cap_permitted & CAP_FS_MASK;
}

int creds_setresuid(struct creds *c, uint32_t r, uint32_t e, uint32_t s, bool keepcaps)
{
	struct creds old = *c;
	bool priv = creds_capable(c, CAP_SETUID);

	if (!priv && ((r != NOCHANGE && !is_one_of(r, c, true)) ||
		      (e != NOCHANGE && !is_one_of(e, c, true)) ||
		      (s != NOCHANGE && !is_one_of(s, c, true))))
		return -EPERM;
	if (r != NOCHANGE)
		c->ruid = r;
	if (e != NOCHANGE)
		c->euid = e;
	if (s != NOCHANGE)
		c->suid = s;
	c->fsuid = c->euid;
	fix_caps(&old, c, keepcaps);
	return 0;
}

int creds_setresgid(struct creds *c, uint32_t r, uint32_t e, uint32_t s)
{
	bool priv = creds_capable(c, CAP_SETGID);

	if (!priv && ((r != NOCHANGE && !is_one_of(r, c, false)) ||
		      (e != NOCHANGE && !is_one_of(e, c, false)) ||
		      (s != NOCHANGE && !is_one_of(s, c, false))))
		return -EPERM;
	if (r != NOCHANGE)
		c->rgid = r;
	if (e != NOCHANGE)
		c->egid = e;
	if (s != NOCHANGE)
		c->sgid = s;
	c->fsgid = c->egid;
	return 0;
}

int creds_setuid(struct creds *c, uint32_t uid, bool keepcaps)
{
	if (creds_capable(c, CAP_SETUID))
		return creds_setresuid(c, uid, uid, uid, keepcaps);
	if (uid != c->ruid && uid != c->suid)
		return -EPERM;
	return creds_setresuid(c, NOCHANGE, uid, NOCHANGE, keepcaps);
}

int creds_setgid(struct creds *c, uint32_t gid)
{
	if (creds_capable(c, CAP_SETGID))
		return creds_setresgid(c, gid, gid, gid);
	if (gid != c->rgid && gid != c->sgid)
		return -EPERM;
	return creds_setresgid(c, NOCHANGE, gid, NOCHANGE);
}

int creds_setreuid(struct creds *c, uint32_t r, uint32_t e, bool keepcaps)
{
	struct creds old = *c;
	bool priv = creds_capable(c, CAP_SETUID);
	uint32_t s = NOCHANGE;

	if (!priv) {
		if (r != NOCHANGE && r != c->ruid && r != c->euid)
			return -EPERM;
		if (e != NOCHANGE && !is_one_of(e, c, true))
			return -EPERM;
	}
	/* The saved id follows the new effective one when the real one is
	 * set, or the effective one changes to something but the real. */
	if (r != NOCHANGE || (e != NOCHANGE && e != old.ruid))
		s = e != NOCHANGE ? e : old.euid;
	if (r != NOCHANGE)
		c->ruid = r;
	if (e != NOCHANGE)
		c->euid = e;
	if (s != NOCHANGE)
		c->suid = s;
	c->fsuid = c->euid;
	fix_caps(&old, c, keepcaps);
	return 0;
}

int creds_setregid(struct creds *c, uint32_t r, uint32_t e)
{
	uint32_t s = NOCHANGE, oldr = c->rgid, olde = c->egid;
	bool priv = creds_capable(c, CAP_SETGID);

	if (!priv) {
		if (r != NOCHANGE && r != c->rgid && r != c->egid)
			return -EPERM;
		if (e != NOCHANGE && !is_one_of(e, c, false))
			return -EPERM;
	}
	if (r != NOCHANGE || (e != NOCHANGE && e != oldr))
		s = e != NOCHANGE ? e : olde;
	if (r != NOCHANGE)
		c->rgid = r;
	if (e != NOCHANGE)
		c->egid = e;
	if (s != NOCHANGE)
		c->sgid = s;
	c->fsgid = c->egid;
	return 0;
}

uint32_t creds_setfsuid(struct creds *c, uint32_t uid)
{
	struct creds old = *c;
	if (uid != NOCHANGE &&
	    (creds_capable(c, CAP_SETUID) || is_one_of(uid, c, true) || uid == c->fsuid)) {
		c->fsuid = uid;
		fix_caps(&old, c, true);
	}
	return old.fsuid;
}

uint32_t creds_setfsgid(struct creds *c, uint32_t gid)
{
	uint32_t old = c->fsgid;
	if (gid != NOCHANGE &&
	    (creds_capable(c, CAP_SETGID) || is_one_of(gid, c, false) || gid == c->fsgid))
		c->fsgid = gid;
	return old;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int creds_setgroups(struct creds *c, const uint32_t *groups, uint32_t n)
{
	uint32_t *g = NULL;

	if (!creds_capable(c, CAP_SETGID))
		return -EPERM;
	if (n > CREDS_MAX_GROUPS)
		return -EINVAL;
	if (n) {
		g = malloc(n * sizeof(*g));
		if (!g)
			return -ENOMEM;
		memcpy(g, groups, n * sizeof(*g));
		qsort(g, n, sizeof(*g), cmp_u32);
	}
	free(c->groups);
	c->groups = g;
	c->ngroups = n;
	return 0;
}
