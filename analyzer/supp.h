/* SPDX-License-Identifier: MIT */
/*
 * Leak suppressions (suppress.c): LeakSanitizer-format rules and the built-in ones.
 */
#ifndef PERFSHIM_ANALYZER_SUPP_H
#define PERFSHIM_ANALYZER_SUPP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzer/symbols.h"
#include "analyzer/trace.h"

struct suppressions;
struct suppressions *supp_load(const char *path, bool builtin);
void supp_free(struct suppressions *s);
unsigned supp_count(const struct suppressions *s);
const char *supp_rule(const struct suppressions *s, unsigned i);
int supp_match(const struct suppressions *s, struct symbols *sym, const struct trace *t,
	       uint32_t id);
bool supp_glob(const char *pat, const char *str);

#endif /* PERFSHIM_ANALYZER_SUPP_H */
