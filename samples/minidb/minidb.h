/* SPDX-License-Identifier: MIT */
/*
 * minidb - a small in-memory SQL database, the second realistic sample (after interp.c): a
 * lexer, a recursive-descent parser, a planner that picks index lookups and join methods, row
 * storage with interned strings, B+tree and hash indexes, an expression evaluator, hash
 * aggregation, sorting and a result printer. Scripts and the workload generator live in
 * samples/minidb/; docs/accuracy.md says how the benchmark uses it.
 *
 *	minidb SCRIPT [SIZE]	run SCRIPT; ".gen TABLE N" makes N * SIZE rows (SIZE default 1)
 *
 * Everything is freed before exit: a memory profiler must find no leak. Two inefficiencies are
 * deliberate, the kind a profiler should point at: ORDER BY evaluates its key expressions again
 * in every comparison (sort_cmp), and the hash join's table has a fixed number of buckets
 * (HJ_BUCKETS), so its chains grow with the inner table.
 */
#ifndef MINIDB_H
#define MINIDB_H

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- memory and strings */

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *old, size_t n);
char *xstrdup(const char *s);
unsigned long mem_allocations(void);	/* calls of the three x*alloc functions */

/* A string: interned (owned by the pool, lives until db_close) or temporary (owned by the one
 * value that holds it). Rows and indexes only ever hold interned strings. */
struct str {
	uint32_t len;
	uint32_t hash;		/* FNV-1a of the bytes */
	uint8_t interned;
	char s[];		/* len bytes and a NUL */
};

uint32_t str_hash_bytes(const char *s, size_t len);
struct str *str_temp(const char *s, size_t len);	/* a new temporary string */
struct str *str_intern(const char *s, size_t len);	/* the pool's copy */
void str_pool_free(void);
size_t str_pool_count(void);

/* A growable byte buffer (SQL text, printed cells). */
struct sbuf {
	char *p;
	size_t len, cap;
};
void sb_putc(struct sbuf *b, char c);
void sb_puts(struct sbuf *b, const char *s);
void sb_putn(struct sbuf *b, const char *s, size_t n);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_free(struct sbuf *b);

/* ---------------------------------------------------------------- values */

enum vtype { V_NULL, V_INT, V_REAL, V_TEXT };

struct value {
	enum vtype t;
	union {
		int64_t i;
		double r;
		struct str *s;
	} u;
};

struct value v_null(void);
struct value v_int(int64_t i);
struct value v_real(double r);
struct value v_text(struct str *s);
void value_release(struct value *v);		/* frees a temporary string */
struct value value_interned(struct value v);	/* the same value, its string in the pool */
struct value value_dup(struct value v);		/* an owned copy (temporary strings copied) */
int value_cmp(struct value a, struct value b);	/* NULL first, numbers before text */
int value_eq(struct value a, struct value b);
uint32_t value_hash(struct value v);
int value_truthy(struct value v);
double value_num(struct value v);
void value_format(struct sbuf *b, struct value v);
struct value value_coerce(struct value v, enum vtype to);

/* ---------------------------------------------------------------- lexer */

enum tok {
	T_EOF, T_ERROR, T_IDENT, T_INT, T_REAL, T_STRING,
	T_LPAREN, T_RPAREN, T_COMMA, T_SEMI, T_DOT, T_STAR, T_PLUS, T_MINUS, T_SLASH, T_PERCENT,
	T_CONCAT, T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE,
	/* keywords */
	K_AND, K_AS, K_ASC, K_BETWEEN, K_BY, K_CREATE, K_DELETE, K_DESC, K_DISTINCT, K_FROM,
	K_GROUP, K_HAVING, K_IN, K_INDEX, K_INNER, K_INSERT, K_INTO, K_IS, K_JOIN, K_KEY, K_LIKE,
	K_LIMIT, K_NOT, K_NULL, K_ON, K_OR, K_ORDER, K_PRIMARY, K_SELECT, K_SET, K_TABLE,
	K_UPDATE, K_VALUES, K_WHERE,
	T_COUNT
};

struct token {
	enum tok t;
	const char *p;		/* in the source text */
	size_t len;
	int line;
	int64_t ival;
	double rval;
};

struct lexer {
	const char *src, *pos;
	int line;
	struct token cur, next;	/* one token of look-ahead */
	char err[128];
};

void lex_init(struct lexer *lx, const char *src, int line);
void lex_advance(struct lexer *lx);
const char *tok_name(enum tok t);

