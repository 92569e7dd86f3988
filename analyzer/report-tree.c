/* SPDX-License-Identifier: MIT */
/*
 * `functions --tree TRACE...`: the traces of one process tree (a program, the children it
 * forked or spawned, the images they exec'd: PATH, PATH.<pid>, PATH.exec) as one table.
 * Each trace's calls are its process's own: a fork child's trace re-opens the calls it
 * inherited, but the reader leaves those out (docs/trace-format.md "Inherited calls"), so
 * summed, every call is counted once, in the process that made it. A function is the same
 * function in every trace that ran the same code: the same module (by build-id, else path)
 * at the same offset. docs/design.md "Analyzer" has the rest.
 */
#define PR_FMT "tree"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/hist.h"
#include "analyzer/hmap.h"
#include "analyzer/hot-table.h"
#include "analyzer/hot.h"
#include "analyzer/json.h"
#include "analyzer/opts.h"
#include "analyzer/report.h"
#include "analyzer/symbols.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"

struct tree_fn {
	char *key;			/* module identity and offset (func_key) */
	const char *name, *module;	/* from the first trace that called it */
	uint64_t addr;
	const char *file;		/* its definition (DWARF), or NULL */
	unsigned line;
};

struct tree {
	struct trace **t;
	struct symbols **sym;
	int n;
	struct hot all;			/* indexed like fn[] */
	struct tree_fn *fn;
	uint32_t nfn, cap;
	struct ixmap index;		/* fn[] by the key's hmap_key_str */
};

/*
 * The identity of function @f of @t: its module's build-id (or path when it has none) and
 * its offset in it; an address outside every module stands for itself.
 */
static char *func_key(struct symbols *sym, uint32_t f)
{
	struct sym_info si;
	char *key;

	sym_resolve_func(sym, f, &si);
	if (si.module_id && si.module_id[0]) {
		if (asprintf(&key, "id:%s+%" PRIx64, si.module_id, si.module_off) < 0)
			key = NULL;
	} else if (si.module) {
		if (asprintf(&key, "path:%s+%" PRIx64, si.module, si.module_off) < 0)
			key = NULL;
	} else if (asprintf(&key, "addr:%" PRIx64, sym_func_addr(sym, f)) < 0) {
		key = NULL;
	}
	if (!key)
		pr_fatal("out of memory");
	return key;
}

/* The merged index of function @f of trace @k (added on first sight). */
static uint32_t tree_index(struct tree *tr, int k, uint32_t f)
{
	char *key = func_key(tr->sym[k], f);
	uint64_t h = hmap_key_str(key);
	struct ixmap_ent *e;

	for (e = ixmap_get(&tr->index, h); e; e = ixmap_next(&tr->index, e))
		if (!strcmp(tr->fn[e->ix].key, key)) {
			free(key);
			return e->ix;
		}
	if (tr->nfn == tr->cap) {
		tr->cap = ARRAY_NEXT_CAP(tr->cap, tr->nfn + 1);
		ARRAY_RESIZE(tr->fn, tr->cap);
		ARRAY_RESIZE(tr->all.funcs, tr->cap);
		ARRAY_CLEAR(tr->all.funcs, tr->nfn, tr->cap);
		tr->all.cap = tr->cap;
	}
	tr->fn[tr->nfn] = (struct tree_fn){ key, sym_func_name(tr->sym[k], f),
					    sym_func_module(tr->sym[k], f),
					    sym_func_addr(tr->sym[k], f), NULL, 0 };
	if (sym_func_decl(tr->sym[k], f, &tr->fn[tr->nfn].file, &tr->fn[tr->nfn].line) < 0)
		tr->fn[tr->nfn].file = NULL;
	ixmap_add(&tr->index, h)->ix = tr->nfn;
	return tr->nfn++;
}

/* Collect trace @k's calls (the threads --thread selects) and add them to the tree's. */
static int tree_add(struct tree *tr, int k, const struct opts *o)
{
	struct trace *t = tr->t[k];
	struct hot h = { 0 };
	uint32_t i;
	int rc = 0;

	if (o->thread_set) {
		/* a one-thread walk does not see the modules the other threads recorded */
		rc = trace_info(t);
		for (i = 0; i < t->nthreads && !rc; i++)
			if (t->threads[i].tid == o->thread_tid)
				rc = hot_collect(t, (int)i, 0, &h);
	} else {
		rc = hot_collect(t, -1, 0, &h);
	}
	if (rc < 0) {
		hot_free(&h);
		return -1;
	}
	tr->sym[k] = sym_open(t);
	sym_set_demangle(tr->sym[k], o->demangle);
	for (i = 0; i < h.nfuncs; i++) {
		uint32_t m;

		if (!h.funcs[i].calls)
			continue;
		m = tree_index(tr, k, i);
		hot_func_add(&tr->all.funcs[m], &h.funcs[i]);
	}
	tr->all.nfuncs = tr->nfn;
	tr->all.ncalls += h.ncalls;
	tr->all.switches |= h.switches;
	hot_free(&h);
	return 0;
}

