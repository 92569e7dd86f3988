/* SPDX-License-Identifier: MIT */
/*
 * Context switches of each thread, for on-CPU and off-CPU time. Every thread opens, when its
 * state is set up, a software event of its own (perf_event_open, PERF_COUNT_SW_DUMMY with
 * context_switch): the kernel then writes a record into a ring mapped here each time the
 * thread is switched out (blocked, or preempted) and back in. Nothing runs on the hot path:
 * the ring is read when the thread opens a chunk, and each out/in pair becomes one SWITCH
 * record (trace.h) in trace ticks. docs/design.md "Off-CPU time" explains the choices.
 */
#include <linux/perf_event.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "preload/process.h"
#include "preload/tracefile.h"

#define RING_PAGES 16			/* data pages: 64 KiB, 2730 switch records */

int ps_switch_errno;			/* the probe failed with this (0: switches recorded) */
static size_t page_size;

/* The event of the calling thread. Return: its descriptor, or -1 with errno. */
static int open_event(void)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_DUMMY;
	a.context_switch = 1;
	a.sample_id_all = 1;
	a.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME;
	/* CLOCK_MONOTONIC, read next to the trace clock when the ring is drained: this VM's
	 * kernel offers no TSC conversion (cap_user_time_zero) for perf's own clock */
	a.use_clockid = 1;
	a.clockid = CLOCK_MONOTONIC;
	/* what perf_event_paranoid 2 still allows a process on its own threads */
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

/*
 * ps_switch_init - whether this process may record context switches: one event opened and
 * closed for the calling thread. A refusal (EACCES or EPERM from perf_event_paranoid or a
 * seccomp policy, ENOSYS, ENOENT) is said once; then times stay wall-clock and every
 * thread's first chunk says why (an ABSENT record).
 */
void ps_switch_init(void)
{
	int fd;

	page_size = (size_t)sysconf(_SC_PAGESIZE);
	fd = open_event();
	if (fd < 0) {
		ps_switch_errno = errno ? errno : ENOSYS;
		ps_warn_once("context switches cannot be recorded (perf_event_open: %s); "
			     "times are wall-clock", strerror(ps_switch_errno));
		return;
	}
	close(fd);
	ps_switch_errno = 0;
}

/*
 * ps_switch_open - the calling thread's ring (thread set-up and a fork child). The descriptor
 * is closed at once: the mapping keeps the event alive, and the program's descriptor numbers
 * stay its own (a program that closes "all other" descriptors cannot stop it either).
 * A thread that cannot have one (the locked-memory limit: perf_event_mlock_kb) gets an
 * ABSENT record with the reason; told once.
 */
void ps_switch_open(struct ps_thread *t)
{
	size_t len = (RING_PAGES + 1) * page_size;
	void *m;
	int fd;

	t->sw.ring = NULL;
	t->sw.out = 0;
	t->sw.base = 0;
	t->sw.err = ps_switch_errno;
	if (t->sw.err)
		return;
	fd = open_event();
	if (fd < 0) {
		t->sw.err = errno ? errno : ENOSYS;
		goto fail;
	}
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	t->sw.err = errno;
	close(fd);
	if (m == MAP_FAILED)
		goto fail;
	t->sw.err = 0;
	t->sw.ring = m;
	return;
fail:
	if (!t->sw.err)
		t->sw.err = EINVAL;
	ps_warn_once("a thread's context switches cannot be recorded (%s); its times are "
		     "wall-clock", strerror(t->sw.err));
}

/* ps_switch_close - the thread's ring goes (thread end); the event with it. */
void ps_switch_close(struct ps_thread *t)
{
	if (t->sw.ring)
		munmap(t->sw.ring, (RING_PAGES + 1) * page_size);
	t->sw.ring = NULL;
}

/*
 * ps_switch_fork_child - the child of fork has no ring (the kernel does not copy perf
 * mappings) and its thread is a new one: a ring of its own, and a fresh switch base (a new
 * trace).
 */
void ps_switch_fork_child(struct ps_thread *t)
{
	t->sw.ring = NULL;
	ps_switch_open(t);
}

