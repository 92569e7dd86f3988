/* interp.c - a realistic sample: a tree-walking interpreter for "toy", a small dynamic language
 * (lexer, parser, AST, refcounted values, hash-table environments, closures). See samples/interp/.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The language, in brief:
 *
 *	# comment
 *	let x = 1;  x = x + 2;  let s = "a" + str(x);
 *	fn add(a, b) { return a + b; }    let twice = fn(f, v) { return f(f(v)); };
 *	if x > 1 && !done { ... } else if x == 0 { ... } else { ... }
 *	while i < 10 { i = i + 1; if i == 5 { continue; } }
 *	for v in [1, 2, 3] { ... }   for k in {"a": 1} { ... }   for i in range(10) { ... }
 *	let l = [];  push(l, 4);  l[0] = 5;  let m = {};  m["k"] = "v";
 *
 * Values: nil, bool, int (64-bit), string (immutable), list, map (string keys), function.
 * Strings, lists, maps, functions and environments are reference counted: a closure stored in
 * the environment it captures forms a cycle that is never freed (the leak a refcounting
 * interpreter really has; samples/interp/closures.toy makes some on purpose).
 */

#define MAX_DEPTH 4000		/* nested calls before "stack overflow" */

/* ---------------------------------------------------------------- memory */

/* Calls of xmalloc/xcalloc/xrealloc, printed at exit when TOY_STATS is set (tests compare
 * it with what a memory profiler saw at those three sites). */
static unsigned long nallocs;

static void oom(void)
{
	fputs("interp: out of memory\n", stderr);
	exit(3);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	nallocs++;
	if (!p)
		oom();
	return p;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	nallocs++;
	if (!p)
		oom();
	return p;
}

static void *xrealloc(void *old, size_t n)
{
	void *p = realloc(old, n);

	nallocs++;
	if (!p)
		oom();
	return p;
}

/* ---------------------------------------------------------------- values */

enum vtype { V_NIL, V_BOOL, V_INT, V_STR, V_LIST, V_MAP, V_FUNC, V_BUILTIN };

struct str {
	int refs;
	uint32_t hash;		/* 0 = not computed yet */
	size_t len;
	char data[];		/* len bytes and a NUL */
};

struct value;
struct list;
struct map;
struct func;
struct env;
struct builtin;

struct value {
	enum vtype t;
	union {
		int b;
		int64_t i;
		struct str *s;
		struct list *l;
		struct map *m;
		struct func *f;
		const struct builtin *bi;
	};
};

struct list {
	int refs;
	size_t len, cap;
	struct value *items;
};

struct mslot {
	struct str *key;	/* NULL = empty; TOMB = deleted */
	struct value val;
};

struct map {
	int refs;
	size_t count;		/* live keys */
	size_t used;		/* live keys + tombstones */
	size_t cap;		/* slots, a power of two (0 = no table yet) */
	struct mslot *slots;
};

struct node;

struct func {
	int refs;
	struct node *def;	/* N_FN node (owned by the program's AST) */
	struct env *closure;	/* where it was defined */
};

struct env {
	int refs;
	struct env *parent;
	struct map vars;	/* inline table: name -> value */
};

typedef struct value (*builtin_fn)(int line, int argc, struct value *argv);

struct builtin {
	const char *name;
	int min_args, max_args;	/* max -1 = any */
	builtin_fn fn;
};

static struct str tomb_str = { .refs = 1 };
#define TOMB (&tomb_str)

static const struct value nil_value = { .t = V_NIL };

static struct value mk_int(int64_t i)
{
	struct value v = { .t = V_INT, .i = i };

	return v;
}

static struct value mk_bool(int b)
{
	struct value v = { .t = V_BOOL, .b = !!b };

	return v;
}

static void runtime_error(int line, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));

