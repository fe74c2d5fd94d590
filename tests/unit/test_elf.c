/* elf_parse against crafted files built in memory, real binaries from the
 * machine, and a deterministic mutation fuzz loop. Every malformed file must
 * be refused with -ENOEXEC and a one-line reason, never crash. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi/linux.h"
#include "lib/util.h"
#include "sentry/loader/elf.h"

/* ---- an in-memory file and its read callback ---- */

#define IMG_MAX 0x4000
#define PHOFF 64u
#define PH_MAX 16u
#define INTERP_OFF 0x400u
#define BASE 0x400000ULL

struct mfile {
	const uint8_t *data;
	size_t len;     /* bytes backed by data; reads beyond return zeros */
	uint64_t vlen;  /* the file's length as the reader sees it */
	int calls;
	int fail_call;  /* this call (1-based) fails with fail_err; 0 never */
	int fail_err;
};

static ssize_t mread(void *arg, void *buf, size_t len, uint64_t off)
{
	struct mfile *f = arg;
	size_t n, i;

	f->calls++;
	if (f->fail_call && f->calls == f->fail_call)
		return -f->fail_err;
	if (off >= f->vlen)
		return 0;
	n = f->vlen - off < len ? (size_t)(f->vlen - off) : len;
	for (i = 0; i < n; i++) {
		uint64_t at = off + i;
		((uint8_t *)buf)[i] = at < f->len ? f->data[at] : 0;
	}
	return (ssize_t)n;
}

/* ---- a builder for a minimal static x86-64 executable ---- */

struct img {
	uint8_t buf[IMG_MAX];
	size_t size;
};

static Elf64_Ehdr *EH(struct img *m) { return (Elf64_Ehdr *)m->buf; }
static Elf64_Phdr *PH(struct img *m, unsigned i)
{
	return (Elf64_Phdr *)(m->buf + PHOFF) + i;
}

static Elf64_Phdr *add_ph(struct img *m, uint32_t type, uint32_t flags,
			  uint64_t off, uint64_t vaddr, uint64_t filesz,
			  uint64_t memsz, uint64_t align)
{
	Elf64_Phdr *p = PH(m, EH(m)->e_phnum++);
	cr_assert(EH(m)->e_phnum <= PH_MAX);
	p->p_type = type;
	p->p_flags = flags;
	p->p_offset = off;
	p->p_vaddr = vaddr;
	p->p_paddr = vaddr;
	p->p_filesz = filesz;
	p->p_memsz = memsz;
	p->p_align = align;
	return p;
}

/* Text: file [0, 0x1000) at BASE (holds the headers and the entry);
 * data: file [0x1000, 0x1100) at BASE+0x1000, 0x2000 bytes in memory;
 * a non-executable PT_GNU_STACK. */
static void build(struct img *m, uint16_t type)
{
	uint64_t base = type == ET_DYN ? 0 : BASE;
	Elf64_Ehdr *e = EH(m);

	memset(m, 0, sizeof(*m));
	memcpy(e->e_ident, ELFMAG, SELFMAG);
	e->e_ident[EI_CLASS] = ELFCLASS64;
	e->e_ident[EI_DATA] = ELFDATA2LSB;
	e->e_ident[EI_VERSION] = EV_CURRENT;
	e->e_ident[EI_OSABI] = ELFOSABI_SYSV;
	e->e_type = type;
	e->e_machine = EM_X86_64;
	e->e_version = EV_CURRENT;
	e->e_entry = base + 0x800;
	e->e_phoff = PHOFF;
	e->e_ehsize = sizeof(Elf64_Ehdr);
	e->e_phentsize = sizeof(Elf64_Phdr);
	add_ph(m, PT_LOAD, PF_R | PF_X, 0, base, 0x1000, 0x1000, 0x1000);
	add_ph(m, PT_LOAD, PF_R | PF_W, 0x1000, base + 0x1000, 0x100, 0x2000, 0x1000);
	add_ph(m, PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16);
	m->buf[0x800] = 0xf4; /* hlt at the entry */
	m->size = 0x1100;
}

/* Adds a PT_INTERP (inserted first, as linkers do) whose bytes are
 * s[0..n) at INTERP_OFF. */
static Elf64_Phdr *add_interp(struct img *m, const char *s, size_t n)
{
	unsigned k = EH(m)->e_phnum;
	Elf64_Phdr *p;

	memmove(PH(m, 1), PH(m, 0), k * sizeof(Elf64_Phdr));
	EH(m)->e_phnum = 0;
	p = add_ph(m, PT_INTERP, PF_R, INTERP_OFF, BASE + INTERP_OFF, n, n, 1);
	EH(m)->e_phnum = (uint16_t)(k + 1);
	cr_assert(INTERP_OFF + n <= IMG_MAX);
	memcpy(m->buf + INTERP_OFF, s, n);
	if (INTERP_OFF + n > m->size)
		m->size = INTERP_OFF + n;
	return p;
}

static int parse_n(const void *data, size_t len, uint64_t size,
		   struct elf_image *im, char *err, size_t errlen)
{
	struct mfile f = {.data = data, .len = len, .vlen = len};
	return elf_parse(mread, &f, size, im, err, errlen);
}

