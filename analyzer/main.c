/* SPDX-License-Identifier: MIT */
/*
 * perfshim-analyze: options and command dispatch. `perfshim-analyze [COMMAND] [OPTIONS]
 * TRACE...`; the commands are in `--help` and README.md, their JSON in docs/json.md. Exit
 * status: 0 success, 1 bad input or failed analysis, 2 bad usage. Only this file exits (and
 * pr_fatal).
 */
#define PR_FMT "main"
#include <errno.h>
#include <getopt.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/hot-table.h"
#include "analyzer/json.h"
#include "analyzer/opts.h"
#include "analyzer/report.h"
#include "analyzer/symbols.h"
#include "analyzer/text.h"
#include "analyzer/trace.h"
#include "analyzer/util.h"

#ifndef PS_VERSION
#define PS_VERSION "0.1.0"		/* the Makefile's VERSION */
#endif

typedef int (*report_fn)(struct trace *t, const struct opts *o);

/* --format values a command takes (the table in README.md and the man page) */
#define F_TEXT (1U << FMT_TEXT)
#define F_JSON (1U << FMT_JSON)
#define F_CSV (1U << FMT_CSV)

/*
 * One command. Its report is referenced directly: a report that is renamed or left out of
 * the build is a link error, not a command that fails at run time. The fields after `help`
 * are its own `--help` (command_help): the options it reads (keys of opt_docs[] below), what
 * it takes after its name, examples and notes. The
 * bash completion (misc/perfshim.bash-completion) reads the options and their values from
 * that output, so a command added here is completed without touching the script.
 */
struct command {
	const char *name;
	report_fn fn;
	int ntraces;			/* traces it takes: 1 = one (each in turn when many),
					 * 0 = it opens them itself (diff BASE NEW) */
	unsigned formats;		/* F_*; 0: its own format, --format does not apply */
	const char *writes;		/* what it writes, for the usage error */
	const char *help;		/* one line, for the list of commands */
	const char *opts;		/* its own options: opt_docs[] keys, space-separated */
	const char *args;		/* after "COMMAND [OPTIONS]"; NULL: "[TRACE...]" */
	const char *examples;		/* lines "perfshim-analyze ..." */
	const char *more;		/* a paragraph after the options, or NULL */
	const char *outfile;		/* the file it writes without -o (NULL: stdout) */
};

/* dump's line format: in `dump --help` and the global help (tests/run/51-dump-format.sh) */
#define DUMP_FORMAT                                                                        \
	"dump prints one line per event: NS (ns since the trace start, as recorded: the\n"    \
	"hooks' cost is not taken out here as in the reports) TID TYPE FIELDS;\n"           \
	"pointers and addresses in hex; NAME, LABEL, PATH last (they may hold spaces):\n"   \
	"  NS TID entry depth=D addr=0xA NAME\n"                                            \
	"  NS TID inherited depth=D addr=0xA NAME   (a fork child's inherited call)\n"     \
	"  NS TID exit depth=D addr=0xA dur=NS NAME\n"                                      \
	"  NS TID alloc kind=K size=N ptr=0xP stack=S\n"                                    \
	"  NS TID free ptr=0xP\n"                                                           \
	"  NS TID realloc size=N old=0xP new=0xP stack=S new_ns=NS\n"                       \
	"  NS TID mark LABEL\n"                                                             \
	"  NS TID module base=0xA lo=0xA hi=0xA build_id=HEX|- PATH\n"                      \
	"  NS TID unload base=0xA PATH\n"                                                   \
	"  NS TID thread-name NAME\n"                                                       \
	"  NS TID lost count=N\n"                                                           \
	"  NS TID process pid=N EXE\n"                                                      \
	"  NS TID rss bytes=N\n"                                                            \
	"  NS TID switch kind=blocked|preempted end=NS   (off-CPU from NS to end)\n"        \
	"  NS TID cputime ns=N   (the thread's CPU clock read N ns at NS)\n"              \
	"then \"stack S: FRAME <- FRAME ...\" (innermost first; \"<- [truncated]\": cut at\n" \
	"PERFSHIM_STACK_DEPTH) for each stack named above; FRAME is NAME, \" (inlined)\" when\n" \
	"inlined into the next frame, \" at FILE:LINE\" when known (not with --no-lines).\n" \
	"\"#\" lines after the first say what the trace lacks (\"# incomplete trace ...\")\n" \
	"or what was found wrong.\n"                                                       \
	"Without --merged each thread's events come together, threads in file order;\n" \
	"switch and cputime lines come after the thread's events of their time.\n"

