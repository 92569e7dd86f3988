/* SPDX-License-Identifier: MIT */
/*
 * The trace file (tracefile.c), the chunks threads write into it (chunk.c), and where the
 * shim keeps its descriptors (fds.c).
 */
#ifndef PERFSHIM_PRELOAD_TRACEFILE_H
#define PERFSHIM_PRELOAD_TRACEFILE_H

#include "preload/thread.h"

/* fds.c: the shim's descriptors at the top of the range (top - below), out of the program's
 * way: the trace file's, and libunwind's pipe (caught by the pipe2 interposer there) */
#define PS_FD_TRACE_BELOW_TOP 32
#define PS_FD_PIPE_BELOW_TOP 40
int ps_fd_move_high(int fd, int below);

/* tracefile.c: the trace file (the analyzer's output.c is unrelated: report output) */
int ps_output_open(int child);			/* create the trace file and its header */
int ps_output_check_fd(void);			/* reopen the trace if the program closed it */
void ps_output_stopped(unsigned why, const char *what); /* TRACE_F_CUT_*: stop, say so once */
uint64_t ps_output_fsize_limit(void);		/* RLIMIT_FSIZE in bytes, UINT64_MAX if none */
extern int ps_trace_fd;
extern char ps_trace_path[PATH_MAX];		/* the file being written */
extern pid_t ps_pid;				/* the process that owns ps_trace_fd */
extern uint64_t ps_start_ticks;			/* trace clock at start (header) */
extern int ps_trace_live;			/* a trace file is open and not finished */

/*
 * chunk.c: a thread's chunk lives in a region of the trace file reserved when it is opened:
 * mapped (MAP_SHARED, fallocate'd first) where the file system allows, so committed records
 * are in the page cache whatever becomes of the process; else a private buffer written with
 * pwrite when the chunk closes. The caller holds t->list.flush_lock except where noted.
 */
void ps_chunk_reset(void);			/* a new file: regions start after its header */
int ps_chunk_open(struct ps_thread *t);		/* reserve a region: 0, or -1 (stopped) */
int ps_chunk_next(struct ps_thread *t);		/* close, open the next: 0, 1 refused, -1 */
int ps_chunk_more(struct ps_thread *t);		/* owner: raise the limit within the region */
void ps_chunk_close(struct ps_thread *t, uint8_t *upto, unsigned flags); /* header written */
void ps_chunk_release(struct ps_thread *t);	/* owner: give the region up (unmap) */
void ps_chunk_forget(struct ps_thread *t);	/* fork child: the region is the parent's */
void ps_chunk_free(struct ps_thread *t);	/* thread gone: release + free the buffer */
void ps_chunk_end_file(struct ps_thread *t);	/* final flush: no more regions; trim */
void ps_chunk_ending(pid_t tid, int busy);	/* final flush starts: others open none */
int ps_chunk_write_small(struct trace_chunk_header *h, const void *payload); /* signal-safe */

#endif /* PERFSHIM_PRELOAD_TRACEFILE_H */
