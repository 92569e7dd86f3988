// Symbols of a dlopen'ed library that is closed and opened again (most likely at the same
// address): libsymreload.so's sr_work(3), dlclose, then sr_work(4): sr_work 2x, its static
// sr_leaf 7x. Prints the two sums (6 and 12).
// LDLIBS: -Wl,--enable-new-dtags -Wl,-rpath,\$ORIGIN:\$ORIGIN/..
#include <dlfcn.h>
#include <stdio.h>

static int run_once(int n)
{
	void *h = dlopen("libsymreload.so", RTLD_NOW);
	int (*work)(int);
	int r;

	if (!h) {
		printf("dlopen failed: %s\n", dlerror());
		return -1;
	}
	work = (int (*)(int))dlsym(h, "sr_work");
	r = work ? work(n) : -1;
	dlclose(h);
	return r;
}

int main(void)
{
	int a = run_once(3);
	int b = run_once(4);

	printf("sums %d %d\n", a, b);
	return a == 6 && b == 12 ? 0 : 1;
}
