/* ELF executables: parsing and checking (elf.c) apart from mapping
 * (load.c), so the checks can be tested on crafted files without a
 * platform. */
#ifndef RC_SENTRY_LOADER_ELF_H
#define RC_SENTRY_LOADER_ELF_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ELF_MAX_PHDR_BYTES 65536 /* as Linux: larger tables are refused */
#define ELF_INTERP_MAX 4096

/* Reads len bytes at off; returns bytes read (short at end of file) or
 * -errno. */
typedef ssize_t (*elf_read_fn)(void *arg, void *buf, size_t len, uint64_t off);

struct elf_image {
	Elf64_Ehdr ehdr;
	Elf64_Phdr *phdrs;     /* malloc'd, ehdr.e_phnum entries */
	uint64_t lo, hi;       /* page-aligned span of the PT_LOAD segments */
	uint64_t max_align;    /* largest PT_LOAD alignment, at least a page */
	uint64_t phdr_vaddr;   /* where the program headers are, before bias */
	char *interp;          /* PT_INTERP path, or NULL */
	bool exec_stack;       /* PT_GNU_STACK asks for PF_X */
};

/* Parses and checks an ELF file of size bytes. On failure returns -errno
 * (ENOEXEC for a malformed file) and a one-line reason in err. */
int elf_parse(elf_read_fn rd, void *arg, uint64_t size, struct elf_image *img,
	      char *err, size_t errlen);
void elf_image_free(struct elf_image *img);

#endif
