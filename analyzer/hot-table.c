/* SPDX-License-Identifier: MIT */
/*
 * The hot-function table as `functions` prints it (text, CSV, JSON; --sort, --limit,
 * --filter, --lines): an output helper over the model's struct hot (hot.h), shared by the
 * views that print one (report-hot.c: `functions`; report-tree.c: `functions --tree`).
 * The column definitions are in report-hot.c's header comment.
 */
#define PR_FMT "hot"
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/hot-table.h"
#include "analyzer/hot.h"
#include "analyzer/json.h"
#include "analyzer/opts.h"
#include "analyzer/symbols.h"
#include "analyzer/text.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"

/* ---- functions ---- */

enum col { C_TOTAL, C_SELF, C_CALLS, C_AVG, C_MIN, C_MAX, C_P50, C_P99, C_WAIT, C_NAME };
static const char *const col_names[] = { "total", "self", "calls", "avg", "min", "max",
					 "p50", "p99", "wait", "name" };

/*
 * With off-CPU time (hot.switches) and without --wall, the self column is CPU self: self
 * time less the off-CPU time inside it, which is the wait column. JSON keeps self_ns as
 * the wall-clock self time and adds cpu_self_ns and wait_ns (and cpu_total_ns: the total
 * less the off-CPU time within the outermost activations).
 */
struct row {
	uint32_t func;
	const char *name, *module;
	const char *file;		/* definition (DWARF), or NULL */
	unsigned line;
	uint64_t addr;
	uint64_t v[9];			/* by enum col; C_SELF as shown */
	uint64_t wall_self, wait[2];	/* wall-clock self; blocked, preempted */
	uint64_t cpu_total;		/* total less the off-CPU time within it */
};
static bool show_cpu;			/* C_SELF is CPU self (hot_rows) */
static bool have_switches;		/* rows carry wait figures */

static int sort_col;

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (sort_col == C_NAME) {
		int c = strcmp(x->name, y->name);

		if (c)
			return c;
	} else if (x->v[sort_col] != y->v[sort_col]) {
		return x->v[sort_col] > y->v[sort_col] ? -1 : 1;
	}
	if (x->v[C_TOTAL] != y->v[C_TOTAL])
		return x->v[C_TOTAL] > y->v[C_TOTAL] ? -1 : 1;
	return x->func < y->func ? -1 : x->func > y->func;
}

/* sort_column - column index of --sort @s (default total), -1 if unknown */
static int sort_column(const char *s)
{
	size_t i;

	if (!s)
		return C_TOTAL;
	for (i = 0; i < sizeof(col_names) / sizeof(col_names[0]); i++)
		if (!strcmp(s, col_names[i]) || (!strncmp(s, col_names[i], strlen(col_names[i])) &&
						 !strcmp(s + strlen(col_names[i]), "_ns")))
			return (int)i;
	if (!strcmp(s, "function"))
		return C_NAME;
	return -1;
}

/** hot_sort_ok - whether functions takes --sort=@s (main.c says bad usage otherwise). */
bool hot_sort_ok(const char *s)
{
	return sort_column(s) >= 0;
}

/** hot_table_sort - column index of --sort @s (default total); -1 with a message if unknown. */
int hot_table_sort(const char *s)
{
	int c = sort_column(s);

	if (c < 0)
		pr_warn("--sort: unknown column '%s' (%s)", s, HOT_SORT_COLUMNS);
	return c;
}

/* The name, module and address of function @i of a table named by @nm. */
static void row_names(const struct hot_names *nm, uint32_t i, struct row *r)
{
	if (nm->t) {
		r->name = sym_func_name(nm->sym, i);
		r->module = sym_func_module(nm->sym, i);
		r->addr = nm->t->funcs[i];
		if (sym_func_decl(nm->sym, i, &r->file, &r->line) < 0) {
			r->file = NULL;
			r->line = 0;
		}
	} else {
		r->name = nm->name[i];
		r->module = nm->module[i];
		r->addr = nm->addr[i];
		r->file = nm->file ? nm->file[i] : NULL;
		r->line = nm->file && nm->file[i] ? nm->line[i] : 0;
	}
}

/**
 * hot_rows - the table rows of @h: functions with calls, named by @nm, filtered by
 * @re (may be NULL), sorted by column @col. Return: the rows (free them), count in *@n.
 */