static int parse(struct img *m, struct elf_image *im, char *err, size_t errlen)
{
	return parse_n(m->buf, m->size, m->size, im, err, errlen);
}

static void expect_ok(struct img *m, struct elf_image *im)
{
	char err[256] = "";
	int r = parse(m, im, err, sizeof(err));
	cr_assert_eq(r, 0, "elf_parse failed: %d (%s)", r, err);
	cr_assert_not_null(im->phdrs);
}

/* The file is refused with ENOEXEC, a one-line reason, and nothing left
 * allocated. */
static void expect_noexec_at(struct img *m, const char *what, int line)
{
	struct elf_image im;
	char err[256];
	int r;

	err[0] = 0;
	r = parse(m, &im, err, sizeof(err));
	cr_assert_eq(r, -ENOEXEC, "line %d (%s): elf_parse returned %d, not -ENOEXEC",
		     line, what, r);
	cr_assert(err[0] != 0, "line %d (%s): empty reason", line, what);
	cr_assert_null(strchr(err, '\n'), "line %d (%s): reason not one line: %s",
		       line, what, err);
	cr_assert_null(im.phdrs, "line %d (%s): phdrs left allocated", line, what);
	cr_assert_null(im.interp, "line %d (%s): interp left allocated", line, what);
}
#define expect_noexec(m, what) expect_noexec_at(m, what, __LINE__)

/* ---- valid files ---- */

UTest(elf_valid, minimal_exec)
{
	struct img m;
	struct elf_image im;

	build(&m, ET_EXEC);
	expect_ok(&m, &im);
	cr_assert_eq(im.ehdr.e_type, ET_EXEC);
	cr_assert_eq(im.ehdr.e_entry, BASE + 0x800);
	cr_assert_eq(im.ehdr.e_phnum, 3);
	cr_assert_eq(im.phdrs[1].p_vaddr, BASE + 0x1000);
	cr_assert_eq(im.lo, BASE);
	cr_assert_eq(im.hi, BASE + 0x3000);
	cr_assert_eq(im.max_align, PAGE_SIZE);
	cr_assert_eq(im.phdr_vaddr, BASE + PHOFF);
	cr_assert_null(im.interp);
	cr_assert_not(im.exec_stack);
	elf_image_free(&im);
	cr_assert_null(im.phdrs);
	cr_assert_null(im.interp);
	elf_image_free(&im); /* twice is harmless */
}

UTest(elf_valid, minimal_dyn)
{
	struct img m;
	struct elf_image im;

	build(&m, ET_DYN);
	expect_ok(&m, &im);
	cr_assert_eq(im.ehdr.e_type, ET_DYN);
	cr_assert_eq(im.lo, 0); /* a PIE may start at 0: it is placed with a bias */
	cr_assert_eq(im.hi, 0x3000);
	cr_assert_eq(im.phdr_vaddr, PHOFF);
	elf_image_free(&im);
}

UTest(elf_valid, interp)
{
	static const char path[] = "/lib64/ld-linux-x86-64.so.2";
	struct img m;
	struct elf_image im;

	build(&m, ET_DYN);
	add_interp(&m, path, sizeof(path));
	expect_ok(&m, &im);
	cr_assert_not_null(im.interp);
	cr_assert_str_eq(im.interp, path);
	cr_assert_eq(im.ehdr.e_phnum, 4);
	elf_image_free(&im);
}

UTest(elf_valid, interp_at_the_limit)
{
	char path[ELF_INTERP_MAX];
	struct img m;
	struct elf_image im;

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = 0;
	build(&m, ET_EXEC);
	add_interp(&m, path, sizeof(path));
	expect_ok(&m, &im);
	cr_assert_eq(strlen(im.interp), ELF_INTERP_MAX - 1);
	elf_image_free(&im);
}

UTest(elf_valid, exec_stack)
{
	struct img m;
	struct elf_image im;

	build(&m, ET_EXEC);
	PH(&m, 2)->p_flags = PF_R | PF_W | PF_X;
	expect_ok(&m, &im);
	cr_assert(im.exec_stack);
	elf_image_free(&im);

	/* No PT_GNU_STACK at all: the stack is not executable here. */
	build(&m, ET_EXEC);
	EH(&m)->e_phnum = 2;
	expect_ok(&m, &im);
	cr_assert_not(im.exec_stack);
	elf_image_free(&im);
}

UTest(elf_valid, pt_phdr)
{
	struct img m;
	struct elf_image im;

	build(&m, ET_DYN);
	memmove(PH(&m, 1), PH(&m, 0), 3 * sizeof(Elf64_Phdr));
	EH(&m)->e_phnum = 0;
	add_ph(&m, PT_PHDR, PF_R, PHOFF, 0x40 + PHOFF, 4 * sizeof(Elf64_Phdr),
	       4 * sizeof(Elf64_Phdr), 8);
	EH(&m)->e_phnum = 4;
	expect_ok(&m, &im);
	cr_assert_eq(im.phdr_vaddr, 0x40 + PHOFF, "PT_PHDR's address wins");
	elf_image_free(&im);
}

