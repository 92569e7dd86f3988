/* SPDX-License-Identifier: MIT */
/*
 * Private to the trace reader: trace-read.c (opening, the chunk index, clock, stacks) and
 * trace-walk.c (decoding and walks) share these structures. Everyone else uses trace.h and walk.h.
 */
#ifndef PERFSHIM_TRACE_PRIV_H
#define PERFSHIM_TRACE_PRIV_H

#include <stdio.h>

#include "analyzer/hmap.h"
#include "analyzer/opts.h"
#include "analyzer/trace.h"
#include "analyzer/walk.h"

/* compressed traces (trace-zstd.c): trace_open's hook */
bool trace_zstd_magic(const uint8_t *b, size_t n);
int trace_zstd_inflate(struct trace *t);

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/*
 * get_varint - trace_get_varint (same result, same cursor on failure) for the decoder's hot
 * loops: with 10 bytes left, no bound check per byte and the first bytes unrolled.
 */
static inline __attribute__((always_inline)) int get_varint(const uint8_t **pp,
							    const uint8_t *end, uint64_t *v)
{
	const uint8_t *p = *pp;
	uint64_t r, b;
	unsigned shift;

	if (unlikely(end - p < 10))
		return trace_get_varint(pp, end, v);
	b = p[0];
	if (likely(b < 0x80)) {
		*v = b;
		*pp = p + 1;
		return 0;
	}
	r = b & 0x7f;
	b = p[1];
	if (likely(b < 0x80)) {
		*v = r | b << 7;
		*pp = p + 2;
		return 0;
	}
	r |= (b & 0x7f) << 7;
	for (shift = 14, p += 2; shift < 70; shift += 7) {
		b = *p++;
		r |= (b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			*pp = p;
			return 0;
		}
	}
	return -1;
}

/* An intact chunk header, as indexed by trace_open. */
struct chunk {
	uint64_t off;			/* of its header in the file */
	uint64_t base_ticks, end_ticks, end_mono_ns;
	uint32_t tid, seq, size, flags;
	uint32_t payload_checksum;
	bool bad;			/* payload checksum failed (found while decoding) */
	bool open;			/* TRACE_CHUNK_OPEN: size = the bytes its writer committed,
					 * no payload checksum */
	uint64_t last_ticks;		/* open: time of its last timed record (else end_ticks) */
	bool verified;			/* its payload matched payload_checksum once: the same
					 * bytes read again (every walk) are not summed again */
};

/* whether payload @buf of chunk @c (just read) is what its checksum says: summed once */
static inline bool chunk_sum_ok(struct chunk *c, const void *buf)
{
	if (!c->open && !c->verified)
		c->verified = trace_checksum(buf, c->size) == c->payload_checksum;
	return c->open || c->verified;
}

struct tnode {
	uint64_t ip;
	uint32_t depth;			/* frames from the root, 1 for a root child */
	uint32_t gstack;		/* global stack id, when gen == the thread's gen */
	uint32_t parent;		/* thread node id */
	uint32_t gen;			/* 0: not resolved (trace_node_resolve) */
	bool is_ra;
};

/* A thread's function id: the address its FUNC record gave, and the function it is. */
struct fidref {
	uint64_t addr;
	uint32_t func;			/* index into trace->funcs, when gen == the thread's gen */
	uint32_t gen;			/* 0: not resolved (trace_func_resolve) */
};

/* A range some modules were loaded at: their indices are by_lo[first .. first + n). */
struct mrange {
	uint64_t lo, hi;
	uint32_t first, n;
	uint64_t max_hi;		/* highest hi of this range and those before it */
};

/* The place of a MODULE or UNLOAD record in the file, and its module (trace-modules.c). */
struct modsrc {
	uint64_t at;			/* chunk index << 32 | offset after the record */
	uint32_t module;		/* TRACE_NO_MODULE: an UNLOAD of nothing recorded */
};

/* Per-thread reader state (trace_thread.priv). */
struct tstate {
	struct trace_thread *th;
	uint32_t index;			/* in trace->threads */
	uint32_t *chunks;		/* indices into reader.chunks, in seq order, usable ones */
	uint32_t nchunks, chunks_cap;
	uint32_t maxsize;		/* largest payload among them */
	uint32_t lost_seq;		/* first seq missing (stream ends before it) or UINT32_MAX */
	bool ended;			/* LAST/CUT chunk seen in the index */
	uint32_t end_flags;		/* flags of its last intact chunk (the highest seq) */
	uint8_t *seen;			/* seqs indexed so far (bitmap of seen_bits bytes) */
	uint32_t seen_bits;

