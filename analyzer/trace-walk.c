/* SPDX-License-Identifier: MIT */
/*
 * The trace reader, part 2: decoding. Each thread's chunks are read (pread, one buffer per
 * thread) and decoded in seq order by next_event(), a tight loop that returns only the
 * events a walk selected; trace_walk() runs it per thread or merges threads by time with a
 * binary heap. Damage found here (payload checksum, malformed record) ends that thread's
 * stream with one warning. trace-read.c opened and indexed the file; trace-priv.h has the
 * shared state.
 */
#define PR_FMT "read"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/mheap.h"
#include "analyzer/opts.h"
#include "analyzer/replay.h"
#include "analyzer/text.h"
#include "analyzer/trace-priv.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"
#include "analyzer/walk.h"

/* ---- decoding ---- */

static void walk_reset(const struct reader *r, struct tstate *ts, bool calls)
{
	ts->k = 0;
	ts->p = ts->end = ts->chunk_start = NULL;
	ts->ticks = 0;
	ts->ptr = 0;
	ts->sw_base = 0;
	ts->sw_vend = 0;
	ts->any_time = false;
	ts->last_ns = 0;
	ts->nfids = 0;
	ts->nnodes = 0;
	/* nothing resolved yet in this walk: a new generation, the epoch of the start */
	trace_epoch_enter(r, ts, 0);
	ts->depth = 0;
	ts->ninherited = 0;
	ts->pending_exits = 0;
	ts->ovh = ts->vticks = ts->clamps = ts->alloc_ovh = ts->alloc_charged = 0;
	ts->c_alloc = r->c_alloc;
	ts->ncp = ts->cp_head = ts->cp_prev = 0;
	ts->cp_on = (r->c_entry_before | r->c_entry_after | r->c_exit_before | r->c_exit_after |
		     r->c_alloc | r->c_node | r->c_free) != 0;
	ts->finished = false;
	ts->done = false;
	ts->calls_on = calls;
	if (ts->active)
		memset(ts->active, 0, ts->active_cap * sizeof(*ts->active));
	ts->unmatched_exits = 0;
	ts->cnt_events = ts->cnt_calls = ts->cnt_allocs = ts->cnt_frees = 0;
	ts->cnt_reallocs = ts->cnt_lost = 0;
	ts->cnt_bad_sizes = ts->cnt_bad_counts = 0;
	ts->cnt_sbytes = ts->cnt_svar = 0;
	ts->cnt_samples = 0;
	if (!ts->nodes) {
		ts->nodes_cap = 64;
		ts->nodes = xmalloc(ts->nodes_cap * sizeof(*ts->nodes));
	}
	ts->nodes[0] = (struct tnode){ .ip = 0 };
}

/* trace_count_add - a chunk's lost count and sampled bytes into @t's totals */
void trace_count_add(struct trace *t, uint64_t lost, double sbytes, double svar)
{
	if (t->nlost + lost < t->nlost) {	/* crafted counts: saturate */
		t->nlost = UINT64_MAX;
		t->bad_counts++;
	} else {
		t->nlost += lost;
	}
	t->sample_bytes += sbytes;
	t->sample_var += svar;
}

/* the same, logged for the merge (a copy's walk: reader.clog_on) */
static void count_log(struct reader *r, uint64_t lost, double sbytes, double svar)
{
	if (!lost && sbytes == 0 && svar == 0)
		return;		/* adding nothing leaves the totals as they are */
	ARRAY_ROOM(r->clog, r->clog_cap, r->nclog);
	r->clog[r->nclog++] = (struct trace_clog){ lost, sbytes, svar };
}

/* flush the per-chunk counters of chunk ts->k - 1 into the trace totals, once per chunk */
static void count_chunk(struct trace *t, struct tstate *ts)
{
	if (ts->k > ts->counted_k) {
		t->nevents += ts->cnt_events;
		t->ncalls += ts->cnt_calls;
		t->nallocs += ts->cnt_allocs;
		t->nfrees += ts->cnt_frees;
		t->nreallocs += ts->cnt_reallocs;
		t->bad_sizes += ts->cnt_bad_sizes;
		t->bad_counts += ts->cnt_bad_counts;
		t->nsamples += ts->cnt_samples;
		if (unlikely(R(t)->clog_on))
			count_log(R(t), ts->cnt_lost, ts->cnt_sbytes, ts->cnt_svar);
		else
			trace_count_add(t, ts->cnt_lost, ts->cnt_sbytes, ts->cnt_svar);
		ts->counted_k = ts->k;
	}
	ts->cnt_events = ts->cnt_calls = ts->cnt_allocs = ts->cnt_frees = 0;
	ts->cnt_reallocs = ts->cnt_lost = 0;
	ts->cnt_bad_sizes = ts->cnt_bad_counts = 0;
	ts->cnt_sbytes = ts->cnt_svar = 0;
	ts->cnt_samples = 0;
}

/* stream_end - the thread's stream stopped (normally, or at damage described by @why) */
static void stream_end(struct trace *t, struct tstate *ts, const char *why, uint64_t off)
{
	struct trace_thread *th = &t->threads[ts->index];
	char tb[32];

	/* the time base is the last timed record's time (walks skip converting some) */
	if (ts->k)
		ts->last_ns = to_ns(t, R(t), ts->ticks);
	if (why) {
		th->damaged = true;
		if (!ts->warned) {
			const struct chunk *c = &R(t)->chunks[ts->chunks[ts->k - 1]];

			t->damaged_chunks++;
			t->damaged_bytes += c->size;
			trace_walk_warn(t, false, "%s: %s in the chunk at offset %llu (thread %u, "
					"seq %u): that thread's events after %s are lost", t->path,
					why, (unsigned long long)off, th->tid, c->seq,
					fmt_ns(tb, sizeof(tb), ts->last_ns));
		}
		ts->warned = true;
	}
	count_chunk(t, ts);
	ts->p = ts->end = NULL;
	ts->k = ts->nchunks;
	ts->finished = true;
	free(ts->buf);
	ts->buf = NULL;
}

/* load_chunk - read chunk ts->k into the thread's buffer. Return: 1, 0 at the end, -1 I/O */
static int load_chunk(struct trace *t, struct tstate *ts)
{
	struct reader *r = R(t);
	struct chunk *c;
	uint64_t lim;
	ssize_t n;

	if (ts->k)
		count_chunk(t, ts);
	if (ts->k >= ts->nchunks) {
		stream_end(t, ts, NULL, 0);
		return 0;
	}
	c = &r->chunks[ts->chunks[ts->k++]];
	if (unlikely(r->progress)) {
		r->bytes_read += c->size;
		progress_update(r->progress, r->bytes_read, r->bytes_total);
	}
	if (!ts->buf)
		ts->buf = xmalloc(ts->maxsize + 16);
	n = pread(t->fd, ts->buf, c->size, (off_t)(c->off + sizeof(struct trace_chunk_header)));
	if (n != (ssize_t)c->size) {
		trace_walk_warn(t, false, "%s: read error at offset %llu: %s", t->path,
				(unsigned long long)c->off, n < 0 ? strerror(errno) : "short read");
		stream_end(t, ts, "read error", c->off);
		return -1;
	}
	if (c->bad || !chunk_sum_ok(c, ts->buf)) {
		c->bad = true;
		stream_end(t, ts, "damaged payload (checksum mismatch)", c->off);
		return 0;
	}
	ts->chunk_start = ts->p = ts->buf;
	ts->end = ts->buf + c->size;
	ts->ticks = c->base_ticks;
	/*
	 * no record is later than its chunk's end (check_times); the limit never wraps. An
	 * unfinished chunk's header was written when it was opened: its records end at the
	 * last one the index found (last_ticks).
	 */
	lim = c->open ? c->last_ticks : c->end_ticks;
	ts->tick_limit = lim > UINT64_MAX - r->tick_slack ? UINT64_MAX : lim + r->tick_slack;
	if (unlikely(ts->ticks > ts->tick_limit)) {
		stream_end(t, ts, "a chunk that starts after its end (impossible times)", c->off);
		return 0;
	}
	return 1;
}

/* info records are collected into struct trace the first time the decoder passes them */
static bool first_pass(struct tstate *ts, const uint8_t *p)
{
	size_t off = (size_t)(p - ts->chunk_start);

	if (ts->k > ts->seen_k || (ts->k == ts->seen_k && off >= ts->seen_off)) {
		ts->seen_k = ts->k;
		ts->seen_off = off + 1;
		return true;
	}
	return false;
}

static void add_mark(struct trace *t, struct tstate *ts, const uint8_t *s, size_t len,
		     uint64_t ns)
{
	struct reader *r = R(t);
	char *label = xmalloc(len + 1);

	memcpy(label, s, len);
	label[len] = 0;
	ARRAY_ROOM(t->marks, r->marks_cap, t->nmarks);
	t->marks[t->nmarks++] = (struct trace_mark){ label, ns, ts->th->tid };
}