static void runtime_error(int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "interp: line %d: ", line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Strings. */

static struct str *str_new(const char *s, size_t len)
{
	struct str *p = xmalloc(sizeof(*p) + len + 1);

	p->refs = 1;
	p->hash = 0;
	p->len = len;
	memcpy(p->data, s, len);
	p->data[len] = '\0';
	return p;
}

static struct str *str_cat(const char *a, size_t alen, const char *b, size_t blen)
{
	struct str *p = xmalloc(sizeof(*p) + alen + blen + 1);

	p->refs = 1;
	p->hash = 0;
	p->len = alen + blen;
	memcpy(p->data, a, alen);
	memcpy(p->data + alen, b, blen);
	p->data[p->len] = '\0';
	return p;
}

static uint32_t str_hash(struct str *s)
{
	uint32_t h = 2166136261u;
	size_t i;

	if (s->hash)
		return s->hash;
	for (i = 0; i < s->len; i++) {
		h ^= (unsigned char)s->data[i];
		h *= 16777619u;
	}
	s->hash = h ? h : 1;
	return s->hash;
}

static int str_eq(const struct str *a, const struct str *b)
{
	return a == b || (a->len == b->len && memcmp(a->data, b->data, a->len) == 0);
}

static struct value mk_str(struct str *s)
{
	struct value v = { .t = V_STR, .s = s };

	return v;
}

static struct value mk_cstr(const char *s)
{
	return mk_str(str_new(s, strlen(s)));
}

/* A growable byte buffer for building strings (str(), join, printing). */
struct sbuf {
	char *data;
	size_t len, cap;
};

static void sb_add(struct sbuf *sb, const char *s, size_t n)
{
	if (sb->len + n + 1 > sb->cap) {
		size_t cap = sb->cap ? sb->cap : 32;

		while (cap < sb->len + n + 1)
			cap *= 2;
		sb->data = xrealloc(sb->data, cap);
		sb->cap = cap;
	}
	memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

static void sb_puts(struct sbuf *sb, const char *s)
{
	sb_add(sb, s, strlen(s));
}

static struct str *sb_finish(struct sbuf *sb)
{
	struct str *s = str_new(sb->data ? sb->data : "", sb->len);

	free(sb->data);
	sb->data = NULL;
	sb->len = sb->cap = 0;
	return s;
}

/* Reference counting. */

static void value_decref(struct value v);
static void env_decref(struct env *e);
static void map_clear(struct map *m);

static struct value value_incref(struct value v)
{
	switch (v.t) {
	case V_STR: v.s->refs++; break;
	case V_LIST: v.l->refs++; break;
	case V_MAP: v.m->refs++; break;
	case V_FUNC: v.f->refs++; break;
	default: break;
	}
	return v;
}

static void str_decref(struct str *s)
{
	if (s != TOMB && --s->refs == 0)
		free(s);
}

static void list_free(struct list *l)
{
	size_t i;

	for (i = 0; i < l->len; i++)
		value_decref(l->items[i]);
	free(l->items);
	free(l);
}

static void value_decref(struct value v)
{
	switch (v.t) {
	case V_STR:
		str_decref(v.s);
		break;
	case V_LIST:
		if (--v.l->refs == 0)
			list_free(v.l);
		break;
	case V_MAP:
		if (--v.m->refs == 0) {
			map_clear(v.m);
			free(v.m);
		}
		break;
	case V_FUNC:
		if (--v.f->refs == 0) {
			env_decref(v.f->closure);
			free(v.f);
		}
		break;
	default:
		break;
	}
}

/* Lists. */

static struct list *list_new(size_t cap)
{
	struct list *l = xmalloc(sizeof(*l));

	l->refs = 1;
	l->len = 0;
	l->cap = cap;
	l->items = cap ? xmalloc(cap * sizeof(*l->items)) : NULL;
	return l;
}

/* Append @v to @l, taking over the caller's reference. */
static void list_push(struct list *l, struct value v)
{
	if (l->len == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
	}
	l->items[l->len++] = v;
}

static struct value mk_list(struct list *l)
{
	struct value v = { .t = V_LIST, .l = l };

	return v;
}

/* Maps: open addressing with linear probing and tombstones, string keys. */

static struct map *map_new(void)
{
	struct map *m = xcalloc(1, sizeof(*m));

	m->refs = 1;
	return m;
}

static struct value mk_map(struct map *m)
{
	struct value v = { .t = V_MAP, .m = m };

	return v;
}

static struct mslot *map_find(struct map *m, struct str *key)
{
	size_t mask, i;

	if (!m->cap)
		return NULL;
	mask = m->cap - 1;
	for (i = str_hash(key) & mask;; i = (i + 1) & mask) {
		struct mslot *s = &m->slots[i];

		if (!s->key)
			return NULL;
		if (s->key != TOMB && str_eq(s->key, key))
			return s;
	}
}

static void map_grow(struct map *m)
{
	struct mslot *old = m->slots;
	size_t oldcap = m->cap, i;

	m->cap = oldcap ? oldcap * 2 : 8;
	if (m->count * 4 < oldcap)	/* mostly tombstones: rehash at the same size */
		m->cap = oldcap;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	m->used = m->count;
	for (i = 0; i < oldcap; i++) {
		struct mslot *s = &old[i];
		size_t j;

		if (!s->key || s->key == TOMB)
			continue;
		for (j = str_hash(s->key) & (m->cap - 1); m->slots[j].key; j = (j + 1) & (m->cap - 1))
			;
		m->slots[j] = *s;
	}
	free(old);
}

/* Set @key to @v (taking over the reference to @v; @key is borrowed). */
static void map_set(struct map *m, struct str *key, struct value v)
{
	struct mslot *s = map_find(m, key);
	size_t i;

	if (s) {
		value_decref(s->val);
		s->val = v;
		return;
	}
	if ((m->used + 1) * 4 > m->cap * 3)
		map_grow(m);
	for (i = str_hash(key) & (m->cap - 1); m->slots[i].key && m->slots[i].key != TOMB;
	     i = (i + 1) & (m->cap - 1))
		;
	if (!m->slots[i].key)
		m->used++;
	key->refs++;
	m->slots[i].key = key;
	m->slots[i].val = v;
	m->count++;
}

static int map_del(struct map *m, struct str *key)
{
	struct mslot *s = map_find(m, key);

	if (!s)
		return 0;
	str_decref(s->key);
	value_decref(s->val);
	s->key = TOMB;
	s->val = nil_value;
	m->count--;
	return 1;
}

/* Drop every entry and the table (the map itself stays). */
static void map_clear(struct map *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++) {
		struct mslot *s = &m->slots[i];

		if (s->key && s->key != TOMB) {
			str_decref(s->key);
			value_decref(s->val);
		}
	}
	free(m->slots);
	m->slots = NULL;
	m->cap = m->count = m->used = 0;
}

/* The keys of @m as a new list of strings, in table order. */
static struct list *map_keys(struct map *m)
{
	struct list *l = list_new(m->count);
	size_t i;

	for (i = 0; i < m->cap; i++) {
		struct str *k = m->slots[i].key;

		if (k && k != TOMB) {
			k->refs++;
			list_push(l, mk_str(k));
		}
	}
	return l;
}

/* Environments. */

static struct env *env_new(struct env *parent)
{
	struct env *e = xcalloc(1, sizeof(*e));

	e->refs = 1;
	e->parent = parent;
	if (parent)
		parent->refs++;
	return e;
}

static void env_decref(struct env *e)
{
	while (e && --e->refs == 0) {
		struct env *parent = e->parent;

		map_clear(&e->vars);
		free(e);
		e = parent;
	}
}

static struct value *env_lookup(struct env *e, struct str *name)
{
	for (; e; e = e->parent) {
		struct mslot *s = map_find(&e->vars, name);

		if (s)
			return &s->val;
	}
	return NULL;
}

/* ---------------------------------------------------------------- printing */

static void value_repr(struct sbuf *sb, struct value v, int quote, int depth);

static void value_repr(struct sbuf *sb, struct value v, int quote, int depth)
{
	char num[32];
	size_t i;
	int first = 1;

	if (depth > 32) {
		sb_puts(sb, "...");
		return;
	}
	switch (v.t) {
	case V_NIL: sb_puts(sb, "nil"); break;
	case V_BOOL: sb_puts(sb, v.b ? "true" : "false"); break;
	case V_INT:
		snprintf(num, sizeof(num), "%lld", (long long)v.i);
		sb_puts(sb, num);
		break;
	case V_STR:
		if (quote)
			sb_puts(sb, "\"");
		sb_add(sb, v.s->data, v.s->len);
		if (quote)
			sb_puts(sb, "\"");
		break;
	case V_LIST:
		sb_puts(sb, "[");
		for (i = 0; i < v.l->len; i++) {
			if (i)
				sb_puts(sb, ", ");
			value_repr(sb, v.l->items[i], 1, depth + 1);
		}
		sb_puts(sb, "]");
		break;
	case V_MAP:
		sb_puts(sb, "{");
		for (i = 0; i < v.m->cap; i++) {
			struct mslot *s = &v.m->slots[i];

			if (!s->key || s->key == TOMB)
				continue;
			if (!first)
				sb_puts(sb, ", ");
			first = 0;
			value_repr(sb, mk_str(s->key), 1, depth + 1);
			sb_puts(sb, ": ");
			value_repr(sb, s->val, 1, depth + 1);
		}
		sb_puts(sb, "}");
		break;
	case V_FUNC: sb_puts(sb, "<fn>"); break;
	case V_BUILTIN:
		sb_puts(sb, "<builtin ");
		sb_puts(sb, v.bi->name);
		sb_puts(sb, ">");
		break;
	}
}

static struct str *value_to_str(struct value v)
{
	struct sbuf sb = { 0 };

	if (v.t == V_STR) {
		v.s->refs++;
		return v.s;
	}
	value_repr(&sb, v, 0, 0);
	return sb_finish(&sb);
}

static const char *type_name(enum vtype t)
{
	static const char *const names[] = { "nil", "bool", "int", "string", "list", "map",
					     "function", "builtin" };

	return names[t];
}

static int truthy(struct value v)
{
	switch (v.t) {
	case V_NIL: return 0;
	case V_BOOL: return v.b;
	case V_INT: return v.i != 0;
	case V_STR: return v.s->len != 0;
	case V_LIST: return v.l->len != 0;
	case V_MAP: return v.m->count != 0;
	default: return 1;
	}
}

static int values_equal(struct value a, struct value b)
{
	if (a.t != b.t)
		return 0;
	switch (a.t) {
	case V_NIL: return 1;
	case V_BOOL: return a.b == b.b;
	case V_INT: return a.i == b.i;
	case V_STR: return str_eq(a.s, b.s);
	case V_LIST: return a.l == b.l;
	case V_MAP: return a.m == b.m;
	case V_FUNC: return a.f == b.f;
	case V_BUILTIN: return a.bi == b.bi;
	}
	return 0;
}

/* ---------------------------------------------------------------- lexer */

enum tok {
	T_EOF, T_INT, T_STR, T_IDENT,
	T_LET, T_FN, T_IF, T_ELSE, T_WHILE, T_FOR, T_IN, T_RETURN, T_BREAK, T_CONTINUE,
	T_TRUE, T_FALSE, T_NIL,
	T_LPAREN, T_RPAREN, T_LBRACE, T_RBRACE, T_LBRACK, T_RBRACK, T_COMMA, T_SEMI, T_COLON,
	T_ASSIGN, T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE, T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PERCENT,
	T_NOT, T_AND, T_OR,
};

struct token {
	enum tok t;
	int line;
	int64_t ival;
	struct str *s;		/* T_STR, T_IDENT: owned by the token array */
};

struct lexer {
	const char *src, *p;
	int line;
	struct token *toks;
	size_t ntoks, cap;
};

static const struct {
	const char *word;
	enum tok t;
} keywords[] = {
	{ "let", T_LET }, { "fn", T_FN }, { "if", T_IF }, { "else", T_ELSE },
	{ "while", T_WHILE }, { "for", T_FOR }, { "in", T_IN }, { "return", T_RETURN },
	{ "break", T_BREAK }, { "continue", T_CONTINUE }, { "true", T_TRUE },
	{ "false", T_FALSE }, { "nil", T_NIL },
};

static void syntax_error(int line, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));

