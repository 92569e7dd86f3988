/* SPDX-License-Identifier: MIT */
/*
 * minidb expressions: binding names to FROM items and columns, and evaluating a bound tree
 * against one row per FROM item (and a group's aggregates). expr_eval returns a value the
 * caller releases; columns and literals hold interned strings, so only computed text
 * (||, UPPER, SUBSTR, ...) is a real allocation.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minidb.h"

/* ---------------------------------------------------------------- binding */

static int bind_column(struct binder *bd, struct expr *e)
{
	int found = 0;

	for (int t = 0; t < bd->ntables; t++) {
		const struct table *tb = bd->tables[t];

		if (e->table && strcmp(e->table, bd->alias[t]) != 0)
			continue;
		for (int c = 0; c < tb->ncols; c++) {
			if (strcmp(tb->cols[c].name, e->name) != 0)
				continue;
			if (found++) {
				snprintf(bd->err, sizeof(bd->err), "column %s is ambiguous", e->name);
				return -1;
			}
			e->tab = t;
			e->col = c;
		}
	}
	if (!found) {
		snprintf(bd->err, sizeof(bd->err), "no column %s%s%s", e->table ? e->table : "",
			 e->table ? "." : "", e->name);
		return -1;
	}
	return 0;
}

int expr_bind(struct binder *bd, struct expr *e)
{
	if (!e)
		return 0;
	switch (e->kind) {
	case E_COL:
		return bind_column(bd, e);
	case E_AGG: {
		int allow = bd->allow_aggs, rc;

		if (!allow) {
			snprintf(bd->err, sizeof(bd->err), "aggregate not allowed here");
			return -1;
		}
		bd->allow_aggs = 0;	/* no aggregate inside an aggregate */
		rc = expr_bind(bd, e->a);
		bd->allow_aggs = allow;
		if (rc)
			return rc;
		if (bd->naggs == bd->aggcap) {
			bd->aggcap = bd->aggcap ? bd->aggcap * 2 : 8;
			bd->aggs = xrealloc(bd->aggs, sizeof(*bd->aggs) * (size_t)bd->aggcap);
		}
		e->slot = bd->naggs;
		bd->aggs[bd->naggs++] = e;
		return 0;
	}
	default:
		break;
	}
	if (expr_bind(bd, e->a) || expr_bind(bd, e->b) || expr_bind(bd, e->c))
		return -1;
	for (int i = 0; i < e->nargs; i++)
		if (expr_bind(bd, e->args[i]))
			return -1;
	return 0;
}

uint32_t expr_tables(const struct expr *e)
{
	uint32_t m = 0;

	if (!e)
		return 0;
	if (e->kind == E_COL)
		return 1u << e->tab;
	m = expr_tables(e->a) | expr_tables(e->b) | expr_tables(e->c);
	for (int i = 0; i < e->nargs; i++)
		m |= expr_tables(e->args[i]);
	return m;
}

int expr_has_agg(const struct expr *e)
{
	if (!e)
		return 0;
	if (e->kind == E_AGG)
		return 1;
	if (expr_has_agg(e->a) || expr_has_agg(e->b) || expr_has_agg(e->c))
		return 1;
	for (int i = 0; i < e->nargs; i++)
		if (expr_has_agg(e->args[i]))
			return 1;
	return 0;
}

/* ---------------------------------------------------------------- LIKE */

/* SQL LIKE, ASCII case-insensitive: '%' matches any run, '_' one character. Backtracks at
 * each '%' (recursion depth = the number of '%' in the pattern). */
int like_match(const char *s, size_t slen, const char *p, size_t plen)
{
	while (plen) {
		if (*p == '%') {
			while (plen && *p == '%')
				p++, plen--;
			if (!plen)
				return 1;
			for (size_t k = 0; k <= slen; k++)
				if (like_match(s + k, slen - k, p, plen))
					return 1;
			return 0;
		}
		if (!slen)
			return 0;
		if (*p != '_' && tolower((unsigned char)*p) != tolower((unsigned char)*s))
			return 0;
		s++, slen--;
		p++, plen--;
	}
	return slen == 0;
}

/* ---------------------------------------------------------------- evaluation */

static struct value as_text(struct value v)
{
	return v.t == V_TEXT ? v : value_coerce(v, V_TEXT);
}

