/* SPDX-License-Identifier: MIT */
/*
 * minidb parser: recursive descent from tokens to statements and expression trees.
 *
 *	CREATE TABLE t (c INT [PRIMARY KEY], c TEXT, c REAL, ...)
 *	CREATE INDEX i ON t (c)
 *	INSERT INTO t [(c, ...)] VALUES (e, ...), ...
 *	SELECT [DISTINCT] e [AS a], ... | * FROM t [a] {[INNER] JOIN t [a] ON e | , t [a]}
 *	       [WHERE e] [GROUP BY e, ...] [HAVING e] [ORDER BY e [ASC|DESC], ...] [LIMIT n]
 *	UPDATE t SET c = e, ... [WHERE e]
 *	DELETE FROM t [WHERE e]
 *
 * Expressions, loosest first: OR; AND; NOT; comparisons, [NOT] LIKE, IS [NOT] NULL,
 * [NOT] BETWEEN, [NOT] IN (...); + - ||; * / %; unary -; literals, columns, calls, (e).
 * Every parse function returns NULL after an error, with the message in the lexer, and frees
 * what it had built.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "minidb.h"

struct parser {
	struct lexer *lx;
	const char *prev_end;	/* end of the last token taken: select items' text */
	int failed;
};

static struct expr *parse_expr(struct parser *ps);

/* ---------------------------------------------------------------- tokens */

static int at(const struct parser *ps, enum tok t)
{
	return ps->lx->cur.t == t;
}

static void advance(struct parser *ps)
{
	ps->prev_end = ps->lx->cur.p + ps->lx->cur.len;
	if (ps->lx->cur.t == T_STRING)
		ps->prev_end++;		/* the closing quote */
	lex_advance(ps->lx);
}

static int accept(struct parser *ps, enum tok t)
{
	if (!at(ps, t))
		return 0;
	advance(ps);
	return 1;
}

static void error_at(struct parser *ps, const char *what)
{
	const struct token *tk = &ps->lx->cur;

	if (ps->failed)
		return;
	ps->failed = 1;
	if (tk->t == T_ERROR)
		return;		/* the lexer said why */
	snprintf(ps->lx->err, sizeof(ps->lx->err), "line %d: expected %s, found %s '%.*s'",
		 tk->line, what, tok_name(tk->t), (int)(tk->len > 20 ? 20 : tk->len), tk->p);
}

static int expect(struct parser *ps, enum tok t, const char *what)
{
	if (accept(ps, t))
		return 1;
	error_at(ps, what);
	return 0;
}

/* A name token as a new string (identifiers are case-sensitive, keywords are not). */
static char *take_ident(struct parser *ps, const char *what)
{
	char *s;

	if (!at(ps, T_IDENT)) {
		error_at(ps, what);
		return NULL;
	}
	s = xmalloc(ps->lx->cur.len + 1);
	memcpy(s, ps->lx->cur.p, ps->lx->cur.len);
	s[ps->lx->cur.len] = '\0';
	advance(ps);
	return s;
}

/* The string token's text without the quotes, '' turned into ', interned. */
static struct str *unquote(const struct token *tk)
{
	char small[256], *buf = tk->len < sizeof(small) ? small : xmalloc(tk->len + 1);
	size_t n = 0;
	struct str *s;

	for (size_t i = 0; i < tk->len; i++) {
		buf[n++] = tk->p[i];
		if (tk->p[i] == '\'')
			i++;
	}
	s = str_intern(buf, n);
	if (buf != small)
		free(buf);
	return s;
}

/* ---------------------------------------------------------------- expressions */

static struct expr *mk(enum ekind kind)
{
	struct expr *e = xcalloc(1, sizeof(*e));

	e->kind = kind;
	e->tab = e->col = e->slot = -1;
	return e;
}

void expr_free(struct expr *e)
{
	if (!e)
		return;
	expr_free(e->a);
	expr_free(e->b);
	expr_free(e->c);
	for (int i = 0; i < e->nargs; i++)
		expr_free(e->args[i]);
	free(e->args);
	free(e->table);
	free(e->name);
	value_release(&e->lit);
	free(e);
}

static struct expr *binary(int op, struct expr *a, struct expr *b)
{
	struct expr *e = mk(E_BIN);

	e->op = op;
	e->a = a;
	e->b = b;
	return e;
}

