/* SPDX-License-Identifier: MIT */
/*
 * minidb result printer: aligned columns (numbers to the right, text to the left), a rule
 * under the header, and the row count. Cells are formatted once into one buffer; the widths
 * come from a first pass over them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minidb.h"

#define MAX_WIDTH 40		/* longer cells are cut, with "..." */

struct cell {
	size_t off, len;
	int right;		/* a number: right-aligned */
};

static void put_cell(struct sbuf *line, const char *s, size_t len, size_t width, int right)
{
	size_t pad;

	if (len > width) {
		sb_putn(line, s, width - 3);
		sb_puts(line, "...");
		return;
	}
	pad = width - len;
	if (right)
		while (pad--)
			sb_putc(line, ' ');
	sb_putn(line, s, len);
	if (!right)
		while (pad--)
			sb_putc(line, ' ');
}

/* Prints LINE without its trailing blanks, and empties it. */
static void end_line(struct sbuf *line)
{
	while (line->len && line->p[line->len - 1] == ' ')
		line->len--;
	sb_putc(line, '\n');
	fputs(line->p, stdout);
	line->len = 0;
}

void result_print(const struct result *res)
{
	struct sbuf text = { 0 }, line = { 0 };
	size_t ncells = res->nrows * (size_t)res->ncols;
	struct cell *cells = xmalloc(sizeof(*cells) * (ncells ? ncells : 1));
	size_t *width = xcalloc((size_t)res->ncols, sizeof(*width));

	for (int c = 0; c < res->ncols; c++)
		width[c] = strlen(res->names[c]);
	for (size_t r = 0; r < res->nrows; r++) {
		for (int c = 0; c < res->ncols; c++) {
			struct cell *cl = &cells[r * (size_t)res->ncols + (size_t)c];
			struct value v = res->rows[r][c];

			cl->off = text.len;
			value_format(&text, v);
			cl->len = text.len - cl->off;
			cl->right = v.t == V_INT || v.t == V_REAL;
			if (cl->len > width[c])
				width[c] = cl->len;
		}
	}
	for (int c = 0; c < res->ncols; c++)
		if (width[c] > MAX_WIDTH)
			width[c] = MAX_WIDTH;

	for (int c = 0; c < res->ncols; c++) {
		if (c)
			sb_puts(&line, " | ");
		put_cell(&line, res->names[c], strlen(res->names[c]), width[c], 0);
	}
	end_line(&line);
	for (int c = 0; c < res->ncols; c++) {
		if (c)
			sb_puts(&line, "-+-");
		for (size_t k = 0; k < width[c]; k++)
			sb_putc(&line, '-');
	}
	end_line(&line);
	for (size_t r = 0; r < res->nrows; r++) {
		for (int c = 0; c < res->ncols; c++) {
			const struct cell *cl = &cells[r * (size_t)res->ncols + (size_t)c];

			if (c)
				sb_puts(&line, " | ");
			put_cell(&line, text.p + cl->off, cl->len, width[c], cl->right);
		}
		end_line(&line);
	}
	printf("(%zu row%s)\n", res->nrows, res->nrows == 1 ? "" : "s");
	sb_free(&text);
	sb_free(&line);
	free(cells);
	free(width);
}
