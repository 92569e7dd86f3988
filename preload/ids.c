/* SPDX-License-Identifier: MIT */
/*
 * Function ids: a per-thread open-addressing table from function address to fid. The first
 * probe is inline in internal.h (ps_fid); this is the rest: probing, defining a new fid with
 * its FUNC record, and growing the table. docs/design.md "Calls".
 */
#include <sys/mman.h>

#include "preload/internal.h"

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
	struct ps_fid_slot *old = t->fids, *tab;
	uint32_t oldn = old ? t->fid_mask + 1 : 0, mask = slots - 1, i, j;

	tab = mmap(NULL, (size_t)slots * sizeof(*tab), PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (tab == MAP_FAILED)
		return -1;
	for (i = 0; i < oldn; i++) {
		if (!old[i].addr)
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
	t->fids = tab;
	t->fid_mask = mask;
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

	if (likely(t->fids)) {
		for (i = fid_home(fn, t->fid_mask);; i = (i + 1) & t->fid_mask) {
			s = &t->fids[i];
			if (s->addr == fn)
				return s->fid;
			if (!s->addr)
				break;
		}
	}

	fid = t->nfids++;
	*pp = trace_put_varint(*pp, TRACE_OP_H(TRACE_OP_FUNC));
	*pp = trace_put_varint(*pp, fn);

	/* Grow past a load factor of 1/4 (or map a first table), then insert. */
	if (!t->fids || (uint64_t)t->nfids * 4 > (uint64_t)t->fid_mask + 1) {
		uint32_t slots = t->fids ? (t->fid_mask + 1) * 2 : FID_MIN_SLOTS;
		int saved = errno;

		if (slots <= FID_MAX_SLOTS)
			fid_rehash(t, slots);
		errno = saved;
		if (!t->fids)
			return fid;
	}
	if (t->nfids > t->fid_mask)	/* full (only when growing failed): do not insert */
		return fid;
	for (i = fid_home(fn, t->fid_mask); t->fids[i].addr; i = (i + 1) & t->fid_mask)
		;
	t->fids[i].fid = fid;
	t->fids[i].addr = fn;
	return fid;
}
