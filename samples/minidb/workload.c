/* SPDX-License-Identifier: MIT */
/*
 * minidb workload generator: ".gen TABLE N" fills TABLE with N deterministic rows (a fixed
 * linear congruential generator, seeded by the table's name and size, so every run makes the
 * same data). Values follow the column names: a primary key counts up, "x_id" points at a row
 * of table "xs", and "name", "city", "warehouse", "category", "age", "qty" and "day" look like
 * what they say.
 * The rows go in as INSERT statements of 100 rows each, through the lexer and parser like any
 * other SQL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minidb.h"

#define BATCH 100

static const char *const first_names[] = {
	"Ana", "Bruno", "Chloe", "David", "Emma", "Felix", "Grace", "Hugo", "Ines", "Jules",
	"Karin", "Louis", "Maya", "Noah", "Olga", "Paul", "Rosa", "Simon", "Tara", "Victor",
};
static const char *const last_names[] = {
	"Martin", "Bernard", "Dubois", "Moreau", "Laurent", "Garcia", "Rossi", "O'Brien",
	"Novak", "Weber", "Jansen", "Silva", "Kowalski", "Berg", "Costa", "Meyer", "Fischer",
	"Dupont", "Lambert", "Nakamura", "Svensson", "Horvat", "Petit", "Fontaine",
};
static const char *const cities[] = {
	"Lyon", "Porto", "Ghent", "Turin", "Leeds", "Brno", "Graz", "Malmo", "Split", "Cork",
	"Lille", "Bergen",
};
static const char *const adjectives[] = {
	"Red", "Quiet", "Rapid", "Golden", "Tiny", "Solid", "Bright", "Hollow", "Smart", "Wild",
};
static const char *const nouns[] = {
	"Lamp", "Chair", "Kettle", "Drill", "Jacket", "Router", "Teapot", "Bicycle", "Clock",
	"Backpack", "Guitar", "Blender",
};
static const char *const categories[] = {
	"garden", "kitchen", "tools", "clothing", "network", "sports", "music", "office",
};

#define PICK(list, r) (list)[(r) % (sizeof(list) / sizeof((list)[0]))]

static uint64_t rng_next(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

/* A SQL string literal: quotes doubled. */
static void put_quoted(struct sbuf *b, const char *s)
{
	sb_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			sb_putc(b, '\'');
		sb_putc(b, *s);
	}
	sb_putc(b, '\'');
}

/* Rows in the table "xs" that a column "x_id" refers to (100 when there is no such table). */
static uint32_t referenced_rows(struct db *db, const char *col)
{
	char name[64];
	size_t n = strlen(col) - 3;
	struct table *t;

	if (n + 2 > sizeof(name))
		return 100;
	memcpy(name, col, n);
	name[n] = 's';
	name[n + 1] = '\0';
	t = db_table(db, name);
	return t && t->nslots ? t->nslots : 100;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void gen_value(struct db *db, const struct table *t, int c, uint64_t id, uint64_t *rng,
		      struct sbuf *b)
{
	const struct col_def *col = &t->cols[c];
	uint64_t r = rng_next(rng);
	char tmp[96];

	if (c == t->pk) {
		sb_printf(b, "%llu", (unsigned long long)id);
	} else if (ends_with(col->name, "_id")) {
		sb_printf(b, "%llu", (unsigned long long)(1 + r % referenced_rows(db, col->name)));
	} else if (strcmp(col->name, "name") == 0 && strcmp(t->name, "customers") == 0) {
		snprintf(tmp, sizeof(tmp), "%s %s", PICK(first_names, r),
			 PICK(last_names, rng_next(rng)));
		put_quoted(b, tmp);
	} else if (strcmp(col->name, "name") == 0) {
		snprintf(tmp, sizeof(tmp), "%s %s %llu", PICK(adjectives, r),
			 PICK(nouns, rng_next(rng)), (unsigned long long)(rng_next(rng) % 100));
		put_quoted(b, tmp);
	} else if (strcmp(col->name, "city") == 0) {
		put_quoted(b, PICK(cities, r));
	} else if (strcmp(col->name, "warehouse") == 0) {
		snprintf(tmp, sizeof(tmp), "%s %s", PICK(cities, r),
			 rng_next(rng) % 3 ? "depot" : "hub");
		put_quoted(b, tmp);
	} else if (strcmp(col->name, "category") == 0) {
		put_quoted(b, PICK(categories, r));
	} else if (strcmp(col->name, "age") == 0) {
		sb_printf(b, "%llu", (unsigned long long)(18 + r % 70));
	} else if (strcmp(col->name, "qty") == 0) {
		sb_printf(b, "%llu", (unsigned long long)(1 + r % 10));
	} else if (strcmp(col->name, "day") == 0) {
		sb_printf(b, "%llu", (unsigned long long)(r % 365));
	} else if (col->type == V_INT) {
		sb_printf(b, "%llu", (unsigned long long)(r % 1000));
	} else if (col->type == V_REAL) {
		sb_printf(b, "%llu.%02llu", (unsigned long long)(r % 1000),
			  (unsigned long long)(rng_next(rng) % 100));
	} else {
		snprintf(tmp, sizeof(tmp), "%s%llu", PICK(nouns, r),
			 (unsigned long long)(rng_next(rng) % 50));
		put_quoted(b, tmp);
	}
}

/* Appends ROWS generated rows to TABLE. Returns 0, or -1 (message printed). */
int gen_table(struct db *db, const char *table, long rows)
{
	struct table *t = db_table(db, table);
	struct sbuf sql = { 0 };
	uint64_t rng, id;
	int rc = 0;

	if (!t) {
		printf("error: .gen: no table %s\n", table);
		return -1;
	}
	rng = str_hash_bytes(table, strlen(table)) ^ ((uint64_t)t->nslots << 32);
	id = t->nslots + 1;
	for (long done = 0; done < rows && rc == 0;) {
		long n = rows - done < BATCH ? rows - done : BATCH;

		sql.len = 0;
		sb_printf(&sql, "INSERT INTO %s VALUES ", table);
		for (long k = 0; k < n; k++, id++) {
			sb_puts(&sql, k ? ", (" : "(");
			for (int c = 0; c < t->ncols; c++) {
				if (c)
					sb_puts(&sql, ", ");
				gen_value(db, t, c, id, &rng, &sql);
			}
			sb_putc(&sql, ')');
		}
		sb_putc(&sql, ';');
		rc = db_exec_sql(db, sql.p, 1, 1);
		done += n;
	}
	sb_free(&sql);
	return rc;
}
