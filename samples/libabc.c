// A library for samples/dlabc.c (like uftrace's s-dlopen): lib_a(n) calls lib_b() n times,
// lib_b() calls lib_c() twice.
static volatile int sink;

static __attribute__((noinline)) void lib_c(int x)
{
	sink += x;
}

static __attribute__((noinline)) void lib_b(int x)
{
	lib_c(x);
	lib_c(x + 1);
}

int lib_a(int n)
{
	int i;

	for (i = 0; i < n; i++)
		lib_b(i);
	return sink;
}
