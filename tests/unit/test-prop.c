/* SPDX-License-Identifier: MIT */
/*
 * Property tests: random but valid programs (tgr_random: call trees over several threads,
 * allocations, frees, reallocs, cross-thread frees, marks, dlopen/dlclose) written as traces,
 * then every report's JSON (and the folded and Chrome exports) checked against invariants and
 * against the program's own memory model, with integer equality. On a failure the seed is
 * printed, the stream is shrunk (tgr_shrink) while the same invariant still fails, and the
 * small stream is printed. PERFSHIM_PROP_RUNS=N checks N seeds (default 100) from
 * PERFSHIM_PROP_SEED (default 1). docs/testing.md lists the invariants.
 */
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner/json-read.h"
#include "tests/unit/testutil.h"
#include "tests/unit/tracegen-random.h"

#define MAX_NAMES 256

static char trace_path[64], out_path[64];

/* what a check found: the invariant's name (the shrinker keeps it failing) and the detail */
struct verdict {
	const char *rule;
	char why[512];
};

static bool broke(struct verdict *v, const char *rule, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static bool broke(struct verdict *v, const char *rule, const char *fmt, ...)
{
	va_list ap;

	if (v->rule)
		return false;
	v->rule = rule;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
	return false;
}

/* a report's JSON document, or NULL with the verdict set */
static struct jv *report_json(struct trace *t, tu_report_fn fn, struct opts *o,
			      struct verdict *v, const char *what)
{
	struct jv *doc = NULL;
	char err[128];
	char *text;
	int rc;

	o->format = FMT_JSON;
	o->ntraces = 1;
	o->traces = (const char **)&t->path;
	text = tu_capture(fn, t, o, out_path, &rc);
	if (rc)
		broke(v, "report-fails", "%s returned %d", what, rc);
	else if (jr_parse(text, strlen(text), &doc, err, sizeof(err)) < 0)
		broke(v, "json-valid", "%s: %s", what, err);
	free(text);
	return doc;
}

static uint64_t u64_of(const struct jv *obj, const char *key)
{
	uint64_t x = UINT64_MAX;

	jr_u64(jr_get(obj, key), &x);
	return x;
}

/* per function name: what the function table says, and the sums other views give */
struct fn_row {
	const char *name;
	uint64_t calls, total, self, min, max;
	uint64_t cpu_self;		/* CPU self where the trace has switches, else self */
	uint64_t tree_calls, tree_self, tree_total, folded_self;
	uint64_t chrome_calls, chrome_min, chrome_max;
};
struct fn_table {
	struct fn_row r[MAX_NAMES];
	unsigned n;
};

static struct fn_row *fn_find(struct fn_table *ft, const char *name)
{
	unsigned i;

	for (i = 0; i < ft->n; i++)
		if (!strcmp(ft->r[i].name, name))
			return &ft->r[i];
	return NULL;
}

/* functions: self <= total, min <= p50 <= p99 <= max, each call no longer than the trace */
static bool check_functions(const struct jv *doc, uint64_t duration, struct fn_table *ft,
			    struct verdict *v)
{
	const struct jv *fs = jr_get(doc, "functions");
	uint32_t i;

	for (i = 0; i < jr_len(fs) && ft->n < MAX_NAMES; i++) {
		const struct jv *f = jr_at(fs, i);
		struct fn_row *r = &ft->r[ft->n++];
		uint64_t p50 = u64_of(f, "p50_ns"), p99 = u64_of(f, "p99_ns");

		memset(r, 0, sizeof(*r));
		r->name = jr_str(jr_get(f, "name"));
		r->calls = u64_of(f, "calls");
		r->total = u64_of(f, "total_ns");
		r->self = u64_of(f, "self_ns");
		r->cpu_self = jr_get(f, "cpu_self_ns") ? u64_of(f, "cpu_self_ns") : r->self;
		r->min = u64_of(f, "min_ns");
		r->max = u64_of(f, "max_ns");
		r->chrome_min = UINT64_MAX;
		if (r->self > r->total)
			return broke(v, "self<=total", "%s: self %llu > total %llu", r->name,
				    (unsigned long long)r->self, (unsigned long long)r->total);
		if (!(r->min <= p50 && p50 <= p99 && p99 <= r->max))
			return broke(v, "min<=p50<=p99<=max", "%s", r->name);
		if (r->max > duration || r->total > duration * r->calls)
			return broke(v, "call<=duration", "%s: max %llu, duration %llu", r->name,
				    (unsigned long long)r->max, (unsigned long long)duration);
	}
	return true;
}

/* callgraph: each node's self + its children's totals == its total; the sums per function */
static bool check_callgraph(const struct jv *doc, struct fn_table *ft, struct verdict *v)
{
	const struct jv *nodes = jr_get(doc, "nodes");
	uint32_t n = jr_len(nodes), i, j;
	uint64_t *child = calloc(n + 1, sizeof(*child)), roots = 0;
	bool ok = true;

	for (i = 0; i < n; i++) {
		const struct jv *nd = jr_at(nodes, i);
		uint64_t parent = u64_of(nd, "parent");

		if (parent == 0)
			roots += u64_of(nd, "total_ns");
		for (j = 0; j < n; j++)
			if (u64_of(jr_at(nodes, j), "id") == parent)
				child[j] += u64_of(nd, "total_ns");
	}
	if (roots != u64_of(doc, "total_ns"))
		ok = broke(v, "tree-root", "roots %llu, total_ns %llu", (unsigned long long)roots,
			  (unsigned long long)u64_of(doc, "total_ns"));
	for (i = 0; ok && i < n; i++) {
		const struct jv *nd = jr_at(nodes, i);
		const char *name = jr_str(jr_get(nd, "name"));
		uint64_t total = u64_of(nd, "total_ns"), self = u64_of(nd, "self_ns"), p;
		struct fn_row *r = fn_find(ft, name);
		bool outer = true;

		if (child[i] > total)
			ok = broke(v, "children<=parent", "node %s: children %llu > total %llu", name,
				  (unsigned long long)child[i], (unsigned long long)total);
		else if (self + child[i] != total)
			ok = broke(v, "self+children=total", "node %s: %llu + %llu != %llu", name,
				  (unsigned long long)self, (unsigned long long)child[i],
				  (unsigned long long)total);
		if (!ok)
			break;
		if (!r) {
			ok = broke(v, "tree-names", "node %s not in the function table", name);
			break;
		}
		r->tree_calls += u64_of(nd, "calls");
		r->tree_self += self;
		/* a recursive call's time is in its outer activation already */
		for (p = u64_of(nd, "parent"); p && outer;) {
			for (j = 0; j < n && u64_of(jr_at(nodes, j), "id") != p; j++)
				;
			if (j == n)
				break;
			outer = strcmp(jr_str(jr_get(jr_at(nodes, j), "name")), name) != 0;
			p = u64_of(jr_at(nodes, j), "parent");
		}
		if (outer)
			r->tree_total += total;
	}
	free(child);
	for (i = 0; ok && i < ft->n; i++) {
		struct fn_row *r = &ft->r[i];

		if (r->tree_calls != r->calls || r->tree_self != r->self ||
		    r->tree_total != r->total)
			ok = broke(v, "tree=functions", "%s: tree calls/self/total %llu/%llu/%llu, "
				  "table %llu/%llu/%llu", r->name, (unsigned long long)r->tree_calls,
				  (unsigned long long)r->tree_self, (unsigned long long)r->tree_total,
				  (unsigned long long)r->calls, (unsigned long long)r->self,
				  (unsigned long long)r->total);
	}
	return ok;
}

/* folded stacks of @metric: the sum of the counts, and (time) each leaf's sum into ft */
static bool folded(struct trace *t, const char *metric, struct fn_table *ft, uint64_t *sum,
		   struct verdict *v)
{
	struct opts o = tu_opts();
	char *text, *line, *save;
	int rc;

	o.folded = 1;
	o.metric = metric;
	o.ntraces = 1;
	o.traces = (const char **)&t->path;
	text = tu_capture(report_flamegraph, t, &o, out_path, &rc);
	*sum = 0;
	if (rc) {
		free(text);
		return broke(v, "report-fails", "flamegraph --folded --metric=%s: %d", metric, rc);
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strrchr(line, ' '), *leaf;
		uint64_t c;

		if (!sp || *line == '#')
			continue;
		c = strtoull(sp + 1, NULL, 10);
		*sum += c;
		*sp = '\0';
		leaf = strrchr(line, ';') ? strrchr(line, ';') + 1 : line;
		if (ft) {
			struct fn_row *r = fn_find(ft, leaf);

			if (!r) {
				broke(v, "folded-names", "leaf %s not in the function table", leaf);
				break;
			}
			r->folded_self += c;
		}
	}
	free(text);
	return !v->rule;
}

/* the SVG flame graph of @metric: the value of its root frame "all" (no frame is wider) */
static bool svg_root(struct trace *t, const char *metric, uint64_t *root, struct verdict *v)
{
	static const char tag[] = "<g class=\"f\" data-v=\"", all[] = "\" data-n=\"all\"";
	struct opts o = tu_opts();
	char *text, *p;
	bool first = true;
	int rc;

	o.metric = metric;
	o.ntraces = 1;
	o.traces = (const char **)&t->path;
	text = tu_capture(report_flamegraph, t, &o, out_path, &rc);
	*root = 0;
	if (rc)
		broke(v, "report-fails", "flamegraph --metric=%s: %d", metric, rc);
	for (p = text; !v->rule && (p = strstr(p, tag)) != NULL; first = false) {
		uint64_t val = strtoull(p + sizeof(tag) - 1, &p, 10);

		if (first && strncmp(p, all, sizeof(all) - 1))
			broke(v, "svg-root", "the first frame is not \"all\"");
		else if (first)
			*root = val;
		else if (val > *root)
			broke(v, "svg-root", "a frame of %llu is wider than the root's %llu",
			      (unsigned long long)val, (unsigned long long)*root);
	}
	if (!v->rule && first)
		broke(v, "svg-root", "no frames in the SVG (metric %s)", metric);
	free(text);
	return !v->rule;
}

/* chrome: one X event per call, their durations the table's min and max (ns exactly) */
static bool check_chrome(struct trace *t, struct fn_table *ft, struct verdict *v)
{
	struct opts o = tu_opts();
	const struct jv *evs;
	struct jv *doc = NULL;
	char err[128], *text;
	uint32_t i;
	int rc;

	o.ntraces = 1;
	o.traces = (const char **)&t->path;
	text = tu_capture(report_chrome, t, &o, out_path, &rc);
	if (rc || jr_parse(text, strlen(text), &doc, err, sizeof(err)) < 0) {
		free(text);
		return broke(v, "chrome-valid", "chrome: rc %d, %s", rc, rc ? "" : err);
	}
	free(text);
	evs = jr_get(doc, "traceEvents");
	for (i = 0; i < jr_len(evs); i++) {
		const struct jv *e = jr_at(evs, i);
		const char *ph = jr_str(jr_get(e, "ph"));
		struct fn_row *r;
		uint64_t dur;

		if (!ph || strcmp(ph, "X"))
			continue;
		if (jr_str(jr_get(e, "cat")) && !strcmp(jr_str(jr_get(e, "cat")), "off-cpu"))
			continue;	/* an off-CPU interval's slice, not a call */
		r = fn_find(ft, jr_str(jr_get(e, "name")));
		if (!r) {
			broke(v, "chrome-names", "%s not in the function table",
			     jr_str(jr_get(e, "name")));
			break;
		}
		dur = (uint64_t)llround(jr_get(e, "dur")->num * 1000);
		r->chrome_calls++;
		if (dur < r->chrome_min)
			r->chrome_min = dur;
		if (dur > r->chrome_max)
			r->chrome_max = dur;
	}
	jr_free(doc);
	for (i = 0; !v->rule && i < ft->n; i++) {
		struct fn_row *r = &ft->r[i];

		if (r->chrome_calls != r->calls || r->chrome_min != r->min ||
		    r->chrome_max != r->max)
			broke(v, "chrome=functions", "%s: chrome %llu calls %llu..%llu ns, table "
			     "%llu calls %llu..%llu ns", r->name, (unsigned long long)r->chrome_calls,
			     (unsigned long long)r->chrome_min, (unsigned long long)r->chrome_max,
			     (unsigned long long)r->calls, (unsigned long long)r->min,
			     (unsigned long long)r->max);
	}
	return !v->rule;
}

#define EQ(rule, a, b)                                                                     \
	((a) == (b) ? true : broke(v, rule, "%s = %llu, %s = %llu", #a,                     \
				  (unsigned long long)(a), #b, (unsigned long long)(b)))

/* memory: its totals against the model; allocated - freed = live; peak >= live */
static bool check_memory(struct trace *t, const struct tgr_model *m, struct verdict *v)
{
	struct opts o = tu_opts();
	struct jv *doc = report_json(t, report_memory, &o, v, "memory");
	uint64_t alloc, freed, live, blocks, peak, allocs, frees, sum, lost;
	bool ok;

	if (!doc)
		return false;
	alloc = u64_of(doc, "bytes_allocated");
	freed = u64_of(doc, "bytes_freed");
	live = u64_of(doc, "live_at_end_bytes");
	blocks = u64_of(doc, "live_at_end_blocks");
	peak = u64_of(doc, "peak_bytes");
	allocs = u64_of(doc, "allocations");
	frees = u64_of(doc, "frees");
	/* a block allocated again at its address while live was freed unseen: a lost free,
	 * counted (lost_frees) but not in bytes_freed */
	lost = u64_of(doc, "lost_frees");
	jr_free(doc);
	ok = (lost || (EQ("allocated-freed=live", alloc - freed, live) &&
		       EQ("allocs-frees=live-blocks", allocs - frees, blocks))) &&
	     (peak >= live || broke(v, "peak>=live", "peak %llu < live %llu",
				   (unsigned long long)peak, (unsigned long long)live)) &&
	     (!m || (EQ("memory=model", alloc, m->bytes_allocated) &&
	     EQ("memory=model", freed, m->bytes_freed) &&
	     EQ("memory=model", allocs, m->allocs) && EQ("memory=model", frees, m->frees) &&
	     EQ("memory=model", peak, m->peak_bytes) && EQ("memory=model", live, m->live_bytes)));
	if (!ok)
		return false;
	/* the flame graph's memory metrics are the same totals */
	if (!folded(t, "alloc-bytes", NULL, &sum, v) || !EQ("folded=memory", sum, alloc))
		return false;
	if (!folded(t, "alloc-count", NULL, &sum, v) || !EQ("folded=memory", sum, allocs))
		return false;
	if (alloc && (!svg_root(t, "alloc-bytes", &sum, v) || !EQ("svg=memory", sum, alloc)))
		return false;
	return folded(t, "leaked", NULL, &sum, v) && EQ("folded=memory", sum, live);
}

/* at every mark: allocated - freed since start = live then = the model's; peak >= it */
static bool check_marks(struct trace *t, const struct tgr_model *m, struct verdict *v)
{
	uint32_t k;

	for (k = 0; k < m->nmarks; k++) {
		struct opts o = tu_opts();
		struct jv *doc;
		uint64_t alloc, freed, live, blocks, from;

		o.from = "start";
		o.to = m->marks[k].label;
		doc = report_json(t, report_diff, &o, v, "diff");
		if (!doc)
			return false;
		alloc = u64_of(doc, "allocated_bytes");
		freed = u64_of(doc, "freed_bytes");
		live = u64_of(doc, "live_at_to_bytes");
		blocks = u64_of(doc, "live_at_to_blocks");
		from = u64_of(doc, "live_at_from_bytes");
		jr_free(doc);
		if (!EQ("live-at-start=0", from, 0) ||
		    !EQ("allocated-freed=live@mark", alloc - freed, live) ||
		    !EQ("live@mark=model", live, m->marks[k].live_bytes) ||
		    !EQ("live@mark=model", blocks, m->marks[k].live_blocks) ||
		    !(live <= m->peak_bytes ||
		      broke(v, "peak>=live@mark", "%s: live %llu > peak %llu", m->marks[k].label,
			   (unsigned long long)live, (unsigned long long)m->peak_bytes)))
			return false;
	}
	return true;
}

/* timeline: no sample above the peak */
static bool check_timeline(struct trace *t, const struct tgr_model *m, struct verdict *v)
{
	struct opts o = tu_opts();
	struct jv *doc = report_json(t, report_timeline, &o, v, "timeline");
	const struct jv *s;
	uint32_t i;

	if (!doc)
		return false;
	s = jr_get(doc, "samples");
	for (i = 0; i < jr_len(s); i++)
		if (u64_of(jr_at(s, i), "live_bytes") > m->peak_bytes) {
			broke(v, "peak>=live@sample", "sample %u: %llu > peak %llu", i,
			     (unsigned long long)u64_of(jr_at(s, i), "live_bytes"),
			     (unsigned long long)m->peak_bytes);
			break;
		}
	jr_free(doc);
	return !v->rule;
}

/* summary: its functions are the table's rows, its memory the model's */
static bool check_summary(struct trace *t, struct fn_table *ft, const struct tgr_model *m,
			  struct verdict *v)
{
	struct opts o = tu_opts();
	struct jv *doc = report_json(t, report_summary, &o, v, "summary");
	const struct jv *fs, *mem;
	uint32_t i;

	if (!doc)
		return false;
	fs = jr_get(doc, "functions");
	mem = jr_get(doc, "memory");
	for (i = 0; !v->rule && i < jr_len(fs); i++) {
		const struct jv *f = jr_at(fs, i);
		struct fn_row *r = fn_find(ft, jr_str(jr_get(f, "name")));

		if (!r)
			broke(v, "summary=functions", "%s not in the table", jr_str(jr_get(f, "name")));
		else if (!EQ("summary=functions", u64_of(f, "calls"), r->calls) ||
			 !EQ("summary=functions", u64_of(f, "total_ns"), r->total) ||
			 !EQ("summary=functions", u64_of(f, "self_ns"), r->self))
			break;
	}
	/* the first that differs sets the verdict */
	(void)(v->rule || !m || !EQ("summary=model", u64_of(mem, "allocations"), m->allocs) ||
	       !EQ("summary=model", u64_of(mem, "frees"), m->frees) ||
	       !EQ("summary=model", u64_of(mem, "bytes_allocated"), m->bytes_allocated) ||
	       !EQ("summary=model", u64_of(mem, "bytes_freed"), m->bytes_freed) ||
	       !EQ("summary=model", u64_of(mem, "peak_bytes"), m->peak_bytes) ||
	       !EQ("summary=model", u64_of(mem, "leaked_bytes"), m->live_bytes));
	jr_free(doc);
	return !v->rule;
}

/* functions --thread, each thread: the per-thread rows add up to the all-thread row */
static bool check_threads(struct trace *t, struct fn_table *ft, struct verdict *v)
{
	uint64_t calls[MAX_NAMES] = { 0 }, self[MAX_NAMES] = { 0 }, total[MAX_NAMES] = { 0 };
	uint32_t k, i;

	for (k = 0; k < t->nthreads; k++) {
		struct opts o = tu_opts();
		struct jv *doc;
		const struct jv *fs;

		o.thread_set = 1;
		o.thread_tid = t->threads[k].tid;
		doc = report_json(t, report_functions, &o, v, "functions --thread");
		if (!doc)
			return false;
		fs = jr_get(doc, "functions");
		for (i = 0; i < jr_len(fs); i++) {
			const struct jv *f = jr_at(fs, i);
			struct fn_row *r = fn_find(ft, jr_str(jr_get(f, "name")));

			if (!r) {
				jr_free(doc);
				return broke(v, "threads=functions", "%s not in the table",
					     jr_str(jr_get(f, "name")));
			}
			calls[r - ft->r] += u64_of(f, "calls");
			self[r - ft->r] += u64_of(f, "self_ns");
			total[r - ft->r] += u64_of(f, "total_ns");
		}
		jr_free(doc);
	}
	for (i = 0; i < ft->n; i++)
		if (!EQ("threads=functions", calls[i], ft->r[i].calls) ||
		    !EQ("threads=functions", self[i], ft->r[i].self) ||
		    !EQ("threads=functions", total[i], ft->r[i].total))
			return false;
	return true;
}

/* check_stream - write @s, run the reports, check every invariant. Return: true when all hold. */
static bool check_stream(const struct tgr_stream *s, struct verdict *v)
{
	struct fn_table *ft = calloc(1, sizeof(*ft));
	struct tgr_model m, *mp;
	struct trace *t = NULL;
	struct opts o;
	struct jv *doc = NULL;		/* the function table: ft's names point into it */
	uint64_t sum, roots = 0;
	unsigned i;
	int saved = dup(2), nul = open("/dev/null", O_WRONLY);

	memset(v, 0, sizeof(*v));
	tgr_write_model(s, trace_path, &m);
	dup2(nul, 2);				/* trace_open's notes of odd streams */
	close(nul);
	if (trace_open(trace_path, &t) < 0) {
		broke(v, "trace-opens", "trace_open failed");
		goto out;
	}
	o = tu_opts();
	doc = report_json(t, report_functions, &o, v, "functions");
	if (!doc || !check_functions(doc, t->duration_ns, ft, v))
		goto out;
	o = tu_opts();
	{
		struct jv *cg = report_json(t, report_callgraph, &o, v, "callgraph");

		if (!cg || !check_callgraph(cg, ft, v)) {
			jr_free(cg);
			goto out;
		}
		roots = u64_of(cg, "total_ns");
		if (offcpu_present(t)) {	/* the flame graph's time is CPU time then */
			const struct jv *nodes = jr_get(cg, "nodes");

			roots = 0;
			for (i = 0; i < jr_len(nodes); i++)
				roots += u64_of(jr_at(nodes, i), "cpu_self_ns");
		}
		jr_free(cg);
	}
	/* folded time: each function's leaves sum to its self time, all to the tree's total
	 * (CPU time, where the trace has switches) */
	if (!folded(t, "time", ft, &sum, v) || !EQ("folded=tree", sum, roots))
		goto out;
	if (roots && (!svg_root(t, "time", &sum, v) || !EQ("svg=tree", sum, roots)))
		goto out;
	for (i = 0; i < ft->n; i++)
		if (!EQ("folded=functions", ft->r[i].folded_self, ft->r[i].cpu_self)) {
			snprintf(v->why + strlen(v->why), sizeof(v->why) - strlen(v->why),
				 " (%s)", ft->r[i].name);
			goto out;
		}
	/* a lenient stream (what damage leaves) has no model: the invariants between reports */
	mp = s->lenient ? NULL : &m;
	if (!check_chrome(t, ft, v) || !check_summary(t, ft, mp, v) || !check_threads(t, ft, v) ||
	    !check_memory(t, mp, v) || (mp && !check_marks(t, mp, v)))
		goto out;
	if (mp)
		check_timeline(t, mp, v);
out:
	jr_free(doc);
	if (t)
		trace_close(t);
	dup2(saved, 2);
	close(saved);
	free(ft);
	return !v->rule;
}

/* the shrinker's question: does the same invariant still fail? */
static bool same_rule_fails(const struct tgr_stream *s, void *ctx)
{
	struct verdict v;

	return !check_stream(s, &v) && !strcmp(v.rule, (const char *)ctx);
}

static void setup(void)
{
	tu_tmpfile(trace_path, "perfshim-prop");
	tu_tmpfile(out_path, "perfshim-prop-out");
}

static void teardown(void)
{
	unlink(trace_path);
	unlink(out_path);
}

START_TEST(test_invariants)
{
	unsigned runs = 100, i, events = 0;
	uint64_t first = 1;

	if (getenv("PERFSHIM_PROP_RUNS"))
		runs = (unsigned)strtoul(getenv("PERFSHIM_PROP_RUNS"), NULL, 0);
	if (getenv("PERFSHIM_PROP_SEED"))
		first = strtoull(getenv("PERFSHIM_PROP_SEED"), NULL, 0);
	for (i = 0; i < runs; i++) {
		uint64_t seed = first + i;
		struct tgr_stream s;
		struct verdict v;

		tgr_random(&s, seed, 50 + (unsigned)(seed * 37 % 400));
		events += (unsigned)s.n;
		if (!check_stream(&s, &v)) {
			char rule[64];
			unsigned asked;

			snprintf(rule, sizeof(rule), "%s", v.rule);
			fprintf(stderr, "property '%s' fails for seed %llu (PERFSHIM_PROP_SEED=%llu "
				"PERFSHIM_PROP_RUNS=1): %s\nshrinking %zu events...\n", rule,
				(unsigned long long)seed, (unsigned long long)seed, v.why, s.n);
			asked = tgr_shrink(&s, same_rule_fails, rule);
			check_stream(&s, &v);
			fprintf(stderr, "smallest failing stream (%u tries): %s\n", asked, v.why);
			tgr_print(&s, stderr);
			ck_abort_msg("seed %llu: property '%s' fails: %s", (unsigned long long)seed,
				     rule, v.why);
		}
		tgr_free(&s);
	}
	printf("prop: %u seeds from %llu, %u events, every invariant held\n", runs,
	       (unsigned long long)first, events);
}
END_TEST

/*
 * The same without the repairs: streams decoded from random bytes as the report fuzzer does
 * (exits with no call open, frees of unknown blocks, longjmps past the stack, lost events,
 * cut and ended threads). The reader's repairs must leave reports that agree with each other.
 */
START_TEST(test_invariants_lenient)
{
	unsigned runs = 100, i, k;
	uint64_t first = 1;
	uint8_t buf[2048];

	if (getenv("PERFSHIM_PROP_RUNS"))
		runs = (unsigned)strtoul(getenv("PERFSHIM_PROP_RUNS"), NULL, 0);
	if (getenv("PERFSHIM_PROP_SEED"))
		first = strtoull(getenv("PERFSHIM_PROP_SEED"), NULL, 0);
	for (i = 0; i < runs; i++) {
		uint64_t seed = first + i, rng = seed;
		size_t len = 64 + (size_t)(tgr_rand(&rng) % (sizeof(buf) - 64));
		struct tgr_stream s;
		struct verdict v;

		for (k = 0; k < len; k++)
			buf[k] = (uint8_t)tgr_rand(&rng);
		buf[0] &= ~1U;			/* lenient */
		tgr_from_bytes(&s, buf, len);
		if (!check_stream(&s, &v)) {
			char rule[64];
			unsigned asked;

			snprintf(rule, sizeof(rule), "%s", v.rule);
			fprintf(stderr, "property '%s' fails for lenient seed %llu: %s\n"
				"shrinking %zu events...\n", rule, (unsigned long long)seed, v.why, s.n);
			asked = tgr_shrink(&s, same_rule_fails, rule);
			check_stream(&s, &v);
			fprintf(stderr, "smallest failing stream (%u tries): %s\n", asked, v.why);
			tgr_print(&s, stderr);
			ck_abort_msg("lenient seed %llu: property '%s' fails: %s",
				     (unsigned long long)seed, rule, v.why);
		}
		tgr_free(&s);
	}
}
END_TEST

/* ---- the shrinker, on failures of known shape ---- */

struct xfree {
	uint64_t ptr[4096];
	uint32_t tid[4096];
	unsigned n;
	bool found;
};

static int xfree_ev(const struct trace_event *ev, void *ctx)
{
	struct xfree *x = ctx;
	unsigned i;

	if (ev->type == EV_ALLOC && x->n < 4096) {
		x->ptr[x->n] = ev->ptr;
		x->tid[x->n++] = ev->tid;
	} else if (ev->type == EV_FREE) {
		for (i = x->n; i-- > 0;)
			if (x->ptr[i] == ev->ptr) {
				x->found |= x->tid[i] != ev->tid;
				break;
			}
	}
	return 0;
}

/* fails while the trace, as the reader decodes it, has a block freed by another thread */
static bool has_cross_free(const struct tgr_stream *s, void *ctx)
{
	static struct xfree x;
	struct trace *t;

	memset(&x, 0, sizeof(x));
	tgr_write(s, trace_path);
	ck_assert_int_eq(trace_open(trace_path, &t), 0);
	trace_walk(t, WALK_MEMORY | WALK_MERGED, -1, xfree_ev, &x);
	trace_close(t);
	(*(unsigned *)ctx)++;
	return x.found;
}

START_TEST(test_shrink_cross_free)
{
	struct tgr_stream s;
	unsigned asked = 0, tries;
	uint64_t seed;

	for (seed = 1; seed < 100; seed++) {	/* the first seed with a cross-thread free */
		tgr_random(&s, seed, 300);
		if (has_cross_free(&s, &asked))
			break;
		tgr_free(&s);
	}
	ck_assert_uint_lt(seed, 100);
	ck_assert_uint_gt(s.n, 50);
	tries = tgr_shrink(&s, has_cross_free, &asked);
	ck_assert_uint_gt(tries, 0);
	/* the minimum: one allocation, and its free on another thread */
	ck_assert_uint_eq(s.n, 2);
	ck_assert_uint_eq(s.ev[0].type, TGR_ALLOC);
	ck_assert_uint_eq(s.ev[1].type, TGR_FREE);
	ck_assert_uint_eq(s.ev[0].ptr, s.ev[1].ptr);
	ck_assert_uint_ne(s.ev[0].thread, s.ev[1].thread);
	tgr_free(&s);
}
END_TEST

static int depth_ev(const struct trace_event *ev, void *ctx)
{
	if (ev->type == EV_ENTRY && ev->depth + 1 > *(uint32_t *)ctx)
		*(uint32_t *)ctx = ev->depth + 1;
	return 0;
}

/* fails while some call is 3 deep */
static bool deep_call(const struct tgr_stream *s, void *ctx)
{
	struct trace *t;
	uint32_t depth = 0;

	tgr_write(s, trace_path);
	ck_assert_int_eq(trace_open(trace_path, &t), 0);
	trace_walk(t, WALK_CALLS, -1, depth_ev, &depth);
	trace_close(t);
	return depth >= 3;
}

START_TEST(test_shrink_calls)
{
	struct tgr_stream s;
	size_t i;

	tgr_random(&s, 3, 400);
	ck_assert(deep_call(&s, NULL));
	tgr_shrink(&s, deep_call, NULL);
	/* three entries on one thread: tgr_write closes the calls the stream leaves open */
	ck_assert_uint_eq(s.n, 3);
	for (i = 0; i < 3; i++) {
		ck_assert_uint_eq(s.ev[i].type, TGR_ENTER);
		ck_assert_uint_eq(s.ev[i].thread, s.ev[0].thread);
	}
	tgr_free(&s);
}
END_TEST

/* the checks can fail: a stream whose trace breaks an invariant is caught and named */
START_TEST(test_checks_catch)
{
	struct tgr_stream s;
	struct tgr_model m;
	struct verdict v;
	struct trace *t;
	struct opts o = tu_opts();
	struct jv *doc;

	tgr_random(&s, 5, 200);
	ck_assert(check_stream(&s, &v));
	tgr_write_model(&s, trace_path, &m);
	m.bytes_allocated++;			/* a model that disagrees with the trace */
	ck_assert_int_eq(trace_open(trace_path, &t), 0);
	ck_assert(!check_memory(t, &m, &v));
	ck_assert_str_eq(v.rule, "memory=model");
	memset(&v, 0, sizeof(v));
	m.bytes_allocated--;
	m.marks[0].live_bytes++;
	ck_assert_uint_gt(m.nmarks, 0);
	ck_assert(!check_marks(t, &m, &v));
	ck_assert_str_eq(v.rule, "live@mark=model");
	/* a function table that disagrees with the tree */
	memset(&v, 0, sizeof(v));
	doc = report_json(t, report_callgraph, &o, &v, "callgraph");
	ck_assert_ptr_nonnull(doc);
	{
		struct fn_table ft;

		memset(&ft, 0, sizeof(ft));
		ck_assert(!check_callgraph(doc, &ft, &v));
		ck_assert_str_eq(v.rule, "tree-names");
	}
	jr_free(doc);
	trace_close(t);
	tgr_free(&s);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("prop");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 300);	/* bounded by counts; ASan and PERFSHIM_PROP_RUNS */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_invariants);
	tcase_add_test(tc, test_invariants_lenient);
	tcase_add_test(tc, test_shrink_cross_free);
	tcase_add_test(tc, test_shrink_calls);
	tcase_add_test(tc, test_checks_catch);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite()) ? 1 : 0;
}