/* The trace of the process that made trace @k: its parent, or the image it replaced. */
static int tree_parent(const struct tree *tr, int k)
{
	const struct trace *t = tr->t[k];
	int i;

	for (i = 0; i < tr->n; i++) {
		const struct trace *p = tr->t[i];

		if (i != k && ((t->hdr.flags & TRACE_F_EXEC) ? p->pid == t->pid
							     : p->pid == t->ppid))
			return i;
	}
	return -1;
}

/* One line per trace (text) or the "tree" array (JSON); a warning when not one tree. */
static void tree_describe(const struct tree *tr, const struct opts *o, struct json *j)
{
	int i, roots = 0;

	if (j)
		json_arr_begin(j, "tree");
	else if (o->format == FMT_TEXT)
		printf("Process tree of %d traces:\n", tr->n);
	for (i = 0; i < tr->n; i++) {
		const struct trace *t = tr->t[i];
		int p = tree_parent(tr, i);

		roots += p < 0;
		if (j) {
			json_obj_begin(j, NULL);
			json_str(j, "trace", t->path);
			json_u64(j, "pid", t->pid);
			json_u64(j, "ppid", t->ppid);
			json_bool(j, "exec", t->hdr.flags & TRACE_F_EXEC);
			if (p >= 0)
				json_str(j, "parent", tr->t[p]->path);
			else
				json_null(j, "parent");
			json_obj_end(j);
		} else if (o->format == FMT_TEXT) {
			printf("  %s: pid %u, %s\n", t->path, t->pid,
			       p < 0 ? "the root" : t->hdr.flags & TRACE_F_EXEC ? "exec'd by it"
										: "a child");
		}
	}
	if (j)
		json_arr_end(j);
	else if (o->format == FMT_TEXT)
		putchar('\n');
	if (roots > 1)
		pr_warn("the %d traces are not one process tree (%d have no parent or earlier "
			"image among them): their calls are summed all the same", tr->n, roots);
}

/**
 * report_functions_tree - `functions --tree`: every trace of @o opened, its calls collected
 * and added up by function (see the top of this file), printed as `functions` prints one
 * trace's (--sort, --limit, --filter, --thread, --format).
 * Return: 0, or -1 when a trace cannot be read or an option is bad (told).
 */
int report_functions_tree(const struct opts *o)
{
	struct tree tr = { .n = o->ntraces };
	const char **name = NULL, **module = NULL, **file = NULL;
	unsigned *line = NULL;
	uint64_t *addr = NULL;
	struct hot_names nm;
	struct json j;
	uint32_t i;
	int k, rc = 0;

	tr.t = xcalloc((size_t)tr.n, sizeof(*tr.t));
	tr.sym = xcalloc((size_t)tr.n, sizeof(*tr.sym));
	for (k = 0; k < tr.n && !rc; k++) {
		if (trace_open(o->traces[k], &tr.t[k]) < 0)
			rc = -1;
		else
			trace_set_progress(tr.t[k], o);
	}
	for (k = 0; k < tr.n && !rc; k++)
		rc = tree_add(&tr, k, o);
	if (rc)
		goto out;
	name = xcalloc(tr.nfn + 1, sizeof(*name));
	module = xcalloc(tr.nfn + 1, sizeof(*module));
	file = xcalloc(tr.nfn + 1, sizeof(*file));
	line = xcalloc(tr.nfn + 1, sizeof(*line));
	addr = xcalloc(tr.nfn + 1, sizeof(*addr));
	for (i = 0; i < tr.nfn; i++) {
		name[i] = tr.fn[i].name;
		file[i] = tr.fn[i].file;
		line[i] = tr.fn[i].line;
		module[i] = tr.fn[i].module;
		addr[i] = tr.fn[i].addr;
	}
	nm = (struct hot_names){ .name = name, .module = module, .addr = addr, .file = file,
				 .line = line };
	if (o->format == FMT_JSON) {
		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		tree_describe(&tr, o, &j);
		rc = hot_print_functions(&tr.all, &nm, o, &j);
		json_obj_end(&j);
		json_finish(&j);
	} else {
		tree_describe(&tr, o, NULL);
		if (o->format == FMT_TEXT && !tr.all.ncalls)
			printf("No function calls in these traces.\n");
		else
			rc = hot_print_functions(&tr.all, &nm, o, NULL);
	}
out:
	for (i = 0; i < tr.nfn; i++)
		free(tr.fn[i].key);
	for (k = 0; k < tr.n; k++) {
		sym_close(tr.sym[k]);
		trace_close(tr.t[k]);
	}
	free(tr.fn);
	ixmap_free(&tr.index);
	hot_free(&tr.all);
	free(tr.t);
	free(tr.sym);
	free(name);
	free(module);
	free(file);
	free(line);
	free(addr);
	return rc;
}
