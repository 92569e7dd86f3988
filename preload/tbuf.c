/* SPDX-License-Identifier: MIT */
/*
 * Per-thread buffers: lazy set-up, the thread list, the flush of a full chunk, and the last
 * chunk of a thread, of the process (cutting the other threads) and of an image before exec
 * (chunk.c holds the chunks themselves, in regions of the trace file). When those ends come
 * and what else they write is lifecycle.c's; this file calls only the layers below it
 * (chunk.c, switches.c, the tables' owners). docs/design.md "Threads, buffers and the file"
 * explains the protocol between a thread and the one that cuts it at exit.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload/ids.h"
#include "preload/process.h"
#include "preload/tracefile.h"

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
static pthread_key_t thread_key;	/* its destructor is lifecycle.c's thread end */
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
	ps_switch_close(t);
	ps_chunk_free(t);
	unmap(t->calls.shadow, (size_t)t->calls.shadow_cap * sizeof(*t->calls.shadow));
	unmap(t->ids.fids, ((size_t)t->ids.fid_mask + 1) * sizeof(*t->ids.fids));
	unmap(t->stk.nodes, ((size_t)t->stk.node_mask + 1) * sizeof(*t->stk.nodes));
	unmap(t->stk.last_stack, ((size_t)ps_cfg.stack_depth + 1) * sizeof(uintptr_t));
	ps_stack_thread_free(t);
	t->calls.shadow = NULL;
	t->ids.fids = NULL;
	t->stk.nodes = NULL;
	t->stk.last_stack = NULL;
}

/* Empty the decoding state: a new trace (fork child) starts with no ids defined. */
static void reset_tables(struct ps_thread *t, int fresh)
{
	/* fresh from mmap: zeros already, and untouched: a memset would fault in every page of
	 * the tables (80 KiB), where a thread touches only the slots it uses */
	if (!fresh) {
		memset(t->ids.fids, 0, ((size_t)t->ids.fid_mask + 1) * sizeof(*t->ids.fids));
		memset(t->stk.nodes, 0, ((size_t)t->stk.node_mask + 1) * sizeof(*t->stk.nodes));
	}
	t->ids.nfids = 0;
	t->stk.nnodes = 0;
	t->stk.last_stack_len = 0;
	t->stk.last_stack_node = 0;
	t->rec.last_ptr = 0;
	t->lost = 0;
	t->chunk.seq = 0;
	t->rec.last_ticks = t->chunk.base_ticks = ps_now();
}

/*
 * ps_thread_setup - first event of a thread: map its tables, register it (its first chunk
 * is opened by its first reservation).
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
	ps_chunk_forget(t);
	t->calls.shadow_cap = SHADOW_FRAMES;
	t->calls.shadow = map(SHADOW_FRAMES * sizeof(*t->calls.shadow));
	t->ids.fid_mask = FID_SLOTS - 1;
	t->ids.fids = map(FID_SLOTS * sizeof(*t->ids.fids));
	t->stk.node_mask = NODE_SLOTS - 1;
	t->stk.nodes = map(NODE_SLOTS * sizeof(*t->stk.nodes));
	t->stk.last_stack = map(((size_t)ps_cfg.stack_depth + 1) * sizeof(uintptr_t));
	if (!t->calls.shadow || !t->ids.fids || !t->stk.nodes || !t->stk.last_stack) {
		unmap_tables(t);
		ps_warn_once("out of memory for a thread's trace buffer; thread not recorded");
		ps_guard_drop(t, PS_GUARD_INTERNAL);
		errno = saved;
		return NULL;
	}
	t->tid = syscall(SYS_gettid);
	reset_tables(t, 1);
	ps_switch_open(t);		/* one system call per thread, none per event */

	if (key_ok)
		pthread_setspecific(thread_key, t);
	pthread_mutex_lock(&threads_lock);
	t->list.registered = reg_add(t) == 0;
	pthread_mutex_unlock(&threads_lock);

	t->state = PS_T_ACTIVE;
	ps_guard_drop(t, PS_GUARD_INTERNAL);
	errno = saved;
	return t;
}

static void flush_lock(struct ps_thread *t)
{
	while (__atomic_exchange_n(&t->list.flush_lock, 1, __ATOMIC_ACQUIRE))
		sched_yield();
}

