/* SPDX-License-Identifier: MIT */
/*
 * A small, strict JSON reader (RFC 8259) for the runner: `perfshim compare` reads the
 * analyzer's --format=json output through it, as any outside program would, instead of
 * linking the analyzer. Strict: one value, UTF-8 only, no duplicate keys, no \u0000, no
 * trailing text, nesting at most JSON_MAX_DEPTH. Integers keep all 64 bits.
 */
#ifndef PERFSHIM_JSON_READ_H
#define PERFSHIM_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 256

enum jv_type { JV_NULL, JV_BOOL, JV_NUMBER, JV_STRING, JV_ARRAY, JV_OBJECT };

struct jv_member;

struct jv {
	enum jv_type type;
	bool b;				/* JV_BOOL */
	double num;			/* JV_NUMBER, as a double */
	bool is_u64, is_i64;		/* JV_NUMBER written as an integer that fits */
	uint64_t u64;
	int64_t i64;
	char *str;			/* JV_STRING: UTF-8, NUL-terminated */
	struct jv *items;		/* JV_ARRAY */
	struct jv_member *members;	/* JV_OBJECT, in document order */
	uint32_t n;			/* items or members */
};

struct jv_member {
	char *key;
	struct jv val;
};

int jr_parse(const char *text, size_t len, struct jv **out, char *err, size_t errlen);
void jr_free(struct jv *v);

const struct jv *jr_get(const struct jv *obj, const char *key);
const struct jv *jr_at(const struct jv *arr, uint32_t i);
uint32_t jr_len(const struct jv *arr);
bool jr_u64(const struct jv *v, uint64_t *out);
const char *jr_str(const struct jv *v);

void jr_write_string(FILE *f, const char *s);
void jr_write_value(FILE *f, const struct jv *v);

#endif /* PERFSHIM_JSON_READ_H */
