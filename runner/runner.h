/* SPDX-License-Identifier: MIT */
/*
 * Private interface of the perfshim runner: the program checks (check.c) and the report of
 * the trace files a run left (files.c); perfshim.c holds the options and the run itself.
 */
#ifndef PERFSHIM_RUNNER_H
#define PERFSHIM_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

extern const char *progname;

/*
 * check_program - whether @prog (as execvp would find it) can be preloaded at all: a static
 * program (no PT_INTERP) or a set-user-ID/set-group-ID one ignores LD_PRELOAD. A script's
 * interpreter (#!) is checked instead of the script, one level deep.
 * Return: 0 when it can run preloaded (or when it cannot be checked: execvp will then say
 * why it cannot run), -1 after printing one line that names the reason.
 */
int check_program(const char *prog);

/*
 * find_in_path - the file execvp(@prog) would run: @prog itself when it holds a '/', else
 * the first executable regular file of $PATH. Return: 0 with @out filled, -1 when none.
 */
int find_in_path(const char *prog, char *out, size_t len);

/*
 * report_traces - print on stderr the trace files written by @pid and its descendants
 * (spawned children, exec'd images) since @since_ns (CLOCK_REALTIME), as found in the
 * directory of @tmpl (a PERFSHIM_OUTPUT template). Return: how many files were found.
 */
int report_traces(const char *tmpl, pid_t pid, uint64_t since_ns);
/*
 * finish_traces - the same, and with @compress each trace becomes FILE.zst first (but one
 * whose process still runs); @quiet: say nothing but problems. Return: the files found.
 */
int finish_traces(const char *tmpl, pid_t pid, uint64_t since_ns, bool compress, bool quiet);

/*
 * compress_trace - @name in directory @dirfd becomes @name.zst (zstd level 3, with its
 * size and a checksum), and @name is removed only once @name.zst is whole and synced.
 * Return: 0 with *@zsize its size, or -1 after one line on stderr (@name left as it was).
 */
int compress_trace(int dirfd, const char *name, uint64_t *zsize);

/* find_library - libperfshim.so, as the runner preloads it (perfshim.c). Return: 0 or -1. */
int find_library(char *out, size_t len);

/* compare_main - `perfshim compare ...`, @argv[0] being "compare" (compare.c). Return: exit status. */
int compare_main(int argc, char **argv);

#endif /* PERFSHIM_RUNNER_H */
