// Calls of exactly known counts and nesting: leaf 30x from middle (3x) and 0x elsewhere,
// middle 3x from top, top once from main; other() 7x from main. Prints the sum it computes.
#include <stdio.h>

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
	int s = top();

	for (int i = 0; i < 7; i++)
		s += other(i);
	printf("sum %d\n", s);
	return 0;
}
