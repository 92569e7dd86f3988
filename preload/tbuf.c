/* SPDX-License-Identifier: MIT */
/*
 * Per-thread buffers: lazy set-up, chunk writing, the thread list, and the flushes at
 * thread exit, process exit, fork and exec. docs/design.md "Threads, buffers and the file"
 * explains the protocol between a thread and the one that cuts it at exit.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload/internal.h"

__thread struct ps_thread ps_self PS_TLS;

/*
 * The registered threads, under threads_lock. Entries live outside TLS and carry the tid:
 * a thread whose first event comes after its TSD destructors ran (glibc frees cached stacks
 * with our free() while a detached thread exits) is never unregistered, and its TLS may be
 * gone or reused. So an entry is dereferenced only while its thread is alive (tgkill 0), a
 * new registration drops an entry with the same TLS address, and dead entries are swept
 * when the array would grow.
 */
struct reg {
	struct ps_thread *t;
	pid_t tid;
};

static pthread_mutex_t threads_lock = PTHREAD_MUTEX_INITIALIZER;
static struct reg *regs;
static size_t nregs, regcap;
static pthread_key_t thread_key;
static int key_ok;

#define SHADOW_FRAMES 4096		/* initial shadow stack; hooks-cyg.c grows it */
#define FID_SLOTS 1024			/* initial function table; ids.c grows it */
#define NODE_SLOTS 4096			/* initial stack node table; stack.c grows it */

static void *map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int alive(pid_t tid)
{
	return syscall(SYS_tgkill, getpid(), tid, 0) == 0 || errno != ESRCH;
}

static void reg_remove(size_t i)
{
	regs[i] = regs[--nregs];
}

