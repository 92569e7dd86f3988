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

#endif /* PERFSHIM_ANALYZER_TIMELINE_OUT_H */