#define GETV(v)                                                                            \
	do {                                                                               \
		if (unlikely(get_varint(&p, end, &(v)) < 0))                               \
			goto bad_record;                                                   \
	} while (0)

/* a time delta: the new time base, guarded against wrapping */
#define GETDT()                                                                            \
	do {                                                                               \
		uint64_t dt_;                                                              \
		GETV(dt_);                                                                 \
		if (unlikely(dt_ > ts->tick_limit - ts->ticks))                            \
			goto bad_time;                                                     \
		ts->ticks += dt_;                                                          \
	} while (0)

#define GETSTR(s, len)                                                                     \
	do {                                                                               \
		uint64_t l_;                                                               \
		GETV(l_);                                                                  \
		if (unlikely(l_ > (uint64_t)(end - p) || l_ > TRACE_MAX_STRING))           \
			goto bad_record;                                                   \
		(s) = p;                                                                   \
		(len) = (size_t)l_;                                                        \
		p += l_;                                                                   \
	} while (0)

/* cstr - a NUL-terminated copy of a str field, valid until the thread's next event */
static const char *cstr(struct tstate *ts, const uint8_t *s, size_t len)
{
	memcpy(ts->str, s, len);
	ts->str[len] = 0;
	return ts->str;
}

/* The global stack of thread node @d (0: none) for an allocation at @ns. */
static inline uint32_t node_stack(struct trace *t, struct reader *r, struct tstate *ts,
				  uint32_t d, uint64_t ns)
{
	const struct tnode *nd = &ts->nodes[d];

	if (!d)
		return 0;
	if (likely(nd->gen == ts->gen && ns < ts->ep_hi))
		return nd->gstack;
	return trace_node_resolve(t, r, ts, d, ns);
}

/*
 * An allocation a walk does not deliver: its stack is still made by the first complete walk
 * (trace_info), so that stack ids come in the order of that walk (per thread), whichever
 * walk (per thread or merged) a report makes next.
 */
static inline void first_use(struct trace *t, struct reader *r, struct tstate *ts, uint32_t d)
{
	if (unlikely(r->nbounds && !r->info_complete && d))
		node_stack(t, r, ts, d, ts->last_ns);
}

/* push_call - open a call; @inherited: re-opened by a fork child (not counted, not active) */
static inline void push_call(struct tstate *ts, uint32_t func, uint64_t ns, bool inherited,
			     uint64_t addr)
{
	ARRAY_ROOM(ts->calls, ts->calls_cap, ts->depth);
	ts->calls[ts->depth++] = (struct walk_frame){ func, 0, inherited, addr, ns, 0 };
	if (unlikely(inherited))
		ts->ninherited++;
	else
		ts->active[func]++;	/* sized when the fid was resolved */
}

/*
 * Depth of an event of this thread as delivered: inherited calls (always the outermost
 * ones) are left out unless the walk asked for them, so the child's own calls start at 0.
 */
static inline uint32_t shown_depth(const struct tstate *ts, uint32_t depth, unsigned flags)
{
	return flags & WALK_INHERITED ? depth : depth - ts->ninherited;
}

/*
 * pop_call - close the innermost open call at @ns into @ev (an EXIT event): its callees'
 * time goes to ev->child_ns, its own to its caller's, and ev->nested says whether an outer
 * activation of the same function is still open. Return: false when the walk does not
 * deliver it (a call inherited at fork, without WALK_INHERITED).
 */
static inline __attribute__((always_inline)) void
close_frame(struct walk_frame *c, uint32_t depth, uint64_t ns, struct trace_event *ev);

static inline bool pop_call(const struct trace *t, struct tstate *ts, uint64_t ns,
			    struct trace_event *ev, unsigned flags)
{
	struct walk_frame *c = &ts->calls[--ts->depth];

	close_frame(c, ts->depth, ns, ev);
	ev->inherited = c->inherited;
	if (unlikely(c->inherited)) {
		ts->ninherited--;
		ev->depth = ts->depth;
		ev->nested = false;
		return flags & WALK_INHERITED;
	}
	ev->depth = shown_depth(ts, ts->depth, flags);
	ev->nested = --ts->active[c->func] != 0;
	return true;
}

/*
 * close_frame - @ev, the EXIT event of open call @c (the innermost: @depth calls are still
 * open outside it) at @ns, but for ->inherited, and its time added to its caller's callees'
 * time (pop_call and run_exits).
 */
static inline __attribute__((always_inline)) void
close_frame(struct walk_frame *c, uint32_t depth, uint64_t ns, struct trace_event *ev)
{
	uint64_t dur = ns > c->ns ? ns - c->ns : 0;

	if (depth)
		c[-1].child_ns += dur;
	ev->type = EV_EXIT;
	ev->ns = ns;
	ev->func = c->func;
	ev->frame = c;
	ev->addr = c->addr;
	ev->entry_ns = c->ns;
	ev->child_ns = c->child_ns;
}

/*
 * When the calls still open at the end of a thread's stream are closed: at its last record,
 * or at the end of its last off-CPU interval when that is later (a thread cut at exit while
 * blocked waited in those calls until the end).
 */
static uint64_t open_end(const struct trace *t, const struct reader *r, struct tstate *ts)
{
	uint64_t now = comp_clock(t, r, ts, 0, 0);	/* the calls' (compensated) clock */
	uint64_t sw = ts->sw_base ? to_ns(t, r, ts->sw_base) : 0;

	return sw > ts->last_ns ? now + (sw - ts->last_ns) : now;
}

static uint64_t record_off(const struct reader *r, const struct tstate *ts, const uint8_t *p)
{
	return r->chunks[ts->chunks[ts->k - 1]].off + sizeof(struct trace_chunk_header) +
	       (uint64_t)(p - ts->chunk_start);
}

/*
 * The records other than ENTRY and EXIT, one decoder each: it reads the record at *@pp
 * (which it moves past it) and returns 1 with an event for the walk in @ev, 0 when the walk
 * takes nothing from it, DEC_BAD for a malformed record, DEC_BAD_TIME for an impossible
 * time; @h is the record's header.
 */
#define DEC_BAD (-1)
#define DEC_BAD_TIME (-2)
#define DEC_RET(rc)                                                                        \
	do {                                                                               \
		*pp = p;                                                                   \
		return (rc);                                                               \
	} while (0)
/* the label a decoder's GETV/GETDT jump to, returning @rc at the damage */
#define DEC_FAIL(label, rc)                                                                \
label:                                                                                     \
	*pp = p;                                                                           \
	return (rc)
/* every decoder's parameters */
#define DEC_PARAMS                                                                         \
	struct trace *t, struct reader *r, struct tstate *ts, unsigned flags,              \
		struct trace_event *ev, uint64_t h, const uint8_t **pp, const uint8_t *end

/* cp_add's room for one more checkpoint: what is behind the intervals dropped, or more */
static void cp_grow(struct tstate *ts)
{
	if (ts->cp_head > ts->ncp / 2) {	/* drop what is behind the intervals */
		memmove(ts->cp, ts->cp + ts->cp_head, (ts->ncp - ts->cp_head) * sizeof(*ts->cp));
		ts->ncp -= ts->cp_head;
		/* the previous chunk's start moves with them, so that the next cp_chunk keeps
		 * what it should (it used to drop up to the old index: the offsets of the
		 * chunk before were lost, and intervals in it put at offset 0) */
		ts->cp_prev = ts->cp_prev > ts->cp_head ? ts->cp_prev - ts->cp_head : 0;
		ts->cp_head = 0;
	} else {
		ARRAY_GROW(ts->cp, ts->cp_cap, ts->ncp + 1);
	}
}

/*
 * The checkpoint log's cursor (ts->cp, ncp, cp_cap) in locals, for a loop that notes a
 * checkpoint at every record (skip_calls): the next free entry and the end of the array,
 * in registers between records, back in the thread state when the loop ends or the log
 * must grow (cp_run_put).
 */
struct cp_run {
	uint64_t (*e)[3], (*lim)[3];
};

static inline struct cp_run cp_run_get(const struct tstate *ts)
{
	if (unlikely(!ts->cp))	/* none yet: no arithmetic on NULL (UBSan; cp_add grows it) */
		return (struct cp_run){ NULL, NULL };
	return (struct cp_run){ ts->cp + ts->ncp, ts->cp + ts->cp_cap };
}

static inline void cp_run_put(struct tstate *ts, const struct cp_run *c)
{
	ts->ncp = (uint32_t)(c->e - ts->cp);
}

/*
 * cp_add - the calls' clock after the event just decoded: time base @tk, hook cost so far
 * @ovh (ticks << TRACE_COST_SHIFT, shifted when read: cp_offset), the last call event's
 * compensated time @v, appended to the log at @c. Inline: with compensation, one is noted
 * at nearly every event of the switches' walk. A second checkpoint at one tick is appended,
 * not written over the first: cp_offset takes the last one at or before a tick, the later
 * one, and a head on either has that tick, so every answer is the same and the log needs
 * one test fewer.
 */
