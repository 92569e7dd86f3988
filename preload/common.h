/* SPDX-License-Identifier: MIT */
/*
 * What every file of libperfshim.so uses: the platform it targets, the attribute macros, the
 * settings (init.c), the trace clock (clock.c) and the messages (log.c). The thread state and
 * the appenders are in thread.h; each module's interface in its own header (docs/design.md
 * "Where things live").
 */
#ifndef PERFSHIM_PRELOAD_COMMON_H
#define PERFSHIM_PRELOAD_COMMON_H

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "include/perfshim/trace.h"

/*
 * The recorder targets x86-64 Linux with glibc: it reads the clock with rdtsc, finds its
 * thread state through initial-exec TLS (%fs), and wraps glibc's setjmp/longjmp family and
 * internal exit paths by their glibc names. Initial-exec TLS also means the library must be
 * loaded at start (LD_PRELOAD), not dlopen'd. Elsewhere it must not build silently.
 */
#if !defined(__x86_64__) || !defined(__linux__)
#error "libperfshim.so targets x86-64 Linux (rdtsc, initial-exec TLS through %fs)"
#endif
#if !defined(__GLIBC__)
#error "libperfshim.so targets glibc (it wraps glibc's setjmp/longjmp and exit paths)"
#endif

#define PS_EXPORT __attribute__((visibility("default")))
#define PS_NOINLINE __attribute__((noinline))
#define PS_NOINSTR __attribute__((no_instrument_function))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define PS_TLS __attribute__((tls_model("initial-exec")))
/* on the globals the hooks read: addressed from %rip, not through the GOT (one load fewer) */
#define PS_HIDDEN __attribute__((visibility("hidden")))

/* Configuration, read once from PERFSHIM_* in the constructor (init.c). */
#define PS_EV_CALLS (1U << 0)
#define PS_EV_MALLOC (1U << 1)

struct ps_config {
	char output[PATH_MAX];		/* PERFSHIM_OUTPUT template (may hold %p) */
	int output_explicit;		/* PERFSHIM_OUTPUT was set */
	unsigned events;		/* PS_EV_* */
	unsigned stack_depth;		/* frames per allocation stack, 0 = none */
	uint64_t min_duration_ns;	/* PERFSHIM_MIN_DURATION */
	uint64_t min_duration_ticks;	/* the same in trace ticks */
	int quiet;			/* PERFSHIM_QUIET */
	int debug;			/* PERFSHIM_DEBUG level */
	size_t bufsize;			/* per-thread buffer bytes (PERFSHIM_BUFSIZE) */
	int mark_signal;		/* PERFSHIM_MARK_SIGNAL, 0 = none */
	int stack_source;		/* PS_STACK_* (PERFSHIM_STACK_SOURCE) */
	int follow;			/* PERFSHIM_FOLLOW: trace forked, spawned, exec'd children */
};

enum ps_stack_source {
	PS_STACK_AUTO = 0,		/* shadow stack when the program is instrumented */
	PS_STACK_UNWIND = 1,		/* always libunwind */
	PS_STACK_SHADOW = 2,		/* always the shadow stack (empty when not instrumented) */
};

extern struct ps_config ps_cfg PS_HIDDEN;

/*
 * Global recording state. ps_recording is 1 only between a successful start and the final
 * flush; hooks test it (one predictable load) before touching thread state.
 */
extern int ps_recording PS_HIDDEN;
extern int ps_use_tsc PS_HIDDEN;		/* trace clock is the TSC */

/* clock.c */
void ps_clock_init(void);
uint64_t ps_ns_to_ticks(uint64_t ns);
uint64_t ps_mono_ns(void);
uint64_t ps_clock_rate(void);		/* ticks per second, 0 if not measured yet */

/* log.c: stack buffer + write(2); no stdio, no malloc, errno kept */
void ps_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ps_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ps_warn_once(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* per message */
#define ps_dbg(lvl, ...)                                                                    \
	do {                                                                                \
		if (unlikely(ps_cfg.debug >= (lvl)))                                        \
			ps_log(__VA_ARGS__);                                                \
	} while (0)

/*
 * ps_now - the trace clock. rdtsc is several times cheaper than clock_gettime
 * (docs/measurements.md); its use is decided once at start (invariant TSC only), so the
 * branch always predicts.
 * rdtsc is not ordered against memory accesses: allocation hooks that must order across
 * threads use ps_now_ordered().
 */
static inline uint64_t ps_now(void)
{
	if (likely(ps_use_tsc))
		return __builtin_ia32_rdtsc();
	return ps_mono_ns();
}

/* lfence keeps the TSC read after earlier loads/stores (the real free, the real malloc). */
static inline uint64_t ps_tsc_ordered(void)
{
	__builtin_ia32_lfence();
	return __builtin_ia32_rdtsc();
}

/* ps_tsc_ordered, or the monotonic clock where the TSC is not used */
static inline uint64_t ps_now_ordered(void)
{
	if (likely(ps_use_tsc))
		return ps_tsc_ordered();
	return ps_mono_ns();
}

#endif /* PERFSHIM_PRELOAD_COMMON_H */
