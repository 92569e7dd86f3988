// SPDX-License-Identifier: MIT
/*
 * `diff BASE NEW` (docs/memory-diff.md): two traces of one program, other inputs or other
 * builds. Functions are matched by name (hot_collect, model.c), allocation sites by
 * their function chain (replay_stack_key), never by address, file or line: a site whose
 * file or line moved is still the same site. report_diff (report-diff.c) calls diff_runs.
 */
#define PR_FMT "diff"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/diff.h"
#include "analyzer/hot.h"
#include "analyzer/json.h"
#include "analyzer/notes.h"
#include "analyzer/offcpu.h"
#include "analyzer/opts.h"
#include "analyzer/symbols.h"
#include "analyzer/text.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"
#include "analyzer/model.h"

enum { BASE = 0, NEW = 1 };

/* Per row, [BASE] and [NEW] side by side. */
struct frow {				/* a function, by name */
	const char *name;		/* owned by the run's symbols */
	uint64_t calls[2];
	uint64_t self[2], total[2];	/* ns, all threads summed; self is CPU self if cpu */
	uint64_t wall[2];		/* wall-clock self */
	uint64_t alloc[2];		/* bytes allocated by sites whose innermost frame it is */
};

struct srow {				/* an allocation site, by function chain */
	uint32_t stack[2];		/* representative stack per run (0: absent) */
	uint64_t allocs[2], bytes[2];	/* allocations and their bytes over the run */
	uint64_t peak[2];		/* bytes: the most the site held at once (exact) */
	uint64_t leaked[2], leaked_blocks[2]; /* still live at the end, no suppressions */
};

struct run {
	struct trace *t;
	struct symbols *sym;
	struct hot h;
	struct replay r;
	uint64_t self_total;		/* every function's self time */
};

struct runs_diff {
	struct run run[2];
	struct frow *f;
	uint32_t nf, fcap;
	struct srow *s;
	uint32_t ns, scap;
	struct strmap fkeys, skeys;
	bool cpu;			/* both have context switches, no --wall: CPU self */
	bool switches;			/* either has them (self is then named for its clock) */
};

static struct frow *frow_get(struct runs_diff *d, const char *name)
{
	bool isnew;
	uint32_t i = diff_key_row(&d->fkeys, xstrdup(name), &d->nf, &isnew);

	ARRAY_ROOM(d->f, d->fcap, i);
	if (isnew)
		memset(&d->f[i], 0, sizeof(d->f[i]));
	d->f[i].name = name;
	return &d->f[i];
}

/* Functions, sites and per-site peaks of run @k. Return: 0 or -1 (message printed). */
static int load_run(struct runs_diff *d, int k, const struct opts *o)
{
	struct run *R = &d->run[k];
	uint32_t i, *map;
	bool merged = false;
	struct replay r2;

	if (hot_collect(R->t, -1, 0, &R->h) < 0 || replay_run(&R->r, R->t) < 0)
		return -1;
	R->sym = replay_symbols(R->t, o);
	if (!R->sym)
		return -1;
	for (i = 0; i < R->h.nfuncs; i++) {
		const struct hot_func *hf = &R->h.funcs[i];
		struct frow *f;

		if (!hf->calls)
			continue;
		f = frow_get(d, sym_func_name(R->sym, i));
		f->calls[k] += hf->calls;
		f->self[k] += model_self(hf, d->cpu);
		f->wall[k] += hf->self_ns;
		f->total[k] += hf->total_ns;
		R->self_total += model_self(hf, d->cpu);
	}

	/* sites: stacks keyed by function chain; a second replay by site if any merged */
	map = xcalloc(R->r.naggs + 1, sizeof(*map));
	for (i = 0; i < R->r.naggs; i++) {
		const struct replay_agg *a = &R->r.aggs[i];
		struct srow *s;
		bool isnew;
		uint32_t row;

		if (!a->allocs)
			continue;
		row = diff_key_row(&d->skeys, replay_stack_key(R->t, R->sym, i), &d->ns, &isnew);
		ARRAY_GROW_ZERO(d->s, d->scap, (size_t)row + 1);
		s = &d->s[row];
		if (s->allocs[k])		/* another stack of this run got here first */
			merged = true;
		else
			s->stack[k] = i;
		map[i] = row;
		s->allocs[k] += a->allocs;
		s->bytes[k] += a->bytes;
		s->peak[k] = a->peak_bytes;
		s->leaked[k] += a->live_bytes;
		s->leaked_blocks[k] += a->live_blocks;
		if (i) {			/* attribute to the function that called malloc */
			const char *names[1];

			if (replay_stack_names(R->t, R->sym, i, names, 1))
				frow_get(d, names[0])->alloc[k] += a->bytes;
		}
	}
	if (merged) {
		memset(&r2, 0, sizeof(r2));
		r2.map = map;
		r2.nmap = R->r.naggs;
		if (replay_run(&r2, R->t) < 0) {
			replay_free(&r2);
			free(map);
			return -1;
		}
		for (i = 0; i < d->ns && i < r2.naggs; i++)
			if (d->s[i].allocs[k])
				d->s[i].peak[k] = r2.aggs[i].peak_bytes;
		replay_free(&r2);
	}
	free(map);
	return 0;
}

