/* Small helpers shared by every component. */
#ifndef RC_LIB_UTIL_H
#define RC_LIB_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PAGE_SIZE 4096UL
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PAGE_ALIGN_DOWN(x) ((uint64_t)(x) & PAGE_MASK)
#define PAGE_ALIGN_UP(x) (((uint64_t)(x) + PAGE_SIZE - 1) & PAGE_MASK)
#define IS_PAGE_ALIGNED(x) (((uint64_t)(x) & (PAGE_SIZE - 1)) == 0)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define UNUSED __attribute__((unused))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Linux returns -errno in a long; values in [-4095, -1] are errors. */
#define IS_ERR_VALUE(x) ((unsigned long)(x) >= (unsigned long)-4095)

#endif
