/* SPDX-License-Identifier: MIT */
/*
 * The memory replay shared by `memory`/`leaks` (report-mem.c), `diff` (report-diff.c) and
 * `timeline` (report-timeline.c): ALLOC/FREE/REALLOC of a trace in global time order, keeping
 * only live blocks and per-stack aggregates. replay.c explains the accounting; stops (a
 * callback at chosen times) let a report look at the live state between two events.
 */
#ifndef PERFSHIM_REPLAY_H
#define PERFSHIM_REPLAY_H

#include "analyzer/hmap.h"
#include "analyzer/json.h"
#include "analyzer/opts.h"
#include "analyzer/symbols.h"
#include "analyzer/trace.h"
#include "analyzer/walk.h"

#define REPLAY_NBUCKETS 65		/* size 0, then [2^(k-1), 2^k - 1] for k = 1..64 */

/* A live block. ptr 0 marks an empty slot (no allocation returns NULL and is recorded). */
struct replay_blk {
	uint64_t ptr;
	uint64_t size;			/* bytes requested */
	uint64_t seq;			/* allocating thread's allocation count when made */
	uint64_t ns;			/* when it was allocated (ns since trace start) */
	uint32_t agg;			/* index into replay.aggs: stack id, or site with a map */
	uint32_t thread;		/* index into trace->threads */
	uint64_t count;			/* blocks it stands for: 1, or its weight under sampling */
	double var;			/* its estimate's variance (bytes^2); 0 unless sampled */
};

/* The live blocks by address: an hmap (analyzer/hmap.h) kept at most half full. */
HMAP_DEFINE_HOME(replay_live, struct replay_blk, ptr, hmap_home_addr)

/* What one stack (or one site, with a map) did. */
struct replay_agg {
	uint64_t allocs, bytes, frees, freed_bytes, temporary;
	uint64_t live_bytes, live_blocks;
	uint64_t peak_bytes;		/* the most this stack held at once */
	uint64_t snap_bytes, snap_blocks; /* live at the last peak, when snap_epoch == epoch */
	uint64_t snap_epoch;
	double bytes_var, live_var;	/* sampled traces: variance of bytes and live_bytes */
};

/* What one thread counted (with per_thread): the totals a one_thread replay of it keeps. */
struct replay_counts {
	uint64_t allocs, frees, bytes_alloc, bytes_freed, reallocs, unknown_frees, temporary;
	uint64_t hist_count[REPLAY_NBUCKETS], hist_bytes[REPLAY_NBUCKETS];
};

/* A (thread, group) aggregate's index (with per_thread): key (thread + 1) << 32 | group. */
struct replay_cell {
	uint64_t key;
	uint32_t agg;			/* index into replay.taggs */
	uint32_t first;			/* the least stack id the thread allocated in the group */
};
HMAP_DEFINE(replay_cells, struct replay_cell, key)

struct replay_displaced;
struct replay_pend;
struct replay_defer;
struct replay;

/*
 * The clock's error bound across threads, ns: two events of different threads whose times
 * differ by less than this may have happened in either order (replay.c pairs a free with an
 * allocation of another thread that far after it; docs/design.md "Clock" derives it).
 */
#define REPLAY_PAIR_NS 1000

/*
 * A stop: called once the replay has applied every event up to time @at (ns since trace
 * start) and none after it. Return: the next stop's time, UINT64_MAX for none. Stops not
 * reached by the last event are called after it (the state is then the final one).
 */
typedef uint64_t (*replay_stop_fn)(struct replay *r, uint64_t at, void *arg);
/* Events the replay does not use (RSS; MARK etc. when walk_flags has WALK_OTHER). */
typedef void (*replay_other_fn)(struct replay *r, const struct trace_event *ev, void *arg);
/* Called after each event that changed the live blocks (live_bytes may be unchanged). */
typedef void (*replay_change_fn)(struct replay *r, uint64_t ns, void *arg);
/*
 * Called for each ALLOC and REALLOC event before the replay applies it; @old_size: the size
 * of the live block a realloc releases (0 when none is live at old_ptr).
 */
typedef void (*replay_mem_fn)(struct replay *r, const struct trace_event *ev, uint64_t old_size,
			      void *arg);
/* With groups: the group (a site) of stack @stack, asked once per stack, on its first block. */
typedef uint32_t (*replay_group_fn)(struct replay *r, uint32_t stack, void *arg);

struct replay {
	/* set by the caller before replay_run (the rest zeroed) */
	const uint32_t *map;		/* stack id -> agg index; NULL: aggregate by stack id */
	uint32_t nmap;
	replay_stop_fn stop;		/* NULL: no stops */
	uint64_t next_stop;		/* first stop time (with stop) */
	replay_other_fn other;		/* NULL: ignore */
	replay_change_fn change;	/* NULL: none */
	replay_mem_fn mem;		/* NULL: none */
	replay_group_fn group;		/* NULL: no groups (not with map) */
	void *arg;			/* for stop, other, change, mem and group */
	unsigned walk_flags;		/* added to WALK_MERGED | WALK_MEMORY */
	/*
	 * one_thread: only the blocks that thread index @thread allocates count (aggs, allocs,
	 * frees, temporary; its own reallocs and unknown frees). The others' blocks are still
	 * replayed, as another thread may free the selected one's blocks: the live and peak
	 * totals stay the process's.
	 */
	bool one_thread;
	uint32_t thread;
	/*
	 * per_thread (with group): what a one_thread replay of each thread would count, in
	 * one replay: per thread its counts (tcounts) and per (thread, group) an aggregate
	 * (taggs through cells), the live and peak totals staying the process's.
	 */
	bool per_thread;
	/*
	 * by_group (with group, not per_thread): aggregate by group only, aggs indexed by
	 * group as with a map (gaggs unused): a replay keyed by site, the map made as it goes
	 */
	bool by_group;

