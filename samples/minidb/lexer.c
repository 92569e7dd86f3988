/* SPDX-License-Identifier: MIT */
/*
 * minidb lexer: SQL tokens with one token of look-ahead. Keywords are case-insensitive;
 * "--" starts a comment to the end of the line; strings are in single quotes ('' is a quote).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "minidb.h"

static const struct {
	const char *word;
	enum tok t;
} keywords[] = {
	{ "AND", K_AND },	  { "AS", K_AS },	    { "ASC", K_ASC },
	{ "BETWEEN", K_BETWEEN }, { "BY", K_BY },	    { "CREATE", K_CREATE },
	{ "DELETE", K_DELETE },	  { "DESC", K_DESC },	    { "DISTINCT", K_DISTINCT },
	{ "FROM", K_FROM },	  { "GROUP", K_GROUP },	    { "HAVING", K_HAVING },
	{ "IN", K_IN },		  { "INDEX", K_INDEX },	    { "INNER", K_INNER },
	{ "INSERT", K_INSERT },	  { "INTO", K_INTO },	    { "IS", K_IS },
	{ "JOIN", K_JOIN },	  { "KEY", K_KEY },	    { "LIKE", K_LIKE },
	{ "LIMIT", K_LIMIT },	  { "NOT", K_NOT },	    { "NULL", K_NULL },
	{ "ON", K_ON },		  { "OR", K_OR },	    { "ORDER", K_ORDER },
	{ "PRIMARY", K_PRIMARY }, { "SELECT", K_SELECT },   { "SET", K_SET },
	{ "TABLE", K_TABLE },	  { "UPDATE", K_UPDATE },   { "VALUES", K_VALUES },
	{ "WHERE", K_WHERE },
};

static const char *const names[T_COUNT] = {
	[T_EOF] = "end of input", [T_ERROR] = "bad token", [T_IDENT] = "name",
	[T_INT] = "integer", [T_REAL] = "number", [T_STRING] = "string", [T_LPAREN] = "'('",
	[T_RPAREN] = "')'", [T_COMMA] = "','", [T_SEMI] = "';'", [T_DOT] = "'.'",
	[T_STAR] = "'*'", [T_PLUS] = "'+'", [T_MINUS] = "'-'", [T_SLASH] = "'/'",
	[T_PERCENT] = "'%'", [T_CONCAT] = "'||'", [T_EQ] = "'='", [T_NE] = "'<>'",
	[T_LT] = "'<'", [T_LE] = "'<='", [T_GT] = "'>'", [T_GE] = "'>='",
};

const char *tok_name(enum tok t)
{
	if (t >= K_AND && t < T_COUNT)
		return "keyword";
	return names[t] ? names[t] : "token";
}

/* Keywords are few: a linear search over the table, first letter checked first. */
static enum tok keyword(const char *p, size_t len)
{
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		const char *w = keywords[i].word;

		if (toupper((unsigned char)*p) != *w)
			continue;
		if (strlen(w) == len && strncasecmp(p, w, len) == 0)
			return keywords[i].t;
	}
	return T_IDENT;
}

static void skip_space(struct lexer *lx)
{
	for (;;) {
		char c = *lx->pos;

		if (c == '\n') {
			lx->line++;
			lx->pos++;
		} else if (isspace((unsigned char)c)) {
			lx->pos++;
		} else if (c == '-' && lx->pos[1] == '-') {
			while (*lx->pos && *lx->pos != '\n')
				lx->pos++;
		} else {
			return;
		}
	}
}

static void lex_number(struct lexer *lx, struct token *tk)
{
	const char *p = lx->pos;
	char *end;

	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.' && isdigit((unsigned char)p[1])) {
		tk->t = T_REAL;
		tk->rval = strtod(lx->pos, &end);
		p = end;
	} else {
		tk->t = T_INT;
		tk->ival = strtoll(lx->pos, &end, 10);
	}
	tk->len = (size_t)(p - lx->pos);
	lx->pos = p;
}

static void lex_string(struct lexer *lx, struct token *tk)
{
	const char *p = lx->pos + 1;

	for (;;) {
		if (!*p) {
			tk->t = T_ERROR;
			snprintf(lx->err, sizeof(lx->err), "line %d: unterminated string", tk->line);
			lx->pos = p;
			return;
		}
		if (*p == '\'') {
			if (p[1] != '\'')
				break;
			p++;
		}
		if (*p == '\n')
			lx->line++;
		p++;
	}
	tk->t = T_STRING;
	tk->p = lx->pos + 1;
	tk->len = (size_t)(p - tk->p);	/* still with '' pairs: the parser unquotes */
	lx->pos = p + 1;
}

/* Operators of one or two characters. */
static enum tok lex_op(struct lexer *lx)
{
	char c = *lx->pos++, d = *lx->pos;

	switch (c) {
	case '(': return T_LPAREN;
	case ')': return T_RPAREN;
	case ',': return T_COMMA;
	case ';': return T_SEMI;
	case '.': return T_DOT;
	case '*': return T_STAR;
	case '+': return T_PLUS;
	case '-': return T_MINUS;
	case '/': return T_SLASH;
	case '%': return T_PERCENT;
	case '=': return T_EQ;
	case '|':
		if (d == '|') {
			lx->pos++;
			return T_CONCAT;
		}
		break;
	case '!':
		if (d == '=') {
			lx->pos++;
			return T_NE;
		}
		break;
	case '<':
		if (d == '=' || d == '>') {
			lx->pos++;
			return d == '=' ? T_LE : T_NE;
		}
		return T_LT;
	case '>':
		if (d == '=') {
			lx->pos++;
			return T_GE;
		}
		return T_GT;
	}
	return T_ERROR;
}

static void lex_one(struct lexer *lx, struct token *tk)
{
	char c;

	skip_space(lx);
	memset(tk, 0, sizeof(*tk));
	tk->p = lx->pos;
	tk->line = lx->line;
	c = *lx->pos;
	if (!c) {
		tk->t = T_EOF;
	} else if (isalpha((unsigned char)c) || c == '_') {
		const char *p = lx->pos;

		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		tk->len = (size_t)(p - lx->pos);
		tk->t = keyword(lx->pos, tk->len);
		lx->pos = p;
	} else if (isdigit((unsigned char)c)) {
		lex_number(lx, tk);
	} else if (c == '\'') {
		lex_string(lx, tk);
	} else {
		tk->t = lex_op(lx);
		tk->len = (size_t)(lx->pos - tk->p);
		if (tk->t == T_ERROR)
			snprintf(lx->err, sizeof(lx->err), "line %d: unexpected '%c'", tk->line, c);
	}
}

void lex_init(struct lexer *lx, const char *src, int line)
{
	memset(lx, 0, sizeof(*lx));
	lx->src = lx->pos = src;
	lx->line = line;
	lex_one(lx, &lx->cur);
	lex_one(lx, &lx->next);
}

void lex_advance(struct lexer *lx)
{
	lx->cur = lx->next;
	lex_one(lx, &lx->next);
}
