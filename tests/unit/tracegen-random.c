/* SPDX-License-Identifier: MIT */
/*
 * tracegen-random: seeded random streams, fuzz-byte streams, their writing through tracegen
 * and the shrinker. See tracegen-random.h for the interface and docs/testing.md for the design.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/tracegen-random.h"
#include "tests/unit/tracegen.h"

#define PROG_TID 1000		/* the main thread: tid == pid, as tracegen's header says */
#define MOD_BASE 0x7f0000000000ULL
#define MAX_STACK 32		/* frames of an allocation stack */
#define MAX_OPEN 256		/* calls whose addresses are kept for stacks */

uint64_t tgr_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static void *xgrow(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		abort();
	return p;
}

void tgr_push(struct tgr_stream *s, const struct tgr_event *e)
{
	if (s->n == s->cap) {
		s->cap = s->cap * 2 + 64;
		s->ev = xgrow(s->ev, s->cap * sizeof(*s->ev));
	}
	s->ev[s->n++] = *e;
}

void tgr_free(struct tgr_stream *s)
{
	free(s->ev);
	s->ev = NULL;
	s->n = s->cap = 0;
}

void tgr_copy(struct tgr_stream *dst, const struct tgr_stream *src)
{
	*dst = *src;
	dst->ev = xgrow(NULL, (src->n + 1) * sizeof(*src->ev));
	dst->cap = src->n + 1;
	if (src->n)
		memcpy(dst->ev, src->ev, src->n * sizeof(*src->ev));
}

static void stream_init(struct tgr_stream *s)
{
	memset(s, 0, sizeof(*s));
	s->nthreads = 1;
	s->tid[0] = PROG_TID;
}

/* ---- the seeded generator: a random program that a real run could have recorded ---- */

struct block {
	uint64_t ptr, cap;		/* address and the room it has (reuse keeps within it) */
};

struct gen {
	uint64_t rng, ticks, next_ptr;
	uint32_t depth[TGR_MAX_THREADS];
	struct block *live, *dead;
	size_t nlive, ndead;
	uint64_t mods[2];		/* loaded module bases, 0 = none */
	unsigned marks, names;
};

static uint64_t rnd(struct gen *g, uint64_t n) { return n ? tgr_rand(&g->rng) % n : 0; }

