/* Socket options of unix sockets: the SOL_SOCKET level (Linux's
 * sk_setsockopt and sk_getsockopt, as far as they mean anything for a
 * unix socket). Unix sockets have no options of their own, so any other
 * level is EOPNOTSUPP; an unknown SOL_SOCKET option is ENOPROTOOPT. */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/net/unix/unix.h"

#define CAP_NET_ADMIN 12
#define CAP_NET_RAW 13
/* The 64-bit timeval both SO_RCVTIMEO forms take on x86-64. */
struct k_sock_timeval {
	int64_t tv_sec;
	int64_t tv_usec;
};
#ifndef SO_RCVTIMEO_NEW
#define SO_RCVTIMEO_NEW 66
#define SO_SNDTIMEO_NEW 67
#endif
#define SO_RCVTIMEO_OLD 20
#define SO_SNDTIMEO_OLD 21

/* Flags a unix socket keeps but does nothing with. */
static bool is_bool_opt(int name)
{
	switch (name) {
	case SO_DEBUG: case SO_REUSEADDR: case SO_DONTROUTE: case SO_BROADCAST:
	case SO_KEEPALIVE: case SO_OOBINLINE: case SO_NO_CHECK: case SO_REUSEPORT:
	case SO_PASSSEC: case SO_RXQ_OVFL: case SO_WIFI_STATUS:
	case SO_NOFCS: case SO_SELECT_ERR_QUEUE:
		return true;
	default:
		return false;
	}
}

static int set_timeout(uint64_t *timeo, const void *val, size_t avail, int optlen)
{
	struct k_sock_timeval tv;

	if (optlen < (int)sizeof(tv))
		return -EINVAL;
	if (avail < sizeof(tv))
		return -EFAULT;
	memcpy(&tv, val, sizeof(tv));
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -EDOM;
	/* A negative time is no wait at all (Linux warns and keeps 0). */
	if (tv.tv_sec < 0) {
		*timeo = 0;
		return 0;
	}
	if ((tv.tv_sec == 0 && tv.tv_usec == 0) || (uint64_t)tv.tv_sec >= UINT64_MAX / 2000000000ULL)
		*timeo = UNIX_TIMEO_INF;
	else
		*timeo = (uint64_t)tv.tv_sec * 1000000000ULL + (uint64_t)tv.tv_usec * 1000;
	return 0;
}

static int get_timeout(uint64_t timeo, void *val)
{
	struct k_sock_timeval tv = {0, 0};

	if (timeo != UNIX_TIMEO_INF) {
		tv.tv_sec = (int64_t)(timeo / 1000000000ULL);
		tv.tv_usec = (int64_t)(timeo % 1000000000ULL / 1000);
	}
	memcpy(val, &tv, sizeof(tv));
	return (int)sizeof(tv);
}

int unix_setsockopt(struct socket *sock, struct task *t, int level, int name,
		    const void *val, size_t avail, int optlen)
{
	struct unix_sock *u = unix_sk(sock);
	const struct creds *c = &t->tg->creds;
	int v, r = 0;

	if (level != SOL_SOCKET)
		return -EOPNOTSUPP;
	if (name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW)
		return set_timeout(&u->rcvtimeo, val, avail, optlen);
	if (name == SO_SNDTIMEO_OLD || name == SO_SNDTIMEO_NEW)
		return set_timeout(&u->sndtimeo, val, avail, optlen);
	if (optlen < (int)sizeof(int))
		return -EINVAL;
	if (avail < sizeof(int))
		return -EFAULT;
	memcpy(&v, val, sizeof(v));
	pthread_mutex_lock(&u->lock);
	switch (name) {
	case SO_SNDBUF:
	case SO_SNDBUFFORCE:
		if (name == SO_SNDBUFFORCE && !creds_capable(c, CAP_NET_ADMIN)) {
			r = -EPERM;
			break;
		}
		/* Doubled for overhead, as Linux; limited by wmem_max. */
		if (name == SO_SNDBUF && (uint32_t)v > UNIX_BUF_MAX)
			v = UNIX_BUF_MAX;
		if (v < 0) /* only FORCE gets here so: no underflow */
			v = 0;
		/* Linux lets FORCE ask for up to INT_MAX; the sentry holds
		 * the data, so even privileged sockets stay bounded. */
		if (v > UNIX_BUF_FORCE_MAX)
			v = UNIX_BUF_FORCE_MAX;
		u->sndbuf = v * 2 > UNIX_MIN_SNDBUF ? v * 2 : UNIX_MIN_SNDBUF;
		break;
	case SO_RCVBUF:
	case SO_RCVBUFFORCE:
		if (name == SO_RCVBUFFORCE && !creds_capable(c, CAP_NET_ADMIN)) {
			r = -EPERM;
			break;
		}
		if (name == SO_RCVBUF && (uint32_t)v > UNIX_BUF_MAX)
			v = UNIX_BUF_MAX;
		if (v < 0) /* only FORCE gets here so: no underflow */
			v = 0;
		/* Linux lets FORCE ask for up to INT_MAX; the sentry holds
		 * the data, so even privileged sockets stay bounded. */
		if (v > UNIX_BUF_FORCE_MAX)
			v = UNIX_BUF_FORCE_MAX;
		u->rcvbuf = v * 2 > UNIX_MIN_RCVBUF ? v * 2 : UNIX_MIN_RCVBUF;
		break;
	case SO_PASSCRED:
		u->passcred = v != 0;
		break;
	case SO_RCVLOWAT:
		u->rcvlowat = v < 0 ? 0x7fffffff : (v ? v : 1);
		break;
	case SO_PRIORITY:
		if ((v >= 0 && v <= 6) || creds_capable(c, CAP_NET_RAW) ||
		    creds_capable(c, CAP_NET_ADMIN))
			u->priority = v;
		else
			r = -EPERM;
		break;
	case SO_LINGER: {
		struct linger l;
		if (optlen < (int)sizeof(l)) {
			r = -EINVAL;
			break;
		}
		if (avail < sizeof(l)) {
			r = -EFAULT;
			break;
		}
		memcpy(&l, val, sizeof(l));
		u->linger_onoff = l.l_onoff != 0;
		u->linger_secs = l.l_onoff ? l.l_linger : u->linger_secs;
		break;
	}
	default:
		if (!is_bool_opt(name)) {
			r = -ENOPROTOOPT;
			break;
		}
		if (name == SO_DEBUG && v && !creds_capable(c, CAP_NET_ADMIN)) {
			r = -EACCES;
			break;
		}
		if (v)
			u->bool_opts |= 1ULL << name;
		else
			u->bool_opts &= ~(1ULL << name);
	}
	pthread_mutex_unlock(&u->lock);
	/* A bigger send buffer may let writers go on. */
	if (r == 0 && (name == SO_SNDBUF || name == SO_SNDBUFFORCE))
		waitq_wake(&u->wq, 0);
	return r;
}

