/* SPDX-License-Identifier: MIT */
/*
 * The process ends while other threads still allocate: they never stop on their own.
 * Mode "return": main returns 7 once every worker has made at least 1000 allocations.
 * Mode "exit": worker 0 calls exit(3) after 20000 allocations while the others (and main,
 * blocked in pause) go on. The recorder must cut the running threads, never crash or hang,
 * and leave a whole trace.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NTHREADS 4

static int exit_mode;
static int started;

static void *worker(void *arg)
{
	long id = (long)arg;
	unsigned n = 0;

	for (;;) {
		void *volatile p = malloc(8 + n++ % 200);

		free(p);
		if (n == 1000)
			__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
		if (exit_mode && id == 0 && n == 20000)
			exit(3);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_attr_t attr;
	long i;

	exit_mode = argc > 1 && !strcmp(argv[1], "exit");
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (i = 0; i < NTHREADS; i++) {
		pthread_t t;

		if (pthread_create(&t, &attr, worker, (void *)i))
			return 1;
	}
	if (exit_mode)
		for (;;)
			pause();
	while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < NTHREADS)
		usleep(1000);
	printf("main returns\n");
	return 7;
}