static void add_block(struct block **v, size_t *n, uint64_t ptr, uint64_t cap)
{
	*v = xgrow(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = (struct block){ ptr, cap };
}

static struct block take_block(struct block *v, size_t *n, size_t i)
{
	struct block b = v[i];

	v[i] = v[--*n];
	return b;
}

/* where malloc puts a block of @size: a freed block with room (address reuse) or fresh */
static uint64_t place(struct gen *g, uint64_t size, uint64_t *cap)
{
	size_t i;

	if (g->ndead && rnd(g, 3) == 0) {
		i = (size_t)rnd(g, g->ndead);
		if (g->dead[i].cap >= size) {
			struct block b = take_block(g->dead, &g->ndead, i);

			*cap = b.cap;
			return b.ptr;
		}
	}
	*cap = (size + 15) & ~15ULL;
	if (!*cap)
		*cap = 16;
	g->next_ptr += *cap + 16;
	return g->next_ptr - *cap - 16;
}

static uint64_t rand_size(struct gen *g)
{
	switch (rnd(g, 8)) {
	case 0: return 0;
	case 1: return 1 + rnd(g, 16);
	case 2: return 4096 + rnd(g, 65536);
	default: return 1 + rnd(g, 1024);
	}
}

static void gen_enter(struct gen *g, struct tgr_event *e)
{
	unsigned m = (unsigned)rnd(g, 2);

	e->type = TGR_ENTER;
	if (g->mods[m] && rnd(g, 4) == 0)
		e->addr = TGR_MOD_FUNC(g->mods[m], rnd(g, 4));
	else
		e->addr = TGR_EXE_FUNC(rnd(g, 12));
	g->depth[e->thread]++;
}

static void gen_realloc(struct gen *g, struct tgr_event *e)
{
	struct block b = take_block(g->live, &g->nlive, (size_t)rnd(g, g->nlive));
	uint64_t cap;

	e->type = TGR_REALLOC;
	e->old_ptr = b.ptr;
	e->ticks2 = e->ticks + rnd(g, 5);
	g->ticks = e->ticks2;
	if (rnd(g, 6) == 0) {			/* realloc(p, 0): a free */
		e->ptr = 0;
		add_block(&g->dead, &g->ndead, b.ptr, b.cap);
		return;
	}
	e->size = rand_size(g);
	if (e->size <= b.cap && rnd(g, 2)) {	/* in place */
		e->ptr = b.ptr;
		add_block(&g->live, &g->nlive, b.ptr, b.cap);
		return;
	}
	e->ptr = place(g, e->size, &cap);
	add_block(&g->live, &g->nlive, e->ptr, cap);
	add_block(&g->dead, &g->ndead, b.ptr, b.cap);
}

static void gen_module(struct gen *g, struct tgr_event *e)
{
	unsigned m = (unsigned)rnd(g, 2);

	if (g->mods[m]) {			/* dlclose */
		e->type = TGR_UNLOAD;
		e->addr = g->mods[m];
		g->mods[m] = 0;
		return;
	}
	/* dlopen, at one of four bases: the same base again after a dlclose is address reuse */
	e->type = TGR_MODULE;
	e->addr = MOD_BASE + (m * 2 + rnd(g, 2)) * TGR_MOD_SIZE;
	g->mods[m] = e->addr;
}

/* one event of thread e->thread at e->ticks, or 0 in e->type for none this time */
static void gen_one(struct gen *g, struct tgr_event *e)
{
	uint32_t *depth = &g->depth[e->thread];
	uint64_t x = rnd(g, 100), cap;

	if (x < 26 && *depth < 10) {
		gen_enter(g, e);
	} else if (x < 52 && *depth) {
		e->type = TGR_EXIT;
		(*depth)--;
	} else if (x < 66) {
		e->type = TGR_ALLOC;
		e->kind = (uint8_t)rnd(g, TRACE_ALLOC_KIND_MAX);
		e->size = rand_size(g);
		e->ptr = place(g, e->size, &cap);
		add_block(&g->live, &g->nlive, e->ptr, cap);
	} else if (x < 78 && g->nlive) {	/* any thread's block: cross-thread frees */
		struct block b = take_block(g->live, &g->nlive, (size_t)rnd(g, g->nlive));

		e->type = TGR_FREE;
		e->ptr = b.ptr;
		add_block(&g->dead, &g->ndead, b.ptr, b.cap);
	} else if (x < 85 && g->nlive) {
		gen_realloc(g, e);
	} else if (x < 88) {
		e->type = TGR_MARK;
		snprintf(e->label, sizeof(e->label), "m%u", g->marks++);
	} else if (x < 91) {
		gen_module(g, e);
	} else if (x < 93) {
		e->type = TGR_NAME;
		snprintf(e->label, sizeof(e->label), "worker-%u", g->names++);
	} else if (x < 95) {
		e->type = TGR_RSS;
		e->size = (1ULL << 20) + rnd(g, 1ULL << 24);
	} else if (x < 97) {
		e->type = TGR_FLUSH;
	} else if (x < 99 && *depth >= 2) {
		e->type = TGR_EXITS;
		e->n = 1 + (uint32_t)rnd(g, *depth);
		*depth -= e->n;
	}
}

void tgr_random(struct tgr_stream *s, uint64_t seed, unsigned nevents)
{
	struct gen g;
	unsigned i;

	stream_init(s);
	memset(&g, 0, sizeof(g));
	g.rng = seed;
	g.ticks = 1000;
	g.next_ptr = 0x10000;
	s->seed = seed;
	s->nthreads = 1 + (uint32_t)rnd(&g, 4);
	for (i = 1; i < s->nthreads; i++)
		s->tid[i] = PROG_TID + i;
	if (rnd(&g, 4) == 0)
		s->chunk_limit = 128 + (size_t)rnd(&g, 512);	/* many chunks per thread */
	for (i = 0; i < nevents; i++) {
		struct tgr_event e;

		memset(&e, 0, sizeof(e));
		e.thread = (uint16_t)rnd(&g, s->nthreads);
		g.ticks += 1 + rnd(&g, 40);
		e.ticks = g.ticks;
		gen_one(&g, &e);
		if (e.type)
			tgr_push(s, &e);
	}
	free(g.live);
	free(g.dead);
}

/* ---- fuzz bytes: every op and field read from the input (docs/testing.md) ---- */

struct in {
	const uint8_t *p, *end;
};

static uint8_t in_byte(struct in *in) { return in->p < in->end ? *in->p++ : 0; }

static uint64_t in_u64(struct in *in)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)in_byte(in) << (8 * i);
	return v;
}

