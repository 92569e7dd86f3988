// SPDX-License-Identifier: MIT
/*
 * The memory events of a calls walk, kept for the replay (replay-log.h). Per stream, one
 * record per event: a byte (type, and an allocation's kind), then varints: the ticks and ns
 * as zigzag deltas from the stream's previous event, the pointers as zigzag deltas (the old
 * pointer from the previous pointer, the new one from the old), sizes and stack ids as they
 * are. The merge is the reader's own (mheap.h): the least (ticks, stream index)
 * first, so the replay sees the events in the order a merged walk gives them.
 */
#define PR_FMT "replay"
#include <stdlib.h>
#include <string.h>

#include "analyzer/mheap.h"
#include "analyzer/replay-log.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"

/** replay_log_want - see replay-log.h. */
void replay_log_want(struct trace *t)
{
	if (!t->memlog)
		t->memlog = xcalloc(1, sizeof(*t->memlog));
}

static inline uint64_t zz(uint64_t d)
{
	return (d << 1) ^ (uint64_t)((int64_t)d >> 63);
}

static inline uint64_t unzz(uint64_t v)
{
	return (v >> 1) ^ -(v & 1);
}

static inline uint8_t *put(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static inline uint64_t get(const uint8_t **pp)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;
	unsigned sh = 0;

	while (*p & 0x80) {
		v |= (uint64_t)(*p++ & 0x7f) << sh;
		sh += 7;
	}
	v |= (uint64_t)*p++ << sh;
	*pp = p;
	return v;
}

#define LOG_MAX 72	/* room for the longest record: a byte and 7 varints of at most 10 bytes */

/** replay_log_add - see replay-log.h. */
void replay_log_add(struct replay_log *l, const struct trace *t, const struct trace_event *ev)
{
	struct replay_log_stream *s;
	uint64_t ticks = trace_event_key(t, ev);
	uint8_t *p;

	ARRAY_GROW_ZERO(l->s, l->ns, ev->thread + 1);
	s = &l->s[ev->thread];
	if (s->n + LOG_MAX > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->buf = xrealloc(s->buf, s->cap);
	}
	p = s->buf + s->n;
	*p++ = (uint8_t)(ev->type | (ev->type == EV_ALLOC ? ev->kind << 4 : 0));
	p = put(p, zz(ticks - s->ticks));
	p = put(p, zz(ev->ns - s->ns));
	switch (ev->type) {
	case EV_ALLOC:
		p = put(p, zz(ev->ptr - s->ptr));
		p = put(p, ev->size);
		p = put(p, ev->stack);
		s->ptr = ev->ptr;
		break;
	case EV_FREE:
		p = put(p, zz(ev->ptr - s->ptr));
		s->ptr = ev->ptr;
		break;
	case EV_REALLOC:
		p = put(p, zz(ev->old_ptr - s->ptr));
		p = put(p, zz(ev->ptr - ev->old_ptr));
		p = put(p, ev->size);
		p = put(p, ev->stack);
		p = put(p, zz(ev->ns2 - ev->ns));
		s->ptr = ev->ptr;
		break;
	default:	/* EV_RSS */
		p = put(p, ev->size);
		break;
	}
	s->ticks = ticks;
	s->ns = ev->ns;
	s->tid = ev->tid;
	s->events++;
	s->n = (size_t)(p - s->buf);
}

/* A calls walk that also keeps the memory events (replay_log_calls). */
struct logged {
	trace_event_fn fn;
	void *ctx;
	struct trace *t;
};

static int logged_event(const struct trace_event *ev, void *ctx)
{
	struct logged *l = ctx;

	if (ev->type != EV_ALLOC && ev->type != EV_FREE && ev->type != EV_REALLOC &&
	    ev->type != EV_RSS)
		return l->fn(ev, l->ctx);
	replay_log_add(l->t->memlog, l->t, ev);
	return 0;
}

/** replay_log_calls - see replay-log.h. */
int replay_log_calls(struct trace *t, unsigned flags, trace_event_fn fn, void *ctx)
{
	struct logged l = { fn, ctx, t };
	int rc;

	if (!t->memlog || t->memlog->complete)
		return trace_walk(t, flags, -1, fn, ctx);
	rc = trace_walk(t, flags | WALK_MEMORY, -1, logged_event, &l);
	if (!rc)
		t->memlog->complete = true;
	return rc;
}

static int no_event(const struct trace_event *ev, void *ctx)
{
	return 0;
}

/** replay_log_info - see replay-log.h. */
int replay_log_info(struct trace *t)
{
	if (t->memlog || !(t->hdr.flags & TRACE_F_MALLOC))
		return trace_info(t);
	replay_log_want(t);
	return replay_log_calls(t, 0, no_event, NULL) < 0 ? -1 : 0;
}

/* A stream being merged: its next event, decoded, and where the one after it starts. */
struct cursor {
	const uint8_t *p, *end;
	uint64_t key, ptr;
	struct trace_event ev;
};

/* decode @c's next event into c->ev. Return: false at the stream's end. */
static bool next(struct cursor *c)
{
	struct trace_event *ev = &c->ev;
	uint8_t b;

	if (c->p >= c->end)
		return false;
	b = *c->p++;
	ev->type = (enum trace_ev_type)(b & 15);
	c->key += unzz(get(&c->p));
	ev->ns += unzz(get(&c->p));
	ev->ns2 = ev->ns;
	switch (ev->type) {
	case EV_ALLOC:
		ev->kind = b >> 4;
		c->ptr += unzz(get(&c->p));
		ev->ptr = c->ptr;
		ev->size = get(&c->p);
		ev->stack = (uint32_t)get(&c->p);
		break;
	case EV_FREE:
		c->ptr += unzz(get(&c->p));
		ev->ptr = c->ptr;
		break;
	case EV_REALLOC:
		ev->old_ptr = c->ptr + unzz(get(&c->p));
		ev->ptr = ev->old_ptr + unzz(get(&c->p));
		ev->size = get(&c->p);
		ev->stack = (uint32_t)get(&c->p);
		ev->ns2 = ev->ns + unzz(get(&c->p));
		c->ptr = ev->ptr;
		break;
	default:
		ev->size = get(&c->p);
		break;
	}
	return true;
}

/** replay_log_walk - see replay-log.h. */
int replay_log_walk(const struct replay_log *l, trace_event_fn fn, void *ctx)
{
	struct cursor *c = xcalloc(l->ns + 1, sizeof(*c)), *top;
	struct mheap h;
	int rc = 0;

	mheap_init(&h, l->ns);
	for (uint32_t i = 0; i < l->ns; i++) {
		c[i].p = l->s[i].buf;
		/* a stream that logged nothing has no buffer (NULL + 0 is undefined) */
		c[i].end = l->s[i].n ? l->s[i].buf + l->s[i].n : c[i].p;
		c[i].ev.thread = i;
		c[i].ev.tid = l->s[i].tid;
		if (next(&c[i]))
			mheap_add(&h, &c[i], c[i].key, i);
	}
	mheap_build(&h);
	while (!rc && (top = mheap_top(&h))) {
		rc = fn(&top->ev, ctx);
		if (next(top))
			mheap_advance(&h, top->key);
		else
			mheap_pop(&h);
	}
	mheap_free(&h);
	free(c);
	return rc;
}

/** replay_log_free - release @l (may be NULL). */
void replay_log_free(struct replay_log *l)
{
	uint32_t i;

	if (!l)
		return;
	for (i = 0; i < l->ns; i++)
		free(l->s[i].buf);
	free(l->s);
	free(l);
}
