/* SPDX-License-Identifier: MIT */
/*
 * The `html` report's data emitter, private to report-html.c (the page, the time side) and
 * report-html-mem.c (the memory side). The page is the application in analyzer/html/,
 * embedded at build time (analyzer/html/embed.sh); it renders one JSON object whose schema
 * and budget docs/html-data.md defines. The emitter is a thin layer: it takes the models'
 * aggregates (model.c's call tree and functions, mem.c's sites and timeline from one heap
 * replay) and writes JSON.
 */
#ifndef PERFSHIM_HTML_H
#define PERFSHIM_HTML_H

#include <stdio.h>

#include "analyzer/export.h"
#include "analyzer/hmap.h"
#include "analyzer/json.h"
#include "analyzer/mem.h"
#include "analyzer/opts.h"
#include "analyzer/supp.h"
#include "analyzer/symbols.h"
#include "analyzer/trace.h"

/* The budget (docs/html-data.md): beyond it the page gets the largest and says what it left out. */
#define HTML_TREE_NODES 20000		/* call-tree nodes per trace, all threads */
#define HTML_FUNCS 10000		/* function rows per scope */
#define HTML_EDGES 20000		/* caller -> callee edges per scope */
#define HTML_SITES 5000			/* allocation sites per scope and ranking */
#define HTML_THREADS 64			/* threads with their own time views */
#define HTML_MEM_THREADS 16		/* threads with their own memory views */
#define HTML_NOTES 32			/* left-out notes per trace */

/* interned strings: the data's "strings" table */
struct html_strs {
	char **v;
	uint32_t n, cap;
	struct strmap ix;		/* string -> its id */
};

/* interned stack frames: the data's "frames" table */
struct html_frame {
	uint32_t name, module, file;	/* string ids; file UINT32_MAX = unknown */
	uint32_t line;			/* 0 = unknown */
	bool inlined;			/* inlined into the next frame of its stack */
};

struct html_note {
	const char *what;		/* "call_tree_nodes", "functions", ... */
	int thread;			/* thread index, -1 = the whole scope */
	uint64_t kept, total;		/* rows kept of total */
	uint64_t value;			/* what the rows left out carried (unit below) */
	const char *unit;		/* "ns", "bytes" or NULL */
};

struct html {
	struct trace *t;
	const struct opts *o;
	FILE *page;			/* the output file */
	FILE *f;			/* the page through the script-safe filter (the JSON) */
	struct json j;
	struct symbols *sym;
	struct suppressions *supp;	/* NULL with --no-suppress */
	int thread;			/* --thread's index in this trace, or -1 */
	uint32_t rows;			/* rows per table: --limit (0: the budget's) */
	struct html_strs strs;
	struct html_frame *frames;
	uint32_t nframes, frames_cap;
	struct xmap frame_ix;		/* ip << 1 | is_ra | module + 1 << 48 -> frame id */
	struct html_note notes[HTML_NOTES];
	uint32_t nnotes;
	struct mem mem;			/* the memory model (html_memory's), findings reads it */
	bool have_mem;
	bool cpu;			/* time.clock "cpu": the trace has context switches and
					 * no --wall, so flame graph and tables rank by CPU time */
};

uint32_t html_str(struct html *h, const char *s);
/* html_frame - id of the frame at @ip (a return address when @is_ra), symbolized once */
uint32_t html_frame_truncated(struct html *h);
int html_frames_of(struct html *h, const struct trace_frame *f, uint32_t *ids, int max);
void html_note(struct html *h, const char *what, int thread, uint64_t kept, uint64_t total,
	       uint64_t value, const char *unit);
uint32_t html_cap(const struct html *h, uint32_t budget);
/* html_memory - the "memory" key of one trace and h->mem (report-html-mem.c). Return: 0 or -1. */
int html_memory(struct html *h);

#endif /* PERFSHIM_HTML_H */
