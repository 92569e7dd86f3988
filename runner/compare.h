/* SPDX-License-Identifier: MIT */
/*
 * Private to `perfshim compare` (docs/compare.md): compare.c (options, the interleaved runs,
 * the analyzer's figures), compare-model.c (the statistics), compare-report.c (text and
 * JSON), compare-html.c (one self-contained page).
 */
#ifndef PERFSHIM_COMPARE_H
#define PERFSHIM_COMPARE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uthash.h>

#include "common/stats.h"

enum cmp_kind { CMP_FUNCTION, CMP_SITE, CMP_VARIANT };

/* What a row measures; a function has SELF and CALLS, a site BYTES and ALLOCS. */
enum cmp_metric {
	M_SELF, M_CPU_SELF, M_CALLS,	/* functions: self time (ns; wall clock, or on a CPU
					 * where every trace has context switches), calls */
	M_BYTES, M_ALLOCS,		/* sites: bytes allocated, allocations */
	M_WALL, M_CPU, M_ALLOCATED, M_PEAK, /* a whole run */
	NMETRICS
};

/* A function (by name) or an allocation site (by its chain of function names). */
struct cmp_entity {
	enum cmp_kind kind;
	char *key;			/* the name, or the stack's names joined by '\n' */
	char *name;			/* the function, or the site's innermost frame */
	char **stack;			/* sites: innermost first */
	uint32_t depth;
	char *frames;			/* sites: the analyzer's "frames" as compact JSON, or NULL */
	uint64_t *val[2];		/* per metric of its kind: [variant * runs + run] */
	uint64_t *cpu_self;		/* functions: CPU self time (ns), the same way */
	UT_hash_handle hh;
};

struct cmp_variant {
	char *name;
	char **argv;			/* the command, split into words */
	double *wall, *cpu;		/* ns, per measured run */
	double *allocated, *peak;	/* bytes, per measured run */
	struct stats_summary s[4];	/* of wall, cpu, allocated, peak */
	uint32_t incomplete;		/* runs whose trace the analyzer called incomplete */
};

/* One change: a metric of an entity (or of the whole run), variant @var against the base. */
struct cmp_row {
	struct cmp_entity *e;		/* NULL for the whole run */
	enum cmp_metric metric;
	uint32_t var;
	struct stats_change c;
	bool below_floor;		/* self time: a significant shift under --floor */
};

enum cmp_format { CMP_TEXT, CMP_JSON, CMP_HTML };

struct compare {
	struct cmp_variant *v;
	uint32_t nv, runs, warmup;
	double alpha;
	double floor_pct;		/* self-time changes under this % of the run are noise */
	enum stats_test test;
	enum cmp_format format;
	const char *output, *keep;
	const char *export[3];		/* --export-json/--export-html FILE, by format */
	bool all, show_output, progress;
	bool wall;			/* --wall: self times wall-clock even with CPU time */
	bool cpu_self;			/* self rows are CPU self (every run's trace had it) */
	uint32_t docs, cpu_docs;	/* functions documents read; those with CPU self */
	char lib[PATH_MAX], analyzer[PATH_MAX], dir[PATH_MAX];
	struct cmp_entity *ents;	/* hash by key */
	struct cmp_entity **elist;	/* in order of appearance */
	uint32_t nent, ecap;
	struct cmp_row *rows;		/* entity rows, then whole-run rows */
	uint32_t nrows, ntested;
};

/* compare-model.c */
struct cmp_entity *cmp_entity_get(struct compare *c, enum cmp_kind kind, const char *key);
int cmp_analyze(struct compare *c);
const char *cmp_metric_name(enum cmp_metric m);
const char *cmp_metric_key(enum cmp_metric m);
bool cmp_metric_self(enum cmp_metric m);
enum stats_unit cmp_metric_unit(enum cmp_metric m);
char *cmp_verdict(const struct cmp_row *r, char *buf, size_t len);
void cmp_free(struct compare *c);

/* compare-report.c, compare-html.c */
void cmp_report_text(const struct compare *c, FILE *f);
void cmp_report_json(const struct compare *c, FILE *f);
void cmp_report_html(const struct compare *c, FILE *f);
uint32_t cmp_sorted_rows(const struct compare *c, uint32_t *idx);
void cmp_stack_text(const struct cmp_entity *e, char *buf, size_t len);
char *cmp_fmt_spread(char *buf, size_t len, const struct stats_summary *s, enum stats_unit u);

#endif /* PERFSHIM_COMPARE_H */
