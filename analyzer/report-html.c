/* SPDX-License-Identifier: MIT */
/*
 * The `html` report: one self-contained page (inline CSS, SVG and a little JS; nothing is
 * fetched) with the summary figures, the hot-function table, time and allocation flame
 * graphs, the top allocation sites and the leaks. Three walks: calls (call tree and
 * per-function totals), calls again (hot_collect, as `functions`, for p50 and p99), and the
 * heap replay. The page reads fine without JS; with it, tables sort on a
 * header click and flame graphs zoom.
 */
#define PR_FMT "html"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/export.h"

#define HTML_ROWS 50		/* rows per table unless --limit says otherwise */
#define STACK_SHOWN 6		/* frames shown per stack cell (all in its tooltip) */

static const char css[] =
	"body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;"
	"color:#222;background:#fff}\n"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;"
	"border-bottom:1px solid #ddd;padding-bottom:4px}\n"
	".cmd{font-family:monospace;color:#555;word-break:break-all}\n"
	".figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:8px}\n"
	".fig{background:#f4f5f7;border-radius:6px;padding:8px 10px}"
	".fig b{display:block;font-size:18px}.fig span{color:#666;font-size:12px}\n"
	"table{border-collapse:collapse;font-size:13px}th,td{padding:3px 8px;"
	"border-bottom:1px solid #eee;text-align:right;vertical-align:top}\n"
	"th{background:#f4f5f7;cursor:pointer;user-select:none}th.l,td.l{text-align:left}\n"
	"td.l{font-family:monospace;max-width:720px;word-break:break-all}\n"
	"tr:hover td{background:#fafbe6}.note{color:#666;font-size:12px}\n"
	"svg.flame{max-width:100%;height:auto}svg.flame g.f{cursor:pointer}\n"
	".warn{background:#fff1f0;border:1px solid #d33;border-radius:6px;padding:8px 12px;"
	"margin:12px 0;color:#700}.warn ul{margin:4px 0 0 18px;padding:0}\n";

/* Sort on a header click: numbers by data-v (largest first), text alphabetically; again flips. */
static const char sort_js[] =
	"document.querySelectorAll('table.sort').forEach(function(tb){\n"
	" tb.querySelectorAll('th').forEach(function(th,col){th.onclick=function(){\n"
	"  var body=tb.tBodies[0],rows=Array.prototype.slice.call(body.rows),"
	"num=th.className!='l',was=th.getAttribute('data-asc'),asc=num?was=='0':was!='1';\n"
	"  rows.sort(function(a,b){var x=a.cells[col],y=b.cells[col];\n"
	"   var c=num?(+x.getAttribute('data-v'))-(+y.getAttribute('data-v')):"
	"x.textContent.localeCompare(y.textContent);return asc?c:-c;});\n"
	"  th.setAttribute('data-asc',asc?'1':'0');\n"
	"  rows.forEach(function(r){body.appendChild(r);});};});\n"
	"});\n";

struct html {
	struct trace *t;
	const struct opts *o;
	FILE *f;
	struct symbols *sym;
	struct ctree ct;
	struct replay m;
	struct suppressions *supp;
	unsigned rows;
	int thread;			/* --thread's index in this trace, or -1 */
	bool truncated_shown;		/* a stack cell said "[truncated]" */
};

/* a summary figure: a label, a value, an optional note below */
static void fig(FILE *f, const char *label, const char *value, const char *note)
{
	fputs("<div class=\"fig\"><span>", f);
	fput_xml(label, f);
	fputs("</span><b>", f);
	fput_xml(value, f);
	fputs("</b>", f);
	if (note) {
		fputs("<span>", f);
		fput_xml(note, f);
		fputs("</span>", f);
	}
	fputs("</div>\n", f);
}

/* a numeric cell: scaled text, raw value for sorting */
static void num(FILE *f, uint64_t v, const char *unit)
{
	char buf[64];

	fprintf(f, "<td data-v=\"%" PRIu64 "\">%s</td>", v, fmt_value(buf, sizeof(buf), v, unit));
}

