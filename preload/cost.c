/* SPDX-License-Identifier: MIT */
/*
 * What the recorder itself costs, measured in the traced process at its first call hook
 * (ps_cost_first_call: a program that makes none has no call time to compensate): the call
 * hooks (split at their timestamp into the part that lands in the caller and the part that
 * lands in the callee) and the allocation hooks (a known stack, and each new stack node).
 * The figures go into the trace as one COST record; the analyzer takes them out of every
 * time it reports (docs/compensation.md has the model and its error bound).
 *
 * The real exported hooks run here, unchanged, on a private thread state swapped into this
 * thread's TLS for the measurement (a one-slot function table, a small shadow stack and node
 * table of its own), with every signal blocked; the thread's own state is put back
 * afterwards. Its records go where the thread's own would: into the free part of its open
 * chunk, whose pages the hooks make ready as they go (chunk.c), so that the cost of the
 * bytes is in the figures as it is in a run. They are never committed: the thread's own
 * records overwrite them. Batches are long (a few KiB of records each) and the mean is
 * taken over all but those a preemption hit, so the page work, paid once per 128 KiB, is
 * spread over the events as in a run.
 */
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload/ids.h"
#include "preload/interpose.h"
#include "preload/records.h"
#include "preload/signals.h"

#define CALL_BATCH 512			/* enter/exit pairs per timed batch (~2.5 KiB) */
#define CALL_BATCHES 96			/* ~240 KiB of records: two of chunk.c's windows */
#define BATCH 128			/* allocations (and frees) per timed batch */
#define ALLOC_BATCHES 48		/* of a known stack: ~75 KiB */
#define NEW_BATCHES 24			/* each allocation from a new stack (two new nodes) */
#define NODE_SLOTS 16384		/* holds the 2 * NEW_BATCHES * BATCH new nodes */
#define SCRATCH (512U << 10)		/* where records go when no chunk is open */
#define REWIND (64U << 10)		/* closer than this to the end: start the area over */
#define PREEMPTED_NS 300000		/* a batch this much over the median lost the CPU */
#define ACOST_EVERY 16			/* in the run: about one recorded allocation in this many
					 * timed (a power of 2) */
#define ACOST_WINDOW 64			/* timed ones per thread COST record */
#define ACOST_CAP_NS 20000		/* one timed longer than this lost the CPU: left out */

uint64_t ps_cost[TRACE_COST_N];		/* ticks << TRACE_COST_SHIFT; all 0: not measured */
int ps_cost_valid;
static uint64_t alloc_pre;		/* of ps_cost[ALLOC]: the part before the timestamp */

typedef void (*hook_fn)(void *, void *);
typedef void *(*malloc_fn)(size_t);
typedef void (*free_fn)(void *);

/* What instrumented code calls without the shim: glibc's hooks do nothing either. */
static PS_NOINSTR PS_NOINLINE void noop_hook(void *fn, void *site)
{
	__asm__ volatile("" ::"r"(fn), "r"(site));
}

/* The "function" whose calls are timed: only its address is used. */
static PS_NOINSTR PS_NOINLINE void dummy_fn(void)
{
	__asm__ volatile("");
}

/*
 * Called through volatile pointers, as instrumented code calls through the PLT: the
 * compiler may neither inline the hooks into the loops nor drop the no-op calls.
 */
static hook_fn volatile enter_p = __cyg_profile_func_enter, exit_p = __cyg_profile_func_exit,
		       noop_p = noop_hook;
static malloc_fn volatile malloc_p = malloc;
static free_fn volatile free_p = free;

static uint8_t *scratch;		/* mmap'd when the thread has no chunk open */
static uint8_t *first;			/* where the measurement's records start */
static struct ps_fid_slot fid_slot[1];
static struct ps_frame frames[8];

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The mean of @v[0..n) without the batches that lost the CPU (more than PREEMPTED_NS over
 * the median: another process ran). What is left keeps the rare costs a run has too (page
 * work, interrupts), which a median or a low quantile would leave out. @v is sorted.
 */
