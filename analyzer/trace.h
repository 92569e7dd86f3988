/* SPDX-License-Identifier: MIT */
/*
 * The trace as the analyzer holds it (trace-read.c opens and indexes it; trace-modules.c,
 * trace-comp.c, trace-check.c and trace-zstd.c help): its threads, modules, functions,
 * stacks, marks and totals. Decoding its events is walk.h; docs/trace-format.md has the
 * bytes.
 */
#ifndef PERFSHIM_ANALYZER_TRACE_H
#define PERFSHIM_ANALYZER_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/perfshim/trace.h"

struct opts;
struct replay_log;

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
	uint32_t walks;			/* trace_walk and trace_walk_split calls (trace_walks) */
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
	struct replay_log *memlog;	/* memory events kept by a calls walk (replay-log.h) */

	void *priv;			/* reader state */
};

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
/*
 * trace_walks - how many walks decoded @t so far: trace_walk and trace_walk_split calls, each
 * one pass over the streams it names. `-v` prints it when the trace is closed
 * (tests/run/88-walks.sh: each command walks each trace once).
 */
static inline uint32_t trace_walks(const struct trace *t)
{
	return t->walks;
}

/* trace_unmatched_exits - EXIT/EXITS beyond the open calls, seen by the last calls walk */
uint64_t trace_unmatched_exits(const struct trace *t);
/* trace_set_jobs - walks split over streams (walk.h trace_walk_split) use up to @n cores,
 * 0: every online core (the default), 1: only the calling thread (trace-par.c) */
void trace_set_jobs(unsigned n);
unsigned trace_jobs(void);
/* trace_set_progress - walks of @t draw progress_update(@o, ...) as chunks are read */
void trace_set_progress(struct trace *t, const struct opts *o);

#endif /* PERFSHIM_ANALYZER_TRACE_H */
