/* SPDX-License-Identifier: MIT */
/*
 * Start and end of recording: PERFSHIM_* settings (read once, here), the trace file, the
 * first records, and the final flush. Recording starts at the first event of the process
 * (ld.so runs the constructors of the other libraries, which may allocate, before ours) or
 * in the constructor, whichever comes first; the destructor runs after the program's and
 * after the atexit handlers, so allocations before main and after exit begins are recorded.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "preload/ids.h"
#include "preload/interpose.h"
#include "preload/process.h"
#include "preload/records.h"
#include "preload/sample.h"
#include "preload/tracefile.h"

struct ps_config ps_cfg = {
	.output = "perfshim.%p.bin",
	.events = PS_EV_CALLS | PS_EV_MALLOC,
	.stack_depth = 64,
	.bufsize = 1 << 20,
	.mark_signal = SIGUSR2,
	.follow = 1,
};
int ps_recording;

#define MAX_STACK_DEPTH 1024
#define MIN_BUFSIZE (64U << 10)

/* Parse a decimal number with an optional unit from @units. Return: 0, or -1 if malformed. */
static int parse_scaled(const char *s, const char *const *units, const uint64_t *scale,
			uint64_t *out)
{
	char *end;
	unsigned long long v;
	int i;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (!*end) {
		*out = v;
		return 0;
	}
	for (i = 0; units[i]; i++) {
		if (!strcmp(end, units[i])) {
			if (v > UINT64_MAX / scale[i])
				return -1;
			*out = v * scale[i];
			return 0;
		}
	}
	return -1;
}

/* "500ns", "2us", "1ms", "3s"; a bare number is ns. */
static int parse_duration(const char *s, uint64_t *ns)
{
	static const char *const units[] = { "ns", "us", "ms", "s", NULL };
	static const uint64_t scale[] = { 1, 1000, 1000000, 1000000000 };

	return parse_scaled(s, units, scale, ns);
}

static int parse_size(const char *s, uint64_t *bytes)
{
	static const char *const units[] = { "K", "KiB", "M", "MiB", NULL };
	static const uint64_t scale[] = { 1024, 1024, 1 << 20, 1 << 20 };

	return parse_scaled(s, units, scale, bytes);
}

/* "calls,malloc" in any order; "" or "none" records nothing. */
static int parse_events(const char *s, unsigned *ev)
{
	char buf[128], *tok, *save;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	*ev = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "calls"))
			*ev |= PS_EV_CALLS;
		else if (!strcmp(tok, "malloc"))
			*ev |= PS_EV_MALLOC;
		else if (strcmp(tok, "none"))
			return -1;
	}
	return 0;
}

static int parse_signal(const char *s, int *sig)
{
	uint64_t v;

	if (!strcmp(s, "none") || !strcmp(s, "0")) {
		*sig = 0;
		return 0;
	}
	if (!strncmp(s, "SIG", 3))
		s += 3;
	if (!strcmp(s, "USR1"))
		v = SIGUSR1;
	else if (!strcmp(s, "USR2"))
		v = SIGUSR2;
	else if (parse_scaled(s, (const char *const[]){ NULL }, NULL, &v) || v < 1 ||
		 v >= (uint64_t)NSIG || v == SIGKILL || v == SIGSTOP)
		return -1;
	*sig = (int)v;
	return 0;
}

/* One line per bad setting: the settings are read once, so each is told once. */
static void bad(const char *var, const char *val, const char *dflt)
{
	ps_warn("%s=%s is not valid; using %s", var, val, dflt);
}

/*
 * PERFSHIM_FOLLOW: 0 leaves forked, spawned and exec'd children untraced (tracefile.c and
 * childenv.c act on it), 1 (the default) traces them whatever environment they get.
 */
static void read_follow(void)
{
	const char *v = getenv("PERFSHIM_FOLLOW");

	if (!v)
		return;
	if (!strcmp(v, "0") || !strcmp(v, "1"))
		ps_cfg.follow = *v == '1';
	else
		bad("PERFSHIM_FOLLOW", v, "1");
}

/*
 * PERFSHIM_SAMPLE (a size: bytes, K, M, G; 0 = record every allocation; at most 4 GiB - 1,
 * the header's field) and PERFSHIM_SAMPLE_SEED (0 to 2^32 - 1; default from the clock).
 * sample.c takes them; docs/sampling.md explains them.
 */
