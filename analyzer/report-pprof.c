/* SPDX-License-Identifier: MIT */
/*
 * The `pprof` report: a gzipped profile.proto (github.com/google/pprof, proto/profile.proto),
 * what `go tool pprof`, Pyroscope and Parca read. Six sample types in every profile:
 *   calls/count            calls of the sample's leaf function along that call path
 *   wall/nanoseconds       their self time (so pprof's flat is `functions`' self, and its
 *                          cum the inclusive total, recursion counted once)
 *   alloc_objects/count    allocations made by the sample's allocation stack
 *   alloc_space/bytes      bytes they asked for (a realloc to a new size counts its size)
 *   inuse_objects/count    of those, blocks still live at the end (as `leaks --no-suppress`)
 *   inuse_space/bytes      and their bytes
 * and a seventh, last (the others keep their indices), when the trace has context switches
 * (offcpu.c):
 *   cpu/nanoseconds        the self time less the off-CPU time within it (flat is
 *                          `functions`' cpu_self_ns, cum its cpu_total_ns)
 * Without context switches there is no cpu type and the comments say times are wall-clock.
 * Call samples come from the ENTRY/EXIT call tree with a root per thread (model.c's
 * model_build: one walk for every thread, which keeps the heap's events for the replay),
 * one per call path of a thread; their locations are the functions' entry addresses.
 * Allocation samples come from the heap replay (replay.c), one per recorded stack; their
 * locations are the frames' return addresses. A sample of one kind has zeros in the other
 * kind's values; call samples have their thread's labels (tid, and thread: its name).
 * Locations carry the function, file and line (export_where) and their module's mapping
 * with its build-id, and the mappings say functions and lines are known, so pprof does not
 * symbolize again.
 * What the trace lacks (notes.c) goes into the profile's comments.
 */
#define PR_FMT "pprof"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/export.h"
#include "analyzer/hmap.h"
#include "analyzer/model.h"
#include "analyzer/offcpu.h"
#include "analyzer/opts.h"
#include "analyzer/replay-log.h"
#include "analyzer/report.h"
#include "analyzer/symbols.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"

#define PPROF_DEFAULT_FILE "perfshim.pb.gz"
#define PPROF_FOLD_DEPTH FLAME_FOLD_DEPTH	/* recursion folding, as the flame graph */

/* profile.proto field numbers */
enum {
	P_SAMPLE_TYPE = 1, P_SAMPLE, P_MAPPING, P_LOCATION, P_FUNCTION, P_STRING_TABLE,
	P_TIME_NANOS = 9, P_DURATION_NANOS, P_COMMENT = 13, P_DEFAULT_SAMPLE_TYPE,
};
enum { V_CALLS, V_WALL, V_ALLOC_OBJECTS, V_ALLOC_SPACE, V_INUSE_OBJECTS, V_INUSE_SPACE,
       V_CPU, NVALUES };
static const char *const value_types[NVALUES][2] = {
	{ "calls", "count" }, { "wall", "nanoseconds" }, { "alloc_objects", "count" },
	{ "alloc_space", "bytes" }, { "inuse_objects", "count" }, { "inuse_space", "bytes" },
	{ "cpu", "nanoseconds" },
};

/* A call path of the (recursion-folded) call tree. */
struct pnode {
	uint32_t parent, func, depth;
	uint64_t calls, self_ns, cpu_ns;
};

/* A frame location's identity: address, module and whether it is a return address. */
struct ploc {
	uint64_t ip;
	uint32_t module;
	bool is_ra;
	uint32_t id, next;		/* location id; next with the same hash (0: none) */
};

struct pprof {
	struct trace *t;
	struct symbols *sym;
	struct pbuf samples, mappings, locations, functions;
	/* the string table: index 0 is "" */
	char **strs;
	uint32_t nstrs, strs_cap;
	struct strmap str_index;	/* string -> its index into strs */
	struct xmap func_index;		/* (name << 32 | file) + 1 -> function id */
	uint32_t nfunctions;
	struct xmap loc_index;		/* func + 1 | 1 << 63 -> location id; hash -> ploc + 1 */
	struct ploc *plocs;
	uint32_t nplocs, plocs_cap;
	uint32_t nlocations;
	uint32_t *mapping_of;		/* module index -> mapping id */
	uint32_t no_stack, truncated;	/* pseudo locations, 0 until made */
	bool inline_frames;
	unsigned nvalues;		/* V_CPU + 1 with context switches, else V_CPU */
	uint64_t folded, nsamples;
};

