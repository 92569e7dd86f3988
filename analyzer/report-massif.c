/* SPDX-License-Identifier: MIT */
/*
 * The `massif` report: valgrind massif's out-file format, what ms_print and
 * massif-visualizer read. The heap replay (replay.c, as `memory` counts) stops at
 * MASSIF_SNAPSHOTS evenly spaced times and gives the live heap at each; every tenth of them
 * (massif's --detailed-freq) and the peak carry the tree of allocation stacks holding that
 * heap: its root is the heap, its children the allocating functions, and below each the
 * callers, outward (massif's order). Stacks under --threshold percent (default 1, massif's)
 * of a snapshot are summed into one "in N places, below massif's threshold" line per parent.
 * mem_heap_extra_B and mem_stacks_B are 0: the recorder sees requested sizes only.
 */
#define PR_FMT "massif"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/export.h"
#include "analyzer/opts.h"
#include "analyzer/report.h"
#include "analyzer/symbols.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"

#define MASSIF_DEFAULT_FILE "massif.out.perfshim"
#define MASSIF_SNAPSHOTS 50
#define MASSIF_DETAILED_FREQ 10
#define NONE UINT32_MAX

struct snap {
	uint64_t ns;			/* since the trace start */
	uint64_t bytes_moved;		/* bytes allocated and freed so far (--time-unit=B) */
	uint64_t heap;			/* live bytes */
	bool detailed, peak;
	uint32_t *ids;			/* detailed: the stacks live then, and their bytes */
	uint64_t *bytes;
	uint32_t n;
};

struct massif {
	struct trace *t;
	struct snap *snaps;
	uint32_t nsnaps;
	uint64_t end_ns;		/* the last stop's time */
	uint32_t k;			/* stops made */
	uint64_t peak_seen, peak_moved; /* the highest live heap so far, and when (B) */
};

/* the live stacks of @r now, or (@peak) at its last peak */
static void take_tree(struct snap *s, const struct replay *r, bool peak)
{
	uint32_t i;

	s->ids = xmalloc((r->naggs + 1) * sizeof(*s->ids));
	s->bytes = xmalloc((r->naggs + 1) * sizeof(*s->bytes));
	for (i = 0; i < r->naggs; i++) {
		uint64_t b = peak ? replay_peak_bytes(r, &r->aggs[i]) : r->aggs[i].live_bytes;

		if (b) {
			s->ids[s->n] = i;
			s->bytes[s->n++] = b;
		}
	}
}

static uint64_t stop_at(struct replay *r, uint64_t at, void *arg)
{
	struct massif *m = arg;
	struct snap *s = &m->snaps[m->nsnaps++];

	memset(s, 0, sizeof(*s));
	s->ns = at;
	s->bytes_moved = r->bytes_alloc + r->bytes_freed;
	s->heap = r->live_bytes;
	s->detailed = m->k % MASSIF_DETAILED_FREQ == MASSIF_DETAILED_FREQ - 1;
	if (s->detailed)
		take_tree(s, r, false);
	m->k++;
	if (m->k >= MASSIF_SNAPSHOTS)
		return UINT64_MAX;
	return m->end_ns / (MASSIF_SNAPSHOTS - 1) * m->k +
	       m->end_ns % (MASSIF_SNAPSHOTS - 1) * m->k / (MASSIF_SNAPSHOTS - 1);
}

/* after each change of the heap: when (in bytes moved) the peak was reached */
static void on_change(struct replay *r, uint64_t ns, void *arg)
{
	struct massif *m = arg;

	if (r->peak_bytes > m->peak_seen) {
		m->peak_seen = r->peak_bytes;
		m->peak_moved = r->bytes_alloc + r->bytes_freed;
	}
}

/* ---- the tree of a detailed snapshot ---- */

