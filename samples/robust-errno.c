/* SPDX-License-Identifier: MIT */
/*
 * errno around every entry point the shim wraps: each call starts with errno set to a
 * marker (4242) and prints the errno it leaves, in the main thread and then in a new thread
 * (whose first event sets the thread up). Run with and without the shim, the output must be
 * the same: a hook may never change what errno the real function leaves.
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

/* sizes no allocator can give, hidden from the compiler's size checks */
static volatile size_t huge = SIZE_MAX / 2, huge_max = SIZE_MAX, four = 4;
/* a block kept through failed reallocs (hidden from -Wuse-after-free: they keep it) */
static void *volatile keep;

#define CHK(name, expr)                                                                    \
	do {                                                                               \
		long r_;                                                                   \
		int e_;                                                                    \
		errno = 4242;                                                              \
		r_ = (long)(intptr_t)(expr);                                               \
		e_ = errno;                                                                \
		printf("%s %s: ok=%d errno=%d\n", tag, name, r_ != 0, e_);                 \
	} while (0)

static __attribute__((noinline)) int set_errno(int v)
{
	errno = v;
	return v;
}

static jmp_buf jb;

static void run(const char *tag)
{
	void *p = NULL, *q;
	int rc;

	CHK("malloc", (p = malloc(100)));
	CHK("malloc_usable_size", malloc_usable_size(p));
	CHK("free", (free(p), 1));
	CHK("free(NULL)", (free(NULL), 1));
	CHK("malloc(0)", (p = malloc(0)));
	free(p);
	CHK("malloc(huge)", malloc(huge));
	CHK("calloc", (p = calloc(10, 10)));
	free(p);
	CHK("calloc(overflow)", calloc(huge, four));
	CHK("calloc(huge)", calloc(1, huge));
	p = malloc(10);
	CHK("realloc grow", (p = realloc(p, 100000)));
	CHK("realloc shrink", (p = realloc(p, 10)));
	keep = p;
	CHK("realloc(huge)", realloc(keep, huge));
	CHK("realloc(p,0)", realloc(keep, 0));
	CHK("realloc(NULL,n)", (p = realloc(NULL, 50)));
	CHK("reallocarray", (p = reallocarray(p, 10, 10)));
	keep = p;
	CHK("reallocarray(overflow)", reallocarray(keep, huge, four));
	CHK("reallocarray(p,0,1)", reallocarray(keep, 0, 1));
	CHK("posix_memalign", (rc = posix_memalign(&p, 64, 100), rc == 0));
	free(p);
	CHK("posix_memalign(bad)", (rc = posix_memalign(&p, 3, 100), rc));
	CHK("posix_memalign(huge)", (rc = posix_memalign(&p, 64, huge), rc));
	CHK("aligned_alloc", (p = aligned_alloc(64, 128)));
	free(p);
	CHK("aligned_alloc(huge)", aligned_alloc(64, huge));
	CHK("memalign", (p = memalign(64, 100)));
	free(p);
	CHK("memalign(huge)", memalign(64, huge));
	CHK("valloc", (p = valloc(100)));
	free(p);
	CHK("valloc(huge)", valloc(huge));
	CHK("pvalloc", (p = pvalloc(100)));
	free(p);
	CHK("pvalloc(huge)", pvalloc(huge_max));
	CHK("strdup", (p = strdup("abc")));
	free(p);
	CHK("sigaction query", sigaction(SIGUSR2, NULL, NULL) + 1);
	CHK("sigaction bad", sigaction(SIGKILL, &(struct sigaction){ .sa_handler = SIG_IGN }, NULL));
	CHK("signal bad", signal(SIGKILL, SIG_IGN) == SIG_ERR);
	CHK("signal usr2", signal(SIGUSR2, SIG_DFL) == SIG_ERR);
	CHK("dlopen bad", dlopen("/nonexistent/lib.so", RTLD_NOW));
	CHK("dlopen ok", (q = dlopen("libm.so.6", RTLD_NOW)));
	CHK("dlclose", (dlclose(q), 1));
	CHK("execve bad", execve("/nonexistent", (char *[]){ "x", NULL }, environ));
	CHK("execvp bad", execvp("nonexistent-perfshim-cmd", (char *[]){ "x", NULL }));
	CHK("setjmp", setjmp(jb) == 0);
	CHK("function sets errno", set_errno(7));
}

static void *thread_main(void *arg)
{
	run(arg);
	return NULL;
}

int main(void)
{
	pthread_t th;

	run("main");
	pthread_create(&th, NULL, thread_main, "thread");
	pthread_join(th, NULL);
	return 0;
}