static struct row *hot_rows(struct hot *h, const struct hot_names *nm, const regex_t *re,
			    int col, uint32_t *n)
{
	struct row *rows = xmalloc((h->nfuncs + 1) * sizeof(*rows));
	uint32_t i, k = 0;

	for (i = 0; i < h->nfuncs; i++) {
		struct hot_func *f = &h->funcs[i];
		struct row *r = &rows[k];

		if (!f->calls)
			continue;
		r->func = i;
		row_names(nm, i, r);
		if (re && regexec(re, r->name, 0, NULL, 0) != 0)
			continue;
		r->v[C_TOTAL] = f->total_ns;
		r->wall_self = f->self_ns;
		r->wait[0] = f->wait_ns[0];
		r->wait[1] = f->wait_ns[1];
		r->v[C_WAIT] = f->wait_ns[0] + f->wait_ns[1];
		r->cpu_total = f->total_ns > f->wait_total_ns ? f->total_ns - f->wait_total_ns : 0;
		r->v[C_SELF] = !show_cpu ? f->self_ns
			       : f->self_ns > r->v[C_WAIT] ? f->self_ns - r->v[C_WAIT] : 0;
		r->v[C_CALLS] = f->calls;
		r->v[C_AVG] = f->sum_ns / f->calls;
		r->v[C_MIN] = f->min_ns;
		r->v[C_MAX] = f->max_ns;
		r->v[C_P50] = hot_percentile(f, 50);
		r->v[C_P99] = hot_percentile(f, 99);
		k++;
	}
	sort_col = col;
	qsort(rows, k, sizeof(*rows), cmp_row);
	*n = k;
	return rows;
}

static void rows_json(struct json *j, const struct row *rows, uint32_t n)
{
	uint32_t i;
	char buf[32];

	json_arr_begin(j, "functions");
	for (i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		json_obj_begin(j, NULL);
		json_str(j, "name", r->name);
		json_str(j, "module", r->module);
		snprintf(buf, sizeof(buf), "0x%" PRIx64, r->addr);
		json_str(j, "addr", buf);
		if (r->file) {
			json_str(j, "file", r->file);
			json_u64(j, "line", r->line);
		} else {
			json_null(j, "file");
			json_null(j, "line");
		}
		json_u64(j, "calls", r->v[C_CALLS]);
		json_u64(j, "total_ns", r->v[C_TOTAL]);
		json_u64(j, "self_ns", r->wall_self);
		if (have_switches) {
			json_u64(j, "cpu_self_ns", r->wall_self > r->v[C_WAIT]
							   ? r->wall_self - r->v[C_WAIT] : 0);
			json_u64(j, "wait_ns", r->v[C_WAIT]);
			json_u64(j, "voluntary_ns", r->wait[0]);
			json_u64(j, "involuntary_ns", r->wait[1]);
			json_u64(j, "cpu_total_ns", r->cpu_total);
		}
		json_u64(j, "avg_ns", r->v[C_AVG]);
		json_u64(j, "min_ns", r->v[C_MIN]);
		json_u64(j, "max_ns", r->v[C_MAX]);
		json_u64(j, "p50_ns", r->v[C_P50]);
		json_u64(j, "p99_ns", r->v[C_P99]);
		json_obj_end(j);
	}
	json_arr_end(j);
}

