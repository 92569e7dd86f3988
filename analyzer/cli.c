/* SPDX-License-Identifier: MIT */
/*
 * Command-line helpers of perfshim-analyze: the trace read when none is named (main.c), and
 * the threads --thread selects (every report that takes it).
 * Like uftrace reading uftrace.data, `perfshim-analyze` alone reads the newest trace the
 * runner or the library wrote in the working directory under their default name.
 */
#define PR_FMT "cli"
#include <dirent.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analyzer/opts.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"

/*
 * cli_newest_trace - the newest regular file of the working directory named perfshim.*.bin
 * (the default PERFSHIM_OUTPUT, %p expanded) or perfshim.*.bin.zst (what `perfshim
 * --compress` and `zstd` make of it), by modification time; equal times: the greater name.
 * Return: its name (malloc'd, never freed: it lives as long as the options), or NULL.
 */
const char *cli_newest_trace(void)
{
	struct timespec best = { 0, 0 };
	char *name = NULL;
	struct dirent *de;
	DIR *d = opendir(".");

	if (!d)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		bool newer;

		if (fnmatch("perfshim.*.bin", de->d_name, FNM_PERIOD) &&
		    fnmatch("perfshim.*.bin.zst", de->d_name, FNM_PERIOD))
			continue;
		if (stat(de->d_name, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		newer = !name || st.st_mtim.tv_sec > best.tv_sec ||
			(st.st_mtim.tv_sec == best.tv_sec &&
			 (st.st_mtim.tv_nsec > best.tv_nsec ||
			  (st.st_mtim.tv_nsec == best.tv_nsec && strcmp(de->d_name, name) > 0)));
		if (newer) {
			free(name);
			name = xstrdup(de->d_name);
			best = st.st_mtim;
		}
	}
	closedir(d);
	return name;
}

/**
 * hot_threads - indices of the thread instances that --thread selects (all when it is not
 * given) into @idx (t->nthreads entries). Return: how many; 0 when --thread names none.
 */
uint32_t hot_threads(const struct trace *t, const struct opts *o, int *idx)
{
	uint32_t i, n = 0;

	for (i = 0; i < t->nthreads; i++)
		if (!o->thread_set || t->threads[i].tid == o->thread_tid)
			idx[n++] = (int)i;
	return n;
}

/*
 * opts_thread - the thread --thread names in @t (its first instance with that tid), for the
 * reports that walk one thread. Return: its index; -1 when --thread is not given; -2 when
 * @t has no such thread.
 */
int opts_thread(const struct trace *t, const struct opts *o)
{
	uint32_t i;

	if (!o->thread_set)
		return -1;
	for (i = 0; i < t->nthreads; i++)
		if (t->threads[i].tid == o->thread_tid)
			return (int)i;
	return -2;
}