/* the banner: what the trace lacks and what was found wrong (notes.c), in plain sight */
static void banner(struct html *h)
{
	struct notes n;
	unsigned i;

	notes_get(h->t, &n);
	if (n.nmissing) {
		fputs("<div class=\"warn\" id=\"incomplete\"><b>Incomplete trace: the figures "
		      "below cover only what was recorded.</b><ul>\n", h->f);
		for (i = 0; i < n.nmissing; i++) {
			fputs("<li>", h->f);
			fput_xml(n.missing[i], h->f);
			fputs("</li>\n", h->f);
		}
		fputs("</ul></div>\n", h->f);
	}
	if (n.nwarn) {
		fputs("<div class=\"warn\"><b>Warnings</b><ul>\n", h->f);
		for (i = 0; i < n.nwarn; i++) {
			fputs("<li>", h->f);
			fput_xml(n.warn[i], h->f);
			fputs("</li>\n", h->f);
		}
		fputs("</ul></div>\n", h->f);
	}
	notes_free(&n);
}

/* the summary figures: duration, threads, calls, allocations, peak, what stayed live */
static void summary(struct html *h)
{
	const struct trace *t = h->t;
	FILE *f = h->f;
	char a[64], b[64], c[96];
	uint32_t i, named = 0;
	uint64_t leaked_bytes, leaked_blocks;

	export_leaked(&h->m, &leaked_bytes, &leaked_blocks);
	fputs("<h2>Summary</h2>\n<div class=\"figs\">\n", f);
	fig(f, "duration", fmt_value(a, sizeof(a), t->duration_ns, "ns"), NULL);
	snprintf(a, sizeof(a), "%u", t->pid ? t->pid : t->hdr.pid);
	fig(f, "pid", a, NULL);
	for (i = 0; i < t->nthreads; i++)
		named += t->threads[i].name[0] != 0;
	snprintf(a, sizeof(a), "%u", t->nthreads);
	fig(f, "threads", a, NULL);
	fig(f, "calls", fmt_value(a, sizeof(a), h->ct.ncalls, NULL), NULL);
	for (i = 0, named = 0; i < h->ct.nfuncs; i++)
		named += h->ct.funcs[i].calls != 0;
	snprintf(a, sizeof(a), "%u", named);
	fig(f, "functions called", a, NULL);
	fig(f, "allocations", fmt_value(a, sizeof(a), h->m.allocs, NULL),
	    fmt_value(b, sizeof(b), h->m.bytes_alloc, "bytes"));
	fig(f, "frees", fmt_value(a, sizeof(a), h->m.frees, NULL), NULL);
	fmt_value(b, sizeof(b), h->m.peak_ns, "ns");
	snprintf(c, sizeof(c), "at %s", b);
	fig(f, "peak live heap", fmt_value(a, sizeof(a), h->m.peak_bytes, "bytes"),
	    h->m.peak_bytes ? c : NULL);
	snprintf(c, sizeof(c), "%s blocks", fmt_value(b, sizeof(b), leaked_blocks, NULL));
	fig(f, t->end_seen ? "still live at exit" : "live when recording stopped",
	    fmt_value(a, sizeof(a), leaked_bytes, "bytes"), c);
	if (t->nlost)
		fig(f, "events lost by the recorder", fmt_value(a, sizeof(a), t->nlost, NULL),
		    NULL);
	if (t->damaged_chunks || t->truncated) {
		snprintf(c, sizeof(c), "%s bytes", fmt_value(b, sizeof(b), t->damaged_bytes, NULL));
		fig(f, "damaged chunks", fmt_value(a, sizeof(a), t->damaged_chunks, NULL), c);
	}
	if (t->hdr.min_duration_ns)
		fig(f, "calls shorter than this were not recorded",
		    fmt_value(a, sizeof(a), t->hdr.min_duration_ns, "ns"), NULL);
	fputs("</div>\n", f);
}

