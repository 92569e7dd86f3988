/* Off-CPU time at known places: `waiter block` sleeps, reads a pipe and takes a contended
 * mutex for known times; `waiter spin N` runs three equal busy loops that compete for 2 cores.
 * Each prints what it measured itself (stdout) for tests/run/58-waits.sh to check against. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define SLEEP_MS 100
#define PIPE_MS 80
#define LOCK_MS 60

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* ---- block: three known waits of the main thread, and the helpers' own ---- */

static int pipefd[2], readyfd[2], stuckfd[2];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void sleeper(void)
{
	pause_ms(SLEEP_MS);
}

static void writer_delay(void)
{
	pause_ms(PIPE_MS);
}

static void *writer(void *arg)
{
	char c = 'x';

	writer_delay();
	if (write(pipefd[1], &c, 1) != 1)
		exit(3);
	return NULL;
}

static void pipe_reader(void)
{
	char c;

	if (read(pipefd[0], &c, 1) != 1)
		exit(3);
}

static void hold_lock(void)
{
	pause_ms(LOCK_MS);
}

static void *holder(void *arg)
{
	char c = 'r';

	pthread_mutex_lock(&lock);
	if (write(readyfd[1], &c, 1) != 1)
		exit(3);
	hold_lock();
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void wait_ready(void)
{
	char c;

	if (read(readyfd[0], &c, 1) != 1)
		exit(3);
}

static void lock_waiter(void)
{
	pthread_mutex_lock(&lock);
	pthread_mutex_unlock(&lock);
}

/* a worker still blocked when the process exits: its wait lasts to the end */
static void stuck_reader(void)
{
	char c;

	if (read(stuckfd[0], &c, 1) == 1)
		exit(3);
}

static void *stuck(void *arg)
{
	stuck_reader();
	return NULL;
}

static void run_block(void)
{
	pthread_t w, h, s;
	uint64_t t0, t_stuck;

	if (pipe(pipefd) || pipe(readyfd) || pipe(stuckfd))
		exit(2);
	t_stuck = now_ns(CLOCK_MONOTONIC);
	pthread_create(&s, NULL, stuck, NULL);
	t0 = now_ns(CLOCK_MONOTONIC);
	sleeper();
	printf("sleeper %llu\n", (unsigned long long)(now_ns(CLOCK_MONOTONIC) - t0));

	pthread_create(&w, NULL, writer, NULL);
	t0 = now_ns(CLOCK_MONOTONIC);
	pipe_reader();
	printf("pipe_reader %llu\n", (unsigned long long)(now_ns(CLOCK_MONOTONIC) - t0));
	pthread_join(w, NULL);

	pthread_create(&h, NULL, holder, NULL);
	wait_ready();
	t0 = now_ns(CLOCK_MONOTONIC);
	lock_waiter();
	printf("lock_waiter %llu\n", (unsigned long long)(now_ns(CLOCK_MONOTONIC) - t0));
	pthread_join(h, NULL);
	printf("stuck_reader %llu\n", (unsigned long long)(now_ns(CLOCK_MONOTONIC) - t_stuck));
}

/* ---- spin: equal loops, one per thread, started together ---- */

static pthread_barrier_t start;
static unsigned long iterations;
static uint64_t spin_cpu[3];
static long spin_tid[3];

static void spin(void)
{
	volatile unsigned long x = 0;
	unsigned long i;

	for (i = 0; i < iterations; i++)
		x = x * 31 + i;
}

static void *spinner(void *arg)
{
	int k = (int)(intptr_t)arg;
	uint64_t c0;

	spin_tid[k] = syscall(SYS_gettid);
	pthread_barrier_wait(&start);
	c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	spin();
	spin_cpu[k] = now_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	return NULL;
}

static void run_spin(void)
{
	pthread_t th[3];
	int k;

	pthread_barrier_init(&start, NULL, 3);
	for (k = 0; k < 3; k++)
		pthread_create(&th[k], NULL, spinner, (void *)(intptr_t)k);
	for (k = 0; k < 3; k++)
		pthread_join(th[k], NULL);
	for (k = 0; k < 3; k++)
		printf("spin %ld %llu\n", spin_tid[k], (unsigned long long)spin_cpu[k]);
}

/* ---- fork: the child's trace has its own switches ---- */

#define CHILD_MS 50

static void child_sleep(void)
{
	pause_ms(CHILD_MS);
}

static void parent_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		;
}

static void run_fork(void)
{
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		t0 = now_ns(CLOCK_MONOTONIC);
		child_sleep();
		printf("child_sleep %llu\n", (unsigned long long)(now_ns(CLOCK_MONOTONIC) - t0));
		exit(0);
	}
	parent_wait(pid);
	printf("parent_wait %llu\n", (unsigned long long)(now_ns(CLOCK_MONOTONIC) - t0));
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "block")) {
		run_block();
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "spin")) {
		iterations = strtoul(argv[2], NULL, 10);
		run_spin();
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "fork")) {
		run_fork();
		return 0;
	}
	fprintf(stderr, "usage: waiter block | waiter spin ITERATIONS | waiter fork\n");
	return 2;
}
