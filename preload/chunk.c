/* SPDX-License-Identifier: MIT */
/*
 * Chunks in the trace file. Every chunk gets a region of the file when it is opened (one
 * atomic add on the next free offset): its header, then region_cap payload bytes. Where the
 * file system allows it the thread's buffer is that region itself, mapped MAP_SHARED:
 * records land in the page cache as they are committed, and the trailer at the region's end
 * follows the commit cursor, so a process that dies without a word (SIGKILL, a raw
 * exit_group, the _exit glibc's daemon() makes) leaves every committed record readable.
 * The region is allocated with fallocate before it is mapped, so a full disk is an ENOSPC
 * here and never a SIGBUS on a store; and no region passes RLIMIT_FSIZE (the kernel would
 * send the program SIGXFSZ): the last one is cut to what fits and recording stops there.
 * Where fallocate or the mapping is not available, a private buffer is written with pwrite
 * when its chunk closes (then only closed chunks survive). docs/design.md "Threads,
 * buffers and the file"; the bytes in docs/trace-format.md.
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "preload/tracefile.h"

#define HDR ((uint64_t)sizeof(struct trace_chunk_header))
#define REGIONS_CLOSED (1ULL << 62)	/* next_off at or past this: the file is finished */
#define REGIONS_BUSY (1ULL << 63)	/* the top region's tail is being cut off: wait */
#define MIN_CAP 512U			/* a region cut by the size limit must hold this much */
#define WINDOW (128U << 10)		/* a mapped region is made ready this much at a time */
#define FIRST_WINDOW (16U << 10)	/* a thread's first chunk: from this much, doubling */

static uint64_t next_off;		/* file offset of the next region (atomic) */
static int mapped = 1;			/* new regions are mapped; 0: the write path */
static uint64_t page_mask;
static int openers;			/* threads between reserve and a readable region */
static pid_t ending_tid;		/* the final flush's thread: others reserve no more */

/* ps_chunk_reset - a new trace file (start, fork child): regions follow its header. */
void ps_chunk_reset(void)
{
	if (!page_mask)
		page_mask = (uint64_t)sysconf(_SC_PAGESIZE) - 1;
	__atomic_store_n(&next_off, sizeof(struct trace_file_header), __ATOMIC_RELAXED);
	__atomic_store_n(&mapped, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&openers, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&ending_tid, 0, __ATOMIC_RELAXED);
}

/*
 * A region is reserved before its header is written: a process that ends in between leaves
 * a region of zeros, which a reader must call damage. So at the final flush no thread but
 * the flushing one starts a reservation, and the flush waits for those under way (Dekker:
 * each side stores, then reads the other's word, both sequentially consistent).
 * Return: whether @tid may reserve now (then open_leave follows).
 */
static int open_enter(pid_t tid)
{
	pid_t ending = __atomic_load_n(&ending_tid, __ATOMIC_ACQUIRE);

	/* barred already (the bar is never lifted): a thread whose full chunk waits for the
	 * cut retries at every event, and must not keep the flush waiting for openers */
	if (ending && ending != tid)
		return 0;
	__atomic_add_fetch(&openers, 1, __ATOMIC_SEQ_CST);
	ending = __atomic_load_n(&ending_tid, __ATOMIC_SEQ_CST);
	if (ending && ending != tid) {
		__atomic_sub_fetch(&openers, 1, __ATOMIC_RELEASE);
		return 0;
	}
	return 1;
}

static void open_leave(void)
{
	__atomic_sub_fetch(&openers, 1, __ATOMIC_RELEASE);
}

/*
 * ps_chunk_ending - the final flush starts on thread @tid: other threads reserve no more
 * regions, and those reserving now are waited for (a few system calls each; at most about
 * 200 ms in all, so a stopped thread cannot hold the exit). @busy: this thread interrupted
 * itself inside the shim (it may be one of the openers): no wait.
 */
