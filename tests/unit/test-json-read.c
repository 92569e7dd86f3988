// SPDX-License-Identifier: MIT
/*
 * runner/json-read.c: what it accepts (RFC 8259 values, escapes, surrogate pairs, 64-bit
 * integers) and every way it refuses (one message with the byte offset), and the writer's
 * round trip.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "runner/json-read.h"
#include "tests/unit/testutil.h"

static struct jv *ok(const char *text)
{
	struct jv *v;
	char err[128];

	ck_assert_msg(jr_parse(text, strlen(text), &v, err, sizeof(err)) == 0, "%s: %s", text,
		      err);
	return v;
}

static void bad(const char *text, const char *why)
{
	struct jv *v = (struct jv *)1;
	char err[128];

	ck_assert_msg(jr_parse(text, strlen(text), &v, err, sizeof(err)) == -1, "accepted %s", text);
	ck_assert(v == NULL);
	ck_assert_msg(strstr(err, why) != NULL, "%s: '%s' has no '%s'", text, err, why);
}

START_TEST(test_values)
{
	struct jv *v = ok(" {\"functions\": [{\"name\": \"crunch\", \"calls\": 1, "
			  "\"self_ns\": 18446744073709551615, \"x\": -3, \"f\": 2.5e3, "
			  "\"ok\": true, \"no\": null}], \"e\": {}, \"a\": []}\n");
	const struct jv *f = jr_at(jr_get(v, "functions"), 0);
	uint64_t u;

	ck_assert_uint_eq(jr_len(jr_get(v, "functions")), 1);
	ck_assert_str_eq(jr_str(jr_get(f, "name")), "crunch");
	ck_assert(jr_u64(jr_get(f, "self_ns"), &u) && u == UINT64_MAX);
	ck_assert(!jr_u64(jr_get(f, "x"), &u));	/* negative */
	ck_assert(jr_get(f, "x")->is_i64 && jr_get(f, "x")->i64 == -3);
	ck_assert(!jr_u64(jr_get(f, "f"), &u));	/* not written as an integer */
	ck_assert(jr_get(f, "f")->num == 2500);
	ck_assert(jr_get(f, "ok")->type == JV_BOOL && jr_get(f, "ok")->b);
	ck_assert(jr_get(f, "no")->type == JV_NULL);
	ck_assert(jr_get(f, "missing") == NULL);
	ck_assert(jr_get(jr_get(f, "name"), "x") == NULL);	/* not an object */
	ck_assert_uint_eq(jr_len(jr_get(v, "a")), 0);
	ck_assert(jr_at(jr_get(v, "a"), 0) == NULL);
	jr_free(v);
	/* 2^64 does not fit: a double only */
	v = ok("18446744073709551616");
	ck_assert(!v->is_u64 && v->num == 18446744073709551616.0);
	jr_free(v);
	v = ok("-0");
	ck_assert(v->is_i64 && v->i64 == 0);
	jr_free(v);
}
END_TEST

START_TEST(test_strings)
{
	struct jv *v = ok("[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\", \"\\u00e9\\u20ac\", "
			  "\"\\ud83d\\ude00\", \"\xc3\xa9 raw\", \"ns::W<int>::f(int)\"]");

	ck_assert_str_eq(jr_str(jr_at(v, 0)), "a\"b\\c/d\b\f\n\r\t");
	ck_assert_str_eq(jr_str(jr_at(v, 1)), "\xc3\xa9\xe2\x82\xac");
	ck_assert_str_eq(jr_str(jr_at(v, 2)), "\xf0\x9f\x98\x80");
	ck_assert_str_eq(jr_str(jr_at(v, 3)), "\xc3\xa9 raw");
	jr_free(v);
}
END_TEST

START_TEST(test_refused)
{
	bad("", "end of the text");
	bad("   ", "end of the text");
	bad("{\"a\":1} x", "text after the value");
	bad("{\"a\":1}{}", "text after the value");
	bad("{\"a\":1,}", "expected a key");
	bad("[1,]", "unexpected character ']'");
	bad("[1 2]", "expected ',' or ']'");
	bad("{\"a\" 1}", "expected ':'");
	bad("{\"a\":1,\"a\":2}", "the key \"a\" twice");
	bad("{a:1}", "expected a key");
	bad("[01]", "bad number");
	bad("[1.]", "no digit after '.'");
	bad("[.5]", "unexpected character '.'");
	bad("[1e]", "no digit in the exponent");
	bad("[+1]", "unexpected character '+'");
	bad("[1e999]", "out of range");
	bad("[tru]", "expected 'true'");
	bad("[nul", "expected 'null'");
	bad("\"abc", "unterminated string");
	bad("\"a\tb\"", "control character");
	bad("\"\\x\"", "bad escape");
	bad("\"\\u12\"", "four hex digits");
	bad("\"\\ud83d\"", "high surrogate without a low");
	bad("\"\\ude00\"", "low surrogate without a high");
	bad("\"\\u0000\"", "\\u0000");
	bad("\"\xc3\"", "not UTF-8");
	bad("\"\xc0\xaf\"", "not UTF-8");		/* overlong '/' */
	bad("\"\xed\xa0\x80\"", "not UTF-8");		/* an encoded surrogate */
	bad("\"\xf4\x90\x80\x80\"", "not UTF-8");	/* above U+10FFFF */
	bad("{\"a\":NaN}", "unexpected character 'N'");
}
END_TEST

START_TEST(test_depth)
{
	char deep[2 * JSON_MAX_DEPTH + 8];
	struct jv *v;
	int i;

	for (i = 0; i < JSON_MAX_DEPTH; i++) {
		deep[i] = '[';
		deep[JSON_MAX_DEPTH + i] = ']';
	}
	deep[2 * JSON_MAX_DEPTH] = '\0';
	v = ok(deep);
	jr_free(v);
	memmove(deep + 1, deep, strlen(deep) + 1);
	deep[0] = '[';
	strcat(deep, "]");
	bad(deep, "nested deeper than 256");
}
END_TEST

START_TEST(test_offset_and_roundtrip)
{
	const char *text = "{\"s\":[\"a\\\"\\u0001\",-5,18446744073709551615,0.25,true,null,{}]}";
	struct jv *v;
	char err[128], *buf;
	size_t len;
	FILE *f;

	ck_assert_int_eq(jr_parse("[1, x]", 6, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "offset 4: unexpected character 'x'");
	/* a NUL inside the given length is text after the value */
	ck_assert_int_eq(jr_parse("[1]\0", 4, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "offset 3: text after the value");
	/* a length shorter than the text: only that much is read */
	ck_assert_int_eq(jr_parse("[1]garbage", 3, &v, err, sizeof(err)), 0);
	jr_free(v);
	v = ok(text);
	f = open_memstream(&buf, &len);
	jr_write_value(f, v);
	fclose(f);
	ck_assert_str_eq(buf, text);
	free(buf);
	jr_free(v);
	jr_free(NULL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("json-read");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_strings);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_depth);
	tcase_add_test(tc, test_offset_and_roundtrip);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite()) ? 1 : 0;
}