static uint64_t next_cookie(void)
{
	static atomic_uint_fast64_t cookie = 1;
	return atomic_fetch_add(&cookie, 1);
}

int unix_getsockopt(struct socket *sock, struct task *t, int level, int name, void *val,
		    int *len)
{
	struct unix_sock *u = unix_sk(sock);
	int lv = sizeof(int), v = 0;

	(void)t;
	if (level != SOL_SOCKET)
		return -EOPNOTSUPP;
	if (*len < 0)
		return -EINVAL;
	pthread_mutex_lock(&u->lock);
	switch (name) {
	case SO_TYPE: v = u->type; break;
	case SO_PROTOCOL: v = 0; break;
	case SO_DOMAIN: v = AF_UNIX; break;
	case SO_ACCEPTCONN: v = u->state == UNIX_LISTEN; break;
	case SO_ERROR: v = -unix_sock_error(u); break;
	case SO_SNDBUF: v = u->sndbuf; break;
	case SO_RCVBUF: v = u->rcvbuf; break;
	case SO_PASSCRED: v = u->passcred; break;
	case SO_RCVLOWAT: v = u->rcvlowat; break;
	case SO_SNDLOWAT: v = 1; break;
	case SO_PRIORITY: v = u->priority; break;
	case SO_BSDCOMPAT: v = 0; break;
	case SO_RCVTIMEO_OLD: case SO_RCVTIMEO_NEW:
		lv = get_timeout(u->rcvtimeo, val);
		break;
	case SO_SNDTIMEO_OLD: case SO_SNDTIMEO_NEW:
		lv = get_timeout(u->sndtimeo, val);
		break;
	case SO_LINGER: {
		struct linger l = {u->linger_onoff, u->linger_secs};
		memcpy(val, &l, sizeof(l));
		lv = sizeof(l);
		break;
	}
	case SO_PEERCRED: {
		/* Not connected: no pid, and ids that map to nothing. */
		struct unix_creds pc = {0, (uint32_t)-1, (uint32_t)-1};
		if (u->has_peercred)
			pc = u->peercred;
		memcpy(val, &pc, sizeof(pc));
		lv = sizeof(pc);
		if (*len > lv)
			*len = lv;
		pthread_mutex_unlock(&u->lock);
		return 0;
	}
	case SO_COOKIE: {
		uint64_t ck;
		if (*len < (int)sizeof(ck)) {
			pthread_mutex_unlock(&u->lock);
			return -EINVAL;
		}
		if (!u->cookie)
			u->cookie = next_cookie();
		ck = u->cookie;
		memcpy(val, &ck, sizeof(ck));
		lv = sizeof(ck);
		break;
	}
	case SO_PEERNAME: {
		int n;
		pthread_mutex_unlock(&u->lock);
		n = unix_getname(sock, val, true);
		if (n < 0)
			return -ENOTCONN;
		/* Linux's odd rule: a buffer bigger than the name is EINVAL. */
		if (n < *len)
			return -EINVAL;
		return 0;
	}
	default:
		if (!is_bool_opt(name)) {
			pthread_mutex_unlock(&u->lock);
			return -ENOPROTOOPT;
		}
		v = (int)((u->bool_opts >> name) & 1);
	}
	pthread_mutex_unlock(&u->lock);
	if (lv == (int)sizeof(int))
		memcpy(val, &v, sizeof(v));
	if (*len > lv)
		*len = lv;
	return 0;
}