static void flush_unlock(struct ps_thread *t)
{
	__atomic_store_n(&t->list.flush_lock, 0, __ATOMIC_RELEASE);
}

static int flush_trylock(struct ps_thread *t)
{
	return !__atomic_exchange_n(&t->list.flush_lock, 1, __ATOMIC_ACQUIRE);
}

/*
 * The thread stops recording (the trace stopped: disk full, size limit, final flush): what
 * it committed becomes a closed chunk, and its region goes. Caller holds t->list.flush_lock.
 */
static void stop_locked(struct ps_thread *t)
{
	if (t->chunk.buf && !t->chunk.cut) {
		if (ps_trace_live)
			ps_chunk_close(t, t->rec.pos, 0);
		ps_chunk_release(t);
	}
	t->state = PS_T_OFF;
}

/*
 * ps_tbuf_flush - the calling thread's chunk is full (or not open yet): close it and open
 * the next, whose time base is the last record's time, so deltas run on across chunks. When
 * no chunk can be opened any more the thread stops recording. While the process ends on
 * another thread no chunk opens, and the full one stays open (ps_chunk_next): the final
 * flush cuts it, flagged as the thread's last.
 */
PS_NOINLINE void ps_tbuf_flush(struct ps_thread *t)
{
	int saved = errno;

	flush_lock(t);
	if (t->state == PS_T_ACTIVE && !t->chunk.cut) {
		if (!ps_recording) {
			stop_locked(t);
		} else if (t->chunk.buf && t->rec.pos == t->chunk.buf && t->rec.limit) {
			/* empty and open: nothing to write */
		} else {
			int r = t->chunk.buf ? ps_chunk_next(t) : ps_chunk_open(t);

			if (r < 0)
				t->state = PS_T_OFF;
			else if (r == 0)
				ps_switch_drain(t);	/* the switches since the last chunk */
		}
	}
	flush_unlock(t);
	errno = saved;
}

/*
 * The switch records still in @t's ring go into its chunks before the last one closes: when
 * they do not fit the open chunk, it closes and another opens (a few rounds at most: a ring
 * holds less than a chunk). While the process ends on another thread no chunk opens: the rest
 * stays in the ring and the open chunk is the last. Caller holds t->list.flush_lock;
 * t->chunk.buf is NULL if no chunk could be opened.
 */
static void drain_switches(struct ps_thread *t)
{
	int rounds = 0;

	while (t->chunk.buf && ps_switch_drain(t) && rounds++ < 4)
		if (ps_chunk_next(t) != 0)
			return;
}

/*
 * ps_reserve_slow - make room for @n bytes: open the first chunk, or close the full one and
 * open the next, then report events the thread dropped since the last chunk. Return: the
 * write cursor, or NULL when this thread no longer records (recording stopped, the thread
 * was cut at process exit, or a record this big does not fit). errno is kept (the hooks do
 * not save it on their common path: hooks-malloc.c).
 */
static uint8_t *reserve_slow(struct ps_thread *t, size_t n)
{
	/*
	 * Cut by the exit flush: stop here, but leave ->state to the cutter, which checks it
	 * under the flush lock to decide whether to write this buffer.
	 */
	if (t->chunk.cut || t->state != PS_T_ACTIVE)
		return NULL;
	if (n > ps_cfg.bufsize / 2)
		return NULL;
	if (t->rec.limit && t->rec.pos < t->rec.limit && (size_t)(t->chunk.end - t->rec.pos) >= n &&
	    ps_recording)
		return t->rec.pos;
	/* the mapped region has room the limit did not open yet: no chunk ends here */
	if (t->rec.limit && (size_t)(t->chunk.end - t->rec.pos) >= n && ps_recording &&
	    ps_chunk_more(t) &&
	    t->rec.pos < t->rec.limit)
		return t->rec.pos;
	ps_tbuf_flush(t);
	ps_code_check(t);	/* ids.c: forget ids of code dlclosed meanwhile */
	/* pos at the limit still: the next chunk was refused (the process ends), this one is full */
	if (t->state != PS_T_ACTIVE || !t->rec.limit || t->rec.pos >= t->rec.limit ||
	    (size_t)(t->chunk.end - t->rec.pos) < n)
		return NULL;
	if (t->lost) {
		uint8_t *p = trace_put_varint(t->rec.pos, TRACE_OP_H(TRACE_OP_LOST));

		p = trace_put_varint(p, t->lost);
		t->lost = 0;
		ps_commit(t, p);
	}
	return t->rec.pos;
}

