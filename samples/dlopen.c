// dlopen: loads libplugin.so by bare name through this program's RUNPATH ($ORIGIN), once with
// RTLD_DEEPBIND (stripped by the shim), runs plugin_work(3), dlcloses, loads it again, runs
// plugin_work(2), dlcloses; the plugin keeps one 2222-byte block per run (released by main).
// LDLIBS: -Wl,--enable-new-dtags -Wl,-rpath,\$ORIGIN:\$ORIGIN/..
#include <dlfcn.h>
#include <stdio.h>

typedef int (*work_fn)(int);

static int run(int flags, int n)
{
	void *h = dlopen("libplugin.so", flags);
	work_fn work;
	void (*release)(void);
	int r;

	if (!h) {
		printf("dlopen failed: %s\n", dlerror());
		return -1;
	}
	work = (work_fn)dlsym(h, "plugin_work");
	release = (void (*)(void))dlsym(h, "plugin_release");
	if (!work || !release) {
		printf("dlsym failed\n");
		return -1;
	}
	r = work(n);
	release();
	printf("dlclose: %d\n", dlclose(h));
	return r;
}

int main(void)
{
	void *none;

	printf("first: %d\n", run(RTLD_NOW | RTLD_DEEPBIND, 3));
	printf("second: %d\n", run(RTLD_LAZY, 2));
	none = dlopen("libnot-there.so", RTLD_NOW);
	printf("missing: %s, %s\n", none ? "loaded" : "NULL", dlerror() ? "error set" : "no error");
	printf("after: %s\n", dlerror() ? "error" : "clear");
	return 0;
}