	/* decoding state, reset by each walk */
	uint32_t k;			/* next chunk to load */
	uint8_t *buf;
	const uint8_t *p, *end, *chunk_start;
	uint64_t ticks;			/* time base */
	uint64_t tick_limit;		/* no record of this chunk is later (its end + slack) */
	uint64_t ptr;			/* pointer base */
	uint64_t last_ns;		/* of the last timed record, or LAST_NS_EXIT: of the
					 * ENTRY or EXIT at call_tk (converted when read:
					 * trace_last_ns) */
	uint64_t call_tk;
	bool any_time;
	struct fidref *fids;		/* by fid */
	uint32_t nfids, fids_cap;
	uint32_t gen;			/* what is resolved now; bumped at each epoch change */
	uint64_t ep_lo, ep_hi;		/* the current epoch: no module changed in [lo, hi) */
	uint64_t ep_hi_tk;		/* ns_tick_bound(ep_hi): below it, before ep_hi */
	uint32_t *rstack;		/* trace_node_resolve's scratch */
	uint32_t rstack_cap;
	struct tnode *nodes;		/* node id -> node; [0] is the root */
	uint32_t nnodes, nodes_cap;
	struct walk_frame *calls;	/* open calls, outermost first (walk.h) */
	uint32_t depth, calls_cap;
	uint32_t ninherited;		/* open calls inherited at fork (the outermost ones) */
	uint32_t *active;		/* open activations by function index */
	uint32_t active_cap;
	uint64_t ovh;			/* compensation: hook cost so far, ticks << COST_SHIFT */
	uint64_t vticks;		/* compensated time of the last call event (ticks) */
	uint64_t clamps;		/* call events held at vticks (the cost overshot) */
	uint64_t c_alloc;		/* an allocation's cost on this thread now: r->c_alloc,
					 * then its own COST records' (TRACE_COST_RUN) */
	uint64_t alloc_ovh;		/* what its allocations were charged in all */
	uint64_t alloc_charged;		/* and how many */
	uint64_t sw_base;		/* SWITCH records: the end of the last interval (ticks) */
	uint64_t sw_vend;		/* ... and on the calls' clock (ticks): where the next one
					 * may start at the earliest (a held one ends later) */
	/*
	 * With compensation and SWITCH records: (ticks, offset, vticks) after each event whose
	 * offset (hook cost so far, ticks) or held time changed, so an off-CPU interval,
	 * written later for times before its chunk, is put on the calls' clock with the offset
	 * of its moment and held, as comp_step holds an event, at the last call event's
	 * compensated time (vticks): no event runs while a thread is off-CPU, so one offset
	 * holds for the whole interval, and its length is real time.
	 */
	uint64_t (*cp)[3];
	uint32_t ncp, cp_head, cp_cap, cp_prev;
	bool cp_on;
	uint64_t pending_exits;		/* EXIT events still owed by an EXITS record */
	uint64_t pending_ns;
	bool finished;			/* stream decoded to its end (open calls being closed) */
	bool done;			/* nothing more to deliver */
	bool calls_on;			/* this walk tracks calls */

	/* what was already collected into struct trace (once, whatever the walk) */
	uint32_t counted_k;		/* chunks below this one were counted in the totals */
	uint64_t cnt_events, cnt_calls, cnt_allocs, cnt_frees, cnt_reallocs, cnt_lost;
	uint64_t cnt_bad_sizes, cnt_bad_counts; /* impossible values skipped (trace_impossible) */
	uint64_t cnt_samples;
	double cnt_sbytes, cnt_svar;	/* sampled traces: estimated bytes, variance (replay.h) */
	uint32_t seen_k;		/* info records before (seen_k, seen_off) were collected */
	size_t seen_off;
	bool warned;			/* this thread's damage was reported */
	uint64_t unmatched_exits;

	struct trace_event ev;		/* merged walk: the next event of this thread */
	char str[TRACE_MAX_STRING + 1];	/* ev.str, NUL-terminated */
};

/*
 * Global stack table: a prefix tree of (parent id, frame); id 0 is the empty stack. A frame
 * is code: (file, key), its module's file and its offset from that load's bias, or
 * (TRACE_NO_FILE, address) outside every module; ip and module are where it was first seen.
 */
