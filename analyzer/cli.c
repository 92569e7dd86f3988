/* SPDX-License-Identifier: MIT */
/*
 * Command-line helpers of perfshim-analyze (main.c): the trace read when none is named.
 * Like uftrace reading uftrace.data, `perfshim-analyze` alone reads the newest trace the
 * runner or the library wrote in the working directory under their default name.
 */
#define PR_FMT "cli"
#include <dirent.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analyzer/analyze.h"

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
