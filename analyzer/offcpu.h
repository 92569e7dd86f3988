/* SPDX-License-Identifier: MIT */
/*
 * Off-CPU time (offcpu.c): the context switches the recorder read from the kernel, as
 * intervals per thread, and the share of them inside a call.
 */
#ifndef PERFSHIM_ANALYZER_OFFCPU_H
#define PERFSHIM_ANALYZER_OFFCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/trace.h"

struct offcpu_iv {
	uint64_t start, end;		/* ns since trace start: off-CPU over [start, end) */
	uint32_t kind;			/* 0 blocked (voluntary), 1 preempted (involuntary) */
};
struct offcpu_acc {			/* offcpu_exit's callee sums, per depth */
	uint64_t (*child)[2];
	uint32_t cap, thread;
	bool used;
};
bool offcpu_present(const struct trace *t);
int offcpu_load(struct trace *t);
void offcpu_free(struct trace *t);
const struct offcpu_iv *offcpu_intervals(const struct trace *t, uint32_t thread, uint32_t *n);
void offcpu_within(const struct trace *t, uint32_t thread, uint64_t a, uint64_t b,
		   uint64_t out[2]);
void offcpu_exit(const struct trace *t, struct offcpu_acc *acc, uint32_t thread,
		 uint32_t depth, uint64_t a, uint64_t b, uint64_t self[2]);
void offcpu_acc_free(struct offcpu_acc *acc);
const char *offcpu_note(const struct trace *t, char *buf, size_t len);

#endif /* PERFSHIM_ANALYZER_OFFCPU_H */
