// A plugin for samples/dlopen.c: plugin_work(n) allocates n blocks of 2222 bytes, frees all
// but one (kept until plugin_release()), and calls plugin_leaf() n times.
#include <stdlib.h>
#include <string.h>

static void *held[16];
static int nheld;

static int plugin_leaf(int x)
{
	return x + 100;
}

int plugin_work(int n)
{
	void *last = NULL;
	int i, sum = 0;

	for (i = 0; i < n; i++) {
		void *p = malloc(2222);

		memset(p, i, 2222);
		sum += plugin_leaf(i);
		if (last)
			free(last);
		last = p;
	}
	held[nheld++] = last;
	return sum;
}

void plugin_release(void)
{
	while (nheld > 0)
		free(held[--nheld]);
}
