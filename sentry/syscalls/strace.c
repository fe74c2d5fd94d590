/* --strace: one line per system call on the log fd,
 *   [pid:tid] name(decoded args) = result (ERRNO) duration
 * Input strings are read before the call (the call may change them),
 * output buffers after. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "abi/errno_names.h"
#include "abi/flags.h"
#include "lib/log.h"
#include "lib/util.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/syscalls/syscalls.h"

#define STR_SHOW 32

/* Appends a C-escaped, quoted copy of at most STR_SHOW bytes. */
static size_t put_escaped(char *o, size_t cap, const unsigned char *s, size_t n,
			  bool more)
{
	size_t p = 0;
#define PUT(...) (p += (size_t)snprintf(o + (p < cap ? p : cap), p < cap ? cap - p : 0, __VA_ARGS__))
	PUT("\"");
	for (size_t i = 0; i < n && i < STR_SHOW; i++) {
		unsigned char c = s[i];
		switch (c) {
		case '\n': PUT("\\n"); break;
		case '\t': PUT("\\t"); break;
		case '\r': PUT("\\r"); break;
		case '"': PUT("\\\""); break;
		case '\\': PUT("\\\\"); break;
		default:
			if (c >= 0x20 && c < 0x7f)
				PUT("%c", c);
			else
				PUT("\\x%02x", c);
		}
	}
	PUT("\"%s", n > STR_SHOW || more ? "..." : "");
	return p;
}

static size_t put_user_string(char *o, size_t cap, struct task *t, uint64_t addr)
{
	char s[STR_SHOW + 1];
	long n;
	if (!addr)
		return (size_t)snprintf(o, cap, "NULL");
	n = strncpy_from_user(t, s, addr, sizeof(s));
	if (n == -ENAMETOOLONG)
		return put_escaped(o, cap, (unsigned char *)s, STR_SHOW, true);
	if (n < 0)
		return (size_t)snprintf(o, cap, "0x%llx", (unsigned long long)addr);
	return put_escaped(o, cap, (unsigned char *)s, (size_t)n, false);
}

static size_t put_user_buf(char *o, size_t cap, struct task *t, uint64_t addr, uint64_t len)
{
	unsigned char b[STR_SHOW];
	size_t n = len < sizeof(b) ? len : sizeof(b);
	if (!addr)
		return (size_t)snprintf(o, cap, "NULL");
	if (copy_from_user(t, b, addr, n) < 0)
		return (size_t)snprintf(o, cap, "0x%llx", (unsigned long long)addr);
	return put_escaped(o, cap, b, len, false);
}

static size_t put_open_flags(char *o, size_t cap, uint64_t v)
{
	static const char *const acc[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};
	size_t p = (size_t)snprintf(o, cap, "%s", acc[v & 3]);
	if (v & ~3ULL && p < cap) {
		o[p++] = '|';
		p += abi_format_flags(o + p, p < cap ? cap - p : 0, abi_open_flags, v & ~3ULL);
	}
	return p;
}

static size_t put_arg(char *o, size_t cap, struct task *t, enum sarg k,
		      const uint64_t *a, int i, long ret, bool after)
{
	uint64_t v = a[i];
	switch (k) {
	case SA_INT:
		return (size_t)snprintf(o, cap, "%d", (int)v);
	case SA_UINT:
		return (size_t)snprintf(o, cap, "%llu", (unsigned long long)v);
	case SA_FD:
		if ((int)v == AT_FDCWD)
			return (size_t)snprintf(o, cap, "AT_FDCWD");
		return (size_t)snprintf(o, cap, "%d", (int)v);
	case SA_PTR:
		return v ? (size_t)snprintf(o, cap, "0x%llx", (unsigned long long)v)
			 : (size_t)snprintf(o, cap, "NULL");
	case SA_PATH:
		return put_user_string(o, cap, t, v);
	case SA_STR_IN:
		return put_user_buf(o, cap, t, v, i < 5 ? a[i + 1] : 0);
	case SA_BUF_OUT:
		if (after && ret >= 0)
			return put_user_buf(o, cap, t, v, (uint64_t)ret);
		return v ? (size_t)snprintf(o, cap, "0x%llx", (unsigned long long)v)
			 : (size_t)snprintf(o, cap, "NULL");
	case SA_OCTAL:
		return (size_t)snprintf(o, cap, "0%llo", (unsigned long long)v);
	case SA_MMAP_PROT:
		return v ? abi_format_flags(o, cap, abi_mmap_prot, v)
			 : (size_t)snprintf(o, cap, "PROT_NONE");
	case SA_MMAP_FLAGS:
		return abi_format_flags(o, cap, abi_mmap_flags, v);
	case SA_OPEN_FLAGS:
		return put_open_flags(o, cap, v);
	case SA_AT_FLAGS:
		return abi_format_flags(o, cap, abi_at_flags, v);
	case SA_CLOCK:
		return abi_format_enum(o, cap, abi_clock_ids, (int)v);
	case SA_ARCH_PRCTL:
		return abi_format_enum(o, cap, abi_arch_prctl_codes, (int)v);
	case SA_RLIMIT:
		return abi_format_enum(o, cap, abi_rlimit_resources, (int)v);
	case SA_MADVISE:
		return abi_format_enum(o, cap, abi_madvise_advice, (int)v);
	case SA_MREMAP:
		return abi_format_flags(o, cap, abi_mremap_flags, v);
	case SA_SIGHOW:
		return abi_format_enum(o, cap, abi_sigprocmask_how, (int)v);
	case SA_SIGNAL:
		return abi_format_enum(o, cap, abi_signals, (int)v);
	case SA_PRCTL:
		return abi_format_enum(o, cap, abi_prctl_options, (int)v);
	case SA_IOCTL:
		if (abi_lookup(abi_ioctl_requests, (uint32_t)v))
			return abi_format_enum(o, cap, abi_ioctl_requests, (uint32_t)v);
		return (size_t)snprintf(o, cap, "0x%llx", (unsigned long long)v);
	case SA_GRND:
		return abi_format_flags(o, cap, abi_getrandom_flags, v);
	case SA_FCNTL:
		return abi_format_enum(o, cap, abi_fcntl_cmds, (int)v);
	case SA_WHENCE:
		return abi_format_enum(o, cap, abi_whence, (int)v);
	case SA_CLONE:
		return abi_format_flags(o, cap, abi_clone_flags, v);
	case SA_FUTEX_OP: {
		size_t p = abi_format_enum(o, cap, abi_futex_ops, (int)(v & 127));
		if (v & 128)
			p += (size_t)snprintf(o + (p < cap ? p : cap), p < cap ? cap - p : 0,
					      "_PRIVATE");
		if (v & 256)
			p += (size_t)snprintf(o + (p < cap ? p : cap), p < cap ? cap - p : 0,
					      "|FUTEX_CLOCK_REALTIME");
		return p;
	}
	case SA_HEX:
	default:
		return (size_t)snprintf(o, cap, "0x%llx", (unsigned long long)v);
	}
}

