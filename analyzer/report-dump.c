/* SPDX-License-Identifier: MIT */
/*
 * `dump`: every event of the trace, one line each, in a stable text format that tests grep.
 * Without --merged each thread's events come together (threads in order of first appearance
 * in the file); with --merged all threads in one time order (see trace_walk).
 *
 * Line format (fields separated by one space; NS = ns since the trace start, decimal;
 * TID = kernel thread id; pointers and addresses 0x-prefixed lowercase hex; NAME, LABEL and
 * PATH run to the end of the line and may hold spaces):
 *
 *   # perfshim dump: PATH pid=N ppid=N threads=N flags=0xF
 *   # incomplete trace PATH: WHAT IS MISSING	(notes.c: what the figures lack, if
 *   # warning: PATH: WHAT WAS FOUND		 anything, one line each)
 *   NS TID entry depth=D addr=0xA NAME
 *   NS TID inherited depth=D addr=0xA NAME	(a call a fork child inherited from its
 *					 parent: not a call of this trace; NS is 0)
 *   NS TID exit depth=D addr=0xA dur=NS NAME
 *   NS TID alloc kind=K size=N ptr=0xP stack=S
 *   NS TID free ptr=0xP
 *   NS TID realloc size=N old=0xP new=0xP stack=S new_ns=NS
 *   NS TID mark LABEL
 *   NS TID module base=0xA lo=0xA hi=0xA build_id=HEX|- PATH
 *   NS TID unload base=0xA PATH
 *   NS TID thread-name NAME
 *   NS TID lost count=N
 *   NS TID process pid=N EXE
 *   NS TID rss bytes=N
 *   NS TID switch kind=blocked|preempted end=NS	(with switch records: the thread was
 *					 off-CPU from NS to end; blocked = it waited,
 *					 preempted = another task ran)
 *   NS TID cputime ns=N			(the thread's CPU clock read N ns at NS)
 *					(switch and cputime lines come where the
 *					 recorder wrote them, after the thread's events
 *					 of their time: --merged orders the other lines)
 *   stack S: FRAME <- FRAME <- ...		(after the events: every stack named above,
 *					 innermost frame first; FRAME is NAME, a function
 *					 name, module+0xOFF or 0xADDR, then " (inlined)"
 *					 for a function inlined into the next frame, then
 *					 " at FILE:LINE" (FILE's basename) when DWARF gives
 *					 it and --no-lines is not given; "<- [truncated]"
 *					 ends a stack that reached PERFSHIM_STACK_DEPTH)
 *
 * K is malloc, calloc, realloc, reallocarray, memalign, posix_memalign, aligned_alloc,
 * valloc or pvalloc. A recorded address where the compiler inlined functions is several
 * frames: the inlined ones innermost first, each marked, then the function holding the code
 * (sym_frames, as every report shows them). depth is 0 for an outermost call; an exit's dur is its ns minus its
 * entry's. For realloc, NS is when the old block was released and new_ns when the new one
 * appeared (new=0x0: realloc(p, 0) freed p). EXITS records and calls left open at a thread's
 * end appear as plain exit lines (the reader turns them into exits).
 */
#define PR_FMT "dump"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/notes.h"
#include "analyzer/opts.h"
#include "analyzer/report.h"
#include "analyzer/symbols.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"
#include "analyzer/walk.h"

static const char *const kind_names[TRACE_ALLOC_KIND_MAX] = {
	"malloc", "calloc", "realloc", "reallocarray", "memalign", "posix_memalign",
	"aligned_alloc", "valloc", "pvalloc",
};

struct dump {
	struct trace *t;
	struct symbols *sym;
	FILE *f;
	const char **fname;		/* name by function index (cached) */
	uint32_t nfname;
	uint8_t *stack_used;		/* by global stack id */
	uint32_t nstack_used;
};

static const char *func_name(struct dump *d, uint32_t func)
{
	ARRAY_GROW_ZERO(d->fname, d->nfname, (size_t)func + 1);
	if (!d->fname[func])
		d->fname[func] = sym_func_name(d->sym, func);
	return d->fname[func];
}

static void use_stack(struct dump *d, uint32_t id)
{
	if (!id)
		return;
	ARRAY_GROW_ZERO(d->stack_used, d->nstack_used, (size_t)id + 1);
	d->stack_used[id] = 1;
}

/* FRAME of a stack line: "NAME[ (inlined)][ at FILE:LINE]" (replay_frame_text's shape, the
 * name whole: dump shortens nothing) */
static void put_frame(FILE *f, const struct sym_frame *fr)
{
	const char *base;

	fprintf(f, "%s%s", fr->name, fr->inlined ? " (inlined)" : "");
	if (!fr->file || !fr->line)
		return;
	base = strrchr(fr->file, '/');
	fprintf(f, " at %s:%u", base && base[1] ? base + 1 : fr->file, fr->line);
}

