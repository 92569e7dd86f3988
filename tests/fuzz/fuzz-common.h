/* SPDX-License-Identifier: MIT */
/*
 * Shared by the libFuzzer target (fuzz-trace.c) and the deterministic mutation loop that
 * `make check` runs (test-trace-read.c, test_mutations): feed one input to the reader the
 * way perfshim-analyze does (trace_open, then walks of every kind) and touch everything it
 * hands out. Crashes, hangs and sanitizer reports are the failures; the result is not.
 */
#ifndef PERFSHIM_FUZZ_COMMON_H
#define PERFSHIM_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "analyzer/trace.h"
#include "analyzer/walk.h"

static int fuzz_touch(const struct trace_event *ev, void *ctx)
{
	uint64_t *sum = ctx;

	/* read every field a report may read */
	*sum += ev->ns + ev->ns2 + ev->addr + ev->ptr + ev->old_ptr + ev->size + ev->depth +
		ev->entry_ns + ev->child_ns + ev->func + ev->stack + ev->kind + ev->module;
	if (ev->str)
		*sum += strlen(ev->str) + ev->len;
	return 0;
}

/* fuzz_file - open and walk the trace at @path. Return: 0 opened, -1 refused. */
static int fuzz_file(const char *path)
{
	struct trace *t;
	uint64_t sum = 0, ns;
	uint32_t i, j, n;

	if (trace_open(path, &t) < 0)
		return -1;
	trace_walk(t, WALK_ALL, -1, fuzz_touch, &sum);
	trace_walk(t, WALK_ALL | WALK_MERGED, -1, fuzz_touch, &sum);
	trace_walk(t, WALK_EXITS, -1, fuzz_touch, &sum);
	if (t->nthreads)
		trace_walk(t, WALK_MEMORY, (int)(t->nthreads - 1), fuzz_touch, &sum);
	n = trace_nstacks(t);
	for (i = 1; i <= n && i < 100000; i++) {
		struct trace_stack st = trace_stack_get(t, i);

		for (j = 0; j < st.nframes; j++)
			sum += st.frames[j].ip;
		sum += trace_stack_parent(t, i);
	}
	for (i = 0; i < t->nmodules; i++)
		sum += strlen(t->modules[i].path);
	for (i = 0; i < t->nmarks; i++)
		trace_find_mark(t, t->marks[i].label, &ns);
	trace_find_mark(t, "end", &ns);
	sum += t->exe ? strlen(t->exe) : 0;
	sum += t->cmdline ? strlen(t->cmdline) : 0;
	trace_close(t);
	return (int)(sum & 0);
}

/* fuzz_bytes - the same on @size bytes, through a memfd (no file system). */
static int fuzz_bytes(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = memfd_create("perfshim-fuzz", 0), rc;
	size_t off = 0;

	if (fd < 0)
		return -1;
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);

		if (w <= 0)
			break;
		off += (size_t)w;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	rc = fuzz_file(path);
	close(fd);
	return rc;
}

#endif /* PERFSHIM_FUZZ_COMMON_H */