struct gstack {
	uint64_t ip;
	uint64_t key;
	uint32_t parent;
	uint32_t depth;
	uint32_t module;		/* index into trace->modules, or TRACE_NO_MODULE */
	uint32_t file;
	bool is_ra;
};

#define TRACE_NO_FILE UINT32_MAX

struct reader {
	struct chunk *chunks;
	uint32_t nchunks;
	struct tstate **ts;		/* parallel to trace->threads */
	uint32_t ts_cap;
	uint32_t npseudo;		/* tid 0 streams (signal marks), after the nthreads threads */
	bool exact;			/* ticks are ns (no TSC) */
	uint64_t start_ticks;		/* header start_ticks (the first chunk's if impossible) */
	uint64_t tick_slack;		/* how far past its chunk's end a record may be (1 s) */
	uint64_t mult;			/* ns_per_tick in 32.32 fixed point */
	uint32_t stack_cap;		/* frames kept per stack (header stack_depth, 0 = all) */

	/* functions: (file, key) -> index into trace->funcs; a function is code, like a stack
	 * frame (struct gstack) */
	struct ixmap fhash;		/* by code_key: indices into trace->funcs */
	uint32_t funcs_cap;
	uint32_t *func_file;		/* parallel to trace->funcs */
	uint64_t *func_key;

	/* the module map, complete from trace_open (trace-modules.c) */
	struct modsrc *msrc;		/* sorted by at */
	uint32_t nmsrc;
	uint32_t *mod_file;		/* per module: its file identity */
	uint32_t nfiles;
	uint32_t *by_lo;		/* module indices sorted by lo */
	uint64_t *max_hi;		/* max_hi[k]: highest hi of by_lo[0..k] */
	struct mrange *rng;		/* the distinct ranges, by lo */
	uint32_t nrng;
	bool overlap;			/* some ranges were used by two modules */
	uint64_t *bounds;		/* epoch boundaries, ns, sorted (see index_modules) */
	uint32_t nbounds;

	struct gstack *gs;		/* [0] = empty stack */
	uint32_t ngs, gs_cap;
	struct ixmap ghash;		/* by gstack_key: gstack ids */
	const struct trace_frame **gframes; /* materialized frames, by id (lazy) */
	uint32_t *gnframes;		/* their number (trace_stack_get: not always depth) */

	/* known function entries (FUNC records, NODE_FN frames) as ENTRY_KEY(file, offset), for
	 * the shadow-stack caller rule: [0, nsorted) sorted and unique, then unsorted ones as
	 * they came, each once (ehash: the set of keys + 1) */
	uint64_t *entries;
	uint32_t nentries, nsorted, entries_cap;
	struct ixmap ehash;

	/* compensation applied by the walk (trace-comp.c): ticks << TRACE_COST_SHIFT per
	 * event, all 0 when times are raw; cost[] as the COST record gave them */
	uint64_t cost[TRACE_COST_N];
	bool has_cost;
	uint64_t c_entry_before, c_entry_after, c_exit_before, c_exit_after;
	uint64_t c_alloc, c_node, c_free;

	uint32_t marks_cap;
	const struct opts *progress;	/* trace_set_progress */
	uint64_t bytes_read;		/* by this walk, for the progress line */
	uint64_t bytes_total;
	bool info_complete;		/* a walk went over every thread to its end */
	bool warned_impossible;		/* trace_impossible said it once */
	/* (thread instance, seq) -> chunk index, for chunk_again: an ixmap keyed by
	 * instance << 32 | seq, + 1 */
	struct ixmap seq_index;

	/*
	 * A stream walked on a copy of the tables (trace-par.c): count_chunk logs the chunks'
	 * lost counts and sampled bytes here instead of summing them, so that the merge adds
	 * them to the trace's totals chunk by chunk, in the order one core would (floating
	 * point sums and the saturating lost count depend on it).
	 */
	bool clog_on;
	struct trace_clog {
		uint64_t lost;
		double sbytes, svar;
	} *clog;
	uint32_t nclog, clog_cap;
	/* and its warnings, held for the merge to say in stream order (trace_walk_warn) */
	struct trace_held {
		char *msg;
		bool impossible;	/* trace_impossible's: said once per trace */
	} *held;
	uint32_t nheld, held_cap;
};

