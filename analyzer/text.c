/* SPDX-License-Identifier: MIT */
/*
 * Text output of perfshim-analyze: scaled units, text safe for a terminal, aligned tables,
 * short C++ names and the progress line (text.h). Reports print through these so that every
 * command formats numbers the same way; JSON is json.c.
 */
#define PR_FMT "text"
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/opts.h"
#include "analyzer/text.h"
#include "analyzer/util.h"

/*
 * fmt_ns - @ns with a unit: "812 ns", "1.25 us", "3.40 ms", "2.00 s" (three significant
 * digits above 1 us). Return: @buf.
 */
char *fmt_ns(char *buf, size_t len, uint64_t ns)
{
	if (ns < 1000)
		snprintf(buf, len, "%" PRIu64 " ns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.2f us", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.2f ms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.2f s", (double)ns / 1e9);
	return buf;
}

/* fmt_bytes - "512 B", "1.5 KiB", "3.2 MiB", "1.0 GiB". Return: @buf. */
char *fmt_bytes(char *buf, size_t len, uint64_t bytes)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", bytes);
		return buf;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, unit[u]);
	return buf;
}

/* fmt_count - 1234567 -> "1,234,567". Return: @buf. */
char *fmt_count(char *buf, size_t len, uint64_t n)
{
	char tmp[32];
	size_t d, i, o = 0;

	d = (size_t)snprintf(tmp, sizeof(tmp), "%" PRIu64, n);
	for (i = 0; i < d && o + 1 < len; i++) {
		if (i && (d - i) % 3 == 0 && o + 2 < len)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	if (len)
		buf[o < len ? o : len - 1] = 0;
	return buf;
}

/* ---- text safe for a terminal ---- */

/*
 * utf8_len - length of the valid UTF-8 sequence at @s (1..4), or 0 when the bytes are not
 * one (overlong forms, surrogates, values past U+10FFFF, a sequence cut by the NUL).
 */
int utf8_len(const unsigned char *s)
{
	int n, i;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, c = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, c = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	return n;
}

/*
 * The text filter: what text reports write reaches the terminal with every control
 * character (C0 but newline and tab, DEL, C1) and every byte that is not UTF-8 written as
 * \xNN, so that a mark label, thread name, path or symbol holding escape sequences cannot
 * drive the terminal. A sequence split across two writes is held until its end arrives.
 */
struct text_filter {
	FILE *under;
	unsigned char held[4];
	size_t nheld;
};

static FILE *filter_stream, *filter_under;	/* the open filter (output_raw goes around) */

static void put_escaped(FILE *f, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "\\x%02x", p[i]);
}