PS_NOINLINE uint8_t *ps_reserve_slow(struct ps_thread *t, size_t n)
{
	int saved = errno;
	uint8_t *p = reserve_slow(t, n);

	errno = saved;
	return p;
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
	t->list.registered = 0;
	pthread_mutex_unlock(&threads_lock);
}

/*
 * ps_tbuf_end_thread - the calling thread's last chunk (flagged LAST), then it leaves the
 * list and frees its buffers; later events of the thread pass through. Caller: lifecycle.c,
 * under the guard, with the thread ACTIVE and its name and losses written.
 */
void ps_tbuf_end_thread(struct ps_thread *t)
{
	/*
	 * Still registered while the last chunk is written, under the flush lock: an exit
	 * flush meanwhile waits for the write, then finds the thread OFF, so the chunk is
	 * neither written twice nor cut short by exit_group.
	 */
	flush_lock(t);
	if (t->state == PS_T_ACTIVE && !t->chunk.cut && ps_trace_live) {
		if (!t->chunk.buf && ps_recording)
			ps_chunk_open(t);	/* a thread that wrote nothing yet ends in a chunk */
		drain_switches(t);
		if (t->chunk.buf)
			ps_chunk_close(t, t->rec.pos, TRACE_CHUNK_LAST);
	}
	t->state = PS_T_OFF;
	flush_unlock(t);
	unregister(t);
	unmap_tables(t);
}

/*
 * Another thread's buffer at process exit: take what it committed, stop it from recording
 * (->chunk.cut, and its limit drops so that its next reservation takes the slow path, which sees
 * the cut), and close its chunk flagged LAST|CUT|PROCESS_END. Its region stays mapped: the
 * thread may be in the middle of a record, whose bytes then fall in the chunk's pad. A
 * thread lent to a vfork child (PS_T_VFORK) has its chunk closed too.
 */
#define CUT_FLAGS (TRACE_CHUNK_LAST | TRACE_CHUNK_CUT | TRACE_CHUNK_PROCESS_END)

/*
 * The context switches of a thread being cut, since its last chunk (a worker blocked until
 * the end is where it waited): its chunk closes as not the last, and one more chunk of
 * SWITCH records, written at once, ends it. Return: whether that was done (else the caller
 * closes the chunk as the last one).
 */
static int cut_switches(struct ps_thread *t, uint8_t *upto)
{
	static uint8_t buf[32768];	/* the final flush runs once, in one thread */
	struct trace_chunk_header h;
	size_t n;

	if (t->state != PS_T_ACTIVE || !ps_switch_pending(t))
		return 0;
	n = ps_switch_cut(t, buf, sizeof(buf));
	if (!n)
		return 0;
	ps_chunk_close(t, upto, 0);
	memset(&h, 0, sizeof(h));
	h.magic = TRACE_CHUNK_MAGIC;
	h.tid = t->tid;
	h.seq = t->chunk.seq++;
	h.size = (uint32_t)n;
	h.flags = CUT_FLAGS;
	h.payload_checksum = trace_checksum(buf, n);
	h.base_ticks = t->chunk.base_ticks;
	h.end_ticks = ps_now();
	h.end_mono_ns = ps_mono_ns();
	ps_chunk_write_small(&h, buf);
	return 1;
}

static void cut_thread(struct ps_thread *t)
{
	uint8_t *upto;

	t->chunk.cut = 1;
	t->rec.limit = NULL;
	flush_lock(t);
	upto = __atomic_load_n(&t->rec.pos, __ATOMIC_ACQUIRE);
	if ((t->state == PS_T_ACTIVE || t->state == PS_T_VFORK) && t->chunk.buf && ps_trace_live &&
	    !cut_switches(t, upto))
		ps_chunk_close(t, upto, CUT_FLAGS);
	t->rec.limit = NULL;
	t->state = PS_T_OFF;
	flush_unlock(t);
}