static const struct {
	const char *name;
	enum ekind kind;
	int op, minargs, maxargs;
} callables[] = {
	{ "COUNT", E_AGG, A_COUNT, 1, 1 },  { "SUM", E_AGG, A_SUM, 1, 1 },
	{ "AVG", E_AGG, A_AVG, 1, 1 },	    { "MIN", E_AGG, A_MIN, 1, 1 },
	{ "MAX", E_AGG, A_MAX, 1, 1 },	    { "LENGTH", E_FUNC, F_LENGTH, 1, 1 },
	{ "UPPER", E_FUNC, F_UPPER, 1, 1 }, { "LOWER", E_FUNC, F_LOWER, 1, 1 },
	{ "SUBSTR", E_FUNC, F_SUBSTR, 2, 3 }, { "ABS", E_FUNC, F_ABS, 1, 1 },
	{ "COALESCE", E_FUNC, F_COALESCE, 1, 8 }, { "ROUND", E_FUNC, F_ROUND, 1, 2 },
};

/* name(args): a function or an aggregate; COUNT(*) counts rows. */
static struct expr *parse_call(struct parser *ps, const struct token *name)
{
	struct expr *e = NULL;
	size_t i, n = sizeof(callables) / sizeof(callables[0]);

	for (i = 0; i < n; i++)
		if (strlen(callables[i].name) == name->len &&
		    strncasecmp(callables[i].name, name->p, name->len) == 0)
			break;
	if (i == n) {
		snprintf(ps->lx->err, sizeof(ps->lx->err), "line %d: no function '%.*s'",
			 name->line, (int)name->len, name->p);
		ps->failed = 1;
		return NULL;
	}
	e = mk(callables[i].kind);
	e->op = callables[i].op;
	advance(ps);	/* ( */
	if (e->kind == E_AGG && e->op == A_COUNT && accept(ps, T_STAR)) {
		e->a = mk(E_STAR);
	} else if (e->kind == E_AGG) {
		e->a = parse_expr(ps);
	} else {
		do {
			struct expr *arg = parse_expr(ps);

			if (!arg)
				break;
			e->args = xrealloc(e->args, sizeof(*e->args) * (size_t)(e->nargs + 1));
			e->args[e->nargs++] = arg;
		} while (accept(ps, T_COMMA));
	}
	if (ps->failed || !expect(ps, T_RPAREN, "')'"))
		goto fail;
	if (e->kind == E_FUNC &&
	    (e->nargs < callables[i].minargs || e->nargs > callables[i].maxargs)) {
		snprintf(ps->lx->err, sizeof(ps->lx->err), "line %d: wrong number of arguments to %s",
			 name->line, callables[i].name);
		ps->failed = 1;
		goto fail;
	}
	return e;
fail:
	expr_free(e);
	return NULL;
}

static struct expr *parse_primary(struct parser *ps)
{
	struct token tk = ps->lx->cur;
	struct expr *e;

	switch (tk.t) {
	case T_INT:
		advance(ps);
		e = mk(E_LIT);
		e->lit = v_int(tk.ival);
		return e;
	case T_REAL:
		advance(ps);
		e = mk(E_LIT);
		e->lit = v_real(tk.rval);
		return e;
	case T_STRING:
		advance(ps);
		e = mk(E_LIT);
		e->lit = v_text(unquote(&tk));
		return e;
	case K_NULL:
		advance(ps);
		return mk(E_LIT);
	case T_LPAREN:
		advance(ps);
		e = parse_expr(ps);
		if (e && !expect(ps, T_RPAREN, "')'")) {
			expr_free(e);
			return NULL;
		}
		return e;
	case T_IDENT:
		if (ps->lx->next.t == T_LPAREN) {
			advance(ps);
			return parse_call(ps, &tk);
		}
		e = mk(E_COL);
		e->name = take_ident(ps, "a column");
		if (accept(ps, T_DOT)) {
			e->table = e->name;
			e->name = take_ident(ps, "a column");
			if (!e->name) {
				expr_free(e);
				return NULL;
			}
		}
		return e;
	default:
		error_at(ps, "an expression");
		return NULL;
	}
}

static struct expr *parse_unary(struct parser *ps)
{
	struct expr *e;