static inline __attribute__((always_inline)) void cp_add(struct tstate *ts, struct cp_run *c,
							 uint64_t tk, uint64_t ovh, uint64_t v)
{
	if (unlikely(c->e == c->lim)) {
		cp_run_put(ts, c);
		cp_grow(ts);
		*c = cp_run_get(ts);
	}
	(*c->e)[0] = tk;
	(*c->e)[1] = ovh;
	(*c->e)[2] = v;
	c->e++;
}

/* cp_add of the thread's state before a record that is not an ENTRY or EXIT of the
 * switches' walk, when it changed (a run of records of no cost notes one) */
static inline __attribute__((always_inline)) void cp_note(struct tstate *ts)
{
	struct cp_run c = cp_run_get(ts);

	if (likely(ts->ncp > ts->cp_head) && c.e[-1][1] == ts->ovh && c.e[-1][2] == ts->vticks)
		return;
	cp_add(ts, &c, ts->ticks, ts->ovh, ts->vticks);
	cp_run_put(ts, &c);
}

/*
 * skip_calls - a walk that does not track calls passes over the run of ENTRY and EXIT
 * records at *@pp here, in a loop of its own that keeps the state in registers, counted.
 * When switches are walked (@cp), their hooks' cost is put on the calls' clock by the
 * rule the calls' walks use (comp_step: the holds too, or the offsets drift from the calls'
 * by every excess a hold forgot: milliseconds in a loaded run, docs/compensation.md "Holds
 * and off-CPU intervals") and the clock noted after
 * each (cp_add: a call event changes the offset, or the held time, nearly always, so
 * without cp_note's test). An EXIT with no open call costs nothing there (dec_exit: counted
 * unmatched, the clock not stepped), so the calls open are counted here too (ts->depth,
 * which only a walk that tracks calls uses otherwise; dec_entry_at and dec_exits keep it).
 * *@pp is left at the first other record or the chunk's end.
 * Return: 0, or DEC_BAD / DEC_BAD_TIME with *@pp at the damage.
 */
static inline __attribute__((always_inline)) int
skip_calls(const struct reader *r, struct tstate *ts, const uint8_t **pp, const uint8_t *end,
	   const bool cp)
{
	const uint8_t *p = *pp, *q;
	uint64_t ticks = ts->ticks, lim = ts->tick_limit, ovh = ts->ovh, nexits = 0, ncalls = 0;
	uint64_t vticks = ts->vticks, clamps = 0;
	uint64_t h, a, xb = 0, xa = 0, eb = 0, ea = 0;
	uint32_t nfids = ts->nfids, depth = ts->depth;
	struct cp_run log = { NULL, NULL };
	int rc = 0;

	if (cp) {
		log = cp_run_get(ts);
		xb = r->c_exit_before;
		xa = r->c_exit_after;
		eb = r->c_entry_before;
		ea = r->c_entry_after;
	}
	while (p < end) {
		q = p;
		h = *p;
		if (likely(h < 0x80)) {
			p++;
		} else if (unlikely(get_varint(&p, end, &h) < 0)) {
			rc = DEC_BAD;
			break;
		}
		if ((h & 3) == 3) {		/* another record: next_event decodes it */
			p = q;
			break;
		}
		if (!(h & 1)) {			/* EXIT */
			if (unlikely((h >> 1) > lim - ticks)) {
				rc = DEC_BAD_TIME;
				break;
			}
			ticks += h >> 1;
			nexits++;
			if (cp) {
				if (unlikely(!depth))
					continue;	/* unmatched: as dec_exit, no cost */
				depth--;
				if (unlikely(comp_step(ticks, &ovh, &vticks, xb, xa)))
					clamps++;
				cp_add(ts, &log, ticks, ovh, vticks);
			}
			continue;
		}
		/* ENTRY */
		if (unlikely(get_varint(&p, end, &a) < 0)) {
			rc = DEC_BAD;
			break;
		}
		if (unlikely(a > lim - ticks)) {
			rc = DEC_BAD_TIME;
			break;
		}
		ticks += a;
		ncalls++;
		if (unlikely((h >> 2) >= nfids)) {
			rc = DEC_BAD;
			break;
		}
		if (cp) {
			depth++;
			if (unlikely(comp_step(ticks, &ovh, &vticks, eb, ea)))
				clamps++;
			cp_add(ts, &log, ticks, ovh, vticks);
		}
	}
	if (cp)
		cp_run_put(ts, &log);
	ts->depth = depth;
	ts->ticks = ticks;
	ts->ovh = ovh;
	ts->vticks = vticks;
	ts->clamps += clamps;
	ts->cnt_events += nexits + ncalls;
	ts->cnt_calls += ncalls;
	*pp = p;
	return rc;
}

/*
 * A new chunk: the SWITCH records at its start cover times since the previous chunk opened
 * (the recorder drains the ring when it opens a chunk and before its last one closes), so
 * the offsets noted before the previous chunk began are not needed again: keep two chunks.
 * They are only put behind the head here (no copy per chunk); cp_grow drops them when they
 * are more than half of the array.
 */
static void cp_chunk(struct tstate *ts)
{
	uint32_t drop = ts->cp_prev > ts->cp_head ? ts->cp_prev : ts->cp_head;

	ts->cp_head = drop < ts->ncp ? drop : ts->ncp;
	ts->cp_prev = ts->ncp ? ts->ncp - 1 : 0;	/* the offset at this chunk's start */
}

