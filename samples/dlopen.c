// dlopen: loads libplugin.so by bare name through this program's RUNPATH ($ORIGIN), once with
// RTLD_DEEPBIND (stripped by the shim), runs plugin_work(3), dlcloses, loads it again, runs
// plugin_work(2), dlcloses, then loads it as "$ORIGIN/[../]libplugin.so" for plugin_work(1);
// the plugin keeps one 2222-byte block per run (released before dlclose). Then iconv, for
// which glibc loads its gconv modules itself (no dlopen the shim sees).
// LDLIBS: -Wl,--enable-new-dtags -Wl,-rpath,\$ORIGIN:\$ORIGIN/..
#include <dlfcn.h>
#include <iconv.h>
#include <stdio.h>

typedef int (*work_fn)(int);

/* plugin_work(n) in the plugin opened as @h, then dlclose. Return: its result, -1 on error. */
static int run(void *h, int n)
{
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

/* ISO-8859-2 to UTF-16: bytes written (2 for the BOM, 2 per character) */
static int convert(void)
{
	char in[] = "abc", out[64], *ip = in, *op = out;
	size_t il = 3, ol = sizeof(out);
	iconv_t c = iconv_open("UTF-16", "ISO-8859-2");

	if (c == (iconv_t)-1)
		return -1;
	iconv(c, &ip, &il, &op, &ol);
	iconv_close(c);
	return (int)(sizeof(out) - ol);
}

int main(void)
{
	void *h;

	printf("first: %d\n", run(dlopen("libplugin.so", RTLD_NOW | RTLD_DEEPBIND), 3));
	printf("second: %d\n", run(dlopen("libplugin.so", RTLD_LAZY), 2));
	/* $ORIGIN is this program's directory: build/samples, or build/samples/O2 */
	h = dlopen("$ORIGIN/libplugin.so", RTLD_NOW);
	if (!h)
		h = dlopen("$ORIGIN/../libplugin.so", RTLD_NOW);
	printf("third: %d\n", run(h, 1));
	h = dlopen("libnot-there.so", RTLD_NOW);
	printf("missing: %s, %s\n", h ? "loaded" : "NULL", dlerror() ? "error set" : "no error");
	printf("after: %s\n", dlerror() ? "error" : "clear");
	printf("iconv: %d\n", convert());
	return 0;
}