/* "0xADDR: name (file:line)", or "(in module)" without a line, as massif names a frame */
static const char *frame_text(struct symbols *sym, const struct trace_frame *f, char *buf,
			      size_t len)
{
	char name[1024], file[1024];
	struct where w;

	export_where(sym, f, 0, &w);
	export_flat(w.line[0].name, "#", name, sizeof(name));
	if (w.line[0].file && w.line[0].line)
		snprintf(buf, len, "0x%" PRIX64 ": %s (%s:%u)", f->ip, name,
			 export_flat(w.line[0].file, "#", file, sizeof(file)), w.line[0].line);
	else if (w.module)
		snprintf(buf, len, "0x%" PRIX64 ": %s (in %s)", f->ip, name,
			 export_flat(w.module, "#", file, sizeof(file)));
	else
		snprintf(buf, len, "0x%" PRIX64 ": %s", f->ip, name);
	return buf;
}

/* the flame tree of @s: one path per live stack, innermost frame first */
static void build_tree(const struct trace *t, struct symbols *sym, const struct snap *s,
		       struct flame *fl)
{
	uint32_t *names = NULL, cap = 0, i, k, n;
	char buf[2300];

	for (i = 0; i < s->n; i++) {
		struct trace_stack st = { 0 };

		if (s->ids[i])
			st = trace_stack_get(t, s->ids[i]);
		ARRAY_GROW(names, cap, (size_t)st.nframes + 2);
		for (k = 0, n = 0; k < st.nframes; k++)
			names[n++] = flame_name(fl, frame_text(sym, &st.frames[k], buf, sizeof(buf)));
		if (!st.nframes)
			names[n++] = flame_name(fl, "[no stack]");
		else if (trace_stack_truncated(t, s->ids[i]))
			names[n++] = flame_name(fl, TRACE_TRUNCATED_FRAME);
		flame_add(fl, 0, names, n, s->bytes[i]);
	}
	free(names);
	flame_finish(fl);
}

static const struct flame *sort_fl;

static int by_size(const void *a, const void *b)
{
	const struct flame_node *x = &sort_fl->nodes[*(const uint32_t *)a];
	const struct flame_node *y = &sort_fl->nodes[*(const uint32_t *)b];

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return strcmp(sort_fl->names[x->name], sort_fl->names[y->name]);
}

/* one node and its subtree, children largest first, the small ones summed in one line */
static void put_node(FILE *f, const struct flame *fl, uint32_t id, unsigned depth,
		     uint64_t heap, double threshold)
{
	const struct flame_node *nd = &fl->nodes[id];
	uint32_t c, n = 0, nsig = 0, *kids, i;
	uint64_t small = 0;

	for (c = nd->first_child; c != NONE; c = fl->nodes[c].next)
		n++;
	kids = xmalloc((n + 1) * sizeof(*kids));
	for (c = nd->first_child, i = 0; c != NONE; c = fl->nodes[c].next)
		kids[i++] = c;
	sort_fl = fl;
	qsort(kids, n, sizeof(*kids), by_size);
	for (i = 0; i < n; i++) {
		if ((double)fl->nodes[kids[i]].total * 100.0 >= threshold * (double)heap &&
		    fl->nodes[kids[i]].total)
			kids[nsig++] = kids[i];
		else
			small += fl->nodes[kids[i]].total;
	}
	fprintf(f, "%*sn%u: %" PRIu64 " %s\n", depth, "", nsig + (n > nsig), nd->total,
		id ? fl->names[nd->name]
		   : "(heap allocation functions) malloc/new/new[], --alloc-fns, etc.");
	for (i = 0; i < nsig; i++)
		put_node(f, fl, kids[i], depth + 1, heap, threshold);
	if (n > nsig)
		fprintf(f, "%*sn0: %" PRIu64 " in %u place%s, %sbelow massif's threshold "
			"(%.2f%%)\n", depth + 1, "", small, n - nsig, n - nsig == 1 ? "" : "s",
			n - nsig == 1 ? "" : "all ", threshold);
	free(kids);
}

static int by_time(const void *a, const void *b)
{
	const struct snap *x = a, *y = b;

	if (x->ns != y->ns)
		return x->ns < y->ns ? -1 : 1;
	return x->peak - y->peak;	/* the peak after a regular snapshot of its time */
}

