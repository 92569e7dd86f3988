/* SPDX-License-Identifier: MIT */
/*
 * floor-malloc.c - the allocation floors of `make bench` (docs/bench.md): malloc-family
 * interposers that forward to glibc through dlsym(RTLD_NEXT), built three ways by
 * bench/bench.mk as LD_PRELOAD libraries (never installed):
 *
 *   -DFLOOR_MODE=0  floor-malloc-count.so: forwarding and a thread-local event count, written
 *                   as one decimal line to $BENCH_FLOOR_OUTPUT at exit (the interposition cost)
 *   -DFLOOR_MODE=1  floor-malloc-record.so: forwarding and one 16-byte record per event,
 *                   {tsc, ptr | size} into the thread's buffer, written in 1 MiB chunks
 *                   (floor-buf.h): the allocation recorder floor
 *   -DFLOOR_MODE=2  floor-malloc-stack.so: as 1, and each allocation's stack from libunwind's
 *                   unw_backtrace (64 frames, as PERFSHIM_STACK_DEPTH's default), looked up
 *                   in a per-thread cache so that a stack is written once and then named by
 *                   an id (heaptrack's way): the stack floor
 *
 * Events are counted as perfshim's bench counts them: one per allocation or free that
 * changed the heap, two per realloc of a block (the old block released, the new obtained).
 * Record layout (little-endian words): allocation {tsc, ptr | min(size, 32767) << 48 | 1 << 63},
 * free {tsc, ptr}; in mode 2 the first word of an allocation is tsc mod 2^48 | stack id << 48,
 * and a stack seen for the first time is written before it as {0, frames | id << 32} and
 * its frames, 8 bytes each.
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef FLOOR_MODE
#error "build with -DFLOOR_MODE=0 (count), 1 (records) or 2 (records and stacks)"
#endif

#include "bench/floor-buf.h"

#if FLOOR_MODE == 2
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#endif

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define IE __attribute__((tls_model("initial-exec")))

/* ------------------------------------------------------------------ resolving */

static void *(*real_malloc)(size_t);
static void (*real_free)(void *);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static void *(*real_valloc)(size_t);
static void *(*real_pvalloc)(size_t);
static size_t (*real_usable_size)(void *);

/* dlsym allocates (its dlerror state) before the real malloc is known: a bump area serves
 * those requests, each block after a 16-byte size header; free ignores its blocks. */
#define BOOT_SIZE (64 * 1024)
static uint8_t boot_area[BOOT_SIZE] __attribute__((aligned(64)));
static size_t boot_used;
static __thread int resolving IE;

static FLOOR_HOT int in_boot(const void *p)
{
	return (const uint8_t *)p >= boot_area && (const uint8_t *)p < boot_area + BOOT_SIZE;
}

static FLOOR_COLD void *boot_alloc(size_t size)
{
	size_t start = __atomic_load_n(&boot_used, __ATOMIC_RELAXED), end;

	do {
		end = start + 16 + ((size + 15) & ~(size_t)15);
		if (end > BOOT_SIZE || size > BOOT_SIZE) {
			errno = ENOMEM;
			return NULL;
		}
	} while (!__atomic_compare_exchange_n(&boot_used, &start, end, 1, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	memcpy(boot_area + start, &size, sizeof(size));
	return boot_area + start + 16;
}

static FLOOR_COLD void resolve(void)
{
	if (resolving || __atomic_load_n(&real_malloc, __ATOMIC_ACQUIRE))
		return;
	resolving = 1;
	real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	real_posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
	real_aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
	real_memalign = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "memalign");
	real_valloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "valloc");
	real_pvalloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "pvalloc");
	real_usable_size = (size_t (*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
	void *m = dlsym(RTLD_NEXT, "malloc");
	if (!m || !real_free || !real_calloc || !real_realloc || !real_posix_memalign ||
	    !real_aligned_alloc || !real_memalign || !real_valloc || !real_pvalloc ||
	    !real_usable_size) {
		static const char msg[] = "floor-malloc: the real malloc family is missing\n";
		ssize_t r = write(2, msg, sizeof(msg) - 1);

		(void)r;
		abort();
	}
	__atomic_store_n(&real_malloc, (void *(*)(size_t))m, __ATOMIC_RELEASE);
	resolving = 0;
}

/* True when the bootstrap area must serve: the real functions are not known yet. */
static inline FLOOR_HOT int unresolved(void)
{
	if (likely(__atomic_load_n(&real_malloc, __ATOMIC_ACQUIRE) != NULL))
		return 0;
	resolve();
	return __atomic_load_n(&real_malloc, __ATOMIC_ACQUIRE) == NULL;
}

static __attribute__((constructor)) void floor_malloc_init(void)
{
	resolve();
}

/* ------------------------------------------------------------------ the events */

#if FLOOR_MODE == 0
static __thread uint64_t count_n IE;
static __thread int count_registered IE;
static uint64_t count_total;
static pthread_key_t count_key;
static pthread_once_t count_once = PTHREAD_ONCE_INIT;

static FLOOR_HOT void count_thread_exit(void *arg)
{
	(void)arg;
	__atomic_add_fetch(&count_total, count_n, __ATOMIC_RELAXED);
	count_n = 0;
}

static FLOOR_HOT void count_key_init(void)
{
	pthread_key_create(&count_key, count_thread_exit);
}

/* First event of a thread: its count joins the total at thread exit. */
static FLOOR_COLD void count_register(void)
{
	int saved = errno;

	count_registered = 1;
	pthread_once(&count_once, count_key_init);
	pthread_setspecific(count_key, &count_n);	/* may allocate: registered is set */
	errno = saved;
}

static inline FLOOR_HOT void count_events(unsigned n)
{
	if (unlikely(!count_registered))
		count_register();
	count_n += n;
}

#define ON_ALLOC(p, size) count_events(1)
#define ON_FREE(p) count_events(1)
#define ON_REALLOC(old, p, size) count_events(2)

static __attribute__((destructor)) void count_report(void)
{
	const char *path = getenv("BENCH_FLOOR_OUTPUT");
	char line[32];
	int fd, n;

	if (!path || !*path)
		return;
	n = snprintf(line, sizeof(line), "%llu\n",
		     (unsigned long long)(__atomic_load_n(&count_total, __ATOMIC_RELAXED) +
					  count_n));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, line, (size_t)n) != n)
			(void)0;
		close(fd);
	}
}
#else

