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

#include "analyzer/trace-priv.h"

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

static inline uint32_t hash64(uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	return (uint32_t)v;
}

static void fhash_grow(struct trace *t, struct reader *r)
{
	uint32_t i, n = (r->fhash_mask + 1) * 2;

	free(r->fhash);
	r->fhash = xcalloc(n, sizeof(*r->fhash));
	r->fhash_mask = n - 1;
	for (i = 0; i < t->nfuncs; i++) {
		uint32_t h = hash64(t->funcs[i]) & r->fhash_mask;

		while (r->fhash[h])
			h = (h + 1) & r->fhash_mask;
		r->fhash[h] = i + 1;
	}
}

/* Known function entries (for ra_in_func): @addr noted, sorted in later by entries_sort. */
static void entry_note(struct reader *r, uint64_t addr)
{
	if (r->nentries == r->entries_cap) {
		r->entries_cap = r->entries_cap ? r->entries_cap * 2 : 256;
		r->entries = xrealloc(r->entries, r->entries_cap * sizeof(*r->entries));
	}
	r->entries[r->nentries++] = addr;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sort and unique all entries (the unsorted tail grew past a quarter of the sorted part). */
static void entries_sort(struct reader *r)
{
	uint32_t i, n = 0;

	qsort(r->entries, r->nentries, sizeof(*r->entries), cmp_u64);
	for (i = 0; i < r->nentries; i++)
		if (!n || r->entries[i] != r->entries[n - 1])
			r->entries[n++] = r->entries[i];
	r->nentries = r->nsorted = n;
}

/* Whether a function address was defined by a FUNC record (no insertion). */
static bool func_known(const struct trace *t, const struct reader *r, uint64_t addr)
{
	uint32_t h = hash64(addr) & r->fhash_mask, i;

	while ((i = r->fhash[h])) {
		if (t->funcs[i - 1] == addr)
			return true;
		h = (h + 1) & r->fhash_mask;
	}
	return false;
}

/* trace_func_index - dense index of function address @addr, added on first sight */
uint32_t trace_func_index(struct trace *t, struct reader *r, uint64_t addr)
{
	uint32_t h = hash64(addr) & r->fhash_mask, i;

	while ((i = r->fhash[h])) {
		if (t->funcs[i - 1] == addr)
			return i - 1;
		h = (h + 1) & r->fhash_mask;
	}
	if (t->nfuncs == r->funcs_cap) {
		r->funcs_cap = r->funcs_cap ? r->funcs_cap * 2 : 256;
		t->funcs = xrealloc(t->funcs, r->funcs_cap * sizeof(*t->funcs));
	}
	t->funcs[t->nfuncs] = addr;
	r->fhash[h] = ++t->nfuncs;
	entry_note(r, addr);
	if (t->nfuncs * 2 > r->fhash_mask)
		fhash_grow(t, r);
	return t->nfuncs - 1;
}

static inline uint32_t ghash_of(uint32_t parent, uint64_t ip, bool is_ra)
{
	return hash64(ip * 2 + is_ra + ((uint64_t)parent << 40) + parent);
}

static void ghash_grow(struct reader *r)
{
	uint32_t i, n = (r->ghash_mask + 1) * 2;

	free(r->ghash);
	r->ghash = xcalloc(n, sizeof(*r->ghash));
	r->ghash_mask = n - 1;
	for (i = 1; i < r->ngs; i++) {
		uint32_t h = ghash_of(r->gs[i].parent, r->gs[i].ip, r->gs[i].is_ra) & r->ghash_mask;

		while (r->ghash[h])
			h = (h + 1) & r->ghash_mask;
		r->ghash[h] = i;
	}
}

/* gstack_intern - id of the stack @parent with frame (@ip, @is_ra) pushed inside it */
static uint32_t gstack_intern(struct reader *r, uint32_t parent, uint64_t ip, bool is_ra)
{
	uint32_t h = ghash_of(parent, ip, is_ra) & r->ghash_mask, id;

	while ((id = r->ghash[h])) {
		struct gstack *g = &r->gs[id];

		if (g->parent == parent && g->ip == ip && g->is_ra == is_ra)
			return id;
		h = (h + 1) & r->ghash_mask;
	}
	if (r->ngs == r->gs_cap) {
		r->gs_cap *= 2;
		r->gs = xrealloc(r->gs, r->gs_cap * sizeof(*r->gs));
		r->gframes = xrealloc(r->gframes, r->gs_cap * sizeof(*r->gframes));
		r->gnframes = xrealloc(r->gnframes, r->gs_cap * sizeof(*r->gnframes));
	}
	id = r->ngs++;
	r->gs[id] = (struct gstack){ ip, parent, r->gs[parent].depth + 1, is_ra };
	r->gframes[id] = NULL;
	r->ghash[h] = id;
	if (r->ngs * 2 > r->ghash_mask)
		ghash_grow(r);
	return id;
}

/*
 * ra_in_func - whether return address @ra lies inside the function that starts at @fn: ra - 1
 * is at or above fn, in the same recorded module (the latest MODULE whose range holds fn),
 * and no other known function entry (FUNC records, NODE_FN frames) lies in (fn, ra - 1].
 * Without symbols this is what the trace can tell; a call from a function that is neither
 * instrumented nor known, placed right after fn, would pass for fn (docs/stacks.md).
 */
static bool ra_in_func(const struct trace *t, struct reader *r, uint64_t fn, uint64_t ra)
{
	uint64_t a = ra - 1;
	uint32_t i, lo, hi;

	if (!ra || a < fn)
		return false;
	for (i = t->nmodules; i-- > 0;)
		if (fn >= t->modules[i].lo && fn < t->modules[i].hi)
			break;
	if (i == UINT32_MAX || a >= t->modules[i].hi)
		return false;
	if (r->nentries - r->nsorted > 64 && r->nentries - r->nsorted > r->nsorted / 4)
		entries_sort(r);
	for (i = r->nsorted; i < r->nentries; i++)
		if (r->entries[i] > fn && r->entries[i] <= a)
			return false;
	/* the first sorted entry above fn */
	lo = 0;
	hi = r->nsorted;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (r->entries[mid] <= fn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == r->nsorted || r->entries[lo] > a;
}

/*
 * trace_node_define - thread node @n was just appended: give it a global stack. Stacks deeper
 * than the header's stack_depth keep their innermost stack_depth frames (the tree of the
 * thread may be deeper: shadow stacks of deep recursion). The return address the recorder
 * puts under a shadow stack's top function (a NODE_RA child of a NODE_FN) is interned on top
 * of its parent's stack as it is: trace_stack_get decides whether it stays, and then cuts
 * the stack to stack_depth frames.
 */
void trace_node_define(struct trace *t, struct reader *r, struct tstate *ts, uint32_t n)
{
	struct tnode *nd = &ts->nodes[n], *pa = &ts->nodes[nd->parent];
	uint32_t cap = r->stack_cap, g = 0, i, m;
	uint32_t idx[256], *ix = idx;

	if (!nd->is_ra && !func_known(t, r, nd->ip))
		entry_note(r, nd->ip);
	if (!cap || nd->depth <= cap || (nd->is_ra && nd->parent && !pa->is_ra)) {
		nd->gstack = gstack_intern(r, pa->gstack, nd->ip, nd->is_ra);
		return;
	}
	if (cap > 256)
		ix = xmalloc(cap * sizeof(*ix));
	for (i = 0, m = n; i < cap; i++, m = ts->nodes[m].parent)
		ix[i] = m;
	while (i-- > 0)
		g = gstack_intern(r, g, ts->nodes[ix[i]].ip, ts->nodes[ix[i]].is_ra);
	nd->gstack = g;
	if (ix != idx)
		free(ix);
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
 * stack is first materialized, after the walk that delivered it, so the modules and
 * functions that walk met are known. Return: whether stack @id starts with such a frame.
 */
static bool drop_caller(const struct trace *t, struct reader *r, uint32_t id)
{
	const struct gstack *g = &r->gs[id], *p;

	if (!g->is_ra)
		return false;
	for (p = &r->gs[g->parent]; p != r->gs && !p->is_ra; p = &r->gs[p->parent])
		if (ra_in_func(t, r, p->ip, g->ip))
			return true;
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

	if (!id || id >= r->ngs)
		return (struct trace_stack){ 0, NULL };
	if (!r->gframes[id]) {
		g = id;
		n = r->gs[id].depth;
		if (drop_caller(t, r, id)) {
			g = r->gs[id].parent;
			n--;
		}
		/* only a kept caller frame can pass the cap (trace_node_define) */
		if (r->stack_cap && n > r->stack_cap)
			n = r->stack_cap;
		f = xmalloc(n * sizeof(*f));
		for (i = 0; i < n; i++, g = r->gs[g].parent)
			f[i] = (struct trace_frame){ r->gs[g].ip, r->gs[g].is_ra };
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
	if (h->version != TRACE_VERSION) {
		pr_error("%s: trace format version %u, this perfshim-analyze reads version %u",
			t->path, h->version, TRACE_VERSION);
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

/* chunk_ok - the header at @off is intact and its payload lies inside the file */
static int chunk_ok(const struct trace *t, const struct trace_chunk_header *c, uint64_t off)
{
	if (c->magic != TRACE_CHUNK_MAGIC ||
	    c->header_checksum != trace_checksum(c, TRACE_CHUNK_HEADER_CKLEN))
		return 0;
	if (c->size > t->hdr.max_chunk)
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
		r->ts_cap = r->ts_cap ? r->ts_cap * 2 : 16;
		t->threads = xrealloc(t->threads, r->ts_cap * sizeof(*t->threads));
		r->ts = xrealloc(r->ts, r->ts_cap * sizeof(*r->ts));
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
 * index_chunks - read every chunk header in file order, skip damaged regions, group the
 * intact chunks into thread instances (a tid seen again after its LAST/CUT chunk, or with
 * seq 0 again, is a new thread: the kernel reuses tids), order each by seq, and cut each
 * thread's usable list at its first missing seq. Fills @ln with what was lost.
 */
static void index_chunks(struct trace *t, struct reader *r, struct loss_note *ln)
{
	uint64_t off = t->hdr.header_size;
	uint32_t cap = 0, i, j, tmask, *tmap;
	struct tstate *last_ts = NULL;
	char tb[32];

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
			if (r->nchunks == cap) {
				cap = cap ? cap * 2 : 256;
				r->chunks = xrealloc(r->chunks, cap * sizeof(*r->chunks));
			}
			r->chunks[r->nchunks++] = (struct chunk){
				.off = off, .base_ticks = c.base_ticks, .end_ticks = c.end_ticks,
				.end_mono_ns = c.end_mono_ns, .tid = c.tid, .seq = c.seq,
				.size = c.size, .flags = c.flags,
				.payload_checksum = c.payload_checksum,
			};
			off += sizeof(c) + c.size;
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

	/* the clock, from the intact chunk headers: the notes below give times */
	fit_clock(t, r);
	check_times(t, r, ln);

	/* group by thread instance, in order of first appearance */
	tmask = 1023;
	tmap = xcalloc(tmask + 1, sizeof(*tmap));
	for (i = 0; i < r->nchunks; i++) {
		struct chunk *c = &r->chunks[i];
		struct tstate *ts = NULL;
		uint32_t h = hash64(c->tid) & tmask;

		/* tmap: tid -> its latest thread instance (index + 1) */
		while (tmap[h] && t->threads[tmap[h] - 1].tid != c->tid)
			h = (h + 1) & tmask;
		if (last_ts && t->threads[last_ts->index].tid == c->tid)
			ts = last_ts;
		else if (tmap[h])
			ts = r->ts[tmap[h] - 1];
		/* a seq the instance already has: a copy of a chunk, or a new thread (tid reuse) */
		if (ts && c->seq < ts->seen_bits * 8U && (ts->seen[c->seq / 8] >> (c->seq % 8) & 1)) {
			if (chunk_again(t, r, ts, i, ln))
				continue;
			ts = NULL;
		}
		if (!ts) {
			ts = thread_new(t, r, c->tid);
			if (!tmap[h] && t->nthreads * 2 > tmask) {
				/* grow the map: rebuild from the instances, latest last */
				free(tmap);
				tmask = tmask * 2 + 1;
				tmap = xcalloc(tmask + 1, sizeof(*tmap));
				for (j = 0; j < t->nthreads; j++) {
					h = hash64(t->threads[j].tid) & tmask;
					while (tmap[h] && t->threads[tmap[h] - 1].tid !=
								  t->threads[j].tid)
						h = (h + 1) & tmask;
					tmap[h] = j + 1;
				}
			} else {
				tmap[h] = ts->index + 1;
			}
		}
		if (ts->nchunks == ts->chunks_cap) {
			ts->chunks_cap = ts->chunks_cap ? ts->chunks_cap * 2 : 8;
			ts->chunks = xrealloc(ts->chunks, ts->chunks_cap * sizeof(*ts->chunks));
		}
		ts->chunks[ts->nchunks++] = i;
		seq_index_add(r, ts, i);
		/* a seq >= the number of chunks can never be reached: no bit (bounded memory) */
		if (c->seq >= r->nchunks)
			goto next;
		if (c->seq >= ts->seen_bits * 8U) {
			uint32_t nb = c->seq / 8 + 1 < (1U << 20) ? (c->seq / 8 + 1) * 2 : c->seq / 8 + 1;

			ts->seen = xrealloc(ts->seen, nb);
			memset(ts->seen + ts->seen_bits, 0, nb - ts->seen_bits);
			ts->seen_bits = nb;
		}
		ts->seen[c->seq / 8] |= (uint8_t)(1U << (c->seq % 8));
next:
		if (c->flags & (TRACE_CHUNK_LAST | TRACE_CHUNK_CUT))
			ts->ended = true;
		last_ts = ts;
	}
	free(tmap);
	free(r->seq_index);	/* only the index needs it (chunk_again) */
	r->seq_index = NULL;
	r->seq_mask = r->nseq = 0;
	split_pseudo(t, r);

	for (i = 0; i < t->nthreads + r->npseudo; i++) {
		struct tstate *ts = r->ts[i];
		struct trace_thread *th = &t->threads[i];

		ts->th = th;
		qsort_r(ts->chunks, ts->nchunks, sizeof(*ts->chunks), cmp_seq, r->chunks);
		if (ts->nchunks)	/* of its last intact chunk, usable or not (check_ends) */
			ts->end_flags = r->chunks[ts->chunks[ts->nchunks - 1]].flags;
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
			if (c->flags & TRACE_CHUNK_LAST)
				th->complete = true;
			if (c->flags & TRACE_CHUNK_CUT)
				th->cut = true;
		}
		if (ts->nchunks) {
			th->first_ns = to_ns(t, r, r->chunks[ts->chunks[0]].base_ticks);
			th->last_ns = to_ns(t, r, r->chunks[ts->chunks[ts->nchunks - 1]].end_ticks);
			th->written_ns = th->last_ns;
		}
	}
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

	r->fhash_mask = 255;
	r->fhash = xcalloc(256, sizeof(*r->fhash));
	r->gs_cap = 256;
	r->gs = xcalloc(r->gs_cap, sizeof(*r->gs));
	r->gframes = xcalloc(r->gs_cap, sizeof(*r->gframes));
	r->gnframes = xcalloc(r->gs_cap, sizeof(*r->gnframes));
	r->ngs = 1;
	r->ghash_mask = 511;
	r->ghash = xcalloc(512, sizeof(*r->ghash));

	index_chunks(t, r, &ln);
	if (!r->nchunks && t->file_size > t->hdr.header_size) {
		/* hopeless: one error line, not the details */
		pr_error("%s: no intact chunk in the %llu bytes after the header", path,
			 (unsigned long long)(t->file_size - t->hdr.header_size));
		goto err;
	}
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
	if (t->fd >= 0)
		close(t->fd);
	for (i = 0; i < t->nthreads + r->npseudo; i++) {
		struct tstate *ts = r->ts[i];

		free(ts->chunks);
		free(ts->seen);
		free(ts->buf);
		free(ts->fid_func);
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
		free(r->ghash);
		free(r->fhash);
		free(r->entries);
		free(r->chunks);
		free(r->seq_index);
		free(r->ts);
		free(r);
	}
	free(t->modules);
	free(t->marks);
	free(t->threads);
	free(t->funcs);
	free(t->exe);
	free(t->cmdline);
	free(t->read_note);
	free(t);
}