/* the index after the last checkpoint of [@lo, @hi) at or before @tick */
static uint32_t cp_find(const struct tstate *ts, uint32_t lo, uint32_t hi, uint64_t tick)
{
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (ts->cp[mid][0] <= tick)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The offset at @tick: the last one noted at or before it (0 before the first), held as
 * comp_step holds an event: never more than puts @tick before the last call event's time.
 * A tick before the head (an interval written after a CPU clock reading later than its
 * start, or drained two chunks late: hand-made or damaged traces) takes the checkpoints
 * behind it that cp_grow has not dropped yet, not offset 0 (tests/data/sw-back.bin,
 * sw-late-drain.bin).
 */
static uint64_t cp_offset(struct tstate *ts, uint64_t tick)
{
	uint32_t lo = cp_find(ts, ts->cp_head, ts->ncp, tick);
	uint64_t o, v;

	if (unlikely(lo == ts->cp_head) && lo)
		lo = cp_find(ts, 0, lo, tick);
	if (!lo)			/* before the first event that cost anything */
		return 0;
	ts->cp_head = lo - 1;		/* intervals come in increasing order */
	o = ts->cp[lo - 1][1] >> TRACE_COST_SHIFT;
	v = ts->cp[lo - 1][2];		/* <= its tick <= @tick */
	return o < tick - v ? o : tick - v;
}

/* TRACE_OP_FUNC */
static int dec_func(DEC_PARAMS)
{
	const uint8_t *p = *pp;
	uint64_t a;

	GETV(a);
	ARRAY_ROOM(ts->fids, ts->fids_cap, ts->nfids);
	/* the function it is may depend on the time of its calls: resolved at
	 * them; when no module shared addresses with another, at once (in the
	 * order of definition, which then orders the functions) */
	ts->fids[ts->nfids++] = (struct fidref){ .addr = a };
	trace_func_defined(t, r, a, to_ns(t, r, ts->ticks));
	if (!r->nbounds)
		trace_func_resolve(t, r, ts, ts->nfids - 1, 0);
	DEC_RET(0);
	DEC_FAIL(bad_record, DEC_BAD);
}

/* TRACE_OP_NODE_RA, TRACE_OP_NODE_FN */
static int dec_node(DEC_PARAMS)
{
	const uint8_t *p = *pp;
	uint64_t a, b;
	struct tnode *nd;

	GETV(a);
	GETV(b);
	if (a > ts->nnodes)
		goto bad_record;
	ARRAY_GROW(ts->nodes, ts->nodes_cap, (size_t)ts->nnodes + 2);
	nd = &ts->nodes[++ts->nnodes];
	nd->parent = (uint32_t)a;
	nd->ip = ts->nodes[a].ip + (uint64_t)trace_unzigzag(b);
	nd->depth = ts->nodes[a].depth + 1;
	nd->is_ra = (h >> 2) == TRACE_OP_NODE_RA;
	nd->gen = 0;	/* its stack: at its first allocation (node_stack) */
	ts->ovh += r->c_node;	/* the hook that made it interned it */
	if (!r->nbounds)	/* or at once: as for FUNC */
		trace_node_resolve(t, r, ts, ts->nnodes, 0);
	DEC_RET(0);
	DEC_FAIL(bad_record, DEC_BAD);
}

/* TRACE_OP_ALLOC */
static inline __attribute__((always_inline)) int
dec_alloc(DEC_PARAMS)
{
	const uint8_t *p = *pp;
	uint64_t a, b, c, d;

	GETV(a);	/* kind */
	GETV(b);	/* size */
	GETV(c);	/* zz ptr delta */
	GETV(d);	/* node */
	GETDT();
	ts->ptr += (uint64_t)trace_unzigzag(c);
	if (unlikely(d > ts->nnodes || a >= TRACE_ALLOC_KIND_MAX))
		goto bad_record;
	ts->ovh += ts->c_alloc;
	ts->alloc_ovh += ts->c_alloc;
	ts->alloc_charged++;
	ts->last_ns = to_ns(t, r, ts->ticks);
	if (unlikely(b > TRACE_SIZE_MAX)) {
		trace_impossible(t, ts, "an allocation size", b);
		DEC_RET(0);
	}
	ts->cnt_events++;
	ts->cnt_allocs++;
	if (t->hdr.sample_mean) {
		ts->cnt_samples++;
		ts->cnt_sbytes += replay_weight(t->hdr.sample_mean, b);
		ts->cnt_svar += replay_weight_var(t->hdr.sample_mean, b);
	}
	if (!(flags & WALK_MEMORY)) {
		first_use(t, r, ts, (uint32_t)d);
		DEC_RET(0);
	}
	ev->type = EV_ALLOC;
	ev->ns = ts->last_ns;
	ev->kind = (uint32_t)a;
	ev->size = b;
	ev->ptr = ts->ptr;
	ev->stack = node_stack(t, r, ts, (uint32_t)d, ts->last_ns);
	DEC_RET(1);
	DEC_FAIL(bad_time, DEC_BAD_TIME);
	DEC_FAIL(bad_record, DEC_BAD);
}

/* TRACE_OP_FREE */
static inline __attribute__((always_inline)) int
dec_free(DEC_PARAMS)
{
	const uint8_t *p = *pp;
	uint64_t a;

	GETV(a);
	GETDT();
	ts->cnt_events++;
	ts->cnt_frees++;
	ts->ovh += r->c_free;
	ts->ptr += (uint64_t)trace_unzigzag(a);
	ts->last_ns = to_ns(t, r, ts->ticks);
	if (!(flags & WALK_MEMORY))
		DEC_RET(0);
	ev->type = EV_FREE;
	ev->ns = ts->last_ns;
	ev->ptr = ts->ptr;
	DEC_RET(1);
	DEC_FAIL(bad_time, DEC_BAD_TIME);
	DEC_FAIL(bad_record, DEC_BAD);
}

/* TRACE_OP_REALLOC */
static inline __attribute__((always_inline)) int
dec_realloc(DEC_PARAMS)
{
	const uint8_t *p = *pp;
	uint64_t a, b, c, d;
	uint64_t old;

	GETV(a);	/* zz old - base */
	GETV(b);	/* zz new - old */
	GETV(c);	/* size */
	GETV(d);	/* node */
	old = ts->ptr + (uint64_t)trace_unzigzag(a);
	ts->ptr = old + (uint64_t)trace_unzigzag(b);
	if (unlikely(d > ts->nnodes))
		goto bad_record;
	if (ts->ptr) {		/* a realloc to 0 only freed: no stack taken */
		ts->ovh += ts->c_alloc;
		ts->alloc_ovh += ts->c_alloc;
		ts->alloc_charged++;
	} else {
		ts->ovh += r->c_alloc;
	}
	GETDT();
	ev->ns = to_ns(t, r, ts->ticks);
	GETDT();
	ts->last_ns = to_ns(t, r, ts->ticks);
	if (unlikely(ts->ptr && c > TRACE_SIZE_MAX)) {
		/* such a realloc fails: the old block stays */
		trace_impossible(t, ts, "a realloc size", c);
		DEC_RET(0);
	}
	ts->cnt_events++;
	ts->cnt_reallocs++;
	if (t->hdr.sample_mean && ts->ptr) {
		ts->cnt_samples++;
		ts->cnt_sbytes += replay_weight(t->hdr.sample_mean, c);
		ts->cnt_svar += replay_weight_var(t->hdr.sample_mean, c);
	}
	if (!(flags & WALK_MEMORY)) {
		first_use(t, r, ts, (uint32_t)d);
		DEC_RET(0);
	}
	ev->type = EV_REALLOC;
	ev->ns2 = ts->last_ns;
	ev->old_ptr = old;
	ev->ptr = ts->ptr;
	ev->size = c;
	ev->stack = node_stack(t, r, ts, (uint32_t)d, ts->last_ns);
	DEC_RET(1);
	DEC_FAIL(bad_time, DEC_BAD_TIME);
	DEC_FAIL(bad_record, DEC_BAD);
}

/* TRACE_OP_ENTRY_AT */
static int dec_entry_at(DEC_PARAMS)
{
	const uint8_t *p = *pp;
	uint64_t a, b, c, d;
	bool inh;

	GETV(a);	/* fid */
	GETV(b);	/* back */
	c = b > ts->ticks ? 0 : ts->ticks - b;
	/* before the trace began: a call a fork child inherited (trace-format.md) */
	inh = c < r->start_ticks && (t->hdr.flags & TRACE_F_CHILD);
	ts->cnt_events++;
	ts->cnt_calls += !inh;
	if (unlikely(a >= ts->nfids))
		goto bad_record;
	if (!ts->calls_on) {
		ts->depth += ts->cp_on;	/* the calls open, for skip_calls */
		DEC_RET(0);
	}
	b = to_ns(t, r, c);
	/* back in time: less the compensation so far (0 without it), and not before the
	 * thread's last call event (the calls the recorder dropped came after it): a damaged
	 * back would overlap the callee with its previous sibling */
	d = ts->ovh >> TRACE_COST_SHIFT;
	d = c > d ? c - d : 0;
	d = to_ns(t, r, d > ts->vticks ? d : ts->vticks);
	/* no call starts before its caller: a damaged back would make a callee
	 * longer than its caller (and the caller's self time negative) */
	if (ts->depth && d < ts->calls[ts->depth - 1].ns)
		d = ts->calls[ts->depth - 1].ns;
	c = fid_func(t, r, ts, (uint32_t)a, b, true);
	b = d;
	push_call(ts, (uint32_t)c, b, inh, ts->fids[a].addr);
	if (!(flags & WALK_CALLS) || (inh && !(flags & WALK_INHERITED)))
		DEC_RET(0);
	ev->type = EV_ENTRY;
	ev->ns = b;
	ev->func = (uint32_t)c;
	ev->addr = ts->fids[a].addr;
	ev->depth = inh ? ts->depth - 1 : shown_depth(ts, ts->depth - 1, flags);
	ev->inherited = inh;
	DEC_RET(1);
	DEC_FAIL(bad_record, DEC_BAD);
}

/* TRACE_OP_COST: the start's was read at open (trace-modules.c); a thread's own (field
 * TRACE_COST_RUN set) gives its allocations' cost from here on */
static int dec_cost(DEC_PARAMS)
{
	const uint8_t *p = *pp;
	uint64_t a, b, c, d;

	GETV(a);
	if (unlikely(a > 64))
		goto bad_record;
	for (c = 0, d = 0; d < a; d++) {
		GETV(b);
		if (d == TRACE_COST_ALLOC)
			c = b;
		else if (d == TRACE_COST_RUN && b && r->c_alloc)
			ts->c_alloc = c;	/* this thread's, measured */
	}
	DEC_RET(0);
	DEC_FAIL(bad_record, DEC_BAD);
}

/* TRACE_OP_EXITS */
static int dec_exits(DEC_PARAMS)
{
	const uint8_t *p = *pp;
	uint64_t a;

	GETV(a);
	GETDT();
	ts->cnt_events++;
	ts->last_ns = to_ns(t, r, ts->ticks);
	if (!ts->calls_on) {
		if (ts->cp_on) {	/* the hold a calls walk makes here (comp_step) */
			comp_clock(t, r, ts, 0, 0);
			ts->depth -= a < ts->depth ? (uint32_t)a : ts->depth;	/* skip_calls */
		}
		DEC_RET(0);
	}
	if (a > ts->depth) {
		ts->unmatched_exits += a - ts->depth;
		a = ts->depth;
	}
	ts->pending_exits = a;
	ts->pending_ns = comp_clock(t, r, ts, 0, 0);
	DEC_RET(0);
	DEC_FAIL(bad_time, DEC_BAD_TIME);
	DEC_FAIL(bad_record, DEC_BAD);
}

/* TRACE_OP_MARK */
static int dec_mark(DEC_PARAMS)
{
	const uint8_t *p = *pp;
	const uint8_t *s;
	size_t len;
	uint64_t mark_ns = 0;

	GETSTR(s, len);
	GETDT();
	ts->cnt_events++;
	ts->last_ns = to_ns(t, r, ts->ticks);
	/* a mark is held on the calls' clock as a call event is, in every walk that keeps
	 * that clock (tracking calls, or switches: their offsets must be the calls'), so that
	 * they all agree whatever they deliver */
	if (ts->calls_on || ts->cp_on)
		mark_ns = comp_clock(t, r, ts, 0, 0);
	if (first_pass(ts, p))
		add_mark(t, ts, s, len, ts->last_ns);
	if (!(flags & WALK_OTHER))
		DEC_RET(0);
	ev->type = EV_MARK;
	/* beside the calls, a thread's mark is on its calls' (compensated) clock, so
	 * it stays between the calls it was set between; the marks table and the
	 * memory views keep real time, as their allocations do */
	ev->ns = flags & WALK_CALLS ? mark_ns : ts->last_ns;
	ev->str = cstr(ts, s, len);
	ev->len = len;
	DEC_RET(1);
	DEC_FAIL(bad_time, DEC_BAD_TIME);
	DEC_FAIL(bad_record, DEC_BAD);
}

/* TRACE_OP_MODULE */
static int dec_module(DEC_PARAMS)
{
	const uint8_t *p = *pp;
	uint64_t a, b, c;
	const uint8_t *bid, *path;
	size_t blen, plen;
	uint32_t m;

	GETV(a);
	GETV(b);
	GETV(c);
	GETSTR(bid, blen);
	GETSTR(path, plen);
	GETDT();
	ts->cnt_events++;
	ts->last_ns = to_ns(t, r, ts->ticks);
	if (!(flags & WALK_OTHER))
		DEC_RET(0);
	/* the map is known since trace_open: which module this record made */
	m = trace_module_of(r, ts->chunks[ts->k - 1], (uint32_t)(p - ts->chunk_start));
	if (m == TRACE_NO_MODULE)
		DEC_RET(0);
	(void)bid, (void)blen;
	ev->type = EV_MODULE;
	ev->ns = ts->last_ns;
	ev->module = m;
	ev->str = cstr(ts, path, plen);
	ev->len = plen;
	DEC_RET(1);
	DEC_FAIL(bad_time, DEC_BAD_TIME);
	DEC_FAIL(bad_record, DEC_BAD);
}

/* TRACE_OP_UNLOAD */
static int dec_unload(DEC_PARAMS)
{
	const uint8_t *p = *pp;
	uint64_t a;
	uint32_t m;

	GETV(a);
	GETDT();
	ts->cnt_events++;
	ts->last_ns = to_ns(t, r, ts->ticks);
	if (!(flags & WALK_OTHER))
		DEC_RET(0);
	m = trace_module_of(r, ts->chunks[ts->k - 1], (uint32_t)(p - ts->chunk_start));
	if (m == TRACE_NO_MODULE)
		DEC_RET(0);
	ev->type = EV_UNLOAD;
	ev->ns = ts->last_ns;
	ev->module = m;
	ev->addr = a;
	DEC_RET(1);
	DEC_FAIL(bad_time, DEC_BAD_TIME);
	DEC_FAIL(bad_record, DEC_BAD);
}

/* TRACE_OP_THREAD_NAME */
static int dec_thread_name(DEC_PARAMS)
{
	const uint8_t *p = *pp;
	const uint8_t *s;
	size_t len;
	struct trace_thread *th = &t->threads[ts->index];

	GETSTR(s, len);
	if (first_pass(ts, p)) {
		size_t n = len < sizeof(th->name) - 1 ? len : sizeof(th->name) - 1;

		memcpy(th->name, s, n);
		th->name[n] = 0;
	}
	if (!(flags & WALK_OTHER))
		DEC_RET(0);
	ev->type = EV_THREAD_NAME;
	ev->ns = to_ns(t, r, ts->ticks);
	ev->str = cstr(ts, s, len);
	ev->len = len;
	DEC_RET(1);
	DEC_FAIL(bad_record, DEC_BAD);
}

/* TRACE_OP_LOST */
static int dec_lost(DEC_PARAMS)
{
	const uint8_t *p = *pp;
	uint64_t a;

	GETV(a);
	if (unlikely(a > TRACE_COUNT_MAX)) {
		trace_last_ns(t, r, ts);	/* the time the warning gives */
		trace_impossible(t, ts, "lost-event count", a);
		DEC_RET(0);
	}
	ts->cnt_lost += a;
	if (!(flags & WALK_OTHER))
		DEC_RET(0);
	ev->type = EV_LOST;
	ev->ns = to_ns(t, r, ts->ticks);
	ev->size = a;
	DEC_RET(1);
	DEC_FAIL(bad_record, DEC_BAD);
}

/* TRACE_OP_PROCESS */
static int dec_process(DEC_PARAMS)
{
	const uint8_t *p = *pp;
	uint64_t a, b;
	const uint8_t *exe, *cmd;
	size_t elen, clen, i;

	GETV(a);
	GETV(b);
	GETSTR(exe, elen);
	GETSTR(cmd, clen);
	if (first_pass(ts, p)) {
		t->pid = (uint32_t)a;
		t->ppid = (uint32_t)b;
		free(t->exe);
		t->exe = xmalloc(elen + 1);
		memcpy(t->exe, exe, elen);
		t->exe[elen] = 0;
		free(t->cmdline);
		while (clen && !cmd[clen - 1])
			clen--;
		t->cmdline = xmalloc(clen + 1);
		for (i = 0; i < clen; i++)
			t->cmdline[i] = cmd[i] ? (char)cmd[i] : ' ';
		t->cmdline[clen] = 0;
	}
	if (!(flags & WALK_OTHER))
		DEC_RET(0);
	ev->type = EV_PROCESS;
	ev->ns = to_ns(t, r, ts->ticks);
	ev->str = cstr(ts, exe, elen);
	ev->len = elen;
	ev->size = a;
	DEC_RET(1);
	DEC_FAIL(bad_record, DEC_BAD);
}

/*
 * Switch tick @d on the calls' clock (ticks): less the offset of its moment (0 without
 * compensation), held (cp_offset) at the last call event's time, and never before the end
 * of the last interval there: a held interval keeps its real length and so ends later than
 * its offset would put it, and a thread is off-CPU once at a time.
 */
static uint64_t sw_clock(struct tstate *ts, uint64_t d)
{
	uint64_t x = d - (ts->cp_on ? cp_offset(ts, d) : 0);

	return x > ts->sw_vend ? x : ts->sw_vend;
}

/* TRACE_OP_SWITCH */
static int dec_switch(DEC_PARAMS)
{
	const uint8_t *p = *pp;
	uint64_t a, b, c, d;

	GETV(a);
	GETV(b);
	GETV(c);
	if (a == TRACE_SWITCH_LOST || a == TRACE_SWITCH_ABSENT) {
		if (!first_pass(ts, p))
			DEC_RET(0);
		if (a == TRACE_SWITCH_LOST && unlikely(b > TRACE_COUNT_MAX)) {
			trace_last_ns(t, r, ts);	/* the time the warning gives */
			trace_impossible(t, ts, "a lost context-switch count", b);
		} else if (a == TRACE_SWITCH_LOST) {
			t->switch_lost += b;
		} else {
			t->switch_absent++;
			if (!t->switch_errno)
				t->switch_errno = b < 4096 ? (int)b : EINVAL;
		}
		DEC_RET(0);
	}
	if (a == TRACE_SWITCH_CPUTIME) {
		/* the thread's CPU clock (@c ns) at ticks sw_base + b; the base stays */
		if (unlikely(b > UINT64_MAX - ts->sw_base))
			goto bad_record;
		d = ts->sw_base + b;
		if (unlikely(d > ts->tick_limit))
			goto bad_time;		/* read after its chunk ended */
		if (!(flags & WALK_SWITCHES))
			DEC_RET(0);
		ev->type = EV_SWITCH;
		ev->kind = (uint32_t)a;
		ev->ns2 = to_ns(t, r, d);		/* as the clock read it */
		ev->ns = to_ns(t, r, sw_clock(ts, d));	/* on the calls' clock */
		ev->size = c;
		DEC_RET(1);
	}
	if (unlikely(a >= TRACE_SWITCH_KIND_MAX || b > UINT64_MAX - ts->sw_base ||
		     c > UINT64_MAX - ts->sw_base - b))
		goto bad_record;
	d = ts->sw_base + b;
	if (unlikely(d + c > ts->tick_limit))
		goto bad_time;			/* an interval past its chunk's end */
	ts->sw_base = d + c;
	if (!(flags & WALK_SWITCHES))
		DEC_RET(0);
	ev->type = EV_SWITCH;
	b = sw_clock(ts, d);			/* on the calls' clock */
	ts->sw_vend = b + c;
	ev->ns = to_ns(t, r, b);
	ev->ns2 = to_ns(t, r, b + c);
	ev->kind = (uint32_t)a;
	DEC_RET(1);
	DEC_FAIL(bad_time, DEC_BAD_TIME);
	DEC_FAIL(bad_record, DEC_BAD);
}

/* TRACE_OP_RSS */
static int dec_rss(DEC_PARAMS)
{
	const uint8_t *p = *pp;
	uint64_t a;

	GETV(a);
	GETDT();
	ts->last_ns = to_ns(t, r, ts->ticks);
	if (unlikely(a > TRACE_SIZE_MAX)) {
		trace_impossible(t, ts, "an RSS", a);
		DEC_RET(0);
	}
	ts->cnt_events++;
	if (!(flags & WALK_MEMORY))
		DEC_RET(0);
	ev->type = EV_RSS;
	ev->ns = ts->last_ns;
	ev->size = a;
	DEC_RET(1);
	DEC_FAIL(bad_time, DEC_BAD_TIME);
	DEC_FAIL(bad_record, DEC_BAD);
}

/* dec_record - any record but ENTRY and EXIT (header @h, read), by its decoder */
static inline __attribute__((always_inline)) int
dec_record(DEC_PARAMS)
{
	switch (h >> 2) {
	case TRACE_OP_FUNC:
		return dec_func(t, r, ts, flags, ev, h, pp, end);
	case TRACE_OP_NODE_RA:
	case TRACE_OP_NODE_FN:
		return dec_node(t, r, ts, flags, ev, h, pp, end);
	case TRACE_OP_ALLOC:
		return dec_alloc(t, r, ts, flags, ev, h, pp, end);
	case TRACE_OP_FREE:
		return dec_free(t, r, ts, flags, ev, h, pp, end);
	case TRACE_OP_REALLOC:
		return dec_realloc(t, r, ts, flags, ev, h, pp, end);
	case TRACE_OP_ENTRY_AT:
		return dec_entry_at(t, r, ts, flags, ev, h, pp, end);
	case TRACE_OP_COST:
		return dec_cost(t, r, ts, flags, ev, h, pp, end);
	case TRACE_OP_EXITS:
		return dec_exits(t, r, ts, flags, ev, h, pp, end);
	case TRACE_OP_MARK:
		return dec_mark(t, r, ts, flags, ev, h, pp, end);
	case TRACE_OP_MODULE:
		return dec_module(t, r, ts, flags, ev, h, pp, end);
	case TRACE_OP_UNLOAD:
		return dec_unload(t, r, ts, flags, ev, h, pp, end);
	case TRACE_OP_THREAD_NAME:
		return dec_thread_name(t, r, ts, flags, ev, h, pp, end);
	case TRACE_OP_LOST:
		return dec_lost(t, r, ts, flags, ev, h, pp, end);
	case TRACE_OP_PROCESS:
		return dec_process(t, r, ts, flags, ev, h, pp, end);
	case TRACE_OP_SWITCH:
		return dec_switch(t, r, ts, flags, ev, h, pp, end);
	case TRACE_OP_RSS:
		return dec_rss(t, r, ts, flags, ev, h, pp, end);
	default:
		return DEC_BAD;
	}
}

/*
 * next_chunk - the thread's records ran out (@p at the end): its next chunk loaded, or the
 * end of its stream (the calls still open closed at its end). Return: 1 with a chunk to
 * decode, 0 at the end, -1 on an I/O error.
 */
static int next_chunk(struct trace *t, struct reader *r, struct tstate *ts, const uint8_t *p)
{
	int rc;

	ts->p = p;
	rc = load_chunk(t, ts);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		if (ts->calls_on && ts->depth) {
			ts->pending_exits = ts->depth;
			ts->pending_ns = open_end(t, r, ts);
		}
		ts->p = ts->end = NULL;
		return 0;
	}
	if (unlikely(ts->cp_on))
		cp_chunk(ts);
	return 1;
}

