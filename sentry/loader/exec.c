/* execve's work once the executable is open: check it, build a fresh
 * address space (a new stub), map it, lay out the stack and set the
 * registers. Everything that can fail on bad input fails before the old
 * image is touched. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi/linux.h"
#include "lib/util.h"
#include "sentry/vfs/file.h"
#include "sentry/vfs/vfs.h"
#include "sentry/kernel/cputime.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/loader/loader.h"
#include "sentry/mm/mm.h"

/* Linux's ELF_ET_DYN_BASE: two thirds of the address space. */
#define ET_DYN_BASE ((ABI_TASK_SIZE / 3 * 2) & ~((1ULL << 30) - 1))
#define MMAP_RND_PAGES (1ULL << 28)
#define STACK_RND_PAGES (1ULL << 22)
#define BRK_RND_BYTES (32ULL << 20)
#define STACK_GAP_MIN (128ULL << 20)

static ssize_t file_pread(void *arg, void *buf, size_t len, uint64_t off)
{
	struct file *f = arg;
	int64_t pos = (int64_t)off;
	size_t done = 0;

	if (!f->ops->read)
		return -EACCES;
	while (done < len) {
		ssize_t n = f->ops->read(f, (char *)buf + done, len - done, &pos);
		if (n < 0)
			return n;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int exec_open(struct task *t, const char *path, struct file **out)
{
	struct path p;
	struct inode *in;
	int r = vfs_lookup(t, AT_FDCWD, path, LOOKUP_FOLLOW, &p);

	if (r < 0)
		return r;
	in = p.dentry->inode;
	if (S_ISDIR(in->mode))
		r = -EACCES;
	else if (!S_ISREG(in->mode) || (p.mnt->flags & MNT_NOEXEC))
		r = -EACCES;
	else
		r = vfs_permission(in, MAY_EXEC, &t->tg->creds);
	/* Execute permission is what exec needs; reading is the loader's. */
	if (r == 0)
		r = vfs_open_path(t, &p, O_RDONLY | __O_CREATED, out);
	path_put(&p);
	return r;
}

/* Chooses the stack top and the top of the mmap area, as Linux does:
 * random offsets, and a gap below the stack for it to grow into. */
static void layout(struct mm *mm, uint64_t stack_limit)
{
	uint64_t gap = stack_limit;
	if (gap < STACK_GAP_MIN)
		gap = STACK_GAP_MIN;
	if (gap > ABI_TASK_SIZE / 6 * 5)
		gap = ABI_TASK_SIZE / 6 * 5;
	mm->stack_top = ABI_TASK_SIZE - PAGE_SIZE -
			(kernel_random_u64() % STACK_RND_PAGES) * PAGE_SIZE;
	mm->mmap_base = PAGE_ALIGN_DOWN(mm->stack_top - gap -
					(kernel_random_u64() % MMAP_RND_PAGES) * PAGE_SIZE);
}

static void add_special_vmas(struct mm *mm)
{
	const struct platform_info *pi = &platform_info;
	struct vma v = {.prot = PROT_READ, .kind = VMA_VVAR};

	v.start = pi->vdso_start;
	v.end = pi->vdso_text_start;
	if (v.end > v.start)
		vma_insert(mm, &v);
	v.start = pi->vdso_text_start;
	v.end = pi->vdso_end;
	v.prot = PROT_READ | PROT_EXEC;
	v.kind = VMA_VDSO;
	vma_insert(mm, &v);
	/* Not application memory: keep them out of RLIMIT_AS accounting. */
	mm->mapped = 0;
}

/* Reads and checks an ELF file; err gets a reason. */
static int parse_file(struct file *f, struct elf_image *img, struct k_stat *st, char *err,
		      size_t errlen)
{
	int ret = vfs_fstat(f, st);

	if (ret < 0) {
		snprintf(err, errlen, "cannot stat the executable: %s", strerror(-ret));
		return ret;
	}
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "not a regular file");
		return -EACCES;
	}
	return elf_parse(file_pread, f, (uint64_t)st->st_size, img, err, errlen);
}

/* Maps the interpreter anywhere in the mmap area, as Linux does. */
static int map_interp(struct mm *mm, struct file *f, const struct elf_image *img,
		      const struct k_stat *st, const char *path, struct loaded_elf *le)
{
	uint64_t span = img->hi - img->lo, base;
	int hostfd = f->ops->mmap_fd ? f->ops->mmap_fd(f) : -ENODEV;

	if (hostfd < 0)
		return hostfd;
	if (img->ehdr.e_type == ET_EXEC)
		return elf_map(mm, img, hostfd, 0, path, st->st_dev, st->st_ino, le);
	base = vma_find_gap(mm, span + img->max_align, ABI_MMAP_MIN_ADDR, mm->mmap_base);
	if (!base)
		return -ENOMEM;
	base = (base + img->max_align - 1) & ~(img->max_align - 1);
	return elf_map(mm, img, hostfd, base - img->lo, path, st->st_dev, st->st_ino, le);
}

