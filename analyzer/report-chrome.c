/* SPDX-License-Identifier: MIT */
/*
 * The `chrome` report: Chrome trace-event JSON ({"traceEvents": [...]}) as Perfetto and
 * chrome://tracing read it. One complete event ("X") per call, thread and process names as
 * metadata ("M"), marks as instant events ("i"), and the live heap and the RSS (as far as the
 * recorder sampled it) as counter tracks ("C"), at most about 4000 points each.
 *
 * Size guard: viewers choke on huge files (500 MB of uftrace JSON crashes them), so at most
 * --limit calls (default 1,000,000; 0 = all) are written: the longest ones, every call at
 * least as long as the shortest duration that keeps at most --limit (whole histogram buckets).
 * Keeping by duration keeps the nesting whole: a caller lasts at least as long as its callees.
 * What was left out is said on stderr.
 *
 * One walk per trace: it histograms the durations and holds the calls that may be written.
 * The lowest bucket that can still be kept only rises as calls come (more calls at or above
 * it), so calls below it are never held, and the held ones that fell below it are dropped
 * whenever more than 2 x --limit are held; at the end the final threshold picks the written
 * ones out of those held. The one exception: more than CHROME_SORT_MAX calls with a --limit
 * above that (or 0) are not held (memory): a second walk collects or streams them (below).
 *
 * Several traces (a process and its forked or exec'd children) make one timeline: each
 * process is its own pid, times aligned by the traces' CLOCK_MONOTONIC start.
 */
#define PR_FMT "chrome"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/export.h"
#include "analyzer/hist.h"
#include "analyzer/notes.h"
#include "analyzer/offcpu.h"
#include "analyzer/opts.h"
#include "analyzer/replay-log.h"
#include "analyzer/report.h"
#include "analyzer/symbols.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"
#include "analyzer/walk.h"

#define CHROME_DEFAULT_LIMIT 1000000
#ifndef CHROME_SORT_MAX
#define CHROME_SORT_MAX 4000000	/* more calls than this are written unsorted (memory) */
#endif
#define COUNTER_BUCKETS 2000	/* live-heap samples: at most 2 points per bucket */

/* One trace (one process image). Several are merged into one timeline, one pid each. */
struct ctrace {
	struct trace *t;
	bool owned;			/* opened here, not the caller's */
	int only;			/* thread index (--thread), or -1 for all */
	uint32_t pid;
	uint64_t off_ns;		/* its start after the earliest trace's (CLOCK_MONOTONIC) */
	struct symbols *sym;
	bool complete;			/* notes.c: nothing missing */
	char **names;			/* per func: func_name's JSON fragment */
	/* the walk collects marks and thread names from the events themselves */
	struct trace_mark *marks;
	uint32_t nmarks, marks_cap;
	char **tnames;			/* per thread index, or NULL */
	uint32_t ntnames;
	struct kept *kept;		/* the calls held to be written (see the header) */
	size_t nkept, kept_cap;
};

/* A call to write: collected at its exit, written in start order after the walk. */
struct kept {
	uint64_t entry_ns, dur;
	uint32_t func, tid, depth;
};

/*
 * A counter track, sampled: time is cut into COUNTER_BUCKETS buckets and each bucket with
 * changes gives its highest value (so peaks stay visible) and its last one.
 */
struct track {
	const char *name;		/* counter name in the viewer */
	uint64_t bucket_ns, cur_bucket;
	bool have_bucket;
	uint64_t max_v, max_ns, last_v, last_ns, prev_ts;
	uint64_t points;
};

struct chrome {
	FILE *f;
	bool first;			/* no event written yet (comma placement) */
	struct ctrace *cur;		/* the trace being walked */
	/* calls */
	uint64_t *hist;			/* duration histogram, all traces */
	uint64_t ncalls;
	uint64_t limit;			/* --limit, 0 = all */
	unsigned cut;			/* lowest bucket that can still be kept: only rises */
	uint64_t above;			/* calls in buckets from cut up */
	struct ctrace *cts;		/* every trace: what hold_call prunes */
	int ncts;
	size_t nheld, hold_max;		/* calls held in all traces' kept, and when to prune */
	bool rewalk;			/* too many to hold: a second walk collects them */
	uint64_t min_keep_ns;		/* calls at least this long are written */
	uint64_t written;
	bool stream;			/* too many to sort: write them as they exit */
	/* counter tracks (per trace): live heap, and RSS when the recorder sampled it */
	struct track heap, rss;
};

