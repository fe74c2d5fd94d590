/* Kernel-layout structures the application sees where glibc's differ or
 * where no UAPI header defines them without clashing with glibc. */
#ifndef RC_ABI_LINUX_H
#define RC_ABI_LINUX_H

#include <stdint.h>

/* The kernel's sigaction (rt_sigaction), not glibc's. */
struct k_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

#define K_SA_RESTORER 0x04000000u

struct k_rlimit64 {
	uint64_t cur;
	uint64_t max;
};
#define K_RLIM_INFINITY (~0ULL)

/* struct stat of x86-64 (asm/stat.h). glibc's matches on this
 * architecture; the copy here pins the layout we promise the application. */
struct k_stat {
	uint64_t st_dev;
	uint64_t st_ino;
	uint64_t st_nlink;
	uint32_t st_mode;
	uint32_t st_uid;
	uint32_t st_gid;
	uint32_t pad0;
	uint64_t st_rdev;
	int64_t st_size;
	int64_t st_blksize;
	int64_t st_blocks;
	uint64_t st_atime_sec, st_atime_nsec;
	uint64_t st_mtime_sec, st_mtime_nsec;
	uint64_t st_ctime_sec, st_ctime_nsec;
	int64_t unused[3];
};
_Static_assert(sizeof(struct k_stat) == 144, "x86-64 struct stat is 144 bytes");

/* The kernel's termios (asm/termbits.h): 19 control chars, no speeds. */
struct k_termios {
	uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
	uint8_t c_line;
	uint8_t c_cc[19];
};
_Static_assert(sizeof(struct k_termios) == 36, "kernel termios is 36 bytes");

struct k_timespec {
	int64_t tv_sec;
	int64_t tv_nsec;
};

struct k_timeval {
	int64_t tv_sec;
	int64_t tv_usec;
};

/* The application address-space layout the sentry gives every process.
 * The stub's code and shared pages live at ABI_STUB_BASE, above the top of
 * the application's range, so nothing the application maps can reach them. */
#define ABI_TASK_SIZE 0x7e0000000000ULL
#define ABI_MMAP_MIN_ADDR 0x10000ULL

#endif
