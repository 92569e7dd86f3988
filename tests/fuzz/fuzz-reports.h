/* SPDX-License-Identifier: MIT */
/*
 * The report fuzzer's core, shared by the libFuzzer target (fuzz-reports.c) and the bounded
 * deterministic run of `make check` (tests/unit/test-fuzz-reports.c). docs/testing.md has the
 * design: an input becomes a trace whose checksums are right, and every command of
 * perfshim-analyze runs on it, in every format it writes, through the real main().
 *
 * An input that starts with the trace magic is a trace: its checksums are recomputed after
 * mutation (fuzz_fix_checksums), so the mutated records reach the decoder and the reports.
 * Any other input is a program: tgr_from_bytes decodes it as a sequence of records
 * (tests/unit/tracegen-random.h) and tgr_write writes it as a well-formed trace.
 *
 * The commands are main.c's own table (commands[], included below with main() renamed), so a
 * command added there is fuzzed without a change here; fuzz_variants[] adds option sets.
 */
#ifndef PERFSHIM_FUZZ_REPORTS_H
#define PERFSHIM_FUZZ_REPORTS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int perfshim_analyze_main(int argc, char **argv);
#define main perfshim_analyze_main
#include "analyzer/main.c"
#undef main

#include "tests/unit/tracegen-random.h"

/* Option sets run besides each command's formats (each names a command of main.c). */
struct fuzz_variant {
	const char *command;
	const char *args[4];
};

static const struct fuzz_variant fuzz_variants[] = {
	{ "functions", { "--per-thread", "--format=json" } },
	{ "functions", { "--sort=self", "--limit=3", "--filter=^0x40" } },
	{ "functions", { "--thread=1001", "--format=csv" } },
	{ "callgraph", { "--function=0x401000", "--format=json" } },
	{ "callgraph", { "--function=0x401040" } },
	{ "callgraph", { "--depth=2", "--min-percent=5" } },
	{ "callgraph", { "--thread=1000", "--format=json" } },
	{ "memory", { "--sort=peak", "--limit=2" } },
	{ "memory", { "--sort=temporary", "--no-suppress", "--format=json" } },
	{ "leaks", { "--no-suppress", "--limit=1" } },
	{ "diff", { "--from=start", "--to=end", "--format=json" } },
	{ "diff", { "--from=m0", "--to=m1" } },
	{ "diff", { "--threshold=1", "--limit=2" } },
	{ "timeline", { "--format=json" } },
	{ "flamegraph", { "--folded" } },
	{ "flamegraph", { "--folded", "--metric=alloc-bytes" } },
	{ "flamegraph", { "--metric=alloc-count", "--per-thread" } },
	{ "flamegraph", { "--folded", "--metric=leaked", "--thread=1001" } },
	{ "chrome", { "--limit=5" } },
	{ "chrome", { "--thread=1001" } },
	{ "html", { "--limit=3", "--thread=1000" } },
	{ "dump", { "--merged" } },
	{ "dump", { "--thread=1001" } },
};

struct fuzz_stats {
	unsigned long runs;		/* analyzer runs */
	unsigned long ok;		/* ... that exited 0 */
};
static struct fuzz_stats fuzz_stats;

static FILE *fuzz_null;

/* one analyzer run, `perfshim-analyze ARGV...`, its output and its messages thrown away */
static void fuzz_run(const char *const *args, int nargs)
{
	char *argv[16];
	FILE *out = stdout, *err = stderr;
	int argc = 0, i, rc;

	if (!fuzz_null)
		fuzz_null = fopen("/dev/null", "w");
	argv[argc++] = (char *)"perfshim-analyze";
	for (i = 0; i < nargs && argc < 15; i++)
		argv[argc++] = (char *)args[i];
	argv[argc] = NULL;
	optind = 0;			/* glibc: a full getopt restart */
	stdout = fuzz_null;
	stderr = fuzz_null;		/* sanitizers write to fd 2 itself: their reports show */
	rc = perfshim_analyze_main(argc, argv);
	stdout = out;
	stderr = err;
	fuzz_stats.runs++;
	fuzz_stats.ok += rc == 0;
}

/*
 * main.c keeps --base/--new lists in its static side[] for the one run of a process: empty
 * it after each run here. Each --base/--new option was one xstrdup'd list, side[k].v[0] its
 * start (the runs above give one option a side).
 */
static void fuzz_sides_reset(void)
{
	int k;

	for (k = 0; k < 2; k++) {
		if (side[k].n)
			free((char *)side[k].v[0]);
		free(side[k].v);
		side[k].v = NULL;
		side[k].n = 0;
	}
}

static void fuzz_add(const char **v, int *n, const char *a)
{
	if (a && *n < 14)
		v[(*n)++] = a;
}

/* fuzz_reports_file - every command in every format, and the variants, on trace @path;
 * @other: a second trace for the commands that take several (diff BASE NEW, one graph). */