	if (!accept(ps, T_MINUS))
		return parse_primary(ps);
	e = parse_unary(ps);
	if (!e)
		return NULL;
	if (e->kind == E_LIT && e->lit.t == V_INT) {	/* fold -literal */
		e->lit.u.i = -e->lit.u.i;
		return e;
	}
	if (e->kind == E_LIT && e->lit.t == V_REAL) {
		e->lit.u.r = -e->lit.u.r;
		return e;
	}
	struct expr *n = mk(E_NEG);

	n->a = e;
	return n;
}

/* One level of left-associative binary operators: OPS ends with T_EOF. */
static struct expr *parse_level(struct parser *ps, const enum tok *ops,
				struct expr *(*sub)(struct parser *))
{
	struct expr *e = sub(ps);

	while (e) {
		const enum tok *op;
		struct expr *rhs;

		for (op = ops; *op != T_EOF && !at(ps, *op); op++)
			;
		if (*op == T_EOF)
			break;
		advance(ps);
		rhs = sub(ps);
		if (!rhs) {
			expr_free(e);
			return NULL;
		}
		e = binary(*op, e, rhs);
	}
	return e;
}

static struct expr *parse_mul(struct parser *ps)
{
	static const enum tok ops[] = { T_STAR, T_SLASH, T_PERCENT, T_EOF };

	return parse_level(ps, ops, parse_unary);
}

static struct expr *parse_add(struct parser *ps)
{
	static const enum tok ops[] = { T_PLUS, T_MINUS, T_CONCAT, T_EOF };

	return parse_level(ps, ops, parse_mul);
}

/* The postfix predicates after an operand: LIKE, IS NULL, BETWEEN, IN, with NOT before them. */
static struct expr *parse_predicate(struct parser *ps, struct expr *lhs)
{
	struct expr *e = NULL;
	int negate = 0;

	if (at(ps, K_IS)) {
		advance(ps);
		e = mk(E_ISNULL);
		e->a = lhs;
		e->negate = accept(ps, K_NOT);
		if (!expect(ps, K_NULL, "NULL"))
			goto fail;
		return e;
	}
	if (at(ps, K_NOT) && (ps->lx->next.t == K_LIKE || ps->lx->next.t == K_BETWEEN ||
			      ps->lx->next.t == K_IN)) {
		advance(ps);
		negate = 1;
	}
	if (accept(ps, K_LIKE)) {
		e = mk(E_LIKE);
		e->a = lhs;
		if (!(e->b = parse_add(ps)))
			goto fail;
	} else if (accept(ps, K_BETWEEN)) {
		e = mk(E_BETWEEN);
		e->a = lhs;
		if (!(e->b = parse_add(ps)) || !expect(ps, K_AND, "AND") || !(e->c = parse_add(ps)))
			goto fail;
	} else if (accept(ps, K_IN)) {
		e = mk(E_IN);
		e->a = lhs;
		if (!expect(ps, T_LPAREN, "'('"))
			goto fail;
		do {
			struct expr *item = parse_expr(ps);

			if (!item)
				goto fail;
			e->args = xrealloc(e->args, sizeof(*e->args) * (size_t)(e->nargs + 1));
			e->args[e->nargs++] = item;
		} while (accept(ps, T_COMMA));
		if (!expect(ps, T_RPAREN, "')'"))
			goto fail;
	} else {
		return lhs;
	}
	e->negate = negate;
	return e;
fail:
	if (e)
		expr_free(e);
	else
		expr_free(lhs);
	return NULL;
}

static struct expr *parse_cmp(struct parser *ps)
{
	struct expr *e = parse_add(ps), *rhs;
	enum tok op = ps->lx->cur.t;

	if (!e)
		return NULL;
	if (op == T_EQ || op == T_NE || op == T_LT || op == T_LE || op == T_GT || op == T_GE) {
		advance(ps);
		rhs = parse_add(ps);
		if (!rhs) {
			expr_free(e);
			return NULL;
		}
		return binary(op, e, rhs);
	}
	return parse_predicate(ps, e);
}

static struct expr *parse_not(struct parser *ps)
{
	struct expr *e, *n;

	if (!accept(ps, K_NOT))
		return parse_cmp(ps);
	e = parse_not(ps);
	if (!e)
		return NULL;
	n = mk(E_NOT);
	n->a = e;
	return n;
}

static struct expr *parse_and(struct parser *ps)
{
	static const enum tok ops[] = { K_AND, T_EOF };

