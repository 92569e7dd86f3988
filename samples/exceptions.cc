// C++ exceptions: 4 x thrown 3 frames deep (level1>level2>thrower) and caught in main, then
// caught() and after(); 3 x thrown through cframe(), a frame without cleanups (as C code).
#include <cstdio>

struct Oops {
	int code;
};

static volatile int sink;

__attribute__((noinline)) void thrower(int n)
{
	sink++;
	if (n == 0)
		throw Oops{n};
}

__attribute__((noinline)) void level2(int n)
{
	thrower(n);
	sink++;
}

__attribute__((noinline)) void level1(int n)
{
	level2(n);
	sink++;
}

__attribute__((noinline)) void caught(int code)
{
	sink += code;
}

__attribute__((noinline)) void after()
{
	sink++;
}

/*
 * Built as C code is (-fno-exceptions): no cleanup pad, so the unwinder passes this frame
 * without its exit hook, as when an exception crosses a C library built without -fexceptions.
 */
#pragma GCC push_options
#pragma GCC optimize("no-exceptions")
extern "C" __attribute__((noinline)) void cframe(int n)
{
	level1(n);
	sink++;
}
#pragma GCC pop_options

/* Called through a pointer of a plain type, so that the catch below is kept. */
static void (*volatile cframe_ptr)(int) = cframe;

__attribute__((noinline)) void through_c(int n)
{
	try {
		cframe_ptr(n);
	} catch (const Oops &e) {
		caught(e.code + 100);
	}
	after();
}

int main()
{
	int n = 0;

	for (int i = 0; i < 4; i++) {
		try {
			level1(0);
		} catch (const Oops &e) {
			n++;
			caught(e.code);
		}
	}
	for (int i = 0; i < 3; i++)
		through_c(0);
	level1(1);			/* no throw: a normal return */
	after();
	std::printf("caught %d\n", n);
	return 0;
}