/* stream_damaged - the record at @p was malformed (@rc DEC_BAD) or impossibly late: the
 * thread's stream ends there, the calls still open closed */
static void stream_damaged(struct trace *t, struct reader *r, struct tstate *ts, int rc,
			   const uint8_t *p)
{
	stream_end(t, ts,
		   rc == DEC_BAD ? "malformed record"
				 : "a time later than its chunk's end (impossible)",
		   record_off(r, ts, p));
	if (ts->calls_on && ts->depth) {
		ts->pending_exits = ts->depth;
		ts->pending_ns = open_end(t, r, ts);
	}
}

/* dec_exit - an EXIT record (header @h, read) of a walk that tracks calls */
static inline __attribute__((always_inline)) int
dec_exit(struct trace *t, struct reader *r, struct tstate *ts, unsigned flags,
	 struct trace_event *ev, uint64_t h)
{
	if (unlikely((h >> 1) > ts->tick_limit - ts->ticks))
		return DEC_BAD_TIME;
	ts->ticks += h >> 1;
	ts->cnt_events++;
	ts->last_ns = LAST_NS_EXIT;
	ts->call_tk = ts->ticks;
	if (unlikely(!ts->depth)) {
		ts->unmatched_exits++;
		return 0;
	}
	return pop_call(t, ts, comp_clock(t, r, ts, r->c_exit_before, r->c_exit_after), ev,
			flags);
}

