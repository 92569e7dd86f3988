// dlabc: like uftrace's s-dlopen. Three times: dlopen libabc.so, lib_a(2) (lib_b 2x, lib_c
// 4x), dlclose; dlopen the C++ libfoo.so, where libabc.so was, foo() (AAA::bar 2x), dlclose.
// Calls over the run: lib_a 3, lib_b 6, lib_c 12, foo 3, AAA::bar 6.
// LDLIBS: -Wl,--enable-new-dtags -Wl,-rpath,\$ORIGIN:\$ORIGIN/..
#include <dlfcn.h>
#include <stdio.h>

/* fn(arg) of library @lib, then dlclose. Return: what fn returned, -1 on error. */
static int call(const char *lib, const char *fn, int arg)
{
	void *h = dlopen(lib, RTLD_NOW);
	int (*f)(int), r;

	if (!h) {
		printf("dlopen failed: %s\n", dlerror());
		return -1;
	}
	f = (int (*)(int))dlsym(h, fn);
	r = f ? f(arg) : -1;
	dlclose(h);
	return r;
}

int main(void)
{
	int i, a = 0, b = 0;

	for (i = 0; i < 3; i++) {
		a += call("libabc.so", "lib_a", 2);
		b += call("libfoo.so", "foo", 0);
	}
	printf("dlabc: %d %d\n", a, b);
	return 0;
}
