/* SPDX-License-Identifier: MIT */
/*
 * The memory events of a trace kept by the calls walk (replay-log.c), so that the memory
 * replay (replay.c) merges them in time order instead of walking the trace a second time:
 * `html` then decodes the trace once for its calls and its heap. Each stream's ALLOC, FREE,
 * REALLOC and RSS events, varint-encoded (about 10 bytes an event), with the reader's merge
 * key (the clock ticks) so the merged order is the reader's own.
 */
#ifndef PERFSHIM_ANALYZER_REPLAY_LOG_H
#define PERFSHIM_ANALYZER_REPLAY_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/walk.h"

struct replay_log_stream {
	uint8_t *buf;
	size_t n, cap;
	uint64_t ticks, ns, ptr;	/* the last event's, for the deltas */
	uint32_t tid;
	uint64_t events;
};

struct replay_log {
	struct replay_log_stream *s;	/* by stream index (ev->thread) */
	uint32_t ns;
	bool complete;			/* a whole walk of every stream went in */
};

/* replay_log_want - keep @t's memory events in the next complete calls walk (model_build) */
void replay_log_want(struct trace *t);
/* replay_log_add - append memory event @ev (ALLOC, FREE, REALLOC or RSS) of @t's walk */
void replay_log_add(struct replay_log *l, const struct trace *t, const struct trace_event *ev);
/*
 * replay_log_calls - trace_walk(@t, @flags, -1, @fn, @ctx) of a walk without WALK_MEMORY
 * that also fills t->memlog when replay_log_want asked for it and it is not complete yet
 * (the memory events go to the log, not to @fn). Return: as trace_walk.
 */
int replay_log_calls(struct trace *t, unsigned flags, trace_event_fn fn, void *ctx);
/*
 * replay_log_info - trace_info(@t) before a replay: when no walk was made yet, the one it
 * makes keeps the heap's events (a trace that recorded the malloc family), so that the
 * replay decodes nothing. Return: 0, or -1 when the walk failed (reported).
 */
int replay_log_info(struct trace *t);
/*
 * replay_log_walk - @fn for each logged event in the order of trace_walk(WALK_MERGED |
 * WALK_MEMORY): by clock ticks, then stream index. Return: 0 or @fn's non-zero value.
 */
int replay_log_walk(const struct replay_log *l, trace_event_fn fn, void *ctx);
void replay_log_free(struct replay_log *l);

#endif
