/* SPDX-License-Identifier: MIT */
/*
 * The trace reader: validates a trace file, indexes its chunks per thread and decodes them
 * into events, one thread after another or merged by time. docs/trace-format.md has the bytes,
 * docs/design.md ("Analyzer") the choices.
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

#include "analyzer/analyze.h"

/* one "perfshim-analyze: error: ..." line; main exits 1 after it */
#define pr_error(fmt, ...) __pr_log("error: ", fmt, ##__VA_ARGS__)

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* An intact chunk header, as indexed by trace_open. */
struct chunk {
	uint64_t off;			/* of its header in the file */
	uint64_t base_ticks, end_ticks, end_mono_ns;
	uint32_t tid, seq, size, flags;
	uint32_t payload_checksum;
	bool bad;			/* payload checksum failed (found while decoding) */
};

struct tnode {
	uint64_t ip;
	uint32_t depth;			/* frames from the root, 1 for a root child */
	uint32_t gstack;		/* global stack id */
	uint32_t parent;		/* thread node id */
	bool is_ra;
};

struct open_call {
	uint32_t func;
	uint64_t ns;			/* entry time */
	uint64_t child_ns;		/* inclusive time of its finished callees */
};

/* Per-thread reader state (trace_thread.priv). */
struct tstate {
	struct trace_thread *th;
	uint32_t index;			/* in trace->threads */
	uint32_t *chunks;		/* indices into reader.chunks, in seq order, usable ones */
	uint32_t nchunks, chunks_cap;
	uint32_t maxsize;		/* largest payload among them */
	uint32_t lost_seq;		/* first seq missing (stream ends before it) or UINT32_MAX */
	bool ended;			/* LAST/CUT chunk seen in the index */
	uint8_t *seen;			/* seqs indexed so far (bitmap of seen_bits bytes) */
	uint32_t seen_bits;

	/* decoding state, reset by each walk */
	uint32_t k;			/* next chunk to load */
	uint8_t *buf;
	const uint8_t *p, *end, *chunk_start;
	uint64_t ticks;			/* time base */
	uint64_t ptr;			/* pointer base */
	uint64_t last_ns;		/* of the last timed record */
	bool any_time;
	uint32_t *fid_func;		/* fid -> global function index */
	uint32_t nfids, fids_cap;
	struct tnode *nodes;		/* node id -> node; [0] is the root */
	uint32_t nnodes, nodes_cap;
	struct open_call *calls;	/* open calls, outermost first */
	uint32_t depth, calls_cap;
	uint32_t *active;		/* open activations by function index */
	uint32_t active_cap;
	uint64_t pending_exits;		/* EXIT events still owed by an EXITS record */
	uint64_t pending_ns;
	bool finished;			/* stream decoded to its end (open calls being closed) */
	bool done;			/* nothing more to deliver */
	bool calls_on;			/* this walk tracks calls */

	/* what was already collected into struct trace (once, whatever the walk) */
	uint32_t counted_k;		/* chunks below this one were counted in the totals */
	uint64_t cnt_events, cnt_calls, cnt_allocs, cnt_frees, cnt_reallocs, cnt_lost;
	uint32_t seen_k;		/* info records before (seen_k, seen_off) were collected */
	size_t seen_off;
	bool warned;			/* this thread's damage was reported */
	uint64_t unmatched_exits;

	struct trace_event ev;		/* merged walk: the next event of this thread */
	char str[TRACE_MAX_STRING + 1];	/* ev.str, NUL-terminated */
};

/* Global stack table: a prefix tree of (parent id, frame); id 0 is the empty stack. */
struct gstack {
	uint64_t ip;
	uint32_t parent;
	uint32_t depth;
	bool is_ra;
};

struct reader {
	struct chunk *chunks;
	uint32_t nchunks;
	struct tstate **ts;		/* parallel to trace->threads */
	uint32_t ts_cap;
	bool exact;			/* ticks are ns (no TSC) */
	uint64_t start_ticks;		/* header start_ticks */
	uint64_t mult;			/* ns_per_tick in 32.32 fixed point */
	uint32_t stack_cap;		/* frames kept per stack (header stack_depth, 0 = all) */

	/* functions: address -> index into trace->funcs (open addressing) */
	uint32_t *fhash;		/* index + 1, 0 = empty */
	uint32_t fhash_mask;
	uint32_t funcs_cap;

	struct gstack *gs;		/* [0] = empty stack */
	uint32_t ngs, gs_cap;
	uint32_t *ghash;		/* gstack id, 0 = empty */
	uint32_t ghash_mask;
	const struct trace_frame **gframes; /* materialized frames, by id (lazy) */

	uint32_t modules_cap, marks_cap;
	const struct opts *progress;	/* trace_set_progress */
	uint64_t bytes_read;		/* by this walk, for the progress line */
	uint64_t bytes_total;
	bool info_complete;		/* a walk went over every thread to its end */
};

static inline struct reader *R(const struct trace *t)
{
	return t->priv;
}

/* ---- time ---- */