UTest(elf_valid, phdrs_outside_the_segments)
{
	struct img m;
	struct elf_image im;

	/* Headers in the file but in no PT_LOAD: no address for them. */
	build(&m, ET_EXEC);
	PH(&m, 0)->p_offset = 0x1000;
	PH(&m, 0)->p_vaddr = BASE + 0x1000;
	PH(&m, 0)->p_filesz = PH(&m, 0)->p_memsz = 0x100;
	PH(&m, 1)->p_offset = 0x1000;
	PH(&m, 1)->p_vaddr = BASE + 0x2000;
	EH(&m)->e_entry = BASE + 0x1010;
	expect_ok(&m, &im);
	cr_assert_eq(im.phdr_vaddr, 0);
	cr_assert_eq(im.lo, BASE + 0x1000);
	cr_assert_eq(im.hi, BASE + 0x4000);
	elf_image_free(&im);
}

UTest(elf_valid, alignment)
{
	struct img m;
	struct elf_image im;

	build(&m, ET_DYN);
	PH(&m, 0)->p_align = 0x200000;
	PH(&m, 1)->p_align = 0x10000;
	expect_ok(&m, &im);
	cr_assert_eq(im.max_align, 0x200000);
	elf_image_free(&im);

	/* 0 and 1 mean no alignment; the result is still at least a page. */
	build(&m, ET_DYN);
	PH(&m, 0)->p_align = 0;
	PH(&m, 1)->p_align = 1;
	expect_ok(&m, &im);
	cr_assert_eq(im.max_align, PAGE_SIZE);
	elf_image_free(&im);
}

UTest(elf_valid, unaligned_segments)
{
	struct img m;
	struct elf_image im;

	/* Segments need not start or end on page boundaries; the span is
	 * rounded out to pages. */
	build(&m, ET_EXEC);
	PH(&m, 1)->p_offset = 0x1010;
	PH(&m, 1)->p_vaddr = BASE + 0x1010;
	PH(&m, 1)->p_filesz = 0x80;
	PH(&m, 1)->p_memsz = 0x1ff0;
	expect_ok(&m, &im);
	cr_assert_eq(im.lo, BASE);
	cr_assert_eq(im.hi, BASE + 0x3000);
	elf_image_free(&im);
}

UTest(elf_valid, zero_size_load_is_ignored)
{
	struct img m;
	struct elf_image im;

	build(&m, ET_EXEC);
	add_ph(&m, PT_LOAD, PF_R, 0, BASE + 0x10000, 0, 0, 0x1000);
	expect_ok(&m, &im);
	cr_assert_eq(im.hi, BASE + 0x3000);
	elf_image_free(&im);
}

UTest(elf_valid, segment_ending_at_the_top)
{
	struct img m;
	struct elf_image im;

	build(&m, ET_EXEC);
	EH(&m)->e_phnum = 1;
	PH(&m, 0)->p_vaddr = ABI_TASK_SIZE - 0x1000;
	EH(&m)->e_entry = ABI_TASK_SIZE - 0x800;
	expect_ok(&m, &im);
	cr_assert_eq(im.hi, ABI_TASK_SIZE);
	elf_image_free(&im);
}

UTest(elf_valid, exec_at_mmap_min_addr)
{
	struct img m;
	struct elf_image im;

	build(&m, ET_EXEC);
	EH(&m)->e_phnum = 1;
	PH(&m, 0)->p_vaddr = ABI_MMAP_MIN_ADDR;
	EH(&m)->e_entry = ABI_MMAP_MIN_ADDR + 0x800;
	expect_ok(&m, &im);
	cr_assert_eq(im.lo, ABI_MMAP_MIN_ADDR);
	elf_image_free(&im);
}

UTest(elf_valid, trailing_data_and_small_err_buffer)
{
	struct img m;
	struct elf_image im;

	build(&m, ET_EXEC);
	m.size = IMG_MAX;
	expect_ok(&m, &im);
	elf_image_free(&im);
	/* No room for a reason is fine on success and on failure. */
	cr_assert_eq(parse(&m, &im, NULL, 0), 0);
	elf_image_free(&im);
	EH(&m)->e_machine = EM_386;
	cr_assert_eq(parse(&m, &im, NULL, 0), -ENOEXEC);
	char small[8];
	memset(small, 'x', sizeof(small));
	cr_assert_eq(parse(&m, &im, small, sizeof(small)), -ENOEXEC);
	cr_assert_eq(strnlen(small, sizeof(small)), sizeof(small) - 1,
		     "a long reason is truncated and terminated");
}

/* ---- malformed headers ---- */

UTest(elf_bad, truncated_header_every_length)
{
	struct img m;
	struct elf_image im;
	char err[256];

	build(&m, ET_EXEC);
	for (size_t len = 0; len < sizeof(Elf64_Ehdr); len++) {
		/* The size says so... */
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, m.buf, len);
		err[0] = 0;
		cr_assert_eq(parse_n(copy, len, len, &im, err, sizeof(err)), -ENOEXEC,
			     "length %zu", len);
		cr_assert(err[0], "length %zu: no reason", len);
		cr_assert_null(im.phdrs);
		/* ...or the size lies and the read comes up short. */
		err[0] = 0;
		cr_assert_eq(parse_n(copy, len, sizeof(Elf64_Ehdr), &im, err, sizeof(err)),
			     -ENOEXEC, "short read of %zu", len);
		cr_assert(err[0], "short read of %zu: no reason", len);
		cr_assert_null(im.phdrs);
		free(copy);
	}
}

