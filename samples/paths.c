// paths: 2^DEPTH distinct call paths and allocation stacks, for the html report's budget:
// walk() goes left() or right() DEPTH times (each path its own chain of call sites), and
// each of the 2^DEPTH leaves allocates 16 + (path % 8) bytes, keeping every 4th block (a leak).
#include <stdio.h>
#include <stdlib.h>

#define DEPTH 15

static void *kept[(1 << DEPTH) / 4];
static unsigned nkept;

static void walk(unsigned path, int d);

__attribute__((noinline)) void leaf(unsigned path)
{
	void *p = malloc(16 + path % 8);

	if (path % 4 == 0)
		kept[nkept++] = p;
	else
		free(p);
}

__attribute__((noinline)) void left(unsigned path, int d)
{
	walk(path * 2, d + 1);
}

__attribute__((noinline)) void right(unsigned path, int d)
{
	walk(path * 2 + 1, d + 1);
}

static __attribute__((noinline)) void walk(unsigned path, int d)
{
	if (d == DEPTH) {
		leaf(path);
		return;
	}
	left(path, d);
	right(path, d);
}

int main(void)
{
	walk(0, 0);
	printf("paths %u kept %u\n", 1U << DEPTH, nkept);
	return 0;
}
