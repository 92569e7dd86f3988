/* SPDX-License-Identifier: MIT */
/*
 * The process around the recording: start (init.c, entry.c), thread and process ends and
 * fork (lifecycle.c), new images (exec.c, childenv.c), loaded modules (modules.c), context
 * switches (switches.c) and the mark signal (signals.c).
 */
#ifndef PERFSHIM_PRELOAD_PROCESS_H
#define PERFSHIM_PRELOAD_PROCESS_H

#include "preload/thread.h"

/* lifecycle.c: thread, process and image ends, and fork (what is written when) */
void ps_lifecycle_init(void);			/* thread key, fork handlers (constructor) */
void ps_flush_all(int final);			/* every thread's buffer (exit, exec) */
void ps_thread_finish(struct ps_thread *t);	/* last chunk of a thread */

/* switches.c: context switches (off-CPU time), read from a per-thread perf ring */
extern int ps_switch_errno;			/* the kernel refused (0: recorded) */
void ps_switch_init(void);			/* once, before the file header is written */
void ps_switch_open(struct ps_thread *t);	/* the calling thread's ring (set-up) */
void ps_switch_close(struct ps_thread *t);
void ps_switch_fork_child(struct ps_thread *t);
int ps_switch_drain(struct ps_thread *t);	/* into the open chunk: 1 if some are left */
int ps_switch_pending(const struct ps_thread *t);
size_t ps_switch_cut(struct ps_thread *t, uint8_t *buf, size_t len); /* final flush */

/* entry.c: libperfshim.so was run as a program (it prints its usage; nothing is recorded) */
int ps_run_as_program(void);

/* hooks-malloc.c: resolve the real allocator (constructor, or lazily on first use) */
void ps_malloc_resolve(void);
/* set once by the start (init.c): every allocation recorded (malloc events on, no sampling),
 * the trace clock the TSC, the allocator resolved. The recording hooks' fast case. */
extern int ps_alloc_all PS_HIDDEN;

/* hooks-cyg.c: after fork, in the child, with fresh (empty) tables and buffer: write FUNC
 * and ENTRY records (at the current time) for every frame inherited on the shadow stack,
 * and forget their cached stack nodes. */
void ps_cyg_fork_child(struct ps_thread *t);

/* lifecycle.c: exec is about to replace the image: close the calling thread's chunk (flagged
 * PROCESS_END); other threads go on (their mapped records survive the exec); the calling
 * thread opens a new chunk at its next event if exec fails. */
void ps_exec_prepare(void);

/* childenv.c: the environment of a new image (exec.c) */
void ps_env_init(void);				/* settings and library path, once */
size_t ps_env_size(char *const envp[]);		/* bytes ps_env_build needs */
char **ps_env_build(void *mem, char *const envp[]); /* no malloc: vfork children use it */

/* signals.c: the mark signal (PERFSHIM_MARK_SIGNAL), hidden from the program */
void ps_signals_init(void);

/* modules.c */
void ps_modules_record(struct ps_thread *t);	/* modules not yet recorded */
void ps_modules_forget(void);			/* after fork, in the child: none recorded */

#endif /* PERFSHIM_PRELOAD_PROCESS_H */
