/* SPDX-License-Identifier: MIT */
/*
 * Off-CPU time: the intervals a thread spent switched out (SWITCH records, from the kernel's
 * context-switch records; preload/switches.c), read once per trace into sorted arrays with
 * prefix sums, so that "how long was this thread off-CPU within [a, b)" costs two binary
 * searches. A call's off-CPU self time is that of its span less that of its callees' spans:
 * what `functions` subtracts from self time (CPU self) and shows as wait.
 * The recorder writes the intervals when a chunk is written, after the events of their time,
 * so they are read in a pass of their own before the reports' walks. Reading the next chunk's
 * records ahead would not do: the steal of a call needs the CPU clock reading after it (at
 * the next chunk's start), and that reading goes on the calls' clock with the compensation of
 * the end of the call's own chunk, known only once its calls are decoded; a walk that places
 * the records itself must hold each call's off-CPU sums until then (docs/measurements.md,
 * the row of 2026-12-07, fold).
 */
#define PR_FMT "offcpu"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/offcpu.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"
#include "analyzer/walk.h"

struct offcpu_reading {		/* a CPUTIME record */
	uint64_t ns, raw_ns;		/* when: on the calls' clock, and as the clock read it */
	uint64_t cpu_ns;		/* the thread's CPU clock then */
};

struct offcpu_thread {
	struct offcpu_iv *iv;		/* sorted by start, not overlapping */
	uint32_t n, cap;
	uint64_t *cum;			/* cum[2 i + k]: kind-k time of iv[0..i) */
	/*
	 * Steal, from the CPU clock readings, sorted: between readings j and j + 1 the thread
	 * was on a CPU for o[j + 1] - o[j] ns (on-CPU time: its time less its intervals, from
	 * the thread's start), and its CPU clock counted less by steal[j + 1] - steal[j]; that
	 * is spread evenly over the on-CPU time between them (rate[j]).
	 */
	struct offcpu_reading *rd;
	uint32_t nrd, rd_cap;
	uint64_t *o, *steal;		/* per reading: on-CPU time before it, steal before it */
	double *rate;			/* per reading: the steal rate up to the next */
};

struct offcpu {
	struct offcpu_thread *th;	/* parallel to trace->threads */
	uint32_t nthreads;
};

static int on_switch(const struct trace_event *ev, void *ctx)
{
	struct offcpu *o = ctx;
	struct offcpu_thread *th;

	if (ev->type != EV_SWITCH || ev->thread >= o->nthreads)
		return 0;
	th = &o->th[ev->thread];
	if (ev->kind == TRACE_SWITCH_CPUTIME) {
		ARRAY_ROOM(th->rd, th->rd_cap, th->nrd);
		th->rd[th->nrd++] = (struct offcpu_reading){ ev->ns, ev->ns2, ev->size };
		return 0;
	}
	if (ev->ns2 <= ev->ns)
		return 0;
	ARRAY_ROOM(th->iv, th->cap, th->n);
	th->iv[th->n++] = (struct offcpu_iv){ ev->ns, ev->ns2,
					      ev->kind == TRACE_SWITCH_PREEMPTED };
	return 0;
}

