/* SPDX-License-Identifier: MIT */
/*
 * Walks split over the cores (-j): each stream (a thread's chunks, or a signal-mark stream)
 * is decoded by a worker on a copy of the reader's learning tables (functions, stacks,
 * known entries, marks, totals), and the copies are merged into the trace stream by stream,
 * in file order, after every worker is done: function and stack ids then come out as one
 * core's walk gives them (docs/design.md "Parallel analysis" explains why the merge is
 * exact). Workers share only what no walk writes (the chunk index, the module map, the
 * file), and each stream's own decoding state (struct tstate); no lock is taken.
 */
#define PR_FMT "read"
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/trace-priv.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"
#include "analyzer/walk.h"

static unsigned jobs;			/* trace_set_jobs; 0: every online core */

/** trace_set_jobs - walks of every stream use up to @n cores (0: all; 1: the caller's). */
void trace_set_jobs(unsigned n)
{
	jobs = n;
}

/** trace_jobs - the cores trace_walk_split uses: -j, or every online core. */
unsigned trace_jobs(void)
{
	long n;

	if (jobs)
		return jobs;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 1 ? (unsigned)(n < 1024 ? n : 1024) : 1;
}

/**
 * trace_walk_warn - a walk's warning: said at once, or on a copy walked by a worker held
 * until the merge says it, in stream order (so stderr is one core's too).
 */
void trace_walk_warn(struct trace *t, bool impossible, const char *fmt, ...)
{
	struct reader *r = R(t);
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return;
	if (!r->clog_on) {
		pr_warn("%s", msg);
		free(msg);
		return;
	}
	ARRAY_ROOM(r->held, r->held_cap, r->nheld);
	r->held[r->nheld++] = (struct trace_held){ msg, impossible };
}

/* One stream's walk: a copy of the trace and its reader whose learning tables start empty. */
struct part {
	struct trace t;
	struct reader r;
	uint32_t stream;
	int rc;
	void *ctx;			/* trace_split.begin's */
};

/* @p as a copy of @t for a walk of stream @s: what walks only read is shared */
static void part_init(struct part *p, const struct trace *t, uint32_t s)
{
	struct trace *c = &p->t;
	struct reader *r = &p->r;

	*c = *t;
	*r = *R(t);
	c->priv = r;
	c->funcs = NULL;
	c->func_module = NULL;
	c->nfuncs = 0;
	c->marks = NULL;
	c->nmarks = 0;
	c->exe = c->cmdline = NULL;
	c->nevents = c->ncalls = c->nallocs = c->nfrees = c->nreallocs = c->nlost = 0;
	c->sample_bytes = c->sample_var = 0;
	c->nsamples = 0;
	c->damaged_chunks = c->damaged_bytes = 0;
	c->bad_sizes = c->bad_counts = 0;
	c->switch_absent = 0;
	c->switch_errno = 0;
	c->switch_lost = 0;
	memset(&r->fhash, 0, sizeof(r->fhash));
	r->funcs_cap = 0;
	r->func_file = NULL;
	r->func_key = NULL;
	r->gs_cap = 16;
	r->gs = xcalloc(r->gs_cap, sizeof(*r->gs));
	r->gframes = xcalloc(r->gs_cap, sizeof(*r->gframes));
	r->gnframes = xcalloc(r->gs_cap, sizeof(*r->gnframes));
	r->ngs = 1;
	memset(&r->ghash, 0, sizeof(r->ghash));
	r->entries = NULL;
	r->nentries = r->nsorted = r->entries_cap = 0;
	memset(&r->ehash, 0, sizeof(r->ehash));
	r->marks_cap = 0;
	r->progress = NULL;
	r->bytes_read = r->bytes_total = 0;
	r->clog_on = true;
	r->clog = NULL;
	r->nclog = r->clog_cap = 0;
	r->held = NULL;
	r->nheld = r->held_cap = 0;
	p->stream = s;
}

static void part_free(struct part *p)
{
	uint32_t i;

	free(p->t.funcs);
	free(p->t.func_module);
	for (i = 0; i < p->t.nmarks; i++)
		free(p->t.marks[i].label);
	free(p->t.marks);
	free(p->t.exe);
	free(p->t.cmdline);
	free(p->r.func_file);
	free(p->r.func_key);
	ixmap_free(&p->r.fhash);
	free(p->r.gs);
	free(p->r.gframes);		/* no stack of a copy is materialized */
	free(p->r.gnframes);
	ixmap_free(&p->r.ghash);
	free(p->r.entries);
	ixmap_free(&p->r.ehash);
	free(p->r.clog);
	for (i = 0; i < p->r.nheld; i++)
		free(p->r.held[i].msg);
	free(p->r.held);
}

