/* SPDX-License-Identifier: MIT */
/*
 * tracegen: synthetic traces for unit tests, encoded exactly as include/perfshim/trace.h and
 * docs/trace-format.md say. See tracegen.h for the interface. Misuse aborts.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/tracegen.h"

struct tg_node {
	uint32_t parent;
	bool is_ra;
	uint64_t ip;
};

struct tg_thread {
	struct tg *g;
	uint32_t tid;
	uint32_t seq;			/* next chunk's seq */
	bool ended;			/* LAST or CUT written */
	uint64_t base;			/* time base (ticks) */
	uint64_t chunk_base;		/* time base when the pending chunk started */
	uint64_t ptr_base;
	uint64_t sw_base;		/* SWITCH records: end of the last interval */
	uint8_t *buf;			/* pending payload */
	size_t len, cap;
	uint64_t *fids;			/* fid -> address */
	uint32_t nfids, fcap;
	struct tg_node *nodes;		/* node id - 1 -> node */
	uint32_t nnodes, ncap;
};

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "tracegen: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

static void *grow(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		die("out of memory");
	return p;
}

static void pwrite_all(int fd, const void *buf, size_t n, uint64_t off)
{
	const uint8_t *p = buf;

	while (n) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);

		if (w <= 0)
			die("write failed");
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
}

static void header_fix(struct trace_file_header *h)
{
	h->checksum = trace_checksum(h, TRACE_FILE_HEADER_CKLEN);
}

struct tg *tg_open(const char *path)
{
	struct tg *g = calloc(1, sizeof(*g));

	if (!g)
		die("out of memory");
	g->fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (g->fd < 0)
		die("cannot create %s", path);
	g->path = strdup(path);
	memcpy(g->hdr.magic, TRACE_MAGIC, 8);
	g->hdr.version = TRACE_VERSION;
	g->hdr.header_size = sizeof(g->hdr);
	g->hdr.endian = TRACE_ENDIAN;
	g->hdr.flags = TRACE_F_CALLS | TRACE_F_MALLOC;
	g->hdr.pid = 1000;
	g->hdr.ppid = 1;
	g->hdr.stack_depth = 64;
	g->hdr.max_chunk = 1U << 20;
	g->hdr.start_ticks = 0;
	g->hdr.start_mono_ns = 5000000000ULL;
	g->hdr.start_real_ns = 1700000000000000000ULL;
	g->hdr.tick_hz = 1000000000ULL;
	g->ns_per_tick = 1.0;
	header_fix(&g->hdr);
	pwrite_all(g->fd, &g->hdr, sizeof(g->hdr), 0);
	g->off = sizeof(g->hdr);
	return g;
}

struct tg_thread *tg_thread(struct tg *g, uint32_t tid)
{
	struct tg_thread *th;
	unsigned i;

	for (i = 0; i < g->nthreads; i++)
		if (g->threads[i]->tid == tid)
			return g->threads[i];
	th = calloc(1, sizeof(*th));
	if (!th)
		die("out of memory");
	th->g = g;
	th->tid = tid;
	th->base = th->chunk_base = g->hdr.start_ticks;
	g->threads = grow(g->threads, (g->nthreads + 1) * sizeof(*g->threads));
	g->threads[g->nthreads++] = th;
	return th;
}

uint64_t tg_time(const struct tg_thread *th) { return th->base; }
size_t tg_pending(const struct tg_thread *th) { return th->len; }
uint32_t tg_tid(const struct tg_thread *th) { return th->tid; }
uint32_t tg_seq(const struct tg_thread *th) { return th->seq; }

struct tg_chunk *tg_take(struct tg_thread *th, uint32_t flags)
{
	struct tg *g = th->g;
	struct tg_chunk *c = calloc(1, sizeof(*c));
	struct trace_chunk_header *h;

	if (!c)
		die("out of memory");
	if (th->ended)
		die("thread %u: chunk after its LAST/CUT chunk", th->tid);
	h = &c->hdr;
	h->magic = TRACE_CHUNK_MAGIC;
	h->tid = th->tid;
	h->seq = th->seq++;
	h->size = (uint32_t)th->len;
	h->flags = flags;
	h->payload_checksum = trace_checksum(th->buf, th->len);
	h->base_ticks = th->chunk_base;
	h->end_ticks = th->base;
	h->end_mono_ns = g->hdr.start_mono_ns +
			 (uint64_t)((double)(th->base - g->hdr.start_ticks) * g->ns_per_tick + 0.5);
	h->header_checksum = trace_checksum(h, TRACE_CHUNK_HEADER_CKLEN);
	c->payload = th->buf;
	c->size = th->len;
	th->buf = NULL;
	th->len = th->cap = 0;
	th->chunk_base = th->base;
	if (flags & (TRACE_CHUNK_LAST | TRACE_CHUNK_CUT))
		th->ended = true;
	return c;
}

