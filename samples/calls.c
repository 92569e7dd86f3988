// Calls of exact known counts and nesting: leaf 30x from middle (3x), middle 3x from top, top
// once from main, other() 7x from main; marks "after-top" and "end"; errno kept across both.
#include <errno.h>
#include <stdio.h>

#include "include/perfshim.h"

static volatile int sink;

int leaf(int i)
{
	sink += i;
	return i * 2;
}

int middle(int n)
{
	int s = 0;

	for (int i = 0; i < n; i++)
		s += leaf(i);
	return s;
}

int top(void)
{
	return middle(10) + middle(10) + middle(10);
}

int other(int x)
{
	return x + 1;
}

int main(void)
{
	int s = top(), e1, e2;

	PERFSHIM_MARK("after-top");
	errno = 1234;			/* hooks and marks must leave errno alone */
	for (int i = 0; i < 7; i++)
		s += other(i);
	e1 = errno;
	PERFSHIM_MARK("end");
	e2 = errno;
	printf("sum %d errno %d %d\n", s, e1, e2);
	return 0;
}
