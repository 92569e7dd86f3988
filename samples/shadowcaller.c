/* shadowcaller.c - who really called malloc, under the shadow stack of an instrumented
 * build: f's copy comes from libc's strdup (14 bytes), g's block from g itself (100 bytes),
 * and printf makes stdio allocate stdout's buffer (never freed, as glibc does). The copy and
 * the block are kept in globals and never freed: one leak each, of known size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINL __attribute__((noinline))

/* through a volatile pointer, so the compiler cannot turn strdup into malloc + memcpy */
static const char *volatile text = "shadow caller";
static char *copy;
static unsigned char *block;

static NOINL char *f(void)
{
	return strdup(text);
}

static NOINL unsigned char *g(size_t n)
{
	unsigned char *p = malloc(n);

	if (p)
		memset(p, 7, n);
	return p;
}

int main(void)
{
	copy = f();
	block = g(100);
	if (!copy || !block) {
		perror("shadowcaller");
		return 1;
	}
	printf("%s %d\n", copy, block[99]);
	return 0;
}