uint64_t tg_put(struct tg *g, struct tg_chunk *c)
{
	uint64_t off = g->off;

	pwrite_all(g->fd, &c->hdr, sizeof(c->hdr), off);
	if (c->size)
		pwrite_all(g->fd, c->payload, c->size, off + sizeof(c->hdr));
	g->off += sizeof(c->hdr) + c->size;
	if (c->hdr.tid)		/* tid 0 (signal marks) is not a thread */
		g->last_chunk = off + 1;
	g->end_written |= (c->hdr.flags & TRACE_CHUNK_PROCESS_END) != 0;
	free(c->payload);
	free(c);
	return off;
}

uint64_t tg_flush(struct tg_thread *th, uint32_t flags)
{
	return tg_put(th->g, tg_take(th, flags));
}

static void finish(struct tg *g, bool flush)
{
	unsigned i;

	for (i = 0; i < g->nthreads; i++) {
		struct tg_thread *th = g->threads[i];

		if (flush && !th->ended)
			tg_flush(th, TRACE_CHUNK_LAST);
		free(th->buf);
		free(th->fids);
		free(th->nodes);
		free(th);
	}
	if (flush && !g->no_process_end && !g->end_written && g->last_chunk) {
		/* the exit flush: the last chunk written says the recorder saw the process end */
		struct trace_chunk_header h;

		if (pread(g->fd, &h, sizeof(h), (off_t)(g->last_chunk - 1)) != (ssize_t)sizeof(h))
			die("cannot read back the last chunk");
		h.flags |= TRACE_CHUNK_PROCESS_END;
		h.header_checksum = trace_checksum(&h, TRACE_CHUNK_HEADER_CKLEN);
		pwrite_all(g->fd, &h, sizeof(h), g->last_chunk - 1);
	}
	if (!g->no_header_fix) {
		header_fix(&g->hdr);
		pwrite_all(g->fd, &g->hdr, sizeof(g->hdr), 0);
	}
	if (ftruncate(g->fd, (off_t)g->off) < 0)
		die("ftruncate failed");
	close(g->fd);
	free(g->threads);
	free(g->path);
	free(g);
}

void tg_close(struct tg *g) { finish(g, true); }
void tg_close_raw(struct tg *g) { finish(g, false); }

/*
 * room - flush the pending chunk first when a record of up to @n bytes would pass the chunk
 * limit. Called before a record is encoded: its dt is relative to the time base, which
 * becomes the next chunk's base_ticks.
 */
static void room(struct tg_thread *th, size_t n)
{
	size_t limit = th->g->chunk_limit ? th->g->chunk_limit : th->g->hdr.max_chunk;

	if (th->ended)
		die("thread %u: record after its LAST/CUT chunk", th->tid);
	if (th->len && th->len + n > limit)
		tg_flush(th, 0);
}

/* append one encoded record to the pending chunk */
static void append(struct tg_thread *th, const uint8_t *rec, size_t n)
{
	if (th->ended)
		die("thread %u: record after its LAST/CUT chunk", th->tid);
	if (th->len + n > th->cap) {
		th->cap = (th->len + n) * 2 + 256;
		th->buf = grow(th->buf, th->cap);
	}
	memcpy(th->buf + th->len, rec, n);
	th->len += n;
}

/* put the delta of @ticks from the time base; the base becomes @ticks */
static uint8_t *put_dt(struct tg_thread *th, uint8_t *p, uint64_t ticks)
{
	if (ticks < th->base)
		die("thread %u: time %llu before the time base %llu", th->tid,
		    (unsigned long long)ticks, (unsigned long long)th->base);
	p = trace_put_varint(p, ticks - th->base);
	th->base = ticks;
	return p;
}

static uint8_t *put_ptr(struct tg_thread *th, uint8_t *p, uint64_t ptr)
{
	p = trace_put_varint(p, trace_zigzag((int64_t)(ptr - th->ptr_base)));
	th->ptr_base = ptr;
	return p;
}

