/* SPDX-License-Identifier: MIT */
/*
 * The functions the shim interposes and forwards to their next definition (glibc's): one
 * slot each, "ps_real_<name>", listed in one table (interpose.c) with whether the process
 * needs it and when it is resolved. docs/design.md "Interposed functions".
 */
#ifndef PERFSHIM_PRELOAD_INTERPOSE_H
#define PERFSHIM_PRELOAD_INTERPOSE_H

#include <dlfcn.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>

/*
 * When an entry is resolved. Every slot is written once with a release store and read with
 * an acquire load (or, for the malloc family, a load ordered by ps_real_malloc's), so any
 * thread may resolve any entry; two that race store the same value.
 *   BOOT: the malloc family, all at once by ps_malloc_resolve (hooks-malloc.c), the
 *         constructor or the first allocation, whichever comes first. dlsym allocates
 *         meanwhile: those calls are served from the bootstrap area. ps_real_malloc is
 *         written last, so a hook that sees it set sees every other one.
 *   CTOR: in the constructor (priority 102, after init.c's has the malloc hooks ready), so
 *         that a vfork child (exec family) or a signal handler (longjmp family) finds them
 *         set: dlsym is not async-signal-safe and a vfork child must not allocate. A call
 *         that comes before the constructor resolves its own entry.
 *   LAZY: on first use, by whichever thread calls first (dlopen, pipe2, sigaction, ...).
 */
#define PS_IP_BOOT (1U << 0)
#define PS_IP_CTOR (1U << 1)
#define PS_IP_LAZY (1U << 2)
/* A required entry that cannot be found is said once on stderr (one line); its wrapper then
 * fails the call with ENOSYS, or, where nothing sane is left (malloc, setjmp, longjmp),
 * aborts. An optional one is missing quietly (older glibc, no libstdc++): its wrapper falls
 * back or fails with ENOSYS. */
#define PS_IP_REQUIRED (1U << 3)
#define PS_IP_OPTIONAL 0U

#ifndef PS_HIDDEN
#define PS_HIDDEN __attribute__((visibility("hidden")))
#endif

/* BOOT: the malloc family (hooks-malloc.c, cost.c). reallocarray is not interposed through
 * glibc's: it calls realloc through the PLT, which would record it twice. */
extern void *(*ps_real_malloc)(size_t) PS_HIDDEN;
extern void (*ps_real_free)(void *) PS_HIDDEN;
extern void *(*ps_real_calloc)(size_t, size_t) PS_HIDDEN;
extern void *(*ps_real_realloc)(void *, size_t) PS_HIDDEN;
extern int (*ps_real_posix_memalign)(void **, size_t, size_t) PS_HIDDEN;
extern void *(*ps_real_aligned_alloc)(size_t, size_t) PS_HIDDEN;
extern void *(*ps_real_memalign)(size_t, size_t) PS_HIDDEN;
extern void *(*ps_real_valloc)(size_t) PS_HIDDEN;
extern void *(*ps_real_pvalloc)(size_t) PS_HIDDEN;
extern size_t (*ps_real_malloc_usable_size)(void *) PS_HIDDEN;

/* CTOR: new images (exec.c) */
extern int (*ps_real_execve)(const char *, char *const[], char *const[]) PS_HIDDEN;
extern int (*ps_real_execvpe)(const char *, char *const[], char *const[]) PS_HIDDEN;
extern int (*ps_real_fexecve)(int, char *const[], char *const[]) PS_HIDDEN;
extern int (*ps_real_execveat)(int, const char *, char *const[], char *const[], int) PS_HIDDEN;
extern int (*ps_real_posix_spawn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
				  const posix_spawnattr_t *, char *const[],
				  char *const[]) PS_HIDDEN;
extern int (*ps_real_posix_spawnp)(pid_t *, const char *, const posix_spawn_file_actions_t *,
				   const posix_spawnattr_t *, char *const[],
				   char *const[]) PS_HIDDEN;
