// Deep recursion: down() recurses 100000 deep (argv[1] overrides) on a thread with a 1 GiB
// stack, calls bottom() 3 times at the bottom; then after() once. Prints the depth reached.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static volatile long sink;

__attribute__((noinline)) void bottom(long i)
{
	sink += i;
}

__attribute__((noinline)) long down(long n)
{
	long r;

	if (n == 0) {
		bottom(1);
		bottom(2);
		bottom(3);
		return 0;
	}
	r = down(n - 1) + 1;
	sink += r;		/* not a tail call, even at -O2 */
	return r;
}

__attribute__((noinline)) void after(void)
{
	sink++;
}

static void *run(void *arg)
{
	long depth = down(*(long *)arg);

	after();
	printf("depth %ld\n", depth);
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	pthread_attr_t attr;
	pthread_t th;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, (size_t)1 << 30);
	if (pthread_create(&th, &attr, run, &n)) {
		perror("pthread_create");
		return 1;
	}
	pthread_join(th, NULL);
	return 0;
}
