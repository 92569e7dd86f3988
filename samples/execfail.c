// execfail: a worker thread calls tick() 1000 times, main tries an exec of a program that does
// not exist (it fails), then the worker calls tick() 1000 more times and main calls after() 10
// times. Every call is recorded: a failed exec ends nothing.
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile unsigned long sink;
static sem_t half_done, go_on;

static void tick(int i)
{
	sink += (unsigned long)i;
}

static void after(int i)
{
	sink += (unsigned long)i * 2;
}

static void *worker(void *arg)
{
	int i;

	for (i = 0; i < 1000; i++)
		tick(i);
	sem_post(&half_done);
	while (sem_wait(&go_on) < 0)
		;
	for (i = 0; i < 1000; i++)
		tick(i);
	return arg;
}

int main(void)
{
	char *argv[] = { (char *)"x", NULL };
	pthread_t th;
	int i, r;

	sem_init(&half_done, 0, 0);
	sem_init(&go_on, 0, 0);
	pthread_create(&th, NULL, worker, NULL);
	while (sem_wait(&half_done) < 0)
		;
	errno = 0;
	r = execv("/nonexistent/program", argv);
	printf("failed exec: %d, %s\n", r, strerror(errno));
	sem_post(&go_on);
	pthread_join(th, NULL);
	for (i = 0; i < 10; i++)
		after(i);
	printf("ticks: 2000, after: 10\n");
	return 0;
}
