// SPDX-License-Identifier: MIT
/*
 * The `diff` report, two ways (docs/memory-diff.md):
 *   - `--from A --to B TRACE`, here: one memory replay (replay.c) with stops at marks A and
 *     B; per site, what was allocated, freed and is still held between them;
 *   - `BASE NEW`, in report-diff-runs.c: two traces of one program compared.
 * This file also has the helpers both share (diff.h).
 */
#define PR_FMT "diff"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/diff.h"
#include "analyzer/hmap.h"
#include "analyzer/json.h"
#include "analyzer/notes.h"
#include "analyzer/opts.h"
#include "analyzer/replay-log.h"
#include "analyzer/report.h"
#include "analyzer/symbols.h"
#include "analyzer/text.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"

/*
 * diff_key_row - the row of site key @key in @map, a new one (numbered by *@nrows, which it
 * increments; *@isnew set) when absent. Takes ownership of @key.
 */
uint32_t diff_key_row(struct strmap *map, char *key, uint32_t *nrows, bool *isnew)
{
	struct strmap_ent *k = strmap_intern(map, key, isnew);

	if (!*isnew)
		free(key);
	else
		k->v = (*nrows)++;
	return (uint32_t)k->v;
}

/* diff_key_free - empty @map. */
void diff_key_free(struct strmap *map)
{
	struct strmap_ent *k;

	for (k = strmap_each(map, NULL); k; k = strmap_each(map, k))
		free((char *)k->str);
	strmap_free(map);
}

/* diff_fmt_sbytes - a signed byte count, scaled: "+1.5 KiB", "-512 B", "0 B". Return: @buf. */
char *diff_fmt_sbytes(char *buf, size_t len, int64_t v)
{
	char b[28];	/* 26 characters for 2^64 - 1 with commas */

	fmt_bytes(b, sizeof(b), v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
	snprintf(buf, len, "%s%s", v > 0 ? "+" : v < 0 ? "-" : "", b);
	return buf;
}

/* diff_fmt_scount - a signed count with thousands separators: "+1,234". Return: @buf. */
char *diff_fmt_scount(char *buf, size_t len, int64_t v)
{
	char b[28];	/* 26 characters for 2^64 - 1 with commas */

	fmt_count(b, sizeof(b), v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
	snprintf(buf, len, "%s%s", v > 0 ? "+" : v < 0 ? "-" : "", b);
	return buf;
}

/* diff_text_limit - rows per text table: --limit N, all with --limit 0, else DIFF_TEXT_LIMIT. */
uint32_t diff_text_limit(const struct opts *o)
{
	return o->limit > 0 ? (uint32_t)o->limit : o->limit == 0 ? UINT32_MAX : DIFF_TEXT_LIMIT;
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
	notes_json((struct trace *)t, &j);
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
		replay_json_stack(&j, t, sym, r->stack);
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
	uint32_t i, shown, limit = diff_text_limit(o);
	int w;
	struct table *tb;

	notes_text((struct trace *)t, stdout);
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
	       diff_fmt_sbytes(a, sizeof(a), tot->net_bytes), diff_fmt_scount(b, sizeof(b), tot->net_blocks),
	       diff_fmt_scount(c, sizeof(c), tot->net_bytes));
	if (d->unknown_to > d->unknown_from)
		printf("  %-*s %s (blocks never seen allocated)\n", w, "unknown frees",
		       fmt_count(a, sizeof(a), d->unknown_to - d->unknown_from));

	printf("\nGrowth suspects: allocated after '%s' and still live at '%s'\n", o->from, o->to);
	tb = table_new(4, ghdr, "rrrl");
	for (i = shown = 0; i < n && rows[i].new_blocks && shown < limit; i++, shown++)
		table_add(tb, fmt_bytes(a, sizeof(a), rows[i].new_bytes),
			  fmt_count(b, sizeof(b), rows[i].new_blocks),
			  diff_fmt_sbytes(c, sizeof(c), rows[i].net_bytes),
			  replay_text_stack(t, sym, rows[i].stack, st, sizeof(st)));
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
			  diff_fmt_sbytes(f, sizeof(f), rows[i].net_bytes),
			  diff_fmt_scount(g, sizeof(g), rows[i].net_blocks),
			  replay_text_stack(t, sym, rows[i].stack, st, sizeof(st)));
	table_print(tb, stdout);
	table_free(tb);
	if (n > limit)
		printf("  ... %u more (--limit 0 shows all)\n", n - limit);
	printf("\nFreed: blocks released between the marks, by the stack that allocated them.\n"
	       "Net: live at '%s' minus live at '%s'. Stacks are innermost first.\n", o->to, o->from);
	if (replay_truncated_shown())
		printf("%s.\n", TRACE_TRUNCATED_LEGEND);
}

static int diff_marks(struct trace *t, const struct opts *o)
{
	struct opts oo = *o;
	struct marks_diff d;
	struct replay r;
	struct symbols *sym = NULL;
	struct strmap keys = { 0 };
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
	/* the marks are known after a walk, which keeps the heap's events for the replay */
	if (replay_log_info(t) < 0)
		return -1;
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
	if (!(t->hdr.flags & TRACE_F_MALLOC) && !t->nallocs && !t->nfrees && !t->nreallocs)
		pr_warn("%s: the malloc family was not recorded (PERFSHIM_EVENTS): no allocations\n",
			t->path);
	r.stop = marks_stop;
	r.next_stop = d.from_ns;
	r.arg = &d;
	if (replay_run(&r, t) < 0 || d.taken != 2)
		goto out;
	sym = replay_symbols(t, o);
	if (!sym)
		goto out;

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
		m = &rows[diff_key_row(&keys, replay_stack_key(t, sym, id), &nrows, &isnew)];
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
	diff_key_free(&keys);
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

/**
 * report_diff - `diff --from A --to B TRACE` (memory between two marks of @t) or
 * `diff BASE NEW` (@t is BASE; NEW is opened here from o->traces[1]), on stdout as text or
 * JSON per @o. Return: 0, or -1 after one error line (unknown mark, marks out of order,
 * wrong number of traces, unreadable trace).
 */
int report_diff(struct trace *t, const struct opts *o)
{
	if (o->nbase)
		return diff_multi(t, o);	/* --base/--new: report-diff-multi.c */
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
	return diff_runs(t, o);	/* report-diff-runs.c */
}