/*
 * ps_tbuf_cut_others - cut every other registered thread (final flush) and empty the list
 * but for @self. @busy: this thread may hold the list's lock (then, if it is held, nothing).
 */
void ps_tbuf_cut_others(struct ps_thread *self, int busy)
{
	size_t i;

	if (busy ? pthread_mutex_trylock(&threads_lock) : pthread_mutex_lock(&threads_lock))
		return;
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

/*
 * ps_tbuf_end_process - the caller's own last chunk at the process's end, flagged
 * LAST|PROCESS_END, and the file's end. @busy: the thread was interrupted inside the shim:
 * when the interrupted code holds this thread's flush lock (opening or closing a chunk) the
 * chunk is left as it is (open, mapped: still read up to its last committed record), and no
 * chunk is opened nor switches drained. Otherwise the committed bytes are whole records
 * even if a hook was interrupted mid-record: its bytes lie past ->rec.pos.
 */
void ps_tbuf_end_process(struct ps_thread *self, int busy)
{
	if (!busy)
		flush_lock(self);
	else if (!flush_trylock(self))
		return;
	if (self->state == PS_T_ACTIVE && !self->chunk.cut) {
		if (!self->chunk.buf && ps_recording && !busy)
			ps_chunk_open(self);
		if (!busy)
			drain_switches(self);
		if (self->chunk.buf) {
			ps_chunk_close(self, self->rec.pos,
				       TRACE_CHUNK_LAST | TRACE_CHUNK_PROCESS_END);
			ps_chunk_end_file(self);
		}
	}
	self->state = PS_T_OFF;
	flush_unlock(self);
}

/*
 * ps_tbuf_end_image - before an exec: the caller's chunk closes, flagged PROCESS_END (if the
 * exec works, that is where the image ended); the thread opens a new one at its next event
 * if the exec fails. Caller: an ACTIVE thread not interrupted inside the shim.
 */
void ps_tbuf_end_image(struct ps_thread *self)
{
	flush_lock(self);
	if (self->state == PS_T_ACTIVE && !self->chunk.cut && ps_trace_live) {
		if (!self->chunk.buf && ps_recording)
			ps_chunk_open(self);	/* the end must be in the trace */
		drain_switches(self);
		if (self->chunk.buf) {
			ps_chunk_close(self, self->rec.pos, TRACE_CHUNK_PROCESS_END);
			ps_chunk_release(self);
		}
	}
	flush_unlock(self);
}

/*
 * ps_tbuf_key_create - the thread key whose destructor (@dtor, lifecycle.c) ends a thread;
 * ps_thread_setup arms it for every thread that records. Once, from the constructor.
 */
void ps_tbuf_key_create(void (*dtor)(void *))
{
	key_ok = pthread_key_create(&thread_key, dtor) == 0;
}

/* ps_tbuf_key_rearm - a destructor round that is not the last: be called in the next. */
void ps_tbuf_key_rearm(struct ps_thread *t)
{
	pthread_setspecific(thread_key, t);
}

/* ps_tbuf_lock_list, ps_tbuf_unlock_list - the thread list around fork (atfork handlers) */
void ps_tbuf_lock_list(void)
{
	pthread_mutex_lock(&threads_lock);
}

void ps_tbuf_unlock_list(void)
{
	pthread_mutex_unlock(&threads_lock);
}

/*
 * ps_tbuf_fork_child - in the child of fork: the list is new (the other threads do not
 * exist here) and the parent's regions are not mapped here (MADV_DONTFORK): never touched.
 */
void ps_tbuf_fork_child(struct ps_thread *self)
{
	pthread_mutex_init(&threads_lock, NULL);
	nregs = 0;
	ps_chunk_forget(self);
	self->list.flush_lock = 0;
}

/* ps_tbuf_fork_adopt - the child's recording thread, a new one: listed again, no ids. */
void ps_tbuf_fork_adopt(struct ps_thread *self)
{
	self->tid = syscall(SYS_gettid);
	if (self->list.registered)
		self->list.registered = reg_add(self) == 0;
	reset_tables(self, 0);
}
