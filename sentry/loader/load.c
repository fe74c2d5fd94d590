/* Maps an ELF file's PT_LOAD segments, as Linux's load_elf_binary does:
 * file pages privately, the tail of the last file page zeroed, and
 * anonymous pages for the rest of the bss. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/util.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/mm.h"

static int seg_prot(uint32_t pf)
{
	return (pf & PF_R ? PROT_READ : 0) | (pf & PF_W ? PROT_WRITE : 0) |
	       (pf & PF_X ? PROT_EXEC : 0);
}

static int zero_user(struct mm *mm, uint64_t addr, uint64_t len)
{
	static const char zeros[PAGE_SIZE];
	while (len) {
		size_t n = len > sizeof(zeros) ? sizeof(zeros) : len;
		if (platform->as_write(mm->as, addr, zeros, n) != (long)n)
			return -EFAULT;
		addr += n;
		len -= n;
	}
	return 0;
}

int elf_map(struct mm *mm, const struct elf_image *img, int hostfd,
	    uint64_t bias, const char *path, uint64_t dev, uint64_t ino,
	    struct loaded_elf *out)
{
	long r;

	for (unsigned i = 0; i < img->ehdr.e_phnum; i++) {
		const Elf64_Phdr *p = &img->phdrs[i];
		uint64_t start, file_end, file_map_end, mem_end;
		int prot;

		if (p->p_type != PT_LOAD || p->p_memsz == 0)
			continue;
		prot = seg_prot(p->p_flags);
		start = PAGE_ALIGN_DOWN(bias + p->p_vaddr);
		file_end = bias + p->p_vaddr + p->p_filesz;
		file_map_end = PAGE_ALIGN_UP(file_end);
		mem_end = PAGE_ALIGN_UP(bias + p->p_vaddr + p->p_memsz);
		bool bss_in_page = p->p_memsz > p->p_filesz && (file_end & (PAGE_SIZE - 1));

		if (p->p_filesz) {
			/* Writable while we zero the start of the bss. */
			r = mm_map_fixed(mm, start, file_map_end - start,
					 prot | (bss_in_page ? PROT_WRITE : 0), 0,
					 VMA_FILE, hostfd, PAGE_ALIGN_DOWN(p->p_offset),
					 path, dev, ino);
			if (r < 0)
				return (int)r;
			if (bss_in_page) {
				r = zero_user(mm, file_end, file_map_end - file_end);
				if (r == 0 && !(prot & PROT_WRITE)) {
					r = platform->as_mprotect(mm->as, start,
								  file_map_end - start, prot);
					if (r == 0)
						r = vma_protect(mm, start, file_map_end, prot);
				}
				if (r < 0)
					return (int)r;
			}
		} else {
			file_map_end = start;
		}
		if (mem_end > file_map_end) {
			r = mm_map_fixed(mm, file_map_end, mem_end - file_map_end, prot,
					 0, VMA_ANON, -1, 0, NULL, 0, 0);
			if (r < 0)
				return (int)r;
		}
		if (mem_end > out->end)
			out->end = mem_end;
	}
	out->bias = bias;
	out->entry = bias + img->ehdr.e_entry;
	out->phdr = img->phdr_vaddr ? bias + img->phdr_vaddr : 0;
	return 0;
}
