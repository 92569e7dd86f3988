/* SPDX-License-Identifier: MIT */
/*
 * The ends of threads, of the process and of an image, and fork: what is written when, and
 * in what order (thread name, losses, the PROCESS record of a fork child, its modules and
 * inherited calls), driving tbuf.c (the buffers), records.c, modules.c, tracefile.c,
 * cost.c, stack.c, switches.c and hooks-cyg.c. tbuf.c calls none of those: it is the layer
 * below. docs/design.md "Processes" and "Threads, buffers and the file" explain the rules.
 */
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload/ids.h"
#include "preload/process.h"
#include "preload/records.h"
#include "preload/tracefile.h"

/*
 * ps_thread_finish - the calling thread writes its last chunk (with its name and what it
 * dropped), leaves the list and frees its buffers; later events of the thread pass through.
 */
void ps_thread_finish(struct ps_thread *t)
{
	if (t->state != PS_T_ACTIVE)
		return;
	ps_guard_take(t, PS_GUARD_INTERNAL);
	ps_emit_thread_name(t);
	if (t->lost)
		ps_emit_lost(t);
	ps_tbuf_end_thread(t);
	ps_guard_drop(t, PS_GUARD_INTERNAL);
}

/*
 * Thread exit: the key destructor. Destructors of other keys may still free memory after
 * ours, so it re-arms itself for the later rounds glibc runs (PTHREAD_DESTRUCTOR_ITERATIONS)
 * and writes the last chunk only in the final one.
 */
static void thread_dtor(void *arg)
{
	struct ps_thread *t = arg;
	int saved = errno;

	if (t != &ps_self)
		return;
	if (++t->list.dtor_rounds < PTHREAD_DESTRUCTOR_ITERATIONS) {
		ps_guard_take(t, PS_GUARD_INTERNAL);
		ps_tbuf_key_rearm(t);
		ps_guard_drop(t, PS_GUARD_INTERNAL);
	} else {
		ps_thread_finish(t);
	}
	errno = saved;
}

/*
 * The caller's own end at the process's end. @busy: exit() came from a signal handler that
 * interrupted this thread inside the shim: the thread name is not read, and the chunk is
 * closed only if the interrupted code does not hold its lock (tbuf.c).
 */
static void finish_self(struct ps_thread *self, int busy)
{
	if (self->state == PS_T_NEW && ps_recording && !busy)
		ps_thread_get();	/* a thread that never recorded still carries the end */
	if (self->state != PS_T_ACTIVE)
		return;
	if (!busy) {
		ps_emit_thread_name(self);
		if (self->lost)
			ps_emit_lost(self);
	}
	ps_tbuf_end_process(self, busy);
}

/*
 * ps_flush_all - the process ends (@final: exit, _exit, exit_group, the destructor) or is
 * about to exec (!@final). At the end every other thread is cut and the caller's chunk is
 * the last, all flagged PROCESS_END, and the trace is finished. Before an exec only the
 * caller's chunk is closed (PROCESS_END: if the exec works, that is where the image ended):
 * the other threads' chunks are regions of the mapped file, which keep what they commit
 * until the kernel stops them, and they go on recording if the exec fails.
 */
static int finished;			/* the final flush ran (or runs) */

void ps_flush_all(int final)
{
	struct ps_thread *self = &ps_self;
	int saved = errno, busy;

	/* a vfork child (on this thread's TLS) calling exit() must not end its parent's trace */
	if (!ps_trace_live || self->state == PS_T_VFORK ||
	    (final && __atomic_exchange_n(&finished, 1, __ATOMIC_ACQ_REL)))
		return;
	/*
	 * exit() from a signal handler may have interrupted this thread inside the shim, even
	 * in the middle of writing its own chunk or holding threads_lock: then it must not wait
	 * for itself.
	 */
	busy = self->guard != 0;
	ps_guard_take(self, PS_GUARD_INTERNAL);
	if (final) {
		ps_tbuf_cut_others(self, busy);
		/*
		 * A thread that registered after that round may be opening a chunk: the others
		 * open no more, those under way finish, and a second round cuts them too.
		 */
		ps_chunk_ending((pid_t)syscall(SYS_gettid), busy);
		ps_tbuf_cut_others(self, busy);
		finish_self(self, busy);
		__atomic_store_n(&ps_recording, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&ps_trace_live, 0, __ATOMIC_RELEASE);
	} else if (self->state == PS_T_ACTIVE && !busy) {
		ps_tbuf_end_image(self);
	}
	ps_guard_drop(self, PS_GUARD_INTERNAL);
	errno = saved;
}

/*
 * ps_exec_prepare - exec may replace the image: close this thread's chunk now. A vfork
 * child (posix_spawn, vfork) shares the parent's memory and file: it must not write the
 * parent's buffers, and is recognised by its pid. From a signal handler that interrupted a
 * hook the buffer is mid-record: it is left (mapped, it keeps its committed records).
 */
void ps_exec_prepare(void)
{
	if (!ps_trace_live || getpid() != ps_pid || ps_self.guard)
		return;
	if (ps_self.state == PS_T_NEW && ps_recording)
		ps_thread_get();
	ps_flush_all(0);
}

static void atfork_prepare(void)
{
	ps_guard_take(&ps_self, PS_GUARD_INTERNAL);
	ps_tbuf_lock_list();
}

static void atfork_parent(void)
{
	ps_tbuf_unlock_list();
	ps_guard_drop(&ps_self, PS_GUARD_INTERNAL);
}

/*
 * The child of fork: a trace of its own. The parent writes what its buffers hold, so the
 * child drops that, forgets the other threads (they do not exist here) and every id, and
 * re-opens the calls it inherited so that their exits pair up.
 */
static void atfork_child(void)
{
	struct ps_thread *self = &ps_self;

	ps_tbuf_fork_child(self);
	ps_stack_fork_child();
	self->sw.ring = NULL;		/* perf rings are not copied into a child */
	finished = 0;
	if (!ps_recording || !ps_cfg.follow) {
		/* PERFSHIM_FOLLOW=0: the child is not traced (and writes nothing of the parent's) */
		__atomic_store_n(&ps_recording, 0, __ATOMIC_RELAXED);
		ps_trace_live = 0;
		if (ps_trace_fd >= 0)
			close(ps_trace_fd);
		ps_trace_fd = -1;
		if (self->state == PS_T_ACTIVE)
			self->state = PS_T_OFF;
		ps_guard_drop(&ps_self, PS_GUARD_INTERNAL);
		return;
	}
	if (self->state == PS_T_ACTIVE)
		ps_tbuf_fork_adopt(self);
	ps_modules_forget();
	if (ps_output_open(1) < 0) {
		__atomic_store_n(&ps_recording, 0, __ATOMIC_RELAXED);
		self->state = PS_T_OFF;
		ps_guard_drop(&ps_self, PS_GUARD_INTERNAL);
		return;
	}
	if (self->state == PS_T_ACTIVE) {
		ps_switch_fork_child(self);	/* a ring of its own, before its first chunk */
		ps_emit_process(self);
		ps_emit_cost(self);		/* same code, same machine: the parent's figures */
		ps_modules_record(self);
		ps_cyg_fork_child(self);
	}
	ps_guard_drop(&ps_self, PS_GUARD_INTERNAL);
}

/* ps_lifecycle_init - the thread key's destructor and the fork handlers; once (constructor). */
void ps_lifecycle_init(void)
{
	ps_tbuf_key_create(thread_dtor);
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}
