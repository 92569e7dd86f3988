/* SPDX-License-Identifier: MIT */
/*
 * The `waits` report: where threads waited. Each off-CPU interval of a thread (offcpu.c) is
 * charged to the call stack the thread had when it was switched out (the stack is known
 * from the entry and exit events around it), so a worker that blocks in read, poll, a lock
 * or a sleep shows the function and the path that blocked. Rows are stacks, longest wait
 * first: wait = blocked (voluntary: it waited for something) + preempted (involuntary: it
 * could run but another task did), and how many times it was switched out there.
 * Off-CPU time outside every traced function (before main, in untraced threads' code) is
 * counted in the totals only. A fork child's stacks include the calls it inherited.
 */
#define PR_FMT "waits"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/hmap.h"
#include "analyzer/json.h"
#include "analyzer/notes.h"
#include "analyzer/offcpu.h"
#include "analyzer/opts.h"
#include "analyzer/report.h"
#include "analyzer/symbols.h"
#include "analyzer/text.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"
#include "analyzer/walk.h"

#define WAITS_DEFAULT_LIMIT 20

/* a call stack: the prefix tree of (parent, function); node 0 is "no call" */
struct wnode {
	uint32_t parent, func;
	uint64_t wait[2];		/* blocked, preempted */
	uint64_t count;			/* switch-outs */
};

struct waits {
	struct trace *t;
	struct wnode *nodes;
	uint32_t nnodes, cap;
	struct ixmap index;		/* (parent << 32 | func) + 1 -> node */
	uint32_t *stack;		/* node of each open call of the current thread */
	uint32_t depth, stack_cap;
	uint32_t thread;		/* the thread being walked */
	bool in_thread;
	const struct offcpu_iv *iv;	/* its intervals, and the next one to charge */
	uint32_t niv, next;
	bool *done;			/* per thread: its intervals were charged */
	uint64_t total[2], outside[2];
};

/* the node of @func called from node @parent, made on first sight */
static uint32_t node_of(struct waits *w, uint32_t parent, uint32_t func)
{
	struct ixmap_ent *e;
	bool created;

	e = ixmap_put(&w->index, ((uint64_t)parent << 32 | func) + 1, &created);
	if (!created)
		return e->ix;
	e->ix = w->nnodes;
	ARRAY_ROOM(w->nodes, w->cap, w->nnodes);
	w->nodes[w->nnodes] = (struct wnode){ .parent = parent, .func = func };
	return w->nnodes++;
}

/* charge the intervals of the current thread that start before @ns to its current stack */
static void charge_until(struct waits *w, uint64_t ns)
{
	uint32_t node = w->depth ? w->stack[w->depth - 1] : 0;

	for (; w->next < w->niv && w->iv[w->next].start < ns; w->next++) {
		const struct offcpu_iv *v = &w->iv[w->next];
		uint64_t d = v->end - v->start;

		w->nodes[node].wait[v->kind & 1] += d;
		w->nodes[node].count++;
		w->total[v->kind & 1] += d;
		if (!node)
			w->outside[v->kind & 1] += d;
	}
}

static void begin_thread(struct waits *w, uint32_t thread)
{
	if (w->in_thread)
		charge_until(w, UINT64_MAX);
	w->thread = thread;
	w->in_thread = true;
	w->depth = 0;
	w->iv = offcpu_intervals(w->t, thread, &w->niv);
	w->next = 0;
	w->done[thread] = true;
}

static int on_event(const struct trace_event *ev, void *ctx)
{
	struct waits *w = ctx;

	if (!w->in_thread || ev->thread != w->thread)
		begin_thread(w, ev->thread);
	charge_until(w, ev->ns);
	if (ev->type == EV_ENTRY) {
		uint32_t parent = w->depth ? w->stack[w->depth - 1] : 0;

		ARRAY_ROOM(w->stack, w->stack_cap, w->depth);
		w->stack[w->depth++] = node_of(w, parent, ev->func);
	} else if (ev->type == EV_EXIT && w->depth) {
		w->depth--;
	}
	return 0;
}