/* str_id - the string table index of @s (added when new); NULL is "" */
static uint32_t str_id(struct pprof *p, const char *s)
{
	struct strmap_ent *e;
	bool created;

	if (!s || !*s)
		return 0;
	e = strmap_intern(&p->str_index, s, &created);
	if (!created)
		return (uint32_t)e->v;
	ARRAY_ROOM(p->strs, p->strs_cap, p->nstrs);
	p->strs[p->nstrs] = xstrdup(s);
	e->str = p->strs[p->nstrs];	/* the map keeps the copy, not the caller's */
	e->v = p->nstrs;
	return p->nstrs++;
}

/* function_id - the Function of (@name, @file), written when new */
static uint32_t function_id(struct pprof *p, const char *name, const char *file,
			    unsigned start_line)
{
	uint32_t n = str_id(p, name), f = str_id(p, file);
	struct xmap_val *v;
	struct pbuf m = { 0 };
	bool created;

	v = xmap_put(&p->func_index, ((uint64_t)n << 32 | f) + 1, &created);
	if (!created)
		return v->w;
	v->w = ++p->nfunctions;
	pb_uint(&m, 1, v->w);
	pb_uint(&m, 2, n);
	pb_uint(&m, 3, n);		/* system_name: the name as shown (--no-demangle: raw) */
	pb_uint(&m, 4, f);
	pb_uint(&m, 5, start_line);
	pb_bytes(&p->functions, P_FUNCTION, m.p, m.n);
	pb_free(&m);
	return v->w;
}

/* write a Location: @id, its module's mapping, @addr, and the lines of @w (innermost first) */
static void put_location(struct pprof *p, uint32_t id, uint32_t module, uint64_t addr,
			 const struct where *w, bool start_line)
{
	struct pbuf m = { 0 }, l;
	unsigned i;

	pb_uint(&m, 1, id);
	if (module != TRACE_NO_MODULE && module < p->t->nmodules)
		pb_uint(&m, 2, p->mapping_of[module]);
	pb_uint(&m, 3, addr);
	for (i = 0; i < w->n; i++) {
		const struct where_line *wl = &w->line[i];
		/* a function's entry line is where it starts (its definition) */
		unsigned sl = start_line && i == w->n - 1 ? wl->line : 0;

		memset(&l, 0, sizeof(l));
		pb_uint(&l, 1, function_id(p, wl->name, wl->file, sl));
		pb_uint(&l, 2, wl->line);
		pb_bytes(&m, 4, l.p, l.n);
		pb_free(&l);
	}
	if (w->n > 1)
		p->inline_frames = true;
	pb_bytes(&p->locations, P_LOCATION, m.p, m.n);
	pb_free(&m);
}

/* func_location - the location of function @func of the trace (its entry address) */
static uint32_t func_location(struct pprof *p, uint32_t func)
{
	struct xmap_val *v;
	struct where w;
	bool created;

	v = xmap_put(&p->loc_index, ((uint64_t)func + 1) | 1ULL << 63, &created);
	if (!created)
		return v->w;
	v->w = ++p->nlocations;
	if (func < p->t->nfuncs) {
		export_where(p->sym, NULL, func, &w);
		put_location(p, v->w, p->t->func_module[func], p->t->funcs[func], &w, true);
	} else {
		w = (struct where){ .n = 1, .line[0].name = "[unknown]" };
		put_location(p, v->w, TRACE_NO_MODULE, 0, &w, false);
	}
	return v->w;
}

/* pseudo_location - a location that is only a name ("[no stack]", "[truncated]") */
static uint32_t pseudo_location(struct pprof *p, uint32_t *slot, const char *name)
{
	struct where w = { .n = 1, .line[0].name = name };

	if (!*slot) {
		*slot = ++p->nlocations;
		put_location(p, *slot, TRACE_NO_MODULE, 0, &w, false);
	}
	return *slot;
}