static size_t format_args(char *o, size_t cap, struct task *t, long nr,
			  const uint64_t *a, long ret, bool after)
{
	const struct syscall_desc *d =
		nr >= 0 && nr < ABI_NR_SYSCALLS ? &syscall_table[nr] : NULL;
	size_t p = 0;
	int n = d && d->fn ? d->nargs : 6;

	for (int i = 0; i < n; i++) {
		enum sarg k = d && d->fn ? (enum sarg)d->args[i] : SA_HEX;
		/* Inputs were shown at entry; only outputs are filled after. */
		if (after != (k == SA_BUF_OUT))
			continue;
		if (p < cap)
			p += put_arg(o + p, cap - p, t, k, a, i, ret, after);
	}
	return p;
}

void strace_enter(struct task *t, long nr, const uint64_t *a, char *buf, size_t cap)
{
	const struct syscall_desc *d =
		nr >= 0 && nr < ABI_NR_SYSCALLS ? &syscall_table[nr] : NULL;
	int n = d && d->fn ? d->nargs : 6;
	size_t p = 0;

	/* Format each input argument now; leave a marker for outputs. */
	buf[0] = 0;
	for (int i = 0; i < n && p + 1 < cap; i++) {
		enum sarg k = d && d->fn ? (enum sarg)d->args[i] : SA_HEX;
		if (i)
			p += (size_t)snprintf(buf + p, cap - p, ", ");
		if (p + 1 >= cap)
			break;
		if (k == SA_BUF_OUT)
			p += (size_t)snprintf(buf + p, cap - p, "\x01");
		else
			p += put_arg(buf + p, cap - p, t, k, a, i, 0, false);
	}
	if (p >= cap)
		buf[cap - 1] = 0;
}

void strace_exit(struct task *t, long nr, const uint64_t *a, long ret,
		 const char *entry, uint64_t ns)
{
	const struct syscall_desc *d =
		nr >= 0 && nr < ABI_NR_SYSCALLS ? &syscall_table[nr] : NULL;
	const char *name = abi_syscall_name(nr);
	char line[2048], out[256], res[96];
	const char *mark = strchr(entry, '\x01');
	int len;

	out[0] = 0;
	if (mark)
		format_args(out, sizeof(out), t, nr, a, ret, true);
	if (d && d->ret == SR_NORETURN && atomic_load(&t->exiting))
		snprintf(res, sizeof(res), "?");
	else if (ret < 0 && ret >= -4095)
		snprintf(res, sizeof(res), "%ld (%s)", ret,
			 abi_errno_name(-ret) ? abi_errno_name(-ret) : "?");
	else if (d && d->ret == SR_HEX)
		snprintf(res, sizeof(res), "0x%lx", (unsigned long)ret);
	else
		snprintf(res, sizeof(res), "%ld", ret);
	if (name)
		len = snprintf(line, sizeof(line), "[%d:%d] %s(%.*s%s%s) = %s %.1fus\n",
			       t->tg->pid, t->tid, name,
			       mark ? (int)(mark - entry) : (int)strlen(entry), entry,
			       mark ? out : "", mark ? mark + 1 : "", res, (double)ns / 1000.0);
	else
		len = snprintf(line, sizeof(line), "[%d:%d] syscall_%ld(%s) = %s %.1fus\n",
			       t->tg->pid, t->tid, nr, entry, res, (double)ns / 1000.0);
	if (len > (int)sizeof(line))
		len = sizeof(line);
	if (write(log_fd(), line, (size_t)len) < 0)
		return;
}