static const struct command commands[] = {
	{ "summary", report_summary, 1, F_TEXT | F_JSON, "text or json",
	  "program, duration, threads, events, top functions, memory, leaks",
	  "no-compensation", NULL,
	  "perfshim-analyze summary app.bin\n"
	  "perfshim-analyze --format=json                 (the newest perfshim.*.bin here)\n",
	  "The default command: `perfshim-analyze app.bin` is `perfshim-analyze summary app.bin`.\n" },
	{ "functions", report_functions, 1, F_TEXT | F_JSON | F_CSV, "text, json or csv",
	  "hot functions: calls, total, self, avg, min, max, p50, p99",
	  "sort-functions limit filter thread per-thread tree lines no-compensation wall", NULL,
	  "perfshim-analyze functions --sort=self --limit=20 app.bin\n"
	  "perfshim-analyze functions --filter='^json_' --format=csv app.bin\n",
	  "Total is inclusive (a recursive function's outer activation counted once), self\n"
	  "excludes the callees; all threads are summed unless --thread or --per-thread.\n"
	  "When the trace has context switches, self is CPU self (on-CPU time) and Wait the\n"
	  "off-CPU time within it; JSON keeps self_ns (wall-clock) and adds cpu_self_ns,\n"
	  "wait_ns, voluntary_ns, involuntary_ns, cpu_total_ns. Without them, times are\n"
	  "wall-clock.\n" },
	{ "callgraph", report_callgraph, 1, F_TEXT | F_JSON, "text or json",
	  "call tree, or one function's callers and callees (--function)",
	  "function depth min-percent thread no-compensation wall", NULL,
	  "perfshim-analyze callgraph --depth=4 --min-percent=1 app.bin\n"
	  "perfshim-analyze callgraph --function=parse_expr app.bin\n",
	  "When the trace has context switches, self is CPU self (on-CPU time; --wall: the\n"
	  "wall-clock self); JSON keeps self_ns (wall-clock) and adds cpu_self_ns, wait_ns.\n" },
	{ "memory", report_memory, 1, F_TEXT | F_JSON, "text or json",
	  "allocation totals, peak, temporaries, size histogram, top sites",
	  "sort-memory limit suppressions no-suppress", NULL,
	  "perfshim-analyze memory --limit=10 app.bin\n"
	  "perfshim-analyze memory --sort=peak --format=json app.bin\n",
	  NULL },
	{ "leaks", report_leaks, 1, F_TEXT | F_JSON, "text or json",
	  "memory never freed, by allocation stack",
	  "limit suppressions no-suppress", NULL,
	  "perfshim-analyze leaks app.bin\n"
	  "perfshim-analyze leaks --suppressions=lsan.supp --format=json app.bin\n",
	  "Suppression files use LeakSanitizer's format (leak:PATTERN lines).\n" },
	{ "diff", report_diff, 0, F_TEXT | F_JSON, "text or json",
	  "--from MARK --to MARK TRACE, or BASE NEW: what changed",
	  "from to threshold limit base new alpha no-compensation wall",
	  "--from=MARK --to=MARK [TRACE]  |  BASE NEW  |  --base=LIST --new=LIST",
	  "perfshim-analyze diff --from=before-load --to=after-load app.bin\n"
	  "perfshim-analyze diff old.bin new.bin\n",
	  "With --from/--to: what each allocation stack allocated, freed and still holds\n"
	  "between two marks of one trace (start and end are marks too). With two traces:\n"
	  "the runs compared per function and per allocation stack.\n" },
	{ "timeline", report_timeline, 1, F_TEXT | F_JSON | F_CSV, "text, json or csv",
	  "live heap (and RSS) over time",
	  "", NULL,
	  "perfshim-analyze timeline server.bin\n"
	  "perfshim-analyze timeline --format=csv server.bin > heap.csv\n",
	  NULL },
	{ "marks", report_marks, 1, F_TEXT | F_JSON | F_CSV, "text, json or csv",
	  "the marks recorded, with their times",
	  "", NULL,
	  "perfshim-analyze marks app.bin\n",
	  NULL },
	{ "flamegraph", report_flamegraph, 0, 0, "an SVG, or folded stacks with --folded",
	  "folded stacks (--folded) or an SVG flame graph",
	  "metric folded thread per-thread-flame suppressions no-suppress no-compensation wall",
	  NULL,
	  "perfshim-analyze flamegraph -o app.svg app.bin\n"
	  "perfshim-analyze flamegraph --folded --metric=alloc-bytes app.bin | flamegraph.pl\n",
	  "Several traces make one graph. It writes its own format (no --format). The time\n"
	  "metric is CPU time (self less the off-CPU time in it) when the trace has context\n"
	  "switches (--wall: wall-clock), else wall-clock; a note line says which.\n" },
	{ "chrome", report_chrome, 0, 0, "Chrome trace-event JSON",
	  "Chrome trace-event JSON (Perfetto, chrome://tracing)",
	  "limit-chrome thread no-compensation", NULL,
	  "perfshim-analyze chrome -o app.json app.bin\n",
	  "Several traces make one timeline. It writes its own format (no --format).\n" },
	{ "html", report_html, 0, 0, "one HTML page", "one self-contained HTML report",
	  "limit thread suppressions no-suppress no-compensation wall", NULL,
	  "perfshim-analyze html -o report.html app.bin\n",
	  "The page needs no network. It writes its own format (no --format). Its times are\n"
	  "CPU time when the trace has context switches (--wall: wall-clock), else\n"
	  "wall-clock; the page says which.\n" },
	{ "findings", report_findings, 1, F_TEXT | F_JSON, "text or json",
	  "the automatic advice: churn, realloc growth, N+1, leaks, growth and more",
	  "limit high-memory recursion-depth", NULL,
	  "perfshim-analyze findings app.bin\n"
	  "perfshim-analyze findings --high-memory=64M --format=json app.bin\n",
	  "Rules (thresholds in docs/findings.md): churn, realloc-growth, n-plus-one, leak,\n"
	  "growth, high-memory, blocking (with off-CPU data), tiny-hot, deep-recursion. Each\n"
	  "finding gives its numbers, its stack and the change to make. `summary` lists the\n"
	  "first 5 findings too.\n" },
	{ "pprof", report_pprof, 0, 0, "a gzipped pprof profile (profile.proto)",
	  "pprof profile: go tool pprof, Pyroscope, Parca",
	  "", "[TRACE]",
	  "perfshim-analyze pprof -o app.pb.gz app.bin\n"
	  "go tool pprof -top -sample_index=alloc_space app.pb.gz\n",
	  "A gzipped profile.proto with the sample types calls, wall (self time per call\n"
	  "path), alloc_objects, alloc_space, inuse_objects and inuse_space (blocks live at\n"
	  "the end), and cpu (on-CPU self time) when the trace has context switches (else\n"
	  "times are wall-clock, as a comment says); locations with function, file and line;\n"
	  "one mapping per module with its build-id. What the trace lacks is in the\n"
	  "profile's comments (go tool pprof -comments). One trace at a time.\n",
	  "perfshim.pb.gz" },
	{ "callgrind", report_callgrind, 0, 0, "a callgrind profile",
	  "callgrind profile: kcachegrind, callgrind_annotate",
	  "", "[TRACE]",
	  "perfshim-analyze callgrind app.bin\n"
	  "callgrind_annotate --inclusive=yes callgrind.out.perfshim\n",
	  "Per function its self cost and per call edge the calls and inclusive cost, for the\n"
	  "events ns (time), allocs and bytes (allocations made while the function ran, or by\n"
	  "the stack's innermost function when no calls were recorded). A recursive call\n"
	  "nested in an activation of the same function adds calls but no inclusive cost, so\n"
	  "inclusive totals are those of `functions`. What the trace lacks is in desc: lines.\n"
	  "One trace at a time.\n",
	  "callgrind.out.perfshim" },
	{ "massif", report_massif, 0, 0, "a massif profile",
	  "massif profile: ms_print, massif-visualizer",
	  "threshold-massif time-unit", "[TRACE]",
	  "perfshim-analyze massif app.bin\n"
	  "ms_print massif.out.perfshim\n",
	  "The live heap in about 50 snapshots, every tenth and the peak with the tree of\n"
	  "allocation stacks holding it, one node per code address. What the trace lacks is\n"
	  "in desc: lines.\n"
	  "One trace at a time.\n",
	  "massif.out.perfshim" },
	{ "waits", report_waits, 1, F_TEXT | F_JSON, "text or json",
	  "where threads waited (off-CPU time by call stack)",
	  "limit-waits thread", NULL,
	  "perfshim-analyze waits app.bin\n"
	  "perfshim-analyze waits --thread=4242 --format=json app.bin\n",
	  "Each time a thread was switched out, its off-CPU time goes to the call stack it had:\n"
	  "blocked (voluntary: a system call, a lock, a sleep) or preempted (involuntary).\n"
	  "Needs a trace with context switches (the recorder takes them where the kernel\n"
	  "allows perf_event_open; otherwise it says so once and times are wall-clock).\n" },
	{ "dump", report_dump, 1, F_TEXT, "text", "every event, one line each (see below)",
	  "merged thread", NULL,
	  "perfshim-analyze dump --merged app.bin | less\n",
	  DUMP_FORMAT },
};

