#ifndef RC_SENTRY_CONFINE_H
#define RC_SENTRY_CONFINE_H

/* Installs the sentry's own seccomp filter (security invariant 2): from
 * here on the sentry cannot open or otherwise name a host path, create a
 * socket, exec, mount, or make its own memory executable. */
int sentry_confine(void);

#endif