/* the threads (start, end, how their stream ended) and the marks, in trace order */
static void threads_marks(struct html *h)
{
	const struct trace *t = h->t;
	FILE *f = h->f;
	char a[64];
	uint32_t i;

	fputs("<h2>Threads</h2>\n<table class=\"sort\"><thead><tr><th>tid</th>"
	      "<th class=\"l\">name</th><th>first event</th><th>last event</th><th>span</th>"
	      "<th class=\"l\">end</th></tr></thead><tbody>\n", f);
	for (i = 0; i < t->nthreads; i++) {
		const struct trace_thread *th = &t->threads[i];

		if (h->thread >= 0 && (uint32_t)h->thread != i)
			continue;
		fprintf(f, "<tr><td data-v=\"%u\">%u</td><td class=\"l\">", th->tid, th->tid);
		fput_xml(th->name, f);
		fputs("</td>", f);
		num(f, th->first_ns, "ns");
		num(f, th->last_ns, "ns");
		num(f, th->last_ns >= th->first_ns ? th->last_ns - th->first_ns : 0, "ns");
		fprintf(f, "<td class=\"l\">%s</td></tr>\n",
			th->damaged ? "damaged chunk: cut short" :
			th->cut ? "cut at process exit" :
			th->complete ? "exited" : "no last chunk");
	}
	fputs("</tbody></table>\n", f);
	if (!t->nmarks)
		return;
	fputs("<h2>Marks</h2>\n<table class=\"sort\"><thead><tr><th class=\"l\">label</th>"
	      "<th>time</th><th>tid</th></tr></thead><tbody>\n", f);
	for (i = 0; i < t->nmarks; i++) {
		if (h->thread >= 0 && t->marks[i].tid &&
		    t->marks[i].tid != t->threads[h->thread].tid)
			continue;
		fputs("<tr><td class=\"l\">", f);
		fput_xml(t->marks[i].label, f);
		fputs("</td>", f);
		num(f, t->marks[i].ns, "ns");
		snprintf(a, sizeof(a), "%u", t->marks[i].tid);
		/* tid 0: a mark set from outside (SIGUSR2), not by a thread of the program */
		fprintf(f, "<td data-v=\"%u\">%s</td></tr>\n", t->marks[i].tid,
			t->marks[i].tid ? a : "signal");
	}
	fputs("</tbody></table>\n", f);
}

/* qsort has no context argument: the tables being sorted (one report at a time) */
static const struct ctree *sort_ct;