/* Copy @n bytes at ring offset @pos (the data area wraps) into @dst. */
static void ring_copy(const struct perf_event_mmap_page *pg, uint64_t pos, void *dst, size_t n)
{
	const uint8_t *data = (const uint8_t *)pg + pg->data_offset;
	uint64_t size = pg->data_size, off = pos & (size - 1);
	size_t first = n < size - off ? n : (size_t)(size - off);

	memcpy(dst, data + off, first);
	memcpy((uint8_t *)dst + first, data, n - first);
}

/*
 * Where drained records go: the thread's open chunk (the owner, @buf NULL), or a buffer of
 * the final flush for a thread it cuts.
 */
struct sink {
	struct ps_thread *t;
	uint8_t *buf, *p, *end;
};

/* Room for one more record (in a chunk, the owner may widen a mapped window). */
static int room(struct sink *k)
{
	struct ps_thread *t = k->t;

	if (k->buf)
		return k->end - k->p >= (ptrdiff_t)TRACE_MAX_RECORD;
	if (!t->chunk.buf || !t->rec.limit || t->chunk.cut)
		return 0;
	if (t->rec.pos < t->rec.limit)
		return 1;
	return (size_t)(t->chunk.end - t->rec.pos) >= TRACE_MAX_RECORD && ps_chunk_more(t) &&
	       t->rec.pos < t->rec.limit;
}

static void put(struct sink *k, uint64_t kind, uint64_t a, uint64_t b)
{
	uint8_t *p = k->buf ? k->p : k->t->rec.pos;

	p = trace_put_varint(p, TRACE_OP_H(TRACE_OP_SWITCH));
	p = trace_put_varint(p, kind);
	p = trace_put_varint(p, a);
	p = trace_put_varint(p, b);
	if (k->buf)
		k->p = p;
	else
		ps_commit(k->t, p);
}

/* trace ticks of CLOCK_MONOTONIC @ns, through the pair (@now_ticks, @now_ns) */
static uint64_t to_ticks(uint64_t ns, uint64_t now_ticks, uint64_t now_ns)
{
	if (!ps_use_tsc)
		return ns;
	return ns >= now_ns ? now_ticks : now_ticks - ps_ns_to_ticks(now_ns - ns);
}

/* the ring's records into @k as far as it has room. Return: 1 when some are left. */
static int drain(struct sink *k)
{
	struct ps_thread *t = k->t;
	struct perf_event_mmap_page *pg = t->sw.ring;
	uint64_t head, tail, now_ticks = 0, now_ns = 0;
	struct {
		struct perf_event_header h;
		uint64_t w[4];
	} rec;

	if (t->sw.err) {
		if (t->sw.err > 0 && room(k)) {
			put(k, TRACE_SWITCH_ABSENT, (uint64_t)t->sw.err, 0);
			t->sw.err = -t->sw.err;		/* said once per trace */
		}
		return 0;
	}
	if (!pg)
		return 0;
	head = __atomic_load_n(&pg->data_head, __ATOMIC_ACQUIRE);
	tail = pg->data_tail;
	if (head != tail && ps_use_tsc) {
		ps_clock_rate();	/* refines the rate ps_ns_to_ticks uses */
		now_ticks = ps_now();
		now_ns = ps_mono_ns();
	}
	while (tail < head) {
		uint64_t at;

		ring_copy(pg, tail, &rec.h, sizeof(rec.h));
		if (rec.h.size < sizeof(rec.h) || rec.h.size > head - tail)
			break;			/* never seen: a record the kernel did not finish */
		if (!room(k))
			break;
		ring_copy(pg, tail + sizeof(rec.h), rec.w,
			  rec.h.size - sizeof(rec.h) < sizeof(rec.w) ? rec.h.size - sizeof(rec.h)
								      : sizeof(rec.w));
		tail += rec.h.size;
		if (rec.h.type == PERF_RECORD_LOST) {
			/* id, lost, then the sample id: the pending switch-out may be unpaired */
			t->sw.out = 0;
			put(k, TRACE_SWITCH_LOST, rec.w[1], 0);
			continue;
		}
		if (rec.h.type != PERF_RECORD_SWITCH || rec.h.size < sizeof(rec.h) + 16)
			continue;
		at = to_ticks(rec.w[1], now_ticks, now_ns);	/* after {pid, tid} */
		if (rec.h.misc & PERF_RECORD_MISC_SWITCH_OUT) {
			t->sw.out = at ? at : 1;
			t->sw.out_kind = (rec.h.misc & PERF_RECORD_MISC_SWITCH_OUT_PREEMPT)
						 ? TRACE_SWITCH_PREEMPTED
						 : TRACE_SWITCH_BLOCKED;
			continue;
		}
		if (!t->sw.out || at < t->sw.out || t->sw.out < t->sw.base) {
			t->sw.out = 0;		/* an "in" without its "out" */
			continue;
		}
		put(k, t->sw.out_kind, t->sw.out - t->sw.base, at - t->sw.out);
		t->sw.base = at;
		t->sw.out = 0;
	}
	__atomic_store_n(&pg->data_tail, tail, __ATOMIC_RELEASE);
	return tail < head;
}