/* a CSV field: quoted when it holds a comma, quote or newline */
static void csv_str(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/*
 * CSV: a header line, then one line per function; @tid >= 0 adds a first "tid" column. The
 * last two columns, file and line, say where it is defined (empty when unknown or with
 * --no-lines); they come after the others so that old readers' column numbers hold.
 */
static void rows_csv(FILE *f, const struct row *rows, uint32_t n, long tid, bool header)
{
	uint32_t i;
	int c;

	if (header)
		fprintf(f, "%sname,module,addr,calls,total_ns,self_ns,avg_ns,min_ns,max_ns,p50_ns,"
			"p99_ns%s,file,line\n", tid >= 0 ? "tid," : "",
			have_switches ? ",cpu_self_ns,wait_ns" : "");
	for (i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		static const int order[] = { C_CALLS, C_TOTAL, C_SELF, C_AVG, C_MIN, C_MAX,
					     C_P50, C_P99 };

		if (tid >= 0)
			fprintf(f, "%ld,", tid);
		csv_str(f, r->name);
		fputc(',', f);
		csv_str(f, r->module);
		fprintf(f, ",0x%" PRIx64, r->addr);
		for (c = 0; c < 8; c++)
			fprintf(f, ",%" PRIu64, order[c] == C_SELF ? r->wall_self : r->v[order[c]]);
		if (have_switches)
			fprintf(f, ",%" PRIu64 ",%" PRIu64, r->wall_self > r->v[C_WAIT]
				? r->wall_self - r->v[C_WAIT] : 0, r->v[C_WAIT]);
		fputc(',', f);
		if (r->file) {
			csv_str(f, r->file);
			fprintf(f, ",%u", r->line);
		} else {
			fputc(',', f);
		}
		fputc('\n', f);
	}
}

/* "file.c:12" (basename) of a definition in @file at @line, "" when unknown (NULL) */
/** hot_where - "file.c:12" (the file's base name) into @buf, "" when @file is NULL. */
const char *hot_where(const char *file, unsigned line, char *buf, size_t len)
{
	const char *base;

	if (!file) {
		buf[0] = '\0';
		return buf;
	}
	base = strrchr(file, '/');
	snprintf(buf, len, "%s:%u", base && base[1] ? base + 1 : file, line);
	return buf;
}

/*
 * The table: Total, Self (CPU self and Wait when the trace has context switches and
 * --wall is not given; "Wall self" with --wall), Calls, Avg, Min, Max, P50, P99, Function,
 * and with @lines (functions --lines) a last column: where each one is defined.
 */
static void rows_text(FILE *f, const struct row *rows, uint32_t n, bool lines)
{
	const char *hdr[12], *cell[12];
	char b[9][32], nb[256], db[256], align[13];
	struct table *tb;
	uint32_t i, k = 0, c;

	hdr[k++] = "Total";
	hdr[k++] = show_cpu ? "CPU self" : have_switches ? "Wall self" : "Self";
	if (show_cpu)
		hdr[k++] = "Wait";
	hdr[k++] = "Calls";
	hdr[k++] = "Avg";
	hdr[k++] = "Min";
	hdr[k++] = "Max";
	hdr[k++] = "P50";
	hdr[k++] = "P99";
	hdr[k++] = "Function";
	if (lines)
		hdr[k++] = "Defined at";
	for (c = 0; c < k; c++)
		align[c] = !strcmp(hdr[c], "Function") || !strcmp(hdr[c], "Defined at") ? 'l' : 'r';
	align[k] = '\0';
	tb = table_new(k, hdr, align);
	for (i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		c = 0;
		cell[c++] = fmt_ns(b[0], 32, r->v[C_TOTAL]);
		cell[c++] = fmt_ns(b[1], 32, r->v[C_SELF]);
		if (show_cpu)
			cell[c++] = fmt_ns(b[8], 32, r->v[C_WAIT]);
		cell[c++] = fmt_count(b[2], 32, r->v[C_CALLS]);
		cell[c++] = fmt_ns(b[3], 32, r->v[C_AVG]);
		cell[c++] = fmt_ns(b[4], 32, r->v[C_MIN]);
		cell[c++] = fmt_ns(b[5], 32, r->v[C_MAX]);
		cell[c++] = fmt_ns(b[6], 32, r->v[C_P50]);
		cell[c++] = fmt_ns(b[7], 32, r->v[C_P99]);
		cell[c++] = short_name(r->name, nb, sizeof(nb), 100);
		if (lines)
			cell[c++] = hot_where(r->file, r->line, db, sizeof(db));
		table_add_row(tb, cell);
	}
	table_print(tb, f);
	table_free(tb);
}

/**
 * hot_table_filter - compile --filter of @o into @re. Return: 1 (compiled: regfree it),
 * 0 (no filter), or -1 on a bad expression (told).
 */
int hot_table_filter(const struct opts *o, regex_t *re)
{
	int e;

	if (!o->filter)
		return 0;
	e = regcomp(re, o->filter, REG_EXTENDED | REG_NOSUB);
	if (e) {
		char msg[128];

		regerror(e, re, msg, sizeof(msg));
		pr_warn("--filter: bad regular expression '%s': %s", o->filter, msg);
		return -1;
	}
	return 1;
}

/**
 * hot_table_out - one table (text, CSV on stdout) or array (JSON, into @j) of @h, rows
 * named by @nm, filtered by @re (may be NULL), sorted by column @col (hot_table_sort's);
 * @tid: the thread of a --per-thread CSV, @header: print the CSV header.
 */
void hot_table_out(struct hot *h, const struct hot_names *nm, const regex_t *re,
			  int col, const struct opts *o, struct json *j, long tid, bool header)
{
	uint32_t n;
	struct row *rows;

	have_switches = h->switches;
	show_cpu = h->switches && !o->wall;
	rows = hot_rows(h, nm, re, col, &n);
	if (o->limit > 0 && (uint64_t)o->limit < n)
		n = (uint32_t)o->limit;
	if (j)
		rows_json(j, rows, n);
	else if (o->format == FMT_CSV)
		rows_csv(stdout, rows, n, tid, header);
	else
		rows_text(stdout, rows, n, o->lines);
	free(rows);
}

/**
 * hot_print_functions - the hot-function table of @h named by @nm, as `functions` prints
 * it (--sort, --limit, --filter, --format of @o): into @j (the "functions" array) when
 * given, else text or CSV on stdout. Return: 0, or -1 on a bad --sort or --filter (told).
 */
int hot_print_functions(struct hot *h, const struct hot_names *nm, const struct opts *o,
			struct json *j)
{
	int col = hot_table_sort(o->sort), have_re;
	regex_t re;

	if (col < 0)
		return -1;
	have_re = hot_table_filter(o, &re);
	if (have_re < 0)
		return -1;
	hot_table_out(h, nm, have_re ? &re : NULL, col, o, j, -1, true);
	if (have_re > 0)
		regfree(&re);
	return 0;
}