static struct value arith(int op, struct value a, struct value b)
{
	if (a.t == V_NULL || b.t == V_NULL)
		return v_null();
	if (a.t == V_INT && b.t == V_INT) {
		int64_t x = a.u.i, y = b.u.i;

		switch (op) {
		case T_PLUS: return v_int(x + y);
		case T_MINUS: return v_int(x - y);
		case T_STAR: return v_int(x * y);
		case T_SLASH: return y ? v_int(x / y) : v_null();
		default: return y ? v_int(x % y) : v_null();
		}
	}
	double x = value_num(a), y = value_num(b);

	switch (op) {
	case T_PLUS: return v_real(x + y);
	case T_MINUS: return v_real(x - y);
	case T_STAR: return v_real(x * y);
	case T_SLASH: return y != 0.0 ? v_real(x / y) : v_null();
	default: return y != 0.0 ? v_real(fmod(x, y)) : v_null();
	}
}

static struct value concat(struct value a, struct value b)
{
	struct value ta, tb, out;
	struct str *s;

	if (a.t == V_NULL || b.t == V_NULL)
		return v_null();
	ta = as_text(value_dup(a));
	tb = as_text(value_dup(b));
	s = xmalloc(sizeof(*s) + ta.u.s->len + tb.u.s->len + 1);
	s->len = ta.u.s->len + tb.u.s->len;
	s->interned = 0;
	memcpy(s->s, ta.u.s->s, ta.u.s->len);
	memcpy(s->s + ta.u.s->len, tb.u.s->s, tb.u.s->len + 1);
	s->hash = str_hash_bytes(s->s, s->len);
	out = v_text(s);
	value_release(&ta);
	value_release(&tb);
	return out;
}

/* AND and OR with SQL's three values (NULL is unknown), evaluating the right side only when
 * the left does not decide. */
static struct value logic(const struct expr *e, const struct evalctx *cx)
{
	struct value a = expr_eval(e->a, cx), b;
	int an = a.t == V_NULL, at = !an && value_truthy(a), bn, bt;

	value_release(&a);
	if (e->op == K_AND && !an && !at)
		return v_int(0);
	if (e->op == K_OR && at)
		return v_int(1);
	b = expr_eval(e->b, cx);
	bn = b.t == V_NULL;
	bt = !bn && value_truthy(b);
	value_release(&b);
	if (e->op == K_AND) {
		if (!bn && !bt)
			return v_int(0);
		return an || bn ? v_null() : v_int(1);
	}
	if (bt)
		return v_int(1);
	return an || bn ? v_null() : v_int(0);
}

static struct value eval_binary(const struct expr *e, const struct evalctx *cx)
{
	struct value a, b, r;
	int c;

	if (e->op == K_AND || e->op == K_OR)
		return logic(e, cx);
	a = expr_eval(e->a, cx);
	b = expr_eval(e->b, cx);
	switch (e->op) {
	case T_CONCAT:
		r = concat(a, b);
		break;
	case T_EQ: case T_NE: case T_LT: case T_LE: case T_GT: case T_GE:
		if (a.t == V_NULL || b.t == V_NULL) {
			r = v_null();
			break;
		}
		c = e->op == T_EQ || e->op == T_NE ? !value_eq(a, b) : value_cmp(a, b);
		r = v_int(e->op == T_EQ ? c == 0 : e->op == T_NE ? c != 0 : e->op == T_LT ? c < 0 :
			  e->op == T_LE ? c <= 0 : e->op == T_GT ? c > 0 : c >= 0);
		break;
	default:
		r = arith(e->op, a, b);
		break;
	}
	value_release(&a);
	value_release(&b);
	return r;
}

static struct value text_case(struct value v, int upper)
{
	struct value t = as_text(value_dup(v));
	struct str *s = str_temp(t.u.s->s, t.u.s->len);

	for (uint32_t i = 0; i < s->len; i++)
		s->s[i] = (char)(upper ? toupper((unsigned char)s->s[i]) :
					 tolower((unsigned char)s->s[i]));
	s->hash = str_hash_bytes(s->s, s->len);
	value_release(&t);
	return v_text(s);
}