UTest(elf_bad, header_fields)
{
	struct img m;

	for (int i = 0; i < SELFMAG; i++) {
		build(&m, ET_EXEC);
		m.buf[i] ^= 0x20;
		expect_noexec(&m, "bad magic");
	}
	build(&m, ET_EXEC);
	EH(&m)->e_ident[EI_CLASS] = ELFCLASS32;
	expect_noexec(&m, "ELFCLASS32");
	build(&m, ET_EXEC);
	EH(&m)->e_ident[EI_CLASS] = ELFCLASSNONE;
	expect_noexec(&m, "ELFCLASSNONE");
	build(&m, ET_EXEC);
	EH(&m)->e_ident[EI_DATA] = ELFDATA2MSB;
	expect_noexec(&m, "big-endian");
	build(&m, ET_EXEC);
	EH(&m)->e_ident[EI_DATA] = ELFDATANONE;
	expect_noexec(&m, "no data encoding");
	build(&m, ET_EXEC);
	EH(&m)->e_ident[EI_VERSION] = 2;
	expect_noexec(&m, "ident version");
	build(&m, ET_EXEC);
	EH(&m)->e_version = 0;
	expect_noexec(&m, "e_version");
	build(&m, ET_EXEC);
	EH(&m)->e_machine = EM_386;
	expect_noexec(&m, "EM_386");
	build(&m, ET_EXEC);
	EH(&m)->e_machine = EM_AARCH64;
	expect_noexec(&m, "EM_AARCH64");
	build(&m, ET_EXEC);
	EH(&m)->e_type = ET_REL;
	expect_noexec(&m, "ET_REL");
	build(&m, ET_EXEC);
	EH(&m)->e_type = ET_CORE;
	expect_noexec(&m, "ET_CORE");
	build(&m, ET_EXEC);
	EH(&m)->e_type = ET_NONE;
	expect_noexec(&m, "ET_NONE");
	build(&m, ET_EXEC);
	EH(&m)->e_type = 0xfe00; /* ET_LOOS */
	expect_noexec(&m, "ET_LOOS");
}

UTest(elf_bad, program_header_table)
{
	struct img m;

	build(&m, ET_EXEC);
	EH(&m)->e_phentsize = sizeof(Elf64_Phdr) - 1;
	expect_noexec(&m, "phentsize small");
	build(&m, ET_EXEC);
	EH(&m)->e_phentsize = sizeof(Elf64_Phdr) + 8;
	expect_noexec(&m, "phentsize large");
	build(&m, ET_EXEC);
	EH(&m)->e_phentsize = 32; /* Elf32_Phdr */
	expect_noexec(&m, "phentsize 32-bit");
	build(&m, ET_EXEC);
	EH(&m)->e_phentsize = 0;
	expect_noexec(&m, "phentsize 0");
	build(&m, ET_EXEC);
	EH(&m)->e_phnum = 0;
	expect_noexec(&m, "phnum 0");
	build(&m, ET_EXEC);
	EH(&m)->e_phnum = 0xffff;
	expect_noexec(&m, "phnum 0xffff");
	build(&m, ET_EXEC);
	EH(&m)->e_phnum = ELF_MAX_PHDR_BYTES / sizeof(Elf64_Phdr) + 1;
	expect_noexec(&m, "table just over 64 KiB");
	build(&m, ET_EXEC);
	EH(&m)->e_phoff = m.size;
	expect_noexec(&m, "phoff at EOF");
	build(&m, ET_EXEC);
	EH(&m)->e_phoff = m.size + 0x1000;
	expect_noexec(&m, "phoff beyond EOF");
	build(&m, ET_EXEC);
	EH(&m)->e_phoff = m.size - sizeof(Elf64_Phdr); /* 3 entries cross EOF */
	expect_noexec(&m, "table crosses EOF");
	{
		/* The size given is what counts, even when more can be read:
		 * a table that crosses it is refused. */
		struct elf_image im;
		char err[256] = "";
		const uint64_t at = 0x1100 - 100;
		build(&m, ET_EXEC);
		memcpy(m.buf + at, PH(&m, 0), 3 * sizeof(Elf64_Phdr));
		EH(&m)->e_phoff = at;
		cr_assert_eq(parse_n(m.buf, IMG_MAX, IMG_MAX, &im, err, sizeof(err)), 0,
			     "%s", err);
		elf_image_free(&im);
		cr_assert_eq(parse_n(m.buf, IMG_MAX, 0x1100, &im, err, sizeof(err)), -ENOEXEC);
		cr_assert(err[0]);
		cr_assert_null(im.phdrs);
	}
	build(&m, ET_EXEC);
	EH(&m)->e_phoff = UINT64_MAX - 8;
	expect_noexec(&m, "phoff + size overflows");
	build(&m, ET_EXEC);
	EH(&m)->e_phoff = UINT64_MAX;
	expect_noexec(&m, "phoff all ones");
	build(&m, ET_EXEC);
	EH(&m)->e_phoff = (uint64_t)1 << 63;
	expect_noexec(&m, "phoff huge");
}