static inline FLOOR_HOT uint64_t alloc_word(const void *p, size_t size)
{
	uint64_t s = size < 0x7fff ? size : 0x7fff;

	return (uint64_t)(uintptr_t)p | s << 48 | 1ULL << 63;
}

static inline FLOOR_HOT void rec_free(const void *p)
{
	floor_put(__rdtsc(), (uint64_t)(uintptr_t)p);
}

#if FLOOR_MODE == 1
static inline FLOOR_HOT void rec_alloc(const void *p, size_t size)
{
	floor_put(__rdtsc(), alloc_word(p, size));
}
#else
/* Set while a hook unwinds: libunwind's own allocations are forwarded, not recorded. */
static __thread int in_unwind IE;

#define STACK_FRAMES 64
#define CACHE_SLOTS (1U << 14)	/* per thread; full at 3/4: later new stacks are rewritten */

struct stack_slot {
	uint64_t hash;		/* 0: empty */
	uint64_t id;
};

static __thread struct stack_slot *cache IE;
static __thread uint32_t cache_used IE;
static __thread uint32_t cache_failed IE;

static FLOOR_COLD void cache_init(void)
{
	void *m = mmap(NULL, CACHE_SLOTS * sizeof(struct stack_slot), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		cache_failed = 1;
	else
		cache = m;
}

/* Write a stack seen for the first time (or not kept by a full cache): {0, n | id << 32}, ips. */
static FLOOR_COLD void put_stack(void *const *ips, int n, uint64_t id)
{
	uint8_t *p = floor_reserve(FLOOR_REC + STACK_FRAMES * 8);
	uint64_t w[2] = { 0, (uint64_t)n | id << 32 };

	memcpy(p, w, sizeof(w));
	memcpy(p + sizeof(w), ips, (size_t)n * 8);
	floor_commit(p + sizeof(w) + (size_t)n * 8);
}

/*
 * The allocation's stack id: unwind, hash the frames, find the hash in the thread's cache.
 * A stack is known by its 64-bit hash alone (a recorder would compare the frames; a floor
 * need not). Return: the id (from 1; 0 = no stack).
 */
static inline FLOOR_HOT uint64_t stack_id(void)
{
	void *ips[STACK_FRAMES];
	uint64_t h;
	uint32_t i;
	int n;

	in_unwind = 1;
	n = unw_backtrace(ips, STACK_FRAMES);
	in_unwind = 0;
	if (n <= 0)
		return 0;
	h = (uint64_t)n;
	for (i = 0; i < (uint32_t)n; i++) {
		h = (h ^ (uint64_t)(uintptr_t)ips[i]) * 0x9E3779B97F4A7C15ULL;
		h ^= h >> 29;
	}
	h |= !h;
	if (unlikely(!cache) && !cache_failed)
		cache_init();
	if (unlikely(!cache)) {
		put_stack(ips, n, 0xffff);
		return 0xffff;
	}
	for (i = (uint32_t)h & (CACHE_SLOTS - 1);; i = (i + 1) & (CACHE_SLOTS - 1)) {
		if (cache[i].hash == h)
			return cache[i].id;
		if (!cache[i].hash)
			break;
	}
	if (cache_used >= CACHE_SLOTS / 4 * 3) {
		put_stack(ips, n, 0xffff);
		return 0xffff;
	}
	cache[i].hash = h;
	cache[i].id = ++cache_used;
	put_stack(ips, n, cache[i].id);
	return cache[i].id;
}

static inline FLOOR_HOT void rec_alloc(const void *p, size_t size)
{
	int saved = errno;	/* libunwind may set it */
	uint64_t id;

	if (unlikely(in_unwind))
		return;
	id = stack_id();
	errno = saved;
	floor_put((__rdtsc() & ((1ULL << 48) - 1)) | (id & 0xffff) << 48, alloc_word(p, size));
}
#endif

#define ON_ALLOC(p, size) rec_alloc(p, size)
#if FLOOR_MODE == 2
#define ON_FREE(p) (in_unwind ? (void)0 : rec_free(p))
#else
#define ON_FREE(p) rec_free(p)
#endif
#define ON_REALLOC(old, p, size) (ON_FREE(old), ON_ALLOC(p, size))
#endif

/* ------------------------------------------------------------------ the family */

FLOOR_EXPORT void *malloc(size_t size)
{
	void *p;

	if (unlikely(unresolved()))
		return boot_alloc(size);
	p = real_malloc(size);
	if (likely(p))
		ON_ALLOC(p, size);
	return p;
}

FLOOR_EXPORT void free(void *p)
{
	if (unlikely(!p || in_boot(p) || unresolved()))
		return;
	ON_FREE(p);
	real_free(p);
}

FLOOR_EXPORT void *calloc(size_t n, size_t size)
{
	size_t total;
	void *p;

	if (unlikely(unresolved()))
		return __builtin_mul_overflow(n, size, &total) ? (errno = ENOMEM, NULL)
							       : boot_alloc(total);
	p = real_calloc(n, size);
	if (likely(p))
		ON_ALLOC(p, n * size);
	return p;
}

/* realloc(NULL, n) allocates; realloc(p, 0) frees p (glibc) and returns NULL; a failed
 * realloc changed nothing. */
static inline FLOOR_HOT void *realloc_common(void *old, size_t size)
{
	void *p;

	if (unlikely(old && in_boot(old))) {
		size_t n;

		memcpy(&n, (uint8_t *)old - 16, sizeof(n));
		if (!size)
			return NULL;
		p = unresolved() ? boot_alloc(size) : real_malloc(size);
		if (p) {
			memcpy(p, old, n < size ? n : size);
			if (!in_boot(p))
				ON_ALLOC(p, size);
		}
		return p;
	}
	if (unlikely(unresolved()))
		return boot_alloc(size);
	p = real_realloc(old, size);
	if (!old) {
		if (likely(p))
			ON_ALLOC(p, size);
	} else if (p || !size) {
		ON_REALLOC(old, p, size);
	}
	return p;
}

FLOOR_EXPORT void *realloc(void *old, size_t size)
{
	return realloc_common(old, size);
}

/* glibc's reallocarray calls realloc through the PLT: done here, or it would count twice */
FLOOR_EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc_common(old, total);
}