static double pct(uint64_t base, uint64_t new)
{
	if (base == new)
		return 0;
	if (!base)
		return INFINITY;
	return 100.0 * ((double)new - (double)base) / (double)base;
}

static uint64_t absdiff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

/* A change worth showing: at least @thr % of the base (any change when @thr is 0). */
static bool changed(uint64_t base, uint64_t new, double thr)
{
	return base != new && fabs(pct(base, new)) >= thr;
}

/*
 * Time is noisy: a function's self time counts as changed when it moved by --threshold % of
 * its base and by at least 5% of the larger run's total self time (a 2 us function that took
 * 3 us, or a first call that met a page fault or a preemption, is not news).
 */
static bool time_changed(const struct runs_diff *d, const struct frow *f, double thr)
{
	uint64_t big = d->run[BASE].self_total > d->run[NEW].self_total ?
			       d->run[BASE].self_total : d->run[NEW].self_total;

	return changed(f->self[BASE], f->self[NEW], thr) &&
	       absdiff(f->self[BASE], f->self[NEW]) * 20 >= big;
}

static bool frow_shown(const struct runs_diff *d, const struct frow *f, double thr)
{
	return changed(f->calls[BASE], f->calls[NEW], thr) || time_changed(d, f, thr) ||
	       changed(f->alloc[BASE], f->alloc[NEW], thr);
}

static bool srow_shown(const struct srow *s, double thr)
{
	return changed(s->bytes[BASE], s->bytes[NEW], thr) ||
	       changed(s->allocs[BASE], s->allocs[NEW], thr) ||
	       changed(s->peak[BASE], s->peak[NEW], thr) ||
	       changed(s->leaked[BASE], s->leaked[NEW], thr);
}

static void add_part(char *buf, size_t len, const char *part)
{
	size_t off = strlen(buf);

	snprintf(buf + off, len - off, "%s%s", off ? ", " : "", part);
}