/* ---- malformed segments ---- */

UTest(elf_bad, segment_sizes_and_offsets)
{
	struct img m;

	build(&m, ET_EXEC);
	PH(&m, 1)->p_filesz = PH(&m, 1)->p_memsz + 1;
	expect_noexec(&m, "filesz > memsz");
	build(&m, ET_EXEC);
	PH(&m, 0)->p_memsz = 0x800; /* all in the file, but more than memory */
	EH(&m)->e_entry = BASE + 0x100;
	expect_noexec(&m, "filesz > memsz, inside the file");
	build(&m, ET_EXEC);
	PH(&m, 1)->p_filesz = 0x200;
	expect_noexec(&m, "data beyond EOF");
	build(&m, ET_EXEC);
	PH(&m, 1)->p_offset = 0x2000;
	PH(&m, 1)->p_vaddr = BASE + 0x2000;
	expect_noexec(&m, "offset beyond EOF");
	build(&m, ET_EXEC);
	PH(&m, 1)->p_offset = UINT64_MAX & PAGE_MASK;
	PH(&m, 1)->p_vaddr = BASE + 0x1000;
	expect_noexec(&m, "offset + filesz overflows");
	build(&m, ET_EXEC);
	PH(&m, 1)->p_offset = 0x1000;
	PH(&m, 1)->p_filesz = UINT64_MAX - 0x800;
	PH(&m, 1)->p_memsz = UINT64_MAX - 0x800;
	expect_noexec(&m, "filesz huge, offset + filesz overflows");
	build(&m, ET_EXEC);
	PH(&m, 1)->p_offset = m.size; /* empty file part exactly at EOF: fine */
	PH(&m, 1)->p_vaddr = BASE + 0x1000 + (m.size & 0xfff);
	PH(&m, 1)->p_filesz = 0;
	{
		struct elf_image im;
		expect_ok(&m, &im);
		elf_image_free(&im);
	}
}

UTest(elf_bad, alignment_and_congruence)
{
	struct img m;
	static const uint64_t bad_align[] = {3, 0x3000, 0x1001, 0x1800, UINT64_MAX};

	for (size_t i = 0; i < ARRAY_SIZE(bad_align); i++) {
		build(&m, ET_EXEC);
		PH(&m, 0)->p_align = bad_align[i];
		expect_noexec(&m, "p_align not a power of two");
	}
	build(&m, ET_EXEC);
	PH(&m, 1)->p_vaddr = BASE + 0x1800;
	expect_noexec(&m, "vaddr - offset not page-congruent");
	build(&m, ET_EXEC);
	PH(&m, 1)->p_offset = 0x1008;
	PH(&m, 1)->p_filesz = 0x8;
	expect_noexec(&m, "offset not congruent with vaddr");
	build(&m, ET_DYN);
	PH(&m, 0)->p_align = (uint64_t)1 << 31;
	expect_noexec(&m, "alignment above 1 GiB");
}

UTest(elf_bad, segment_order_and_overlap)
{
	struct img m;
	Elf64_Phdr t;

	build(&m, ET_EXEC);
	PH(&m, 1)->p_offset = 0x800;
	PH(&m, 1)->p_vaddr = BASE + 0x800;
	expect_noexec(&m, "overlapping PT_LOADs");
	build(&m, ET_EXEC);
	PH(&m, 1)->p_offset = 0;
	PH(&m, 1)->p_vaddr = BASE;
	PH(&m, 1)->p_filesz = 0x100;
	expect_noexec(&m, "identical PT_LOAD starts");
	build(&m, ET_EXEC);
	PH(&m, 0)->p_memsz = 0x1001; /* one byte into the next segment */
	expect_noexec(&m, "overlap by one byte");
	build(&m, ET_EXEC);
	t = *PH(&m, 0);
	*PH(&m, 0) = *PH(&m, 1);
	*PH(&m, 1) = t;
	expect_noexec(&m, "PT_LOADs out of order");
	/* Out of order around a zero-size segment is still out of order. */
	build(&m, ET_EXEC);
	add_ph(&m, PT_LOAD, PF_R, 0, BASE + 0x10000, 0, 0, 0x1000);
	add_ph(&m, PT_LOAD, PF_R, 0, BASE - 0x10000, 0x100, 0x100, 0x1000);
	expect_noexec(&m, "PT_LOAD below an earlier one");
}

