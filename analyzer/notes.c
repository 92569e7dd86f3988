/* SPDX-License-Identifier: MIT */
/*
 * Notes: what every report says about its trace before its figures, in every format, so
 * that no answer is silently wrong. Two kinds: what is missing (the trace is incomplete: the
 * process's end was not seen, a thread has no last chunk, damage or a cut ended a stream)
 * and warnings (chunks found twice, impossible values left out of the totals, a header
 * that contradicts the contents, events the recorder dropped). The reader finds them
 * (trace-read.c, trace-walk.c) and says each once on stderr; reports repeat them in their
 * own output: a block at the top of text, "#" lines in CSV, folded stacks and dump,
 * "complete"/"incomplete"/"warnings" keys in JSON (report-flame.c, report-chrome.c and
 * report-html.c put them in their own formats).
 */
#define PR_FMT "notes"
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/json.h"
#include "analyzer/notes.h"
#include "analyzer/offcpu.h"
#include "analyzer/text.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"

#define NOTES_THREADS 16		/* threads listed one by one; the rest are counted */

static void __attribute__((format(printf, 3, 4)))
add(char **v, unsigned *n, const char *fmt, ...)
{
	va_list ap;

	if (*n >= NOTES_MAX)
		return;
	va_start(ap, fmt);
	if (vasprintf(&v[*n], fmt, ap) < 0)
		pr_fatal("out of memory");
	va_end(ap);
	(*n)++;
}

static const char *thread_label(const struct trace_thread *th, char *buf, size_t len)
{
	if (th->name[0])
		snprintf(buf, len, "thread %u (%s)", th->tid, th->name);
	else
		snprintf(buf, len, "thread %u", th->tid);
	return buf;
}

/* what is missing: the process's end, threads' ends, damage */
static void missing(const struct trace *t, struct notes *n)
{
	uint64_t stop = 0, more = 0;
	uint32_t i, listed = 0;
	char a[32], tl[96];

	for (i = 0; i < t->nthreads; i++)
		if (t->threads[i].written_ns > stop)
			stop = t->threads[i].written_ns;
	if (!t->end_seen && !t->nthreads)
		add(n->missing, &n->nmissing, "the process's end was not recorded, and the file "
		    "holds no chunk: nothing the process did is in it");
	else if (!t->end_seen)
		add(n->missing, &n->nmissing, NOTES_NO_END, fmt_ns(a, sizeof(a), stop));
	for (i = 0; i < t->nthreads; i++) {
		const struct trace_thread *th = &t->threads[i];

		if (!th->damaged && th->complete)
			continue;
		if (listed++ >= NOTES_THREADS) {
			more++;
			continue;
		}
		thread_label(th, tl, sizeof(tl));
		if (th->damaged)
			add(n->missing, &n->nmissing, "%s: damage ends its stream: its events after "
			    "%s are lost", tl, fmt_ns(a, sizeof(a), th->last_ns));
		else
			add(n->missing, &n->nmissing, "%s has no last chunk: its events after %s "
			    "are missing", tl, fmt_ns(a, sizeof(a), th->written_ns));
	}
	if (more)
		add(n->missing, &n->nmissing, "%" PRIu64 " more threads end early the same way",
		    more);
	if (t->cut_fsize)
		add(n->missing, &n->nmissing, "recording stopped early: the trace reached the "
		    "file-size limit (RLIMIT_FSIZE); later events are not in it");
	if (t->cut_write)
		add(n->missing, &n->nmissing, "recording stopped early: writing the trace failed "
		    "(disk full?); later events are not in it");
	if (t->read_note)
		add(n->missing, &n->nmissing, "%s", t->read_note);
	if (t->truncated)
		add(n->missing, &n->nmissing, "the file is cut short: its last chunk is not whole");
	if (t->damaged_chunks)
		add(n->missing, &n->nmissing, "%" PRIu64 " damaged chunk%s (%s) could not be read",
		    t->damaged_chunks, t->damaged_chunks == 1 ? "" : "s",
		    fmt_bytes(a, sizeof(a), t->damaged_bytes));
}