/* dec_entry - an ENTRY record (header @h, read) of a walk that tracks calls */
static inline __attribute__((always_inline)) int
dec_entry(DEC_PARAMS)
{
	const uint8_t *p = *pp;
	uint64_t fid = h >> 2, a, b;

	GETV(a);
	*pp = p;
	if (unlikely(a > ts->tick_limit - ts->ticks))
		return DEC_BAD_TIME;
	ts->ticks += a;
	ts->cnt_events++;
	ts->cnt_calls++;
	if (unlikely(fid >= ts->nfids))
		return DEC_BAD;
	ts->last_ns = LAST_NS_EXIT;	/* converted when read (trace_last_ns) */
	ts->call_tk = ts->ticks;
	a = fid_func_tk(t, r, ts, (uint32_t)fid, ts->ticks);
	b = comp_clock(t, r, ts, r->c_entry_before, r->c_entry_after);
	push_call(ts, (uint32_t)a, b, false, ts->fids[fid].addr);
	if (!(flags & WALK_CALLS))
		return 0;
	ev->type = EV_ENTRY;
	ev->ns = b;
	ev->func = (uint32_t)a;
	ev->addr = ts->fids[fid].addr;
	ev->depth = shown_depth(ts, ts->depth - 1, flags);
	ev->inherited = false;
	return 1;
	DEC_FAIL(bad_record, DEC_BAD);
}

/*
 * next_event - decode @ts up to its next event selected by @flags into @ev.
 * @back: return after a record that made no event too (walk_stream: its run_exits takes
 * the records after it). Return: 1 with an event, 2 (@back) after a record without one, 0
 * when the thread has nothing more, -1 on an I/O error.
 */
static inline __attribute__((always_inline)) int
next_event(struct trace *t, struct reader *r, struct tstate *ts, unsigned flags,
	   struct trace_event *ev, bool back)
{
	const uint8_t *p = ts->p, *end = ts->end, *q;
	uint64_t h;
	int rc;

	for (;;) {
		if (unlikely(ts->pending_exits)) {
			/* EXITS n, or the calls left open at the stream's end */
			ts->pending_exits--;
			if (!ts->depth) {
				ts->pending_exits = 0;
				continue;
			}
			if (!pop_call(t, ts, ts->pending_ns, ev, flags) ||
			    !(flags & (WALK_CALLS | WALK_EXITS)))
				continue;
			ts->p = p;
			return 1;
		}
		if (unlikely(p >= end)) {
			if (ts->finished) {
				ts->done = true;
				return 0;
			}
			rc = next_chunk(t, r, ts, p);
			if (rc < 0)
				return -1;
			p = ts->p;
			end = ts->end;
			continue;
		}
		if (unlikely(ts->cp_on))
			cp_note(ts);
		q = p;
		h = *p;
		if (likely(h < 0x80)) {
			p++;
		} else if (unlikely(get_varint(&p, end, &h) < 0)) {
			rc = DEC_BAD;
			goto damaged;
		}
		if ((h & 3) == 3) {	/* first: a memory walk's events are these */
			rc = dec_record(t, r, ts, flags, ev, h, &p, end);
		} else if (!ts->calls_on) {
			/* ENTRY or EXIT, not tracked: the run of them at once */
			p = q;
			rc = ts->cp_on ? skip_calls(r, ts, &p, end, true)
				       : skip_calls(r, ts, &p, end, false);
		} else if (!(h & 1)) {
			rc = dec_exit(t, r, ts, flags, ev, h);
		} else {
			rc = dec_entry(t, r, ts, flags, ev, h, &p, end);
		}
		if (likely(rc > 0)) {
			ts->p = p;
			return 1;
		}
		if (likely(rc == 0)) {
			if (back) {
				ts->p = p;
				return 2;
			}
			continue;
		}
damaged:
		stream_damaged(t, r, ts, rc, p);
		p = end = NULL;
	}
}

/*
 * ---- the calls walks' loop ----
 * A walk that tracks calls, not merged and without switches (WALK_EXITS: functions, summary,
 * html; WALK_CALLS: callgraph) spends most of its time in runs of ENTRY and EXIT records.
 * run_exits decodes such a run with the thread's state in locals (the generic path,
 * next_event, keeps it in the thread's state and returns at every event) and calls the
 * walk's callback at each EXIT (and ENTRY, with WALK_CALLS) itself. It
 * takes only the records whose decoding is the plain case and leaves any other at once to
 * next_event, before it, the state as that record found it: another record, damage, a
 * time at or past the epoch's end (ep_hi_tk: next_event resolves there), an EXIT without an
 * open call or of an inherited call, an ENTRY whose function is not resolved in this epoch
 * or whose call does not fit the open calls' array. Every event, field and counter is what
 * next_event makes of the same records.
 */

