/* SPDX-License-Identifier: MIT */
/*
 * Function ids (ids.c) and allocation stack nodes (stack.c): per-thread tables keyed by
 * address, and what is forgotten when dlclose unmaps code.
 */
#ifndef PERFSHIM_PRELOAD_IDS_H
#define PERFSHIM_PRELOAD_IDS_H

#include "preload/thread.h"

/* ids.c: function ids; the FUNC record is appended at *pp on first sight */
uint32_t ps_fid_slow(struct ps_thread *t, uintptr_t fn, uint8_t **pp);

/*
 * ids.c: code that dlclose unmapped. Function ids and stack nodes are keyed by address, and
 * another library may be mapped there next: each thread forgets the ones in unloaded
 * ranges, so the new code gets FUNC and NODE records of its own (the thread that dlclosed
 * at once, every other one at its next chunk; readers name addresses by time anyway).
 */
struct ps_code_range {
	uintptr_t lo, hi;
};
extern uint32_t ps_code_gen;			/* ranges unloaded so far */
void ps_code_gone(uintptr_t lo, uintptr_t hi);	/* modules.c, under its lock */
void ps_code_forget(struct ps_thread *t);	/* noinline: the ranges since t->ids.code_gen */

static inline void ps_code_check(struct ps_thread *t)
{
	if (unlikely(t->ids.code_gen != __atomic_load_n(&ps_code_gen, __ATOMIC_ACQUIRE)))
		ps_code_forget(t);
}

/* First probe inline: a hit costs a hash, a load and a compare. */
static inline uint32_t ps_fid(struct ps_thread *t, uintptr_t fn, uint8_t **pp)
{
	struct ps_fid_slot *s = &t->ids.fids[(fn >> 4) * 0x9E3779B1U & t->ids.fid_mask];

	if (likely(s->addr == fn))
		return s->fid;
	return ps_fid_slow(t, fn, pp);
}

/* stack.c: the allocation stack's node id (0 = none); NODE records appended at *pp; @ra is
 * the return address of the malloc-family call (the shadow stack's innermost frame) */
uint32_t ps_stack_node(struct ps_thread *t, uintptr_t ra, uintptr_t hook_fp, uint8_t **pp);
uint32_t ps_stack_reuse(struct ps_thread *t, uintptr_t hook_fp); /* the last walk's node, or 0 */
void ps_stack_init(void);	/* once, after the real malloc is known: shim text range */
void ps_stack_thread_free(struct ps_thread *t); /* with the thread's tables (tbuf.c) */
void ps_stack_code_gone(uintptr_t lo, uintptr_t hi);	/* dlclose unmapped [lo, hi) */
/* forget the thread's nodes with frames in @r[0..n) (every node when @r is NULL) */
void ps_stack_forget(struct ps_thread *t, const struct ps_code_range *r, uint32_t n);
void ps_stack_fork_child(void);			/* atfork child: reset the rules' lock */
void ps_stack_drop_memos(struct ps_thread *t);	/* cost.c: the TLS memos were another's */
void ps_stack_unwinder_start(void);		/* libunwind's set-up (its pipe), now */

#endif /* PERFSHIM_PRELOAD_IDS_H */
