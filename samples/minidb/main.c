/* SPDX-License-Identifier: MIT */
/*
 * minidb driver: reads a script of SQL statements and dot-commands and runs it.
 *
 *	minidb SCRIPT [SIZE]
 *
 *	.gen TABLE N		N * SIZE generated rows into TABLE (workload.c)
 *	.plans on|off		print each SELECT's plan before its result
 *	.tables			row counts of every table, and the interned strings
 *	.echo TEXT		print TEXT
 *
 * Results and errors go to stdout, in script order; with MINIDB_STATS set, the number of
 * allocations made by xmalloc/xcalloc/xrealloc goes to stderr at exit.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minidb.h"

static int show_plans;

/* ---------------------------------------------------------------- statements */

static int run_insert(struct db *db, struct stmt *s, long *count, char *err, size_t errlen)
{
	struct table *t = db_table(db, s->table);
	struct binder bd = { 0 };
	struct evalctx cx = { 0 };
	int map[64], rc = 0;
	struct value *vals;

	*count = 0;
	if (!t) {
		snprintf(err, errlen, "no table %s", s->table);
		return -1;
	}
	if (t->ncols > 64 || (s->nnames ? s->nnames : t->ncols) != s->rowlen) {
		snprintf(err, errlen, "%d values for %d columns", s->rowlen,
			 s->nnames ? s->nnames : t->ncols);
		return -1;
	}
	for (int i = 0; i < s->rowlen; i++) {	/* value i goes to column map[i] */
		map[i] = i;
		if (!s->nnames)
			continue;
		map[i] = -1;
		for (int c = 0; c < t->ncols; c++)
			if (strcmp(t->cols[c].name, s->names[i]) == 0)
				map[i] = c;
		if (map[i] < 0) {
			snprintf(err, errlen, "table %s has no column %s", t->name, s->names[i]);
			return -1;
		}
	}
	vals = xmalloc(sizeof(*vals) * (size_t)t->ncols);
	for (int r = 0; r < s->nrows && rc == 0; r++) {
		for (int c = 0; c < t->ncols; c++)
			vals[c] = v_null();
		for (int i = 0; i < s->rowlen && rc == 0; i++) {
			if (expr_bind(&bd, s->rows[r][i])) {	/* no tables: constants only */
				snprintf(err, errlen, "%s", bd.err);
				rc = -1;
				break;
			}
			value_release(&vals[map[i]]);
			vals[map[i]] = expr_eval(s->rows[r][i], &cx);
		}
		if (rc == 0 && table_insert(t, vals, err, errlen) == 0)
			(*count)++;
		else
			rc = -1;
		if (rc)
			for (int c = 0; c < t->ncols; c++)
				value_release(&vals[c]);
	}
	free(vals);
	return rc;
}

static int run_select(struct db *db, struct stmt *s, char *err, size_t errlen)
{
	struct plan p;
	struct result res;

	if (plan_select(db, s->sel, &p, err, errlen)) {
		plan_free(&p);
		return -1;
	}
	if (show_plans) {
		struct sbuf b = { 0 };

		plan_explain(&p, &b);
		puts(b.p);
		sb_free(&b);
	}
	exec_select(db, &p, &res);
	result_print(&res);
	db->rows_out += res.nrows;
	result_free(&res);
	plan_free(&p);
	return 0;
}

static int run_stmt(struct db *db, struct stmt *s, int quiet, char *err, size_t errlen)
{
	long n = 0;
	int rc;

	db->stmts++;
	switch (s->kind) {
	case S_CREATE_TABLE:
		return table_create(db, s, err, errlen);
	case S_CREATE_INDEX:
		return index_create(db, s, err, errlen);
	case S_INSERT:
		rc = run_insert(db, s, &n, err, errlen);
		if (!quiet)
			printf("inserted %ld row%s\n", n, n == 1 ? "" : "s");
		return rc;
	case S_UPDATE:
		rc = exec_update(db, s, &n, err, errlen);
		if (rc == 0)
			printf("updated %ld row%s\n", n, n == 1 ? "" : "s");
		return rc;
	case S_DELETE:
		rc = exec_delete(db, s, &n, err, errlen);
		if (rc == 0)
			printf("deleted %ld row%s\n", n, n == 1 ? "" : "s");
		return rc;
	case S_SELECT:
		return run_select(db, s, err, errlen);
	}
	return 0;
}

/* Runs every statement of SQL (which starts at line LINE of its script). Errors are printed
 * and the next statement runs; returns -1 if any failed. QUIET: no "inserted" lines. */