void ps_chunk_ending(pid_t tid, int busy)
{
	struct timespec ms = { 0, 1000000 };
	int i;

	__atomic_store_n(&ending_tid, tid, __ATOMIC_SEQ_CST);
	for (i = 0; !busy && i < 200 && __atomic_load_n(&openers, __ATOMIC_SEQ_CST); i++)
		if (i < 20)
			sched_yield();
		else
			nanosleep(&ms, NULL);
}

/*
 * Reserve @len bytes of the file for a region that needs at least @min of them. Return:
 * the offset with *@got (<= @len, a multiple of 8) set, or UINT64_MAX when the file is
 * finished or the size limit leaves less than @min (recording then stops, said once).
 */
static uint64_t reserve(uint64_t len, uint64_t min, uint64_t *got)
{
	uint64_t lim = ps_output_fsize_limit();
	uint64_t off = __atomic_load_n(&next_off, __ATOMIC_ACQUIRE);

	for (;;) {
		if (off == REGIONS_BUSY) {
			sched_yield();		/* one ftruncate long (give_back) */
			off = __atomic_load_n(&next_off, __ATOMIC_ACQUIRE);
			continue;
		}
		if (off >= REGIONS_CLOSED)
			return UINT64_MAX;
		if (__atomic_compare_exchange_n(&next_off, &off, off + len, 1, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			break;
	}
	if (lim < off || lim - off < min) {
		ps_output_stopped(TRACE_F_CUT_FSIZE, NULL);
		return UINT64_MAX;
	}
	*got = lim - off < len ? (lim - off) & ~7ULL : len;
	return off;
}

/* The open header of a mapped region: what a reader sees if the chunk is never closed. */
static void write_open_header(struct ps_thread *t)
{
	struct trace_chunk_header h;
	struct trace_chunk_trailer *tr;

	tr = (struct trace_chunk_trailer *)(t->chunk.buf + t->chunk.region_cap -
					    TRACE_CHUNK_TRAILER);
	tr->base = (uintptr_t)t->chunk.buf;
	tr->cursor = (uintptr_t)t->chunk.buf;
	memset(&h, 0, sizeof(h));
	h.magic = TRACE_CHUNK_MAGIC;
	h.tid = t->tid;
	h.seq = t->chunk.seq;
	h.size = t->chunk.region_cap;
	h.flags = TRACE_CHUNK_OPEN;
	h.base_ticks = t->chunk.base_ticks;
	h.end_ticks = ps_now();
	h.end_mono_ns = ps_mono_ns();
	h.header_checksum = trace_checksum(&h, TRACE_CHUNK_HEADER_CKLEN);
	memcpy(t->chunk.map_hdr, &h, sizeof(h));
	t->rec.cursor = &tr->cursor;
}

/*
 * Map the region [off, off + HDR + cap) for @t. Return: 0; 1 when this file system cannot
 * (the write path takes over for good); -1 when the space cannot be had (stopped).
 */
static int map_region(struct ps_thread *t, uint64_t off, uint64_t cap)
{
	uint64_t lo = off & ~page_mask, hi = (off + HDR + cap + page_mask) & ~page_mask;
	void *m;
	int r;

	do
		r = fallocate(ps_trace_fd, 0, (off_t)off, (off_t)(HDR + cap));
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno != EOPNOTSUPP && errno != ENOSYS && errno != ENODEV) {
		ps_output_stopped(errno == EFBIG ? TRACE_F_CUT_FSIZE : TRACE_F_CUT_WRITE,
				  strerror(errno));
		return -1;
	}
	if (r == 0) {
		m = mmap(NULL, hi - lo, PROT_READ | PROT_WRITE, MAP_SHARED, ps_trace_fd, (off_t)lo);
		if (m != MAP_FAILED) {
			/* a forked child must never write the parent's file */
			madvise(m, hi - lo, MADV_DONTFORK);
			t->chunk.map = m;
			t->chunk.map_len = hi - lo;
			t->chunk.map_hdr = (struct trace_chunk_header *)((uint8_t *)m + (off - lo));
			t->chunk.buf = (uint8_t *)t->chunk.map_hdr + HDR;
			return 0;
		}
	}
	ps_dbg(1, "the trace's file system cannot map it (%s): chunks are written when they close",
	       strerror(errno));
	__atomic_store_n(&mapped, 0, __ATOMIC_RELAXED);
	return 1;
}

/* Reserve a region for @t and make it a readable, empty chunk (ps_chunk_open). */
static int open_region(struct ps_thread *t)
{
	uint64_t cap, off;
	int r = 1;

	off = reserve(HDR + (ps_cfg.bufsize & ~7ULL), HDR + MIN_CAP, &cap);
	if (off == UINT64_MAX || ps_output_check_fd() < 0)
		return -1;
	cap -= HDR;
	t->chunk.region_off = off;
	t->chunk.region_cap = (uint32_t)cap;
	t->chunk.region_closed = 0;
	t->chunk.base_ticks = t->rec.last_ticks;
	if (__atomic_load_n(&mapped, __ATOMIC_RELAXED))
		r = map_region(t, off, cap);
	if (r < 0)
		return -1;
	if (r == 0) {
		write_open_header(t);
		t->chunk.end = t->chunk.buf + cap - TRACE_CHUNK_TRAILER;
	} else {
		if (!t->chunk.wbuf) {
			void *p = mmap(NULL, ps_cfg.bufsize, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (p == MAP_FAILED) {
				ps_warn_once("out of memory for a thread's trace buffer; "
					     "thread not recorded");
				return -1;
			}
			t->chunk.wbuf = p;
		}
		t->chunk.buf = t->chunk.wbuf;
		t->rec.cursor = &t->chunk.cursor_sink;
		t->chunk.end = t->chunk.buf + cap;
	}
	t->rec.pos = t->chunk.buf;
	ps_signal_fence();
	if (t->chunk.map) {
		t->rec.limit = t->chunk.buf;
		if (!ps_chunk_more(t)) {	/* sets the limit: it opens the fast path */
			t->chunk.region_closed = 0;
			ps_chunk_release(t);
			return -1;
		}
	} else {
		t->rec.limit = t->chunk.end - TRACE_MAX_RECORD;
	}
	return 0;
}

/*
 * ps_chunk_open - give @t a region and an empty chunk in it, whose time base is the
 * thread's. Return: 0, or -1 when no region can be had (the file is finished, full, at its
 * size limit, or no memory for a private buffer; the first two stop recording; or the
 * process is ending on another thread).
 */
int ps_chunk_open(struct ps_thread *t)
{
	int r;

	if (!open_enter(t->tid))
		return -1;
	r = open_region(t);
	open_leave();
	return r;
}

/*
 * ps_chunk_next - @t's chunk closes (not the last) and the next one opens, as one step the
 * final flush either waits for or refuses whole: a thread that closed its chunk and was then
 * refused the next (the process ending on another thread) would end on a chunk that is not
 * its last, which the flush, finding it without a chunk, could not flag. Refused, the chunk
 * stays open and the thread's as it was, for the flush to cut. Return: 0 with the next chunk
 * open; 1 refused (nothing changed); -1 when no region can be had (the chunk closed,
 * recording stops: ps_chunk_open).
 */
int ps_chunk_next(struct ps_thread *t)
{
	int r;

	if (!open_enter(t->tid))
		return 1;
	ps_chunk_close(t, t->rec.pos, 0);
	ps_chunk_release(t);
	r = open_region(t);
	open_leave();
	return r;
}

/*
 * ps_chunk_more - the fast path reached the end of the part of a mapped region made ready:
 * the next WINDOW bytes after the records are made ready and the limit moves past them (in
 * a thread's first chunk FIRST_WINDOW, then as much as is written, up to WINDOW).
 * Ready: written with zeros first (then the pages are in the page cache already: a file
 * system mapping an allocated but unwritten range reads each page in, zero-filled, which
 * costs more: docs/measurements.md) and mapped at once (MADV_POPULATE_WRITE: one call instead
 * of a write fault per page, which also finds a page the file system would refuse before a
 * store does). The pages a short-lived thread never reaches are never touched. Return: 1
 * when the limit moved, 0 at the region's end (or when its pages are refused: stopped).
 */
int ps_chunk_more(struct ps_thread *t)
{
	static const uint8_t zeros[WINDOW + TRACE_MAX_RECORD];
	/* from rec.pos, not rec.limit: the last record may reach TRACE_MAX_RECORD past it */
	uint8_t *last = t->chunk.end - TRACE_MAX_RECORD, *from = t->rec.pos, *to;
	size_t w = WINDOW, done = (size_t)(from - t->chunk.buf);
	uintptr_t lo, hi;

	if (!t->chunk.map || from >= last)
		return 0;
	/* a thread that writes little (a sampled run's, a short one's) makes ready little */
	if (t->chunk.seq == 0 && done < WINDOW)
		w = done > FIRST_WINDOW ? done : FIRST_WINDOW;
	to = from + w < last ? from + w : last;
	/* [from, to + TRACE_MAX_RECORD) ends at t->chunk.end at most: the trailer is after it */
	if (pwrite(ps_trace_fd, zeros, (size_t)(to + TRACE_MAX_RECORD - from),
		   (off_t)(t->chunk.region_off + HDR + (uint64_t)(from - t->chunk.buf))) < 0) {
		/* the pages come from the file system instead */
	}
	lo = (uintptr_t)from & ~(uintptr_t)page_mask;
	hi = ((uintptr_t)to + TRACE_MAX_RECORD + page_mask) & ~(uintptr_t)page_mask;
	if (hi > (uintptr_t)t->chunk.map + t->chunk.map_len)
		hi = (uintptr_t)t->chunk.map + t->chunk.map_len;
	/*
	 * EFAULT: a store would get SIGBUS (a file system that allocates at write time and is
	 * full, despite fallocate): stop before writing there. EINVAL: a kernel before 5.14.
	 */
	if (madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE) < 0 && errno == EFAULT) {
		ps_output_stopped(TRACE_F_CUT_WRITE, "the file system refused the pages of a "
				  "chunk (disk full?)");
		return 0;
	}
	t->rec.limit = to;
	return 1;
}

/* Write @len bytes of @iov at @off. Return: 0, or -1 (stopped, said once). */
static int write_at(struct iovec *iov, int n, size_t len, uint64_t off)
{
	ssize_t w;

	while (len) {
		w = pwritev(ps_trace_fd, iov, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ps_output_stopped(TRACE_F_CUT_WRITE, w < 0 ? strerror(errno)
								  : "short write (disk full?)");
			return -1;
		}
		len -= (size_t)w;
		off += (uint64_t)w;
		for (; n && (size_t)w >= iov->iov_len; n--, iov++)
			w -= (ssize_t)iov->iov_len;
		if (n) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/*
 * ps_chunk_close - bytes [buf, @upto) of @t become a finished chunk with @flags: its header
 * goes over the open one (mapped), or header and payload are written (write path). The
 * region stays the thread's until ps_chunk_release; what the thread may still write in it
 * lies past the payload, in the pad the header now declares. Never called without a region.
 */
void ps_chunk_close(struct ps_thread *t, uint8_t *upto, unsigned flags)
{
	struct trace_chunk_header h;
	size_t size = (size_t)(upto - t->chunk.buf);

	h.magic = TRACE_CHUNK_MAGIC;
	h.tid = t->tid;
	h.seq = t->chunk.seq++;
	h.size = (uint32_t)size;
	h.flags = flags | t->chunk.flags;	/* modules.c: MODULE/UNLOAD records in it */
	t->chunk.flags = 0;
	h.payload_checksum = trace_checksum(t->chunk.buf, size);
	h.base_ticks = t->chunk.base_ticks;
	h.end_ticks = ps_now();
	h.end_mono_ns = ps_mono_ns();
	h.pad = t->chunk.region_cap - (uint32_t)size;
	t->chunk.region_used = (uint32_t)size;
	t->chunk.region_closed = 1;
	h.header_checksum = trace_checksum(&h, TRACE_CHUNK_HEADER_CKLEN);
	if (t->chunk.map) {
		ps_signal_fence();
		memcpy(t->chunk.map_hdr, &h, sizeof(h));
	} else {
		struct iovec iov[2] = { { &h, sizeof(h) }, { t->chunk.buf, size } };

		if (write_at(iov, 2, sizeof(h) + size, t->chunk.region_off) < 0)
			t->chunk.region_closed = 0;	/* nothing there to shorten (give_back) */
	}
	t->chunk.base_ticks = t->rec.last_ticks;
}

/* The bytes of the region its closed chunk used (header and payload). */
static uint64_t used_end(const struct ps_thread *t)
{
	return t->chunk.region_off + HDR + t->chunk.region_used;
}

/* The closed chunk's header says its pad ends at @pad_end now (give_back). */
static void set_pad_end(struct ps_thread *t, uint64_t pad_end)
{
	struct trace_chunk_header h;

	if (t->chunk.map)
		memcpy(&h, t->chunk.map_hdr, sizeof(h));
	else if (pread(ps_trace_fd, &h, sizeof(h), (off_t)t->chunk.region_off) !=
		 (ssize_t)sizeof(h))
		return;
	h.pad = (uint32_t)(pad_end - used_end(t));
	h.header_checksum = trace_checksum(&h, TRACE_CHUNK_HEADER_CKLEN);
	if (t->chunk.map)
		memcpy(t->chunk.map_hdr, &h, sizeof(h));
	else if (pwrite(ps_trace_fd, &h, sizeof(h), (off_t)t->chunk.region_off) !=
		 (ssize_t)sizeof(h))
		return;		/* the header keeps the old pad: the next chunk is then missed */
}

/*
 * When @t's region is still the last of the file, its unused tail goes back: the header's
 * pad shrinks to the alignment, the file ends where the records end, and the next region
 * starts there. Reservations wait meanwhile (REGIONS_BUSY): a region reserved above the cut
 * before it is made would lose its allocation, and its stores would fault. Signals are
 * blocked so that a mark written from a handler on this thread cannot wait for us.
 * Return: whether it was given back.
 */
static int give_back(struct ps_thread *t)
{
	uint64_t top = t->chunk.region_off + HDR + t->chunk.region_cap, v = top, used = used_end(t);
	sigset_t all, old;
	int done;

	/* a full chunk's few spare bytes are not worth the system calls */
	if (top - used <= page_mask || __atomic_load_n(&next_off, __ATOMIC_ACQUIRE) != top)
		return 0;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	done = __atomic_compare_exchange_n(&next_off, &v, REGIONS_BUSY, 0, __ATOMIC_ACQ_REL,
					   __ATOMIC_ACQUIRE);
	if (done) {
		set_pad_end(t, (used + 7) & ~7ULL);
		if (ftruncate(ps_trace_fd, (off_t)used) < 0) {
			/* the zeros stay, inside the pad the header still declares */
		}
		__atomic_store_n(&next_off, (used + 7) & ~7ULL, __ATOMIC_RELEASE);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return done;
}

/*
 * ps_chunk_release - the owner gives its region up after its chunk was closed (by itself,
 * or by a cutter). The last region of the file gives its unused tail back (give_back); any
 * other leaves a hole there (the pages go back to the file system; readers skip the pad).
 * The mapping goes; the next reservation opens a new chunk.
 */
void ps_chunk_release(struct ps_thread *t)
{
	uint64_t used = used_end(t), top = t->chunk.region_off + HDR + t->chunk.region_cap;

	t->rec.limit = NULL;
	ps_signal_fence();
	t->rec.cursor = &t->chunk.cursor_sink;
	if (t->chunk.region_closed && !give_back(t) && t->chunk.map) {
		uint64_t lo = (used + page_mask) & ~page_mask, hi = top & ~page_mask;

		if (hi > lo)
			fallocate(ps_trace_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  (off_t)lo, (off_t)(hi - lo));
	}
	if (t->chunk.map)
		munmap(t->chunk.map, t->chunk.map_len);
	t->chunk.map = NULL;
	t->chunk.map_hdr = NULL;
	t->chunk.buf = t->rec.pos = t->chunk.end = NULL;
}

/* ps_chunk_forget - in a fork child: the region was the parent's (and is not mapped here). */
void ps_chunk_forget(struct ps_thread *t)
{
	t->rec.limit = NULL;
	t->rec.cursor = &t->chunk.cursor_sink;
	t->chunk.map = NULL;
	t->chunk.map_hdr = NULL;
	t->chunk.buf = t->rec.pos = t->chunk.end = NULL;
	t->chunk.cut = 0;
}

/* ps_chunk_free - the thread is gone: its region and its private buffer. */
void ps_chunk_free(struct ps_thread *t)
{
	if (t->chunk.buf)
		ps_chunk_release(t);
	if (t->chunk.wbuf)
		munmap(t->chunk.wbuf, ps_cfg.bufsize);
	t->chunk.wbuf = NULL;
}

/*
 * ps_chunk_end_file - the final flush is done: no region is given out any more, and when
 * the last one is the caller's (closed) own, the file ends where its records end. Another
 * thread's region is never cut: it may still be storing into it.
 */
void ps_chunk_end_file(struct ps_thread *t)
{
	uint64_t top = __atomic_load_n(&next_off, __ATOMIC_ACQUIRE);

	for (;;) {
		if (top == REGIONS_BUSY) {	/* another thread's give_back: one ftruncate */
			sched_yield();
			top = __atomic_load_n(&next_off, __ATOMIC_ACQUIRE);
			continue;
		}
		if (top >= REGIONS_CLOSED ||
		    __atomic_compare_exchange_n(&next_off, &top, REGIONS_CLOSED, 0,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			break;
	}
	if (t->chunk.buf && t->chunk.region_closed &&
	    top == t->chunk.region_off + HDR + t->chunk.region_cap) {
		if (ftruncate(ps_trace_fd, (off_t)used_end(t)) < 0) {
			/* the padding stays: readers skip it */
		}
	}
}

/*
 * ps_chunk_write_small - a chunk written at once (a mark from a signal handler, a cut
 * thread's last switches): exactly its size reserved, one pwrite. Async-signal-safe.
 * @h->pad and the header checksum are set here. Admitted by the caller's kernel tid, not
 * ps_self.tid: the final flush's thread may never have recorded (tid 0), and it writes the
 * cut threads' chunks after it barred every thread but itself. Return: 0, or -1 (file
 * finished, full, at its size limit, or the process ending on another thread).
 */
int ps_chunk_write_small(struct trace_chunk_header *h, const void *payload)
{
	uint64_t len = HDR + h->size, want = (len + 7) & ~7ULL, got, off;
	struct iovec iov[2] = { { h, sizeof(*h) }, { (void *)payload, h->size } };
	int r = -1;

	if (!open_enter((pid_t)syscall(SYS_gettid)))
		return -1;
	off = reserve(want, want, &got);
	if (off != UINT64_MAX && ps_output_check_fd() == 0) {
		h->pad = (uint32_t)(want - len);
		h->header_checksum = trace_checksum(h, TRACE_CHUNK_HEADER_CKLEN);
		r = write_at(iov, 2, len, off);
	}
	open_leave();
	return r;
}