/* fixed records: a scratch buffer, after making room for the largest such record */
#define REC(p)                                                                             \
	uint8_t rec_[TRACE_MAX_RECORD * 2], *p = rec_;                                     \
	room(th, TRACE_MAX_RECORD)

uint32_t tg_func(struct tg_thread *th, uint64_t addr)
{
	REC(p);

	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_FUNC));
	p = trace_put_varint(p, addr);
	append(th, rec_, (size_t)(p - rec_));
	if (th->nfids == th->fcap) {
		th->fcap = th->fcap * 2 + 16;
		th->fids = grow(th->fids, th->fcap * sizeof(*th->fids));
	}
	th->fids[th->nfids] = addr;
	return th->nfids++;
}

void tg_entry(struct tg_thread *th, uint32_t fid, uint64_t ticks)
{
	REC(p);

	p = trace_put_varint(p, (uint64_t)fid << 2 | 1);
	p = put_dt(th, p, ticks);
	append(th, rec_, (size_t)(p - rec_));
}

uint32_t tg_enter(struct tg_thread *th, uint64_t addr, uint64_t ticks)
{
	uint32_t fid;

	for (fid = 0; fid < th->nfids; fid++)
		if (th->fids[fid] == addr)
			break;
	if (fid == th->nfids)
		fid = tg_func(th, addr);
	tg_entry(th, fid, ticks);
	return fid;
}

void tg_exit(struct tg_thread *th, uint64_t ticks)
{
	REC(p);

	if (ticks < th->base)
		die("thread %u: exit time before the time base", th->tid);
	p = trace_put_varint(p, (ticks - th->base) << 1);
	th->base = ticks;
	append(th, rec_, (size_t)(p - rec_));
}

void tg_entry_at(struct tg_thread *th, uint32_t fid, uint64_t ticks)
{
	REC(p);

	if (ticks > th->base)
		die("thread %u: ENTRY_AT after the time base", th->tid);
	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_ENTRY_AT));
	p = trace_put_varint(p, fid);
	p = trace_put_varint(p, th->base - ticks);
	append(th, rec_, (size_t)(p - rec_));
}

void tg_exits(struct tg_thread *th, uint64_t n, uint64_t ticks)
{
	REC(p);

	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_EXITS));
	p = trace_put_varint(p, n);
	p = put_dt(th, p, ticks);
	append(th, rec_, (size_t)(p - rec_));
}

void tg_alloc(struct tg_thread *th, unsigned kind, uint64_t size, uint64_t ptr, uint32_t node,
	      uint64_t ticks)
{
	REC(p);

	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_ALLOC));
	p = trace_put_varint(p, kind);
	p = trace_put_varint(p, size);
	p = put_ptr(th, p, ptr);
	p = trace_put_varint(p, node);
	p = put_dt(th, p, ticks);
	append(th, rec_, (size_t)(p - rec_));
}

void tg_free(struct tg_thread *th, uint64_t ptr, uint64_t ticks)
{
	REC(p);

	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_FREE));
	p = put_ptr(th, p, ptr);
	p = put_dt(th, p, ticks);
	append(th, rec_, (size_t)(p - rec_));
}

void tg_realloc(struct tg_thread *th, uint64_t old, uint64_t new_ptr, uint64_t size,
		uint32_t node, uint64_t ticks_old, uint64_t ticks_new)
{
	REC(p);

	if (ticks_new < ticks_old)
		die("realloc: new block before the old one was released");
	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_REALLOC));
	p = put_ptr(th, p, old);
	p = put_ptr(th, p, new_ptr);	/* zz(new - old): the base is old now */
	p = trace_put_varint(p, size);
	p = trace_put_varint(p, node);
	p = put_dt(th, p, ticks_old);
	p = put_dt(th, p, ticks_new);
	append(th, rec_, (size_t)(p - rec_));
}

static uint32_t node(struct tg_thread *th, unsigned op, uint32_t parent, uint64_t ip)
{
	uint64_t parent_ip;
	REC(p);

	if (parent > th->nnodes)
		die("thread %u: node parent %u not defined", th->tid, parent);
	parent_ip = parent ? th->nodes[parent - 1].ip : 0;
	p = trace_put_varint(p, TRACE_OP_H(op));
	p = trace_put_varint(p, parent);
	p = trace_put_varint(p, trace_zigzag((int64_t)(ip - parent_ip)));
	append(th, rec_, (size_t)(p - rec_));
	if (th->nnodes == th->ncap) {
		th->ncap = th->ncap * 2 + 16;
		th->nodes = grow(th->nodes, th->ncap * sizeof(*th->nodes));
	}
	th->nodes[th->nnodes] = (struct tg_node){ parent, op == TRACE_OP_NODE_RA, ip };
	return ++th->nnodes;
}