extern int (*ps_real_system)(const char *) PS_HIDDEN;
extern FILE *(*ps_real_popen)(const char *, const char *) PS_HIDDEN;
extern long (*ps_real_syscall)(long, ...) PS_HIDDEN;
extern void (*ps_real__exit)(int) PS_HIDDEN;
extern void (*ps_real__Exit)(int) PS_HIDDEN;

/* CTOR: non-local exits (longjmp.c). The setjmp slots are void *: the assembly wrappers
 * there jump through them. */
typedef void (*ps_jump_fn)(struct __jmp_buf_tag *env, int val) __attribute__((noreturn));
extern ps_jump_fn ps_real_longjmp PS_HIDDEN;
extern ps_jump_fn ps_real__longjmp PS_HIDDEN;
extern ps_jump_fn ps_real_siglongjmp PS_HIDDEN;
extern ps_jump_fn ps_real___longjmp_chk PS_HIDDEN;
extern void *(*ps_real___cxa_begin_catch)(void *) PS_HIDDEN;
extern void *ps_real_setjmp PS_HIDDEN;
extern void *ps_real__setjmp PS_HIDDEN;
extern void *ps_real___sigsetjmp PS_HIDDEN;

/* LAZY */
extern int (*ps_real_sigaction)(int, const struct sigaction *,
				struct sigaction *) PS_HIDDEN;	/* signals.c */
extern void *(*ps_real_dlopen)(const char *, int) PS_HIDDEN;	/* modules.c */
extern void *(*ps_real_dlmopen)(Lmid_t, const char *, int) PS_HIDDEN;
extern int (*ps_real_dlclose)(void *) PS_HIDDEN;
extern int (*ps_real_pipe2)(int[2], int) PS_HIDDEN;		/* fds.c */

/* An entry of the table (interpose.c) */
struct ps_interpose_entry {
	const char *name;
	void **slot;			/* written through void * as POSIX's dlsym example does */
	unsigned flags;			/* PS_IP_* */
	int said;			/* a missing required one was said */
};

/*
 * ps_interpose_entry - resolve @e if its slot is empty: dlsym(RTLD_NEXT) under the guard,
 * errno kept, the slot written with a release store. A missing required entry is said on
 * stderr the first time. Return: 1 when a required entry is missing, else 0.
 */
int ps_interpose_entry(struct ps_interpose_entry *e);

/*
 * ps_interpose_resolve - resolve the table entry whose slot is @slot now, if it is not yet.
 * Safe from any thread (not from a signal handler: dlsym is not async-signal-safe, which is
 * why the CTOR entries are resolved early). Return: the function, or NULL when not found
 * (a required one is said on stderr, once); a later call looks again (a library dlopen'd
 * meanwhile may define it).
 */
void *ps_interpose_resolve(void **slot);

/*
 * ps_interpose_group - resolve every entry of @when (PS_IP_*) whose slot is still empty, in
 * the table's order. Return: how many required ones are missing (each said once).
 */
int ps_interpose_group(unsigned when);

/* ps_interpose_abort - a required function the wrapper cannot do without: say so, abort. */
void ps_interpose_abort(const char *name) __attribute__((noreturn));

/*
 * ps_real - the next definition of @fn (a slot above), resolved now if it is not yet; NULL
 * when there is none. One acquire load once resolved.
 */
#define ps_real(fn)                                                                         \
	({                                                                                  \
		__typeof__(ps_real_##fn) f_ = __atomic_load_n(&ps_real_##fn, __ATOMIC_ACQUIRE); \
		if (__builtin_expect(!f_, 0))                                               \
			f_ = (__typeof__(f_))ps_interpose_resolve((void **)&ps_real_##fn);  \
		f_;                                                                         \
	})

/*
 * ps_dlsym_next - dlsym(RTLD_NEXT, @name) under the calling thread's guard. A failed lookup
 * makes glibc allocate its dlerror state and message: those are the shim's, not the
 * program's.
 */
void *ps_dlsym_next(const char *name);

#endif /* PERFSHIM_PRELOAD_INTERPOSE_H */
