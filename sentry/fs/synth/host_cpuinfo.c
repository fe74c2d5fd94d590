/* /proc/cpuinfo from the CPUID instruction: identity, caches, sizes and
 * the feature flags under Linux's names (arch/x86/include/asm/
 * cpufeatures.h), in Linux's order. The clock rate is measured once
 * against CLOCK_MONOTONIC when nothing reports it, at the first read. */
#include <cpuid.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "sentry/fs/synth/host_info.h"

struct flag_word {
	uint32_t leaf, subleaf;
	int reg;                 /* 0 eax, 1 ebx, 2 ecx, 3 edx */
	const char *names[32];   /* NULL: not shown */
};

static const struct flag_word flag_words[] = {
	{1, 0, 3, {"fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", NULL,
		   "sep", "mtrr", "pge", "mca", "cmov", "pat", "pse36", "pn", "clflush", NULL,
		   "dts", "acpi", "mmx", "fxsr", "sse", "sse2", "ss", "ht", "tm", "ia64", "pbe"}},
	{0x80000001, 0, 3, {[11] = "syscall", [19] = "mp", [20] = "nx", [22] = "mmxext",
			    [25] = "fxsr_opt", [26] = "pdpe1gb", [27] = "rdtscp", [29] = "lm",
			    [30] = "3dnowext", [31] = "3dnow"}},
	{1, 0, 2, {"pni", "pclmulqdq", "dtes64", "monitor", "ds_cpl", "vmx", "smx", "est",
		   "tm2", "ssse3", "cid", "sdbg", "fma", "cx16", "xtpr", "pdcm", NULL, "pcid",
		   "dca", "sse4_1", "sse4_2", "x2apic", "movbe", "popcnt", "tsc_deadline_timer",
		   "aes", "xsave", NULL, "avx", "f16c", "rdrand", "hypervisor"}},
	{0x80000001, 0, 2, {"lahf_lm", "cmp_legacy", "svm", "extapic", "cr8_legacy", "abm",
			    "sse4a", "misalignsse", "3dnowprefetch", "osvw", "ibs", "xop",
			    "skinit", "wdt", NULL, "lwp", "fma4", "tce", NULL, "nodeid_msr", NULL,
			    "tbm", "topoext", "perfctr_core", "perfctr_nb", NULL, "bpext", "ptsc",
			    "perfctr_llc", "mwaitx"}},
	{7, 0, 1, {"fsgsbase", "tsc_adjust", "sgx", "bmi1", "hle", "avx2", NULL, "smep", "bmi2",
		   "erms", "invpcid", "rtm", "cqm", NULL, "mpx", "rdt_a", "avx512f", "avx512dq",
		   "rdseed", "adx", "smap", "avx512ifma", NULL, "clflushopt", "clwb", "intel_pt",
		   "avx512pf", "avx512er", "avx512cd", "sha_ni", "avx512bw", "avx512vl"}},
	{0xd, 1, 0, {"xsaveopt", "xsavec", "xgetbv1", "xsaves"}},
	{7, 1, 0, {[4] = "avx_vnni", [5] = "avx512_bf16"}},
	{0x80000008, 0, 1, {"clzero", "irperf", "xsaveerptr", [9] = "wbnoinvd"}},
	{6, 0, 0, {[2] = "arat"}},
	{7, 0, 2, {NULL, "avx512vbmi", "umip", "pku", NULL, "waitpkg", "avx512_vbmi2", NULL,
		   "gfni", "vaes", "vpclmulqdq", "avx512_vnni", "avx512_bitalg", "tme",
		   "avx512_vpopcntdq", NULL, "la57", [22] = "rdpid", [24] = "bus_lock_detect",
		   [25] = "cldemote", [27] = "movdiri", [28] = "movdir64b", [29] = "enqcmd",
		   [30] = "sgx_lc"}},
	{7, 0, 3, {[2] = "avx512_4vnniw", [3] = "avx512_4fmaps", [4] = "fsrm",
		   [8] = "avx512_vp2intersect", [10] = "md_clear", [14] = "serialize",
		   [16] = "tsxldtrk", [18] = "pconfig", [19] = "arch_lbr", [20] = "ibt",
		   [22] = "amx_bf16", [23] = "avx512_fp16", [24] = "amx_tile", [25] = "amx_int8",
		   [28] = "flush_l1d", [29] = "arch_capabilities"}},
};

struct cpu_ident {
	char vendor[13];
	char model_name[49];
	unsigned family, model, stepping, level, clflush, phys_bits, virt_bits, cache_kb;
	double mhz;
	char *flags;
};

static struct cpu_ident ident;
static pthread_once_t ident_once = PTHREAD_ONCE_INIT;

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}

/* The TSC rate, measured over 200 us (the two clock reads at the ends
 * take tens of ns: well under 0.1 %): the rate Linux reports for a CPU
 * with a constant TSC when the hardware does not say. */
static double measure_mhz(void)
{
	struct timespec a, b;
	uint64_t t0, t1;
	double ns;

	clock_gettime(CLOCK_MONOTONIC, &a);
	t0 = __rdtsc();
	do {
		clock_gettime(CLOCK_MONOTONIC, &b);
		ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
	} while (ns < 2e5);
	t1 = __rdtsc();
	return (double)(t1 - t0) / ns * 1e3;
}

