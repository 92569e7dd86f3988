// 600 distinct functions f100..f699, fN called (N - 100) % 7 + 1 times through a table: the
// per-thread function table grows twice (at 256 and 512 functions) while calls go on.
#include <stdio.h>

#define F(n)                                                                                \
	__attribute__((noinline)) int f##n(int x)                                          \
	{                                                                                   \
		return x + n;                                                               \
	}
#define F10(n) F(n##0) F(n##1) F(n##2) F(n##3) F(n##4) F(n##5) F(n##6) F(n##7) F(n##8) F(n##9)
#define F100(n) F10(n##0) F10(n##1) F10(n##2) F10(n##3) F10(n##4) F10(n##5) F10(n##6) \
	F10(n##7) F10(n##8) F10(n##9)
F100(1) F100(2) F100(3) F100(4) F100(5) F100(6)

#define P(n) f##n,
#define P10(n) P(n##0) P(n##1) P(n##2) P(n##3) P(n##4) P(n##5) P(n##6) P(n##7) P(n##8) P(n##9)
#define P100(n) P10(n##0) P10(n##1) P10(n##2) P10(n##3) P10(n##4) P10(n##5) P10(n##6) \
	P10(n##7) P10(n##8) P10(n##9)
static int (*const table[])(int) = { P100(1) P100(2) P100(3) P100(4) P100(5) P100(6) };

int main(void)
{
	long sum = 0;
	int calls = 0;

	/* interleaved rounds: later rounds call functions defined before each growth */
	for (int round = 0; round < 7; round++)
		for (int i = 0; i < 600; i++)
			if (round <= i % 7) {
				sum += table[i](round);
				calls++;
			}
	printf("functions 600 calls %d sum %ld\n", calls, sum);
	return 0;
}