static struct value substr(struct value v, struct value from, const struct value *len)
{
	struct value t = as_text(value_dup(v)), out;
	int64_t n, start = (int64_t)value_num(from) - 1;	/* SQL counts from 1 */

	if (start < 0)
		start = 0;
	if (start > t.u.s->len)
		start = t.u.s->len;
	n = len ? (int64_t)value_num(*len) : (int64_t)t.u.s->len;
	if (n < 0)
		n = 0;
	if (start + n > t.u.s->len)
		n = t.u.s->len - start;
	out = v_text(str_temp(t.u.s->s + start, (size_t)n));
	value_release(&t);
	return out;
}

static struct value eval_func(const struct expr *e, const struct evalctx *cx)
{
	struct value a[3] = { v_null(), v_null(), v_null() }, r = v_null();
	int n = e->op == F_COALESCE ? 0 : e->nargs;

	for (int i = 0; i < n; i++)
		a[i] = expr_eval(e->args[i], cx);
	if (e->op != F_COALESCE && a[0].t == V_NULL)
		goto out;
	switch (e->op) {
	case F_LENGTH: {
		struct value t = as_text(value_dup(a[0]));

		r = v_int(t.u.s->len);
		value_release(&t);
		break;
	}
	case F_UPPER:
	case F_LOWER:
		r = text_case(a[0], e->op == F_UPPER);
		break;
	case F_SUBSTR:
		r = substr(a[0], a[1], n > 2 ? &a[2] : NULL);
		break;
	case F_ABS:
		r = a[0].t == V_INT ? v_int(a[0].u.i < 0 ? -a[0].u.i : a[0].u.i)
				    : v_real(fabs(value_num(a[0])));
		break;
	case F_ROUND: {
		double scale = pow(10.0, n > 1 ? value_num(a[1]) : 0.0);

		r = v_real(round(value_num(a[0]) * scale) / scale);
		break;
	}
	case F_COALESCE:
		for (int i = 0; i < e->nargs; i++) {
			r = expr_eval(e->args[i], cx);
			if (r.t != V_NULL)
				break;
		}
		break;
	}
out:
	for (int i = 0; i < n; i++)
		value_release(&a[i]);
	return r;
}

static struct value eval_like(const struct expr *e, const struct evalctx *cx)
{
	struct value s = expr_eval(e->a, cx), p = expr_eval(e->b, cx), r = v_null();

	if (s.t != V_NULL && p.t != V_NULL) {
		s = as_text(s);
		p = as_text(p);
		r = v_int(like_match(s.u.s->s, s.u.s->len, p.u.s->s, p.u.s->len) != e->negate);
	}
	value_release(&s);
	value_release(&p);
	return r;
}

static struct value eval_in(const struct expr *e, const struct evalctx *cx)
{
	struct value v = expr_eval(e->a, cx), r = v_int(e->negate);
	int saw_null = 0;

	if (v.t == V_NULL)
		return v_null();
	for (int i = 0; i < e->nargs; i++) {
		struct value x = expr_eval(e->args[i], cx);
		int eq = x.t != V_NULL && value_eq(v, x);

		saw_null |= x.t == V_NULL;
		value_release(&x);
		if (eq) {
			r = v_int(!e->negate);
			break;
		}
	}
	if (r.u.i == e->negate && saw_null)
		r = v_null();
	value_release(&v);
	return r;
}

struct value expr_eval(const struct expr *e, const struct evalctx *cx)
{
	struct value a, b, c, r;

