// SPDX-License-Identifier: MIT
/*
 * The preload's logic (preload/hooks-cyg.c, ids.c, stack.c), linked into this program and
 * called directly, not preloaded: a thread state set up here, a clock that reads a
 * variable (no TSC: every event takes the slow path, where the logic is), and the records
 * the hooks appended decoded into one line of tokens, asserted exactly:
 *   F<addr>       FUNC (defines the next fid)
 *   E<fid>+<dt>   ENTRY
 *   A<fid>-<back> ENTRY_AT
 *   X+<dt>        EXIT
 *   S<n>+<dt>     EXITS (n calls closed at once)
 *   N<parent>:<d> NODE_FN (d: zz delta of the function's address from the parent's ip)
 *   R<parent>:<d> NODE_RA (a return address under a function's node)
 * Cases: plain nesting; frames closed after a longjmp to a noted setjmp depth; an exit that
 * is not the top frame's (an exception left frames above); lazy entries under
 * PERFSHIM_MIN_DURATION (a short call leaves no bytes, a long callee writes its callers'
 * entries, a long caller alone is written at its exit, an entry older than the time base
 * is an ENTRY_AT); allocation stacks from the shadow stack (nodes interned once per path,
 * a frame's cached node, the caller's return address as a NODE_RA under the top function:
 * the caller-frame rule). Each assertion was checked to fail with the logic it covers broken.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preload/internal.h"

/* What hooks-cyg.c and ids.c need from the rest of the library, here. */
__thread struct ps_thread ps_self PS_TLS;
struct ps_config ps_cfg;
int ps_recording = 1, ps_started = 1, ps_use_tsc;
uint64_t ps_start_ticks;
static uint64_t clock_now;

uint64_t ps_mono_ns(void) { return clock_now; }
uint8_t *ps_reserve_slow(struct ps_thread *t, size_t n) { return NULL; }
struct ps_thread *ps_thread_setup(void) { return NULL; }
struct ps_thread *ps_start_lazy(void) { return NULL; }
void ps_signals_release(struct ps_thread *t) { t->sig.held = 0; }
void ps_emit_mark(struct ps_thread *t, const char *label) { }
void ps_log(const char *fmt, ...) { }
/* cost.c measures the hooks at the first call of the process: here, what it was given */
static int first_calls;
static uint8_t *first_call_pos;
void ps_cost_first_call(struct ps_thread *t) { first_calls++; first_call_pos = t->rec.pos; }

#define BUF (1 << 20)
static uint8_t *buf;
static uint64_t sink;

/* A fresh recording thread: empty buffer, tables and shadow stack, time base 0. */
/* The tables thread_new and stacks_new gave the thread (each test's teardown too). */
static void thread_free(void)
{
	struct ps_thread *t = &ps_self;

	free(buf);
	free(t->ids.fids);
	free(t->stk.nodes);
	free(t->stk.last_stack);
	buf = NULL;
	t->ids.fids = NULL;
	t->stk.nodes = NULL;
	t->stk.last_stack = NULL;
}

static void thread_new(uint64_t min_duration_ticks)
{
	struct ps_thread *t = &ps_self;

	thread_free();
	memset(t, 0, sizeof(*t));
	buf = calloc(1, BUF);
	ck_assert_ptr_nonnull(buf);
	t->chunk.buf = t->rec.pos = buf;
	t->chunk.end = buf + BUF;
	t->rec.limit = buf + BUF - TRACE_MAX_RECORD;
	t->rec.cursor = &sink;
	t->ids.fid_mask = 1023;
	t->ids.fids = calloc(1024, sizeof(*t->ids.fids));
	t->stk.node_mask = 1023;
	t->stk.nodes = calloc(1024, sizeof(*t->stk.nodes));
	t->state = PS_T_ACTIVE;
	ps_cfg.events = PS_EV_CALLS;
	ps_cfg.min_duration_ticks = min_duration_ticks;
}

static void enter(uintptr_t fn, uint64_t at)
{
	clock_now = at;
	__cyg_profile_func_enter((void *)fn, NULL);
}

static void leave(uintptr_t fn, uint64_t at)
{
	clock_now = at;
	__cyg_profile_func_exit((void *)fn, NULL);
}

static uint64_t get(const uint8_t **p)
{
	uint64_t v = 0;

	ck_assert_int_eq(trace_get_varint(p, ps_self.rec.pos, &v), 0);
	return v;
}