/* frame_location - the location of a stack frame: one per (address, module, is_ra) */
static uint32_t frame_location(struct pprof *p, const struct trace_frame *f)
{
	uint64_t h = (f->ip * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)f->module << 1) ^ f->is_ra;
	struct xmap_val *v;
	struct where w;
	struct ploc *pl;
	uint32_t i;
	bool created;

	h &= ~(1ULL << 63);		/* apart from the function locations' keys */
	v = xmap_put(&p->loc_index, h ? h : 1, &created);
	for (i = created ? 0 : v->w; i; i = p->plocs[i - 1].next) {
		pl = &p->plocs[i - 1];
		if (pl->ip == f->ip && pl->module == f->module && pl->is_ra == f->is_ra)
			return pl->id;
	}
	ARRAY_ROOM(p->plocs, p->plocs_cap, p->nplocs);
	pl = &p->plocs[p->nplocs];
	*pl = (struct ploc){ f->ip, f->module, f->is_ra, ++p->nlocations, created ? 0 : v->w };
	v->w = ++p->nplocs;
	export_where(p->sym, f, 0, &w);
	put_location(p, pl->id, f->module, f->ip, &w, false);
	return pl->id;
}

/* a Sample: its locations (leaf first), values, and with @th its thread's labels */
static void put_sample(struct pprof *p, const uint64_t *locs, size_t nlocs,
		       const uint64_t *values, const struct trace_thread *th)
{
	struct pbuf m = { 0 }, l = { 0 };

	pb_packed(&m, 1, locs, nlocs);
	pb_packed(&m, 2, values, p->nvalues);
	if (th) {
		/* tid: a number label; thread: its name, when it has one */
		pb_uint(&l, 1, str_id(p, "tid"));
		pb_uint(&l, 3, th->tid);
		pb_bytes(&m, 3, l.p, l.n);
		pb_free(&l);
		if (th->name[0]) {
			char name[sizeof(th->name) + 1];

			snprintf(name, sizeof(name), "%s", th->name);
			pb_uint(&l, 1, str_id(p, "thread"));
			pb_uint(&l, 2, str_id(p, name));
			pb_bytes(&m, 3, l.p, l.n);
			pb_free(&l);
		}
	}
	pb_bytes(&p->samples, P_SAMPLE, m.p, m.n);
	pb_free(&m);
	p->nsamples++;
}

/*
 * fold_step - the path of @func below pnode @parent: a child, or below PPROF_FOLD_DEPTH
 * frames the nearest activation of @func already on the path (flame_step's rule: a deep
 * recursion stays as long as the functions it holds, and each value keeps its function,
 * so flat and cum totals do not change).
 */
static uint32_t fold_step(struct pprof *p, struct pnode **nodes, uint32_t *n, uint32_t *cap,
			  struct xmap *index, uint32_t parent, uint32_t func)
{
	struct xmap_val *v;
	uint32_t k;
	bool created;

	if ((*nodes)[parent].depth >= PPROF_FOLD_DEPTH) {
		for (k = parent; k; k = (*nodes)[k].parent)
			if ((*nodes)[k].func == func) {
				p->folded++;
				return k;
			}
	}
	v = xmap_put(index, ((uint64_t)parent << 32 | func) + 1, &created);
	if (!created)
		return v->w;
	ARRAY_ROOM(*nodes, *cap, *n);
	(*nodes)[*n] = (struct pnode){ parent, func, (*nodes)[parent].depth + 1, 0, 0, 0 };
	v->w = *n;
	return (*n)++;
}

/*
 * call_samples - one sample per call path of thread @th's calls: the @nids nodes @ids of
 * @ct below its root (in id order: a node after its parent, numbered as the thread's calls
 * entered it), with [calls, self ns, 0, 0, 0, 0, CPU self ns], labelled with the thread.
 * @map: per node of @ct, scratch. A call's off-CPU time lies within its self time
 * (offcpu_exit): the clamp is for impossible times only.
 */