	return parse_level(ps, ops, parse_not);
}

static struct expr *parse_expr(struct parser *ps)
{
	static const enum tok ops[] = { K_OR, T_EOF };

	return parse_level(ps, ops, parse_and);
}

/* ---------------------------------------------------------------- statements */

static struct stmt *new_stmt(enum skind kind, int line)
{
	struct stmt *s = xcalloc(1, sizeof(*s));

	s->kind = kind;
	s->line = line;
	return s;
}

static void select_free(struct select *q)
{
	if (!q)
		return;
	for (int i = 0; i < q->nitems; i++) {
		expr_free(q->items[i].e);
		free(q->items[i].alias);
	}
	free(q->items);
	for (int i = 0; i < q->nfrom; i++) {
		free(q->from[i].table);
		free(q->from[i].alias);
		expr_free(q->from[i].on);
	}
	free(q->from);
	expr_free(q->where);
	expr_free(q->having);
	for (int i = 0; i < q->ngroup; i++)
		expr_free(q->group[i]);
	free(q->group);
	for (int i = 0; i < q->norder; i++)
		expr_free(q->order[i].e);
	free(q->order);
	free(q);
}

void stmt_free(struct stmt *s)
{
	if (!s)
		return;
	free(s->table);
	free(s->index);
	free(s->column);
	for (int i = 0; i < s->ncols; i++)
		free(s->cols[i].name);
	free(s->cols);
	for (int i = 0; i < s->nnames; i++)
		free(s->names[i]);
	free(s->names);
	for (int r = 0; r < s->nrows; r++) {
		for (int i = 0; i < s->rowlen; i++)
			expr_free(s->rows[r][i]);
		free(s->rows[r]);
	}
	free(s->rows);
	for (int i = 0; s->sets && i < s->nnames; i++)
		expr_free(s->sets[i]);
	free(s->sets);
	expr_free(s->where);
	select_free(s->sel);
	free(s);
}

static int parse_type(struct parser *ps, enum vtype *t)
{
	static const char *const types[] = { "INT", "INTEGER", "TEXT", "REAL" };
	static const enum vtype vt[] = { V_INT, V_INT, V_TEXT, V_REAL };
	const struct token *tk = &ps->lx->cur;

	for (size_t i = 0; tk->t == T_IDENT && i < 4; i++) {
		if (strlen(types[i]) == tk->len && strncasecmp(types[i], tk->p, tk->len) == 0) {
			*t = vt[i];
			advance(ps);
			return 1;
		}
	}
	error_at(ps, "a type (INT, TEXT, REAL)");
	return 0;
}

static int parse_create(struct parser *ps, struct stmt *s)
{
	s->kind = S_CREATE_TABLE;
	if (accept(ps, K_INDEX)) {
		s->kind = S_CREATE_INDEX;
		return (s->index = take_ident(ps, "an index name")) && expect(ps, K_ON, "ON") &&
		       (s->table = take_ident(ps, "a table name")) &&
		       expect(ps, T_LPAREN, "'('") && (s->column = take_ident(ps, "a column")) &&
		       expect(ps, T_RPAREN, "')'");
	}
	if (!expect(ps, K_TABLE, "TABLE or INDEX") || !(s->table = take_ident(ps, "a table name")) ||
	    !expect(ps, T_LPAREN, "'('"))
		return 0;
	do {
		struct col_def *c;

		s->cols = xrealloc(s->cols, sizeof(*s->cols) * (size_t)(s->ncols + 1));
		c = &s->cols[s->ncols];
		memset(c, 0, sizeof(*c));
		if (!(c->name = take_ident(ps, "a column name")))
			return 0;
		s->ncols++;
		if (!parse_type(ps, &c->type))
			return 0;
		if (accept(ps, K_PRIMARY)) {
			if (!expect(ps, K_KEY, "KEY"))
				return 0;
			c->primary = 1;
		}
	} while (accept(ps, T_COMMA));
	return expect(ps, T_RPAREN, "')'");
}

static int parse_names(struct parser *ps, struct stmt *s)
{
	do {
		char *n = take_ident(ps, "a column");

		if (!n)
			return 0;
		s->names = xrealloc(s->names, sizeof(*s->names) * (size_t)(s->nnames + 1));
		s->names[s->nnames++] = n;
	} while (accept(ps, T_COMMA));
	return 1;
}