UTest(elf_bad, address_space_bounds)
{
	struct img m;

	build(&m, ET_EXEC);
	PH(&m, 1)->p_vaddr = UINT64_MAX & PAGE_MASK;
	PH(&m, 1)->p_offset = 0x1000;
	expect_noexec(&m, "vaddr + memsz overflows");
	build(&m, ET_EXEC);
	PH(&m, 1)->p_memsz = UINT64_MAX - BASE;
	expect_noexec(&m, "memsz huge");
	build(&m, ET_EXEC);
	PH(&m, 1)->p_vaddr = ABI_TASK_SIZE - 0x1000;
	expect_noexec(&m, "segment crosses the top");
	build(&m, ET_EXEC);
	PH(&m, 1)->p_vaddr = ABI_TASK_SIZE;
	PH(&m, 1)->p_memsz = 0x100;
	expect_noexec(&m, "segment at the top");
	build(&m, ET_EXEC);
	PH(&m, 1)->p_vaddr = 0x7fffffffe000ULL;
	expect_noexec(&m, "segment above the top");
	build(&m, ET_EXEC);
	EH(&m)->e_phnum = 1;
	PH(&m, 0)->p_vaddr = ABI_MMAP_MIN_ADDR - 0x1000;
	EH(&m)->e_entry = PH(&m, 0)->p_vaddr + 0x800;
	expect_noexec(&m, "ET_EXEC below mmap_min_addr");
	build(&m, ET_EXEC);
	EH(&m)->e_phnum = 1;
	PH(&m, 0)->p_vaddr = 0;
	EH(&m)->e_entry = 0x800;
	expect_noexec(&m, "ET_EXEC at 0");
}

UTest(elf_bad, entry_and_loads)
{
	struct img m;

	build(&m, ET_EXEC);
	EH(&m)->e_entry = 0x500000;
	expect_noexec(&m, "entry outside every segment");
	build(&m, ET_EXEC);
	EH(&m)->e_entry = BASE + 0x3000; /* one past the end */
	expect_noexec(&m, "entry at the end");
	build(&m, ET_EXEC);
	EH(&m)->e_entry = BASE - 1;
	expect_noexec(&m, "entry just below");
	build(&m, ET_EXEC);
	EH(&m)->e_entry = 0;
	expect_noexec(&m, "entry 0");
	build(&m, ET_EXEC);
	PH(&m, 0)->p_type = PT_NOTE;
	PH(&m, 1)->p_type = PT_NOTE;
	expect_noexec(&m, "no PT_LOAD");
	build(&m, ET_EXEC);
	PH(&m, 0)->p_memsz = PH(&m, 0)->p_filesz = 0;
	PH(&m, 1)->p_memsz = PH(&m, 1)->p_filesz = 0;
	expect_noexec(&m, "only empty PT_LOADs");
	build(&m, ET_EXEC);
	EH(&m)->e_phnum = 1;
	PH(&m, 0)->p_type = PT_GNU_STACK;
	expect_noexec(&m, "only PT_GNU_STACK");
}

UTest(elf_bad, interp)
{
	static const char ok[] = "/lib/ld.so";
	struct img m;
	Elf64_Phdr *p;
	char big[ELF_INTERP_MAX + 1];

	build(&m, ET_EXEC);
	add_interp(&m, "/lib/ld.so", 10);
	expect_noexec(&m, "PT_INTERP without NUL");
	build(&m, ET_EXEC);
	add_interp(&m, "/lib\0/ld.so", 12);
	expect_noexec(&m, "PT_INTERP with an embedded NUL");
	build(&m, ET_EXEC);
	add_interp(&m, "\0", 1);
	expect_noexec(&m, "PT_INTERP empty");
	build(&m, ET_EXEC);
	add_interp(&m, "", 0);
	expect_noexec(&m, "PT_INTERP of size 0");
	memset(big, 'a', sizeof(big));
	big[0] = '/';
	big[sizeof(big) - 1] = 0;
	build(&m, ET_EXEC);
	add_interp(&m, big, sizeof(big));
	expect_noexec(&m, "PT_INTERP longer than 4096");
	build(&m, ET_EXEC);
	p = add_interp(&m, ok, sizeof(ok));
	p->p_filesz = p->p_memsz = (uint64_t)1 << 40;
	expect_noexec(&m, "PT_INTERP enormous");
	build(&m, ET_EXEC);
	p = add_interp(&m, ok, sizeof(ok));
	p->p_offset = m.size - 4;
	expect_noexec(&m, "PT_INTERP crosses EOF");
	build(&m, ET_EXEC);
	p = add_interp(&m, ok, sizeof(ok));
	p->p_offset = m.size + 0x100;
	expect_noexec(&m, "PT_INTERP beyond EOF");
	build(&m, ET_EXEC);
	p = add_interp(&m, ok, sizeof(ok));
	p->p_offset = UINT64_MAX - 2;
	expect_noexec(&m, "PT_INTERP offset overflows");
	build(&m, ET_EXEC);
	add_interp(&m, ok, sizeof(ok));
	add_interp(&m, ok, sizeof(ok));
	expect_noexec(&m, "two PT_INTERPs");
	/* The second PT_INTERP after the segments, as well. */
	build(&m, ET_EXEC);
	add_interp(&m, ok, sizeof(ok));
	add_ph(&m, PT_INTERP, PF_R, INTERP_OFF, 0, sizeof(ok), sizeof(ok), 1);
	expect_noexec(&m, "two PT_INTERPs, apart");
}

/* ---- read errors ---- */