static void call_samples(struct pprof *p, const struct ctree *ct, const uint32_t *ids,
			 uint32_t nids, uint32_t *map, const struct trace_thread *th)
{
	uint32_t n = 1, cap = 256, i, k, nl;
	struct pnode *nodes = xcalloc(cap, sizeof(*nodes));
	struct xmap index = { 0 };
	uint64_t *locs = NULL, values[NVALUES] = { 0 };
	uint32_t locs_cap = 0;

	for (i = 0; i < nids; i++) {
		const struct ctree_node *cn = &ct->nodes[ids[i]];
		/* the thread's root is the path's start, pnode 0 */
		uint32_t up = ct->nodes[cn->parent].func & CTREE_THREAD ? 0 : map[cn->parent];

		map[ids[i]] = k = fold_step(p, &nodes, &n, &cap, &index, up, cn->func);
		nodes[k].calls += cn->calls;
		nodes[k].self_ns += cn->self_ns;
		nodes[k].cpu_ns += ctree_self(cn, true);
	}
	for (i = 1; i < n; i++) {
		if (!nodes[i].calls && !nodes[i].self_ns)
			continue;
		ARRAY_GROW(locs, locs_cap, nodes[i].depth);
		for (k = i, nl = 0; k; k = nodes[k].parent)	/* leaf first */
			locs[nl++] = func_location(p, nodes[k].func);
		values[V_CALLS] = nodes[i].calls;
		values[V_WALL] = nodes[i].self_ns;
		values[V_CPU] = nodes[i].cpu_ns;
		put_sample(p, locs, nl, values, th);
	}
	free(locs);
	free(nodes);
	xmap_free(&index);
}

/*
 * thread_samples - the call samples of every thread of @t, in thread order, from @ct (a
 * root per thread): its nodes grouped by thread, each group in id order.
 */
static void thread_samples(struct pprof *p, const struct ctree *ct)
{
	uint32_t nt = p->t->nthreads, i, k;
	uint32_t *of = xcalloc(ct->nnodes + 1, sizeof(*of));	/* node -> thread + 1, 0: none */
	uint32_t *start = xcalloc(nt + 2, sizeof(*start));
	uint32_t *ids = xmalloc((ct->nnodes + 1) * sizeof(*ids));
	uint32_t *map = xcalloc(ct->nnodes + 1, sizeof(*map));

	for (i = 1; i < ct->nnodes; i++) {	/* parents come first */
		const struct ctree_node *nd = &ct->nodes[i];
		uint32_t th = nd->func & ~CTREE_THREAD;

		if (!(nd->func & CTREE_THREAD))
			of[i] = of[nd->parent];
		else if (th < nt)	/* a stream past the threads has none to label it */
			of[i] = th + 1;
		if (of[i] && !(nd->func & CTREE_THREAD))
			start[of[i]]++;
	}
	for (k = 1; k <= nt; k++)	/* start[k]: where thread k - 1's nodes go */
		start[k] += start[k - 1];
	for (i = 1; i < ct->nnodes; i++)
		if (of[i] && !(ct->nodes[i].func & CTREE_THREAD))
			ids[start[of[i] - 1]++] = i;
	for (k = 0; k < nt; k++) {	/* start[k] is now where thread k's nodes end */
		uint32_t from = k ? start[k - 1] : 0;

		if (start[k] > from)
			call_samples(p, ct, ids + from, start[k] - from, map, &p->t->threads[k]);
	}
	free(map);
	free(ids);
	free(start);
	free(of);
}