static void syntax_error(int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "interp: line %d: syntax error: ", line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static struct token *lex_push(struct lexer *lx, enum tok t)
{
	struct token *tk;

	if (lx->ntoks == lx->cap) {
		lx->cap = lx->cap ? lx->cap * 2 : 256;
		lx->toks = xrealloc(lx->toks, lx->cap * sizeof(*lx->toks));
	}
	tk = &lx->toks[lx->ntoks++];
	tk->t = t;
	tk->line = lx->line;
	tk->ival = 0;
	tk->s = NULL;
	return tk;
}

static void lex_string(struct lexer *lx)
{
	struct sbuf sb = { 0 };
	int line = lx->line;
	char c;

	lx->p++;			/* opening quote */
	for (;;) {
		c = *lx->p++;
		if (c == '\0')
			syntax_error(line, "unterminated string");
		if (c == '"')
			break;
		if (c == '\n')
			lx->line++;
		if (c == '\\') {
			c = *lx->p++;
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case '"': case '\\': break;
			default: syntax_error(lx->line, "bad escape '\\%c'", c);
			}
		}
		sb_add(&sb, &c, 1);
	}
	lex_push(lx, T_STR)->s = sb_finish(&sb);
	lx->toks[lx->ntoks - 1].line = line;
}

static enum tok lex_punct(struct lexer *lx)
{
	char c = *lx->p++, n = *lx->p;

#define TWO(second, yes, no) (n == (second) ? (lx->p++, (yes)) : (no))
	switch (c) {
	case '(': return T_LPAREN;
	case ')': return T_RPAREN;
	case '{': return T_LBRACE;
	case '}': return T_RBRACE;
	case '[': return T_LBRACK;
	case ']': return T_RBRACK;
	case ',': return T_COMMA;
	case ';': return T_SEMI;
	case ':': return T_COLON;
	case '+': return T_PLUS;
	case '-': return T_MINUS;
	case '*': return T_STAR;
	case '/': return T_SLASH;
	case '%': return T_PERCENT;
	case '=': return TWO('=', T_EQ, T_ASSIGN);
	case '!': return TWO('=', T_NE, T_NOT);
	case '<': return TWO('=', T_LE, T_LT);
	case '>': return TWO('=', T_GE, T_GT);
	case '&':
		if (n == '&')
			return lx->p++, T_AND;
		break;
	case '|':
		if (n == '|')
			return lx->p++, T_OR;
		break;
	}
#undef TWO
	syntax_error(lx->line, "unexpected character '%c'", c);
}

/* Split @src into tokens; the array ends with T_EOF. */
static struct token *lex(const char *src, size_t *ntoks)
{
	struct lexer lx = { .src = src, .p = src, .line = 1 };

	for (;;) {
		char c = *lx.p;

		if (c == '\n') {
			lx.line++;
			lx.p++;
		} else if (c == ' ' || c == '\t' || c == '\r') {
			lx.p++;
		} else if (c == '#') {
			while (*lx.p && *lx.p != '\n')
				lx.p++;
		} else if (c == '\0') {
			break;
		} else if (c >= '0' && c <= '9') {
			uint64_t v = 0;	/* wraps like the arithmetic: no undefined overflow */

			while (*lx.p >= '0' && *lx.p <= '9') {
				v = v * 10 + (uint64_t)(*lx.p - '0');
				lx.p++;
			}
			lex_push(&lx, T_INT)->ival = (int64_t)v;
		} else if (c == '"') {
			lex_string(&lx);
		} else if (c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			const char *start = lx.p;
			size_t len, i;
			enum tok t = T_IDENT;

			while (*lx.p == '_' || (*lx.p >= 'a' && *lx.p <= 'z') ||
			       (*lx.p >= 'A' && *lx.p <= 'Z') || (*lx.p >= '0' && *lx.p <= '9'))
				lx.p++;
			len = lx.p - start;
			for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
				if (strlen(keywords[i].word) == len &&
				    !memcmp(keywords[i].word, start, len))
					t = keywords[i].t;
			if (t == T_IDENT)
				lex_push(&lx, T_IDENT)->s = str_new(start, len);
			else
				lex_push(&lx, t);
		} else {
			enum tok t = lex_punct(&lx);

			lex_push(&lx, t);
		}
	}
	lex_push(&lx, T_EOF);
	*ntoks = lx.ntoks;
	return lx.toks;
}

/* ---------------------------------------------------------------- AST and parser */

