// A C++ static initializer: gcc names the file's initializer after the first function the
// file defines, _GLOBAL__sub_I__ZN3ABC3fooEv (demangled: _GLOBAL__sub_I_ABC::foo()). It
// calls ABC::foo() once before main; main calls it 2 more times (3 calls in all).
#include <cstdio>
#include <cstdlib>

namespace ABC {
__attribute__((noinline)) int foo()
{
	return std::atoi("7");
}
} // namespace ABC

static int initial = ABC::foo();

int main()
{
	int v = ABC::foo() + ABC::foo();

	std::printf("cxxinit %d %d\n", initial, v);
	return 0;
}