static void sep(struct chrome *c)
{
	fputs(c->first ? "\n" : ",\n", c->f);
	c->first = false;
}

/* microseconds with the nanoseconds as three decimals: exact, and the same on every run */
static void put_us(FILE *f, const char *key, uint64_t ns)
{
	fprintf(f, ",\"%s\":%" PRIu64 ".%03u", key, ns / 1000, (unsigned)(ns % 1000));
}

static char *dup_str(const char *s, size_t len)
{
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = 0;
	return p;
}

static bool other_thread(const struct ctrace *ct, const struct trace_event *ev)
{
	return ct->only >= 0 && ev->thread != (uint32_t)ct->only;
}

/* the lowest duration of bucket @b (UINT64_MAX past the last) */
static uint64_t bucket_ns(unsigned b)
{
	uint64_t width;

	return b < HIST_BUCKETS ? hist_low(b, EXPORT_HIST_SHIFT, &width) : UINT64_MAX;
}

static void keep_call(struct ctrace *ct, const struct trace_event *ev, uint64_t dur)
{
	ARRAY_ROOM(ct->kept, ct->kept_cap, ct->nkept);
	ct->kept[ct->nkept++] = (struct kept){ ev->entry_ns, dur, ev->func, ev->tid, ev->depth };
}

/* drop the held calls shorter than @min_ns, in place: the others keep their (exit) order */
static void drop_shorter(struct chrome *c, uint64_t min_ns)
{
	size_t i, n;
	int k;

	for (k = 0, c->nheld = 0; k < c->ncts; k++) {
		struct ctrace *ct = &c->cts[k];

		for (i = n = 0; i < ct->nkept; i++)
			if (ct->kept[i].dur >= min_ns)
				ct->kept[n++] = ct->kept[i];
		ct->nkept = n;
		c->nheld += n;
	}
}

/* no call held any more (memory) */
static void release_held(struct chrome *c)
{
	int k;

	for (k = 0; k < c->ncts; k++) {
		free(c->cts[k].kept);
		c->cts[k].kept = NULL;
		c->cts[k].nkept = c->cts[k].kept_cap = 0;
	}
	c->nheld = 0;
}

/*
 * A call of bucket @b >= c->cut just counted. The cut is the lowest bucket b with at most
 * --limit calls in buckets from b up (pick_min_duration keeps that bucket or a higher one):
 * counts only grow, so it only rises, and a call below it is never written. Hold the call
 * unless it fell below; past hold_max held, drop those below, or with a --limit above
 * CHROME_SORT_MAX (or 0) hold none any more: a second walk collects them (c->rewalk).
 */
static void hold_call(struct chrome *c, struct ctrace *ct, const struct trace_event *ev,
		      uint64_t dur, unsigned b)
{
	c->above++;
	while (c->limit && c->above > c->limit)
		c->above -= c->hist[c->cut++];
	if (b < c->cut || c->rewalk)
		return;
	if (c->nheld >= c->hold_max) {
		if (c->limit && c->limit <= CHROME_SORT_MAX) {
			drop_shorter(c, bucket_ns(c->cut));
		} else {
			release_held(c);
			c->rewalk = true;
			return;
		}
	}
	keep_call(ct, ev, dur);
	c->nheld++;
}