static void read_sample(void)
{
	static const char *const units[] = { "K", "KiB", "M", "MiB", "G", "GiB", NULL };
	static const uint64_t scale[] = { 1024, 1024, 1 << 20, 1 << 20, 1 << 30, 1 << 30 };
	const char *v = getenv("PERFSHIM_SAMPLE"), *s = getenv("PERFSHIM_SAMPLE_SEED");
	uint64_t mean = 0, seed = 0;
	int seed_set = 0;

	if (v && (parse_scaled(v, units, scale, &mean) || mean > UINT32_MAX)) {
		bad("PERFSHIM_SAMPLE", v, "0 (every allocation recorded; at most 4G - 1)");
		mean = 0;
	}
	if (s) {
		if (parse_scaled(s, (const char *const[]){ NULL }, NULL, &seed) ||
		    seed > UINT32_MAX)
			bad("PERFSHIM_SAMPLE_SEED", s, "a seed from the clock (0 to 4294967295)");
		else
			seed_set = 1;
	}
	if (mean)
		ps_sample_init(mean, seed_set, (uint32_t)seed);
}

/* Read the PERFSHIM_* variables once. A bad value gets one line and the default. */
static void read_config(void)
{
	const char *v;
	uint64_t n;

	if ((v = getenv("PERFSHIM_QUIET")))
		ps_cfg.quiet = !strcmp(v, "1");
	if ((v = getenv("PERFSHIM_DEBUG")))
		ps_cfg.debug = atoi(v);
	if ((v = getenv("PERFSHIM_OUTPUT")) && *v) {
		if (strlen(v) >= sizeof(ps_cfg.output) - 16)
			bad("PERFSHIM_OUTPUT", "(too long)", ps_cfg.output);
		else {
			strcpy(ps_cfg.output, v);
			ps_cfg.output_explicit = 1;
		}
	}
	if ((v = getenv("PERFSHIM_EVENTS")) && parse_events(v, &ps_cfg.events) < 0) {
		bad("PERFSHIM_EVENTS", v, "calls,malloc");
		ps_cfg.events = PS_EV_CALLS | PS_EV_MALLOC;
	}
	if ((v = getenv("PERFSHIM_STACK_DEPTH"))) {
		if (parse_scaled(v, (const char *const[]){ NULL }, NULL, &n) || n > MAX_STACK_DEPTH)
			bad("PERFSHIM_STACK_DEPTH", v, "64 (at most 1024)");
		else
			ps_cfg.stack_depth = n;
	}
	if ((v = getenv("PERFSHIM_MIN_DURATION"))) {
		if (parse_duration(v, &n))
			bad("PERFSHIM_MIN_DURATION", v, "0 (keep all calls)");
		else
			ps_cfg.min_duration_ns = n;
	}
	if ((v = getenv("PERFSHIM_BUFSIZE"))) {
		if (parse_size(v, &n) || n < MIN_BUFSIZE || n > TRACE_MAX_CHUNK)
			bad("PERFSHIM_BUFSIZE", v, "1M (64K to 64M)");
		else
			ps_cfg.bufsize = n;
	}
	if ((v = getenv("PERFSHIM_MARK_SIGNAL")) && parse_signal(v, &ps_cfg.mark_signal)) {
		bad("PERFSHIM_MARK_SIGNAL", v, "SIGUSR2");
		ps_cfg.mark_signal = SIGUSR2;
	}
	if ((v = getenv("PERFSHIM_STACK_SOURCE"))) {
		if (!strcmp(v, "auto"))
			ps_cfg.stack_source = PS_STACK_AUTO;
		else if (!strcmp(v, "unwind"))
			ps_cfg.stack_source = PS_STACK_UNWIND;
		else if (!strcmp(v, "shadow"))
			ps_cfg.stack_source = PS_STACK_SHADOW;
		else
			bad("PERFSHIM_STACK_SOURCE", v, "auto");
	}
	read_follow();
	read_sample();
}

/*
 * A relative PERFSHIM_OUTPUT (and the default) is taken from the working directory at
 * start: a program that changes directory still writes there, and so do its forked and
 * exec'd children (their names derive from this one).
 */