/* The records appended so far, as tokens. */
static const char *records(void)
{
	static char out[4096];
	const uint8_t *p = buf;
	size_t n = 0;
	uint64_t h, a, b;

	out[0] = 0;
	while (p < ps_self.rec.pos && n < sizeof(out) - 64) {
		h = get(&p);
		if (!(h & 1)) {
			n += sprintf(out + n, "%sX+%llu", n ? " " : "", (unsigned long long)(h >> 1));
			continue;
		}
		if ((h & 3) == 1) {
			a = get(&p);
			n += sprintf(out + n, "%sE%llu+%llu", n ? " " : "", (unsigned long long)(h >> 2),
				     (unsigned long long)a);
			continue;
		}
		a = get(&p);
		switch (h >> 2) {
		case TRACE_OP_FUNC:
			n += sprintf(out + n, "%sF%llx", n ? " " : "", (unsigned long long)a);
			break;
		case TRACE_OP_EXITS:
			b = get(&p);
			n += sprintf(out + n, "%sS%llu+%llu", n ? " " : "", (unsigned long long)a,
				     (unsigned long long)b);
			break;
		case TRACE_OP_NODE_FN:
		case TRACE_OP_NODE_RA:
			b = get(&p);
			n += sprintf(out + n, "%s%c%llu:%lld", n ? " " : "",
				     h >> 2 == TRACE_OP_NODE_FN ? 'N' : 'R', (unsigned long long)a,
				     (long long)trace_unzigzag(b));
			break;
		case TRACE_OP_ENTRY_AT:
			b = get(&p);
			n += sprintf(out + n, "%sA%llu-%llu", n ? " " : "", (unsigned long long)a,
				     (unsigned long long)b);
			break;
		default:
			n += sprintf(out + n, "%s?%llu", n ? " " : "", (unsigned long long)(h >> 2));
			return out;
		}
	}
	return out;
}

START_TEST(test_nesting)
{
	thread_new(0);
	enter(0x1000, 100);
	enter(0x2000, 150);
	leave(0x2000, 170);
	leave(0x1000, 200);
	ck_assert_str_eq(records(), "F1000 E0+100 F2000 E1+50 X+20 X+30");
	ck_assert_uint_eq(ps_self.calls.depth, 0);
	ck_assert_uint_eq(ps_self.lost, 0);
}
END_TEST

/*
 * A thread's first hook sets it up for calls, and asks cost.c for the measurement (which
 * cost.c makes once per process) before the call's own record: no call is open yet, so the
 * measurement's time lands in no function. Later hooks do not ask again; nor does a thread
 * whose calls are not recorded.
 */
START_TEST(test_first_call_measures)
{
	thread_new(0);
	first_calls = 0;
	first_call_pos = NULL;
	enter(0x1000, 100);
	ck_assert_int_eq(first_calls, 1);
	ck_assert_ptr_eq(first_call_pos, buf);
	enter(0x2000, 150);
	leave(0x2000, 170);
	leave(0x1000, 200);
	ck_assert_int_eq(first_calls, 1);
	ck_assert_str_eq(records(), "F1000 E0+100 F2000 E1+50 X+20 X+30");
	thread_new(0);
	ps_cfg.events = PS_EV_MALLOC;
	enter(0x1000, 100);
	leave(0x1000, 200);
	ck_assert_int_eq(first_calls, 1);
	ck_assert_str_eq(records(), "");
}
END_TEST

/* longjmp.c noted the setjmp at depth 1 (jump_depth = depth + 1) and flagged the jump. */
START_TEST(test_longjmp_closes_frames)
{
	thread_new(0);
	enter(0x1000, 100);
	enter(0x2000, 110);
	enter(0x3000, 120);
	ps_self.calls.cyg |= PS_CYG_JUMPED;
	ps_self.jump.depth = 2;
	ps_self.jump.sp = 0;
	leave(0x1000, 200);	/* the repair at this hook closes 3000 and 2000 at 200 */
	ck_assert_str_eq(records(), "F1000 E0+100 F2000 E1+10 F3000 E2+10 S2+80 X+0");
	ck_assert_uint_eq(ps_self.calls.depth, 0);
	ck_assert_uint_eq(ps_self.calls.cyg & PS_CYG_JUMPED, 0);
}
END_TEST

/* The exit of a frame below the top: the frames above it close first, in one EXITS. */
START_TEST(test_exit_below_top)
{
	thread_new(0);
	enter(0x1000, 100);
	enter(0x2000, 110);
	enter(0x3000, 120);
	enter(0x4000, 130);
	leave(0x2000, 150);
	ck_assert_str_eq(records(),
			 "F1000 E0+100 F2000 E1+10 F3000 E2+10 F4000 E3+10 S2+20 X+0");
	ck_assert_uint_eq(ps_self.calls.depth, 1);
	/* an exit of a call never opened here is counted, nothing written */
	leave(0x5000, 160);
	ck_assert_uint_eq(ps_self.lost, 1);
	ck_assert_uint_eq(ps_self.calls.depth, 1);
}
END_TEST