/* ---------------------------------------------------------------- syntax tree */

enum ekind {
	E_LIT, E_COL, E_NEG, E_NOT, E_BIN, E_FUNC, E_AGG, E_LIKE, E_ISNULL, E_BETWEEN, E_IN,
	E_STAR
};
enum func { F_LENGTH, F_UPPER, F_LOWER, F_SUBSTR, F_ABS, F_COALESCE, F_ROUND };
enum agg { A_COUNT, A_SUM, A_AVG, A_MIN, A_MAX };

struct expr {
	enum ekind kind;
	int op;			/* E_BIN: enum tok; E_FUNC: enum func; E_AGG: enum agg */
	int negate;		/* NOT LIKE, IS NOT NULL, NOT BETWEEN, NOT IN */
	struct value lit;	/* E_LIT (owned) */
	char *table, *name;	/* E_COL as written */
	int tab, col;		/* E_COL resolved: FROM item and column */
	int slot;		/* E_AGG: accumulator index */
	struct expr *a, *b, *c;
	struct expr **args;	/* E_FUNC, E_IN */
	int nargs;
};

struct sel_item {
	struct expr *e;		/* NULL for '*' */
	char *alias;		/* AS name, or the expression's text */
};

struct from_item {
	char *table, *alias;
	struct expr *on;	/* JOIN ... ON, NULL for the first table */
};

struct order_item {
	struct expr *e;
	int desc;
};

struct select {
	int distinct;
	struct sel_item *items;
	int nitems;
	struct from_item *from;
	int nfrom;
	struct expr *where, *having;
	struct expr **group;
	int ngroup;
	struct order_item *order;
	int norder;
	long limit;		/* -1: none */
};

struct col_def {
	char *name;
	enum vtype type;
	int primary;
};

enum skind { S_CREATE_TABLE, S_CREATE_INDEX, S_INSERT, S_SELECT, S_UPDATE, S_DELETE };

struct stmt {
	enum skind kind;
	int line;
	char *table, *index, *column;	/* names the statement acts on */
	struct col_def *cols;		/* CREATE TABLE */
	int ncols;
	char **names;			/* INSERT column list / UPDATE SET columns */
	int nnames;
	struct expr ***rows;		/* INSERT VALUES: rows of nnames (or all) expressions */
	int nrows, rowlen;
	struct expr **sets;		/* UPDATE SET values */
	struct expr *where;		/* UPDATE, DELETE */
	struct select *sel;
};

/* Parses one statement from the lexer; NULL and a message in lx->err on a syntax error (the
 * lexer then stands after the next ';'). *eof is set when only the end of input was left. */
struct stmt *parse_statement(struct lexer *lx, int *eof);
void stmt_free(struct stmt *s);
void expr_free(struct expr *e);

/* ---------------------------------------------------------------- storage */

struct row {
	uint32_t slot;		/* index in table->rows */
	struct value v[];	/* one per column; strings interned */
};

struct btree;
struct hindex;

struct index {
	char *name;
	int col;
	struct btree *bt;
};

struct table {
	char *name;
	struct col_def *cols;
	int ncols;
	int pk;			/* primary key column, -1 */
	struct hindex *pkidx;
	struct row **rows;	/* NULL where deleted */
	uint32_t nslots, cap, nlive;
	struct index *idx;
	int nidx;
};

struct db {
	struct table **tables;
	int ntables;
	long scale;		/* SIZE: the generator's multiplier */
	unsigned long stmts, rows_out;	/* statements run, rows printed */
};

struct table *db_table(struct db *db, const char *name);
int table_create(struct db *db, struct stmt *s, char *err, size_t errlen);
int index_create(struct db *db, struct stmt *s, char *err, size_t errlen);
int table_insert(struct table *t, struct value *vals, char *err, size_t errlen);
int table_update(struct table *t, struct row *r, int col, struct value v, char *err,
		 size_t errlen);
void table_delete(struct table *t, struct row *r);
int table_index_on(const struct table *t, int col);	/* index number, -1 */
struct row *table_pk_lookup(const struct table *t, struct value key);
void db_close(struct db *db);