static int cmp_iv(const void *a, const void *b)
{
	const struct offcpu_iv *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int cmp_rd(const void *a, const void *b)
{
	const struct offcpu_reading *x = a, *y = b;

	return x->ns < y->ns ? -1 : x->ns > y->ns;
}

static uint32_t first_after(const struct offcpu_thread *th, uint64_t a);

/* off-CPU time of @th before @x (both kinds) */
static uint64_t off_before(const struct offcpu_thread *th, uint64_t x)
{
	uint32_t i = first_after(th, x);
	uint64_t off = th->cum[2 * i] + th->cum[2 * i + 1];

	if (i < th->n && th->iv[i].start < x)
		off += x - th->iv[i].start;
	return off;
}

/*
 * The steal between readings: on-CPU time by the trace's clock less what the CPU clock
 * counted, scaled from the raw clock to the calls' (compensated) one when they differ (the
 * hooks' share of it went with their time). Readings that go back, or a CPU clock ahead of
 * the on-CPU time (the switch times are read a little late), give none.
 */
static void finish_steal(struct offcpu_thread *th)
{
	uint32_t j, m;

	if (th->nrd < 2)
		return;
	qsort(th->rd, th->nrd, sizeof(*th->rd), cmp_rd);
	m = th->nrd;
	th->o = xcalloc(m, sizeof(*th->o));
	th->steal = xcalloc(m, sizeof(*th->steal));
	th->rate = xcalloc(m, sizeof(*th->rate));
	/* on-CPU time never goes back: off_before grows at most as fast as time */
	for (j = 0; j < m; j++)
		th->o[j] = th->rd[j].ns - off_before(th, th->rd[j].ns);
	for (j = 0; j + 1 < m; j++) {
		const struct offcpu_reading *x = &th->rd[j], *y = &th->rd[j + 1];
		uint64_t on = th->o[j + 1] - th->o[j];
		uint64_t off = (y->ns - x->ns) - on, raw = y->raw_ns - x->raw_ns, u = 0;

		if (on && y->raw_ns >= x->raw_ns && raw > off && y->cpu_ns >= x->cpu_ns &&
		    raw - off > y->cpu_ns - x->cpu_ns) {
			u = raw - off - (y->cpu_ns - x->cpu_ns);
			if (raw - off != on)
				u = (uint64_t)((double)u * (double)on / (double)(raw - off));
			if (u > on)
				u = on;
			th->rate[j] = (double)u / (double)on;
		}
		th->steal[j + 1] = th->steal[j] + u;
	}
}

/* the steal of @th before on-CPU time @o (0 before its first reading, all after its last) */
static uint64_t steal_at_o(const struct offcpu_thread *th, uint64_t o)
{
	uint32_t lo;

	if (!th->o)
		return 0;
	lo = u64_upper(th->o, th->nrd, o);	/* the first reading after @o */
	if (!lo)
		return 0;
	if (lo == th->nrd)
		return th->steal[lo - 1];
	return offcpu_span_steal(th->steal[lo - 1], th->rate[lo - 1], o - th->o[lo - 1],
				 th->steal[lo] - th->steal[lo - 1]);
}

/* sorted, overlaps cut (never written so: a damaged or hand-made trace), prefix sums */
static void finish_thread(struct offcpu_thread *th)
{
	uint32_t i, k = 0;

	if (th->n)
		qsort(th->iv, th->n, sizeof(*th->iv), cmp_iv);
	for (i = 0; i < th->n; i++) {
		struct offcpu_iv v = th->iv[i];

		if (k && v.start < th->iv[k - 1].end)
			v.start = th->iv[k - 1].end;
		if (v.end > v.start)
			th->iv[k++] = v;
	}
	th->n = k;
	th->cum = xcalloc(2 * ((size_t)k + 1), sizeof(*th->cum));
	for (i = 0; i < k; i++) {
		th->cum[2 * (i + 1)] = th->cum[2 * i];
		th->cum[2 * (i + 1) + 1] = th->cum[2 * i + 1];
		th->cum[2 * (i + 1) + th->iv[i].kind] += th->iv[i].end - th->iv[i].start;
	}
	finish_steal(th);
}

static void free_thread(struct offcpu_thread *th)
{
	free(th->iv);
	free(th->cum);
	free(th->rd);
	free(th->o);
	free(th->steal);
	free(th->rate);
}

/** offcpu_present - whether @t recorded context switches (its times can be on-CPU). */
bool offcpu_present(const struct trace *t)
{
	return (t->hdr.flags & TRACE_F_SWITCHES) != 0;
}

/* A stream's intervals, read on a worker (-j: trace_walk_split) */
struct split_th {
	struct offcpu_thread th;
	uint32_t stream;
};

static int on_switch_own(const struct trace_event *ev, void *ctx)
{
	struct split_th *s = ctx;
	struct offcpu one = { &s->th, 1 };	/* its own table of one thread */
	struct trace_event e = *ev;

	e.thread = 0;
	return on_switch(&e, &one);
}

static void *split_begin(struct trace *part, uint32_t stream, void *arg)
{
	struct split_th *s = xcalloc(1, sizeof(*s));

	s->stream = stream;
	return s;
}

/* the stream's intervals move into the trace's table (@arg), in stream order */
static int split_merge(void *ctx, struct trace *t, const uint32_t *func, const uint32_t *stack,
		       void *arg)
{
	struct split_th *s = ctx;
	struct offcpu *o = arg;

	if (s->stream < o->nthreads) {
		o->th[s->stream] = s->th;
		memset(&s->th, 0, sizeof(s->th));
	}
	return 0;
}

static void split_drop(void *ctx, void *arg)
{
	struct split_th *s = ctx;

	free_thread(&s->th);
	free(s);
}

/**
 * offcpu_load - read the off-CPU intervals of every thread of @t, once (a walk of its own).
 * Return: 0 (also when the trace has none: offcpu_present), -1 when the walk failed
 * (reported by the reader).
 */
int offcpu_load(struct trace *t)
{
	struct offcpu *o;
	uint32_t i;
	int rc;

	if (t->offcpu || !offcpu_present(t))
		return 0;
	o = xcalloc(1, sizeof(*o));
	o->nthreads = t->nthreads;
	o->th = xcalloc(t->nthreads + 1, sizeof(*o->th));
	if (trace_split_worth(t)) {
		struct trace_split sp = { on_switch_own, split_begin, split_merge, split_drop, o };

		rc = trace_walk_split(t, WALK_SWITCHES, &sp);
	} else {
		rc = trace_walk(t, WALK_SWITCHES, -1, on_switch, o);
	}
	if (rc < 0) {
		t->offcpu = o;
		offcpu_free(t);
		return -1;
	}
	for (i = 0; i < o->nthreads; i++)
		finish_thread(&o->th[i]);
	t->offcpu = o;
	return 0;
}

/** offcpu_free - what offcpu_load read (trace_close calls it). */
void offcpu_free(struct trace *t)
{
	struct offcpu *o = t->offcpu;
	uint32_t i;

	if (!o)
		return;
	for (i = 0; i < o->nthreads; i++)
		free_thread(&o->th[i]);
	free(o->th);
	free(o);
	t->offcpu = NULL;
}

/**
 * offcpu_intervals - thread @thread's intervals, sorted (NULL and 0 when none or not loaded).
 */
const struct offcpu_iv *offcpu_intervals(const struct trace *t, uint32_t thread, uint32_t *n)
{
	const struct offcpu *o = t->offcpu;

	*n = 0;
	if (!o || thread >= o->nthreads)
		return NULL;
	*n = o->th[thread].n;
	return o->th[thread].iv;
}

/* first interval of @th ending after @a (ends are sorted as the starts are) */
static uint32_t first_after(const struct offcpu_thread *th, uint64_t a)
{
	uint32_t lo = 0, hi = th->n;

	while (lo < hi) {
		uint32_t m = lo + (hi - lo) / 2;

		if (th->iv[m].end > a)
			hi = m;
		else
			lo = m + 1;
	}
	return lo;
}

/* first interval of @th starting at or after @b */
static uint32_t first_from(const struct offcpu_thread *th, uint64_t b)
{
	uint32_t lo = 0, hi = th->n;

	while (lo < hi) {
		uint32_t m = lo + (hi - lo) / 2;

		if (th->iv[m].start >= b)
			hi = m;
		else
			lo = m + 1;
	}
	return lo;
}

/**
 * offcpu_steal - the steal of all threads of @t (ns its threads were on a CPU by the trace's
 * clock beyond what their CPU clocks counted), and in *@readings how many CPU clock readings
 * it comes from (0: the trace has none, from a recorder before them or without switches).
 */
uint64_t offcpu_steal(const struct trace *t, uint64_t *readings)
{
	const struct offcpu *o = t->offcpu;
	uint64_t sum = 0;
	uint32_t i;

	*readings = 0;
	for (i = 0; o && i < o->nthreads; i++) {
		*readings += o->th[i].nrd;
		if (o->th[i].steal)
			sum += o->th[i].steal[o->th[i].nrd - 1];
	}
	return sum;
}

/**
 * offcpu_within - how long thread @thread was off-CPU within [@a, @b): @out[0] blocked
 * (voluntary), @out[1] preempted (involuntary: the kernel's preemptions, and the steal its
 * CPU clock shows), in ns. Zero when nothing is loaded.
 */
void offcpu_within(const struct trace *t, uint32_t thread, uint64_t a, uint64_t b,
		   uint64_t out[2])
{
	const struct offcpu *o = t->offcpu;
	const struct offcpu_thread *th;
	uint32_t lo, hi;

	out[0] = out[1] = 0;
	if (!o || thread >= o->nthreads || b <= a)
		return;
	th = &o->th[thread];
	if (th->o)
		out[1] = steal_at_o(th, b - off_before(th, b)) - steal_at_o(th, a - off_before(th, a));
	lo = first_after(th, a);
	hi = first_from(th, b);
	if (lo >= hi)
		return;
	out[0] = th->cum[2 * hi] - th->cum[2 * lo];
	out[1] += th->cum[2 * hi + 1] - th->cum[2 * lo + 1];
	if (th->iv[lo].start < a)
		out[th->iv[lo].kind] -= a - th->iv[lo].start;
	if (th->iv[hi - 1].end > b)
		out[th->iv[hi - 1].kind] -= th->iv[hi - 1].end - b;
}

/*
 * @acc's window [q_lo, q_hi), the gap between intervals that a call's end @b is in (or the
 * one after the interval it is in), narrowed to one steal rate: on-CPU time there is
 * x - q_off, in the span between two readings that holds that of max(@b, q_lo).
 */
static void steal_window(const struct offcpu_thread *th, struct offcpu_acc *acc, uint64_t b)
{
	uint64_t x = b > acc->q_lo ? b : acc->q_lo, lo, hi;
	uint32_t l = u64_upper(th->o, th->nrd, x - acc->q_off);

	lo = l ? th->o[l - 1] + acc->q_off : 0;
	hi = l < th->nrd ? th->o[l] + acc->q_off : UINT64_MAX;
	if (lo > acc->q_lo)
		acc->q_lo = lo;
	if (hi < acc->q_hi)
		acc->q_hi = hi;
	acc->s_o = l ? th->o[l - 1] : 0;
	acc->s_base = l ? th->steal[l - 1] : 0;
	if (l && l < th->nrd) {
		acc->s_rate = th->rate[l - 1];
		acc->s_max = th->steal[l] - th->steal[l - 1];
	}
}

/**
 * offcpu_exit - a call of thread @thread at @depth over [@a, @b) closed (calls close
 * innermost first, a thread's calls together): its off-CPU time outside its callees' spans
 * into @self (blocked, preempted), and that within all of [@a, @b) into *@whole (as
 * offcpu_within gives it, both kinds). @acc carries the callees' sums from call to call;
 * zero it before the first call, offcpu_acc_free it after the last.
 */
void offcpu_exit(const struct trace *t, struct offcpu_acc *acc, uint32_t thread,
		 uint32_t depth, uint64_t a, uint64_t b, uint64_t self[2], uint64_t *whole)
{
	const struct offcpu *o = t->offcpu;
	const struct offcpu_thread *th;
	uint64_t in[2];
	uint32_t hi;
	int k;

	if (!acc->used || acc->thread != thread) {
		if (acc->child)
			memset(acc->child, 0, acc->cap * sizeof(*acc->child));
		acc->thread = thread;
		acc->next = 0;
		acc->used = true;
	}
	ARRAY_GROW_ZERO(acc->child, acc->cap, depth + 2);
	acc->q_lo = 0;
	acc->q_hi = UINT64_MAX;
	acc->q_off = acc->s_base = acc->s_o = acc->s_max = 0;
	acc->s_rate = 0;
	if (!o || thread >= o->nthreads) {
		in[0] = in[1] = 0;
	} else if (b <= a) {
		in[0] = in[1] = 0;
		acc->q_hi = 0;	/* not a window: the next call searches */
	} else {
		/* the intervals starting before @b end at iv[hi - 1]: when that one ended by
		 * @a, none is within [a, b) (they do not overlap) */
		th = &o->th[thread];
		hi = acc->next;
		while (hi < th->n && th->iv[hi].start < b)
			hi++;
		while (hi && th->iv[hi - 1].start >= b)
			hi--;
		acc->next = hi;
		acc->q_lo = hi ? th->iv[hi - 1].end : 0;
		acc->q_hi = hi < th->n ? th->iv[hi].start : UINT64_MAX;
		acc->q_off = th->cum[2 * hi] + th->cum[2 * hi + 1];
		if (th->o)
			steal_window(th, acc, b);
		if (!th->o && (!hi || th->iv[hi - 1].end <= a))
			in[0] = in[1] = 0;
		else
			offcpu_within(t, thread, a, b, in);
	}
	*whole = in[0] + in[1];
	for (k = 0; k < 2; k++) {
		uint64_t c = acc->child[depth + 1][k];

		self[k] = in[k] > c ? in[k] - c : 0;
		acc->child[depth + 1][k] = 0;
		acc->child[depth][k] += in[k];
	}
}

void offcpu_acc_free(struct offcpu_acc *acc)
{
	free(acc->child);
	memset(acc, 0, sizeof(*acc));
}

/**
 * offcpu_note - what every report says about @t's times, or NULL when they are on-CPU
 * times with nothing missing. Written into @buf (@len bytes).
 */
const char *offcpu_note(const struct trace *t, char *buf, size_t len)
{
	if (!offcpu_present(t)) {
		if (!t->switch_absent)
			return NULL;	/* a trace from before context switches: as it was */
		snprintf(buf, len, "times are wall-clock: the kernel refused context-switch "
			 "records (perf_event_open: %s)", strerror(t->switch_errno));
		return buf;
	}
	if (t->switch_absent) {
		snprintf(buf, len, "%u thread%s without context-switch records (%s): %s times "
			 "are wall-clock", t->switch_absent, t->switch_absent == 1 ? "" : "s",
			 strerror(t->switch_errno), t->switch_absent == 1 ? "its" : "their");
		return buf;
	}
	if (t->switch_lost) {
		snprintf(buf, len, "%llu context-switch records were dropped by the kernel (ring "
			 "full): some off-CPU time is counted as CPU time",
			 (unsigned long long)t->switch_lost);
		return buf;
	}
	return NULL;
}