static const char *const format_names[] = { "text", "json", "csv" };

/*
 * Options as `COMMAND --help` shows them: the spelling, its values (space-separated, shown
 * as a|b|c, which the completion offers) or an argument name, and one line of meaning.
 */
struct opt_doc {
	const char *key;		/* in struct command's opts */
	const char *spelling;		/* "-n, --limit" */
	const char *values;		/* "a b c", or NULL */
	const char *arg;		/* "N", or NULL (no argument) */
	const char *text;
};

static const struct opt_doc opt_docs[] = {
	{ "sort-functions", "--sort", HOT_SORT_COLUMNS, NULL, "sort by this column (default total)" },
	{ "sort-memory", "--sort", MEM_SORT_KEYS, NULL, "sort the sites by this (default bytes)" },
	{ "limit", "-n, --limit", NULL, "N", "rows to show (0 = all)" },
	{ "limit-chrome", "-n, --limit", NULL, "N", "calls to write, the longest (default "
	  "1000000; 0 = all)" },
	{ "limit-waits", "-n, --limit", NULL, "N", "stacks to show, longest wait first (default "
	  "20; 0 = all)" },
	{ "wall", "--wall", NULL, NULL, "wall-clock self time even when the trace has CPU time" },
	{ "filter", "--filter", NULL, "REGEX", "only functions whose name matches (POSIX extended)" },
	{ "thread", "--thread", NULL, "TID", "only this thread" },
	{ "per-thread", "--per-thread", NULL, NULL, "one table per thread" },
	{ "lines", "--lines", NULL, NULL, "text: a last column, where each function is defined "
	  "(file:line)" },
	{ "per-thread-flame", "--per-thread", NULL, NULL, "one tower per thread under the root" },
	{ "function", "--function", NULL, "NAME", "the callers and callees of NAME" },
	{ "depth", "--depth", NULL, "N", "tree depth (default unlimited)" },
	{ "min-percent", "--min-percent", NULL, "P", "hide subtrees under P% of the total time" },
	{ "suppressions", "--suppressions", NULL, "FILE", "extra leak suppression rules" },
	{ "no-suppress", "--no-suppress", NULL, NULL, "no suppressions, not even the built-in ones" },
	{ "from", "--from", NULL, "MARK", "from this mark (start, end or a label)" },
	{ "to", "--to", NULL, "MARK", "to this mark" },
	{ "threshold", "--threshold", NULL, "PCT", "hide changes under PCT%" },
	{ "metric", "--metric", FLAME_METRICS, NULL, "what widths measure (default time)" },
	{ "folded", "--folded", NULL, NULL, "folded stacks instead of SVG" },
	{ "merged", "--merged", NULL, NULL, "all threads in one time order" },
	{ "tree", "--tree", NULL, NULL, "the traces as one process tree: one table, each call "
	  "counted once" },
	{ "base", "--base", NULL, "LIST", "comma list of the base runs' traces" },
	{ "new", "--new", NULL, "LIST", "comma list of the new runs' traces" },
	{ "alpha", "--alpha", NULL, "A", "--base/--new: family-wise level (default 0.05)" },
	{ "high-memory", "--high-memory", NULL, "BYTES", "high-memory: the peak heap limit "
	  "(default 512M; K, M, G, T)" },
	{ "recursion-depth", "--recursion-depth", NULL, "N", "deep-recursion: activations of one "
	  "function on a path (default 1000)" },
	{ "threshold-massif", "--threshold", NULL, "PCT", "trees: stacks under PCT% of a snapshot "
	  "are\n                              summed into one line (default 1)" },
	{ "time-unit", "--time-unit", "ms B", NULL, "snapshot times: ms since the start, or B "
	  "(bytes\n                              allocated and freed so far; default ms)" },
	{ "no-compensation", "--no-compensation", NULL, NULL, "raw call times: the hooks' own "
	  "cost left in\n                              (docs/compensation.md)" },
};