static int hist_event(const struct trace_event *ev, void *ctx)
{
	struct chrome *c = ctx;
	struct ctrace *ct = c->cur;

	/* a mark from outside the threads (signal, tid 0) belongs to every selection */
	if (other_thread(ct, ev) && !(ev->type == EV_MARK && !ev->tid))
		return 0;
	if (ev->type == EV_MARK) {
		ARRAY_ROOM(ct->marks, ct->marks_cap, ct->nmarks);
		ct->marks[ct->nmarks++] = (struct trace_mark){ dup_str(ev->str, ev->len), ev->ns,
							      ev->tid };
	} else if (ev->type == EV_THREAD_NAME) {
		ARRAY_GROW_ZERO(ct->tnames, ct->ntnames, (size_t)ev->thread + 1);
		free(ct->tnames[ev->thread]);
		ct->tnames[ev->thread] = dup_str(ev->str, ev->len);
	} else if (ev->type == EV_EXIT) {
		uint64_t dur = ev->ns >= ev->entry_ns ? ev->ns - ev->entry_ns : 0;
		unsigned b = hist_bucket(dur, EXPORT_HIST_SHIFT);

		c->hist[b]++;
		c->ncalls++;
		if (b >= c->cut)
			hold_call(c, ct, ev, dur, b);
	}
	return 0;
}

/*
 * The value of an event's "name" for function @func: its name, JSON-escaped and quoted, and,
 * when DWARF says where it is defined, the event's "args" after it ("main","args":{"file":
 * "/src/a.c","line":12}), which Perfetto and chrome://tracing show with the selected call.
 * Made once per function.
 */
static const char *func_name(struct ctrace *ct, uint32_t func)
{
	char *buf = NULL;
	size_t len = 0;
	const char *file;
	unsigned line;
	FILE *m;

	if (func >= ct->t->nfuncs)
		return "\"[unknown]\"";
	if (ct->names[func])
		return ct->names[func];
	m = open_memstream(&buf, &len);
	if (!m)
		pr_fatal("out of memory");
	fput_json(sym_func_name(ct->sym, func), m);
	if (sym_func_decl(ct->sym, func, &file, &line) == 0) {
		fputs(",\"args\":{\"file\":", m);
		fput_json(file, m);
		fprintf(m, ",\"line\":%u}", line);
	}
	fclose(m);
	ct->names[func] = buf;
	return buf;
}

static int call_event(const struct trace_event *ev, void *ctx)
{
	struct chrome *c = ctx;
	struct ctrace *ct = c->cur;
	uint64_t dur;

	if (ev->type != EV_EXIT || other_thread(ct, ev))
		return 0;
	dur = ev->ns >= ev->entry_ns ? ev->ns - ev->entry_ns : 0;
	if (dur < c->min_keep_ns)
		return 0;
	if (c->stream) {
		sep(c);
		fprintf(c->f, "{\"ph\":\"X\",\"name\":%s,\"pid\":%u,\"tid\":%u",
			func_name(ct, ev->func), ct->pid, ev->tid);
		put_us(c->f, "ts", ev->entry_ns + ct->off_ns);
		put_us(c->f, "dur", dur);
		fputc('}', c->f);
		c->written++;
		return 0;
	}
	keep_call(ct, ev, dur);
	return 0;
}

/*
 * Start order: by start time, then the longer (the caller) first, then the outer. Viewers
 * that nest events with equal timestamps in file order (speedscope, a stable sort) then get
 * the caller around its callee even when both began in the same nanosecond.
 */
