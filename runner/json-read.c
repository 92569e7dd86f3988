// SPDX-License-Identifier: MIT
/*
 * The runner's strict JSON reader (json-read.h): recursive descent over a buffer of known
 * length into a tree of struct jv, and a compact writer for passing values through.
 * Every error names its byte offset; nothing is accepted that RFC 8259 does not allow.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "runner/json-read.h"

struct parser {
	const char *s;
	size_t len, pos;
	int depth;
	char *err;
	size_t errlen;
	bool failed;
};

static void __attribute__((format(printf, 2, 3))) fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed)
		return;
	p->failed = true;
	n = snprintf(p->err, p->errlen, "offset %zu: ", p->pos);
	if (n < 0 || (size_t)n >= p->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len && strchr(" \t\n\r", p->s[p->pos]) && p->s[p->pos])
		p->pos++;
}

static int peek(const struct parser *p)
{
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static bool literal(struct parser *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n)) {
		fail(p, "expected '%s'", word);
		return false;
	}
	p->pos += n;
	return true;
}

/* A growable byte buffer for decoded strings. */
struct sbuf {
	char *b;
	size_t n, cap;
};

static bool sbuf_put(struct sbuf *sb, const char *c, size_t n)
{
	if (sb->n + n + 1 > sb->cap) {
		size_t cap = sb->cap ? sb->cap * 2 : 32;
		char *b;

		while (cap < sb->n + n + 1)
			cap *= 2;
		b = realloc(sb->b, cap);
		if (!b)
			return false;
		sb->b = b;
		sb->cap = cap;
	}
	memcpy(sb->b + sb->n, c, n);
	sb->n += n;
	sb->b[sb->n] = '\0';
	return true;
}

static size_t utf8_encode(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The length of the well-formed UTF-8 sequence at @s (at most @n bytes), 0 if it is not:
 * no overlong forms, no surrogates, nothing above U+10FFFF (RFC 3629). */
static size_t utf8_valid(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static int hex4(struct parser *p, uint32_t *v)
{
	size_t i;

	*v = 0;
	if (p->len - p->pos < 4) {
		fail(p, "a \\u escape needs four hex digits");
		return -1;
	}
	for (i = 0; i < 4; i++) {
		char c = p->s[p->pos + i];
		uint32_t d = c >= '0' && c <= '9' ? (uint32_t)(c - '0') :
			     c >= 'a' && c <= 'f' ? (uint32_t)(c - 'a' + 10) :
			     c >= 'A' && c <= 'F' ? (uint32_t)(c - 'A' + 10) : 16;

		if (d == 16) {
			fail(p, "a \\u escape needs four hex digits");
			return -1;
		}
		*v = *v << 4 | d;
	}
	p->pos += 4;
	return 0;
}

/* A \u escape (the backslash and 'u' read): one code point, a surrogate pair joined. */
static int unicode_escape(struct parser *p, struct sbuf *sb)
{
	uint32_t cp, lo;
	char out[4];

	if (hex4(p, &cp) < 0)
		return -1;
	if (cp >= 0xdc00 && cp <= 0xdfff) {
		fail(p, "a low surrogate without a high one");
		return -1;
	}
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
			fail(p, "a high surrogate without a low one");
			return -1;
		}
		p->pos += 2;
		if (hex4(p, &lo) < 0)
			return -1;
		if (lo < 0xdc00 || lo > 0xdfff) {
			fail(p, "a high surrogate without a low one");
			return -1;
		}
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (!cp) {
		fail(p, "\\u0000 is not accepted");
		return -1;
	}
	if (!sbuf_put(sb, out, utf8_encode(cp, out))) {
		fail(p, "out of memory");
		return -1;
	}
	return 0;
}

/* A string (at its opening quote) into a new NUL-terminated buffer. Return: it, or NULL. */
static char *parse_string(struct parser *p)
{
	struct sbuf sb = { NULL, 0, 0 };

	p->pos++;
	if (!sbuf_put(&sb, "", 0))
		goto oom;
	for (;;) {
		int c = peek(p);
		size_t n;

		if (c < 0) {
			fail(p, "unterminated string");
			goto err;
		}
		if (c == '"') {
			p->pos++;
			return sb.b;
		}
		if (c < 0x20) {
			fail(p, "a control character in a string");
			goto err;
		}
		if (c == '\\') {
			static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
			const char *e;

			p->pos++;
			c = peek(p);
			if (c == 'u') {
				p->pos++;
				if (unicode_escape(p, &sb) < 0)
					goto err;
				continue;
			}
			e = c > 0 ? strchr(from, c) : NULL;
			if (!e) {
				fail(p, "a bad escape in a string");
				goto err;
			}
			p->pos++;
			if (!sbuf_put(&sb, &to[e - from], 1))
				goto oom;
			continue;
		}
		n = utf8_valid((const unsigned char *)p->s + p->pos, p->len - p->pos);
		if (!n) {
			fail(p, "a string that is not UTF-8");
			goto err;
		}
		if (!sbuf_put(&sb, p->s + p->pos, n))
			goto oom;
		p->pos += n;
	}
oom:
	fail(p, "out of memory");
err:
	free(sb.b);
	return NULL;
}

static size_t digits(const struct parser *p, size_t at)
{
	size_t n = 0;

	while (at + n < p->len && p->s[at + n] >= '0' && p->s[at + n] <= '9')
		n++;
	return n;
}

/* A number, by the grammar of RFC 8259 section 6; integers also kept exactly. */
static int parse_number(struct parser *p, struct jv *v)
{
	size_t start = p->pos, at = p->pos, n;
	bool neg = false, integer = true;
	char buf[64], *end;

	if (peek(p) == '-') {
		neg = true;
		at++;
	}
	n = digits(p, at);
	if (!n || (n > 1 && p->s[at] == '0')) {
		fail(p, "a bad number");
		return -1;
	}
	at += n;
	if (at < p->len && p->s[at] == '.') {
		integer = false;
		n = digits(p, ++at);
		if (!n) {
			p->pos = at;
			fail(p, "a bad number: no digit after '.'");
			return -1;
		}
		at += n;
	}
	if (at < p->len && (p->s[at] == 'e' || p->s[at] == 'E')) {
		integer = false;
		at++;
		if (at < p->len && (p->s[at] == '+' || p->s[at] == '-'))
			at++;
		n = digits(p, at);
		if (!n) {
			p->pos = at;
			fail(p, "a bad number: no digit in the exponent");
			return -1;
		}
		at += n;
	}
	if (at - start >= sizeof(buf)) {
		fail(p, "a number of more than %zu characters", sizeof(buf) - 1);
		return -1;
	}
	memcpy(buf, p->s + start, at - start);
	buf[at - start] = '\0';
	v->type = JV_NUMBER;
	v->num = strtod(buf, &end);
	if (!isfinite(v->num)) {
		fail(p, "a number out of range");
		return -1;
	}
	if (integer) {
		errno = 0;
		if (neg) {
			v->i64 = strtoll(buf, &end, 10);
			v->is_i64 = !errno;
		} else {
			v->u64 = strtoull(buf, &end, 10);
			v->is_u64 = !errno;
			v->i64 = (int64_t)v->u64;
			v->is_i64 = v->is_u64 && v->u64 <= INT64_MAX;
		}
	}
	p->pos = at;
	return 0;
}

static int parse_value(struct parser *p, struct jv *v);

static int parse_array(struct parser *p, struct jv *v)
{
	uint32_t cap = 0;

	v->type = JV_ARRAY;
	p->pos++;
	skip_ws(p);
	if (peek(p) == ']') {
		p->pos++;
		return 0;
	}
	for (;;) {
		if (v->n == cap) {
			struct jv *it;

			cap = cap ? cap * 2 : 8;
			it = realloc(v->items, cap * sizeof(*it));
			if (!it) {
				fail(p, "out of memory");
				return -1;
			}
			v->items = it;
		}
		memset(&v->items[v->n], 0, sizeof(v->items[0]));
		v->n++;
		if (parse_value(p, &v->items[v->n - 1]) < 0)
			return -1;
		skip_ws(p);
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p) == ']') {
			p->pos++;
			return 0;
		}
		fail(p, "expected ',' or ']'");
		return -1;
	}
}

