/* SPDX-License-Identifier: MIT */
/*
 * Shared pieces of the export reports (report-flame.c, report-chrome.c, report-html.c): a
 * u64 map (an hmap), the call-tree walk, the heap replay (replay.c), the flame tree and its
 * SVG rendering (svg.c), and text escaping. Implemented in export.c and svg.c; private to
 * those files.
 */
#ifndef PERFSHIM_EXPORT_H
#define PERFSHIM_EXPORT_H

#include <stdio.h>

#include "analyzer/hist.h"
#include "analyzer/hmap.h"
#include "analyzer/opts.h"
#include "analyzer/replay.h"
#include "analyzer/supp.h"
#include "analyzer/symbols.h"
#include "analyzer/trace.h"

/* ---- xmap: u64 key -> a small value, an hmap (analyzer/hmap.h); key 0 means "empty" ---- */
struct xmap_val {
	uint64_t key;
	uint64_t v;
	uint32_t w;
};
HMAP_DEFINE(xmap_tab, struct xmap_val, key)
struct xmap {
	struct xmap_tab t;
};
/* xmap_get - the value stored for @key, or NULL; valid until the next put or delete */
static inline struct xmap_val *xmap_get(const struct xmap *m, uint64_t key)
{
	return key ? xmap_tab_get(&m->t, key) : NULL;
}
/* xmap_put - the value of @key (not 0), inserted zeroed if new (*created set accordingly) */
static inline struct xmap_val *xmap_put(struct xmap *m, uint64_t key, bool *created)
{
	return xmap_tab_put(&m->t, key, created);
}
/* xmap_del - remove @key, copying its value to @old (may be NULL); false if it was absent */
static inline bool xmap_del(struct xmap *m, uint64_t key, struct xmap_val *old)
{
	struct xmap_val *e = xmap_get(m, key);

	if (!e)
		return false;
	if (old)
		*old = *e;
	xmap_tab_del(&m->t, e);
	return true;
}
/* xmap_free - release the table; @m is empty and reusable afterwards */
static inline void xmap_free(struct xmap *m)
{
	xmap_tab_free(&m->t);
}

/* chrome's duration histogram (hist.h): exact below 64, then 64 buckets per power of two */
#define EXPORT_HIST_SHIFT 6
#define HIST_BUCKETS HIST_NBUCKETS(EXPORT_HIST_SHIFT)

/* ---- call tree: self time per call path, from ENTRY/EXIT (export.c) ---- */
#define CTREE_THREAD (1U << 31)		/* node.func for a per-thread root: CTREE_THREAD | thread */

struct ctree_node {
	uint32_t parent;		/* 0 = the (virtual) root */
	uint32_t func;			/* index into trace->funcs, or CTREE_THREAD | thread */
	uint64_t calls;
	uint64_t self_ns;		/* time in this path not spent in recorded callees */
	uint64_t wait_ns;		/* off-CPU time within self_ns (ctree.switches; offcpu.c) */
};

struct func_stat {			/* percentiles: hot_collect (hot.h) */
	uint64_t calls;
	uint64_t total_ns;		/* inclusive; recursive activations counted once */
	uint64_t self_ns;
	uint64_t min_ns, max_ns;
};

struct ctree {
	struct ctree_node *nodes;	/* [0] is the root; ids are indexes */
	uint32_t nnodes, cap;
	struct xmap index;		/* (parent << 32 | func + 1) -> node id */
	struct func_stat *funcs;	/* indexed like trace->funcs */
	uint32_t nfuncs;
	uint64_t ncalls;
	uint64_t self_sum_ns;		/* sum of every node's self_ns */
	bool switches;			/* the trace has off-CPU time: nodes' wait_ns hold it */
};

/* ctree_self - node @n's self time: CPU self (its self less the off-CPU time in it) if @cpu */
static inline uint64_t ctree_self(const struct ctree_node *n, bool cpu)
{
	return !cpu ? n->self_ns : n->self_ns > n->wait_ns ? n->self_ns - n->wait_ns : 0;
}

/*
 * ctree_build - walk the calls of @t (one thread when @thread >= 0, else all) and build the
 * call tree and per-function totals. @per_thread: each thread gets its own root node. With
 * @waits and context switches in @t, each node's off-CPU time too (wait_ns, ct->switches;
 * a pass over the switches and a lookup per call: false when only wall-clock is wanted).
 * Return: 0, or -1 when the walk failed (reported by the reader).
 */
int ctree_build(struct trace *t, int thread, bool per_thread, bool waits, struct ctree *ct);
void ctree_free(struct ctree *ct);

/*
 * The heap: replay.h's replay (as `memory` and `leaks` count), one aggregate per stack id;
 * export_replay runs it for one thread index @thread (>= 0) or all (-1): see one_thread.
 * Blocks still live at the end (per stack: aggs[id].live_bytes/live_blocks) are the leaks.
 */
int export_replay(struct trace *t, int thread, struct replay *r);
void export_leaked(const struct replay *r, uint64_t *bytes, uint64_t *blocks);

/* ---- flame tree: a trie of frame names with values (svg.c) ---- */
struct flame_node {
	uint32_t parent, name;		/* name: index into flame.names */
	uint32_t first_child, next;	/* children, sorted by name before rendering */
	uint32_t depth;			/* frames from the root "all" (0) */
	uint64_t self, total;
};
/*
 * Recursion folding keeps a flame tree (and folded output, which prints every path whole)
 * proportional to the trace: below FLAME_FOLD_DEPTH frames a function already on the path
 * is not pushed again but merged into its nearest activation there (flame_step), so a path
 * never grows past FLAME_FOLD_DEPTH plus the number of distinct functions. Values (self
 * time, bytes) stay with their function: totals and per-function sums are unchanged.
 */