/* sizes and counts: small squares mostly, 0, or any 64-bit value */
static uint64_t in_size(struct in *in)
{
	uint8_t b = in_byte(in);

	return b < 250 ? (uint64_t)b * b : b == 250 ? 0 : in_u64(in);
}

/* a block address from a slot: few slots, so frees and reallocs meet their blocks */
static uint64_t in_ptr(struct in *in)
{
	uint8_t b = in_byte(in);

	return b == 0 ? 0 : b == 255 ? in_u64(in) : 0x100000ULL + (uint64_t)(b & 63) * 0x1000;
}

static uint64_t in_modbase(struct in *in)
{
	uint8_t b = in_byte(in);

	/* bit 2: half a module over, so two loaded modules overlap */
	return MOD_BASE + (b & 3) * TGR_MOD_SIZE + ((b & 4) ? TGR_MOD_SIZE / 2 : 0);
}

static uint64_t in_func(struct in *in)
{
	uint8_t f = in_byte(in);

	if (f >= 0xf0)
		return in_u64(in);
	if (f & 0x80)
		return TGR_MOD_FUNC(MOD_BASE + (f & 3) * TGR_MOD_SIZE, (f >> 2) & 7);
	return TGR_EXE_FUNC(f % 32);
}

static void in_str(struct in *in, char *buf)
{
	unsigned len = in_byte(in) % TGR_LABEL, i;

	for (i = 0; i < len; i++)
		buf[i] = (char)in_byte(in);
	buf[len] = '\0';
}

void tgr_from_bytes(struct tgr_stream *s, const uint8_t *data, size_t size)
{
	struct in in = { data, data + size };
	uint8_t b0 = in_byte(&in), b1 = in_byte(&in);
	uint64_t ticks = 0;
	uint32_t i;

	stream_init(s);
	s->lenient = !(b0 & 1);
	if (b0 & 2)
		s->hdr_flags_set |= TRACE_F_TSC;
	if (b0 & 4)
		s->hdr_flags_clear |= TRACE_F_CALLS;
	if (b0 & 8)
		s->hdr_flags_clear |= TRACE_F_MALLOC;
	if (b0 & 16)
		s->hdr_flags_set |= TRACE_F_CHILD;
	s->no_process_end = (b0 & 32) != 0;
	if (b0 & 64)
		s->chunk_limit = 64 + in_byte(&in);
	if (b0 & 128)
		s->hdr_flags_set |= TRACE_F_SHADOW_STACKS | TRACE_F_MODULE_CHUNKS;
	s->nthreads = 1 + b1 % TGR_MAX_THREADS;
	if (b1 & 128)
		s->hdr_flags_set |= TRACE_F_SWITCHES;	/* the SWITCH records are read */
	for (i = 1; i < s->nthreads; i++)
		s->tid[i] = PROG_TID + i;
	while (in.p < in.end && s->n < TGR_MAX_EVENTS) {
		struct tgr_event e;
		uint8_t op = in_byte(&in), dt;

		memset(&e, 0, sizeof(e));
		e.type = (uint8_t)(1 + op % (TGR_TYPE_MAX - 1));
		e.thread = (uint16_t)((op >> 4) % s->nthreads);
		dt = in_byte(&in);
		ticks += dt == 255 ? in_u64(&in) & ((1ULL << 40) - 1) : dt;
		e.ticks = ticks;
		switch (e.type) {
		case TGR_ENTER: e.addr = in_func(&in); break;
		case TGR_EXITS: e.n = in_byte(&in); break;
		case TGR_ALLOC:
			e.kind = in_byte(&in) % (TRACE_ALLOC_KIND_MAX + 2);	/* and bad kinds */
			e.size = in_size(&in);
			e.ptr = in_ptr(&in);
			break;
		case TGR_FREE: e.ptr = in_ptr(&in); break;
		case TGR_REALLOC:
			e.old_ptr = in_ptr(&in);
			e.ptr = in_ptr(&in);
			e.size = in_size(&in);
			ticks += in_byte(&in);
			e.ticks2 = ticks;
			break;
		case TGR_MARK: case TGR_NAME: in_str(&in, e.label); break;
		case TGR_MODULE: case TGR_UNLOAD: e.addr = in_modbase(&in); break;
		case TGR_RSS: case TGR_LOST: e.size = in_size(&in); break;
		case TGR_FLUSH: e.n = in_byte(&in); break;
		case TGR_ENTRY_AT:
			e.addr = in_func(&in);
			e.n = in_byte(&in);
			break;
		case TGR_SWITCH:
			e.kind = in_byte(&in) % (TRACE_SWITCH_KIND_MAX + 1);	/* and a bad one */
			e.ptr = in_size(&in);
			e.size = in_size(&in);
			break;
		}
		tgr_push(s, &e);
	}
}

