// setjmp/longjmp out of nested calls: 5 x longjmp from c() (main>a>b>c), 4 x siglongjmp
// from rec() 10 deep inside runner(), 3 x _longjmp; after each jump after() spins ~2 ms.
#include <setjmp.h>
#include <stdio.h>
#include <time.h>

static jmp_buf env;
static sigjmp_buf senv;
static volatile int sink;

__attribute__((noinline)) void after(void)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < 2000000);
}

__attribute__((noinline)) void c(int how)
{
	sink++;
	if (how == 0)
		longjmp(env, 1);
	_longjmp(env, 1);
}

__attribute__((noinline)) void b(int how)
{
	c(how);
	sink++;
}

__attribute__((noinline)) void a(int how)
{
	b(how);
	sink++;
}

__attribute__((noinline)) void rec(int n)
{
	if (n == 0)
		siglongjmp(senv, 1);
	rec(n - 1);
	sink++;
}

/* setjmp in an instrumented function that returns normally after the jump */
__attribute__((noinline)) int runner(void)
{
	if (sigsetjmp(senv, 1) == 0) {
		rec(9);
		return 0;
	}
	after();
	return 1;
}

int main(void)
{
	volatile int i, jumps = 0;	/* modified between setjmp and longjmp (C11 7.13.2.1) */

	for (i = 0; i < 5; i++) {
		if (setjmp(env) == 0)
			a(0);
		else {
			jumps++;
			after();
		}
	}
	for (i = 0; i < 4; i++)
		jumps += runner();
	for (i = 0; i < 3; i++) {
		if (_setjmp(env) == 0)
			a(1);
		else {
			jumps++;
			after();
		}
	}
	printf("jumps %d sink %d\n", jumps, sink);
	return 0;
}
