/* SPDX-License-Identifier: MIT */
/*
 * Text output (text.c): scaled units, aligned tables, text made safe for a terminal, short
 * C++ names and the progress line. Reports print through these so that every command
 * formats numbers the same way.
 */
#ifndef PERFSHIM_ANALYZER_TEXT_H
#define PERFSHIM_ANALYZER_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct opts;

/* Scaled units: "812 ns", "1.25 us", "3.40 ms", "2.00 s"; "512 B", "1.5 KiB", "3.2 MiB". */
char *fmt_ns(char *buf, size_t len, uint64_t ns);
char *fmt_bytes(char *buf, size_t len, uint64_t bytes);
char *fmt_count(char *buf, size_t len, uint64_t n);	/* 1234567 -> "1,234,567" */

/* Text tables: aligned columns, numbers right-aligned, last column may be long. */
struct table;
struct table *table_new(int ncols, const char *const *headers, const char *align /* "lrr..." */);
#define TABLE_MAX_COLS 16
void table_add(struct table *tb, ...);			/* ncols const char * cells */
void table_add_row(struct table *tb, const char *const *cells);	/* the same from an array */
void table_print(struct table *tb, FILE *f);
void table_free(struct table *tb);
/* output_set_color - bold table headers from now on (main: only when stdout is a terminal) */
void output_set_color(bool on);

/* utf8_len - bytes of the valid UTF-8 sequence at @s (1..4), 0 when it is not one */
int utf8_len(const unsigned char *s);
/* text_filter_open - a stream onto @under escaping control characters and bad UTF-8 as \xNN */
FILE *text_filter_open(FILE *under);
void fput_text(const char *s, FILE *f);

/* Shorten a long C++ name for text output (templates and argument lists elided). */
const char *short_name(const char *name, char *buf, size_t len, size_t width);

/* Progress line on stderr for analyses that last over a second (only on a terminal). */
void progress_update(const struct opts *o, uint64_t done, uint64_t total);
void progress_done(const struct opts *o);

#endif /* PERFSHIM_ANALYZER_TEXT_H */
