/* SPDX-License-Identifier: MIT */
/*
 * The JSON writer of perfshim-analyze (json.h): valid output whatever the bytes of names and
 * paths, keys in the order written, integers as integers.
 */
#define PR_FMT "json"
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/json.h"
#include "analyzer/text.h"
#include "analyzer/util.h"

void json_init(struct json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->first[0] = true;
	j->pretty = false;
}

/*
 * A JSON string. Bytes that are not UTF-8 (argv, paths and labels are bytes) become U+FFFD,
 * so that the document always parses; control characters, C1 ones too, are escaped.
 */
static void json_escape(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p) {
		int n = utf8_len(p);

		if (!n) {
			fputs("\\ufffd", f);
			p++;
			continue;
		}
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)	/* U+0080..U+009F */
				fprintf(f, "\\u%04x", p[1]);
			else
				fwrite(p, 1, (size_t)n, f);
		}
		p += n;
	}
	fputc('"', f);
}

/* separator and key before a value at the current depth */
static void json_key(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	if (key) {
		json_escape(j->f, key);
		fputc(':', j->f);
	}
}

static void json_open(struct json *j, const char *key, int c)
{
	json_key(j, key);
	fputc(c, j->f);
	if (j->depth < 63)
		j->depth++;
	j->first[j->depth] = true;
}

void json_obj_begin(struct json *j, const char *key) { json_open(j, key, '{'); }
void json_arr_begin(struct json *j, const char *key) { json_open(j, key, '['); }

void json_obj_end(struct json *j)
{
	if (j->depth > 0)
		j->depth--;
	fputc('}', j->f);
}

void json_arr_end(struct json *j)
{
	if (j->depth > 0)
		j->depth--;
	fputc(']', j->f);
}

void json_u64(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

void json_i64(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	fprintf(j->f, "%" PRId64, v);
}

/* json_dbl - a finite number (NaN and infinities, not valid JSON, become null) */
void json_dbl(struct json *j, const char *key, double v)
{
	json_key(j, key);
	if (isfinite(v))
		fprintf(j->f, "%.6g", v);
	else
		fputs("null", j->f);
}

/*
 * json_dbl_exact - a finite number with the digits that read back as the same double (15 to
 * 17 significant), for figures a reader compares exactly; NaN and infinities become null.
 */
void json_dbl_exact(struct json *j, const char *key, double v)
{
	char buf[40];
	int prec;

	json_key(j, key);
	if (!isfinite(v)) {
		fputs("null", j->f);
		return;
	}
	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (prec == 17)
		snprintf(buf, sizeof(buf), "%.17g", v);
	fputs(buf, j->f);
}

void json_str(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	if (s)
		json_escape(j->f, s);
	else
		fputs("null", j->f);
}

void json_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key)
{
	json_key(j, key);
	fputs("null", j->f);
}

void json_finish(struct json *j)
{
	fputc('\n', j->f);
	fflush(j->f);
}

/*
 * json_trace_entry - one trace's entry of a several-trace document (main.c run_each):
 * @doc (@len bytes) is the one JSON object the report wrote for @path; it is written to @f
 * with "trace": @path as its first key (a report that writes "trace" itself, as summary
 * does, keeps its own), and "error": @error last when the analysis failed. What is not a
 * whole object (a report that failed before writing) leaves only "trace" and "error".
 */
void json_trace_entry(FILE *f, const char *path, const char *doc, size_t len,
		      const char *error)
{
	static const char own[] = "\"trace\":";
	size_t b = 0, e = len;

	while (b < e && (doc[b] == ' ' || doc[b] == '\n'))
		b++;
	while (e > b && (doc[e - 1] == ' ' || doc[e - 1] == '\n'))
		e--;
	if (e - b < 2 || doc[b] != '{' || doc[e - 1] != '}')
		b = e = 0;		/* no document: none of it */
	else
		b++, e--;		/* its keys, between the braces */
	fputc('{', f);
	if (e - b < sizeof(own) - 1 || memcmp(doc + b, own, sizeof(own) - 1)) {
		fputs(own, f);
		json_escape(f, path);
		if (e > b)
			fputc(',', f);
	}
	fwrite(doc + b, 1, e - b, f);
	if (error) {
		fputs(",\"error\":", f);
		json_escape(f, error);
	}
	fputc('}', f);
}