/*
 * part_merge - what stream @p learned, into @t as its walk on one core would have added it:
 * functions and stacks in the order the copy met them (the first sight of each in this
 * stream is where one core's walk adds those still unknown), marks, process info and totals.
 * Return: in *@fmap and *@smap (free them) the trace's id of each of the copy's functions
 * and stacks.
 */
static void part_merge(struct trace *t, struct part *p, uint32_t **fmap, uint32_t **smap)
{
	struct reader *r = R(t), *pr = &p->r;
	struct trace *c = &p->t;
	uint32_t i, *f, *s;

	f = xmalloc((c->nfuncs + 1) * sizeof(*f));
	for (i = 0; i < c->nfuncs; i++)
		f[i] = trace_func_intern(t, r, c->funcs[i], c->func_module[i]);
	s = xmalloc(pr->ngs * sizeof(*s));
	s[0] = 0;
	for (i = 1; i < pr->ngs; i++)	/* a stack comes after its parent */
		s[i] = trace_gstack_intern(t, r, s[pr->gs[i].parent], pr->gs[i].ip,
					   pr->gs[i].is_ra, pr->gs[i].module);
	for (i = 0; i < pr->nentries; i++)	/* a set: its order does not matter */
		trace_entry_add(r, pr->entries[i]);
	for (i = 0; i < c->nmarks; i++) {
		ARRAY_ROOM(t->marks, r->marks_cap, t->nmarks);
		t->marks[t->nmarks++] = c->marks[i];	/* the label moves */
	}
	c->nmarks = 0;
	if (c->exe) {			/* a PROCESS record: the last one read wins */
		free(t->exe);
		free(t->cmdline);
		t->exe = c->exe;
		t->cmdline = c->cmdline;
		t->pid = c->pid;
		t->ppid = c->ppid;
		c->exe = c->cmdline = NULL;
	}
	t->nevents += c->nevents;
	t->ncalls += c->ncalls;
	t->nallocs += c->nallocs;
	t->nfrees += c->nfrees;
	t->nreallocs += c->nreallocs;
	t->nsamples += c->nsamples;
	t->bad_sizes += c->bad_sizes;
	t->bad_counts += c->bad_counts;
	for (i = 0; i < pr->nclog; i++)
		trace_count_add(t, pr->clog[i].lost, pr->clog[i].sbytes, pr->clog[i].svar);
	t->damaged_chunks += c->damaged_chunks;
	t->damaged_bytes += c->damaged_bytes;
	t->switch_lost += c->switch_lost;
	t->switch_absent += c->switch_absent;
	if (!t->switch_errno)
		t->switch_errno = c->switch_errno;
	for (i = 0; i < pr->nheld; i++) {
		struct trace_held *w = &pr->held[i];

		if (w->impossible && r->warned_impossible)
			continue;	/* an earlier stream said it: one core says it once */
		r->warned_impossible |= w->impossible;
		pr_warn("%s", w->msg);
	}
	*fmap = f;
	*smap = s;
}

struct worker {
	pthread_t id;
	struct part **parts;		/* its streams, in the order it walks them */
	uint32_t n;
	unsigned flags;
	trace_event_fn fn;
	double cpu_s;			/* its CPU time (-v: the split's figures) */
};

/* CPU time of the calling thread, s */
static double thread_cpu(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	double t0 = thread_cpu();
	uint32_t i;

	for (i = 0; i < w->n; i++) {
		struct part *p = w->parts[i];

		p->rc = trace_walk_streams(&p->t, w->flags, p->stream, p->stream + 1, w->fn, p->ctx);
	}
	w->cpu_s += thread_cpu() - t0;
	return NULL;
}

/** trace_split_worth - whether trace_walk_split would use more than one core on @t. */
bool trace_split_worth(const struct trace *t)
{
	uint32_t i, n = 0;

	if (trace_jobs() < 2)
		return false;
	for (i = 0; i < t->nthreads + R(t)->npseudo; i++)
		n += t->threads[i].nchunks && t->threads[i].bytes;
	return n >= 2;
}

