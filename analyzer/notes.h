/* SPDX-License-Identifier: MIT */
/*
 * Notes (notes.c): what every report says about its trace, what it lacks and what was found
 * wrong, in text and JSON.
 */
#ifndef PERFSHIM_ANALYZER_NOTES_H
#define PERFSHIM_ANALYZER_NOTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analyzer/trace.h"

struct json;

#define NOTES_MAX 40
struct notes {
	char *missing[NOTES_MAX];	/* what the trace lacks (it is incomplete) */
	unsigned nmissing;
	char *warn[NOTES_MAX];		/* what was found wrong, and left out */
	unsigned nwarn;
	bool complete;			/* nothing missing */
	bool finished;			/* the recorder saw the process end */
};
void notes_get(struct trace *t, struct notes *n);
void notes_free(struct notes *n);
bool notes_text(struct trace *t, FILE *f);
bool notes_text_named(struct trace *t, FILE *f, const char *who);
void notes_comment(struct trace *t, FILE *f, const char *prefix);
void notes_comment_line(FILE *f, const char *prefix, const char *msg);	/* one line, always */
void notes_json(struct trace *t, struct json *j);
void notes_json_many(struct json *j, struct trace *const *t, const char *const *who, unsigned n);
/* the reader's warning (trace-read.c) and the reports' note (notes.c) say it alike */
#define NOTES_NO_END "the process's end was not recorded (it was killed, crashed, or " \
	"exited where the recorder could not see it): what it did after %s is missing"
/* leaks of a process whose end was not seen: what the reports say instead of "leaked" */
#define NOTES_UNFINISHED "the process did not finish: these blocks were live when " \
	"recording stopped, not necessarily leaked"

#endif /* PERFSHIM_ANALYZER_NOTES_H */
