/* SPDX-License-Identifier: MIT */
/*
 * After the run: which trace files did it leave? The library names them (docs/design.md
 * "Processes"): the template with %p expanded, NAME.N when a default name was taken,
 * PATH.exec after an exec, PATH.<pid> or %p for a child. Rather than guess those names, the
 * runner lists the template's directory and keeps the traces whose headers say they were
 * written by the program or one of its descendants since the run began.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "include/perfshim/trace.h"
#include "runner/runner.h"

struct found {
	char name[256];
	uint32_t pid, ppid, flags;
	uint64_t size;
};

/* Read and check the header of @dir/@name. Return: 0 with @f filled, -1 when not a trace. */
static int read_header(int dirfd, const char *name, struct found *f, uint64_t since_ns)
{
	struct trace_file_header h;
	struct stat st;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		close(fd);
		return -1;
	}
	close(fd);
	if (memcmp(h.magic, TRACE_MAGIC, 8) != 0 || h.start_real_ns < since_ns ||
	    h.checksum != trace_checksum(&h, TRACE_FILE_HEADER_CKLEN))
		return -1;
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->pid = h.pid;
	f->ppid = h.ppid;
	f->flags = h.flags;
	f->size = (uint64_t)st.st_size;
	return 0;
}

/* "12.3 KiB" */
static void human(char *buf, size_t len, uint64_t n)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int i = -1;

	if (n < 1024) {
		snprintf(buf, len, "%llu bytes", (unsigned long long)n);
		return;
	}
	while (v >= 1024 && i < 3) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, "%.1f %s", v, unit[i]);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct found *)a)->name, ((const struct found *)b)->name);
}

static int in_set(const uint32_t *set, size_t n, uint32_t pid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (set[i] == pid)
			return 1;
	return 0;
}

/*
 * One trace of the run, compressed first with --compress (unless its process is still
 * running: a daemon the program left behind may still write to it), then said on stderr.
 */
static void finish_one(int dfd, const char *dir, struct found *f, pid_t pid, bool compress,
		       bool quiet)
{
	char size[32], raw[32], what[64] = "", name[sizeof(f->name) + 4];
	uint64_t zsize = 0;
	bool zst = false;

	if (f->flags & TRACE_F_EXEC)
		snprintf(what, sizeof(what), ", pid %u after exec", f->pid);
	else if (f->flags & TRACE_F_CHILD)
		snprintf(what, sizeof(what), ", child %u", f->pid);
	if (compress && f->pid != (uint32_t)pid && (kill((pid_t)f->pid, 0) == 0 || errno == EPERM))
		fprintf(stderr, "%s: %s: left uncompressed: process %u is still running\n",
			progname, f->name, f->pid);
	else if (compress)
		zst = compress_trace(dfd, f->name, &zsize) == 0;
	if (quiet)
		return;
	snprintf(name, sizeof(name), "%s%s", f->name, zst ? ".zst" : "");
	human(size, sizeof(size), zst ? zsize : f->size);
	human(raw, sizeof(raw), f->size);
	fprintf(stderr, "%s: trace written to %s%s%s (%s%s%s%s)\n", progname,
		strcmp(dir, ".") ? dir : "", strcmp(dir, ".") && strcmp(dir, "/") ? "/" : "", name,
		size, zst ? ", compressed from " : "", zst ? raw : "", what);
}

int report_traces(const char *tmpl, pid_t pid, uint64_t since_ns)
{
	return finish_traces(tmpl, pid, since_ns, false, false);
}

int finish_traces(const char *tmpl, pid_t pid, uint64_t since_ns, bool compress, bool quiet)
{
	char dir[4096], prefix[256];
	const char *base = strrchr(tmpl, '/');
	struct found *files = NULL, *tmp;
	size_t nfiles = 0, cap = 0, npids = 1, i, plen;
	uint32_t *pids;
	struct dirent *de;
	int dfd, grew, shown = 0;
	DIR *d;

	/* the directory and the part of the name before %p */
	if (base) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(base - tmpl) ? (int)(base - tmpl) : 1, tmpl);
		base++;
	} else {
		strcpy(dir, ".");
		base = tmpl;
	}
	plen = strcspn(base, "%");
	snprintf(prefix, sizeof(prefix), "%.*s", (int)plen, base);
	plen = strlen(prefix);

	d = opendir(dir);
	if (!d)
		return 0;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, plen) != 0)
			continue;
		if (nfiles == cap) {
			cap = cap ? cap * 2 : 16;
			tmp = realloc(files, cap * sizeof(*files));
			if (!tmp)
				break;
			files = tmp;
		}
		if (read_header(dfd, de->d_name, &files[nfiles], since_ns) == 0)
			nfiles++;
	}

	/* the program, then every process whose parent is in the set, to a fixed point */
	pids = calloc(nfiles + 1, sizeof(*pids));
	if (!pids) {
		closedir(d);
		free(files);
		return 0;
	}
	pids[0] = (uint32_t)pid;
	do {
		grew = 0;
		for (i = 0; i < nfiles; i++) {
			if (in_set(pids, npids, files[i].ppid) && !in_set(pids, npids, files[i].pid)) {
				pids[npids++] = files[i].pid;
				grew = 1;
			}
		}
	} while (grew);

	if (nfiles)
		qsort(files, nfiles, sizeof(*files), by_name);
	/* the program's own file first, then its exec'd images and children by name */
	for (int pass = 0; pass < 2; pass++) {
		for (i = 0; i < nfiles; i++) {
			struct found *f = &files[i];
			int first = f->pid == (uint32_t)pid && !(f->flags & TRACE_F_EXEC) &&
				    !(f->flags & TRACE_F_CHILD);

			if (!in_set(pids, npids, f->pid) || first != (pass == 0))
				continue;
			finish_one(dfd, dir, f, pid, compress, quiet);
			shown++;
		}
	}
	closedir(d);
	free(pids);
	free(files);
	return shown;
}