static void fuzz_reports_file(const char *path, const char *other)
{
	size_t i, k;
	unsigned f;

	for (i = 0; i < NELEM(commands); i++) {
		const struct command *c = &commands[i];
		char fmt[32];
		const char *v[16];
		int n;

		for (f = 0; f < NELEM(format_names); f++) {
			if (c->formats && !(c->formats & (1U << f)))
				continue;
			if (!c->formats && f)
				break;
			n = 0;
			snprintf(fmt, sizeof(fmt), "--format=%s", format_names[f]);
			fuzz_add(v, &n, c->name);
			if (c->formats)
				fuzz_add(v, &n, fmt);
			if (c->outfile) {	/* pprof, callgrind, massif: not into the cwd */
				fuzz_add(v, &n, "-o");
				fuzz_add(v, &n, "/dev/null");
			}
			fuzz_add(v, &n, path);
			fuzz_run(v, n);
		}
		/* several traces: one document (JSON), one graph, or BASE NEW; the exports with
		 * a file of their own take one trace (two are bad usage, exit 2) */
		if (c->outfile)
			continue;
		n = 0;
		fuzz_add(v, &n, c->name);
		if (c->formats & F_JSON)
			fuzz_add(v, &n, "--format=json");
		fuzz_add(v, &n, path);
		fuzz_add(v, &n, other);
		fuzz_run(v, n);
	}
	for (i = 0; i < NELEM(fuzz_variants); i++) {
		const struct fuzz_variant *fv = &fuzz_variants[i];
		const struct command *c = find_command(fv->command);
		const char *v[16];
		int n = 0;

		if (!c) {	/* a variant of a command main.c does not have: fix the table */
			fprintf(stderr, "fuzz_variants: no command %s\n", fv->command);
			abort();
		}
		fuzz_add(v, &n, fv->command);
		for (k = 0; k < NELEM(fv->args); k++)
			fuzz_add(v, &n, fv->args[k]);
		fuzz_add(v, &n, path);
		fuzz_run(v, n);
	}
	{
		const char *v[] = { "functions", "--tree", "--format=json", path, other };

		fuzz_run(v, 5);
	}
	if (other) {
		char base[160], new[160];
		const char *v[] = { "diff", base, new, "--format=json" };

		/* several runs a side: the statistics of report-diff-multi.c, text and JSON */
		snprintf(base, sizeof(base), "--base=%s,%s", path, other);
		snprintf(new, sizeof(new), "--new=%s,%s", other, path);
		fuzz_run(v, 4);
		fuzz_sides_reset();
		fuzz_run(v, 3);
		fuzz_sides_reset();
	}
}

/*
 * fuzz_fix_checksums - make @buf's checksums right after mutation: the file header's, and
 * for each chunk header found in order (its size and pad trusted as far as the file goes)
 * its payload's (unless OPEN, which has none) and its own. Bytes between chunks are left.
 */
static void fuzz_fix_checksums(uint8_t *buf, size_t size)
{
	struct trace_file_header fh;
	struct trace_chunk_header ch;
	size_t off = sizeof(fh);

	if (size < sizeof(fh))
		return;
	memcpy(&fh, buf, sizeof(fh));
	fh.checksum = trace_checksum(&fh, TRACE_FILE_HEADER_CKLEN);
	memcpy(buf, &fh, sizeof(fh));
	while (off + sizeof(ch) <= size) {
		size_t avail;

		memcpy(&ch, buf + off, sizeof(ch));
		if (ch.magic != TRACE_CHUNK_MAGIC) {
			off++;			/* the reader resynchronizes on the magic too */
			continue;
		}
		avail = size - off - sizeof(ch);
		if (!(ch.flags & TRACE_CHUNK_OPEN))
			ch.payload_checksum = trace_checksum(buf + off + sizeof(ch),
							     ch.size < avail ? ch.size : avail);
		ch.header_checksum = trace_checksum(&ch, TRACE_CHUNK_HEADER_CKLEN);
		memcpy(buf + off, &ch, sizeof(ch));
		off += sizeof(ch) + (ch.size < avail ? ch.size : avail);
		if (fh.version >= 2 && ch.pad <= size - off)
			off += ch.pad;
	}
}

/* a memfd's path, "/proc/self/fd/N"; -1 when none could be made */
static int fuzz_memfd(char *path, size_t len)
{
	int fd = memfd_create("perfshim-fuzz", 0);

	if (fd >= 0)
		snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

/* the second trace: a valid random program, made once */
static const char *fuzz_other(void)
{
	static char path[64];
	static int fd = -1;

	if (fd < 0) {
		struct tgr_stream s;

		fd = fuzz_memfd(path, sizeof(path));
		if (fd < 0)
			return NULL;
		tgr_random(&s, 7, 300);
		tgr_write(&s, path);
		tgr_free(&s);
	}
	return path;
}

/* fuzz_reports_bytes - one fuzz input (a trace or a program, see above) through every report */
static int fuzz_reports_bytes(const uint8_t *data, size_t size)
{
	const char *other = fuzz_other();
	char path[64];
	int fd = fuzz_memfd(path, sizeof(path));

	if (fd < 0)
		return -1;
	if (size >= 8 && !memcmp(data, TRACE_MAGIC, 8)) {
		uint8_t *b = malloc(size);
		size_t off = 0;

		if (!b) {
			close(fd);
			return -1;
		}
		memcpy(b, data, size);
		fuzz_fix_checksums(b, size);
		while (off < size) {
			ssize_t w = write(fd, b + off, size - off);

			if (w <= 0)
				break;
			off += (size_t)w;
		}
		free(b);
	} else {
		struct tgr_stream s;

		tgr_from_bytes(&s, data, size);
		tgr_write(&s, path);
		tgr_free(&s);
	}
	fuzz_reports_file(path, other);
	close(fd);
	return 0;
}

#endif /* PERFSHIM_FUZZ_REPORTS_H */