static void absolute_output(void)
{
	char cwd[PATH_MAX];
	size_t n;

	if (ps_cfg.output[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return;
	n = strlen(cwd);
	if (n + 1 + strlen(ps_cfg.output) >= sizeof(ps_cfg.output) - 16)
		return;
	memmove(ps_cfg.output + n + 1, ps_cfg.output, strlen(ps_cfg.output) + 1);
	memcpy(ps_cfg.output, cwd, n);
	ps_cfg.output[n] = '/';
}

/*
 * Start of recording, once per process, by whichever comes first: the first event (a malloc
 * made by another library's constructor, which ld.so runs before ours, or by ld.so itself)
 * or the constructor. So the trace holds every allocation of the process from its first one.
 * start_state: 0 = not started, 1 = under way (one thread), 2 = done (recording or not).
 * Nothing here waits: a thread whose first event comes while another thread starts (a
 * library constructor that made threads) does not record that event and counts it in
 * start_lost, which goes into a LOST record; waiting could deadlock on the loader lock,
 * which the starting thread may need (dlsym) while the waiting one holds it (dlopen).
 */
extern char **environ;

static int start_state;
static uint64_t start_lost;
int ps_started;

/* The events of other threads dropped while the start was under way go to @t's LOST count. */
static void collect_lost(struct ps_thread *t)
{
	uint64_t n = __atomic_exchange_n(&start_lost, 0, __ATOMIC_RELAXED);

	if (n && t && t->state == PS_T_ACTIVE)
		t->lost += n;
}

/*
 * Everything the start does, under the calling thread's guard (the allocations made here,
 * by dlsym, libunwind or libc, are the shim's). It may run inside the first malloc of the
 * process: it uses no stdio and no lock a malloc caller could hold (ld.so's locks are
 * recursive), and allocates only through the hooks' nested (unrecorded) path.
 * In secure-execution mode (setuid and the like) nothing is recorded and no file is created:
 * the environment of such a program is not to be trusted; nor when the library itself runs
 * as a program (entry.c).
 */
static void start(void)
{
	struct ps_thread *t = &ps_self;
	int saved = errno;

	ps_guard_take(t, PS_GUARD_INTERNAL);
	ps_malloc_resolve();
	if (getauxval(AT_SECURE) || ps_run_as_program())
		goto out;
	read_config();
	absolute_output();
	ps_clock_init();
	ps_cfg.min_duration_ticks = ps_ns_to_ticks(ps_cfg.min_duration_ns);
	ps_lifecycle_init();
	if ((ps_cfg.events & PS_EV_MALLOC) && ps_cfg.stack_depth)
		ps_stack_unwinder_start();	/* its pipe, moved high (fds.c) */
	ps_switch_init();			/* the header says whether switches are in */
	if (ps_output_open(0) < 0)
		goto out;
	__atomic_store_n(&ps_recording, 1, __ATOMIC_RELEASE);
	t = ps_thread_get();
	if (t) {
		ps_emit_process(t);		/* (the COST record: at the first call, cost.c) */
		ps_modules_record(t);
	}
	ps_signals_init();
	if ((ps_cfg.events & PS_EV_MALLOC) && ps_use_tsc && !ps_sample_mean && ps_real_malloc)
		__atomic_store_n(&ps_alloc_all, 1, __ATOMIC_RELEASE);
out:
	__atomic_store_n(&start_state, 2, __ATOMIC_RELEASE);
	__atomic_store_n(&ps_started, 1, __ATOMIC_RELEASE);
	collect_lost(t);
	ps_guard_drop(&ps_self, PS_GUARD_INTERNAL);
	errno = saved;
}

/*
 * ps_start_lazy - the first event of a thread that has no state yet, before recording
 * started (thread.h, ps_thread_get): start now. Return: the thread, ready to append, or
 * NULL when this event is not recorded (the start failed or is not wanted, another thread
 * is starting, or the event is the shim's own, nested in the start or in the resolver).
 */
PS_NOINLINE struct ps_thread *ps_start_lazy(void)
{
	int expect = 0;

	if (ps_self.guard)
		return NULL;		/* nested in the shim: not the program's event */
	if (unlikely(!environ)) {
		/* before libc's own set-up (never seen: ld.so allocates through libc only after
		 * it, in the constructors), the settings cannot be read yet: wait, counted */
		__atomic_add_fetch(&start_lost, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	if (!__atomic_compare_exchange_n(&start_state, &expect, 1, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		if (expect == 1) {
			__atomic_add_fetch(&start_lost, 1, __ATOMIC_RELAXED);
			return NULL;
		}
	} else {
		start();
	}
	return ps_recording ? ps_thread_get() : NULL;
}

/* The constructor: start, unless the first event did already. */
__attribute__((constructor(101))) static void ps_init(void)
{
	int expect = 0;

	if (__atomic_compare_exchange_n(&start_state, &expect, 1, 0, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE))
		start();
	else if (ps_recording)
		collect_lost(&ps_self);
}

__attribute__((destructor(101))) static void ps_fini(void)
{
	ps_flush_all(1);
}
