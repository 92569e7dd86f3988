// SPDX-License-Identifier: MIT
/*
 * The timeline's JSON (an output helper over timeline.h): what `timeline --format=json`
 * prints and the html report embeds.
 */
#define PR_FMT "timeline"

#include <stdio.h>

#include "analyzer/json.h"
#include "analyzer/notes.h"
#include "analyzer/replay.h"
#include "analyzer/symbols.h"
#include "analyzer/timeline-out.h"
#include "analyzer/timeline.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"

/** timeline_json - the JSON object (under @key, or a top-level value when NULL) into @jw. */
void timeline_json(struct json *jw, const char *key, const struct timeline *tl,
		   const struct trace *t, struct symbols *sym, const struct verdict *v)
{
	struct json j = *jw;
	char buf[64];
	uint32_t i;

	json_obj_begin(&j, key);
	if (!key)	/* a document of its own (html embeds the object and says it itself) */
		notes_json((struct trace *)t, &j);
	json_u64(&j, "duration_ns", tl->end_ns);
	json_u64(&j, "interval_ns", tl->end_ns / NSTEPS);
	json_str(&j, "verdict", v->grows ? "grows" : "steady");
	json_str(&j, "summary", timeline_verdict_text(v, buf, sizeof(buf)));
	json_obj_begin(&j, "growth");
	json_dbl(&j, "bytes_per_s", v->rate);
	json_u64(&j, "window_from_ns", v->from_ns);
	json_u64(&j, "window_to_ns", v->to_ns);
	json_dbl(&j, "residual_bytes", v->resid);
	json_dbl(&j, "mean_live_bytes", v->mean);
	json_obj_end(&j);
	json_arr_begin(&j, "suspects");
	for (i = 0; i < v->nsus && v->grows; i++) {
		json_obj_begin(&j, NULL);
		replay_json_stack(&j, t, sym, v->sus[i]->stack);
		json_dbl(&j, "bytes_per_s", v->sus[i]->rate);
		json_i64(&j, "growth_bytes", (int64_t)(v->sus[i]->last - v->sus[i]->first));
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_arr_begin(&j, "marks");
	for (i = 0; i < t->nmarks; i++) {
		json_obj_begin(&j, NULL);
		json_str(&j, "label", t->marks[i].label);
		json_u64(&j, "time_ns", t->marks[i].ns);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_arr_begin(&j, "samples");
	for (i = 0; i < tl->n; i++) {
		json_obj_begin(&j, NULL);
		json_u64(&j, "time_ns", tl->s[i].ns);
		json_u64(&j, "live_bytes", tl->s[i].live_bytes);
		json_u64(&j, "live_blocks", tl->s[i].live_blocks);
		json_u64(&j, "rss_bytes", tl->s[i].rss);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	*jw = j;
}