static int cmp_wait(const void *a, const void *b, void *arg)
{
	const struct wnode *n = arg, *x = &n[*(const uint32_t *)a], *y = &n[*(const uint32_t *)b];
	uint64_t wx = x->wait[0] + x->wait[1], wy = y->wait[0] + y->wait[1];

	if (wx != wy)
		return wx > wy ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

/* the stack of node @id, innermost first, as JSON "stack" and "frames" */
static void stack_json(struct json *j, const struct waits *w, struct symbols *sym, uint32_t id)
{
	uint32_t n;

	json_arr_begin(j, "stack");
	for (n = id; n; n = w->nodes[n].parent)
		json_str(j, NULL, sym_func_name(sym, w->nodes[n].func));
	json_arr_end(j);
	json_arr_begin(j, "frames");
	for (n = id; n; n = w->nodes[n].parent) {
		struct sym_info si;

		memset(&si, 0, sizeof(si));
		sym_resolve_func(sym, w->nodes[n].func, &si);
		json_obj_begin(j, NULL);
		json_str(j, "name", sym_func_name(sym, w->nodes[n].func));
		json_str(j, "module", sym_func_module(sym, w->nodes[n].func));
		if (si.file)
			json_str(j, "file", si.file);
		else
			json_null(j, "file");
		if (si.file && si.line)
			json_u64(j, "line", si.line);
		else
			json_null(j, "line");
		json_bool(j, "inlined", false);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void rows_text(const struct waits *w, struct symbols *sym, const uint32_t *rows,
		      uint32_t n)
{
	static const char *const hdr[] = { "Wait", "Blocked", "Preempted", "Count",
					   "Stack (innermost first)" };
	struct table *tb = table_new(5, hdr, "rrrrl");
	char b[4][32], line[1024], nb[256];
	uint32_t i, k;

	for (i = 0; i < n; i++) {
		const struct wnode *nd = &w->nodes[rows[i]];
		size_t len = 0;

		line[0] = 0;
		for (k = rows[i]; k && len < sizeof(line) - 1; k = w->nodes[k].parent)
			len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s",
						len ? " <- " : "",
						short_name(sym_func_name(sym, w->nodes[k].func), nb,
							   sizeof(nb), 60));
		table_add(tb, fmt_ns(b[0], 32, nd->wait[0] + nd->wait[1]),
			  fmt_ns(b[1], 32, nd->wait[0]), fmt_ns(b[2], 32, nd->wait[1]),
			  fmt_count(b[3], 32, nd->count), line);
	}
	table_print(tb, stdout);
	table_free(tb);
}

/* What the report prints of the rows: @rows (n of them) are sorted, the limit applied. */
static void waits_out(struct waits *w, struct symbols *sym, const uint32_t *rows, uint32_t n,
		      const struct opts *o)
{
	struct trace *t = w->t;
	char a[4][32];
	uint32_t i;

	if (o->format == FMT_JSON) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		notes_json(t, &j);
		json_bool(&j, "switches", offcpu_present(t));
		json_u64(&j, "total_wait_ns", w->total[0] + w->total[1]);
		json_u64(&j, "outside_ns", w->outside[0] + w->outside[1]);
		json_arr_begin(&j, "waits");
		for (i = 0; i < n; i++) {
			const struct wnode *nd = &w->nodes[rows[i]];

			json_obj_begin(&j, NULL);
			json_str(&j, "name", sym_func_name(sym, nd->func));
			stack_json(&j, w, sym, rows[i]);
			json_u64(&j, "wait_ns", nd->wait[0] + nd->wait[1]);
			json_u64(&j, "voluntary_ns", nd->wait[0]);
			json_u64(&j, "involuntary_ns", nd->wait[1]);
			json_u64(&j, "count", nd->count);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		json_finish(&j);
		return;
	}
	notes_text(t, stdout);
	if (!offcpu_present(t)) {
		printf("No context switches in %s: it was recorded without them (times are "
		       "wall-clock), so where threads waited is not known.\n", t->path);
		return;
	}
	printf("Off-CPU time: %s (blocked %s, preempted %s)", fmt_ns(a[0], 32,
	       w->total[0] + w->total[1]), fmt_ns(a[1], 32, w->total[0]),
	       fmt_ns(a[2], 32, w->total[1]));
	if (w->outside[0] + w->outside[1])
		printf(", of which %s outside every traced function",
		       fmt_ns(a[3], 32, w->outside[0] + w->outside[1]));
	printf(".\nBlocked: the thread waited (system call, lock, sleep); preempted: it could "
	       "run, another task ran.\n");
	if (n)
		rows_text(w, sym, rows, n);
	else
		printf("No thread waited inside a traced function.\n");
}

/**
 * report_waits - where the threads of @t (or --thread) waited: off-CPU time by call stack,
 * longest first (--limit rows, default 20; 0 = all).
 * Return: 0, or -1 on bad input (reported).
 */
int report_waits(struct trace *t, const struct opts *o)
{
	struct waits w = { .t = t };
	struct symbols *sym = NULL;
	uint32_t *rows = NULL, n = 0, i;
	int thread = opts_thread(t, o), rc = -1;

	if (thread == -2) {
		pr_warn("%s: no thread %u in the trace", t->path, o->thread_tid);
		return -1;
	}
	w.cap = 256;
	w.nodes = xmalloc(w.cap * sizeof(*w.nodes));
	w.nodes[0] = (struct wnode){ .func = UINT32_MAX };
	w.nnodes = 1;
	w.done = xcalloc(t->nthreads + 1, sizeof(*w.done));
	if (offcpu_present(t)) {
		if (offcpu_load(t) < 0 ||
		    trace_walk(t, WALK_CALLS | WALK_INHERITED, thread, on_event, &w) < 0)
			goto out;
		if (w.in_thread)
			charge_until(&w, UINT64_MAX);
		/* threads without a call: all their waits are outside traced functions */
		for (i = 0; i < t->nthreads; i++) {
			if (w.done[i] || (thread >= 0 && (uint32_t)thread != i))
				continue;
			w.in_thread = false;
			begin_thread(&w, i);
			charge_until(&w, UINT64_MAX);
			w.in_thread = false;
		}
	} else if (trace_info(t) < 0) {
		goto out;
	}
	rows = xmalloc(w.nnodes * sizeof(*rows));
	for (i = 1; i < w.nnodes; i++)
		if (w.nodes[i].wait[0] + w.nodes[i].wait[1])
			rows[n++] = i;
	qsort_r(rows, n, sizeof(*rows), cmp_wait, w.nodes);
	if (o->limit < 0 && n > WAITS_DEFAULT_LIMIT)
		n = WAITS_DEFAULT_LIMIT;
	else if (o->limit > 0 && (uint64_t)o->limit < n)
		n = (uint32_t)o->limit;
	sym = sym_open(t);
	sym_set_demangle(sym, o->demangle);
	waits_out(&w, sym, rows, n, o);
	rc = 0;
out:
	sym_close(sym);
	free(rows);
	free(w.nodes);
	ixmap_free(&w.index);
	free(w.stack);
	free(w.done);
	return rc;
}