uint32_t tg_node_ra(struct tg_thread *th, uint32_t parent, uint64_t ip)
{
	return node(th, TRACE_OP_NODE_RA, parent, ip);
}

uint32_t tg_node_fn(struct tg_thread *th, uint32_t parent, uint64_t ip)
{
	return node(th, TRACE_OP_NODE_FN, parent, ip);
}

uint32_t tg_stack(struct tg_thread *th, bool is_ra, const uint64_t *ips, unsigned n)
{
	uint32_t parent = 0, id;
	unsigned i;

	/* the prefix tree runs from the outermost frame: ips[n-1] first */
	for (i = n; i-- > 0;) {
		for (id = 1; id <= th->nnodes; id++) {
			struct tg_node *nd = &th->nodes[id - 1];

			if (nd->parent == parent && nd->ip == ips[i] && nd->is_ra == is_ra)
				break;
		}
		if (id > th->nnodes)
			id = is_ra ? tg_node_ra(th, parent, ips[i]) : tg_node_fn(th, parent, ips[i]);
		parent = id;
	}
	return parent;
}

/* records with strings: encoded into a heap buffer */
static uint8_t *sbuf(struct tg_thread *th, size_t extra)
{
	uint8_t *b = malloc(TRACE_MAX_RECORD * 2 + extra);

	room(th, TRACE_MAX_RECORD + extra);

	if (!b)
		die("out of memory");
	return b;
}

void tg_mark(struct tg_thread *th, const char *label, uint64_t ticks)
{
	uint8_t *b = sbuf(th, TRACE_MAX_STRING), *p = b;

	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_MARK));
	p = trace_put_str(p, label, strlen(label));
	p = put_dt(th, p, ticks);
	append(th, b, (size_t)(p - b));
	free(b);
}

void tg_module(struct tg_thread *th, uint64_t base, uint64_t lo, uint64_t hi,
	       const void *build_id, size_t build_id_len, const char *path, uint64_t ticks)
{
	uint8_t *b = sbuf(th, 2 * TRACE_MAX_STRING), *p = b;

	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_MODULE));
	p = trace_put_varint(p, base);
	p = trace_put_varint(p, lo);
	p = trace_put_varint(p, hi);
	p = trace_put_str(p, build_id ? build_id : "", build_id_len);
	p = trace_put_str(p, path, strlen(path));
	p = put_dt(th, p, ticks);
	append(th, b, (size_t)(p - b));
	free(b);
}

void tg_unload(struct tg_thread *th, uint64_t base, uint64_t ticks)
{
	REC(p);

	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_UNLOAD));
	p = trace_put_varint(p, base);
	p = put_dt(th, p, ticks);
	append(th, rec_, (size_t)(p - rec_));
}

void tg_thread_name(struct tg_thread *th, const char *name)
{
	uint8_t *b = sbuf(th, TRACE_MAX_STRING), *p = b;

	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_THREAD_NAME));
	p = trace_put_str(p, name, strlen(name));
	append(th, b, (size_t)(p - b));
	free(b);
}

void tg_cost(struct tg_thread *th, const uint64_t *v, unsigned n)
{
	uint8_t *b = sbuf(th, 16 + (size_t)n * 10), *p = b;
	unsigned i;

	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_COST));
	p = trace_put_varint(p, n);
	for (i = 0; i < n; i++)
		p = trace_put_varint(p, v[i]);
	append(th, b, (size_t)(p - b));
	free(b);
}

void tg_lost(struct tg_thread *th, uint64_t count)
{
	REC(p);

	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_LOST));
	p = trace_put_varint(p, count);
	append(th, rec_, (size_t)(p - rec_));
}

void tg_process(struct tg_thread *th, uint32_t pid, uint32_t ppid, const char *exe,
		const char *cmdline, size_t cmdlen)
{
	uint8_t *b = sbuf(th, 2 * TRACE_MAX_STRING), *p = b;

	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_PROCESS));
	p = trace_put_varint(p, pid);
	p = trace_put_varint(p, ppid);
	p = trace_put_str(p, exe, strlen(exe));
	p = trace_put_str(p, cmdline, cmdlen);
	append(th, b, (size_t)(p - b));
	free(b);
}