static uint64_t robust_mean(uint64_t *v, size_t n)
{
	uint64_t lim, sum = 0;
	size_t i;

	qsort(v, n, sizeof(*v), cmp_u64);
	lim = v[n / 2] + ps_ns_to_ticks(PREEMPTED_NS);
	for (i = 0; i < n && v[i] <= lim; i++)
		sum += v[i];
	return sum / i;
}

/*
 * Each batch writes on from where the last one stopped, into memory not touched yet, as
 * the hooks do in a chunk; only near the end of the scratch area does it start over.
 * Return: where the batch's records start.
 */
static uint8_t *batch_start(void)
{
	if (ps_self.chunk.end - ps_self.rec.pos < (ptrdiff_t)REWIND)
		ps_self.rec.pos = first;
	ps_self.rec.last_ticks = ps_now();
	return ps_self.rec.pos;
}

static volatile uint64_t body_sink;

/*
 * CALL_BATCH calls of a tiny function through hooks @en/@ex: its body is BODY dependent
 * multiply-adds (docs/measurements.md), the size of callee whose time the hooks' cost swamps, and
 * which overlaps with their work as a real one does. Return: the ticks they took.
 */
#define BODY 8
static PS_NOINSTR PS_NOINLINE uint64_t call_batch(hook_fn en, hook_fn ex)
{
	void *fn = (void *)dummy_fn;
	uint64_t t0, t1, x = body_sink;
	int i, k;

	t0 = ps_now();
	for (i = 0; i < CALL_BATCH; i++) {
		en(fn, fn);
		for (k = 0; k < BODY; k++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			__asm__ volatile("" : "+r"(x));
		}
		ex(fn, fn);
	}
	t1 = ps_now();
	body_sink = x;
	return t1 - t0;
}

/*
 * The records of one batch of pairs in the scratch buffer: ENTRY (h = 1 for fid 0, dt) then
 * EXIT (dt << 1). Return: the sum of the exits' deltas, entry to exit of each pair: the part
 * of the two hooks that lies between their timestamps, inside the callee.
 */
static uint64_t inside_ticks(const uint8_t *p)
{
	const uint8_t *end = ps_self.rec.pos;
	uint64_t h, v, sum = 0;

	while (p < end && trace_get_varint(&p, end, &h) == 0) {
		if (h & 1) {
			if (trace_get_varint(&p, end, &v) < 0)
				break;
		} else {
			sum += h >> 1;
		}
	}
	return sum;
}

/* BATCH allocations of 16 bytes through @m into @ptrs (@stacks: each from a new stack). */
static PS_NOINSTR PS_NOINLINE uint64_t alloc_batch(malloc_fn m, void **ptrs, int stacks,
						   uintptr_t *next_fn)
{
	struct ps_frame *top = &frames[1];
	uint64_t t0, t1;
	int i;

	t0 = ps_now();
	for (i = 0; i < BATCH; i++) {
		if (stacks) {
			/* the innermost frame is a function never seen: two new nodes (its own
			 * and the call site's), as a first allocation from a new path makes */
			top->fn = *next_fn;
			top->node = 0;
			*next_fn += 16;
		}
		ptrs[i] = m(16);
	}
	t1 = ps_now();
	return t1 - t0;
}

static PS_NOINSTR PS_NOINLINE uint64_t free_batch(free_fn f, void **ptrs)
{
	uint64_t t0, t1;
	int i;

	t0 = ps_now();
	for (i = 0; i < BATCH; i++)
		f(ptrs[i]);
	t1 = ps_now();
	return t1 - t0;
}

/*
 * A private thread state in this thread's TLS (@own: what it held), writing where @own's
 * records go next: its open chunk, or a scratch area when it has none (no map, or not set
 * up). Its flush lock is held: an exit flush of another thread meanwhile waits for the
 * thread's own state to be back.
 */
