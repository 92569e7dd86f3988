/* SPDX-License-Identifier: MIT */
/*
 * Shared walks of the export reports: the call tree (self time per call path, per-function
 * totals) and the heap (replay.c, for one thread or all), plus escaping and the output
 * file. analyzer/export.h lists them.
 */
#define PR_FMT "export"
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analyzer/export.h"
#include "analyzer/notes.h"
#include "analyzer/opts.h"
#include "analyzer/symbols.h"
#include "analyzer/text.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"
#include "analyzer/walk.h"

/* ---- the heap ---- */

/*
 * export_replay - replay the heap of @t into @r (zeroed by the caller, which may set its
 * change, other and arg): every thread's blocks, counting only thread index @thread's when
 * @thread >= 0. Return: 0, or -1 when the walk failed; free @r with replay_free either way.
 */
int export_replay(struct trace *t, int thread, struct replay *r)
{
	r->one_thread = thread >= 0;
	r->thread = thread >= 0 ? (uint32_t)thread : 0;
	return replay_run(r, t);
}

/* export_leaked - bytes and blocks still live at the end in @r's counted stacks. */
void export_leaked(const struct replay *r, uint64_t *bytes, uint64_t *blocks)
{
	uint32_t i;

	*bytes = *blocks = 0;
	for (i = 0; i < r->naggs; i++) {
		*bytes += r->aggs[i].live_bytes;
		*blocks += r->aggs[i].live_blocks;
	}
}

/* ---- notes ---- */

/* strv_add - append a formatted line (copied) to @sv. */
void strv_add(struct strv *sv, const char *fmt, ...)
{
	va_list ap;

	ARRAY_ROOM(sv->v, sv->cap, sv->n);
	va_start(ap, fmt);
	if (vasprintf(&sv->v[sv->n], fmt, ap) < 0)
		pr_fatal("out of memory");
	va_end(ap);
	sv->n++;
}

void strv_free(struct strv *sv)
{
	unsigned i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	memset(sv, 0, sizeof(*sv));
}

/* export_notes - see export.h */
bool export_notes(struct trace *t, struct strv *sv, bool path, bool leaks)
{
	const char *p = path ? t->path : "", *sep = path ? ": " : "";
	struct notes n;
	unsigned i;
	bool complete;

	notes_get(t, &n);
	for (i = 0; i < n.nmissing; i++)
		strv_add(sv, "%s%sincomplete trace: %s", p, sep, n.missing[i]);
	for (i = 0; i < n.nwarn; i++)
		strv_add(sv, "%s%swarning: %s", p, sep, n.warn[i]);
	if (leaks && !n.finished)
		strv_add(sv, "%s%s%s", p, sep, NOTES_UNFINISHED);
	complete = n.complete;
	notes_free(&n);
	return complete;
}

/* ---- escaping ---- */

/* fput_xml - write @s as XML/HTML text or attribute value. */
void fput_xml(const char *s, FILE *f)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p) {
		int n = utf8_len(p);

		if (!n) {
			fputs("\xef\xbf\xbd", f);	/* U+FFFD */
			p++;
			continue;
		}
		switch (*p) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			if (*p < 0x20)	/* not even &#N; is allowed for these in XML 1.0 */
				fputc(*p == '\t' || *p == '\n' ? ' ' : '?', f);
			else
				fwrite(p, 1, n, f);
		}
		p += n;
	}
}

/* fput_json - write @s as a quoted JSON string (bad UTF-8 bytes become U+FFFD). */
void fput_json(const char *s, FILE *f)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	fputc('"', f);
	while (*p) {
		int n = utf8_len(p);

		if (!n) {
			fputs("\\ufffd", f);
			p++;
			continue;
		}
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else if (*p == '<')	/* keeps "</script>" harmless when embedded in HTML */
			fputs("\\u003c", f);
		else
			fwrite(p, 1, n, f);
		p += n;
	}
	fputc('"', f);
}

