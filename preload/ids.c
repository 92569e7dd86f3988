/* SPDX-License-Identifier: MIT */
/*
 * Function ids: a per-thread open-addressing table from function address to fid. The first
 * probe is inline in ids.h (ps_fid); this is the rest: probing, defining a new fid with
 * its FUNC record, growing the table, and forgetting the ids (and stack nodes) of code that
 * dlclose unmapped. docs/design.md "Calls" and "Modules, marks, names".
 */
#include <string.h>
#include <sys/mman.h>

#include "preload/ids.h"

#define FID_MIN_SLOTS 1024U		/* a table that was never mapped starts here */
#define FID_MAX_SLOTS (1U << 28)	/* 4 GiB of slots: never reached by a real program */

/* Same hash as ps_fid(): functions are at least byte-aligned, usually 16-byte aligned. */
static inline uint32_t fid_home(uintptr_t fn, uint32_t mask)
{
	return (uint32_t)((fn >> 4) * 0x9E3779B1U) & mask;
}

/*
 * Move to a table of @slots slots (a power of two), rehashing every entry. The old table is
 * unmapped. Return: 0, or -1 when the new table cannot be mapped (the old one stays).
 */
static int fid_rehash(struct ps_thread *t, uint32_t slots)
{
	struct ps_fid_slot *old = t->ids.fids, *tab;
	uint32_t oldn = old ? t->ids.fid_mask + 1 : 0, mask = slots - 1, i, j;

	tab = mmap(NULL, (size_t)slots * sizeof(*tab), PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (tab == MAP_FAILED)
		return -1;
	for (i = 0; i < oldn; i++) {
		if (!old[i].addr || old[i].addr == PS_FID_GONE)
			continue;
		for (j = fid_home(old[i].addr, mask); tab[j].addr; j = (j + 1) & mask)
			;
		tab[j] = old[i];
	}
	/*
	 * Publish the new table before dropping the old one: a signal handler that runs its
	 * hooks in between finds the thread guarded and never looks, but stack.c or a later
	 * hook must not see a dangling pointer.
	 */
	t->ids.fids = tab;
	t->ids.fid_mask = mask;
	ps_signal_fence();
	if (old)
		munmap(old, (size_t)oldn * sizeof(*old));
	return 0;
}

/*
 * ps_fid_slow - the fid of function @fn in thread @t when the first probe missed: probe on,
 * and on a miss define the next fid and append its FUNC record at *@pp (the caller reserved
 * TRACE_MAX_RECORD bytes; *@pp is advanced). The table doubles when a quarter full, so that
 * the inline first probe almost always hits. errno is preserved (mmap may set it).
 * Return: the fid. When no table can be mapped at all the function still gets a fresh fid
 * and FUNC record (correct, only slower, as every call of it then defines a new one).
 */
uint32_t ps_fid_slow(struct ps_thread *t, uintptr_t fn, uint8_t **pp)
{
	struct ps_fid_slot *s;
	uint32_t i, fid;

	if (likely(t->ids.fids)) {
		for (i = fid_home(fn, t->ids.fid_mask);; i = (i + 1) & t->ids.fid_mask) {
			s = &t->ids.fids[i];
			if (s->addr == fn)
				return s->fid;
			if (!s->addr)
				break;
		}
	}

	fid = t->ids.nfids++;
	*pp = trace_put_varint(*pp, TRACE_OP_H(TRACE_OP_FUNC));
	*pp = trace_put_varint(*pp, fn);

	/* Grow past a load factor of 1/4 (or map a first table), then insert. */
	if (!t->ids.fids || (uint64_t)t->ids.nfids * 4 > (uint64_t)t->ids.fid_mask + 1) {
		uint32_t slots = t->ids.fids ? (t->ids.fid_mask + 1) * 2 : FID_MIN_SLOTS;
		int saved = errno;

		if (slots <= FID_MAX_SLOTS)
			fid_rehash(t, slots);
		errno = saved;
		if (!t->ids.fids)
			return fid;
	}
	if (t->ids.nfids > t->ids.fid_mask)	/* full (only when growing failed): do not insert */
		return fid;
	for (i = fid_home(fn, t->ids.fid_mask); t->ids.fids[i].addr; i = (i + 1) & t->ids.fid_mask)
		;
	t->ids.fids[i].fid = fid;
	t->ids.fids[i].addr = fn;
	return fid;
}

/*
 * Code unloaded: the ranges dlclose unmapped, in a ring of GONE_LOG. ps_code_gone appends
 * one (under modules.c's lock: one writer) and then moves ps_code_gen on; a thread that is
 * behind copies the ranges since its own code_gen. A thread more than GONE_LOG behind, or
 * lapped while copying, forgets all its ids: always correct, only more records.
 */
#define GONE_LOG 64

static struct ps_code_range gone[GONE_LOG];
uint32_t ps_code_gen;

/* ps_code_gone - [lo, hi) was unmapped (modules.c, with its lock held). */
void ps_code_gone(uintptr_t lo, uintptr_t hi)
{
	uint32_t g = ps_code_gen;

	__atomic_store_n(&gone[g % GONE_LOG].lo, lo, __ATOMIC_RELAXED);
	__atomic_store_n(&gone[g % GONE_LOG].hi, hi, __ATOMIC_RELAXED);
	__atomic_store_n(&ps_code_gen, g + 1, __ATOMIC_RELEASE);
}

/*
 * Drop the fids of functions in @r[0..n) (all of them when @r is NULL) from @t's table. The
 * slots become tombstones (PS_FID_GONE, never a function's address), so probe runs stay
 * whole and nothing is mapped: a new mapping here could take the very range dlclose just
 * freed, and the loader would put the next library elsewhere. The fids stay defined in the
 * trace; the next call of a function there defines a new one. Rehashing drops tombstones.
 */
static void fids_forget(struct ps_thread *t, const struct ps_code_range *r, uint32_t n)
{
	uint32_t slots = t->ids.fid_mask + 1, i, k;
	struct ps_fid_slot *tab = t->ids.fids;

	if (!tab)
		return;
	if (!r) {
		memset(tab, 0, (size_t)slots * sizeof(*tab));
		return;
	}
	for (i = 0; i < slots; i++) {
		if (!tab[i].addr || tab[i].addr == PS_FID_GONE)
			continue;
		for (k = 0; k < n && tab[i].addr - r[k].lo >= r[k].hi - r[k].lo; k++)
			;
		if (k < n)
			tab[i].addr = PS_FID_GONE;
	}
}

/*
 * ps_code_forget - @t (the calling thread, guard held or in the shim's slow path) forgets
 * its function ids and stack nodes of the code unloaded since it last looked. errno kept.
 */
PS_NOINLINE void ps_code_forget(struct ps_thread *t)
{
	uint32_t now = __atomic_load_n(&ps_code_gen, __ATOMIC_ACQUIRE);
	uint32_t from = t->ids.code_gen, i, n;
	struct ps_code_range r[GONE_LOG];
	int saved = errno, all;

	t->ids.code_gen = now;
	if (!t->ids.nfids && !t->stk.nnodes)
		return;			/* nothing defined yet: nothing to forget */
	n = now - from;
	all = n >= GONE_LOG;
	for (i = 0; i < n && !all; i++) {
		r[i].lo = __atomic_load_n(&gone[(from + i) % GONE_LOG].lo, __ATOMIC_RELAXED);
		r[i].hi = __atomic_load_n(&gone[(from + i) % GONE_LOG].hi, __ATOMIC_RELAXED);
	}
	/* a writer that moved on by the whole ring meanwhile may have changed what we read */
	if (!all && __atomic_load_n(&ps_code_gen, __ATOMIC_ACQUIRE) - from >= GONE_LOG)
		all = 1;
	fids_forget(t, all ? NULL : r, n);
	ps_stack_forget(t, all ? NULL : r, n);
	errno = saved;
}