UTest(elf_bad, read_errors_propagate)
{
	static const char ok[] = "/lib/ld.so";
	struct img m;
	struct elf_image im;
	char err[256];

	build(&m, ET_DYN);
	add_interp(&m, ok, sizeof(ok));
	/* Call 1 reads the header, 2 the program headers, 3 the interpreter. */
	for (int call = 1; call <= 3; call++) {
		struct mfile f = {.data = m.buf, .len = m.size, .vlen = m.size,
				  .fail_call = call, .fail_err = EIO};
		int r = elf_parse(mread, &f, m.size, &im, err, sizeof(err));
		cr_assert_eq(r, -EIO, "read %d failing gave %d, not -EIO", call, r);
		cr_assert_eq(f.calls, call, "parse went on after the failed read");
		cr_assert_null(im.phdrs);
		cr_assert_null(im.interp);
	}
	struct mfile f = {.data = m.buf, .len = m.size, .vlen = m.size};
	cr_assert_eq(elf_parse(mread, &f, m.size, &im, err, sizeof(err)), 0);
	cr_assert_eq(f.calls, 3);
	elf_image_free(&im);

	/* The file shrinks under us: the program headers come up short. */
	struct mfile s = {.data = m.buf, .len = m.size, .vlen = PHOFF + 10};
	cr_assert_eq(elf_parse(mread, &s, m.size, &im, err, sizeof(err)), -ENOEXEC);
	cr_assert_null(im.phdrs);
	/* ...or the interpreter does. */
	struct mfile s2 = {.data = m.buf, .len = m.size, .vlen = INTERP_OFF + 3};
	cr_assert_eq(elf_parse(mread, &s2, m.size, &im, err, sizeof(err)), -ENOEXEC);
	cr_assert_null(im.phdrs);
	cr_assert_null(im.interp);
}

/* ---- real binaries ---- */

struct fdfile {
	int fd;
};

static ssize_t fdread(void *arg, void *buf, size_t len, uint64_t off)
{
	ssize_t n = pread(((struct fdfile *)arg)->fd, buf, len, (off_t)off);
	return n < 0 ? -errno : n;
}

static int parse_path(const char *path, struct elf_image *im, char *err, size_t errlen)
{
	struct fdfile f = {open(path, O_RDONLY | O_CLOEXEC)};
	struct stat st;
	int r;

	cr_assert(f.fd >= 0, "cannot open %s: %s (run tools/setup.sh)", path,
		  strerror(errno));
	cr_assert_eq(fstat(f.fd, &st), 0);
	r = elf_parse(fdread, &f, (uint64_t)st.st_size, im, err, errlen);
	close(f.fd);
	return r;
}

static void check_invariants(const struct elf_image *im)
{
	cr_assert_not_null(im->phdrs);
	cr_assert_lt(im->lo, im->hi);
	cr_assert(IS_PAGE_ALIGNED(im->lo) && IS_PAGE_ALIGNED(im->hi),
		  "span 0x%llx-0x%llx not page-aligned", (unsigned long long)im->lo,
		  (unsigned long long)im->hi);
	cr_assert_leq(im->hi, ABI_TASK_SIZE);
	cr_assert(im->max_align >= PAGE_SIZE && !(im->max_align & (im->max_align - 1)),
		  "max_align 0x%llx", (unsigned long long)im->max_align);
	cr_assert_leq(im->max_align, 1ULL << 30);
	cr_assert(im->ehdr.e_entry >= im->lo && im->ehdr.e_entry < im->hi);
	cr_assert(im->ehdr.e_type == ET_EXEC || im->ehdr.e_type == ET_DYN);
	if (im->ehdr.e_type == ET_EXEC)
		cr_assert_geq(im->lo, ABI_MMAP_MIN_ADDR);
	if (im->interp) {
		size_t n = strlen(im->interp);
		cr_assert(n > 0 && n < ELF_INTERP_MAX);
	}
}

UTest(elf_real, busybox_static)
{
	struct elf_image im;
	char err[256] = "";
	int r = parse_path("/bin/busybox", &im, err, sizeof(err));

	cr_assert_eq(r, 0, "/bin/busybox: %d %s (busybox-static installed?)", r, err);
	cr_assert_eq(im.ehdr.e_type, ET_EXEC, "busybox-static is not a PIE");
	cr_assert_null(im.interp);
	cr_assert_not(im.exec_stack);
	check_invariants(&im);
	elf_image_free(&im);
}

UTest(elf_real, ls_pie)
{
	struct elf_image im;
	char err[256] = "";
	int r = parse_path("/bin/ls", &im, err, sizeof(err));

	cr_assert_eq(r, 0, "/bin/ls: %d %s", r, err);
	cr_assert_eq(im.ehdr.e_type, ET_DYN);
	cr_assert_not_null(im.interp);
	cr_assert_str_eq(im.interp, "/lib64/ld-linux-x86-64.so.2");
	cr_assert_eq(im.lo, 0);
	cr_assert_neq(im.phdr_vaddr, 0);
	cr_assert_not(im.exec_stack);
	check_invariants(&im);
	elf_image_free(&im);
}

UTest(elf_real, not_elf)
{
	struct elf_image im;
	char err[256] = "";
	/* A shell script: not ELF. */
	static const char sh[] = "#!/bin/sh\necho hello world, this is not an ELF file at all\n";
	cr_assert_eq(parse_n(sh, sizeof(sh), sizeof(sh), &im, err, sizeof(err)), -ENOEXEC);
	cr_assert(err[0]);
}