/*
 * to_ns - ns since the trace start of trace clock @ticks: (ticks - start_ticks) * ns_per_tick
 * in 32.32 fixed point, rounded (one multiply per event instead of two int/double
 * conversions; exact when ticks are ns, within 2^-32 relative otherwise).
 */
static inline uint64_t to_ns(const struct trace *t, const struct reader *r, uint64_t ticks)
{
	if (unlikely(ticks <= r->start_ticks))
		return 0;
	return (uint64_t)(((unsigned __int128)(ticks - r->start_ticks) * r->mult + (1U << 31)) >> 32);
}

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

/* func_index - dense index of function address @addr, added on first sight */
static uint32_t func_index(struct trace *t, struct reader *r, uint64_t addr)
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
 * node_define - thread node @n was just appended: give it a global stack. Stacks deeper
 * than the header's stack_depth keep their innermost stack_depth frames (the tree of the
 * thread may be deeper: shadow stacks of deep recursion).
 */
static void node_define(struct reader *r, struct tstate *ts, uint32_t n)
{
	struct tnode *nd = &ts->nodes[n];
	uint32_t cap = r->stack_cap, g = 0, i, m;
	uint32_t idx[256], *ix = idx;

	if (!cap || nd->depth <= cap) {
		nd->gstack = gstack_intern(r, ts->nodes[nd->parent].gstack, nd->ip, nd->is_ra);
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
	n = r->gs[id].depth;
	if (!r->gframes[id]) {
		f = xmalloc(n * sizeof(*f));
		for (i = 0, g = id; i < n; i++, g = r->gs[g].parent)
			f[i] = (struct trace_frame){ r->gs[g].ip, r->gs[g].is_ra };
		r->gframes[id] = f;
	}
	return (struct trace_stack){ n, r->gframes[id] };
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

/* A message about lost events, collected while indexing, printed as one warning. */
struct loss_note {
	char buf[1024];
	size_t len;
	unsigned n;
};

static void __attribute__((format(printf, 2, 3))) note(struct loss_note *ln, const char *fmt, ...)
{
	va_list ap;
	int w;

	ln->n++;
	if (ln->n > 4) {
		if (ln->n == 5 && ln->len + 8 < sizeof(ln->buf))
			ln->len += (size_t)snprintf(ln->buf + ln->len, sizeof(ln->buf) - ln->len,
						    "; ...");
		return;
	}
	if (ln->len && ln->len + 2 < sizeof(ln->buf))
		ln->len += (size_t)snprintf(ln->buf + ln->len, sizeof(ln->buf) - ln->len, "; ");
	va_start(ap, fmt);
	w = vsnprintf(ln->buf + ln->len, sizeof(ln->buf) - ln->len, fmt, ap);
	va_end(ap);
	if (w > 0)
		ln->len = ln->len + (size_t)w < sizeof(ln->buf) ? ln->len + (size_t)w
							      : sizeof(ln->buf) - 1;
}

static char *secs(char *buf, size_t len, uint64_t ns)
{
	return fmt_ns(buf, len, ns);
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
				note(ln, "file cut at offset %llu inside a chunk of thread %u (seq %u, "
				     "%llu of %u payload bytes)", (unsigned long long)off, c.tid,
				     c.seq, (unsigned long long)(t->file_size - off - sizeof(c)),
				     c.size);
			else
				note(ln, "file cut at offset %llu (%llu stray bytes at the end)",
				     (unsigned long long)off,
				     (unsigned long long)(t->file_size - off));
			break;
		}
		{
			uint64_t next = resync(t, off);

			t->damaged_chunks++;
			t->damaged_bytes += next - off;
			note(ln, "damaged data at offset %llu (%llu bytes skipped)",
			     (unsigned long long)off, (unsigned long long)(next - off));
			if (next >= t->file_size)
				t->truncated = true;
			off = next;
		}
	}

	/* the clock, from the intact chunk headers: the notes below give times */
	fit_clock(t, r);

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
		/* a seq the instance already has: the tid was reused by a new thread */
		if (ts && c->seq < ts->seen_bits * 8U && (ts->seen[c->seq / 8] >> (c->seq % 8) & 1))
			ts = NULL;
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

	for (i = 0; i < t->nthreads; i++) {
		struct tstate *ts = r->ts[i];
		struct trace_thread *th = &t->threads[i];

		ts->th = th;
		qsort_r(ts->chunks, ts->nchunks, sizeof(*ts->chunks), cmp_seq, r->chunks);
		for (j = 0; j < ts->nchunks; j++)
			if (r->chunks[ts->chunks[j]].seq != j)
				break;
		if (j < ts->nchunks) {
			uint64_t dropped = ts->nchunks - j;

			ts->lost_seq = j;
			th->damaged = true;
			note(ln, "thread %u: chunk %u missing or damaged: its events after %s are "
			     "lost (%llu later chunk%s unused)", th->tid, j,
			     secs(tb, sizeof(tb), j ? to_ns(t, r, r->chunks[ts->chunks[j - 1]].end_ticks)
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
		}
	}
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
	t->fd = open(path, O_RDONLY | O_CLOEXEC);
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

		for (i = 0; i < t->nthreads; i++) {
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
	for (i = 0; i < t->nthreads; i++) {
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
		free(r->gs);
		free(r->ghash);
		free(r->fhash);
		free(r->chunks);
		free(r->ts);
		free(r);
	}
	free(t->modules);
	free(t->marks);
	free(t->threads);
	free(t->funcs);
	free(t->exe);
	free(t->cmdline);
	free(t);
}

/* ---- decoding ---- */

static void walk_reset(struct tstate *ts, bool calls)
{
	ts->k = 0;
	ts->p = ts->end = ts->chunk_start = NULL;
	ts->ticks = 0;
	ts->ptr = 0;
	ts->any_time = false;
	ts->last_ns = 0;
	ts->nfids = 0;
	ts->nnodes = 0;
	ts->depth = 0;
	ts->pending_exits = 0;
	ts->finished = false;
	ts->done = false;
	ts->calls_on = calls;
	if (ts->active)
		memset(ts->active, 0, ts->active_cap * sizeof(*ts->active));
	ts->unmatched_exits = 0;
	ts->cnt_events = ts->cnt_calls = ts->cnt_allocs = ts->cnt_frees = 0;
	ts->cnt_reallocs = ts->cnt_lost = 0;
	if (!ts->nodes) {
		ts->nodes_cap = 64;
		ts->nodes = xmalloc(ts->nodes_cap * sizeof(*ts->nodes));
	}
	ts->nodes[0] = (struct tnode){ 0, 0, 0, 0, false };
}

/* flush the per-chunk counters of chunk ts->k - 1 into the trace totals, once per chunk */
static void count_chunk(struct trace *t, struct tstate *ts)
{
	if (ts->k > ts->counted_k) {
		t->nevents += ts->cnt_events;
		t->ncalls += ts->cnt_calls;
		t->nallocs += ts->cnt_allocs;
		t->nfrees += ts->cnt_frees;
		t->nreallocs += ts->cnt_reallocs;
		t->nlost += ts->cnt_lost;
		ts->counted_k = ts->k;
	}
	ts->cnt_events = ts->cnt_calls = ts->cnt_allocs = ts->cnt_frees = 0;
	ts->cnt_reallocs = ts->cnt_lost = 0;
}

/* stream_end - the thread's stream stopped (normally, or at damage described by @why) */
static void stream_end(struct trace *t, struct tstate *ts, const char *why, uint64_t off)
{
	struct trace_thread *th = &t->threads[ts->index];
	char tb[32];

	/* the time base is the last timed record's time (walks skip converting some) */
	if (ts->k)
		ts->last_ns = to_ns(t, R(t), ts->ticks);
	if (why) {
		th->damaged = true;
		if (!ts->warned) {
			const struct chunk *c = &R(t)->chunks[ts->chunks[ts->k - 1]];

			t->damaged_chunks++;
			t->damaged_bytes += c->size;
			pr_warn("%s: %s in the chunk at offset %llu (thread %u, seq %u): that "
				"thread's events after %s are lost", t->path, why,
				(unsigned long long)off, th->tid, c->seq,
				secs(tb, sizeof(tb), ts->last_ns));
		}
		ts->warned = true;
	}
	count_chunk(t, ts);
	ts->p = ts->end = NULL;
	ts->k = ts->nchunks;
	ts->finished = true;
	free(ts->buf);
	ts->buf = NULL;
}

/* load_chunk - read chunk ts->k into the thread's buffer. Return: 1, 0 at the end, -1 I/O */
static int load_chunk(struct trace *t, struct tstate *ts)
{
	struct reader *r = R(t);
	struct chunk *c;
	ssize_t n;

	if (ts->k)
		count_chunk(t, ts);
	if (ts->k >= ts->nchunks) {
		stream_end(t, ts, NULL, 0);
		return 0;
	}
	c = &r->chunks[ts->chunks[ts->k++]];
	if (unlikely(r->progress)) {
		r->bytes_read += c->size;
		progress_update(r->progress, r->bytes_read, r->bytes_total);
	}
	if (!ts->buf)
		ts->buf = xmalloc(ts->maxsize + 16);
	n = pread(t->fd, ts->buf, c->size, (off_t)(c->off + sizeof(struct trace_chunk_header)));
	if (n != (ssize_t)c->size) {
		pr_warn("%s: read error at offset %llu: %s", t->path, (unsigned long long)c->off,
			n < 0 ? strerror(errno) : "short read");
		stream_end(t, ts, "read error", c->off);
		return -1;
	}
	if (c->bad || trace_checksum(ts->buf, c->size) != c->payload_checksum) {
		c->bad = true;
		stream_end(t, ts, "damaged payload (checksum mismatch)", c->off);
		return 0;
	}
	ts->chunk_start = ts->p = ts->buf;
	ts->end = ts->buf + c->size;
	ts->ticks = c->base_ticks;
	return 1;
}

/* info records are collected into struct trace the first time the decoder passes them */
static bool first_pass(struct tstate *ts, const uint8_t *p)
{
	size_t off = (size_t)(p - ts->chunk_start);

	if (ts->k > ts->seen_k || (ts->k == ts->seen_k && off >= ts->seen_off)) {
		ts->seen_k = ts->k;
		ts->seen_off = off + 1;
		return true;
	}
	return false;
}

static void add_mark(struct trace *t, struct tstate *ts, const uint8_t *s, size_t len,
		     uint64_t ns)
{
	struct reader *r = R(t);
	char *label = xmalloc(len + 1);

	memcpy(label, s, len);
	label[len] = 0;
	if (t->nmarks == r->marks_cap) {
		r->marks_cap = r->marks_cap ? r->marks_cap * 2 : 16;
		t->marks = xrealloc(t->marks, r->marks_cap * sizeof(*t->marks));
	}
	t->marks[t->nmarks++] = (struct trace_mark){ label, ns, ts->th->tid };
}

static uint32_t add_module(struct trace *t, uint64_t base, uint64_t lo, uint64_t hi,
			   const uint8_t *bid, size_t bidlen, const uint8_t *path, size_t plen,
			   uint64_t ns)
{
	struct reader *r = R(t);
	struct trace_module *m;

	if (t->nmodules == r->modules_cap) {
		r->modules_cap = r->modules_cap ? r->modules_cap * 2 : 16;
		t->modules = xrealloc(t->modules, r->modules_cap * sizeof(*t->modules));
	}
	m = &t->modules[t->nmodules];
	memset(m, 0, sizeof(*m));
	m->base = base;
	m->lo = lo;
	m->hi = hi;
	m->build_id_len = (uint32_t)(bidlen > sizeof(m->build_id) ? sizeof(m->build_id) : bidlen);
	memcpy(m->build_id, bid, m->build_id_len);
	m->path = xmalloc(plen + 1);
	memcpy(m->path, path, plen);
	m->path[plen] = 0;
	m->load_ns = ns;
	m->unload_ns = UINT64_MAX;
	return t->nmodules++;
}

/* the module loaded at @base and still loaded, most recent first; UINT32_MAX if none */
static uint32_t find_module(const struct trace *t, uint64_t base)
{
	uint32_t i;

	for (i = t->nmodules; i-- > 0;)
		if (t->modules[i].base == base && t->modules[i].unload_ns == UINT64_MAX)
			return i;
	for (i = t->nmodules; i-- > 0;)
		if (t->modules[i].base == base)
			return i;
	return UINT32_MAX;
}

#define GETV(v)                                                                            \
	do {                                                                               \
		if (unlikely(trace_get_varint(&p, end, &(v)) < 0))                         \
			goto bad_record;                                                   \
	} while (0)

/* a time delta: the new time base, guarded against wrapping */
#define GETDT()                                                                            \
	do {                                                                               \
		uint64_t dt_;                                                              \
		GETV(dt_);                                                                 \
		if (unlikely(ts->ticks + dt_ < ts->ticks))                                 \
			goto bad_record;                                                   \
		ts->ticks += dt_;                                                          \
	} while (0)

#define GETSTR(s, len)                                                                     \
	do {                                                                               \
		uint64_t l_;                                                               \
		GETV(l_);                                                                  \
		if (unlikely(l_ > (uint64_t)(end - p) || l_ > TRACE_MAX_STRING))           \
			goto bad_record;                                                   \
		(s) = p;                                                                   \
		(len) = (size_t)l_;                                                        \
		p += l_;                                                                   \
	} while (0)

/* cstr - a NUL-terminated copy of a str field, valid until the thread's next event */
static const char *cstr(struct tstate *ts, const uint8_t *s, size_t len)
{
	memcpy(ts->str, s, len);
	ts->str[len] = 0;
	return ts->str;
}

static inline void push_call(struct tstate *ts, uint32_t func, uint64_t ns)
{
	if (unlikely(ts->depth == ts->calls_cap)) {
		ts->calls_cap = ts->calls_cap ? ts->calls_cap * 2 : 256;
		ts->calls = xrealloc(ts->calls, ts->calls_cap * sizeof(*ts->calls));
	}
	ts->calls[ts->depth++] = (struct open_call){ func, ns, 0 };
	ts->active[func]++;		/* sized when the fid was defined */
}

/*
 * pop_call - close the innermost open call at @ns into @ev (an EXIT event): its callees'
 * time goes to ev->child_ns, its own to its caller's, and ev->nested says whether an outer
 * activation of the same function is still open.
 */
static inline void pop_call(const struct trace *t, struct tstate *ts, uint64_t ns,
			    struct trace_event *ev)
{
	struct open_call *c = &ts->calls[--ts->depth];
	uint64_t dur = ns > c->ns ? ns - c->ns : 0;

	if (ts->depth)
		c[-1].child_ns += dur;
	ev->type = EV_EXIT;
	ev->ns = ns;
	ev->func = c->func;
	ev->addr = t->funcs[c->func];
	ev->entry_ns = c->ns;
	ev->depth = ts->depth;
	ev->child_ns = c->child_ns;
	ev->nested = --ts->active[c->func] != 0;
}

/*
 * next_event - decode @ts up to its next event selected by @flags into @ev.
 * Return: 1 with an event, 0 when the thread has nothing more, -1 on an I/O error.
 */
static inline __attribute__((always_inline)) int
next_event(struct trace *t, struct reader *r, struct tstate *ts, unsigned flags,
	   struct trace_event *ev)
{
	const uint8_t *p = ts->p, *end = ts->end;
	uint64_t h, a, b, c, d;

	for (;;) {
		if (unlikely(ts->pending_exits)) {
			/* EXITS n, or the calls left open at the stream's end */
			ts->pending_exits--;
			if (!ts->depth) {
				ts->pending_exits = 0;
				continue;
			}
			pop_call(t, ts, ts->pending_ns, ev);
			if (!(flags & (WALK_CALLS | WALK_EXITS)))
				continue;
			ts->p = p;
			return 1;
		}
		if (unlikely(p >= end)) {
			int rc;

			if (ts->finished) {
				ts->done = true;
				return 0;
			}
			ts->p = p;
			rc = load_chunk(t, ts);
			if (rc < 0)
				return -1;
			if (rc == 0) {
				if (ts->calls_on && ts->depth) {
					ts->pending_exits = ts->depth;
					ts->pending_ns = ts->last_ns;
				}
				p = end = NULL;
				continue;
			}
			p = ts->p;
			end = ts->end;
			continue;
		}
		h = *p;
		if (likely(h < 0x80))
			p++;
		else
			GETV(h);

		if (!(h & 1)) {
			/* EXIT */
			ts->ticks += h >> 1;
			ts->cnt_events++;
			if (!ts->calls_on)
				continue;
			ts->last_ns = to_ns(t, r, ts->ticks);
			if (unlikely(!ts->depth)) {
				ts->unmatched_exits++;
				continue;
			}
			pop_call(t, ts, ts->last_ns, ev);
			ts->p = p;
			return 1;
		}
		if (!(h & 2)) {
			/* ENTRY */
			uint64_t fid = h >> 2;

			GETV(a);
			ts->ticks += a;
			ts->cnt_events++;
			ts->cnt_calls++;
			if (unlikely(fid >= ts->nfids))
				goto bad_record;
			if (!ts->calls_on)
				continue;
			ts->last_ns = to_ns(t, r, ts->ticks);
			push_call(ts, ts->fid_func[fid], ts->last_ns);
			if (!(flags & WALK_CALLS))
				continue;
			ev->type = EV_ENTRY;
			ev->ns = ts->last_ns;
			ev->func = ts->fid_func[fid];
			ev->addr = t->funcs[ev->func];
			ev->depth = ts->depth - 1;
			ts->p = p;
			return 1;
		}

		switch (h >> 2) {
		case TRACE_OP_FUNC:
			GETV(a);
			if (ts->nfids == ts->fids_cap) {
				ts->fids_cap = ts->fids_cap ? ts->fids_cap * 2 : 256;
				ts->fid_func = xrealloc(ts->fid_func,
							ts->fids_cap * sizeof(*ts->fid_func));
			}
			b = func_index(t, r, a);
			ts->fid_func[ts->nfids++] = (uint32_t)b;
			if (b >= ts->active_cap) {
				uint32_t n = (uint32_t)b * 2 + 64;

				ts->active = xrealloc(ts->active, n * sizeof(*ts->active));
				memset(ts->active + ts->active_cap, 0,
				       (n - ts->active_cap) * sizeof(*ts->active));
				ts->active_cap = n;
			}
			continue;
		case TRACE_OP_NODE_RA:
		case TRACE_OP_NODE_FN: {
			struct tnode *nd;

			GETV(a);
			GETV(b);
			if (a > ts->nnodes)
				goto bad_record;
			if (ts->nnodes + 1 >= ts->nodes_cap) {
				ts->nodes_cap *= 2;
				ts->nodes = xrealloc(ts->nodes, ts->nodes_cap * sizeof(*ts->nodes));
			}
			nd = &ts->nodes[++ts->nnodes];
			nd->parent = (uint32_t)a;
			nd->ip = ts->nodes[a].ip + (uint64_t)trace_unzigzag(b);
			nd->depth = ts->nodes[a].depth + 1;
			nd->is_ra = (h >> 2) == TRACE_OP_NODE_RA;
			node_define(r, ts, ts->nnodes);
			continue;
		}
		case TRACE_OP_ALLOC:
			GETV(a);	/* kind */
			GETV(b);	/* size */
			GETV(c);	/* zz ptr delta */
			GETV(d);	/* node */
			GETDT();
			ts->cnt_events++;
			ts->cnt_allocs++;
			ts->ptr += (uint64_t)trace_unzigzag(c);
			if (unlikely(d > ts->nnodes || a >= TRACE_ALLOC_KIND_MAX))
				goto bad_record;
			ts->last_ns = to_ns(t, r, ts->ticks);
			if (!(flags & WALK_MEMORY))
				continue;
			ev->type = EV_ALLOC;
			ev->ns = ts->last_ns;
			ev->kind = (uint32_t)a;
			ev->size = b;
			ev->ptr = ts->ptr;
			ev->stack = d ? ts->nodes[d].gstack : 0;
			ts->p = p;
			return 1;
		case TRACE_OP_FREE:
			GETV(a);
			GETDT();
			ts->cnt_events++;
			ts->cnt_frees++;
			ts->ptr += (uint64_t)trace_unzigzag(a);
			ts->last_ns = to_ns(t, r, ts->ticks);
			if (!(flags & WALK_MEMORY))
				continue;
			ev->type = EV_FREE;
			ev->ns = ts->last_ns;
			ev->ptr = ts->ptr;
			ts->p = p;
			return 1;
		case TRACE_OP_REALLOC: {
			uint64_t old;

			GETV(a);	/* zz old - base */
			GETV(b);	/* zz new - old */
			GETV(c);	/* size */
			GETV(d);	/* node */
			old = ts->ptr + (uint64_t)trace_unzigzag(a);
			ts->ptr = old + (uint64_t)trace_unzigzag(b);
			if (unlikely(d > ts->nnodes))
				goto bad_record;
			GETDT();
			ev->ns = to_ns(t, r, ts->ticks);
			GETDT();
			ts->cnt_events++;
			ts->cnt_reallocs++;
			ts->last_ns = to_ns(t, r, ts->ticks);
			if (!(flags & WALK_MEMORY))
				continue;
			ev->type = EV_REALLOC;
			ev->ns2 = ts->last_ns;
			ev->old_ptr = old;
			ev->ptr = ts->ptr;
			ev->size = c;
			ev->stack = d ? ts->nodes[d].gstack : 0;
			ts->p = p;
			return 1;
		}
		case TRACE_OP_ENTRY_AT:
			GETV(a);	/* fid */
			GETV(b);	/* back */
			ts->cnt_events++;
			ts->cnt_calls++;
			if (unlikely(a >= ts->nfids))
				goto bad_record;
			if (!ts->calls_on)
				continue;
			c = b > ts->ticks ? 0 : ts->ticks - b;
			push_call(ts, ts->fid_func[a], to_ns(t, r, c));
			if (!(flags & WALK_CALLS))
				continue;
			ev->type = EV_ENTRY;
			ev->ns = ts->calls[ts->depth - 1].ns;
			ev->func = ts->fid_func[a];
			ev->addr = t->funcs[ev->func];
			ev->depth = ts->depth - 1;
			ts->p = p;
			return 1;
		case TRACE_OP_EXITS:
			GETV(a);
			GETDT();
			ts->cnt_events++;
			ts->last_ns = to_ns(t, r, ts->ticks);
			if (!ts->calls_on)
				continue;
			if (a > ts->depth) {
				ts->unmatched_exits += a - ts->depth;
				a = ts->depth;
			}
			ts->pending_exits = a;
			ts->pending_ns = ts->last_ns;
			continue;
		case TRACE_OP_MARK: {
			const uint8_t *s;
			size_t len;

			GETSTR(s, len);
			GETDT();
			ts->cnt_events++;
			ts->last_ns = to_ns(t, r, ts->ticks);
			if (first_pass(ts, p))
				add_mark(t, ts, s, len, ts->last_ns);
			if (!(flags & WALK_OTHER))
				continue;
			ev->type = EV_MARK;
			ev->ns = ts->last_ns;
			ev->str = cstr(ts, s, len);
			ev->len = len;
			ts->p = p;
			return 1;
		}
		case TRACE_OP_MODULE: {
			const uint8_t *bid, *path;
			size_t blen, plen;
			uint32_t m;

			GETV(a);
			GETV(b);
			GETV(c);
			GETSTR(bid, blen);
			GETSTR(path, plen);
			GETDT();
			ts->cnt_events++;
			ts->last_ns = to_ns(t, r, ts->ticks);
			if (first_pass(ts, p))
				m = add_module(t, a, b, c, bid, blen, path, plen, ts->last_ns);
			else if ((m = find_module(t, a)) == UINT32_MAX)
				continue;
			if (!(flags & WALK_OTHER))
				continue;
			ev->type = EV_MODULE;
			ev->ns = ts->last_ns;
			ev->module = m;
			ev->str = cstr(ts, path, plen);
			ev->len = plen;
			ts->p = p;
			return 1;
		}
		case TRACE_OP_UNLOAD: {
			uint32_t m;

			GETV(a);
			GETDT();
			ts->cnt_events++;
			ts->last_ns = to_ns(t, r, ts->ticks);
			m = find_module(t, a);
			if (m != UINT32_MAX && first_pass(ts, p))
				t->modules[m].unload_ns = ts->last_ns;
			if (!(flags & WALK_OTHER) || m == UINT32_MAX)
				continue;
			ev->type = EV_UNLOAD;
			ev->ns = ts->last_ns;
			ev->module = m;
			ev->addr = a;
			ts->p = p;
			return 1;
		}
		case TRACE_OP_THREAD_NAME: {
			const uint8_t *s;
			size_t len;
			struct trace_thread *th = &t->threads[ts->index];

			GETSTR(s, len);
			if (first_pass(ts, p)) {
				size_t n = len < sizeof(th->name) - 1 ? len : sizeof(th->name) - 1;

				memcpy(th->name, s, n);
				th->name[n] = 0;
			}
			if (!(flags & WALK_OTHER))
				continue;
			ev->type = EV_THREAD_NAME;
			ev->ns = to_ns(t, r, ts->ticks);
			ev->str = cstr(ts, s, len);
			ev->len = len;
			ts->p = p;
			return 1;
		}
		case TRACE_OP_LOST:
			GETV(a);
			ts->cnt_lost += a;
			if (!(flags & WALK_OTHER))
				continue;
			ev->type = EV_LOST;
			ev->ns = to_ns(t, r, ts->ticks);
			ev->size = a;
			ts->p = p;
			return 1;
		case TRACE_OP_PROCESS: {
			const uint8_t *exe, *cmd;
			size_t elen, clen, i;

			GETV(a);
			GETV(b);
			GETSTR(exe, elen);
			GETSTR(cmd, clen);
			if (first_pass(ts, p)) {
				t->pid = (uint32_t)a;
				t->ppid = (uint32_t)b;
				free(t->exe);
				t->exe = xmalloc(elen + 1);
				memcpy(t->exe, exe, elen);
				t->exe[elen] = 0;
				free(t->cmdline);
				while (clen && !cmd[clen - 1])
					clen--;
				t->cmdline = xmalloc(clen + 1);
				for (i = 0; i < clen; i++)
					t->cmdline[i] = cmd[i] ? (char)cmd[i] : ' ';
				t->cmdline[clen] = 0;
			}
			if (!(flags & WALK_OTHER))
				continue;
			ev->type = EV_PROCESS;
			ev->ns = to_ns(t, r, ts->ticks);
			ev->str = cstr(ts, exe, elen);
			ev->len = elen;
			ev->size = a;
			ts->p = p;
			return 1;
		}
		case TRACE_OP_RSS:
			GETV(a);
			GETDT();
			ts->cnt_events++;
			ts->last_ns = to_ns(t, r, ts->ticks);
			if (!(flags & WALK_MEMORY))
				continue;
			ev->type = EV_RSS;
			ev->ns = ts->last_ns;
			ev->size = a;
			ts->p = p;
			return 1;
		default:
			goto bad_record;
		}
bad_record:
		stream_end(t, ts, "malformed record", r->chunks[ts->chunks[ts->k - 1]].off +
			   sizeof(struct trace_chunk_header) + (uint64_t)(p - ts->chunk_start));
		if (ts->calls_on && ts->depth) {
			ts->pending_exits = ts->depth;
			ts->pending_ns = ts->last_ns;
		}
		p = end = NULL;
	}
}

/* after a thread's stream was decoded to its end: its exact first/last times */
static void thread_done(struct trace *t, struct reader *r, struct tstate *ts)
{
	free(ts->buf);
	ts->buf = NULL;
	ts->done = true;
	if (ts->unmatched_exits && !ts->warned)
		pr_dbg(1, "thread %u: %llu exits without an open call", ts->th->tid,
		       (unsigned long long)ts->unmatched_exits);
}

/* key of a pending event in the merged order: a realloc sorts by when the new block
 * appeared (ns2), every other event by ns */
static inline uint64_t ev_key(const struct trace_event *ev)
{
	return ev->type == EV_REALLOC ? ev->ns2 : ev->ns;
}

static inline bool heap_less(struct tstate **h, uint32_t a, uint32_t b)
{
	uint64_t x = ev_key(&h[a]->ev), y = ev_key(&h[b]->ev);

	return x < y || (x == y && h[a]->index < h[b]->index);
}

static void heap_down(struct tstate **h, uint32_t n, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, m = i;
		struct tstate *tmp;

		if (l < n && heap_less(h, l, m))
			m = l;
		if (l + 1 < n && heap_less(h, l + 1, m))
			m = l + 1;
		if (m == i)
			return;
		tmp = h[i];
		h[i] = h[m];
		h[m] = tmp;
		i = m;
	}
}

static void fill_ev(struct tstate *ts, struct trace_event *ev)
{
	ev->thread = ts->index;
	ev->tid = ts->th->tid;
}

/* collect per-walk results once every thread reached its end */
static void walk_finished(struct trace *t, struct reader *r, bool all)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	uint32_t i;

	if (!all)
		return;
	r->info_complete = true;
	for (i = 0; i < t->nthreads; i++) {
		struct tstate *ts = r->ts[i];
		struct trace_thread *th = &t->threads[i];

		if (!ts->any_time)
			continue;
		if (th->first_ns < lo)
			lo = th->first_ns;
		if (th->last_ns > hi)
			hi = th->last_ns;
	}
	if (lo != UINT64_MAX)
		t->duration_ns = hi - lo;
}

/*
 * Record a thread's exact first and last times: first_ns from the first delivered or
 * skipped timed record is not tracked in the hot loop; the chunk headers give the first
 * chunk's base and the walk's last record gives the end.
 */
static void thread_times(struct trace *t, struct tstate *ts)
{
	struct trace_thread *th = &t->threads[ts->index];

	if (!ts->nchunks)
		return;
	th->first_ns = to_ns(t, R(t), R(t)->chunks[ts->chunks[0]].base_ticks);
	th->last_ns = ts->last_ns > th->first_ns ? ts->last_ns : th->first_ns;
	ts->any_time = true;
}

/**
 * trace_walk - decode the trace and call @fn for each event selected by @flags.
 * @thread: index into t->threads, or -1 for all threads.
 * Without WALK_MERGED each thread is walked in its own order, one after another; with it,
 * all threads in one time order (a binary heap of threads keyed by their next event; a
 * REALLOC is keyed by ns2, when its new block appeared; ENTRY_AT events written late under
 * PERFSHIM_MIN_DURATION are delivered when read, so they may come after later events of
 * other threads).
 * Return: 0, the callback's non-zero value, or -1 on a read error (reported).
 */
int trace_walk(struct trace *t, unsigned flags, int thread, trace_event_fn fn, void *ctx)
{
	struct reader *r = R(t);
	bool calls = (flags & (WALK_CALLS | WALK_EXITS)) != 0;
	uint32_t i, lo = 0, hi = t->nthreads;
	int rc = 0;

	if (thread >= 0) {
		if ((uint32_t)thread >= t->nthreads)
			return 0;
		lo = (uint32_t)thread;
		hi = lo + 1;
	}
	/* call stacks are tracked only when calls are delivered: faster memory walks */
	r->bytes_read = r->bytes_total = 0;
	for (i = lo; i < hi; i++) {
		walk_reset(r->ts[i], calls);
		r->bytes_total += t->threads[i].bytes;
	}

	if (!(flags & WALK_MERGED)) {
		for (i = lo; i < hi && !rc; i++) {
			struct tstate *ts = r->ts[i];
			struct trace_event *ev = &ts->ev;
			int n;

			fill_ev(ts, ev);
			while ((n = next_event(t, r, ts, flags, ev)) > 0) {
				rc = fn(ev, ctx);
				if (unlikely(rc))
					break;
			}
			if (n < 0)
				rc = -1;
			if (!rc) {
				thread_times(t, ts);
				thread_done(t, r, ts);
			}
		}
	} else {
		struct tstate **heap = xmalloc((hi - lo + 1) * sizeof(*heap));
		uint32_t n = 0;

		for (i = lo; i < hi; i++) {
			struct tstate *ts = r->ts[i];
			int k;

			fill_ev(ts, &ts->ev);
			k = next_event(t, r, ts, flags, &ts->ev);
			if (k > 0)
				heap[n++] = ts;
			else if (k < 0)
				rc = -1;
			else {
				thread_times(t, ts);
				thread_done(t, r, ts);
			}
		}
		for (i = n / 2; i-- > 0;)
			heap_down(heap, n, i);
		while (n && !rc) {
			struct tstate *ts = heap[0];
			int k;

			rc = fn(&ts->ev, ctx);
			if (unlikely(rc))
				break;
			k = next_event(t, r, ts, flags, &ts->ev);
			if (k <= 0) {
				if (k < 0)
					rc = -1;
				thread_times(t, ts);
				thread_done(t, r, ts);
				heap[0] = heap[--n];
			}
			heap_down(heap, n, 0);
		}
		free(heap);
	}
	walk_finished(t, r, !rc && lo == 0 && hi == t->nthreads);
	if (r->progress)
		progress_done(r->progress);
	return rc;
}

/* walk callback that does nothing: trace_find_mark's info walk */
static int no_event(const struct trace_event *ev, void *ctx)
{
	return 0;
}

/**
 * trace_find_mark - time of mark @label: "start" (0), "end" (the last record) or the first
 * recorded mark of that name. Decodes the trace once if no walk did yet.
 * Return: 0 with *@ns set, -1 when there is no such mark.
 */
int trace_find_mark(const struct trace *t, const char *label, uint64_t *ns)
{
	struct trace *tw = (struct trace *)t;
	uint64_t end = 0;
	uint32_t i;

	if (!strcmp(label, "start")) {
		*ns = 0;
		return 0;
	}
	if (!R(t)->info_complete)
		trace_walk(tw, 0, -1, no_event, NULL);
	for (i = 0; i < t->nmarks; i++)
		if (!strcmp(t->marks[i].label, label)) {
			*ns = t->marks[i].ns;
			return 0;
		}
	if (!strcmp(label, "end")) {
		for (i = 0; i < t->nthreads; i++)
			if (t->threads[i].last_ns > end)
				end = t->threads[i].last_ns;
		*ns = end;
		return 0;
	}
	return -1;
}

/* trace_unmatched_exits - EXIT records with no open call, seen by walks that track calls */
uint64_t trace_unmatched_exits(const struct trace *t)
{
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < t->nthreads; i++)
		n += R(t)->ts[i]->unmatched_exits;
	return n;
}

/** trace_set_progress - let walks of @t draw a progress line for @o (NULL: none). */
void trace_set_progress(struct trace *t, const struct opts *o)
{
	R(t)->progress = o;
}