/* options every command takes, after its own in `COMMAND --help` */
static const struct opt_doc common_docs[] = {
	{ "", "-o, --output", NULL, "FILE", "write the report to FILE (default stdout)" },
	{ "", "--color", "auto always never", NULL, "bold table headers (auto: on a terminal "
	  "but\n                              not with NO_COLOR set or TERM=dumb)" },
	{ "", "--no-color", NULL, NULL, "as --color=never" },
	{ "", "--no-progress", NULL, NULL, "no progress line on stderr" },
	{ "", "--no-demangle", NULL, NULL, "C++ names as the linker sees them" },
	{ "", "--no-lines", NULL, NULL, "no source file:line and no inlined frames (reads no "
	  "DWARF: faster)" },
	{ "", "--decompress-limit", NULL, "SIZE", "largest trace a .zst may hold (default 32G; "
	  "0 = none)" },
	{ "", "-j, --jobs", NULL, "N", "cores to decode on (default all; 1: one): threads\n"
	  "                              in parallel for functions, callgraph, summary,\n"
	  "                              findings, diff BASE NEW; the others use one core" },
	{ "", "-v, --verbose", NULL, NULL, "debug messages (repeat for more)" },
	{ "", "-h, --help", NULL, NULL, "this text" },
	{ "", "--version", NULL, NULL, "the version" },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* one option line: "  --sort=a|b|c   text" */
static void opt_line(FILE *f, const struct opt_doc *d)
{
	char buf[160];
	size_t n = (size_t)snprintf(buf, sizeof(buf), "%s", d->spelling), i;

	if (d->values) {
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "=%s", d->values);
		for (i = strlen(d->spelling) + 1; i < n && i < sizeof(buf); i++)
			if (buf[i] == ' ')
				buf[i] = '|';
	} else if (d->arg) {
		snprintf(buf + n, sizeof(buf) - n, "=%s", d->arg);
	}
	if (strlen(buf) > 26)
		fprintf(f, "  %s\n  %-26s  %s\n", buf, "", d->text);
	else
		fprintf(f, "  %-26s  %s\n", buf, d->text);
}

