/* SPDX-License-Identifier: MIT */
/*
 * minidb values: NULL, 64-bit integers, doubles and strings; ordering, hashing, printing and
 * the conversions a column's type asks for. A value holding a temporary string owns it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minidb.h"

struct value v_null(void)
{
	struct value v = { .t = V_NULL };

	return v;
}

struct value v_int(int64_t i)
{
	struct value v = { .t = V_INT, .u.i = i };

	return v;
}

struct value v_real(double r)
{
	struct value v = { .t = V_REAL, .u.r = r };

	return v;
}

struct value v_text(struct str *s)
{
	struct value v = { .t = V_TEXT, .u.s = s };

	return v;
}

void value_release(struct value *v)
{
	if (v->t == V_TEXT && !v->u.s->interned)
		free(v->u.s);
	v->t = V_NULL;
}

/* The value as a row stores it: a temporary string is replaced by (and freed for) the pool's
 * copy. */
struct value value_interned(struct value v)
{
	struct str *s;

	if (v.t != V_TEXT || v.u.s->interned)
		return v;
	s = str_intern(v.u.s->s, v.u.s->len);
	free(v.u.s);
	return v_text(s);
}

struct value value_dup(struct value v)
{
	if (v.t == V_TEXT && !v.u.s->interned)
		return v_text(str_temp(v.u.s->s, v.u.s->len));
	return v;
}

static int num_cmp(double a, double b)
{
	return a < b ? -1 : a > b;
}

/* Total order used by ORDER BY, indexes and GROUP BY: NULL < numbers < text; integers and
 * reals compare by value; text byte-wise. */
int value_cmp(struct value a, struct value b)
{
	if (a.t == V_NULL || b.t == V_NULL)
		return (a.t != V_NULL) - (b.t != V_NULL);
	if (a.t == V_TEXT || b.t == V_TEXT) {
		size_t n;
		int c;

		if (a.t != b.t)
			return a.t == V_TEXT ? 1 : -1;
		if (a.u.s == b.u.s)
			return 0;
		n = a.u.s->len < b.u.s->len ? a.u.s->len : b.u.s->len;
		c = memcmp(a.u.s->s, b.u.s->s, n);
		if (c)
			return c < 0 ? -1 : 1;
		return num_cmp(a.u.s->len, b.u.s->len);
	}
	if (a.t == V_INT && b.t == V_INT)
		return a.u.i < b.u.i ? -1 : a.u.i > b.u.i;
	return num_cmp(value_num(a), value_num(b));
}

int value_eq(struct value a, struct value b)
{
	if (a.t == V_TEXT && b.t == V_TEXT) {
		if (a.u.s == b.u.s)
			return 1;
		return a.u.s->hash == b.u.s->hash && a.u.s->len == b.u.s->len &&
		       memcmp(a.u.s->s, b.u.s->s, a.u.s->len) == 0;
	}
	return value_cmp(a, b) == 0;
}

uint32_t value_hash(struct value v)
{
	uint64_t x;

	switch (v.t) {
	case V_NULL:
		return 0x9e3779b9u;
	case V_TEXT:
		return v.u.s->hash;
	case V_REAL:
		/* an integral real must hash as the integer it equals */
		if (v.u.r == floor(v.u.r) && fabs(v.u.r) < 9e18) {
			x = (uint64_t)(int64_t)v.u.r;
			break;
		}
		memcpy(&x, &v.u.r, sizeof(x));
		break;
	default:
		x = (uint64_t)v.u.i;
		break;
	}
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return (uint32_t)x;
}

int value_truthy(struct value v)
{
	switch (v.t) {
	case V_INT:
		return v.u.i != 0;
	case V_REAL:
		return v.u.r != 0.0;
	case V_TEXT:
		return atof(v.u.s->s) != 0.0;
	default:
		return 0;
	}
}

double value_num(struct value v)
{
	switch (v.t) {
	case V_INT:
		return (double)v.u.i;
	case V_REAL:
		return v.u.r;
	case V_TEXT:
		return atof(v.u.s->s);
	default:
		return 0.0;
	}
}

/* As the printer shows it: reals with two decimals, so output is the same everywhere. */
void value_format(struct sbuf *b, struct value v)
{
	switch (v.t) {
	case V_NULL:
		sb_puts(b, "NULL");
		break;
	case V_INT:
		sb_printf(b, "%lld", (long long)v.u.i);
		break;
	case V_REAL:
		sb_printf(b, "%.2f", v.u.r);
		break;
	case V_TEXT:
		sb_putn(b, v.u.s->s, v.u.s->len);
		break;
	}
}

/* The value converted for a column of type TO (NULL stays NULL). Consumes V. */
struct value value_coerce(struct value v, enum vtype to)
{
	struct value out;
	struct sbuf b = { 0 };

	if (v.t == V_NULL || v.t == to)
		return v;
	switch (to) {
	case V_INT:
		out = v_int(v.t == V_REAL ? (int64_t)v.u.r : strtoll(v.u.s->s, NULL, 10));
		break;
	case V_REAL:
		out = v_real(value_num(v));
		break;
	case V_TEXT:
		value_format(&b, v);
		out = v_text(str_temp(b.p, b.len));
		sb_free(&b);
		break;
	default:
		out = v_null();
		break;
	}
	value_release(&v);
	return out;
}
