/* Detached threads that never allocate: glibc frees their cached stacks with free() after the
 * TSD destructors ran, so the thread's first event comes as it exits (tests/run/06-robust.sh). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *idle(void *arg) { (void)arg; return NULL; }
int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	for (int i = 0; i < n; i++) {
		pthread_t t;
		while (pthread_create(&t, &a, idle, NULL) != 0)
			usleep(100);
		if (i % 16 == 0)
			usleep(2000);
	}
	usleep(20000);
	for (int i = 0; i < 1000; i++) {
		pthread_t t;
		pthread_create(&t, &a, idle, NULL);
		void *volatile p = malloc(32);
		free(p);
	}
	usleep(20000);
	puts("done");
	return 0;
}
