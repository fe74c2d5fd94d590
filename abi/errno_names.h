/* errno names ("ENOENT") for strace and logs, generated from <errno.h>. */
#ifndef RC_ABI_ERRNO_NAMES_H
#define RC_ABI_ERRNO_NAMES_H

#define ABI_MAX_ERRNO 4095
/* Kernel-internal restart codes: never returned to the application. */
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

extern const char *const abi_errno_names[ABI_MAX_ERRNO + 1];

static inline const char *abi_errno_name(long err)
{
	if (err < 0 || err > ABI_MAX_ERRNO)
		return 0;
	switch (err) {
	case ERESTARTSYS: return "ERESTARTSYS";
	case ERESTARTNOINTR: return "ERESTARTNOINTR";
	case ERESTARTNOHAND: return "ERESTARTNOHAND";
	case ERESTART_RESTARTBLOCK: return "ERESTART_RESTARTBLOCK";
	}
	return abi_errno_names[err];
}

#endif