static inline struct reader *R(const struct trace *t)
{
	return t->priv;
}

/*
 * to_ns - ns since the trace start of trace clock @ticks: (ticks - start_ticks) * ns_per_tick
 * in 32.32 fixed point, rounded (one multiply per event instead of two int/double
 * conversions; exact when ticks are ns, within 2^-32 relative otherwise).
 */
static inline uint64_t to_ns(const struct trace *t, const struct reader *r, uint64_t ticks)
{
	if (unlikely(ticks <= r->start_ticks))
		return 0;
	return (uint64_t)(((unsigned __int128)(ticks - r->start_ticks) * r->mult + (1U << 31)) >> 32);
}

/*
 * ns_tick_bound - the first trace clock reading whose to_ns is @ns or more (UINT64_MAX when
 * there is none below it): every x below the result has to_ns(x) < @ns, so a hot loop tests
 * its ticks against it instead of converting them. A bound only: where a huge product
 * wraps, to_ns(x) may be < @ns at or above it, and the caller converts to decide.
 */
static inline uint64_t ns_tick_bound(const struct reader *r, uint64_t ns)
{
	unsigned __int128 q, d;

	if (!ns)
		return 0;
	if (!r->mult)
		return UINT64_MAX;		/* every time is 0 */
	/* the least d with d * mult + 2^31 >= ns * 2^32 */
	q = ((unsigned __int128)ns << 32) - (1U << 31);
	d = (q + r->mult - 1) / r->mult;
	return d >= UINT64_MAX - r->start_ticks ? UINT64_MAX : r->start_ticks + (uint64_t)d;
}

/* trace-read.c, for the decoder: the function of fid @fid and the global stack of thread
 * node @n, for an event at @ns (module by time: trace_module_at) */
uint32_t trace_func_resolve(struct trace *t, struct reader *r, struct tstate *ts, uint32_t fid,
			    uint64_t ns);
uint32_t trace_node_resolve(struct trace *t, struct reader *r, struct tstate *ts, uint32_t n,
			    uint64_t ns);
/* trace-read.c: a FUNC record of @addr was read at @ns (known entries) */
void trace_func_defined(struct trace *t, struct reader *r, uint64_t addr, uint64_t ns);
/* trace-read.c, for the merge of streams walked apart (trace-par.c): the function of @addr
 * in module load @m, the stack @parent + frame (@ip, @is_ra) in module load @m, and a known
 * function entry (its ENTRY_KEY), each added on first sight as a walk would */
uint32_t trace_func_intern(struct trace *t, struct reader *r, uint64_t addr, uint32_t m);
uint32_t trace_gstack_intern(const struct trace *t, struct reader *r, uint32_t parent,
			     uint64_t ip, bool is_ra, uint32_t m);
void trace_entry_add(struct reader *r, uint64_t key);
/* trace-walk.c, for trace-par.c: streams [@lo, @hi) walked one after another as trace_walk
 * does (without the bookkeeping of a complete walk, nor the progress line), and that
 * bookkeeping once every stream was walked */
int trace_walk_streams(struct trace *t, unsigned flags, uint32_t lo, uint32_t hi,
		       trace_event_fn fn, void *ctx);
void trace_walk_complete(struct trace *t);
/* trace-par.c: pr_warn for a walk's warnings; a copy walked by a worker holds them for
 * the merge (@impossible: trace_impossible's, said once per trace) */
