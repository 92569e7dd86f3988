// SPDX-License-Identifier: MIT
/*
 * The `diff` report, two ways (docs/memory-diff.md):
 *   - `--from A --to B TRACE`: one memory replay (replay.c) with stops at marks A and B;
 *     per site, what was allocated, freed and is still held between them;
 *   - `BASE NEW`: two traces of one program, functions matched by name (hot_collect) and
 *     allocation sites by their function chain (replay_stack_key), never by address or line.
 */
#define PR_FMT "diff"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "analyzer/replay.h"

#define TEXT_LIMIT 20			/* rows per text table without --limit */
#define TEXT_FRAMES 4			/* frames shown per stack in text tables */

/* A site key -> row index map, for both modes. */
struct key_ent {
	char *key;
	uint32_t row;
	UT_hash_handle hh;
};

static uint32_t key_row(struct key_ent **map, char *key, uint32_t *nrows, bool *isnew)
{
	struct key_ent *k;

	HASH_FIND_STR(*map, key, k);
	if (k) {
		free(key);
		*isnew = false;
		return k->row;
	}
	k = xcalloc(1, sizeof(*k));
	k->key = key;
	k->row = (*nrows)++;
	HASH_ADD_KEYPTR(hh, *map, k->key, strlen(k->key), k);
	*isnew = true;
	return k->row;
}

static void key_free(struct key_ent **map)
{
	struct key_ent *k, *tmp;

	HASH_ITER(hh, *map, k, tmp) {
		HASH_DEL(*map, k);
		free(k->key);
		free(k);
	}
}

static void json_stack(struct json *j, const struct trace *t, struct symbols *sym, uint32_t id)
{
	const char *names[1024];
	uint32_t i, n = replay_stack_names(t, sym, id, names, 1024);

	json_arr_begin(j, "stack");
	for (i = 0; i < n && i < 1024; i++)
		json_str(j, NULL, names[i]);
	json_arr_end(j);
}

/* "f0 < f1 < ..." for text tables, at most TEXT_FRAMES frames. */
static const char *text_stack(const struct trace *t, struct symbols *sym, uint32_t id,
			      char *buf, size_t len)
{
	const char *names[TEXT_FRAMES];
	char sb[128];
	uint32_t i, n = replay_stack_names(t, sym, id, names, TEXT_FRAMES);
	size_t off = 0;

	if (!n) {
		snprintf(buf, len, "(no stack)");
		return buf;
	}
	buf[0] = '\0';
	for (i = 0; i < n && i < TEXT_FRAMES && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? " < " : "",
					short_name(names[i], sb, sizeof(sb), 60));
	if (n > TEXT_FRAMES && off < len)
		snprintf(buf + off, len - off, " < ...");
	return buf;
}