static int swap_in(struct ps_thread *t, const struct ps_thread *own)
{
	memset(t, 0, sizeof(*t));
	t->stk.nodes = mmap(NULL, NODE_SLOTS * sizeof(*t->stk.nodes), PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	t->stk.last_stack = mmap(NULL, ((size_t)ps_cfg.stack_depth + 1) * sizeof(uintptr_t),
			     PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->stk.nodes == MAP_FAILED || t->stk.last_stack == MAP_FAILED)
		return -1;
	t->stk.node_mask = NODE_SLOTS - 1;
	if (own->state == PS_T_ACTIVE && own->chunk.buf && own->rec.limit &&
	    own->chunk.end - own->rec.pos >= (ptrdiff_t)(2 * REWIND)) {
		/* the chunk's free part: its region, its mapping, its limit (chunk.c) */
		t->chunk.buf = own->chunk.buf;
		t->rec.pos = own->rec.pos;
		t->chunk.end = own->chunk.end;
		t->rec.limit = own->rec.limit;
		t->chunk.map = own->chunk.map;
		t->chunk.map_len = own->chunk.map_len;
		t->chunk.map_hdr = own->chunk.map_hdr;
		t->chunk.region_off = own->chunk.region_off;
		t->chunk.region_cap = own->chunk.region_cap;
		t->chunk.region_used = own->chunk.region_used;
		t->chunk.region_closed = own->chunk.region_closed;
		t->chunk.wbuf = own->chunk.wbuf;
		t->chunk.base_ticks = own->chunk.base_ticks;
		t->chunk.seq = own->chunk.seq;
		t->list.registered = own->list.registered;
	} else {
		scratch = mmap(NULL, SCRATCH, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		if (scratch == MAP_FAILED)
			return -1;
		t->chunk.buf = t->rec.pos = scratch;
		t->chunk.end = scratch + SCRATCH;
		t->rec.limit = t->chunk.end - TRACE_MAX_RECORD;
	}
	first = t->rec.pos;
	t->list.flush_lock = 1;
	t->rec.cursor = &t->chunk.cursor_sink;
	fid_slot[0].addr = (uintptr_t)dummy_fn;
	fid_slot[0].fid = 0;
	t->ids.fids = fid_slot;
	t->ids.fid_mask = 0;
	t->ids.nfids = 1;
	t->calls.shadow = frames;
	t->calls.shadow_cap = sizeof(frames) / sizeof(frames[0]);
	t->sampler.ready = 1;	/* not a thread of the program: it takes no sampler index, */
	t->sampler.rng = 1;	/* which would move the program's samples (sample.c) */
	t->tid = (pid_t)syscall(SYS_gettid);
	t->rec.last_ticks = ps_now();
	t->state = PS_T_ACTIVE;		/* t->calls.cyg 0: the first hook sets the mode up */
	/* nor may the measurement's first stack reuse the walk the thread's own last one left */
	ps_stack_drop_memos(t);
	return 0;
}

static void swap_out(struct ps_thread *t)
{
	if (scratch != MAP_FAILED && scratch)
		munmap(scratch, SCRATCH);
	scratch = NULL;
	if (t->stk.nodes != MAP_FAILED && t->stk.nodes)
		munmap(t->stk.nodes, ((size_t)t->stk.node_mask + 1) * sizeof(*t->stk.nodes));
	if (t->stk.last_stack != MAP_FAILED && t->stk.last_stack)
		munmap(t->stk.last_stack, ((size_t)ps_cfg.stack_depth + 1) * sizeof(uintptr_t));
	ps_stack_thread_free(t);
}

/*
 * The call hooks: per batch, the whole extra cost and its part inside the callee. What the
 * callee's hooks span (exit minus entry timestamp) less what one call of it costs without
 * the shim is the part in the callee; the rest of the extra cost is the caller's.
 */
static void measure_calls(uint64_t *total, uint64_t *inside)
{
	static uint64_t hook[CALL_BATCHES], noop[CALL_BATCHES], in[CALL_BATCHES];
	uint64_t z;
	int b;

	for (b = 0; b < CALL_BATCHES; b++) {
		const uint8_t *p = batch_start();

		hook[b] = call_batch(enter_p, exit_p);
		in[b] = inside_ticks(p);
		noop[b] = call_batch(noop_p, noop_p);
	}
	/* the first batches warm caches and branch predictors: the quartile skips them */
	*total = robust_mean(hook, CALL_BATCHES);
	z = robust_mean(noop, CALL_BATCHES);
	*total = *total > z ? *total - z : 0;
	*inside = robust_mean(in, CALL_BATCHES);
	*inside = *inside > z ? *inside - z : 0;
}

/*
 * The allocation hooks over the real allocator: known stacks, new stacks, frees; and the
 * part of a known stack's allocation after its timestamp as the run times it (@post, in
 * ticks << TRACE_COST_SHIFT: ps_cost_time_alloc's figure, here at this shallow depth).
 */
static void measure_allocs(uint64_t *known, uint64_t *fresh, uint64_t *freed, uint64_t *post)
{
	static uint64_t hk[ALLOC_BATCHES], bk[ALLOC_BATCHES], hf[ALLOC_BATCHES],
		bf[ALLOC_BATCHES], hn[NEW_BATCHES], bn[NEW_BATCHES];
	uintptr_t next_fn = (uintptr_t)dummy_fn + 4096, unused = 0;
	malloc_fn real_m = ps_real_malloc;
	free_fn real_f = ps_real_free;
	void *ptrs[BATCH];
	uint64_t a, z;
	int b;

	/* two instrumented frames open, as in a program's function that allocates */
	frames[0] = (struct ps_frame){ .fn = (uintptr_t)dummy_fn, .written = 1 };
	frames[1] = (struct ps_frame){ .fn = (uintptr_t)noop_hook, .written = 1 };
	ps_self.calls.depth = 2;
	ps_self.acost.left = ACOST_EVERY;
	ps_self.acost.n = 0;
	ps_self.acost.sum = 0;
	for (b = 0; b < ALLOC_BATCHES; b++) {
		batch_start();
		hk[b] = alloc_batch(malloc_p, ptrs, 0, &unused);
		hf[b] = free_batch(free_p, ptrs);
		bk[b] = alloc_batch(real_m, ptrs, 0, &unused);
		bf[b] = free_batch(real_f, ptrs);
	}
	*post = ps_self.acost.n ? (ps_self.acost.sum << TRACE_COST_SHIFT) / ps_self.acost.n : 0;
	for (b = 0; b < NEW_BATCHES; b++) {
		batch_start();
		hn[b] = alloc_batch(malloc_p, ptrs, 1, &next_fn);
		free_batch(real_f, ptrs);
		bn[b] = alloc_batch(real_m, ptrs, 1, &unused);
		free_batch(real_f, ptrs);
	}
	a = robust_mean(hk, ALLOC_BATCHES);
	z = robust_mean(bk, ALLOC_BATCHES);
	*known = a > z ? a - z : 0;
	a = robust_mean(hf, ALLOC_BATCHES);
	z = robust_mean(bf, ALLOC_BATCHES);
	*freed = a > z ? a - z : 0;
	a = robust_mean(hn, NEW_BATCHES);
	z = robust_mean(bn, NEW_BATCHES);
	*fresh = a > z ? a - z : 0;
	ps_self.calls.depth = 0;
}

/* per-event figure from a batch total, in ticks << TRACE_COST_SHIFT */
static uint64_t per_event(uint64_t batch_ticks, unsigned events)
{
	return (batch_ticks << TRACE_COST_SHIFT) / events;
}

/*
 * calibrate - measure the hooks, from the thread that makes the process's first
 * call (@own, its guard held, recording: ps_cost_first_call). Only when calls are recorded
 * (other times are not compensated) and every call is (PERFSHIM_MIN_DURATION drops calls
 * whose hooks still ran: their cost cannot be placed). Sets ps_cost and ps_cost_valid.
 */
static void calibrate(struct ps_thread *own)
{
	static struct ps_thread saved;	/* static: the hook's stack stays small */
	uint64_t next_rss = ps_next_rss_ticks, total, inside, known, fresh, freed, parent, post;
	uint64_t took = ps_mono_ns();
	sigset_t all, old;
	int ok, allocs;

	if (!(ps_cfg.events & PS_EV_CALLS) || ps_cfg.min_duration_ns || ps_cost_valid)
		return;
	sigfillset(&all);
	if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, _NSIG / 8) < 0)
		return;
	saved = ps_self;
	/* no RSS sample (a system call) inside the measurement, and none lost after it */
	__atomic_store_n(&ps_next_rss_ticks, UINT64_MAX, __ATOMIC_RELAXED);
	ok = own == &ps_self && swap_in(&ps_self, &saved) == 0;
	/*
	 * The allocation part calls glibc's malloc and malloc_trim. The first call hook may run
	 * in a signal handler (an uninstrumented main, an instrumented library first called
	 * from a handler) that interrupted a malloc of the program's outside the guard (the
	 * unsampled fast path, PERFSHIM_EVENTS=calls): glibc's arena lock would then be held
	 * and the measurement would wait on it for ever. So it runs only while no handler of
	 * the program has ever run; otherwise the start's allocation figures stay 0 (the run's
	 * own COST records still time the allocations, docs/compensation.md).
	 */
	allocs = !__atomic_load_n(&ps_handler_ran, __ATOMIC_RELAXED);
	known = fresh = freed = post = 0;
	if (ok) {
		measure_calls(&total, &inside);
		if (allocs)
			measure_allocs(&known, &fresh, &freed, &post);
		else
			ps_dbg(1, "cost: a signal handler ran before the first call: allocations "
			       "not measured at start");
		/*
		 * The measurement's blocks of 16 bytes (128 at a time, all freed) stay in
		 * glibc's fastbins, then as a free region under the program's blocks: that made
		 * glibc's own malloc take more instructions per event for the whole of
		 * mallocbench (callgrind, docs/sampling.md "Cost"). Consolidated and trimmed
		 * here, the program starts on a heap like the one it has without the shim.
		 */
		if (allocs)
			malloc_trim(0);
	}
	swap_out(&ps_self);
	ps_self = saved;
	/* stack.c's memos and last walk (TLS) are the measurement's now: the thread may have
	 * made stacks before its first call, and its next one must not reuse them */
	ps_stack_drop_memos(&ps_self);
	__atomic_store_n(&ps_next_rss_ticks, next_rss, __ATOMIC_RELAXED);
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, _NSIG / 8);
	if (!ok)
		return;
	if (inside > total)
		inside = total;
	parent = total - inside;
	/* each hook's timestamp splits its cost; the halves are the model's (see the docs) */
	ps_cost[TRACE_COST_ENTRY_BEFORE] = per_event(parent / 2, CALL_BATCH);
	ps_cost[TRACE_COST_EXIT_AFTER] = per_event(parent - parent / 2, CALL_BATCH);
	ps_cost[TRACE_COST_ENTRY_AFTER] = per_event(inside / 2, CALL_BATCH);
	ps_cost[TRACE_COST_EXIT_BEFORE] = per_event(inside - inside / 2, CALL_BATCH);
	ps_cost[TRACE_COST_ALLOC] = per_event(known, BATCH);
	ps_cost[TRACE_COST_NODE] = fresh > known ? per_event(fresh - known, 2 * BATCH) : 0;
	ps_cost[TRACE_COST_FREE] = per_event(freed, BATCH);
	alloc_pre = ps_cost[TRACE_COST_ALLOC] > post ? ps_cost[TRACE_COST_ALLOC] - post : 0;
	ps_dbg(1, "cost: an allocation's part after its timestamp %llu, before it %llu",
	       (unsigned long long)post, (unsigned long long)alloc_pre);
	ps_cost_valid = 1;
	took = ps_mono_ns() - took;
	ps_dbg(1, "cost: measured in %llu us; per event, in ticks/1024: entry %llu+%llu exit "
	       "%llu+%llu alloc %llu node %llu free %llu", (unsigned long long)took / 1000,
	       (unsigned long long)ps_cost[0], (unsigned long long)ps_cost[1],
	       (unsigned long long)ps_cost[2], (unsigned long long)ps_cost[3],
	       (unsigned long long)ps_cost[4], (unsigned long long)ps_cost[5],
	       (unsigned long long)ps_cost[6]);
}