void tg_rss(struct tg_thread *th, uint64_t bytes, uint64_t ticks)
{
	REC(p);

	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_RSS));
	p = trace_put_varint(p, bytes);
	p = put_dt(th, p, ticks);
	append(th, rec_, (size_t)(p - rec_));
}

void tg_switch(struct tg_thread *th, unsigned kind, uint64_t start, uint64_t end)
{
	REC(p);

	if (start < th->sw_base || end < start)
		die("tg_switch: interval [%llu, %llu) before the last one's end %llu",
		    (unsigned long long)start, (unsigned long long)end,
		    (unsigned long long)th->sw_base);
	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_SWITCH));
	p = trace_put_varint(p, kind);
	p = trace_put_varint(p, start - th->sw_base);
	p = trace_put_varint(p, end - start);
	th->sw_base = end;
	append(th, rec_, (size_t)(p - rec_));
}

void tg_switch_note(struct tg_thread *th, unsigned kind, uint64_t v)
{
	REC(p);

	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_SWITCH));
	p = trace_put_varint(p, kind);
	p = trace_put_varint(p, v);
	p = trace_put_varint(p, 0);
	append(th, rec_, (size_t)(p - rec_));
}

void tg_cputime(struct tg_thread *th, uint64_t at, uint64_t cpu_ns)
{
	REC(p);

	if (at < th->sw_base)
		die("tg_cputime: reading at %llu before the last interval's end %llu",
		    (unsigned long long)at, (unsigned long long)th->sw_base);
	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_SWITCH));
	p = trace_put_varint(p, TRACE_SWITCH_CPUTIME);
	p = trace_put_varint(p, at - th->sw_base);
	p = trace_put_varint(p, cpu_ns);
	append(th, rec_, (size_t)(p - rec_));
}

void tg_raw(struct tg_thread *th, const void *bytes, size_t n)
{
	room(th, n);
	append(th, bytes, n);
}

/* ---- damage ---- */

static int open_rw(const char *path)
{
	int fd = open(path, O_RDWR);

	if (fd < 0)
		die("cannot open %s", path);
	return fd;
}

uint64_t tg_file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		die("cannot stat %s", path);
	return (uint64_t)st.st_size;
}

void tg_truncate(const char *path, uint64_t size)
{
	if (truncate(path, (off_t)size) < 0)
		die("cannot truncate %s", path);
}

void tg_write_at(const char *path, uint64_t off, const void *bytes, size_t n)
{
	int fd = open_rw(path);

	pwrite_all(fd, bytes, n, off);
	close(fd);
}

void tg_flip(const char *path, uint64_t off, uint8_t mask)
{
	int fd = open_rw(path);
	uint8_t b;

	if (pread(fd, &b, 1, (off_t)off) != 1)
		die("flip: offset %llu past the end of %s", (unsigned long long)off, path);
	b ^= mask;
	pwrite_all(fd, &b, 1, off);
	close(fd);
}

void tg_zero(const char *path, uint64_t off, uint64_t len)
{
	uint8_t *z = calloc(1, len ? len : 1);

	if (!z)
		die("out of memory");
	tg_write_at(path, off, z, len);
	free(z);
}

void tg_patch_header(const char *path, void (*fn)(struct trace_file_header *h),
		     bool keep_checksum)
{
	struct trace_file_header h;
	int fd = open_rw(path);

	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		die("%s: no header", path);
	fn(&h);
	if (!keep_checksum)
		header_fix(&h);
	pwrite_all(fd, &h, sizeof(h), 0);
	close(fd);
}

static uint16_t set_version_v;
static void set_version(struct trace_file_header *h) { h->version = set_version_v; }

void tg_set_version(const char *path, uint16_t version)
{
	set_version_v = version;
	tg_patch_header(path, set_version, false);
}

void tg_write_file(const char *path, const void *bytes, size_t n)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		die("cannot create %s", path);
	if (n)
		pwrite_all(fd, bytes, n, 0);
	close(fd);
}

unsigned tg_chunk_offsets(const char *path, uint64_t *offs, unsigned max)
{
	uint64_t size = tg_file_size(path), off = sizeof(struct trace_file_header);
	struct trace_chunk_header h;
	unsigned n = 0;
	int fd = open_rw(path);

	while (off + sizeof(h) <= size && n < max) {
		if (pread(fd, &h, sizeof(h), (off_t)off) != (ssize_t)sizeof(h))
			break;
		offs[n++] = off;
		off += sizeof(h) + h.size;
	}
	close(fd);
	return n;
}
