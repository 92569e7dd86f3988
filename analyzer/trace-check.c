/* SPDX-License-Identifier: MIT */
/*
 * The trace reader, part 3: trust. What no recorder writes, and what a killed process leaves,
 * found while indexing (trace-read.c calls chunk_again, check_times, check_ends) and decoding
 * (trace-walk.c calls trace_impossible, trace_check_flags): whether the recorder saw the
 * process end, threads without a last chunk, chunks written twice, impossible sizes, counts
 * and times, header flags that contradict the contents, stacks cut at stack_depth. Each is
 * said once on stderr here; notes.c makes every report repeat it. docs/design.md ("Trust").
 */
#define PR_FMT "read"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/hmap.h"
#include "analyzer/notes.h"
#include "analyzer/text.h"
#include "analyzer/trace-priv.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"

/* trace_note - add one item to @ln (at most 4 are spelled out, then "...") */
void trace_note(struct loss_note *ln, const char *fmt, ...)
{
	va_list ap;
	int w;

	ln->n++;
	if (ln->n > 4) {
		if (ln->n == 5 && ln->len + 8 < sizeof(ln->buf))
			ln->len += (size_t)snprintf(ln->buf + ln->len, sizeof(ln->buf) - ln->len,
						    "; ...");
		return;
	}
	if (ln->len && ln->len + 2 < sizeof(ln->buf))
		ln->len += (size_t)snprintf(ln->buf + ln->len, sizeof(ln->buf) - ln->len, "; ");
	va_start(ap, fmt);
	w = vsnprintf(ln->buf + ln->len, sizeof(ln->buf) - ln->len, fmt, ap);
	va_end(ap);
	if (w > 0)
		ln->len = ln->len + (size_t)w < sizeof(ln->buf) ? ln->len + (size_t)w
							      : sizeof(ln->buf) - 1;
}

/*
 * seq_index_add - remember that chunk @i is instance @ts's chunk of its seq (the first one
 * of that seq: a later one is a copy or starts a new instance), so that chunk_again finds
 * it in constant time whatever the order of the file (a crafted file could repeat many).
 */
void seq_index_add(struct reader *r, const struct tstate *ts, uint32_t i)
{
	uint64_t key = ((uint64_t)ts->index << 32 | r->chunks[i].seq) + 1;
	struct ixmap_ent *sl;
	bool created;

	sl = ixmap_put(&r->seq_index, key, &created);
	if (created)
		sl->ix = i;
}

/*
 * chunk_again - chunk @i names a (tid, seq) that instance @ts already has. An exact copy of
 * that chunk's header (the same bytes written twice, or a file concatenated with itself) is
 * counted and skipped, so its events are not read twice. Any other chunk starts a new
 * thread instance: seq 0 after the first instance ended is the kernel reusing the tid;
 * anything else is noted as a conflict. Return: 1 when chunk @i is a copy to skip.
 */
int chunk_again(struct trace *t, struct reader *r, struct tstate *ts, uint32_t i,
		struct loss_note *ln)
{
	const struct chunk *c = &r->chunks[i], *o = NULL;
	const struct ixmap_ent *sl;
	bool ended = ts->ended;

	sl = ixmap_get(&r->seq_index, ((uint64_t)ts->index << 32 | c->seq) + 1);
	if (sl)
		o = &r->chunks[sl->ix];
	if (o && o->size == c->size && o->flags == c->flags &&
	    o->payload_checksum == c->payload_checksum && o->base_ticks == c->base_ticks &&
	    o->end_ticks == c->end_ticks && o->end_mono_ns == c->end_mono_ns) {
		t->repeated_chunks++;
		trace_note(ln, "the chunk at offset %llu repeats the one at offset %llu (thread %u, seq %u): "
		     "read once", (unsigned long long)c->off, (unsigned long long)o->off, c->tid,
		     c->seq);
		return 1;
	}
	if (c->seq != 0 || !ended) {
		t->conflicting_chunks++;
		trace_note(ln, "thread %u has two different chunks of seq %u (offsets %llu and %llu): read "
		     "as two threads", c->tid, c->seq, (unsigned long long)(o ? o->off : 0),
		     (unsigned long long)c->off);
	}
	return 0;
}

/*
 * check_times - times no recorder writes. A header start time after the end of every chunk
 * (which would make every time 0) is ignored: times count from the earliest chunk. Every
 * record lies before its chunk's end (the chunk is written after its records): the decoder
 * ends a stream at a record later than its chunk's end plus tick_slack (1 s; a chunk cut by
 * another thread at exit reads the clock on another CPU).
 */
void check_times(struct trace *t, struct reader *r, struct loss_note *ln)
{
	uint64_t max_end = 0, min_base = UINT64_MAX;
	double slack = 1e9 / t->ns_per_tick;
	uint32_t i;

	r->tick_slack = slack >= 1 && slack < 1e18 ? (uint64_t)slack : 1000000000ULL;
	for (i = 0; i < r->nchunks; i++) {
		if (r->chunks[i].end_ticks > max_end)
			max_end = r->chunks[i].end_ticks;
		if (r->chunks[i].base_ticks < min_base)
			min_base = r->chunks[i].base_ticks;
	}
	if (r->nchunks && t->hdr.start_ticks > max_end) {
		t->bad_start = true;
		r->start_ticks = min_base;
		trace_note(ln, "the header's start time is after the end of every chunk (impossible): "
		     "times count from the first chunk instead");
	}
}