enum ntype {
	N_INT, N_STR, N_TRUE, N_FALSE, N_NIL, N_VAR, N_LIST, N_MAP, N_FN, N_CALL, N_INDEX,
	N_BIN, N_NEG, N_NOT, N_AND, N_OR,
	N_LET, N_ASSIGN, N_IF, N_WHILE, N_FOR, N_RETURN, N_BREAK, N_CONTINUE, N_BLOCK, N_EXPR,
};

struct node {
	enum ntype t;
	int line;
	enum tok op;		/* N_BIN */
	int64_t ival;		/* N_INT */
	struct str *s;		/* N_STR, N_VAR, N_LET, N_FOR, N_FN (name): owned */
	struct node *a, *b, *c;	/* operands, condition/then/else, target/value, ... */
	struct node **kids;	/* N_LIST, N_MAP (k, v, k, v...), N_CALL args, N_BLOCK stmts */
	int nkids;
	struct str **params;	/* N_FN */
	int nparams;
};

struct parser {
	struct token *toks;
	size_t pos;
};

static struct node *parse_expr(struct parser *ps);
static struct node *parse_block(struct parser *ps);
static struct node *parse_stmt(struct parser *ps);

static struct node *node_new(enum ntype t, int line)
{
	struct node *n = xcalloc(1, sizeof(*n));

	n->t = t;
	n->line = line;
	return n;
}

static void node_add(struct node *n, struct node *kid)
{
	n->kids = xrealloc(n->kids, (n->nkids + 1) * sizeof(*n->kids));
	n->kids[n->nkids++] = kid;
}

