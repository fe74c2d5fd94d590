/* The FPU/SSE/AVX state of a stopped systrap thread. It lives in the
 * frame of the signal that stopped it, on the slot's signal stack, where
 * the kernel saved it (XSAVE, the standard non-compacted layout: user
 * signal frames never use the compacted one) and from where its
 * rt_sigreturn will restore it. So reading it is a copy out of the slot,
 * and changing it a validated copy in: the kernel then loads it when the
 * thread resumes.
 *
 * The slot is application memory: every word is read once, into our
 * buffer, and checked there. A state the host would refuse (XRSTOR faults
 * on a bad header or MXCSR, and the stub, with every signal blocked in its
 * handler, would die) is refused here instead, as ptrace's SETREGSET does.
 *
 * XSAVE leaves a component that is in its initial state unwritten and its
 * XSTATE_BV bit clear; what lies in its bytes is stale stack. The copy out
 * puts the initial values there, as ptrace's GETREGSET does. */
#include <cpuid.h>
#include <errno.h>
#include <string.h>

#include "platform/systrap/systrap_impl.h"

/* Offsets in the xsave area: the fxsave layout, then the xsave header. */
#define FX_CWD 0
#define FX_MXCSR 24
#define FX_MXCSR_MASK 28
#define FX_ST 32
#define FX_XMM 160
#define FX_RESERVED 416
#define FX_SW 464 /* struct _fpx_sw_bytes: magic1, extended_size,
		   * xfeatures, xstate_size */
#define SW_MAGIC1 (FX_SW + 0)
#define SW_XFEATURES (FX_SW + 8)
#define SW_XSTATE_SIZE (FX_SW + 16)
#define FP_XSTATE_MAGIC1 0x46505853U
#define FX_SIZE 512
#define XS_BV 512
#define XS_COMP_BV 520
#define XS_HEADER_SIZE 64
#define XS_MIN (FX_SIZE + XS_HEADER_SIZE)
#define XFEATURE_X87 (1ULL << 0)
#define XFEATURE_SSE (1ULL << 1)
#define XFEATURE_PKRU (1ULL << 9)
#define MXCSR_DEFAULT 0x1f80
#define FCW_DEFAULT 0x37f

static struct {
	uint64_t xcr0;            /* the features XSAVE covers here */
	uint32_t off[64], size[64]; /* each extended component's place */
	uint32_t mxcsr_mask;
} fp;

