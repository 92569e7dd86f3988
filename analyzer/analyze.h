/* SPDX-License-Identifier: MIT */
/*
 * Private interface of perfshim-analyze: the trace reader (trace-read.c), symbols
 * (symbols.c), reports (report-*.c) and helpers (util.c, output.c). docs/design.md explains
 * how the pieces fit; docs/trace-format.md the bytes they read.
 */
#ifndef PERFSHIM_ANALYZE_H
#define PERFSHIM_ANALYZE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "include/perfshim/trace.h"

/* ---- logging (util.c). Every file defines PR_FMT before including this header. ---- */
#ifndef PR_FMT
#define PR_FMT "analyze"
#endif
extern int debug_level;
extern const char *progname;
void __pr_log(const char *prefix, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void __pr_err(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
#define pr_dbg(lvl, fmt, ...)                                                              \
	do {                                                                               \
		if (debug_level >= (lvl))                                                  \
			__pr_log(PR_FMT ": ", fmt, ##__VA_ARGS__);                         \
	} while (0)
#define pr_warn(fmt, ...) __pr_log("warning: ", fmt, ##__VA_ARGS__)
/* pr_err: one line "perfshim-analyze: error: ..." and exit(1) (bad input) */
#define pr_err(fmt, ...) __pr_err(fmt, ##__VA_ARGS__)

/* the last "error: " line's message (main.c: a failed trace's "error" key in JSON) */
const char *pr_last_error(void);
void pr_last_error_clear(void);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* ---- the trace (trace-read.c) ---- */

struct trace_module {
	uint64_t base;			/* load bias */
	uint64_t lo, hi;		/* absolute address range of its PT_LOAD segments */
	uint8_t build_id[64];
	uint32_t build_id_len;
	char *path;
	uint64_t load_ns;		/* when it was recorded (ns since trace start) */
	uint64_t unload_ns;		/* UINT64_MAX while loaded */
};

/* Largest plausible values: sizes beyond the x86-64 user address space (4-level paging) and
 * counts beyond this are impossible, and left out of every total (trace-read.c). */
#define TRACE_SIZE_MAX (1ULL << 47)
#define TRACE_COUNT_MAX (1ULL << 48)

struct trace_thread {
	uint32_t tid;
	char name[64];			/* THREAD_NAME, or "" */
	uint64_t first_ns, last_ns;	/* first and last timed record */
	uint64_t written_ns;		/* when its last usable chunk was written */
	uint64_t nchunks;		/* intact chunks used */
	uint64_t bytes;			/* payload bytes of those chunks */
	bool complete;			/* its last usable chunk is flagged LAST (or is PROCESS_END,
					 * or it was cut by the recorded end: check_ends) */
	bool damaged;			/* a damaged chunk ended its stream early */
	bool cut;			/* stopped by another thread at exit (CHUNK_CUT), or still
					 * running in an unfinished chunk when the process ended */
	bool unfinished;		/* its final chunk was never closed (TRACE_CHUNK_OPEN): read
					 * up to its writer's last committed record */
	/* private to the reader */
	void *priv;
};

#define TRACE_NO_MODULE UINT32_MAX	/* an address outside every recorded module */

/* A frame of an allocation stack: innermost first. */
struct trace_frame {
	uint64_t ip;			/* address in the traced process */
	uint32_t module;		/* the module it was in then (trace->modules), or
					 * TRACE_NO_MODULE */
	bool is_ra;			/* a return address (symbolize ip - 1), else a function entry */
	uint64_t site;			/* a function entry's call out of it (a return address in
					 * the same module, for its source line), or 0 */
};

struct trace_stack {
	uint32_t nframes;
	const struct trace_frame *frames; /* innermost first */
};

struct trace {
	const char *path;
	int fd;
	uint64_t file_size;
	struct trace_file_header hdr;
	uint32_t pid, ppid;
	char *exe;			/* from the PROCESS record, or NULL */
	char *cmdline;			/* argv joined by spaces, or NULL */
	uint64_t duration_ns;		/* first to last timed record of any thread */
	double ns_per_tick;		/* trace clock conversion (clock.c-like fit, see trace-read.c) */

	struct trace_thread *threads;	/* in order of first appearance in the file */
	uint32_t nthreads;
	struct trace_module *modules;	/* every MODULE record, in load (time) order: complete
					 * from trace_open */
	uint32_t nmodules;

	/*
	 * Functions called (dense ids for reports): a function is code, the same module file
	 * (build-id and name, or path) at the same offset, wherever and however often it was
	 * loaded; an address outside every module is a function by itself. funcs[i] is an
	 * address of it, in module func_module[i] (TRACE_NO_MODULE: none): symbolize with
	 * sym_func_name(), which knows the module. Grows as walks meet functions.
	 */
	uint64_t *funcs;
	uint32_t *func_module;
	uint32_t nfuncs;

	/*
	 * What walks learn: funcs, marks, process info, thread names and the totals below are
	 * filled as records are decoded (whatever the walk's flags) and are complete after any
	 * complete walk. Reports symbolize after their walk.
	 */
	/* Marks seen: label and time. start/end are implicit (see trace_find_mark). */
	struct trace_mark {
		char *label;
		uint64_t ns;
		uint32_t tid;
	} *marks;
	uint32_t nmarks;

	/* totals over the intact part */
	uint64_t nevents, ncalls, nallocs, nfrees, nreallocs, nlost;
	/* sampled traces (hdr.sample_mean): bytes allocated as estimated, and its variance */
	double sample_bytes, sample_var;
	uint64_t nsamples;		/* sampled allocations (ALLOC, REALLOC with a new block) */

	/* chunks that were damaged or missing: for the warning and reports */
	uint64_t damaged_chunks, damaged_bytes;
	bool truncated;

	/*
	 * What the reader's trust checks found (trace-read.c; notes.c says it in every report):
	 * whether the recorder saw the process end, chunks read twice, values no real program
	 * gives (left out of the totals), headers that contradict the contents.
	 */
	bool end_seen;			/* a thread's last chunk has TRACE_CHUNK_PROCESS_END */
	uint64_t repeated_chunks;	/* exact copies of a chunk (same tid, seq, header): read once */
	uint64_t conflicting_chunks;	/* a tid's seq again with another header: a new thread */
	uint64_t bad_sizes;		/* ALLOC/REALLOC/RSS records beyond the address space */
	uint64_t bad_counts;		/* LOST counts beyond TRACE_COUNT_MAX, or sums that overflow */
	uint64_t bad_live;		/* allocations the replay left out (replay.c impossible()) */
	bool bad_start;			/* the header's start time is after every chunk: ignored */
	bool bad_flags_calls, bad_flags_malloc;	/* calls/allocations the header says were off */
	char *read_note;		/* the file's compressed stream was cut or damaged:
					 * what was lost (trace-zstd.c), or NULL */

	/*
	 * How the recording ended (besides end_seen). unfinished_chunks: chunks read up to
	 * their writer's last committed record (TRACE_CHUNK_OPEN: it never closed them).
	 * cut_fsize / cut_write: the recorder stopped early at the file-size limit / because
	 * writing failed (file header flags TRACE_F_CUT_FSIZE, TRACE_F_CUT_WRITE).
	 */
	uint32_t unfinished_chunks;
	bool cut_fsize, cut_write;

	/*
	 * Overhead compensation (trace-comp.c, docs/compensation.md): what the recorder's hooks
	 * cost, from the trace's COST record, and whether the call times the walks deliver have
	 * it taken out (recorded and not --no-compensation). Figures in ns per event.
	 */
	struct trace_comp {
		bool recorded;		/* the trace has a COST record */
		bool applied;		/* walks deliver compensated call times */
		double entry_before_ns, entry_after_ns, exit_before_ns, exit_after_ns;
		double alloc_ns, node_ns, free_ns;
		double call_ns;		/* the four call figures summed: one call's cost */
		double parent_ns;	/* of it, what lands in the caller (before + after) */
	} comp;

	/*
	 * Context switches (TRACE_F_SWITCHES, SWITCH records; offcpu.c): threads whose switches
	 * are absent and the first reason (errno) the recorder gave, switch records the kernel
	 * dropped, and the off-CPU intervals once offcpu_load read them.
	 */
	uint32_t switch_absent;
	int switch_errno;
	uint64_t switch_lost;
	struct offcpu *offcpu;

	void *priv;			/* reader state */
};

enum trace_ev_type {
	EV_ENTRY = 1,	/* addr, func */
	EV_EXIT,	/* addr, func: the call being closed (the reader keeps the call stack) */
	EV_ALLOC,	/* ptr, size, stack, kind */
	EV_FREE,	/* ptr */
	EV_REALLOC,	/* old_ptr, ptr (0: freed by realloc(p, 0)), size, stack; ns2 = when
			 * the new block appeared (ns = when the old one was released) */
	EV_MARK,	/* str */
	EV_MODULE,	/* module: index into trace->modules */
	EV_UNLOAD,	/* module */
	EV_THREAD_NAME,	/* str */
	EV_LOST,	/* size = events the recorder dropped */
	EV_PROCESS,	/* str = exe */
	EV_RSS,		/* size = RSS bytes */
	EV_SWITCH,	/* with WALK_SWITCHES: off-CPU over [ns, ns2); kind = enum
			 * trace_switch_kind, BLOCKED or PREEMPTED (delivered when read: after
			 * the thread's events of that time) */
};

struct trace_event {
	enum trace_ev_type type;
	uint32_t thread;		/* index into trace->threads */
	uint32_t tid;
	uint32_t depth;			/* ENTRY: depth of the new call (0 = outermost);
					 * EXIT: depth of the call being closed */
	uint64_t ns;			/* ns since trace start */
	uint64_t ns2;			/* REALLOC only */
	uint64_t addr;			/* ENTRY/EXIT: function entry address (as recorded) */
	uint32_t func;			/* ENTRY/EXIT: index into trace->funcs */
	uint32_t stack;			/* ALLOC/REALLOC: global stack id, 0 = no stack */
	uint32_t kind;			/* ALLOC: enum trace_alloc_kind */
	uint32_t module;		/* MODULE/UNLOAD */
	uint64_t ptr, old_ptr, size;
	uint64_t entry_ns;		/* EXIT: when the closed call started */
	const char *str;		/* MARK/THREAD_NAME/PROCESS; valid during the callback */
	size_t len;
	uint64_t child_ns;		/* EXIT: inclusive time of the closed call's callees */
	bool nested;			/* EXIT: an outer activation of the same function is
					 * still open (recursion; count its time once) */
	bool inherited;			/* ENTRY/EXIT, with WALK_INHERITED: a call a fork child
					 * inherited from its parent (not a call of this trace) */
};

/*
 * Returns 0 to go on, non-zero to stop the walk (trace_walk then returns that value).
 * The reader turns longjmp repairs (EXITS records) and unclosed calls at a thread's end into
 * EXIT events, so ENTRY and EXIT always pair up.
 */
typedef int (*trace_event_fn)(const struct trace_event *ev, void *ctx);

#define WALK_MERGED (1U << 0)	/* all threads in one global time order (heap merge) */
#define WALK_CALLS (1U << 1)	/* deliver ENTRY/EXIT */
#define WALK_MEMORY (1U << 2)	/* deliver ALLOC/FREE/REALLOC/RSS */
#define WALK_OTHER (1U << 3)	/* deliver MARK/MODULE/UNLOAD/THREAD_NAME/LOST/PROCESS */
#define WALK_EXITS (1U << 4)	/* deliver EXIT only (with child_ns, nested): the cheapest
				 * pass for per-function times */
#define WALK_INHERITED (1U << 5) /* with WALK_CALLS: also the calls a fork child inherited
				 * (ev->inherited; depths then count them); without it they
				 * are left out and the child's own calls start at depth 0 */
#define WALK_RAW (1U << 6)	/* call times as recorded, even when the trace's are
				 * compensated (dump: the events as the clock read them) */
#define WALK_SWITCHES (1U << 7) /* deliver SWITCH (off-CPU intervals, offcpu.c) */
#define WALK_ALL (WALK_CALLS | WALK_MEMORY | WALK_OTHER)

/*
 * trace_open - open and validate @path: header, then an index of every chunk header
 * (payload checksums are checked as chunks are decoded).
 * Damage is reported once on stderr (what was lost) and the intact part is kept.
 * Return: 0, or -1 after printing one error line (foreign, empty, wrong version, hopeless).
 */
int trace_open(const char *path, struct trace **out);
void trace_close(struct trace *t);
/* trace_set_decompress_limit - most bytes a .zst trace may decompress to (0: no limit) */
void trace_set_decompress_limit(uint64_t bytes);

/*
 * trace_walk - decode the trace and call @fn for each event selected by @flags.
 * Without WALK_MERGED, threads are walked one after the other, each in its own order.
 * @thread: index into trace->threads to walk only that thread, or -1 for all.
 * Memory use is bounded by the threads' chunk buffers and decoding tables, not trace size.
 * Return: 0, the callback's non-zero value, or -1 on a decoding error (reported once).
 */
int trace_walk(struct trace *t, unsigned flags, int thread, trace_event_fn fn, void *ctx);

/* trace_stack_get - frames of global stack @id (1..trace_nstacks). */
struct trace_stack trace_stack_get(const struct trace *t, uint32_t id);
uint32_t trace_nstacks(const struct trace *t);
/* trace_stack_parent - the stack without its innermost frame (0 when it has one frame). */
uint32_t trace_stack_parent(const struct trace *t, uint32_t id);
/* trace_stack_truncated - stack @id reached PERFSHIM_STACK_DEPTH: its outer frames are not
 * in the trace (reports show a "[truncated]" outermost frame) */
bool trace_stack_truncated(const struct trace *t, uint32_t id);
#define TRACE_TRUNCATED_FRAME "[truncated]"
#define TRACE_TRUNCATED_LEGEND "[truncated]: the stack reached PERFSHIM_STACK_DEPTH; " \
	"its outer frames were not recorded"


/* trace_module_at - the module holding @addr at @ns (trace-modules.c), TRACE_NO_MODULE */
uint32_t trace_module_at(const struct trace *t, uint64_t addr, uint64_t ns);
/* the rule behind it, over any index of modules (symbols.c has its own) */
uint32_t trace_module_pick(const struct trace_module *mods, const uint32_t *by_lo,
			   const uint64_t *max_hi, uint32_t n, bool overlap, uint64_t a, uint64_t ns);

/* trace_find_mark - time of mark @label ("start", "end" or a recorded label); -1 if none. */
int trace_find_mark(const struct trace *t, const char *label, uint64_t *ns);
/* trace_info - decode the whole trace once, if no complete walk did yet, so that modules,
 * marks, names and totals are complete (before symbolizing after a one-thread walk).
 * Return: 0, or -1 on a read error. */
int trace_info(struct trace *t);
/* trace_set_compensation - take the hooks' cost out of call times (the default) or not
 * (--no-compensation), for every trace opened afterwards (trace-comp.c) */
void trace_set_compensation(bool on);
/* after a walk that delivered calls: the time taken out (ns), and how often a compensated
 * time would have gone back (it was held instead: a call then lasts 0) */
uint64_t trace_comp_removed_ns(const struct trace *t);
uint64_t trace_comp_clamps(const struct trace *t);
double trace_comp_alloc_ns(const struct trace *t);	/* mean per allocation, last walk */
/* trace_unmatched_exits - EXIT/EXITS beyond the open calls, seen by the last calls walk */
uint64_t trace_unmatched_exits(const struct trace *t);
struct opts;
/* trace_set_progress - walks of @t draw progress_update(@o, ...) as chunks are read */
void trace_set_progress(struct trace *t, const struct opts *o);

/* ---- off-CPU time (offcpu.c): context switches the recorder read from the kernel ---- */

struct offcpu_iv {
	uint64_t start, end;		/* ns since trace start: off-CPU over [start, end) */
	uint32_t kind;			/* 0 blocked (voluntary), 1 preempted (involuntary) */
};
struct offcpu_acc {			/* offcpu_exit's callee sums, per depth */
	uint64_t (*child)[2];
	uint32_t cap, thread;
	bool used;
};
bool offcpu_present(const struct trace *t);
int offcpu_load(struct trace *t);
void offcpu_free(struct trace *t);
const struct offcpu_iv *offcpu_intervals(const struct trace *t, uint32_t thread, uint32_t *n);
void offcpu_within(const struct trace *t, uint32_t thread, uint64_t a, uint64_t b,
		   uint64_t out[2]);
void offcpu_exit(const struct trace *t, struct offcpu_acc *acc, uint32_t thread,
		 uint32_t depth, uint64_t a, uint64_t b, uint64_t self[2]);
void offcpu_acc_free(struct offcpu_acc *acc);
const char *offcpu_note(const struct trace *t, char *buf, size_t len);

/* ---- symbols (symbols.c) ---- */

struct sym_info {
	const char *name;		/* demangled function name, NULL if unknown */
	const char *module;		/* module path (as recorded), NULL if outside any */
	const char *module_id;		/* its GNU build-id in hex, NULL if it has none */
	uint64_t module_off;		/* addr - module base */
	const char *file;		/* source file from DWARF, or NULL */
	unsigned line;			/* 0 if unknown */
};

struct symbols;
struct symbols *sym_open(const struct trace *t);
void sym_close(struct symbols *s);
/*
 * sym_resolve - symbolize @addr (an address in the traced process, at time @ns for modules
 * that came and went). @is_ra: a return address, looked up as addr - 1. Strings are owned by
 * @s and live until sym_close. Return: 0 when a name was found, -1 otherwise (@out still
 * holds the module and offset when known).
 */
int sym_resolve(struct symbols *s, uint64_t addr, bool is_ra, struct sym_info *out);
/* sym_name - "name" or "module+0xOFF" or "0xADDR"; owned by @s (cached per address). */
const char *sym_name(struct symbols *s, uint64_t addr, bool is_ra);
/* sym_module_name - basename of the module holding @addr, or "?" */
const char *sym_module_name(struct symbols *s, uint64_t addr);
/*
 * The same at time @ns (ns since trace start): where modules were unloaded and others loaded
 * at the same addresses, the module loaded at @ns is used. The calls without a time take the
 * module loaded last.
 */
int sym_resolve_at(struct symbols *s, uint64_t addr, bool is_ra, uint64_t ns,
		   struct sym_info *out);
const char *sym_name_at(struct symbols *s, uint64_t addr, bool is_ra, uint64_t ns);
/*
 * The same for function @func of the trace (an index into t->funcs): its address, in the
 * module it was called in. Strings owned by @s.
 */
int sym_resolve_func(struct symbols *s, uint32_t func, struct sym_info *out);
const char *sym_func_name(struct symbols *s, uint32_t func);
const char *sym_func_module(struct symbols *s, uint32_t func);	/* basename, or "?" */
uint64_t sym_func_addr(struct symbols *s, uint32_t func);
/* The same for a frame of a stack (trace_stack_get): its address, in the module it was in. */
int sym_resolve_frame(struct symbols *s, const struct trace_frame *f, struct sym_info *out);
const char *sym_frame_name(struct symbols *s, const struct trace_frame *f);
const char *sym_frame_module(struct symbols *s, const struct trace_frame *f); /* or "?" */
/* sym_set_demangle - show C++ names mangled (--no-demangle) or demangled (the default). */
void sym_set_demangle(struct symbols *s, bool on);

/*
 * A frame as reports show it: one address can stand for several frames, the functions the
 * compiler inlined there (innermost first) and the real function holding the code.
 */
struct sym_frame {
	const char *name;		/* as sym_name: demangled name, else module+0xOFF, else 0xADDR */
	const char *module;		/* module basename, NULL outside every module */
	const char *file;		/* source file from DWARF (path as the compiler gave it, made
					 * absolute with the unit's directory), NULL if unknown */
	unsigned line;			/* 0 if unknown */
	bool inlined;			/* inlined into the next frame (the same address) */
};
#define SYM_MAX_INLINE 16		/* most frames sym_frames gives for one address */
/*
 * sym_frames - THE frame lookup for reports and exports: frame @f of a stack (trace_stack_get)
 * as @out[0..n-1], innermost first: the functions inlined at its address, each with the
 * source line inside it (the code itself for the first, the call of the inner one for the
 * others; marked inlined), then the real function (not inlined) with the line of the call
 * it made (or, for the innermost frame of a stack, of the code itself). Without DWARF, or
 * with lines off (sym_set_lines), one frame: the name, file NULL, line 0. Cached per
 * address; strings owned by @s until sym_close.
 * Return: n, 1..@max (deeper chains keep their innermost @max - 1 and the real function).
 */
int sym_frames(struct symbols *s, const struct trace_frame *f, struct sym_frame *out, int max);
/* sym_frames_addr - sym_frames for a bare address (@is_ra: a return address, see sym_resolve) */
int sym_frames_addr(struct symbols *s, uint64_t addr, bool is_ra, struct sym_frame *out,
		    int max);
/*
 * sym_func_decl - where function @func of the trace is defined (DW_AT_decl_file/line).
 * Return: 0 and *file (owned by @s) and *line, or -1 when unknown or lines are off.
 */
int sym_func_decl(struct symbols *s, uint32_t func, const char **file, unsigned *line);
/* sym_set_lines - file:line and inlined frames on (default) or off (--no-lines: no DWARF read) */
void sym_set_lines(struct symbols *s, bool on);
/* sym_set_lines_default - the setting sym_open gives new handles (main.c: --no-lines) */
void sym_set_lines_default(bool on);

/* symbols internals (symbols.c <-> symbols-elf.c, symbols-dwarf.c): one ELF file, its code
 * symbols and its DWARF */
struct sym_ent {
	uint64_t addr, end;		/* ELF vaddr range [addr, end) */
	const char *name;		/* raw (mangled) name, owned by libelf */
	const char *pretty;		/* display name, made on first use (symbols.c) */
	bool pretty_demangled;		/* pretty was made with demangling on */
};
struct sym_file {
	char *path;
	int fd, dbg_fd;
	struct Elf *elf, *dbg_elf;	/* the file, its separate debug file (or NULL) */
	char *dbg_path;
	void *mem;			/* in-memory image (the vDSO), or NULL */
	bool dbg_only;			/* file changed: names from the recorded build's debug file */
	struct Dwarf *dw;		/* opened on the first line lookup */
	bool dw_tried;
	uint8_t build_id[64];		/* of the file on disk */
	size_t build_id_len;
	struct sym_ent *syms;		/* sorted by addr */
	size_t nsyms;
	struct symf_path *paths;	/* source paths made absolute (symf_frames), a list */
	struct symf_path *pcache[64];	/* ... direct-mapped by the DWARF name's address */
	struct symf_cu *cus;		/* per-unit function index (symbols-dwarf.c), a uthash */
};
int symf_load(struct sym_file *f, const char *root, const uint8_t *rec_id, size_t rec_len);
struct sym_ent *symf_lookup(const struct sym_file *f, uint64_t va);
int symf_line(struct sym_file *f, uint64_t va, const char **file, unsigned *line);
/* one entry of symf_frames: an inlined function (name from DWARF) or the real one (NULL) */
struct symf_frame {
	const char *name;		/* raw DWARF name; NULL for the outermost (real) function */
	const char *file;		/* source file, or NULL */
	unsigned line;			/* 0 if unknown */
};
#define SYMF_MAX_CHAIN 64		/* inlined levels followed at one address */
int symf_frames(struct sym_file *f, uint64_t va, struct symf_frame *out, int max);
int symf_decl(struct sym_file *f, uint64_t va, const char **file, unsigned *line);
void symf_dwarf_free(struct sym_file *f);
void symf_free(struct sym_file *f);

/* ---- options and reports ---- */

enum out_format { FMT_TEXT = 0, FMT_JSON = 1, FMT_CSV = 2 };

struct opts {
	const char *command;
	enum out_format format;
	int format_set;			/* --format was given */
	const char **traces;		/* positional trace files */
	int ntraces;
	const char *sort;		/* column name for functions/memory tables */
	long limit;			/* rows; -1 = command's default */
	const char *filter;		/* regex on function names */
	int thread_set;			/* --thread given */
	uint32_t thread_tid;
	int per_thread;			/* --per-thread */
	int lines;			/* functions --lines: a "Defined at" column */
	const char *function;		/* callgraph --function */
	int depth;			/* callgraph --depth, -1 = unlimited */
	double min_percent;		/* callgraph --min-percent */
	const char *suppressions;	/* leaks --suppressions FILE */
	int no_suppress;		/* leaks --no-suppress */
	const char *from, *to;		/* diff marks */
	double threshold;		/* diff, massif --threshold PCT */
	int threshold_set;		/* --threshold given */
	const char *time_unit;		/* massif --time-unit: "ms" or "B"; NULL = ms */
	int nbase;			/* diff --base/--new: traces[0..nbase) are BASE, 0 = not */
	double alpha;			/* diff --alpha, 0 = 0.05 (docs/compare.md) */
	const char *metric;		/* flamegraph --metric */
	int folded;			/* flamegraph --folded */
	const char *output;		/* -o FILE for html/svg/chrome, NULL = stdout */
	int color;			/* colour on a terminal */
	int progress;			/* progress line on stderr */
	int demangle;			/* 1 by default */
	int merged;			/* dump --merged: all threads in time order */
	int tree;			/* functions --tree: the traces as one process tree */
	uint64_t high_memory;		/* findings --high-memory=BYTES, 0 = the default */
	long recursion_depth;		/* findings --recursion-depth=N, 0 = the default */
	int wall;			/* functions --wall: wall-clock self time even with
					 * off-CPU data */
};

/* option values a report takes, checked by main.c before any trace is opened */
#define HOT_SORT_COLUMNS "calls total self wait avg min max p50 p99 name"
#define MEM_SORT_KEYS "bytes count peak leaked temporary"
#define FLAME_METRICS "time alloc-bytes alloc-count leaked"
bool hot_sort_ok(const char *s);
bool mem_sort_ok(const char *s);
bool flame_metric_ok(const char *m);

int report_summary(struct trace *t, const struct opts *o);
int report_functions(struct trace *t, const struct opts *o);
int report_callgraph(struct trace *t, const struct opts *o);
int report_memory(struct trace *t, const struct opts *o);
int report_leaks(struct trace *t, const struct opts *o);
int report_dump(struct trace *t, const struct opts *o);
int report_waits(struct trace *t, const struct opts *o);	/* report-waits.c */
/* marks, diff and timeline (report-marks.c, report-diff.c, report-timeline.c; replay.h) */
int report_marks(struct trace *t, const struct opts *o);
int report_diff(struct trace *t, const struct opts *o);
int report_timeline(struct trace *t, const struct opts *o);
/* export (report-flame.c, report-chrome.c, report-html.c): write to o->output or stdout */
int report_flamegraph(struct trace *t, const struct opts *o);
int report_chrome(struct trace *t, const struct opts *o);
int report_html(struct trace *t, const struct opts *o);
/* pprof, callgrind and massif files (report-pprof.c, report-callgrind.c, report-massif.c) */
int report_pprof(struct trace *t, const struct opts *o);
int report_callgrind(struct trace *t, const struct opts *o);
int report_massif(struct trace *t, const struct opts *o);

/* ---- hot functions (report-hot.c; summary uses them too) ---- */

#define HOT_EDGES (1U << 0)		/* hot_collect: caller -> callee edges */
#define HOT_TREE (1U << 1)		/* hot_collect: the call tree */
#define HOT_ROOT UINT32_MAX		/* edge caller / tree node func of "no caller" */

#define HOT_EXACT 256			/* hot_func.samp holds this many durations */
#define HOT_HIST_SHIFT 4		/* then hist: 16 buckets per power of two */
#define HOT_HIST_N HIST_NBUCKETS(HOT_HIST_SHIFT)

struct hot_func {			/* indexed like trace->funcs */
	uint64_t calls;
	uint64_t total_ns;		/* inclusive, recursive activations counted once */
	uint64_t self_ns;
	uint64_t sum_ns;		/* every call's inclusive time (avg = sum / calls) */
	uint64_t min_ns, max_ns;
	uint64_t *samp;			/* exact durations while calls <= 256 */
	uint32_t nsamp;
	bool sorted;
	uint32_t *hist;			/* log-linear histogram beyond that */
	uint64_t wait_ns[2];		/* off-CPU within self time: blocked, preempted
					 * (hot.switches; CPU self = self_ns - both) */
	uint64_t blocked_calls;		/* calls whose own time held a blocked wait */
	uint64_t wait_total_ns;		/* off-CPU within total_ns, both kinds (CPU total =
					 * total_ns - it) */
};
struct hot_edge {
	uint32_t caller, callee;	/* function indices; caller HOT_ROOT = outermost */
	uint64_t calls, total_ns, self_ns;
};
struct hot_node {			/* call tree node; [0] is the root */
	uint32_t parent, func;
	uint64_t calls, total_ns, self_ns;
	uint64_t wait_ns;		/* off-CPU within self_ns, both kinds (hot.switches) */
};
struct hot {
	struct hot_func *funcs;
	uint32_t nfuncs, cap;
	struct hot_edge *edges;
	uint32_t nedges, edges_cap;
	struct hot_node *nodes;
	uint32_t nnodes, nodes_cap;
	uint64_t ncalls;		/* calls closed (EXIT events) */
	unsigned want;
	bool switches;			/* the trace has off-CPU time: funcs' wait_ns hold it */
};
int hot_collect(struct trace *t, int thread, unsigned want, struct hot *h);

/*
 * Log-linear histogram of durations (hot_func.hist; chrome's call-size guard): values below
 * 2^@shift have a bucket each, then 2^@shift buckets per power of two (width / low value
 * <= 2^-@shift). HIST_NBUCKETS(@shift) buckets hold any uint64_t.
 */
#define HIST_NBUCKETS(shift) ((65U - (shift)) << (shift))
static inline unsigned hist_bucket(uint64_t v, unsigned shift)
{
	unsigned e;

	if (v < (1ULL << shift))
		return (unsigned)v;
	e = 63 - (unsigned)__builtin_clzll(v);			/* >= shift */
	return ((e - shift + 1) << shift) + (unsigned)((v >> (e - shift)) & ((1U << shift) - 1));
}
/* hist_low - lowest value of bucket @b, and its *@width */
static inline uint64_t hist_low(unsigned b, unsigned shift, uint64_t *width)
{
	unsigned e;

	if (b < (1U << shift)) {
		*width = 1;
		return b;
	}
	e = (b >> shift) - 1 + shift;
	*width = 1ULL << (e - shift);
	return (1ULL << e) + (uint64_t)(b & ((1U << shift) - 1)) * *width;
}

void hot_free(struct hot *h);
void hot_stat_add(struct hot_func *f, uint64_t dur);
void hot_func_add(struct hot_func *dst, const struct hot_func *src);	/* report-tree.c */
struct json;
/* What the rows of a hot table are called: a trace's functions (t and sym), or arrays */
struct hot_names {
	const struct trace *t;		/* names of t->funcs through sym, when set */
	struct symbols *sym;
	const char *const *name, *const *module;	/* else these, by function index */
	const uint64_t *addr;
	const char *const *file;	/* ... and definitions (NULL: none known) */
	const unsigned *line;
};
int hot_print_functions(struct hot *h, const struct hot_names *nm, const struct opts *o,
			struct json *j);
/* `functions --tree`: the traces of @o reported as one process tree (report-tree.c) */
int report_functions_tree(const struct opts *o);
uint64_t hot_percentile(struct hot_func *f, double pct);	/* nearest rank */
uint32_t hot_threads(const struct trace *t, const struct opts *o, int *idx);
int opts_thread(const struct trace *t, const struct opts *o);	/* -1 all, -2 none */

/* ---- memory replay (report-mem.c) and leak suppressions (suppress.c) ---- */

#define MEM_SUMMARY_TOP 5
/* What `summary` shows of memory: the `memory` totals and `leaks`' top entries. */
struct mem_summary {
	uint64_t allocations, frees;	/* a realloc is one of each (see report-mem.c) */
	uint64_t bytes_allocated, bytes_freed;
	uint64_t peak_bytes, peak_time_ns;
	uint64_t temporary;		/* freed before its thread allocated again */
	uint64_t unknown_frees;		/* frees of blocks never seen allocated */
	uint64_t live_bytes, live_blocks; /* everything still live at the end */
	uint64_t leaked_bytes, leaked_blocks; /* the same less suppressions (as `leaks`) */
	uint64_t suppressed_bytes, suppressed_blocks;
	uint32_t leak_stacks;		/* stacks with unsuppressed leaks */
	uint32_t ntop;
	struct {
		uint32_t stack;		/* global stack id: trace_stack_get + sym_name */
		uint64_t bytes, blocks;
	} top[MEM_SUMMARY_TOP];		/* largest leaks first */
};
int mem_summarize(struct trace *t, const struct opts *o, struct mem_summary *out);

struct suppressions;
struct suppressions *supp_load(const char *path, bool builtin);
void supp_free(struct suppressions *s);
unsigned supp_count(const struct suppressions *s);
const char *supp_rule(const struct suppressions *s, unsigned i);
int supp_match(const struct suppressions *s, struct symbols *sym, const struct trace *t,
	       uint32_t id);
bool supp_glob(const char *pat, const char *str);

/* ---- notes: what every report says about its trace (notes.c) ---- */

#define NOTES_MAX 40
struct notes {
	char *missing[NOTES_MAX];	/* what the trace lacks (it is incomplete) */
	unsigned nmissing;
	char *warn[NOTES_MAX];		/* what was found wrong, and left out */
	unsigned nwarn;
	bool complete;			/* nothing missing */
	bool finished;			/* the recorder saw the process end */
};
void notes_get(struct trace *t, struct notes *n);
void notes_free(struct notes *n);
bool notes_text(struct trace *t, FILE *f);
bool notes_text_named(struct trace *t, FILE *f, const char *who);
void notes_comment(struct trace *t, FILE *f, const char *prefix);
void notes_comment_line(FILE *f, const char *prefix, const char *msg);	/* one line, always */
struct json;
void notes_json(struct trace *t, struct json *j);
void notes_json_many(struct json *j, struct trace *const *t, const char *const *who, unsigned n);
/* the reader's warning (trace-read.c) and the reports' note (notes.c) say it alike */
#define NOTES_NO_END "the process's end was not recorded (it was killed, crashed, or " \
	"exited where the recorder could not see it): what it did after %s is missing"
/* leaks of a process whose end was not seen: what the reports say instead of "leaked" */
#define NOTES_UNFINISHED "the process did not finish: these blocks were live when " \
	"recording stopped, not necessarily leaked"

/* ---- command line (cli.c) ---- */

/* the newest perfshim.*.bin or perfshim.*.bin.zst of the working directory, or NULL */
const char *cli_newest_trace(void);

/* ---- output helpers (output.c) ---- */

/* Scaled units: "812 ns", "1.25 us", "3.40 ms", "2.00 s"; "512 B", "1.5 KiB", "3.2 MiB". */
char *fmt_ns(char *buf, size_t len, uint64_t ns);
char *fmt_bytes(char *buf, size_t len, uint64_t bytes);
char *fmt_count(char *buf, size_t len, uint64_t n);	/* 1234567 -> "1,234,567" */

/* JSON writer: valid output, keys in the order written, integers as integers. */
struct json {
	FILE *f;
	int depth;
	bool first[64];
	bool pretty;
};
void json_init(struct json *j, FILE *f);
void json_obj_begin(struct json *j, const char *key);	/* key NULL inside arrays / top */
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j, const char *key);
void json_arr_end(struct json *j);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
void json_dbl(struct json *j, const char *key, double v);
void json_str(struct json *j, const char *key, const char *s);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
void json_finish(struct json *j);			/* newline at the end */
/* one entry of {"traces": [...]}: a report's document @doc with "trace": @path first */
void json_trace_entry(FILE *f, const char *path, const char *doc, size_t len,
		      const char *error);

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

#endif /* PERFSHIM_ANALYZE_H */
