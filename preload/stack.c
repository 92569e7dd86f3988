/* SPDX-License-Identifier: MIT */
/*
 * Allocation stacks: the innermost stack node of the current allocation, interned per thread
 * in a prefix tree of (parent node, ip) pairs. Each new node is written once as a NODE_RA
 * (libunwind return addresses) or NODE_FN (shadow stack function entries, with the caller's
 * return address as a NODE_RA under them) record; an ALLOC names only its innermost node. docs/design.md "Allocations" and docs/stacks.md explain the
 * two sources and their measured costs.
 */
#define UNW_LOCAL_ONLY
#include <elf.h>
#include <libunwind.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>

#include "preload/ids.h"

/*
 * Frames of the shim at the top of an unwound stack (the hook, ps_stack_node, unwind_node):
 * at most this many are looked at and dropped, so frame 0 is the caller of malloc.
 */
#define SKIP_MAX 8

/* A NODE record: op, varint parent, zz (ip - parent ip): it fits in one reservation. */
#define NODE_RECORD_MAX (1 + 5 + 10)
_Static_assert(NODE_RECORD_MAX <= TRACE_MAX_RECORD, "NODE record size");

/* Keys of shadow-stack nodes carry this bit in ->parent: an entry address and a return
 * address that happen to be equal still make two different nodes. */
#define KEY_FN (1U << 31)

/* The shim's text, [text_lo, text_hi): frames in it are never part of a stack. */
static uintptr_t text_lo, text_hi;

static inline PS_NOINSTR int in_shim(uintptr_t ip)
{
	return ip - text_lo < text_hi - text_lo;
}

/*
 * ps_stack_init - find the shim's executable segment from its own program headers, with no
 * lock (dl_iterate_phdr takes the loader lock, which a hook may be called under), and ask
 * libunwind for per-thread caches (no lock on the unwinding path). Called once by
 * ps_malloc_resolve, after the real allocator is known.
 */
PS_NOINSTR void ps_stack_init(void)
{
	extern const ElfW(Ehdr) __ehdr_start __attribute__((visibility("hidden")));
	const ElfW(Ehdr) *eh = &__ehdr_start;
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)((const char *)eh + eh->e_phoff);
	uintptr_t base;
	int i;

	/* __ehdr_start is the mapped ELF header: the load bias is its address minus the
	 * first PT_LOAD's vaddr, which is 0 for a shared object */
	base = (uintptr_t)eh;
	for (i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0) {
			base -= ph[i].p_vaddr;
			break;
		}
	}
	for (i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_X))
			continue;
		text_lo = base + ph[i].p_vaddr;
		text_hi = text_lo + ph[i].p_memsz;
		break;
	}
	/* a cross-check that costs nothing later: our own code must be inside */
	if (!in_shim((uintptr_t)ps_stack_init))
		ps_dbg(1, "stack: shim text range not found, shim frames may show");
}

static inline PS_NOINSTR uint32_t node_hash(uint32_t parent, uintptr_t ip)
{
	uint64_t h = ((uint64_t)ip ^ ((uint64_t)parent << 47 | parent)) * 0x9E3779B97F4A7C15ULL;

	return (uint32_t)(h >> 32);
}

