// inlined: a malloc inside an always_inline function, inlined into fill() (at every -O level;
// build/samples/plain/inlined is -O2 without instrumentation, as a release build is). The
// three blocks stay live: the leaks report shows one stack whose innermost frame is the
// inlined function, with its own line (the malloc) and fill's (the line it was inlined at).
// tests/run/69-source-lines.sh asserts the line numbers of this file: keep them.
#include <stdlib.h>
#include <string.h>

#define NKEEP 3

void *volatile keep[NKEEP];		/* volatile: the compiler may not drop the calls */

static inline __attribute__((always_inline)) void *grab(size_t n)
{
	void *p = malloc(n);		/* line 15: the inlined frame's line */

	if (p)
		memset(p, 0, n);
	return p;
}

static void __attribute__((noinline)) fill(int i)
{
	keep[i] = grab(100);		/* line 24: fill's line, where grab was inlined */
}

int main(void)
{
	int i;

	for (i = 0; i < NKEEP; i++)
		fill(i);		/* line 32: main's line */
	return 0;
}
