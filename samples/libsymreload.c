// A library for samples/symreload.c: sr_work(n) calls the static sr_leaf() n times and returns
// the sum of their results.
static volatile int sink;

static __attribute__((noinline)) int sr_leaf(int x)
{
	sink += x;
	return x * 2;
}

int sr_work(int n)
{
	int i, sum = 0;

	for (i = 0; i < n; i++)
		sum += sr_leaf(i);
	return sum;
}