/*
 * ps_cost_first_call - the first call hook of the process (hooks-cyg.c, a thread's set-up
 * for calls, its guard held): measure the hooks now and write the COST record, once. Not at
 * the start: a program without -finstrument-functions never calls a hook and has no call
 * time to compensate, and the measurement is most of the start's CPU time
 * (docs/sampling.md "Cost"). Another thread's first call meanwhile does not wait for it (its
 * calls are compensated from the same record: the reader takes it at open, wherever it is).
 */
void ps_cost_first_call(struct ps_thread *t)
{
	static int claimed;
	int expect = 0;

	if (ps_cost_valid || !__atomic_compare_exchange_n(&claimed, &expect, 1, 0,
							  __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	calibrate(t);
	ps_emit_cost(t);
}

/* ps_emit_cost - the COST record, in a chunk the reader scans at open (TRACE_CHUNK_MODULES). */
void ps_emit_cost(struct ps_thread *t)
{
	uint8_t *p;
	int i;

	if (!ps_cost_valid)
		return;
	ps_guard_take(t, PS_GUARD_INTERNAL);
	p = ps_reserve_slow(t, TRACE_MAX_RECORD + TRACE_COST_N * 10);
	if (p) {
		p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_COST));
		p = trace_put_varint(p, TRACE_COST_N);
		for (i = 0; i < TRACE_COST_N; i++)
			p = trace_put_varint(p, ps_cost[i]);
		t->chunk.flags |= TRACE_CHUNK_MODULES;
		ps_commit(t, p);
	}
	ps_guard_drop(t, PS_GUARD_INTERNAL);
}