FLOOR_EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
	int r;

	if (unlikely(unresolved()))
		return ENOMEM;
	r = real_posix_memalign(out, align, size);
	if (likely(r == 0))
		ON_ALLOC(*out, size);
	return r;
}

#define ALIGNED(name, real)                                                                        \
	FLOOR_EXPORT void *name(size_t align, size_t size)                                         \
	{                                                                                          \
		void *p;                                                                           \
                                                                                                   \
		if (unlikely(unresolved())) {                                                      \
			errno = ENOMEM;                                                            \
			return NULL;                                                               \
		}                                                                                  \
		p = real(align, size);                                                             \
		if (likely(p))                                                                     \
			ON_ALLOC(p, size);                                                         \
		return p;                                                                          \
	}
ALIGNED(aligned_alloc, real_aligned_alloc)
ALIGNED(memalign, real_memalign)

FLOOR_EXPORT void *valloc(size_t size)
{
	void *p;

	if (unlikely(unresolved())) {
		errno = ENOMEM;
		return NULL;
	}
	p = real_valloc(size);
	if (likely(p))
		ON_ALLOC(p, size);
	return p;
}

FLOOR_EXPORT void *pvalloc(size_t size)
{
	void *p;

	if (unlikely(unresolved())) {
		errno = ENOMEM;
		return NULL;
	}
	p = real_pvalloc(size);
	if (likely(p))
		ON_ALLOC(p, size);
	return p;
}

FLOOR_EXPORT size_t malloc_usable_size(void *p)
{
	size_t n;

	if (!p)
		return 0;
	if (in_boot(p)) {
		memcpy(&n, (uint8_t *)p - 16, sizeof(n));
		return n;
	}
	return unresolved() ? 0 : real_usable_size(p);
}