/* ---- writing: the stream replayed against a model of the program ---- */

struct wthread {
	struct tg_thread *th;
	uint32_t depth;
	uint64_t open[MAX_OPEN];	/* addresses of the open calls, outermost first */
	bool ended;
};

struct writer {
	const struct tgr_stream *s;
	struct tg *g;
	struct wthread t[TGR_MAX_THREADS];
	struct block *live;		/* live blocks: address and size */
	size_t nlive;
	struct tgr_model *m;		/* what was written, or NULL */
	uint64_t mods[8];
	unsigned nmods;
};

static struct wthread *wthread(struct writer *w, unsigned i)
{
	struct wthread *wt = &w->t[i];

	if (!wt->th)
		wt->th = tg_thread(w->g, w->s->tid[i]);
	return wt;
}

static ssize_t live_find(const struct writer *w, uint64_t ptr)
{
	size_t i;

	for (i = 0; i < w->nlive; i++)
		if (w->live[i].ptr == ptr)
			return (ssize_t)i;
	return -1;
}

static void live_add(struct writer *w, uint64_t ptr, uint64_t size)
{
	struct tgr_model *m = w->m;

	add_block(&w->live, &w->nlive, ptr, size);
	if (m) {
		m->allocs++;
		m->bytes_allocated += size;
		m->live_blocks++;
		m->live_bytes += size;
		if (m->live_bytes > m->peak_bytes)
			m->peak_bytes = m->live_bytes;
	}
}

static void live_del(struct writer *w, size_t i)
{
	struct block b = take_block(w->live, &w->nlive, i);

	if (w->m) {
		w->m->frees++;
		w->m->bytes_freed += b.cap;
		w->m->live_blocks--;
		w->m->live_bytes -= b.cap;
	}
}

/* the allocation stack: the thread's open calls, innermost first, as return addresses */
static uint32_t stack_of(struct wthread *wt)
{
	uint64_t ips[MAX_STACK];
	unsigned n = 0, d = wt->depth < MAX_OPEN ? wt->depth : MAX_OPEN;

	while (n < MAX_STACK && n < d) {
		ips[n] = wt->open[d - 1 - n] + 0x10;
		n++;
	}
	return tg_stack(wt->th, true, ips, n);
}

static int mod_find(const struct writer *w, uint64_t base)
{
	unsigned i;

	for (i = 0; i < w->nmods; i++)
		if (w->mods[i] == base)
			return (int)i;
	return -1;
}

static void write_module(struct writer *w, struct wthread *wt, const struct tgr_event *e,
			 uint64_t t)
{
	char path[64];
	uint8_t id[8];
	unsigned k = (unsigned)((e->addr - MOD_BASE) / TGR_MOD_SIZE) & 3;
	int m = mod_find(w, e->addr);

	if (e->type == TGR_UNLOAD) {
		if (m < 0 && !w->s->lenient)
			return;
		if (m >= 0)
			w->mods[m] = w->mods[--w->nmods];
		tg_unload(wt->th, e->addr, t);
		return;
	}
	if (m >= 0 && !w->s->lenient)
		return;
	if (m < 0 && w->nmods < 8)
		w->mods[w->nmods++] = e->addr;
	/* two libraries, each loadable at two bases: the same code at other addresses */
	snprintf(path, sizeof(path), "/nonexistent/libtgr-%u.so", k >> 1);
	memset(id, 0xa0 + (int)(k >> 1), sizeof(id));
	tg_module(wt->th, e->addr, e->addr, e->addr + TGR_MOD_SIZE, id, sizeof(id), path, t);
}