/* Add @t (caller holds threads_lock). Return: 0, or -1 without memory. */
static int reg_add(struct ps_thread *t)
{
	size_t i;

	for (i = 0; i < nregs; i++)
		if (regs[i].t == t) {
			reg_remove(i);
			break;
		}
	if (nregs == regcap) {
		int saved = errno;

		for (i = 0; i < nregs;)
			if (regs[i].t != &ps_self && !alive(regs[i].tid))
				reg_remove(i);
			else
				i++;
		errno = saved;
	}
	if (nregs == regcap) {
		size_t cap = regcap ? regcap * 2 : 256;
		void *p = regs ? mremap(regs, regcap * sizeof(*regs), cap * sizeof(*regs),
					MREMAP_MAYMOVE)
			       : mmap(NULL, cap * sizeof(*regs), PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			return -1;
		regs = p;
		regcap = cap;
	}
	regs[nregs].t = t;
	regs[nregs].tid = t->tid;
	nregs++;
	return 0;
}

static void unmap(void *p, size_t len)
{
	if (p)
		munmap(p, len);
}

/* The tables of a thread, sized as set up here or as the owners grew them since. */
static void unmap_tables(struct ps_thread *t)
{
	unmap(t->buf, ps_cfg.bufsize);
	unmap(t->shadow, (size_t)t->shadow_cap * sizeof(*t->shadow));
	unmap(t->fids, ((size_t)t->fid_mask + 1) * sizeof(*t->fids));
	unmap(t->nodes, ((size_t)t->node_mask + 1) * sizeof(*t->nodes));
	unmap(t->last_stack, ((size_t)ps_cfg.stack_depth + 1) * sizeof(uintptr_t));
	ps_stack_thread_free(t);
	t->buf = NULL;
	t->shadow = NULL;
	t->fids = NULL;
	t->nodes = NULL;
	t->last_stack = NULL;
}

/* Empty the decoding state: a new trace (fork child) starts with no ids defined. */
static void reset_tables(struct ps_thread *t)
{
	memset(t->fids, 0, ((size_t)t->fid_mask + 1) * sizeof(*t->fids));
	memset(t->nodes, 0, ((size_t)t->node_mask + 1) * sizeof(*t->nodes));
	t->nfids = 0;
	t->nnodes = 0;
	t->last_stack_len = 0;
	t->last_stack_node = 0;
	t->last_ptr = 0;
	t->lost = 0;
	t->seq = 0;
	t->pos = t->buf;
	t->last_ticks = t->chunk_base_ticks = ps_now();
}

/*
 * ps_thread_setup - first event of a thread: map its buffer and tables, register it.
 * Runs with the thread marked OFF so that allocations made here (pthread_setspecific may
 * calloc) pass through unrecorded instead of recursing into the set-up, and under the guard,
 * so that no handler runs (and jumps out) half-way: the thread would stay OFF.
 * Return: the thread, or NULL when it cannot record (no memory: told once).
 */
PS_NOINLINE struct ps_thread *ps_thread_setup(void)
{
	struct ps_thread *t = &ps_self;
	int saved = errno;

	ps_guard_take(t, PS_GUARD_INTERNAL);
	t->state = PS_T_OFF;
	t->buf = map(ps_cfg.bufsize);
	t->shadow_cap = SHADOW_FRAMES;
	t->shadow = map(SHADOW_FRAMES * sizeof(*t->shadow));
	t->fid_mask = FID_SLOTS - 1;
	t->fids = map(FID_SLOTS * sizeof(*t->fids));
	t->node_mask = NODE_SLOTS - 1;
	t->nodes = map(NODE_SLOTS * sizeof(*t->nodes));
	t->last_stack = map(((size_t)ps_cfg.stack_depth + 1) * sizeof(uintptr_t));
	if (!t->buf || !t->shadow || !t->fids || !t->nodes || !t->last_stack) {
		unmap_tables(t);
		ps_warn_once("out of memory for a thread's trace buffer; thread not recorded");
		ps_guard_drop(t, PS_GUARD_INTERNAL);
		errno = saved;
		return NULL;
	}
	t->tid = syscall(SYS_gettid);
	t->end = t->buf + ps_cfg.bufsize;
	t->limit = t->end - TRACE_MAX_RECORD;
	reset_tables(t);

	if (key_ok)
		pthread_setspecific(thread_key, t);
	pthread_mutex_lock(&threads_lock);
	t->registered = reg_add(t) == 0;
	pthread_mutex_unlock(&threads_lock);

	t->state = PS_T_ACTIVE;
	ps_guard_drop(t, PS_GUARD_INTERNAL);
	errno = saved;
	return t;
}

static void flush_lock(struct ps_thread *t)
{
	while (__atomic_exchange_n(&t->flush_lock, 1, __ATOMIC_ACQUIRE))
		sched_yield();
}

static void flush_unlock(struct ps_thread *t)
{
	__atomic_store_n(&t->flush_lock, 0, __ATOMIC_RELEASE);
}

/* Write bytes [buf, upto) of @t as one chunk. Caller holds t->flush_lock. */
static void write_chunk(struct ps_thread *t, uint8_t *upto, unsigned flags)
{
	struct trace_chunk_header h;
	size_t size = upto - t->buf;

	h.magic = TRACE_CHUNK_MAGIC;
	h.tid = t->tid;
	h.seq = t->seq++;
	h.size = size;
	h.flags = flags;
	h.payload_checksum = trace_checksum(t->buf, size);
	h.base_ticks = t->chunk_base_ticks;
	h.end_ticks = ps_now();
	h.end_mono_ns = ps_mono_ns();
	h.reserved = 0;
	h.header_checksum = trace_checksum(&h, TRACE_CHUNK_HEADER_CKLEN);
	ps_output_write(&h, sizeof(h), t->buf, size);
}

/*
 * ps_tbuf_flush - write the calling thread's buffer as a chunk and start a new one. The
 * new chunk's time base is the last record's time, so deltas run on across chunks.
 */
PS_NOINLINE void ps_tbuf_flush(struct ps_thread *t)
{
	int saved = errno;

	flush_lock(t);
	if (t->state == PS_T_ACTIVE && t->pos > t->buf && ps_recording)
		write_chunk(t, t->pos, 0);
	t->pos = t->buf;
	t->chunk_base_ticks = t->last_ticks;
	flush_unlock(t);
	errno = saved;
}

/*
 * ps_reserve_slow - make room for @n bytes: write the full buffer, then report events the
 * thread dropped since the last chunk. Return: the write cursor, or NULL when this thread
 * no longer records (recording stopped, or the thread was cut at process exit).
 */
PS_NOINLINE uint8_t *ps_reserve_slow(struct ps_thread *t, size_t n)
{
	/*
	 * Cut by the exit flush (limit == buf): stop here, but leave ->state to the cutter,
	 * which checks it under the flush lock to decide whether to write this buffer.
	 */
	if (t->limit == t->buf)
		return NULL;
	if (t->state != PS_T_ACTIVE || !ps_recording) {
		t->state = PS_T_OFF;
		return NULL;
	}
	if (n > ps_cfg.bufsize / 2)
		return NULL;
	if (t->pos >= t->limit || (size_t)(t->end - t->pos) < n) {
		ps_tbuf_flush(t);
		if (t->lost) {
			uint8_t *p = trace_put_varint(t->pos, TRACE_OP_H(TRACE_OP_LOST));

			p = trace_put_varint(p, t->lost);
			t->lost = 0;
			ps_commit(t, p);
		}
	}
	return t->pos;
}

/* Take @t off the thread list. */
static void unregister(struct ps_thread *t)
{
	size_t i;

	pthread_mutex_lock(&threads_lock);
	for (i = 0; i < nregs; i++)
		if (regs[i].t == t) {
			reg_remove(i);
			break;
		}
	t->registered = 0;
	pthread_mutex_unlock(&threads_lock);
}

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
	/*
	 * Still registered while the last chunk is written, under the flush lock: an exit
	 * flush meanwhile waits for the write, then finds the thread OFF, so the chunk is
	 * neither written twice nor cut short by exit_group.
	 */
	flush_lock(t);
	if (t->state == PS_T_ACTIVE && ps_recording)
		write_chunk(t, t->pos, TRACE_CHUNK_LAST);
	t->state = PS_T_OFF;
	flush_unlock(t);
	unregister(t);
	unmap_tables(t);
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
	if (++t->dtor_rounds < PTHREAD_DESTRUCTOR_ITERATIONS) {
		ps_guard_take(t, PS_GUARD_INTERNAL);
		pthread_setspecific(thread_key, t);
		ps_guard_drop(t, PS_GUARD_INTERNAL);
	} else {
		ps_thread_finish(t);
	}
	errno = saved;
}