static void identify(void)
{
	uint32_t r[4], max, maxext;
	char flags[2048];
	size_t fl = 0;

	cpuid(0, 0, r);
	max = r[0];
	memcpy(ident.vendor, &r[1], 4);
	memcpy(ident.vendor + 4, &r[3], 4);
	memcpy(ident.vendor + 8, &r[2], 4);
	cpuid(0x80000000, 0, r);
	maxext = r[0];
	ident.level = max;
	cpuid(1, 0, r);
	ident.stepping = r[0] & 0xf;
	ident.family = (r[0] >> 8) & 0xf;
	ident.model = (r[0] >> 4) & 0xf;
	if (ident.family == 0xf)
		ident.family += (r[0] >> 20) & 0xff;
	if (ident.family >= 6)
		ident.model |= ((r[0] >> 16) & 0xf) << 4;
	ident.clflush = ((r[1] >> 8) & 0xff) * 8;
	if (maxext >= 0x80000004) {
		for (uint32_t i = 0; i < 3; i++) {
			cpuid(0x80000002 + i, 0, r);
			memcpy(ident.model_name + 16 * i, r, 16);
		}
		/* Linux strips leading and trailing spaces. */
		char *s = ident.model_name;
		while (*s == ' ')
			s++;
		memmove(ident.model_name, s, strlen(s) + 1);
		for (size_t n = strlen(ident.model_name); n && ident.model_name[n - 1] == ' '; n--)
			ident.model_name[n - 1] = 0;
	}
	if (maxext >= 0x80000006) {
		cpuid(0x80000006, 0, r);
		ident.cache_kb = r[2] >> 16;
	}
	ident.phys_bits = 36;
	ident.virt_bits = 48;
	if (maxext >= 0x80000008) {
		cpuid(0x80000008, 0, r);
		ident.phys_bits = r[0] & 0xff;
		ident.virt_bits = (r[0] >> 8) & 0xff;
	}
	/* The clock: the frequency leaf, a hypervisor's TSC leaf, the brand
	 * string's "@ 2.90GHz", or a measurement. */
	if (max >= 0x16) {
		cpuid(0x16, 0, r);
		ident.mhz = r[0] & 0xffff;
	}
	if (!ident.mhz) {
		cpuid(0x40000000, 0, r);
		if (r[0] >= 0x40000010) {
			cpuid(0x40000010, 0, r);
			ident.mhz = r[0] / 1000.0;
		}
	}
	if (!ident.mhz) {
		const char *at = strstr(ident.model_name, "GHz");
		while (at && at > ident.model_name && at[-1] != ' ')
			at--;
		if (at && at != ident.model_name)
			ident.mhz = strtod(at, NULL) * 1000.0;
	}
	if (!ident.mhz)
		ident.mhz = measure_mhz();

	flags[0] = 0;
	for (size_t w = 0; w < sizeof(flag_words) / sizeof(flag_words[0]); w++) {
		const struct flag_word *fw = &flag_words[w];
		uint32_t top = fw->leaf >= 0x80000000 ? maxext : max;
		if (fw->leaf > top)
			continue;
		cpuid(fw->leaf, fw->subleaf, r);
		for (int bit = 0; bit < 32; bit++) {
			const char *name = fw->names[bit];
			size_t n;
			if (!name || !((r[fw->reg] >> bit) & 1))
				continue;
			n = strlen(name);
			if (fl + n + 2 >= sizeof(flags))
				break;
			if (fl)
				flags[fl++] = ' ';
			memcpy(flags + fl, name, n + 1);
			fl += n;
		}
	}
	ident.flags = strdup(flags);
}

void host_cpuinfo(struct synth_buf *b)
{
	const struct host_info *h = host_info();

	pthread_once(&ident_once, identify);
	for (int i = 0, core = 0; i < HOST_MAX_CPUS; i++) {
		if (!((h->cpu_online[i / 8] >> (i % 8)) & 1))
			continue;
		synth_printf(b,
			     "processor\t: %d\n"
			     "vendor_id\t: %s\n"
			     "cpu family\t: %u\n"
			     "model\t\t: %u\n"
			     "model name\t: %s\n"
			     "stepping\t: %u\n"
			     "cpu MHz\t\t: %.3f\n",
			     i, ident.vendor, ident.family, ident.model, ident.model_name,
			     ident.stepping, ident.mhz);
		if (ident.cache_kb)
			synth_printf(b, "cache size\t: %u KB\n", ident.cache_kb);
		synth_printf(b,
			     "physical id\t: 0\n"
			     "siblings\t: %d\n"
			     "core id\t\t: %d\n"
			     "cpu cores\t: %d\n"
			     "apicid\t\t: %d\n"
			     "initial apicid\t: %d\n"
			     "fpu\t\t: yes\n"
			     "fpu_exception\t: yes\n"
			     "cpuid level\t: %u\n"
			     "wp\t\t: yes\n"
			     "flags\t\t: %s\n"
			     "bugs\t\t:\n"
			     "bogomips\t: %.2f\n"
			     "clflush size\t: %u\n"
			     "cache_alignment\t: %u\n"
			     "address sizes\t: %u bits physical, %u bits virtual\n"
			     "power management:\n\n",
			     h->ncpus, core, h->ncpus, i, i, ident.level,
			     ident.flags ? ident.flags : "", ident.mhz * 2, ident.clflush,
			     ident.clflush, ident.phys_bits, ident.virt_bits);
		core++;
	}
}