/*
 * The thread's CPU clock now, after its switches up to now: a CPUTIME record. Between two of
 * them the analyzer compares the thread's on-CPU wall-clock time (its time less its SWITCH
 * intervals) with what its CPU clock counted: the difference is time the thread was
 * scheduled but its CPU was not running it (a hypervisor's steal, which the guest kernel's
 * clock leaves out), and comes out of CPU time (docs/design.md "Off-CPU time"). The owner
 * reads its own clock; the final flush reads a cut thread's through its clock id. One
 * system call per chunk, none per event.
 */
static void put_cputime(struct sink *k)
{
	struct ps_thread *t = k->t;
	/* the kernel's per-thread CPUCLOCK_SCHED id (what pthread_getcpuclockid makes) */
	clockid_t id = k->buf ? (clockid_t)((~(unsigned)t->tid << 3) | 6) : CLOCK_THREAD_CPUTIME_ID;
	struct timespec ts;
	uint64_t now;
	int saved = errno;

	if (!t->sw.ring || t->sw.err || !room(k))
		return;
	/*
	 * The time first: the clock stands still while the thread is off-CPU, so a preemption
	 * between the two reads (the return from the system call is where one comes) moves
	 * neither. Read the other way round, the time would take in a wait the reading did not,
	 * and whose interval comes only with the next drain.
	 */
	now = ps_now();
	if (syscall(SYS_clock_gettime, id, &ts) == 0)
		put(k, TRACE_SWITCH_CPUTIME, now > t->sw.base ? now - t->sw.base : 0,
		    (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
	errno = saved;
}

/*
 * ps_switch_drain - move the thread's switch records from its ring into its open chunk, as
 * far as the chunk has room (the rest stays in the ring for the next chunk), then its CPU
 * clock. The owner calls it under its flush lock, after opening a chunk and before its last
 * one closes. Times become trace ticks through a (ticks, CLOCK_MONOTONIC) pair read now.
 * Return: 1 when records are left in the ring, else 0.
 */
int ps_switch_drain(struct ps_thread *t)
{
	struct sink k = { .t = t };

	if (drain(&k))
		return 1;
	put_cputime(&k);
	return drain(&k);	/* a preemption since the first: its interval is before the reading */
}

/*
 * ps_switch_pending - whether @t has switch records to write at its cut: always with a ring,
 * whose CPU clock at the end is one at least (its last span then has a reading, and the steal
 * in it is taken out like any other's).
 */
int ps_switch_pending(const struct ps_thread *t)
{
	return t->sw.err > 0 || t->sw.ring;
}

/*
 * ps_switch_cut - the final flush cuts @t, another thread, still alive: its switches since
 * its last chunk go into @buf (@len bytes; what fits), for a chunk of its own that the
 * cutter writes at once (it cannot append to the buffer @t may still be writing), and its CPU
 * clock. A switch-out without its switch-in is a wait that lasted until now: the thread was
 * blocked (or preempted) when the process ended. Caller holds t->list.flush_lock.
 * Return: the payload bytes written into @buf.
 */
size_t ps_switch_cut(struct ps_thread *t, uint8_t *buf, size_t len)
{
	struct sink k = { .t = t, .buf = buf, .p = buf, .end = buf + len };
	uint64_t now = ps_now();

	if (drain(&k))
		return (size_t)(k.p - buf);	/* no room for all: the rest is lost */
	if (t->sw.out && t->sw.out >= t->sw.base && now > t->sw.out && room(&k)) {
		put(&k, t->sw.out_kind, t->sw.out - t->sw.base, now - t->sw.out);
		t->sw.base = now;
		t->sw.out = 0;
	}
	put_cputime(&k);
	return (size_t)(k.p - buf);
}