/* what was found wrong, and what the figures leave out because of it */
static void warnings(const struct trace *t, struct notes *n)
{
	char a[32], sw[256];

	if (t->repeated_chunks)
		add(n->warn, &n->nwarn, "%" PRIu64 " chunk%s appear%s twice in the file (same "
		    "thread, seq and header): read once", t->repeated_chunks,
		    t->repeated_chunks == 1 ? "" : "s", t->repeated_chunks == 1 ? "s" : "");
	if (t->conflicting_chunks)
		add(n->warn, &n->nwarn, "%" PRIu64 " chunk%s share a thread id and seq with "
		    "another, different chunk: read as separate threads of that id",
		    t->conflicting_chunks, t->conflicting_chunks == 1 ? "" : "s");
	if (t->bad_sizes)
		add(n->warn, &n->nwarn, "%" PRIu64 " record%s of impossible size (beyond the "
		    "2^47-byte address space) left out of every total", t->bad_sizes,
		    t->bad_sizes == 1 ? "" : "s");
	if (t->bad_counts)
		add(n->warn, &n->nwarn, "%" PRIu64 " impossible count%s (beyond 2^48, or a sum "
		    "that overflows) left out", t->bad_counts, t->bad_counts == 1 ? "" : "s");
	if (t->bad_live)
		add(n->warn, &n->nwarn, "%" PRIu64 " allocation%s left out of the memory figures: "
		    "the live heap would pass the 2^47-byte address space or a total would "
		    "overflow (impossible)", t->bad_live, t->bad_live == 1 ? "" : "s");
	if (t->bad_start)
		add(n->warn, &n->nwarn, "the header's start time is after every chunk "
		    "(impossible): times count from the first chunk");
	if (t->bad_flags_calls)
		add(n->warn, &n->nwarn, "the header says calls were not recorded, yet the trace "
		    "holds %s call%s: the header is wrong", fmt_count(a, sizeof(a), t->ncalls),
		    t->ncalls == 1 ? "" : "s");
	if (t->bad_flags_malloc)
		add(n->warn, &n->nwarn, "the header says the malloc family was not recorded, yet "
		    "the trace holds %s allocation event%s: the header is wrong",
		    fmt_count(a, sizeof(a), t->nallocs + t->nfrees + t->nreallocs),
		    t->nallocs + t->nfrees + t->nreallocs == 1 ? "" : "s");
	if (t->hdr.sample_mean) {
		char m[32], e[32], sd[32];

		/* not damage: what every memory figure of a sampled trace is (docs/sampling.md) */
		add(n->warn, &n->nwarn, "sampled trace: memory figures are estimates from %s "
		    "sampled allocation%s (PERFSHIM_SAMPLE mean %s, seed %u): bytes allocated "
		    "%s \u00b1%s (one standard deviation); temporary allocations are not counted",
		    fmt_count(a, sizeof(a), t->nsamples), t->nsamples == 1 ? "" : "s",
		    fmt_bytes(m, sizeof(m), t->hdr.sample_mean), t->hdr.sample_seed,
		    fmt_bytes(e, sizeof(e), (uint64_t)(t->sample_bytes + 0.5)),
		    fmt_bytes(sd, sizeof(sd), (uint64_t)(sqrt(t->sample_var) + 0.5)));
	}
	if (t->nlost)
		add(n->warn, &n->nwarn, "%s events were dropped by the recorder (LOST records: "
		    "it could not record them): counts may be short",
		    fmt_count(a, sizeof(a), t->nlost));
	if (offcpu_note(t, sw, sizeof(sw)))
		add(n->warn, &n->nwarn, "%s", sw);
}

/**
 * notes_get - what @t's reports must say (free with notes_free). Decodes the whole trace
 * once when no walk went over every thread yet (damage inside chunks is found by decoding).
 */
void notes_get(struct trace *t, struct notes *n)
{
	memset(n, 0, sizeof(*n));
	trace_info(t);
	missing(t, n);
	warnings(t, n);
	n->finished = t->end_seen;
	n->complete = !n->nmissing;
}

void notes_free(struct notes *n)
{
	unsigned i;

	for (i = 0; i < n->nmissing; i++)
		free(n->missing[i]);
	for (i = 0; i < n->nwarn; i++)
		free(n->warn[i]);
	memset(n, 0, sizeof(*n));
}

