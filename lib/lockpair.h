/* Two mutexes taken together without deadlock: always in address order,
 * once if they are the same one. b may be NULL (a alone). */
#ifndef RC_LIB_LOCKPAIR_H
#define RC_LIB_LOCKPAIR_H

#include <pthread.h>

static inline void mutex_lock_pair(pthread_mutex_t *a, pthread_mutex_t *b)
{
	if (!b || a == b) {
		pthread_mutex_lock(a);
	} else if (a < b) {
		pthread_mutex_lock(a);
		pthread_mutex_lock(b);
	} else {
		pthread_mutex_lock(b);
		pthread_mutex_lock(a);
	}
}

static inline void mutex_unlock_pair(pthread_mutex_t *a, pthread_mutex_t *b)
{
	pthread_mutex_unlock(a);
	if (b && b != a)
		pthread_mutex_unlock(b);
}

#endif