static int parse_insert(struct parser *ps, struct stmt *s)
{
	int cap = 0;

	if (!expect(ps, K_INTO, "INTO") || !(s->table = take_ident(ps, "a table name")))
		return 0;
	if (accept(ps, T_LPAREN) && (!parse_names(ps, s) || !expect(ps, T_RPAREN, "')'")))
		return 0;
	if (!expect(ps, K_VALUES, "VALUES"))
		return 0;
	do {
		struct expr **row = NULL;
		int n = 0;

		if (!expect(ps, T_LPAREN, "'('"))
			return 0;
		do {
			struct expr *e = parse_expr(ps);

			if (!e)
				break;
			row = xrealloc(row, sizeof(*row) * (size_t)(n + 1));
			row[n++] = e;
		} while (accept(ps, T_COMMA));
		if (!ps->failed && s->nrows && n != s->rowlen) {
			snprintf(ps->lx->err, sizeof(ps->lx->err),
				 "line %d: VALUES rows of %d and %d values", ps->lx->cur.line,
				 s->rowlen, n);
			ps->failed = 1;
		}
		if (ps->failed || !expect(ps, T_RPAREN, "')'")) {
			for (int i = 0; i < n; i++)
				expr_free(row[i]);
			free(row);
			return 0;
		}
		if (s->nrows == cap) {
			cap = cap ? cap * 2 : 8;
			s->rows = xrealloc(s->rows, sizeof(*s->rows) * (size_t)cap);
		}
		s->rowlen = n;
		s->rows[s->nrows++] = row;
	} while (accept(ps, T_COMMA));
	return 1;
}

static int parse_update(struct parser *ps, struct stmt *s)
{
	if (!(s->table = take_ident(ps, "a table name")) || !expect(ps, K_SET, "SET"))
		return 0;
	do {
		char *n = take_ident(ps, "a column");
		struct expr *e;

		if (!n)
			return 0;
		s->names = xrealloc(s->names, sizeof(*s->names) * (size_t)(s->nnames + 1));
		s->sets = xrealloc(s->sets, sizeof(*s->sets) * (size_t)(s->nnames + 1));
		s->names[s->nnames] = n;
		s->sets[s->nnames++] = NULL;
		if (!expect(ps, T_EQ, "'='") || !(e = parse_expr(ps)))
			return 0;
		s->sets[s->nnames - 1] = e;
	} while (accept(ps, T_COMMA));
	if (accept(ps, K_WHERE) && !(s->where = parse_expr(ps)))
		return 0;
	return 1;
}

static int parse_delete(struct parser *ps, struct stmt *s)
{
	if (!expect(ps, K_FROM, "FROM") || !(s->table = take_ident(ps, "a table name")))
		return 0;
	if (accept(ps, K_WHERE) && !(s->where = parse_expr(ps)))
		return 0;
	return 1;
}

/* The select list: each item keeps its alias, or its own text as the column's name. */
static int parse_select_items(struct parser *ps, struct select *q)
{
	do {
		struct sel_item *it;
		const char *start = ps->lx->cur.p;

		q->items = xrealloc(q->items, sizeof(*q->items) * (size_t)(q->nitems + 1));
		it = &q->items[q->nitems++];
		memset(it, 0, sizeof(*it));
		if (accept(ps, T_STAR)) {
			it->alias = xstrdup("*");
			continue;
		}
		if (!(it->e = parse_expr(ps)))
			return 0;
		if (accept(ps, K_AS)) {
			if (!(it->alias = take_ident(ps, "a name")))
				return 0;
		} else if (at(ps, T_IDENT)) {
			it->alias = take_ident(ps, "a name");
		} else {
			size_t n = (size_t)(ps->prev_end - start);

			it->alias = xmalloc(n + 1);
			memcpy(it->alias, start, n);
			it->alias[n] = '\0';
		}
	} while (accept(ps, T_COMMA));
	return 1;
}

