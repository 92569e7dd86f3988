// SPDX-License-Identifier: MIT
/*
 * `findings`: the automatic advice of every rule (findings.c computes it, findings-out.c
 * writes it), as text or JSON. docs/findings.md explains each rule.
 */
#define PR_FMT "findings"

#include <stdio.h>

#include "analyzer/findings-out.h"
#include "analyzer/findings.h"
#include "analyzer/json.h"
#include "analyzer/notes.h"
#include "analyzer/opts.h"
#include "analyzer/report.h"
#include "analyzer/trace.h"

/**
 * report_findings - `findings`: the advice of every rule for @t, text or JSON (see
 * findings.h, docs/findings.md). Return: 0, or -1 when the trace could not be read.
 */
int report_findings(struct trace *t, const struct opts *o)
{
	uint32_t limit = o->limit > 0 ? (uint32_t)o->limit : 0;
	struct findings f;

	if (findings_collect(t, o, NULL, &f) < 0) {
		findings_free(&f);
		return -1;
	}
	if (o->format == FMT_JSON) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		notes_json(t, &j);
		findings_json(&f, &j, limit);
		json_obj_end(&j);
		json_finish(&j);
	} else {
		notes_text(t, stdout);
		printf("Findings of %s: %u\n\n", t->path, f.n);
		findings_text(&f, stdout, limit);
	}
	findings_free(&f);
	return 0;
}