static void node_free(struct node *n)
{
	int i;

	if (!n)
		return;
	node_free(n->a);
	node_free(n->b);
	node_free(n->c);
	for (i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	for (i = 0; i < n->nparams; i++)
		str_decref(n->params[i]);
	free(n->params);
	if (n->s)
		str_decref(n->s);
	free(n);
}

static struct token *peek(struct parser *ps)
{
	return &ps->toks[ps->pos];
}

static int accept(struct parser *ps, enum tok t)
{
	if (ps->toks[ps->pos].t != t)
		return 0;
	ps->pos++;
	return 1;
}

static struct token *expect(struct parser *ps, enum tok t, const char *what)
{
	struct token *tk = peek(ps);

	if (tk->t != t)
		syntax_error(tk->line, "expected %s", what);
	ps->pos++;
	return tk;
}

static struct str *take_ident(struct parser *ps, const char *what)
{
	struct token *tk = expect(ps, T_IDENT, what);

	tk->s->refs++;
	return tk->s;
}

/* fn [name] (params) { body } -- the "fn" token is already consumed. */
static struct node *parse_fn(struct parser *ps, int line, struct str *name)
{
	struct node *n = node_new(N_FN, line);

	n->s = name;
	expect(ps, T_LPAREN, "'(' after fn");
	if (!accept(ps, T_RPAREN)) {
		do {
			n->params = xrealloc(n->params, (n->nparams + 1) * sizeof(*n->params));
			n->params[n->nparams++] = take_ident(ps, "parameter name");
		} while (accept(ps, T_COMMA));
		expect(ps, T_RPAREN, "')' after parameters");
	}
	n->a = parse_block(ps);
	return n;
}

static struct node *parse_primary(struct parser *ps)
{
	struct token *tk = peek(ps);
	struct node *n;

	ps->pos++;
	switch (tk->t) {
	case T_INT:
		n = node_new(N_INT, tk->line);
		n->ival = tk->ival;
		return n;
	case T_STR:
		n = node_new(N_STR, tk->line);
		n->s = tk->s;
		n->s->refs++;
		return n;
	case T_IDENT:
		n = node_new(N_VAR, tk->line);
		n->s = tk->s;
		n->s->refs++;
		return n;
	case T_TRUE: return node_new(N_TRUE, tk->line);
	case T_FALSE: return node_new(N_FALSE, tk->line);
	case T_NIL: return node_new(N_NIL, tk->line);
	case T_LPAREN:
		n = parse_expr(ps);
		expect(ps, T_RPAREN, "')'");
		return n;
	case T_LBRACK:
		n = node_new(N_LIST, tk->line);
		if (!accept(ps, T_RBRACK)) {
			do
				node_add(n, parse_expr(ps));
			while (accept(ps, T_COMMA));
			expect(ps, T_RBRACK, "']'");
		}
		return n;
	case T_LBRACE:
		n = node_new(N_MAP, tk->line);
		if (!accept(ps, T_RBRACE)) {
			do {
				node_add(n, parse_expr(ps));
				expect(ps, T_COLON, "':' in map literal");
				node_add(n, parse_expr(ps));
			} while (accept(ps, T_COMMA));
			expect(ps, T_RBRACE, "'}'");
		}
		return n;
	case T_FN:
		return parse_fn(ps, tk->line, NULL);
	default:
		syntax_error(tk->line, "expected an expression");
	}
}

static struct node *parse_postfix(struct parser *ps)
{
	struct node *n = parse_primary(ps), *m;

	for (;;) {
		int line = peek(ps)->line;

		if (accept(ps, T_LPAREN)) {
			m = node_new(N_CALL, line);
			m->a = n;
			if (!accept(ps, T_RPAREN)) {
				do
					node_add(m, parse_expr(ps));
				while (accept(ps, T_COMMA));
				expect(ps, T_RPAREN, "')' after arguments");
			}
			n = m;
		} else if (accept(ps, T_LBRACK)) {
			m = node_new(N_INDEX, line);
			m->a = n;
			m->b = parse_expr(ps);
			expect(ps, T_RBRACK, "']'");
			n = m;
		} else {
			return n;
		}
	}
}

static struct node *parse_unary(struct parser *ps)
{
	int line = peek(ps)->line;
	struct node *n;

	if (accept(ps, T_MINUS)) {
		n = node_new(N_NEG, line);
		n->a = parse_unary(ps);
		return n;
	}
	if (accept(ps, T_NOT)) {
		n = node_new(N_NOT, line);
		n->a = parse_unary(ps);
		return n;
	}
	return parse_postfix(ps);
}

/* Binding power of a binary operator, 0 if @t is none. */
static int precedence(enum tok t)
{
	switch (t) {
	case T_OR: return 1;
	case T_AND: return 2;
	case T_EQ: case T_NE: return 3;
	case T_LT: case T_LE: case T_GT: case T_GE: return 4;
	case T_PLUS: case T_MINUS: return 5;
	case T_STAR: case T_SLASH: case T_PERCENT: return 6;
	default: return 0;
	}
}

/* Precedence climbing: all binary operators are left-associative. */
static struct node *parse_binary(struct parser *ps, int min_prec)
{
	struct node *lhs = parse_unary(ps);

	for (;;) {
		struct token *tk = peek(ps);
		int prec = precedence(tk->t);
		struct node *n;

		if (!prec || prec < min_prec)
			return lhs;
		ps->pos++;
		n = node_new(tk->t == T_AND ? N_AND : tk->t == T_OR ? N_OR : N_BIN, tk->line);
		n->op = tk->t;
		n->a = lhs;
		n->b = parse_binary(ps, prec + 1);
		lhs = n;
	}
}

static struct node *parse_expr(struct parser *ps)
{
	return parse_binary(ps, 1);
}

static struct node *parse_block(struct parser *ps)
{
	struct node *n = node_new(N_BLOCK, peek(ps)->line);

	expect(ps, T_LBRACE, "'{'");
	while (!accept(ps, T_RBRACE)) {
		if (peek(ps)->t == T_EOF)
			syntax_error(n->line, "block not closed");
		node_add(n, parse_stmt(ps));
	}
	return n;
}

static struct node *parse_if(struct parser *ps, int line)
{
	struct node *n = node_new(N_IF, line);

	n->a = parse_expr(ps);
	n->b = parse_block(ps);
	if (accept(ps, T_ELSE)) {
		int eline = peek(ps)->line;

		if (accept(ps, T_IF))
			n->c = parse_if(ps, eline);
		else
			n->c = parse_block(ps);
	}
	return n;
}

static struct node *parse_stmt(struct parser *ps)
{
	struct token *tk = peek(ps);
	int line = tk->line;
	struct node *n;

	if (accept(ps, T_LET)) {
		n = node_new(N_LET, line);
		n->s = take_ident(ps, "variable name after let");
		expect(ps, T_ASSIGN, "'=' after let NAME");
		n->a = parse_expr(ps);
		expect(ps, T_SEMI, "';'");
		return n;
	}
	if (tk->t == T_FN && ps->toks[ps->pos + 1].t == T_IDENT) {
		/* fn NAME(...) {...} is let NAME = fn(...) {...}; */
		ps->pos++;
		n = node_new(N_LET, line);
		n->s = take_ident(ps, "function name");
		n->s->refs++;
		n->a = parse_fn(ps, line, n->s);
		return n;
	}
	if (accept(ps, T_IF))
		return parse_if(ps, line);
	if (accept(ps, T_WHILE)) {
		n = node_new(N_WHILE, line);
		n->a = parse_expr(ps);
		n->b = parse_block(ps);
		return n;
	}
	if (accept(ps, T_FOR)) {
		n = node_new(N_FOR, line);
		n->s = take_ident(ps, "loop variable");
		expect(ps, T_IN, "'in'");
		n->a = parse_expr(ps);
		n->b = parse_block(ps);
		return n;
	}
	if (accept(ps, T_RETURN)) {
		n = node_new(N_RETURN, line);
		if (peek(ps)->t != T_SEMI)
			n->a = parse_expr(ps);
		expect(ps, T_SEMI, "';' after return");
		return n;
	}
	if (accept(ps, T_BREAK) || accept(ps, T_CONTINUE)) {
		n = node_new(tk->t == T_BREAK ? N_BREAK : N_CONTINUE, line);
		expect(ps, T_SEMI, "';'");
		return n;
	}
	if (tk->t == T_LBRACE)
		return parse_block(ps);

	n = parse_expr(ps);
	if (accept(ps, T_ASSIGN)) {
		struct node *a = node_new(N_ASSIGN, line);

		if (n->t != N_VAR && n->t != N_INDEX)
			syntax_error(line, "cannot assign to this expression");
		a->a = n;
		a->b = parse_expr(ps);
		n = a;
	} else {
		struct node *e = node_new(N_EXPR, line);

		e->a = n;
		n = e;
	}
	expect(ps, T_SEMI, "';'");
	return n;
}

/* Parse a whole program into one N_BLOCK. The tokens are freed by the caller. */
static struct node *parse_program(struct token *toks)
{
	struct parser ps = { .toks = toks };
	struct node *prog = node_new(N_BLOCK, 1);

	while (peek(&ps)->t != T_EOF)
		node_add(prog, parse_stmt(&ps));
	return prog;
}

static void tokens_free(struct token *toks, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (toks[i].s)
			str_decref(toks[i].s);
	free(toks);
}

/* ---------------------------------------------------------------- evaluator */

enum status { ST_NORMAL, ST_RETURN, ST_BREAK, ST_CONTINUE };

struct interp {
	struct value ret;	/* value of the last return */
	int depth;		/* nested calls */
	uint64_t steps;		/* statements executed */
};

static struct interp I;

static struct value eval(struct node *n, struct env *e);
static enum status exec(struct node *n, struct env *e);
static struct value call_value(int line, struct value fv, int argc, struct value *argv);

static struct value arith(struct node *n, struct value a, struct value b)
{
	if (n->op == T_PLUS && (a.t == V_STR || b.t == V_STR)) {
		struct str *sa = value_to_str(a), *sb = value_to_str(b);
		struct value r = mk_str(str_cat(sa->data, sa->len, sb->data, sb->len));

		str_decref(sa);
		str_decref(sb);
		return r;
	}
	if (n->op == T_PLUS && a.t == V_LIST && b.t == V_LIST) {
		struct list *l = list_new(a.l->len + b.l->len);
		size_t i;

		for (i = 0; i < a.l->len; i++)
			list_push(l, value_incref(a.l->items[i]));
		for (i = 0; i < b.l->len; i++)
			list_push(l, value_incref(b.l->items[i]));
		return mk_list(l);
	}
	if (n->op == T_EQ)
		return mk_bool(values_equal(a, b));
	if (n->op == T_NE)
		return mk_bool(!values_equal(a, b));
	if (a.t == V_STR && b.t == V_STR) {
		int c = strcmp(a.s->data, b.s->data);

		switch (n->op) {
		case T_LT: return mk_bool(c < 0);
		case T_LE: return mk_bool(c <= 0);
		case T_GT: return mk_bool(c > 0);
		case T_GE: return mk_bool(c >= 0);
		default: break;
		}
	}
	if (a.t != V_INT || b.t != V_INT)
		runtime_error(n->line, "bad operand types %s and %s", type_name(a.t), type_name(b.t));
	switch (n->op) {
	case T_PLUS: return mk_int((int64_t)((uint64_t)a.i + (uint64_t)b.i));
	case T_MINUS: return mk_int((int64_t)((uint64_t)a.i - (uint64_t)b.i));
	case T_STAR: return mk_int((int64_t)((uint64_t)a.i * (uint64_t)b.i));
	case T_SLASH:
	case T_PERCENT:
		if (b.i == 0)
			runtime_error(n->line, "division by zero");
		if (a.i == INT64_MIN && b.i == -1)
			return mk_int(n->op == T_SLASH ? INT64_MIN : 0);
		return mk_int(n->op == T_SLASH ? a.i / b.i : a.i % b.i);
	case T_LT: return mk_bool(a.i < b.i);
	case T_LE: return mk_bool(a.i <= b.i);
	case T_GT: return mk_bool(a.i > b.i);
	case T_GE: return mk_bool(a.i >= b.i);
	default: break;
	}
	runtime_error(n->line, "bad operator");
}

static int64_t list_index(int line, struct list *l, struct value idx)
{
	if (idx.t != V_INT)
		runtime_error(line, "list index must be an int, not %s", type_name(idx.t));
	if (idx.i < 0 || (uint64_t)idx.i >= l->len)
		runtime_error(line, "list index %lld out of range (length %zu)", (long long)idx.i,
			      l->len);
	return idx.i;
}

static struct value eval_index(struct node *n, struct value base, struct value idx)
{
	switch (base.t) {
	case V_LIST:
		return value_incref(base.l->items[list_index(n->line, base.l, idx)]);
	case V_STR:
		if (idx.t != V_INT || idx.i < 0 || (uint64_t)idx.i >= base.s->len)
			runtime_error(n->line, "bad string index");
		return mk_str(str_new(base.s->data + idx.i, 1));
	case V_MAP: {
		struct mslot *s;

		if (idx.t != V_STR)
			runtime_error(n->line, "map key must be a string, not %s", type_name(idx.t));
		s = map_find(base.m, idx.s);
		return s ? value_incref(s->val) : nil_value;
	}
	default:
		runtime_error(n->line, "cannot index a %s", type_name(base.t));
	}
}

static struct value make_closure(struct node *n, struct env *e)
{
	struct func *f = xmalloc(sizeof(*f));
	struct value v = { .t = V_FUNC };

	f->refs = 1;
	f->def = n;
	f->closure = e;
	e->refs++;
	v.f = f;
	return v;
}

static struct value eval_call(struct node *n, struct env *e)
{
	struct value fv = eval(n->a, e), r;
	struct value args_small[8], *argv = args_small;
	int i;

	if (n->nkids > 8)
		argv = xmalloc(n->nkids * sizeof(*argv));
	for (i = 0; i < n->nkids; i++)
		argv[i] = eval(n->kids[i], e);
	r = call_value(n->line, fv, n->nkids, argv);
	for (i = 0; i < n->nkids; i++)
		value_decref(argv[i]);
	if (argv != args_small)
		free(argv);
	value_decref(fv);
	return r;
}

/* Evaluate expression @n in @e. Return: a new reference. */
static struct value eval(struct node *n, struct env *e)
{
	struct value a, b, r;

	switch (n->t) {
	case N_INT: return mk_int(n->ival);
	case N_STR: n->s->refs++; return mk_str(n->s);
	case N_TRUE: return mk_bool(1);
	case N_FALSE: return mk_bool(0);
	case N_NIL: return nil_value;
	case N_VAR: {
		struct value *v = env_lookup(e, n->s);

		if (!v)
			runtime_error(n->line, "undefined variable '%s'", n->s->data);
		return value_incref(*v);
	}
	case N_LIST: {
		struct list *l = list_new(n->nkids);
		int i;

		for (i = 0; i < n->nkids; i++)
			list_push(l, eval(n->kids[i], e));
		return mk_list(l);
	}
	case N_MAP: {
		struct map *m = map_new();
		int i;

		for (i = 0; i < n->nkids; i += 2) {
			a = eval(n->kids[i], e);
			if (a.t != V_STR)
				runtime_error(n->line, "map key must be a string");
			map_set(m, a.s, eval(n->kids[i + 1], e));
			value_decref(a);
		}
		return mk_map(m);
	}
	case N_FN: return make_closure(n, e);
	case N_CALL: return eval_call(n, e);
	case N_INDEX:
		a = eval(n->a, e);
		b = eval(n->b, e);
		r = eval_index(n, a, b);
		value_decref(a);
		value_decref(b);
		return r;
	case N_BIN:
		a = eval(n->a, e);
		b = eval(n->b, e);
		r = arith(n, a, b);
		value_decref(a);
		value_decref(b);
		return r;
	case N_NEG:
		a = eval(n->a, e);
		if (a.t != V_INT)
			runtime_error(n->line, "cannot negate a %s", type_name(a.t));
		return mk_int((int64_t)(0 - (uint64_t)a.i));
	case N_NOT:
		a = eval(n->a, e);
		r = mk_bool(!truthy(a));
		value_decref(a);
		return r;
	case N_AND:
	case N_OR:
		a = eval(n->a, e);
		if (truthy(a) == (n->t == N_OR))
			return a;
		value_decref(a);
		return eval(n->b, e);
	default:
		runtime_error(n->line, "not an expression");
	}
}

static void assign(struct node *n, struct env *e)
{
	struct node *target = n->a;
	struct value v = eval(n->b, e);

	if (target->t == N_VAR) {
		struct value *slot = env_lookup(e, target->s);

		if (!slot)
			runtime_error(n->line, "assignment to undeclared '%s'", target->s->data);
		value_decref(*slot);
		*slot = v;
	} else {
		struct value base = eval(target->a, e), idx = eval(target->b, e);

		if (base.t == V_LIST) {
			int64_t i = list_index(n->line, base.l, idx);

			value_decref(base.l->items[i]);
			base.l->items[i] = v;
		} else if (base.t == V_MAP) {
			if (idx.t != V_STR)
				runtime_error(n->line, "map key must be a string");
			map_set(base.m, idx.s, v);
		} else {
			runtime_error(n->line, "cannot assign into a %s", type_name(base.t));
		}
		value_decref(base);
		value_decref(idx);
	}
}

static enum status exec_block(struct node *n, struct env *e)
{
	enum status st;
	int i;

	for (i = 0; i < n->nkids; i++) {
		st = exec(n->kids[i], e);
		if (st != ST_NORMAL)
			return st;
	}
	return ST_NORMAL;
}

/* Run @body once with @var bound to @v in a fresh scope (each iteration has its own). */
static enum status loop_body(struct node *n, struct env *e, struct value v)
{
	struct env *scope = env_new(e);
	enum status st;

	map_set(&scope->vars, n->s, v);
	st = exec_block(n->b, scope);
	env_decref(scope);
	return st;
}

static enum status exec_for(struct node *n, struct env *e)
{
	struct value seq = eval(n->a, e);
	enum status st = ST_NORMAL;
	struct list *keys = NULL;
	size_t i;

	if (seq.t == V_MAP) {
		keys = map_keys(seq.m);
		value_decref(seq);
		seq = mk_list(keys);
	}
	if (seq.t == V_STR) {
		for (i = 0; i < seq.s->len; i++) {
			st = loop_body(n, e, mk_str(str_new(seq.s->data + i, 1)));
			if (st == ST_BREAK || st == ST_RETURN)
				break;
		}
	} else if (seq.t == V_LIST) {
		for (i = 0; i < seq.l->len; i++) {
			st = loop_body(n, e, value_incref(seq.l->items[i]));
			if (st == ST_BREAK || st == ST_RETURN)
				break;
		}
	} else {
		runtime_error(n->line, "cannot iterate over a %s", type_name(seq.t));
	}
	value_decref(seq);
	return st == ST_RETURN ? ST_RETURN : ST_NORMAL;
}

/* Execute statement @n in @e. Return: how control leaves it (I.ret holds a return value). */
static enum status exec(struct node *n, struct env *e)
{
	struct value v;
	enum status st;
	struct env *scope;

	I.steps++;
	switch (n->t) {
	case N_LET:
		v = eval(n->a, e);
		map_set(&e->vars, n->s, v);
		return ST_NORMAL;
	case N_ASSIGN:
		assign(n, e);
		return ST_NORMAL;
	case N_EXPR:
		value_decref(eval(n->a, e));
		return ST_NORMAL;
	case N_BLOCK:
		scope = env_new(e);
		st = exec_block(n, scope);
		env_decref(scope);
		return st;
	case N_IF:
		v = eval(n->a, e);
		st = ST_NORMAL;
		if (truthy(v))
			st = exec(n->b, e);
		else if (n->c)
			st = exec(n->c, e);
		value_decref(v);
		return st;
	case N_WHILE:
		for (;;) {
			v = eval(n->a, e);
			if (!truthy(v)) {
				value_decref(v);
				return ST_NORMAL;
			}
			value_decref(v);
			st = exec(n->b, e);
			if (st == ST_BREAK)
				return ST_NORMAL;
			if (st == ST_RETURN)
				return st;
		}
	case N_FOR:
		return exec_for(n, e);
	case N_RETURN:
		I.ret = n->a ? eval(n->a, e) : nil_value;
		return ST_RETURN;
	case N_BREAK: return ST_BREAK;
	case N_CONTINUE: return ST_CONTINUE;
	default:
		value_decref(eval(n, e));
		return ST_NORMAL;
	}
}

static struct value call_value(int line, struct value fv, int argc, struct value *argv)
{
	struct node *def;
	struct env *scope;
	struct value r;
	enum status st;
	int i;

	if (fv.t == V_BUILTIN) {
		const struct builtin *bi = fv.bi;

		if (argc < bi->min_args || (bi->max_args >= 0 && argc > bi->max_args))
			runtime_error(line, "%s: wrong number of arguments (%d)", bi->name, argc);
		return bi->fn(line, argc, argv);
	}
	if (fv.t != V_FUNC)
		runtime_error(line, "cannot call a %s", type_name(fv.t));
	def = fv.f->def;
	if (argc != def->nparams)
		runtime_error(line, "%s: expected %d arguments, got %d",
			      def->s ? def->s->data : "fn", def->nparams, argc);
	if (++I.depth > MAX_DEPTH)
		runtime_error(line, "stack overflow (more than %d nested calls)", MAX_DEPTH);
	scope = env_new(fv.f->closure);
	for (i = 0; i < argc; i++)
		map_set(&scope->vars, def->params[i], value_incref(argv[i]));
	st = exec_block(def->a, scope);
	r = nil_value;
	if (st == ST_RETURN) {
		r = I.ret;
		I.ret = nil_value;
	}
	env_decref(scope);
	I.depth--;
	return r;
}

/* ---------------------------------------------------------------- builtins */

static struct value bi_print(int line, int argc, struct value *argv)
{
	struct sbuf sb = { 0 };
	int i;

	for (i = 0; i < argc; i++) {
		if (i)
			sb_puts(&sb, " ");
		value_repr(&sb, argv[i], 0, 0);
	}
	sb_puts(&sb, "\n");
	fwrite(sb.data, 1, sb.len, stdout);
	free(sb.data);
	return nil_value;
}

static struct value bi_len(int line, int argc, struct value *argv)
{
	switch (argv[0].t) {
	case V_STR: return mk_int(argv[0].s->len);
	case V_LIST: return mk_int(argv[0].l->len);
	case V_MAP: return mk_int(argv[0].m->count);
	default: runtime_error(line, "len of a %s", type_name(argv[0].t));
	}
}

static struct list *want_list(int line, const char *fn, struct value v)
{
	if (v.t != V_LIST)
		runtime_error(line, "%s: expected a list, got %s", fn, type_name(v.t));
	return v.l;
}

static struct map *want_map(int line, const char *fn, struct value v, struct value k)
{
	if (v.t != V_MAP || k.t != V_STR)
		runtime_error(line, "%s: expected a map and a string key", fn);
	return v.m;
}

static struct value bi_push(int line, int argc, struct value *argv)
{
	list_push(want_list(line, "push", argv[0]), value_incref(argv[1]));
	return nil_value;
}

static struct value bi_pop(int line, int argc, struct value *argv)
{
	struct list *l = want_list(line, "pop", argv[0]);

	if (!l->len)
		runtime_error(line, "pop from an empty list");
	return l->items[--l->len];
}

static struct value bi_str(int line, int argc, struct value *argv)
{
	return mk_str(value_to_str(argv[0]));
}

static struct value bi_int(int line, int argc, struct value *argv)
{
	char *end;
	long long v;

	if (argv[0].t == V_INT)
		return argv[0];
	if (argv[0].t != V_STR)
		runtime_error(line, "int of a %s", type_name(argv[0].t));
	errno = 0;
	v = strtoll(argv[0].s->data, &end, 10);
	if (errno || end == argv[0].s->data || *end)
		return nil_value;
	return mk_int(v);
}

static struct value bi_keys(int line, int argc, struct value *argv)
{
	if (argv[0].t != V_MAP)
		runtime_error(line, "keys of a %s", type_name(argv[0].t));
	return mk_list(map_keys(argv[0].m));
}

static struct value bi_has(int line, int argc, struct value *argv)
{
	return mk_bool(map_find(want_map(line, "has", argv[0], argv[1]), argv[1].s) != NULL);
}

static struct value bi_del(int line, int argc, struct value *argv)
{
	return mk_bool(map_del(want_map(line, "del", argv[0], argv[1]), argv[1].s));
}

static struct value bi_substr(int line, int argc, struct value *argv)
{
	int64_t start, len;
	struct str *s;

	if (argv[0].t != V_STR || argv[1].t != V_INT || (argc > 2 && argv[2].t != V_INT))
		runtime_error(line, "substr(string, start[, length])");
	s = argv[0].s;
	start = argv[1].i < 0 ? 0 : argv[1].i;
	if ((uint64_t)start > s->len)
		start = s->len;
	len = argc > 2 ? argv[2].i : (int64_t)s->len;
	if (len < 0)
		len = 0;
	if ((uint64_t)len > s->len - start)
		len = s->len - start;
	return mk_str(str_new(s->data + start, len));
}

static struct value bi_ord(int line, int argc, struct value *argv)
{
	if (argv[0].t != V_STR || argv[0].s->len == 0)
		runtime_error(line, "ord of a non-empty string");
	return mk_int((unsigned char)argv[0].s->data[0]);
}

static struct value bi_chr(int line, int argc, struct value *argv)
{
	char c;

	if (argv[0].t != V_INT || argv[0].i < 1 || argv[0].i > 255)
		runtime_error(line, "chr of an int in 1..255");
	c = (char)argv[0].i;
	return mk_str(str_new(&c, 1));
}

static struct value bi_split(int line, int argc, struct value *argv)
{
	struct list *l = list_new(0);
	const char *p, *q;
	struct str *sep;

	if (argv[0].t != V_STR || argv[1].t != V_STR || argv[1].s->len == 0)
		runtime_error(line, "split(string, non-empty separator)");
	sep = argv[1].s;
	for (p = argv[0].s->data; (q = strstr(p, sep->data)); p = q + sep->len)
		list_push(l, mk_str(str_new(p, q - p)));
	list_push(l, mk_cstr(p));
	return mk_list(l);
}

static struct value bi_join(int line, int argc, struct value *argv)
{
	struct list *l = want_list(line, "join", argv[0]);
	struct sbuf sb = { 0 };
	size_t i;

	if (argv[1].t != V_STR)
		runtime_error(line, "join(list, separator string)");
	for (i = 0; i < l->len; i++) {
		struct str *s = value_to_str(l->items[i]);

		if (i)
			sb_add(&sb, argv[1].s->data, argv[1].s->len);
		sb_add(&sb, s->data, s->len);
		str_decref(s);
	}
	return mk_str(sb_finish(&sb));
}

static int sort_line;

static int compare_values(const void *pa, const void *pb)
{
	const struct value *a = pa, *b = pb;

	if (a->t == V_INT && b->t == V_INT)
		return (a->i > b->i) - (a->i < b->i);
	if (a->t == V_STR && b->t == V_STR)
		return strcmp(a->s->data, b->s->data);
	runtime_error(sort_line, "sort: cannot compare %s and %s", type_name(a->t), type_name(b->t));
}

static struct value bi_sort(int line, int argc, struct value *argv)
{
	struct list *l = want_list(line, "sort", argv[0]);

	sort_line = line;
	if (l->len > 1)
		qsort(l->items, l->len, sizeof(*l->items), compare_values);
	return nil_value;
}

static struct value bi_range(int line, int argc, struct value *argv)
{
	int64_t from = 0, to, i;
	struct list *l;

	if (argv[0].t != V_INT || (argc > 1 && argv[1].t != V_INT))
		runtime_error(line, "range(int[, int])");
	to = argv[0].i;
	if (argc > 1) {
		from = argv[0].i;
		to = argv[1].i;
	}
	if (to - from > 100000000)
		runtime_error(line, "range too large");
	l = list_new(to > from ? to - from : 0);
	for (i = from; i < to; i++)
		list_push(l, mk_int(i));
	return mk_list(l);
}

static struct value bi_type(int line, int argc, struct value *argv)
{
	return mk_cstr(type_name(argv[0].t));
}

static struct value bi_assert(int line, int argc, struct value *argv)
{
	if (!truthy(argv[0])) {
		struct str *msg = argc > 1 ? value_to_str(argv[1]) : str_new("assertion", 9);

		runtime_error(line, "assert failed: %s", msg->data);
	}
	return nil_value;
}

static struct value bi_exit(int line, int argc, struct value *argv)
{
	if (argv[0].t != V_INT)
		runtime_error(line, "exit(int)");
	fflush(stdout);
	exit((int)(argv[0].i & 255));
}

static const struct builtin builtins[] = {
	{ "print", 0, -1, bi_print }, { "len", 1, 1, bi_len }, { "push", 2, 2, bi_push },
	{ "pop", 1, 1, bi_pop }, { "str", 1, 1, bi_str }, { "int", 1, 1, bi_int },
	{ "keys", 1, 1, bi_keys }, { "has", 2, 2, bi_has }, { "del", 2, 2, bi_del },
	{ "substr", 2, 3, bi_substr }, { "ord", 1, 1, bi_ord }, { "chr", 1, 1, bi_chr },
	{ "split", 2, 2, bi_split }, { "join", 2, 2, bi_join }, { "sort", 1, 1, bi_sort },
	{ "range", 1, 2, bi_range }, { "type", 1, 1, bi_type }, { "assert", 1, 2, bi_assert },
	{ "exit", 1, 1, bi_exit },
};

/* ---------------------------------------------------------------- main */

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct sbuf sb = { 0 };
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		sb_add(&sb, chunk, n);
	if (ferror(f)) {
		fclose(f);
		free(sb.data);
		return NULL;
	}
	fclose(f);
	if (!sb.data)
		sb_add(&sb, "", 0);
	return sb.data;
}