/* One COST record with TRACE_COST_RUN set: @alloc holds for this thread's allocations on. */
static void emit_run_cost(struct ps_thread *t, uint64_t alloc)
{
	uint8_t *p = ps_reserve_slow(t, TRACE_MAX_RECORD + TRACE_COST_N * 10);
	int i;

	if (!p)
		return;
	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_COST));
	p = trace_put_varint(p, TRACE_COST_N);
	for (i = 0; i < TRACE_COST_N; i++)
		p = trace_put_varint(p, i == TRACE_COST_ALLOC ? alloc :
					i == TRACE_COST_RUN ? 1 : ps_cost[i]);
	ps_commit(t, p);
}

/*
 * ps_cost_time_alloc - a recorded allocation's hook is timed from its timestamp (@since) to
 * here: what it cost after the timestamp, which the stack walk makes grow with the depth
 * (the start's figure had two frames) and which is bimodal where stacks repeat (a walk
 * reused, or made and interned). Every ACOST_WINDOW timed ones the thread gets a COST record
 * of its own: the start's part before the timestamp plus their mean. One that took over
 * ACOST_CAP_NS lost the CPU (or made pages ready) and is left out, as the start's figures
 * leave out batches a preemption hit. In the hook, its guard held: no allocation, no lock,
 * no system call.
 */
void ps_cost_time_alloc(struct ps_thread *t, uint64_t since)
{
	uint64_t d = ps_now() - since;

	/* the next one 8 to 23 later, from the clock's low bits: a program that allocates in
	 * a fixed pattern (four blocks a call) must not have the same one of them timed */
	t->acost.left = ACOST_EVERY / 2 + (int32_t)(d & (ACOST_EVERY - 1));
	if (d > ps_ns_to_ticks(ACOST_CAP_NS))
		return;
	t->acost.sum += d;
	if (++t->acost.n < ACOST_WINDOW || !ps_cost_valid)
		return;		/* (until the measurement, they add up: the first has their mean) */
	if (ps_cost[TRACE_COST_ALLOC])
		emit_run_cost(t, alloc_pre + (t->acost.sum << TRACE_COST_SHIFT) / t->acost.n);
	t->acost.n = 0;
	t->acost.sum = 0;
}
