/* SPDX-License-Identifier: MIT */
/*
 * The JSON writer (json.c) every report's --format=json goes through.
 */
#ifndef PERFSHIM_ANALYZER_JSON_H
#define PERFSHIM_ANALYZER_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* JSON writer: valid output, keys in the order written, integers as integers. */
struct json {
	FILE *f;
	int depth;
	bool first[64];
	bool pretty;
};
void json_init(struct json *j, FILE *f);
void json_obj_begin(struct json *j, const char *key);	/* key NULL inside arrays / top */
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j, const char *key);
void json_arr_end(struct json *j);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
void json_dbl(struct json *j, const char *key, double v);
void json_dbl_exact(struct json *j, const char *key, double v);
void json_str(struct json *j, const char *key, const char *s);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
void json_finish(struct json *j);			/* newline at the end */
/* one entry of {"traces": [...]}: a report's document @doc with "trace": @path first */
void json_trace_entry(FILE *f, const char *path, const char *doc, size_t len,
		      const char *error);

#endif /* PERFSHIM_ANALYZER_JSON_H */
