/* SPDX-License-Identifier: MIT */
/*
 * The timeline's JSON (timeline-out.c), an output helper for the views that show it:
 * `timeline --format=json` and html.
 */
#ifndef PERFSHIM_ANALYZER_TIMELINE_OUT_H
#define PERFSHIM_ANALYZER_TIMELINE_OUT_H

#include "analyzer/json.h"
#include "analyzer/timeline.h"

/* timeline_json - @tl's object (under @key, or a top-level value when NULL) into @jw */
void timeline_json(struct json *jw, const char *key, const struct timeline *tl,
		   const struct trace *t, struct symbols *sym, const struct verdict *v);
/* timeline_emit - `timeline --format=json`'s object under @key of @j (and @g, may be NULL) */
int timeline_emit(struct trace *t, const struct opts *o, struct json *j, const char *key,
		  struct timeline_growth *g);

#endif /* PERFSHIM_ANALYZER_TIMELINE_OUT_H */
