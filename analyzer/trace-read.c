/* SPDX-License-Identifier: MIT */
/*
 * The trace reader, part 1: validates a trace file, indexes its chunks per thread, fits the
 * clock and interns stacks; trace-walk.c decodes the chunks into events (per thread or
 * merged by time). docs/trace-format.md has the bytes, docs/design.md ("Analyzer") the
 * choices.
 *
 * Trust: nothing read from the file sizes an allocation or a read before it passed a check.
 * A chunk header is used only when its checksum, magic and size (<= max_chunk, inside the
 * file) check out; a payload only when its checksum does; a record only when it fits in its
 * chunk and names ids that were defined. A thread's stream ends at its first damaged or
 * missing chunk or malformed record (state carries from chunk to chunk, so nothing after it
 * can be decoded), with one warning. Every loop advances through the file or a payload.
 *
 * Memory: one payload buffer per thread being decoded (max_chunk at most) plus the decoding
 * tables (functions, stack nodes, open calls), never the whole trace.
 */
#define PR_FMT "read"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/hmap.h"
#include "analyzer/offcpu.h"
#include "analyzer/replay-log.h"
#include "analyzer/text.h"
#include "analyzer/trace-priv.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"

/*
 * fit_clock - ns per tick. Without TRACE_F_TSC ticks are CLOCK_MONOTONIC ns: exactly 1.
 * With it, the slope between the header's (start_ticks, start_mono_ns) pair and the intact
 * chunk header pair farthest from it (over a run of at least 1 ms; two reads 1 s apart give
 * a 3e-8 error); shorter runs fall back to the header's tick_hz.
 */
static void fit_clock(struct trace *t, struct reader *r)
{
	const struct chunk *last = NULL;
	uint32_t i;

	r->exact = !(t->hdr.flags & TRACE_F_TSC);
	t->ns_per_tick = 1.0;
	r->start_ticks = t->hdr.start_ticks;
	r->mult = 1ULL << 32;
	if (r->exact)
		return;
	for (i = 0; i < r->nchunks; i++)
		if (!last || r->chunks[i].end_ticks > last->end_ticks)
			last = &r->chunks[i];
	if (last && last->end_ticks > t->hdr.start_ticks &&
	    last->end_mono_ns > t->hdr.start_mono_ns + 1000000) {
		double s = (double)(last->end_mono_ns - t->hdr.start_mono_ns) /
			   (double)(last->end_ticks - t->hdr.start_ticks);

		if (s > 1e-4 && s < 1e4) {
			t->ns_per_tick = s;
			goto out;
		}
	}
	if (t->hdr.tick_hz && 1e9 / (double)t->hdr.tick_hz < 1e4)
		t->ns_per_tick = 1e9 / (double)t->hdr.tick_hz;
	else
		pr_warn("%s: no clock rate in the trace: times are in ticks", t->path);
out:
	r->mult = (uint64_t)(t->ns_per_tick * 4294967296.0 + 0.5);
}

/* ---- functions and stacks ---- */

/*
 * The identity of the code at @addr in module load @m: its file (trace-modules.c: one per
 * library however often and wherever it was loaded) and its offset from that load's bias;
 * outside every module, (TRACE_NO_FILE, the address).
 */
static inline void code_id(const struct trace *t, const struct reader *r, uint64_t addr,
			   uint32_t m, uint32_t *file, uint64_t *key)
{
	if (m == TRACE_NO_MODULE) {
		*file = TRACE_NO_FILE;
		*key = addr;
		return;
	}
	*file = r->mod_file[m];
	*key = addr - t->modules[m].base;
}

/* the fhash key of code (@file, @key): a hash (func_intern compares) */
static inline uint64_t code_key(uint32_t file, uint64_t key)
{
	return hmap_key_u64(key ^ ((uint64_t)file << 43) ^ file);
}

/* The key of a known function entry: its file and offset (trace_frame.module's file). */
#define ENTRY_KEY(file, off) ((uint64_t)(file) << 40 | ((off) & ((1ULL << 40) - 1)))