static struct env *make_globals(int argc, char **argv)
{
	struct env *g = env_new(NULL);
	struct list *args = list_new(argc);
	size_t i;
	int j;

	for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
		struct value v = { .t = V_BUILTIN, .bi = &builtins[i] };
		struct str *name = str_new(builtins[i].name, strlen(builtins[i].name));

		map_set(&g->vars, name, v);
		str_decref(name);
	}
	for (j = 0; j < argc; j++)
		list_push(args, mk_cstr(argv[j]));
	{
		struct str *name = str_new("args", 4);

		map_set(&g->vars, name, mk_list(args));
		str_decref(name);
	}
	return g;
}

int main(int argc, char **argv)
{
	struct token *toks;
	struct node *prog;
	struct env *globals;
	size_t ntoks;
	char *src;
	int first;

	if (argc < 2) {
		fputs("usage: interp SCRIPT [ARGS...] | interp -e CODE [ARGS...]\n", stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-e")) {
		if (argc < 3) {
			fputs("interp: -e needs code\n", stderr);
			return 2;
		}
		src = strdup(argv[2]);
		if (!src)
			oom();
		first = 3;
	} else {
		src = read_file(argv[1]);
		if (!src) {
			fprintf(stderr, "interp: %s: %s\n", argv[1], strerror(errno));
			return 2;
		}
		first = 2;
	}

	toks = lex(src, &ntoks);
	free(src);
	prog = parse_program(toks);
	tokens_free(toks, ntoks);

	globals = make_globals(argc - first, argv + first);
	exec_block(prog, globals);

	/* Globals hold the top-level functions, whose closures hold the globals: clear the
	 * table first to break those cycles. Cycles made inside calls stay (see closures.toy). */
	map_clear(&globals->vars);
	env_decref(globals);
	value_decref(I.ret);
	node_free(prog);
	fflush(stdout);
	if (getenv("TOY_STATS"))
		fprintf(stderr, "interp: %lu allocations by xmalloc, xcalloc, xrealloc\n", nallocs);
	return 0;
}