/* Under min-duration 50: the short callee leaves no bytes; the caller is written at exit. */
START_TEST(test_lazy_short_callee)
{
	thread_new(50);
	enter(0x1000, 1000);
	enter(0x2000, 1010);
	leave(0x2000, 1020);
	ck_assert_str_eq(records(), "F1000 F2000");
	ck_assert_uint_eq(ps_self.calls.unwritten, 1);
	leave(0x1000, 1100);
	ck_assert_str_eq(records(), "F1000 F2000 E0+1000 X+100");
	ck_assert_uint_eq(ps_self.calls.unwritten, 0);
	ck_assert_uint_eq(ps_self.calls.depth, 0);
	/* a short call alone: nothing at all */
	enter(0x1000, 2000);
	leave(0x1000, 2049);
	ck_assert_str_eq(records(), "F1000 F2000 E0+1000 X+100");
}
END_TEST

/* A long callee writes its callers' entries first, outermost first; then a short caller's
 * exit is written too (its entry is in the trace). */
START_TEST(test_lazy_long_callee)
{
	thread_new(50);
	enter(0x1000, 1000);
	enter(0x2000, 1010);
	leave(0x2000, 1100);
	ck_assert_str_eq(records(), "F1000 F2000 E0+1000 E1+10 X+90");
	leave(0x1000, 1105);
	ck_assert_str_eq(records(), "F1000 F2000 E0+1000 E1+10 X+90 X+5");
}
END_TEST

/* After a longjmp under min-duration: closed frames that lasted long enough are kept (their
 * entries written lazily, older than the time base: ENTRY_AT), the short ones vanish. */
START_TEST(test_lazy_longjmp)
{
	thread_new(50);
	enter(0x1000, 1000);
	enter(0x2000, 1010);
	enter(0x3000, 1090);	/* short at the jump: 20 ticks */
	enter(0x4000, 1200);	/* a fourth, to move the time base with a long exit */
	leave(0x4000, 1300);
	ck_assert_str_eq(records(), "F1000 F2000 F3000 F4000 E0+1000 E1+10 E2+80 E3+110 X+100");
	leave(0x3000, 1301);	/* 3000's entry is written: its exit is written too */
	ck_assert_str_eq(records(),
			 "F1000 F2000 F3000 F4000 E0+1000 E1+10 E2+80 E3+110 X+100 X+1");
	enter(0x3000, 1310);	/* a new, lazy 3000 under 2000 */
	ps_self.calls.cyg |= PS_CYG_JUMPED;
	ps_self.jump.depth = 1 + 1;	/* back to depth 1: 2000 (long) and 3000 (short) close */
	leave(0x1000, 1330);
	ck_assert_str_eq(records(), "F1000 F2000 F3000 F4000 E0+1000 E1+10 E2+80 E3+110 X+100 "
				    "X+1 S1+29 X+0");
}
END_TEST

/* The jump's target depth comes from the setjmp's note, not from the stack pointers (here
 * all equal: the hooks are called from one frame, which would close every frame). */
START_TEST(test_longjmp_noted_depth)
{
	thread_new(0);
	enter(0x1000, 100);
	enter(0x2000, 110);
	enter(0x3000, 120);
	ps_self.calls.cyg |= PS_CYG_JUMPED;
	ps_self.jump.depth = 2 + 1;	/* setjmp at depth 2: only 3000 closes */
	enter(0x5000, 200);
	ck_assert_str_eq(records(), "F1000 E0+100 F2000 E1+10 F3000 E2+10 S1+80 F5000 E3+0");
	ck_assert_uint_eq(ps_self.calls.depth, 3);
	ck_assert_uint_eq(ps_self.calls.shadow[1].fn, 0x2000);
	ck_assert_uint_eq(ps_self.calls.shadow[2].fn, 0x5000);
}
END_TEST

/* A lazy entry older than the time base (an allocation record of the thread at 1050 moved
 * it) is written as ENTRY_AT, back from the base: the base never goes back. */
START_TEST(test_lazy_entry_at)
{
	thread_new(50);
	enter(0x1000, 1000);
	ps_self.rec.last_ticks = 1050;
	leave(0x1000, 1100);
	ck_assert_str_eq(records(), "F1000 A0-50 X+50");
}
END_TEST

/* Allocation stacks from the shadow stack (PERFSHIM_STACK_SOURCE=shadow). */
static uint32_t stack_at(uintptr_t ra)
{
	struct ps_thread *t = &ps_self;
	uint8_t *p = ps_reserve(t, TRACE_MAX_RECORD);
	uint32_t node;

	ck_assert_ptr_eq(p, t->rec.pos);
	ps_guard_take(t, 1);
	node = ps_stack_node(t, ra, 0, &p);	/* 0: the unwinder would start here */
	ps_guard_drop(t, 1);
	ck_assert_ptr_eq(p, t->rec.pos);	/* a fresh cursor for the caller's record */
	return node;
}