#define FLAME_FOLD_DEPTH 128
struct flame {
	struct flame_node *nodes;	/* [0] = root "all" */
	uint32_t nnodes, cap;
	uint64_t folded;		/* frames merged by recursion folding */
	struct xmap index;		/* (parent << 32 | name + 1) -> node */
	char **names;			/* interned frame names */
	uint32_t nnames, names_cap;
	struct strmap name_index;	/* name -> its index into names */
};
void flame_init(struct flame *fl);
void flame_free(struct flame *fl);
uint32_t flame_name(struct flame *fl, const char *s);
/* flame_child - the child of node @parent named @name (created if new) */
uint32_t flame_child(struct flame *fl, uint32_t parent, uint32_t name);
/* flame_step - flame_child, or beyond FLAME_FOLD_DEPTH the nearest ancestor named @name */
uint32_t flame_step(struct flame *fl, uint32_t parent, uint32_t name);
/* flame_add - add @value to the path @names[0..n) (outermost first) below node @node */
void flame_add(struct flame *fl, uint32_t node, const uint32_t *names, unsigned n,
	       uint64_t value);
/* flame_finish - compute totals and sort children by name (deterministic output) */
void flame_finish(struct flame *fl);
/* flame_folded - "a;b;c VALUE" per node with self > 0, in depth-first name order */
void flame_folded(const struct flame *fl, FILE *f);

struct svg_opts {
	const char *title;
	const char *subtitle;
	const char *unit;		/* "ns", "bytes", "allocations" */
	const char *id;			/* element id prefix (several graphs in one HTML page) */
	unsigned width;			/* px */
	bool standalone;		/* full SVG document with <?xml?>; else inline <svg> */
	const char *const *notes;	/* warning lines drawn under the title (notes.c) */
	unsigned nnotes;
};
void flame_svg(const struct flame *fl, const struct svg_opts *so, FILE *f);
/* flame_svg_script - the click-to-zoom script (standalone SVGs embed it themselves) */
const char *flame_svg_script(void);

/* ---- lines of text: the notes an export carries in its own format (export.c) ---- */
struct strv {
	char **v;
	unsigned n, cap;
};
void strv_add(struct strv *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strv_free(struct strv *sv);
/*
 * export_notes - @t's notes (notes.c) as lines "incomplete trace: ..." / "warning: ...",
 * prefixed by the trace's path when @path; with @leaks, also what its live blocks are when
 * the process did not finish. Return: whether @t is complete.
 */
bool export_notes(struct trace *t, struct strv *sv, bool path, bool leaks);

/*
 * ---- where a location is (export.c): the one place pprof, callgrind and massif ask the
 * symbolizer for names, source lines and inlined frames ----
 */
#define WHERE_MAX 16			/* lines per location: inlined frames + the function */
struct where_line {
	const char *name;		/* function name, or "module+0xOFF" / "0xADDR" */
	const char *file;		/* source file, or NULL */
	unsigned line;			/* 0 if unknown */
};
struct where {
	const char *module;		/* module path as recorded, or NULL */
	const char *module_id;		/* its build-id in hex, or NULL */
	uint64_t module_off;
	struct where_line line[WHERE_MAX];	/* innermost (inlined callee) first; the last
						 * is the function that holds the code */
	unsigned n;			/* >= 1 */
};
/*
 * export_where - @w for stack frame @f, or (when @f is NULL) for function @func of the
 * trace. Strings are owned by @sym.
 */
void export_where(struct symbols *sym, const struct trace_frame *f, uint32_t func,
		  struct where *w);

/*
 * export_output - the file an export writes: o->output, else @def (its default name).
 * Return: the stream (export_close it), or NULL after one error line.
 */
FILE *export_output(const struct opts *o, const char *def);
/* export_flat - @s on one line: control characters and the bytes of @bad as ?, in @buf */
const char *export_flat(const char *s, const char *bad, char *buf, size_t len);

/* ---- protocol buffers, written by hand, and gzip (pbuf.c): what pprof reads ---- */
struct pbuf {
	uint8_t *p;
	size_t n, cap;
};
void pb_varint(struct pbuf *b, uint64_t v);
/* pb_uint - field @field = @v (varint); proto3 leaves zero out, so 0 writes nothing */
void pb_uint(struct pbuf *b, unsigned field, uint64_t v);
/* pb_bytes - field @field, length-delimited: @len bytes of @data (a string or a message) */
void pb_bytes(struct pbuf *b, unsigned field, const void *data, size_t len);
/* pb_packed - repeated varint field @field, packed; nothing when @n is 0 */
void pb_packed(struct pbuf *b, unsigned field, const uint64_t *v, size_t n);
void pb_raw(struct pbuf *b, const void *data, size_t len);	/* encoded fields */
void pb_free(struct pbuf *b);
/* pb_gzip - @b gzip-compressed onto @f. Return: 0, or -1 (zlib failed; not reported) */
int pb_gzip(const struct pbuf *b, FILE *f);

/* ---- escaping and output (export.c) ---- */
void fput_xml(const char *s, FILE *f);	/* &<>"' escaped, bad UTF-8 and controls replaced */
void fput_json(const char *s, FILE *f);	/* a quoted JSON string */
/* fmt_value - "1.25 ms" for unit "ns", "3.2 MiB" for "bytes", else "1,234" */
char *fmt_value(char *buf, size_t len, uint64_t v, const char *unit);
/* export_open - o->output opened for writing, or stdout. Return: NULL after one error line. */
FILE *export_open(const struct opts *o);
/* export_close - flush and close; Return: 0, or -1 after one error line (write failed) */
int export_close(FILE *f, const struct opts *o);

#endif /* PERFSHIM_EXPORT_H */
