/* SPDX-License-Identifier: MIT */
/*
 * The table of interposed functions: each one's name, the slot its next definition goes to,
 * whether the process needs it, and when it is resolved (interpose.h has the rules). Every
 * slot is resolved here, by one resolver; the wrappers read them through ps_real().
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>

#include "preload/interpose.h"
#include "preload/thread.h"

void *(*ps_real_malloc)(size_t);
void (*ps_real_free)(void *);
void *(*ps_real_calloc)(size_t, size_t);
void *(*ps_real_realloc)(void *, size_t);
int (*ps_real_posix_memalign)(void **, size_t, size_t);
void *(*ps_real_aligned_alloc)(size_t, size_t);
void *(*ps_real_memalign)(size_t, size_t);
void *(*ps_real_valloc)(size_t);
void *(*ps_real_pvalloc)(size_t);
size_t (*ps_real_malloc_usable_size)(void *);

int (*ps_real_execve)(const char *, char *const[], char *const[]);
int (*ps_real_execvpe)(const char *, char *const[], char *const[]);
int (*ps_real_fexecve)(int, char *const[], char *const[]);
int (*ps_real_execveat)(int, const char *, char *const[], char *const[], int);
int (*ps_real_posix_spawn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			   const posix_spawnattr_t *, char *const[], char *const[]);
int (*ps_real_posix_spawnp)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			    const posix_spawnattr_t *, char *const[], char *const[]);
int (*ps_real_system)(const char *);
FILE *(*ps_real_popen)(const char *, const char *);
long (*ps_real_syscall)(long, ...);

ps_jump_fn ps_real_longjmp;
ps_jump_fn ps_real__longjmp;
ps_jump_fn ps_real_siglongjmp;
ps_jump_fn ps_real___longjmp_chk;
void *(*ps_real___cxa_begin_catch)(void *);
void *ps_real_setjmp;
void *ps_real__setjmp;
void *ps_real___sigsetjmp;

int (*ps_real_sigaction)(int, const struct sigaction *, struct sigaction *);
void *(*ps_real_dlopen)(const char *, int);
void *(*ps_real_dlmopen)(Lmid_t, const char *, int);
int (*ps_real_dlclose)(void *);
int (*ps_real_pipe2)(int[2], int);
void (*ps_real__exit)(int);
void (*ps_real__Exit)(int);

#define E(fn, flags) { #fn, (void **)&ps_real_##fn, flags, 0 }
#define BOOT_REQ (PS_IP_BOOT | PS_IP_REQUIRED)
#define CTOR_REQ (PS_IP_CTOR | PS_IP_REQUIRED)
#define LAZY_REQ (PS_IP_LAZY | PS_IP_REQUIRED)

static struct ps_interpose_entry table[] = {
	/* the malloc family: malloc last (interpose.h, BOOT). aligned_alloc, memalign, valloc
	 * and pvalloc fall back to posix_memalign forms when missing (hooks-malloc.c). */
	E(calloc, BOOT_REQ),
	E(realloc, BOOT_REQ),
	E(posix_memalign, BOOT_REQ),
	E(aligned_alloc, PS_IP_BOOT),
	E(memalign, PS_IP_BOOT),
	E(valloc, PS_IP_BOOT),
	E(pvalloc, PS_IP_BOOT),
	E(malloc_usable_size, BOOT_REQ),
	E(free, BOOT_REQ),
	E(malloc, BOOT_REQ),

	/* new images: a vfork child calling exec finds them set */
	E(execve, CTOR_REQ),
	E(execvpe, CTOR_REQ),
	E(fexecve, CTOR_REQ),
	E(execveat, PS_IP_CTOR),		/* glibc 2.34 and later */
	E(posix_spawn, CTOR_REQ),
	E(posix_spawnp, CTOR_REQ),
	E(system, CTOR_REQ),
	E(popen, CTOR_REQ),
	E(syscall, CTOR_REQ),
	E(_exit, PS_IP_CTOR),			/* a vfork child leaves through it; missing: */
	E(_Exit, PS_IP_CTOR),			/* the exit_group system call */

	/* non-local exits: siglongjmp is often called from a signal handler */
	E(longjmp, CTOR_REQ),
	E(_longjmp, CTOR_REQ),
	E(siglongjmp, CTOR_REQ),
	E(__longjmp_chk, CTOR_REQ),
	E(__cxa_begin_catch, PS_IP_CTOR),	/* C++ programs only (looked up again if called) */
	E(setjmp, CTOR_REQ),
	E(_setjmp, CTOR_REQ),
	E(__sigsetjmp, CTOR_REQ),

	E(sigaction, LAZY_REQ),
	E(dlopen, LAZY_REQ),
	E(dlmopen, LAZY_REQ),
	E(dlclose, LAZY_REQ),
	E(pipe2, LAZY_REQ),
};

#define NENTRIES (sizeof(table) / sizeof(table[0]))

/* ps_dlsym_next - dlsym(RTLD_NEXT): what it allocates (dlerror state) is the shim's. */
void *ps_dlsym_next(const char *name)
{
	void *p;

	ps_guard_take(&ps_self, PS_GUARD_INTERNAL);
	p = dlsym(RTLD_NEXT, name);
	ps_guard_drop(&ps_self, PS_GUARD_INTERNAL);
	return p;
}

/*
 * ps_interpose_entry - the one resolver: every slot is written here, once, with a release
 * store (racing threads store the same value). Return: 1 for a missing required entry.
 */
int ps_interpose_entry(struct ps_interpose_entry *e)
{
	void *p = __atomic_load_n(e->slot, __ATOMIC_ACQUIRE);
	int saved;

	if (p)
		return 0;
	saved = errno;
	p = ps_dlsym_next(e->name);
	errno = saved;
	if (p) {
		__atomic_store_n(e->slot, p, __ATOMIC_RELEASE);
		return 0;
	}
	if (!(e->flags & PS_IP_REQUIRED))
		return 0;
	if (!__atomic_exchange_n(&e->said, 1, __ATOMIC_RELAXED))
		ps_log("unable to find the real %s (no definition after libperfshim.so)", e->name);
	return 1;
}

/* ps_interpose_resolve - a wrapper's slot, resolved now: a linear search (first use only). */
void *ps_interpose_resolve(void **slot)
{
	size_t i;

	for (i = 0; i < NENTRIES; i++)
		if (table[i].slot == slot) {
			ps_interpose_entry(&table[i]);
			return __atomic_load_n(slot, __ATOMIC_ACQUIRE);
		}
	return NULL;			/* not in the table: a bug */
}

/* ps_interpose_group - every entry of a group, in the table's order (malloc last in BOOT). */
int ps_interpose_group(unsigned when)
{
	int missing = 0;
	size_t i;

	for (i = 0; i < NENTRIES; i++)
		if (table[i].flags & when)
			missing += ps_interpose_entry(&table[i]);
	return missing;
}

/* ps_interpose_abort - no sane way on without @name: one line, then abort (the host's end). */
void ps_interpose_abort(const char *name)
{
	ps_log("no %s to forward to: nothing sane is left to do", name);
	abort();
}

/* The CTOR entries (interpose.h): after init.c's constructor (101) has the malloc hooks. */
__attribute__((constructor(102))) static void interpose_init(void)
{
	int saved = errno;

	ps_interpose_group(PS_IP_CTOR);
	errno = saved;
}