static int parse_object(struct parser *p, struct jv *v)
{
	uint32_t cap = 0, i;

	v->type = JV_OBJECT;
	p->pos++;
	skip_ws(p);
	if (peek(p) == '}') {
		p->pos++;
		return 0;
	}
	for (;;) {
		struct jv_member *m;

		skip_ws(p);
		if (peek(p) != '"') {
			fail(p, "expected a key (a string)");
			return -1;
		}
		if (v->n == cap) {
			cap = cap ? cap * 2 : 8;
			m = realloc(v->members, cap * sizeof(*m));
			if (!m) {
				fail(p, "out of memory");
				return -1;
			}
			v->members = m;
		}
		m = &v->members[v->n];
		memset(m, 0, sizeof(*m));
		v->n++;
		m->key = parse_string(p);
		if (!m->key)
			return -1;
		for (i = 0; i + 1 < v->n; i++)
			if (!strcmp(v->members[i].key, m->key)) {
				fail(p, "the key \"%s\" twice in one object", m->key);
				return -1;
			}
		skip_ws(p);
		if (peek(p) != ':') {
			fail(p, "expected ':'");
			return -1;
		}
		p->pos++;
		if (parse_value(p, &m->val) < 0)
			return -1;
		skip_ws(p);
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p) == '}') {
			p->pos++;
			return 0;
		}
		fail(p, "expected ',' or '}'");
		return -1;
	}
}