static void write_memory(struct writer *w, struct wthread *wt, const struct tgr_event *e,
			 uint64_t t)
{
	bool strict = !w->s->lenient;
	ssize_t i;

	switch (e->type) {
	case TGR_ALLOC:
		if (strict && (e->ptr == 0 || live_find(w, e->ptr) >= 0))
			return;
		live_add(w, e->ptr, e->size);
		tg_alloc(wt->th, e->kind, e->size, e->ptr, stack_of(wt), t);
		break;
	case TGR_FREE:
		i = live_find(w, e->ptr);
		if (strict && i < 0)
			return;
		if (i >= 0)
			live_del(w, (size_t)i);
		tg_free(wt->th, e->ptr, t);
		break;
	case TGR_REALLOC:
		i = live_find(w, e->old_ptr);
		if (strict && (i < 0 || (e->ptr && e->ptr != e->old_ptr &&
					 live_find(w, e->ptr) >= 0)))
			return;
		if (i >= 0)
			live_del(w, (size_t)i);
		if (e->ptr)
			live_add(w, e->ptr, e->size);
		tg_realloc(wt->th, e->old_ptr, e->ptr, e->ptr ? e->size : 0, stack_of(wt), t,
			   e->ticks2 > t ? e->ticks2 : t);
		break;
	}
}

static void write_calls(struct writer *w, struct wthread *wt, const struct tgr_event *e,
			uint64_t t)
{
	uint32_t n, fid;

	switch (e->type) {
	case TGR_ENTER:
		if (wt->depth < MAX_OPEN)
			wt->open[wt->depth] = e->addr;
		wt->depth++;
		tg_enter(wt->th, e->addr, t);
		break;
	case TGR_EXIT:
		if (!wt->depth && !w->s->lenient)
			return;
		if (wt->depth)
			wt->depth--;
		tg_exit(wt->th, t);
		break;
	case TGR_EXITS:
		n = w->s->lenient ? e->n : e->n < wt->depth ? e->n : wt->depth;
		if (!n && !w->s->lenient)
			return;
		wt->depth -= n < wt->depth ? n : wt->depth;
		tg_exits(wt->th, n, t);
		break;
	case TGR_ENTRY_AT:		/* lenient only: a call found open after lost events */
		if (!w->s->lenient)
			return;
		fid = tg_func(wt->th, e->addr);
		t = tg_time(wt->th);
		tg_entry_at(wt->th, fid, t - (e->n < t ? e->n : t));
		if (wt->depth < MAX_OPEN)
			wt->open[wt->depth] = e->addr;
		wt->depth++;
		break;
	}
}

static void write_one(struct writer *w, const struct tgr_event *e)
{
	struct wthread *wt;
	uint64_t t;

	if (e->thread >= w->s->nthreads)
		return;
	wt = wthread(w, e->thread);
	if (wt->ended)
		return;
	t = e->ticks > tg_time(wt->th) ? e->ticks : tg_time(wt->th);
	switch (e->type) {
	case TGR_ENTER: case TGR_EXIT: case TGR_EXITS: case TGR_ENTRY_AT:
		write_calls(w, wt, e, t);
		break;
	case TGR_ALLOC: case TGR_FREE: case TGR_REALLOC:
		write_memory(w, wt, e, t);
		break;
	case TGR_MARK:
		if (w->m && w->m->nmarks < TGR_MODEL_MARKS) {
			struct tgr_model *m = w->m;

			memcpy(m->marks[m->nmarks].label, e->label, TGR_LABEL);
			m->marks[m->nmarks].live_bytes = m->live_bytes;
			m->marks[m->nmarks++].live_blocks = m->live_blocks;
		}
		tg_mark(wt->th, e->label, t);
		break;
	case TGR_MODULE: case TGR_UNLOAD: write_module(w, wt, e, t); break;
	case TGR_NAME: tg_thread_name(wt->th, e->label); break;
	case TGR_RSS: tg_rss(wt->th, e->size, t); break;
	case TGR_LOST:
		if (w->s->lenient)
			tg_lost(wt->th, e->size);
		break;
	case TGR_SWITCH: {
		uint8_t rec[3 * 10 + 2], *p = rec;

		p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_SWITCH));
		p = trace_put_varint(p, e->kind);
		p = trace_put_varint(p, e->ptr);
		p = trace_put_varint(p, e->size);
		tg_raw(wt->th, rec, (size_t)(p - rec));
		break;
	}
	case TGR_FLUSH:
		if (!w->s->lenient) {
			tg_flush(wt->th, 0);
			break;
		}
		/* flags from the input: LAST, CUT, PROCESS_END, MODULES in any mix */
		tg_flush(wt->th, e->n & (TRACE_CHUNK_LAST | TRACE_CHUNK_CUT |
					 TRACE_CHUNK_PROCESS_END | TRACE_CHUNK_MODULES));
		wt->ended = (e->n & (TRACE_CHUNK_LAST | TRACE_CHUNK_CUT)) != 0;
		break;
	}
}