void systrap_fpstate_init(void)
{
	unsigned a, b, c, d;
	uint8_t fx[FX_SIZE] __attribute__((aligned(16)));

	__cpuid(1, a, b, c, d);
	if (c & bit_OSXSAVE) {
		uint32_t lo, hi;
		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		fp.xcr0 = ((uint64_t)hi << 32) | lo;
		for (int i = 2; i < 64; i++) {
			if (!(fp.xcr0 & (1ULL << i)))
				continue;
			__cpuid_count(0xd, i, a, b, c, d);
			fp.size[i] = a;
			fp.off[i] = b;
		}
	}
	/* The MXCSR bits this CPU has (0xffbf when fxsave reports none). */
	memset(fx, 0, sizeof(fx));
	__asm__ volatile("fxsave64 %0" : "=m"(fx));
	memcpy(&fp.mxcsr_mask, fx + FX_MXCSR_MASK, 4);
	if (!fp.mxcsr_mask)
		fp.mxcsr_mask = 0xffbf;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* The frame's xsave area in our mapping of the slot, its size as the
 * kernel wrote it (its software bytes; 512 for a frame with only the
 * fxsave part) and the features it covers. */
struct frame_fp {
	uint8_t *p;
	size_t size;
	uint64_t xfeatures;
};

static int frame_fp(struct systrap_ctx *c, struct frame_fp *f)
{
	uint64_t lo = c->slot_addr + SLOT_STACK, hi = c->slot_addr + STUB_SLOT_SIZE;
	uint64_t at;
	uint32_t size;

	if (!c->slot || systrap_settle(c) < 0 || !c->stopped)
		return -ESRCH;
	if (c->fast && systrap_unfast(c) < 0)
		return -ESRCH;
	at = c->fpstate;
	/* On the slot's stack, 64-byte aligned (XSAVE needs it). */
	if (at < lo || at > hi - FX_SIZE || (at & 63))
		return -EFAULT;
	f->p = (uint8_t *)c->slot + (at - c->slot_addr);
	f->size = FX_SIZE;
	f->xfeatures = XFEATURE_X87 | XFEATURE_SSE;
	if (get32(f->p + SW_MAGIC1) != FP_XSTATE_MAGIC1)
		return 0;
	size = get32(f->p + SW_XSTATE_SIZE);
	if (size < XS_MIN || size > hi - at)
		return -EFAULT;
	f->size = size;
	f->xfeatures = get64(f->p + SW_XFEATURES) & fp.xcr0;
	return 0;
}

int systrap_reset_fpstate(struct platform_ctx *pc)
{
	struct systrap_ctx *c = (struct systrap_ctx *)pc;
	struct frame_fp f;
	uint32_t mxcsr = MXCSR_DEFAULT;
	uint16_t fcw = FCW_DEFAULT;
	int ret = frame_fp(c, &f);

	if (ret < 0)
		return ret;
	/* The fxsave registers, not the software bytes, nor the mask. */
	memset(f.p, 0, FX_MXCSR_MASK);
	memset(f.p + FX_ST, 0, FX_SW - FX_ST);
	memcpy(f.p + FX_CWD, &fcw, 2);
	memcpy(f.p + FX_MXCSR, &mxcsr, 4);
	if (f.size > FX_SIZE) {
		/* x87 and SSE as set above; every other component in its init
		 * state but PKRU, which keeps its value. */
		uint64_t bv = (get64(f.p + XS_BV) & XFEATURE_PKRU) | XFEATURE_X87 | XFEATURE_SSE;
		memcpy(f.p + XS_BV, &bv, 8);
	}
	return 0;
}

int systrap_get_fpstate(struct platform_ctx *pc, void *buf, size_t len)
{
	struct systrap_ctx *c = (struct systrap_ctx *)pc;
	uint8_t *b = buf;
	struct frame_fp f;
	size_t n;
	uint64_t bv;
	int ret = frame_fp(c, &f);

	if (ret < 0)
		return ret;
	if (len < FX_SIZE)
		return -EINVAL;
	n = f.size < len ? f.size : len;
	memcpy(b, f.p, n);
	memset(b + n, 0, len - n);
	/* Not register state: reserved bytes, and the software bytes the
	 * sentry writes for the application's own frame. */
	memset(b + FX_RESERVED, 0, FX_SIZE - FX_RESERVED);
	bv = n >= XS_MIN ? get64(b + XS_BV) : XFEATURE_X87 | XFEATURE_SSE;
	if (!(bv & XFEATURE_X87)) {
		uint16_t fcw = FCW_DEFAULT;
		memset(b, 0, FX_MXCSR);
		memset(b + FX_ST, 0, FX_XMM - FX_ST);
		memcpy(b + FX_CWD, &fcw, 2);
	}
	if (!(bv & XFEATURE_SSE))
		memset(b + FX_XMM, 0, FX_RESERVED - FX_XMM);
	if (n < XS_MIN)
		return (int)len;
	memset(b + XS_COMP_BV, 0, XS_HEADER_SIZE - 8); /* standard form */
	for (int i = 2; i < 64; i++) {
		if (!(f.xfeatures & (1ULL << i)) || (bv & (1ULL << i)))
			continue;
		/* Every extended component starts as zeros (PKRU too, in the
		 * hardware's init state). */
		if (fp.off[i] >= XS_MIN && fp.off[i] + (size_t)fp.size[i] <= n)
			memset(b + fp.off[i], 0, fp.size[i]);
	}
	return (int)len;
}

int systrap_set_fpstate(struct platform_ctx *pc, const void *buf, size_t len)
{
	struct systrap_ctx *c = (struct systrap_ctx *)pc;
	const uint8_t *b = buf;
	struct frame_fp f;
	size_t n;
	int ret = frame_fp(c, &f);

	if (ret < 0)
		return ret;
	if (len < FX_SIZE)
		return -EINVAL;
	n = f.size < len ? f.size : len;
	/* What makes FXRSTOR or XRSTOR fault. */
	if (get32(b + FX_MXCSR) & ~fp.mxcsr_mask)
		return -EINVAL;
	if (n >= XS_MIN) {
		uint64_t bv = get64(b + XS_BV);
		if ((bv & ~f.xfeatures) || get64(b + XS_COMP_BV) || get64(b + XS_COMP_BV + 8))
			return -EINVAL;
	} else if (f.size > FX_SIZE) {
		return -EINVAL; /* a header the frame needs and we lack */
	}
	/* The registers; the frame keeps the software bytes the kernel wrote
	 * for its own rt_sigreturn. */
	memcpy(f.p, b, FX_RESERVED);
	if (n > FX_SIZE)
		memcpy(f.p + FX_SIZE, b + FX_SIZE, n - FX_SIZE);
	return 0;
}