int db_exec_sql(struct db *db, const char *sql, int line, int quiet)
{
	struct lexer lx;
	int eof = 0, rc = 0;

	lex_init(&lx, sql, line);
	while (!eof) {
		struct stmt *s = parse_statement(&lx, &eof);
		char err[160] = "";

		if (!s) {
			if (!eof) {
				printf("error: %s\n", lx.err);
				rc = -1;
			}
			continue;
		}
		if (run_stmt(db, s, quiet, err, sizeof(err))) {
			printf("error: line %d: %s\n", s->line, err);
			rc = -1;
		}
		stmt_free(s);
	}
	return rc;
}

/* ---------------------------------------------------------------- script */

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct sbuf b = { 0 };
	char buf[8192];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_putn(&b, buf, n);
	fclose(f);
	if (!b.p)
		sb_putn(&b, "", 0);
	return b.p;
}

static void meta_tables(struct db *db)
{
	for (int i = 0; i < db->ntables; i++) {
		const struct table *t = db->tables[i];

		printf("table %s: %u rows", t->name, t->nlive);
		for (int x = 0; x < t->nidx; x++)
			printf(", index %s (%zu)", t->idx[x].name, bt_count(t->idx[x].bt));
		putchar('\n');
	}
	printf("interned strings: %zu\n", str_pool_count());
}

/* One dot-command line (without the newline). */
static void meta(struct db *db, char *cmd, int line)
{
	char *word = strtok(cmd, " \t"), *arg1 = strtok(NULL, " \t"), *arg2 = strtok(NULL, " \t");

	if (strcmp(word, ".gen") == 0 && arg1 && arg2) {
		gen_table(db, arg1, strtol(arg2, NULL, 10) * db->scale);
	} else if (strcmp(word, ".plans") == 0 && arg1) {
		show_plans = strcmp(arg1, "on") == 0;
	} else if (strcmp(word, ".tables") == 0) {
		meta_tables(db);
	} else if (strcmp(word, ".echo") == 0) {
		printf("%s%s%s\n", arg1 ? arg1 : "", arg2 ? " " : "", arg2 ? arg2 : "");
	} else {
		printf("error: line %d: unknown command %s\n", line, word);
	}
}

/* Where the statement starting at P ends: after its ';' (quotes and comments skipped). */
static const char *stmt_end(const char *p, int *lines)
{
	for (; *p; p++) {
		if (*p == '\n')
			(*lines)++;
		if (*p == '\'') {
			for (p++; *p && !(*p == '\'' && p[1] != '\''); p++) {
				if (*p == '\'')
					p++;	/* '' inside a string */
				else if (*p == '\n')
					(*lines)++;
			}
			if (!*p)
				return p;
		} else if (*p == '-' && p[1] == '-') {
			while (p[1] && p[1] != '\n')
				p++;
		} else if (*p == ';') {
			return p + 1;
		}
	}
	return p;
}

static void run_script(struct db *db, const char *src)
{
	const char *p = src;
	int line = 1;

	while (*p) {
		if (*p == '\n') {
			line++;
			p++;
		} else if (isspace((unsigned char)*p)) {
			p++;
		} else if (p[0] == '-' && p[1] == '-') {
			while (*p && *p != '\n')
				p++;
		} else if (*p == '.') {
			const char *e = strchr(p, '\n');
			size_t n = e ? (size_t)(e - p) : strlen(p);
			char *cmd = xmalloc(n + 1);

			memcpy(cmd, p, n);
			cmd[n] = '\0';
			meta(db, cmd, line);
			free(cmd);
			p += n;
		} else {
			int start = line;
			const char *e = stmt_end(p, &line);
			char *sql = xmalloc((size_t)(e - p) + 1);

			memcpy(sql, p, (size_t)(e - p));
			sql[e - p] = '\0';
			db_exec_sql(db, sql, start, 0);
			free(sql);
			p = e;
		}
	}
}

int main(int argc, char **argv)
{
	struct db db = { .scale = 1 };
	char *src;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: minidb SCRIPT [SIZE]\n");
		return 2;
	}
	if (argc == 3) {
		char *end;

		errno = 0;
		db.scale = strtol(argv[2], &end, 10);
		if (errno || *end || db.scale < 0) {
			fprintf(stderr, "minidb: SIZE must be a number >= 0, not '%s'\n", argv[2]);
			return 2;
		}
	}
	src = read_file(argv[1]);
	if (!src) {
		fprintf(stderr, "minidb: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	run_script(&db, src);
	free(src);
	db_close(&db);
	fflush(stdout);
	if (getenv("MINIDB_STATS"))
		fprintf(stderr, "minidb: %lu allocations by xmalloc, xcalloc, xrealloc; %lu statements, "
			"%lu rows printed\n", mem_allocations(), db.stmts, db.rows_out);
	return 0;
}
