// A C++ library for samples/dlabc.c (like uftrace's s-dlopen): foo() calls AAA::bar() twice
// on an AAA it makes, and returns what bar() added up.
class AAA {
public:
	int bar(int x);

private:
	int sum = 0;
};

int __attribute__((noinline)) AAA::bar(int x)
{
	sum += x;
	return sum;
}

extern "C" int foo(void)
{
	AAA a;

	a.bar(1);
	return a.bar(2);
}