/* command_help - `perfshim-analyze COMMAND --help`: its usage, options, formats, examples */
static void command_help(const struct command *c, FILE *f)
{
	const char *p = c->opts;
	size_t i;

	fprintf(f, "usage: perfshim-analyze %s [OPTIONS] %s\n\n%s.\n", c->name,
		c->args ? c->args : "[TRACE...]", c->help);
	fprintf(f, "\nOptions:\n");
	if (c->formats) {
		char v[32] = "";

		for (i = 0; i < NELEM(format_names); i++)
			if (c->formats & (1U << i))
				snprintf(v + strlen(v), sizeof(v) - strlen(v), "%s%s", *v ? " " : "",
					 format_names[i]);
		opt_line(f, &(struct opt_doc){ "", "--format", v, NULL, "output format (default text)" });
	}
	while (p && *p) {
		size_t len = strcspn(p, " ");

		for (i = 0; i < NELEM(opt_docs); i++)
			if (strlen(opt_docs[i].key) == len && !strncmp(opt_docs[i].key, p, len))
				opt_line(f, &opt_docs[i]);
		p += len;
		p += strspn(p, " ");
	}
	fprintf(f, "\nCommon options:\n");
	for (i = 0; i < NELEM(common_docs); i++) {
		char text[128];
		struct opt_doc d = common_docs[i];

		if (c->outfile && !strcmp(d.spelling, "-o, --output")) {
			snprintf(text, sizeof(text), "write to FILE (default %s; - is stdout)",
				 c->outfile);
			d.text = text;
		}
		opt_line(f, &d);
	}
	if (c->more)
		fprintf(f, "\n%s", c->more);
	fprintf(f, "\nWithout a TRACE, the newest perfshim.*.bin (or .bin.zst) of the working "
		   "directory\nis read, and stderr says which. Traces compressed with zstd are "
		   "read as they are.\n");
	if (c->ntraces == 1 && (c->formats & F_JSON))
		fprintf(f, "Several traces: each in turn (JSON: one document, "
			   "{\"traces\": [{\"trace\": PATH, ...}]}).\n");
	if (c->examples) {
		fprintf(f, "\nExamples:\n");
		for (p = c->examples; *p; p += strcspn(p, "\n"), p += *p == '\n')
			fprintf(f, "  %.*s\n", (int)strcspn(p, "\n"), p);
	}
	fprintf(f, "\nExit status: 0 success, 1 bad input or failed analysis, 2 bad usage.\n");
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"usage: perfshim-analyze [COMMAND] [OPTIONS] [TRACE...]\n"
		"\n"
		"Commands (default: summary):\n");
	for (i = 0; i < NELEM(commands); i++)
		fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].help);
	fprintf(f,
		"\n"
		"perfshim-analyze COMMAND --help shows a command's own options and examples.\n"
		"Without a TRACE, the newest perfshim.*.bin (or .bin.zst) of the working directory.\n"
		"\n"
		"Options:\n"
		"  --format=text|json|csv   output format (default text): text and json for summary,\n"
		"                           callgraph, memory, leaks, diff, findings, waits; csv too\n"
		"                           for functions, timeline, marks; dump: text only;\n"
		"                           flamegraph, chrome, html, pprof, callgrind, massif write\n"
		"                           their own format (no --format)\n"
		"  --sort=COLUMN            functions: calls total self wait avg min max p50 p99\n"
		"                           name (default total); memory: the report's columns\n"
		"  -n, --limit=N            rows to show (0 = all)\n"
		"  --filter=REGEX           only functions whose name matches (POSIX extended)\n"
		"  --thread=TID             only this thread\n"
		"  --per-thread             functions: one table per thread\n"
		"  --lines                  functions: a column of where each one is defined\n"
		"  --function=NAME          callgraph: callers and callees of NAME\n"
		"  --depth=N                callgraph: tree depth (default unlimited)\n"
		"  --min-percent=P          callgraph: hide subtrees under P%% of the total time\n"
		"  --suppressions=FILE      leaks: extra suppression rules\n"
		"  --no-suppress            leaks: no suppressions, not even the built-in ones\n"
		"  --from=MARK --to=MARK    diff: between two marks (start, end or a label)\n"
		"  --threshold=PCT          diff: hide changes under PCT%%; massif: stacks under\n"
		"                           PCT%% of a snapshot summed into one line (default 1)\n"
		"  --time-unit=ms|B         massif: snapshot times in ms, or in bytes allocated\n"
		"                           and freed so far\n"
		"  --base=LIST --new=LIST   diff: comma lists of traces, several runs a side, decided\n"
		"                           by the statistics of perfshim compare (docs/compare.md)\n"
		"  --alpha=A                diff --base/--new: family-wise level (default 0.05)\n"
		"  --metric=M               flamegraph: time, alloc-bytes, alloc-count, leaked\n"
		"  --folded                 flamegraph: folded stacks instead of SVG\n"
		"  -o, --output=FILE        write the report to FILE (default stdout; pprof,\n"
		"                           callgrind and massif: perfshim.pb.gz,\n"
		"                           callgrind.out.perfshim, massif.out.perfshim)\n"
		"  --merged                 dump: all threads in one time order\n"
		"  --high-memory=BYTES      findings: the peak heap that is high (default 512M)\n"
		"  --recursion-depth=N      findings: deep recursion from N activations (default 1000)\n"
		"  --wall                   functions, callgraph, diff, flamegraph, html:\n"
		"                           wall-clock times (CPU time is the default when the\n"
		"                           trace has context switches)\n"
		"  --tree                   functions: the traces given as one process tree (a\n"
		"                           program and the children it forked, spawned or\n"
		"                           exec'd): one table, each call counted once\n"
		"  --color=auto|always|never, --no-color, --no-progress, --no-demangle\n"
		"  --no-lines               no source file:line, no inlined frames (faster)\n"
		"  --decompress-limit=SIZE  largest trace a .zst may hold (default 32G, 0 = none)\n"
		"  -j, --jobs=N             cores to decode on (default all online ones; 1: one):\n"
		"                           functions, callgraph, summary, findings and diff\n"
		"                           BASE NEW decode a trace's threads in parallel (same\n"
		"                           output); the other commands take -j and use one core\n"
		"  -v, --verbose            debug messages (repeat for more)\n"
		"  -h, --help               this text (with a COMMAND: that command's)\n"
		"  --version                the version\n"
		"\n"
		DUMP_FORMAT
		"\n"
		"Exit status: 0 success, 1 bad input or failed analysis, 2 bad usage.\n");
}

static void __attribute__((noreturn, format(printf, 1, 2))) usage_err(const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	fprintf(stderr, "%s: ", progname);
	fput_text(msg ? msg : "bad usage", stderr);	/* argv may hold escape sequences */
	fprintf(stderr, " (see perfshim-analyze --help)\n");
	free(msg);
	exit(2);
}

static long parse_long(const char *opt, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		usage_err("--%s: bad value '%s' (a number from %ld to %ld)", opt, s, lo, hi);
	return v;
}

static double parse_double(const char *opt, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > 1e9)
		usage_err("--%s: bad value '%s'", opt, s);
	return v;
}

enum {
	OPT_FORMAT = 256, OPT_SORT, OPT_FILTER, OPT_THREAD, OPT_PER_THREAD, OPT_FUNCTION,
	OPT_DEPTH, OPT_MIN_PERCENT, OPT_SUPP, OPT_NO_SUPP, OPT_FROM, OPT_TO, OPT_THRESHOLD,
	OPT_METRIC, OPT_FOLDED, OPT_COLOR, OPT_NO_COLOR, OPT_PROGRESS, OPT_NO_PROGRESS,
	OPT_NO_DEMANGLE, OPT_NO_LINES, OPT_LINES, OPT_MERGED, OPT_TREE, OPT_BASE, OPT_NEW, OPT_ALPHA,
	OPT_VERSION, OPT_DECOMPRESS_LIMIT, OPT_HIGH_MEMORY, OPT_RECURSION_DEPTH, OPT_TIME_UNIT,
	OPT_NO_COMP,
	OPT_WALL,
};