/*
 * Another thread's buffer at process exit or exec: take what it committed, stop it from
 * recording (its limit drops to the buffer start, so its next reservation takes the slow
 * path, which sees the cut), and write it flagged LAST|CUT.
 */
static void cut_thread(struct ps_thread *t)
{
	uint8_t *upto;

	t->limit = t->buf;
	flush_lock(t);
	upto = __atomic_load_n(&t->pos, __ATOMIC_ACQUIRE);
	if (t->state == PS_T_ACTIVE && ps_recording)
		write_chunk(t, upto, TRACE_CHUNK_LAST | TRACE_CHUNK_CUT | TRACE_CHUNK_PROCESS_END);
	t->state = PS_T_OFF;
	flush_unlock(t);
}

/*
 * ps_flush_all - write every thread's buffer: the caller's own (flagged LAST), and the
 * others cut; every chunk of this flush says PROCESS_END (the recorder saw the end).
 * @final: the process is ending and recording stops here; else an exec is about to replace
 * the image, and the caller records on if it fails.
 */
void ps_flush_all(int final)
{
	struct ps_thread *self = &ps_self;
	int saved = errno, locked, busy;
	size_t i;

	if (!ps_recording)
		return;
	/*
	 * exit() from a signal handler may have interrupted this thread inside the shim, even
	 * in the middle of writing its own chunk or holding threads_lock: then it must not wait
	 * for itself. Its own buffer is left (half a record may be in it); others are cut.
	 */
	busy = self->guard != 0;
	ps_guard_take(self, PS_GUARD_INTERNAL);
	locked = busy ? pthread_mutex_trylock(&threads_lock) == 0
		      : pthread_mutex_lock(&threads_lock) == 0;
	if (locked) {
		for (i = 0; i < nregs;) {
			if (regs[i].t == self) {
				i++;
				continue;
			}
			if (alive(regs[i].tid))
				cut_thread(regs[i].t);
			reg_remove(i);
		}
		pthread_mutex_unlock(&threads_lock);
	}
	if (self->state == PS_T_ACTIVE && !busy) {
		if (final) {
			ps_emit_thread_name(self);
			if (self->lost)
				ps_emit_lost(self);
			flush_lock(self);
			write_chunk(self, self->pos, TRACE_CHUNK_LAST | TRACE_CHUNK_PROCESS_END);
			self->state = PS_T_OFF;
			flush_unlock(self);
		} else {
			/* exec: this image's end, unless the exec fails (later chunks follow) */
			flush_lock(self);
			if (self->state == PS_T_ACTIVE)
				write_chunk(self, self->pos,
					    TRACE_CHUNK_LAST | TRACE_CHUNK_PROCESS_END);
			self->pos = self->buf;
			self->chunk_base_ticks = self->last_ticks;
			flush_unlock(self);
		}
	}
	if (final)
		__atomic_store_n(&ps_recording, 0, __ATOMIC_RELAXED);
	ps_guard_drop(self, PS_GUARD_INTERNAL);
	errno = saved;
}