int exec_program(struct task *t, const struct exec_request *req, char *err,
		 size_t errlen)
{
	struct elf_image img, iimg = {0};
	struct loaded_elf le = {0}, ile = {0};
	struct k_stat st, ist;
	struct file *exe = req->exe, *interp = NULL;
	struct mm *mm = NULL, *old;
	uint64_t stack_limit = t->tg->rlimits[RLIMIT_STACK].cur;
	int fd, ret;
	long sp;

	ret = parse_file(exe, &img, &st, err, errlen);
	if (ret < 0)
		return ret;
	fd = exe->ops->mmap_fd ? exe->ops->mmap_fd(exe) : -ENODEV;
	if (fd < 0) {
		ret = fd;
		snprintf(err, errlen, "the executable cannot be mapped: %s", strerror(-ret));
		goto out_img;
	}
	if (img.interp) {
		ret = exec_open(t, img.interp, &interp);
		if (ret < 0) {
			snprintf(err, errlen, "cannot open the interpreter %s: %s", img.interp,
				 strerror(-ret));
			goto out_img;
		}
		ret = parse_file(interp, &iimg, &ist, err, errlen);
		if (ret < 0) {
			char why[256];
			snprintf(why, sizeof(why), "%s", err);
			snprintf(err, errlen, "interpreter %s: %s", img.interp, why);
			goto out_img;
		}
	}

	/* The point of no return: a new address space replaces the old
	 * (whose stub the platform may end here: its time first). */
	cputime_exec(t, t->mm);
	ret = platform->as_new(t->ctx);
	if (ret < 0) {
		snprintf(err, errlen, "cannot create an address space: %s", strerror(-ret));
		goto out_img;
	}
	mm = mm_new(t->ctx->as);
	if (!mm || !(mm->exe_path = strdup(req->exe_path))) {
		ret = -ENOMEM;
		goto fatal;
	}
	layout(mm, stack_limit);
	add_special_vmas(mm);

	uint64_t bias = 0;
	if (img.ehdr.e_type == ET_DYN) {
		uint64_t base = ET_DYN_BASE + (kernel_random_u64() % MMAP_RND_PAGES) * PAGE_SIZE;
		base = (base + img.max_align - 1) & ~(img.max_align - 1);
		bias = base - img.lo;
	}
	pthread_mutex_lock(&mm->lock);
	ret = elf_map(mm, &img, fd, bias, req->exe_path, st.st_dev, st.st_ino, &le);
	if (ret == 0) {
		mm->brk_start = mm->brk = le.end +
			PAGE_ALIGN_DOWN(kernel_random_u64() % BRK_RND_BYTES);
	}
	if (ret == 0 && interp)
		ret = map_interp(mm, interp, &iimg, &ist, img.interp, &ile);
	pthread_mutex_unlock(&mm->lock);
	if (ret < 0) {
		snprintf(err, errlen, "cannot map the program: %s", strerror(-ret));
		goto fatal;
	}

	const struct creds *c = &t->tg->creds;
	uint64_t auxv[] = {
		AT_SYSINFO_EHDR, platform_info.vdso_ehdr,
		AT_MINSIGSTKSZ, kernel.host_minsigstksz,
		AT_HWCAP, kernel.host_hwcap,
		AT_PAGESZ, PAGE_SIZE,
		AT_CLKTCK, 100,
		AT_PHDR, le.phdr,
		AT_PHENT, sizeof(Elf64_Phdr),
		AT_PHNUM, img.ehdr.e_phnum,
		AT_BASE, interp ? ile.bias : 0,
		AT_FLAGS, 0,
		AT_ENTRY, le.entry,
		AT_UID, c->ruid,
		AT_EUID, c->euid,
		AT_GID, c->rgid,
		AT_EGID, c->egid,
		AT_SECURE, 0,
		AT_RANDOM, 0,
		AT_HWCAP2, kernel.host_hwcap2,
		AT_EXECFN, 0,
		AT_PLATFORM, 0,
		AT_NULL, 0,
	};
	struct stack_args sa = {
		.argv = req->argv, .envp = req->envp, .execfn = req->exe_path,
		.auxv = auxv, .auxv_words = sizeof(auxv) / sizeof(auxv[0]),
		.stack_limit = stack_limit, .exec_stack = img.exec_stack,
	};
	pthread_mutex_lock(&mm->lock);
	sp = stack_setup(mm, &sa);
	pthread_mutex_unlock(&mm->lock);
	if (sp < 0) {
		ret = (int)sp;
		snprintf(err, errlen, "cannot set up the stack: %s", strerror(-ret));
		goto fatal;
	}

	struct user_regs_struct *r = &t->ctx->regs;
	r->rip = interp ? ile.entry : le.entry;
	r->rsp = (uint64_t)sp;
	r->fs_base = 0;
	r->gs_base = 0;
	ret = platform->ctx_reset_fpstate(t->ctx);
	if (ret < 0) {
		snprintf(err, errlen, "cannot reset the FPU state: %s", strerror(-ret));
		goto fatal;
	}
	/* /proc readers look at t->mm under the group lock. */
	pthread_mutex_lock(&t->tg->lock);
	old = t->mm;
	t->mm = mm;
	pthread_mutex_unlock(&t->tg->lock);
	mm_put(old);
	{
		const char *base = strrchr(req->exe_path, '/');
		base = base ? base + 1 : req->exe_path;
		snprintf(t->comm, sizeof(t->comm), "%s", base);
	}
	elf_image_free(&img);
	elf_image_free(&iimg);
	file_put(interp);
	return 0;
fatal:
	/* Past the point of no return: the caller kills the process. */
	mm_put(mm);
	pthread_mutex_lock(&t->tg->lock);
	old = t->mm;
	t->mm = NULL;
	pthread_mutex_unlock(&t->tg->lock);
	mm_put(old);
out_img:
	elf_image_free(&img);
	elf_image_free(&iimg);
	file_put(interp);
	return ret;
}