static const struct option longopts[] = {
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "sort", required_argument, NULL, OPT_SORT },
	{ "limit", required_argument, NULL, 'n' },
	{ "filter", required_argument, NULL, OPT_FILTER },
	{ "thread", required_argument, NULL, OPT_THREAD },
	{ "per-thread", no_argument, NULL, OPT_PER_THREAD },
	{ "function", required_argument, NULL, OPT_FUNCTION },
	{ "depth", required_argument, NULL, OPT_DEPTH },
	{ "min-percent", required_argument, NULL, OPT_MIN_PERCENT },
	{ "suppressions", required_argument, NULL, OPT_SUPP },
	{ "no-suppress", no_argument, NULL, OPT_NO_SUPP },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "to", required_argument, NULL, OPT_TO },
	{ "threshold", required_argument, NULL, OPT_THRESHOLD },
	{ "metric", required_argument, NULL, OPT_METRIC },
	{ "folded", no_argument, NULL, OPT_FOLDED },
	{ "output", required_argument, NULL, 'o' },
	{ "color", optional_argument, NULL, OPT_COLOR },
	{ "colour", optional_argument, NULL, OPT_COLOR },
	{ "no-color", no_argument, NULL, OPT_NO_COLOR },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "no-demangle", no_argument, NULL, OPT_NO_DEMANGLE },
	{ "no-lines", no_argument, NULL, OPT_NO_LINES },
	{ "lines", no_argument, NULL, OPT_LINES },
	{ "merged", no_argument, NULL, OPT_MERGED },
	{ "tree", no_argument, NULL, OPT_TREE },
	{ "wall", no_argument, NULL, OPT_WALL },
	{ "base", required_argument, NULL, OPT_BASE },
	{ "new", required_argument, NULL, OPT_NEW },
	{ "alpha", required_argument, NULL, OPT_ALPHA },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "decompress-limit", required_argument, NULL, OPT_DECOMPRESS_LIMIT },
	{ "high-memory", required_argument, NULL, OPT_HIGH_MEMORY },
	{ "recursion-depth", required_argument, NULL, OPT_RECURSION_DEPTH },
	{ "time-unit", required_argument, NULL, OPT_TIME_UNIT },
	{ "no-compensation", no_argument, NULL, OPT_NO_COMP },
	{ "jobs", required_argument, NULL, 'j' },
	{ NULL, 0, NULL, 0 },
};

/* diff --base/--new: comma lists of traces, options repeatable (report-diff-multi.c) */
static struct {
	const char **v;
	int n;
} side[2];

static void add_traces(int k, const char *list)
{
	char *copy = xstrdup(list), *tok, *save;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		ARRAY_RESIZE(side[k].v, (size_t)side[k].n + 1);
		side[k].v[side[k].n++] = tok;
	}
}

