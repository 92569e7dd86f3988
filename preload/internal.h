/* SPDX-License-Identifier: MIT */
/*
 * Everything of libperfshim.so at once, for the unit tests and for code that uses most of
 * it. The preload's own files include the headers they use: common.h (platform, settings,
 * clock, messages), thread.h (thread state, appenders, guard), ids.h, records.h,
 * tracefile.h, process.h, interpose.h, sample.h, signals.h. docs/design.md "Where things
 * live" says which file owns what.
 */
#ifndef PERFSHIM_PRELOAD_INTERNAL_H
#define PERFSHIM_PRELOAD_INTERNAL_H

#include "preload/common.h"
#include "preload/ids.h"
#include "preload/interpose.h"
#include "preload/process.h"
#include "preload/records.h"
#include "preload/sample.h"
#include "preload/signals.h"
#include "preload/thread.h"
#include "preload/tracefile.h"

#endif /* PERFSHIM_PRELOAD_INTERNAL_H */