static int parse_from(struct parser *ps, struct select *q)
{
	do {
		struct from_item *f;

		q->from = xrealloc(q->from, sizeof(*q->from) * (size_t)(q->nfrom + 1));
		f = &q->from[q->nfrom++];
		memset(f, 0, sizeof(*f));
		if (!(f->table = take_ident(ps, "a table name")))
			return 0;
		accept(ps, K_AS);
		f->alias = at(ps, T_IDENT) ? take_ident(ps, "an alias") : xstrdup(f->table);
		if (q->nfrom > 1 && ps->lx->cur.t == K_ON) {
			advance(ps);
			if (!(f->on = parse_expr(ps)))
				return 0;
		}
		if (accept(ps, K_INNER) && !at(ps, K_JOIN)) {
			error_at(ps, "JOIN");
			return 0;
		}
	} while (accept(ps, T_COMMA) || accept(ps, K_JOIN));
	return 1;
}

static int parse_expr_list(struct parser *ps, struct expr ***list, int *n)
{
	do {
		struct expr *e = parse_expr(ps);

		if (!e)
			return 0;
		*list = xrealloc(*list, sizeof(**list) * (size_t)(*n + 1));
		(*list)[(*n)++] = e;
	} while (accept(ps, T_COMMA));
	return 1;
}

static int parse_select(struct parser *ps, struct stmt *s)
{
	struct select *q = s->sel = xcalloc(1, sizeof(*q));

	q->limit = -1;
	q->distinct = accept(ps, K_DISTINCT);
	if (!parse_select_items(ps, q) || !expect(ps, K_FROM, "FROM") || !parse_from(ps, q))
		return 0;
	if (accept(ps, K_WHERE) && !(q->where = parse_expr(ps)))
		return 0;
	if (accept(ps, K_GROUP) &&
	    (!expect(ps, K_BY, "BY") || !parse_expr_list(ps, &q->group, &q->ngroup)))
		return 0;
	if (accept(ps, K_HAVING) && !(q->having = parse_expr(ps)))
		return 0;
	if (accept(ps, K_ORDER)) {
		if (!expect(ps, K_BY, "BY"))
			return 0;
		do {
			struct expr *e = parse_expr(ps);

			if (!e)
				return 0;
			q->order = xrealloc(q->order, sizeof(*q->order) * (size_t)(q->norder + 1));
			q->order[q->norder].e = e;
			q->order[q->norder].desc = accept(ps, K_DESC);
			if (!q->order[q->norder].desc)
				accept(ps, K_ASC);
			q->norder++;
		} while (accept(ps, T_COMMA));
	}
	if (accept(ps, K_LIMIT)) {
		if (!at(ps, T_INT)) {
			error_at(ps, "a number");
			return 0;
		}
		q->limit = (long)ps->lx->cur.ival;
		advance(ps);
	}
	return 1;
}

/* After an error: skip to just past the next ';' so the next statement can be parsed. */
static void recover(struct lexer *lx)
{
	while (lx->cur.t != T_EOF && lx->cur.t != T_SEMI) {
		if (lx->cur.t == T_ERROR && *lx->pos == '\0')
			break;
		lex_advance(lx);
	}
	if (lx->cur.t == T_SEMI)
		lex_advance(lx);
}

struct stmt *parse_statement(struct lexer *lx, int *eof)
{
	struct parser ps = { .lx = lx, .prev_end = lx->cur.p };
	struct stmt *s;
	int ok;

	*eof = 0;
	while (lx->cur.t == T_SEMI)
		lex_advance(lx);
	if (lx->cur.t == T_EOF) {
		*eof = 1;
		return NULL;
	}
	s = new_stmt(S_SELECT, lx->cur.line);
	switch (lx->cur.t) {
	case K_CREATE:
		advance(&ps);
		ok = parse_create(&ps, s);
		break;
	case K_INSERT:
		advance(&ps);
		s->kind = S_INSERT;
		ok = parse_insert(&ps, s);
		break;
	case K_SELECT:
		advance(&ps);
		ok = parse_select(&ps, s);
		break;
	case K_UPDATE:
		advance(&ps);
		s->kind = S_UPDATE;
		ok = parse_update(&ps, s);
		break;
	case K_DELETE:
		advance(&ps);
		s->kind = S_DELETE;
		ok = parse_delete(&ps, s);
		break;
	default:
		error_at(&ps, "a statement");
		ok = 0;
		break;
	}
	if (ok && !at(&ps, T_EOF) && !expect(&ps, T_SEMI, "';'"))
		ok = 0;
	if (!ok) {
		if (!ps.failed)
			error_at(&ps, "a valid statement");
		stmt_free(s);
		recover(lx);
		return NULL;
	}
	return s;
}