void trace_walk_warn(struct trace *t, bool impossible, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* trace-walk.c: a chunk's lost count and sampled bytes into the totals (the merge replays
 * a copy's log through it) */
void trace_count_add(struct trace *t, uint64_t lost, double sbytes, double svar);

/* trace-comp.c: the figures of the COST record into r->c_* and t->comp (after the scan) */
void trace_comp_setup(struct trace *t, struct reader *r);

/*
 * comp_step - the compensated clock's rule at one call event at time base @ticks, on the
 * hook cost so far *@ovh (ticks << TRACE_COST_SHIFT) and the last event's compensated time
 * *@vticks: @before of this event's hook is counted, its time is @ticks less that cost, but
 * never before *@vticks: when the figures overshoot, the event is held there and the excess
 * forgotten (*@ovh cut to what the time since allows); then @after is counted. The one
 * place the rule is written: comp_clock applies it in the walks that track calls, and the
 * switches' walk (trace-walk.c, skip_calls and the records that hold) on its own copy of
 * the state, so the offsets it puts off-CPU intervals on the calls' clock with are the
 * calls' own, holds included. Return: true when the event was held.
 */
static inline __attribute__((always_inline)) bool comp_step(uint64_t ticks, uint64_t *ovh,
							    uint64_t *vticks, uint64_t before,
							    uint64_t after)
{
	uint64_t o, d;
	bool held;

	*ovh += before;
	o = *ovh >> TRACE_COST_SHIFT;
	d = ticks - *vticks;			/* the base never goes back */
	held = o > d;
	if (unlikely(held))
		*ovh = d << TRACE_COST_SHIFT;
	else
		*vticks = ticks - o;
	*ovh += after;
	return held;
}

/*
 * comp_clock - the compensated time of a call event at the thread's time base: real time
 * less the hooks' cost so far (@before of this event's hook counted, @after not yet), held
 * by comp_step's rule (the holds counted in ts->clamps). Without compensation the costs are
 * 0 and it is the time base itself. Return: ns since the trace start.
 */
static inline uint64_t comp_clock(const struct trace *t, const struct reader *r,
				  struct tstate *ts, uint64_t before, uint64_t after)
{
	if (unlikely(comp_step(ts->ticks, &ts->ovh, &ts->vticks, before, after)))
		ts->clamps++;
	return to_ns(t, r, ts->vticks);
}

/* A walk that tracks calls leaves an ENTRY's or EXIT's time in ticks (one multiply fewer
 * per event): the readers of last_ns that may come right after one convert it here. */
#define LAST_NS_EXIT UINT64_MAX
static inline uint64_t trace_last_ns(const struct trace *t, const struct reader *r,
				     struct tstate *ts)
{
	if (unlikely(ts->last_ns == LAST_NS_EXIT))
		ts->last_ns = to_ns(t, r, ts->call_tk);
	return ts->last_ns;
}

/* trace-modules.c */
void trace_modules_scan(struct trace *t, struct reader *r);
uint32_t trace_module_of(const struct reader *r, uint32_t ci, uint32_t off);
void trace_epoch_enter(const struct reader *r, struct tstate *ts, uint64_t ns);

/*
 * The function @fr stands for at @ns, resolved when it is not yet (or not in this epoch):
 * the test every ENTRY makes. ENTRY_AT may go back before the epoch: @back says so.
 */
static inline uint32_t fid_func(struct trace *t, struct reader *r, struct tstate *ts,
				uint32_t fid, uint64_t ns, bool back)
{
	const struct fidref *fr = &ts->fids[fid];

	if (likely(fr->gen == ts->gen && ns < ts->ep_hi && (!back || ns >= ts->ep_lo)))
		return fr->func;
	return trace_func_resolve(t, r, ts, fid, ns);
}

/* fid_func of an ENTRY at trace clock @ticks (converted only when the epoch may end there) */
static inline uint32_t fid_func_tk(struct trace *t, struct reader *r, struct tstate *ts,
				   uint32_t fid, uint64_t ticks)
{
	const struct fidref *fr = &ts->fids[fid];

	if (likely(fr->gen == ts->gen && ticks < ts->ep_hi_tk))
		return fr->func;
	return fid_func(t, r, ts, fid, to_ns(t, r, ticks), false);
}
/* trace-read.c, for the decoder: a record of thread @ts held an impossible @what (@v), left
 * out (warned once); and, after a walk of every thread, the header's flags checked against
 * what was decoded */
void trace_impossible(struct trace *t, struct tstate *ts, const char *what, uint64_t v);
void trace_check_flags(struct trace *t);

/* A message about lost events, collected while indexing, printed as one warning. */
struct loss_note {
	char buf[1024];
	size_t len;
	unsigned n;
};
void trace_note(struct loss_note *ln, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* trace-check.c, for the index (trace-read.c): a (tid, seq) seen again (Return: 1 to skip a
 * copy of a chunk), impossible times, and which threads and the process ended unseen */
int chunk_again(struct trace *t, struct reader *r, struct tstate *ts, uint32_t i,
		struct loss_note *ln);
void check_times(struct trace *t, struct reader *r, struct loss_note *ln);
void seq_index_add(struct reader *r, const struct tstate *ts, uint32_t i);
void check_ends(struct trace *t, struct reader *r, struct loss_note *ln);

#endif /* PERFSHIM_TRACE_PRIV_H */