/* bytes of the UTF-8 sequence that @c starts (1 for ASCII and stray bytes) */
static size_t seq_len(unsigned char c)
{
	return c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

/* a byte written as it is: printable ASCII, newline, tab */
static inline bool plain_byte(unsigned char c)
{
	return (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t';
}

/*
 * filter_bytes - write [p, end) to @f, escaped. Unless @last, a sequence cut by @end is not
 * written: Return: how many bytes at the end were kept back for the next write (0..3).
 */
static size_t filter_bytes(FILE *f, const unsigned char *p, const unsigned char *end, bool last)
{
	const unsigned char *run = p;

	while (p < end) {
		unsigned char c = *p, tmp[5] = { 0 };
		size_t want, have = (size_t)(end - p), k;

		if (plain_byte(c)) {
			p++;
			continue;
		}
		fwrite(run, 1, (size_t)(p - run), f);
		want = seq_len(c);
		if (have < want && !last)
			return have;
		memcpy(tmp, p, want < have ? want : have);
		k = c >= 0x80 ? (size_t)utf8_len(tmp) : 0;
		if (k && !(tmp[0] == 0xc2 && tmp[1] < 0xa0))	/* text, not a C1 control */
			fwrite(p, 1, k, f);
		else
			put_escaped(f, p, k ? k : 1);
		p += k ? k : 1;
		run = p;
	}
	fwrite(run, 1, (size_t)(p - run), f);
	return 0;
}

static ssize_t filter_write(void *cookie, const char *buf, size_t size)
{
	struct text_filter *tf = cookie;
	const unsigned char *b = (const unsigned char *)buf;
	size_t used = 0, keep;

	if (tf->nheld) {	/* a sequence cut by the last write: its rest comes first */
		size_t want = seq_len(tf->held[0]);

		while (tf->nheld < want && used < size && (b[used] & 0xc0) == 0x80)
			tf->held[tf->nheld++] = b[used++];
		if (tf->nheld < want && used == size)
			return (ssize_t)size;
		filter_bytes(tf->under, tf->held, tf->held + tf->nheld, true);
		tf->nheld = 0;
	}
	keep = filter_bytes(tf->under, b + used, b + size, false);
	memcpy(tf->held, b + size - keep, keep);
	tf->nheld = keep;
	return ferror(tf->under) ? -1 : (ssize_t)size;
}

static int filter_close(void *cookie)
{
	struct text_filter *tf = cookie;

	filter_bytes(tf->under, tf->held, tf->held + tf->nheld, true);
	filter_stream = filter_under = NULL;
	free(tf);
	return 0;
}

/** fput_text - @s to @f with control characters and bad UTF-8 escaped as \xNN. */
void fput_text(const char *s, FILE *f)
{
	filter_bytes(f, (const unsigned char *)s, (const unsigned char *)s + strlen(s), true);
}

/**
 * text_filter_open - a stream that writes to @under (left open when the stream is closed)
 * with the control characters and non-UTF-8 bytes of what it gets escaped (see above).
 * Text reports write through it (main.c; report-flame.c for folded stacks).
 * Return: the stream (dies on OOM, as xmalloc).
 */
FILE *text_filter_open(FILE *under)
{
	struct text_filter *tf = xcalloc(1, sizeof(*tf));
	cookie_io_functions_t io = { .write = filter_write, .close = filter_close };
	FILE *f;

	tf->under = under;
	f = fopencookie(tf, "w", io);
	if (!f)
		pr_fatal("out of memory");
	filter_stream = f;
	filter_under = under;
	return f;
}

/*
 * output_raw - our own escape sequence @s (bold headers) to @f: around the text filter when
 * @f is it, after what it holds.
 */
static void output_raw(FILE *f, const char *s)
{
	if (f != filter_stream) {
		fputs(s, f);
		return;
	}
	fflush(f);
	fputs(s, filter_under);
}

/* ---- text tables ---- */

static bool color;

void output_set_color(bool on)
{
	color = on;
}

struct table {
	int ncols;
	char **cells;			/* rows * ncols, row 0 = headers */
	size_t nrows, cap;
	char *align;
};

/*
 * table_new - a table of @ncols columns with @headers; @align has one letter per column,
 * 'l' or 'r'. Free with table_free.
 */
struct table *table_new(int ncols, const char *const *headers, const char *align)
{
	struct table *tb = xcalloc(1, sizeof(*tb));
	int i;

	tb->ncols = ncols;
	tb->align = xmalloc((size_t)ncols + 1);
	for (i = 0; i < ncols; i++)
		tb->align[i] = align && i < (int)strlen(align) ? align[i] : 'l';
	tb->align[ncols] = 0;
	tb->cap = 16;
	tb->cells = xmalloc(tb->cap * (size_t)ncols * sizeof(char *));
	for (i = 0; i < ncols; i++)
		tb->cells[i] = xstrdup(headers[i]);
	tb->nrows = 1;
	return tb;
}

/* a copy of @s as fput_text writes it (most often @s itself: no stream needed) */
static char *text_dup(const char *s)
{
	const unsigned char *q = (const unsigned char *)s;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (!s)
		return xstrdup("");
	while (*q && plain_byte(*q))
		q++;
	if (!*q)
		return xstrdup(s);
	f = open_memstream(&buf, &len);
	if (!f)
		pr_fatal("out of memory");
	fput_text(s, f);
	if (fclose(f))
		pr_fatal("out of memory");
	return buf;
}

/* table_add - a row of ncols strings (copied, control characters escaped) */
/* table_add_row - one row of tb->ncols cells from @cells */
void table_add_row(struct table *tb, const char *const *cells)
{
	int i;

	if (tb->nrows == tb->cap) {	/* rows of ncols cells */
		tb->cap = ARRAY_NEXT_CAP(tb->cap, tb->nrows + 1);
		tb->cells = array_resize(tb->cells, tb->cap * (size_t)tb->ncols, sizeof(char *));
	}
	for (i = 0; i < tb->ncols; i++)	/* escaped here, so that columns stay aligned */
		tb->cells[tb->nrows * (size_t)tb->ncols + (size_t)i] = text_dup(cells[i]);
	tb->nrows++;
}

void table_add(struct table *tb, ...)
{
	const char *cells[TABLE_MAX_COLS];
	va_list ap;
	int i;

	va_start(ap, tb);
	for (i = 0; i < tb->ncols && i < TABLE_MAX_COLS; i++)
		cells[i] = va_arg(ap, const char *);
	va_end(ap);
	table_add_row(tb, cells);
}

/* display width of a UTF-8 string (code points; good enough for names) */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* table_print - columns padded to their widest cell, two spaces apart; the last column is
 * not padded (long names stay readable) */
void table_print(struct table *tb, FILE *f)
{
	size_t *w = xcalloc((size_t)tb->ncols, sizeof(*w)), r;
	int c;

	for (r = 0; r < tb->nrows; r++)
		for (c = 0; c < tb->ncols; c++) {
			size_t x = width(tb->cells[r * (size_t)tb->ncols + (size_t)c]);

			if (x > w[c])
				w[c] = x;
		}
	for (r = 0; r < tb->nrows; r++) {
		if (r == 0 && color)
			output_raw(f, "\033[1m");
		for (c = 0; c < tb->ncols; c++) {
			const char *s = tb->cells[r * (size_t)tb->ncols + (size_t)c];
			size_t pad = w[c] - width(s);
			bool last = c == tb->ncols - 1;

			if (c)
				fputs("  ", f);
			if (tb->align[c] == 'r')
				fprintf(f, "%*s%s", (int)pad, "", s);
			else if (last)
				fputs(s, f);
			else
				fprintf(f, "%s%*s", s, (int)pad, "");
		}
		if (r == 0 && color)
			output_raw(f, "\033[0m");
		fputc('\n', f);
	}
	free(w);
}

void table_free(struct table *tb)
{
	size_t i;

	if (!tb)
		return;
	for (i = 0; i < tb->nrows * (size_t)tb->ncols; i++)
		free(tb->cells[i]);
	free(tb->cells);
	free(tb->align);
	free(tb);
}

/*
 * short_name - @name shortened for a text column of @width characters: template arguments
 * become "<...>", the argument list "(...)" when the name is too long, and what is still too
 * long keeps its end ("...Widget::method(...)"). Return: @name itself when it fits, else
 * @buf.
 */
const char *short_name(const char *name, char *buf, size_t len, size_t width_)
{
	size_t i, o = 0, n;
	int angle = 0, paren = 0;

	if (!name)
		return "?";
	n = strlen(name);
	if (n <= width_ || len < 8)
		return name;
	for (i = 0; i < n && o + 6 < len; i++) {
		char ch = name[i];

		if (paren) {
			/* inside the argument list (already written as "(...)") */
			if (ch == '(')
				paren++;
			else if (ch == ')' && --paren == 0 && name[i - 1] == '(')
				buf[o++] = ')';
			continue;
		}
		if (ch == '<') {
			if (angle++ == 0) {
				memcpy(buf + o, "<...>", 5);
				o += 5;
			}
			continue;
		}
		if (ch == '>' && angle) {
			angle--;
			continue;
		}
		if (angle)
			continue;
		if (ch == '(' && !paren++) {
			/* keep "()" for an empty list, else "(...)"; an operator() stays */
			if (i + 1 < n && name[i + 1] == ')') {
				buf[o++] = '(';
				continue;
			}
			memcpy(buf + o, "(...)", 5);
			o += 5;
			continue;
		}
		buf[o++] = ch;
	}
	buf[o] = 0;
	if (o > width_ && width_ > 3 && width_ < len) {
		size_t keep = width_ - 3;

		memmove(buf + 3, buf + o - keep, keep);
		memcpy(buf, "...", 3);
		buf[width_] = 0;
	}
	return buf;
}

/* ---- progress ---- */

static struct timespec progress_t0;
static bool progress_on;
static int progress_width;		/* of the line drawn, 0 when none is */

static double since_start(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - progress_t0.tv_sec) +
	       (double)(now.tv_nsec - progress_t0.tv_nsec) / 1e9;
}

/*
 * progress_update - "perfshim-analyze: 42% (1.2 GiB of 2.9 GiB)" on stderr, redrawn in
 * place, only when stderr is a terminal, progress is on, and the analysis has run for over
 * a second. Cheap to call often: it draws at most every 0.2 s.
 */
void progress_update(const struct opts *o, uint64_t done, uint64_t total)
{
	static double last;
	double s;
	char a[32], b[32];
	int n;

	if (!o || !o->progress)
		return;
	if (!progress_on) {
		if (progress_t0.tv_sec == 0 && progress_t0.tv_nsec == 0) {
			clock_gettime(CLOCK_MONOTONIC, &progress_t0);
			return;
		}
		if (!isatty(2))
			return;
		progress_on = true;
	}
	s = since_start();
	if (s < 1.0 || s - last < 0.2)
		return;
	last = s;
	/* redrawn over itself with a carriage return: no escape sequence (TERM=dumb has none) */
	n = fprintf(stderr, "\r%s: %3d%% (%s of %s)  ", progname,
		    total ? (int)(done * 100 / total) : 0, fmt_bytes(a, sizeof(a), done),
		    fmt_bytes(b, sizeof(b), total));
	if (n > progress_width)
		progress_width = n;
}

/* progress_done - erase the progress line, if one was drawn: spaces over it */
void progress_done(const struct opts *o)
{
	if (progress_width)
		fprintf(stderr, "\r%*s\r", progress_width, "");
	progress_width = 0;
}