static void stacks_new(unsigned depth)
{
	thread_new(0);
	ps_cfg.stack_depth = depth;
	ps_cfg.stack_source = PS_STACK_SHADOW;
	ps_self.stk.last_stack = calloc(ps_cfg.stack_depth + 1, sizeof(uintptr_t));
}

START_TEST(test_stack_interning)
{
	stacks_new(8);
	enter(0x1000, 100);
	enter(0x1400, 110);
	/* each frame of the path once, then the call site under the top function */
	ck_assert_uint_eq(stack_at(0x1410), 3);
	ck_assert_str_eq(records(), "F1000 E0+100 F1400 E1+10 N0:4096 N1:1024 R2:16");
	ck_assert_uint_eq(ps_self.calls.shadow[0].node, 1);
	ck_assert_uint_eq(ps_self.calls.shadow[1].node, 2);
	/* the same stack again: no record; another call site: one NODE_RA */
	ck_assert_uint_eq(stack_at(0x1410), 3);
	ck_assert_uint_eq(stack_at(0x1420), 4);
	ck_assert_str_eq(records(), "F1000 E0+100 F1400 E1+10 N0:4096 N1:1024 R2:16 R2:32");
	/* a sibling path: shares node 1, the new function under it */
	leave(0x1400, 120);
	enter(0x1800, 130);
	ck_assert_uint_eq(stack_at(0x1810), 6);
	/* back in 1400 from another call: its path is node 2 again, found in the table */
	leave(0x1800, 140);
	enter(0x1400, 150);
	ck_assert_uint_eq(stack_at(0x1410), 3);
	ck_assert_str_eq(records(), "F1000 E0+100 F1400 E1+10 N0:4096 N1:1024 R2:16 R2:32 X+10 "
				    "F1800 E2+10 N1:2048 R5:16 X+10 E1+10");
	ck_assert_uint_eq(ps_self.stk.nnodes, 6);
}
END_TEST

/* main calling malloc: the caller is the top function itself; the recorder still writes its
 * return address as a NODE_RA (the reader drops such a frame: docs/stacks.md), and an
 * allocation with no instrumented frame open has no shadow stack (node 0). */
START_TEST(test_stack_caller_frame)
{
	stacks_new(8);
	ck_assert_uint_eq(stack_at(0x1010), 0);
	ck_assert_str_eq(records(), "");
	enter(0x1000, 100);
	ck_assert_uint_eq(stack_at(0x1010), 2);
	ck_assert_str_eq(records(), "F1000 E0+100 N0:4096 R1:16");
	/* a return address and a function entry at one address under one parent: two nodes */
	ck_assert_uint_eq(stack_at(0x2000), 3);
	enter(0x2000, 110);
	ck_assert_uint_eq(stack_at(0x2010), 5);
	ck_assert_str_eq(records(), "F1000 E0+100 N0:4096 R1:16 R1:4096 F2000 E1+10 N1:4096 R4:16");
	/* deeper than stack_depth: the innermost 2 frames from their own root, uncached */
	stacks_new(2);
	enter(0x1000, 100);
	enter(0x2000, 110);
	enter(0x3000, 120);
	ck_assert_uint_eq(stack_at(0x3010), 3);
	ck_assert_str_eq(records(), "F1000 E0+100 F2000 E1+10 F3000 E2+10 N0:8192 N1:4096 R2:16");
	ck_assert_uint_eq(ps_self.calls.shadow[2].node, 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("preload");
	TCase *tc = tcase_create("hooks-cyg");

	tcase_add_checked_fixture(tc, NULL, thread_free);
	tcase_add_test(tc, test_nesting);
	tcase_add_test(tc, test_first_call_measures);
	tcase_add_test(tc, test_longjmp_closes_frames);
	tcase_add_test(tc, test_exit_below_top);
	tcase_add_test(tc, test_lazy_short_callee);
	tcase_add_test(tc, test_lazy_long_callee);
	tcase_add_test(tc, test_lazy_longjmp);
	tcase_add_test(tc, test_longjmp_noted_depth);
	tcase_add_test(tc, test_lazy_entry_at);
	suite_add_tcase(s, tc);
	tc = tcase_create("stack");
	tcase_add_checked_fixture(tc, NULL, thread_free);
	tcase_add_test(tc, test_stack_interning);
	tcase_add_test(tc, test_stack_caller_frame);
	suite_add_tcase(s, tc);
	return s;
}

/* (testutil's tu_run would pull the analyzer in: the same fork-mode run, here) */
int main(void)
{
	SRunner *r = srunner_create(suite());
	int failed;

	srunner_set_fork_status(r, CK_FORK);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? 1 : 0;
}