/* Known function entries (for ra_in_func): noted once each, sorted in later by entries_sort. */
static void entry_note(struct reader *r, uint32_t file, uint64_t off)
{
	uint64_t k = ENTRY_KEY(file, off) + 1;
	bool created;

	if (file == TRACE_NO_FILE)
		return;
	ixmap_put(&r->ehash, k, &created);
	if (!created)
		return;
	ARRAY_ROOM(r->entries, r->entries_cap, r->nentries);
	r->entries[r->nentries++] = k - 1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sort all entries (the unsorted tail grew past a quarter of the sorted part). */
static void entries_sort(struct reader *r)
{
	qsort(r->entries, r->nentries, sizeof(*r->entries), cmp_u64);
	r->nsorted = r->nentries;
}

/* func_intern - the index of the function at @addr of module load @m, added on first sight */
static uint32_t func_intern(struct trace *t, struct reader *r, uint64_t addr, uint32_t m)
{
	struct ixmap_ent *e;
	uint32_t file;
	uint64_t key, k;

	code_id(t, r, addr, m, &file, &key);
	k = code_key(file, key);
	for (e = ixmap_get(&r->fhash, k); e; e = ixmap_next(&r->fhash, e))
		if (r->func_key[e->ix] == key && r->func_file[e->ix] == file)
			return e->ix;
	if (t->nfuncs == r->funcs_cap) {
		r->funcs_cap = ARRAY_NEXT_CAP(r->funcs_cap, t->nfuncs + 1);
		ARRAY_RESIZE(t->funcs, r->funcs_cap);
		ARRAY_RESIZE(t->func_module, r->funcs_cap);
		ARRAY_RESIZE(r->func_file, r->funcs_cap);
		ARRAY_RESIZE(r->func_key, r->funcs_cap);
	}
	t->funcs[t->nfuncs] = addr;
	t->func_module[t->nfuncs] = m;
	r->func_file[t->nfuncs] = file;
	r->func_key[t->nfuncs] = key;
	ixmap_add(&r->fhash, k)->ix = t->nfuncs;
	return t->nfuncs++;
}

/* trace_func_intern - func_intern for the merge of streams walked apart (trace-par.c) */
uint32_t trace_func_intern(struct trace *t, struct reader *r, uint64_t addr, uint32_t m)
{
	return func_intern(t, r, addr, m);
}

/* trace_entry_add - known function entry @key (ENTRY_KEY), noted once (trace-par.c) */
void trace_entry_add(struct reader *r, uint64_t key)
{
	bool created;

	ixmap_put(&r->ehash, key + 1, &created);
	if (!created)
		return;
	ARRAY_ROOM(r->entries, r->entries_cap, r->nentries);
	r->entries[r->nentries++] = key;
}

/* trace_func_defined - a FUNC record of @addr at @ns: a known function entry */
void trace_func_defined(struct trace *t, struct reader *r, uint64_t addr, uint64_t ns)
{
	uint32_t m = trace_module_at(t, addr, ns);

	if (m != TRACE_NO_MODULE)
		entry_note(r, r->mod_file[m], addr - t->modules[m].base);
}

/**
 * trace_func_resolve - the function fid @fid of thread @ts stands for in an event at @ns:
 * its FUNC record's address in the module loaded there at that time. Kept in ts->fids until
 * the thread's epoch changes (a module that shared addresses came or went).
 */
uint32_t trace_func_resolve(struct trace *t, struct reader *r, struct tstate *ts, uint32_t fid,
			    uint64_t ns)
{
	struct fidref *f = &ts->fids[fid];
	uint32_t m, func;

	if (ns < ts->ep_lo || ns >= ts->ep_hi)
		trace_epoch_enter(r, ts, ns);
	if (f->gen == ts->gen)
		return f->func;
	m = trace_module_at(t, f->addr, ns);
	func = func_intern(t, r, f->addr, m);
	f->func = func;
	f->gen = ts->gen;
	ARRAY_GROW_ZERO(ts->active, ts->active_cap, (size_t)func + 1);
	return func;
}

/* the ghash key of a frame: a hash (gstack_intern compares) */
static inline uint64_t gstack_key(uint32_t parent, uint32_t file, uint64_t key, bool is_ra)
{
	return hmap_key_u64(key * 2 + is_ra + ((uint64_t)parent << 40) + parent +
			    ((uint64_t)file << 20));
}

/*
 * gstack_intern - id of the stack @parent with the frame (@ip, @is_ra) in module load @m
 * pushed inside it: the same code (file and offset) is the same frame in every load.
 */
static uint32_t gstack_intern(const struct trace *t, struct reader *r, uint32_t parent,
			      uint64_t ip, bool is_ra, uint32_t m)
{
	struct ixmap_ent *e;
	uint32_t file, id;
	uint64_t key, k;

	code_id(t, r, ip, m, &file, &key);
	k = gstack_key(parent, file, key, is_ra);
	for (e = ixmap_get(&r->ghash, k); e; e = ixmap_next(&r->ghash, e)) {
		struct gstack *g = &r->gs[e->ix];

		if (g->parent == parent && g->key == key && g->file == file && g->is_ra == is_ra)
			return e->ix;
	}
	if (r->ngs == r->gs_cap) {
		r->gs_cap = ARRAY_NEXT_CAP(r->gs_cap, r->ngs + 1);
		ARRAY_RESIZE(r->gs, r->gs_cap);
		ARRAY_RESIZE(r->gframes, r->gs_cap);
		ARRAY_RESIZE(r->gnframes, r->gs_cap);
	}
	id = r->ngs++;
	r->gs[id] = (struct gstack){ .ip = ip, .key = key, .parent = parent,
				     .depth = r->gs[parent].depth + 1, .module = m, .file = file,
				     .is_ra = is_ra };
	r->gframes[id] = NULL;
	ixmap_add(&r->ghash, k)->ix = id;
	return id;
}

/* trace_gstack_intern - gstack_intern for the merge of streams walked apart (trace-par.c) */
uint32_t trace_gstack_intern(const struct trace *t, struct reader *r, uint32_t parent,
			     uint64_t ip, bool is_ra, uint32_t m)
{
	return gstack_intern(t, r, parent, ip, is_ra, m);
}

/*
 * ra_in_func - whether return address frame @g lies inside the function whose entry frame is
 * @p: the same module file, ra - 1 at or above the entry and inside the module, and no other
 * known function entry (FUNC records, NODE_FN frames) in (entry, ra - 1]. Without symbols
 * this is what the trace can tell; a call from a function that is neither instrumented nor
 * known, placed right after the entry, would pass for it (docs/stacks.md).
 */
static bool ra_in_func(const struct trace *t, struct reader *r, const struct gstack *p,
		       const struct gstack *g)
{
	uint64_t fn, a, lo_k, a_k;
	uint32_t i, lo, hi;

	if (g->file == TRACE_NO_FILE || p->file != g->file || !g->key)
		return false;
	fn = p->key;
	a = g->key - 1;
	if (a < fn || a >= t->modules[g->module].hi - t->modules[g->module].base)
		return false;
	lo_k = ENTRY_KEY(g->file, fn);
	a_k = ENTRY_KEY(g->file, a);
	if (r->nentries - r->nsorted > 64 && r->nentries - r->nsorted > r->nsorted / 4)
		entries_sort(r);
	for (i = r->nsorted; i < r->nentries; i++)
		if (r->entries[i] > lo_k && r->entries[i] <= a_k)
			return false;
	/* the first sorted entry above fn */
	lo = 0;
	hi = r->nsorted;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (r->entries[mid] <= lo_k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == r->nsorted || r->entries[lo] > a_k;
}

/* The module of a frame at @ns: a return address is looked up as ra - 1 (the call). */
static inline uint32_t frame_module(const struct trace *t, uint64_t ip, bool is_ra, uint64_t ns)
{
	return trace_module_at(t, is_ra && ip ? ip - 1 : ip, ns);
}

/* The global stack of node @nd at @ns, one frame pushed on @parent's; a known entry noted. */
static uint32_t node_push(struct trace *t, struct reader *r, uint32_t parent,
			  const struct tnode *nd, uint64_t ns)
{
	uint32_t m = frame_module(t, nd->ip, nd->is_ra, ns), id;

	id = gstack_intern(t, r, parent, nd->ip, nd->is_ra, m);
	if (!nd->is_ra)
		entry_note(r, r->gs[id].file, r->gs[id].key);
	return id;
}

/*
 * A node whose stack is its parent's plus its own frame. The others are deeper than the
 * header's stack_depth: they keep their innermost stack_depth frames (the tree of the thread
 * may be deeper: shadow stacks of deep recursion). The return address the recorder puts
 * under a shadow stack's top function (a NODE_RA child of a NODE_FN) always goes on its
 * parent's stack: trace_stack_get decides whether it stays, and then cuts the stack.
 */
static inline bool node_on_parent(const struct reader *r, const struct tstate *ts,
				  const struct tnode *nd)
{
	return !r->stack_cap || nd->depth <= r->stack_cap ||
	       (nd->is_ra && nd->parent && !ts->nodes[nd->parent].is_ra);
}

/* A node deeper than the cap: its innermost stack_depth frames interned from the root. */
static uint32_t node_cut(struct trace *t, struct reader *r, struct tstate *ts, uint32_t n,
			 uint64_t ns)
{
	uint32_t cap = r->stack_cap, g = 0, i, m;
	uint32_t idx[256], *ix = idx;

	if (cap > 256)
		ix = xmalloc(cap * sizeof(*ix));
	for (i = 0, m = n; i < cap; i++, m = ts->nodes[m].parent)
		ix[i] = m;
	while (i-- > 0)
		g = node_push(t, r, g, &ts->nodes[ix[i]], ns);
	if (ix != idx)
		free(ix);
	return g;
}

/**
 * trace_node_resolve - the global stack of thread node @n for an allocation at @ns: every
 * frame in the module loaded at its address at that time. The nodes of the chain that were
 * not resolved yet in the thread's epoch are resolved from the outermost one in; each keeps
 * its stack until the epoch changes. Return: the stack id (0 for node 0).
 */
uint32_t trace_node_resolve(struct trace *t, struct reader *r, struct tstate *ts, uint32_t n,
			    uint64_t ns)
{
	uint32_t k = 0, m, g;

	if (!n)
		return 0;
	if (ns < ts->ep_lo || ns >= ts->ep_hi)
		trace_epoch_enter(r, ts, ns);
	for (m = n; m && ts->nodes[m].gen != ts->gen && node_on_parent(r, ts, &ts->nodes[m]);
	     m = ts->nodes[m].parent) {
		ARRAY_ROOM(ts->rstack, ts->rstack_cap, k);
		ts->rstack[k++] = m;
	}
	if (!m) {
		g = 0;
	} else if (ts->nodes[m].gen == ts->gen) {
		g = ts->nodes[m].gstack;
	} else {
		g = node_cut(t, r, ts, m, ns);
		ts->nodes[m].gstack = g;
		ts->nodes[m].gen = ts->gen;
	}
	while (k-- > 0) {
		struct tnode *nd = &ts->nodes[ts->rstack[k]];

		g = node_push(t, r, g, nd, ns);
		nd->gstack = g;
		nd->gen = ts->gen;
	}
	return g;
}

/** trace_nstacks - number of global stacks; ids run 1..trace_nstacks(). */
uint32_t trace_nstacks(const struct trace *t)
{
	return R(t)->ngs - 1;
}

/** trace_stack_parent - @id without its innermost frame (0 for a one-frame or bad id). */
uint32_t trace_stack_parent(const struct trace *t, uint32_t id)
{
	struct reader *r = R(t);

	return id && id < r->ngs ? r->gs[id].parent : 0;
}

/*
 * The shadow-stack caller rule. A shadow stack's innermost frame is the return address of the
 * malloc-family call, the real caller (libc's stdio buffer, strdup), under the entry of the
 * instrumented function on top. When that address lies inside the top function itself (main
 * calling malloc), it is dropped: the stack reads ["main"], as the call reports name it, not
 * ["main", "main"]. The same when it lies inside one of the function entries below the top:
 * -finstrument-functions also enters inlined copies, so an xmalloc inlined into its caller
 * calls malloc from the caller's code, under the frames [xmalloc, caller]. Decided when the
 * stack is first materialized, after the walk that delivered it, so the functions that walk
 * met are known. Return: whether stack @id starts with such a frame.
 */
static bool drop_caller(const struct trace *t, struct reader *r, uint32_t id, bool *in_top)
{
	const struct gstack *g = &r->gs[id], *p;

	if (!g->is_ra)
		return false;
	for (p = &r->gs[g->parent]; p != r->gs && !p->is_ra; p = &r->gs[p->parent])
		if (ra_in_func(t, r, p, g)) {
			*in_top = p == &r->gs[g->parent];
			return true;
		}
	return false;
}

/**
 * trace_stack_get - frames of stack @id, innermost first. The array is built on first use
 * and owned by the trace. An unknown id gives an empty stack.
 */
struct trace_stack trace_stack_get(const struct trace *t, uint32_t id)
{
	struct reader *r = R(t);
	struct trace_frame *f;
	uint32_t i, n, g;
	uint64_t site = 0;
	bool in_top = false;

	if (!id || id >= r->ngs)
		return (struct trace_stack){ 0, NULL };
	if (!r->gframes[id]) {
		g = id;
		n = r->gs[id].depth;
		if (drop_caller(t, r, id, &in_top)) {
			/* the dropped call's address still tells the top function's source line */
			if (in_top)
				site = r->gs[id].ip;
			g = r->gs[id].parent;
			n--;
		}
		/* only a kept caller frame can pass the cap (node_on_parent) */
		if (r->stack_cap && n > r->stack_cap)
			n = r->stack_cap;
		f = xmalloc((n ? n : 1) * sizeof(*f));
		for (i = 0; i < n; i++, g = r->gs[g].parent)
			f[i] = (struct trace_frame){ .ip = r->gs[g].ip, .module = r->gs[g].module,
						     .is_ra = r->gs[g].is_ra,
						     .site = i ? 0 : site };
		r->gframes[id] = f;
		r->gnframes[id] = n;
	}
	return (struct trace_stack){ r->gnframes[id], r->gframes[id] };
}

/* ---- opening: header and chunk index ---- */

static const char *magic_name(const uint8_t *b, size_t n)
{
	if (n >= 4 && !memcmp(b, "\177ELF", 4))
		return " (an ELF file)";
	if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		return " (gzip data)";
	if (n >= 4 && !memcmp(b, "\x28\xb5\x2f\xfd", 4))
		return " (zstd data)";
	return "";
}

/* check_header - the header is usable; else one error line. Return: 0 or -1. */
static int check_header(struct trace *t, const uint8_t *raw, size_t n)
{
	const struct trace_file_header *h = &t->hdr;

	if (n == 0) {
		pr_error("%s: empty file, not a perfshim trace", t->path);
		return -1;
	}
	if (n < 8 || memcmp(raw, TRACE_MAGIC, 8)) {
		pr_error("%s: not a perfshim trace (bad magic)%s", t->path, magic_name(raw, n));
		return -1;
	}
	if (n < offsetof(struct trace_file_header, header_size) + 2) {
		pr_error("%s: file cut inside its header (%zu bytes)", t->path, n);
		return -1;
	}
	if (h->version < TRACE_VERSION_MIN || h->version > TRACE_VERSION) {
		pr_error("%s: trace format version %u, this perfshim-analyze reads versions %u to %u",
			t->path, h->version, TRACE_VERSION_MIN, TRACE_VERSION);
		return -1;
	}
	if (n < sizeof(*h)) {
		pr_error("%s: file cut inside its header (%zu bytes)", t->path, n);
		return -1;
	}
	if (h->endian != TRACE_ENDIAN) {
		pr_error("%s: trace written with another byte order (endian mark 0x%08x)", t->path,
			h->endian);
		return -1;
	}
	if (h->checksum != trace_checksum(h, TRACE_FILE_HEADER_CKLEN)) {
		pr_error("%s: damaged header (checksum mismatch)", t->path);
		return -1;
	}
	if (h->header_size != sizeof(*h)) {
		pr_error("%s: header size %u, expected %zu", t->path, h->header_size, sizeof(*h));
		return -1;
	}
	if (h->max_chunk == 0 || h->max_chunk > TRACE_MAX_CHUNK) {
		pr_error("%s: bad maximum chunk size %u in the header", t->path, h->max_chunk);
		return -1;
	}
	return 0;
}

/*
 * chunk_ok - the header at @off is intact and its payload lies inside the file (its pad may
 * run past the end: nothing is lost there). An open chunk's payload area ends in its trailer.
 */
static int chunk_ok(const struct trace *t, const struct trace_chunk_header *c, uint64_t off)
{
	if (c->magic != TRACE_CHUNK_MAGIC ||
	    c->header_checksum != trace_checksum(c, TRACE_CHUNK_HEADER_CKLEN))
		return 0;
	if (c->size > t->hdr.max_chunk || (uint64_t)c->size + c->pad > t->hdr.max_chunk)
		return 0;
	if ((c->flags & TRACE_CHUNK_OPEN) && (c->size < TRACE_CHUNK_TRAILER || c->pad))
		return 0;
	if (off + sizeof(*c) + c->size > t->file_size)
		return -1;	/* intact header, payload cut: the file ends here */
	return 1;
}

/*
 * resync - after damage at @off, the offset of the next intact chunk header (a "CHNK" whose
 * header checksum holds and whose payload fits), or the file size when there is none.
 * Reads the file in 1 MiB windows: linear in the damaged length.
 */
static uint64_t resync(struct trace *t, uint64_t off)
{
	const size_t hs = sizeof(struct trace_chunk_header);
	size_t win = t->file_size - off < (1 << 20) ? (size_t)(t->file_size - off) : 1 << 20;
	uint8_t *buf = xmalloc(win + hs);
	uint64_t pos = off + 1, found = t->file_size;

	while (pos + hs <= t->file_size) {
		size_t want = win + hs, i;
		ssize_t n;

		if (pos + want > t->file_size)
			want = (size_t)(t->file_size - pos);
		n = pread(t->fd, buf, want, (off_t)pos);
		if (n < (ssize_t)hs)
			break;
		for (i = 0; i + hs <= (size_t)n; i++) {
			struct trace_chunk_header c;

			if (buf[i] != 'C' || memcmp(buf + i, "CHNK", 4))
				continue;
			memcpy(&c, buf + i, hs);
			if (chunk_ok(t, &c, pos + i) != 0) {
				found = pos + i;
				goto out;
			}
		}
		pos += (uint64_t)n - hs + 1;
	}
out:
	free(buf);
	return found;
}

/*
 * tid 0 is not a thread: its chunks each carry one mark set by the mark signal (trace.h).
 * Its stream moves after the threads, out of t->nthreads (so reports count only threads);
 * walks of every thread (thread -1) still decode it, so its marks are delivered and known.
 */
static void split_pseudo(struct trace *t, struct reader *r)
{
	uint32_t n = t->nthreads, i, k = 0, pass;
	struct trace_thread *th;
	struct tstate **ts;

	for (i = 0; i < n && t->threads[i].tid; i++)
		;
	if (i == n)
		return;
	th = xmalloc(n * sizeof(*th));
	ts = xmalloc(n * sizeof(*ts));
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++) {
			if ((t->threads[i].tid == 0) != (pass == 1))
				continue;
			th[k] = t->threads[i];
			ts[k] = r->ts[i];
			ts[k]->index = k;
			r->npseudo += pass;
			k++;
		}
	memcpy(t->threads, th, n * sizeof(*th));
	memcpy(r->ts, ts, n * sizeof(*ts));
	for (i = 0; i < n; i++)
		t->threads[i].priv = r->ts[i];
	t->nthreads = n - r->npseudo;
	free(th);
	free(ts);
}

static struct tstate *thread_new(struct trace *t, struct reader *r, uint32_t tid)
{
	struct tstate *ts = xcalloc(1, sizeof(*ts));
	struct trace_thread *th;

	if (t->nthreads == r->ts_cap) {
		r->ts_cap = ARRAY_NEXT_CAP(r->ts_cap, t->nthreads + 1);
		ARRAY_RESIZE(t->threads, r->ts_cap);
		ARRAY_RESIZE(r->ts, r->ts_cap);
	}
	ts->index = t->nthreads;
	th = &t->threads[t->nthreads];
	memset(th, 0, sizeof(*th));
	th->tid = tid;
	th->priv = ts;
	r->ts[t->nthreads++] = ts;
	ts->lost_seq = UINT32_MAX;
	return ts;
}

static int cmp_seq(const void *a, const void *b, void *arg)
{
	const struct chunk *c = arg;
	uint32_t x = c[*(const uint32_t *)a].seq, y = c[*(const uint32_t *)b].seq;

	return x < y ? -1 : x > y;
}

/*
 * scan_ticks - skip the records of @p..@p+@n (from time base @base) and return the
 * time of the last timed one: an unfinished chunk's end, which its header does not have.
 * Ids are not checked here; the walk that decodes the chunk does that (trace-walk.c has the
 * decoder; this only needs each record's length and its time deltas).
 */
static uint64_t scan_ticks(const uint8_t *p, size_t n, uint64_t base)
{
	/* varints after h of each op (a string counts as one, its bytes skipped), and timed */
	static const uint8_t nfields[TRACE_OP_MAX] = {
		[TRACE_OP_FUNC] = 1, [TRACE_OP_NODE_RA] = 2, [TRACE_OP_NODE_FN] = 2,
		[TRACE_OP_ALLOC] = 5, [TRACE_OP_FREE] = 2, [TRACE_OP_REALLOC] = 6,
		[TRACE_OP_ENTRY_AT] = 2, [TRACE_OP_MARK] = 2, [TRACE_OP_MODULE] = 6,
		[TRACE_OP_UNLOAD] = 2, [TRACE_OP_THREAD_NAME] = 1, [TRACE_OP_LOST] = 1,
		[TRACE_OP_PROCESS] = 4, [TRACE_OP_RSS] = 2, [TRACE_OP_EXITS] = 2,
		[TRACE_OP_SWITCH] = 3,
	};
	/* bit i: field i is a str / a dt */
	static const uint8_t strs[TRACE_OP_MAX] = {
		[TRACE_OP_MARK] = 0x01, [TRACE_OP_MODULE] = 0x18, [TRACE_OP_THREAD_NAME] = 0x01,
		[TRACE_OP_PROCESS] = 0x0c,
	};
	static const uint8_t dts[TRACE_OP_MAX] = {
		[TRACE_OP_ALLOC] = 0x10, [TRACE_OP_FREE] = 0x02, [TRACE_OP_REALLOC] = 0x30,
		[TRACE_OP_MARK] = 0x02, [TRACE_OP_MODULE] = 0x20, [TRACE_OP_UNLOAD] = 0x02,
		[TRACE_OP_RSS] = 0x02, [TRACE_OP_EXITS] = 0x02,
	};
	const uint8_t *end = p + n;
	uint64_t ticks = base, h, v;
	unsigned op, i;

	while (p < end) {
		if (trace_get_varint(&p, end, &h) < 0)
			break;
		if (!(h & 1)) {
			ticks += h >> 1;		/* EXIT */
			continue;
		}
		if ((h & 3) == 1) {			/* ENTRY */
			if (trace_get_varint(&p, end, &v) < 0)
				break;
			ticks += v;
			continue;
		}
		op = (unsigned)(h >> 2);
		if (!op || op >= TRACE_OP_MAX)
			break;
		if (op == TRACE_OP_COST) {		/* n, then n untimed figures */
			if (trace_get_varint(&p, end, &v) < 0 || v > 64)
				break;
			for (i = (unsigned)v; i > 0; i--)
				if (trace_get_varint(&p, end, &h) < 0)
					return ticks;
			continue;
		}
		for (i = 0; i < nfields[op]; i++) {
			if (trace_get_varint(&p, end, &v) < 0)
				return ticks;
			if (strs[op] >> i & 1) {
				if (v > (uint64_t)(end - p) || v > TRACE_MAX_STRING)
					return ticks;
				p += v;
			}
			if (dts[op] >> i & 1)
				ticks += v;
		}
	}
	return ticks;
}

/*
 * open_chunk - a chunk its writer never closed (TRACE_CHUNK_OPEN): its records are the bytes
 * up to the commit cursor in the trailer at the end of its payload area; their last time
 * comes from a scan (the header's pair is from when the chunk was opened). Return: 0 with
 * @k->size set to the committed bytes, or -1 when the trailer is not believable (noted).
 */
static int open_chunk(struct trace *t, struct chunk *k, struct loss_note *ln)
{
	struct trace_chunk_trailer tr;
	uint64_t toff = k->off + sizeof(struct trace_chunk_header) + k->size - sizeof(tr);
	uint8_t *buf;

	if (pread(t->fd, &tr, sizeof(tr), (off_t)toff) != (ssize_t)sizeof(tr) ||
	    tr.cursor < tr.base || tr.cursor - tr.base > k->size - sizeof(tr)) {
		trace_note(ln, "unfinished chunk at offset %llu (thread %u, seq %u) with a damaged "
		     "commit cursor", (unsigned long long)k->off, k->tid, k->seq);
		return -1;
	}
	k->open = true;
	k->size = (uint32_t)(tr.cursor - tr.base);
	k->payload_checksum = 0;
	buf = xmalloc(k->size + 1);
	if (pread(t->fd, buf, k->size, (off_t)(k->off + sizeof(struct trace_chunk_header))) ==
	    (ssize_t)k->size)
		k->last_ticks = scan_ticks(buf, k->size, k->base_ticks);
	else
		k->last_ticks = k->base_ticks;
	free(buf);
	return 0;
}

/*
 * read_chunk_headers - every chunk header in file order into r->chunks (the intact ones),
 * damaged regions skipped, a cut end noted. Fills @ln with what was lost.
 */
static void read_chunk_headers(struct trace *t, struct reader *r, struct loss_note *ln)
{
	uint64_t off = t->hdr.header_size;
	uint32_t cap = 0;

	while (off < t->file_size) {
		struct trace_chunk_header c;
		ssize_t n = 0;
		int ok = 0;

		if (off + sizeof(c) <= t->file_size)
			n = pread(t->fd, &c, sizeof(c), (off_t)off);
		if (n == (ssize_t)sizeof(c))
			ok = chunk_ok(t, &c, off);
		else if (off + sizeof(c) > t->file_size)
			ok = -2;
		if (ok == 1) {
			uint64_t next = off + sizeof(c) + c.size + c.pad;
			struct chunk k = {
				.off = off, .base_ticks = c.base_ticks, .end_ticks = c.end_ticks,
				.end_mono_ns = c.end_mono_ns, .tid = c.tid, .seq = c.seq,
				.size = c.size, .flags = c.flags,
				.payload_checksum = c.payload_checksum, .last_ticks = c.end_ticks,
			};

			if ((c.flags & TRACE_CHUNK_OPEN) && open_chunk(t, &k, ln) < 0) {
				t->damaged_chunks++;
				t->damaged_bytes += sizeof(c) + c.size;
				off = next;
				continue;
			}
			ARRAY_ROOM(r->chunks, cap, r->nchunks);
			r->chunks[r->nchunks++] = k;
			off = next;
			continue;
		}
		if (ok == -1 || ok == -2) {
			/* the last chunk is incomplete: a crash or a copy cut short */
			t->truncated = true;
			t->damaged_bytes += t->file_size - off;
			if (ok == -1)
				trace_note(ln, "file cut at offset %llu inside a chunk of thread %u (seq %u, "
				     "%llu of %u payload bytes)", (unsigned long long)off, c.tid,
				     c.seq, (unsigned long long)(t->file_size - off - sizeof(c)),
				     c.size);
			else
				trace_note(ln, "file cut at offset %llu (%llu stray bytes at the end)",
				     (unsigned long long)off,
				     (unsigned long long)(t->file_size - off));
			break;
		}
		{
			uint64_t next = resync(t, off);

			t->damaged_chunks++;
			t->damaged_bytes += next - off;
			trace_note(ln, "damaged data at offset %llu (%llu bytes skipped)",
			     (unsigned long long)off, (unsigned long long)(next - off));
			if (next >= t->file_size)
				t->truncated = true;
			off = next;
		}
	}
}

/*
 * thread_chunks - thread @i's chunks, grouped: ordered by seq, its usable list cut at its
 * first missing seq (noted in @ln), its sizes, times and ends.
 */
static void thread_chunks(struct trace *t, struct reader *r, uint32_t i, struct loss_note *ln)
{
	struct tstate *ts = r->ts[i];
	struct trace_thread *th = &t->threads[i];
	char tb[32];
	uint32_t j;

	ts->th = th;
	qsort_r(ts->chunks, ts->nchunks, sizeof(*ts->chunks), cmp_seq, r->chunks);
	if (ts->nchunks) {	/* of its last intact chunk, usable or not (check_ends) */
		ts->end_flags = r->chunks[ts->chunks[ts->nchunks - 1]].flags;
		th->unfinished = r->chunks[ts->chunks[ts->nchunks - 1]].open;
	}
	for (j = 0; j < ts->nchunks; j++)
		if (r->chunks[ts->chunks[j]].seq != j)
			break;
	if (j < ts->nchunks) {
		uint64_t dropped = ts->nchunks - j;

		ts->lost_seq = j;
		th->damaged = true;
		trace_note(ln, "thread %u: chunk %u missing or damaged: its events after %s are "
		     "lost (%llu later chunk%s unused)", th->tid, j,
		     fmt_ns(tb, sizeof(tb), j ? to_ns(t, r, r->chunks[ts->chunks[j - 1]].end_ticks)
					: 0),
		     (unsigned long long)dropped, dropped == 1 ? "" : "s");
		ts->nchunks = j;
	}
	th->nchunks = ts->nchunks;
	for (j = 0; j < ts->nchunks; j++) {
		struct chunk *c = &r->chunks[ts->chunks[j]];

		th->bytes += c->size;
		if (c->size > ts->maxsize)
			ts->maxsize = c->size;
		if (c->open) {
			t->unfinished_chunks++;
			continue;
		}
		if (c->flags & TRACE_CHUNK_LAST)
			th->complete = true;
		if (c->flags & TRACE_CHUNK_CUT)
			th->cut = true;
	}
	if (ts->nchunks) {
		th->first_ns = to_ns(t, r, r->chunks[ts->chunks[0]].base_ticks);
		/* an unfinished chunk: its last record's time, not when it was opened */
		th->last_ns = to_ns(t, r, r->chunks[ts->chunks[ts->nchunks - 1]].last_ticks);
		th->written_ns = th->last_ns;
	}
}

/*
 * index_chunks - read every chunk header in file order, skip damaged regions, group the
 * intact chunks into thread instances (a tid seen again after its LAST/CUT chunk, or with
 * seq 0 again, is a new thread: the kernel reuses tids), order each by seq, and cut each
 * thread's usable list at its first missing seq. Fills @ln with what was lost.
 */
static void index_chunks(struct trace *t, struct reader *r, struct loss_note *ln)
{
	struct ixmap tmap = { 0 };
	struct tstate *last_ts = NULL;
	uint32_t i;

	read_chunk_headers(t, r, ln);

	/* the clock, from the intact chunk headers: the notes below give times */
	fit_clock(t, r);
	check_times(t, r, ln);

	/* group by thread instance, in order of first appearance */
	for (i = 0; i < r->nchunks; i++) {
		struct chunk *c = &r->chunks[i];
		struct tstate *ts = NULL;
		/* tmap: tid + 1 -> its latest thread instance */
		struct ixmap_ent *te = ixmap_get(&tmap, (uint64_t)c->tid + 1);

		if (last_ts && t->threads[last_ts->index].tid == c->tid)
			ts = last_ts;
		else if (te)
			ts = r->ts[te->ix];
		/* a seq the instance already has: a copy of a chunk, or a new thread (tid reuse) */
		if (ts && c->seq < ts->seen_bits * 8U && (ts->seen[c->seq / 8] >> (c->seq % 8) & 1)) {
			if (chunk_again(t, r, ts, i, ln))
				continue;
			ts = NULL;
		}
		if (!ts) {
			bool created;

			ts = thread_new(t, r, c->tid);
			ixmap_put(&tmap, (uint64_t)c->tid + 1, &created)->ix = ts->index;
		}
		ARRAY_ROOM(ts->chunks, ts->chunks_cap, ts->nchunks);
		ts->chunks[ts->nchunks++] = i;
		seq_index_add(r, ts, i);
		/* a seq >= the number of chunks can never be reached: no bit (bounded memory) */
		if (c->seq >= r->nchunks)
			goto next;
		ARRAY_GROW_ZERO(ts->seen, ts->seen_bits, (size_t)c->seq / 8 + 1);
		ts->seen[c->seq / 8] |= (uint8_t)(1U << (c->seq % 8));
next:
		if (c->flags & (TRACE_CHUNK_LAST | TRACE_CHUNK_CUT))
			ts->ended = true;
		last_ts = ts;
	}
	ixmap_free(&tmap);
	ixmap_free(&r->seq_index);	/* only the index needs it (chunk_again) */
	split_pseudo(t, r);

	for (i = 0; i < t->nthreads + r->npseudo; i++)
		thread_chunks(t, r, i, ln);
	check_ends(t, r, ln);
}

/**
 * trace_open - open @path, validate its header and index its chunks.
 * @out: the trace, to be freed with trace_close
 * Damage is reported in one warning (what was lost) and the intact part is kept.
 * Return: 0, or -1 after one error line (foreign, empty, wrong version, hopeless file).
 */
int trace_open(const char *path, struct trace **out)
{
	struct trace *t = xcalloc(1, sizeof(*t));
	struct reader *r = xcalloc(1, sizeof(*r));
	struct loss_note ln = { .len = 0 };
	uint8_t raw[sizeof(struct trace_file_header)];
	struct stat st;
	ssize_t n;

	t->path = path;
	t->priv = r;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below */
	t->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (t->fd < 0) {
		pr_error("%s: %s", path, strerror(errno));
		goto err;
	}
	if (fstat(t->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		pr_error("%s: not a regular file", path);
		goto err;
	}
	t->file_size = (uint64_t)st.st_size;
	n = pread(t->fd, raw, sizeof(raw), 0);
	/* compressed (by its magic, whatever its name): read the trace it holds (trace-zstd.c) */
	if (n > 0 && trace_zstd_magic(raw, (size_t)n)) {
		if (trace_zstd_inflate(t) < 0)
			goto err;
		n = pread(t->fd, raw, sizeof(raw), 0);
	}
	if (n < 0) {
		pr_error("%s: %s", path, strerror(errno));
		goto err;
	}
	memset(&t->hdr, 0, sizeof(t->hdr));
	memcpy(&t->hdr, raw, (size_t)n);
	if (check_header(t, raw, (size_t)n) < 0)
		goto err;
	t->pid = t->hdr.pid;
	t->ppid = t->hdr.ppid;
	r->stack_cap = t->hdr.stack_depth;

	ixmap_init(&r->fhash, 256);
	r->gs_cap = 256;
	r->gs = xcalloc(r->gs_cap, sizeof(*r->gs));
	r->gframes = xcalloc(r->gs_cap, sizeof(*r->gframes));
	r->gnframes = xcalloc(r->gs_cap, sizeof(*r->gnframes));
	r->ngs = 1;
	ixmap_init(&r->ghash, 512);

	t->cut_fsize = t->hdr.flags & TRACE_F_CUT_FSIZE;
	t->cut_write = t->hdr.flags & TRACE_F_CUT_WRITE;
	if (t->cut_fsize)
		trace_note(&ln, "recording stopped early: the trace reached the file-size limit "
		     "(RLIMIT_FSIZE); later events are not in it");
	if (t->cut_write)
		trace_note(&ln, "recording stopped early: writing the trace failed (disk full?); later "
		     "events are not in it");
	index_chunks(t, r, &ln);
	if (!r->nchunks && t->file_size > t->hdr.header_size) {
		/* hopeless: one error line, not the details */
		pr_error("%s: no intact chunk in the %llu bytes after the header", path,
			 (unsigned long long)(t->file_size - t->hdr.header_size));
		goto err;
	}
	/* the whole module map, before any walk: addresses are named by time */
	trace_modules_scan(t, r);
	if (ln.n)
		pr_warn("%s: %s", path, ln.buf);
	{
		uint64_t lo = UINT64_MAX, hi = 0;
		uint32_t i;

		for (i = 0; i < t->nthreads + R(t)->npseudo; i++) {
			if (!t->threads[i].nchunks)
				continue;
			if (t->threads[i].first_ns < lo)
				lo = t->threads[i].first_ns;
			if (t->threads[i].last_ns > hi)
				hi = t->threads[i].last_ns;
		}
		t->duration_ns = hi > lo && lo != UINT64_MAX ? hi - lo : 0;
	}
	*out = t;
	return 0;
err:
	trace_close(t);
	*out = NULL;
	return -1;
}

/** trace_close - free @t and everything the reader gave out (stacks, names). */
void trace_close(struct trace *t)
{
	struct reader *r;
	uint32_t i;

	if (!t)
		return;
	r = R(t);
	pr_dbg(1, "%s: %u walk%s", t->path, trace_walks(t), trace_walks(t) == 1 ? "" : "s");
	offcpu_free(t);
	replay_log_free(t->memlog);
	if (t->fd >= 0)
		close(t->fd);
	for (i = 0; i < t->nthreads + r->npseudo; i++) {
		struct tstate *ts = r->ts[i];

		free(ts->chunks);
		free(ts->seen);
		free(ts->buf);
		free(ts->fids);
		free(ts->cp);
		free(ts->rstack);
		free(ts->nodes);
		free(ts->calls);
		free(ts->active);
		free(ts);
	}
	for (i = 0; i < t->nmodules; i++)
		free(t->modules[i].path);
	for (i = 0; i < t->nmarks; i++)
		free(t->marks[i].label);
	if (r) {
		for (i = 0; i < r->ngs; i++)
			free((void *)r->gframes[i]);
		free(r->gframes);
		free(r->gnframes);
		free(r->gs);
		ixmap_free(&r->ghash);
		ixmap_free(&r->fhash);
		free(r->func_file);
		free(r->func_key);
		free(r->entries);
		ixmap_free(&r->ehash);
		free(r->msrc);
		free(r->mod_file);
		free(r->by_lo);
		free(r->max_hi);
		free(r->rng);
		free(r->bounds);
		free(r->chunks);
		ixmap_free(&r->seq_index);
		free(r->ts);
		free(r);
	}
	free(t->modules);
	free(t->marks);
	free(t->threads);
	free(t->funcs);
	free(t->func_module);
	free(t->exe);
	free(t->cmdline);
	free(t->read_note);
	free(t);
}
