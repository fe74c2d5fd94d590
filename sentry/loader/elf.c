/* Checks an ELF file before anything is mapped: every field that decides
 * a mapping is validated here, so loading cannot fail on bad input. */
#include "sentry/loader/elf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/linux.h"
#include "lib/util.h"

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -ENOEXEC;
}

static int read_exact(elf_read_fn rd, void *arg, void *buf, size_t len, uint64_t off)
{
	ssize_t n = rd(arg, buf, len, off);
	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -ENOEXEC;
}

static bool is_pow2(uint64_t x) { return x && !(x & (x - 1)); }

int elf_parse(elf_read_fn rd, void *arg, uint64_t size, struct elf_image *img,
	      char *err, size_t errlen)
{
	Elf64_Ehdr *eh = &img->ehdr;
	const Elf64_Phdr *last = NULL;
	uint64_t phbytes;
	bool have_load = false, entry_ok = false;
	int ret;

	memset(img, 0, sizeof(*img));
	if (size < sizeof(*eh))
		return fail(err, errlen, "truncated ELF header (%llu bytes)",
			    (unsigned long long)size);
	ret = read_exact(rd, arg, eh, sizeof(*eh), 0);
	if (ret == -ENOEXEC)
		return fail(err, errlen, "truncated ELF header");
	if (ret < 0) {
		fail(err, errlen, "cannot read the ELF header: %s", strerror(-ret));
		return ret;
	}
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return fail(err, errlen, "not an ELF file");
	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		return fail(err, errlen, "not a 64-bit ELF file");
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return fail(err, errlen, "not a little-endian ELF file");
	if (eh->e_ident[EI_VERSION] != EV_CURRENT || eh->e_version != EV_CURRENT)
		return fail(err, errlen, "unknown ELF version");
	if (eh->e_machine != EM_X86_64)
		return fail(err, errlen, "ELF machine %u is not x86-64", eh->e_machine);
	if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
		return fail(err, errlen, "ELF type %u is not an executable", eh->e_type);
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return fail(err, errlen, "bad program header size %u", eh->e_phentsize);
	if (eh->e_phnum == 0)
		return fail(err, errlen, "no program headers");
	phbytes = (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);
	if (phbytes > ELF_MAX_PHDR_BYTES)
		return fail(err, errlen, "too many program headers (%u)", eh->e_phnum);
	if (eh->e_phoff > size || phbytes > size - eh->e_phoff)
		return fail(err, errlen, "program headers lie outside the file");

	img->phdrs = malloc(phbytes);
	if (!img->phdrs)
		return -ENOMEM;
	ret = read_exact(rd, arg, img->phdrs, phbytes, eh->e_phoff);
	if (ret < 0) {
		ret = ret == -ENOEXEC ? fail(err, errlen, "truncated program headers") : ret;
		goto bad;
	}

	img->lo = UINT64_MAX;
	img->max_align = PAGE_SIZE;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *p = &img->phdrs[i];

		switch (p->p_type) {
		case PT_LOAD:
			break;
		case PT_INTERP:
			if (img->interp) {
				ret = fail(err, errlen, "more than one PT_INTERP");
				goto bad;
			}
			if (p->p_filesz < 2 || p->p_filesz > ELF_INTERP_MAX ||
			    p->p_offset > size || p->p_filesz > size - p->p_offset) {
				ret = fail(err, errlen, "bad PT_INTERP");
				goto bad;
			}
			img->interp = malloc(p->p_filesz);
			if (!img->interp) {
				ret = -ENOMEM;
				goto bad;
			}
			ret = read_exact(rd, arg, img->interp, p->p_filesz, p->p_offset);
			if (ret < 0 || img->interp[p->p_filesz - 1] != 0 ||
			    strlen(img->interp) != p->p_filesz - 1) {
				ret = ret < 0 && ret != -ENOEXEC ? ret
					: fail(err, errlen, "bad PT_INTERP path");
				goto bad;
			}
			continue;
		case PT_GNU_STACK:
			img->exec_stack = p->p_flags & PF_X;
			continue;
		case PT_PHDR:
			img->phdr_vaddr = p->p_vaddr;
			continue;
		default:
			continue;
		}
		/* PT_LOAD */
		if (p->p_filesz > p->p_memsz) {
			ret = fail(err, errlen, "segment %u: file size exceeds memory size", i);
			goto bad;
		}
		if (p->p_offset > size || p->p_filesz > size - p->p_offset) {
			ret = fail(err, errlen, "segment %u lies outside the file", i);
			goto bad;
		}
		if (p->p_align > 1 && !is_pow2(p->p_align)) {
			ret = fail(err, errlen, "segment %u: alignment %llu is not a power of two",
				   i, (unsigned long long)p->p_align);
			goto bad;
		}
		if ((p->p_vaddr - p->p_offset) & (PAGE_SIZE - 1)) {
			ret = fail(err, errlen, "segment %u: address and offset disagree modulo the page size", i);
			goto bad;
		}
		if (p->p_vaddr + p->p_memsz < p->p_vaddr ||
		    p->p_vaddr + p->p_memsz > ABI_TASK_SIZE) {
			ret = fail(err, errlen, "segment %u lies outside the address space", i);
			goto bad;
		}
		if (last && p->p_vaddr < last->p_vaddr + last->p_memsz) {
			ret = fail(err, errlen, "segment %u overlaps or precedes the one before it", i);
			goto bad;
		}
		if (p->p_memsz == 0)
			continue;
		last = p;
		have_load = true;
		if (p->p_align > img->max_align)
			img->max_align = p->p_align;
		if (PAGE_ALIGN_DOWN(p->p_vaddr) < img->lo)
			img->lo = PAGE_ALIGN_DOWN(p->p_vaddr);
		if (PAGE_ALIGN_UP(p->p_vaddr + p->p_memsz) > img->hi)
			img->hi = PAGE_ALIGN_UP(p->p_vaddr + p->p_memsz);
		if (eh->e_entry >= p->p_vaddr && eh->e_entry < p->p_vaddr + p->p_memsz)
			entry_ok = true;
		if (!img->phdr_vaddr && eh->e_phoff >= p->p_offset &&
		    eh->e_phoff - p->p_offset < p->p_filesz)
			img->phdr_vaddr = p->p_vaddr + (eh->e_phoff - p->p_offset);
	}
	if (!have_load) {
		ret = fail(err, errlen, "no loadable segments");
		goto bad;
	}
	if (!entry_ok) {
		ret = fail(err, errlen, "entry point 0x%llx is outside every segment",
			   (unsigned long long)eh->e_entry);
		goto bad;
	}
	if (eh->e_type == ET_EXEC && img->lo < ABI_MMAP_MIN_ADDR) {
		ret = fail(err, errlen, "segments start below the lowest mappable address");
		goto bad;
	}
	if (img->max_align > (1ULL << 30)) {
		ret = fail(err, errlen, "segment alignment too large");
		goto bad;
	}
	return 0;
bad:
	elf_image_free(img);
	return ret;
}

void elf_image_free(struct elf_image *img)
{
	free(img->phdrs);
	free(img->interp);
	img->phdrs = NULL;
	img->interp = NULL;
}