	/* results, valid during stops and after replay_run */
	struct replay_agg *aggs;	/* naggs slots, indexed by stack id (or site) */
	uint32_t naggs;
	struct replay_live live;
	uint64_t allocs, frees, bytes_alloc, bytes_freed, reallocs;
	uint64_t unknown_frees, temporary, overlaps;
	uint64_t impossible;		/* allocations left out: see replay.c's impossible() */
	uint64_t live_bytes, live_blocks;
	uint64_t peak_bytes, peak_blocks, peak_ns;
	uint64_t events, live_max;	/* memory events seen; most live blocks at once */
	uint64_t hist_count[REPLAY_NBUCKETS], hist_bytes[REPLAY_NBUCKETS];
	uint64_t epoch;			/* advances at each new peak */
	/* sampled traces (trace header sample_mean != 0): every byte and block figure above is
	 * an estimate (replay_weight); these are its sample count and variances (bytes^2) */
	uint64_t sample_mean;		/* 0: every allocation was recorded, figures exact */
	uint64_t samples;		/* sampled allocations replayed */
	double bytes_var, live_var, peak_var;
	/*
	 * groups (with group): aggregates of the stacks' groups, exact as a replay keyed by
	 * group would keep them (peaks too); per_thread adds the (thread, group) ones
	 */
	struct replay_agg *gaggs;	/* ngaggs slots, by group */
	uint32_t ngaggs;
	uint32_t *sgroup;		/* nsgroup slots: stack id -> group + 1, 0 not asked */
	uint32_t nsgroup;
	struct replay_agg *taggs;	/* ntaggs of them: per (thread, group), see cells */
	uint32_t ntaggs, tcap;
	struct replay_cells cells;
	struct replay_counts *tcounts;	/* ntcounts slots, by thread index */
	uint32_t ntcounts;

	/* private */
	uint64_t *tseq;			/* per thread: allocations made so far */
	uint32_t nthreads;
	struct replay_pend *pend;
	uint32_t npend, pcap;
	struct replay_displaced *disp;	/* in the order they were displaced; ptr 0: claimed */
	uint32_t ndisp, dcap, ndisp_live;
	struct replay_defer *defer;	/* frees of blocks not live yet (see pair_defer) */
	uint32_t ndefer, fcap;
	uint64_t defer_min;		/* the oldest one's time */
	bool plain;			/* none of one_thread, per_thread, sampling, change */
	uint64_t fast_end;		/* see replay.c's fast_end */
};

int replay_run(struct replay *r, struct trace *t);
/* replay_cell_agg - thread index @thread's aggregate of group @group (per_thread), or NULL */
const struct replay_agg *replay_cell_agg(const struct replay *r, uint32_t thread, uint32_t group,
					 uint32_t *first);
/* replay_group - the group of stack @stack (with group), or UINT32_MAX when not asked */
static inline uint32_t replay_group(const struct replay *r, uint32_t stack)
{
	return stack < r->nsgroup ? r->sgroup[stack] - 1 : UINT32_MAX;
}

/*
 * Sampled traces (docs/sampling.md): an allocation of @size bytes was recorded with
 * probability p = 1 - exp(-size/mean), so it stands for size/p bytes (replay_weight) and 1/p
 * allocations (the Horvitz-Thompson estimator, unbiased); the variance it adds to a byte
 * estimate is w(w - size) (replay_weight_var). The replay applies them to every figure it
 * keeps (aggs, totals, live blocks, peak): a report reading them gets estimates.
 */
double replay_weight(uint64_t mean, uint64_t size);
double replay_weight_var(uint64_t mean, uint64_t size);
uint64_t replay_weight_count(uint64_t mean, uint64_t size);
void replay_free(struct replay *r);

/* Value of @a at the last peak (see the lazy snapshot in replay.c). */
static inline uint64_t replay_peak_bytes(const struct replay *r, const struct replay_agg *a)
{
	return a->snap_epoch == r->epoch ? a->snap_bytes : a->live_bytes;
}

static inline uint64_t replay_peak_blocks(const struct replay *r, const struct replay_agg *a)
{
	return a->snap_epoch == r->epoch ? a->snap_blocks : a->live_blocks;
}

/* ---- naming stacks: site keys (the same wherever sites are grouped) and output ---- */

/* replay_symbols - sym_open(@t) after the replay, demangling unless @o (may be NULL) says
 * --no-demangle. Return: NULL after one error line. */
struct symbols *replay_symbols(const struct trace *t, const struct opts *o);
uint32_t replay_stack_names(const struct trace *t, struct symbols *sym, uint32_t id,
			    const char **names, uint32_t max);
uint32_t replay_stack_frames(const struct trace *t, struct symbols *sym, uint32_t id,
			     struct sym_frame *out, uint32_t max);
char *replay_stack_key(const struct trace *t, struct symbols *sym, uint32_t id);
void replay_json_frame(struct json *j, const struct sym_frame *f);
const char *replay_frame_text(const struct sym_frame *f, char *buf, size_t len, size_t width);

#define REPLAY_TEXT_FRAMES 4		/* frames shown per stack in text tables */
void replay_json_stack(struct json *j, const struct trace *t, struct symbols *sym, uint32_t id);
const char *replay_text_stack(const struct trace *t, struct symbols *sym, uint32_t id,
			      char *buf, size_t len);
bool replay_truncated_shown(void);
/* replay_shim_frame - frame @f is in the shim itself (reports leave it out) */
bool replay_shim_frame(struct symbols *sym, const struct trace_frame *f);

#endif /* PERFSHIM_REPLAY_H */
