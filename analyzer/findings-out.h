/* SPDX-License-Identifier: MIT */
/*
 * The findings written (findings-out.c), an output helper for the views that show them:
 * `findings`, and the sections of `summary` and `html`.
 */
#ifndef PERFSHIM_FINDINGS_OUT_H
#define PERFSHIM_FINDINGS_OUT_H

#include <stdint.h>
#include <stdio.h>

#include "analyzer/findings.h"
#include "analyzer/json.h"

/* findings_json - "findings": [...] (at most @limit; 0: all) into @j */
void findings_json(struct findings *f, struct json *j, uint32_t limit);
/* findings_text - the findings as text on @out (at most @limit; 0: all) */
void findings_text(struct findings *f, FILE *out, uint32_t limit);

#endif /* PERFSHIM_FINDINGS_OUT_H */