static int parse_value(struct parser *p, struct jv *v)
{
	int c, r;

	skip_ws(p);
	c = peek(p);
	switch (c) {
	case '{':
	case '[':
		if (++p->depth > JSON_MAX_DEPTH) {
			fail(p, "nested deeper than %d", JSON_MAX_DEPTH);
			return -1;
		}
		r = c == '{' ? parse_object(p, v) : parse_array(p, v);
		p->depth--;
		return r;
	case '"':
		v->type = JV_STRING;
		v->str = parse_string(p);
		return v->str ? 0 : -1;
	case 't':
	case 'f':
		v->type = JV_BOOL;
		v->b = c == 't';
		return literal(p, c == 't' ? "true" : "false") ? 0 : -1;
	case 'n':
		v->type = JV_NULL;
		return literal(p, "null") ? 0 : -1;
	case -1:
		fail(p, "unexpected end of the text");
		return -1;
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return parse_number(p, v);
		fail(p, "unexpected character '%c'", c >= 0x20 && c < 0x7f ? c : '?');
		return -1;
	}
}

/*
 * jr_parse - parse the one JSON value that is @text[@len] into a new tree at *@out (free
 * it with jr_free). Return: 0, or -1 with a message naming the byte offset in @err.
 */
int jr_parse(const char *text, size_t len, struct jv **out, char *err, size_t errlen)
{
	struct parser p = { text, len, 0, 0, err, errlen, false };
	struct jv *v = calloc(1, sizeof(*v));

	*out = NULL;
	if (errlen)
		err[0] = '\0';
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (parse_value(&p, v) == 0) {
		skip_ws(&p);
		if (p.pos < p.len)
			fail(&p, "text after the value");
	}
	if (p.failed) {
		jr_free(v);
		return -1;
	}
	*out = v;
	return 0;
}

static void jv_clear(struct jv *v)
{
	uint32_t i;

	if (v->type == JV_ARRAY)
		for (i = 0; i < v->n; i++)
			jv_clear(&v->items[i]);
	if (v->type == JV_OBJECT)
		for (i = 0; i < v->n; i++) {
			free(v->members[i].key);
			jv_clear(&v->members[i].val);
		}
	free(v->items);
	free(v->members);
	free(v->str);
}

/* jr_free - free a tree jr_parse made (NULL is fine). */
void jr_free(struct jv *v)
{
	if (!v)
		return;
	jv_clear(v);
	free(v);
}

/* jr_get - the value of @key in the object @obj. Return: it, or NULL (absent, not an object). */
const struct jv *jr_get(const struct jv *obj, const char *key)
{
	uint32_t i;

	if (!obj || obj->type != JV_OBJECT)
		return NULL;
	for (i = 0; i < obj->n; i++)
		if (!strcmp(obj->members[i].key, key))
			return &obj->members[i].val;
	return NULL;
}

/* jr_len - the length of the array @arr; 0 for anything else. */
uint32_t jr_len(const struct jv *arr)
{
	return arr && arr->type == JV_ARRAY ? arr->n : 0;
}

/* jr_at - item @i of the array @arr. Return: it, or NULL. */
const struct jv *jr_at(const struct jv *arr, uint32_t i)
{
	return arr && arr->type == JV_ARRAY && i < arr->n ? &arr->items[i] : NULL;
}

/* jr_u64 - @v as an unsigned integer, when it was written as one that fits. Return: ok. */
bool jr_u64(const struct jv *v, uint64_t *out)
{
	if (!v || v->type != JV_NUMBER || !v->is_u64)
		return false;
	*out = v->u64;
	return true;
}

/* jr_str - the string @v, or NULL when it is not one. */
const char *jr_str(const struct jv *v)
{
	return v && v->type == JV_STRING ? v->str : NULL;
}

/* jr_write_string - @s as a JSON string on @f: quotes, backslashes and controls escaped. */
void jr_write_string(FILE *f, const char *s)
{
	const unsigned char *c;

	fputc('"', f);
	for (c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(f, "\\%c", *c);
		else if (*c == '\n')
			fputs("\\n", f);
		else if (*c == '\t')
			fputs("\\t", f);
		else if (*c < 0x20 || *c == 0x7f)
			fprintf(f, "\\u%04x", *c);
		else
			fputc(*c, f);
	}
	fputc('"', f);
}

/* jr_write_value - @v as compact JSON on @f (numbers as read: integers exactly). */
void jr_write_value(FILE *f, const struct jv *v)
{
	uint32_t i;

	switch (v->type) {
	case JV_NULL:
		fputs("null", f);
		break;
	case JV_BOOL:
		fputs(v->b ? "true" : "false", f);
		break;
	case JV_NUMBER:
		if (v->is_u64)
			fprintf(f, "%" PRIu64, v->u64);
		else if (v->is_i64)
			fprintf(f, "%" PRId64, v->i64);
		else
			fprintf(f, "%.17g", v->num);
		break;
	case JV_STRING:
		jr_write_string(f, v->str);
		break;
	case JV_ARRAY:
		fputc('[', f);
		for (i = 0; i < v->n; i++) {
			if (i)
				fputc(',', f);
			jr_write_value(f, &v->items[i]);
		}
		fputc(']', f);
		break;
	case JV_OBJECT:
		fputc('{', f);
		for (i = 0; i < v->n; i++) {
			if (i)
				fputc(',', f);
			jr_write_string(f, v->members[i].key);
			fputc(':', f);
			jr_write_value(f, &v->members[i].val);
		}
		fputc('}', f);
		break;
	}
}