static int by_self(const void *a, const void *b)
{
	const struct func_stat *x = &sort_ct->funcs[*(const uint32_t *)a];
	const struct func_stat *y = &sort_ct->funcs[*(const uint32_t *)b];

	if (x->self_ns != y->self_ns)
		return x->self_ns > y->self_ns ? -1 : 1;
	if (x->calls != y->calls)
		return x->calls > y->calls ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

/*
 * The hot-function table: the functions with the most self time (h->rows of them). Totals
 * come from the call tree; p50/p99 from hot_collect's pass over the exits, the percentiles
 * of the `functions` report (exact up to 256 calls, within 3.2% beyond).
 */
static int hot_functions(struct html *h, int thread)
{
	struct ctree *ct = &h->ct;
	struct hot hot = { 0 };
	uint32_t *order, n = 0, i;
	FILE *f = h->f;
	int ret = 0;

	fputs("<h2>Hot functions</h2>\n", f);
	order = xmalloc((ct->nfuncs + 1) * sizeof(*order));
	for (i = 0; i < ct->nfuncs; i++)
		if (ct->funcs[i].calls && i < h->t->nfuncs)
			order[n++] = i;
	if (!n) {
		fputs("<p class=\"note\">No function calls were recorded (the program was not "
		      "built with -finstrument-functions, or calls were not recorded).</p>\n", f);
		free(order);
		return 0;
	}
	sort_ct = ct;
	qsort(order, n, sizeof(*order), by_self);
	if (n > h->rows) {
		fprintf(f, "<p class=\"note\">The %u functions with the most self time "
			   "of %u.</p>\n",
			h->rows, n);
		n = h->rows;
	}
	if (hot_collect(h->t, thread, 0, &hot) < 0)
		ret = -1;

	fputs("<table class=\"sort\"><thead><tr><th class=\"l\">function</th>"
	      "<th class=\"l\">module</th><th>calls</th><th>total</th><th>self</th>"
	      "<th>self %</th><th>avg</th><th>min</th><th>max</th><th>p50</th><th>p99</th>"
	      "</tr></thead><tbody>\n", f);
	for (i = 0; i < n; i++) {
		const struct func_stat *fs = &ct->funcs[order[i]];
		uint64_t addr = h->t->funcs[order[i]];
		double pct = ct->self_sum_ns ? 100.0 * (double)fs->self_ns /
						   (double)ct->self_sum_ns : 0;

		fputs("<tr><td class=\"l\">", f);
		fput_xml(sym_name(h->sym, addr, false), f);
		fputs("</td><td class=\"l\">", f);
		fput_xml(sym_module_name(h->sym, addr), f);
		fputs("</td>", f);
		num(f, fs->calls, NULL);
		num(f, fs->total_ns, "ns");
		num(f, fs->self_ns, "ns");
		fprintf(f, "<td data-v=\"%.4f\">%.2f%%</td>", pct, pct);
		num(f, fs->calls ? fs->total_ns / fs->calls : 0, "ns");
		num(f, fs->min_ns, "ns");
		num(f, fs->max_ns, "ns");
		/* order[i] < t->nfuncs <= hot.cap: hot_collect sized funcs for every function */
		num(f, hot_percentile(&hot.funcs[order[i]], 50), "ns");
		num(f, hot_percentile(&hot.funcs[order[i]], 99), "ns");
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table>\n<p class=\"note\">total: inclusive time (a recursive function's "
	      "inner calls are not counted twice); self: time not spent in recorded callees; "
	      "p50/p99 exact for functions of up to 256 calls, beyond that within 3.2%.</p>\n",
	      f);
	hot_free(&hot);
	free(order);
	return ret;
}

/* one flame graph, inline (the page's script adds the zoom), or a note when it is empty */
static void flame_section(struct html *h, struct flame *fl, const char *title, const char *id,
			  const char *unit, const char *empty)
{
	struct svg_opts so = { .title = title, .unit = unit, .id = id, .width = 1200 };

	fprintf(h->f, "<h2>");
	fput_xml(title, h->f);
	fprintf(h->f, "</h2>\n");
	flame_finish(fl);
	if (!fl->nodes[0].total) {
		fprintf(h->f, "<p class=\"note\">%s</p>\n", empty);
		return;
	}
	flame_svg(fl, &so, h->f);
}

/* a stack cell: the innermost frames, the whole stack in the tooltip */
static void stack_cell(struct html *h, uint32_t id)
{
	struct trace_stack st = { 0 };
	FILE *f = h->f;
	uint32_t i;

	if (id)
		st = trace_stack_get(h->t, id);
	fputs("<td class=\"l\" title=\"", f);
	for (i = 0; i < st.nframes; i++) {
		if (i)
			fputs("&#10;", f);
		fput_xml(sym_name(h->sym, st.frames[i].ip, st.frames[i].is_ra), f);
	}
	fputs("\">", f);
	if (!st.nframes)
		fputs("[no stack]", f);
	for (i = 0; i < st.nframes && i < STACK_SHOWN; i++) {
		if (i)
			fputs("<br/>&#8592; ", f);
		fput_xml(sym_name(h->sym, st.frames[i].ip, st.frames[i].is_ra), f);
	}
	if (st.nframes > STACK_SHOWN)
		fprintf(f, "<br/>&#8592; &#8230; %u more", st.nframes - STACK_SHOWN);
	if (trace_stack_truncated(h->t, id)) {
		fputs("<br/>&#8592; " TRACE_TRUNCATED_FRAME, f);
		h->truncated_shown = true;
	}
	fputs("</td>", f);
}

static const struct replay *sort_m;
static int sort_by_leak;

static int by_site(const void *a, const void *b)
{
	const struct replay_agg *x = &sort_m->aggs[*(const uint32_t *)a];
	const struct replay_agg *y = &sort_m->aggs[*(const uint32_t *)b];
	uint64_t vx = sort_by_leak ? x->live_bytes : x->bytes;
	uint64_t vy = sort_by_leak ? y->live_bytes : y->bytes;

	if (vx != vy)
		return vx > vy ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

/*
 * Top allocation sites (by bytes) or leaks (by leaked bytes, after the suppressions of the
 * `leaks` report, whose total is said below the table). One row per allocation stack.
 */
static void sites(struct html *h, bool leaks)
{
	const struct replay *m = &h->m;
	uint32_t *order, n = 0, i, total;
	uint64_t bytes = 0, blocks = 0, sup_bytes = 0, sup_blocks = 0;
	FILE *f = h->f;

	if (leaks && !h->t->end_seen)
		fputs("<h2>Live when recording stopped</h2>\n<p class=\"warn\">Note: " NOTES_UNFINISHED
		      ".</p>\n", f);
	else
		fputs(leaks ? "<h2>Leaks</h2>\n" : "<h2>Top allocation sites</h2>\n", f);
	order = xmalloc((m->naggs + 1) * sizeof(*order));
	for (i = 0; i < m->naggs; i++) {
		const struct replay_agg *s = &m->aggs[i];

		if (leaks ? !s->live_blocks : !s->allocs)
			continue;
		if (leaks && h->supp && supp_match(h->supp, h->sym, h->t, i) >= 0) {
			sup_bytes += s->live_bytes;
			sup_blocks += s->live_blocks;
			continue;
		}
		bytes += leaks ? s->live_bytes : s->bytes;
		blocks += leaks ? s->live_blocks : s->allocs;
		order[n++] = i;
	}
	total = n;
	if (!n) {
		fprintf(f, "<p class=\"note\">%s</p>\n",
			leaks ? "No leaks: every block was freed (or suppressed)." :
				"No allocations were recorded.");
	} else {
		char a[64], b[64];

		sort_m = m;
		sort_by_leak = leaks;
		qsort(order, n, sizeof(*order), by_site);
		if (n > h->rows)
			n = h->rows;
		fprintf(f, "<p class=\"note\">%s in %s blocks from %u stacks%s.</p>\n",
			fmt_value(a, sizeof(a), bytes, "bytes"),
			fmt_value(b, sizeof(b), blocks, NULL),
			total, n < total ? " (the largest are listed)" : "");
		fputs("<table class=\"sort\"><thead><tr>"
		      "<th class=\"l\">stack (innermost first)</th>", f);
		fputs(leaks ? "<th>bytes</th><th>blocks</th>" :
			      "<th>bytes</th><th>allocations</th><th>avg</th><th>leaked</th>", f);
		fputs("</tr></thead><tbody>\n", f);
		for (i = 0; i < n; i++) {
			const struct replay_agg *s = &m->aggs[order[i]];

			fputs("<tr>", f);
			stack_cell(h, order[i]);
			if (leaks) {
				num(f, s->live_bytes, "bytes");
				num(f, s->live_blocks, NULL);
			} else {
				num(f, s->bytes, "bytes");
				num(f, s->allocs, NULL);
				num(f, s->allocs ? s->bytes / s->allocs : 0, "bytes");
				num(f, s->live_bytes, "bytes");
			}
			fputs("</tr>\n", f);
		}
		fputs("</tbody></table>\n", f);
		if (h->truncated_shown)
			fputs("<p class=\"note\">" TRACE_TRUNCATED_LEGEND ".</p>\n", f);
		h->truncated_shown = false;
	}
	if (leaks && sup_blocks) {
		char a[64], b[64];

		fprintf(f, "<p class=\"note\">Suppressed (C library and loader allocations that "
			   "live until exit by design, or --suppressions): %s in %s blocks.</p>\n",
			fmt_value(a, sizeof(a), sup_bytes, "bytes"),
			fmt_value(b, sizeof(b), sup_blocks, NULL));
	}
	free(order);
}

/* The sections of one trace; the page head is written before the first one. */
static int html_trace(struct html *h, int index, int ntraces)
{
	const struct trace *t = h->t;
	struct flame fl;
	const char *prog;
	char id[32];
	int ret = -1;

	if (ctree_build(h->t, h->thread, false, &h->ct) < 0)
		return -1;
	if (export_replay(h->t, h->thread, &h->m) < 0)
		return -1;
	h->sym = sym_open(t);
	sym_set_demangle(h->sym, h->o->demangle);

	prog = t->exe && *t->exe ? t->exe : t->path;
	if (!index) {
		fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
		      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
		      "<title>perfshim: ", h->f);
		fput_xml(prog, h->f);
		fprintf(h->f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", css);
	}
	fputs("<h1>perfshim report: ", h->f);
	fput_xml(prog, h->f);
	if (ntraces > 1)
		fprintf(h->f, " (pid %u)", t->pid ? t->pid : t->hdr.pid);
	fputs("</h1>\n<p class=\"cmd\">", h->f);
	fput_xml(t->cmdline ? t->cmdline : "", h->f);
	fputs("</p>\n<p class=\"note\">trace ", h->f);
	fput_xml(t->path, h->f);
	if (h->thread >= 0)
		fprintf(h->f, ", thread %u only", t->threads[h->thread].tid);
	fputs("</p>\n", h->f);

	banner(h);
	summary(h);
	ret = hot_functions(h, h->thread);

	flame_init(&fl);
	flame_of_ctree(t, &h->ct, h->sym, &fl, 0);
	snprintf(id, sizeof(id), index ? "flame-time-%d" : "flame-time", index);
	flame_section(h, &fl, "Time flame graph (self time per call path)", id, "ns",
		      "No function calls were recorded.");
	flame_free(&fl);
	flame_init(&fl);
	flame_of_sites(t, &h->m, M_ALLOC_BYTES, h->sym, NULL, &fl, 0);
	snprintf(id, sizeof(id), index ? "flame-alloc-%d" : "flame-alloc", index);
	flame_section(h, &fl, "Allocation flame graph (bytes allocated per stack)", id, "bytes",
		      "No allocations were recorded.");
	flame_free(&fl);

	sites(h, false);
	sites(h, true);
	threads_marks(h);
	return ret;
}

/*
 * report_html - `perfshim-analyze html [-o FILE] [--limit N] [--thread TID] TRACE...`.
 * @t is the first trace; with several (a process and its children) the page has the
 * sections of each in turn. Return: 0, or -1 after one error line.
 */
int report_html(struct trace *t, const struct opts *o)
{
	struct html h = { .o = o, .rows = o->limit > 0 ? (unsigned)o->limit : HTML_ROWS };
	int n = o->ntraces > 1 ? o->ntraces : 1, i, done = 0, ret = 0;
	struct suppressions *supp = NULL;

	if (!o->no_suppress) {
		supp = supp_load(o->suppressions, true);
		if (!supp)
			return -1;
	}
	h.f = export_open(o);
	if (!h.f) {
		ret = -1;
		goto out;
	}
	for (i = 0; i < n && !ret; i++) {
		struct trace *ti = t;

		if (i && trace_open(o->traces[i], &ti) < 0) {
			ret = -1;
			break;
		}
		h.t = ti;
		h.supp = supp;
		h.thread = opts_thread(ti, o);
		if (h.thread != -2) {
			ret = html_trace(&h, done, n);
			done++;
		}
		sym_close(h.sym);
		h.sym = NULL;
		ctree_free(&h.ct);
		replay_free(&h.m);
		if (i)
			trace_close(ti);
	}
	if (!ret && !done) {
		__pr_log("error: ", "no thread %u in %s", o->thread_tid,
			 n > 1 ? "these traces" : t->path);
		ret = -1;
	}
	if (done)
		fprintf(h.f, "<script>//<![CDATA[\n%s%s//]]>\n</script>\n</body>\n</html>\n",
			sort_js, flame_svg_script());
	if (export_close(h.f, o) < 0)
		ret = -1;
out:
	if (supp)
		supp_free(supp);
	return ret;
}