void tgr_write(const struct tgr_stream *s, const char *path)
{
	tgr_write_model(s, path, NULL);
}

void tgr_write_model(const struct tgr_stream *s, const char *path, struct tgr_model *m)
{
	static const char cmdline[] = "tgr-prog\0--seed\0";
	struct writer w;
	size_t i;
	unsigned k;

	memset(&w, 0, sizeof(w));
	w.s = s;
	w.m = m;
	if (m)
		memset(m, 0, sizeof(*m));
	w.g = tg_open(path);
	w.g->hdr.flags = (w.g->hdr.flags | s->hdr_flags_set) & ~s->hdr_flags_clear;
	w.g->chunk_limit = s->chunk_limit;
	w.g->no_process_end = s->no_process_end;
	/* the main thread first, with the PROCESS record the recorder writes at start */
	tg_process(wthread(&w, 0)->th, PROG_TID, 1, "/nonexistent/tgr-prog", cmdline,
		   sizeof(cmdline) - 1);
	for (i = 0; i < s->n; i++)
		write_one(&w, &s->ev[i]);
	if (!s->lenient) {		/* a real program returns from every call it made */
		for (k = 0; k < s->nthreads; k++) {
			struct wthread *wt = &w.t[k];

			while (wt->th && !wt->ended && wt->depth) {
				tg_exit(wt->th, tg_time(wt->th));
				wt->depth--;
			}
		}
	}
	tg_close(w.g);
	free(w.live);
}

/* ---- printing and shrinking ---- */

static const char *const type_names[TGR_TYPE_MAX] = {
	[TGR_ENTER] = "enter", [TGR_EXIT] = "exit", [TGR_EXITS] = "exits",
	[TGR_ALLOC] = "alloc", [TGR_FREE] = "free", [TGR_REALLOC] = "realloc",
	[TGR_MARK] = "mark", [TGR_MODULE] = "module", [TGR_UNLOAD] = "unload",
	[TGR_NAME] = "name", [TGR_RSS] = "rss", [TGR_LOST] = "lost", [TGR_FLUSH] = "flush",
	[TGR_ENTRY_AT] = "entry-at", [TGR_SWITCH] = "switch",
};

void tgr_print(const struct tgr_stream *s, FILE *f)
{
	size_t i;

	fprintf(f, "stream: %u threads, %zu events%s\n", s->nthreads, s->n,
		s->lenient ? " (lenient)" : "");
	for (i = 0; i < s->n; i++) {
		const struct tgr_event *e = &s->ev[i];

		fprintf(f, "  %8llu tid=%u %s", (unsigned long long)e->ticks,
			e->thread < s->nthreads ? s->tid[e->thread] : 0,
			e->type < TGR_TYPE_MAX && type_names[e->type] ? type_names[e->type] : "?");
		switch (e->type) {
		case TGR_ENTER: case TGR_MODULE: case TGR_UNLOAD:
			fprintf(f, " 0x%llx", (unsigned long long)e->addr);
			break;
		case TGR_ENTRY_AT:
			fprintf(f, " 0x%llx back=%u", (unsigned long long)e->addr, e->n);
			break;
		case TGR_ALLOC:
			fprintf(f, " kind=%u size=%llu ptr=0x%llx", e->kind,
				(unsigned long long)e->size, (unsigned long long)e->ptr);
			break;
		case TGR_FREE: fprintf(f, " ptr=0x%llx", (unsigned long long)e->ptr); break;
		case TGR_REALLOC:
			fprintf(f, " 0x%llx -> 0x%llx size=%llu at %llu",
				(unsigned long long)e->old_ptr, (unsigned long long)e->ptr,
				(unsigned long long)e->size, (unsigned long long)e->ticks2);
			break;
		case TGR_MARK: case TGR_NAME: fprintf(f, " '%s'", e->label); break;
		case TGR_RSS: case TGR_LOST:
			fprintf(f, " %llu", (unsigned long long)e->size);
			break;
		case TGR_EXITS: case TGR_FLUSH: fprintf(f, " %u", e->n); break;
		case TGR_SWITCH:
			fprintf(f, " kind=%u a=%llu b=%llu", e->kind, (unsigned long long)e->ptr,
				(unsigned long long)e->size);
			break;
		}
		fputc('\n', f);
	}
}

