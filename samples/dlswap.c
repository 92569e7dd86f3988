// dlswap: dlopens libswap_f.so and libswap_g.so in turn, N times (default 1000), calling its
// work function once each time and dlclosing it, so that each library is mapped where the
// other was just unloaded. The block each call returns is freed after the dlclose, except the
// last one of each library: 2 leaks, 100 bytes from f_alloc and 200 from g_alloc.
// Usage: dlswap [N].
// LDLIBS: -Wl,--enable-new-dtags -Wl,-rpath,\$ORIGIN:\$ORIGIN/..
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	static const char *const lib[2] = { "libswap_f.so", "libswap_g.so" };
	static const char *const fn[2] = { "f_work", "g_work" };
	void *keep[2] = { NULL, NULL };
	int i, n = argc > 1 ? atoi(argv[1]) : 1000;

	for (i = 0; i < n; i++) {
		void *h = dlopen(lib[i & 1], RTLD_NOW), *p;
		void *(*work)(int);

		if (!h) {
			printf("dlopen failed: %s\n", dlerror());
			return 1;
		}
		work = (void *(*)(int))dlsym(h, fn[i & 1]);
		if (!work) {
			printf("dlsym failed: %s\n", dlerror());
			return 1;
		}
		p = work(i);
		dlclose(h);
		free(keep[i & 1]);
		keep[i & 1] = p;
	}
	printf("dlswap: %d loads\n", n);
	return 0;
}