/* Double the node table (mmap + rehash). Return: 0, or -1 when out of memory. errno kept. */
static PS_NOINSTR PS_NOINLINE int grow_nodes(struct ps_thread *t)
{
	size_t old_n = (size_t)t->stk.node_mask + 1, n = old_n * 2, i;
	struct ps_node_slot *old = t->stk.nodes, *tab;
	uint32_t mask = (uint32_t)n - 1;
	int saved = errno;

	tab = mmap(NULL, n * sizeof(*tab), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	if (tab == MAP_FAILED) {
		errno = saved;
		return -1;
	}
	for (i = 0; i < old_n; i++) {
		uint32_t j;

		if (!old[i].ip || old[i].ip == PS_NODE_GONE)
			continue;
		j = node_hash(old[i].parent, old[i].ip) & mask;
		while (tab[j].ip)
			j = (j + 1) & mask;
		tab[j] = old[i];
	}
	t->stk.nodes = tab;
	t->stk.node_mask = mask;
	munmap(old, old_n * sizeof(*old));
	errno = saved;
	return 0;
}

/*
 * The node of (@parent, @ip), interned on first sight. @pip is the parent's ip (0 for the
 * root) for the delta in the NODE record. A new node's record is written at *pp and
 * committed, and *pp becomes a fresh reservation (NULL when recording stopped).
 * Return: the node id, or 0 when the table cannot grow (the stack is then cut here).
 */
static PS_NOINSTR uint32_t intern(struct ps_thread *t, uint32_t parent, uintptr_t ip, uint32_t fn,
				  uintptr_t pip, uint8_t **pp)
{
	uint32_t key = parent | fn, i = node_hash(key, ip) & t->stk.node_mask, id;
	struct ps_node_slot *s;
	uint8_t *p;

	for (s = &t->stk.nodes[i]; s->ip; s = &t->stk.nodes[i]) {
		if (s->ip == ip && s->parent == key)
			return s->id;
		i = (i + 1) & t->stk.node_mask;
	}
	/* new node: keep the table at most half full (lookups of known nodes probe about 1.5
	 * slots, against 2.5 at 3/4: they are most of the work on programs like sqlite3) */
	if (unlikely((t->stk.nnodes + 1) * 2ULL > (uint64_t)t->stk.node_mask + 1)) {
		if (grow_nodes(t) || t->stk.nnodes + 1 >= KEY_FN)
			return 0;
		for (i = node_hash(key, ip) & t->stk.node_mask; t->stk.nodes[i].ip;)
			i = (i + 1) & t->stk.node_mask;
		s = &t->stk.nodes[i];
	}
	p = *pp;
	p = trace_put_varint(p, TRACE_OP_H(fn ? TRACE_OP_NODE_FN : TRACE_OP_NODE_RA));
	p = trace_put_varint(p, parent);
	p = trace_put_varint(p, trace_zigzag((int64_t)(ip - pip)));
	ps_commit(t, p);
	s->parent = key;
	s->id = id = ++t->stk.nnodes;
	s->ip = ip;
	/* the next record (a NODE, or the caller's ALLOC) gets a whole reservation; it may
	 * write the chunk, and then forget code dlclosed meanwhile, replacing the table */
	*pp = ps_reserve(t, TRACE_MAX_RECORD);
	return id;
}

/*
 * Per shadow-stack depth, the last frame interned there: hooks-cyg.c zeroes a frame's node
 * on every push, so a loop that calls the same 10-deep chain to allocate pushes 10 frames
 * with no node each time; this memo turns each of them into one compare instead of a hash
 * lookup. stack_depth entries, in the scratch mapping.
 */
struct ps_stack_memo {
	uintptr_t fn;
	uint32_t parent;
	uint32_t node;			/* 0 = empty */
};

/*
 * Shadow stack (instrumented programs): shadow[i].node caches the node of the call path
 * shadow[0..i]; hooks-cyg.c zeroes it on push. Walk down from the top to the deepest frame
 * with a cached node and intern the frames above it (memo first): an allocation from a frame
 * that allocated before costs one load. Deeper than stack_depth, the innermost stack_depth
 * frames are interned from their own root each time (their paths differ from the cached
 * ones, so nothing is cached). Return: the node of the top frame's path, 0 = none.
 */
static PS_NOINSTR PS_NOINLINE uint32_t shadow_top(struct ps_thread *t, uint8_t **pp)
{
	uint32_t d = t->calls.depth, max = ps_cfg.stack_depth, i, node = 0;
	struct ps_stack_memo *memo = t->stk.stack_memo;
	struct ps_frame *s = t->calls.shadow;
	uintptr_t pip = 0;

	if (d == 0)
		return 0;
	if (likely(d <= max)) {
		if (likely(s[d - 1].node))
			return s[d - 1].node;
		for (i = d - 1; i > 0 && !s[i - 1].node; i--)
			;
		if (i > 0) {
			node = s[i - 1].node;
			pip = s[i - 1].fn;
		}
		for (; i < d; i++) {
			struct ps_stack_memo *m = &memo[i];

			if (likely(m->fn == s[i].fn && m->parent == node && m->node)) {
				node = m->node;
			} else {
				uint32_t id = intern(t, node, s[i].fn, KEY_FN, pip, pp);

				if (!id || !*pp)
					return 0;
				m->fn = s[i].fn;
				m->parent = node;
				m->node = id;
				node = id;
			}
			s[i].node = node;
			pip = s[i].fn;
		}
		return node;
	}
	for (i = d - max; i < d; i++) {
		node = intern(t, node, s[i].fn, KEY_FN, pip, pp);
		if (!node || !*pp)
			return 0;
		pip = s[i].fn;
	}
	return node;
}

/*
 * The real caller under the shadow stack. The shadow stack holds instrumented functions
 * only, so a block that libc allocates for one of them (stdio's buffer, strdup's copy) would
 * be charged to that function, and the leak suppressions could not see libc's frame. So the
 * return address of the malloc-family call is interned as a NODE_RA child of the top frame's
 * node. When the caller is the top function itself (main calling malloc), that frame says
 * nothing new: the reader drops it (docs/stacks.md has the rule), since telling where a
 * function ends needs symbols or the loader, and a malloc hook may not take the loader lock.
 *
 * A direct-mapped memo per thread, (top node, ra) -> node, makes a loop that allocates from
 * one call site a hash and a compare. Emptied with the node tables (ps_stack_node).
 */
#define RA_MEMO 64

static __thread struct ps_ra_memo {
	uintptr_t ra;
	uint32_t parent;
	uint32_t node;
} ra_memo[RA_MEMO] PS_TLS;

static inline PS_NOINSTR uint32_t shadow_node(struct ps_thread *t, uintptr_t ra, uint8_t **pp)
{
	uint32_t top = shadow_top(t, pp), id;
	struct ps_ra_memo *m;

	if (unlikely(!top))
		return 0;	/* none, or recording stopped (shadow_top checked *pp) */
	/* an empty slot has ra 0, which no call returns to */
	m = &ra_memo[((ra ^ top) * 0x9E3779B97F4A7C15ULL) >> 58];
	if (likely(m->ra == ra && m->parent == top))
		return m->node;
	/* the top frame's entry address is the parent's ip (shadow_top: depth >= 1) */
	id = intern(t, top, ra, 0, t->calls.shadow[t->calls.depth - 1].fn, pp);
	if (!id || !*pp)
		return 0;
	m->ra = ra;
	m->parent = top;
	m->node = id;
	return id;
}

/*
 * The last recorded rule walk of the thread, for reusing it (rule_walk): its frames ra[],
 * and what a reuse must find unchanged. A recorded walk (walk_rules with REC) notes, frame
 * by frame, the CFA fcfa[i] (return address ra[i] at fcfa[i] - 8), the rbp ffp[i] it had
 * there, where that rbp was read from fat[i] (0: not from memory) and how the rule used it
 * (fpass). walk_keep turns these into the check list, after which they are not read again:
 * chk[], 2 * stack_depth slots of 16 bytes: from the front, a slot
 * (address, word) for the return address of each frame past the first whose rbp was not
 * read next to it, and for each other live rbp read from memory; from the back, two slots
 * (address; rbp, return address) for each frame whose saved rbp, live, sits just below its
 * return address (a frame-pointer rule's: the 16 bytes compared at once). The first frame's
 * state is copied to cfa0, ra0, fp0 and live0. Each part holds an even number of entries,
 * padded with one that compares zero with zero (chk_zero), so that the check, two a round,
 * needs no odd one out.
 */
typedef uint64_t ps_v2 __attribute__((vector_size(16)));

union ps_walk_chk {
	struct {
		const uintptr_t *at;
		uintptr_t v;
	} w;
	ps_v2 v2;
};

struct ps_walk {
	uintptr_t *ra;			/* the frames: the last walk's, or the walk being made */
	union ps_walk_chk *chk;		/* CHK_SLOTS(stack_depth) slots, 16-byte aligned */
	const union ps_walk_chk *chk_end; /* end of the word slots, an even number of them */
	const union ps_walk_chk *pair_lo; /* the first window, an even number up to chk + nslots */
	uint32_t nslots;
	uint32_t live0;			/* the first frame's rbp is live */
	uintptr_t cfa0, ra0, fp0;	/* the first frame of the last walk */
	uintptr_t *fcfa, *ffp, *fat;	/* the walk being recorded (above) */
	uint32_t *fpass;		/* 0: rbp read or unused, 1: passed on, 2: used (not a
					 * byte: a char store would alias every pointer here);
					 * walk_keep turns it into 1: live, 0: not */
	uint32_t n;			/* frames of the last walk, 0 = none */
	uint32_t node;			/* its stack node once interned, 0 = not known */
	uint32_t gen;			/* rules_gen it was made under */
	uint32_t same;			/* the last walk gave the stack before it again */
	uintptr_t first_cfa, first_ra;	/* the first frame of the walk before */
	uintptr_t hi;			/* t->stk.unw_stack_hi it was made under */
	uintptr_t min_at;		/* the lowest address a rule read a saved rbp from */
};

static __thread struct ps_walk walk PS_TLS;

/*
 * The thread's scratch: stack_memo[stack_depth], unw_buf[stack_depth + SKIP_MAX],
 * last_nodes[stack_depth], and the walk's arrays (4 of stack_depth words and fpass)
 * and the check list (CHK_SLOTS of 16 bytes). Up to the default depth it lives in TLS,
 * gone with the thread; a larger PERFSHIM_STACK_DEPTH maps it on the thread's first stack
 * and ps_stack_thread_free() unmaps it. The TLS part is part of the library's static TLS,
 * which glibc takes from every thread's stack (a thread stack must hold static TLS and
 * 2 KiB more: tests/run/29-threads-small-stack.sh creates PTHREAD_STACK_MIN ones).
 */
#define TLS_DEPTH 64
#define WALK_WORDS 4
/* the check list's slots (walk_keep): at most two a frame past the first, and the padding */
#define CHK_SLOTS(d) (2 * (size_t)(d) + 2)

static __thread struct {
	struct ps_stack_memo memo[TLS_DEPTH];
	void *unw[TLS_DEPTH + SKIP_MAX];
	uintptr_t walk[WALK_WORDS][TLS_DEPTH];
	union ps_walk_chk chk[CHK_SLOTS(TLS_DEPTH)];
	uint32_t nodes[TLS_DEPTH];
	uint32_t pass[TLS_DEPTH];
} tls_scratch PS_TLS;

static PS_NOINSTR size_t scratch_size(void)
{
	size_t d = ps_cfg.stack_depth;

	return CHK_SLOTS(d) * sizeof(union ps_walk_chk) + d * sizeof(struct ps_stack_memo) +
	       (d + SKIP_MAX) * sizeof(void *) + WALK_WORDS * d * sizeof(uintptr_t) +
	       2 * d * sizeof(uint32_t);
}

static PS_NOINSTR PS_NOINLINE int scratch_setup(struct ps_thread *t)
{
	size_t d = ps_cfg.stack_depth;
	union ps_walk_chk *chk;
	uint32_t *pass;
	uintptr_t *w;
	void *m;

	if (d <= TLS_DEPTH) {
		chk = tls_scratch.chk;
		t->stk.stack_memo = tls_scratch.memo;
		t->stk.unw_buf = tls_scratch.unw;
		t->stk.last_nodes = tls_scratch.nodes;
		w = tls_scratch.walk[0];
		pass = tls_scratch.pass;
		d = TLS_DEPTH;
	} else {
		int saved = errno;

		m = mmap(NULL, scratch_size(), PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		errno = saved;
		if (m == MAP_FAILED)
			return -1;
		chk = m;	/* first: 16-byte aligned */
		t->stk.stack_memo = (struct ps_stack_memo *)(chk + CHK_SLOTS(d));
		t->stk.unw_buf = (void **)(t->stk.stack_memo + d);
		w = (uintptr_t *)(t->stk.unw_buf + d + SKIP_MAX);
		t->stk.last_nodes = (uint32_t *)(w + WALK_WORDS * d);
		pass = t->stk.last_nodes + d;
	}
	walk.ra = w;
	walk.fcfa = w + d;
	walk.ffp = w + 2 * d;
	walk.fat = w + 3 * d;
	walk.chk = chk;
	walk.nslots = (uint32_t)CHK_SLOTS(d);
	walk.fpass = pass;
	walk.n = 0;
	walk.node = 0;
	return 0;
}

/*
 * ps_stack_thread_free - release the stack scratch of a thread whose tables are being
 * unmapped (tbuf.c, thread finish). A no-op for the TLS scratch.
 */
PS_NOINSTR void ps_stack_thread_free(struct ps_thread *t)
{
	/* by the depth, not the address: @t may be another thread (its TLS is not ours) */
	if (t->stk.stack_memo && ps_cfg.stack_depth > TLS_DEPTH)
		munmap((union ps_walk_chk *)t->stk.stack_memo - CHK_SLOTS(ps_cfg.stack_depth),
		       scratch_size());
	t->stk.stack_memo = NULL;
	t->stk.unw_buf = NULL;
	t->stk.last_nodes = NULL;
}

/*
 * Intern an unwound stack f[0..n) (innermost first) that differs from the cached one. The
 * outer frames it shares with the cached stack keep their nodes (last_nodes); the rest are
 * interned outermost first. Shim frames deeper in the stack (a signal handler that allocated
 * while a hook was on the stack) are skipped: they take their parent's node.
 */
static PS_NOINSTR PS_NOINLINE uint32_t intern_unwound(struct ps_thread *t, const uintptr_t *f,
						      uint32_t n, uint8_t **pp)
{
	uint32_t len = t->stk.last_stack_len, k = 0, node = 0;
	uintptr_t *last = t->stk.last_stack, pip = 0;
	uint32_t *nodes = t->stk.last_nodes;
	int64_t i;

	while (k < n && k < len && f[n - 1 - k] == last[len - 1 - k])
		k++;
	/* the shared outer part moves from index len-k.. to n-k.. */
	if (k && n != len)
		memmove(nodes + n - k, nodes + len - k, k * sizeof(*nodes));
	if (k) {
		node = nodes[n - k];
		for (i = n - k; i < n && in_shim(f[i]); i++)
			;
		pip = i < n ? f[i] : 0;
	}
	for (i = (int64_t)n - 1 - k; i >= 0; i--) {
		if (!in_shim(f[i])) {
			uint32_t id = intern(t, node, f[i], 0, pip, pp);

			if (!id || !*pp) {
				t->stk.last_stack_len = 0;	/* cache and nodes[] now partial */
				return 0;
			}
			node = id;
			pip = f[i];
		}
		nodes[i] = node;
	}
	memcpy(last, f, n * sizeof(*f));
	t->stk.last_stack_len = n;
	t->stk.last_stack_node = node;
	return node;
}

/*
 * Learned unwind rules. unw_backtrace's cost (docs/measurements.md) is mostly
 * libunwind looking up each frame's DWARF-derived rule in its cache. The same rules, learned
 * from libunwind itself, are kept in one table keyed by return address, and a plain loop
 * applies them (a third of libunwind's instructions per frame: docs/measurements.md). A rule says how to find the caller of the function
 * a return address is in, at that address:
 *   FP   CFA = rbp + 16, caller's rbp saved at CFA - 16 (a frame-pointer frame);
 *   RSP  CFA = rsp + cfa_off, caller's rbp saved at CFA - rbp_off, or unchanged (0);
 *   LAST the outermost frame (libunwind's step ended there);
 * with the return address at CFA - 8 and the caller's rsp = CFA. A return address with no
 * rule (not seen yet, a signal frame, anything else) sends the whole stack to libunwind,
 * which also learns the rules of its frames. Reads stay inside [current sp, the highest
 * stack address a libunwind walk of this thread reached), and every 1024th walk of a thread
 * is checked against libunwind: a difference turns the fast walk off for the process.
 * Known limit: a rule is keyed by address, so code replaced at the same address after a
 * dlclose keeps stale rules until a check fails. docs/stacks.md has the measurements.
 */
enum { RULE_EMPTY, RULE_FP, RULE_RSP, RULE_LAST, RULE_BAD };

struct ps_unw_rule {
	uintptr_t ip;			/* return address, 0 = empty slot */
	int32_t cfa_off;		/* RSP: CFA - rsp, bytes */
	uint16_t rbp_off;		/* RSP: caller's rbp at CFA - rbp_off; 0 = unchanged */
	uint8_t kind;			/* RULE_* */
	uint8_t pad;
};

/*
 * One table for the process (rules are properties of the code, not of a thread): readers
 * take no lock (a slot's fields are written before its ip is published); learning inserts
 * under a try-lock and simply skips a rule when another thread holds it (so a fork child
 * that inherits the lock held can never wait on it). Full at 3/4: no more learning.
 */
#define RULE_SLOTS 16384		/* 256 KiB of .bss, touched as it fills */
#ifndef CHECK_EVERY
#define CHECK_EVERY 1024		/* -DCHECK_EVERY=1: every walk checked (testing) */
#endif

static struct ps_unw_rule rules[RULE_SLOTS];
static uint32_t nrules;
static int rules_lock;
static uint32_t rules_gen;		/* bumped when rules are forgotten or the rule walk goes off */
#ifdef PS_NO_FAST_UNWIND
static int fast_off = 1;		/* a build that compares against libunwind alone */
#else
static int fast_off;			/* a check failed: libunwind only, every thread */
#endif

static inline PS_NOINSTR uint32_t rule_hash(uintptr_t ip)
{
	return (uint32_t)((ip * 0x9E3779B97F4A7C15ULL) >> 50);
}

static inline PS_NOINSTR const struct ps_unw_rule *rule_find(uintptr_t ip)
{
	uint32_t i = rule_hash(ip);
	const struct ps_unw_rule *r;
	uintptr_t k;

	for (r = &rules[i]; (k = __atomic_load_n(&r->ip, __ATOMIC_ACQUIRE)); r = &rules[i]) {
		if (k == ip)
			return r;
		i = (i + 1) & (RULE_SLOTS - 1);
	}
	return NULL;
}

static PS_NOINSTR void rule_add(uintptr_t ip, unsigned kind, int64_t cfa_off, int64_t rbp_off)
{
	uint32_t i = rule_hash(ip);
	struct ps_unw_rule *r;

	if (__atomic_load_n(&nrules, __ATOMIC_RELAXED) >= RULE_SLOTS / 4 * 3 ||
	    __atomic_exchange_n(&rules_lock, 1, __ATOMIC_ACQUIRE))
		return;
	for (r = &rules[i]; r->ip; r = &rules[i]) {
		if (r->ip == ip)
			goto out;	/* first observation wins */
		i = (i + 1) & (RULE_SLOTS - 1);
	}
	if (kind == RULE_RSP && (cfa_off <= 0 || cfa_off > (1 << 20) || rbp_off < 0 ||
				 rbp_off > 0xffff))
		kind = RULE_BAD;
	r->cfa_off = kind == RULE_RSP ? (int32_t)cfa_off : 0;
	r->rbp_off = kind == RULE_RSP ? (uint16_t)rbp_off : 0;
	r->kind = (uint8_t)kind;
	__atomic_store_n(&r->ip, ip, __ATOMIC_RELEASE);
	nrules++;
out:
	__atomic_store_n(&rules_lock, 0, __ATOMIC_RELEASE);
}

/*
 * ps_stack_unwinder_start - make libunwind set itself up now, in the constructor: its
 * set-up opens a pipe (it validates memory through it), and init.c arranges for that pipe
 * to land at the top of the descriptor range, out of the program's way.
 */
PS_NOINSTR void ps_stack_unwinder_start(void)
{
	unw_context_t uc;
	unw_cursor_t c;

	ps_guard_take(&ps_self, PS_GUARD_INTERNAL);
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	if (unw_getcontext(&uc) == 0)
		unw_init_local(&c, &uc);
	ps_guard_drop(&ps_self, PS_GUARD_INTERNAL);
}

/*
 * ps_stack_code_gone - code in [lo, hi) was unmapped (dlclose): its learned rules no longer
 * describe what may be mapped there next. They become RULE_BAD, which sends walks through
 * that range to libunwind (slower, never wrong); slots are not emptied, so probe chains of
 * lock-free readers stay intact.
 */
PS_NOINSTR void ps_stack_code_gone(uintptr_t lo, uintptr_t hi)
{
	uint32_t i;

	while (__atomic_exchange_n(&rules_lock, 1, __ATOMIC_ACQUIRE))
		;
	for (i = 0; i < RULE_SLOTS; i++) {
		uintptr_t ip = __atomic_load_n(&rules[i].ip, __ATOMIC_RELAXED);

		if (ip >= lo && ip < hi)
			__atomic_store_n(&rules[i].kind, (uint8_t)RULE_BAD, __ATOMIC_RELAXED);
	}
	/* the threads' last walks went through rules that may be gone: walk afresh */
	__atomic_add_fetch(&rules_gen, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&rules_lock, 0, __ATOMIC_RELEASE);
}

/*
 * ps_stack_forget - code in @r[0..n) was unloaded (ids.c, on the thread itself): its nodes
 * are dropped from @t's table (all of them when @r is NULL), so that code mapped there next
 * gets NODE records of its own; their descendants are never reached again (no lookup starts
 * from a dropped node). Dropped slots become tombstones, in place (see ids.c: no mapping may
 * take the range just freed). The caches of nodes go too: the shadow frames', and the memos,
 * which ps_stack_node empties at its next call (nodes_seen says the table changed).
 */
PS_NOINSTR void ps_stack_forget(struct ps_thread *t, const struct ps_code_range *r, uint32_t n)
{
	size_t slots = (size_t)t->stk.node_mask + 1, i;
	struct ps_node_slot *tab = t->stk.nodes;
	uint32_t k;

	if (!tab)
		return;
	for (i = 0; i < slots; i++) {
		/* a return address belongs to the call before it */
		uintptr_t a = tab[i].parent & KEY_FN ? tab[i].ip : tab[i].ip - 1;

		if (!tab[i].ip || tab[i].ip == PS_NODE_GONE)
			continue;
		for (k = 0; r && k < n && a - r[k].lo >= r[k].hi - r[k].lo; k++)
			;
		if (!r || k < n)
			tab[i].ip = PS_NODE_GONE;
	}
	for (k = 0; k < t->calls.depth; k++)
		t->calls.shadow[k].node = 0;
	t->stk.last_stack_len = 0;
	t->stk.last_stack_node = 0;
	walk.node = 0;
	t->stk.nodes_seen = UINT32_MAX;
}

/*
 * ps_stack_drop_memos - the calling thread's memos and last walk (TLS) no longer describe @t,
 * its state: cost.c ran the hooks on a private state in this thread's TLS, whose stacks they
 * now hold. Dropped: the next stack walks in full and empties the memos (nodes_seen).
 */
PS_NOINSTR void ps_stack_drop_memos(struct ps_thread *t)
{
	walk.n = 0;
	walk.node = 0;
	t->stk.last_stack_len = 0;
	t->stk.last_stack_node = 0;
	t->stk.nodes_seen = UINT32_MAX;
}

/* ps_stack_fork_child - the child is single-threaded: a lock held at fork is nobody's. */
PS_NOINSTR void ps_stack_fork_child(void)
{
	rules_lock = 0;
}

static inline PS_NOINSTR int same_loc(const unw_save_loc_t *a, const unw_save_loc_t *b)
{
	if (a->type != b->type)
		return 0;
	if (a->type == UNW_SLT_MEMORY)
		return a->u.addr == b->u.addr;
	if (a->type == UNW_SLT_REG)
		return a->u.regnum == b->u.regnum;
	return 1;
}

/*
 * The slow path: a libunwind walk with unw_step, which also gives each frame's rsp, rbp and
 * where the caller's rbp was saved, from which the rule of every frame is derived. Fills
 * out[] like unw_backtrace (return addresses, the shim's frames included). Return: frames.
 */
static PS_NOINSTR PS_NOINLINE int learn_walk(struct ps_thread *t, uintptr_t *out, int max)
{
	unw_word_t ip, sp, rbp, pip = 0, psp = 0, prbp = 0;
	unw_save_loc_t loc, ploc;
	unw_context_t uc;
	unw_cursor_t c;
	int n = 0, r, sig = 0, psig = 0;

	memset(&ploc, 0, sizeof(ploc));
	if (unw_getcontext(&uc) < 0 || unw_init_local(&c, &uc) < 0)
		return 0;
	for (;;) {
		if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 || unw_get_reg(&c, UNW_REG_SP, &sp) < 0)
			break;
		/* no rbp or no save location: that frame's rule stays unknown (libunwind) */
		if (unw_get_reg(&c, UNW_X86_64_RBP, &rbp) < 0 ||
		    unw_get_save_loc(&c, UNW_X86_64_RBP, &loc) < 0)
			loc.type = UNW_SLT_NONE, rbp = 0, sig = 1;
		else
			sig = unw_is_signal_frame(&c) > 0;
		if (n > 0 && !in_shim(pip)) {
			/* the previous frame's rule: its CFA is this frame's sp */
			if (psig || sig)
				rule_add(pip, RULE_BAD, 0, 0);
			else if (prbp + 16 == sp && loc.type == UNW_SLT_MEMORY &&
				 loc.u.addr == sp - 16)
				rule_add(pip, RULE_FP, 0, 0);
			else if (same_loc(&loc, &ploc) && rbp == prbp)
				rule_add(pip, RULE_RSP, (int64_t)(sp - psp), 0);
			else if (loc.type == UNW_SLT_MEMORY && loc.u.addr < sp)
				rule_add(pip, RULE_RSP, (int64_t)(sp - psp),
					 (int64_t)(sp - loc.u.addr));
			else
				rule_add(pip, RULE_BAD, 0, 0);
		}
		if (n < max)
			out[n++] = ip;
		else
			break;
		if (sp > t->stk.unw_stack_hi)
			t->stk.unw_stack_hi = sp;
		pip = ip;
		psp = sp;
		prbp = rbp;
		ploc = loc;
		psig = sig;
		r = unw_step(&c);
		if (r <= 0) {
			if (r == 0 && !in_shim(ip) && !sig)
				rule_add(ip, RULE_LAST, 0, 0);
			break;
		}
	}
	return n;
}

/*
 * walk_holds - the memory the last walk read further out than its first frame still holds
 * what it read then: every entry of the check list (walk_keep). No early exit: the
 * differences are or'ed, two entries a round.
 */
static inline PS_NOINSTR int walk_holds(const struct ps_walk *w)
{
	const union ps_walk_chk *c = w->chk, *end = w->chk_end, *top = w->chk + w->nslots;
	uintptr_t diff = 0;
	ps_v2 d2 = { 0, 0 }, x, y;

	for (; c < end; c += 2)
		diff |= (*c[0].w.at ^ c[0].w.v) | (*c[1].w.at ^ c[1].w.v);
	for (c = w->pair_lo; c < top; c += 4) {
		memcpy(&x, c[0].w.at, sizeof(x));
		memcpy(&y, c[2].w.at, sizeof(y));
		d2 |= (x ^ c[1].v2) | (y ^ c[3].v2);
	}
	return (diff | d2[0] | d2[1]) == 0;
}

/* what the check list's padding reads: 16 bytes of zeros */
static const uintptr_t chk_zero[2] __attribute__((aligned(16)));

/*
 * A recorded fresh walk of @m frames becomes the last walk: which rbp values a later step
 * uses (live: a frame-pointer rule, or a rule that passes rbp on to one, into fpass), and
 * the check list from its CFAs, rbp values and where the live ones were read. Once built,
 * only it and the first frame's state are read: fcfa, ffp and fat are scratch again.
 */
static PS_NOINSTR PS_NOINLINE void walk_keep(struct ps_walk *w, uint32_t m)
{
	union ps_walk_chk *c = w->chk, *top = w->chk + w->nslots;
	const uintptr_t *ra = w->ra, *fcfa = w->fcfa, *ffp = w->ffp, *fat = w->fat;
	uint32_t *live = w->fpass, l = 0;
	int64_t i;

	for (i = (int64_t)m - 1; i >= 0; i--) {
		l = live[i] == 2 || (live[i] == 1 && l);
		live[i] = l;
	}
	for (i = 1; i < (int64_t)m; i++) {
		const uintptr_t *ra_at = (const uintptr_t *)fcfa[i] - 1;
		uintptr_t at = live[i] ? fat[i] : 0;

		if (at == (uintptr_t)(ra_at - 1)) {
			top -= 2;
			top[0].w.at = ra_at - 1;
			top[1].v2 = (ps_v2){ ffp[i], ra[i] };
			continue;
		}
		c->w.at = ra_at;
		c->w.v = ra[i];
		c++;
		if (at) {
			c->w.at = (const uintptr_t *)at;
			c->w.v = ffp[i];
			c++;
		}
	}
	/* the padding: fits, as CHK_SLOTS counts it */
	if ((c - w->chk) & 1) {
		c->w.at = chk_zero;
		c->w.v = 0;
		c++;
	}
	if ((w->chk + w->nslots - top) & 2) {
		top -= 2;
		top[0].w.at = chk_zero;
		top[1].v2 = (ps_v2){ 0, 0 };
	}
	w->chk_end = c;
	w->pair_lo = top;
	w->cfa0 = fcfa[0];
	w->ra0 = ra[0];
	w->fp0 = ffp[0];
	w->live0 = live[0];
	w->n = m;
}

/*
 * The rule walk proper, from the caller's frame (@ra at @rsp, rbp @fp): frames into
 * walk.ra[], and with @REC (a constant: two specialized loops, the plain one as lean as a
 * walk without reuse) each frame's CFA, rbp, where that rbp was read and how the rule used
 * it. *@min_at: the lowest address a saved rbp was read from. Return: frames, or -1.
 */
static inline __attribute__((always_inline)) PS_NOINSTR int
walk_rules(struct ps_walk *w, uintptr_t ra, uintptr_t rsp, uintptr_t fp, uintptr_t lo,
	   uintptr_t hi, uint32_t max, uintptr_t *min_atp, const int REC)
{
	uintptr_t *fra = w->ra, *fcfa = w->fcfa, *ffp = w->ffp, *fat = w->fat;
	uintptr_t cfa, nrbp, at = 0, min_at = UINTPTR_MAX;
	uint32_t *fpass = w->fpass, m = 0;
	const struct ps_unw_rule *r;
	int got;

	for (;;) {
		fra[m] = ra;
		if (REC) {
			fcfa[m] = rsp;
			ffp[m] = fp;
			fat[m] = at;
		}
		if (++m == max) {
			if (REC)
				fpass[m - 1] = 0;	/* the depth cap: no rule applied */
			got = (int)m;
			break;
		}
		r = rule_find(ra);
		if (!r)
			return -1;
		switch (r->kind) {
		case RULE_FP:
			cfa = fp + 16;
			if (cfa <= rsp || cfa > hi || (fp & 7))
				return -1;
			at = cfa - 16;
			nrbp = *(const uintptr_t *)at;
			if (REC)
				fpass[m - 1] = 2;
			break;
		case RULE_RSP:
			cfa = rsp + (uintptr_t)r->cfa_off;
			if (cfa > hi)
				return -1;
			if (r->rbp_off) {
				at = cfa - r->rbp_off;
				if (at < lo)
					return -1;
				if (at < min_at)
					min_at = at;
				nrbp = *(const uintptr_t *)at;
				if (REC)
					fpass[m - 1] = 0;
			} else {
				at = 0;
				nrbp = fp;
				if (REC)
					fpass[m - 1] = 1;
			}
			break;
		case RULE_LAST:
			if (REC)
				fpass[m - 1] = 0;
			got = (int)m;
			goto out;
		default:
			return -1;
		}
		ra = ((const uintptr_t *)cfa)[-1];
		rsp = cfa;
		fp = nrbp;
	}
out:
	*min_atp = min_at;
	return got;
}

/*
 * The fast path: frames from the caller of malloc outwards by the learned rules, at most
 * stack_depth, into walk.ra[], under rules generation @gen (unwind_frames). Inlined into
 * ps_stack_node. Starts from @hook_fp, the frame of the hook that records (hooks-malloc.c
 * passes its own; 0: the frame of the function this is in), and follows the shim's frame
 * pointers (the shim is built with them) to the first return address outside it, then
 * applies the rules frame by frame (walk_fresh).
 *
 * Incremental: when the caller's frame is in the state of the last walk's first frame (same
 * CFA, return address, and rbp if a later step uses it) and every value the last walk read
 * further out is still there (walk_holds), the rules would read the same values again and
 * give the same frames: the last walk is the answer (walk.same), one compare per frame and
 * no rule lookup. A walk is recorded for that (its CFAs, rbp values and where they were
 * read) only when its first frame repeats the previous walk's, so a program whose stacks
 * change at every allocation pays for no bookkeeping. Reusing a partly matching walk from
 * the frame where the two meet was measured too: on sqlite3 the bookkeeping cost more than
 * the rule lookups it saved (docs/stacks.md).
 * Return: frames, or -1 when a rule is missing (use learn_walk).
 */
static PS_NOINSTR PS_NOINLINE int walk_fresh(struct ps_walk *w, uintptr_t ra, uintptr_t rsp,
					      uintptr_t fp, uintptr_t lo, uintptr_t hi, uint32_t gen);

/*
 * past_shim - from @fp, a frame of the shim's own (frame pointers kept), the first frame
 * whose return address is outside the shim: its frame address, with its return address in
 * *@ra and its saved rbp in *@rbp; 0 when the chain leaves the frame pointers' shape (an
 * rbp that does not go outwards, or is not aligned) or is over SKIP_MAX frames long.
 */
static inline __attribute__((always_inline)) PS_NOINSTR uintptr_t
past_shim(uintptr_t fp, uintptr_t *ra, uintptr_t *rbp)
{
	for (uint32_t i = 0;; i++) {
		*ra = ((const uintptr_t *)fp)[1];
		*rbp = ((const uintptr_t *)fp)[0];
		if (!in_shim(*ra))
			return fp;
		if (i >= SKIP_MAX || *rbp <= fp || (*rbp & 7))
			return 0;
		fp = *rbp;
	}
}

static inline __attribute__((always_inline)) PS_NOINSTR int
rule_walk(const struct ps_thread *t, uintptr_t hook_fp, uint32_t gen)
{
	uintptr_t fp = hook_fp ? hook_fp : (uintptr_t)__builtin_frame_address(0), lo = fp;
	uintptr_t hi = t->stk.unw_stack_hi, ra, cfa, rsp, nrbp;
	struct ps_walk *w = &walk;

	/* the shim's own frames: each saved rbp is the next frame's, further out */
	fp = past_shim(fp, &ra, &nrbp);
	if (!fp)
		return -1;
	cfa = fp + 16;
	if (cfa > hi)
		return -1;
	fp = nrbp;
	rsp = cfa;
	w->same = 0;
	if (w->n && w->cfa0 == rsp && w->ra0 == ra && (!w->live0 || w->fp0 == fp) &&
	    w->gen == gen && w->hi <= hi && w->min_at >= lo && walk_holds(w)) {
		w->same = 1;
		return (int)w->n;
	}
	return walk_fresh(w, ra, rsp, fp, lo, hi, gen);
}

/*
 * rule_walk's walk by the rules, from the caller's frame (@ra at @rsp, rbp @fp). A kept
 * walk carries @gen, the generation loaded before fast_off was tested: a bump after that
 * (the rule walk turned off, or rules forgotten while this walk may have used them) makes
 * it stale for rule_walk and ps_stack_reuse.
 */
static PS_NOINSTR PS_NOINLINE int walk_fresh(struct ps_walk *w, uintptr_t ra, uintptr_t rsp,
					      uintptr_t fp, uintptr_t lo, uintptr_t hi, uint32_t gen)
{
	uint32_t max = ps_cfg.stack_depth;
	uintptr_t min_at;
	int rec, m;

	/* record this walk when the last one started at the same frame */
	rec = w->first_cfa == rsp && w->first_ra == ra;
	w->first_cfa = rsp;
	w->first_ra = ra;
	w->node = 0;
	/* the walk goes into ra[], over the last walk's: that one is gone from here on (a
	 * signal handler's allocation in between must not reuse it) */
	w->n = 0;
	if (!rec)	/* the frames only: no later walk reuses them */
		return walk_rules(w, ra, rsp, fp, lo, hi, max, &min_at, 0);
	m = walk_rules(w, ra, rsp, fp, lo, hi, max, &min_at, 1);
	if (m < 0)
		return -1;
	walk_keep(w, (uint32_t)m);
	w->gen = gen;
	w->hi = hi;
	w->min_at = min_at;
	return m;
}

/*
 * The unwound stack, shim frames dropped, at most stack_depth frames: the rule walk's
 * (walk.ra, *walked set), or libunwind's in t->stk.unw_buf. Every CHECK_EVERY-th stack of a
 * thread is taken by both and compared: a difference turns the rule walk off for the whole
 * process. Return: frames, *fp the first one.
 */
static PS_NOINSTR PS_NOINLINE uint32_t libunwind_frames(struct ps_thread *t, int fast, int check,
						       const uintptr_t **fp, int *walked);

static inline __attribute__((always_inline)) PS_NOINSTR uint32_t
unwind_frames(struct ps_thread *t, uintptr_t hook_fp, const uintptr_t **fp, int *walked)
{
	/*
	 * The generation first, then fast_off: a bump is a release after fast_off = 1 or the
	 * rules' removal (libunwind_frames, ps_stack_code_gone), so a walk that sees the new
	 * generation sees them too, and one made before carries the old one (walk_fresh).
	 */
	uint32_t gen = __atomic_load_n(&rules_gen, __ATOMIC_ACQUIRE);
	int fast = -1, check = 0;

	if (likely(!fast_off)) {
		check = !(t->stk.unw_walks++ & (CHECK_EVERY - 1));
		fast = rule_walk(t, hook_fp, gen);
		if (likely(fast > 0 && !check)) {
			*fp = walk.ra;
			*walked = 1;
			return (uint32_t)fast;
		}
	}
	return libunwind_frames(t, fast, check, fp, walked);
}

/*
 * unwind_frames' libunwind part: a learning walk while rules are missing (@fast < 0) and the
 * table has room, else unw_backtrace (the check of a rule walk @fast > 0 has nothing to
 * learn, and unw_backtrace's own cache makes it several times cheaper than stepping). The
 * guard is raised around libunwind so that its own allocations (first use of a cache) are
 * not counted as the program's lost events; errno is kept (libunwind's validation of
 * addresses makes system calls).
 */
static PS_NOINSTR PS_NOINLINE uint32_t libunwind_frames(struct ps_thread *t, int fast, int check,
						       const uintptr_t **fp, int *walked)
{
	uint32_t max = ps_cfg.stack_depth, skip = 0, i, n;
	uintptr_t *f = (uintptr_t *)t->stk.unw_buf;
	int got, saved = errno;

	ps_guard_take(t, PS_GUARD_INTERNAL);
	/* learning walks step frame by frame (slower than unw_backtrace): only while useful */
	if (likely(!fast_off) && fast < 0 &&
	    __atomic_load_n(&nrules, __ATOMIC_RELAXED) < RULE_SLOTS / 4 * 3)
		got = learn_walk(t, f, (int)(max + SKIP_MAX));
	else
		got = unw_backtrace(t->stk.unw_buf, (int)(max + SKIP_MAX));
	ps_guard_drop(t, PS_GUARD_INTERNAL);
	walk.same = 0;
	*walked = 0;
	if (got <= 0) {
		errno = saved;
		return 0;
	}
	for (i = 0; i < (uint32_t)got && i < SKIP_MAX; i++)
		if (in_shim(f[i]))
			skip = i + 1;
	/* more than SKIP_MAX of them (cost.c's measurement, inside a call hook): all of them,
	 * as rule_walk, which follows the shim's frame pointers out, leaves them all out */
	if (skip == SKIP_MAX)
		while (skip < (uint32_t)got && in_shim(f[skip]))
			skip++;
	n = (uint32_t)got - skip;
	if (n > max)
		n = max;
	if (unlikely(check) && fast > 0 &&
	    ((uint32_t)fast != n || memcmp(walk.ra, f + skip, n * sizeof(*f)))) {
		fast_off = 1;
		/* every thread's last walk goes too (ps_stack_reuse tests the generation) */
		__atomic_add_fetch(&rules_gen, 1, __ATOMIC_RELEASE);
		walk.n = 0;
		walk.node = 0;
		ps_dbg(1, "stack: learned unwind rules disagree with libunwind: libunwind only");
	}
	*fp = f + skip;
	errno = saved;
	return n;
}

/*
 * libunwind stacks: the frames (above); the stack of the last rule walk again (a loop
 * allocating from one place) costs nothing more, the same stack as last time a compare;
 * otherwise only the frames not shared with the last stack are looked up.
 */
static PS_NOINSTR PS_NOINLINE uint32_t unwound_node(struct ps_thread *t, const uintptr_t *f,
						    uint32_t n, int walked, uint8_t **pp)
{
	uint32_t node;

	if (n == t->stk.last_stack_len && t->stk.last_stack_node &&
	    !memcmp(f, t->stk.last_stack, n * sizeof(*f)))
		node = t->stk.last_stack_node;
	else
		node = intern_unwound(t, f, n, pp);
	/* a node only for a kept walk (walk.n): ps_stack_reuse tests the node alone */
	if (walked && walk.n)
		walk.node = node;
	return node;
}

static inline __attribute__((always_inline)) PS_NOINSTR uint32_t
unwind_node(struct ps_thread *t, uintptr_t hook_fp, uint8_t **pp)
{
	const uintptr_t *f;
	uint32_t n;
	int walked;

	n = unwind_frames(t, hook_fp, &f, &walked);
	if (n == 0)
		return 0;
	if (likely(walked && walk.same && walk.node))
		return walk.node;
	return unwound_node(t, f, n, walked, pp);
}

/*
 * ps_stack_reuse - the node of the allocation being recorded when the thread's last rule
 * walk is reused as it stands and its node is known (a loop allocating from one place), or
 * 0: then ps_stack_node decides, and finds the same answer where this one gives up. A node
 * is known only for a kept walk (unwound_node), and a libunwind check that turns the rule
 * walk off bumps rules_gen, so the node and the generation tell those two. The
 * hooks call this first when the unwinder is the source (hooks-malloc.c rec_node): a small
 * function, so that the reuse costs no more than the shim frame to leave, the first frame's
 * state and the check list (rule_walk has the argument). Gives up, for ps_stack_node, at
 * the CHECK_EVERY-th walk (the libunwind check, counted there), when the rule walk is off,
 * and when the tables changed since the last stack (nodes_seen: the memos' reset is
 * ps_stack_node's). Nothing here defines a node, so ps_stack_node's nodes_seen stays right.
 */
PS_NOINSTR uint32_t ps_stack_reuse(struct ps_thread *t, uintptr_t hook_fp)
{
	const struct ps_walk *w = &walk;
	uintptr_t fp = hook_fp, ra, nrbp, rsp, hi = t->stk.unw_stack_hi;
	uint32_t walks = t->stk.unw_walks;

	if (unlikely(!w->node || !(walks & (CHECK_EVERY - 1)) ||
		     t->stk.nnodes < t->stk.nodes_seen))
		return 0;
	/* the shim's own frames, as rule_walk follows them */
	fp = past_shim(fp, &ra, &nrbp);
	if (!fp)
		return 0;
	/* rsp <= hi follows: the kept walk's first CFA was at most its hi, at most hi */
	rsp = fp + 16;
	if (w->cfa0 != rsp || w->ra0 != ra || (w->live0 && w->fp0 != nrbp) ||
	    w->gen != __atomic_load_n(&rules_gen, __ATOMIC_RELAXED) || w->hi > hi ||
	    w->min_at < hook_fp || !walk_holds(w))
		return 0;
	t->stk.unw_walks = walks + 1;
	return w->node;
}

/*
 * The first stack of the thread, or its tables were emptied (fork child: only this file
 * defines nodes, so fewer than last time means a reset) or lost the nodes of unloaded code
 * (ps_stack_forget): drop the memos. Return: 0, or -1 without scratch (no stack then).
 */
static PS_NOINSTR PS_NOINLINE int stack_reset(struct ps_thread *t)
{
	if (!t->stk.stack_memo && scratch_setup(t))
		return -1;
	memset(t->stk.stack_memo, 0, ps_cfg.stack_depth * sizeof(*t->stk.stack_memo));
	memset(ra_memo, 0, sizeof(ra_memo));
	t->stk.last_stack_len = 0;
	walk.node = 0;
	t->stk.nodes_seen = 0;
	return 0;
}

/*
 * ps_stack_node - the innermost stack node of the allocation being recorded.
 * @t: the calling thread, guard held
 * @ra: the return address of the malloc-family call (the exported hook's own); the shadow
 *      stack's innermost frame (shadow_node), unused by the unwinder (which finds it)
 * @hook_fp: the frame of the hook that records (its __builtin_frame_address(0)), where the
 *      unwinder starts following the shim's frames out; 0: from here
 * @pp: on entry, a cursor from ps_reserve(t, TRACE_MAX_RECORD) at which nothing has been
 *      written yet (== t->rec.pos). NODE records for frames not seen before are written there,
 *      outermost first, each committed at once (they may be more than one reservation
 *      holds, and may span a chunk flush). On return *pp is again a fresh cursor with
 *      TRACE_MAX_RECORD bytes of room for the caller's ALLOC/REALLOC record, or NULL when
 *      recording stopped meanwhile (the caller then drops its record).
 *
 * The source is ps_cfg.stack_source: the shadow stack kept by hooks-cyg.c (auto: when the
 * thread has instrumented frames open), else libunwind.
 * Not called at stack_depth 0 (the hooks test it first).
 * Return: the node id, 0 for "no stack" (nothing to record, or no memory).
 */
PS_NOINSTR uint32_t ps_stack_node(struct ps_thread *t, uintptr_t ra, uintptr_t hook_fp,
				  uint8_t **pp)
{
	int src = ps_cfg.stack_source;
	uint32_t node;

	if (unlikely(!t->stk.stack_memo || t->stk.nnodes < t->stk.nodes_seen) && stack_reset(t))
		return 0;
	if (src == PS_STACK_SHADOW || (src == PS_STACK_AUTO && t->calls.depth))
		node = shadow_node(t, ra, pp);
	else
		node = unwind_node(t, hook_fp, pp);
	/* a chunk written meanwhile may have forgotten nodes (ps_stack_forget): the memos
	 * are emptied at the next call, then */
	if (t->stk.nodes_seen != UINT32_MAX)
		t->stk.nodes_seen = t->stk.nnodes;
	return node;
}
