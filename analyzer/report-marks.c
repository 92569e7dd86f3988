// SPDX-License-Identifier: MIT
/*
 * The `marks` report: every mark of a trace with its time, in time order, between the
 * implicit `start` (0) and `end` (the last record). These are the names `diff --from/--to`
 * takes; a label recorded twice names its first occurrence there. docs/memory-diff.md.
 */
#define PR_FMT "marks"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/json.h"
#include "analyzer/notes.h"
#include "analyzer/opts.h"
#include "analyzer/report.h"
#include "analyzer/text.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"

static int cmp_mark(const void *pa, const void *pb)
{
	const struct trace_mark *a = *(const struct trace_mark *const *)pa;
	const struct trace_mark *b = *(const struct trace_mark *const *)pb;

	if (a->ns != b->ns)
		return a->ns < b->ns ? -1 : 1;
	return a < b ? -1 : a > b;	/* file order */
}

/**
 * report_marks - list the marks of @t (start, the recorded ones by time, end) on stdout, as
 * an aligned table (label, time, time since the previous mark, thread) or JSON
 * {"marks": [{"label", "time_ns", "tid"}]} (tid 0: set by the mark signal).
 * Return: 0, or -1 when the trace could not be decoded.
 */
int report_marks(struct trace *t, const struct opts *o)
{
	const struct trace_mark **v;
	struct trace_mark start = { (char *)"start", 0, 0 }, end = { (char *)"end", 0, 0 };
	uint32_t i, n = 0;

	/* "end" decodes the trace once when no walk did: t->marks is then complete */
	if (trace_find_mark(t, "end", &end.ns) < 0)
		return -1;
	v = xmalloc((t->nmarks + 2) * sizeof(*v));
	for (i = 0; i < t->nmarks; i++)
		v[n++] = &t->marks[i];
	qsort(v, n, sizeof(*v), cmp_mark);
	memmove(v + 1, v, n * sizeof(*v));
	v[0] = &start;
	v[++n] = &end;
	n++;
	if (end.ns < v[n - 2]->ns)
		end.ns = v[n - 2]->ns;

	if (o->format == FMT_JSON) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		notes_json(t, &j);
		json_u64(&j, "duration_ns", end.ns);
		json_arr_begin(&j, "marks");
		for (i = 0; i < n; i++) {
			json_obj_begin(&j, NULL);
			json_str(&j, "label", v[i]->label);
			json_u64(&j, "time_ns", v[i]->ns);
			json_u64(&j, "tid", v[i]->tid);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		json_finish(&j);
	} else if (o->format == FMT_CSV) {
		notes_comment(t, stdout, "# ");
		printf("label,time_ns,tid\n");
		for (i = 0; i < n; i++) {
			const char *s;

			putchar('"');
			for (s = v[i]->label; *s; s++) {
				if (*s == '"')	/* CSV: a quote is doubled */
					putchar('"');
				putchar(*s);
			}
			printf("\",%llu,%u\n", (unsigned long long)v[i]->ns, v[i]->tid);
		}
	} else {
		static const char *const hdr[] = { "mark", "time", "since previous", "thread" };
		struct table *tb = table_new(4, hdr, "lrrl");
		char a[32], b[32], c[32];

		for (i = 0; i < n; i++) {
			const char *who = "";

			if (i && i + 1 < n) {
				if (v[i]->tid)
					snprintf(c, sizeof(c), "%u", v[i]->tid);
				who = v[i]->tid ? c : "signal";
			}
			table_add(tb, v[i]->label, fmt_ns(a, sizeof(a), v[i]->ns),
				  i ? fmt_ns(b, sizeof(b), v[i]->ns - v[i - 1]->ns) : "", who);
		}
		notes_text(t, stdout);
		printf("Marks of %s (%u recorded; start and end are implicit)\n", t->path,
		       t->nmarks);
		table_print(tb, stdout);
		table_free(tb);
	}
	free(v);
	fflush(stdout);
	return 0;
}