/* Benchee-style verdict: "1.84x slower", "allocates 3.2 MiB more", "+10 calls". */
static const char *frow_verdict(const struct runs_diff *d, const struct frow *f, char *buf,
				size_t len)
{
	char p[96], b[32];

	buf[0] = '\0';
	/* in a run: called there, or allocating there (a function not instrumented) */
	if (!f->calls[BASE] && !f->alloc[BASE]) {
		snprintf(buf, len, "new");
		return buf;
	}
	if (!f->calls[NEW] && !f->alloc[NEW]) {
		snprintf(buf, len, "gone");
		return buf;
	}
	if (time_changed(d, f, 0) && f->self[BASE] && f->self[NEW]) {
		if (f->self[NEW] > f->self[BASE])
			snprintf(p, sizeof(p), "%.2fx slower", (double)f->self[NEW] / (double)f->self[BASE]);
		else
			snprintf(p, sizeof(p), "%.2fx faster", (double)f->self[BASE] / (double)f->self[NEW]);
		add_part(buf, len, p);
	}
	if (f->calls[BASE] != f->calls[NEW]) {
		snprintf(p, sizeof(p), "%s calls",
			 diff_fmt_scount(b, sizeof(b), (int64_t)(f->calls[NEW] - f->calls[BASE])));
		add_part(buf, len, p);
	}
	if (f->alloc[BASE] != f->alloc[NEW]) {
		snprintf(p, sizeof(p), "allocates %s %s",
			 fmt_bytes(b, sizeof(b), absdiff(f->alloc[BASE], f->alloc[NEW])),
			 f->alloc[NEW] > f->alloc[BASE] ? "more" : "less");
		add_part(buf, len, p);
	}
	if (!buf[0])
		snprintf(buf, len, "same");
	return buf;
}

static const char *srow_verdict(const struct srow *s, char *buf, size_t len)
{
	char p[96], b[32];

	buf[0] = '\0';
	if (!s->allocs[BASE] || !s->allocs[NEW]) {
		snprintf(buf, len, s->allocs[BASE] ? "gone" : "new");
		return buf;
	}
	if (s->bytes[BASE] != s->bytes[NEW]) {
		snprintf(p, sizeof(p), "allocates %s %s",
			 fmt_bytes(b, sizeof(b), absdiff(s->bytes[BASE], s->bytes[NEW])),
			 s->bytes[NEW] > s->bytes[BASE] ? "more" : "less");
		add_part(buf, len, p);
	}
	if (s->peak[BASE] != s->peak[NEW]) {
		snprintf(p, sizeof(p), "peak %s %s",
			 fmt_bytes(b, sizeof(b), absdiff(s->peak[BASE], s->peak[NEW])),
			 s->peak[NEW] > s->peak[BASE] ? "higher" : "lower");
		add_part(buf, len, p);
	}
	if (s->leaked[BASE] != s->leaked[NEW]) {
		snprintf(p, sizeof(p), "leaks %s %s",
			 fmt_bytes(b, sizeof(b), absdiff(s->leaked[BASE], s->leaked[NEW])),
			 s->leaked[NEW] > s->leaked[BASE] ? "more" : "less");
		add_part(buf, len, p);
	}
	if (!buf[0])
		snprintf(buf, len, "same");
	return buf;
}