/* B+tree index: (key, slot) pairs in order; keys are borrowed from the rows. */
struct bt_cursor {
	const struct btree *t;
	void *leaf;
	int i;
};
struct btree *bt_new(void);
void bt_free(struct btree *t);
void bt_insert(struct btree *t, struct value key, uint32_t slot);
int bt_remove(struct btree *t, struct value key, uint32_t slot);
void bt_seek(const struct btree *t, struct value key, struct bt_cursor *c); /* first >= key */
void bt_first(const struct btree *t, struct bt_cursor *c);
int bt_valid(struct bt_cursor *c);
struct value bt_key(const struct bt_cursor *c);
uint32_t bt_slot(const struct bt_cursor *c);
void bt_next(struct bt_cursor *c);
size_t bt_count(const struct btree *t);

/* Hash index of a unique key: value -> slot. */
struct hindex *hx_new(void);
void hx_free(struct hindex *h);
int hx_put(struct hindex *h, struct value key, uint32_t slot);	/* -1 if present */
int hx_get(const struct hindex *h, struct value key, uint32_t *slot);
void hx_del(struct hindex *h, struct value key);

/* ---------------------------------------------------------------- expressions */

struct group;

/* What an expression is evaluated against: one row per FROM item, and in an aggregate query
 * the current group's finished aggregates. */
struct evalctx {
	struct row **rows;
	const struct value *aggs;
};

/* Binding: resolves column names against the FROM items (tables[i] under alias[i]) and
 * numbers the aggregates. Returns 0, or -1 with a message. */
struct binder {
	struct table **tables;
	char **alias;
	int ntables;
	struct expr **aggs;	/* the aggregate nodes found, in slot order */
	int naggs, aggcap;
	int allow_aggs;
	char err[128];
};
int expr_bind(struct binder *bd, struct expr *e);
uint32_t expr_tables(const struct expr *e);	/* bit i: uses FROM item i */
int expr_has_agg(const struct expr *e);
struct value expr_eval(const struct expr *e, const struct evalctx *cx);
int expr_true(const struct expr *e, const struct evalctx *cx);
int like_match(const char *s, size_t slen, const char *p, size_t plen);
void expr_text(struct sbuf *b, const struct expr *e);

/* ---------------------------------------------------------------- planning and execution */

enum access { ACC_SCAN, ACC_PK, ACC_RANGE };
enum join_method { J_NESTED, J_PK_LOOKUP, J_HASH, J_MERGE };

struct range {
	struct value lo, hi;	/* V_NULL: open */
	int lo_incl, hi_incl;
};

struct scan_plan {
	enum access acc;
	int index;		/* ACC_RANGE: which index */
	struct value key;	/* ACC_PK */
	struct range r;		/* ACC_RANGE */
	struct expr **filter;	/* conjuncts on this table alone */
	int nfilter;
};

struct join_plan {
	enum join_method m;
	int outer_tab, outer_col;	/* the equi-join column of an earlier FROM item */
	int inner_col;			/* ... and of this one */
	struct expr **post;		/* conditions checked once this item is joined */
	int npost;
};

struct plan {
	struct select *sel;
	struct table **tables;
	int ntables;
	struct scan_plan *scans;	/* one per FROM item */
	struct join_plan *joins;	/* joins[i] brings in FROM item i (i >= 1) */
	const struct expr **group_keys;	/* GROUP BY, output names resolved */
	const struct expr **order_keys;	/* ORDER BY, aliases and ordinals resolved */
	struct binder bd;
	int aggregate;			/* GROUP BY or aggregates */
};

int plan_select(struct db *db, struct select *sel, struct plan *p, char *err, size_t errlen);
void plan_free(struct plan *p);
void plan_explain(const struct plan *p, struct sbuf *b);
void split_conjuncts(struct expr *e, struct expr ***out, int *n);
void choose_access(const struct table *t, int tab, struct scan_plan *sp);

/* Result of a query: column names and rows of values (owned). */
struct result {
	char **names;
	int ncols;
	struct value **rows;
	size_t nrows, cap;
};

int exec_select(struct db *db, struct plan *p, struct result *res);
int exec_update(struct db *db, struct stmt *s, long *changed, char *err, size_t errlen);
int exec_delete(struct db *db, struct stmt *s, long *changed, char *err, size_t errlen);
void result_free(struct result *res);
void result_print(const struct result *res);

/* Collects the rows of one table that pass a scan plan (slot order, or index order). */
struct row **scan_rows(struct table *t, const struct scan_plan *sp, int tab, struct row **ctx,
		       size_t *n);

/* ---------------------------------------------------------------- driver */

int db_exec_sql(struct db *db, const char *sql, int line, int quiet);
int gen_table(struct db *db, const char *table, long rows);

#endif