	switch (e->kind) {
	case E_LIT:
		return e->lit;	/* numbers, or an interned string: nothing to copy */
	case E_COL:	/* no row: an aggregate over no rows shows NULL for columns */
		return cx->rows[e->tab] ? cx->rows[e->tab]->v[e->col] : v_null();
	case E_AGG:
		return value_dup(cx->aggs[e->slot]);
	case E_NEG:
		a = expr_eval(e->a, cx);
		r = a.t == V_INT ? v_int(-a.u.i) : a.t == V_NULL ? v_null() : v_real(-value_num(a));
		value_release(&a);
		return r;
	case E_NOT:
		a = expr_eval(e->a, cx);
		r = a.t == V_NULL ? v_null() : v_int(!value_truthy(a));
		value_release(&a);
		return r;
	case E_BIN:
		return eval_binary(e, cx);
	case E_FUNC:
		return eval_func(e, cx);
	case E_LIKE:
		return eval_like(e, cx);
	case E_ISNULL:
		a = expr_eval(e->a, cx);
		r = v_int((a.t == V_NULL) != e->negate);
		value_release(&a);
		return r;
	case E_BETWEEN:
		a = expr_eval(e->a, cx);
		b = expr_eval(e->b, cx);
		c = expr_eval(e->c, cx);
		if (a.t == V_NULL || b.t == V_NULL || c.t == V_NULL)
			r = v_null();
		else
			r = v_int((value_cmp(a, b) >= 0 && value_cmp(a, c) <= 0) != e->negate);
		value_release(&a);
		value_release(&b);
		value_release(&c);
		return r;
	case E_IN:
		return eval_in(e, cx);
	case E_STAR:
		return v_int(1);
	}
	return v_null();
}

int expr_true(const struct expr *e, const struct evalctx *cx)
{
	struct value v = expr_eval(e, cx);
	int t = v.t != V_NULL && value_truthy(v);

	value_release(&v);
	return t;
}

/* ---------------------------------------------------------------- text (plans) */

static const char *op_text(int op)
{
	switch (op) {
	case T_PLUS: return "+";
	case T_MINUS: return "-";
	case T_STAR: return "*";
	case T_SLASH: return "/";
	case T_PERCENT: return "%";
	case T_CONCAT: return "||";
	case T_EQ: return "=";
	case T_NE: return "<>";
	case T_LT: return "<";
	case T_LE: return "<=";
	case T_GT: return ">";
	case T_GE: return ">=";
	case K_AND: return "AND";
	default: return "OR";
	}
}

/* The expression in SQL, fully parenthesised where operators nest. */
void expr_text(struct sbuf *b, const struct expr *e)
{
	static const char *const fn[] = { "LENGTH", "UPPER", "LOWER", "SUBSTR", "ABS",
					  "COALESCE", "ROUND" };
	static const char *const ag[] = { "COUNT", "SUM", "AVG", "MIN", "MAX" };

	switch (e->kind) {
	case E_LIT:
		if (e->lit.t == V_TEXT)
			sb_printf(b, "'%s'", e->lit.u.s->s);
		else
			value_format(b, e->lit);
		return;
	case E_COL:
		sb_printf(b, "%s%s%s", e->table ? e->table : "", e->table ? "." : "", e->name);
		return;
	case E_STAR:
		sb_putc(b, '*');
		return;
	case E_NEG:
	case E_NOT:
		sb_puts(b, e->kind == E_NEG ? "-" : "NOT ");
		expr_text(b, e->a);
		return;
	case E_BIN:
		sb_putc(b, '(');
		expr_text(b, e->a);
		sb_printf(b, " %s ", op_text(e->op));
		expr_text(b, e->b);
		sb_putc(b, ')');
		return;
	case E_AGG:
		sb_printf(b, "%s(", ag[e->op]);
		expr_text(b, e->a);
		sb_putc(b, ')');
		return;
	case E_FUNC:
		sb_printf(b, "%s(", fn[e->op]);
		for (int i = 0; i < e->nargs; i++) {
			if (i)
				sb_puts(b, ", ");
			expr_text(b, e->args[i]);
		}
		sb_putc(b, ')');
		return;
	case E_LIKE:
		expr_text(b, e->a);
		sb_puts(b, e->negate ? " NOT LIKE " : " LIKE ");
		expr_text(b, e->b);
		return;
	case E_ISNULL:
		expr_text(b, e->a);
		sb_puts(b, e->negate ? " IS NOT NULL" : " IS NULL");
		return;
	case E_BETWEEN:
		expr_text(b, e->a);
		sb_puts(b, e->negate ? " NOT BETWEEN " : " BETWEEN ");
		expr_text(b, e->b);
		sb_puts(b, " AND ");
		expr_text(b, e->c);
		return;
	case E_IN:
		expr_text(b, e->a);
		sb_puts(b, e->negate ? " NOT IN (" : " IN (");
		for (int i = 0; i < e->nargs; i++) {
			if (i)
				sb_puts(b, ", ");
			expr_text(b, e->args[i]);
		}
		sb_putc(b, ')');
		return;
	}
}
