// SPDX-License-Identifier: MIT
/*
 * analyzer/hmap.h and util.h's ARRAY_GROW against a plain reference: random inserts and
 * deletes of clustered keys (the backward shift must keep every probe run intact), repeated
 * keys, string records whose hashes collide, and arrays whose capacity type is narrow.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/hmap.h"
#include "tests/unit/testutil.h"

struct ent {
	uint64_t key;
	uint64_t val;
};
HMAP_DEFINE(emap, struct ent, key)

struct name {
	uint64_t key;
	const char *str;
	uint32_t id;
};
HMAP_DEFINE_STR(nmap, struct name, key, str)

static uint64_t rng = 88172645463325252ULL;

static uint64_t rnd(void)		/* xorshift64 from a fixed seed */
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

#define NKEYS 5000

START_TEST(test_random_ops)
{
	static uint64_t ref[NKEYS];	/* value + 1 of key i + 1, 0 = absent */
	struct emap m = { 0 };
	uint64_t present = 0, i;
	unsigned step;
	struct ent *e;

	for (step = 0; step < 200000; step++) {
		/* keys 1..NKEYS: dense, so home slots collide and runs wrap around */
		uint64_t k = rnd() % NKEYS + 1;
		bool created;

		if (rnd() % 3) {
			e = emap_put(&m, k * 4096, &created);
			ck_assert(created == !ref[k - 1]);
			if (created) {
				ck_assert_uint_eq(e->val, 0);
				present++;
			}
			e->val = step;
			ref[k - 1] = (uint64_t)step + 1;
		} else {
			e = emap_get(&m, k * 4096);
			ck_assert(!e == !ref[k - 1]);
			if (e) {
				ck_assert_uint_eq(e->val + 1, ref[k - 1]);
				emap_del(&m, e);
				ref[k - 1] = 0;
				present--;
			}
		}
		ck_assert_uint_eq(m.n, present);
	}
	for (i = 0; i < NKEYS; i++) {
		e = emap_get(&m, (i + 1) * 4096);
		ck_assert(!e == !ref[i]);
		if (e)
			ck_assert_uint_eq(e->val + 1, ref[i]);
	}
	for (i = 0, e = emap_each(&m, NULL); e; e = emap_each(&m, e))
		i++;
	ck_assert_uint_eq(i, present);
	ck_assert_uint_le(m.n * 4, (m.mask + 1) * 3);
	emap_free(&m);
	ck_assert_ptr_null(emap_get(&m, 4096));
	ck_assert_ptr_null(emap_each(&m, NULL));
}
END_TEST

START_TEST(test_repeated_keys)
{
	struct emap m = { 0 };
	struct ent *e;
	uint64_t sum = 0, n = 0;
	unsigned i;

	for (i = 1; i <= 10; i++) {
		emap_add(&m, 7);
		e = emap_add(&m, 7 + 64 * i);	/* other keys in between */
		e->val = 1000;
	}
	for (i = 1, e = emap_get(&m, 7); e; e = emap_next(&m, e), i++)
		e->val = i;
	ck_assert_uint_eq(i, 11);
	for (e = emap_get(&m, 7); e; e = emap_next(&m, e)) {
		sum += e->val;
		n++;
	}
	ck_assert_uint_eq(n, 10);
	ck_assert_uint_eq(sum, 55);
	/* deleting one leaves the nine others reachable */
	e = emap_get(&m, 7);
	emap_del(&m, e);
	for (n = 0, e = emap_get(&m, 7); e; e = emap_next(&m, e))
		n++;
	ck_assert_uint_eq(n, 9);
	ck_assert_uint_eq(m.n, 19);
	emap_free(&m);
}
END_TEST

START_TEST(test_strings)
{
	struct nmap m = { 0 };
	char buf[32];
	struct name *e;
	bool created;
	unsigned i;

	for (i = 0; i < 3000; i++) {
		snprintf(buf, sizeof(buf), "name%u", i % 1000);
		e = nmap_intern(&m, buf, &created);
		ck_assert(created == (i < 1000));
		if (created) {
			e->str = xstrdup(buf);
			e->id = i;
		}
		ck_assert_uint_eq(e->id, i % 1000);
	}
	ck_assert_uint_eq(m.n, 1000);
	ck_assert_ptr_null(nmap_find(&m, "name1000"));
	ck_assert_uint_eq(nmap_find(&m, "name999")->id, 999);
	/* two different strings under one key: both found by name */
	e = nmap_add(&m, hmap_key_str("name5"));
	e->str = xstrdup("other");
	e->id = 5000;
	ck_assert_uint_eq(nmap_find(&m, "name5")->id, 5);
	ck_assert_ptr_null(nmap_find(&m, "other"));	/* its key is not "other"'s */
	for (e = nmap_each(&m, NULL); e; e = nmap_each(&m, e))
		free((char *)e->str);
	nmap_free(&m);
	ck_assert_uint_ne(hmap_key_str(""), 0);
}
END_TEST

START_TEST(test_array_grow)
{
	uint8_t cap8 = 0;
	uint32_t cap = 0, i;
	uint64_t *v = NULL;
	int *z = NULL;
	size_t zcap = 0;

	for (i = 0; i < 100000; i++) {
		ARRAY_GROW(v, cap, i + 1);
		v[i] = i;
	}
	ck_assert_uint_ge(cap, 100000);
	ck_assert_uint_lt(cap, 200000);
	for (i = 0; i < 100000; i++)
		ck_assert_uint_eq(v[i], i);
	free(v);
	v = NULL;
	ARRAY_GROW(v, cap8, 200);		/* narrow capacity: clamped to its type */
	ck_assert_uint_eq(cap8, 200);
	ARRAY_GROW(v, cap8, 201);
	ck_assert_uint_eq(cap8, 255);
	free(v);
	ARRAY_GROW_ZERO(z, zcap, 5);
	ARRAY_GROW_ZERO(z, zcap, 40);
	ck_assert_uint_eq(zcap, 40);
	for (i = 0; i < 40; i++)
		ck_assert_int_eq(z[i], 0);
	free(z);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hmap");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_random_ops);
	tcase_add_test(tc, test_repeated_keys);
	tcase_add_test(tc, test_strings);
	tcase_add_test(tc, test_array_grow);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(suite()) ? 1 : 0;
}