/*
 * The streams dealt to @nw workers, the largest first to the least loaded (by payload
 * bytes; ties to the lower index): fixed before any starts, so no worker takes work from
 * a queue another one writes.
 */
static void deal(const struct trace *t, struct part *parts, uint32_t n, struct worker *w,
		 uint32_t nw)
{
	uint64_t *load = xcalloc(nw, sizeof(*load));
	uint32_t *order = xmalloc((n + 1) * sizeof(*order)), i, j, k;

	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = 1; i < n; i++) {	/* insertion sort by bytes, descending: few streams */
		uint32_t v = order[i];
		uint64_t b = t->threads[parts[v].stream].bytes;

		for (j = i; j > 0 && t->threads[parts[order[j - 1]].stream].bytes < b; j--)
			order[j] = order[j - 1];
		order[j] = v;
	}
	for (i = 0; i < n; i++) {
		struct part *p = &parts[order[i]];

		for (k = 0, j = 1; j < nw; j++)
			if (load[j] < load[k])
				k = j;
		load[k] += t->threads[p->stream].bytes + 1;
		w[k].parts[w[k].n++] = p;
	}
	free(order);
	free(load);
}

/* run the workers (the first on the calling thread) and wait for them all */
static void run_workers(struct worker *w, uint32_t nw)
{
	uint32_t i;

	for (i = 1; i < nw; i++)
		if (pthread_create(&w[i].id, NULL, work, &w[i]) != 0) {
			pr_dbg(1, "worker %u not started: its streams are walked here", i);
			w[i].id = pthread_self();
		}
	work(&w[0]);
	for (i = 1; i < nw; i++) {
		if (pthread_equal(w[i].id, pthread_self()))
			work(&w[i]);
		else
			pthread_join(w[i].id, NULL);
	}
	for (i = 0; i < nw; i++)
		pr_dbg(1, "split walk: worker %u: %u streams, %.3f s CPU", i, w[i].n, w[i].cpu_s);
}

/**
 * trace_walk_split - trace_walk(@t, @flags, -1, sp->fn, ...) with the streams walked on up
 * to trace_jobs() cores: each stream's events go to its own context (sp->begin, on the
 * calling thread before the walks), whose function and stack ids are the copy's; once all
 * are walked, sp->merge gets each context in stream order with the maps to the trace's ids,
 * and sp->drop frees every context. @flags may not hold WALK_MERGED.
 * Return: 0, or the first failed stream's trace_walk result (-1: reported).
 */
int trace_walk_split(struct trace *t, unsigned flags, const struct trace_split *sp)
{
	uint32_t n = t->nthreads + R(t)->npseudo, nw = trace_jobs(), i;
	struct part *parts = xcalloc(n + 1, sizeof(*parts));
	struct worker *w;
	double t0;
	int rc = 0;

	t->walks++;
	if (nw > n)
		nw = n ? n : 1;
	w = xcalloc(nw, sizeof(*w));
	for (i = 0; i < nw; i++) {
		w[i].parts = xmalloc((n + 1) * sizeof(*w[i].parts));
		w[i].flags = flags & ~WALK_MERGED;
		w[i].fn = sp->fn;
	}
	for (i = 0; i < n; i++) {
		part_init(&parts[i], t, i);
		parts[i].ctx = sp->begin(&parts[i].t, i, sp->arg);
	}
	deal(t, parts, n, w, nw);
	run_workers(w, nw);
	t0 = thread_cpu();
	for (i = 0; i < n && !rc; i++) {
		uint32_t *fmap, *smap;

		rc = parts[i].rc;
		part_merge(t, &parts[i], &fmap, &smap);
		if (!rc)
			rc = sp->merge(parts[i].ctx, t, fmap, smap, sp->arg);
		free(fmap);
		free(smap);
	}
	if (!rc)
		trace_walk_complete(t);
	pr_dbg(1, "split walk: merge of %u streams: %.3f s CPU", n, thread_cpu() - t0);
	for (i = 0; i < n; i++) {
		sp->drop(parts[i].ctx, sp->arg);
		part_free(&parts[i]);
	}
	for (i = 0; i < nw; i++)
		free(w[i].parts);
	free(w);
	free(parts);
	return rc;
}
