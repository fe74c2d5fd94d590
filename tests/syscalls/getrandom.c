/* getrandom(2): lengths, flags and bad buffers. */
#include <stdint.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#ifndef GRND_INSECURE
#define GRND_INSECURE 0x4
#endif
#define PS 4096UL

static long raw(void *buf, size_t len, unsigned flags)
{
	return syscall(SYS_getrandom, buf, len, flags);
}

int main(void)
{
	static unsigned char big[65536];
	unsigned char a[64], b[64], guard[80];
	unsigned char *p;
	int differ = 0, nonzero = 0;

	/* Small requests are always filled. */
	for (size_t n = 1; n <= sizeof(a); n *= 2) {
		memset(a, 0, sizeof(a));
		CHECK_EQ(raw(a, n, 0), (long)n);
	}
	CHECK_EQ(getrandom(a, sizeof(a), 0), sizeof(a));
	CHECK_EQ(getrandom(b, sizeof(b), 0), sizeof(b));
	CHECK(memcmp(a, b, sizeof(a)) != 0);

	/* Only the requested bytes are written. */
	memset(guard, 0xa5, sizeof(guard));
	CHECK_EQ(raw(guard + 8, 64, 0), 64);
	for (int i = 0; i < 8; i++) {
		CHECK_EQ(guard[i], 0xa5);
		CHECK_EQ(guard[72 + i], 0xa5);
	}

	/* A zero length returns 0, whatever the buffer. */
	CHECK_EQ(raw(a, 0, 0), 0);
	CHECK_EQ(raw(NULL, 0, 0), 0);

	/* Each flag and allowed combination. */
	CHECK_EQ(raw(a, 16, GRND_NONBLOCK), 16);
	CHECK_EQ(raw(a, 16, GRND_RANDOM | GRND_NONBLOCK), 16);
	CHECK_EQ(raw(a, 16, GRND_INSECURE), 16);
	CHECK_EQ(raw(a, 16, GRND_INSECURE | GRND_NONBLOCK), 16);

	/* Unknown flags, and the one forbidden combination. */
	CHECK_ERR(raw(a, 16, 0x8), EINVAL);
	CHECK_ERR(raw(a, 16, 0x80000000u), EINVAL);
	CHECK_ERR(raw(a, 16, ~0u), EINVAL);
	CHECK_ERR(raw(a, 16, GRND_RANDOM | GRND_INSECURE), EINVAL);
	CHECK_ERR(raw(a, 0, 0x8), EINVAL);

	/* Bad buffers. */
	CHECK_ERR(raw((void *)8, 16, 0), EFAULT);
	CHECK_ERR(raw((void *)0xffff800000000000UL, 16, 0), EFAULT);

	/* A large request is filled too, with varied bytes. */
	CHECK_EQ(raw(big, sizeof(big), 0), sizeof(big));
	for (size_t i = 0; i < sizeof(big); i++)
		nonzero += big[i] != 0;
	CHECK(nonzero > (int)sizeof(big) / 2);
	for (size_t i = 1; i < sizeof(big) && !differ; i++)
		differ = big[i] != big[0];
	CHECK(differ);

	/* A buffer running into an unmapped page: the bytes before it are
	 * filled and counted, page-exactly. */
	p = mmap(NULL, 2 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	CHECK(p != MAP_FAILED);
	if (p != MAP_FAILED) {
		CHECK_EQ(munmap(p + PS, PS), 0);
		CHECK_EQ(raw(p + PS - 128, 256, 0), 128);
		CHECK_EQ(raw(p + 100, 2 * PS, 0), PS - 100);
		CHECK_ERR(raw(p + PS, 16, 0), EFAULT);
		CHECK_EQ(mprotect(p, PS, PROT_READ), 0);
		CHECK_ERR(raw(p, 16, 0), EFAULT);
		CHECK_EQ(munmap(p, PS), 0);
	}
	return check_exit();
}
