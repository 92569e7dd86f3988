/* fib.c - recursive Fibonacci: a call-heavy sample (fib(n) makes 2*fib(n+1)-1 calls of fib).
 * Usage: fib [N] (default 25); prints fib(N) and the number of calls of fib(). */
#include <stdio.h>
#include <stdlib.h>

static unsigned long ncalls;

static unsigned long fib(int n)
{
	ncalls++;
	if (n < 2)
		return n;
	return fib(n - 1) + fib(n - 2);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 25;

	if (n < 0 || n > 60) {
		fprintf(stderr, "fib: N must be in 0..60\n");
		return 2;
	}
	printf("fib(%d) = %lu\n", n, fib(n));
	printf("calls of fib: %lu\n", ncalls);
	return 0;
}