/* alloc_samples - one sample per allocation stack: [0, 0, allocs, bytes, live, live bytes, 0] */
static void alloc_samples(struct pprof *p, const struct replay *r)
{
	uint64_t *locs = NULL, values[NVALUES] = { 0 };
	uint32_t id, i, cap = 0;

	for (id = 0; id < r->naggs; id++) {
		const struct replay_agg *a = &r->aggs[id];
		struct trace_stack st = { 0 };
		size_t nl = 0;

		if (!a->allocs && !a->live_blocks)
			continue;
		if (id)
			st = trace_stack_get(p->t, id);
		ARRAY_GROW(locs, cap, (size_t)st.nframes + 2);
		for (i = 0; i < st.nframes; i++)
			locs[nl++] = frame_location(p, &st.frames[i]);
		if (!st.nframes)
			locs[nl++] = pseudo_location(p, &p->no_stack, "[no stack]");
		else if (trace_stack_truncated(p->t, id))
			locs[nl++] = pseudo_location(p, &p->truncated, TRACE_TRUNCATED_FRAME);
		values[V_ALLOC_OBJECTS] = a->allocs;
		values[V_ALLOC_SPACE] = a->bytes;
		values[V_INUSE_OBJECTS] = a->live_blocks;
		values[V_INUSE_SPACE] = a->live_bytes;
		put_sample(p, locs, nl, values, NULL);
	}
	free(locs);
}

/*
 * mappings - one Mapping per module of the trace, the program's own first (pprof takes the
 * first mapping for the main binary): address range, path, build-id, and what is known.
 */
static void mappings(struct pprof *p)
{
	const struct trace *t = p->t;
	uint32_t i, pass, id = 0;

	p->mapping_of = xcalloc(t->nmodules + 1, sizeof(*p->mapping_of));
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < t->nmodules; i++) {
			const struct trace_module *m = &t->modules[i];
			bool main_exe = t->exe && m->path && !strcmp(m->path, t->exe);

			if (main_exe != !pass)
				continue;
			p->mapping_of[i] = ++id;
		}
	}
}

static void put_mappings(struct pprof *p)
{
	const struct trace *t = p->t;
	uint32_t id, i, k;

	for (id = 1; id <= t->nmodules; id++) {
		const struct trace_module *m = NULL;
		struct pbuf b = { 0 };
		char hex[2 * sizeof(m->build_id) + 1] = "";
		uint32_t n;

		for (i = 0; i < t->nmodules && !m; i++)
			if (p->mapping_of[i] == id)
				m = &t->modules[i];
		if (!m)
			continue;
		n = m->build_id_len <= sizeof(m->build_id) ? m->build_id_len : 0;
		for (k = 0; k < n; k++)
			snprintf(hex + 2 * k, 3, "%02x", m->build_id[k]);
		pb_uint(&b, 1, id);
		pb_uint(&b, 2, m->lo);
		pb_uint(&b, 3, m->hi);
		pb_uint(&b, 5, str_id(p, m->path));
		pb_uint(&b, 6, str_id(p, hex));
		pb_uint(&b, 7, 1);	/* has_functions: names are in the profile */
		pb_uint(&b, 8, 1);	/* has_filenames and has_line_numbers: what DWARF gave */
		pb_uint(&b, 9, 1);
		pb_uint(&b, 10, p->inline_frames);
		pb_bytes(&p->mappings, P_MAPPING, b.p, b.n);
		pb_free(&b);
	}
}

static void pprof_free(struct pprof *p)
{
	uint32_t i;

	for (i = 0; i < p->nstrs; i++)
		free(p->strs[i]);
	free(p->strs);
	free(p->plocs);
	free(p->mapping_of);
	strmap_free(&p->str_index);
	xmap_free(&p->func_index);
	xmap_free(&p->loc_index);
	pb_free(&p->samples);
	pb_free(&p->mappings);
	pb_free(&p->locations);
	pb_free(&p->functions);
}

