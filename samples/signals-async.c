// A timer signal (every 50 us of CPU time) interrupts 3000000 work() calls, its handler calls
// tick(); the number of ticks goes to the file argv[1] (it varies from run to run).
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>

static volatile long sink;
static volatile sig_atomic_t ticks;

__attribute__((noinline)) void tick(void)
{
	ticks++;
}

__attribute__((noinline)) void on_timer(int sig)
{
	tick();
}

__attribute__((noinline)) void work(long i)
{
	sink += i;
}

int main(int argc, char **argv)
{
	struct itimerval it = { { 0, 50 }, { 0, 50 } };
	struct sigaction sa = { 0 };
	FILE *f;

	sa.sa_handler = on_timer;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGPROF, &sa, NULL);
	setitimer(ITIMER_PROF, &it, NULL);
	for (long i = 0; i < 3000000; i++)
		work(i);
	it.it_value.tv_usec = it.it_interval.tv_usec = 0;
	setitimer(ITIMER_PROF, &it, NULL);
	if (argc > 1 && (f = fopen(argv[1], "w"))) {
		fprintf(f, "%d\n", (int)ticks);
		fclose(f);
	}
	printf("done\n");
	return 0;
}