/* the state run_exits keeps in locals, and what it reads of the reader's */
struct exits_run {
	const uint8_t *p, *end;
	uint64_t ticks, ovh, vticks, nexits, ncalls, clamps;
	uint64_t lim;				/* no record later: the chunk's limit, and
						 * before the epoch's end (ts->ep_hi_tk) */
	uint64_t start, mult;			/* to_ns's */
	uint64_t eb, ea, xb, xa;		/* r->c_entry_*, r->c_exit_* */
	uint32_t depth, cap, nfids, gen;
	uint32_t ninh;				/* ts->ninherited */
	uint32_t dsub;				/* shown_depth's: depth less this */
	struct walk_frame *calls;
	const struct fidref *fids;
	uint32_t *active;
};

/* to_ns of @ticks with the run's copy of the reader's figures */
static inline __attribute__((always_inline)) uint64_t run_ns(const struct exits_run *x,
							     uint64_t ticks)
{
	if (unlikely(ticks <= x->start))
		return 0;
	return (uint64_t)(((unsigned __int128)(ticks - x->start) * x->mult + (1U << 31)) >> 32);
}

static inline __attribute__((always_inline)) void run_get(struct exits_run *x,
							  const struct reader *r,
							  const struct tstate *ts, unsigned flags)
{
	uint64_t ep = ts->ep_hi_tk - 1;		/* 0: run_exits takes nothing */

	*x = (struct exits_run){ .p = ts->p, .end = ts->end, .ticks = ts->ticks,
				 .lim = ts->tick_limit < ep ? ts->tick_limit : ep,
				 .ovh = ts->ovh, .vticks = ts->vticks,
				 .start = r->start_ticks, .mult = r->mult,
				 .eb = r->c_entry_before, .ea = r->c_entry_after,
				 .xb = r->c_exit_before, .xa = r->c_exit_after,
				 .depth = ts->depth, .cap = ts->calls_cap,
				 .ninh = ts->ninherited,
				 .dsub = flags & WALK_INHERITED ? 0 : ts->ninherited,
				 .nfids = ts->nfids, .gen = ts->gen, .calls = ts->calls,
				 .fids = ts->fids, .active = ts->active };
}

static inline __attribute__((always_inline)) void run_put(struct exits_run *x,
							  struct tstate *ts)
{
	ts->p = x->p;
	ts->ticks = x->ticks;
	ts->ovh = x->ovh;
	ts->vticks = x->vticks;
	ts->depth = x->depth;
	ts->clamps += x->clamps;
	ts->cnt_events += x->nexits + x->ncalls;
	ts->cnt_calls += x->ncalls;
	if (x->nexits + x->ncalls) {	/* as dec_entry and dec_exit leave them */
		ts->last_ns = LAST_NS_EXIT;
		ts->call_tk = x->ticks;
	}
}

/* run_exit - the EXIT of header @h into @ev, as dec_exit and pop_call make it. Return: false
 * when next_event must decode it (an impossible time, no open call, an inherited call) */
static inline __attribute__((always_inline)) bool run_exit(struct exits_run *x,
							   struct trace_event *ev, uint64_t h)
{
	struct walk_frame *c;
	uint64_t ns;

	/* without inherited calls open (ninh, all of them counted), none is to test */
	if (unlikely((h >> 1) > x->lim - x->ticks || !x->depth ||
		     (x->ninh && x->calls[x->depth - 1].inherited)))
		return false;
	x->ticks += h >> 1;
	x->nexits++;
	if (unlikely(comp_step(x->ticks, &x->ovh, &x->vticks, x->xb, x->xa)))
		x->clamps++;
	ns = run_ns(x, x->vticks);
	c = &x->calls[--x->depth];
	close_frame(c, x->depth, ns, ev);
	ev->inherited = false;			/* tested above */
	ev->depth = x->depth - x->dsub;
	ev->nested = --x->active[c->func] != 0;
	return true;
}

/* run_entry - the ENTRY of header @h whose delta is at x->p, as dec_entry makes it. Return:
 * false when next_event must decode it (damage, a function to resolve, no room) */
static inline __attribute__((always_inline)) bool run_entry(struct exits_run *x, uint64_t h)
{
	const struct fidref *fr;
	uint64_t fid = h >> 2, a;
	const uint8_t *p = x->p;

	if (unlikely(get_varint(&p, x->end, &a) < 0 || a > x->lim - x->ticks ||
		     fid >= x->nfids || x->depth >= x->cap))
		return false;
	fr = &x->fids[fid];
	if (unlikely(fr->gen != x->gen))
		return false;
	x->p = p;
	x->ticks += a;
	x->ncalls++;
	if (unlikely(comp_step(x->ticks, &x->ovh, &x->vticks, x->eb, x->ea)))
		x->clamps++;
	x->calls[x->depth++] = (struct walk_frame){ fr->func, 0, false, fr->addr,
						    run_ns(x, x->vticks), 0 };
	x->active[fr->func]++;
	return true;
}

/* the ENTRY event of the call run_entry opened, as dec_entry makes it (WALK_CALLS) */
static inline __attribute__((always_inline)) void run_entry_ev(const struct exits_run *x,
							       struct trace_event *ev)
{
	const struct walk_frame *c = &x->calls[x->depth - 1];

	ev->type = EV_ENTRY;
	ev->ns = c->ns;
	ev->func = c->func;
	ev->addr = c->addr;
	ev->depth = x->depth - 1 - x->dsub;
	ev->inherited = false;
}

/*
 * run_exits - the run of ENTRY and EXIT records at ts->p of a walk that tracks calls, @fn
 * called at each EXIT, and at each ENTRY when @entries (WALK_CALLS). ts->p is left at the
 * first record it did not take (or the chunk's end).
 * Return: 0, or @fn's non-zero value (the walk stops).
 */
static inline __attribute__((always_inline)) int
run_exits(const struct reader *r, struct tstate *ts, unsigned flags, trace_event_fn fn,
	  void *ctx, const bool entries)
{
	struct trace_event *ev = &ts->ev;
	struct exits_run x;
	const uint8_t *q;
	uint64_t h;
	int rc = 0;

	run_get(&x, r, ts, flags);
	if (unlikely(x.ticks > x.lim || !ts->ep_hi_tk))
		return 0;		/* at the epoch's end: next_event's to resolve */
	while (x.p < x.end) {
		q = x.p;
		h = *x.p;
		if (likely(h < 0x80))
			x.p++;
		else if (unlikely(get_varint(&x.p, x.end, &h) < 0))
			h = 3;			/* next_event's to report */
		if ((h & 3) == 1) {
			if (likely(run_entry(&x, h))) {
				if (!entries)
					continue;
				run_entry_ev(&x, ev);
				goto deliver;
			}
		} else if ((h & 3) != 3 && likely(run_exit(&x, ev, h))) {
			goto deliver;
		}
		x.p = q;		/* another record, or one next_event decodes */
		break;
deliver:
		ts->ticks = x.ticks;	/* the callback's trace_event_key */
		rc = fn(ev, ctx);
		if (unlikely(rc))
			break;
	}
	run_put(&x, ts);
	return rc;
}

/*
 * walk_stream - the walk of one stream, not merged: @fn called for each event selected by
 * @flags (a calls walk's runs of calls by run_exits). Return: 0, @fn's non-zero value,
 * or -1 on an I/O error.
 */
static int walk_stream(struct trace *t, struct reader *r, struct tstate *ts, unsigned flags,
		       trace_event_fn fn, void *ctx)
{
	bool runs = ts->calls_on && !ts->cp_on;
	int n, rc;

	for (;;) {
		if (runs && !ts->pending_exits && ts->p < ts->end) {
			rc = flags & WALK_CALLS ? run_exits(r, ts, flags, fn, ctx, true)
						: run_exits(r, ts, flags, fn, ctx, false);
			if (unlikely(rc))
				return rc;
		}
		n = next_event(t, r, ts, flags, &ts->ev, runs);
		if (n == 2)
			continue;	/* no event: run_exits takes what follows */
		if (n <= 0)
			return n;
		rc = fn(&ts->ev, ctx);
		if (unlikely(rc))
			return rc;
	}
}

/* after a thread's stream was decoded to its end: its exact first/last times */
static void thread_done(struct trace *t, struct reader *r, struct tstate *ts)
{
	free(ts->buf);
	ts->buf = NULL;
	ts->done = true;
	if (ts->unmatched_exits && !ts->warned)
		pr_dbg(1, "thread %u: %llu exits without an open call", ts->th->tid,
		       (unsigned long long)ts->unmatched_exits);
	pr_dbg(1, "thread %u: %u function ids, %u stack nodes defined", ts->th->tid, ts->nfids,
	       ts->nnodes);
}