/* assemble - the Profile message: sample types, samples, mappings, ..., strings, comments */
static void assemble(struct pprof *p, struct pbuf *out, const struct strv *notes)
{
	uint32_t *comments = xcalloc(notes->n + 1, sizeof(*comments)), def, ty, un;
	struct pbuf vt;
	unsigned i;

	for (i = 0; i < p->nvalues; i++) {
		ty = str_id(p, value_types[i][0]);
		un = str_id(p, value_types[i][1]);
		memset(&vt, 0, sizeof(vt));
		pb_uint(&vt, 1, ty);
		pb_uint(&vt, 2, un);
		pb_bytes(out, P_SAMPLE_TYPE, vt.p, vt.n);
		pb_free(&vt);
	}
	for (i = 0; i < notes->n; i++)
		comments[i] = str_id(p, notes->v[i]);
	/* what `go tool pprof` shows without -sample_index: time, else the bytes allocated */
	def = str_id(p, p->t->ncalls ? "wall" : "alloc_space");
	put_mappings(p);
	/* the repeated fields are whole messages already: append them as they are */
	pb_raw(out, p->samples.p, p->samples.n);
	pb_raw(out, p->mappings.p, p->mappings.n);
	pb_raw(out, p->locations.p, p->locations.n);
	pb_raw(out, p->functions.p, p->functions.n);
	for (i = 0; i < p->nstrs; i++)
		pb_bytes(out, P_STRING_TABLE, p->strs[i], strlen(p->strs[i]));
	pb_uint(out, P_TIME_NANOS, p->t->hdr.start_real_ns);
	pb_uint(out, P_DURATION_NANOS, p->t->duration_ns);
	for (i = 0; i < notes->n; i++)
		pb_uint(out, P_COMMENT, comments[i]);
	pb_uint(out, P_DEFAULT_SAMPLE_TYPE, def);
	free(comments);
}

/*
 * report_pprof - `perfshim-analyze pprof [-o FILE] TRACE`: the profile of one trace, written
 * to FILE (default perfshim.pb.gz; "-" is stdout). Return: 0, or -1 after one error line.
 */
int report_pprof(struct trace *t, const struct opts *o)
{
	struct pprof p = { .t = t, .nstrs = 0, .nvalues = offcpu_present(t) ? V_CPU + 1 : V_CPU };
	char sw[256];
	struct strv notes = { 0 };
	struct replay r = { 0 };
	struct model m = { 0 };
	struct pbuf out = { 0 };
	struct opts wo = *o;
	int ret = -1;
	FILE *f;

	/* one walk: every thread's call tree (their samples carry the thread's labels), which
	 * keeps the heap's events, so the replay decodes nothing */
	replay_log_want(t);
	if (model_build(t, -1, 0, 0, o->wall, &m) < 0 || export_replay(t, -1, &r) < 0)
		goto out;
	p.sym = replay_symbols(t, o);
	if (!p.sym)
		goto out;
	/* the string table starts with "" (index 0: what unset string fields mean) */
	p.strs_cap = 256;
	p.strs = xmalloc(p.strs_cap * sizeof(*p.strs));
	p.strs[p.nstrs++] = xstrdup("");
	mappings(&p);
	thread_samples(&p, &m.ct);
	alloc_samples(&p, &r);
	export_notes(t, &notes, false, true);
	if (p.folded)
		strv_add(&notes, "recursion folded: on paths deeper than %d frames, %" PRIu64
			 " frames of functions already on the path were merged into their nearest "
			 "activation", PPROF_FOLD_DEPTH, p.folded);
	if (!t->ncalls)
		strv_add(&notes, "no function calls recorded (the program was not built with "
			 "-finstrument-functions): calls and wall%s are 0",
			 p.nvalues > V_CPU ? ", cpu" : "");
	/* a complete trace with switches has no comments: its cpu type says itself */
	if (p.nvalues == V_CPU && !offcpu_note(t, sw, sizeof(sw)))	/* else the notes say why */
		strv_add(&notes, "times are wall-clock: the trace holds no context switches, so "
			 "there is no cpu sample type");
	if (!t->nallocs && !t->nreallocs)
		strv_add(&notes, "no allocations recorded: the alloc_ and inuse_ values are 0");
	assemble(&p, &out, &notes);
	wo.output = o->output ? o->output : PPROF_DEFAULT_FILE;
	f = export_open(&wo);
	if (!f)
		goto out;
	if (pb_gzip(&out, f) < 0) {
		__pr_log("error: ", "compressing the profile failed");
		if (f != stdout)
			fclose(f);
		goto out;
	}
	ret = export_close(f, &wo);
	if (!ret && !o->output)
		__pr_log("", "wrote %s (%" PRIu64 " samples): go tool pprof -top %s",
			 wo.output, p.nsamples, wo.output);
out:
	sym_close(p.sym);
	strv_free(&notes);
	pb_free(&out);
	pprof_free(&p);
	replay_free(&r);
	model_free(&m);
	return ret;
}