#define SHRINK_MAX_TRIES 4000

struct shrink {
	struct tgr_stream *s;		/* the smallest failing stream so far */
	tgr_fails_fn fails;
	void *ctx;
	unsigned tries;
	bool *drop;			/* per event of s: left out of the candidate */
};

/* the candidate without the events marked in sh->drop: kept when it still fails */
static bool try_drop(struct shrink *sh)
{
	struct tgr_stream c = *sh->s;
	size_t i, n = 0;
	bool fails;

	if (sh->tries >= SHRINK_MAX_TRIES)
		return false;
	c.ev = xgrow(NULL, (sh->s->n + 1) * sizeof(*c.ev));
	for (i = 0; i < sh->s->n; i++)
		if (!sh->drop[i])
			c.ev[n++] = sh->s->ev[i];
	c.n = n;
	c.cap = sh->s->n + 1;
	if (n == sh->s->n) {
		free(c.ev);
		return false;
	}
	sh->tries++;
	fails = sh->fails(&c, sh->ctx);
	if (fails) {
		free(sh->s->ev);
		*sh->s = c;
	} else {
		free(c.ev);
	}
	memset(sh->drop, 0, sh->s->n * sizeof(*sh->drop));
	return fails;
}

static bool shrink_threads(struct shrink *sh)
{
	bool any = false;
	unsigned t;
	size_t i;

	for (t = 0; t < sh->s->nthreads; t++) {
		for (i = 0; i < sh->s->n; i++)
			sh->drop[i] = sh->s->ev[i].thread == t;
		any |= try_drop(sh);
	}
	return any;
}

/* drop a call: its ENTER, its thread's events up to the matching EXIT, and that EXIT */
static bool shrink_calls(struct shrink *sh)
{
	bool any = false;
	size_t i, j;

	for (i = 0; i < sh->s->n; i++) {
		unsigned th = sh->s->ev[i].thread;
		long depth = 0;

		if (sh->s->ev[i].type != TGR_ENTER)
			continue;
		for (j = i; j < sh->s->n; j++) {
			const struct tgr_event *e = &sh->s->ev[j];

			if (e->thread != th)
				continue;
			sh->drop[j] = true;
			depth += e->type == TGR_ENTER ? 1 : e->type == TGR_EXIT ? -1 :
				 e->type == TGR_EXITS ? -(long)e->n : 0;
			if (depth <= 0)
				break;
		}
		any |= try_drop(sh);
	}
	return any;
}

/* ddmin's complement step: runs of @len events, for len = n/2 down to 1 */
static bool shrink_runs(struct shrink *sh)
{
	bool any = false;
	size_t len, start, i;

	for (len = sh->s->n / 2 ? sh->s->n / 2 : 1; len >= 1; len /= 2) {
		for (start = 0; start < sh->s->n;) {
			for (i = start; i < start + len && i < sh->s->n; i++)
				sh->drop[i] = true;
			if (try_drop(sh))
				any = true;	/* the next run slid into place */
			else
				start += len;
		}
		if (len == 1)
			break;
	}
	return any;
}

unsigned tgr_shrink(struct tgr_stream *s, tgr_fails_fn fails, void *ctx)
{
	struct shrink sh = { s, fails, ctx, 0, NULL };
	bool again = true;

	sh.drop = calloc(s->n + 1, sizeof(*sh.drop));
	if (!sh.drop)
		abort();
	while (again && sh.tries < SHRINK_MAX_TRIES) {
		again = shrink_threads(&sh);
		again |= shrink_calls(&sh);
		again |= shrink_runs(&sh);
	}
	free(sh.drop);
	return sh.tries;
}