/* "+1.5 KiB" / "-512 B" / "0 B" */
static char *fmt_sbytes(char *buf, size_t len, int64_t v)
{
	char b[28];	/* 26 characters for 2^64 - 1 with commas */

	fmt_bytes(b, sizeof(b), v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
	snprintf(buf, len, "%s%s", v > 0 ? "+" : v < 0 ? "-" : "", b);
	return buf;
}

static char *fmt_scount(char *buf, size_t len, int64_t v)
{
	char b[28];	/* 26 characters for 2^64 - 1 with commas */

	fmt_count(b, sizeof(b), v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
	snprintf(buf, len, "%s%s", v > 0 ? "+" : v < 0 ? "-" : "", b);
	return buf;
}

static uint32_t text_limit(const struct opts *o)
{
	return o->limit > 0 ? (uint32_t)o->limit : o->limit == 0 ? UINT32_MAX : TEXT_LIMIT;
}

/* ==== diff between two marks of one trace ==== */

/* What a stack had done by a stop. */
struct snap {
	uint64_t allocs, bytes, frees, freed_bytes, live_bytes, live_blocks;
};

struct marks_diff {
	uint64_t from_ns, to_ns;
	struct snap *at_from, *at_to;	/* per stack id, naggs at that stop */
	uint32_t nfrom, nto;
	uint64_t *new_bytes, *new_blocks; /* per stack: allocated after from, live at to */
	uint64_t live_from_bytes, live_from_blocks, live_to_bytes, live_to_blocks;
	uint64_t unknown_from, unknown_to;
	int taken;			/* stops done: 0, 1 (from), 2 (both) */
};

static struct snap *take_snap(const struct replay *r, uint32_t *n)
{
	struct snap *s = xcalloc(r->naggs + 1, sizeof(*s));
	uint32_t i;

	for (i = 0; i < r->naggs; i++) {
		const struct replay_agg *a = &r->aggs[i];

		s[i] = (struct snap){ a->allocs, a->bytes, a->frees, a->freed_bytes,
				      a->live_bytes, a->live_blocks };
	}
	*n = r->naggs;
	return s;
}

/* Stop callback: the state at --from, then at --to (the same stop when they coincide). */
static uint64_t marks_stop(struct replay *r, uint64_t at, void *arg)
{
	struct marks_diff *d = arg;
	uint64_t i;

	if (d->taken == 0) {
		d->at_from = take_snap(r, &d->nfrom);
		d->live_from_bytes = r->live_bytes;
		d->live_from_blocks = r->live_blocks;
		d->unknown_from = r->unknown_frees;
		d->taken = 1;
		if (d->to_ns > d->from_ns)
			return d->to_ns;
	}
	d->at_to = take_snap(r, &d->nto);
	d->live_to_bytes = r->live_bytes;
	d->live_to_blocks = r->live_blocks;
	d->unknown_to = r->unknown_frees;
	d->new_bytes = xcalloc(r->naggs + 1, sizeof(*d->new_bytes));
	d->new_blocks = xcalloc(r->naggs + 1, sizeof(*d->new_blocks));
	for (i = 0; i <= r->live.mask; i++) {
		const struct replay_blk *b = &r->live.v[i];

		if (b->ptr && b->ns > d->from_ns) {
			d->new_bytes[b->agg] += b->size;
			d->new_blocks[b->agg]++;
		}
	}
	d->taken = 2;
	return UINT64_MAX;
}

/* One output row: the stacks of one function chain, summed. */
struct mrow {
	uint32_t stack;			/* representative stack id */
	uint64_t allocs, bytes, frees, freed_bytes;
	int64_t net_bytes, net_blocks;
	uint64_t new_bytes, new_blocks;
};

static int cmp_mrow(const void *pa, const void *pb)
{
	const struct mrow *a = pa, *b = pb;
	uint64_t na = a->net_bytes < 0 ? (uint64_t)-a->net_bytes : (uint64_t)a->net_bytes;
	uint64_t nb = b->net_bytes < 0 ? (uint64_t)-b->net_bytes : (uint64_t)b->net_bytes;

	/* growth suspects first (most still-live new bytes), then by size of the change */
	if (!!a->new_blocks != !!b->new_blocks)
		return a->new_blocks ? -1 : 1;
	if (a->new_bytes != b->new_bytes)
		return a->new_bytes > b->new_bytes ? -1 : 1;
	if (na != nb)
		return na > nb ? -1 : 1;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	return a->stack < b->stack ? -1 : a->stack > b->stack;
}

static const char *mark_list(const struct trace *t, char *buf, size_t len)
{
	size_t off = (size_t)snprintf(buf, len, "start");
	uint32_t i;

	for (i = 0; i < t->nmarks && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, ", %s", t->marks[i].label);
	if (off < len)
		snprintf(buf + off, len - off, ", end");
	return buf;
}

static void marks_json(const struct trace *t, struct symbols *sym, const struct opts *o,
		       const struct marks_diff *d, const struct mrow *rows, uint32_t n,
		       const struct mrow *tot)
{
	struct json j;
	uint32_t i;

	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	json_str(&j, "from", o->from);
	json_str(&j, "to", o->to);
	json_u64(&j, "from_ns", d->from_ns);
	json_u64(&j, "to_ns", d->to_ns);
	json_i64(&j, "net_bytes", tot->net_bytes);
	json_i64(&j, "net_blocks", tot->net_blocks);
	json_u64(&j, "allocated_bytes", tot->bytes);
	json_u64(&j, "allocations", tot->allocs);
	json_u64(&j, "freed_bytes", tot->freed_bytes);
	json_u64(&j, "frees", tot->frees);
	json_u64(&j, "new_live_bytes", tot->new_bytes);
	json_u64(&j, "new_live_blocks", tot->new_blocks);
	json_u64(&j, "live_at_from_bytes", d->live_from_bytes);
	json_u64(&j, "live_at_from_blocks", d->live_from_blocks);
	json_u64(&j, "live_at_to_bytes", d->live_to_bytes);
	json_u64(&j, "live_at_to_blocks", d->live_to_blocks);
	json_u64(&j, "unknown_frees", d->unknown_to - d->unknown_from);
	json_arr_begin(&j, "sites");
	for (i = 0; i < n; i++) {
		const struct mrow *r = &rows[i];

		json_obj_begin(&j, NULL);
		json_stack(&j, t, sym, r->stack);
		json_u64(&j, "allocated_bytes", r->bytes);
		json_u64(&j, "freed_bytes", r->freed_bytes);
		json_i64(&j, "net_bytes", r->net_bytes);
		json_i64(&j, "net_blocks", r->net_blocks);
		json_u64(&j, "allocations", r->allocs);
		json_u64(&j, "frees", r->frees);
		json_u64(&j, "new_live_bytes", r->new_bytes);
		json_u64(&j, "new_live_blocks", r->new_blocks);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_finish(&j);
}

static void marks_text(const struct trace *t, struct symbols *sym, const struct opts *o,
		       const struct marks_diff *d, const struct mrow *rows, uint32_t n,
		       const struct mrow *tot)
{
	static const char *const ghdr[] = { "still live", "blocks", "net", "stack" };
	static const char *const ahdr[] = { "allocated", "allocs", "freed", "frees", "net",
					    "net blocks", "stack" };
	char a[32], b[32], c[32], e[32], f[32], g[32], st[1024], la[300], lb[300];
	uint32_t i, shown, limit = text_limit(o);
	int w;
	struct table *tb;

	printf("Memory from '%s' (%s) to '%s' (%s): %s\n", o->from, fmt_ns(a, sizeof(a), d->from_ns),
	       o->to, fmt_ns(b, sizeof(b), d->to_ns), fmt_ns(c, sizeof(c), d->to_ns - d->from_ns));
	snprintf(la, sizeof(la), "live at '%s'", o->from);
	snprintf(lb, sizeof(lb), "live at '%s'", o->to);
	w = (int)(strlen(la) > strlen(lb) ? strlen(la) : strlen(lb));
	w = w > 13 ? w : 13;
	printf("  %-*s %s in %s blocks\n", w, la, fmt_bytes(a, sizeof(a), d->live_from_bytes),
	       fmt_count(b, sizeof(b), d->live_from_blocks));
	printf("  %-*s %s in %s blocks\n", w, lb, fmt_bytes(a, sizeof(a), d->live_to_bytes),
	       fmt_count(b, sizeof(b), d->live_to_blocks));
	printf("  %-*s %s in %s blocks\n", w, "allocated", fmt_bytes(a, sizeof(a), tot->bytes),
	       fmt_count(b, sizeof(b), tot->allocs));
	printf("  %-*s %s in %s blocks\n", w, "freed", fmt_bytes(a, sizeof(a), tot->freed_bytes),
	       fmt_count(b, sizeof(b), tot->frees));
	printf("  %-*s %s (%s blocks; %s bytes)\n", w, "net",
	       fmt_sbytes(a, sizeof(a), tot->net_bytes), fmt_scount(b, sizeof(b), tot->net_blocks),
	       fmt_scount(c, sizeof(c), tot->net_bytes));
	if (d->unknown_to > d->unknown_from)
		printf("  %-*s %s (blocks never seen allocated)\n", w, "unknown frees",
		       fmt_count(a, sizeof(a), d->unknown_to - d->unknown_from));

	printf("\nGrowth suspects: allocated after '%s' and still live at '%s'\n", o->from, o->to);
	tb = table_new(4, ghdr, "rrrl");
	for (i = shown = 0; i < n && rows[i].new_blocks && shown < limit; i++, shown++)
		table_add(tb, fmt_bytes(a, sizeof(a), rows[i].new_bytes),
			  fmt_count(b, sizeof(b), rows[i].new_blocks),
			  fmt_sbytes(c, sizeof(c), rows[i].net_bytes),
			  text_stack(t, sym, rows[i].stack, st, sizeof(st)));
	if (shown)
		table_print(tb, stdout);
	else
		printf("  (none)\n");
	table_free(tb);

	printf("\nEvery site active between the marks\n");
	tb = table_new(7, ahdr, "rrrrrrl");
	for (i = 0; i < n && i < limit; i++)
		table_add(tb, fmt_bytes(a, sizeof(a), rows[i].bytes),
			  fmt_count(b, sizeof(b), rows[i].allocs),
			  fmt_bytes(c, sizeof(c), rows[i].freed_bytes),
			  fmt_count(e, sizeof(e), rows[i].frees),
			  fmt_sbytes(f, sizeof(f), rows[i].net_bytes),
			  fmt_scount(g, sizeof(g), rows[i].net_blocks),
			  text_stack(t, sym, rows[i].stack, st, sizeof(st)));
	table_print(tb, stdout);
	table_free(tb);
	if (n > limit)
		printf("  ... %u more (--limit 0 shows all)\n", n - limit);
	printf("\nFreed: blocks released between the marks, by the stack that allocated them.\n"
	       "Net: live at '%s' minus live at '%s'. Stacks are innermost first.\n", o->to, o->from);
}

static int diff_marks(struct trace *t, const struct opts *o)
{
	struct opts oo = *o;
	struct marks_diff d;
	struct replay r;
	struct symbols *sym = NULL;
	struct key_ent *keys = NULL;
	struct mrow *rows = NULL, tot;
	uint32_t id, nrows = 0, n;
	char buf[1024];
	int ret = -1;

	if (!oo.from)
		oo.from = "start";
	if (!oo.to)
		oo.to = "end";
	memset(&d, 0, sizeof(d));
	memset(&r, 0, sizeof(r));
	memset(&tot, 0, sizeof(tot));
	if (trace_find_mark(t, oo.from, &d.from_ns) < 0 || trace_find_mark(t, oo.to, &d.to_ns) < 0) {
		__pr_log("error: ", "%s: no mark '%s' (marks: %s)\n", t->path,
			 trace_find_mark(t, oo.from, &d.from_ns) < 0 ? oo.from : oo.to,
			 mark_list(t, buf, sizeof(buf)));
		return -1;
	}
	if (d.from_ns > d.to_ns) {
		__pr_log("error: ", "%s: mark '%s' (%" PRIu64 " ns) comes after '%s' (%" PRIu64
			 " ns): swap --from and --to\n", t->path, oo.from, d.from_ns, oo.to, d.to_ns);
		return -1;
	}
	if (!(t->hdr.flags & TRACE_F_MALLOC))
		pr_warn("%s: the malloc family was not recorded (PERFSHIM_EVENTS): no allocations\n",
			t->path);
	r.stop = marks_stop;
	r.next_stop = d.from_ns;
	r.arg = &d;
	if (replay_run(&r, t) < 0 || d.taken != 2)
		goto out;
	sym = sym_open(t);
	if (!sym) {
		__pr_log("error: ", "cannot read symbols for %s\n", t->path);
		goto out;
	}
	if (!o->demangle)
		sym_set_demangle(sym, false);

	/* stacks active between the marks, grouped by function chain */
	rows = xcalloc(d.nto + 1, sizeof(*rows));
	for (id = 0; id < d.nto; id++) {
		const struct snap *b = &d.at_to[id];
		struct snap a = { 0 };
		struct mrow *m;
		bool isnew;

		if (id < d.nfrom)
			a = d.at_from[id];
		if (b->allocs == a.allocs && b->frees == a.frees && b->live_blocks == a.live_blocks)
			continue;
		m = &rows[key_row(&keys, replay_stack_key(t, sym, id), &nrows, &isnew)];
		if (isnew)
			m->stack = id;
		m->allocs += b->allocs - a.allocs;
		m->bytes += b->bytes - a.bytes;
		m->frees += b->frees - a.frees;
		m->freed_bytes += b->freed_bytes - a.freed_bytes;
		m->net_bytes += (int64_t)(b->live_bytes - a.live_bytes);
		m->net_blocks += (int64_t)(b->live_blocks - a.live_blocks);
		m->new_bytes += d.new_bytes[id];
		m->new_blocks += d.new_blocks[id];
	}
	qsort(rows, nrows, sizeof(*rows), cmp_mrow);
	for (id = 0; id < nrows; id++) {
		tot.allocs += rows[id].allocs;
		tot.bytes += rows[id].bytes;
		tot.frees += rows[id].frees;
		tot.freed_bytes += rows[id].freed_bytes;
		tot.new_bytes += rows[id].new_bytes;
		tot.new_blocks += rows[id].new_blocks;
	}
	tot.net_bytes = (int64_t)(d.live_to_bytes - d.live_from_bytes);
	tot.net_blocks = (int64_t)(d.live_to_blocks - d.live_from_blocks);
	n = nrows;
	if (o->format == FMT_JSON) {
		if (o->limit > 0 && (uint64_t)o->limit < n)
			n = (uint32_t)o->limit;
		marks_json(t, sym, &oo, &d, rows, n, &tot);
	} else {
		marks_text(t, sym, &oo, &d, rows, n, &tot);
	}
	fflush(stdout);
	ret = 0;
out:
	key_free(&keys);
	free(rows);
	free(d.at_from);
	free(d.at_to);
	free(d.new_bytes);
	free(d.new_blocks);
	if (sym)
		sym_close(sym);
	replay_free(&r);
	return ret;
}

/* ==== two runs ==== */

enum { BASE = 0, NEW = 1 };

struct frow {				/* a function, by name */
	const char *name;		/* owned by the run's symbols */
	uint64_t calls[2], self[2], total[2], alloc[2];
};

struct srow {				/* an allocation site, by function chain */
	uint32_t stack[2];		/* representative stack per run (0: absent) */
	uint64_t allocs[2], bytes[2], peak[2], leaked[2], leaked_blocks[2];
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
	struct key_ent *fkeys, *skeys;
};

static struct frow *frow_get(struct runs_diff *d, const char *name)
{
	bool isnew;
	uint32_t i = key_row(&d->fkeys, xstrdup(name), &d->nf, &isnew);

	if (i >= d->fcap) {
		d->fcap = d->fcap ? d->fcap * 2 : 64;
		d->f = xrealloc(d->f, d->fcap * sizeof(*d->f));
	}
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
	R->sym = sym_open(R->t);	/* after a walk: the modules are known then */
	if (!R->sym) {
		__pr_log("error: ", "cannot read symbols for %s\n", R->t->path);
		return -1;
	}
	if (!o->demangle)
		sym_set_demangle(R->sym, false);
	for (i = 0; i < R->h.nfuncs; i++) {
		const struct hot_func *hf = &R->h.funcs[i];
		struct frow *f;

		if (!hf->calls)
			continue;
		f = frow_get(d, sym_name(R->sym, R->t->funcs[i], false));
		f->calls[k] += hf->calls;
		f->self[k] += hf->self_ns;
		f->total[k] += hf->total_ns;
		R->self_total += hf->self_ns;
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
		row = key_row(&d->skeys, replay_stack_key(R->t, R->sym, i), &d->ns, &isnew);
		if (row >= d->scap) {
			uint32_t old = d->scap;

			d->scap = d->scap ? d->scap * 2 : 64;
			while (d->scap <= row)
				d->scap *= 2;
			d->s = xrealloc(d->s, d->scap * sizeof(*d->s));
			memset(d->s + old, 0, (d->scap - old) * sizeof(*d->s));
		}
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
	if (!f->calls[BASE]) {
		snprintf(buf, len, "new");
		return buf;
	}
	if (!f->calls[NEW]) {
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
			 fmt_scount(b, sizeof(b), (int64_t)(f->calls[NEW] - f->calls[BASE])));
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

static const struct runs_diff *sort_d;

/* functions: largest self-time change first, then calls, then allocations */
static int cmp_frow(const void *pa, const void *pb)
{
	const struct frow *a = &sort_d->f[*(const uint32_t *)pa];
	const struct frow *b = &sort_d->f[*(const uint32_t *)pb];
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
static int cmp_srow(const void *pa, const void *pb)
{
	const struct srow *a = &sort_d->s[*(const uint32_t *)pa];
	const struct srow *b = &sort_d->s[*(const uint32_t *)pb];
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

	json_stack(j, d->run[k].t, d->run[k].sym, s->stack[k]);
}

static void json_pct(struct json *j, const char *key, uint64_t base, uint64_t new)
{
	double p = pct(base, new);

	if (isinf(p))
		json_null(j, key);
	else
		json_dbl(j, key, p);
}

static void runs_json(const struct runs_diff *d, const uint32_t *fi, uint32_t nf,
		      const uint32_t *si, uint32_t ns, const struct opts *o)
{
	const struct replay *rb = &d->run[BASE].r, *rn = &d->run[NEW].r;
	struct json j;
	char v[256];
	uint32_t i;

	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	json_str(&j, "base", d->run[BASE].t->path);
	json_str(&j, "new", d->run[NEW].t->path);
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
		json_u64(&j, "base_self_ns", f->self[BASE]);
		json_u64(&j, "new_self_ns", f->self[NEW]);
		json_u64(&j, "base_total_ns", f->total[BASE]);
		json_u64(&j, "new_total_ns", f->total[NEW]);
		json_u64(&j, "base_alloc_bytes", f->alloc[BASE]);
		json_u64(&j, "new_alloc_bytes", f->alloc[NEW]);
		json_pct(&j, "calls_change_pct", f->calls[BASE], f->calls[NEW]);
		json_pct(&j, "self_change_pct", f->self[BASE], f->self[NEW]);
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
	static const char *const fhdr[] = { "function", "calls", "self base", "self new", "self %",
					    "total base", "total new", "verdict" };
	static const char *const shdr[] = { "bytes base", "bytes new", "change", "%", "peak base",
					    "peak new", "leaked base", "leaked new", "verdict",
					    "stack" };
	const struct replay *rb = &d->run[BASE].r, *rn = &d->run[NEW].r;
	char c[10][48], v[256], st[1024], nm[128];
	uint32_t i, limit = text_limit(o);
	struct table *tb;

	printf("Base: %s\nNew:  %s\n", d->run[BASE].t->path, d->run[NEW].t->path);
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
			  fmt_sbytes(c[2], 48, (int64_t)(s->bytes[NEW] - s->bytes[BASE])),
			  fmt_pct(c[3], 48, s->bytes[BASE], s->bytes[NEW]),
			  fmt_bytes(c[4], 48, s->peak[BASE]), fmt_bytes(c[5], 48, s->peak[NEW]),
			  fmt_bytes(c[6], 48, s->leaked[BASE]), fmt_bytes(c[7], 48, s->leaked[NEW]),
			  srow_verdict(s, v, sizeof(v)),
			  text_stack(d->run[k].t, d->run[k].sym, s->stack[k], st, sizeof(st)));
	}
	if (ns)
		table_print(tb, stdout);
	else
		printf("  (no change)\n");
	table_free(tb);
	printf("\nTimes are self times unless named total; a self-time change under 5%% of the "
	       "run's total is noise.\n");
}

static int diff_runs(struct trace *base, const struct opts *o)
{
	struct runs_diff d;
	uint32_t i, nf = 0, ns = 0, *fi = NULL, *si = NULL;
	int k, ret = -1;

	memset(&d, 0, sizeof(d));
	d.run[BASE].t = base;
	if (trace_open(o->traces[1], &d.run[NEW].t) < 0)
		return -1;
	trace_set_progress(d.run[NEW].t, o);
	for (k = BASE; k <= NEW; k++)
		if (load_run(&d, k, o) < 0)
			goto out;

	fi = xmalloc((d.nf + 1) * sizeof(*fi));
	si = xmalloc((d.ns + 1) * sizeof(*si));
	/* without --threshold every row is shown; with it, rows whose changes are under it hide */
	for (i = 0; i < d.nf; i++)
		if (o->threshold <= 0 || frow_shown(&d, &d.f[i], o->threshold))
			fi[nf++] = i;
	for (i = 0; i < d.ns; i++)
		if (o->threshold <= 0 || srow_shown(&d.s[i], o->threshold))
			si[ns++] = i;
	sort_d = &d;
	qsort(fi, nf, sizeof(*fi), cmp_frow);
	qsort(si, ns, sizeof(*si), cmp_srow);
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
	key_free(&d.fkeys);
	key_free(&d.skeys);
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

/**
 * report_diff - `diff --from A --to B TRACE` (memory between two marks of @t) or
 * `diff BASE NEW` (@t is BASE; NEW is opened here from o->traces[1]), on stdout as text or
 * JSON per @o. Return: 0, or -1 after one error line (unknown mark, marks out of order,
 * wrong number of traces, unreadable trace).
 */
int report_diff(struct trace *t, const struct opts *o)
{
	if (o->ntraces == 1)
		return diff_marks(t, o);
	if (o->from || o->to) {
		__pr_log("error: ", "diff: --from/--to compare marks of one trace, %d were given\n",
			 o->ntraces);
		return -1;
	}
	if (o->ntraces != 2) {
		__pr_log("error: ", "diff: give one trace with --from/--to, or two (BASE NEW), "
			 "not %d\n", o->ntraces);
		return -1;
	}
	return diff_runs(t, o);
}
