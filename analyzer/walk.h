/* SPDX-License-Identifier: MIT */
/*
 * Walks: the events of a trace decoded in order and handed to a callback (trace-walk.c).
 * Every report reads its trace through trace_walk.
 */
#ifndef PERFSHIM_ANALYZER_WALK_H
#define PERFSHIM_ANALYZER_WALK_H

#include "analyzer/trace.h"

enum trace_ev_type {
	EV_ENTRY = 1,	/* addr, func */
	EV_EXIT,	/* addr, func: the call being closed (the reader keeps the call stack) */
	EV_ALLOC,	/* ptr, size, stack, kind */
	EV_FREE,	/* ptr */
	EV_REALLOC,	/* old_ptr, ptr (0: freed by realloc(p, 0)), size, stack; ns2 = when
			 * the new block appeared (ns = when the old one was released) */
	EV_MARK,	/* str */
	EV_MODULE,	/* module: index into trace->modules */
	EV_UNLOAD,	/* module */
	EV_THREAD_NAME,	/* str */
	EV_LOST,	/* size = events the recorder dropped */
	EV_PROCESS,	/* str = exe */
	EV_RSS,		/* size = RSS bytes */
	EV_SWITCH,	/* with WALK_SWITCHES: off-CPU over [ns, ns2); kind = enum
			 * trace_switch_kind, BLOCKED or PREEMPTED (delivered when read: after
			 * the thread's events of that time). Kind CPUTIME: the thread's CPU
			 * clock read size ns at ns (the calls' clock; ns2 as the clock read it) */
};

/*
 * A call the reader has open (the thread's open calls are an array of them, outermost
 * first): for an EXIT's callback, ev->frame is the closed call's, its caller's is
 * ev->frame[-1] (ev->frame[-k]: at depth ev->depth - k, counted as ev->depth is), valid
 * during the callback. @slot is 0 when the call is entered and the walk's callback's to set:
 * what lets an EXITs-only walk keep something per open call (model.c: its call tree node)
 * without the ENTRYs. The other fields are the reader's.
 */
struct walk_frame {
	uint32_t func;			/* index into trace->funcs */
	uint32_t slot;
	bool inherited;			/* re-opened by a fork child: not its call */
	uint64_t addr;			/* the address entered (its FUNC record's) */
	uint64_t ns;			/* entry time */
	uint64_t child_ns;		/* inclusive time of its finished callees */
};

struct trace_event {
	enum trace_ev_type type;
	uint32_t thread;		/* index into trace->threads */
	uint32_t tid;
	uint32_t depth;			/* ENTRY: depth of the new call (0 = outermost);
					 * EXIT: depth of the call being closed */
	uint64_t ns;			/* ns since trace start */
	uint64_t ns2;			/* REALLOC only */
	uint64_t addr;			/* ENTRY/EXIT: function entry address (as recorded) */
	uint32_t func;			/* ENTRY/EXIT: index into trace->funcs */
	uint32_t stack;			/* ALLOC/REALLOC: global stack id, 0 = no stack */
	uint32_t kind;			/* ALLOC: enum trace_alloc_kind */
	uint32_t module;		/* MODULE/UNLOAD */
	uint64_t ptr, old_ptr, size;
	uint64_t entry_ns;		/* EXIT: when the closed call started */
	const char *str;		/* MARK/THREAD_NAME/PROCESS; valid during the callback */
	size_t len;
	uint64_t child_ns;		/* EXIT: inclusive time of the closed call's callees */
	bool nested;			/* EXIT: an outer activation of the same function is
					 * still open (recursion; count its time once) */
	bool inherited;			/* ENTRY/EXIT, with WALK_INHERITED: a call a fork child
					 * inherited from its parent (not a call of this trace) */
	struct walk_frame *frame;	/* EXIT: the closed call, in the reader's open calls */
};

/*
 * Returns 0 to go on, non-zero to stop the walk (trace_walk then returns that value).
 * The reader turns longjmp repairs (EXITS records) and unclosed calls at a thread's end into
 * EXIT events, so ENTRY and EXIT always pair up.
 */
typedef int (*trace_event_fn)(const struct trace_event *ev, void *ctx);

#define WALK_MERGED (1U << 0)	/* all threads in one global time order (heap merge) */
#define WALK_CALLS (1U << 1)	/* deliver ENTRY/EXIT */
#define WALK_MEMORY (1U << 2)	/* deliver ALLOC/FREE/REALLOC/RSS */
#define WALK_OTHER (1U << 3)	/* deliver MARK/MODULE/UNLOAD/THREAD_NAME/LOST/PROCESS */
#define WALK_EXITS (1U << 4)	/* deliver EXIT only (with child_ns, nested): the cheapest
				 * pass for per-function times */
#define WALK_INHERITED (1U << 5) /* with WALK_CALLS: also the calls a fork child inherited
				 * (ev->inherited; depths then count them); without it they
				 * are left out and the child's own calls start at depth 0 */
#define WALK_RAW (1U << 6)	/* call times as recorded, even when the trace's are
				 * compensated (dump: the events as the clock read them) */
#define WALK_SWITCHES (1U << 7) /* deliver SWITCH (off-CPU intervals, offcpu.c) */
#define WALK_ALL (WALK_CALLS | WALK_MEMORY | WALK_OTHER)

/*
 * trace_walk - decode the trace and call @fn for each event selected by @flags.
 * Without WALK_MERGED, threads are walked one after the other, each in its own order.
 * @thread: index into trace->threads to walk only that thread, or -1 for all.
 * Memory use is bounded by the threads' chunk buffers and decoding tables, not trace size.
 * Return: 0, the callback's non-zero value, or -1 on a decoding error (reported once).
 */
int trace_walk(struct trace *t, unsigned flags, int thread, trace_event_fn fn, void *ctx);

/*
 * trace_event_key - during a walk's callback, the merge key of @ev (its clock ticks; a
 * REALLOC's are when its new block appeared): what orders a WALK_MERGED walk, with the
 * stream index breaking ties (replay-log.c merges by it too)
 */
uint64_t trace_event_key(const struct trace *t, const struct trace_event *ev);

/*
 * A walk of every stream split over the cores (trace-par.c, -j): each stream is walked on
 * a copy of the trace whose function and stack ids are its own, into its own context; the
 * contexts are then merged in stream order, ids mapped to the trace's. The callbacks:
 * begin makes a stream's context (@part: the copy its events name ids of), on the calling
 * thread; fn is called on a worker with only that context; merge and drop run on the
 * calling thread after every walk: merge in stream order (@func, @stack: copy id -> trace
 * id; return non-zero to stop), drop for every context.
 */
struct trace_split {
	trace_event_fn fn;
	void *(*begin)(struct trace *part, uint32_t stream, void *arg);
	int (*merge)(void *ctx, struct trace *t, const uint32_t *func, const uint32_t *stack,
		     void *arg);
	void (*drop)(void *ctx, void *arg);
	void *arg;
};
/* trace_split_worth - more than one core would walk @t's streams (-j and 2+ threads) */
bool trace_split_worth(const struct trace *t);
int trace_walk_split(struct trace *t, unsigned flags, const struct trace_split *sp);

#endif /* PERFSHIM_ANALYZER_WALK_H */