/**
 * notes_text_named - the warning block at the top of a text report on @f (nothing when the
 * trace is complete and clean), ended by an empty line; @who (may be NULL) names the trace
 * where a report shows several. Return: whether anything was printed.
 */
bool notes_text_named(struct trace *t, FILE *f, const char *who)
{
	const char *a = who ? " (" : "", *b = who ? who : "", *c = who ? ")" : "";
	struct notes n;
	unsigned i;
	bool any;

	notes_get(t, &n);
	if (n.nmissing)
		fprintf(f, "Warning: incomplete trace%s%s%s; the figures below cover only what was "
			"recorded:\n", a, b, c);
	for (i = 0; i < n.nmissing; i++)
		fprintf(f, "  - %s\n", n.missing[i]);
	for (i = 0; i < n.nwarn; i++)
		fprintf(f, "Warning%s%s%s: %s\n", a, b, c, n.warn[i]);
	any = n.nmissing || n.nwarn;
	if (any)
		fputc('\n', f);
	notes_free(&n);
	return any;
}

/** notes_text - notes_text_named for a report of one trace. */
bool notes_text(struct trace *t, FILE *f)
{
	return notes_text_named(t, f, NULL);
}

/**
 * notes_comment - the same as comment lines "@prefix..." (CSV, folded stacks, dump: "# ").
 */
void notes_comment(struct trace *t, FILE *f, const char *prefix)
{
	struct notes n;
	unsigned i;
	char *line;

	notes_get(t, &n);
	for (i = 0; i < n.nmissing + n.nwarn; i++) {
		if (asprintf(&line, i < n.nmissing ? "incomplete trace %s: %s" : "warning: %s: %s",
			     t->path, i < n.nmissing ? n.missing[i] : n.warn[i - n.nmissing]) < 0)
			pr_fatal("out of memory");
		notes_comment_line(f, prefix, line);
		free(line);
	}
	notes_free(&n);
}

/*
 * notes_comment_line - "@prefix@msg\n" as one line: a newline or carriage return in @msg
 * (a thread name, a mark, a path from the trace) is written \x0a / \x0d, so that it cannot
 * end the comment and start a line that readers of CSV or folded stacks take for data.
 */
void notes_comment_line(FILE *f, const char *prefix, const char *msg)
{
	fputs(prefix, f);
	for (; *msg; msg++) {
		if (*msg == '\n' || *msg == '\r')
			fprintf(f, "\\x%02x", (unsigned char)*msg);
		else
			fputc(*msg, f);
	}
	fputc('\n', f);
}

/**
 * notes_json_many - "complete" (false when anything is missing: the process's end, a
 * thread's last chunk, damaged or cut data), "incomplete" (what is missing) and "warnings"
 * of the @n traces @t into the object being written to @j; with several, each line starts
 * with its trace's label @who[i].
 */
void notes_json_many(struct json *j, struct trace *const *t, const char *const *who, unsigned n)
{
	struct notes *v = xcalloc(n, sizeof(*v));
	bool complete = true;
	unsigned i, k;
	char *line;

	for (k = 0; k < n; k++) {
		notes_get(t[k], &v[k]);
		complete &= v[k].complete;
	}
	json_bool(j, "complete", complete);
	for (int pass = 0; pass < 2; pass++) {
		json_arr_begin(j, pass ? "warnings" : "incomplete");
		for (k = 0; k < n; k++) {
			unsigned m = pass ? v[k].nwarn : v[k].nmissing;

			for (i = 0; i < m; i++) {
				const char *s = pass ? v[k].warn[i] : v[k].missing[i];

				if (n == 1) {
					json_str(j, NULL, s);
					continue;
				}
				if (asprintf(&line, "%s: %s", who[k], s) < 0)
					pr_fatal("out of memory");
				json_str(j, NULL, line);
				free(line);
			}
		}
		json_arr_end(j);
	}
	for (k = 0; k < n; k++)
		notes_free(&v[k]);
	free(v);
}

/** notes_json - notes_json_many for a document of one trace. */
void notes_json(struct trace *t, struct json *j)
{
	notes_json_many(j, &t, NULL, 1);
}