static int by_start(const void *a, const void *b)
{
	const struct kept *x = a, *y = b;

	if (x->entry_ns != y->entry_ns)
		return x->entry_ns < y->entry_ns ? -1 : 1;
	if (x->dur != y->dur)
		return x->dur > y->dur ? -1 : 1;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

/* the kept calls of one trace, in start order: one "X" event each */
static void write_calls(struct chrome *c, struct ctrace *ct)
{
	size_t i;

	if (ct->nkept)
		qsort(ct->kept, ct->nkept, sizeof(*ct->kept), by_start);
	for (i = 0; i < ct->nkept; i++) {
		const struct kept *k = &ct->kept[i];

		sep(c);
		fprintf(c->f, "{\"ph\":\"X\",\"name\":%s,\"pid\":%u,\"tid\":%u",
			func_name(ct, k->func), ct->pid, k->tid);
		put_us(c->f, "ts", k->entry_ns + ct->off_ns);
		put_us(c->f, "dur", k->dur);
		fputc('}', c->f);
	}
	c->written += ct->nkept;
	ct->nkept = 0;
}

static void counter_point(struct chrome *c, struct track *tr, uint64_t ns, uint64_t v)
{
	if (ns < tr->prev_ts)	/* keep the track in time order */
		ns = tr->prev_ts;
	tr->prev_ts = ns;
	sep(c);
	fprintf(c->f, "{\"ph\":\"C\",\"name\":\"%s\",\"pid\":%u", tr->name, c->cur->pid);
	put_us(c->f, "ts", ns + c->cur->off_ns);
	fprintf(c->f, ",\"args\":{\"bytes\":%" PRIu64 "}}", v);
	tr->points++;
}

/* close the current bucket: its highest value (the peak stays visible), then its last one */
static void counter_flush(struct chrome *c, struct track *tr)
{
	if (!tr->have_bucket)
		return;
	counter_point(c, tr, tr->max_ns, tr->max_v);
	if (tr->last_ns != tr->max_ns || tr->last_v != tr->max_v)
		counter_point(c, tr, tr->last_ns, tr->last_v);
	tr->have_bucket = false;
}

static void track_value(struct chrome *c, struct track *tr, uint64_t ns, uint64_t v)
{
	uint64_t b = ns / tr->bucket_ns;

	if (tr->have_bucket && b != tr->cur_bucket)
		counter_flush(c, tr);
	if (!tr->have_bucket) {
		tr->have_bucket = true;
		tr->cur_bucket = b;
		tr->max_v = v;
		tr->max_ns = ns;
	} else if (v > tr->max_v) {
		tr->max_v = v;
		tr->max_ns = ns;
	}
	tr->last_v = v;
	tr->last_ns = ns;
}

static void live_changed(struct replay *r, uint64_t ns, void *arg)
{
	struct chrome *c = arg;

	track_value(c, &c->heap, ns, r->live_bytes);
}

/* the process's RSS, whichever thread sampled it */
static void rss_seen(struct replay *r, const struct trace_event *ev, void *arg)
{
	struct chrome *c = arg;

	if (ev->type == EV_RSS)
		track_value(c, &c->rss, ev->ns, ev->size);
}

/* start a track for the current trace */
static void track_reset(struct track *tr, const char *name, uint64_t duration_ns)
{
	tr->name = name;
	tr->bucket_ns = duration_ns / COUNTER_BUCKETS + 1;
	tr->have_bucket = false;
	tr->prev_ts = 0;
}

static void metadata(struct chrome *c, const char *name, uint32_t tid, const char *value)
{
	sep(c);
	fprintf(c->f, "{\"ph\":\"M\",\"name\":\"%s\",\"pid\":%u,\"tid\":%u,\"args\":{\"name\":",
		name, c->cur->pid, tid);
	fput_json(value, c->f);
	fputs("}}", c->f);
}

/* how many calls are written (all those in buckets from min_keep_ns's up) */
static uint64_t kept_count(const struct chrome *c)
{
	uint64_t n = 0;
	unsigned b;

	if (c->min_keep_ns == UINT64_MAX)
		return 0;
	for (b = c->min_keep_ns ? hist_bucket(c->min_keep_ns, EXPORT_HIST_SHIFT) : 0;
	     b < HIST_BUCKETS; b++)
		n += c->hist[b];
	return n;
}

/* the shortest duration to keep so that at most @limit calls are written */
static uint64_t pick_min_duration(const struct chrome *c, uint64_t limit)
{
	uint64_t kept = 0, width;
	unsigned b, low = HIST_BUCKETS;

	if (!limit || c->ncalls <= limit)
		return 0;
	for (b = HIST_BUCKETS; b > 0; b--) {
		if (kept + c->hist[b - 1] > limit)
			break;
		kept += c->hist[b - 1];
		if (c->hist[b - 1])
			low = b - 1;
	}
	/* the lowest bucket that fits whole (calls in one bucket cannot be told apart) */
	return low == HIST_BUCKETS ? UINT64_MAX : hist_low(low, EXPORT_HIST_SHIFT, &width);
}

/*
 * The off-CPU intervals of each thread (context switches, offcpu.c) as slices on its track,
 * "off-CPU (blocked)" or "off-CPU (preempted)": they fall between the thread's events, so
 * each nests in the call it interrupted.
 */
static int write_offcpu(struct chrome *c, struct ctrace *ct)
{
	static const char *const names[2] = { "off-CPU (blocked)", "off-CPU (preempted)" };
	struct trace *t = ct->t;
	uint32_t i, k, n;

	if (!offcpu_present(t))
		return 0;
	if (offcpu_load(t) < 0)
		return -1;
	for (i = 0; i < t->nthreads; i++) {
		const struct offcpu_iv *iv = offcpu_intervals(t, i, &n);

		if (ct->only >= 0 && (uint32_t)ct->only != i)
			continue;
		for (k = 0; k < n; k++) {
			sep(c);
			fprintf(c->f, "{\"ph\":\"X\",\"name\":\"%s\",\"cat\":\"off-cpu\","
				"\"pid\":%u,\"tid\":%u", names[iv[k].kind & 1], ct->pid,
				t->threads[i].tid);
			put_us(c->f, "ts", iv[k].start + ct->off_ns);
			put_us(c->f, "dur", iv[k].end - iv[k].start);
			fputc('}', c->f);
		}
	}
	return 0;
}

/* Everything of one trace after its walk: names, calls, off-CPU time, heap counter, marks. */
static int write_trace(struct chrome *c, struct ctrace *ct)
{
	/* the live heap is the process's, also with --thread: all threads' blocks */
	struct replay m = { .change = live_changed, .other = rss_seen, .arg = c };
	const struct trace *t = ct->t;
	const char *prog;
	char a[64];
	uint32_t i;
	int ret = -1;

	c->cur = ct;
	prog = t->exe ? t->exe : t->path;
	if (strrchr(prog, '/') && strrchr(prog, '/')[1])
		prog = strrchr(prog, '/') + 1;
	metadata(c, "process_name", ct->pid, prog);
	if (!ct->complete) {	/* shown beside the process name in the viewers */
		sep(c);
		fprintf(c->f, "{\"ph\":\"M\",\"name\":\"process_labels\",\"pid\":%u,\"tid\":0,"
			      "\"args\":{\"labels\":\"incomplete trace\"}}", ct->pid);
	}
	for (i = 0; i < t->nthreads; i++) {
		const struct trace_thread *th = &t->threads[i];

		if (ct->only >= 0 && (uint32_t)ct->only != i)
			continue;
		if (i < ct->ntnames && ct->tnames[i]) {
			metadata(c, "thread_name", th->tid, ct->tnames[i]);
		} else if (th->name[0]) {
			metadata(c, "thread_name", th->tid, th->name);
		} else {
			snprintf(a, sizeof(a), "thread %u", th->tid);
			metadata(c, "thread_name", th->tid, a);
		}
	}
	/* the calls were held in the first walk, unless there were too many (report_chrome) */
	if (c->rewalk && c->ncalls && trace_walk(ct->t, WALK_CALLS, -1, call_event, c) < 0)
		goto out;
	write_calls(c, ct);
	if (write_offcpu(c, ct) < 0)
		goto out;

	track_reset(&c->heap, "live heap", t->duration_ns);
	track_reset(&c->rss, "rss", t->duration_ns);
	if (replay_run(&m, ct->t) < 0)
		goto out;
	counter_flush(c, &c->heap);
	counter_flush(c, &c->rss);

	for (i = 0; i < ct->nmarks; i++) {
		const struct trace_mark *mk = &ct->marks[i];

		sep(c);
		fputs("{\"ph\":\"i\",\"name\":", c->f);
		fput_json(mk->label, c->f);
		/* a mark from outside (signal, tid 0) belongs to the process, not a thread */
		fprintf(c->f, ",\"pid\":%u,\"tid\":%u,\"s\":\"%s\"", ct->pid, mk->tid,
			mk->tid ? "t" : "p");
		put_us(c->f, "ts", mk->ns + ct->off_ns);
		fputc('}', c->f);
	}
	ret = 0;
out:
	replay_free(&m);
	return ret;
}

/* @t's notes (notes.c) into @inc and @warn, after its path when there are @several traces.
 * Return: whether @t is complete. */
static bool chrome_notes(struct trace *t, struct strv *inc, struct strv *warn, bool several)
{
	struct notes nt;
	unsigned i;
	bool complete;

	notes_get(t, &nt);
	for (i = 0; i < nt.nmissing; i++)
		strv_add(inc, "%s%s%s", several ? t->path : "", several ? ": " : "", nt.missing[i]);
	for (i = 0; i < nt.nwarn; i++)
		strv_add(warn, "%s%s%s", several ? t->path : "", several ? ": " : "", nt.warn[i]);
	complete = nt.complete;
	notes_free(&nt);
	return complete;
}

static void ctrace_free(struct ctrace *ct)
{
	uint32_t i;

	if (ct->names && ct->t)
		for (i = 0; i < ct->t->nfuncs; i++)
			free(ct->names[i]);
	free(ct->names);
	for (i = 0; i < ct->nmarks; i++)
		free(ct->marks[i].label);
	free(ct->marks);
	for (i = 0; i < ct->ntnames; i++)
		free(ct->tnames[i]);
	free(ct->tnames);
	free(ct->kept);
	sym_close(ct->sym);
	if (ct->owned && ct->t)
		trace_close(ct->t);
}

/* the events' end and "otherData": the traces, what they lack, the clock, the counts */
static void other_data(struct chrome *c, const struct ctrace *cts, int n, const struct trace *t,
		       const struct strv *inc, const struct strv *warn)
{
	unsigned k;
	int i, found;

	fprintf(c->f, "\n],\"displayTimeUnit\":\"ns\",\"otherData\":{\"trace\":");
	fput_json(t->path, c->f);
	/* notes.c: what the traces lack ("incomplete trace: ...") and what was found wrong */
	fputs(",\"complete\":", c->f);
	for (i = 0, found = 1; i < n; i++)
		found &= cts[i].only == -2 || cts[i].complete;
	fputs(found ? "true" : "false", c->f);
	fputs(",\"incomplete\":[", c->f);
	for (k = 0; k < inc->n; k++) {
		if (k)
			fputc(',', c->f);
		fput_json(inc->v[k], c->f);
	}
	fputs("],\"warnings\":[", c->f);
	for (k = 0; k < warn->n; k++) {
		if (k)
			fputc(',', c->f);
		fput_json(warn->v[k], c->f);
	}
	fputc(']', c->f);
	/* a timeline: slices span wall-clock time; waits are slices of their own */
	for (i = 0, k = 0; i < n; i++)
		k |= cts[i].only != -2 && offcpu_present(cts[i].t);
	fprintf(c->f, ",\"clock\":\"wall\",\"clock_note\":\"%s\"", k ?
		"call slices span wall-clock time, waits included; off-CPU intervals are the "
		"'off-CPU (blocked)' and 'off-CPU (preempted)' slices within them" :
		"call slices span wall-clock time, waits included (no context switches recorded)");
	fprintf(c->f, ",\"processes\":%d,\"calls\":%" PRIu64 ",\"calls_written\":%" PRIu64
		     ",\"min_duration_ns\":%" PRIu64 ",\"heap_points\":%" PRIu64
		     ",\"rss_points\":%" PRIu64 "}}\n",
		n, c->ncalls, c->written, c->min_keep_ns == UINT64_MAX ? 0 : c->min_keep_ns,
		c->heap.points, c->rss.points);
}

/*
 * report_chrome - `perfshim-analyze chrome [--limit N] [--thread TID] [-o FILE] TRACE...`.
 * @t is the first trace; further ones in o->traces (a fork or exec tree) are opened here and
 * merged into the same timeline, each process under its pid, aligned by CLOCK_MONOTONIC.
 * Events per trace: metadata, calls (in start order), live-heap counter, marks. The kept
 * calls are held in memory to be sorted: 32 bytes each, at most 2 x --limit of them during
 * the walk (at most CHROME_SORT_MAX with a --limit above it, or 0).
 * Return: 0, or -1 after one error line.
 */
int report_chrome(struct trace *t, const struct opts *o)
{
	struct chrome c = { .first = true };
	uint64_t limit = o->limit < 0 ? CHROME_DEFAULT_LIMIT : (uint64_t)o->limit;
	uint64_t start = UINT64_MAX;
	int n = o->ntraces > 1 ? o->ntraces : 1, i, found = 0, ret = -1;
	struct ctrace *cts = xcalloc(n, sizeof(*cts));
	struct strv inc = { 0 }, warn = { 0 };
	char a[64], b[64], d[64];

	for (i = 0; i < n; i++) {
		struct ctrace *ct = &cts[i];

		ct->t = t;
		if (i) {
			if (trace_open(o->traces[i], &ct->t) < 0) {
				ct->t = NULL;
				goto out;
			}
			ct->owned = true;
		}
		ct->only = opts_thread(ct->t, o);
		found += ct->only != -2;
		ct->pid = ct->t->pid ? ct->t->pid : ct->t->hdr.pid;
		if (ct->t->hdr.start_mono_ns < start)
			start = ct->t->hdr.start_mono_ns;
	}
	if (!found) {
		__pr_log("error: ", "no thread %u in %s", o->thread_tid,
			 n > 1 ? "these traces" : t->path);
		goto out;
	}

	/* the one walk: durations of every call, the calls that may be written, marks and
	 * thread names; all threads are decoded (modules may be in any), the events of others
	 * skipped */
	c.hist = xcalloc(HIST_BUCKETS, sizeof(*c.hist));
	c.limit = limit;
	c.hold_max = limit && limit <= CHROME_SORT_MAX ? 2 * limit : CHROME_SORT_MAX;
	c.cts = cts;
	c.ncts = n;
	for (i = 0; i < n; i++) {
		struct ctrace *ct = &cts[i];

		ct->off_ns = ct->t->hdr.start_mono_ns - start;
		if (ct->only == -2)
			continue;
		c.cur = ct;
		/* which also keeps the heap's events for write_trace's replay: no walk of its own
		 * (without malloc recorded, the RSS samples: the replay draws them too) */
		replay_log_want(ct->t);
		if (replay_log_calls(ct->t, WALK_CALLS | WALK_OTHER, hist_event, &c) < 0)
			goto out;
		ct->sym = sym_open(ct->t);
		sym_set_demangle(ct->sym, o->demangle);
		ct->names = xcalloc(ct->t->nfuncs + 1, sizeof(*ct->names));
		ct->complete = chrome_notes(ct->t, &inc, &warn, n > 1);
	}
	c.min_keep_ns = pick_min_duration(&c, limit);
	/* of the held calls, those the final threshold keeps: what a walk collecting the calls
	 * at least that long gets, in the same (exit) order */
	if (!c.rewalk)
		drop_shorter(&c, c.min_keep_ns);
	/*
	 * Calls are sorted into start order in memory (32 bytes each); past CHROME_SORT_MAX
	 * (only with a --limit above it, or 0) they are written in exit order instead, which
	 * the format allows ("events do not have to be in timestamp-sorted order"). More than
	 * that many were never all held (hold_call): the second walk, write_trace's, writes
	 * them as they come.
	 */
	c.stream = kept_count(&c) > CHROME_SORT_MAX;

	c.f = export_open(o);
	if (!c.f)
		goto out;
	fputs("{\"traceEvents\":[", c.f);
	for (i = 0; i < n; i++)
		if (cts[i].only != -2 && write_trace(&c, &cts[i]) < 0)
			goto out_close;
	other_data(&c, cts, n, t, &inc, &warn);
	ret = 0;
	if (c.written < c.ncalls)
		pr_warn("chrome: wrote the %s longest of %s calls (%s left out: those shorter than "
			"%s); --limit N changes the cap of %s, --limit 0 writes all",
			fmt_value(a, sizeof(a), c.written, NULL),
			fmt_value(b, sizeof(b), c.ncalls, NULL),
			fmt_value(d, sizeof(d), c.ncalls - c.written, NULL),
			c.min_keep_ns == UINT64_MAX ? "any" :
			fmt_value((char[64]){ 0 }, 64, c.min_keep_ns, "ns"),
			fmt_value((char[64]){ 0 }, 64, limit, NULL));
out_close:
	if (export_close(c.f, o) < 0)
		ret = -1;
out:
	for (i = 0; i < n; i++)
		ctrace_free(&cts[i]);
	free(cts);
	free(c.hist);
	strv_free(&inc);
	strv_free(&warn);
	return ret;
}
