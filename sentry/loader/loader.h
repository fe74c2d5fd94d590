/* Loading a program into a fresh address space: segments (load.c), the
 * initial stack (stack.c), and exec itself (exec.c). */
#ifndef RC_SENTRY_LOADER_LOADER_H
#define RC_SENTRY_LOADER_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sentry/loader/elf.h"

struct mm;
struct task;

/* What starting a program needs. The strings and fds belong to the
 * caller. */
struct file;

struct exec_request {
	char **argv;
	char **envp;
	char *exe_path;     /* as the program sees it: AT_EXECFN, /proc/self/exe */
	struct file *exe;   /* the executable, opened (exec_open) */
};

/* Opens path for execution: a regular file with execute permission on a
 * mount that allows it. */
int exec_open(struct task *t, const char *path, struct file **out);

struct loaded_elf {
	uint64_t bias;
	uint64_t entry;  /* biased */
	uint64_t phdr;   /* biased address of the program headers */
	uint64_t end;    /* page-aligned end of the highest segment */
};

/* Maps img's segments from hostfd with the given bias. */
int elf_map(struct mm *mm, const struct elf_image *img, int hostfd,
	    uint64_t bias, const char *path, uint64_t dev, uint64_t ino,
	    struct loaded_elf *out);

struct stack_args {
	char *const *argv;
	char *const *envp;
	const char *execfn;
	const uint64_t *auxv;   /* pairs ending with AT_NULL; AT_RANDOM,
				 * AT_EXECFN, AT_PLATFORM filled in here */
	size_t auxv_words;
	uint64_t stack_limit;   /* RLIMIT_STACK soft */
	int exec_stack;
};

/* Maps the stack and writes argc, argv, envp and auxv on it. Returns the
 * initial stack pointer or -errno (E2BIG for arguments too large). */
long stack_setup(struct mm *mm, const struct stack_args *a);

/* Follows "#!" lines (Linux's binfmt_script): while *f is a script, its
 * interpreter replaces it and *argv becomes "interp [arg] name args...",
 * fname being the name the first script was run by. inaccessible: the
 * script cannot be reached by name after exec (ENOENT). 0 or -errno
 * (ENOEXEC for a bad "#!" line, ELOOP past five levels). */
int exec_follow_scripts(struct task *t, struct file **f, char ***argv, const char *fname,
			bool inaccessible);

/* execve/execveat from a running program (execve.c). */
long do_execveat(struct task *t, int dirfd, uint64_t upath, uint64_t uargv, uint64_t uenvp,
		 int flags);

/* Replaces t's program with the one req names. Returns 0, or -errno with
 * a one-line reason in err. */
int exec_program(struct task *t, const struct exec_request *req, char *err,
		 size_t errlen);

#endif