/*
 * ps_exec_prepare - exec may replace the image: write everything now. A vfork child
 * (posix_spawn, vfork) shares the parent's memory and file: it must not write the parent's
 * buffers, and is recognised by its pid. An exec from a handler that interrupted a hook
 * loses the unwritten buffers rather than write half a record.
 */
void ps_exec_prepare(void)
{
	/* From a signal handler that interrupted a hook, the buffer is mid-record: leave it. */
	if (!ps_recording || getpid() != ps_pid || ps_self.guard)
		return;
	ps_flush_all(0);
}

static void atfork_prepare(void)
{
	ps_guard_take(&ps_self, PS_GUARD_INTERNAL);
	pthread_mutex_lock(&threads_lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&threads_lock);
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

	pthread_mutex_init(&threads_lock, NULL);
	nregs = 0;
	ps_stack_fork_child();
	if (!ps_recording) {
		ps_guard_drop(&ps_self, PS_GUARD_INTERNAL);
		return;
	}
	if (self->state == PS_T_ACTIVE) {
		self->flush_lock = 0;
		self->tid = syscall(SYS_gettid);	/* the child's thread is a new one */
		if (self->registered)
			self->registered = reg_add(self) == 0;
		reset_tables(self);
	}
	ps_modules_forget();
	if (ps_output_open(1) < 0) {
		__atomic_store_n(&ps_recording, 0, __ATOMIC_RELAXED);
		self->state = PS_T_OFF;
		ps_guard_drop(&ps_self, PS_GUARD_INTERNAL);
		return;
	}
	if (self->state == PS_T_ACTIVE) {
		ps_emit_process(self);
		ps_modules_record(self);
		ps_cyg_fork_child(self);
	}
	ps_guard_drop(&ps_self, PS_GUARD_INTERNAL);
}

/* ps_tbuf_init - the thread key and fork handlers; called once by the constructor. */
void ps_tbuf_init(void)
{
	key_ok = pthread_key_create(&thread_key, thread_dtor) == 0;
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}