/* ---- mutation fuzzing ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: deterministic for a fixed seed. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static const uint64_t interesting[] = {
	0, 1, 2, 0x38, 0x40, 0xfff, 0x1000, 0x1001, 0x10000, 0x400000,
	ABI_MMAP_MIN_ADDR, ABI_TASK_SIZE, ABI_TASK_SIZE - 0x1000,
	0x7fffffff, 0x80000000, 0xffffffff, 0x8000000000000000ULL,
	UINT64_MAX - 0xfff, UINT64_MAX - 1, UINT64_MAX,
};

/* Mutates buf[0..len): mostly within the first hot bytes (headers). */
static void mutate(uint8_t *buf, size_t len, size_t hot)
{
	unsigned n = 1 + (unsigned)(rnd() % 6);
	for (unsigned k = 0; k < n; k++) {
		size_t at = (rnd() % 4 ? rnd() % hot : rnd() % len);
		switch (rnd() % 5) {
		case 0:
			buf[at] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1:
			buf[at] = (uint8_t)rnd();
			break;
		case 2:
			buf[at] = (uint8_t[]){0, 0xff, 0x7f, 0x80, 1}[rnd() % 5];
			break;
		default: {
			/* An aligned 2, 4 or 8 byte field gets an edge value. */
			unsigned w = 2u << (rnd() % 3);
			uint64_t v = interesting[rnd() % ARRAY_SIZE(interesting)];
			at &= ~(size_t)(w - 1);
			if (at + w <= len)
				memcpy(buf + at, &v, w);
			break;
		}
		}
	}
}

struct fuzz_stats {
	unsigned ok, noexec;
};

static void fuzz(const uint8_t *seed, size_t len, uint64_t vlen, size_t hot,
		 unsigned iters, uint64_t s, struct fuzz_stats *st)
{
	uint8_t *buf = malloc(len);
	cr_assert_not_null(buf);
	rng_state = s;
	for (unsigned it = 0; it < iters; it++) {
		struct elf_image im;
		char err[128];
		uint64_t size = vlen;
		struct mfile f;
		int r;

		memcpy(buf, seed, len);
		mutate(buf, len, hot);
		if (rnd() % 16 == 0) /* the size, too, sometimes lies */
			size = rnd() % (vlen + 0x100);
		f = (struct mfile){.data = buf, .len = len, .vlen = vlen};
		err[0] = 0;
		r = elf_parse(mread, &f, size, &im, err, sizeof(err));
		if (r == 0) {
			check_invariants(&im);
			elf_image_free(&im);
			st->ok++;
		} else {
			cr_assert_eq(r, -ENOEXEC, "iteration %u: %d", it, r);
			cr_assert(err[0], "iteration %u: no reason", it);
			cr_assert_null(im.phdrs);
			cr_assert_null(im.interp);
			st->noexec++;
		}
	}
	free(buf);
}

UTest(elf_fuzz, crafted_image, .timeout = 240)
{
	static const char path[] = "/lib64/ld-linux-x86-64.so.2";
	struct img m;
	struct fuzz_stats st = {0};

	build(&m, ET_DYN);
	add_interp(&m, path, sizeof(path));
	add_ph(&m, PT_PHDR, PF_R, PHOFF, PHOFF, 5 * sizeof(Elf64_Phdr),
	       5 * sizeof(Elf64_Phdr), 8);
	fuzz(m.buf, m.size, m.size, INTERP_OFF + sizeof(path), 10000, 0x5eed1, &st);
	build(&m, ET_EXEC);
	fuzz(m.buf, m.size, m.size, PHOFF + 3 * sizeof(Elf64_Phdr), 10000, 0x5eed2, &st);
	cr_log_info("crafted: %u parsed, %u refused", st.ok, st.noexec);
	cr_assert_gt(st.ok, 100, "the fuzzer never produced a valid file");
	cr_assert_gt(st.noexec, 100);
}

static void fuzz_file(const char *path, uint64_t seed)
{
	uint8_t head[4096];
	struct fuzz_stats st = {0};
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	cr_assert(fd >= 0, "cannot open %s (run tools/setup.sh)", path);
	cr_assert_eq(fstat(fd, &sb), 0);
	n = pread(fd, head, sizeof(head), 0);
	close(fd);
	cr_assert_eq(n, (ssize_t)sizeof(head));
	/* The rest of the file reads as zeros: only the headers matter. */
	fuzz(head, sizeof(head), (uint64_t)sb.st_size, 1024, 10000, seed, &st);
	cr_log_info("%s: %u parsed, %u refused", path, st.ok, st.noexec);
	cr_assert_gt(st.ok, 100, "the fuzzer never produced a valid file");
	cr_assert_gt(st.noexec, 100);
}

UTest(elf_fuzz, real_ls, .timeout = 240) { fuzz_file("/bin/ls", 0xc0ffee); }
UTest(elf_fuzz, real_busybox, .timeout = 240) { fuzz_file("/bin/busybox", 0xbeef); }
