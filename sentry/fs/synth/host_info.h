/* Host facts the synthetic filesystems show (CPUs, memory, identity),
 * gathered without naming a host path: CPUID, sched_getaffinity,
 * sysinfo and getrandom all work under the sentry's seccomp filter. */
#ifndef RC_SENTRY_FS_SYNTH_HOST_INFO_H
#define RC_SENTRY_FS_SYNTH_HOST_INFO_H

#include <stdint.h>

#include "sentry/fs/synth/synth.h"

#define HOST_MAX_CPUS 1024

struct host_info {
	int ncpus;                   /* CPUs the sandbox may run on */
	uint8_t cpu_online[HOST_MAX_CPUS / 8]; /* bitmap of them */
	char boot_id[37];            /* fixed for the sandbox's life */
};

/* Gathers the facts once (idempotent, thread-safe) and returns them. */
const struct host_info *host_info(void);

/* "0-3,5" for the CPUs in the bitmap, then a newline. */
void host_cpu_list(struct synth_buf *b);
/* The bitmap as Linux's %*pb prints it: hex in 32-bit groups. */
void host_cpu_mask(struct synth_buf *b);
/* A fresh random UUID (version 4), 36 characters and a NUL. */
void host_random_uuid(char out[37]);
/* /proc/cpuinfo text, from CPUID. */
void host_cpuinfo(struct synth_buf *b);

#endif