/* The traces of --base and --new, base first; several on a side: the statistics. */
static void base_new(struct opts *o, const struct command *cmd)
{
	int nb = side[0].n;

	if (!side[0].n && !side[1].n)
		return;
	if (strcmp(cmd->name, "diff"))
		usage_err("--base/--new: only diff compares traces");
	if (o->ntraces)
		usage_err("diff: give the traces as BASE NEW or with --base and --new, not both");
	if (!side[0].n || !side[1].n)
		usage_err("diff: --base and --new go together");
	if (o->from || o->to)
		usage_err("diff: --from/--to compare marks of one trace, --base/--new runs");
	/* the new traces after the base ones, in side[0] (which stays reachable: no leak) */
	ARRAY_RESIZE(side[0].v, (size_t)nb + side[1].n);
	memcpy(side[0].v + nb, side[1].v, (size_t)side[1].n * sizeof(*side[0].v));
	o->traces = side[0].v;
	o->ntraces = nb + side[1].n;
	o->nbase = nb > 1 || side[1].n > 1 ? nb : 0;	/* one each: BASE NEW */
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* "64M", "32G", "1048576": bytes, K/M/G/T (or KiB...) binary; 0 = no limit */
static uint64_t parse_size(const char *opt, const char *s)
{
	static const char *const units[] = { "", "K", "M", "G", "T" };
	unsigned long long v;
	char *end;
	size_t u;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		usage_err("--%s: bad size '%s' (bytes, or with K, M, G, T)", opt, s);
	for (u = 0; u < NELEM(units); u++)
		if (!strcmp(end, units[u]) || (u && end[0] == units[u][0] && !strcmp(end + 1, "iB")))
			break;
	if (u == NELEM(units) || (u && v > (UINT64_MAX >> (10 * u))))
		usage_err("--%s: bad size '%s' (bytes, or with K, M, G, T)", opt, s);
	return (uint64_t)v << (10 * u);
}

/* TERM unset or "dumb": a terminal that shows no colour and cannot redraw a line */
static bool dumb_terminal(void)
{
	const char *term = getenv("TERM");

	return !term || !*term || !strcmp(term, "dumb");
}

/* parse_opt - one option @c of getopt_long into @o (or *@color, *@help). Usage errors exit 2. */
static void parse_opt(int c, char **argv, struct opts *o, int *color, bool *help)
{
	switch (c) {
	case OPT_FORMAT:
		if (!strcmp(optarg, "text"))
			o->format = FMT_TEXT;
		else if (!strcmp(optarg, "json"))
			o->format = FMT_JSON;
		else if (!strcmp(optarg, "csv"))
			o->format = FMT_CSV;
		else
			usage_err("--format: '%s' is not text, json or csv", optarg);
		o->format_set = 1;
		break;
	case OPT_SORT: o->sort = optarg; break;
	case 'n': o->limit = parse_long("limit", optarg, 0, 1L << 40); break;
	case OPT_FILTER: o->filter = optarg; break;
	case OPT_THREAD:
		o->thread_set = 1;
		o->thread_tid = (uint32_t)parse_long("thread", optarg, 0, UINT32_MAX);
		break;
	case OPT_PER_THREAD: o->per_thread = 1; break;
	case OPT_FUNCTION: o->function = optarg; break;
	case OPT_DEPTH: o->depth = (int)parse_long("depth", optarg, 0, 1 << 30); break;
	case OPT_MIN_PERCENT:
		o->min_percent = parse_double("min-percent", optarg);
		if (o->min_percent > 100)
			usage_err("--min-percent: %s is over 100", optarg);
		break;
	case OPT_SUPP: o->suppressions = optarg; break;
	case OPT_NO_SUPP: o->no_suppress = 1; break;
	case OPT_FROM: o->from = optarg; break;
	case OPT_TO: o->to = optarg; break;
	case OPT_THRESHOLD:
		o->threshold = parse_double("threshold", optarg);
		o->threshold_set = 1;
		break;
	case OPT_TIME_UNIT:
		if (strcmp(optarg, "ms") && strcmp(optarg, "B"))
			usage_err("--time-unit: '%s' is not ms or B", optarg);
		o->time_unit = optarg;
		break;
	case OPT_METRIC: o->metric = optarg; break;
	case OPT_FOLDED: o->folded = 1; break;
	case 'o': o->output = optarg; break;
	case OPT_COLOR:
		if (!optarg || !strcmp(optarg, "always"))
			*color = 1;
		else if (!strcmp(optarg, "never"))
			*color = 0;
		else if (!strcmp(optarg, "auto"))
			*color = -1;
		else
			usage_err("--color: '%s' is not auto, always or never", optarg);
		break;
	case OPT_NO_COLOR: *color = 0; break;
	case OPT_PROGRESS: o->progress = 1; break;
	case OPT_NO_PROGRESS: o->progress = 0; break;
	case OPT_NO_DEMANGLE: o->demangle = 0; break;
	case OPT_NO_LINES: sym_set_lines_default(false); break;
	case OPT_LINES: o->lines = 1; break;
	case OPT_NO_COMP: trace_set_compensation(false); break;
	case OPT_MERGED: o->merged = 1; break;
	case OPT_TREE: o->tree = 1; break;
	case OPT_WALL: o->wall = 1; break;
	case OPT_BASE: add_traces(0, optarg); break;
	case OPT_NEW: add_traces(1, optarg); break;
	case OPT_ALPHA:
		o->alpha = parse_double("alpha", optarg);
		if (!(o->alpha > 0 && o->alpha < 1))
			usage_err("--alpha: %s is not between 0 and 1", optarg);
		break;
	case OPT_DECOMPRESS_LIMIT:
		trace_set_decompress_limit(parse_size("decompress-limit", optarg));
		break;
	case OPT_HIGH_MEMORY:
		o->high_memory = parse_size("high-memory", optarg);
		if (!o->high_memory)
			usage_err("--high-memory: 0 is no limit; give at least 1 byte");
		break;
	case OPT_RECURSION_DEPTH:
		o->recursion_depth = parse_long("recursion-depth", optarg, 1, 1L << 30);
		break;
	case 'j': trace_set_jobs((unsigned)parse_long("jobs", optarg, 1, 1024)); break;
	case 'v': debug_level++; break;
	case 'h': *help = true; break;
	case OPT_VERSION:
		printf("perfshim-analyze %s\n", PS_VERSION);
		exit(0);
	case ':':
		usage_err("%s: missing value", argv[optind - 1]);
	default:
		usage_err("unknown option '%s'", argv[optind - 1]);
	}
}

/*
 * parse_args - fill @o from argv. A first argument that names a command selects it; other
 * positional arguments are traces (none: the newest perfshim.*.bin here, said on stderr).
 * --help shows the command's own help when a command is named, anywhere on the line.
 * Usage errors exit 2.
 */
static const struct command *parse_args(int argc, char **argv, struct opts *o)
{
	const struct command *cmd = NULL;
	bool named = false, help = false;
	int c, color = -1;

	memset(o, 0, sizeof(*o));
	o->limit = -1;
	o->depth = -1;
	o->demangle = 1;
	o->progress = 1;
	if (argc > 1 && argv[1][0] != '-') {
		cmd = find_command(argv[1]);
		if (cmd) {
			argv++;
			argc--;
			named = true;
		} else if (access(argv[1], F_OK) != 0 && !strpbrk(argv[1], "/.")) {
			/* neither a command nor a file; a path-like name is a missing trace */
			usage_err("unknown command '%s'", argv[1]);
		}
	}
	if (!cmd)
		cmd = find_command("summary");

	opterr = 0;	/* one line per usage error: ours */
	while ((c = getopt_long(argc, argv, ":n:o:vhj:", longopts, NULL)) != -1)
		parse_opt(c, argv, o, &color, &help);

	/* a command named after options: perfshim-analyze --format=json functions t.bin */
	if (optind < argc && !named && find_command(argv[optind]) &&
	    access(argv[optind], F_OK) != 0) {
		cmd = find_command(argv[optind++]);
		named = true;
	}
	if (help) {
		if (named)
			command_help(cmd, stdout);
		else
			usage(stdout);
		exit(0);
	}
	o->command = cmd->name;
	/* colour: asked for, or on a terminal that shows it, never when NO_COLOR is set */
	if (color < 0) {
		const char *nc = getenv("NO_COLOR");

		color = isatty(1) && !o->output && !(nc && *nc) && !dumb_terminal();
	}
	o->color = color;
	if (o->progress && (!isatty(2) || dumb_terminal()))
		o->progress = 0;

	o->traces = (const char **)argv + optind;
	o->ntraces = argc - optind;
	base_new(o, cmd);
	if (!o->ntraces) {
		static const char *newest[1];

		newest[0] = cli_newest_trace();
		if (!newest[0])
			usage_err("%s: no trace given, and no perfshim.*.bin in the working directory",
				  cmd->name);
		__pr_log("", "no trace given: reading %s, the newest perfshim.*.bin here",
			 newest[0]);
		o->traces = newest;
		o->ntraces = 1;
	}
	if (o->tree && strcmp(cmd->name, "functions"))
		usage_err("--tree: only functions reports several traces as one process tree");
	if (o->tree && o->per_thread)
		usage_err("--tree and --per-thread: choose one");
	return cmd;
}

/*
 * check_usage - what a command cannot do with these options is bad usage (exit 2, one line),
 * said before any trace is opened: a format it does not write, a --sort column or --metric
 * it does not know, a --filter that is no regular expression, diff's number of traces.
 */
static void check_usage(const struct command *cmd, const struct opts *o)
{
	bool functions = !strcmp(cmd->name, "functions"), memory = !strcmp(cmd->name, "memory");
	regex_t re;
	int e;

	if (o->format_set && !cmd->formats)
		usage_err("%s: --format does not apply (it writes %s)", cmd->name, cmd->writes);
	if (o->format_set && !(cmd->formats & (1U << o->format)))
		usage_err("%s: --format=%s is not supported (it writes %s)", cmd->name,
			  format_names[o->format], cmd->writes);
	if (o->sort && functions && !hot_sort_ok(o->sort))
		usage_err("--sort: unknown column '%s' for functions (%s)", o->sort,
			  HOT_SORT_COLUMNS);
	if (o->sort && memory && !mem_sort_ok(o->sort))
		usage_err("--sort: unknown column '%s' for memory (%s)", o->sort, MEM_SORT_KEYS);
	if (o->metric && !strcmp(cmd->name, "flamegraph") && !flame_metric_ok(o->metric))
		usage_err("--metric: unknown metric '%s' (%s)", o->metric, FLAME_METRICS);
	if (o->filter) {
		e = regcomp(&re, o->filter, REG_EXTENDED | REG_NOSUB);
		if (e) {
			char msg[128];

			regerror(e, &re, msg, sizeof(msg));
			usage_err("--filter: bad regular expression '%s': %s", o->filter, msg);
		}
		regfree(&re);
	}
	if ((!strcmp(cmd->name, "pprof") || !strcmp(cmd->name, "callgrind") ||
	     !strcmp(cmd->name, "massif")) && o->ntraces > 1)
		usage_err("%s: one trace at a time (%d were given)", cmd->name, o->ntraces);
	if (o->time_unit && strcmp(cmd->name, "massif"))
		usage_err("--time-unit: only massif takes it");
	if (o->threshold_set && !strcmp(cmd->name, "massif") && o->threshold > 100)
		usage_err("--threshold: %g is over 100", o->threshold);
	if (!strcmp(cmd->name, "diff") && !o->nbase) {	/* --base/--new: any number */
		if (o->ntraces > 1 && (o->from || o->to))
			usage_err("diff: --from/--to compare marks of one trace, %d were given",
				  o->ntraces);
		if (o->ntraces > 2)
			usage_err("diff: give one trace with --from/--to, or two (BASE NEW), not %d",
				  o->ntraces);
	}
}

static int run_one(const struct command *cmd, const char *path, const struct opts *o)
{
	struct trace *t;
	int rc;

	if (trace_open(path, &t) < 0)
		return 1;
	trace_set_progress(t, o);
	rc = cmd->fn(t, o);
	trace_close(t);
	return rc ? 1 : 0;
}

/*
 * run_each - a one-trace command over several traces, each in turn. Text: a "== PATH =="
 * header before each; JSON: one document {"traces": [{"trace": PATH, ...}]}, each report's
 * document captured and given its trace's key (json_trace_entry), a trace that failed as
 * {"trace": PATH, "error": MESSAGE}. Return: 0, or 1 when any trace failed.
 */
static int run_each(const struct command *cmd, const struct opts *o)
{
	bool many_json = o->ntraces > 1 && o->format == FMT_JSON;
	int i, rc = 0;

	if (many_json)
		fputs("{\"traces\":[", stdout);
	for (i = 0; i < o->ntraces; i++) {
		struct opts one = *o;
		FILE *real = stdout;
		char *doc = NULL;
		size_t len = 0;
		int r;

		one.traces = o->traces + i;
		one.ntraces = 1;
		if (o->ntraces > 1 && o->format == FMT_TEXT)
			printf("%s== %s ==\n", i ? "\n" : "", o->traces[i]);
		fflush(stdout);
		if (many_json) {
			pr_last_error_clear();
			stdout = open_memstream(&doc, &len);
			if (!stdout)
				pr_fatal("out of memory");
		}
		r = run_one(cmd, o->traces[i], &one);
		if (many_json) {
			if (fclose(stdout))
				pr_fatal("out of memory");
			stdout = real;
			if (i)
				fputc(',', stdout);
			json_trace_entry(stdout, o->traces[i], doc, len, r ? pr_last_error() : NULL);
			free(doc);
		}
		if (r)
			rc = r;
	}
	if (many_json)
		fputs("]}\n", stdout);
	return rc;
}

int main(int argc, char **argv)
{
	const struct command *cmd;
	FILE *real_stdout = NULL;
	bool bad = false;
	struct opts o;
	int rc = 0;

	cmd = parse_args(argc, argv, &o);
	check_usage(cmd, &o);
	output_set_color(o.color);
	/* -o - is standard output (export_open says so too), not a file named "-" */
	if (o.output && strcmp(o.output, "-") && !freopen(o.output, "w", stdout)) {
		__pr_log("", "%s: %s", o.output, strerror(errno));
		return 1;
	}
	/*
	 * Text and CSV reports print labels, names and paths from the trace and argv: through
	 * the text filter nothing in them reaches the terminal as a control character. JSON
	 * escapes its own; flamegraph, chrome and html write their own formats.
	 */
	if (cmd->formats && o.format != FMT_JSON) {
		real_stdout = stdout;
		stdout = text_filter_open(real_stdout);
	}
	if (o.tree)
		rc = report_functions_tree(&o) ? 1 : 0;
	else if (cmd->ntraces == 0)
		rc = run_one(cmd, o.traces[0], &o);
	else
		rc = run_each(cmd, &o);
	if (real_stdout) {
		bad = fclose(stdout) != 0;
		stdout = real_stdout;
	}
	if (bad || fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: error writing the output: %s\n", progname, strerror(errno));
		return 1;
	}
	return rc;
}