/* functions: largest self-time change first, then calls, then allocations */
static int cmp_frow(const void *pa, const void *pb, void *arg)
{
	const struct runs_diff *d = arg;
	const struct frow *a = &d->f[*(const uint32_t *)pa];
	const struct frow *b = &d->f[*(const uint32_t *)pb];
	uint64_t x, y;

	x = absdiff(a->self[BASE], a->self[NEW]);
	y = absdiff(b->self[BASE], b->self[NEW]);
	if (x != y)
		return x > y ? -1 : 1;
	x = absdiff(a->calls[BASE], a->calls[NEW]);
	y = absdiff(b->calls[BASE], b->calls[NEW]);
	if (x != y)
		return x > y ? -1 : 1;
	x = absdiff(a->alloc[BASE], a->alloc[NEW]);
	y = absdiff(b->alloc[BASE], b->alloc[NEW]);
	if (x != y)
		return x > y ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* sites: largest change of bytes allocated first, then of leaked and peak bytes */
static int cmp_srow(const void *pa, const void *pb, void *arg)
{
	const struct runs_diff *d = arg;
	const struct srow *a = &d->s[*(const uint32_t *)pa];
	const struct srow *b = &d->s[*(const uint32_t *)pb];
	uint64_t x, y;

	x = absdiff(a->bytes[BASE], a->bytes[NEW]);
	y = absdiff(b->bytes[BASE], b->bytes[NEW]);
	if (x != y)
		return x > y ? -1 : 1;
	x = absdiff(a->leaked[BASE], a->leaked[NEW]);
	y = absdiff(b->leaked[BASE], b->leaked[NEW]);
	if (x != y)
		return x > y ? -1 : 1;
	x = absdiff(a->peak[BASE], a->peak[NEW]);
	y = absdiff(b->peak[BASE], b->peak[NEW]);
	if (x != y)
		return x > y ? -1 : 1;
	return *(const uint32_t *)pa < *(const uint32_t *)pb ? -1 : 1;
}

/* The site's stack, from whichever run has it. */
static void srow_json_stack(const struct runs_diff *d, struct json *j, const struct srow *s)
{
	int k = s->allocs[BASE] ? BASE : NEW;

	replay_json_stack(j, d->run[k].t, d->run[k].sym, s->stack[k]);
}

static void json_pct(struct json *j, const char *key, uint64_t base, uint64_t new)
{
	double p = pct(base, new);

	if (isinf(p))
		json_null(j, key);
	else
		json_dbl(j, key, p);
}

/* the program of a run: its executable's file name (NULL when the trace does not say) */
static const char *program(const struct trace *t)
{
	const char *s;

	if (!t->exe || !*t->exe)
		return NULL;
	s = strrchr(t->exe, '/');
	return s && s[1] ? s + 1 : t->exe;
}

/* functions present (called, or allocating) in both runs, and in either: in *@either */
static uint32_t shared_functions(const struct runs_diff *d, uint32_t *either)
{
	uint32_t i, both = 0;

	*either = 0;
	for (i = 0; i < d->nf; i++) {
		const struct frow *f = &d->f[i];
		bool b = f->calls[BASE] || f->alloc[BASE], n = f->calls[NEW] || f->alloc[NEW];

		*either += b || n;
		both += b && n;
	}
	return both;
}

/*
 * Two unrelated programs: matching their functions by name compares things that have
 * nothing to do with each other ("main 849.87x slower"). Two builds of one program may have
 * other file names (base, new) but share most functions; so the runs are called different
 * programs when their executables' names differ and they share under half of the functions
 * either one has. Return: whether they are.
 */
static bool programs_differ(const struct runs_diff *d)
{
	const char *a = program(d->run[BASE].t), *b = program(d->run[NEW].t);
	uint32_t either, both = shared_functions(d, &either);

	return a && b && strcmp(a, b) && both * 2 < either;
}

static void runs_json(const struct runs_diff *d, const uint32_t *fi, uint32_t nf,
		      const uint32_t *si, uint32_t ns, const struct opts *o)
{
	const struct replay *rb = &d->run[BASE].r, *rn = &d->run[NEW].r;
	struct trace *const tv[2] = { d->run[BASE].t, d->run[NEW].t };
	static const char *const who[2] = { "base", "new" };
	struct json j;
	char v[256];
	uint32_t i, either;

	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	notes_json_many(&j, tv, who, 2);
	json_str(&j, "base", d->run[BASE].t->path);
	json_str(&j, "new", d->run[NEW].t->path);
	json_str(&j, "base_program", d->run[BASE].t->exe);
	json_str(&j, "new_program", d->run[NEW].t->exe);
	json_bool(&j, "programs_differ", programs_differ(d));
	json_u64(&j, "shared_functions", shared_functions(d, &either));
	json_u64(&j, "functions_in_either", either);
	json_dbl(&j, "threshold_pct", o->threshold);
	json_obj_begin(&j, "totals");
	json_u64(&j, "base_duration_ns", d->run[BASE].t->duration_ns);
	json_u64(&j, "new_duration_ns", d->run[NEW].t->duration_ns);
	json_u64(&j, "base_bytes", rb->bytes_alloc);
	json_u64(&j, "new_bytes", rn->bytes_alloc);
	json_u64(&j, "base_allocations", rb->allocs);
	json_u64(&j, "new_allocations", rn->allocs);
	json_u64(&j, "base_peak_bytes", rb->peak_bytes);
	json_u64(&j, "new_peak_bytes", rn->peak_bytes);
	json_u64(&j, "base_leaked_bytes", rb->live_bytes);
	json_u64(&j, "new_leaked_bytes", rn->live_bytes);
	json_obj_end(&j);
	json_arr_begin(&j, "functions");
	for (i = 0; i < nf; i++) {
		const struct frow *f = &d->f[fi[i]];

		json_obj_begin(&j, NULL);
		json_str(&j, "name", f->name);
		json_u64(&j, "base_calls", f->calls[BASE]);
		json_u64(&j, "new_calls", f->calls[NEW]);
		json_u64(&j, "base_self_ns", f->wall[BASE]);
		json_u64(&j, "new_self_ns", f->wall[NEW]);
		if (d->cpu) {	/* as functions: self_ns stays wall-clock */
			json_u64(&j, "base_cpu_self_ns", f->self[BASE]);
			json_u64(&j, "new_cpu_self_ns", f->self[NEW]);
		}
		json_u64(&j, "base_total_ns", f->total[BASE]);
		json_u64(&j, "new_total_ns", f->total[NEW]);
		json_u64(&j, "base_alloc_bytes", f->alloc[BASE]);
		json_u64(&j, "new_alloc_bytes", f->alloc[NEW]);
		json_pct(&j, "calls_change_pct", f->calls[BASE], f->calls[NEW]);
		json_pct(&j, "self_change_pct", f->wall[BASE], f->wall[NEW]);
		if (d->cpu)
			json_pct(&j, "cpu_self_change_pct", f->self[BASE], f->self[NEW]);
		json_pct(&j, "total_change_pct", f->total[BASE], f->total[NEW]);
		json_str(&j, "verdict", frow_verdict(d, f, v, sizeof(v)));
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_u64(&j, "hidden_functions", d->nf - nf);
	json_arr_begin(&j, "sites");
	for (i = 0; i < ns; i++) {
		const struct srow *s = &d->s[si[i]];

		json_obj_begin(&j, NULL);
		srow_json_stack(d, &j, s);
		json_u64(&j, "base_bytes", s->bytes[BASE]);
		json_u64(&j, "new_bytes", s->bytes[NEW]);
		json_u64(&j, "base_leaked_bytes", s->leaked[BASE]);
		json_u64(&j, "new_leaked_bytes", s->leaked[NEW]);
		json_u64(&j, "base_allocations", s->allocs[BASE]);
		json_u64(&j, "new_allocations", s->allocs[NEW]);
		json_u64(&j, "base_peak_bytes", s->peak[BASE]);
		json_u64(&j, "new_peak_bytes", s->peak[NEW]);
		json_u64(&j, "base_leaked_blocks", s->leaked_blocks[BASE]);
		json_u64(&j, "new_leaked_blocks", s->leaked_blocks[NEW]);
		json_i64(&j, "bytes_change", (int64_t)(s->bytes[NEW] - s->bytes[BASE]));
		json_pct(&j, "bytes_change_pct", s->bytes[BASE], s->bytes[NEW]);
		json_str(&j, "verdict", srow_verdict(s, v, sizeof(v)));
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_u64(&j, "hidden_sites", d->ns - ns);
	json_obj_end(&j);
	json_finish(&j);
}

static const char *fmt_pct(char *buf, size_t len, uint64_t base, uint64_t new)
{
	double p = pct(base, new);

	if (isinf(p))
		snprintf(buf, len, "new");
	else
		snprintf(buf, len, "%+.1f%%", p);
	return buf;
}

static void runs_text(const struct runs_diff *d, const uint32_t *fi, uint32_t nf,
		      const uint32_t *si, uint32_t ns, const struct opts *o)
{
	const char *const fhdr[] = { "function", "calls",
				     d->cpu ? "CPU self base" : d->switches ? "wall self base" : "self base",
				     d->cpu ? "CPU self new" : d->switches ? "wall self new" : "self new",
				     d->cpu ? "CPU self %" : d->switches ? "wall self %" : "self %",
				     "total base", "total new", "verdict" };
	static const char *const shdr[] = { "bytes base", "bytes new", "change", "%", "peak base",
					    "peak new", "leaked base", "leaked new", "verdict",
					    "stack" };
	const struct replay *rb = &d->run[BASE].r, *rn = &d->run[NEW].r;
	char c[10][48], v[256], st[1024], nm[128];
	uint32_t i, limit = diff_text_limit(o);
	struct table *tb;

	notes_text_named(d->run[BASE].t, stdout, "base");
	notes_text_named(d->run[NEW].t, stdout, "new");
	printf("Base: %s\nNew:  %s\n", d->run[BASE].t->path, d->run[NEW].t->path);
	if (programs_differ(d)) {
		uint32_t either, both = shared_functions(d, &either);

		printf("Note: these are different programs (%s and %s, sharing %u of %u "
		       "functions): functions and allocation sites are matched by name only, so the "
		       "changes below compare unrelated code\n", program(d->run[BASE].t),
		       program(d->run[NEW].t), both, either);
	}
	printf("  duration   %s -> %s (%s)\n", fmt_ns(c[0], 48, d->run[BASE].t->duration_ns),
	       fmt_ns(c[1], 48, d->run[NEW].t->duration_ns),
	       fmt_pct(c[2], 48, d->run[BASE].t->duration_ns, d->run[NEW].t->duration_ns));
	printf("  allocated  %s -> %s (%s)\n", fmt_bytes(c[0], 48, rb->bytes_alloc),
	       fmt_bytes(c[1], 48, rn->bytes_alloc), fmt_pct(c[2], 48, rb->bytes_alloc, rn->bytes_alloc));
	printf("  peak       %s -> %s (%s)\n", fmt_bytes(c[0], 48, rb->peak_bytes),
	       fmt_bytes(c[1], 48, rn->peak_bytes), fmt_pct(c[2], 48, rb->peak_bytes, rn->peak_bytes));
	printf("  leaked     %s -> %s (%s)\n", fmt_bytes(c[0], 48, rb->live_bytes),
	       fmt_bytes(c[1], 48, rn->live_bytes), fmt_pct(c[2], 48, rb->live_bytes, rn->live_bytes));

	printf("\nFunctions (largest change first; %u under --threshold %g%% hidden)\n", d->nf - nf,
	       o->threshold);
	tb = table_new(8, fhdr, "lrrrrrrl");
	for (i = 0; i < nf && i < limit; i++) {
		const struct frow *f = &d->f[fi[i]];

		snprintf(c[0], 48, "%" PRIu64 " -> %" PRIu64, f->calls[BASE], f->calls[NEW]);
		table_add(tb, short_name(f->name, nm, sizeof(nm), 40), c[0],
			  fmt_ns(c[1], 48, f->self[BASE]), fmt_ns(c[2], 48, f->self[NEW]),
			  fmt_pct(c[3], 48, f->self[BASE], f->self[NEW]),
			  fmt_ns(c[4], 48, f->total[BASE]), fmt_ns(c[5], 48, f->total[NEW]),
			  frow_verdict(d, f, v, sizeof(v)));
	}
	if (nf)
		table_print(tb, stdout);
	else
		printf("  (no change)\n");
	table_free(tb);

	printf("\nAllocation sites, matched by function chain (largest change first; %u hidden)\n",
	       d->ns - ns);
	tb = table_new(10, shdr, "rrrrrrrrll");
	for (i = 0; i < ns && i < limit; i++) {
		const struct srow *s = &d->s[si[i]];
		int k = s->allocs[BASE] ? BASE : NEW;

		table_add(tb, fmt_bytes(c[0], 48, s->bytes[BASE]), fmt_bytes(c[1], 48, s->bytes[NEW]),
			  diff_fmt_sbytes(c[2], 48, (int64_t)(s->bytes[NEW] - s->bytes[BASE])),
			  fmt_pct(c[3], 48, s->bytes[BASE], s->bytes[NEW]),
			  fmt_bytes(c[4], 48, s->peak[BASE]), fmt_bytes(c[5], 48, s->peak[NEW]),
			  fmt_bytes(c[6], 48, s->leaked[BASE]), fmt_bytes(c[7], 48, s->leaked[NEW]),
			  srow_verdict(s, v, sizeof(v)),
			  replay_text_stack(d->run[k].t, d->run[k].sym, s->stack[k], st, sizeof(st)));
	}
	if (ns)
		table_print(tb, stdout);
	else
		printf("  (no change)\n");
	table_free(tb);
	if (d->cpu)
		printf("\nSelf times are CPU self: the off-CPU time (waits) within them left out.");
	else if (d->switches)
		printf("\nSelf times are wall-clock (--wall), waits included.");
	printf("\nTimes are self times unless named total; a self-time change under 5%% of the "
	       "run's total is noise.\n");
	if (replay_truncated_shown())
		printf("%s.\n", TRACE_TRUNCATED_LEGEND);
}

/**
 * diff_runs - compare @base with the trace o->traces[1] (opened and closed here) and print
 * functions and sites side by side on stdout, text or JSON per @o, largest change first;
 * rows under --threshold are hidden. Return: 0, or -1 after an error line.
 */
int diff_runs(struct trace *base, const struct opts *o)
{
	struct runs_diff d;
	uint32_t i, nf = 0, ns = 0, *fi = NULL, *si = NULL;
	int k, ret = -1;

	memset(&d, 0, sizeof(d));
	d.run[BASE].t = base;
	if (trace_open(o->traces[1], &d.run[NEW].t) < 0)
		return -1;
	trace_set_progress(d.run[NEW].t, o);
	/* CPU self is compared only when both runs have it: else wall-clock, said so */
	d.switches = offcpu_present(base) || offcpu_present(d.run[NEW].t);
	d.cpu = offcpu_present(base) && offcpu_present(d.run[NEW].t) && !o->wall;
	for (k = BASE; k <= NEW; k++)
		if (load_run(&d, k, o) < 0)
			goto out;
	/* no calls recorded (an uninstrumented program): no self time to name a clock for */
	if (!d.run[BASE].h.ncalls && !d.run[NEW].h.ncalls)
		d.cpu = d.switches = false;

	fi = xmalloc((d.nf + 1) * sizeof(*fi));
	si = xmalloc((d.ns + 1) * sizeof(*si));
	/* without --threshold every row is shown; with it, rows whose changes are under it hide */
	for (i = 0; i < d.nf; i++)
		if (o->threshold <= 0 || frow_shown(&d, &d.f[i], o->threshold))
			fi[nf++] = i;
	for (i = 0; i < d.ns; i++)
		if (o->threshold <= 0 || srow_shown(&d.s[i], o->threshold))
			si[ns++] = i;
	qsort_r(fi, nf, sizeof(*fi), cmp_frow, &d);
	qsort_r(si, ns, sizeof(*si), cmp_srow, &d);
	if (o->format == FMT_JSON) {
		if (o->limit > 0) {
			nf = (uint64_t)o->limit < nf ? (uint32_t)o->limit : nf;
			ns = (uint64_t)o->limit < ns ? (uint32_t)o->limit : ns;
		}
		runs_json(&d, fi, nf, si, ns, o);
	} else {
		runs_text(&d, fi, nf, si, ns, o);
	}
	fflush(stdout);
	ret = 0;
out:
	free(fi);
	free(si);
	diff_key_free(&d.fkeys);
	diff_key_free(&d.skeys);
	free(d.f);
	free(d.s);
	for (k = BASE; k <= NEW; k++) {
		struct run *R = &d.run[k];

		hot_free(&R->h);
		replay_free(&R->r);
		if (R->sym)
			sym_close(R->sym);
	}
	trace_close(d.run[NEW].t);
	return ret;
}