/*
 * check_ends - whether the recorder saw the process end (a thread's last intact chunk
 * flagged TRACE_CHUNK_PROCESS_END; a failed exec's chunk of that flag is followed by more),
 * and which threads stop without a last chunk (killed, or the file cut at a chunk boundary).
 * A thread is complete when its last chunk is LAST, or PROCESS_END (the one written before
 * an exec that worked); a thread whose last chunk is unfinished (OPEN) was still running: cut
 * by the process's end when that was recorded (the exec), else its end is missing. Threads
 * already noted as damaged are not repeated.
 */
void check_ends(struct trace *t, struct reader *r, struct loss_note *ln)
{
	uint64_t stop = 0;
	uint32_t i;
	char tb[32];

	for (i = 0; i < t->nthreads; i++)
		if (r->ts[i]->end_flags & TRACE_CHUNK_PROCESS_END)
			t->end_seen = true;
	for (i = 0; i < t->nthreads; i++) {
		struct trace_thread *th = &t->threads[i];
		struct tstate *ts = r->ts[i];
		const struct chunk *c;

		if (th->written_ns > stop)
			stop = th->written_ns;
		if (!ts->nchunks)
			continue;
		c = &r->chunks[ts->chunks[ts->nchunks - 1]];
		if (c->open) {
			th->complete = th->cut = t->end_seen && th->unfinished;
		} else {
			th->complete = (c->flags & (TRACE_CHUNK_LAST | TRACE_CHUNK_PROCESS_END)) != 0;
		}
		if (!th->complete && !th->damaged)
			trace_note(ln, "thread %u has no last chunk: its events after %s are missing",
			     th->tid, fmt_ns(tb, sizeof(tb), th->written_ns));
	}
	if (!t->end_seen && !r->nchunks)
		trace_note(ln, "the process's end was not recorded: the file holds no chunk");
	else if (!t->end_seen)
		trace_note(ln, NOTES_NO_END, fmt_ns(tb, sizeof(tb), stop));
}

/*
 * trace_impossible - a record of @ts held a value no real program gives (@what of @v): an
 * allocation or RSS beyond the address space, a count beyond TRACE_COUNT_MAX. The decoder
 * leaves the record out of every total; the first one is warned about.
 */
void trace_impossible(struct trace *t, struct tstate *ts, const char *what, uint64_t v)
{
	bool count = strstr(what, "count") != NULL;	/* a LOST count, of events or switches */
	char tb[32];

	if (count)
		ts->cnt_bad_counts++;
	else
		ts->cnt_bad_sizes++;
	if (R(t)->warned_impossible)
		return;
	R(t)->warned_impossible = true;
	trace_walk_warn(t, true, "%s: thread %u: %s of %llu at %s is impossible (beyond %s): "
			"left out of every total", t->path, ts->th->tid, what,
			(unsigned long long)v, fmt_ns(tb, sizeof(tb), ts->last_ns),
			count ? "any real count" : "the address space");
}

/*
 * trace_check_flags - after a walk of every thread: calls or allocations decoded although
 * the header says they were not recorded. The contents win (they passed their checksums);
 * the header is said to be wrong, once.
 */
void trace_check_flags(struct trace *t)
{
	bool calls = t->ncalls && !(t->hdr.flags & TRACE_F_CALLS);
	bool mem = (t->nallocs || t->nfrees || t->nreallocs) && !(t->hdr.flags & TRACE_F_MALLOC);
	char a[32];

	if (calls && !t->bad_flags_calls)
		pr_warn("%s: the header says calls were not recorded, yet the trace holds %s call%s: "
			"the header is wrong", t->path, fmt_count(a, sizeof(a), t->ncalls),
			t->ncalls == 1 ? "" : "s");
	if (mem && !t->bad_flags_malloc)
		pr_warn("%s: the header says the malloc family was not recorded, yet the trace holds "
			"%s allocation event%s: the header is wrong", t->path,
			fmt_count(a, sizeof(a), t->nallocs + t->nfrees + t->nreallocs),
			t->nallocs + t->nfrees + t->nreallocs == 1 ? "" : "s");
	t->bad_flags_calls |= calls;
	t->bad_flags_malloc |= mem;
}

/**
 * trace_stack_truncated - whether stack @id reached the header's stack_depth: the recorder
 * stops its walk there (and the reader cuts deeper stacks to it), so the frames outside it
 * are not in the trace. The real caller's frame on top of a shadow stack (node_on_parent)
 * is not counted. The recorder does not say whether a walk that filled the limit had more
 * frames: a stack of exactly stack_depth frames counts as cut.
 */
bool trace_stack_truncated(const struct trace *t, uint32_t id)
{
	const struct reader *r = R(t);
	const struct gstack *g;
	uint32_t n;

	if (!r->stack_cap || !id || id >= r->ngs)
		return false;
	g = &r->gs[id];
	n = g->depth;
	if (g->is_ra && g->parent && !r->gs[g->parent].is_ra)
		n--;
	return n >= r->stack_cap;
}