static void write_massif(struct massif *m, struct symbols *sym, const struct opts *o,
			 const struct strv *notes, FILE *f)
{
	const struct trace *t = m->t;
	bool bytes_unit = o->time_unit && !strcmp(o->time_unit, "B");
	double threshold = o->threshold_set ? o->threshold : 1.0;
	char buf[4096];
	uint32_t i;
	unsigned k;

	fprintf(f, "desc: perfshim-analyze massif %s (--threshold=%.2f)\n",
		export_flat(t->path, "#", buf, sizeof(buf)), threshold);
	for (k = 0; k < notes->n; k++)
		fprintf(f, "desc: %s\n", export_flat(notes->v[k], "#", buf, sizeof(buf)));
	fprintf(f, "cmd: %s\n", export_flat(t->cmdline ? t->cmdline : t->exe ? t->exe : t->path,
					    "#", buf, sizeof(buf)));
	fprintf(f, "time_unit: %s\n", bytes_unit ? "B" : "ms");
	for (i = 0; i < m->nsnaps; i++) {
		const struct snap *s = &m->snaps[i];

		fprintf(f, "#-----------\nsnapshot=%u\n#-----------\n", i);
		fprintf(f, "time=%" PRIu64 "\n", bytes_unit ? s->bytes_moved : s->ns / 1000000);
		fprintf(f, "mem_heap_B=%" PRIu64 "\nmem_heap_extra_B=0\nmem_stacks_B=0\n",
			s->heap);
		if (!s->detailed && !s->peak) {
			fprintf(f, "heap_tree=empty\n");
			continue;
		}
		fprintf(f, "heap_tree=%s\n", s->peak ? "peak" : "detailed");
		{
			struct flame fl;

			flame_init(&fl);
			build_tree(t, sym, s, &fl);
			put_node(f, &fl, 0, 0, s->heap, threshold);
			flame_free(&fl);
		}
	}
}

/*
 * report_massif - `perfshim-analyze massif [--threshold=PCT] [--time-unit=ms|B] [-o FILE]
 * TRACE`: the massif out-file of one trace, to FILE (default massif.out.perfshim; "-" is
 * stdout). Return: 0, or -1 after one error line.
 */
int report_massif(struct trace *t, const struct opts *o)
{
	struct massif m = { .t = t };
	struct symbols *sym = NULL;
	struct strv notes = { 0 };
	struct replay r = { 0 };
	struct opts wo = *o;
	struct snap *peak;
	int ret = -1;
	uint32_t i;
	FILE *f;

	for (i = 0; i < t->nthreads; i++)
		if (t->threads[i].last_ns > m.end_ns)
			m.end_ns = t->threads[i].last_ns;
	m.snaps = xcalloc(MASSIF_SNAPSHOTS + 1, sizeof(*m.snaps));
	r.stop = stop_at;
	r.next_stop = 0;
	r.change = on_change;
	r.arg = &m;
	if (export_replay(t, -1, &r) < 0)
		goto out;
	/* the peak, with the stacks that held it (replay.c's lazy snapshot) */
	peak = &m.snaps[m.nsnaps++];
	peak->ns = r.peak_ns;
	peak->bytes_moved = m.peak_moved;
	peak->heap = r.peak_bytes;
	peak->peak = true;
	take_tree(peak, &r, true);
	qsort(m.snaps, m.nsnaps, sizeof(*m.snaps), by_time);
	sym = replay_symbols(t, o);
	if (!sym)
		goto out;
	export_notes(t, &notes, false, false);
	if (!r.allocs)
		strv_add(&notes, "no allocations recorded");
	wo.output = o->output ? o->output : MASSIF_DEFAULT_FILE;
	f = export_open(&wo);
	if (!f)
		goto out;
	write_massif(&m, sym, o, &notes, f);
	ret = export_close(f, &wo);
	if (!ret && !o->output)
		__pr_log("", "wrote %s: ms_print %s, or massif-visualizer", wo.output, wo.output);
out:
	for (i = 0; i < m.nsnaps; i++) {
		free(m.snaps[i].ids);
		free(m.snaps[i].bytes);
	}
	free(m.snaps);
	sym_close(sym);
	strv_free(&notes);
	replay_free(&r);
	return ret;
}