/* fmt_value - @v scaled for @unit ("ns", "bytes", anything else counts), in @buf. */
char *fmt_value(char *buf, size_t len, uint64_t v, const char *unit)
{
	static const char *const tu[] = { "ns", "us", "ms", "s" };
	static const char *const bu[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int i = 0;

	if (unit && !strcmp(unit, "ns")) {
		while (d >= 1000 && i < 3)
			d /= 1000, i++;
		if (!i)
			snprintf(buf, len, "%" PRIu64 " ns", v);
		else
			snprintf(buf, len, "%.2f %s", d, tu[i]);
	} else if (unit && !strcmp(unit, "bytes")) {
		while (d >= 1024 && i < 4)
			d /= 1024, i++;
		if (!i)
			snprintf(buf, len, "%" PRIu64 " B", v);
		else
			snprintf(buf, len, "%.2f %s", d, bu[i]);
	} else {
		char tmp[32];
		int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v), j = 0, k;

		for (k = 0; k < n && j + 2 < (int)len; k++) {
			if (k && (n - k) % 3 == 0)
				buf[j++] = ',';
			buf[j++] = tmp[k];
		}
		buf[j] = 0;
	}
	return buf;
}

/* ---- output ---- */

/*
 * export_open - where the report goes: stdout, or o->output. main.c already points stdout
 * at o->output (freopen); opening the file a second time would truncate it under stdout,
 * so stdout is used whenever it is that file. Return: the stream, or NULL after one error line.
 */
FILE *export_open(const struct opts *o)
{
	struct stat a, b;
	FILE *f;

	if (!o->output || !strcmp(o->output, "-"))
		return stdout;
	if (!fstat(fileno(stdout), &a) && !stat(o->output, &b) && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino)
		return stdout;
	f = fopen(o->output, "w");
	if (!f)
		__pr_log("error: ", "cannot write %s: %s", o->output, strerror(errno));
	return f;
}

/* export_close - flush (stdout) or close @f. Return: 0, or -1 after one error line. */
int export_close(FILE *f, const struct opts *o)
{
	const char *what = f == stdout ? "standard output" : o->output;
	int bad = ferror(f);

	if (f == stdout)
		bad |= fflush(f) != 0;
	else
		bad |= fclose(f) != 0;
	if (bad) {
		__pr_log("error: ", "writing %s failed: %s", what, strerror(errno ? errno : EIO));
		return -1;
	}
	return 0;
}

/* ---- where a location is ---- */

/*
 * export_where - name, file:line and inlined frames of a stack frame @f (or of function @func
 * when @f is NULL), for the exports that carry source positions (pprof, callgrind, massif).
 * A stack frame's lines are sym_frames' chain: the functions inlined at its address,
 * innermost first, then the function that holds the code, each with its file:line; pprof
 * gives each its Line, callgrind and massif name the frame by them. A function alone has
 * one line, its definition.
 */
void export_where(struct symbols *sym, const struct trace_frame *f, uint32_t func,
		  struct where *w)
{
	struct sym_info si;
	const char *name;

	memset(w, 0, sizeof(*w));
	if (f) {
		struct sym_frame fr[WHERE_MAX];
		int i, n;

		sym_resolve_frame(sym, f, &si);
		n = sym_frames(sym, f, fr, WHERE_MAX);
		for (i = 0; i < n; i++)
			w->line[i] = (struct where_line){ fr[i].name, fr[i].file, fr[i].line };
		w->n = n > 0 ? (unsigned)n : 0;
		name = sym_frame_name(sym, f);
	} else {
		sym_resolve_func(sym, func, &si);
		name = sym_func_name(sym, func);
		/* the definition, its path spelled as sym_frames spells it (made absolute
		 * with the compile directory), so a function is one file in every export */
		if (sym_func_decl(sym, func, &w->line[0].file, &w->line[0].line) == 0) {
			w->line[0].name = name;
			w->n = 1;
		}
	}
	w->module = si.module;
	w->module_id = si.module_id;
	w->module_off = si.module_off;
	if (!w->n) {
		w->line[0] = (struct where_line){ name, si.file, si.line };
		w->n = 1;
	}
}

/*
 * export_output - where an export with a default file name goes: o->output ("-" is stdout;
 * main.c has already pointed stdout at it), else a new file @def in the working directory.
 * Return: the stream, or NULL after one error line.
 */
FILE *export_output(const struct opts *o, const char *def)
{
	struct opts one = *o;

	if (!one.output)
		one.output = def;
	return export_open(&one);
}

/* export_flat - @s on one line: controls, and the bytes of @bad, become '?' (in @buf). */
const char *export_flat(const char *s, const char *bad, char *buf, size_t len)
{
	size_t i;

	snprintf(buf, len, "%s", s ? s : "");
	for (i = 0; buf[i]; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f || (bad && strchr(bad, buf[i])))
			buf[i] = '?';
	return buf;
}