static int dump_event(const struct trace_event *ev, void *ctx)
{
	struct dump *d = ctx;
	struct trace *t = d->t;
	FILE *f = d->f;
	uint32_t i;

	fprintf(f, "%" PRIu64 " %u ", ev->ns, ev->tid);
	switch (ev->type) {
	case EV_ENTRY:
		fprintf(f, "%s depth=%u addr=0x%" PRIx64 " %s\n",
			ev->inherited ? "inherited" : "entry", ev->depth, ev->addr,
			func_name(d, ev->func));
		break;
	case EV_EXIT:
		fprintf(f, "exit depth=%u addr=0x%" PRIx64 " dur=%" PRIu64 " %s\n", ev->depth,
			ev->addr, ev->ns > ev->entry_ns ? ev->ns - ev->entry_ns : 0,
			func_name(d, ev->func));
		break;
	case EV_ALLOC:
		fprintf(f, "alloc kind=%s size=%" PRIu64 " ptr=0x%" PRIx64 " stack=%u\n",
			ev->kind < TRACE_ALLOC_KIND_MAX ? kind_names[ev->kind] : "?", ev->size,
			ev->ptr, ev->stack);
		use_stack(d, ev->stack);
		break;
	case EV_FREE:
		fprintf(f, "free ptr=0x%" PRIx64 "\n", ev->ptr);
		break;
	case EV_REALLOC:
		fprintf(f, "realloc size=%" PRIu64 " old=0x%" PRIx64 " new=0x%" PRIx64
			" stack=%u new_ns=%" PRIu64 "\n", ev->size, ev->old_ptr, ev->ptr, ev->stack,
			ev->ns2);
		use_stack(d, ev->stack);
		break;
	case EV_MARK:
		fprintf(f, "mark %s\n", ev->str);
		break;
	case EV_MODULE: {
		const struct trace_module *m = &t->modules[ev->module];

		fprintf(f, "module base=0x%" PRIx64 " lo=0x%" PRIx64 " hi=0x%" PRIx64 " build_id=",
			m->base, m->lo, m->hi);
		for (i = 0; i < m->build_id_len; i++)
			fprintf(f, "%02x", m->build_id[i]);
		fprintf(f, "%s %s\n", m->build_id_len ? "" : "-", m->path);
		break;
	}
	case EV_UNLOAD:
		fprintf(f, "unload base=0x%" PRIx64 " %s\n", t->modules[ev->module].base,
			t->modules[ev->module].path);
		break;
	case EV_THREAD_NAME:
		fprintf(f, "thread-name %s\n", ev->str);
		break;
	case EV_LOST:
		fprintf(f, "lost count=%" PRIu64 "\n", ev->size);
		break;
	case EV_PROCESS:
		fprintf(f, "process pid=%" PRIu64 " %s\n", ev->size, ev->str);
		break;
	case EV_RSS:
		fprintf(f, "rss bytes=%" PRIu64 "\n", ev->size);
		break;
	case EV_SWITCH:
		if (ev->kind == TRACE_SWITCH_CPUTIME)
			fprintf(f, "cputime ns=%" PRIu64 "\n", ev->size);
		else
			fprintf(f, "switch kind=%s end=%" PRIu64 "\n",
				ev->kind == TRACE_SWITCH_BLOCKED ? "blocked" : "preempted", ev->ns2);
		break;
	}
	return 0;
}


/**
 * report_dump - print every event of @t (see the format at the top of this file).
 * Return: 0, or -1 when the trace could not be read or --thread names no thread.
 */
int report_dump(struct trace *t, const struct opts *o)
{
	struct dump d = { .t = t, .f = stdout };
	/* the events as the clock read them: dump shows no compensation (docs/compensation.md) */
	unsigned flags = WALK_ALL | WALK_INHERITED | WALK_RAW | WALK_SWITCHES | (o->merged ? WALK_MERGED : 0);
	int thread = opts_thread(t, o), rc = 0;
	uint32_t i, id;

	if (thread == -2) {
		pr_warn("%s: no thread %u in the trace", t->path, o->thread_tid);
		return -1;
	}
	/* modules first, so that names are known from the first line */
	if (trace_info(t) < 0)
		return -1;
	d.sym = sym_open(t);
	if (d.sym)
		sym_set_demangle(d.sym, o->demangle);
	fprintf(d.f, "# perfshim dump: %s pid=%u ppid=%u threads=%u flags=0x%x\n", t->path,
		t->pid, t->ppid, t->nthreads, t->hdr.flags);
	notes_comment(t, d.f, "# ");
	if (thread >= 0) {
		/* every instance of a reused tid */
		for (i = 0; i < t->nthreads && !rc; i++)
			if (t->threads[i].tid == o->thread_tid)
				rc = trace_walk(t, flags, (int)i, dump_event, &d);
	} else {
		rc = trace_walk(t, flags, -1, dump_event, &d);
	}
	for (id = 1; id < d.nstack_used && rc == 0; id++) {
		struct sym_frame chain[SYM_MAX_INLINE];
		struct trace_stack st;
		int k, nc;

		if (!d.stack_used[id])
			continue;
		st = trace_stack_get(t, id);
		fprintf(d.f, "stack %u:", id);
		for (i = 0; i < st.nframes; i++) {
			nc = sym_frames(d.sym, &st.frames[i], chain, SYM_MAX_INLINE);
			for (k = 0; k < nc; k++) {
				fputs(i || k ? " <- " : " ", d.f);
				put_frame(d.f, &chain[k]);
			}
		}
		if (trace_stack_truncated(t, id))	/* reached PERFSHIM_STACK_DEPTH */
			fprintf(d.f, " <- " TRACE_TRUNCATED_FRAME);
		fputc('\n', d.f);
	}
	free(d.fname);
	free(d.stack_used);
	sym_close(d.sym);
	return rc ? -1 : 0;
}
