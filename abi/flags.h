/* Names of flag bits and enumerated values, for --strace. */
#ifndef RC_ABI_FLAGS_H
#define RC_ABI_FLAGS_H

#include <stddef.h>
#include <stdint.h>

struct abi_name {
	uint64_t value;
	const char *name;
};

/* Tables end with a {0, NULL} entry. */
extern const struct abi_name abi_mmap_prot[], abi_mmap_flags[],
	abi_open_flags[], abi_at_flags[], abi_mremap_flags[],
	abi_getrandom_flags[], abi_sa_flags[], abi_clone_flags[];
extern const struct abi_name abi_clock_ids[], abi_arch_prctl_codes[],
	abi_rlimit_resources[], abi_madvise_advice[], abi_sigprocmask_how[],
	abi_prctl_options[], abi_ioctl_requests[], abi_signals[],
	abi_fcntl_cmds[], abi_whence[], abi_futex_ops[];

/* Formats set bits as "A|B|0x40"; returns the length written (snprintf
 * rules: output truncated to cap). "0" for no bits. */
size_t abi_format_flags(char *buf, size_t cap, const struct abi_name *tbl,
			uint64_t val);
/* Formats an enumerated value by name, or as a number. */
size_t abi_format_enum(char *buf, size_t cap, const struct abi_name *tbl,
		       int64_t val);
const char *abi_lookup(const struct abi_name *tbl, uint64_t val);
/* "SIGSEGV", or NULL. */
const char *abi_signal_name(int sig);

#endif