/*
 * Key of a thread's pending event in the merged order: the trace clock at its record (the
 * thread's time base after it: a realloc's is when the new block appeared, ns2), in ticks,
 * not in ns. A tick is shorter than a ns with the TSC, so two events of different threads
 * that round to the same ns keep the order the clock gave them (an allocation, and the
 * free of that block by the thread it was handed to, a few ticks later).
 */
static inline uint64_t merge_key(const struct tstate *ts)
{
	return ts->ticks;
}

static void fill_ev(struct tstate *ts, struct trace_event *ev)
{
	ev->thread = ts->index;
	ev->tid = ts->th->tid;
}

/* collect per-walk results once every thread reached its end */
static void walk_finished(struct trace *t, struct reader *r, bool all)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	uint32_t i;

	if (!all)
		return;
	r->info_complete = true;
	trace_check_flags(t);
	for (i = 0; i < t->nthreads + r->npseudo; i++) {
		struct tstate *ts = r->ts[i];
		struct trace_thread *th = &t->threads[i];

		if (!ts->any_time)
			continue;
		if (th->first_ns < lo)
			lo = th->first_ns;
		if (th->last_ns > hi)
			hi = th->last_ns;
	}
	if (lo != UINT64_MAX)
		t->duration_ns = hi - lo;
}

/*
 * Record a thread's exact first and last times: first_ns from the first delivered or
 * skipped timed record is not tracked in the hot loop; the chunk headers give the first
 * chunk's base and the walk's last record gives the end.
 */
static void thread_times(struct trace *t, struct tstate *ts)
{
	struct trace_thread *th = &t->threads[ts->index];

	if (!ts->nchunks)
		return;
	th->first_ns = to_ns(t, R(t), R(t)->chunks[ts->chunks[0]].base_ticks);
	th->last_ns = ts->last_ns > th->first_ns ? ts->last_ns : th->first_ns;
	if (ts->sw_base && to_ns(t, R(t), ts->sw_base) > th->last_ns)
		th->last_ns = to_ns(t, R(t), ts->sw_base);	/* blocked until then (open_end) */
	ts->any_time = true;
}

/**
 * trace_walk - decode the trace and call @fn for each event selected by @flags.
 * @thread: index into t->threads, or -1 for all threads.
 * Without WALK_MERGED each thread is walked in its own order, one after another; with it,
 * all threads in one time order (a binary heap of threads keyed by their next event; a
 * REALLOC is keyed by ns2, when its new block appeared; ENTRY_AT events written late under
 * PERFSHIM_MIN_DURATION are delivered when read, so they may come after later events of
 * other threads).
 * Return: 0, the callback's non-zero value, or -1 on a read error (reported).
 */
int trace_walk(struct trace *t, unsigned flags, int thread, trace_event_fn fn, void *ctx)
{
	struct reader *r = R(t);
	uint32_t lo = 0, hi = t->nthreads + r->npseudo;	/* with the signal marks */
	int rc;

	t->walks++;
	if (thread >= 0) {
		if ((uint32_t)thread >= t->nthreads)
			return 0;
		lo = (uint32_t)thread;
		hi = lo + 1;
	}
	rc = trace_walk_streams(t, flags, lo, hi, fn, ctx);
	if (!rc && lo == 0 && hi == t->nthreads + r->npseudo)
		walk_finished(t, r, true);
	if (r->progress)
		progress_done(r->progress);
	return rc;
}

/** trace_event_key - see walk.h. */
uint64_t trace_event_key(const struct trace *t, const struct trace_event *ev)
{
	return R(t)->ts[ev->thread]->ticks;
}

/* trace_walk_complete - what a walk of every stream learns, once they all were walked */
void trace_walk_complete(struct trace *t)
{
	walk_finished(t, R(t), true);
}

/**
 * trace_walk_streams - trace_walk of streams [@lo, @hi) (threads, then the signal marks'
 * streams), without walk_finished's bookkeeping nor the end of the progress line.
 * Return: as trace_walk.
 */
int trace_walk_streams(struct trace *t, unsigned flags, uint32_t lo, uint32_t hi,
		       trace_event_fn fn, void *ctx)
{
	struct reader *r = R(t);
	bool calls = (flags & (WALK_CALLS | WALK_EXITS)) != 0;
	struct reader saved;
	uint32_t i;
	int rc = 0;

	if (flags & WALK_RAW) {
		/* the figures the decoder applies, off for this walk (trace-comp.c) */
		saved = *r;
		r->c_entry_before = r->c_entry_after = r->c_exit_before = r->c_exit_after = 0;
		r->c_alloc = r->c_node = r->c_free = 0;
	}
	/* call stacks are tracked only when calls are delivered: faster memory walks */
	r->bytes_read = r->bytes_total = 0;
	for (i = lo; i < hi; i++) {
		walk_reset(r, r->ts[i], calls);
		r->ts[i]->cp_on &= (flags & WALK_SWITCHES) && (t->hdr.flags & TRACE_F_SWITCHES);
		if (r->ts[i]->cp_on && !r->ts[i]->cp)	/* cp_run's cursor needs an array */
			ARRAY_GROW(r->ts[i]->cp, r->ts[i]->cp_cap, 256);
		r->bytes_total += t->threads[i].bytes;
	}

	if (!(flags & WALK_MERGED)) {
		for (i = lo; i < hi && !rc; i++) {
			struct tstate *ts = r->ts[i];

			fill_ev(ts, &ts->ev);
			rc = walk_stream(t, r, ts, flags, fn, ctx);
			if (!rc) {
				thread_times(t, ts);
				thread_done(t, r, ts);
			}
		}
	} else {
		struct mheap h;
		struct tstate *ts;

		mheap_init(&h, hi - lo);
		for (i = lo; i < hi; i++) {
			int k;

			ts = r->ts[i];
			fill_ev(ts, &ts->ev);
			k = next_event(t, r, ts, flags, &ts->ev, false);
			if (k > 0)
				mheap_add(&h, ts, merge_key(ts), ts->index);
			else if (k < 0)
				rc = -1;
			else {
				thread_times(t, ts);
				thread_done(t, r, ts);
			}
		}
		mheap_build(&h);
		while (!rc && (ts = mheap_top(&h))) {
			int k;

			rc = fn(&ts->ev, ctx);
			if (unlikely(rc))
				break;
			k = next_event(t, r, ts, flags, &ts->ev, false);
			if (k > 0) {
				mheap_advance(&h, merge_key(ts));
				continue;
			}
			if (k < 0)
				rc = -1;
			thread_times(t, ts);
			thread_done(t, r, ts);
			mheap_pop(&h);
		}
		mheap_free(&h);
	}
	if (flags & WALK_RAW) {
		r->c_entry_before = saved.c_entry_before;
		r->c_entry_after = saved.c_entry_after;
		r->c_exit_before = saved.c_exit_before;
		r->c_exit_after = saved.c_exit_after;
		r->c_alloc = saved.c_alloc;
		r->c_node = saved.c_node;
		r->c_free = saved.c_free;
	}
	return rc;
}

/* walk callback that does nothing: trace_find_mark's info walk */
static int no_event(const struct trace_event *ev, void *ctx)
{
	return 0;
}

/**
 * trace_find_mark - time of mark @label: "start" (0), "end" (the last record) or the first
 * recorded mark of that name. Decodes the trace once if no walk did yet.
 * Return: 0 with *@ns set, -1 when there is no such mark.
 */
int trace_find_mark(const struct trace *t, const char *label, uint64_t *ns)
{
	struct trace *tw = (struct trace *)t;
	uint64_t end = 0;
	uint32_t i;

	if (!strcmp(label, "start")) {
		*ns = 0;
		return 0;
	}
	if (!R(t)->info_complete)
		trace_info(tw);
	for (i = 0; i < t->nmarks; i++)
		if (!strcmp(t->marks[i].label, label)) {
			*ns = t->marks[i].ns;
			return 0;
		}
	if (!strcmp(label, "end")) {
		for (i = 0; i < t->nthreads + R(t)->npseudo; i++)
			if (t->threads[i].last_ns > end)
				end = t->threads[i].last_ns;
		*ns = end;
		return 0;
	}
	return -1;
}

/** trace_info - one walk of every thread when none completed yet (modules, marks...). */
int trace_info(struct trace *t)
{
	if (R(t)->info_complete)
		return 0;
	return trace_walk(t, 0, -1, no_event, NULL) < 0 ? -1 : 0;
}

/* trace_unmatched_exits - EXIT records with no open call, seen by walks that track calls */
uint64_t trace_unmatched_exits(const struct trace *t)
{
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < t->nthreads; i++)
		n += R(t)->ts[i]->unmatched_exits;
	return n;
}

/** trace_set_progress - let walks of @t draw a progress line for @o (NULL: none). */
void trace_set_progress(struct trace *t, const struct opts *o)
{
	R(t)->progress = o;
}
