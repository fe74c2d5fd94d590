/* Host facts for the synthetic filesystems, gathered without host paths:
 * the CPUs we may run on from sched_getaffinity, ids from getrandom. */
#include "sentry/fs/synth/host_info.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

static struct host_info info;
static pthread_once_t info_once = PTHREAD_ONCE_INIT;

void host_random_uuid(char out[37])
{
	uint8_t u[16];
	size_t got = 0;

	while (got < sizeof(u)) {
		ssize_t n = getrandom(u + got, sizeof(u) - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < sizeof(u))
		memset(u + got, 0x5a, sizeof(u) - got); /* never happens after boot */
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
		 u[12], u[13], u[14], u[15]);
}

static void gather(void)
{
	cpu_set_t *set = CPU_ALLOC(HOST_MAX_CPUS);
	size_t sz = CPU_ALLOC_SIZE(HOST_MAX_CPUS);

	if (set && sched_getaffinity(0, sz, set) == 0) {
		for (int i = 0; i < HOST_MAX_CPUS; i++) {
			if (CPU_ISSET_S(i, sz, set)) {
				info.cpu_online[i / 8] |= (uint8_t)(1u << (i % 8));
				info.ncpus++;
			}
		}
	}
	if (set)
		CPU_FREE(set);
	if (info.ncpus == 0) {
		info.cpu_online[0] = 1;
		info.ncpus = 1;
	}
	host_random_uuid(info.boot_id);
}

const struct host_info *host_info(void)
{
	pthread_once(&info_once, gather);
	return &info;
}

static int cpu_set(const struct host_info *h, int i)
{
	return (h->cpu_online[i / 8] >> (i % 8)) & 1;
}

void host_cpu_list(struct synth_buf *b)
{
	const struct host_info *h = host_info();
	bool first = true;

	for (int i = 0; i < HOST_MAX_CPUS; i++) {
		int j = i;
		if (!cpu_set(h, i))
			continue;
		while (j + 1 < HOST_MAX_CPUS && cpu_set(h, j + 1))
			j++;
		if (!first)
			synth_putc(b, ',');
		if (j == i)
			synth_printf(b, "%d", i);
		else
			synth_printf(b, "%d-%d", i, j);
		first = false;
		i = j;
	}
	synth_putc(b, '\n');
}

void host_cpu_mask(struct synth_buf *b)
{
	const struct host_info *h = host_info();
	int top = 0, groups;

	for (int i = 0; i < HOST_MAX_CPUS; i++)
		if (cpu_set(h, i))
			top = i;
	/* As many bits as the highest CPU needs, in 32-bit groups from the
	 * top; the first group unpadded (Linux's nr_cpu_ids wide bitmap). */
	groups = top / 32 + 1;
	for (int g = groups - 1; g >= 0; g--) {
		uint32_t v = 0;
		for (int bit = 0; bit < 32; bit++)
			if (g * 32 + bit < HOST_MAX_CPUS && cpu_set(h, g * 32 + bit))
				v |= 1u << bit;
		if (g == groups - 1)
			synth_printf(b, "%x", v);
		else
			synth_printf(b, ",%08x", v);
	}
}
