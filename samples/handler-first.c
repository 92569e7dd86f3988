// The process's first instrumented call runs in a signal handler that may have interrupted
// malloc: main and its allocation loop are not instrumented; a SIGALRM every 50 us runs
// on_alarm, whose callee is. The recorder's start-up measurement runs at the first call
// hook and must not call malloc there (glibc's arena lock may be held by the interrupted
// malloc: the run would hang). Usage: handler-first [TICKS [FILE]] (default 200): prints
// the ticks asked for; FILE gets the ticks handled (one more may come before the timer stops).
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define NOINSTR __attribute__((no_instrument_function, noinline))

static volatile long ticks, sink;

__attribute__((noinline)) void tick_work(long n)
{
	sink += n;
}

__attribute__((noinline)) void on_alarm(int sig)
{
	(void)sig;
	ticks++;
	tick_work(ticks);
}

/* a second thread makes glibc lock its arena (one thread alone takes no lock) */
static NOINSTR void *idle(void *arg)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	return arg;
}

NOINSTR int main(int argc, char **argv)
{
	pthread_t th;
	struct itimerval it = { { 0, 50 }, { 0, 50 } }, off;
	long want = argc > 1 ? atol(argv[1]) : 200;
	struct sigaction sa;
	sigset_t alrm;

	pthread_create(&th, NULL, idle, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	while (ticks < want) {
		void *p[16];
		int i;

		for (i = 0; i < 16; i++)
			p[i] = malloc(2048 + (size_t)i * 512);	/* past tcache: the arena's lock */
		for (i = 0; i < 16; i++)
			free(p[i]);
	}
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	sigprocmask(SIG_BLOCK, &alrm, NULL);
	memset(&off, 0, sizeof(off));
	setitimer(ITIMER_REAL, &off, NULL);
	pthread_join(th, NULL);
	if (argc > 2) {
		FILE *f = fopen(argv[2], "w");

		if (f) {
			fprintf(f, "%ld\n", (long)ticks);
			fclose(f);
		}
	}
	printf("ticks: %ld\n", want);
	return 0;
}
