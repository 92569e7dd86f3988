// SPDX-License-Identifier: MIT
/*
 * The findings' output, an output helper (findings.c computes them): the text and JSON of
 * `findings` (report-findings.c) and of the sections `summary` and `html` embed. A
 * finding's place is an allocation stack or a call path of the call tree; both become
 * "stack" (names, innermost first) and "frames".
 */
#define PR_FMT "findings"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/findings-out.h"
#include "analyzer/findings.h"
#include "analyzer/json.h"
#include "analyzer/opts.h"
#include "analyzer/replay.h"
#include "analyzer/symbols.h"
#include "analyzer/text.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"

#define MAX_FRAMES 1024
#define TEXT_FRAMES 4			/* frames the text shows per finding */

/* the frame of function @fn of a call path: its name and module, the line of its definition */
static void func_frame(struct symbols *sym, uint32_t fn, struct sym_frame *out)
{
	struct sym_info si;

	memset(&si, 0, sizeof(si));
	sym_resolve_func(sym, fn, &si);
	*out = (struct sym_frame){ .name = sym_func_name(sym, fn),
				   .module = sym_func_module(sym, fn) };
	if (sym_func_decl(sym, fn, &out->file, &out->line) < 0) {
		out->file = si.file;
		out->line = si.line;
	}
}

/*
 * frames_of - the frames of @x's place, innermost first, into @out: an allocation stack as
 * every report shows it (replay_stack_frames: the shim's frames left out, inlined frames
 * expanded, file:line of each); a call path as its functions with their definitions.
 * Return: how many (at most @max).
 */
static uint32_t frames_of(struct findings *f, const struct finding *x, struct sym_frame *out,
			  uint32_t max)
{
	uint32_t n = 0, i;

	if (x->stack)
		return replay_stack_frames(f->t, f->sym, x->stack, out, max);
	if (x->node) {
		for (i = x->node; i && n < max; i = f->h.nodes[i].parent)
			func_frame(f->sym, f->h.nodes[i].func, &out[n++]);
		return n;
	}
	if (x->func != UINT32_MAX && f->sym && max) {
		func_frame(f->sym, x->func, &out[0]);
		return 1;
	}
	if (max) {			/* a name only (a wait without a function) */
		memset(&out[0], 0, sizeof(out[0]));
		out[0].name = x->name;
		return 1;
	}
	return 0;
}

/** findings_json - "findings": [...] of @f into @j, at most @limit (0: all). */
void findings_json(struct findings *f, struct json *j, uint32_t limit)
{
	struct sym_frame *fr = xmalloc(MAX_FRAMES * sizeof(*fr));
	uint32_t i, k, n;

	json_arr_begin(j, "findings");
	for (i = 0; i < f->n && (!limit || i < limit); i++) {
		const struct finding *x = &f->v[i];

		n = frames_of(f, x, fr, MAX_FRAMES);
		json_obj_begin(j, NULL);
		json_str(j, "rule", x->rule);
		json_str(j, "message", x->message);
		json_str(j, "advice", x->advice);
		json_str(j, "name", x->name);
		json_arr_begin(j, "stack");
		for (k = 0; k < n; k++)
			json_str(j, NULL, fr[k].name);
		json_arr_end(j);
		json_arr_begin(j, "frames");
		for (k = 0; k < n; k++)
			replay_json_frame(j, &fr[k]);
		json_arr_end(j);
		json_obj_begin(j, "evidence");
		for (k = 0; k < x->nev; k++)
			json_u64(j, x->ev[k].key, x->ev[k].v);
		json_obj_end(j);
		json_obj_end(j);
	}
	json_arr_end(j);
	free(fr);
}

/** findings_text - @f as text on @out, at most @limit (0: all); "none" when there are none. */
void findings_text(struct findings *f, FILE *out, uint32_t limit)
{
	struct sym_frame fr[TEXT_FRAMES + 1];
	char sb[128];
	uint32_t i, k, n;

	if (!f->n) {
		fprintf(out, "  none: no rule's threshold was reached (docs/findings.md)\n");
		return;
	}
	for (i = 0; i < f->n && (!limit || i < limit); i++) {
		const struct finding *x = &f->v[i];

		n = frames_of(f, x, fr, TEXT_FRAMES + 1);
		fprintf(out, "%s%-14s %s\n", i ? "\n" : "", x->rule,
			short_name(x->name, sb, sizeof(sb), 90));
		fprintf(out, "  %s\n", x->message);
		fprintf(out, "  at ");
		for (k = 0; k < n && k < TEXT_FRAMES; k++) {
			fprintf(out, "%s%s%s", k ? " < " : "", short_name(fr[k].name, sb, sizeof(sb), 60),
				fr[k].inlined ? " (inlined)" : "");
			if (fr[k].file && fr[k].line) {
				const char *base = strrchr(fr[k].file, '/');

				fprintf(out, " (%s:%u)", base ? base + 1 : fr[k].file, fr[k].line);
			}
		}
		fprintf(out, "%s\n", n > TEXT_FRAMES ? " < ..." : "");
		fprintf(out, "  evidence:");
		for (k = 0; k < x->nev; k++)
			fprintf(out, " %s=%" PRIu64, x->ev[k].key, x->ev[k].v);
		fprintf(out, "\n  advice: %s\n", x->advice);
	}
	if (limit && f->n > limit)
		fprintf(out, "\n  (%u more: perfshim-analyze findings)\n", f->n - limit);
}
